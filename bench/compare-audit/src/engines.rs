//! The engines behind one shape: `setup` loads the engine's native form of
//! the inventory and its policy (timed as setup), `audit` evaluates the six
//! rules and returns the failing (rule, entity id) pairs (timed as
//! evaluation). Each runs in a child process of its own (see `main.rs`), so
//! that its peak memory is its own.

use std::path::{Path, PathBuf};

use crate::data::{self, EDGE_KINDS, Files, TABLES};

/// The engines, in the table's order. `opa` and `duckdb-py` (DuckDB's
/// Python package, the same SQL, for a build without the C++ library) run
/// in Python (`py/`).
pub const ENGINES: &[&str] = &["gov", "duckdb", "regorus", "opa", "duckdb-py"];

/// The six rules, in the order of the table.
pub const RULES: &[&str] = &[
    "nhi-owner-required",
    "credential-max-age-by-tier",
    "shared-credential",
    "privilege-via-nested-groups",
    "never-used-credential",
    "attestation-overdue-by-tier",
];

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The standard library's files the six rules need: theirs, the shared
/// helpers (`common.gov`) and the library's `priority by`.
pub fn gov_policy_files() -> Vec<PathBuf> {
    let lib = crate_dir().join("../../policies");
    [
        "common.gov",
        "governance/priority.gov",
        "ownership/nhi-owner-required.gov",
        "lifecycle/credential-max-age-by-tier.gov",
        "reuse/shared-credential.gov",
        "privilege/privilege-via-nested-groups.gov",
        "lifecycle/never-used-credential.gov",
        "governance/attestation-overdue-by-tier.gov",
    ]
    .iter()
    .map(|f| lib.join(f))
    .collect()
}

fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
}

/// One engine, set up.
pub enum Engine {
    Gov {
        program: gov::ir::Program,
        graph: gov::graph::Graph,
    },
    #[cfg(feature = "duckdb")]
    Duck {
        conn: duckdb::Connection,
        rules: Vec<(String, String)>,
    },
    Rego {
        engine: regorus::Engine,
    },
}

impl Engine {
    /// Loads `name`'s form of the inventory in `files` and its policy.
    pub fn setup(name: &str, files: &Files) -> Result<Engine, String> {
        match name {
            "gov" => gov_setup(files),
            "duckdb" => duck_setup(files),
            "regorus" => rego_setup(files),
            other => Err(format!("unknown engine {other} (one of {})", ENGINES.join(", "))),
        }
    }

    /// Evaluates one rule; returns the ids of the entities that fail it
    /// and, for gov, the number of entities it checked (0 for the others).
    pub fn audit_rule(&mut self, rule: &str) -> Result<(Vec<String>, u64), String> {
        match self {
            Engine::Gov { program, graph } => {
                let opts = gov::eval::audit::AuditOptions {
                    now: Some(data::NOW),
                    rules: vec![rule.to_owned()],
                    entity: None,
                };
                let audit = gov::eval::audit::audit(program, graph, &opts);
                let checks = audit.rules.iter().map(|r| r.checked as u64).sum();
                let mut ids = Vec::with_capacity(audit.findings.len());
                for f in audit.findings {
                    if f.kind == gov::eval::finding::FindingKind::Error {
                        return Err(format!("gov: {rule} on {}: {}", f.entity, f.message));
                    }
                    ids.push(f.entity);
                }
                Ok((ids, checks))
            }
            #[cfg(feature = "duckdb")]
            Engine::Duck { conn, rules } => {
                let sql = (rules.iter().find(|(r, _)| r == rule))
                    .map(|(_, sql)| sql.as_str())
                    .ok_or_else(|| format!("audit.sql has no rule {rule}"))?;
                let mut stmt = conn.prepare(sql).map_err(|e| format!("{rule}: {e}"))?;
                let rows = stmt
                    .query_map([], |row| row.get::<_, String>(0))
                    .map_err(|e| format!("{rule}: {e}"))?;
                let ids =
                    rows.collect::<Result<Vec<_>, _>>().map_err(|e| format!("{rule}: {e}"))?;
                Ok((ids, 0))
            }
            Engine::Rego { engine } => {
                let name = format!("data.audit.{}", rule.replace('-', "_"));
                let v = engine.eval_rule(name).map_err(|e| format!("rego: {rule}: {e}"))?;
                if v == regorus::Value::Undefined {
                    return Ok((Vec::new(), 0));
                }
                let set = v.as_set().map_err(|e| format!("rego: {rule}: {e}"))?;
                let ids = set
                    .iter()
                    .map(|id| id.as_string().map(|s| s.to_string()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("rego: {rule}: {e}"))?;
                Ok((ids, 0))
            }
        }
    }
}

fn gov_setup(files: &Files) -> Result<Engine, String> {
    let text = read(&files.gov())?;
    let src = gov::SourceFile::new("gov.json", text);
    let loaded =
        gov::ingest::load_sources(vec![src], &Default::default()).map_err(|d| render(&d))?;
    let graph = loaded.graph;
    let mut parsed = Vec::new();
    for path in gov_policy_files() {
        let file = gov::SourceFile::new(path.display().to_string(), read(&path)?);
        parsed.push(gov::syntax::parse(&file).map_err(|d| render(&d))?);
    }
    let program =
        gov::check::compile(&parsed, graph.schema(), &gov::check::Options { now: data::NOW })
            .map_err(|d| render(&d))?
            .program;
    Ok(Engine::Gov { program, graph })
}

fn render(d: &gov::Diagnostics) -> String {
    d.iter().map(gov::report::diagnostics::render_plain).collect::<Vec<_>>().join("\n")
}

/// The SQL file split into its setup and its rules (`-- rule: NAME`).
#[cfg_attr(not(feature = "duckdb"), allow(dead_code))]
pub fn sql_rules() -> Result<(String, Vec<(String, String)>), String> {
    let text = read(&crate_dir().join("policy/audit.sql"))?;
    let now = data::rfc3339(data::NOW).replace('T', " ").replace('Z', "");
    let text = text.replace("{now}", &now);
    let mut parts = text.split("\n-- rule: ");
    let setup = parts.next().unwrap_or_default().to_owned();
    let rules = parts
        .map(|p| {
            let (name, sql) = p.split_once('\n').unwrap_or((p, ""));
            (name.trim().to_owned(), sql.trim().trim_end_matches(';').to_owned())
        })
        .collect();
    Ok((setup, rules))
}

/// The statements that load the CSV files into DuckDB tables, with the
/// column types given (`read_csv` guesses nothing).
pub fn duck_load_sql(files: &Files) -> String {
    let mut ddl = String::new();
    let quote = |p: PathBuf| p.display().to_string().replace('\'', "''");
    let node_tables = TABLES.iter().map(|(_, table, cols)| {
        let columns: Vec<String> = std::iter::once("'id': 'VARCHAR'".to_owned())
            .chain(cols.iter().map(|(c, t)| format!("'{c}': '{t}'")))
            .collect();
        (table.to_string(), columns.join(", "))
    });
    let pairs = std::iter::once((
        "role_actions".to_owned(),
        "'role': 'VARCHAR', 'action': 'VARCHAR'".to_owned(),
    ))
    .chain(
        EDGE_KINDS.iter().map(|k| (k.to_string(), "'src': 'VARCHAR', 'dst': 'VARCHAR'".to_owned())),
    );
    for (table, columns) in node_tables.chain(pairs) {
        ddl.push_str(&format!(
            "CREATE TABLE {table} AS SELECT * FROM read_csv('{}', header = true, columns = {{{columns}}});\n",
            quote(files.csv(&table)),
        ));
    }
    ddl
}

#[cfg(feature = "duckdb")]
fn duck_setup(files: &Files) -> Result<Engine, String> {
    let conn = duckdb::Connection::open_in_memory().map_err(|e| e.to_string())?;
    conn.execute_batch(&duck_load_sql(files)).map_err(|e| format!("loading the tables: {e}"))?;
    let (setup, rules) = sql_rules()?;
    conn.execute_batch(&setup).map_err(|e| format!("audit.sql setup: {e}"))?;
    Ok(Engine::Duck { conn, rules })
}

#[cfg(not(feature = "duckdb"))]
fn duck_setup(_: &Files) -> Result<Engine, String> {
    Err("built without the `duckdb` feature: use the engine duckdb-py".into())
}

fn rego_setup(files: &Files) -> Result<Engine, String> {
    let mut engine = regorus::Engine::new();
    // The rules, and the form of `holders` that regorus evaluates in one pass.
    for name in ["audit.rego", "holders_regorus.rego"] {
        let policy = crate_dir().join("policy").join(name);
        engine
            .add_policy(policy.display().to_string(), read(&policy)?)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    let text = read(&files.rego())?;
    engine.add_data_json(&text).map_err(|e| format!("rego data: {e}"))?;
    let input = format!("{{\"now\":\"{}\"}}", data::rfc3339(data::NOW));
    engine.set_input(regorus::Value::from_json_str(&input).map_err(|e| e.to_string())?);
    Ok(Engine::Rego { engine })
}
