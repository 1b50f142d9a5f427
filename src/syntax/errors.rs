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
    "and", "or", "not", "in", "has", "if", "then", "else", "match", "exists", "all", "true", "false", "null",
    "now", "where", "for", "let",
];

const ITEM_WORDS: &[&str] =
    &["rule", "exception", "decision", "priority", "const", "fn", "schema", "plugin", "test", "import"];

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
        R::pattern | R::pattern_lit | R::wildcard | R::match_arm | R::severity_arm | R::priority_arm => "a pattern",
        R::type_expr | R::list_type => "a type",
        R::optional_mark => "`?`",
        R::path | R::step | R::arrow_out | R::arrow_in | R::arrow_any => "a path step such as `-[owned_by]->`",
        R::repeat => "`*`",
        R::node_pattern => "a node pattern such as `p: identity`",
        R::graph_node | R::graph_edge => "a node or an edge",
        R::graph_attr => "`name: value`",
        R::params | R::param => "a parameter `name: type`",
        R::EOI => "end of file",
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

/// Tokens that continue an expression; listed one by one they drown the useful part.
const OPERATOR_TOKENS: &[&str] =
    &["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", ".", "(", "and", "or", "in", "not", "has"];

const RULE_CLAUSES: &[&str] =
    &["`for`", "`require`", "`let`", "`severity`", "`enforce`", "`maps`", "`message`", "`help`"];
const ITEMS: &[&str] = &[
    "`rule`", "`exception`", "`decision`", "`priority`", "`const`", "`fn`", "`schema`", "`plugin`", "`test`",
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
        let len: usize = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-').map(char::len_utf8).sum();
        let word = rest.get(..len).unwrap_or("").trim_end_matches('-');
        return (format!("`{word}`"), word.len());
    }
    for op in ["==", "!=", "<=", ">=", "=>", "->", "-[", "<-[", "]->", "///", "..", "//", "/*"] {
        if rest.starts_with(op) {
            return (format!("`{op}`"), op.len());
        }
    }
    (format!("`{c}`"), c.len_utf8())
}

/// The innermost `{` still open at `pos` (skipping strings and comments).
fn unclosed_brace(text: &str, pos: usize) -> Option<usize> {
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
            Some(b'{') => stack.push(i),
            Some(b'}') => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    stack.pop()
}

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
    // how far the parse really got (`for x identity` fails at `identity`).
    let deeper = attempts.as_ref().is_some_and(|a| a.max_position > pos);
    if !deeper && let ErrorVariant::ParsingError { positives, .. } = &e.variant {
        expected.extend(positives.iter().filter_map(|r| describe(*r)));
    }
    if let Some(attempts) = &attempts {
        if deeper {
            pos = attempts.max_position;
        }
        for t in attempts.expected_tokens() {
            // `ParsingToken` is not exported; its `Display` is the literal text,
            // `a..b` for a character range and `BUILTIN_RULE` for the rest.
            let token = t.to_string();
            let is_range = token.chars().count() == 4 && token.get(1..3) == Some("..");
            let keyword = token.chars().all(|c| c.is_ascii_alphabetic() || c == '_');
            let internal = matches!(token.as_str(), "\"" | "\\" | "\n" | " " | "\t" | "\r" | "//" | "/*" | "///");
            if is_range || token == "BUILTIN_RULE" || internal {
                continue;
            }
            if OPERATOR_TOKENS.contains(&token.as_str()) {
                expected.insert("an operator");
            } else if keyword {
                // Words are covered by their keyword rules.
            } else {
                literals.insert(token);
            }
        }
        for cs in attempts.call_stacks() {
            if let Some(r) = cs.deepest.get_rule().copied().or(cs.parent)
                && let Some(d) = describe(r)
            {
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

    if rest.starts_with("///") && !rest.starts_with("////") {
        return Diag::error(Code::MisplacedDocComment, "doc comment `///` is not followed by an item")
            .in_file(file)
            .label(Span::new(pos, pos + 3), "nothing to document here")
            .help("doc comments document a `rule`, `exception`, `decision`, `priority`, `const`, `fn`, `plugin`, `test` or schema member; use `//` for a plain comment");
    }
    if rest.starts_with('=') && !rest.starts_with("==") && !rest.starts_with("=>") {
        return Diag::error(Code::AssignInsteadOfEq, "expected `==` to compare, found `=`")
            .in_file(file)
            .label(Span::new(pos, pos + 1), "`=` does not compare")
            .help("write `==` to test equality; `=` only appears in `let x = ...`, `const` and `plugin` declarations");
    }
    let word = found.trim_matches('`');
    if RESERVED.contains(&word) && (expected.contains("a name") || expected.contains("a rule name")) {
        return Diag::error(Code::ReservedWord, format!("`{word}` is a reserved word and cannot be a name"))
            .in_file(file)
            .label(here, "reserved word")
            .help(format!("choose another name, e.g. `{word}_`"));
    }
    let phrase = expected_phrase(expected.clone(), &literals);
    if len == 0 {
        let mut d = Diag::error(Code::UnexpectedEof, format!("unexpected end of file, expected {phrase}"))
            .in_file(file)
            .label(Span::new(text.len(), text.len()), "the file ends here");
        if let Some(open) = unclosed_brace(text, pos) {
            d = d.label(Span::new(open, open + 1), "this `{` is never closed").help("add the missing `}`");
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
    let mut d = Diag::error(Code::UnexpectedToken, format!("expected {phrase}, found {found}"))
        .in_file(file)
        .label(here, format!("unexpected {found}"));
    let mut keywords: Vec<&str> = expected.iter().filter_map(|e| e.strip_prefix('`')?.strip_suffix('`')).collect();
    if expected.contains("a rule clause") || phrase.contains("a rule clause") {
        keywords.extend(RULE_CLAUSES.iter().filter_map(|e| e.strip_prefix('`')?.strip_suffix('`')));
    }
    if phrase.contains("an item") {
        keywords.extend(ITEM_WORDS);
    }
    if let Some(k) = did_you_mean(word, keywords) {
        return d.help(format!("did you mean `{k}`?"));
    }
    if word.chars().next().is_some_and(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
    {
        d = d.help("durations use `w`, `d`, `h`, `m` or `s` after a whole number, e.g. `90d`");
    } else if found == "`:`" && expected.contains("a name") {
        d = d.help("a binding is written `name: kind`, with a name before the colon");
    } else if phrase == "`:`" {
        d = d.help("a binding is written `name: kind`, e.g. `for c: credential`");
    }
    d
}

