//! Stable finding fingerprints, so that CI systems (GitHub code scanning,
//! GitLab) recognise the same finding across runs and edits.
//!
//! The fingerprint hashes what identifies a finding to a reviewer, the rule id
//! and the entity (kind and id), and nothing that moves when files are edited
//! (no line numbers, no messages). The hash is FNV-1a 64, written here so that
//! its value is fixed by this file and not by a hasher whose output may change
//! between Rust releases (`DefaultHasher` documents that it may).
//!
//! Must not: change the bytes it hashes without bumping `FINGERPRINT_KEY`'s
//! version: stored fingerprints would stop matching.

use crate::eval::Finding;

/// The SARIF `partialFingerprints` key (and the JSON report's name for it).
pub const FINGERPRINT_KEY: &str = "govFindingHash/v1";

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits, over `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME))
}

/// The fingerprint of (rule, entity kind, entity id), as 16 lowercase hex digits.
///
/// The parts are joined with a 0x1F unit separator so that `a` + `bc` and
/// `ab` + `c` hash differently.
pub fn fingerprint(rule: &str, entity_kind: &str, entity: &str) -> String {
    hex16(hash(rule, entity_kind, entity))
}

/// The fingerprint of (rule, entity kind, entity id) as a number (what
/// [`fingerprint`] writes in hex).
pub fn hash(rule: &str, entity_kind: &str, entity: &str) -> u64 {
    // The hash of the joined bytes, folded part by part (no joined copy).
    let step = |h: u64, b: &u8| (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME);
    let mut h = rule.as_bytes().iter().fold(FNV_OFFSET, step);
    h = step(h, &0x1f);
    h = entity_kind.as_bytes().iter().fold(h, step);
    h = step(h, &0x1f);
    entity.as_bytes().iter().fold(h, step)
}

/// `h` as 16 lowercase hex digits (what `{:016x}` writes).
pub fn hex16(h: u64) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..16)
        .rev()
        .map(|i| char::from(DIGITS.get(((h >> (i * 4)) & 0xf) as usize).copied().unwrap_or(b'0')))
        .collect()
}

/// The fingerprint of a finding.
pub fn of(f: &Finding) -> String {
    fingerprint(&f.rule, &f.entity_kind, &f.entity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprints_are_fixed_and_separate_their_parts() {
        // Pinned: a change here breaks every stored fingerprint.
        assert_eq!(fingerprint("owner-required", "identity", "svc-billing"), "d5985c08eadbe79e");
        assert_ne!(fingerprint("a", "b", "cd"), fingerprint("a", "bc", "d"));
    }

    #[test]
    fn hex_digits_are_what_format_writes() {
        for h in [0, 1, 0xf, 0x10, 0xabc, 0x0123_4567_89ab_cdef, u64::MAX, fnv1a64(b"x")] {
            assert_eq!(hex16(h), format!("{h:016x}"));
        }
    }
}
