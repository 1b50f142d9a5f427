//! Arbitrary bytes as a native YAML inventory: within the YAML limits
//! (aliases, nesting) a graph or diagnostics, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/ingest.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::load_native("fuzz.yaml", data));
