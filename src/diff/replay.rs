//! Replaying a decision log (`gov serve --decision-log`) against two policy
//! sets: which recorded requests would get another effect under the head,
//! grouped by decision, by the effects before and after, and by the clause
//! responsible, with a few examples each.
//!
//! A log line is one JSON object (see `serve::log`):
//! `{"time": "...", "request": {"decision": "...", "input": {...}, "now": "..."},
//! "effect": "allow", ...}`. Each request is decided at its own `now` when it
//! gave one (as the server did), else at the time it was recorded. Lines that
//! are not such records are counted with their line numbers, never fatal.
//!
//! Must not: read files or the clock; the caller passes the log's text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::decide::{Decision, Effect, Engine, Reason, Request};
use crate::time::Timestamp;

/// One recorded request.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// One-based line in the log.
    pub line: usize,
    /// The request, with `now` set to the time it is replayed at.
    pub request: Request,
    /// The effect the log recorded, when it names a known one.
    pub logged: Option<Effect>,
}

/// A log line that is not a decision record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvalidLine {
    /// One-based line number.
    pub line: usize,
    /// Why it was skipped.
    pub error: String,
}

/// The records of a log and the lines that are not records.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// Valid records, in log order.
    pub records: Vec<Recorded>,
    /// Invalid lines, in log order (blank lines are neither).
    pub invalid: Vec<InvalidLine>,
}

#[derive(Deserialize)]
struct LogLine {
    time: Timestamp,
    request: Request,
    #[serde(default)]
    effect: Option<String>,
}

fn effect_named(s: &str) -> Option<Effect> {
    [Effect::Allow, Effect::Deny, Effect::NotPermitted, Effect::ApprovalRequired]
        .into_iter()
        .find(|e| e.as_str() == s)
}

/// Splits a decision log into records and invalid lines.
pub fn parse_log(text: &str) -> Log {
    let mut log = Log::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<LogLine>(line) {
            Ok(l) => {
                let mut request = l.request;
                request.now = Some(request.now.unwrap_or(l.time));
                let logged = l.effect.as_deref().and_then(effect_named);
                log.records.push(Recorded { line: line_no, request, logged });
            }
            Err(e) => log.invalid.push(InvalidLine { line: line_no, error: e.to_string() }),
        }
    }
    log
}

/// What one side answered: an effect, or the request could not be decided.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The effect.
    Effect(&'static str),
    /// The request was refused (`unknown_decision`, `unknown_entity`, ...).
    Error(&'static str),
}

impl Outcome {
    fn of(r: &Result<Decision, crate::decide::DecideError>) -> Outcome {
        match r {
            Ok(d) => Outcome::Effect(d.effect.as_str()),
            Err(e) => Outcome::Error(e.kind()),
        }
    }

    /// `allow`, `deny`, ... or `error: unknown_entity`.
    pub fn label(&self) -> String {
        match self {
            Outcome::Effect(e) => (*e).to_owned(),
            Outcome::Error(k) => format!("error: {k}"),
        }
    }
}

/// The clause that decided, on the side that explains the change: the
/// head's first reason, or the base's when the head gives none (a request
/// that is no longer allowed because an allow clause stopped matching).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Responsible {
    /// `head` or `base`.
    pub side: &'static str,
    /// `deny`, `allow`, `approval` or `error`.
    pub clause: &'static str,
    /// The clause's reason text (for the first example).
    pub message: String,
    /// Policy file of the clause.
    pub file: String,
    /// Line of the clause.
    pub line: u32,
}

impl Responsible {
    fn of(side: &'static str, r: &Reason) -> Responsible {
        Responsible {
            side,
            clause: r.clause,
            message: r.message.clone(),
            file: r.file.to_string(),
            line: r.line,
        }
    }

    /// What groups requests: the clause's place, not its interpolated text.
    fn key(&self) -> (&'static str, &'static str, &str, u32) {
        (self.side, self.clause, &self.file, self.line)
    }
}

/// One request whose effect changes.
#[derive(Clone, Debug, Serialize)]
pub struct Flip {
    /// Line in the log.
    pub line: usize,
    /// The decision block.
    pub decision: String,
    /// The request's inputs.
    pub input: BTreeMap<String, serde_json::Value>,
    /// The time it was decided at.
    pub now: Option<Timestamp>,
    /// Base outcome.
    pub before: Outcome,
    /// Head outcome.
    pub after: Outcome,
    /// The clause responsible, when either side names one.
    pub responsible: Option<Responsible>,
}

/// Requests of one decision that changed the same way because of the same clause.
#[derive(Clone, Debug, Serialize)]
pub struct FlipGroup {
    /// The decision block.
    pub decision: String,
    /// Base outcome.
    pub before: Outcome,
    /// Head outcome.
    pub after: Outcome,
    /// The clause responsible.
    pub responsible: Option<Responsible>,
    /// How many requests.
    pub count: usize,
    /// The first few, in log order.
    pub examples: Vec<Flip>,
}

/// The replay of a log.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Replay {
    /// Records replayed.
    pub records: usize,
    /// Records with the same outcome on both sides.
    pub unchanged: usize,
    /// Records whose base outcome differs from the effect the log recorded
    /// (the base is not the policy the server ran, or the inventory changed).
    pub base_differs_from_log: usize,
    /// Every request whose outcome changes, in log order.
    pub flips: Vec<Flip>,
    /// The flips grouped (largest group first).
    pub groups: Vec<FlipGroup>,
    /// Lines that are not records.
    pub invalid: Vec<InvalidLine>,
}

/// Replays every record against both engines; `examples` per group at most.
pub fn replay(base: &Engine, head: &Engine, log: &Log, examples: usize) -> Replay {
    let mut out =
        Replay { records: log.records.len(), invalid: log.invalid.clone(), ..Replay::default() };
    for r in &log.records {
        let b = base.decide(&r.request);
        let h = head.decide(&r.request);
        let (before, after) = (Outcome::of(&b), Outcome::of(&h));
        if let (Some(logged), Ok(d)) = (r.logged, &b)
            && logged != d.effect
        {
            out.base_differs_from_log += 1;
        }
        if before == after {
            out.unchanged += 1;
            continue;
        }
        let head_reason = h.as_ref().ok().and_then(|d| d.reasons.first());
        let base_reason = b.as_ref().ok().and_then(|d| d.reasons.first());
        let responsible = match (head_reason, base_reason) {
            (Some(r), _) => Some(Responsible::of("head", r)),
            (None, Some(r)) => Some(Responsible::of("base", r)),
            (None, None) => None,
        };
        out.flips.push(Flip {
            line: r.line,
            decision: r.request.decision.clone(),
            input: r.request.input.clone(),
            now: r.request.now,
            before,
            after,
            responsible,
        });
    }
    out.groups = group(&out.flips, examples);
    out
}

fn group(flips: &[Flip], examples: usize) -> Vec<FlipGroup> {
    type Key<'a> =
        (&'a str, &'a Outcome, &'a Outcome, Option<(&'static str, &'static str, &'a str, u32)>);
    let mut groups: BTreeMap<Key<'_>, FlipGroup> = BTreeMap::new();
    for f in flips {
        let key = (
            f.decision.as_str(),
            &f.before,
            &f.after,
            f.responsible.as_ref().map(Responsible::key),
        );
        let g = groups.entry(key).or_insert_with(|| FlipGroup {
            decision: f.decision.clone(),
            before: f.before.clone(),
            after: f.after.clone(),
            responsible: f.responsible.clone(),
            count: 0,
            examples: Vec::new(),
        });
        g.count += 1;
        if g.examples.len() < examples {
            g.examples.push(f.clone());
        }
    }
    let mut out: Vec<FlipGroup> = groups.into_values().collect();
    // Largest first; the map's order breaks ties deterministically (stable sort).
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_lines_are_counted_with_their_numbers() {
        let text = concat!(
            r#"{"time":"2026-11-23T01:02:03.456Z","request":{"decision":"d","input":{"a":"x"}},"effect":"allow"}"#,
            "\n\nnot json\n",
            r#"{"time":"2026-11-23T01:02:03Z"}"#,
            "\n",
            r#"{"time":"2026-11-23T01:02:04Z","request":{"decision":"d","now":"2026-01-01"},"effect":"deny"}"#,
            "\n{\"time\": 3, \"request\": {\"decision\": \"d\"}}\n",
        );
        let log = parse_log(text);
        assert_eq!(log.records.len(), 2);
        assert_eq!(log.invalid.iter().map(|l| l.line).collect::<Vec<_>>(), [3, 4, 6]);
        let first = log.records.first().unwrap();
        assert_eq!((first.line, first.logged), (1, Some(Effect::Allow)));
        // The recorded time is the replayed `now` (fractions dropped) ...
        assert_eq!(first.request.now, Timestamp::parse("2026-11-23T01:02:03Z").ok());
        // ... unless the request gave its own.
        let second = log.records.get(1).unwrap();
        assert_eq!(second.request.now, Timestamp::parse("2026-01-01").ok());
    }
}
