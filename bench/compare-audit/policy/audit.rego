# The six rules of gov's standard library over the inventory as a Rego
# `data` document, as a Rego author would write them: one set per rule
# (its name with `_` for `-`) of the ids of the entities that fail it.
#
# data.inventory.<kind>[id]        a node's attributes (absent when unknown),
#                                  timestamps as RFC 3339 strings
# data.inventory.edges.<kind>[src] the targets of src's edges of that kind
# input.now                        the audit's `now` (RFC 3339)
package audit

import rego.v1

inv := data.inventory

edges := inv.edges

now_ns := time.parse_rfc3339_ns(input.now)

day_ns := 86400000000000

# --- nhi.common

nhi_types := {"service_account", "workload", "bot", "api_client", "role", "iam_user"}

admin_actions := {"*", "*:*", "iam:*", "* */*"}

is_nhi(type, name) if {
	type in nhi_types
	not aws_managed_role(type, name)
}

aws_managed_role("role", name) if startswith(name, "AWSServiceRoleFor")

aws_managed_role("role", name) if startswith(name, "AWSReservedSSO_")

is_person(type, _) if type == "human"

is_person("iam_user", true) := true

is_admin(role) if object.get(role, "privileged", false)

is_admin(role) if {
	some a in object.get(role, "actions", [])
	a in admin_actions
}

nhis contains id if {
	some id, i in inv.identity
	is_nhi(i.type, object.get(i, "name", ""))
}

# `holders[c]`, the identities holding credential `c` (has_credential,
# reversed), is defined in a file per engine (`holders_opa.rego`,
# `holders_regorus.rego`): each engine makes a different form linear.

# gov's `service.tier`: the most critical (lowest) tier among the services
# an entity supports; for one that supports none (a credential), among those
# its holders support; 3 when there is none.
tier(n) := min_tier(edges.supports[n]) if edges.supports[n]
else := min_tier({s | some h in holders[n]; some s in edges.supports[h]})

min_tier(services) := min(tiers) if {
	tiers := {t | some s in services; t := inv.service[s].tier}
	count(tiers) > 0
} else := 3

# A credential the lifecycle rules look at: static, active, not expired.
lifecycle_scope(c) if {
	not object.get(c, "ephemeral", false)
	object.get(c, "active", true)
	not expired(c)
}

expired(c) if time.parse_rfc3339_ns(c.expires_at) <= now_ns

older_than(t, days) if now_ns - time.parse_rfc3339_ns(t) > days * day_ns

# --- nhi-owner-required

nhi_owner_required contains id if {
	some id in nhis
	not has_active_human_owner(id)
}

has_active_human_owner(id) if {
	some p in edges.owned_by[id]
	person := inv.identity[p]
	is_person(person.type, object.get(person, "password_enabled", false))
	object.get(person, "active", true)
	not has_left(person)
}

has_left(person) if time.parse_rfc3339_ns(person.left_at) <= now_ns

# --- credential-max-age-by-tier

credential_max_age_by_tier contains id if {
	some id, c in inv.credential
	lifecycle_scope(c)
	older_than(last_rotated(c), max_age_days(tier(id)))
}

last_rotated(c) := t if {
	t := c.rotated_at
} else := t if {
	t := c.updated_at
} else := t if {
	t := c.created_at
}

max_age_days(0) := 30

max_age_days(1) := 90

max_age_days(t) := 180 if not t in {0, 1}

# --- shared-credential

shared_credential contains id if {
	some id, ids in holders
	count(ids) > 1
	inv.credential[id]
}

# --- privilege-via-nested-groups

admin_groups contains g if {
	some g, _ in inv.group
	some r in edges.grants[g]
	is_admin(inv.role[r])
}

privilege_via_nested_groups contains id if {
	some id in nhis
	edges.member_of[id]
	some g in within_four_hops(id)
	g in admin_groups
}

# member_of*1..4. Rego has no recursion, and graph.reachable has no bound:
# one comprehension per hop.
within_four_hops(id) := hop1 | hop2 | hop3 | hop4 if {
	hop1 := {g | some g in edges.member_of[id]}
	hop2 := {g | some m in hop1; some g in edges.member_of[m]}
	hop3 := {g | some m in hop2; some g in edges.member_of[m]}
	hop4 := {g | some m in hop3; some g in edges.member_of[m]}
}

# --- never-used-credential

never_used_credential contains id if {
	some id, c in inv.credential
	lifecycle_scope(c)
	not c.last_used_at
	never_used(c)
	older_than(created(c), 30)
}

never_used(c) if object.get(c, "last_used_state", "no_information") == "never"

never_used(c) if {
	not c.last_used_state
	c.type == "personal_access_token"
}

created(c) := t if {
	t := c.created_at
} else := t if {
	t := c.rotated_at
}

# --- attestation-overdue-by-tier

attestation_overdue_by_tier contains id if {
	some id in nhis
	not attested_within(inv.identity[id], attestation_days(tier(id)))
}

attested_within(i, days) if {
	i.attested_at
	not older_than(i.attested_at, days)
}

attestation_days(0) := 90

attestation_days(1) := 180

attestation_days(t) := 365 if not t in {0, 1}
