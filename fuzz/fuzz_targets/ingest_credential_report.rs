//! Arbitrary bytes as an AWS IAM credential report (CSV), converted and loaded:
//! records or diagnostics, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common/ingest.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::convert(gov::ingest::Format::AwsCredentialReport, "fuzz.csv", data));
