//! Arbitrary bytes as a native JSON inventory: a graph or diagnostics that
//! render, never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/ingest.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::load_native("fuzz.json", data));
