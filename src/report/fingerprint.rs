//! Stable finding fingerprints, so that CI systems (GitHub code scanning,
//! GitLab) and `gov diff` recognise the same finding across runs and edits.
//!
//! What a fingerprint covers, exactly: the rule id, the entity's kind and the
//! entity's id, joined with a 0x1F unit separator, hashed with FNV-1a 64
//! ([`crate::hash`]) and written as 16 lowercase hex digits. Nothing else. So it stays the same when
//! policy files are reordered, renamed or reformatted, when a message or help
//! text is edited, when the rule's severity, enforcement or conditions change,
//! when an exception starts or stops waiving it, and when other rules are
//! added or removed; it changes when the rule id, the entity kind or the
//! entity id changes (a renamed rule's findings are new findings).
//!
//! Must not: change the bytes it hashes without bumping `FINGERPRINT_KEY`'s
//! version: stored fingerprints would stop matching.

use crate::eval::Finding;

/// The SARIF `partialFingerprints` key (and the JSON report's name for it).
pub const FINGERPRINT_KEY: &str = "govFindingHash/v1";

use crate::hash::Fnv64;
pub use crate::hash::fnv1a64;

/// The fingerprint of (rule, entity kind, entity id), as 16 lowercase hex digits.
///
/// The parts are joined with a 0x1F unit separator so that `a` + `bc` and
/// `ab` + `c` hash differently.
pub fn fingerprint(rule: &str, entity_kind: &str, entity: &str) -> String {
    hex16(value(rule, entity_kind, entity))
}

/// The fingerprint of (rule, entity kind, entity id) as a number: what
/// [`fingerprint`] writes in hex, for joins that need no text.
pub fn value(rule: &str, entity_kind: &str, entity: &str) -> u64 {
    // The hash of the joined bytes, fed part by part (no joined copy).
    Fnv64::default()
        .write(rule.as_bytes())
        .write(&[0x1f])
        .write(entity_kind.as_bytes())
        .write(&[0x1f])
        .write(entity.as_bytes())
        .finish()
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
