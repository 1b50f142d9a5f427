//! `gov lsp` latency on a workspace of 1,000 rules (20 files of 50 rules,
//! plus one file of exceptions that names rules of the others).
//!
//! The server runs in-process on an in-memory connection; the client sends
//! real JSON-RPC messages. Measured: from a `didChange` (one edit in one
//! rule) to the `publishDiagnostics` it causes, debounce included; and the
//! answer time of hover, definition and completion requests. The baseline,
//! measured in the same run, is the library alone checking the same 1,000
//! rules (`gov::check::compile` on already parsed files): the floor under
//! any change's diagnostics.
//!
//! Run with `cargo bench --bench lsp`. Compare only figures from one run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};

const FILES: usize = 20;
const RULES_PER_FILE: usize = 50;
const CHANGES: usize = 60;
const REQUESTS: usize = 300;

fn rule(f: usize, r: usize) -> String {
    format!(
        "/// Rule {r} of file {f}: credentials are rotated.\nrule rule-{f}-{r} {{\n  severity high\n  enforce hard\n  for c: credential where not c.ephemeral\n  let limit = {days}d\n  require c has rotated_at and now - c.rotated_at <= limit\n  message \"{{c.name}} is old\"\n}}\n\n",
        days = 30 + r
    )
}

fn file_text(f: usize) -> String {
    let mut s = format!("package bench.f{f}\n\n");
    for r in 0..RULES_PER_FILE {
        s.push_str(&rule(f, r));
    }
    s
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Client {
    conn: Connection,
    id: i32,
}

impl Client {
    fn send_request(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        let id = RequestId::from(self.id);
        self.conn
            .sender
            .send(Message::Request(Request::new(id.clone(), method.into(), params)))
            .unwrap();
        loop {
            if let Message::Response(r) = self.conn.receiver.recv().unwrap()
                && r.id == id
            {
                return r.response_result.unwrap();
            }
        }
    }

    fn notify(&self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(method.into(), params)))
            .unwrap();
    }

    fn wait_diagnostics(&self, uri: &str) -> Value {
        loop {
            if let Message::Notification(n) = self.conn.receiver.recv().unwrap()
                && n.method == "textDocument/publishDiagnostics"
                && n.params["uri"] == uri
            {
                return n.params["diagnostics"].clone();
            }
        }
    }
}

fn report(name: &str, mut samples: Vec<Duration>, baseline: Duration) {
    samples.sort();
    let p50 = percentile(&samples, 0.5);
    let p99 = percentile(&samples, 0.99);
    println!(
        "| {name} | {:.2} | {:.2} | {:.2}x |",
        ms(p50),
        ms(p99),
        p99.as_secs_f64() / baseline.as_secs_f64()
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut texts = Vec::new();
    for f in 0..FILES {
        let t = file_text(f);
        std::fs::write(dir.path().join(format!("f{f}.gov")), &t).unwrap();
        texts.push(t);
    }
    let mut exc = String::from("package bench.exceptions\n\n");
    for f in 0..FILES {
        exc.push_str(&format!(
            "exception e{f} {{\n  rule rule-{f}-0\n  when c.name == \"x\"\n  until 2099-01-01\n  approved_by \"a@example.com\"\n  reason \"r\"\n}}\n\n"
        ));
    }
    std::fs::write(dir.path().join("exceptions.gov"), &exc).unwrap();

    // Baseline: the checker alone over the same files, parsed once.
    let parsed: Vec<_> = texts
        .iter()
        .chain([&exc])
        .enumerate()
        .map(|(i, t)| {
            gov::syntax::parse(&gov::SourceFile::new(format!("f{i}.gov"), t.clone())).unwrap()
        })
        .collect();
    let schema = gov::graph::Schema::builtin();
    let options = gov::check::Options { now: gov::time::Timestamp::parse("2026-06-01").unwrap() };
    let mut base = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        gov::check::compile(&parsed, &schema, &options).unwrap();
        base.push(t.elapsed());
    }
    base.sort();
    let baseline = percentile(&base, 0.5);

    let (server, conn) = Connection::memory();
    let thread = std::thread::spawn(move || gov::lsp::serve(&server).unwrap());
    let mut c = Client { conn, id: 0 };
    let root = gov::lsp::path_to_uri(dir.path());
    c.send_request(
        "initialize",
        json!({"processId": null, "rootUri": root, "capabilities": {}, "initializationOptions": {"now": "2026-06-01"}}),
    );
    c.notify("initialized", json!({}));
    let uri = gov::lsp::path_to_uri(&dir.path().join("f7.gov"));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "gov", "version": 1, "text": texts[7]}}),
    );
    c.wait_diagnostics(&uri);

    // Change to diagnostics: alternately break and fix one attribute name.
    let mut changes = Vec::new();
    for v in 0..CHANGES {
        let text = if v % 2 == 0 {
            texts[7].replacen("c.rotated_at <= limit", "c.rotatd_at <= limit", 1)
        } else {
            texts[7].clone()
        };
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v + 2}, "contentChanges": [{"text": text}]}),
        );
        let d = c.wait_diagnostics(&uri);
        changes.push(t.elapsed());
        assert_eq!(d.as_array().unwrap().len(), usize::from(v % 2 == 0));
    }

    let text = &texts[7];
    let line_of = |needle: &str, nth: usize| -> (usize, usize) {
        let at = text.match_indices(needle).nth(nth).unwrap().0;
        let line = text[..at].matches('\n').count();
        (line, at - text[..at].rfind('\n').map_or(0, |i| i + 1))
    };
    let mut timed = |method: &str, needle: &str, delta: usize| {
        let mut out = Vec::new();
        for i in 0..REQUESTS {
            let (line, col) = line_of(needle, i % RULES_PER_FILE);
            let t = Instant::now();
            let r = c.send_request(
                method,
                json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col + delta}}),
            );
            out.push(t.elapsed());
            assert!(!r.is_null(), "{method} answered nothing");
        }
        out
    };
    let hover = timed("textDocument/hover", "c.rotated_at <=", 3);
    let definition = timed("textDocument/definition", "<= limit", 4);
    let completion = timed("textDocument/completion", "c.ephemeral", 2);

    println!(
        "workspace: {} rules in {} files; baseline (checker alone, p50): {:.2} ms",
        FILES * RULES_PER_FILE,
        FILES + 1,
        ms(baseline)
    );
    println!();
    println!("| measure | p50 ms | p99 ms | p99 / baseline |");
    println!("|---|---|---|---|");
    report("change → diagnostics", changes, baseline);
    report("hover", hover, baseline);
    report("definition", definition, baseline);
    report("completion", completion, baseline);

    c.send_request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    thread.join().unwrap();
}
