# `holders` for regorus: a partial set rule, which regorus evaluates once
# for all keys and caches. (regorus has no comprehension indexing, so the
# object comprehension of `holders_opa.rego` scans the edges again for every
# credential: quadratic.)
package audit

import rego.v1

holders[c] contains i if {
	some i, creds in edges.has_credential
	inv.identity[i]
	some c in creds
}
