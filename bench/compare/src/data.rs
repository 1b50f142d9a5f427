//! The synthetic identity graph and the request list, generated from a seed,
//! and their three encodings: a gov native inventory (`gov.inventory/v1`),
//! Cedar entities JSON and a Rego `data` document. All three are written
//! from the same `World`, so the engines decide over the same facts.
//!
//! Must not: decide anything. Which service a request names is picked from
//! the subject's neighbourhood only to get a useful mix of outcomes.

use std::fmt::Write as _;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// SplitMix64: small, fast, the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
    /// Uniform in `lo..hi` (lo < hi).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo).max(1) as u64)) as i64
    }
    /// True with probability `pct`%.
    fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> Option<T> {
        if xs.is_empty() { None } else { Some(xs[self.below(xs.len())]) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityType {
    Human,
    ServiceAccount,
    Workload,
    Bot,
    ApiClient,
}

impl IdentityType {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityType::Human => "human",
            IdentityType::ServiceAccount => "service_account",
            IdentityType::Workload => "workload",
            IdentityType::Bot => "bot",
            IdentityType::ApiClient => "api_client",
        }
    }
}

pub struct Identity {
    pub ty: IdentityType,
    pub active: bool,
    /// Set for people only.
    pub mfa_active: Option<bool>,
    /// At most one owner (a person): Cedar has no quantifier over a set, so
    /// "some owner is active" is written over a single `owner` attribute.
    pub owner: Option<usize>,
    pub member_of: Vec<usize>,
    pub roles: Vec<usize>,
    /// Direct `can_access` grants to services.
    pub access: Vec<usize>,
    pub supports: Vec<usize>,
    pub credentials: Vec<usize>,
}

pub struct Group {
    /// 1 to 4: a group of level k is a member of groups of level k + 1 only,
    /// so `member_of` paths from an identity have at most 4 hops.
    pub level: u8,
    pub member_of: Vec<usize>,
    pub access: Vec<usize>,
}

pub struct Role {
    pub access: Vec<usize>,
}

pub struct Service {
    pub tier: i64,
    pub owner: String,
    /// `None`: no `tags` attribute at all.
    pub tags: Option<Vec<&'static str>>,
    pub owned_by: Option<usize>,
    /// Inverse of `Group::access` and `Role::access` (Cedar and Rego look
    /// them up from the service).
    pub group_access: Vec<usize>,
    pub role_access: Vec<usize>,
}

pub struct Credential {
    pub ty: &'static str,
    pub active: bool,
    pub created_at: i64,
    pub rotated_at: Option<i64>,
    pub expires_at: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    Write,
    Admin,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::Admin => "admin",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Req {
    pub subject: usize,
    pub credential: usize,
    pub target: usize,
    pub action: Action,
}

pub struct World {
    /// Evaluation time, seconds since the epoch.
    pub now: i64,
    pub identities: Vec<Identity>,
    pub groups: Vec<Group>,
    pub roles: Vec<Role>,
    pub services: Vec<Service>,
    pub credentials: Vec<Credential>,
}

// Entity ids, the same in all three encodings.
pub fn identity_id(i: usize) -> String {
    format!("id-{i}")
}
pub fn group_id(i: usize) -> String {
    format!("grp-{i}")
}
pub fn role_id(i: usize) -> String {
    format!("role-{i}")
}
pub fn service_id(i: usize) -> String {
    format!("svc-{i}")
}
pub fn credential_id(i: usize) -> String {
    format!("cred-{i}")
}

impl World {
    /// `n` identities; groups, roles, services and credentials scale with it.
    pub fn generate(n: usize, seed: u64, now: i64) -> World {
        let mut rng = Rng::new(seed);
        let n_services = (n / 100).max(8);
        let n_roles = (n / 200).max(4);
        let n_groups = (n / 25).max(8);

        let mut services: Vec<Service> = (0..n_services)
            .map(|k| {
                let tier = match rng.below(100) {
                    0..8 => 0,
                    8..25 => 1,
                    25..60 => 2,
                    _ => 3,
                };
                let tags = match rng.below(100) {
                    0..3 => Some(vec!["frozen", "pci"]),
                    3..20 => Some(vec!["pci"]),
                    20..50 => Some(vec![]),
                    _ => None,
                };
                Service {
                    tier,
                    owner: format!("owner-{k}@example.com"),
                    tags,
                    owned_by: None,
                    group_access: Vec::new(),
                    role_access: Vec::new(),
                }
            })
            .collect();

        // Groups by level: 60% level 1, 25% level 2, 11% level 3, 4% level 4.
        let bounds = [0, n_groups * 60 / 100, n_groups * 85 / 100, n_groups * 96 / 100, n_groups];
        let level_range = |level: usize| bounds[level - 1]..bounds[level];
        let mut groups: Vec<Group> = Vec::with_capacity(n_groups);
        for g in 0..n_groups {
            let level = (1..=4).find(|&l| level_range(l).contains(&g)).unwrap_or(4);
            let mut member_of = Vec::new();
            if level < 4 {
                let up = level_range(level + 1);
                let parents = if rng.chance(20) { 2 } else { 1 };
                for _ in 0..parents {
                    let p = up.start + rng.below(up.len());
                    if !member_of.contains(&p) {
                        member_of.push(p);
                    }
                }
            }
            let grants = match rng.below(100) {
                0..10 => 0,
                10..80 => 1,
                _ => 2,
            };
            let mut access = Vec::new();
            for _ in 0..grants {
                let s = rng.below(n_services);
                if !access.contains(&s) {
                    access.push(s);
                }
            }
            groups.push(Group { level: level as u8, member_of, access });
        }

        let roles: Vec<Role> = (0..n_roles)
            .map(|_| {
                let mut access = Vec::new();
                for _ in 0..1 + rng.below(3) {
                    let s = rng.below(n_services);
                    if !access.contains(&s) {
                        access.push(s);
                    }
                }
                Role { access }
            })
            .collect();

        // Identity types first, so that owners can be picked among people.
        let types: Vec<IdentityType> = (0..n)
            .map(|_| match rng.below(100) {
                0..30 => IdentityType::Human,
                30..65 => IdentityType::ServiceAccount,
                65..85 => IdentityType::Workload,
                85..95 => IdentityType::Bot,
                _ => IdentityType::ApiClient,
            })
            .collect();
        let humans: Vec<usize> = (0..n).filter(|&i| types[i] == IdentityType::Human).collect();

        let mut credentials = Vec::new();
        let mut identities = Vec::with_capacity(n);
        for (i, &ty) in types.iter().enumerate() {
            let human = ty == IdentityType::Human;
            let active = rng.chance(if human { 92 } else { 97 });
            let mfa_active = human.then(|| rng.chance(85));
            let owner = if human || !rng.chance(95) { None } else { rng.pick(&humans) };
            let mut member_of = Vec::new();
            let memberships = if human { 1 + rng.below(3) } else { rng.below(3) };
            for _ in 0..memberships {
                let level = match rng.below(100) {
                    0..80 => 1,
                    80..95 => 2,
                    _ => 3,
                };
                let r = level_range(level);
                let g = r.start + rng.below(r.len());
                if !member_of.contains(&g) {
                    member_of.push(g);
                }
            }
            let mut roles_held = Vec::new();
            if rng.chance(30) {
                for _ in 0..1 + rng.below(2) {
                    let r = rng.below(n_roles);
                    if !roles_held.contains(&r) {
                        roles_held.push(r);
                    }
                }
            }
            let mut access = Vec::new();
            if !human && rng.chance(25) {
                for _ in 0..1 + rng.below(2) {
                    let s = rng.below(n_services);
                    if !access.contains(&s) {
                        access.push(s);
                    }
                }
            }
            let mut supports = Vec::new();
            if matches!(ty, IdentityType::Workload | IdentityType::ServiceAccount) && rng.chance(90)
            {
                supports.push(rng.below(n_services));
            }
            let n_creds = if human { 1 } else { 1 + rng.below(2) };
            let mut held = Vec::new();
            for _ in 0..n_creds {
                let cty = if human {
                    if rng.chance(30) { "personal_access_token" } else { "password" }
                } else {
                    match rng.below(100) {
                        0..40 => "access_key",
                        40..65 => "token",
                        65..80 => "certificate",
                        80..95 => "secret",
                        _ => "personal_access_token",
                    }
                };
                let rotated = rng.chance(90);
                let created_at = if rotated {
                    now - rng.range(1, 900) * DAY
                } else {
                    now - rng.range(1, 120) * DAY
                };
                let rotated_at = rotated.then(|| (now - rng.range(0, 95 * DAY)).max(created_at));
                let expires_at = rng.chance(35).then(|| now + rng.range(-30, 365) * DAY);
                held.push(credentials.len());
                credentials.push(Credential {
                    ty: cty,
                    active: rng.chance(96),
                    created_at,
                    rotated_at,
                    expires_at,
                });
            }
            let _ = i;
            identities.push(Identity {
                ty,
                active,
                mfa_active,
                owner,
                member_of,
                roles: roles_held,
                access,
                supports,
                credentials: held,
            });
        }

        for s in &mut services {
            if rng.chance(60) {
                s.owned_by = rng.pick(&humans);
            }
        }
        for (g, group) in groups.iter().enumerate() {
            for &s in &group.access {
                services[s].group_access.push(g);
            }
        }
        for (r, role) in roles.iter().enumerate() {
            for &s in &role.access {
                services[s].role_access.push(r);
            }
        }
        World { now, identities, groups, roles, services, credentials }
    }

    /// Requests with a mix of outcomes: most name a credential of the subject
    /// and a service the subject can reach by some grant; the rest are random.
    pub fn requests(&self, count: usize, seed: u64) -> Vec<Req> {
        let mut rng = Rng::new(seed ^ 0x5EED_0F4E_u64);
        let n_services = self.services.len();
        let owned: Vec<(usize, usize)> = self
            .services
            .iter()
            .enumerate()
            .filter_map(|(s, x)| x.owned_by.map(|o| (o, s)))
            .collect();
        (0..count)
            .map(|_| {
                let action = match rng.below(100) {
                    0..60 => Action::Read,
                    60..88 => Action::Write,
                    _ => Action::Admin,
                };
                if rng.chance(3)
                    && let Some((o, s)) = rng.pick(&owned)
                {
                    let id = &self.identities[o];
                    let credential = rng
                        .pick(&id.credentials)
                        .unwrap_or_else(|| rng.below(self.credentials.len()));
                    return Req { subject: o, credential, target: s, action };
                }
                let subject = rng.below(self.identities.len());
                let id = &self.identities[subject];
                let credential = match rng.pick(&id.credentials) {
                    Some(c) if rng.chance(96) => c,
                    _ => rng.below(self.credentials.len()),
                };
                let reachable = match rng.below(100) {
                    0..40 => {
                        // Up a random member_of path, then a grant of the group reached.
                        let mut g = rng.pick(&id.member_of);
                        for _ in 0..rng.below(4) {
                            g = g.and_then(|g| rng.pick(&self.groups[g].member_of)).or(g);
                        }
                        g.and_then(|g| rng.pick(&self.groups[g].access))
                    }
                    40..55 => rng.pick(&id.access),
                    55..70 => rng.pick(&id.roles).and_then(|r| rng.pick(&self.roles[r].access)),
                    70..80 => rng.pick(&id.supports),
                    _ => None,
                };
                let target = reachable.unwrap_or_else(|| rng.below(n_services));
                Req { subject, credential, target, action }
            })
            .collect()
    }

    /// The graph as a gov native inventory (`gov.inventory/v1`, JSON).
    pub fn gov_inventory(&self) -> String {
        let mut out = String::with_capacity(self.identities.len() * 600);
        out.push_str("{\"format\":\"gov.inventory/v1\",\"nodes\":[\n");
        let mut first = true;
        let mut sep = |out: &mut String| {
            if !first {
                out.push_str(",\n");
            }
            first = false;
        };
        for (i, x) in self.identities.iter().enumerate() {
            sep(&mut out);
            let _ = write!(
                out,
                r#"{{"id":"{}","kind":"identity","attrs":{{"type":"{}","active":{}"#,
                identity_id(i),
                x.ty.as_str(),
                x.active
            );
            if let Some(m) = x.mfa_active {
                let _ = write!(out, r#","mfa_active":{m}"#);
            }
            out.push_str("}}");
        }
        for g in 0..self.groups.len() {
            sep(&mut out);
            let _ = write!(out, r#"{{"id":"{}","kind":"group"}}"#, group_id(g));
        }
        for r in 0..self.roles.len() {
            sep(&mut out);
            let _ = write!(out, r#"{{"id":"{}","kind":"role"}}"#, role_id(r));
        }
        for (s, x) in self.services.iter().enumerate() {
            sep(&mut out);
            let _ = write!(
                out,
                r#"{{"id":"{}","kind":"service","attrs":{{"tier":{},"owner":"{}""#,
                service_id(s),
                x.tier,
                x.owner
            );
            if let Some(tags) = &x.tags {
                let _ = write!(out, r#","tags":{}"#, json_strings(tags.iter().copied()));
            }
            out.push_str("}}");
        }
        for (c, x) in self.credentials.iter().enumerate() {
            sep(&mut out);
            let _ = write!(
                out,
                r#"{{"id":"{}","kind":"credential","attrs":{{"type":"{}","active":{},"created_at":"{}""#,
                credential_id(c),
                x.ty,
                x.active,
                rfc3339(x.created_at)
            );
            if let Some(t) = x.rotated_at {
                let _ = write!(out, r#","rotated_at":"{}""#, rfc3339(t));
            }
            if let Some(t) = x.expires_at {
                let _ = write!(out, r#","expires_at":"{}""#, rfc3339(t));
            }
            out.push_str("}}");
        }
        out.push_str("\n],\"edges\":[\n");
        let mut first = true;
        let mut edge = |out: &mut String, from: &str, to: &str, kind: &str| {
            if !first {
                out.push_str(",\n");
            }
            first = false;
            let _ = write!(out, r#"{{"from":"{from}","to":"{to}","kind":"{kind}"}}"#);
        };
        for (i, x) in self.identities.iter().enumerate() {
            let me = identity_id(i);
            if let Some(o) = x.owner {
                edge(&mut out, &me, &identity_id(o), "owned_by");
            }
            for &g in &x.member_of {
                edge(&mut out, &me, &group_id(g), "member_of");
            }
            for &r in &x.roles {
                edge(&mut out, &me, &role_id(r), "grants");
            }
            for &s in &x.access {
                edge(&mut out, &me, &service_id(s), "can_access");
            }
            for &s in &x.supports {
                edge(&mut out, &me, &service_id(s), "supports");
            }
            for &c in &x.credentials {
                edge(&mut out, &me, &credential_id(c), "has_credential");
            }
        }
        for (g, x) in self.groups.iter().enumerate() {
            for &p in &x.member_of {
                edge(&mut out, &group_id(g), &group_id(p), "member_of");
            }
            for &s in &x.access {
                edge(&mut out, &group_id(g), &service_id(s), "can_access");
            }
        }
        for (r, x) in self.roles.iter().enumerate() {
            for &s in &x.access {
                edge(&mut out, &role_id(r), &service_id(s), "can_access");
            }
        }
        for (s, x) in self.services.iter().enumerate() {
            if let Some(o) = x.owned_by {
                edge(&mut out, &service_id(s), &identity_id(o), "owned_by");
            }
        }
        out.push_str("\n]}\n");
        out
    }

    /// The same graph as Cedar entities JSON. Group nesting and role grants
    /// are the entity hierarchy (`parents`); the other edges are attributes.
    pub fn cedar_entities(&self) -> String {
        let mut out = String::with_capacity(self.identities.len() * 600);
        out.push_str("[\n");
        let mut first = true;
        let mut sep = |out: &mut String| {
            if !first {
                out.push_str(",\n");
            }
            first = false;
        };
        let uid = |ty: &str, id: &str| format!(r#"{{"type":"{ty}","id":"{id}"}}"#);
        let eref = |ty: &str, id: &str| format!(r#"{{"__entity":{{"type":"{ty}","id":"{id}"}}}}"#);
        let erefs = |ty: &str, ids: &mut dyn Iterator<Item = String>| {
            let items: Vec<String> = ids.map(|id| eref(ty, &id)).collect();
            format!("[{}]", items.join(","))
        };
        for (i, x) in self.identities.iter().enumerate() {
            sep(&mut out);
            let mut parents: Vec<String> =
                x.member_of.iter().map(|&g| uid("Group", &group_id(g))).collect();
            parents.extend(x.roles.iter().map(|&r| uid("Role", &role_id(r))));
            let _ = write!(
                out,
                r#"{{"uid":{},"parents":[{}],"attrs":{{"type":"{}","active":{},"credentials":{},"access":{},"supports":{}"#,
                uid("Identity", &identity_id(i)),
                parents.join(","),
                x.ty.as_str(),
                x.active,
                erefs("Credential", &mut x.credentials.iter().map(|&c| credential_id(c))),
                erefs("Service", &mut x.access.iter().map(|&s| service_id(s))),
                erefs("Service", &mut x.supports.iter().map(|&s| service_id(s))),
            );
            if let Some(m) = x.mfa_active {
                let _ = write!(out, r#","mfa_active":{m}"#);
            }
            if let Some(o) = x.owner {
                let _ = write!(out, r#","owner":{}"#, eref("Identity", &identity_id(o)));
            }
            out.push_str("}}");
        }
        for (g, x) in self.groups.iter().enumerate() {
            sep(&mut out);
            let parents: Vec<String> =
                x.member_of.iter().map(|&p| uid("Group", &group_id(p))).collect();
            let _ = write!(
                out,
                r#"{{"uid":{},"parents":[{}],"attrs":{{}}}}"#,
                uid("Group", &group_id(g)),
                parents.join(",")
            );
        }
        for r in 0..self.roles.len() {
            sep(&mut out);
            let _ =
                write!(out, r#"{{"uid":{},"parents":[],"attrs":{{}}}}"#, uid("Role", &role_id(r)));
        }
        for (s, x) in self.services.iter().enumerate() {
            sep(&mut out);
            let _ = write!(
                out,
                r#"{{"uid":{},"parents":[],"attrs":{{"tier":{},"owner":"{}","group_access":{},"role_access":{}"#,
                uid("Service", &service_id(s)),
                x.tier,
                x.owner,
                erefs("Group", &mut x.group_access.iter().map(|&g| group_id(g))),
                erefs("Role", &mut x.role_access.iter().map(|&r| role_id(r))),
            );
            if let Some(tags) = &x.tags {
                let _ = write!(out, r#","tags":{}"#, json_strings(tags.iter().copied()));
            }
            if let Some(o) = x.owned_by {
                let _ = write!(out, r#","owned_by":{}"#, eref("Identity", &identity_id(o)));
            }
            out.push_str("}}");
        }
        for (c, x) in self.credentials.iter().enumerate() {
            sep(&mut out);
            let _ = write!(
                out,
                r#"{{"uid":{},"parents":[],"attrs":{{"type":"{}","active":{},"created_at":{}"#,
                uid("Credential", &credential_id(c)),
                x.ty,
                x.active,
                x.created_at
            );
            if let Some(t) = x.rotated_at {
                let _ = write!(out, r#","rotated_at":{t}"#);
            }
            if let Some(t) = x.expires_at {
                let _ = write!(out, r#","expires_at":{t}"#);
            }
            out.push_str("}}");
        }
        for a in ["read", "write", "admin"] {
            sep(&mut out);
            let _ = write!(out, r#"{{"uid":{},"parents":[],"attrs":{{}}}}"#, uid("Action", a));
        }
        out.push_str("\n]\n");
        out
    }

    /// The same graph as a Rego `data` document: one object per kind, keyed
    /// by id; edges are lists of ids on the node they leave (and, for
    /// `can_access` from groups and roles, on the service they reach too,
    /// as in the Cedar entities).
    pub fn rego_data(&self) -> String {
        let mut out = String::with_capacity(self.identities.len() * 500);
        let ids = |f: fn(usize) -> String, xs: &[usize]| json_strings(xs.iter().map(|&x| f(x)));
        out.push_str("{\"identities\":{\n");
        for (i, x) in self.identities.iter().enumerate() {
            if i > 0 {
                out.push_str(",\n");
            }
            let _ = write!(
                out,
                r#""{}":{{"type":"{}","active":{},"member_of":{},"roles":{},"access":{},"supports":{},"credentials":{}"#,
                identity_id(i),
                x.ty.as_str(),
                x.active,
                ids(group_id, &x.member_of),
                ids(role_id, &x.roles),
                ids(service_id, &x.access),
                ids(service_id, &x.supports),
                ids(credential_id, &x.credentials),
            );
            if let Some(m) = x.mfa_active {
                let _ = write!(out, r#","mfa_active":{m}"#);
            }
            if let Some(o) = x.owner {
                let _ = write!(out, r#","owner":"{}""#, identity_id(o));
            }
            out.push('}');
        }
        out.push_str("},\n\"groups\":{\n");
        for (g, x) in self.groups.iter().enumerate() {
            if g > 0 {
                out.push_str(",\n");
            }
            let _ = write!(
                out,
                r#""{}":{{"member_of":{},"access":{}}}"#,
                group_id(g),
                ids(group_id, &x.member_of),
                ids(service_id, &x.access)
            );
        }
        out.push_str("},\n\"roles\":{\n");
        for (r, x) in self.roles.iter().enumerate() {
            if r > 0 {
                out.push_str(",\n");
            }
            let _ = write!(out, r#""{}":{{"access":{}}}"#, role_id(r), ids(service_id, &x.access));
        }
        out.push_str("},\n\"services\":{\n");
        for (s, x) in self.services.iter().enumerate() {
            if s > 0 {
                out.push_str(",\n");
            }
            let _ = write!(
                out,
                r#""{}":{{"tier":{},"owner":"{}","group_access":{},"role_access":{}"#,
                service_id(s),
                x.tier,
                x.owner,
                ids(group_id, &x.group_access),
                ids(role_id, &x.role_access),
            );
            if let Some(tags) = &x.tags {
                let _ = write!(out, r#","tags":{}"#, json_strings(tags.iter().copied()));
            }
            if let Some(o) = x.owned_by {
                let _ = write!(out, r#","owned_by":"{}""#, identity_id(o));
            }
            out.push('}');
        }
        out.push_str("},\n\"credentials\":{\n");
        for (c, x) in self.credentials.iter().enumerate() {
            if c > 0 {
                out.push_str(",\n");
            }
            let _ = write!(
                out,
                r#""{}":{{"type":"{}","active":{},"created_at":{}"#,
                credential_id(c),
                x.ty,
                x.active,
                x.created_at
            );
            if let Some(t) = x.rotated_at {
                let _ = write!(out, r#","rotated_at":{t}"#);
            }
            if let Some(t) = x.expires_at {
                let _ = write!(out, r#","expires_at":{t}"#);
            }
            out.push('}');
        }
        out.push_str("}}\n");
        out
    }

    /// The longest `member_of` path from an identity (checked, not assumed:
    /// gov bounds the walk at 4 hops, Cedar's `in` and the unrolled Rego do
    /// not have to, so the data must not go deeper).
    pub fn max_membership_depth(&self) -> usize {
        // Depth of a group: 1 + the longest chain above it. Levels only go up.
        let mut depth = vec![0usize; self.groups.len()];
        let mut order: Vec<usize> = (0..self.groups.len()).collect();
        order.sort_by_key(|&g| std::cmp::Reverse(self.groups[g].level));
        for g in order {
            let above = self.groups[g].member_of.iter().map(|&p| depth[p]).max().unwrap_or(0);
            depth[g] = 1 + above;
        }
        self.identities
            .iter()
            .flat_map(|x| x.member_of.iter().map(|&g| depth[g]))
            .max()
            .unwrap_or(0)
    }

    pub fn edge_count(&self) -> usize {
        let ids: usize = self
            .identities
            .iter()
            .map(|x| {
                usize::from(x.owner.is_some())
                    + x.member_of.len()
                    + x.roles.len()
                    + x.access.len()
                    + x.supports.len()
                    + x.credentials.len()
            })
            .sum();
        let groups: usize = self.groups.iter().map(|g| g.member_of.len() + g.access.len()).sum();
        let roles: usize = self.roles.iter().map(|r| r.access.len()).sum();
        let services = self.services.iter().filter(|s| s.owned_by.is_some()).count();
        ids + groups + roles + services
    }

    pub fn node_count(&self) -> usize {
        self.identities.len()
            + self.groups.len()
            + self.roles.len()
            + self.services.len()
            + self.credentials.len()
    }
}

fn json_strings<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    let mut out = String::from("[");
    for (k, s) in items.enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(s.as_ref());
        out.push('"');
    }
    out.push(']');
    out
}

/// RFC 3339 in UTC, as gov's inventories take it.
pub fn rfc3339(t: i64) -> String {
    gov::time::Timestamp(t).to_string()
}
