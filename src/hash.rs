//! FNV-1a 64: the one stable hash for values gov writes down and compares
//! later (finding fingerprints, a policy set's revision, history record
//! checksums). Written here so that its output is fixed by this file and not
//! by a hasher that may change between Rust releases (`DefaultHasher`
//! documents that it may). Not for hash tables: those use the graph's and
//! std's hashers.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// An FNV-1a 64 hash fed in parts.
#[derive(Clone, Copy, Debug)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(OFFSET)
    }
}

impl Fnv64 {
    /// Feeds `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> &mut Self {
        self.0 = bytes.iter().fold(self.0, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME));
        self
    }

    /// The hash of everything fed so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// FNV-1a 64 over `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    Fnv64::default().write(bytes).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_hash_as_their_concatenation() {
        // The reference vectors are pinned in `report::fingerprint`.
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(Fnv64::default().write(b"foo").write(b"bar").finish(), fnv1a64(b"foobar"));
    }
}
