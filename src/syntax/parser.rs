//! pest pairs → AST, with validation of literals and clause structure.
//!
//! The grammar accepts a little more than the language (any word after
//! `severity`, any number-like token where a duration goes) so that the
//! mistakes people make get a precise diagnostic from here instead of a
//! generic "unexpected token" from pest.

use std::cell::RefCell;
use std::sync::{Arc, LazyLock};

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::errors::pest_error_to_diag;
use super::lex::{self, Comment};
use crate::diag::{Code, Diag, Diagnostics, did_you_mean};
use crate::source::{Loc, SourceFile, Span};
use crate::time::{Duration, DurationError, Timestamp};

/// The generated pest parser.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/gov.pest"]
pub(crate) struct GovParser;

/// Largest `.gov` file accepted, in bytes.
pub const MAX_INPUT_BYTES: usize = 4 * 1024 * 1024;
/// Most operators in one expression, those in nested parentheses, arguments
/// and holes included: binary and unary operators, `.field`, calls and `has`.
/// A longer chain is almost certainly generated, and would make a tree too
/// deep to build, drop or check without exhausting the stack (`-` and `.f`
/// are not brackets or keywords, so the pre-scan does not bound them).
pub const MAX_OPERATOR_CHAIN: usize = 1000;

/// A parsed file: the tree and the comments the formatter keeps.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The tree.
    pub module: Module,
    /// Comments in source order.
    pub comments: Vec<Comment>,
    /// The source.
    pub file: Arc<SourceFile>,
}

/// Parses raw bytes (checks UTF-8 and size first).
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Parsed, Diagnostics> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(Diag::error(
            Code::InputTooLarge,
            format!(
                "`{name}` is {} bytes; policy files may be at most {MAX_INPUT_BYTES} bytes",
                bytes.len()
            ),
        )
        .help("split the policy into several files")
        .into());
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(&SourceFile::new(name, text)),
        Err(e) => {
            let valid = e.valid_up_to();
            // Show the valid prefix so the label has something to point at.
            let text = String::from_utf8_lossy(bytes).into_owned();
            let file = SourceFile::new(name, text);
            let (line, col) = file.line_col(valid);
            Err(Diag::error(
                Code::InvalidUtf8,
                format!("`{name}` is not valid UTF-8 (line {line}, column {col})"),
            )
            .in_file(&file)
            .label(Span::new(valid, valid + 1), "invalid byte here")
            .help("save the file as UTF-8")
            .into())
        }
    }
}

/// Parser calls a policy may take per byte of its text. The grammar backtracks
/// (an operand after `exists`, `if ... else` or an aggregate is tried again
/// when what follows fails), so a few hundred hostile bytes of unclosed
/// nested quantifiers or aggregates would take exponential time; real
/// policies take about 5 calls per byte. The budget bounds any parse to a
/// linear amount of work, and running out of it is a located `too_deep`
/// error.
pub const PARSE_CALLS_PER_BYTE: usize = 32;
/// Calls every parse may take whatever its size.
const PARSE_CALLS_BASE: usize = 200_000;

/// pest's call budget is process-wide and read when a parse starts, so
/// parses take turns: set the budget for this text, parse, release.
static PARSE_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the generated parser for `rule` within the call budget of `text`;
/// `detail` collects what each failed attempt expected (the error path).
fn parse_within_budget(
    rule: Rule,
    text: &str,
    detail: bool,
) -> Result<Pairs<'_, Rule>, Box<pest::error::Error<Rule>>> {
    let _turn = PARSE_TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let budget = PARSE_CALLS_BASE.saturating_add(PARSE_CALLS_PER_BYTE.saturating_mul(text.len()));
    pest::set_call_limit(std::num::NonZeroUsize::new(budget));
    pest::set_error_detail(detail);
    let result = GovParser::parse(rule, text).map_err(Box::new);
    pest::set_error_detail(false);
    pest::set_call_limit(None);
    result
}

/// Whether a pest error is the call budget (or the native stack) running
/// out rather than a syntax error.
fn out_of_budget(e: &pest::error::Error<Rule>) -> bool {
    matches!(&e.variant, pest::error::ErrorVariant::CustomError { message }
        if message.contains("call limit reached") || message.contains("stack limit reached"))
}

/// The diagnostic for a parse that ran out of its budget.
fn too_complex(file: &Arc<SourceFile>, e: &pest::error::Error<Rule>) -> Diag {
    let at = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((p, _)) => p,
    };
    let at = at.min(file.text().len());
    Diag::error(Code::TooDeep, "this policy is too complex to parse")
        .in_file(file)
        .label(Span::new(at, at), "the parser gave up here")
        .help(format!(
            "a policy may take {PARSE_CALLS_PER_BYTE} parser steps per byte; look for unclosed brackets \
             around nested `exists`, `if` or aggregates, or split the expression into `let`s"
        ))
}

/// Parses a source file into an AST, or returns every error found.
pub fn parse(file: &Arc<SourceFile>) -> Result<Parsed, Diagnostics> {
    if file.text().len() > MAX_INPUT_BYTES {
        return Err(Diag::error(
            Code::InputTooLarge,
            format!(
                "`{}` is {} bytes; policy files may be at most {MAX_INPUT_BYTES} bytes",
                file.name(),
                file.text().len()
            ),
        )
        .help("split the policy into several files")
        .into());
    }
    let scan = lex::scan(file);
    if scan.diags.has_errors() {
        return Err(scan.diags);
    }
    let pairs = match parse_within_budget(Rule::file, file.text(), false) {
        Ok(p) => p,
        Err(e) if out_of_budget(&e) => return Err(too_complex(file, &e).into()),
        Err(_) => {
            // Parse again collecting detail: it costs time only on the error path.
            let detailed = parse_within_budget(Rule::file, file.text(), true);
            return Err(match detailed {
                Err(e) if out_of_budget(&e) => too_complex(file, &e).into(),
                Err(e) => pest_error_to_diag(file, &e).into(),
                Ok(_) => {
                    Diag::error(Code::UnexpectedToken, "the parser disagreed with itself").into()
                }
            });
        }
    };
    let builder = Builder::new(file, &scan.comments);
    let module = pairs.into_iter().next().map(|p| builder.file_(p));
    let diags = builder.diags.into_inner();
    match module {
        Some(module) if !diags.has_errors() => {
            Ok(Parsed { module, comments: scan.comments, file: file.clone() })
        }
        _ => {
            let mut diags = diags;
            diags.sort_by_position();
            Err(diags)
        }
    }
}

/// Parses a single expression (for tools and tests).
pub fn parse_expr(file: &Arc<SourceFile>) -> Result<Expr, Diagnostics> {
    let scan = lex::scan(file);
    if scan.diags.has_errors() {
        return Err(scan.diags);
    }
    let pairs = parse_within_budget(Rule::expr_only, file.text(), false).map_err(|e| {
        if out_of_budget(&e) {
            return Diagnostics::from(too_complex(file, &e));
        }
        let d = match parse_within_budget(Rule::expr_only, file.text(), true) {
            Err(e2) if out_of_budget(&e2) => too_complex(file, &e2),
            Err(e2) => pest_error_to_diag(file, &e2),
            Ok(_) => pest_error_to_diag(file, &e),
        };
        Diagnostics::from(d)
    })?;
    let builder = Builder::new(file, &scan.comments);
    let expr = pairs
        .into_iter()
        .next()
        .and_then(|p| p.into_inner().find(|p| p.as_rule() == Rule::expr))
        .map(|p| builder.expr(p));
    let diags = builder.diags.into_inner();
    match expr {
        Some(e) if !diags.has_errors() => Ok(e),
        _ => Err(diags),
    }
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_not_in, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_rem, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::field) | Op::postfix(Rule::call_args) | Op::postfix(Rule::has_attr))
});

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_package
            | Rule::kw_import
            | Rule::kw_as
            | Rule::kw_const
            | Rule::kw_fn
            | Rule::kw_schema
            | Rule::kw_node
            | Rule::kw_edge
            | Rule::kw_enum
            | Rule::kw_rule
            | Rule::kw_for
            | Rule::kw_where
            | Rule::kw_let
            | Rule::kw_require
            | Rule::kw_severity
            | Rule::kw_by
            | Rule::kw_enforce
            | Rule::kw_maps
            | Rule::kw_message
            | Rule::kw_help
            | Rule::kw_priority
            | Rule::kw_within
            | Rule::kw_exception
            | Rule::kw_when
            | Rule::kw_until
            | Rule::kw_approved_by
            | Rule::kw_reason
            | Rule::kw_decision
            | Rule::kw_input
            | Rule::kw_allow
            | Rule::kw_deny
            | Rule::kw_approval
            | Rule::kw_from
            | Rule::kw_plugin
            | Rule::kw_test
            | Rule::kw_given
            | Rule::kw_now
            | Rule::kw_expect
            | Rule::kw_fails
            | Rule::kw_passes
            | Rule::kw_on
            | Rule::kw_finds
            | Rule::kw_waived
            | Rule::kw_with
            | Rule::kw_is
            | Rule::kw_if
            | Rule::kw_then
            | Rule::kw_else
            | Rule::kw_match
            | Rule::kw_in
            | Rule::kw_has
    )
}

/// Every operator token that adds a level to an expression tree.
fn is_operator(rule: Rule) -> bool {
    is_binary_op(rule)
        || matches!(
            rule,
            Rule::op_not | Rule::op_neg | Rule::field | Rule::call_args | Rule::has_attr
        )
}

fn is_binary_op(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::op_or
            | Rule::op_and
            | Rule::op_eq
            | Rule::op_ne
            | Rule::op_le
            | Rule::op_ge
            | Rule::op_lt
            | Rule::op_gt
            | Rule::op_not_in
            | Rule::op_in
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div
            | Rule::op_rem
    )
}

/// Children of a pair without the keyword tokens.
fn kids(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

struct Builder {
    file: Arc<SourceFile>,
    diags: RefCell<Diagnostics>,
    /// `(end, start)` of every comment, sorted by end.
    comment_ends: Vec<(usize, usize)>,
    /// How many `expr` calls are open: operators are counted once, at the
    /// outermost expression, over everything nested in it.
    expr_depth: std::cell::Cell<usize>,
}

impl Builder {
    fn new(file: &Arc<SourceFile>, comments: &[Comment]) -> Self {
        let mut comment_ends: Vec<(usize, usize)> =
            comments.iter().map(|c| (c.span.end, c.span.start)).collect();
        comment_ends.sort_unstable();
        Self {
            file: file.clone(),
            diags: RefCell::new(Diagnostics::new()),
            comment_ends,
            expr_depth: std::cell::Cell::new(0),
        }
    }

    /// The pair's span without the whitespace and comments pest's implicit
    /// skipping leaves at its end (before an optional part that was absent).
    fn loc(&self, pair: &Pair<'_, Rule>) -> Loc {
        let s = pair.as_span();
        let (start, mut end) = (s.start(), s.end());
        let bytes = self.file.text().as_bytes();
        while end > start {
            if bytes.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
                end -= 1;
            } else if let Ok(i) = self.comment_ends.binary_search_by_key(&end, |(e, _)| *e) {
                match self.comment_ends.get(i) {
                    Some((_, cstart)) if *cstart >= start => end = *cstart,
                    _ => break,
                }
            } else {
                break;
            }
        }
        Loc::new(self.file.clone(), Span::new(start, end))
    }

    fn span_loc(&self, span: Span) -> Loc {
        Loc::new(self.file.clone(), span)
    }

    fn error(
        &self,
        code: Code,
        message: impl Into<String>,
        span: Span,
        label: &str,
        help: Option<String>,
    ) {
        let mut d = Diag::error(code, message).in_file(&self.file).label(span, label);
        if let Some(h) = help {
            d = d.help(h);
        }
        self.diags.borrow_mut().push(d);
    }

    fn name(&self, pair: Pair<'_, Rule>) -> Name {
        Name { name: pair.as_str().to_owned(), loc: self.loc(&pair) }
    }

    fn file_(&self, pair: Pair<'_, Rule>) -> Module {
        let loc = self.loc(&pair);
        let mut package = None;
        let mut items = Vec::new();
        for p in kids(pair) {
            match p.as_rule() {
                Rule::package_decl => package = kids(p).next().map(|q| self.name(q)),
                Rule::EOI => {}
                _ => {
                    if let Some(item) = self.item(p) {
                        items.push(item);
                    }
                }
            }
        }
        Module { package, items, loc }
    }

    fn docs(&self, pair: Pair<'_, Rule>) -> Docs {
        pair.into_inner()
            .map(|d| {
                let t = d.as_str().trim_start_matches("///");
                t.strip_prefix(' ').unwrap_or(t).trim_end().to_owned()
            })
            .collect()
    }

    /// Splits a leading `docs` pair off an item's children.
    fn docs_and_rest<'i>(&self, pair: Pair<'i, Rule>) -> (Docs, Vec<Pair<'i, Rule>>) {
        let mut docs = Vec::new();
        let mut rest = Vec::new();
        for p in kids(pair) {
            if p.as_rule() == Rule::docs {
                docs = self.docs(p);
            } else {
                rest.push(p);
            }
        }
        (docs, rest)
    }

    fn item(&self, pair: Pair<'_, Rule>) -> Option<Item> {
        let loc = self.loc(&pair);
        Some(match pair.as_rule() {
            Rule::import => {
                let mut it = kids(pair);
                let path = self.name(it.next()?);
                let alias = it.next().map(|a| self.name(a));
                Item::Import(Import { path, alias, loc })
            }
            Rule::const_decl => {
                let (docs, rest) = self.docs_and_rest(pair);
                let mut it = rest.into_iter();
                let name = self.name(it.next()?);
                let mut next = it.next()?;
                let ty = if next.as_rule() == Rule::type_expr {
                    let t = self.type_expr(next);
                    next = it.next()?;
                    Some(t)
                } else {
                    None
                };
                Item::Const(ConstDecl { docs, name, ty, value: self.expr(next), loc })
            }
            Rule::fn_decl => {
                let (docs, rest) = self.docs_and_rest(pair);
                let mut it = rest.into_iter().peekable();
                let name = self.name(it.next()?);
                let params = match it.peek() {
                    Some(p) if p.as_rule() == Rule::params => self.params(it.next()?),
                    _ => Vec::new(),
                };
                let ret = self.type_expr(it.next()?);
                let body = self.expr(it.next()?);
                Item::Fn(FnDecl { docs, name, params, ret, body, loc })
            }
            Rule::schema_block => {
                let (docs, rest) = self.docs_and_rest(pair);
                let members = rest.into_iter().filter_map(|m| self.schema_member(m)).collect();
                Item::Schema(SchemaBlock { docs, members, loc })
            }
            Rule::rule_decl => Item::Rule(self.rule(pair)?),
            Rule::priority => {
                let (docs, rest) = self.docs_and_rest(pair);
                let mut it = rest.into_iter();
                let by = self.expr(it.next()?);
                let arms = it.filter_map(|a| self.priority_arm(a)).collect();
                Item::Priority(Priority { docs, by, arms, loc })
            }
            Rule::exception => Item::Exception(self.exception(pair)?),
            Rule::decision => Item::Decision(self.decision(pair)?),
            Rule::plugin => {
                let (docs, rest) = self.docs_and_rest(pair);
                let mut it = rest.into_iter();
                let name = self.name(it.next()?);
                let path = self.string(it.next()?);
                let fns = it.filter_map(|f| self.plugin_fn(f)).collect();
                Item::Plugin(Plugin { docs, name, path, fns, loc })
            }
            Rule::test => Item::Test(self.test(pair)?),
            _ => return None,
        })
    }

    fn params(&self, pair: Pair<'_, Rule>) -> Vec<Param> {
        kids(pair).filter_map(|p| self.param(p)).collect()
    }

    fn param(&self, pair: Pair<'_, Rule>) -> Option<Param> {
        let loc = self.loc(&pair);
        let mut it = kids(pair);
        let name = self.name(it.next()?);
        let ty = self.type_expr(it.next()?);
        Some(Param { name, ty, loc })
    }

    fn type_expr(&self, pair: Pair<'_, Rule>) -> TypeExpr {
        let loc = self.loc(&pair);
        let mut optional = false;
        let mut kind = TypeKind::Named(Name { name: String::new(), loc: loc.clone() });
        for p in kids(pair) {
            match p.as_rule() {
                Rule::optional_mark => optional = true,
                Rule::list_type => {
                    if let Some(inner) = kids(p).next() {
                        kind = TypeKind::List(Box::new(self.type_expr(inner)));
                    }
                }
                _ => kind = TypeKind::Named(self.name(p)),
            }
        }
        TypeExpr { kind, optional, loc }
    }

    fn schema_member(&self, pair: Pair<'_, Rule>) -> Option<SchemaMember> {
        let loc = self.loc(&pair);
        let rule = pair.as_rule();
        let (docs, rest) = self.docs_and_rest(pair);
        let mut it = rest.into_iter();
        Some(match rule {
            Rule::node_decl => {
                let name = self.name(it.next()?);
                let attrs = it.filter_map(|a| self.attr_decl(a)).collect();
                SchemaMember::Node(NodeDecl { docs, name, attrs, loc })
            }
            Rule::edge_decl => {
                let name = self.name(it.next()?);
                let from = kids(it.next()?).map(|k| self.name(k)).collect();
                let to = kids(it.next()?).map(|k| self.name(k)).collect();
                let attrs = it.filter_map(|a| self.attr_decl(a)).collect();
                SchemaMember::Edge(EdgeDecl { docs, name, from, to, attrs, loc })
            }
            Rule::enum_decl => {
                let name = self.name(it.next()?);
                let variants = it.map(|v| self.name(v)).collect();
                SchemaMember::Enum(EnumDecl { docs, name, variants, loc })
            }
            _ => return None,
        })
    }

    fn attr_decl(&self, pair: Pair<'_, Rule>) -> Option<AttrDecl> {
        let loc = self.loc(&pair);
        let (docs, rest) = self.docs_and_rest(pair);
        let mut it = rest.into_iter();
        let name = self.name(it.next()?);
        let ty = self.type_expr(it.next()?);
        let default = it.next().map(|e| self.expr(e));
        Some(AttrDecl { docs, name, ty, default, loc })
    }

    fn rule(&self, pair: Pair<'_, Rule>) -> Option<Rule_> {
        let loc = self.loc(&pair);
        let (docs, rest) = self.docs_and_rest(pair);
        let mut it = rest.into_iter();
        let name = self.name(it.next()?);
        let mut clauses = Vec::new();
        for c in it {
            let cloc = self.loc(&c);
            let kind = match c.as_rule() {
                Rule::severity_clause => RuleClauseKind::Severity(self.severity(c)?),
                Rule::enforce_clause => {
                    let word = kids(c).next()?;
                    RuleClauseKind::Enforce { level: self.enforcement(&word)? }
                }
                Rule::maps_clause => {
                    RuleClauseKind::Maps { controls: kids(c).map(|s| self.string(s)).collect() }
                }
                Rule::for_clause => {
                    let mut f = kids(c);
                    let var = self.name(f.next()?);
                    let kind = self.name(f.next()?);
                    let filter = f.next().map(|e| self.expr(e));
                    RuleClauseKind::For { var, kind, filter }
                }
                Rule::let_clause => RuleClauseKind::Let(self.let_binding(c)?),
                Rule::require_clause => {
                    RuleClauseKind::Require { cond: self.expr(kids(c).next()?) }
                }
                Rule::message_clause => {
                    RuleClauseKind::Message { text: self.template(kids(c).next()?) }
                }
                Rule::help_clause => RuleClauseKind::Help { text: self.template(kids(c).next()?) },
                _ => continue,
            };
            clauses.push(RuleClause { kind, loc: cloc });
        }
        let r = Rule_ { docs, name, clauses, loc };
        self.validate_rule(&r);
        Some(r)
    }

    fn validate_rule(&self, r: &Rule_) {
        let keys: Vec<(&str, Span)> = r
            .clauses
            .iter()
            .filter_map(|c| {
                let key = match &c.kind {
                    RuleClauseKind::Severity(_) => "severity",
                    RuleClauseKind::Enforce { .. } => "enforce",
                    RuleClauseKind::Maps { .. } => "maps",
                    RuleClauseKind::For { .. } => "for",
                    RuleClauseKind::Message { .. } => "message",
                    RuleClauseKind::Help { .. } => "help",
                    RuleClauseKind::Let(_) | RuleClauseKind::Require { .. } => return None,
                };
                Some((key, c.loc.span))
            })
            .collect();
        self.check_clauses(
            "rule",
            &r.name,
            &keys,
            |key| match key {
                "maps" => "list every control in one `maps` clause, separated by commas".to_owned(),
                "for" => "a rule ranges over one kind; write a second rule for another".to_owned(),
                _ => format!("keep one `{key}` clause"),
            },
            &[(
                "for",
                "this rule does not say what it checks",
                "add `for x: kind where ...` to say which entities the rule applies to",
            )],
        );
    }

    /// Reports clauses that appear twice (every key in `keys` may appear
    /// once) and required clauses that are missing.
    fn check_clauses(
        &self,
        what: &str,
        name: &Name,
        keys: &[(&str, Span)],
        duplicate_help: impl Fn(&str) -> String,
        required: &[(&str, &str, &str)],
    ) {
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for &(key, span) in keys {
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                let d = Diag::error(
                    Code::DuplicateClause,
                    format!("{what} `{}` has more than one `{key}` clause", name.name),
                )
                .in_file(&self.file)
                .label(Span::new(span.start, span.start + key.len()), "second one here")
                .label(Span::new(first.start, first.start + key.len()), "first one here")
                .help(duplicate_help(key));
                self.diags.borrow_mut().push(d);
            } else {
                seen.push((key, span));
            }
        }
        for (key, label, help) in required {
            if !seen.iter().any(|(k, _)| k == key) {
                self.error(
                    Code::MissingClause,
                    format!("{what} `{}` has no `{key}` clause", name.name),
                    name.loc.span,
                    label,
                    Some((*help).into()),
                );
            }
        }
    }

    fn let_binding(&self, pair: Pair<'_, Rule>) -> Option<LetBinding> {
        let mut it = kids(pair);
        let name = self.name(it.next()?);
        let value = self.expr(it.next()?);
        Some(LetBinding { name, value })
    }

    fn severity(&self, pair: Pair<'_, Rule>) -> Option<SeveritySpec> {
        let mut it = kids(pair);
        let first = it.next()?;
        if first.as_rule() == Rule::ident {
            return Some(SeveritySpec::Fixed(self.severity_level(&first)?));
        }
        let scrutinee = self.expr(first);
        let arms = it
            .filter_map(|arm| {
                let loc = self.loc(&arm);
                let mut a = kids(arm);
                let pattern = self.pattern(a.next()?);
                let value = self.severity_level(&a.next()?)?;
                Some(Arm { pattern, value, loc })
            })
            .collect();
        Some(SeveritySpec::By { scrutinee, arms })
    }

    fn word_choice<T: Copy>(
        &self,
        word: &Pair<'_, Rule>,
        choices: &[(&'static str, T)],
        code: Code,
        what: &str,
    ) -> Option<T> {
        let w = word.as_str();
        if let Some((_, v)) = choices.iter().find(|(k, _)| *k == w) {
            return Some(*v);
        }
        let names: Vec<&str> = choices.iter().map(|(k, _)| *k).collect();
        let list = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        // One edit turns `P9` into `P1`: too short to guess from.
        let guess =
            if w.chars().count() < 3 { None } else { did_you_mean(w, names.iter().copied()) };
        let help = match guess {
            Some(s) => format!("did you mean `{s}`? {what} is one of {list}"),
            None => format!("{what} is one of {list}"),
        };
        let s = word.as_span();
        self.error(
            code,
            format!("unknown {what} `{w}`"),
            Span::new(s.start(), s.end()),
            &format!(
                "not {} {what}",
                if what.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
            ),
            Some(help),
        );
        None
    }

    fn severity_level(&self, word: &Pair<'_, Rule>) -> Option<SeverityLevel> {
        let choices: Vec<(&'static str, SeverityLevel)> =
            SeverityLevel::ALL.iter().rev().map(|l| (l.as_str(), *l)).collect();
        self.word_choice(word, &choices, Code::UnknownSeverity, "severity")
    }

    fn enforcement(&self, word: &Pair<'_, Rule>) -> Option<Enforcement> {
        let choices: Vec<(&'static str, Enforcement)> =
            Enforcement::ALL.iter().map(|l| (l.as_str(), *l)).collect();
        self.word_choice(word, &choices, Code::UnknownEnforcement, "enforcement level")
    }

    fn priority_level(&self, word: &Pair<'_, Rule>) -> Option<u8> {
        let choices = [("P1", 1u8), ("P2", 2), ("P3", 3), ("P4", 4), ("P5", 5)];
        self.word_choice(word, &choices, Code::UnknownPriority, "priority")
    }

    fn priority_arm(&self, pair: Pair<'_, Rule>) -> Option<Arm<PriorityLevel>> {
        let loc = self.loc(&pair);
        let mut it = kids(pair);
        let pattern = self.pattern(it.next()?);
        let level = self.priority_level(&it.next()?);
        let within = self.duration_token(&it.next()?);
        Some(Arm { pattern, value: PriorityLevel { level: level?, within: within? }, loc })
    }

    fn exception(&self, pair: Pair<'_, Rule>) -> Option<Exception> {
        let loc = self.loc(&pair);
        let (docs, rest) = self.docs_and_rest(pair);
        let mut it = rest.into_iter();
        let name = self.name(it.next()?);
        let mut clauses = Vec::new();
        for c in it {
            let cloc = self.loc(&c);
            let rule = c.as_rule();
            let mut k = kids(c);
            let kind = match rule {
                Rule::exc_rule => ExceptionClauseKind::Rule { rule: self.name(k.next()?) },
                Rule::exc_when => ExceptionClauseKind::When { cond: self.expr(k.next()?) },
                Rule::exc_until => {
                    ExceptionClauseKind::Until { date: self.date_token(&k.next()?)? }
                }
                Rule::exc_approved_by => ExceptionClauseKind::ApprovedBy {
                    approvers: k.map(|s| self.string(s)).collect(),
                },
                Rule::exc_reason => ExceptionClauseKind::Reason { text: self.string(k.next()?) },
                _ => continue,
            };
            clauses.push(ExceptionClause { kind, loc: cloc });
        }
        let e = Exception { docs, name, clauses, loc };
        self.validate_exception(&e);
        Some(e)
    }

    fn validate_exception(&self, e: &Exception) {
        let keys: Vec<(&str, Span)> = e
            .clauses
            .iter()
            .map(|c| {
                let key = match c.kind {
                    ExceptionClauseKind::Rule { .. } => "rule",
                    ExceptionClauseKind::When { .. } => "when",
                    ExceptionClauseKind::Until { .. } => "until",
                    ExceptionClauseKind::ApprovedBy { .. } => "approved_by",
                    ExceptionClauseKind::Reason { .. } => "reason",
                };
                (key, c.loc.span)
            })
            .collect();
        self.check_clauses(
            "exception",
            &e.name,
            &keys,
            |key| match key {
                "rule" => "an exception waives one rule; write one exception per rule".to_owned(),
                _ => format!("keep one `{key}` clause"),
            },
            &[
                (
                    "rule",
                    "missing `rule`",
                    "add `rule RULE-ID` to say which rule this exception waives",
                ),
                ("until", "missing `until`", "add `until YYYY-MM-DD`: every exception expires"),
            ],
        );
    }

    fn decision(&self, pair: Pair<'_, Rule>) -> Option<Decision> {
        let loc = self.loc(&pair);
        let (docs, rest) = self.docs_and_rest(pair);
        let mut it = rest.into_iter();
        let name = self.name(it.next()?);
        let mut clauses = Vec::new();
        for c in it {
            let cloc = self.loc(&c);
            let rule = c.as_rule();
            let kind = match rule {
                Rule::input_clause => DecisionClauseKind::Input {
                    params: kids(c).filter_map(|p| self.param(p)).collect(),
                },
                Rule::let_clause => DecisionClauseKind::Let(self.let_binding(c)?),
                Rule::deny_clause => {
                    let mut k = kids(c);
                    let reason = self.template(k.next()?);
                    DecisionClauseKind::Deny { reason, when: self.expr(k.next()?) }
                }
                Rule::allow_clause => {
                    let parts: Vec<_> = kids(c).collect();
                    let mut reason = None;
                    let mut when = None;
                    for p in parts {
                        if p.as_rule() == Rule::string {
                            reason = Some(self.template(p));
                        } else {
                            when = Some(self.expr(p));
                        }
                    }
                    DecisionClauseKind::Allow { reason, when: when? }
                }
                Rule::approval_clause => {
                    let mut k = kids(c);
                    let from = self.expr(k.next()?);
                    DecisionClauseKind::Approval { from, when: self.expr(k.next()?) }
                }
                _ => continue,
            };
            clauses.push(DecisionClause { kind, loc: cloc });
        }
        Some(Decision { docs, name, clauses, loc })
    }

    fn plugin_fn(&self, pair: Pair<'_, Rule>) -> Option<PluginFn> {
        let loc = self.loc(&pair);
        let (docs, rest) = self.docs_and_rest(pair);
        let mut it = rest.into_iter().peekable();
        let name = self.name(it.next()?);
        let params = match it.peek() {
            Some(p) if p.as_rule() == Rule::params => self.params(it.next()?),
            _ => Vec::new(),
        };
        let ret = self.type_expr(it.next()?);
        Some(PluginFn { docs, name, params, ret, loc })
    }

    fn test(&self, pair: Pair<'_, Rule>) -> Option<Test> {
        let loc = self.loc(&pair);
        let (docs, rest) = self.docs_and_rest(pair);
        let mut it = rest.into_iter();
        let name = self.string(it.next()?);
        let mut clauses = Vec::new();
        for c in it {
            let cloc = self.loc(&c);
            let rule = c.as_rule();
            let kind = match rule {
                Rule::given_clause => {
                    let g = kids(c).next()?;
                    if g.as_rule() == Rule::string {
                        TestClauseKind::GivenFile { path: self.string(g) }
                    } else {
                        TestClauseKind::GivenInline {
                            graph: kids(g).filter_map(|i| self.graph_item(i)).collect(),
                        }
                    }
                }
                Rule::now_clause => TestClauseKind::Now { at: self.date_token(&kids(c).next()?)? },
                Rule::expect_clause => TestClauseKind::Expect(self.expectation(kids(c).next()?)?),
                _ => continue,
            };
            clauses.push(TestClause { kind, loc: cloc });
        }
        Some(Test { docs, name, clauses, loc })
    }

    fn graph_item(&self, pair: Pair<'_, Rule>) -> Option<GraphItem> {
        let loc = self.loc(&pair);
        let rule = pair.as_rule();
        let mut it = kids(pair);
        Some(match rule {
            Rule::graph_node => {
                let kind = self.name(it.next()?);
                let id = self.string(it.next()?);
                let attrs = it.filter_map(|a| self.field_init(a)).collect();
                GraphItem::Node { kind, id, attrs, loc }
            }
            Rule::graph_edge => {
                let from = self.string(it.next()?);
                let kind = self.name(it.next()?);
                let to = self.string(it.next()?);
                GraphItem::Edge { from, kind, to, loc }
            }
            _ => return None,
        })
    }

    fn field_init(&self, pair: Pair<'_, Rule>) -> Option<FieldInit> {
        let mut it = kids(pair);
        let name = self.name(it.next()?);
        Some(FieldInit { name, value: self.expr(it.next()?) })
    }

    fn expectation(&self, pair: Pair<'_, Rule>) -> Option<Expectation> {
        let rule = pair.as_rule();
        let mut it = kids(pair);
        Some(match rule {
            Rule::expect_rule => {
                let rule = self.name(it.next()?);
                let what = it.next()?;
                let wr = what.as_rule();
                let mut w = kids(what);
                match wr {
                    Rule::expect_fails => {
                        Expectation::Fails { rule, entity: self.string(w.next()?) }
                    }
                    Rule::expect_passes => {
                        Expectation::Passes { rule, entity: self.string(w.next()?) }
                    }
                    Rule::expect_finds => {
                        let n = w.next()?;
                        let count = match n.as_str().parse::<u64>() {
                            Ok(c) => c,
                            Err(_) => {
                                let s = n.as_span();
                                self.error(
                                    Code::InvalidNumber,
                                    format!("`{}` is not a count", n.as_str()),
                                    Span::new(s.start(), s.end()),
                                    "expected a whole number",
                                    Some("write how many findings the rule should produce, e.g. `finds 2`".into()),
                                );
                                return None;
                            }
                        };
                        Expectation::Finds { rule, count }
                    }
                    Rule::expect_priority => {
                        let level = self.priority_level(&w.next()?)?;
                        Expectation::Priority { rule, level, entity: self.string(w.next()?) }
                    }
                    _ => return None,
                }
            }
            Rule::expect_waived => {
                let rule = self.name(it.next()?);
                Expectation::Waived { rule, entity: self.string(it.next()?) }
            }
            Rule::expect_decision => {
                let decision = self.name(it.next()?);
                let mut inputs = Vec::new();
                let mut effect = None;
                for p in it {
                    if p.as_rule() == Rule::graph_attr {
                        inputs.extend(self.field_init(p));
                    } else {
                        let choices = [
                            ("allow", Effect::Allow),
                            ("deny", Effect::Deny),
                            ("approval", Effect::Approval),
                            ("approval_required", Effect::Approval),
                            ("not_permitted", Effect::NotPermitted),
                        ];
                        effect = self.word_choice(
                            &p,
                            &choices,
                            Code::UnexpectedToken,
                            "decision effect",
                        );
                    }
                }
                Expectation::Decision { decision, inputs, effect: effect? }
            }
            _ => return None,
        })
    }

    fn pattern(&self, pair: Pair<'_, Rule>) -> Pattern {
        let loc = self.loc(&pair);
        let alts = kids(pair)
            .filter_map(|a| match a.as_rule() {
                Rule::wildcard => Some(PatternAlt::Wildcard),
                Rule::pattern_lit => {
                    let mut neg = false;
                    let mut lit = None;
                    for p in kids(a) {
                        if p.as_rule() == Rule::op_neg {
                            neg = true;
                        } else {
                            lit = self.literal(p);
                        }
                    }
                    let lit = lit?;
                    Some(PatternAlt::Literal(if neg {
                        match lit {
                            Literal::Int(i) => Literal::Int(-i),
                            Literal::Float(f) => Literal::Float(-f),
                            Literal::Duration(d) => Literal::Duration(Duration(-d.0)),
                            other => other,
                        }
                    } else {
                        lit
                    }))
                }
                _ => None,
            })
            .collect();
        Pattern { alts, loc }
    }

    fn literal(&self, pair: Pair<'_, Rule>) -> Option<Literal> {
        Some(match pair.as_rule() {
            Rule::null => Literal::Null,
            Rule::boolean => Literal::Bool(pair.as_str() == "true"),
            Rule::string => Literal::Str(self.string(pair).value),
            Rule::datetime => Literal::Time(self.date_token(&pair)?),
            Rule::number => match self.number(&pair)? {
                ExprKind::Int(i) => Literal::Int(i),
                ExprKind::Float(f) => Literal::Float(f),
                ExprKind::Duration(d) => Literal::Duration(d),
                _ => return None,
            },
            _ => return None,
        })
    }

    // ------------------------------------------------------------ literals

    /// A string where interpolation is not allowed: holes are reported.
    fn string(&self, pair: Pair<'_, Rule>) -> StrLit {
        let loc = self.loc(&pair);
        let mut value = String::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::template_text => {
                    self.unescape(part.as_str(), part.as_span().start(), &mut value)
                }
                _ => {
                    let s = part.as_span();
                    self.error(
                        Code::InterpolationNotAllowed,
                        "interpolation `{...}` is not allowed in this string",
                        Span::new(s.start(), s.end()),
                        "interpolation",
                        Some("only `message`, `help` and decision reasons interpolate; write `\\{` for a literal brace".into()),
                    );
                }
            }
        }
        StrLit { value, loc }
    }

    fn unescape(&self, raw: &str, offset: usize, out: &mut String) {
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '\\' | '"' | '{' | '}' => out.push(e),
                'u' => {
                    let mut hex = String::new();
                    let mut end = i + 2;
                    if chars.peek().map(|(_, c)| *c) == Some('{') {
                        chars.next();
                        for (j, h) in chars.by_ref() {
                            end = j + 1;
                            if h == '}' {
                                break;
                            }
                            hex.push(h);
                        }
                    }
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => self.error(
                            Code::InvalidEscape,
                            format!("`\\u{{{hex}}}` is not a Unicode scalar value"),
                            Span::new(offset + i, offset + end),
                            "invalid escape",
                            Some("write `\\u{XXXX}` with 1 to 6 hex digits of a valid code point".into()),
                        ),
                    }
                }
                other => self.error(
                    Code::InvalidEscape,
                    format!("unknown escape `\\{other}`"),
                    Span::new(offset + i, offset + i + 1 + other.len_utf8()),
                    "invalid escape",
                    Some("strings know `\\n`, `\\t`, `\\r`, `\\0`, `\\\\`, `\\\"`, `\\{`, `\\}` and `\\u{XXXX}`; write `\\\\` for a backslash".into()),
                ),
            }
        }
    }

    fn template(&self, pair: Pair<'_, Rule>) -> Template {
        let loc = self.loc(&pair);
        let mut parts: Vec<TemplatePart> = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::template_text => {
                    let mut s = String::new();
                    self.unescape(p.as_str(), p.as_span().start(), &mut s);
                    if let Some(TemplatePart::Text(prev)) = parts.last_mut() {
                        prev.push_str(&s);
                    } else {
                        parts.push(TemplatePart::Text(s));
                    }
                }
                Rule::hole => {
                    if let Some(e) = p.into_inner().next() {
                        parts.push(TemplatePart::Hole(self.expr(e)));
                    }
                }
                _ => {}
            }
        }
        Template { parts, loc }
    }

    /// A number token: an int, a float or a duration (or a mistake).
    fn number(&self, pair: &Pair<'_, Rule>) -> Option<ExprKind> {
        let text = pair.as_str();
        let s = pair.as_span();
        let span = Span::new(s.start(), s.end());
        let digits_end =
            text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let (num, suffix) = text.split_at(digits_end);
        if suffix.is_empty() {
            if num.contains('.') {
                return match num.parse::<f64>() {
                    Ok(f) if f.is_finite() => Some(ExprKind::Float(f)),
                    _ => {
                        self.error(
                            Code::InvalidNumber,
                            format!("`{text}` is not a number"),
                            span,
                            "invalid number",
                            None,
                        );
                        None
                    }
                };
            }
            return match num.parse::<i64>() {
                Ok(i) => Some(ExprKind::Int(i)),
                Err(_) => {
                    self.error(
                        Code::InvalidNumber,
                        format!("`{text}` is too large for an integer"),
                        span,
                        "out of range",
                        Some(format!("integers range from {} to {}", i64::MIN, i64::MAX)),
                    );
                    None
                }
            };
        }
        if num.contains('.') {
            self.error(
                Code::InvalidDuration,
                format!("durations are whole numbers of units, found `{text}`"),
                span,
                "fractional duration",
                Some("combine units instead, e.g. `1d12h` for a day and a half".into()),
            );
            return None;
        }
        match Duration::parse(text) {
            Ok(d) => Some(ExprKind::Duration(d)),
            Err(DurationError::UnknownUnit(u)) => {
                let at = text.find(u.as_str()).unwrap_or(digits_end);
                let unit_span = Span::new(span.start + at, span.start + at + u.len());
                self.error(
                    Code::InvalidDuration,
                    format!("unknown duration unit `{u}` in `{text}`"),
                    unit_span,
                    "unknown unit",
                    Some("durations use `w` (weeks), `d` (days), `h` (hours), `m` (minutes) or `s` (seconds), e.g. `90d`".into()),
                );
                None
            }
            Err(e) => {
                self.error(
                    Code::InvalidDuration,
                    format!("invalid duration `{text}`: {e}"),
                    span,
                    "invalid duration",
                    None,
                );
                None
            }
        }
    }

    fn date_token(&self, pair: &Pair<'_, Rule>) -> Option<Timestamp> {
        let s = pair.as_span();
        let span = Span::new(s.start(), s.end());
        if pair.as_rule() != Rule::datetime {
            self.error(
                Code::InvalidDate,
                format!("expected a date, found `{}`", pair.as_str()),
                span,
                "not a date",
                Some("write a date as `YYYY-MM-DD`, e.g. `2027-01-31`".into()),
            );
            return None;
        }
        match Timestamp::parse(pair.as_str()) {
            Ok(t) => Some(t),
            Err(e) => {
                self.error(
                    Code::InvalidDate,
                    format!("`{}` is not a valid date", pair.as_str()),
                    span,
                    &e.to_string(),
                    Some("write a date as `YYYY-MM-DD` or an RFC 3339 timestamp such as `2027-01-31T12:00:00Z`".into()),
                );
                None
            }
        }
    }

    fn duration_token(&self, pair: &Pair<'_, Rule>) -> Option<Duration> {
        match self.number(pair)? {
            ExprKind::Duration(d) => Some(d),
            _ => {
                let s = pair.as_span();
                self.error(
                    Code::InvalidDuration,
                    format!("expected a duration, found `{}`", pair.as_str()),
                    Span::new(s.start(), s.end()),
                    "no unit",
                    Some(format!("add a unit, e.g. `{}d` or `{}h`", pair.as_str(), pair.as_str())),
                );
                None
            }
        }
    }

    // ------------------------------------------------------------ expressions

    fn bad(&self, span: Span) -> Expr {
        Expr { kind: ExprKind::Null, loc: self.span_loc(span) }
    }

    fn expr(&self, pair: Pair<'_, Rule>) -> Expr {
        let s = pair.as_span();
        let whole = Span::new(s.start(), s.end());
        let depth = self.expr_depth.get();
        let ops = if depth == 0 {
            pair.clone().into_inner().flatten().filter(|p| is_operator(p.as_rule())).count()
        } else {
            0
        };
        let pairs = pair.into_inner();
        if ops > MAX_OPERATOR_CHAIN {
            self.error(
                Code::TooDeep,
                format!("expression has {ops} operators; at most {MAX_OPERATOR_CHAIN} are allowed"),
                Span::new(whole.start, whole.start + 1),
                "expression starts here",
                Some("split it into `let` bindings or several `require` clauses".into()),
            );
            return self.bad(whole);
        }
        self.expr_depth.set(depth + 1);
        let e = self.pratt(pairs);
        self.expr_depth.set(depth);
        e
    }

    fn pratt(&self, pairs: Pairs<'_, Rule>) -> Expr {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let s = op.as_span();
                let loc = self.span_loc(Span::new(s.start(), rhs.loc.span.end));
                let unop = if op.as_rule() == Rule::op_not { UnaryOp::Not } else { UnaryOp::Neg };
                Expr { kind: ExprKind::Unary(unop, Box::new(rhs)), loc }
            })
            .map_postfix(|lhs, op| {
                let s = op.as_span();
                let loc = self.span_loc(Span::new(lhs.loc.span.start, s.end()));
                let kind = match op.as_rule() {
                    Rule::field => match op.into_inner().next() {
                        Some(n) => ExprKind::Field(Box::new(lhs), self.name(n)),
                        None => return lhs,
                    },
                    Rule::call_args => {
                        ExprKind::Call(Box::new(lhs), kids(op).map(|a| self.expr(a)).collect())
                    }
                    Rule::has_attr => match kids(op).next() {
                        Some(n) => ExprKind::Has(Box::new(lhs), self.name(n)),
                        None => return lhs,
                    },
                    _ => return lhs,
                };
                Expr { kind, loc }
            })
            .map_infix(|lhs, op, rhs| {
                let bop = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_in => BinaryOp::In,
                    Rule::op_not_in => BinaryOp::NotIn,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    _ => BinaryOp::Rem,
                };
                // `a < b < c` does not mean what it reads as: it would compare
                // a bool with `c`. Parentheses say it was meant.
                if bop.is_comparison()
                    && let ExprKind::Binary(inner, _, _) = &lhs.kind
                    && inner.is_comparison()
                    && !lhs.loc.text().starts_with('(')
                {
                    let s = op.as_span();
                    self.error(
                        Code::ChainedComparison,
                        format!("comparisons do not chain: `{}` after `{}`", bop.as_str(), inner.as_str()),
                        Span::new(s.start(), s.end()),
                        "second comparison",
                        Some(format!(
                            "write `{} and ...` to compare twice, or parenthesise the first comparison to compare its result",
                            lhs.loc.text()
                        )),
                    );
                }
                let loc = self.span_loc(lhs.loc.span.join(rhs.loc.span));
                Expr { kind: ExprKind::Binary(bop, Box::new(lhs), Box::new(rhs)), loc }
            })
            .parse(pairs)
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Expr {
        let loc = self.loc(&pair);
        let span = loc.span;
        let kind = match pair.as_rule() {
            // The parentheses belong to the expression's span, so that the
            // text of `a <= (b)` quoted in a report is balanced.
            Rule::paren => match pair.into_inner().next() {
                Some(e) => {
                    let mut inner = self.expr(e);
                    inner.loc = loc;
                    return inner;
                }
                None => return self.bad(span),
            },
            Rule::null => ExprKind::Null,
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::kw_now => ExprKind::Now,
            Rule::number => match self.number(&pair) {
                Some(k) => k,
                None => return self.bad(span),
            },
            Rule::datetime => match self.date_token(&pair) {
                Some(t) => ExprKind::Time(t),
                None => return self.bad(span),
            },
            Rule::string => ExprKind::Str(self.string(pair).value),
            Rule::ident => ExprKind::Var(self.name(pair)),
            Rule::list => ExprKind::List(kids(pair).map(|e| self.expr(e)).collect()),
            Rule::if_expr => {
                let mut it = kids(pair).map(|e| self.expr(e));
                match (it.next(), it.next(), it.next()) {
                    (Some(c), Some(a), Some(b)) => {
                        ExprKind::If(Box::new(c), Box::new(a), Box::new(b))
                    }
                    _ => return self.bad(span),
                }
            }
            Rule::match_expr => {
                let mut it = kids(pair);
                let Some(scrutinee) = it.next().map(|e| self.expr(e)) else {
                    return self.bad(span);
                };
                let arms = it
                    .filter_map(|arm| {
                        let aloc = self.loc(&arm);
                        let mut a = kids(arm);
                        let pattern = self.pattern(a.next()?);
                        let value = self.expr(a.next()?);
                        Some(Arm { pattern, value, loc: aloc })
                    })
                    .collect();
                ExprKind::Match(Box::new(scrutinee), arms)
            }
            Rule::quantified => {
                let mut it = kids(pair);
                let quantifier = match it.next().map(|q| q.as_str().to_owned()).as_deref() {
                    Some("all") => Quantifier::All,
                    _ => Quantifier::Exists,
                };
                let Some(source) = it.next().and_then(|s| self.source(s)) else {
                    return self.bad(span);
                };
                let cond = it.next().map(|e| Box::new(self.expr(e)));
                ExprKind::Quantified { quantifier, source, cond }
            }
            Rule::aggregate => {
                // Keep the keyword tokens: an expression right after `where` is
                // the filter, any other trailing expression the `| projection`.
                let mut it = pair.into_inner();
                let aggregator = match it.next().map(|q| q.as_str().to_owned()).as_deref() {
                    Some("min") => Aggregator::Min,
                    Some("max") => Aggregator::Max,
                    Some("sum") => Aggregator::Sum,
                    _ => Aggregator::Count,
                };
                let Some(source) = it.next().and_then(|s| self.source(s)) else {
                    return self.bad(span);
                };
                let mut filter = None;
                let mut projection = None;
                let mut after_where = false;
                for p in it {
                    match p.as_rule() {
                        Rule::kw_where => after_where = true,
                        Rule::expr if after_where => {
                            filter = Some(Box::new(self.expr(p)));
                            after_where = false;
                        }
                        Rule::expr => projection = Some(Box::new(self.expr(p))),
                        _ => {}
                    }
                }
                ExprKind::Aggregate { aggregator, source, filter, projection }
            }
            _ => return self.bad(span),
        };
        Expr { kind, loc }
    }

    fn binder(&self, pair: Pair<'_, Rule>) -> Binder {
        if pair.as_str() == "_" {
            Binder::Anonymous(self.loc(&pair))
        } else {
            let name = self.name(pair.clone());
            if matches!(
                pair.as_str(),
                "and"
                    | "or"
                    | "not"
                    | "in"
                    | "has"
                    | "if"
                    | "then"
                    | "else"
                    | "match"
                    | "exists"
                    | "all"
                    | "true"
                    | "false"
                    | "null"
                    | "now"
                    | "where"
                    | "for"
                    | "let"
            ) {
                let s = pair.as_span();
                self.error(
                    Code::ReservedWord,
                    format!("`{}` is a reserved word and cannot be a name", pair.as_str()),
                    Span::new(s.start(), s.end()),
                    "reserved word",
                    Some(format!("choose another name, e.g. `{}_`", pair.as_str())),
                );
            }
            Binder::Named(name)
        }
    }

    fn source(&self, pair: Pair<'_, Rule>) -> Option<Source> {
        let inner = pair.into_inner().next()?;
        Some(match inner.as_rule() {
            Rule::path => Source::Path(self.path(inner)?),
            Rule::in_binding => {
                let mut it = kids(inner);
                let binder = self.binder(it.next()?);
                Source::In { binder, collection: Box::new(self.expr(it.next()?)) }
            }
            _ => Source::Expr { value: Box::new(self.expr(inner)) },
        })
    }

    fn path(&self, pair: Pair<'_, Rule>) -> Option<PathPattern> {
        let loc = self.loc(&pair);
        let mut it = kids(pair);
        let start = self.binder(it.next()?.into_inner().next()?);
        let steps = it.filter_map(|s| self.step(s)).collect();
        Some(PathPattern { start, steps, loc })
    }

    fn step(&self, pair: Pair<'_, Rule>) -> Option<Step> {
        let loc = self.loc(&pair);
        let mut it = kids(pair);
        let arrow = it.next()?;
        let direction = match arrow.as_rule() {
            Rule::arrow_out => Direction::Out,
            Rule::arrow_in => Direction::In,
            _ => Direction::Either,
        };
        let spec = arrow.into_inner().next()?;
        let mut edges = Vec::new();
        let mut repeat = None;
        for p in spec.into_inner() {
            match p.as_rule() {
                Rule::edge_kind => edges.push(self.name(p)),
                Rule::repeat => repeat = self.repeat(p),
                _ => {}
            }
        }
        let node = self.node_pattern(it.next()?)?;
        Some(Step { direction, edges, repeat, node, loc })
    }

    fn repeat(&self, pair: Pair<'_, Rule>) -> Option<Repeat> {
        let s = pair.as_span();
        let span = Span::new(s.start(), s.end());
        let text = pair.as_str();
        let nums: Vec<_> = pair.into_inner().collect();
        let parse = |p: &Pair<'_, Rule>| -> Option<u32> {
            let v = p.as_str().parse::<u32>().ok();
            if v.is_none() {
                let ps = p.as_span();
                self.error(
                    Code::InvalidPathBounds,
                    format!("`{}` is not a hop count", p.as_str()),
                    Span::new(ps.start(), ps.end()),
                    "expected a whole number",
                    Some("write bounds as `*MIN..MAX`, e.g. `*1..4`".into()),
                );
            }
            v
        };
        let (min, max) = match (nums.first(), nums.get(1), text.contains("..")) {
            (None, _, _) => (1, None),
            (Some(n), None, false) => {
                let n = parse(n)?;
                (n, Some(n))
            }
            (Some(n), None, true) => (parse(n)?, None),
            (Some(a), Some(b), _) => (parse(a)?, Some(parse(b)?)),
        };
        if let Some(max) = max
            && (max < min || max == 0)
        {
            let hops = |n: u32| if n == 1 { "1 hop".to_owned() } else { format!("{n} hops") };
            let (message, help) = if max == 0 {
                (
                    format!("`{text}` can never match: a step takes at least 1 hop"),
                    "write `*1` for exactly one hop, or drop the `*`".to_owned(),
                )
            } else {
                (
                    format!(
                        "`{text}` can never match: at least {} but at most {}",
                        hops(min),
                        hops(max)
                    ),
                    format!("write the smaller bound first: `*{max}..{min}`"),
                )
            };
            self.error(Code::InvalidPathBounds, message, span, "empty range", Some(help));
            return None;
        }
        Some(Repeat { min, max })
    }

    fn node_pattern(&self, pair: Pair<'_, Rule>) -> Option<NodePattern> {
        let loc = self.loc(&pair);
        let mut it = kids(pair);
        let binder = self.binder(it.next()?);
        let mut kind = None;
        let mut filter = None;
        for p in it {
            match p.as_rule() {
                Rule::ident => kind = Some(self.name(p)),
                Rule::expr => filter = Some(Box::new(self.expr(p))),
                _ => {}
            }
        }
        Some(NodePattern { binder, kind, filter, loc })
    }
}

/// `Rule` collides with pest's generated enum, so the AST rule is aliased here.
type Rule_ = super::ast::Rule;

#[cfg(test)]
mod tests {
    //! AST shapes that later stages rely on: precedence, the extent of
    //! `where`, membership versus binding, decoded literals, template holes.

    use super::*;

    fn expr(src: &str) -> Expr {
        parse_expr(&SourceFile::new("t.gov", src))
            .unwrap_or_else(|d| panic!("{src}: {:?}", d.iter().next()))
    }

    fn module(src: &str) -> Module {
        parse(&SourceFile::new("t.gov", src))
            .unwrap_or_else(|d| panic!("{src}: {:?}", d.iter().next()))
            .module
    }

    fn name(b: &Binder) -> String {
        match b {
            Binder::Named(n) => n.name.clone(),
            Binder::Anonymous(_) => "_".into(),
        }
    }

    fn source(s: &Source) -> String {
        match s {
            Source::Path(p) => {
                let mut out = name(&p.start);
                for st in &p.steps {
                    let edges =
                        st.edges.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join("|");
                    let rep = match st.repeat {
                        None => String::new(),
                        Some(Repeat { min, max: None }) => format!("*{min}.."),
                        Some(Repeat { min, max: Some(max) }) => format!("*{min}..{max}"),
                    };
                    let (l, r) = match st.direction {
                        Direction::Out => ("-[", "]->"),
                        Direction::In => ("<-[", "]-"),
                        Direction::Either => ("-[", "]-"),
                    };
                    let mut node = name(&st.node.binder);
                    if let Some(k) = &st.node.kind {
                        node = format!("{node}:{}", k.name);
                    }
                    if let Some(f) = &st.node.filter {
                        node = format!("({node} where {})", sx(f));
                    }
                    out = format!("{out} {l}{edges}{rep}{r} {node}");
                }
                format!("path[{out}]")
            }
            Source::In { binder, collection } => format!("{} in {}", name(binder), sx(collection)),
            Source::Expr { value } => format!("expr[{}]", sx(value)),
        }
    }

    /// The tree as an s-expression, without locations.
    fn sx(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Null => "null".into(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Int(i) => i.to_string(),
            ExprKind::Float(f) => format!("{f:?}"),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Duration(d) => format!("{}s", d.0),
            ExprKind::Time(t) => format!("@{}", t.0),
            ExprKind::Now => "now".into(),
            ExprKind::List(xs) => format!("[{}]", xs.iter().map(sx).collect::<Vec<_>>().join(" ")),
            ExprKind::Var(n) => n.name.clone(),
            ExprKind::Field(x, f) => format!("(. {} {})", sx(x), f.name),
            ExprKind::Call(f, args) => {
                format!(
                    "(call {}{})",
                    sx(f),
                    args.iter().map(|a| format!(" {}", sx(a))).collect::<String>()
                )
            }
            ExprKind::Has(x, f) => format!("(has {} {})", sx(x), f.name),
            ExprKind::Unary(UnaryOp::Not, x) => format!("(not {})", sx(x)),
            ExprKind::Unary(UnaryOp::Neg, x) => format!("(neg {})", sx(x)),
            ExprKind::Binary(op, a, b) => format!("({} {} {})", op.as_str(), sx(a), sx(b)),
            ExprKind::If(c, a, b) => format!("(if {} {} {})", sx(c), sx(a), sx(b)),
            ExprKind::Match(x, arms) => format!("(match {} {})", sx(x), arms.len()),
            ExprKind::Quantified { quantifier, source: s, cond } => {
                let q = if *quantifier == Quantifier::All { "all" } else { "exists" };
                let cond = cond.as_ref().map(|c| format!(" where {}", sx(c))).unwrap_or_default();
                format!("({q} {}{cond})", source(s))
            }
            ExprKind::Aggregate { aggregator, source: s, filter, projection } => {
                let f = filter.as_ref().map(|c| format!(" where {}", sx(c))).unwrap_or_default();
                let p = projection.as_ref().map(|c| format!(" | {}", sx(c))).unwrap_or_default();
                format!("({} {}{f}{p})", aggregator.as_str(), source(s))
            }
        }
    }

    fn shape(src: &str) -> String {
        sx(&expr(src))
    }

    #[test]
    fn precedence() {
        assert_eq!(shape("not a == b"), "(not (== a b))");
        assert_eq!(shape("not a and b"), "(and (not a) b)");
        assert_eq!(shape("a or b and c"), "(or a (and b c))");
        assert_eq!(shape("a and b or c"), "(or (and a b) c)");
        assert_eq!(shape("-x.y"), "(neg (. x y))");
        assert_eq!(shape("- x.y * 2"), "(* (neg (. x y)) 2)");
        assert_eq!(shape("a - b - c"), "(- (- a b) c)");
        assert_eq!(shape("a / b * c % d"), "(% (* (/ a b) c) d)");
        assert_eq!(shape("a + b * c"), "(+ a (* b c))");
        assert_eq!(shape("now - c.rotated_at <= 90d"), "(<= (- now (. c rotated_at)) 7776000s)");
        assert_eq!(shape("x has y and z"), "(and (has x y) z)");
        assert_eq!(shape("not x has y"), "(not (has x y))");
        assert_eq!(shape("a in xs or b not in ys"), "(or (in a xs) (not in b ys))");
        assert_eq!(shape("p.f(x, 1).g"), "(. (call (. p f) x 1) g)");
        assert_eq!(shape("if a then b else c or d"), "(if a b (or c d))");
        assert_eq!(shape("(a or b) and c"), "(and (or a b) c)");
    }

    #[test]
    fn a_negative_pattern_on_the_next_line_starts_an_arm() {
        assert_eq!(shape("match x {\n  0 => a\n  -1 => b\n}"), "(match x 2)");
        assert_eq!(shape("match x {\n  0 => a\n  -1 | -2 => b\n  _ => c\n}"), "(match x 3)");
        assert_eq!(shape("match x {\n  0 => a\n  - 1.5 => b\n}"), "(match x 2)");
        // Anything else after `-` is still a subtraction.
        assert_eq!(shape("match x {\n  0 => a\n  - 1\n  2 => b\n}"), "(match x 2)");
        assert_eq!(shape("a - 1"), "(- a 1)");
        assert_eq!(shape("a -1 + 2"), "(+ (- a 1) 2)");
    }

    #[test]
    fn keywords_are_field_names_after_a_dot() {
        assert_eq!(shape("x.for.in.where"), "(. (. (. x for) in) where)");
        assert_eq!(shape("x has match"), "(has x match)");
    }

    #[test]
    fn where_runs_to_the_end_of_the_expression() {
        assert_eq!(
            shape("exists a -[owned_by]-> p: identity where p.active and p.human"),
            "(exists path[a -[owned_by]-> p:identity] where (and (. p active) (. p human)))"
        );
        // Without `where` the quantifier ends at its path.
        assert_eq!(
            shape("exists a -[owned_by]-> p and b"),
            "(and (exists path[a -[owned_by]-> p]) b)"
        );
        assert_eq!(
            shape("not exists a -[e]-> b where b.x or c"),
            "(not (exists path[a -[e]-> b] where (or (. b x) c)))"
        );
        // A parenthesised node pattern keeps its own `where`.
        assert_eq!(
            shape("all a -[e]-> (b: k where b.x) -[f]-> c where c.y"),
            "(all path[a -[e]-> (b:k where (. b x)) -[f]-> c] where (. c y))"
        );
    }

    #[test]
    fn paths_decode_direction_kinds_and_bounds() {
        assert_eq!(
            shape("exists a -[m*]-> _ -[x|y*2]- b <-[h*1..4]- c -[_*2..]-> d"),
            "(exists path[a -[m*1..]-> _ -[x|y*2..2]- b <-[h*1..4]- c -[_*2..]-> d])"
        );
    }

    #[test]
    fn membership_versus_binding() {
        assert_eq!(shape("x in xs"), "(in x xs)");
        assert_eq!(shape("exists x in xs where x > 1"), "(exists x in xs where (> x 1))");
        assert_eq!(shape("all x in a.b"), "(all x in (. a b))");
        assert_eq!(shape("exists (x in xs)"), "(exists expr[(in x xs)])");
        assert_eq!(shape("count(x in xs)"), "(count x in xs)");
        assert_eq!(shape("count(xs)"), "(count expr[xs])");
        assert_eq!(
            shape("sum(x in xs where x.ok | x.n)"),
            "(sum x in xs where (. x ok) | (. x n))"
        );
        assert_eq!(shape("max(xs | x)"), "(max expr[xs] | x)");
        assert_eq!(
            shape("min(c <-[h]- _ -[s]-> s: service | s.tier)"),
            "(min path[c <-[h]- _ -[s]-> s:service] | (. s tier))"
        );
    }

    #[test]
    fn aggregate_parts_are_told_apart_by_their_keyword_not_the_text() {
        assert_eq!(
            shape("min(x in xs where x.ok | /* note */ x.n)"),
            "(min x in xs where (. x ok) | (. x n))"
        );
        assert_eq!(shape("min(x in xs | // note\n x.n)"), "(min x in xs | (. x n))");
    }

    #[test]
    fn literals_are_decoded() {
        assert_eq!(shape("1d12h"), "129600s");
        assert_eq!(shape("2w"), "1209600s");
        assert_eq!(shape("90d"), "7776000s");
        assert_eq!(shape("15m + 30s"), "(+ 900s 30s)");
        assert_eq!(shape("-1.5"), "(neg 1.5)");
        assert_eq!(shape("0.25"), "0.25");
        assert_eq!(shape("[1, \"a\", true, null,]"), "[1 \"a\" true null]");
        let day = Timestamp::from_date(2027, 1, 31).unwrap();
        assert_eq!(shape("2027-01-31"), format!("@{}", day.0));
        assert_eq!(shape("2027-01-31T12:00:00+02:00"), format!("@{}", day.0 + 10 * 3600));
        assert_eq!(shape("2027-01-31t12:00:00z"), format!("@{}", day.0 + 12 * 3600));
        assert_eq!(shape("\"tab\\there \\u{1F600} \\\"q\\\"\""), "\"tab\\there 😀 \\\"q\\\"\"");
    }

    #[test]
    fn template_holes_and_escapes() {
        let m = module("rule r {\n  for x: k\n  message \"a {x.y} \\{b\\} {1 + 2}\\n\"\n}\n");
        let Some(Item::Rule(r)) = m.items.first() else { panic!("not a rule") };
        let Some(RuleClauseKind::Message { text }) =
            r.clauses.iter().map(|c| &c.kind).find(|k| matches!(k, RuleClauseKind::Message { .. }))
        else {
            panic!("no message")
        };
        let parts: Vec<String> = text
            .parts
            .iter()
            .map(|p| match p {
                TemplatePart::Text(t) => format!("{t:?}"),
                TemplatePart::Hole(e) => format!("{{{}}}", sx(e)),
            })
            .collect();
        assert_eq!(parts, ["\"a \"", "{(. x y)}", "\" {b} \"", "{(+ 1 2)}", "\"\\n\""]);
    }

    #[test]
    fn a_doc_comment_after_a_constant_is_not_a_division() {
        let m = module("const a = 1\n/// the second\nconst b = 2\n");
        let consts: Vec<(String, Vec<String>)> = m
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Const(c) => Some((c.name.name.clone(), c.docs.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            consts,
            [("a".to_owned(), vec![]), ("b".to_owned(), vec!["the second".to_owned()])]
        );
        assert_eq!(shape("a / b"), "(/ a b)");
        assert_eq!(shape("a /* c */ / b"), "(/ a b)");
    }

    #[test]
    fn operator_limit_counts_nested_and_unary_operators() {
        let within = format!("1{}", " + 1".repeat(MAX_OPERATOR_CHAIN));
        assert!(parse_expr(&SourceFile::new("t.gov", &within)).is_ok());
        for src in [
            format!("1{}", " + 1".repeat(MAX_OPERATOR_CHAIN + 1)),
            format!("{}1", "-".repeat(MAX_OPERATOR_CHAIN + 1)),
            format!("a{}", ".b".repeat(MAX_OPERATOR_CHAIN + 1)),
            format!("({}) + ({})", "1 + ".repeat(600) + "1", "1 + ".repeat(600) + "1"),
        ] {
            let err = parse_expr(&SourceFile::new("t.gov", &src)).unwrap_err();
            assert_eq!(err.iter().next().map(|d| d.code), Some(Code::TooDeep), "{}", &src[..20]);
        }
    }

    #[test]
    fn backtracking_over_unclosed_nested_operands_is_bounded() {
        // Found by fuzzing: each level of these made the grammar try the
        // next level twice, so 30 levels (300 bytes) took hours.
        for pat in ["count(", "min(a in ", "a(exists ", "a + (if b then c else "] {
            let src = SourceFile::new("h.gov", format!("const x = {}\n", pat.repeat(30)));
            let err = parse(&src).err().unwrap_or_else(|| panic!("{pat} parsed"));
            let first = err.iter().next().unwrap_or_else(|| panic!("{pat}: no diagnostic"));
            assert_eq!(first.code, Code::TooDeep, "{pat}: {}", first.message);
            assert_eq!(first.labels.len(), 1, "located");
        }
    }
}
