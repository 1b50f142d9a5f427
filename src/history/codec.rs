//! The on-disk form of one recorded run: a small binary record, so that a
//! history of an inventory with a million findings stays tens of megabytes
//! per run (the budget is 40 bytes per finding; a finding costs about 20,
//! plus its entity id once per entity).
//!
//! Layout (integers little-endian, `varint` is unsigned LEB128):
//!
//! ```text
//! magic    8 bytes  "GOVRUN" 0x00 VERSION
//! now      8 bytes  i64, seconds since the Unix epoch
//! length   8 bytes  u64, bytes of the body
//! checksum 8 bytes  FNV-1a 64 of the body
//! body:
//!   strings   varint count, then per string: varint length, UTF-8 bytes
//!   scopes    varint count, then per (rule, service):
//!             rule string, service string + 1 (0: none), checked, passed
//!   findings  varint count, then per finding (in fingerprint order):
//!             fingerprint u64, rule string, entity string,
//!             service string + 1 (0: none), tier zigzag + 1 (0: none),
//!             flags byte (severity 3 bits, enforcement 2, waived 1, error 1),
//!             priority level (0: none), then if a level: within, seconds
//! ```
//!
//! A string field is an index into the run's string table.
//!
//! Must not: trust a byte it reads. Every length is checked against what is
//! left, every index against its table; a bad record is an error with the
//! byte offset, never a panic or an allocation sized by the file.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Run, RunFinding, ScopeRecord, Status};
use crate::domain::{Enforcement, SeverityLevel};
use crate::eval::FindingKind;
use crate::hash::fnv1a64;
use crate::time::{Duration, Timestamp};

/// Format version; a reader refuses other versions.
pub const VERSION: u8 = 1;
const MAGIC: &[u8; 7] = b"GOVRUN\0";
/// Bytes before the body.
pub const HEADER_LEN: usize = 32;

/// Encodes a run.
pub fn encode(run: &Run) -> Vec<u8> {
    let mut strings = Strings::default();
    let mut body = Vec::with_capacity(run.findings.len() * 24 + 1024);
    // Intern first so that the table can be written before its users.
    let scopes: Vec<(u32, u32, u64, u64)> = run
        .scopes
        .iter()
        .map(|s| {
            let r = strings.get(&s.rule);
            let sv = s.service.as_deref().map_or(0, |v| strings.get(v) + 1);
            (r, sv, s.checked, s.passed)
        })
        .collect();
    let findings: Vec<(u32, u32, u32)> = run
        .findings
        .iter()
        .map(|f| {
            let r = strings.get(&f.rule);
            let e = strings.get(&f.entity);
            let sv = f.service.as_deref().map_or(0, |v| strings.get(v) + 1);
            (r, e, sv)
        })
        .collect();
    varint(&mut body, strings.list.len() as u64);
    for s in &strings.list {
        varint(&mut body, s.len() as u64);
        body.extend_from_slice(s.as_bytes());
    }
    varint(&mut body, scopes.len() as u64);
    for (r, s, checked, passed) in scopes {
        varint(&mut body, u64::from(r));
        varint(&mut body, u64::from(s));
        varint(&mut body, checked);
        varint(&mut body, passed);
    }
    varint(&mut body, run.findings.len() as u64);
    for (f, (r, e, s)) in run.findings.iter().zip(findings) {
        body.extend_from_slice(&f.fingerprint.to_le_bytes());
        varint(&mut body, u64::from(r));
        varint(&mut body, u64::from(e));
        varint(&mut body, u64::from(s));
        varint(&mut body, f.tier.map_or(0, |t| zigzag(t).saturating_add(1)));
        body.push(flags(f));
        match f.priority {
            Some((level, within)) => {
                body.push(level);
                varint(&mut body, zigzag(within.0));
            }
            None => body.push(0),
        }
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&run.now.0.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a64(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Why a record could not be read: what, and at which byte of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the file.
    pub offset: usize,
    /// What is wrong (lowercase, no final period).
    pub what: String,
}

/// The `now` of a record, from its header only (for ordering and the
/// clock check without reading the body).
pub fn header_now(bytes: &[u8]) -> Result<Timestamp, DecodeError> {
    header(bytes).map(|(now, _, _)| now)
}

fn header(bytes: &[u8]) -> Result<(Timestamp, u64, u64), DecodeError> {
    let err = |offset, what: &str| DecodeError { offset, what: what.to_owned() };
    if bytes.len() < HEADER_LEN {
        return Err(err(bytes.len(), "the record is truncated in its header"));
    }
    let word = |at: usize| -> [u8; 8] {
        let mut w = [0u8; 8];
        if let Some(s) = bytes.get(at..at + 8) {
            w.copy_from_slice(s);
        }
        w
    };
    if bytes.get(..7) != Some(MAGIC.as_slice()) {
        return Err(err(0, "not a gov run record (bad magic bytes)"));
    }
    let version = bytes.get(7).copied().unwrap_or(0);
    if version != VERSION {
        return Err(DecodeError {
            offset: 7,
            what: format!("record format version {version}, this gov reads version {VERSION}"),
        });
    }
    Ok((
        Timestamp(i64::from_le_bytes(word(8))),
        u64::from_le_bytes(word(16)),
        u64::from_le_bytes(word(24)),
    ))
}

/// Decodes a record.
pub fn decode(bytes: &[u8]) -> Result<Run, DecodeError> {
    let (now, len, checksum) = header(bytes)?;
    let body = bytes.get(HEADER_LEN..).unwrap_or_default();
    if (body.len() as u64) < len {
        return Err(DecodeError {
            offset: bytes.len(),
            what: format!(
                "the record is truncated: its header announces {len} bytes of body, {} are there",
                body.len()
            ),
        });
    }
    if (body.len() as u64) > len {
        return Err(DecodeError {
            offset: HEADER_LEN + usize::try_from(len).unwrap_or(usize::MAX),
            what: "unexpected bytes after the end of the record".to_owned(),
        });
    }
    if fnv1a64(body) != checksum {
        return Err(DecodeError {
            offset: 24,
            what: "the checksum does not match the body (the record was altered or damaged)"
                .to_owned(),
        });
    }
    let mut r = Reader { bytes: body, at: 0 };
    let result = read_body(&mut r, now);
    result.map_err(|what| DecodeError { offset: HEADER_LEN + r.at, what })
}

fn read_body(r: &mut Reader<'_>, now: Timestamp) -> Result<Run, String> {
    let count = r.count(1)?;
    let mut strings: Vec<Arc<str>> = Vec::with_capacity(count);
    for _ in 0..count {
        let len = r.count(1)?;
        let raw = r.take(len)?;
        let s = std::str::from_utf8(raw).map_err(|_| "a string that is not UTF-8".to_owned())?;
        strings.push(Arc::from(s));
    }
    let string = |i: u64| -> Result<Arc<str>, String> {
        usize::try_from(i)
            .ok()
            .and_then(|i| strings.get(i))
            .cloned()
            .ok_or_else(|| format!("string index {i} is past the table ({})", strings.len()))
    };
    let optional = |i: u64| -> Result<Option<Arc<str>>, String> {
        if i == 0 { Ok(None) } else { string(i - 1).map(Some) }
    };
    let count = r.count(4)?;
    let mut scopes = Vec::with_capacity(count);
    for _ in 0..count {
        let rule = string(r.varint()?)?;
        let service = optional(r.varint()?)?;
        let (checked, passed) = (r.varint()?, r.varint()?);
        if passed > checked {
            return Err(format!("{passed} entities passed of {checked} checked"));
        }
        scopes.push(ScopeRecord { rule, service, checked, passed });
    }
    let count = r.count(14)?;
    let mut findings = Vec::with_capacity(count);
    for _ in 0..count {
        let mut fp = [0u8; 8];
        fp.copy_from_slice(r.take(8)?);
        let fingerprint = u64::from_le_bytes(fp);
        let rule = string(r.varint()?)?;
        let entity = string(r.varint()?)?;
        let service = optional(r.varint()?)?;
        let tier = match r.varint()? {
            0 => None,
            t => Some(unzigzag(t - 1)),
        };
        let flags = r.byte()?;
        let severity = SeverityLevel::ALL
            .get(usize::from(flags & 0b111))
            .copied()
            .ok_or_else(|| format!("severity code {} is unknown", flags & 0b111))?;
        let enforcement = Enforcement::ALL
            .get(usize::from((flags >> 3) & 0b11))
            .copied()
            .ok_or_else(|| format!("enforcement code {} is unknown", (flags >> 3) & 0b11))?;
        let status = if flags & 0b10_0000 != 0 { Status::Waived } else { Status::Open };
        let kind =
            if flags & 0b100_0000 != 0 { FindingKind::Error } else { FindingKind::Violation };
        let priority = match r.byte()? {
            0 => None,
            level @ 1..=5 => Some((level, Duration(unzigzag(r.varint()?)))),
            level => return Err(format!("priority level {level} is not 1 to 5")),
        };
        if findings.last().is_some_and(|p: &RunFinding| p.fingerprint >= fingerprint) {
            return Err("findings out of fingerprint order".to_owned());
        }
        findings.push(RunFinding {
            fingerprint,
            rule,
            entity,
            service,
            tier,
            severity,
            enforcement,
            priority,
            status,
            kind,
        });
    }
    if r.at != r.bytes.len() {
        return Err("unexpected bytes after the findings".to_owned());
    }
    Ok(Run { now, scopes, findings })
}

fn flags(f: &RunFinding) -> u8 {
    let sev = SeverityLevel::ALL.iter().position(|l| *l == f.severity).unwrap_or(0) as u8;
    let enf = Enforcement::ALL.iter().position(|l| *l == f.enforcement).unwrap_or(0) as u8;
    let waived = u8::from(f.status == Status::Waived);
    let error = u8::from(f.kind == FindingKind::Error);
    sev | (enf << 3) | (waived << 5) | (error << 6)
}

#[derive(Default)]
struct Strings<'a> {
    index: HashMap<&'a str, u32>,
    list: Vec<&'a str>,
}

impl<'a> Strings<'a> {
    fn get(&mut self, s: &'a str) -> u32 {
        let next = self.list.len() as u32;
        *self.index.entry(s).or_insert_with(|| {
            self.list.push(s);
            next
        })
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = self.bytes.get(self.at).copied().ok_or("the body ends in the middle of a field")?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .at
            .checked_add(n)
            .and_then(|end| self.bytes.get(self.at..end))
            .ok_or("the body ends in the middle of a field")?;
        self.at += n;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number longer than 64 bits".to_owned())
    }

    /// A count of items that each take at least `min` bytes: never more than
    /// what is left could hold, so a bad count cannot size an allocation.
    fn count(&mut self, min: usize) -> Result<usize, String> {
        let n = self.varint()?;
        let left = (self.bytes.len() - self.at.min(self.bytes.len())) / min.max(1);
        usize::try_from(n).ok().filter(|n| *n <= left).ok_or_else(|| {
            format!("a count of {n} items is more than the rest of the record holds")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut b = Vec::new();
            varint(&mut b, v);
            assert_eq!(Reader { bytes: &b, at: 0 }.varint(), Ok(v));
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, 86_400] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }
}
