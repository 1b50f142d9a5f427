//! One inventory, three native forms. `gov graph generate`'s generator (the
//! library's `gov::ingest::generate`) writes the inventory; this module reads
//! it back line by line and writes what each engine loads:
//!
//! - `gov.json`: the same native inventory, with a `schema` section that
//!   declares `attested_at` (as `policies/fixtures/schema.json` does);
//! - `*.csv`: one table per node kind and per edge kind, plus `role_actions`
//!   (a role's list of actions, one row each), for DuckDB's `read_csv`;
//! - `rego.json`: the `data` document for Rego: nodes by kind and id, and
//!   each edge kind as an adjacency object (`from -> [to, ...]`).
//!
//! Two additions to the generated graph, identical in every form, so that
//! every rule has work to do: each non-human identity gets an `attested_at`
//! (85% of them, 0-500 days ago), and three groups in four are nested in an
//! earlier group (`member_of`), so that `member_of*1..4` paths are up to
//! four hops long and the bound matters. Both come from a hash of the id:
//! deterministic, no second random generator.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use gov::ingest::generate::{GenOptions, generate};
use gov::time::Timestamp;
use serde_json::{Map, Value};

/// The evaluation time of every engine: the generator's default `now`.
pub const NOW: Timestamp = Timestamp(1_793_491_200); // 2026-11-01T00:00:00Z

/// The node tables and their columns (after `id`), with DuckDB types.
pub const TABLES: &[(&str, &str, &[(&str, &str)])] = &[
    (
        "identity",
        "identities",
        &[
            ("name", "VARCHAR"),
            ("type", "VARCHAR"),
            ("email", "VARCHAR"),
            ("active", "BOOLEAN"),
            ("source", "VARCHAR"),
            ("created_at", "TIMESTAMP"),
            ("left_at", "TIMESTAMP"),
            ("password_enabled", "BOOLEAN"),
            ("attested_at", "TIMESTAMP"),
        ],
    ),
    (
        "credential",
        "credentials",
        &[
            ("name", "VARCHAR"),
            ("type", "VARCHAR"),
            ("created_at", "TIMESTAMP"),
            ("rotated_at", "TIMESTAMP"),
            ("updated_at", "TIMESTAMP"),
            ("ephemeral", "BOOLEAN"),
            ("active", "BOOLEAN"),
            ("expires_at", "TIMESTAMP"),
            ("last_used_at", "TIMESTAMP"),
            ("last_used_state", "VARCHAR"),
        ],
    ),
    (
        "service",
        "services",
        &[
            ("name", "VARCHAR"),
            ("tier", "BIGINT"),
            ("criticality", "VARCHAR"),
            ("owner", "VARCHAR"),
        ],
    ),
    ("group", "groups", &[("name", "VARCHAR")]),
    ("role", "roles", &[("name", "VARCHAR"), ("privileged", "BOOLEAN"), ("managed", "BOOLEAN")]),
    ("resource", "resources", &[("name", "VARCHAR"), ("type", "VARCHAR")]),
];

/// The edge kinds of the generated graph, each a `(src, dst)` table.
pub const EDGE_KINDS: &[&str] =
    &["owned_by", "steward", "supports", "member_of", "grants", "can_access", "has_credential"];

/// What was written, for the report.
#[derive(Debug, Default)]
pub struct Sizes {
    pub nodes: u64,
    pub edges: u64,
    pub gov_bytes: u64,
    pub csv_bytes: u64,
    pub rego_bytes: u64,
}

/// The files of one prepared inventory.
pub struct Files {
    pub dir: PathBuf,
}

impl Files {
    pub fn gov(&self) -> PathBuf {
        self.dir.join("gov.json")
    }
    pub fn rego(&self) -> PathBuf {
        self.dir.join("rego.json")
    }
    pub fn csv(&self, table: &str) -> PathBuf {
        self.dir.join(format!("{table}.csv"))
    }
    pub fn failures(&self, engine: &str) -> PathBuf {
        self.dir.join(format!("failures-{engine}.tsv"))
    }
}

/// FNV-1a: a stable hash of an id, for the two additions.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// RFC 3339 with `Z`, whole seconds.
pub fn rfc3339(t: Timestamp) -> String {
    let (y, m, d) = t.date();
    let s = t.0.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// `YYYY-MM-DD HH:MM:SS`, DuckDB's `TIMESTAMP` text.
fn sql_time(t: Timestamp) -> String {
    let mut s = rfc3339(t);
    s.pop();
    s.replace('T', " ")
}

fn csv_field(out: &mut String, v: Option<&Value>, ty: &str) -> Result<(), String> {
    match v {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if ty == "TIMESTAMP" => {
            let t = Timestamp::parse(s).map_err(|e| format!("{s}: {e}"))?;
            out.push_str(&sql_time(t));
        }
        Some(Value::String(s)) => {
            out.push('"');
            out.push_str(&s.replace('"', "\"\""));
            out.push('"');
        }
        Some(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::Number(n)) => out.push_str(&n.to_string()),
        Some(other) => return Err(format!("no CSV form for {other}")),
    }
    Ok(())
}

/// Rewrites a node's timestamps as RFC 3339 for Rego (`time.parse_rfc3339_ns`
/// takes nothing else; the native form writes midnight as a bare date).
fn rego_attrs(attrs: &Map<String, Value>, kind: &str) -> Result<Map<String, Value>, String> {
    let cols = TABLES.iter().find(|(k, _, _)| *k == kind).map_or(&[][..], |(_, _, c)| c);
    let mut out = Map::new();
    for (k, v) in attrs {
        let is_time = cols.iter().any(|(c, t)| c == k && *t == "TIMESTAMP");
        let v = match v {
            Value::String(s) if is_time => {
                Value::String(rfc3339(Timestamp::parse(s).map_err(|e| format!("{s}: {e}"))?))
            }
            v => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

struct Writers {
    tables: BTreeMap<&'static str, (BufWriter<File>, &'static [(&'static str, &'static str)])>,
    role_actions: BufWriter<File>,
    edges: BTreeMap<&'static str, BufWriter<File>>,
    /// Rego nodes by kind, each as `"id":{...}` fragments in a file of its own.
    rego_nodes: BTreeMap<&'static str, (BufWriter<File>, bool)>,
    /// Rego adjacency by edge kind.
    adjacency: BTreeMap<&'static str, BTreeMap<String, Vec<String>>>,
}

fn create(p: &Path) -> io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(p)?))
}

fn io_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Generates `identities` identities with `seed` and writes the three forms.
pub fn prepare(files: &Files, identities: u64, seed: u64) -> Result<Sizes, String> {
    std::fs::create_dir_all(&files.dir).map_err(io_err)?;
    let generated = files.dir.join("generated.json");
    let opts = GenOptions { identities, seed, now: NOW };
    generate(&opts, create(&generated).map_err(io_err)?).map_err(io_err)?;

    let mut w = Writers {
        tables: BTreeMap::new(),
        role_actions: create(&files.csv("role_actions")).map_err(io_err)?,
        edges: BTreeMap::new(),
        rego_nodes: BTreeMap::new(),
        adjacency: BTreeMap::new(),
    };
    for (kind, table, cols) in TABLES {
        let mut f = create(&files.csv(table)).map_err(io_err)?;
        let header: Vec<&str> = std::iter::once("id").chain(cols.iter().map(|(c, _)| *c)).collect();
        writeln!(f, "{}", header.join(",")).map_err(io_err)?;
        w.tables.insert(kind, (f, cols));
        let frag = create(&files.dir.join(format!("rego-{kind}.part"))).map_err(io_err)?;
        w.rego_nodes.insert(kind, (frag, true));
    }
    writeln!(w.role_actions, "role,action").map_err(io_err)?;
    for kind in EDGE_KINDS {
        let mut f = create(&files.csv(kind)).map_err(io_err)?;
        writeln!(f, "src,dst").map_err(io_err)?;
        w.edges.insert(kind, f);
        w.adjacency.insert(kind, BTreeMap::new());
    }

    let mut gov = create(&files.gov()).map_err(io_err)?;
    gov.write_all(
        br#"{"format":"gov.inventory/v1","schema":{"kinds":{"identity":{"attributes":{"attested_at":"timestamp"}}}},"nodes":["#,
    )
    .map_err(io_err)?;
    let mut sizes = Sizes::default();
    let mut groups: Vec<String> = Vec::new();
    let mut first = true;
    let reader = BufReader::with_capacity(1 << 20, File::open(&generated).map_err(io_err)?);
    for line in reader.lines() {
        let line = line.map_err(io_err)?;
        let item = line.strip_suffix(',').unwrap_or(&line);
        if item.starts_with("{\"id\"") {
            let mut node: Value = serde_json::from_str(item).map_err(io_err)?;
            add_attestation(&mut node);
            node_rows(&mut w, &node, &mut groups)?;
            gov.write_all(if first { b"\n" } else { b",\n" }).map_err(io_err)?;
            first = false;
            serde_json::to_writer(&mut gov, &node).map_err(io_err)?;
            sizes.nodes += 1;
        } else if item.starts_with("{\"from\"") {
            if sizes.edges == 0 {
                gov.write_all(b"\n],\n\"edges\":[").map_err(io_err)?;
                first = true;
            }
            let e: Value = serde_json::from_str(item).map_err(io_err)?;
            let (from, to, kind) = (str_of(&e, "from")?, str_of(&e, "to")?, str_of(&e, "kind")?);
            edge_rows(&mut w, from, to, kind)?;
            gov.write_all(if first { b"\n" } else { b",\n" }).map_err(io_err)?;
            first = false;
            gov.write_all(item.as_bytes()).map_err(io_err)?;
            sizes.edges += 1;
        }
    }
    // The nested groups: three in four sit in an earlier group.
    for (i, g) in groups.iter().enumerate().skip(1) {
        let h = fnv(g);
        if h % 4 == 0 {
            continue;
        }
        let Some(parent) = groups.get((h >> 8) as usize % i) else { continue };
        edge_rows(&mut w, g, parent, "member_of")?;
        let e = serde_json::json!({"from": g, "to": parent, "kind": "member_of"});
        gov.write_all(b",\n").map_err(io_err)?;
        serde_json::to_writer(&mut gov, &e).map_err(io_err)?;
        sizes.edges += 1;
    }
    gov.write_all(b"\n]}\n").map_err(io_err)?;
    gov.flush().map_err(io_err)?;
    std::fs::remove_file(&generated).map_err(io_err)?;
    finish_rego(files, w)?;
    sizes.gov_bytes = len(&files.gov());
    sizes.rego_bytes = len(&files.rego());
    sizes.csv_bytes = TABLES.iter().map(|(_, t, _)| len(&files.csv(t))).sum::<u64>()
        + EDGE_KINDS.iter().map(|k| len(&files.csv(k))).sum::<u64>()
        + len(&files.csv("role_actions"));
    Ok(sizes)
}

fn len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

fn str_of<'v>(v: &'v Value, key: &str) -> Result<&'v str, String> {
    v.get(key).and_then(Value::as_str).ok_or_else(|| format!("no {key} in {v}"))
}

/// 85% of non-human identities were attested, 0-500 days before `NOW`.
fn add_attestation(node: &mut Value) {
    let is_nhi = node.get("kind").and_then(Value::as_str) == Some("identity")
        && node.pointer("/attrs/type").and_then(Value::as_str) != Some("human");
    let id = node.get("id").and_then(Value::as_str).unwrap_or_default();
    let h = fnv(id);
    if !is_nhi || h % 100 < 15 {
        return;
    }
    let when = Timestamp(NOW.0 - ((h >> 16) % 501) as i64 * 86_400 - ((h >> 40) % 86_400) as i64);
    if let Some(attrs) = node.get_mut("attrs").and_then(Value::as_object_mut) {
        attrs.insert("attested_at".into(), Value::String(rfc3339(when)));
    }
}

fn node_rows(w: &mut Writers, node: &Value, groups: &mut Vec<String>) -> Result<(), String> {
    let id = str_of(node, "id")?;
    let kind = str_of(node, "kind")?;
    let empty = Map::new();
    let attrs = node.get("attrs").and_then(Value::as_object).unwrap_or(&empty);
    let Some((f, cols)) = w.tables.get_mut(kind) else {
        return Err(format!("unexpected node kind {kind}"));
    };
    let mut row = String::with_capacity(256);
    csv_field(&mut row, Some(&Value::String(id.to_owned())), "VARCHAR")?;
    for (c, ty) in cols.iter() {
        row.push(',');
        csv_field(&mut row, attrs.get(*c), ty)?;
    }
    row.push('\n');
    f.write_all(row.as_bytes()).map_err(io_err)?;
    if kind == "role" {
        for a in attrs.get("actions").and_then(Value::as_array).into_iter().flatten() {
            let mut row = String::new();
            csv_field(&mut row, Some(&Value::String(id.to_owned())), "VARCHAR")?;
            row.push(',');
            csv_field(&mut row, Some(a), "VARCHAR")?;
            writeln!(w.role_actions, "{row}").map_err(io_err)?;
        }
    }
    if kind == "group" {
        groups.push(id.to_owned());
    }
    let Some((frag, first)) = w.rego_nodes.get_mut(kind) else {
        return Err(format!("unexpected node kind {kind}"));
    };
    frag.write_all(if *first { b"\n" } else { b",\n" }).map_err(io_err)?;
    *first = false;
    serde_json::to_writer(&mut *frag, id).map_err(io_err)?;
    frag.write_all(b":").map_err(io_err)?;
    serde_json::to_writer(&mut *frag, &rego_attrs(attrs, kind)?).map_err(io_err)?;
    Ok(())
}

fn edge_rows(w: &mut Writers, from: &str, to: &str, kind: &str) -> Result<(), String> {
    let Some(f) = w.edges.get_mut(kind) else {
        return Err(format!("unexpected edge kind {kind}"));
    };
    let mut row = String::with_capacity(64);
    csv_field(&mut row, Some(&Value::String(from.to_owned())), "VARCHAR")?;
    row.push(',');
    csv_field(&mut row, Some(&Value::String(to.to_owned())), "VARCHAR")?;
    row.push('\n');
    f.write_all(row.as_bytes()).map_err(io_err)?;
    if let Some(adj) = w.adjacency.get_mut(kind) {
        adj.entry(from.to_owned()).or_default().push(to.to_owned());
    }
    Ok(())
}

/// `{"inventory":{"identity":{id:{...}},...,"edges":{kind:{from:[to]}}}}`.
fn finish_rego(files: &Files, w: Writers) -> Result<(), String> {
    let Writers { tables, role_actions, edges, rego_nodes, adjacency } = w;
    for (_, (mut f, _)) in tables {
        f.flush().map_err(io_err)?;
    }
    for mut f in edges.into_values().chain([role_actions]) {
        f.flush().map_err(io_err)?;
    }
    let mut out = create(&files.rego()).map_err(io_err)?;
    out.write_all(b"{\"inventory\":{").map_err(io_err)?;
    for (kind, (mut frag, _)) in rego_nodes {
        frag.flush().map_err(io_err)?;
        drop(frag);
        write!(out, "\"{kind}\":{{").map_err(io_err)?;
        let part = files.dir.join(format!("rego-{kind}.part"));
        io::copy(&mut File::open(&part).map_err(io_err)?, &mut out).map_err(io_err)?;
        std::fs::remove_file(&part).map_err(io_err)?;
        out.write_all(b"\n},").map_err(io_err)?;
    }
    out.write_all(b"\"edges\":").map_err(io_err)?;
    serde_json::to_writer(&mut out, &adjacency).map_err(io_err)?;
    out.write_all(b"}}\n").map_err(io_err)?;
    out.flush().map_err(io_err)?;
    Ok(())
}
