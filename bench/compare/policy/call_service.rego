# The decision `call-service` of call_service.gov, clause for clause, for
# regorus. Query `data.bench.compare.effect` (and the sets `deny`,
# `approval`, `allow` for the reasons) with the input
#   {"subject": ID, "credential": ID, "target": ID, "action": "read"|"write"|"admin", "now": SECONDS}
#
# Timestamps are seconds since the Unix epoch; 90d = 7776000 s. A missing
# boolean reads as false (`not x.active` holds when `active` is missing), as
# in gov; a comparison with a missing attribute is undefined, so the clause
# does not hold, as in gov. Rego has no recursion, so the bounded path
# `member_of*1..4` is unrolled into four levels.
package bench.compare

import rego.v1

subject := data.identities[input.subject]

credential := data.credentials[input.credential]

target := data.services[input.target]

# ---------------------------------------------------------------- deny

deny contains "credential expired" if credential.expires_at < input.now

deny contains "credential revoked" if not credential.active

deny contains "credential not held by the subject" if not input.credential in subject.credentials

deny contains "credential not rotated for 90 days" if input.now - credential.rotated_at > 7776000

deny contains "credential never rotated and older than 90 days" if {
	not credential.rotated_at
	input.now - credential.created_at > 7776000
}

deny contains "personal access tokens are read-only" if {
	credential.type == "personal_access_token"
	input.action != "read"
}

deny contains "subject inactive" if not subject.active

deny contains "no owner" if {
	subject.type != "human"
	not subject.owner
}

deny contains "owner has left" if {
	subject.type != "human"
	subject.owner
	not data.identities[subject.owner].active
}

deny contains "bots may not call tier-0 services" if {
	subject.type == "bot"
	target.tier == 0
}

deny contains "admin needs MFA" if {
	input.action == "admin"
	subject.type == "human"
	not subject.mfa_active
}

deny contains "service is frozen" if "frozen" in target.tags

# ---------------------------------------------------------------- approval

approval contains "tier-0 write" if {
	target.tier == 0
	input.action == "write"
}

approval contains "tier-0/1 admin" if {
	target.tier <= 1
	input.action == "admin"
}

approvers contains target.owner if count(approval) > 0

# ---------------------------------------------------------------- allow

read_write := {"read", "write"}

allow contains "direct grant" if {
	input.action in read_write
	input.target in subject.access
}

# Groups the subject reaches by member_of in 1, 2, 3 and 4 hops.
groups1 contains g if some g in subject.member_of

groups2 contains g if {
	some h in groups1
	some g in data.groups[h].member_of
}

groups3 contains g if {
	some h in groups2
	some g in data.groups[h].member_of
}

groups4 contains g if {
	some h in groups3
	some g in data.groups[h].member_of
}

member_groups := ((groups1 | groups2) | groups3) | groups4

allow contains "member of a group with access" if {
	some g in target.group_access
	g in member_groups
}

allow contains "role grants access" if {
	input.action in read_write
	some r in subject.roles
	input.target in data.roles[r].access
}

allow contains "owner of the service" if target.owned_by == input.subject

allow contains "people may read tier-3 services" if {
	input.action == "read"
	target.tier == 3
	subject.type == "human"
}

allow contains "workload of the service" if {
	subject.type == "workload"
	input.action in read_write
	input.target in subject.supports
}

# ---------------------------------------------------------------- effect

# Deny wins over approval, approval over allow (gov's precedence: an
# approval clause that holds asks for approval whether or not an allow holds).
effect := "deny" if {
	count(deny) > 0
} else := "approval_required" if {
	count(approval) > 0
} else := "allow" if {
	count(allow) > 0
} else := "not_permitted"
