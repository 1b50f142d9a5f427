//! Deterministic synthetic inventories for tests and benchmarks
//! (`gov graph generate`): people, business services with tiers 0-3, service
//! accounts and other non-human identities per service, 1-3 credentials each
//! with realistic ages, groups, roles, resources, and the messy parts that
//! policies exist for: orphans, owners who left, shared credentials, stale and
//! never-rotated keys. Same options, same bytes.

use std::io::{self, Write};

use crate::graph::Input;
use crate::ingest::native::NativeWriter;
use crate::time::Timestamp;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Number of identities (people and non-human identities together).
    pub identities: u64,
    /// Seed of the pseudo-random generator.
    pub seed: u64,
    /// The reference "now" that ages are counted back from.
    pub now: Timestamp,
}

impl Default for GenOptions {
    fn default() -> Self {
        Self { identities: 1000, seed: 1, now: Timestamp(1_793_491_200) } // 2026-11-01
    }
}

/// Counts of what was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Nodes written.
    pub nodes: u64,
    /// Edges written.
    pub edges: u64,
}

/// SplitMix64: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `pct`%.
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

#[derive(Clone, Copy)]
enum Ref {
    Person(u64),
    Service(u64),
    Nhi(u64),
    Cred(u64),
    Group(u64),
    Role(u64),
    Resource(u64),
}

fn id(r: Ref) -> String {
    match r {
        Ref::Person(i) => format!("person-{i:07}@example.com"),
        Ref::Service(i) => format!("service:svc-{i:05}"),
        Ref::Nhi(i) => format!("nhi:svc-acct-{i:07}"),
        Ref::Cred(i) => format!("cred:key-{i:08}"),
        Ref::Group(i) => format!("group:team-{i:05}"),
        Ref::Role(i) => format!("role:ent-{i:05}"),
        Ref::Resource(i) => format!("resource:res-{i:05}"),
    }
}

const DEPARTMENTS: [&str; 6] = ["payments", "identity", "platform", "data", "support", "growth"];
const NHI_TYPES: [(&str, u64); 4] =
    [("service_account", 60), ("workload", 20), ("bot", 10), ("api_client", 10)];
const CRED_TYPES: [&str; 4] = ["access_key", "token", "certificate", "password"];
const ACTIONS: [&str; 8] = [
    "s3:GetObject",
    "s3:PutObject",
    "iam:PassRole",
    "kms:Decrypt",
    "sqs:SendMessage",
    "ec2:*",
    "db:read",
    "db:write",
];

/// Writes a synthetic native inventory and returns what it wrote.
pub fn generate<W: Write>(opts: &GenOptions, w: W) -> io::Result<GenStats> {
    let n = opts.identities.max(1);
    let people = (n / 5).max(1);
    let nhis = n - people.min(n);
    let services = (n / 50).max(1);
    let groups = (n / 100).max(1);
    let roles = (n / 200).max(1);
    let resources = (n / 100).max(1);
    let now = opts.now.0;
    let day = 86_400i64;
    let mut rng = Rng(opts.seed ^ 0x0005_EED0_F60F);
    let metadata = serde_json::json!({
        "generator": "gov graph generate",
        "identities": n,
        "seed": opts.seed,
        "now": opts.now.to_string(),
    });
    let mut out =
        NativeWriter::new(io::BufWriter::with_capacity(1 << 20, w), Some(&metadata), None)?;
    let mut stats = GenStats::default();
    let mut edges: Vec<(Ref, &'static str, Ref)> = Vec::with_capacity((n * 6) as usize);
    let ts = |t: i64| Input::Time(Timestamp(t));

    for i in 0..people {
        let active = !rng.chance(6);
        let mut attrs = vec![
            ("name", Input::str(format!("Person {i}"))),
            ("type", Input::str("human")),
            ("email", Input::str(id(Ref::Person(i)))),
            ("active", Input::Bool(active)),
            ("source", Input::str("hr")),
            ("created_at", ts(now - (30 + rng.below(3000) as i64) * day)),
        ];
        if !active {
            attrs.push(("left_at", ts(now - (1 + rng.below(400) as i64) * day)));
        }
        out.node(&id(Ref::Person(i)), "identity", &attrs)?;
        stats.nodes += 1;
        for _ in 0..1 + rng.below(3) {
            edges.push((Ref::Person(i), "member_of", Ref::Group(rng.below(groups))));
        }
    }
    for i in 0..services {
        let tier = match rng.below(10) {
            0 => 0,
            1 | 2 => 1,
            3..=6 => 2,
            _ => 3,
        };
        let crit =
            ["critical", "high", "medium", "low"].get(tier as usize).copied().unwrap_or("low");
        let owner = Ref::Person(rng.below(people));
        out.node(
            &id(Ref::Service(i)),
            "service",
            &[
                ("name", Input::str(format!("svc-{i:05}"))),
                ("tier", Input::Int(tier)),
                ("criticality", Input::str(crit)),
                ("owner", Input::str(id(owner))),
            ],
        )?;
        stats.nodes += 1;
        edges.push((Ref::Service(i), "owned_by", owner));
    }
    for i in 0..groups {
        let dept = DEPARTMENTS
            .get(rng.below(DEPARTMENTS.len() as u64) as usize)
            .copied()
            .unwrap_or("platform");
        out.node(&id(Ref::Group(i)), "group", &[("name", Input::str(format!("{dept}-team-{i}")))])?;
        stats.nodes += 1;
        for _ in 0..1 + rng.below(2) {
            edges.push((Ref::Group(i), "grants", Ref::Role(rng.below(roles))));
        }
    }
    for i in 0..roles {
        let k = 1 + rng.below(4) as usize;
        let start = rng.below(ACTIONS.len() as u64) as usize;
        let actions: Vec<&str> =
            (0..k).filter_map(|j| ACTIONS.get((start + j) % ACTIONS.len()).copied()).collect();
        let privileged = actions.iter().any(|a| *a == "iam:PassRole" || a.ends_with('*'));
        out.node(
            &id(Ref::Role(i)),
            "role",
            &[
                ("name", Input::str(format!("entitlement-{i}"))),
                ("actions", Input::strs(actions)),
                ("privileged", Input::Bool(privileged)),
                ("managed", Input::Bool(rng.chance(30))),
            ],
        )?;
        stats.nodes += 1;
        for _ in 0..1 + rng.below(3) {
            edges.push((Ref::Role(i), "can_access", Ref::Resource(rng.below(resources))));
        }
    }
    for i in 0..resources {
        let kind = ["bucket", "database", "queue", "cluster"]
            .get(rng.below(4) as usize)
            .copied()
            .unwrap_or("bucket");
        out.node(
            &id(Ref::Resource(i)),
            "resource",
            &[("name", Input::str(format!("{kind}-{i}"))), ("type", Input::str(kind))],
        )?;
        stats.nodes += 1;
    }
    let mut cred = 0u64;
    for i in 0..nhis {
        let svc = rng.below(services);
        let mut pick = rng.below(100);
        let ty = NHI_TYPES
            .iter()
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map_or("service_account", |(t, _)| t);
        let created = now - (10 + rng.below(1500) as i64) * day;
        let me = Ref::Nhi(i);
        out.node(
            &id(me),
            "identity",
            &[
                ("name", Input::str(format!("svc-{svc:05}-{ty}-{i}"))),
                ("type", Input::str(ty)),
                ("active", Input::Bool(!rng.chance(3))),
                ("created_at", ts(created)),
                (
                    "source",
                    Input::str(
                        ["aws", "k8s", "github", "okta"]
                            .get(rng.below(4) as usize)
                            .copied()
                            .unwrap_or("aws"),
                    ),
                ),
            ],
        )?;
        stats.nodes += 1;
        edges.push((me, "supports", Ref::Service(svc)));
        if !rng.chance(7) {
            // 7% are orphans; some owners have left (see `active` on people).
            edges.push((me, "owned_by", Ref::Person(rng.below(people))));
        }
        if rng.chance(80) {
            edges.push((me, "steward", Ref::Person(rng.below(people))));
        }
        for _ in 0..1 + rng.below(2) {
            edges.push((me, "grants", Ref::Role(rng.below(roles))));
        }
        if rng.chance(15) {
            edges.push((me, "member_of", Ref::Group(rng.below(groups))));
        }
        for _ in 0..1 + rng.below(3) {
            let c = Ref::Cred(cred);
            cred += 1;
            let ty = CRED_TYPES.get(rng.below(4) as usize).copied().unwrap_or("token");
            let ephemeral = rng.chance(10);
            let age = 1 + rng.below((now - created) as u64 / day as u64 + 1) as i64;
            let c_created = now - age * day;
            // Most keys are rotated now and then; a quarter never are.
            let rotated =
                if rng.chance(75) { now - rng.below(age as u64) as i64 * day } else { c_created };
            let mut attrs = vec![
                ("name", Input::str(format!("{ty}-{}", cred - 1))),
                ("type", Input::str(ty)),
                ("created_at", ts(c_created)),
                ("rotated_at", ts(rotated)),
                ("ephemeral", Input::Bool(ephemeral)),
                ("active", Input::Bool(!rng.chance(5))),
            ];
            if ephemeral || rng.chance(35) {
                attrs.push((
                    "expires_at",
                    ts(rotated + if ephemeral { 3600 } else { (30 + rng.below(365) as i64) * day }),
                ));
            }
            if rng.chance(85) {
                attrs.push((
                    "last_used_at",
                    ts(now - rng.below(age as u64 + 1) as i64 * day - rng.below(86_400) as i64),
                ));
                attrs.push(("last_used_state", Input::str("used")));
            } else {
                attrs.push(("last_used_state", Input::str("never")));
            }
            if ty == "token" && rng.chance(20) {
                attrs.push(("scopes", Input::strs(["repo", "read:org"])));
            }
            out.node(&id(c), "credential", &attrs)?;
            stats.nodes += 1;
            edges.push((me, "has_credential", c));
        }
        if i > 0 && rng.chance(2) && cred > 4 {
            // A credential shared with another workload.
            edges.push((me, "has_credential", Ref::Cred(rng.below(cred - 4))));
        }
    }
    for (a, k, b) in &edges {
        out.edge(&id(*a), &id(*b), k, None, false)?;
        stats.edges += 1;
    }
    let mut w = out.finish()?;
    w.flush()?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphBuilder, Mode, Schema};
    use crate::source::SourceFile;

    #[test]
    fn deterministic_and_loadable() {
        let opts = GenOptions { identities: 500, seed: 7, ..GenOptions::default() };
        let mut a = Vec::new();
        let stats = generate(&opts, &mut a).unwrap();
        let mut b = Vec::new();
        generate(&opts, &mut b).unwrap();
        assert_eq!(a, b);
        let mut builder =
            GraphBuilder::new(Schema::builtin()).with_key_locator(crate::ingest::native::key_range);
        crate::ingest::native::read(
            &mut builder,
            SourceFile::new("gen.json", String::from_utf8(a).unwrap()),
        );
        let loaded = builder.finish(Mode::Strict).unwrap();
        assert!(loaded.diagnostics.is_empty());
        assert_eq!(loaded.graph.node_count() as u64, stats.nodes);
        assert_eq!(loaded.graph.edge_count() as u64, stats.edges);
        let other = generate(&GenOptions { seed: 8, ..opts }, Vec::new()).unwrap();
        assert_ne!(other, stats);
    }
}
