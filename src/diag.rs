//! Diagnostics shared by every stage: a stable [`Code`], a severity, labelled
//! spans and a help line. Stages build [`Diag`] values and collect them in a
//! [`Diagnostics`] list; they never print. Rendering lives in
//! [`crate::report`].

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::source::{SourceFile, Span};

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident => $code:literal, )*) => {
        /// Every diagnostic code `gov` emits. Codes are stable: tools and users
        /// search and suppress by them. `docs/diagnostics.md` lists them (a test keeps it in step).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable code string, e.g. `gov::parse::unexpected_token`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// One line describing what the code means.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => concat!($($doc),*).trim_ascii(), )* }
            }
        }
    };
}

codes! {
    /// The input is not valid UTF-8.
    InvalidUtf8 => "gov::parse::invalid_utf8",
    /// The input is larger than the parser accepts.
    InputTooLarge => "gov::parse::input_too_large",
    /// Expressions or blocks are nested deeper than the parser accepts.
    TooDeep => "gov::parse::too_deep",
    /// A token that does not fit here.
    UnexpectedToken => "gov::parse::unexpected_token",
    /// The file ended in the middle of a construct.
    UnexpectedEof => "gov::parse::unexpected_eof",
    /// A string literal with no closing quote on its line.
    UnterminatedString => "gov::parse::unterminated_string",
    /// A block comment with no closing `*/`.
    UnterminatedComment => "gov::parse::unterminated_comment",
    /// `{expr}` in a string that is not interpolated.
    InterpolationNotAllowed => "gov::parse::interpolation_not_allowed",
    /// An escape sequence a string cannot hold.
    InvalidEscape => "gov::parse::invalid_escape",
    /// A number that is out of range or malformed.
    InvalidNumber => "gov::parse::invalid_number",
    /// A duration with an unknown unit or a bad amount.
    InvalidDuration => "gov::parse::invalid_duration",
    /// A date or timestamp that does not exist or is malformed.
    InvalidDate => "gov::parse::invalid_date",
    /// A reserved word used as a name.
    ReservedWord => "gov::parse::reserved_word",
    /// `a < b < c`: comparisons do not chain.
    ChainedComparison => "gov::parse::chained_comparison",
    /// `=` where a comparison `==` was meant.
    AssignInsteadOfEq => "gov::parse::assign_instead_of_eq",
    /// A severity that is not one of `critical`, `high`, `medium`, `low`, `info`.
    UnknownSeverity => "gov::parse::unknown_severity",
    /// An enforcement level that is not one of `advisory`, `soft`, `hard`.
    UnknownEnforcement => "gov::parse::unknown_enforcement",
    /// A priority that is not `P1` to `P5`.
    UnknownPriority => "gov::parse::unknown_priority",
    /// A doc comment `///` where no item follows.
    MisplacedDocComment => "gov::parse::misplaced_doc_comment",
    /// A clause that may appear once appears twice.
    DuplicateClause => "gov::parse::duplicate_clause",
    /// A block that lacks a clause it needs.
    MissingClause => "gov::parse::missing_clause",
    /// A variable-length path with bounds that cannot match.
    InvalidPathBounds => "gov::parse::invalid_path_bounds",
    /// A name used as a node kind that the schema does not know.
    CheckUnknownKind => "gov::check::unknown_kind",
    /// An attribute that the node's kind does not have.
    CheckUnknownAttribute => "gov::check::unknown_attribute",
    /// An edge kind that the schema does not know.
    CheckUnknownEdgeKind => "gov::check::unknown_edge_kind",
    /// A name that is not bound here.
    UnboundVariable => "gov::check::unbound_variable",
    /// An operand or argument of the wrong type.
    TypeMismatch => "gov::check::type_mismatch",
    /// An optional attribute used where a value is required, with no `has` guard or default.
    OptionalWithoutGuard => "gov::check::optional_without_guard",
    /// Two rules (or exceptions, decisions, constants, functions) with one name.
    DuplicateName => "gov::check::duplicate_name",
    /// An exception (or test) for a rule that does not exist.
    UnknownRule => "gov::check::unknown_rule",
    /// A call of a function that does not exist.
    UnknownFunction => "gov::check::unknown_function",
    /// A call with the wrong number of arguments.
    WrongArity => "gov::check::wrong_arity",
    /// A function that calls itself (functions are inlined and must terminate).
    RecursiveFunction => "gov::check::recursive_function",
    /// Function calls that inline to more than 250,000 expression nodes in one
    /// policy set (functions that call each other several times grow exponentially).
    InlineTooLarge => "gov::check::inline_too_large",
    /// A `plugin` declaration in a build without the `plugins` feature.
    PluginUnavailable => "gov::check::plugin_unavailable",
    /// A plugin module that cannot be used: a missing file, an invalid module,
    /// an import, a wrong ABI version, a start that fails.
    PluginLoad => "gov::check::plugin_load",
    /// A declared plugin function that the module does not export with a
    /// matching signature, or a type that cannot cross the plugin boundary.
    PluginSignature => "gov::check::plugin_signature",
    /// A `schema` block that conflicts with the schema.
    InvalidSchema => "gov::check::invalid_schema",
    /// A path that does not start at a bound node.
    InvalidPath => "gov::check::invalid_path",
    /// More than one `priority by` declaration.
    DuplicatePriority => "gov::check::duplicate_priority",
    /// An exception whose `until` date has passed (warning).
    ExpiredException => "gov::check::expired_exception",
    /// A condition or path step that can never hold (warning).
    NeverMatches => "gov::check::never_matches",
    /// A `let` that nothing reads (warning).
    UnusedLet => "gov::check::unused_let",
    /// A test (or request) that names a decision the policy set does not declare.
    UnknownDecision => "gov::check::unknown_decision",
    /// A test's decision request with a missing, unknown or mistyped input.
    InvalidDecisionInput => "gov::check::invalid_decision_input",
    /// A key in `gov.toml` that the project file does not have.
    ProjectUnknownKey => "gov::project::unknown_key",
    /// A value in `gov.toml` of the wrong type or out of range.
    ProjectInvalidValue => "gov::project::invalid_value",
    /// An I/O error while reading an input file.
    Io => "gov::io",
    /// A path that names a FIFO, a socket or a device rather than a regular file.
    NotAFile => "gov::io::not_a_file",
    /// An inventory or mapping file that is not valid UTF-8.
    IngestInvalidUtf8 => "gov::ingest::invalid_utf8",
    /// An inventory file that is not well-formed JSON.
    MalformedJson => "gov::ingest::malformed_json",
    /// An inventory file that is not well-formed YAML.
    MalformedYaml => "gov::ingest::malformed_yaml",
    /// A CSV file with a bad header, a short row or a bad quote.
    MalformedCsv => "gov::ingest::malformed_csv",
    /// A native inventory without `"format": "gov.inventory/v1"`, or of another version.
    UnsupportedFormat => "gov::ingest::unsupported_format",
    /// Content that matches none of the formats `gov ingest` reads.
    UnknownFormat => "gov::ingest::unknown_format",
    /// A record without a field it needs, or a field of the wrong JSON shape.
    MissingField => "gov::ingest::missing_field",
    /// An edge whose source or target is not in the loaded inventories.
    DanglingEdge => "gov::ingest::dangling_edge",
    /// An optional edge (to another system's data) whose end is not loaded.
    UnresolvedEdge => "gov::ingest::unresolved_edge",
    /// Two nodes with the same id.
    DuplicateId => "gov::ingest::duplicate_id",
    /// An attribute value of the wrong type for the schema.
    WrongType => "gov::ingest::wrong_type",
    /// A date or timestamp in an inventory that does not parse.
    IngestInvalidDate => "gov::ingest::invalid_date",
    /// A value outside what its attribute allows (enum member, duration, tier).
    InvalidValue => "gov::ingest::invalid_value",
    /// A node kind the schema does not define.
    UnknownKind => "gov::ingest::unknown_kind",
    /// An edge kind the schema does not define.
    UnknownEdgeKind => "gov::ingest::unknown_edge_kind",
    /// An attribute the node's kind does not define.
    UnknownAttribute => "gov::ingest::unknown_attribute",
    /// A required attribute that a node lacks.
    MissingAttribute => "gov::ingest::missing_attribute",
    /// An edge between kinds its edge kind does not connect.
    EdgeNotAllowed => "gov::ingest::edge_not_allowed",
    /// A `schema` section that conflicts with the schema already loaded.
    SchemaConflict => "gov::ingest::schema_conflict",
    /// A mapping file that does not describe a valid mapping.
    InvalidMapping => "gov::ingest::invalid_mapping",
    /// An inventory beyond the graph's limits (4 GiB of strings, 4 billion nodes).
    InventoryTooLarge => "gov::ingest::too_large",
    /// Two records that disagree about one value (the first one wins).
    ConflictingValue => "gov::ingest::conflicting_value",
    /// A YAML file whose aliases (`*name`) expand it to more nodes than it
    /// has bytes plus 1,000,000.
    YamlAliasLimit => "gov::ingest::yaml_alias_limit",
    /// A YAML file whose collections nest more than 64 levels deep.
    YamlTooDeep => "gov::ingest::yaml_too_deep",
    /// The count of diagnostics not shown: after 10 of one code in one file,
    /// the human and plain outputs show one line with the number of the rest.
    Omitted => "gov::report::omitted",
    /// An evaluation whose paths visited more nodes than the walk limit
    /// (50,000,000 for one rule and entity, or one decision, by default):
    /// an error finding at the path step that ran out.
    WalkLimit => "gov::eval::walk_limit",
    /// A saved report (`gov diff --before/--after`, `gov eval --baseline`) that
    /// is not a `gov.findings/v1` JSON report or a SARIF log written by gov.
    InvalidReport => "gov::diff::invalid_report",
    /// A `git:REV:PATH` policy reference that git cannot read: git is not
    /// installed, the directory is not a repository, or the revision or path
    /// does not exist.
    GitRef => "gov::diff::git",
    /// A run record of a finding history that is truncated or corrupted (skipped).
    HistoryCorruptRecord => "gov::history::corrupt_record",
    /// A run whose `--now` is earlier than the newest run already recorded.
    HistoryClockBackwards => "gov::history::clock_backwards",
    /// Command-line arguments that are missing or do not fit together.
    CliUsage => "gov::cli::usage",
    /// A rule, entity or node named on the command line that does not exist.
    CliNotFound => "gov::cli::not_found",
    /// `gov test --min-coverage`: the tests exercise fewer clauses than required.
    TestCoverage => "gov::test::coverage",
    /// `gov serve` could not start: its policies, inventories, token or
    /// listeners are unusable.
    ServeStart => "gov::serve::start",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the stage's output from being used.
    Error,
    /// Worth fixing; the output is still usable.
    Warning,
}

/// A labelled span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub text: String,
}

/// `1 thing`, `2 things` (`entity` → `entities`): counts in messages and
/// reports, for every stage.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        return format!("{n} {thing}");
    }
    match thing.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{n} {stem}ies"),
        _ => format!("{n} {thing}s"),
    }
}

/// One diagnostic: code, severity, message, the spans it points at, a help line.
#[derive(Clone, Debug)]
pub struct Diag {
    /// Stable code.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// One lowercase sentence without a final period; user text in backticks.
    pub message: String,
    /// The file the labels point into, if any.
    pub file: Option<Arc<SourceFile>>,
    /// The primary label first, then secondary ones.
    pub labels: Vec<Label>,
    /// How to fix it, where a fix is known.
    pub help: Option<String>,
}

impl Diag {
    /// An error with no location yet.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: None,
            labels: Vec::new(),
            help: None,
        }
    }

    /// A warning with no location yet.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, ..Self::error(code, message) }
    }

    /// Points the diagnostic into `file`.
    pub fn in_file(mut self, file: &Arc<SourceFile>) -> Self {
        self.file = Some(file.clone());
        self
    }

    /// Adds a label (the first one added is the primary label).
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label { span, text: text.into() });
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The primary span, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl miette::Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.file.as_deref().map(|f| f as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(|(i, l)| {
            let text = (!l.text.is_empty()).then(|| l.text.clone());
            if i == 0 {
                miette::LabeledSpan::new_primary_with_span(text, l.span)
            } else {
                miette::LabeledSpan::new_with_span(text, l.span)
            }
        })))
    }
}

/// The diagnostics of one run of a stage, in the order they were found.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(Vec<Diag>);

impl Diagnostics {
    /// An empty list.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds one.
    pub fn push(&mut self, d: Diag) {
        self.0.push(d);
    }

    /// Adds all of another list.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// The last one added.
    pub fn last_mut(&mut self) -> Option<&mut Diag> {
        self.0.last_mut()
    }

    /// True when at least one is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diag::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diag> {
        self.0.iter()
    }

    /// Sorts by file name, then position, keeping the order of equal positions.
    pub fn sort_by_position(&mut self) {
        self.0.sort_by_key(|d| {
            (d.file.as_ref().map(|f| f.name().to_owned()), d.primary_span().map(|s| s.start))
        });
    }

    /// The list as a vector.
    pub fn into_vec(self) -> Vec<Diag> {
        self.0
    }
}

impl From<Diag> for Diagnostics {
    fn from(d: Diag) -> Self {
        Self(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diag;
    type IntoIter = std::vec::IntoIter<Diag>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diag;
    type IntoIter = std::slice::Iter<'a, Diag>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The candidate closest to `name`, for "did you mean" hints: an exact
/// case-insensitive match first, then the smallest edit distance that is at
/// most a third of the name's length (and at least 1).
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        if c.to_lowercase() == lower {
            return Some(c);
        }
        let d = edit_distance(&lower, &c.to_lowercase());
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance over characters, counting a swap of two adjacent characters
/// as one edit (optimal string alignment), so `hihg` is one edit from `high`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Rows i-2, i-1 and i of the distance matrix.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            let mut best = sub.min(del).min(ins);
            let swapped = i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca);
            if swapped {
                best = best.min(before.get(j - 1).copied().unwrap_or(0) + 1);
            }
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = best;
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

/// A count with thousands separators, as messages print limits: `1234567`
/// as `1,234,567`.
pub(crate) fn thousands(n: impl std::fmt::Display) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_counts_in_english() {
        assert_eq!(plural(1, "entity"), "1 entity");
        assert_eq!(plural(2, "entity"), "2 entities");
        assert_eq!(plural(0, "key"), "0 keys");
        assert_eq!(plural(3, "open finding"), "3 open findings");
        assert_eq!(plural(1, "argument"), "1 argument");
    }

    #[test]
    fn did_you_mean_prefers_case_insensitive_then_distance() {
        let c = ["rotated_at", "created_at", "Owner"];
        assert_eq!(did_you_mean("rotatd_at", c), Some("rotated_at"));
        assert_eq!(did_you_mean("owner", c), Some("Owner"));
        assert_eq!(did_you_mean("zzz", c), None);
    }

    #[test]
    fn a_swap_of_adjacent_letters_is_one_edit() {
        assert_eq!(edit_distance("hihg", "high"), 1);
        assert_eq!(edit_distance("requier", "require"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(did_you_mean("hihg", ["critical", "high", "medium"]), Some("high"));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000u64), "1,000");
    }

    #[test]
    fn codes_are_unique_and_namespaced() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(c.as_str().starts_with("gov::"), "{c}");
            assert!(seen.insert(c.as_str()), "duplicate {c}");
            assert!(!c.summary().is_empty());
        }
    }
}
