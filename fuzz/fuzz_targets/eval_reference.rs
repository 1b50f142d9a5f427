//! Evaluation agrees with the reference interpreter (`tests/reference`) on
//! random small graphs and random well-typed policies, as the differential
//! proptests check, but coverage-guided.
//!
//! Input: one byte for the number of nodes (3 to 12), five bytes per node,
//! one byte for the number of edges (0 to 24), five bytes per edge; every
//! byte left is one choice of the policy generator.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/reference/mod.rs"]
mod reference;

use reference::generate::{differ, make_graph, make_policy};

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.iter().copied();
    let mut next = || bytes.next().unwrap_or(0);
    let n = 3 + usize::from(next()) % 10;
    let nodes: Vec<(u8, u32)> = (0..n)
        .map(|_| (next() % 4, u32::from_le_bytes([next(), next(), next(), next()])))
        .collect();
    let m = usize::from(next()) % 25;
    let edges: Vec<(u8, u16, u16)> = (0..m)
        .map(|_| (next() % 5, u16::from_le_bytes([next(), next()]), u16::from_le_bytes([next(), next()])))
        .collect();
    let used = 2 + 5 * n + 5 * m;
    let choices: Vec<u32> = data.iter().skip(used).take(160).map(|b| u32::from(*b)).collect();
    let g = make_graph(&nodes, &edges);
    let policy = make_policy(&choices);
    if let Err(e) = differ(&policy, &g) {
        panic!("{e}");
    }
});
