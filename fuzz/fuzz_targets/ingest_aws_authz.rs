//! Arbitrary bytes as AWS IAM authorization details (JSON), converted and loaded:
//! records or diagnostics, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/ingest.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::convert(gov::ingest::Format::AwsAuthz, "fuzz.json", data));
