//! Arbitrary bytes as a Google Cloud IAM export (a policy, a service-account
//! list or a key list, told apart by content), converted and loaded: records
//! or diagnostics, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/ingest.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::convert(gov::ingest::Format::Gcp, "fuzz.json", data));
