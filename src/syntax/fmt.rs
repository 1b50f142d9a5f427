//! The formatter: AST (plus the comments the lexer kept) → canonical text.
//!
//! Properties the tests pin: `parse(format(x)) == parse(x)`, `format` is
//! idempotent, and every comment survives. Comments are re-attached by
//! position at clause granularity: a comment inside a multi-line expression
//! moves to just after that clause (still on its line if it trailed code).
//!
//! Literals keep the author's spelling when it still denotes the same value
//! (`24h` stays `24h` rather than becoming `1d`); generated trees with no
//! source text get the canonical spelling.

use std::fmt::Write as _;

use super::ast::*;
use super::lex::Comment;
use super::parser::Parsed;
use crate::source::Loc;
use crate::time::{Duration, Timestamp};

/// Lines longer than this are broken at top-level `and`/`or`, and match arms
/// go one per line.
pub const MAX_WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Formats a parsed file.
pub fn format(parsed: &Parsed) -> String {
    let mut p = Printer {
        out: String::new(),
        comments: &parsed.comments,
        next: 0,
        src: parsed.file.text(),
        last_end: 0,
    };
    p.module(&parsed.module);
    p.out
}

/// Formats a tree without comments (for generated trees).
pub fn format_module(module: &Module) -> String {
    let mut p = Printer { out: String::new(), comments: &[], next: 0, src: "", last_end: 0 };
    p.module(module);
    p.out
}

/// Formats an expression on one line.
pub fn format_expr(e: &Expr) -> String {
    expr(e)
}

struct Printer<'a> {
    out: String,
    comments: &'a [Comment],
    next: usize,
    src: &'a str,
    /// Source offset just after the last thing printed, for blank-line detection.
    last_end: usize,
}

impl Printer<'_> {
    /// True when the source has an empty line between `from` and `to`.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let Some(between) = self.src.get(from.min(to)..to) else { return false };
        let lines: Vec<&str> = between.split('\n').collect();
        // The first and last pieces are the ends of the lines `from` and `to` sit on.
        lines.len() >= 3 && lines.iter().skip(1).take(lines.len() - 2).any(|l| l.trim().is_empty())
    }

    fn ensure_blank_line(&mut self) {
        if self.out.is_empty() || self.out.ends_with("\n\n") || self.out.ends_with("{\n") {
            return;
        }
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.out.push('\n');
    }

    /// Emits every comment that starts before `pos`.
    fn flush(&mut self, pos: usize, depth: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= pos {
                break;
            }
            self.next += 1;
            let attach = !c.own_line
                && self.out.ends_with('\n')
                && !self.out.ends_with("\n\n")
                && !self.out.is_empty();
            if attach {
                self.out.pop();
                let _ = writeln!(self.out, "  {}", c.text);
            } else {
                if self.blank_between(self.last_end, c.span.start) {
                    self.ensure_blank_line();
                }
                let _ = writeln!(self.out, "{}{}", INDENT.repeat(depth), c.text);
            }
            self.last_end = self.last_end.max(c.span.end);
        }
    }

    /// Emits comments before `pos` that trail code on a previous line.
    fn flush_trailing(&mut self, pos: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= pos || c.own_line {
                break;
            }
            self.flush(c.span.start + 1, 0);
        }
    }

    fn line(&mut self, depth: usize, text: &str) {
        for (i, l) in text.split('\n').enumerate() {
            if i == 0 || !l.is_empty() {
                let _ = writeln!(self.out, "{}{l}", INDENT.repeat(depth));
            }
        }
    }

    /// Starts a member of a block: comments before it, a blank line where the source had one.
    fn member(&mut self, loc: &Loc, depth: usize) {
        self.flush(loc.span.start, depth);
        if self.blank_between(self.last_end, loc.span.start) {
            self.ensure_blank_line();
        }
    }

    fn end_member(&mut self, loc: &Loc) {
        self.last_end = self.last_end.max(loc.span.end);
    }

    fn docs(&mut self, docs: &Docs, depth: usize) {
        for d in docs {
            if d.is_empty() {
                self.line(depth, "///");
            } else {
                self.line(depth, &format!("/// {d}"));
            }
        }
    }

    /// Opens `header {`, prints members with `f`, closes with `}`.
    fn block<T>(
        &mut self,
        header: &str,
        loc: &Loc,
        members: &[T],
        depth: usize,
        mut f: impl FnMut(&mut Self, &T),
    ) {
        self.line(depth, &format!("{header} {{"));
        for m in members {
            f(self, m);
        }
        // Comments before the closing brace stay inside the block.
        self.flush(loc.span.end.saturating_sub(1), depth + 1);
        self.line(depth, "}");
        self.end_member(loc);
    }

    fn module(&mut self, m: &Module) {
        if let Some(pkg) = &m.package {
            self.flush(pkg.loc.span.start, 0);
            self.line(0, &format!("package {}", pkg.name));
            self.end_member(&pkg.loc);
        }
        let mut prev: Option<&Item> = None;
        for item in &m.items {
            let start = item.loc().span.start;
            // A comment trailing the previous item stays on its line.
            self.flush_trailing(start);
            let tight = matches!(
                (prev, item),
                (Some(Item::Import(_)), Item::Import(_)) | (Some(Item::Const(_)), Item::Const(_))
            ) && !self.blank_between(self.last_end, start);
            if (prev.is_some() || m.package.is_some()) && !tight {
                self.ensure_blank_line();
            }
            // Comments before the item belong to it: no blank line after them
            // unless the source had one.
            let before = self.next;
            self.flush(start, 0);
            if (self.next > before || prev.is_none()) && self.blank_between(self.last_end, start) {
                self.ensure_blank_line();
            }
            self.item(item);
            prev = Some(item);
        }
        self.flush(usize::MAX, 0);
        if self.out.is_empty() {
            return;
        }
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Import(i) => {
                let alias = i.alias.as_ref().map(|a| format!(" as {}", a.name)).unwrap_or_default();
                self.line(0, &format!("import {}{alias}", i.path.name));
                self.end_member(&i.loc);
            }
            Item::Const(c) => {
                self.docs(&c.docs, 0);
                let ty = c.ty.as_ref().map(|t| format!(": {}", type_expr(t))).unwrap_or_default();
                self.line(0, &format!("const {}{ty} = {}", c.name.name, expr(&c.value)));
                self.end_member(&c.loc);
            }
            Item::Fn(f) => {
                self.docs(&f.docs, 0);
                let head =
                    format!("fn {}({}) -> {}", f.name.name, params(&f.params), type_expr(&f.ret));
                let body = expr(&f.body);
                let one = format!("{head} {{ {body} }}");
                if one.len() <= MAX_WIDTH {
                    self.line(0, &one);
                } else {
                    self.line(0, &format!("{head} {{"));
                    self.line(1, &body);
                    self.line(0, "}");
                }
                self.end_member(&f.loc);
            }
            Item::Schema(s) => {
                self.docs(&s.docs, 0);
                self.block("schema", &s.loc, &s.members, 0, |p, m| p.schema_member(m, 1));
            }
            Item::Rule(r) => {
                self.docs(&r.docs, 0);
                self.block(&format!("rule {}", r.name.name), &r.loc, &r.clauses, 0, |p, c| {
                    p.member(&c.loc, 1);
                    let text = rule_clause(&c.kind);
                    p.line(1, &text);
                    p.end_member(&c.loc);
                });
            }
            Item::Priority(pr) => {
                self.docs(&pr.docs, 0);
                self.block(
                    &format!("priority by {}", expr(&pr.by)),
                    &pr.loc,
                    &pr.arms,
                    0,
                    |p, a| {
                        p.member(&a.loc, 1);
                        let within = keep_spelling(
                            after_word(a.loc.text(), "within"),
                            a.value.within,
                            |s| Duration::parse(s).ok(),
                        )
                        .unwrap_or_else(|| a.value.within.to_string());
                        p.line(
                            1,
                            &format!(
                                "{} => P{} within {within}",
                                pattern(&a.pattern),
                                a.value.level
                            ),
                        );
                        p.end_member(&a.loc);
                    },
                );
            }
            Item::Exception(e) => {
                self.docs(&e.docs, 0);
                self.block(&format!("exception {}", e.name.name), &e.loc, &e.clauses, 0, |p, c| {
                    p.member(&c.loc, 1);
                    let text = match &c.kind {
                        ExceptionClauseKind::Rule { rule } => format!("rule {}", rule.name),
                        ExceptionClauseKind::When { cond } => {
                            format!("when {}", wrapped(cond, 1, "when "))
                        }
                        ExceptionClauseKind::Until { date } => {
                            format!("until {}", time_lit(*date, after_word(c.loc.text(), "until")))
                        }
                        ExceptionClauseKind::ApprovedBy { approvers } => {
                            format!(
                                "approved_by {}",
                                approvers
                                    .iter()
                                    .map(|s| string(&s.value))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }
                        ExceptionClauseKind::Reason { text } => {
                            format!("reason {}", string(&text.value))
                        }
                    };
                    p.line(1, &text);
                    p.end_member(&c.loc);
                });
            }
            Item::Decision(d) => {
                self.docs(&d.docs, 0);
                self.block(&format!("decision {}", d.name.name), &d.loc, &d.clauses, 0, |p, c| {
                    p.member(&c.loc, 1);
                    let text = match &c.kind {
                        DecisionClauseKind::Input { params: ps } => format!("input {}", params(ps)),
                        DecisionClauseKind::Let(l) => {
                            format!("let {} = {}", l.name.name, wrapped(&l.value, 1, "let  = "))
                        }
                        DecisionClauseKind::Deny { reason, when } => {
                            let head = format!("deny {} when ", template(reason));
                            format!("{head}{}", wrapped(when, 1, &head))
                        }
                        DecisionClauseKind::Allow { reason, when } => {
                            let head = match reason {
                                Some(r) => format!("allow {} when ", template(r)),
                                None => "allow when ".to_owned(),
                            };
                            format!("{head}{}", wrapped(when, 1, &head))
                        }
                        DecisionClauseKind::Approval { from, when } => {
                            let head =
                                format!("require approval from {} when ", operand(from, true));
                            format!("{head}{}", wrapped(when, 1, &head))
                        }
                    };
                    p.line(1, &text);
                    p.end_member(&c.loc);
                });
            }
            Item::Plugin(pl) => {
                self.docs(&pl.docs, 0);
                let head = format!("plugin {} = {}", pl.name.name, string(&pl.path.value));
                if pl.fns.is_empty() {
                    self.line(0, &head);
                    self.end_member(&pl.loc);
                } else {
                    self.block(&head, &pl.loc, &pl.fns, 0, |p, f| {
                        p.member(&f.loc, 1);
                        p.docs(&f.docs, 1);
                        p.line(
                            1,
                            &format!(
                                "fn {}({}) -> {}",
                                f.name.name,
                                params(&f.params),
                                type_expr(&f.ret)
                            ),
                        );
                        p.end_member(&f.loc);
                    });
                }
            }
            Item::Test(t) => {
                self.docs(&t.docs, 0);
                self.block(
                    &format!("test {}", string(&t.name.value)),
                    &t.loc,
                    &t.clauses,
                    0,
                    |p, c| {
                        p.member(&c.loc, 1);
                        match &c.kind {
                            TestClauseKind::GivenFile { path } => {
                                p.line(1, &format!("given {}", string(&path.value)))
                            }
                            TestClauseKind::GivenInline { graph } => {
                                if graph.is_empty() {
                                    p.line(1, "given {}");
                                } else {
                                    p.line(1, "given {");
                                    for g in graph {
                                        p.line(2, &graph_item(g));
                                    }
                                    p.line(1, "}");
                                }
                            }
                            TestClauseKind::Now { at } => p.line(
                                1,
                                &format!("now {}", time_lit(*at, after_word(c.loc.text(), "now"))),
                            ),
                            TestClauseKind::Expect(e) => {
                                p.line(1, &format!("expect {}", expectation(e)))
                            }
                        }
                        p.end_member(&c.loc);
                    },
                );
            }
        }
    }

    fn schema_member(&mut self, m: &SchemaMember, depth: usize) {
        self.member(m.loc(), depth);
        match m {
            SchemaMember::Node(n) => {
                self.docs(&n.docs, depth);
                if n.attrs.is_empty() {
                    self.line(depth, &format!("node {}", n.name.name));
                    self.end_member(&n.loc);
                } else {
                    self.block(
                        &format!("node {}", n.name.name),
                        &n.loc,
                        &n.attrs,
                        depth,
                        |p, a| p.attr_decl(a, depth + 1),
                    );
                }
            }
            SchemaMember::Edge(e) => {
                self.docs(&e.docs, depth);
                let names = |ns: &[Name]| {
                    ns.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(" | ")
                };
                let head = format!("edge {}: {} -> {}", e.name.name, names(&e.from), names(&e.to));
                if e.attrs.is_empty() {
                    self.line(depth, &head);
                    self.end_member(&e.loc);
                } else {
                    self.block(&head, &e.loc, &e.attrs, depth, |p, a| p.attr_decl(a, depth + 1));
                }
            }
            SchemaMember::Enum(e) => {
                self.docs(&e.docs, depth);
                let vs = e.variants.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ");
                self.line(depth, &format!("enum {} {{ {vs} }}", e.name.name));
                self.end_member(&e.loc);
            }
        }
    }

    fn attr_decl(&mut self, a: &AttrDecl, depth: usize) {
        self.member(&a.loc, depth);
        self.docs(&a.docs, depth);
        let default = a.default.as_ref().map(|d| format!(" = {}", expr(d))).unwrap_or_default();
        self.line(depth, &format!("{}: {}{default}", a.name.name, type_expr(&a.ty)));
        self.end_member(&a.loc);
    }
}

/// The text after the first occurrence of `word` in a clause's source, trimmed.
fn after_word<'a>(text: &'a str, word: &str) -> &'a str {
    text.find(word)
        .and_then(|i| text.get(i + word.len()..))
        .unwrap_or("")
        .trim()
        .trim_end_matches(',')
        .trim()
}

/// `text` if it spells `value`, else `None`.
fn keep_spelling<T: PartialEq>(
    text: &str,
    value: T,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<String> {
    (!text.is_empty() && parse(text).is_some_and(|v| v == value)).then(|| text.to_owned())
}

fn time_lit(t: Timestamp, source: &str) -> String {
    keep_spelling(source, t, |s| Timestamp::parse(s).ok()).unwrap_or_else(|| t.to_string())
}

fn rule_clause(c: &RuleClauseKind) -> String {
    match c {
        RuleClauseKind::Severity(SeveritySpec::Fixed(l)) => format!("severity {}", l.as_str()),
        RuleClauseKind::Severity(SeveritySpec::By { scrutinee, arms }) => {
            let head = format!("severity by {}", expr(scrutinee));
            let items: Vec<String> = arms
                .iter()
                .map(|a| format!("{} => {}", pattern(&a.pattern), a.value.as_str()))
                .collect();
            arms_block(&head, &items, 1)
        }
        RuleClauseKind::Enforce { level } => format!("enforce {}", level.as_str()),
        RuleClauseKind::Maps { controls } => {
            format!(
                "maps {}",
                controls.iter().map(|s| string(&s.value)).collect::<Vec<_>>().join(", ")
            )
        }
        RuleClauseKind::For { var, kind, filter } => match filter {
            Some(f) => {
                let head = format!("for {}: {} where ", var.name, kind.name);
                format!("{head}{}", wrapped(f, 1, &head))
            }
            None => format!("for {}: {}", var.name, kind.name),
        },
        RuleClauseKind::Let(l) => {
            let head = format!("let {} = ", l.name.name);
            format!("{head}{}", wrapped(&l.value, 1, &head))
        }
        RuleClauseKind::Require { cond } => format!("require {}", wrapped(cond, 1, "require ")),
        RuleClauseKind::Message { text } => format!("message {}", template(text)),
        RuleClauseKind::Help { text } => format!("help {}", template(text)),
    }
}

/// `head { a, b }` on one line when it fits, else one arm per line.
fn arms_block(head: &str, items: &[String], depth: usize) -> String {
    let one = format!("{head} {{ {} }}", items.join(", "));
    if items.is_empty() {
        return format!("{head} {{}}");
    }
    if one.len() + depth * INDENT.len() <= MAX_WIDTH && !one.contains('\n') {
        return one;
    }
    // Commas stay: without them `x => a` followed by `-1 => b` reads as `a - 1`.
    let mut s = format!("{head} {{\n");
    for i in items {
        let _ = writeln!(s, "{INDENT}{},", i.replace('\n', &format!("\n{INDENT}")));
    }
    s.push('}');
    s
}

/// An expression; a top-level `and`/`or` chain that would overflow the line
/// is broken before each operator.
fn wrapped(e: &Expr, depth: usize, head: &str) -> String {
    let one = expr(e);
    if one.len() + head.len() + depth * INDENT.len() <= MAX_WIDTH {
        return one;
    }
    let ExprKind::Binary(op @ (BinaryOp::And | BinaryOp::Or), _, _) = &e.kind else { return one };
    let mut operands = Vec::new();
    let mut cur = e;
    while let ExprKind::Binary(o, l, r) = &cur.kind
        && o == op
    {
        operands.push(r.as_ref());
        cur = l;
    }
    operands.push(cur);
    operands.reverse();
    let mut s = String::new();
    for (i, o) in operands.iter().enumerate() {
        // The first operand is a left operand; the others are right operands
        // of a left-associative chain.
        let text = if i == 0 {
            left_operand(o, op.precedence())
        } else {
            right_operand(o, op.precedence())
        };
        if i == 0 {
            s.push_str(&text);
        } else {
            let _ = write!(s, "\n{INDENT}{} {text}", op.as_str());
        }
    }
    s
}

fn params(ps: &[Param]) -> String {
    ps.iter()
        .map(|p| format!("{}: {}", p.name.name, type_expr(&p.ty)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_expr(t: &TypeExpr) -> String {
    let base = match &t.kind {
        TypeKind::Named(n) => n.name.clone(),
        TypeKind::List(inner) => format!("[{}]", type_expr(inner)),
    };
    if t.optional { format!("{base}?") } else { base }
}

fn graph_item(g: &GraphItem) -> String {
    match g {
        GraphItem::Node { kind, id, attrs, .. } => {
            if attrs.is_empty() {
                format!("{} {}", kind.name, string(&id.value))
            } else {
                format!("{} {} {{ {} }}", kind.name, string(&id.value), field_inits(attrs))
            }
        }
        GraphItem::Edge { from, kind, to, .. } => {
            format!("{} -[{}]-> {}", string(&from.value), kind.name, string(&to.value))
        }
    }
}

fn field_inits(fs: &[FieldInit]) -> String {
    fs.iter().map(|f| format!("{}: {}", f.name.name, expr(&f.value))).collect::<Vec<_>>().join(", ")
}

fn expectation(e: &Expectation) -> String {
    match e {
        Expectation::Fails { rule, entity } => {
            format!("{} fails on {}", rule.name, string(&entity.value))
        }
        Expectation::Passes { rule, entity } => {
            format!("{} passes on {}", rule.name, string(&entity.value))
        }
        Expectation::Finds { rule, count } => format!("{} finds {count}", rule.name),
        Expectation::Priority { rule, level, entity } => {
            format!("{} priority P{level} on {}", rule.name, string(&entity.value))
        }
        Expectation::Waived { rule, entity } => {
            format!("waived {} on {}", rule.name, string(&entity.value))
        }
        Expectation::Decision { decision, inputs, effect } => {
            let inputs = if inputs.is_empty() {
                "{}".to_owned()
            } else {
                format!("{{ {} }}", field_inits(inputs))
            };
            format!("decision {} with {inputs} is {}", decision.name, effect.as_str())
        }
    }
}

fn pattern(p: &Pattern) -> String {
    p.alts
        .iter()
        .map(|a| match a {
            PatternAlt::Wildcard => "_".to_owned(),
            PatternAlt::Literal(l) => literal(l),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Null => "null".into(),
        Literal::Bool(b) => b.to_string(),
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => float(*f),
        Literal::Str(s) => string(s),
        Literal::Duration(d) => d.to_string(),
        Literal::Time(t) => t.to_string(),
    }
}

fn float(f: f64) -> String {
    let s = f.to_string();
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// Escapes `s`; every string lexes `{` as a hole, so braces are escaped too.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// A string literal with escapes.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    escape_into(&mut out, s);
    out.push('"');
    out
}

fn template(t: &Template) -> String {
    let mut out = String::from("\"");
    for part in &t.parts {
        match part {
            TemplatePart::Text(s) => escape_into(&mut out, s),
            TemplatePart::Hole(e) => {
                let _ = write!(out, "{{{}}}", expr(e));
            }
        }
    }
    out.push('"');
    out
}

/// Binding strength of an expression as printed (primaries bind tightest).
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, _, _) => op.precedence(),
        ExprKind::Unary(UnaryOp::Not, _) => NOT_PRECEDENCE,
        ExprKind::Unary(UnaryOp::Neg, _) => NEG_PRECEDENCE,
        ExprKind::Field(..) | ExprKind::Call(..) | ExprKind::Has(..) => 8,
        _ => 9,
    }
}

/// True when the expression ends in a greedy sub-expression (`if .. else x`,
/// `exists .. where x`, `x in xs`), so that an operator printed after it would
/// be swallowed by it.
fn is_open(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::If(..) => true,
        ExprKind::Quantified { source, cond, .. } => {
            cond.is_some() || !matches!(source, Source::Path(_))
        }
        ExprKind::Unary(_, x) => is_open(x),
        ExprKind::Binary(_, _, r) => is_open(r),
        _ => false,
    }
}

/// True when the expression ends in a quantifier whose path would take a
/// following `where` as its own.
fn ends_with_quantified(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Quantified { .. } => true,
        ExprKind::Unary(_, x) | ExprKind::Binary(_, _, x) => ends_with_quantified(x),
        _ => false,
    }
}

fn paren(s: String) -> String {
    format!("({s})")
}

/// An expression followed by more tokens: parenthesised when open-ended.
fn operand(e: &Expr, followed: bool) -> String {
    if followed && is_open(e) { paren(expr(e)) } else { expr(e) }
}

fn left_operand(e: &Expr, op_prec: u8) -> String {
    // Comparisons do not chain: a comparison under a comparison keeps its parentheses.
    let chained = op_prec == 4 && prec(e) == 4;
    if prec(e) < op_prec || is_open(e) || chained { paren(expr(e)) } else { expr(e) }
}

fn right_operand(e: &Expr, op_prec: u8) -> String {
    // `a <= if c then x else y` parses, but reads badly without parentheses.
    if prec(e) <= op_prec || matches!(e.kind, ExprKind::If(..)) { paren(expr(e)) } else { expr(e) }
}

fn postfix_operand(e: &Expr) -> String {
    if prec(e) < 8 || is_open(e) { paren(expr(e)) } else { expr(e) }
}

fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => {
            keep_spelling(e.loc.text(), *f, |s| s.parse::<f64>().ok()).unwrap_or_else(|| float(*f))
        }
        ExprKind::Str(s) => string(s),
        ExprKind::Duration(d) => keep_spelling(e.loc.text(), *d, |s| Duration::parse(s).ok())
            .unwrap_or_else(|| d.to_string()),
        ExprKind::Time(t) => time_lit(*t, e.loc.text()),
        ExprKind::Now => "now".into(),
        ExprKind::List(xs) => format!("[{}]", xs.iter().map(expr).collect::<Vec<_>>().join(", ")),
        ExprKind::Var(n) => n.name.clone(),
        ExprKind::Field(x, n) => format!("{}.{}", postfix_operand(x), n.name),
        ExprKind::Call(f, args) => {
            format!(
                "{}({})",
                postfix_operand(f),
                args.iter().map(expr).collect::<Vec<_>>().join(", ")
            )
        }
        ExprKind::Has(x, n) => format!("{} has {}", postfix_operand(x), n.name),
        ExprKind::Unary(UnaryOp::Not, x) => {
            let inner = if prec(x) < NOT_PRECEDENCE { paren(expr(x)) } else { expr(x) };
            format!("not {inner}")
        }
        ExprKind::Unary(UnaryOp::Neg, x) => {
            let inner = expr(x);
            // `-[` and `->` are path arrows. `--` reads as a typo, but
            // parentheses around a negation would nest as deep as a chain
            // of them is long, past the parser's bracket limit: a space.
            if prec(x) < NEG_PRECEDENCE || inner.starts_with(['[', '>']) {
                format!("-({inner})")
            } else if inner.starts_with('-') {
                format!("- {inner}")
            } else {
                format!("-{inner}")
            }
        }
        ExprKind::Binary(op, l, r) => {
            format!(
                "{} {} {}",
                left_operand(l, op.precedence()),
                op.as_str(),
                right_operand(r, op.precedence())
            )
        }
        ExprKind::If(c, a, b) => format!("if {} then {} else {}", expr(c), expr(a), expr(b)),
        ExprKind::Match(x, arms) => {
            let items: Vec<String> = arms
                .iter()
                .map(|a| format!("{} => {}", pattern(&a.pattern), expr(&a.value)))
                .collect();
            arms_block(&format!("match {}", operand(x, true)), &items, 0)
        }
        ExprKind::Quantified { quantifier, source, cond } => {
            let q = match quantifier {
                Quantifier::Exists => "exists",
                Quantifier::All => "all",
            };
            let mut s = format!("{q} {}", source_text(source, cond.is_some()));
            if let Some(c) = cond {
                let _ = write!(s, " where {}", expr(c));
            }
            s
        }
        ExprKind::Aggregate { aggregator, source, filter, projection } => {
            let mut s = format!(
                "{}({}",
                aggregator.as_str(),
                source_text(source, filter.is_some() || projection.is_some())
            );
            if let Some(f) = filter {
                let _ = write!(s, " where {}", operand(f, projection.is_some()));
            }
            if let Some(p) = projection {
                let _ = write!(s, " | {}", expr(p));
            }
            s.push(')');
            s
        }
    }
}

fn binder(b: &Binder) -> &str {
    match b {
        Binder::Named(n) => &n.name,
        Binder::Anonymous(_) => "_",
    }
}

fn source_text(s: &Source, followed: bool) -> String {
    match s {
        Source::Path(p) => path(p),
        Source::In { binder: b, collection } => {
            if followed && (is_open(collection) || ends_with_quantified(collection)) {
                format!("{} in {}", binder(b), paren(expr(collection)))
            } else {
                format!("{} in {}", binder(b), expr(collection))
            }
        }
        Source::Expr { value } => {
            // A value that is not a primary could read back as a path or as an
            // `x in xs` binding, or swallow a following `where`.
            if prec(value) < 8 || is_open(value) || ends_with_quantified(value) {
                paren(expr(value))
            } else {
                expr(value)
            }
        }
    }
}

fn path(p: &PathPattern) -> String {
    let mut s = binder(&p.start).to_owned();
    for step in &p.steps {
        let kinds = step.edges.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join("|");
        let rep = match step.repeat {
            None => String::new(),
            Some(Repeat { min: 1, max: None }) => "*".into(),
            Some(Repeat { min, max: None }) => format!("*{min}.."),
            Some(Repeat { min, max: Some(max) }) if min == max => format!("*{min}"),
            Some(Repeat { min, max: Some(max) }) => format!("*{min}..{max}"),
        };
        let (open, close) = match step.direction {
            Direction::Out => ("-[", "]->"),
            Direction::In => ("<-[", "]-"),
            Direction::Either => ("-[", "]-"),
        };
        let n = &step.node;
        let mut node = binder(&n.binder).to_owned();
        if let Some(k) = &n.kind {
            let _ = write!(node, ": {}", k.name);
        }
        if let Some(f) = &n.filter {
            node = format!("({node} where {})", expr(f));
        }
        let _ = write!(s, " {open}{kinds}{rep}{close} {node}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::syntax::parse;

    fn fmt(src: &str) -> String {
        let parsed = parse(&SourceFile::new("t.gov", src)).unwrap_or_else(|d| panic!("{d:?}"));
        format(&parsed)
    }

    fn roundtrip(src: &str) -> String {
        let once = fmt(src);
        let twice = fmt(&once);
        assert_eq!(once, twice, "not idempotent");
        let a = parse(&SourceFile::new("a", src)).unwrap().module;
        let b = parse(&SourceFile::new("b", &once)).unwrap().module;
        assert_eq!(a, b, "formatting changed the tree:\n{once}");
        once
    }

    #[test]
    fn canonical_layout_and_spelling_kept() {
        let out = roundtrip(
            "package a.b\npriority by service.tier {0=>P1 within 24h\n_=>P3 within 14d}\nrule r{for x:identity where x.type!=\"human\" require x.active}",
        );
        assert_eq!(
            out,
            "package a.b\n\npriority by service.tier {\n  0 => P1 within 24h\n  _ => P3 within 14d\n}\n\nrule r {\n  for x: identity where x.type != \"human\"\n  require x.active\n}\n"
        );
    }

    #[test]
    fn keeps_comments_in_place() {
        let src = "// head\nrule r { // trailing brace\n  // before for\n  for x: identity // trailing\n\n  /* block */\n  require x.a and\n    // inside\n    x.b\n  // last\n}\n// tail\n";
        let out = roundtrip(src);
        assert_eq!(
            out,
            "// head\nrule r {  // trailing brace\n  // before for\n  for x: identity  // trailing\n\n  /* block */\n  require x.a and x.b\n  // inside\n  // last\n}\n// tail\n"
        );
    }

    #[test]
    fn a_chain_of_negations_formats_to_text_that_parses() {
        // Found by fuzzing: each negation put the next in parentheses, and a
        // chain of 70 formatted past the 64 levels of brackets the parser
        // takes, so `gov fmt` wrote a file that no longer parsed.
        let src = format!("const x = 3 {}0\n", "- ".repeat(70));
        let out = roundtrip(&src);
        assert!(!out.contains('('), "{out}");
    }

    #[test]
    fn parenthesises_what_the_grammar_needs() {
        for (src, want) in [
            ("(a or b) and c", "(a or b) and c"),
            ("a - (b - c)", "a - (b - c)"),
            ("(a - b) - c", "a - b - c"),
            ("(a < b) == c", "(a < b) == c"),
            ("not (a and b)", "not (a and b)"),
            ("not a == b", "not a == b"),
            ("(not a) == b", "(not a) == b"),
            ("(if a then b else c) and d", "(if a then b else c) and d"),
            ("(exists x in xs where x) or y", "(exists x in xs where x) or y"),
            ("exists a -[e]-> b and c", "exists a -[e]-> b and c"),
            ("(exists x in xs) and c", "(exists x in xs) and c"),
            ("count((x in xs))", "count((x in xs))"),
            ("-(-x)", "- -x"),
            ("- - -x", "- - -x"),
            ("(a + b).c", "(a + b).c"),
        ] {
            let e = crate::syntax::parse_expr(&SourceFile::new("e", src)).unwrap();
            let printed = format_expr(&e);
            assert_eq!(printed, want, "{src}");
            let back = crate::syntax::parse_expr(&SourceFile::new("p", &printed)).unwrap();
            assert_eq!(back, e, "{src}");
        }
    }

    #[test]
    fn breaks_long_conditions_at_top_level_operators() {
        let cond = (0..12)
            .map(|i| format!("x.attribute_{i} == \"value\""))
            .collect::<Vec<_>>()
            .join(" and ");
        let out = roundtrip(&format!("rule r {{ for x: identity require {cond} }}"));
        assert!(out.contains("\n    and x.attribute_1 == \"value\"\n"), "{out}");
    }

    #[test]
    fn escapes_strings_and_templates() {
        let out = roundtrip("rule r { for x: identity message \"a\\\"b \\{x\\} {x.name}\\n\" }");
        assert!(out.contains(r#"message "a\"b \{x\} {x.name}\n""#), "{out}");
    }
}
