//! Arbitrary bytes as a BloodHound OpenGraph file (JSON), converted and loaded:
//! records or diagnostics, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/ingest.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::convert(gov::ingest::Format::OpenGraph, "fuzz.json", data));
