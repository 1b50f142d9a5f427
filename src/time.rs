//! Time values: [`Timestamp`] (UTC seconds since the Unix epoch) and
//! [`Duration`] (seconds), with the parsers and printers the language and the
//! inventory loaders share. Hand-written because the language needs only
//! civil-date arithmetic in UTC, and the lean library should not pull a
//! calendar crate for it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A point in time, UTC, whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A span of time in whole seconds (may be negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

/// Why a date or timestamp did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// Not of the shape `YYYY-MM-DD[THH:MM[:SS[.fff]][Z|±HH:MM]]`.
    Malformed,
    /// Month outside 1-12.
    Month(u32),
    /// Day outside the month.
    Day {
        /// The day given.
        day: u32,
        /// Days in that month.
        max: u32,
    },
    /// Hour, minute or second out of range.
    Time,
    /// Offset out of range.
    Offset,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::Malformed => f.write_str(
                "expected `YYYY-MM-DD` or an RFC 3339 timestamp such as `2027-01-31T12:00:00Z`",
            ),
            TimeError::Month(m) => write!(f, "month {m} does not exist (months are 01 to 12)"),
            TimeError::Day { day, max } => {
                write!(f, "day {day} does not exist in that month (it has {max} days)")
            }
            TimeError::Time => f.write_str("hour, minute or second out of range"),
            TimeError::Offset => f.write_str("time zone offset out of range"),
        }
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` (1-12) of year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Timestamp {
    /// Midnight UTC of a civil date, validated.
    pub fn from_date(y: i64, m: u32, d: u32) -> Result<Self, TimeError> {
        if !(1..=12).contains(&m) {
            return Err(TimeError::Month(m));
        }
        let max = days_in_month(y, m);
        if d == 0 || d > max {
            return Err(TimeError::Day { day: d, max });
        }
        Ok(Timestamp(days_from_civil(y, m, d) * 86_400))
    }

    /// Parses `YYYY-MM-DD`, or RFC 3339 with `T`, `t` or a space between date
    /// and time; seconds and offset are optional (no offset means UTC).
    /// Fractions of a second are accepted and dropped.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let s = s.trim();
        let (date, rest) = match s.find(['T', 't', ' ']) {
            Some(i) => (s.get(..i).unwrap_or(""), s.get(i + 1..)),
            None => (s, None),
        };
        let mut parts = date.splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(TimeError::Malformed);
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(TimeError::Malformed);
        }
        let (Some(y), Some(m), Some(d)) = (digits(y), digits(m), digits(d)) else {
            return Err(TimeError::Malformed);
        };
        let day = Self::from_date(i64::from(y), m, d)?;
        let Some(rest) = rest else { return Ok(day) };
        // Split off the offset.
        let (clock, offset) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
            (c, 0i64)
        } else if let Some(i) = rest.rfind(['+', '-']) {
            let (c, off) = rest.split_at(i);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let off = off.get(1..).unwrap_or("");
            let (oh, om) = off
                .split_once(':')
                .unwrap_or((off.get(..2).unwrap_or(""), off.get(2..).unwrap_or("")));
            let (Some(oh), Some(om)) = (digits(oh), digits(om)) else {
                return Err(TimeError::Malformed);
            };
            if oh > 23 || om > 59 {
                return Err(TimeError::Offset);
            }
            (c, sign * (i64::from(oh) * 3600 + i64::from(om) * 60))
        } else {
            (rest, 0)
        };
        let clock = clock.split('.').next().unwrap_or("");
        let mut hms = clock.split(':');
        let h = hms.next().and_then(|x| (x.len() == 2).then_some(x)).and_then(digits);
        let mi = hms.next().and_then(|x| (x.len() == 2).then_some(x)).and_then(digits);
        let sec = match hms.next() {
            Some(x) if x.len() == 2 => digits(x),
            Some(_) => None,
            None => Some(0),
        };
        let (Some(h), Some(mi), Some(sec)) = (h, mi, sec) else {
            return Err(TimeError::Malformed);
        };
        if hms.next().is_some() {
            return Err(TimeError::Malformed);
        }
        if h > 23 || mi > 59 || sec > 60 {
            return Err(TimeError::Time);
        }
        Ok(Timestamp(
            day.0 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(sec.min(59)) - offset,
        ))
    }

    /// The civil date (year, month, day) in UTC.
    pub fn date(self) -> (i64, u32, u32) {
        civil_from_days(self.0.div_euclid(86_400))
    }

    /// The current time from the system clock.
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Timestamp(secs)
    }
}

impl fmt::Display for Timestamp {
    /// `YYYY-MM-DD` at midnight, RFC 3339 with `Z` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 20];
        match self.fast_text(&mut buf) {
            Some(text) => f.write_str(text),
            None => {
                let (y, m, d) = self.date();
                self.fmt_slow(f, y, m, d, self.0.rem_euclid(86_400))
            }
        }
    }
}

impl Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS`, always with the time of day and without a
    /// zone (UTC): JUnit's `timestamp`, and the stem of the decision log's
    /// RFC 3339 times (which add milliseconds and `Z`).
    pub fn datetime(self) -> String {
        let (y, m, d) = self.date();
        let s = self.0.rem_euclid(86_400);
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }

    /// Appends the [`Display`](fmt::Display) text to `out` without the
    /// formatting machinery (findings print a timestamp per evidence value).
    pub fn push_to(&self, out: &mut String) {
        let mut buf = [0u8; 20];
        match self.fast_text(&mut buf) {
            Some(text) => out.push_str(text),
            None => {
                use fmt::Write as _;
                let _ = write!(out, "{self}");
            }
        }
    }

    /// The text of years 0 to 9999, digits by hand (`write!` with padded
    /// fields showed up in the audit profile); `None` for other years.
    fn fast_text<'b>(&self, buf: &'b mut [u8; 20]) -> Option<&'b str> {
        let (y, m, d) = self.date();
        let year = u32::try_from(y).ok().filter(|y| *y <= 9999)?;
        *buf = *b"0000-00-00T00:00:00Z";
        let two = |buf: &mut [u8; 20], at: usize, v: u32| {
            if let Some(s) = buf.get_mut(at..at + 2) {
                s.copy_from_slice(&[b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]);
            }
        };
        two(buf, 0, year / 100);
        two(buf, 2, year % 100);
        two(buf, 5, m);
        two(buf, 8, d);
        let secs = self.0.rem_euclid(86_400) as u32;
        two(buf, 11, secs / 3600);
        two(buf, 14, secs / 60 % 60);
        two(buf, 17, secs % 60);
        let len = if secs == 0 { 10 } else { 20 };
        buf.get(..len).and_then(|b| std::str::from_utf8(b).ok())
    }
}

impl Timestamp {
    fn fmt_slow(
        &self,
        f: &mut fmt::Formatter<'_>,
        y: i64,
        m: u32,
        d: u32,
        secs: i64,
    ) -> fmt::Result {
        if secs == 0 {
            write!(f, "{y:04}-{m:02}-{d:02}")
        } else {
            write!(
                f,
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            )
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Units a duration literal may use, largest first, with their length in seconds.
pub const DURATION_UNITS: &[(char, i64)] =
    &[('w', 604_800), ('d', 86_400), ('h', 3600), ('m', 60), ('s', 1)];

/// Why a duration did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DurationError {
    /// No amount-unit pairs.
    Empty,
    /// A unit other than `w`, `d`, `h`, `m`, `s`; carries the offending text.
    UnknownUnit(String),
    /// A number followed by nothing.
    MissingUnit,
    /// Larger than the range of seconds in an `i64`.
    Overflow,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => f.write_str("empty duration"),
            DurationError::UnknownUnit(u) => write!(f, "unknown duration unit `{u}`"),
            DurationError::MissingUnit => f.write_str("a duration needs a unit"),
            DurationError::Overflow => f.write_str("duration too large"),
        }
    }
}

impl Duration {
    /// Parses `90d`, `24h`, `1d12h`, `2w`, `30m`, `15s`.
    pub fn parse(s: &str) -> Result<Self, DurationError> {
        if s.is_empty() {
            return Err(DurationError::Empty);
        }
        let mut total: i64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let n_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            if n_end == 0 {
                return Err(DurationError::UnknownUnit(rest.to_owned()));
            }
            let (num, after) = rest.split_at(n_end);
            let u_end = after.find(|c: char| c.is_ascii_digit()).unwrap_or(after.len());
            let (unit, next) = after.split_at(u_end);
            if unit.is_empty() {
                return Err(DurationError::MissingUnit);
            }
            let mut chars = unit.chars();
            let scale = match (chars.next(), chars.next()) {
                (Some(c), None) => DURATION_UNITS.iter().find(|(u, _)| *u == c).map(|(_, s)| *s),
                _ => None,
            }
            .ok_or_else(|| DurationError::UnknownUnit(unit.to_owned()))?;
            let n: i64 = num.parse().map_err(|_| DurationError::Overflow)?;
            total = n
                .checked_mul(scale)
                .and_then(|v| total.checked_add(v))
                .ok_or(DurationError::Overflow)?;
            rest = next;
        }
        Ok(Duration(total))
    }

    /// A number of whole days.
    pub fn days(n: i64) -> Self {
        Duration(n.saturating_mul(86_400))
    }
}

impl fmt::Display for Duration {
    /// Canonical form: largest units first, `0s` for zero, `-` for negative.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        if self.0 < 0 {
            f.write_str("-")?;
        }
        let mut rest = self.0.unsigned_abs();
        for (unit, scale) in DURATION_UNITS {
            // Weeks only when the whole value is whole weeks: `10d` reads better than `1w3d`.
            if *unit == 'w' && !rest.is_multiple_of(604_800) {
                continue;
            }
            let scale = scale.unsigned_abs();
            if rest >= scale {
                write!(f, "{}{unit}", rest / scale)?;
                rest %= scale;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Slow(Timestamp);
    impl fmt::Display for Slow {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let (y, m, d) = self.0.date();
            self.0.fmt_slow(f, y, m, d, self.0.0.rem_euclid(86_400))
        }
    }

    #[test]
    fn fast_display_matches_the_padded_format() {
        // Every hour over ±2 centuries, a step that is not a divisor of a day,
        // and the edges of the four-digit years.
        let mut t = -6_000_000_000_i64;
        while t < 6_000_000_000 {
            assert_eq!(Timestamp(t).to_string(), Slow(Timestamp(t)).to_string(), "{t}");
            t += 3_601 * 7;
        }
        for s in ["0000-01-01", "9999-12-31T23:59:59Z", "1970-01-01T00:00:01Z", "2026-11-23"] {
            let ts = Timestamp::parse(s).unwrap();
            assert_eq!(ts.to_string(), s);
        }
        for t in [i64::MIN / 1000, -62_167_219_201, 253_402_300_800, i64::MAX / 1000] {
            assert_eq!(Timestamp(t).to_string(), Slow(Timestamp(t)).to_string(), "{t}");
        }
    }

    #[test]
    fn push_to_appends_the_display_text() {
        let mut out = String::from("x");
        for t in [0, 1, 86_399, -1, -62_167_219_201, 253_402_300_800, i64::MAX / 1000] {
            out.truncate(1);
            Timestamp(t).push_to(&mut out);
            assert_eq!(out, format!("x{}", Slow(Timestamp(t))), "{t}");
        }
    }

    #[test]
    fn parses_dates_and_timestamps() {
        assert_eq!(Timestamp::parse("1970-01-01"), Ok(Timestamp(0)));
        assert_eq!(Timestamp::parse("2000-03-01").map(|t| t.date()), Ok((2000, 3, 1)));
        let t = Timestamp::parse("2027-01-31T12:30:00Z").unwrap();
        assert_eq!(t.to_string(), "2027-01-31T12:30:00Z");
        assert_eq!(Timestamp::parse("2027-01-31 12:30:00+00:00"), Ok(t));
        assert_eq!(Timestamp::parse("2027-01-31T14:30:00.123+02:00"), Ok(t));
        assert_eq!(Timestamp::parse("2027-01-31T12:30Z"), Ok(t));
    }

    #[test]
    fn rejects_impossible_dates() {
        assert_eq!(Timestamp::parse("2027-13-01"), Err(TimeError::Month(13)));
        assert_eq!(Timestamp::parse("2027-02-29"), Err(TimeError::Day { day: 29, max: 28 }));
        assert!(Timestamp::parse("2028-02-29").is_ok());
        assert_eq!(Timestamp::parse("2027-01-01T25:00:00Z"), Err(TimeError::Time));
        assert_eq!(Timestamp::parse("27-01-01"), Err(TimeError::Malformed));
        assert_eq!(Timestamp::parse("2027-01-01T1:00Z"), Err(TimeError::Malformed));
    }

    #[test]
    fn durations_round_trip() {
        for s in ["90d", "5h", "1d12h", "2w", "30m", "15s", "0s", "10d"] {
            assert_eq!(Duration::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Duration::parse("90x"), Err(DurationError::UnknownUnit("x".into())));
        assert_eq!(Duration::parse("90"), Err(DurationError::MissingUnit));
        assert_eq!(Duration::parse("99999999999999999w"), Err(DurationError::Overflow));
    }

    #[test]
    fn dates_round_trip_through_days() {
        for z in [-800_000i64, -1, 0, 1, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
