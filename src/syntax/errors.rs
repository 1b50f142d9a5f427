//! pest errors rewritten for people: the tokens a user would type instead of
//! grammar rule names, the likely mistake named where it is recognisable
//! (`=` for `==`, a reserved word as a name, a missing `}`), a label at the
//! exact place and a help line.

use std::collections::BTreeSet;
use std::sync::Arc;

use pest::error::{Error, ErrorVariant, InputLocation};

use super::parser::Rule;
use crate::diag::{Code, Diag, did_you_mean};
use crate::source::{SourceFile, Span};

const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "has", "if", "then", "else", "match", "exists", "all", "true",
    "false", "null", "now", "where", "for", "let",
];

const ITEM_WORDS: &[&str] = &[
    "rule",
    "exception",
    "decision",
    "priority",
    "const",
    "fn",
    "schema",
    "plugin",
    "test",
    "import",
];

/// What a user would type for a grammar rule; `None` hides the rule.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule as R;
    Some(match rule {
        R::ident | R::binder | R::kind_name | R::edge_kind | R::path_start => "a name",
        R::rule_name | R::rule_ref => "a rule name",
        R::qualified => "a package name",
        R::field_name => "an attribute name",
        R::field | R::call_args | R::has_attr | R::kw_has => "an operator",
        R::string | R::template_text => "a string",
        R::number => "a number",
        R::datetime => "a date",
        R::boolean => "`true` or `false`",
        R::expr
        | R::paren
        | R::list
        | R::if_expr
        | R::match_expr
        | R::quantified
        | R::aggregate
        | R::null
        | R::kw_now
        | R::op_not
        | R::op_neg
        | R::quantifier
        | R::aggregator
        | R::hole
        | R::source
        | R::in_binding => "an expression",
        R::op_or
        | R::op_and
        | R::op_eq
        | R::op_ne
        | R::op_le
        | R::op_ge
        | R::op_lt
        | R::op_gt
        | R::op_not_in
        | R::op_in
        | R::op_add
        | R::op_sub
        | R::op_mul
        | R::op_div
        | R::op_rem => "an operator",
        R::pattern
        | R::pattern_lit
        | R::wildcard
        | R::match_arm
        | R::severity_arm
        | R::priority_arm => "a pattern",
        R::type_expr | R::list_type => "a type",
        R::optional_mark => "`?`",
        R::path | R::step | R::arrow_out | R::arrow_in | R::arrow_any => {
            "a path step such as `-[owned_by]->`"
        }
        R::repeat => "`*`",
        R::node_pattern => "a node pattern such as `p: identity`",
        R::graph_node | R::graph_edge => "a node or an edge",
        R::graph_attr => "`name: value`",
        R::params | R::param => "a parameter `name: type`",
        R::EOI => "end of file",
        // Items and clauses, named by the keyword that starts them (positives
        // list the rule, not its keyword, when nothing of it matched).
        R::import => "`import`",
        R::const_decl => "`const`",
        R::fn_decl | R::plugin_fn => "`fn`",
        R::schema_block => "`schema`",
        R::rule_decl | R::exc_rule => "`rule`",
        R::priority => "`priority`",
        R::exception => "`exception`",
        R::decision => "`decision`",
        R::plugin => "`plugin`",
        R::test => "`test`",
        R::node_decl => "`node`",
        R::edge_decl => "`edge`",
        R::enum_decl => "`enum`",
        R::severity_clause => "`severity`",
        R::enforce_clause => "`enforce`",
        R::maps_clause => "`maps`",
        R::for_clause => "`for`",
        R::let_clause => "`let`",
        R::require_clause | R::approval_clause => "`require`",
        R::message_clause => "`message`",
        R::help_clause => "`help`",
        R::exc_when => "`when`",
        R::exc_until => "`until`",
        R::exc_approved_by => "`approved_by`",
        R::exc_reason => "`reason`",
        R::input_clause => "`input`",
        R::deny_clause => "`deny`",
        R::allow_clause => "`allow`",
        R::given_clause => "`given`",
        R::now_clause => "`now`",
        R::expect_clause => "`expect`",
        R::kw_package => "`package`",
        R::kw_import => "`import`",
        R::kw_as => "`as`",
        R::kw_const => "`const`",
        R::kw_fn => "`fn`",
        R::kw_schema => "`schema`",
        R::kw_node => "`node`",
        R::kw_edge => "`edge`",
        R::kw_enum => "`enum`",
        R::kw_rule => "`rule`",
        R::kw_for => "`for`",
        R::kw_where => "`where`",
        R::kw_let => "`let`",
        R::kw_require => "`require`",
        R::kw_severity => "`severity`",
        R::kw_by => "`by`",
        R::kw_enforce => "`enforce`",
        R::kw_maps => "`maps`",
        R::kw_message => "`message`",
        R::kw_help => "`help`",
        R::kw_priority => "`priority`",
        R::kw_within => "`within`",
        R::kw_exception => "`exception`",
        R::kw_when => "`when`",
        R::kw_until => "`until`",
        R::kw_approved_by => "`approved_by`",
        R::kw_reason => "`reason`",
        R::kw_decision => "`decision`",
        R::kw_input => "`input`",
        R::kw_allow => "`allow`",
        R::kw_deny => "`deny`",
        R::kw_approval => "`approval`",
        R::kw_from => "`from`",
        R::kw_plugin => "`plugin`",
        R::kw_test => "`test`",
        R::kw_given => "`given`",
        R::kw_expect => "`expect`",
        R::kw_fails => "`fails`",
        R::kw_passes => "`passes`",
        R::kw_on => "`on`",
        R::kw_finds => "`finds`",
        R::kw_waived => "`waived`",
        R::kw_with => "`with`",
        R::kw_is => "`is`",
        R::kw_if => "`if`",
        R::kw_then => "`then`",
        R::kw_else => "`else`",
        R::kw_match => "`match`",
        R::kw_in => "`in`",
        _ => return None,
    })
}

/// Item and clause rules, which `describe` names by their first keyword.
fn is_structural(rule: Rule) -> bool {
    use Rule as R;
    matches!(
        rule,
        R::import
            | R::const_decl
            | R::fn_decl
            | R::plugin_fn
            | R::schema_block
            | R::rule_decl
            | R::exc_rule
            | R::priority
            | R::exception
            | R::decision
            | R::plugin
            | R::test
            | R::node_decl
            | R::edge_decl
            | R::enum_decl
            | R::severity_clause
            | R::enforce_clause
            | R::maps_clause
            | R::for_clause
            | R::let_clause
            | R::require_clause
            | R::approval_clause
            | R::message_clause
            | R::help_clause
            | R::exc_when
            | R::exc_until
            | R::exc_approved_by
            | R::exc_reason
            | R::input_clause
            | R::deny_clause
            | R::allow_clause
            | R::given_clause
            | R::now_clause
            | R::expect_clause
    )
}

/// Tokens that continue an expression; listed one by one they drown the useful part.
const OPERATOR_TOKENS: &[&str] = &[
    "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", ".", "(", "and", "or", "in", "not",
    "has",
];

const RULE_CLAUSES: &[&str] =
    &["`for`", "`require`", "`let`", "`severity`", "`enforce`", "`maps`", "`message`", "`help`"];
const ITEMS: &[&str] = &[
    "`rule`",
    "`exception`",
    "`decision`",
    "`priority`",
    "`const`",
    "`fn`",
    "`schema`",
    "`plugin`",
    "`test`",
    "`import`",
];

/// Collapses a set of expectations into a short phrase.
fn expected_phrase(mut set: BTreeSet<&'static str>, literals: &BTreeSet<String>) -> String {
    let mut parts: Vec<String> = Vec::new();
    if ITEMS.iter().filter(|i| set.contains(**i)).count() >= 3 {
        ITEMS.iter().for_each(|i| {
            set.remove(*i);
        });
        set.remove("`package`");
        parts.push("an item (`rule`, `exception`, `decision`, ...)".into());
    }
    if RULE_CLAUSES.iter().filter(|i| set.contains(**i)).count() >= 3 {
        RULE_CLAUSES.iter().for_each(|i| {
            set.remove(*i);
        });
        parts.push("a rule clause (`for`, `require`, `let`, `message`, ...)".into());
    }
    // "an operator" after an expression is noise when something more specific is expected.
    let specific = set.iter().any(|s| s.starts_with('`')) || !literals.is_empty();
    if specific && set.contains("an operator") && set.len() + literals.len() > 2 {
        set.remove("an operator");
    }
    if set.contains("an expression") {
        set.remove("a name");
        set.remove("a string");
        set.remove("a number");
        set.remove("a date");
        set.remove("`true` or `false`");
        set.remove("`if`");
        set.remove("`match`");
    }
    // Braces and punctuation first, then keywords, then categories.
    let mut lits: Vec<String> = literals.iter().map(|l| format!("`{l}`")).collect();
    lits.sort_by_key(|l| (l != "`}`", l.clone()));
    let mut all: Vec<String> = lits;
    all.extend(set.iter().filter(|s| s.starts_with('`')).map(|s| (*s).to_owned()));
    all.extend(parts);
    all.extend(set.iter().filter(|s| !s.starts_with('`')).map(|s| (*s).to_owned()));
    all.dedup();
    if all.len() > 6 {
        all.truncate(6);
        all.push("...".into());
    }
    match all.as_slice() {
        [] => "something else".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token found at `pos`, as a user would name it, and its length.
fn found_token(text: &str, pos: usize) -> (String, usize) {
    let rest = text.get(pos..).unwrap_or("");
    let Some(c) = rest.chars().next() else { return ("end of file".into(), 0) };
    if c == '"' {
        let end = rest.get(1..).and_then(|r| r.find('"')).map_or(rest.len().min(1), |i| i + 2);
        return ("a string".into(), end);
    }
    if c.is_alphanumeric() || c == '_' {
        let len: usize = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .map(char::len_utf8)
            .sum();
        let word = rest.get(..len).unwrap_or("").trim_end_matches('-');
        return (format!("`{word}`"), word.len());
    }
    for op in [
        "==", "!=", "<=", ">=", "=>", "->", "-[", "<-[", "]->", "///", "..", "//", "/*", "&&", "||",
    ] {
        if rest.starts_with(op) {
            return (format!("`{op}`"), op.len());
        }
    }
    (format!("`{c}`"), c.len_utf8())
}

/// The innermost `{` still open at `pos` (skipping strings and comments).
fn unclosed_brace(text: &str, pos: usize) -> Option<usize> {
    unclosed(text, pos, b'{', b'}')
}

/// The innermost `open` bracket not closed by `close` before `pos`, skipping
/// strings and comments.
fn unclosed(text: &str, pos: usize, open: u8, close: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut stack = Vec::new();
    let mut i = 0;
    while i < pos.min(bytes.len()) {
        match bytes.get(i) {
            Some(b'"') => {
                i += 1;
                while let Some(&b) = bytes.get(i) {
                    if b == b'\\' {
                        i += 1;
                    } else if b == b'"' || b == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            Some(b'/') if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|b| *b != b'\n') {
                    i += 1;
                }
            }
            Some(b'/') if bytes.get(i + 1) == Some(&b'*') => {
                let mut level = 0usize;
                while i < bytes.len() {
                    match (bytes.get(i), bytes.get(i + 1)) {
                        (Some(b'/'), Some(b'*')) => {
                            level += 1;
                            i += 1;
                        }
                        (Some(b'*'), Some(b'/')) => {
                            level = level.saturating_sub(1);
                            i += 1;
                            if level == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            Some(&b) if b == open => stack.push(i),
            Some(&b) if b == close => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    stack.pop()
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// True when `pos` falls inside a word or a run of `/`: pest's deepest attempt
/// can stop there (`for_each` fails after `for` looked ahead), but a person
/// reads the token as a whole.
fn inside_token(text: &str, pos: usize) -> bool {
    let bytes = text.as_bytes();
    match (pos.checked_sub(1).and_then(|p| bytes.get(p)), bytes.get(pos)) {
        (Some(&a), Some(&b)) => (is_word_byte(a) && is_word_byte(b)) || (a == b'/' && b == b'/'),
        _ => false,
    }
}

/// The word (or `-`-joined rule name) that ends right before `pos`, skipping
/// whitespace, with its start offset.
fn word_before(text: &str, pos: usize) -> Option<(&str, usize)> {
    let before = text.get(..pos)?.trim_end();
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map(|(i, _)| i)?;
    Some((before.get(start..)?, start))
}

/// The operator that ends right before `pos` (skipping whitespace), with its span.
fn operator_before(text: &str, pos: usize) -> Option<(&'static str, Span)> {
    let before = text.get(..pos)?.trim_end();
    let end = before.len();
    for op in ["==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%"] {
        if before.ends_with(op) && !before.ends_with("->") && !before.ends_with("]-") {
            return Some((op, Span::new(end - op.len(), end)));
        }
    }
    let (word, start) = word_before(text, pos)?;
    ["and", "or", "not", "in"]
        .iter()
        .find(|w| **w == word)
        .map(|w| (*w, Span::new(start, start + w.len())))
}

/// The line holding `pos`, if it is nothing but a `///` doc comment, with its offset.
fn doc_comment_line_before(text: &str, pos: usize) -> Option<usize> {
    let before = text.get(..pos)?.trim_end();
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    let line = before.get(line_start..)?;
    let indent = line.len() - line.trim_start().len();
    let trimmed = line.trim_start();
    (trimmed.starts_with("///") && !trimmed.starts_with("////")).then_some(line_start + indent)
}

/// Words that start a clause; after a binary operator one of them means the
/// condition before it was left unfinished (`require a and` + `message ...`).
const CLAUSE_WORDS: &[&str] = &[
    "message",
    "help",
    "require",
    "severity",
    "enforce",
    "maps",
    "when",
    "until",
    "approved_by",
    "reason",
    "deny",
    "allow",
    "input",
    "given",
    "expect",
    "let",
    "for",
];

/// Converts a pest error into a diagnostic.
pub(crate) fn pest_error_to_diag(file: &Arc<SourceFile>, e: &Error<Rule>) -> Diag {
    let text = file.text();
    let mut pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: BTreeSet<&'static str> = BTreeSet::new();
    let mut literals: BTreeSet<String> = BTreeSet::new();
    let attempts = e.parse_attempts();
    // pest reports the start of the rule that failed; the detailed attempts know
    // how far the parse really got (`for x identity` fails at `identity`),
    // unless that is inside a token, where only a lookahead got (`for_each`).
    let usable = attempts
        .as_ref()
        .is_some_and(|a| a.max_position >= pos && !inside_token(text, a.max_position));
    let deeper = usable && attempts.as_ref().is_some_and(|a| a.max_position > pos);
    if !deeper && let ErrorVariant::ParsingError { positives, .. } = &e.variant {
        // An item or clause rule alone in the positives failed somewhere inside
        // (`fn f() {` lacks `->`), it was not expected here; several of them
        // are the alternatives of a block (`expected an item`).
        let structural = positives.iter().filter(|r| is_structural(**r)).count();
        expected.extend(
            positives
                .iter()
                .filter(|r| structural >= 2 || !is_structural(**r))
                .filter_map(|r| describe(*r)),
        );
    }
    if usable && let Some(attempts) = &attempts {
        pos = attempts.max_position;
        let tokens: Vec<String> =
            attempts.expected_tokens().iter().map(ToString::to_string).collect();
        // A value may start here only if pest tried a digit, a letter or a quote;
        // otherwise `(`, `-` and `not` are operators continuing an expression.
        let value_may_start =
            tokens.iter().any(|t| matches!(t.as_str(), "0..9" | "a..z" | "A..Z" | "\""));
        for token in tokens {
            // `ParsingToken` is not exported; its `Display` is the literal text,
            // `a..b` for a character range and `BUILTIN_RULE` for the rest.
            let is_range = token.chars().count() == 4 && token.get(1..3) == Some("..");
            let keyword = token.chars().all(|c| c.is_ascii_alphabetic() || c == '_');
            let internal = matches!(
                token.as_str(),
                "\"" | "\\" | "\n" | " " | "\t" | "\r" | "//" | "/*" | "///"
            );
            if is_range || token == "BUILTIN_RULE" || internal {
                continue;
            }
            if OPERATOR_TOKENS.contains(&token.as_str()) {
                if !(value_may_start && matches!(token.as_str(), "(" | "-" | "not")) {
                    expected.insert("an operator");
                }
            } else if keyword {
                // Words are covered by their keyword rules.
            } else {
                literals.insert(token);
            }
        }
        for cs in attempts.call_stacks() {
            let Some(r) = cs.deepest.get_rule().copied().or(cs.parent) else { continue };
            // The deepest rule is `expr` both where a value may start and where
            // an operator may continue one; the tokens tell which.
            if is_structural(r) {
                // A parent block, not something expected here.
                continue;
            }
            if r == Rule::expr && !value_may_start {
                expected.insert("an operator");
            } else if let Some(d) = describe(r) {
                expected.insert(d);
            }
        }
    }
    if expected.contains("an expression") {
        // `(`, `[` and `-` are how an expression starts; say "an expression" once.
        literals.retain(|l| !matches!(l.as_str(), "(" | "[" | "-"));
    }
    let (found, len) = found_token(text, pos);
    let here = Span::new(pos, pos + len.max(1).min(text.len().saturating_sub(pos).max(1)));
    let rest = text.get(pos..).unwrap_or("");
    let word = found.trim_matches('`');
    let is_word = word.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');

    // ---- mistakes recognised by their shape, before the generic message

    let doc_here = rest.starts_with("///") && !rest.starts_with("////");
    // After a doc comment, a misspelt item (`rulez`) is the mistake, not the
    // doc comment; the end of the block or file, or `import`, are not items.
    let nothing_to_document = !is_word || matches!(word, "import" | "package" | "end of file");
    let doc_before = if doc_here {
        Some(pos)
    } else if nothing_to_document {
        doc_comment_line_before(text, pos)
    } else {
        None
    };
    if let Some(at) = doc_before {
        let mut d =
            Diag::error(Code::MisplacedDocComment, "doc comment `///` is not followed by an item")
                .in_file(file)
                .label(Span::new(at, at + 3), "nothing to document here");
        d = if matches!(word, "import" | "package") && !doc_here {
            d.help(format!("`{word}` cannot carry a doc comment; use `//` for a plain comment"))
        } else {
            d.help("doc comments document a `rule`, `exception`, `decision`, `priority`, `const`, `fn`, `plugin`, `test` or schema member; use `//` for a plain comment")
        };
        return d;
    }
    if rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>") {
        return Diag::error(Code::AssignInsteadOfEq, "expected `==` to compare, found `=`")
            .in_file(file)
            .label(Span::new(pos, pos + 1), "`=` does not compare")
            .help("write `==` to test equality; `=` only appears in `let x = ...`, `const` and `plugin` declarations");
    }
    let wants_name = expected.contains("a name") || expected.contains("a rule name");
    if RESERVED.contains(&word) && wants_name {
        return reserved_word(file, word, here);
    }
    // `for match: identity`: pest got past the reserved word to the `:`.
    if found == "`:`"
        && wants_name
        && let Some((prev, start)) = word_before(text, pos)
        && RESERVED.contains(&prev)
    {
        return reserved_word(file, prev, Span::new(start, start + prev.len()));
    }
    // `require a and` followed by the next clause: the clause word was read as
    // the missing operand (clause words are not reserved), or refused as one.
    // Only a clause word that starts its line: `a == reason` may well use an
    // input named `reason`.
    let starts_line =
        |at: usize| text.get(..at).is_some_and(|b| b.trim_end_matches([' ', '\t']).ends_with('\n'));
    let dangling = if is_word && CLAUSE_WORDS.contains(&word) && starts_line(pos) {
        operator_before(text, pos).map(|op| (op, word, here))
    } else {
        word_before(text, pos)
            .filter(|(w, start)| CLAUSE_WORDS.contains(w) && starts_line(*start))
            .and_then(|(w, start)| {
                operator_before(text, start).map(|op| (op, w, Span::new(start, start + w.len())))
            })
    };
    if let Some(((op, op_span), clause, clause_span)) = dangling {
        return Diag::error(
            Code::UnexpectedToken,
            format!("expected an expression after `{op}`, found `{clause}`"),
        )
        .in_file(file)
        .label(clause_span, format!("`{clause}` starts the next clause"))
        .label(op_span, format!("`{op}` needs a right-hand side"))
        .help(format!("finish the condition after `{op}`, or remove the `{op}`"));
    }
    if word == "package" && pos > 0 {
        return Diag::error(
            Code::UnexpectedToken,
            "`package` must be the first declaration in a file",
        )
        .in_file(file)
        .label(here, "too late for `package`")
        .help("move the `package` line to the top of the file, before any `import`");
    }
    if rest.starts_with("]>") {
        return Diag::error(Code::UnexpectedToken, "expected `]->` to end the edge, found `]>`")
            .in_file(file)
            .label(Span::new(pos, pos + 2), "missing `-`")
            .help("an outgoing step is written `-[owned_by]->`, an incoming one `<-[owned_by]-`");
    }
    if rest.starts_with('>') && text.get(..pos).is_some_and(|b| b.ends_with("]-")) {
        let arrow_start = text.get(..pos).and_then(|b| b.rfind("<-[")).unwrap_or(pos);
        return Diag::error(Code::UnexpectedToken, "a path step cannot point both ways")
            .in_file(file)
            .label(Span::new(arrow_start, pos + 1), "arrow heads on both ends")
            .help("write `-[e]->` for an outgoing edge, `<-[e]-` for an incoming one, or `-[e]-` for either direction");
    }
    if found == "`}`"
        && text.get(..pos).is_some_and(|b| b.ends_with('{'))
        && expected.contains("an expression")
    {
        return Diag::error(Code::UnexpectedToken, "empty `{}` in a template")
            .in_file(file)
            .label(Span::new(pos - 1, pos + 1), "no expression between the braces")
            .help("put a value between the braces, e.g. `{id.name}`, or write `\\{\\}` for literal braces");
    }

    for (wrong, right) in [("&&", "and"), ("||", "or")] {
        if rest.starts_with(wrong) && expected.contains("an operator") {
            return Diag::error(
                Code::UnexpectedToken,
                format!("expected `{right}`, found `{wrong}`"),
            )
            .in_file(file)
            .label(Span::new(pos, pos + 2), format!("write `{right}`"))
            .help("gov spells its logical operators as words: `and`, `or`, `not`");
        }
    }

    // ---- the generic message

    let phrase = expected_phrase(expected.clone(), &literals);
    if len == 0 {
        let open = unclosed_brace(text, pos);
        let message = if open.is_some() && literals.contains("}") {
            "unexpected end of file, expected `}`".to_owned()
        } else {
            format!("unexpected end of file, expected {phrase}")
        };
        let mut d = Diag::error(Code::UnexpectedEof, message)
            .in_file(file)
            .label(Span::new(text.len(), text.len()), "the file ends here");
        if let Some(open) = open {
            d = d
                .label(Span::new(open, open + 1), "this `{` is never closed")
                .help("add the missing `}`");
        }
        return d;
    }
    let closing_expected = literals.contains("}") || expected.contains("a rule clause");
    if ITEM_WORDS.contains(&word)
        && closing_expected
        && let Some(open) = unclosed_brace(text, pos)
    {
        return Diag::error(Code::UnexpectedToken, format!("expected `}}` before {found}"))
            .in_file(file)
            .label(here, "a new item starts here")
            .label(Span::new(open, open + 1), "this `{` is not closed")
            .help("add `}` to close the block before the next item");
    }
    let message = if phrase == "something else" {
        format!("unexpected {found}")
    } else {
        format!("expected {phrase}, found {found}")
    };
    let label = format!("unexpected {}", found.strip_prefix("a ").unwrap_or(&found));
    let mut d = Diag::error(Code::UnexpectedToken, message).in_file(file).label(here, label);
    for (open, close) in [(b'(', ")"), (b'[', "]")] {
        // In a list or an argument list a missing `,` is as likely as a missing
        // closing bracket; say nothing about the bracket there.
        if literals.contains(close)
            && !literals.contains(",")
            && let Some(at) =
                unclosed(text, pos, open, close.as_bytes().first().copied().unwrap_or(b')'))
        {
            let open_text = char::from(open);
            return d
                .label(Span::new(at, at + 1), format!("this `{open_text}` is not closed"))
                .help(format!("add `{close}` to close it"));
        }
    }
    let mut keywords: Vec<&str> =
        expected.iter().filter_map(|e| e.strip_prefix('`')?.strip_suffix('`')).collect();
    if expected.contains("a rule clause") || phrase.contains("a rule clause") {
        keywords.extend(RULE_CLAUSES.iter().filter_map(|e| e.strip_prefix('`')?.strip_suffix('`')));
    }
    if phrase.contains("an item") {
        keywords.extend(ITEM_WORDS);
    }
    // `for_each`, `require_all`: a keyword glued to more letters.
    let glued = keywords
        .iter()
        .copied()
        .filter(|k| word.strip_prefix(k).is_some_and(|r| r.starts_with(['_', '-'])))
        .max_by_key(|k| k.len());
    if is_word && let Some(k) = did_you_mean(word, keywords.iter().copied()).or(glued) {
        return d.help(format!("did you mean `{k}`?"));
    }
    let prev = word_before(text, pos).map(|(w, _)| w);
    let help: Option<String> = if word.chars().next().is_some_and(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
    {
        Some("durations use `w`, `d`, `h`, `m` or `s` after a whole number, e.g. `90d`".into())
    } else if found == "`:`" && expected.contains("a name") {
        Some("a binding is written `name: kind`, with a name before the colon".into())
    } else if phrase == "`:`" {
        Some("a binding is written `name: kind`, e.g. `for c: credential`".into())
    } else if rest.starts_with("&&") {
        Some("write `and` to combine conditions".into())
    } else if rest.starts_with("||") {
        Some("write `or` for either condition".into())
    } else if rest.starts_with('!') && !rest.starts_with("!=") {
        Some("write `not` to negate a condition".into())
    } else if rest.starts_with('\'') {
        Some("strings are written in double quotes, e.g. `\"human\"`".into())
    } else if rest.starts_with(';') {
        Some("clauses end at the end of the line; remove the `;`".into())
    } else if rest.starts_with("->") && literals.contains("=>") {
        Some("an arm is written `pattern => value`, with `=>`".into())
    } else if phrase == "`->`" {
        Some(
            "declare what the function returns, e.g. `fn is_machine(id: identity) -> bool { ... }`"
                .into(),
        )
    } else if expected.contains("`else`") {
        Some("`if` is an expression with two branches: `if COND then A else B`".into())
    } else if phrase == "`within`" {
        Some("each arm names a priority and a deadline, e.g. `0 => P1 within 24h`".into())
    } else if phrase == "`when`" && prev != Some("when") {
        Some("`allow` needs a condition: `allow \"reason\" when CONDITION` (`when true` allows every request)".into())
    } else if expected.contains("a string") && prev == Some("deny") {
        Some("`deny` gives its reason first: `deny \"why\" when CONDITION`".into())
    } else if expected.contains("a string")
        && matches!(prev, Some("message" | "help" | "allow" | "reason"))
    {
        Some("write the text in double quotes; values go in `{...}` holes, e.g. `message \"{id.name} has no owner\"`".into())
    } else if expected.contains("a package name") {
        Some("import a package by its name, e.g. `import nhi.lifecycle`".into())
    } else if expected.contains("a rule name") {
        Some("name it in kebab-case, e.g. `rule owner-required {`".into())
    } else if expected.contains("a number") && prev == Some("finds") {
        Some("`finds` takes the number of findings, e.g. `finds 2`".into())
    } else if literals.contains(",")
        && (found == "a string" || is_word || word.starts_with(|c: char| c.is_ascii_digit()))
    {
        Some(format!("separate the elements with `,` before {found}"))
    } else {
        None
    };
    if let Some(h) = help {
        d = d.help(h);
    }
    d
}

fn reserved_word(file: &Arc<SourceFile>, word: &str, span: Span) -> Diag {
    Diag::error(Code::ReservedWord, format!("`{word}` is a reserved word and cannot be a name"))
        .in_file(file)
        .label(span, "reserved word")
        .help(format!("choose another name, e.g. `{word}_`"))
}
