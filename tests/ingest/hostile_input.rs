//! Small hostile inputs cannot exhaust `gov`: each ends within seconds, under
//! a 4 GB address-space limit, with a located diagnostic and a non-zero exit.
//! The inputs are generated here (none is committed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../support/cli.rs"]
mod cli_support;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// What a run left behind.
struct Run {
    code: Option<i32>,
    stderr: String,
    stderr_bytes: u64,
}

/// Runs `gov ARGS` under `ulimit -v 4000000` (as the reproduction
/// did), killing it after `limit`: a run that takes longer fails the test.
fn gov_limited(args: &[&str], limit: Duration) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let err_path = dir.path().join("stderr");
    let err = std::fs::File::create(&err_path).unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4000000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_gov"))
        .args(args)
        .env("GOV_ERROR_FORMAT", "human")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap();
    let Some(status) = cli_support::wait_for(&mut child, limit) else {
        panic!("`gov {}` still running after {limit:?}", args.join(" "));
    };
    let stderr_bytes = std::fs::metadata(&err_path).unwrap().len();
    let mut stderr = String::new();
    std::fs::File::open(&err_path)
        .unwrap()
        .take(64 * 1024)
        .read_to_string(&mut stderr)
        .unwrap_or_default();
    Run { code: status.code(), stderr, stderr_bytes }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn yaml_alias_amplification_is_refused() {
    // One anchored 1,000-item list referenced 100,000 times (406 KB): a
    // hundred million values once expanded.
    let dir = tempfile::tempdir().unwrap();
    let list = vec!["x"; 1000].join(", ");
    let refs = vec!["*a"; 100_000].join(", ");
    let text = format!(
        "format: gov.inventory/v1\nmetadata:\n  base: &a [{list}]\n  refs: [{refs}]\nnodes: []\n"
    );
    let path = write(dir.path(), "aliases.yaml", &text);
    let run = gov_limited(&["graph", "stats", &path], LIMIT);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(run.stderr.contains("gov::ingest::yaml_alias_limit"), "{}", run.stderr);
    assert!(run.stderr.contains("aliases.yaml:"), "located: {}", run.stderr);
}

#[test]
fn deep_yaml_nesting_is_refused() {
    for (name, nested) in [
        ("flow.yaml", format!("{}{}", "[".repeat(200_000), "]".repeat(200_000))),
        ("block.yaml", format!("\n{}x", "- ".repeat(100_000))),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("format: gov.inventory/v1\nmetadata: {nested}\nnodes: []\n");
        let path = write(dir.path(), name, &text);
        let run = gov_limited(&["graph", "stats", &path], LIMIT);
        assert_eq!(run.code, Some(4), "{name}: {}", run.stderr);
        assert!(run.stderr.contains("gov::ingest::yaml_too_deep"), "{name}: {}", run.stderr);
        assert!(run.stderr.contains(&format!("{name}:")), "located: {}", run.stderr);
    }
}

#[test]
fn a_yaml_inventory_within_the_limits_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let text = "format: gov.inventory/v1\nmetadata:\n  owner: &o {team: [a, b]}\n  copy: *o\nnodes:\n  - {id: alice, kind: identity, attrs: {type: human, tags: [[1]]}}\n";
    let path = write(dir.path(), "ok.yaml", text);
    let run = gov_limited(&["graph", "stats", &path], LIMIT);
    // `tags` is not an attribute of identity: a located error, but not a limit.
    assert!(!run.stderr.contains("yaml_"), "{}", run.stderr);
    let text = "format: gov.inventory/v1\nmetadata:\n  owner: &o {team: [a, b]}\n  copy: *o\nnodes:\n  - {id: alice, kind: identity, attrs: {type: human}}\n";
    let path = write(dir.path(), "ok.yaml", text);
    let run = gov_limited(&["graph", "stats", &path], LIMIT);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn exponential_function_inlining_is_refused() {
    // Each function calls the previous one twice: 2^28 copies of `x` inlined.
    let mut policy = String::from("package p\n\nfn f0(x: int) -> int { x }\n");
    for i in 1..=28 {
        policy.push_str(&format!("fn f{i}(x: int) -> int {{ f{j}(x) + f{j}(x) }}\n", j = i - 1));
    }
    policy.push_str(
        "\nrule r {\n  for s: service\n  require f28(1) > 0\n  message \"{s.name}\"\n}\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "exp.gov", &policy);
    let run = gov_limited(&["check", &path], LIMIT);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("gov::check::inline_too_large"), "{}", run.stderr);
    assert!(run.stderr.contains("exp.gov:"), "located: {}", run.stderr);
}

#[test]
fn functions_called_a_few_times_still_inline() {
    let mut policy = String::from("package p\n\nfn f0(x: int) -> int { x }\n");
    for i in 1..=10 {
        policy.push_str(&format!("fn f{i}(x: int) -> int {{ f{j}(x) + f{j}(x) }}\n", j = i - 1));
    }
    policy.push_str("\nrule r {\n  for s: service\n  require f10(1) == 1024\n}\n");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "ok.gov", &policy);
    let run = gov_limited(&["check", &path], LIMIT);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn a_fifo_is_a_located_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("inventory.json");
    mkfifo(&fifo);
    let fifo = fifo.display().to_string();
    let folder = dir.path().display().to_string();
    for args in [vec!["graph", "stats", &fifo], vec!["graph", "stats", &folder]] {
        let run = gov_limited(&args, LIMIT);
        assert_eq!(run.code, Some(5), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("gov::io::not_a_file"), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(&fifo), "{args:?} names the FIFO: {}", run.stderr);
    }
    // Policies too, and `gov serve -i DIR` does not start.
    let policy_fifo = dir.path().join("p.gov");
    mkfifo(&policy_fifo);
    let run = gov_limited(&["check", &policy_fifo.display().to_string()], LIMIT);
    assert_eq!(run.code, Some(5), "{}", run.stderr);
    assert!(run.stderr.contains("gov::io::not_a_file"), "{}", run.stderr);
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nginx/gateway.gov");
    let policy = policy.display().to_string();
    let run = gov_limited(&["serve", &policy, "-i", &folder, "--listen", "127.0.0.1:0"], LIMIT);
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("gov::io::not_a_file"), "{}", run.stderr);
}

#[test]
fn invalid_utf8_in_an_inventory_is_one_ingest_error_with_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, b"{\"format\": \"gov.inventory/v1\", \"nodes\": [\"\xff\"]}").unwrap();
    let path = path.display().to_string();
    let policy = write(
        dir.path(),
        "p.gov",
        "package p\n\nrule r {\n  for s: service\n  require s.tier >= 0\n}\n",
    );
    for args in [vec!["graph", "stats", &path], vec!["eval", &policy, "-i", &path]] {
        let run = gov_limited(&args, LIMIT);
        assert_eq!(run.code, Some(4), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("gov::ingest::invalid_utf8"), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_minified_opengraph_file_writes_little_output() {
    // The real GitHound sample, minified to one line and without its nodes:
    // 2,763 unresolved edges, each of which used to print the whole line.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/realdata/opengraph_github__githound_O_kgDOCoV2OQ.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sample).unwrap()).unwrap();
    value["graph"]["nodes"] = serde_json::json!([]);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "min.json", &serde_json::to_string(&value).unwrap());
    for format in ["human", "plain"] {
        let run = gov_limited(&["--error-format", format, "graph", "stats", &path], LIMIT);
        assert!(
            run.stderr_bytes < 1_000_000,
            "{format}: {} bytes of diagnostics",
            run.stderr_bytes
        );
        assert!(run.stderr.contains("gov::report::omitted"), "{format}: {}", run.stderr);
        assert!(run.stderr.contains("more `gov::ingest::unresolved_edge`"), "{}", run.stderr);
    }
}

#[test]
fn a_request_file_with_a_byte_order_mark_is_read_as_serve_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "req.json",
        "\u{feff}{\"decision\": \"call-service\", \"input\": {\"subject\": \"alice\", \"target\": \"payments\", \"action\": \"GET\"}}",
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policy = root.join("examples/nginx/gateway.gov").display().to_string();
    let inventory = root.join("examples/nginx/inventory.json").display().to_string();
    let run = gov_limited(&["decide", &policy, "-i", &inventory, "--request", &path], LIMIT);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

/// Found while fuzzing: every dangling edge searched every node id for a
/// "did you mean" (an edit distance each), so an inventory of 20,000 nodes
/// and 20,000 edges to ids of the same length cost 400 million distances,
/// and each diagnostic counted lines from the start of the file.
/// Hints are now budgeted per load and lines are indexed; every edge is
/// still reported.
#[test]
fn many_dangling_edges_do_not_search_every_id_each() {
    let dir = tempfile::tempdir().unwrap();
    let n = 10_000;
    let mut text = String::from("{\"format\": \"gov.inventory/v1\", \"nodes\": [");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!("{{\"id\": \"node-{i:06}\", \"kind\": \"group\"}}"));
    }
    text.push_str("], \"edges\": [");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            "{{\"from\": \"node-{i:06}\", \"to\": \"gone-{i:06}\", \"kind\": \"member_of\"}}"
        ));
    }
    text.push_str("]}");
    let path = write(dir.path(), "dangling.json", &text);
    let run = gov_limited(&["--error-format", "json", "graph", "stats", &path], LIMIT);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(run.stderr.contains("gov::ingest::dangling_edge"), "{}", run.stderr);
    assert!(run.stderr.contains("dangling.json"), "located: {}", run.stderr);
}
