//! Load benchmark: generates a synthetic inventory (1,000,000 identities by
//! default; `GOV_BENCH_IDENTITIES` overrides), loads it, and reports load
//! throughput in MB/s of native JSON, peak memory, and graph memory per node
//! and per edge. Run with `cargo bench --bench load`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::time::Instant;

use gov::graph::{GraphBuilder, Mode, Schema};
use gov::ingest;
use gov::ingest::generate::{GenOptions, generate};
use gov::source::SourceFile;

/// A field of /proc/self/status in kB (Linux only; 0 elsewhere).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds (user + system, all threads) this process has used, from
/// /proc/self/stat (Linux; 0 elsewhere). Clock ticks are 1/100 s on Linux.
fn cpu_seconds() -> f64 {
    stat_cpu("/proc/self/stat")
}

/// CPU seconds of this (the loading) thread only.
fn thread_cpu_seconds() -> f64 {
    stat_cpu("/proc/thread-self/stat")
}

fn stat_cpu(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    // Fields after the command name start at field 3 (state); utime and stime are fields 14 and 15.
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (field(11) + field(12)) / 100.0
}

fn mb(b: f64) -> f64 {
    b / 1e6
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let identities: u64 = std::env::var("GOV_BENCH_IDENTITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.json");

    let t = Instant::now();
    let stats = generate(
        &GenOptions { identities, seed: 42, ..GenOptions::default() },
        std::fs::File::create(&path).unwrap(),
    )
    .unwrap();
    let gen_s = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).unwrap().len() as f64;
    println!(
        "generated {identities} identities: {} nodes, {} edges, {:.1} MB of JSON in {gen_s:.1} s",
        stats.nodes,
        stats.edges,
        mb(size)
    );

    let rss_before = status_kb("VmRSS:");
    let t = Instant::now();
    let text = std::fs::read_to_string(&path).unwrap();
    let read_s = t.elapsed().as_secs_f64();
    let src = SourceFile::new(path.display().to_string(), text);
    let t = Instant::now();
    let cpu = cpu_seconds();
    let main_cpu = thread_cpu_seconds();
    // What `ingest::load_sources` does for one native file, timed in two parts.
    let mut builder = GraphBuilder::new(Schema::builtin());
    ingest::native::read(&mut builder, src);
    let read_records_s = t.elapsed().as_secs_f64();
    let (records_cpu, records_main) = (cpu_seconds() - cpu, thread_cpu_seconds() - main_cpu);
    let loaded = builder.finish(Mode::Strict).unwrap();
    let load_s = t.elapsed().as_secs_f64();
    let load_cpu = cpu_seconds() - cpu;
    let main_cpu = thread_cpu_seconds() - main_cpu;
    let g = &loaded.graph;
    assert_eq!(g.node_count() as u64, stats.nodes);
    assert_eq!(g.edge_count() as u64, stats.edges);
    let rss_after = status_kb("VmRSS:");
    let hwm = status_kb("VmHWM:");

    let heap = g.heap_bytes() as f64;
    let (node_bytes, edge_bytes) = g.heap_split();
    println!(
        "records: {read_records_s:.2} s, freeze (resolve edges, petgraph, CSR): {:.2} s",
        load_s - read_records_s
    );
    println!("read file:        {read_s:.2} s ({:.0} MB/s)", mb(size) / read_s);
    println!("parse + build:    {load_s:.2} s ({:.0} MB/s of native JSON)", mb(size) / load_s);
    println!(
        "read + load:      {:.2} s ({:.0} MB/s)",
        read_s + load_s,
        mb(size) / (read_s + load_s)
    );
    println!(
        "CPU time of load: {load_cpu:.2} s, both threads ({:.0} MB per CPU-second)",
        mb(size) / load_cpu.max(0.01)
    );
    println!(
        "  of which the loading thread: {main_cpu:.2} s; the others (parsing, CSR): {:.2} s",
        load_cpu - main_cpu
    );
    println!(
        "  on an idle machine the load takes about the loading thread's CPU time: {:.0} MB/s",
        mb(size) / main_cpu.max(load_cpu - main_cpu).max(0.01)
    );
    // Records: the two threads run side by side, the longer one sets the
    // pace; freeze: the loading thread, with one CSR direction beside it.
    let freeze_main = main_cpu - records_main;
    let critical = records_main.max(records_cpu - records_main) + freeze_main;
    println!(
        "  records: loading thread {records_main:.2} s, parsing thread {:.2} s; freeze: loading thread {freeze_main:.2} s",
        records_cpu - records_main
    );
    println!(
        "  critical path (longer thread during records, then freeze): {critical:.2} s = {:.0} MB/s on an idle 2-core machine",
        mb(size) / critical.max(0.01)
    );
    println!(
        "machine load:     {} (loadavg while measuring; the machine has {} cores)",
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "graph memory:     {:.1} MB = {:.2}x the JSON on disk (heap accounting)",
        mb(heap),
        heap / size
    );
    println!(
        "  per node:       {:.0} B (ids, index, columns, strings, provenance)",
        node_bytes as f64 / stats.nodes as f64
    );
    println!(
        "  per edge:       {:.0} B (petgraph, CSR out+in, label, provenance)",
        edge_bytes as f64 / stats.edges as f64
    );
    println!(
        "RSS after load:   {:.1} MB (text freed; was {:.1} MB before reading)",
        rss_after as f64 / 1e3,
        rss_before as f64 / 1e3
    );
    println!(
        "peak RSS (VmHWM): {:.1} MB (includes the {:.1} MB source text held during the load)",
        hwm as f64 / 1e3,
        mb(size)
    );
    let q = Instant::now();
    let s = g.schema();
    let (owned_by, identity) = (s.edge_kind("owned_by").unwrap(), s.kind("identity").unwrap());
    let orphans =
        g.nodes_of_kind(identity).iter().filter(|n| g.out(**n, owned_by).is_empty()).count();
    println!(
        "scan {} identities for owners: {:.1} ms ({orphans} without)",
        g.nodes_of_kind(identity).len(),
        q.elapsed().as_secs_f64() * 1e3
    );
}
