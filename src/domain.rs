//! The vocabulary every stage shares: how severe a finding is, how a failing
//! rule is enforced, which way a path step follows an edge. The parser produces these, the checker and the IR carry
//! them, the evaluator, decisions and reports read them; none of those
//! stages owns them, so they live here, below all of them.

use serde::Serialize;

/// Finding severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityLevel {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl SeverityLevel {
    /// Every level, lowest first.
    pub const ALL: [SeverityLevel; 5] =
        [Self::Info, Self::Low, Self::Medium, Self::High, Self::Critical];

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// How a failing rule affects the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// Reported, never fails the build.
    Advisory,
    /// Fails the build when asked to (`--fail-on soft`).
    Soft,
    /// Fails the build.
    Hard,
}

impl Enforcement {
    /// Every level, weakest first.
    pub const ALL: [Enforcement; 3] = [Self::Advisory, Self::Soft, Self::Hard];

    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Advisory => "advisory",
            Self::Soft => "soft",
            Self::Hard => "hard",
        }
    }
}

/// Edge direction in a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// `-[e]->`
    Out,
    /// `<-[e]-`
    In,
    /// `-[e]-`
    Either,
}
