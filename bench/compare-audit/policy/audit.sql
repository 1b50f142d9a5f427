-- The six rules of gov's standard library over the inventory's tables, as
-- a SQL author would write them for DuckDB: one query per rule, each
-- returning the ids of the entities that fail it. `-- rule: NAME` starts a
-- rule's query; everything before the first is setup (macros and views),
-- run once when the engine is set up.
--
-- Tables: identities, credentials, services, groups, roles, resources
-- (one row per node, NULL where an attribute is absent), role_actions
-- (role, action), and one (src, dst) table per edge kind: owned_by,
-- steward, supports, member_of, grants, can_access, has_credential.

-- `now` of the audit (gov's --now).
CREATE MACRO audit_now() AS TIMESTAMP '{now}';

-- nhi.common: is_nhi, is_person, is_admin's wildcard actions.
CREATE MACRO is_nhi(type, name) AS
    type IN ('service_account', 'workload', 'bot', 'api_client', 'role', 'iam_user')
    AND NOT (type = 'role' AND (starts_with(name, 'AWSServiceRoleFor')
                                OR starts_with(name, 'AWSReservedSSO_')));
CREATE MACRO is_person(type, console) AS type = 'human' OR (type = 'iam_user' AND console);

CREATE VIEW admin_roles AS
    SELECT r.id FROM roles r
    WHERE coalesce(r.privileged, false)
       OR EXISTS (SELECT 1 FROM role_actions a
                  WHERE a.role = r.id AND a.action IN ('*', '*:*', 'iam:*', '* */*'));

-- gov's `service.tier`: the most critical (lowest) tier among the services an
-- entity supports; for one that supports none (a credential), among those
-- the identities holding it support. No row (or NULL): no tier, read as 3.
CREATE VIEW direct_tier AS
    SELECT su.src AS id, min(s.tier) AS tier
    FROM supports su LEFT JOIN services s ON s.id = su.dst
    GROUP BY su.src;
CREATE VIEW service_tier AS
    SELECT id, tier FROM direct_tier
    UNION ALL
    SELECT hc.dst AS id, min(s.tier) AS tier
    FROM has_credential hc
    JOIN supports su ON su.src = hc.src
    LEFT JOIN services s ON s.id = su.dst
    WHERE hc.dst NOT IN (SELECT id FROM direct_tier)
    GROUP BY hc.dst;

-- A credential the lifecycle rules look at: static, active, not expired.
CREATE MACRO lifecycle_scope(ephemeral, active, expires_at) AS
    NOT coalesce(ephemeral, false) AND coalesce(active, true)
    AND (expires_at IS NULL OR expires_at > audit_now());

-- rule: nhi-owner-required
SELECT i.id
FROM identities i
WHERE is_nhi(i.type, coalesce(i.name, ''))
  AND NOT EXISTS (
      SELECT 1
      FROM owned_by o JOIN identities p ON p.id = o.dst
      WHERE o.src = i.id
        AND is_person(p.type, coalesce(p.password_enabled, false))
        AND coalesce(p.active, true)
        AND (p.left_at IS NULL OR p.left_at > audit_now()));

-- rule: credential-max-age-by-tier
SELECT c.id
FROM credentials c LEFT JOIN service_tier t ON t.id = c.id
WHERE lifecycle_scope(c.ephemeral, c.active, c.expires_at)
  AND coalesce(c.rotated_at, c.updated_at, c.created_at) IS NOT NULL
  AND coalesce(c.rotated_at, c.updated_at, c.created_at) < audit_now() -
      CASE coalesce(t.tier, 3) WHEN 0 THEN INTERVAL 30 DAY
                               WHEN 1 THEN INTERVAL 90 DAY
                               ELSE INTERVAL 180 DAY END;

-- rule: shared-credential
SELECT hc.dst AS id
FROM has_credential hc JOIN identities i ON i.id = hc.src
GROUP BY hc.dst
HAVING count(DISTINCT i.id) > 1;

-- rule: privilege-via-nested-groups
-- member_of*1..4: every node reached in one to four member_of hops.
WITH RECURSIVE reach(start, node, depth) AS (
    SELECT i.id, m.dst, 1
    FROM identities i JOIN member_of m ON m.src = i.id
    WHERE is_nhi(i.type, coalesce(i.name, ''))
  UNION
    SELECT r.start, m.dst, r.depth + 1
    FROM reach r JOIN member_of m ON m.src = r.node
    WHERE r.depth < 4
)
SELECT DISTINCT r.start AS id
FROM reach r
JOIN groups g ON g.id = r.node
JOIN grants gr ON gr.src = g.id
JOIN admin_roles a ON a.id = gr.dst;

-- rule: never-used-credential
SELECT c.id
FROM credentials c
WHERE lifecycle_scope(c.ephemeral, c.active, c.expires_at)
  AND c.last_used_at IS NULL
  AND (coalesce(c.last_used_state, 'no_information') = 'never'
       OR (c.last_used_state IS NULL AND c.type = 'personal_access_token'))
  AND (c.created_at IS NOT NULL OR c.rotated_at IS NOT NULL)
  AND coalesce(c.created_at, c.rotated_at) < audit_now() - INTERVAL 30 DAY;

-- rule: attestation-overdue-by-tier
SELECT i.id
FROM identities i LEFT JOIN service_tier t ON t.id = i.id
WHERE is_nhi(i.type, coalesce(i.name, ''))
  AND (i.attested_at IS NULL
       OR i.attested_at < audit_now() -
          CASE coalesce(t.tier, 3) WHEN 0 THEN INTERVAL 90 DAY
                                   WHEN 1 THEN INTERVAL 180 DAY
                                   ELSE INTERVAL 365 DAY END);
