//! Arbitrary bytes as a recorded run (`gov eval --history`): a run or a
//! located error, never a panic or an allocation sized by the file; a run
//! that decodes encodes to a record that decodes to the same run.
//!
//! Each input is tried twice: as a whole file, and as the body of a record
//! whose header is valid (length and checksum computed here), so that the
//! checksum does not stop the fuzzer before the body's decoder.
#![no_main]

use gov::history::codec::{HEADER_LEN, VERSION, decode, encode};
use libfuzzer_sys::fuzz_target;

fn check(bytes: &[u8]) {
    match decode(bytes) {
        Ok(run) => {
            let again = decode(&encode(&run));
            assert_eq!(again.as_ref().ok(), Some(&run), "a decoded run does not survive encoding");
        }
        Err(e) => {
            assert!(e.offset <= bytes.len(), "error offset {} past the end ({})", e.offset, bytes.len());
            assert!(!e.what.is_empty());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut record = Vec::with_capacity(HEADER_LEN + data.len());
    // The magic bytes and version, as the codec's module documents them.
    record.extend_from_slice(b"GOVRUN\0");
    record.push(VERSION);
    record.extend_from_slice(&1_780_000_000i64.to_le_bytes());
    record.extend_from_slice(&(data.len() as u64).to_le_bytes());
    record.extend_from_slice(&gov::hash::fnv1a64(data).to_le_bytes());
    record.extend_from_slice(data);
    check(&record);
});
