# `holders` for OPA: built once as an object. The inner comprehension is
# keyed on `c`, which OPA's comprehension indexing recognises, so the whole
# object costs one pass over the edges. (OPA evaluates a partial rule looked
# up with a bound key, `holders[c] contains i`, by running its body again
# for every lookup: quadratic over the credentials.)
package audit

import rego.v1

holding contains [c, i] if {
	some i, creds in edges.has_credential
	inv.identity[i]
	some c in creds
}

holders := {c: ids |
	some [c, _] in holding
	ids := {i | some [c2, i] in holding; c2 == c}
}

