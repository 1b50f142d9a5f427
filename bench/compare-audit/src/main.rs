//! The audit side by side: gov, DuckDB (SQL) and regorus (Rego) run the same
//! six rules of gov's standard library over the same generated inventory,
//! each from its own native form. The parent process prepares the data,
//! checks that the engines agree on every (rule, entity) failure, then times
//! them: each engine runs in a child process of its own (this binary again,
//! `engine NAME DIR`), once for the agreement check and once per timed
//! pass, interleaved across engines, so that setup is timed from a cold
//! process and peak memory is the engine's own.
//!
//! ```sh
//! cargo run --release                          # 100,000 identities, 3 passes
//! AUDIT_IDENTITIES=1000000 cargo run --release
//! AUDIT_IDENTITIES=10000000 AUDIT_ENGINES=gov cargo run --release
//! ```

mod data;
mod engines;
mod measure;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use data::Files;
use engines::{ENGINES, Engine, RULES};
use measure::{Cpu, Run};

fn env_u64(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(v) => v.replace('_', "").parse().map_err(|e| format!("{name}={v}: {e}")),
        Err(_) => Ok(default),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("engine") => child(&args[2..]),
        Some(other) => Err(format!("unknown argument {other}; run without arguments")),
        None => parent(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

// ------------------------------------------------------------------ child

/// `engine NAME DIR [--failures]`: set up, audit each rule, print one
/// `RESULT` line (JSON); with `--failures`, also write the failures.
fn child(args: &[String]) -> Result<ExitCode, String> {
    let (Some(name), Some(dir)) = (args.first(), args.get(1)) else {
        return Err("usage: engine NAME DIR [--failures]".into());
    };
    let files = Files { dir: PathBuf::from(dir) };
    let write_failures = args.iter().any(|a| a == "--failures");
    let (cpu0, t0) = (Cpu::now(), Instant::now());
    let mut engine = Engine::setup(name, &files)?;
    let setup = Run::since(t0, cpu0);
    let mut rules = Vec::new();
    let mut failures: Vec<(&str, String)> = Vec::new();
    let (cpu1, t1) = (Cpu::now(), Instant::now());
    let mut checks = 0;
    for rule in RULES {
        let (c, t) = (Cpu::now(), Instant::now());
        let (ids, n) = engine.audit_rule(rule)?;
        let run = Run::since(t, c);
        checks += n;
        rules.push(serde_json::json!({"rule": rule, "wall": run.wall, "failed": ids.len()}));
        if write_failures {
            failures.extend(ids.into_iter().map(|id| (*rule, id)));
        }
    }
    let eval = Run::since(t1, cpu1);
    if write_failures {
        failures.sort();
        let mut out = String::new();
        for (rule, id) in &failures {
            out.push_str(&format!("{rule}\t{id}\n"));
        }
        std::fs::write(files.failures(name), out).map_err(|e| e.to_string())?;
    }
    let result = serde_json::json!({
        "setup_wall": setup.wall, "setup_cpu": setup.cpu,
        "eval_wall": eval.wall, "eval_cpu": eval.cpu,
        "peak_rss": measure::peak_rss(), "checks": checks, "rules": rules,
    });
    println!("RESULT {result}");
    Ok(ExitCode::SUCCESS)
}

// ----------------------------------------------------------------- parent

struct Config {
    identities: u64,
    seed: u64,
    passes: u64,
    timeout: Duration,
    engines: Vec<String>,
    dir: PathBuf,
    python: PathBuf,
    keep: bool,
}

fn config() -> Result<Config, String> {
    let identities = env_u64("AUDIT_IDENTITIES", 100_000)?;
    let python = match std::env::var("AUDIT_PYTHON") {
        Ok(p) => PathBuf::from(p),
        Err(_) => engines::crate_dir().join(".venv/bin/python"),
    };
    let engines: Vec<String> = match std::env::var("AUDIT_ENGINES") {
        Ok(v) => v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        Err(_) => ENGINES
            .iter()
            .filter(|e| {
                let default = match **e {
                    "duckdb-py" => !cfg!(feature = "duckdb"),
                    "duckdb" => cfg!(feature = "duckdb"),
                    _ => true,
                };
                let here = python_script(e).is_none() || python.exists();
                if default && !here {
                    println!("{e}: left out: no {} (see the README)", python.display());
                }
                default && here
            })
            .map(|s| s.to_string())
            .collect(),
    };
    if let Some(bad) = engines.iter().find(|e| !ENGINES.contains(&e.as_str())) {
        return Err(format!("AUDIT_ENGINES: unknown engine {bad} (one of {})", ENGINES.join(", ")));
    }
    if engines.first().map(String::as_str) != Some("gov") {
        return Err("AUDIT_ENGINES must start with gov: ratios are against gov".into());
    }
    let dir = match std::env::var("AUDIT_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join(format!("audit-data-{identities}")),
    };
    Ok(Config {
        identities,
        seed: env_u64("AUDIT_SEED", 7)?,
        passes: env_u64("AUDIT_PASSES", 3)?.max(1),
        timeout: Duration::from_secs(env_u64("AUDIT_TIMEOUT_S", 3600)?),
        engines,
        dir,
        python,
        keep: std::env::var("AUDIT_KEEP").is_ok_and(|v| v == "1"),
    })
}

fn parent() -> Result<ExitCode, String> {
    let cfg = config()?;
    let files = Files { dir: cfg.dir.clone() };
    let t = Instant::now();
    let sizes = data::prepare(&files, cfg.identities, cfg.seed)?;
    println!(
        "inventory: {} identities (seed {}), {} nodes, {} edges; gov JSON {:.1} MB, CSV {:.1} MB, \
         Rego data {:.1} MB; prepared in {:.1} s",
        fmt_int(cfg.identities),
        cfg.seed,
        fmt_int(sizes.nodes),
        fmt_int(sizes.edges),
        sizes.gov_bytes as f64 / 1e6,
        sizes.csv_bytes as f64 / 1e6,
        sizes.rego_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    std::fs::write(files.dir.join("load.sql"), engines::duck_load_sql(&files))
        .map_err(|e| e.to_string())?;
    let code = compare(&cfg, &files);
    if !cfg.keep {
        let _ = std::fs::remove_dir_all(&cfg.dir);
    }
    code
}

fn compare(cfg: &Config, files: &Files) -> Result<ExitCode, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // One engine in a child process; `None` when it ran past the timeout.
    let run_child = |engine: &str, dir: &Path, failures: bool, timeout: Duration| {
        let mut cmd = if let Some(script) = python_script(engine) {
            let mut c = Command::new(&cfg.python);
            c.arg(engines::crate_dir().join("py").join(script))
                .arg(dir)
                .arg(data::rfc3339(data::NOW))
                .args(RULES);
            c
        } else {
            let mut c = Command::new(&exe);
            c.arg("engine").arg(engine).arg(dir);
            c
        };
        if failures {
            cmd.arg("--failures");
        }
        wait_child(cmd, engine, timeout)
    };
    // 1. Agreement, before anything is timed.
    let mut engines = Vec::new();
    let mut sets: Vec<(String, BTreeSet<(String, String)>)> = Vec::new();
    for e in &cfg.engines {
        match run_child(e, &files.dir, true, cfg.timeout)? {
            Some(_) => {
                sets.push((e.clone(), read_failures(&files.failures(e))?));
                engines.push(e.clone());
            }
            None => println!(
                "{e}: no answer within {} s (AUDIT_TIMEOUT_S): left out of the agreement check and the timings",
                cfg.timeout.as_secs()
            ),
        }
    }
    let Some((_, gov)) = sets.first() else {
        return Err("gov did not finish".into());
    };
    let mut agree = true;
    for (name, set) in sets.iter().skip(1) {
        for (label, diff) in [
            ("gov only", gov.difference(set)),
            (&format!("{name} only") as &str, set.difference(gov)),
        ]
        .map(|(l, d)| (l.to_owned(), d.collect::<Vec<_>>()))
        {
            if diff.is_empty() {
                continue;
            }
            agree = false;
            println!("DISAGREEMENT gov vs {name}: {} failures {label}", diff.len());
            for (rule, id) in diff.iter().take(10) {
                println!("  {rule}\t{id}");
            }
        }
    }
    print_rule_counts(&sets);
    if !agree {
        println!("the engines disagree: nothing timed");
        return Ok(ExitCode::from(1));
    }
    println!(
        "agreement: {} (rule, entity) failures, identical in {}",
        fmt_int(gov.len() as u64),
        engines.join(", ")
    );

    // 2. Timed passes, interleaved across engines.
    let mut results: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for pass in 1..=cfg.passes {
        for e in &engines {
            let r = run_child(e, &files.dir, false, cfg.timeout)?
                .ok_or_else(|| format!("{e} timed out in pass {pass}"))?;
            eprintln!(
                "pass {pass} {e}: setup {:.2} s, eval {:.2} s",
                r["setup_wall"].as_f64().unwrap_or(0.0),
                r["eval_wall"].as_f64().unwrap_or(0.0)
            );
            results.entry(e.clone()).or_default().push(r);
        }
    }
    report(cfg, &engines, &results);
    Ok(ExitCode::SUCCESS)
}

/// The Python script of an engine that runs in Python.
fn python_script(engine: &str) -> Option<&'static str> {
    match engine {
        "opa" => Some("opa_engine.py"),
        "duckdb-py" => Some("duckdb_engine.py"),
        _ => None,
    }
}

fn read_failures(p: &Path) -> Result<BTreeSet<(String, String)>, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(r, id)| (r.to_owned(), id.to_owned()))
        .collect())
}

fn print_rule_counts(sets: &[(String, BTreeSet<(String, String)>)]) {
    print!("\n| rule |");
    for (name, _) in sets {
        print!(" {name} |");
    }
    print!("\n|---|");
    for _ in sets {
        print!("---:|");
    }
    println!();
    for rule in RULES {
        print!("| {rule} |");
        for (_, set) in sets {
            print!(" {} |", fmt_int(set.iter().filter(|(r, _)| r == rule).count() as u64));
        }
        println!();
    }
    println!();
}

/// Runs one engine in a child process; `None` when it ran past `timeout`.
fn wait_child(
    mut cmd: Command,
    engine: &str,
    timeout: Duration,
) -> Result<Option<serde_json::Value>, String> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| format!("starting {engine}: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    }
    if !status.success() {
        return Err(format!("{engine} failed ({status})"));
    }
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| format!("{engine}: no result in its output"))?;
    serde_json::from_str(line).map(Some).map_err(|e| format!("{engine}: {e}"))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

fn stat(runs: &[serde_json::Value], key: &str) -> f64 {
    median(runs.iter().map(|r| r[key].as_f64().unwrap_or(0.0)).collect())
}

fn rule_wall(runs: &[serde_json::Value], rule: &str) -> f64 {
    median(
        runs.iter()
            .filter_map(|r| r["rules"].as_array())
            .filter_map(|rs| rs.iter().find(|x| x["rule"] == rule))
            .map(|x| x["wall"].as_f64().unwrap_or(0.0))
            .collect(),
    )
}

fn report(cfg: &Config, engines: &[String], results: &BTreeMap<String, Vec<serde_json::Value>>) {
    let empty = Vec::new();
    let runs = |e: &str| results.get(e).unwrap_or(&empty);
    let gov = runs("gov");
    let checks = stat(gov, "checks");
    let (g_setup, g_eval) = (stat(gov, "setup_wall"), stat(gov, "eval_wall"));
    println!(
        "\n{} identities, {} (rule, entity) checks; median of {} interleaved passes; \
         ratios: the engine's time / gov's time in the same run\n",
        fmt_int(cfg.identities),
        fmt_int(checks as u64),
        cfg.passes
    );
    println!(
        "| engine | setup wall | setup CPU | eval wall | eval CPU | checks/s (eval wall) | peak RSS | setup vs gov | eval vs gov |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for e in engines {
        let r = runs(e);
        let (setup, eval) = (stat(r, "setup_wall"), stat(r, "eval_wall"));
        println!(
            "| {e} | {} | {} | {} | {} | {} | {:.2} GiB | {} | {} |",
            secs(setup),
            secs(stat(r, "setup_cpu")),
            secs(eval),
            secs(stat(r, "eval_cpu")),
            fmt_int((checks / eval.max(1e-9)) as u64),
            stat(r, "peak_rss") / (1u64 << 30) as f64,
            ratio(setup, g_setup),
            ratio(eval, g_eval),
        );
    }
    print!("\nevaluation wall time by rule\n\n| rule |");
    for e in engines {
        print!(" {e} |");
    }
    print!("\n|---|");
    for _ in engines {
        print!("---:|");
    }
    println!();
    for rule in RULES {
        let g = rule_wall(gov, rule);
        print!("| {rule} |");
        for e in engines {
            let w = rule_wall(runs(e), rule);
            if e == "gov" {
                print!(" {} |", secs(w));
            } else {
                print!(" {} ({}) |", secs(w), ratio(w, g));
            }
        }
        println!();
    }
    let _ = std::io::stdout().flush();
}

fn secs(s: f64) -> String {
    if s < 1.0 { format!("{:.1} ms", s * 1e3) } else { format!("{s:.2} s") }
}

fn ratio(x: f64, gov: f64) -> String {
    if gov <= 0.0 { "-".into() } else { format!("{:.1}x", x / gov) }
}

fn fmt_int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small inventory in a directory of its own, removed when dropped.
    struct Prepared(Files);

    impl Prepared {
        fn new(identities: u64) -> Prepared {
            let dir = std::env::temp_dir()
                .join(format!("gov-compare-audit-test-{}-{identities}", std::process::id()));
            let files = Files { dir };
            data::prepare(&files, identities, 7).expect("prepare");
            Prepared(files)
        }
    }

    impl Drop for Prepared {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0.dir);
        }
    }

    fn failures(engine: &str, files: &Files) -> BTreeMap<&'static str, BTreeSet<String>> {
        let mut e = Engine::setup(engine, files).expect("setup");
        RULES
            .iter()
            .map(|r| (*r, e.audit_rule(r).expect("audit").0.into_iter().collect()))
            .collect()
    }

    /// gov and Rego (and the SQL, where DuckDB is built in) find the same
    /// failures, rule by rule, and every rule both fails and passes somewhere.
    #[test]
    fn engines_agree_and_every_rule_matters() {
        let p = Prepared::new(3_000);
        let gov = failures("gov", &p.0);
        let mut others = vec![("regorus", failures("regorus", &p.0))];
        if cfg!(feature = "duckdb") {
            others.push(("duckdb", failures("duckdb", &p.0)));
        }
        for rule in RULES {
            let n = gov[rule].len();
            assert!(n > 0, "{rule} fails nowhere");
            let scope = if rule.contains("credential") { 4_000 } else { 2_400 };
            assert!(n < scope, "{rule} fails {n} times: (nearly) everywhere");
            for (name, other) in &others {
                assert_eq!(gov[rule], other[rule], "{rule}: gov and {name} differ");
            }
        }
    }

    /// The SQL and the Rego name the six rules, in the same order.
    #[test]
    fn policies_define_the_six_rules() {
        let sql = std::fs::read_to_string(engines::crate_dir().join("policy/audit.sql")).unwrap();
        let names: Vec<&str> =
            sql.split("\n-- rule: ").skip(1).filter_map(|p| p.lines().next()).collect();
        assert_eq!(names, RULES);
        let rego = std::fs::read_to_string(engines::crate_dir().join("policy/audit.rego")).unwrap();
        for rule in RULES {
            let head = format!("\n{} contains id if {{", rule.replace('-', "_"));
            assert!(rego.contains(&head), "audit.rego has no {head}");
        }
    }
}
