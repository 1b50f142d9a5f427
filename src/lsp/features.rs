//! What the server answers: hover, definition, references, completion,
//! symbols, rename and quick fixes. Each works from the tokens around the
//! cursor and the workspace's index, so it answers on text that does not
//! parse.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CompletionItem, CompletionItemKind, DocumentSymbol, Location,
    SymbolKind, TextEdit, WorkspaceEdit,
};

use super::text::{LineIndex, Tok, TokKind, token_at, tokens};
use super::workspace::{Def, DefKind, Workspace};
use crate::diag::{Code, Diag};
use crate::graph::Schema;
use crate::ir::Builtin;

/// Severity levels, in the order a user reads them.
const SEVERITIES: &[&str] = &["critical", "high", "medium", "low", "info"];
/// Enforcement levels.
const ENFORCEMENTS: &[&str] = &["advisory", "soft", "hard"];
/// Words that start an item or a clause.
const KEYWORDS: &[&str] = &[
    "rule",
    "exception",
    "decision",
    "const",
    "fn",
    "plugin",
    "schema",
    "test",
    "priority",
    "package",
    "import",
    "severity",
    "enforce",
    "maps",
    "for",
    "where",
    "let",
    "require",
    "message",
    "help",
    "when",
    "until",
    "approved_by",
    "reason",
    "input",
    "allow",
    "deny",
    "exists",
    "all",
    "count",
    "not",
    "and",
    "or",
    "has",
    "in",
    "if",
    "then",
    "else",
    "now",
    "given",
    "expect",
];

/// A name a local binds in the item around the cursor.
#[derive(Clone, Debug)]
struct Local {
    name: String,
    span: (usize, usize),
    /// `Some(kind)` for `x: kind`, `None` for `let`.
    kind: Option<String>,
    /// For `let`: the value's text up to the end of its line.
    value: String,
}

/// What the cursor is on.
#[derive(Clone, Debug)]
pub enum Target {
    /// A declaration of the workspace.
    Global(Def),
    /// A local of an item (`item` is the item's byte range).
    Local {
        uri: String,
        item: (usize, usize),
        name: String,
        span: (usize, usize),
        kind: Option<String>,
        value: String,
    },
    /// An attribute of a kind.
    Attr { kind: String, name: String },
    /// A node kind or edge kind of the schema (not declared in a file).
    SchemaName { name: String },
    /// A built-in function.
    Builtin(Builtin),
}

/// The text and tokens of a file.
pub struct View<'w> {
    /// Its text.
    pub src: &'w str,
    /// Its tokens.
    pub toks: Vec<Tok>,
}

impl<'w> View<'w> {
    /// Tokenizes a file of the workspace.
    pub fn of(ws: &'w Workspace, uri: &str) -> Option<Self> {
        let f = ws.files.get(uri)?;
        let src = f.text.text();
        Some(Self { src, toks: tokens(src) })
    }

    fn text(&self, i: usize) -> &'w str {
        self.toks.get(i).map_or("", |t| t.text(self.src))
    }

    fn is(&self, i: Option<usize>, s: &str) -> bool {
        i.is_some_and(|i| self.text(i) == s)
    }
}

/// The byte range of the top-level item around `offset`: from the item's
/// keyword at the start of a line to the next such keyword.
fn item_range(ws: &Workspace, uri: &str, src: &str, offset: usize) -> (usize, usize) {
    if let Some(p) = ws.tree(uri) {
        for item in &p.module.items {
            let s = item.loc().span;
            if s.start <= offset && offset <= s.end && s.end <= src.len() {
                return (s.start, s.end);
            }
        }
    }
    // Text that does not parse: split at lines that start an item.
    let starts = |line: &str| {
        [
            "rule ",
            "exception ",
            "decision ",
            "fn ",
            "const ",
            "plugin ",
            "schema",
            "test ",
            "priority ",
        ]
        .iter()
        .any(|k| line.starts_with(k))
    };
    let mut start = 0;
    let mut end = src.len();
    let mut pos = 0;
    for line in src.split_inclusive('\n') {
        if starts(line) {
            if pos <= offset {
                start = pos;
            } else {
                end = pos;
                break;
            }
        }
        pos += line.len();
    }
    (start, end)
}

fn locals(v: &View<'_>, range: (usize, usize)) -> Vec<Local> {
    let mut out = Vec::new();
    let ids: Vec<usize> = (0..v.toks.len())
        .filter(|&i| v.toks.get(i).is_some_and(|t| t.start >= range.0 && t.end <= range.1))
        .collect();
    for &i in &ids {
        let Some(t) = v.toks.get(i) else { continue };
        if t.kind != TokKind::Ident {
            continue;
        }
        let name = v.text(i);
        if name == "let" {
            if let Some(n) = v.toks.get(i + 1).filter(|n| n.kind == TokKind::Ident) {
                let rest = v.src.get(n.end..).unwrap_or("");
                let value = rest
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches('=')
                    .trim()
                    .to_owned();
                out.push(Local {
                    name: n.text(v.src).to_owned(),
                    span: (n.start, n.end),
                    kind: None,
                    value,
                });
            }
            continue;
        }
        let after_dot = i > 0 && v.is(Some(i - 1), ".");
        if !after_dot
            && v.is(Some(i + 1), ":")
            && v.toks.get(i + 2).is_some_and(|k| k.kind == TokKind::Ident)
        {
            out.push(Local {
                name: name.to_owned(),
                span: (t.start, t.end),
                kind: Some(v.text(i + 2).to_owned()),
                value: String::new(),
            });
        }
    }
    out
}

/// The local named `name` that is in force at `offset`: the last binder before it, else the first.
fn find_local(ls: &[Local], name: &str, offset: usize) -> Option<Local> {
    let mut hit = None;
    for l in ls.iter().filter(|l| l.name == name) {
        if l.span.0 <= offset || hit.is_none() {
            hit = Some(l.clone());
        }
    }
    hit
}

/// The kind of the variable `var` at `offset` in an item.
fn kind_of_var(
    ws: &Workspace,
    v: &View<'_>,
    uri: &str,
    var: &str,
    offset: usize,
) -> Option<String> {
    if var == "service" {
        return Some("service".to_owned());
    }
    let range = item_range(ws, uri, v.src, offset);
    find_local(&locals(v, range), var, offset)?.kind
}

/// Resolves what the token at `offset` names.
pub fn resolve(ws: &Workspace, uri: &str, offset: usize) -> Option<(Target, (usize, usize))> {
    let v = View::of(ws, uri)?;
    let i = token_at(&v.toks, offset)?;
    let t = *v.toks.get(i)?;
    if t.kind != TokKind::Ident {
        return None;
    }
    let name = v.text(i);
    let span = (t.start, t.end);
    if i >= 2 && v.is(Some(i - 1), ".") {
        let obj = v.text(i - 2);
        if let Some(d) = ws
            .defs
            .iter()
            .find(|d| d.kind == DefKind::PluginFn && d.name == format!("{obj}.{name}"))
        {
            return Some((Target::Global(d.clone()), span));
        }
        let kind = kind_of_var(ws, &v, uri, obj, t.start)?;
        return Some((Target::Attr { kind, name: name.to_owned() }, span));
    }
    let range = item_range(ws, uri, v.src, offset);
    if let Some(l) = find_local(&locals(&v, range), name, offset) {
        return Some((
            Target::Local {
                uri: uri.to_owned(),
                item: range,
                name: l.name,
                span: l.span,
                kind: l.kind,
                value: l.value,
            },
            span,
        ));
    }
    let callable = v.is(Some(i + 1), "(");
    let order: &[DefKind] = if callable {
        &[DefKind::Fn, DefKind::Const, DefKind::Rule]
    } else {
        &[
            DefKind::Rule,
            DefKind::Const,
            DefKind::Fn,
            DefKind::Plugin,
            DefKind::Kind,
            DefKind::Edge,
            DefKind::Enum,
            DefKind::Exception,
            DefKind::Decision,
        ]
    };
    for k in order {
        if let Some(d) = ws.defs.iter().find(|d| d.kind == *k && d.name == name) {
            return Some((Target::Global(d.clone()), span));
        }
    }
    if let Some(b) = Builtin::ALL.iter().copied().find(|b| b.name() == name) {
        return Some((Target::Builtin(b), span));
    }
    if ws.schema.kind(name).is_some() || ws.schema.edge_kind(name).is_some() {
        return Some((Target::SchemaName { name: name.to_owned() }, span));
    }
    None
}

/// Hover text (Markdown) for what is at `offset`.
pub fn hover(ws: &Workspace, uri: &str, offset: usize) -> Option<(String, (usize, usize))> {
    let (target, span) = resolve(ws, uri, offset)?;
    let md = match target {
        Target::Global(d) => {
            let mut s = format!("```gov\n{}\n```", d.detail);
            if d.kind == DefKind::Const
                && let Some(value) = d.detail.split_once('=').map(|(_, v)| v.trim())
            {
                s.push_str(&format!("\n\nvalue: `{value}`"));
            }
            if !d.docs.is_empty() {
                s.push_str("\n\n");
                s.push_str(&d.docs);
            }
            s
        }
        Target::Local { name, kind: Some(k), .. } => {
            format!("```gov\n{name}: {k}\n```\nvariable of kind `{k}`{}", kind_doc(&ws.schema, &k))
        }
        Target::Local { name, kind: None, value, .. } => {
            format!("```gov\nlet {name} = {value}\n```")
        }
        Target::Attr { kind, name } => attr_hover(ws, &kind, &name)?,
        Target::SchemaName { name } => schema_hover(&ws.schema, &name)?,
        Target::Builtin(b) => {
            format!("```gov\n{}\n```\nbuilt-in function", crate::check::builtin_signature(b))
        }
    };
    Some((md, span))
}

fn kind_doc(schema: &Schema, kind: &str) -> String {
    schema
        .kind(kind)
        .and_then(|k| schema.kind_def(k))
        .filter(|d| !d.doc.is_empty())
        .map(|d| format!("\n\n{}", d.doc))
        .unwrap_or_default()
}

fn attr_hover(ws: &Workspace, kind: &str, name: &str) -> Option<String> {
    let schema = &ws.schema;
    let k = schema.kind(kind)?;
    let a = schema.attr(k, name)?;
    let def = schema.attr_def(k, a)?;
    let opt = if def.required { "" } else { "?" };
    let mut s = format!("```gov\n{kind}.{name}: {}{opt}\n```", def.ty);
    if !def.required {
        s.push_str("\noptional: guard with `has` or give a `default(...)`");
    }
    if !def.doc.is_empty() {
        s.push_str("\n\n");
        s.push_str(&def.doc);
    }
    Some(s)
}

fn schema_hover(schema: &Schema, name: &str) -> Option<String> {
    if let Some(k) = schema.kind(name).and_then(|k| schema.kind_def(k)) {
        let attrs: Vec<String> = k
            .attrs()
            .map(|(_, a)| format!("{}: {}{}", a.name, a.ty, if a.required { "" } else { "?" }))
            .collect();
        return Some(format!("```gov\nnode {} {{ {} }}\n```\n{}", k.name, attrs.join(", "), k.doc));
    }
    let e = schema.edge_kind(name).and_then(|e| schema.edge_def(e))?;
    let names = |ids: &[crate::graph::KindId]| {
        ids.iter().map(|k| schema.kind_name(*k).to_owned()).collect::<Vec<_>>().join(" | ")
    };
    Some(format!("```gov\nedge {}: {} -> {}\n```\n{}", e.name, names(&e.from), names(&e.to), e.doc))
}

/// Where what is at `offset` is declared.
pub fn definition(ws: &Workspace, uri: &str, offset: usize) -> Option<(String, (usize, usize))> {
    let (target, _) = resolve(ws, uri, offset)?;
    match target {
        Target::Global(d) => Some((d.uri, d.name_span)),
        Target::Local { uri, span, .. } => Some((uri, span)),
        Target::Attr { kind, name } => ws
            .defs
            .iter()
            .find(|d| {
                d.kind == DefKind::Attr && d.name == name && d.container.as_deref() == Some(&kind)
            })
            .map(|d| (d.uri.clone(), d.name_span)),
        Target::SchemaName { name } => ws
            .defs
            .iter()
            .find(|d| matches!(d.kind, DefKind::Kind | DefKind::Edge) && d.name == name)
            .map(|d| (d.uri.clone(), d.name_span)),
        Target::Builtin(_) => None,
    }
}

/// Every place (URI, byte range) that names what is at `offset`, the declaration included.
pub fn references(ws: &Workspace, uri: &str, offset: usize) -> Vec<(String, (usize, usize))> {
    let Some((target, _)) = resolve(ws, uri, offset) else { return Vec::new() };
    let mut out = Vec::new();
    match &target {
        Target::Local { uri, item, name, .. } => {
            if let Some(v) = View::of(ws, uri) {
                for (i, t) in v.toks.iter().enumerate() {
                    if t.start >= item.0
                        && t.end <= item.1
                        && t.kind == TokKind::Ident
                        && t.text(v.src) == name
                        && !(i > 0 && v.is(Some(i - 1), "."))
                    {
                        out.push((uri.clone(), (t.start, t.end)));
                    }
                }
            }
        }
        Target::Attr { kind, name } => {
            for u in ws.files.keys() {
                let Some(v) = View::of(ws, u) else { continue };
                for (i, t) in v.toks.iter().enumerate() {
                    if t.text(v.src) == name && i >= 2 && v.is(Some(i - 1), ".") {
                        let obj = v.text(i - 2);
                        if kind_of_var(ws, &v, u, obj, t.start).as_deref() == Some(kind.as_str()) {
                            out.push((u.clone(), (t.start, t.end)));
                        }
                    }
                }
            }
            if let Some(d) = ws.defs.iter().find(|d| {
                d.kind == DefKind::Attr && &d.name == name && d.container.as_ref() == Some(kind)
            }) {
                out.push((d.uri.clone(), d.name_span));
            }
        }
        Target::Global(d) => {
            let (plugin, name) = match d.kind {
                DefKind::PluginFn => match d.name.split_once('.') {
                    Some((p, n)) => (Some(p.to_owned()), n.to_owned()),
                    None => (None, d.name.clone()),
                },
                _ => (None, d.name.clone()),
            };
            for u in ws.files.keys() {
                let Some(v) = View::of(ws, u) else { continue };
                for (i, t) in v.toks.iter().enumerate() {
                    if t.kind != TokKind::Ident || t.text(v.src) != name {
                        continue;
                    }
                    let after_dot = i > 0 && v.is(Some(i - 1), ".");
                    let ok = match &plugin {
                        Some(p) => {
                            (after_dot && i >= 2 && v.text(i - 2) == p)
                                || (t.start, t.end) == d.name_span && u == &d.uri
                        }
                        None => !after_dot,
                    };
                    if ok {
                        out.push((u.clone(), (t.start, t.end)));
                    }
                }
            }
        }
        Target::SchemaName { name } => {
            for u in ws.files.keys() {
                let Some(v) = View::of(ws, u) else { continue };
                for (i, t) in v.toks.iter().enumerate() {
                    if t.kind == TokKind::Ident
                        && t.text(v.src) == name
                        && !(i > 0 && v.is(Some(i - 1), "."))
                    {
                        out.push((u.clone(), (t.start, t.end)));
                    }
                }
            }
        }
        Target::Builtin(_) => {}
    }
    out.sort();
    out.dedup();
    out
}

/// Is `s` a valid name for a rule (kebab-case allowed) or another declaration?
fn valid_name(s: &str, kebab: bool) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_' || (kebab && c == '-'))
        && !s.ends_with('-')
        && !KEYWORDS.contains(&s)
}

/// The edits that rename what is at `offset`, or why it cannot be renamed.
pub fn rename(
    ws: &Workspace,
    uri: &str,
    offset: usize,
    new_name: &str,
) -> Result<HashMap<String, Vec<(usize, usize)>>, String> {
    let Some((target, _)) = resolve(ws, uri, offset) else {
        return Err("nothing to rename here".to_owned());
    };
    let kebab = match &target {
        Target::Global(d) if d.kind == DefKind::Rule => true,
        Target::Global(d) if matches!(d.kind, DefKind::Const | DefKind::Fn) => false,
        Target::Local { kind: None, .. } => false,
        _ => {
            return Err(
                "only rules, constants, functions and `let` names can be renamed".to_owned()
            );
        }
    };
    if !valid_name(new_name, kebab) {
        return Err(format!("`{new_name}` is not a valid name"));
    }
    let mut edits: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
    for (u, span) in references(ws, uri, offset) {
        edits.entry(u).or_default().push(span);
    }
    Ok(edits)
}

/// Builds an LSP workspace edit from byte ranges.
#[expect(
    clippy::mutable_key_type,
    reason = "the protocol's `WorkspaceEdit` keys its edits by `Uri`"
)]
pub fn workspace_edit(
    ws: &Workspace,
    edits: HashMap<String, Vec<(usize, usize)>>,
    new_text: &str,
) -> WorkspaceEdit {
    let mut changes = HashMap::new();
    for (u, spans) in edits {
        let (Some(f), Ok(uri)) = (ws.files.get(&u), u.parse::<lsp_types::Uri>()) else { continue };
        let ix = LineIndex::new(f.text.text());
        let list = spans
            .into_iter()
            .map(|(s, e)| TextEdit::new(ix.range(s, e), new_text.to_owned()))
            .collect();
        changes.insert(uri, list);
    }
    WorkspaceEdit::new(changes)
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_owned(),
        kind: Some(kind),
        detail,
        ..CompletionItem::default()
    }
}

/// Completion candidates at `offset`.
pub fn completion(ws: &Workspace, uri: &str, offset: usize) -> Vec<CompletionItem> {
    let Some(v) = View::of(ws, uri) else { return Vec::new() };
    // The token being typed (if the cursor is at the end of a word) and what is before it.
    let mut i = v.toks.partition_point(|t| t.end < offset);
    if v.toks.get(i).is_some_and(|t| t.start >= offset) {
        i = i.saturating_sub(1).min(i);
        if v.toks.get(i).is_some_and(|t| t.end > offset) {
            return general(ws, &v, uri, offset);
        }
    }
    let typing = v
        .toks
        .get(i)
        .is_some_and(|t| t.kind == TokKind::Ident && t.end == offset && t.start < offset);
    let before = if typing {
        i.checked_sub(1)
    } else {
        v.toks.get(i).filter(|t| t.end <= offset).map(|_| i)
    };
    let prev = before.map_or("", |b| v.text(b));
    let prev2 = before.and_then(|b| b.checked_sub(1)).map_or("", |b| v.text(b));
    let prev3 = before.and_then(|b| b.checked_sub(2)).map_or("", |b| v.text(b));
    let schema = &ws.schema;
    match prev {
        "." => {
            let obj_at = v.toks.get(before.unwrap_or(0).saturating_sub(1)).map_or(0, |t| t.start);
            let plugin_fns: Vec<CompletionItem> = ws
                .defs
                .iter()
                .filter(|d| d.kind == DefKind::PluginFn && d.container.as_deref() == Some(prev2))
                .map(|d| {
                    item(
                        d.name.rsplit('.').next().unwrap_or(""),
                        CompletionItemKind::FUNCTION,
                        Some(d.detail.clone()),
                    )
                })
                .collect();
            if !plugin_fns.is_empty() {
                return plugin_fns;
            }
            let Some(kind) = kind_of_var(ws, &v, uri, prev2, obj_at) else { return Vec::new() };
            let Some(k) = schema.kind(&kind).and_then(|k| schema.kind_def(k)) else {
                return Vec::new();
            };
            k.attrs()
                .map(|(_, a)| {
                    let mut c = item(
                        &a.name,
                        CompletionItemKind::FIELD,
                        Some(format!("{}{}", a.ty, if a.required { "" } else { "?" })),
                    );
                    if !a.doc.is_empty() {
                        c.documentation = Some(lsp_types::Documentation::String(a.doc.clone()));
                    }
                    c
                })
                .collect()
        }
        "[" if prev2 == "-" => {
            // `x -[` follows edges out of x's kind; `x <-[` follows them in.
            let incoming = prev3 == "<";
            let var_tok = before.and_then(|b| b.checked_sub(if incoming { 3 } else { 2 }));
            let var = var_tok.map_or("", |b| v.text(b));
            let at = var_tok.and_then(|b| v.toks.get(b)).map_or(0, |t| t.start);
            let kind = kind_of_var(ws, &v, uri, var, at).and_then(|k| schema.kind(&k));
            schema
                .edge_kinds()
                .filter(|(_, e)| match kind {
                    Some(k) if incoming => e.to.is_empty() || e.to.contains(&k),
                    Some(k) => e.from.is_empty() || e.from.contains(&k),
                    None => true,
                })
                .map(|(_, e)| item(&e.name, CompletionItemKind::ENUM_MEMBER, Some(e.doc.clone())))
                .collect()
        }
        "severity" => SEVERITIES
            .iter()
            .map(|s| item(s, CompletionItemKind::ENUM_MEMBER, None))
            .chain([item("by", CompletionItemKind::KEYWORD, None)])
            .collect(),
        "enforce" => {
            ENFORCEMENTS.iter().map(|s| item(s, CompletionItemKind::ENUM_MEMBER, None)).collect()
        }
        "rule"
            if !line_starts_item(
                v.src,
                before.and_then(|b| v.toks.get(b)).map_or(0, |t| t.start),
            ) =>
        {
            rule_ids(ws)
        }
        "expect" => rule_ids(ws),
        ":" => schema
            .kinds()
            .map(|(_, k)| item(&k.name, CompletionItemKind::CLASS, Some(k.doc.clone())))
            .collect(),
        _ => general(ws, &v, uri, offset),
    }
}

/// True when the token at `at` is the first word of its line at column 0 (an item keyword).
fn line_starts_item(src: &str, at: usize) -> bool {
    at == 0 || src.get(..at).is_some_and(|s| s.ends_with('\n'))
}

fn rule_ids(ws: &Workspace) -> Vec<CompletionItem> {
    ws.defs
        .iter()
        .filter(|d| d.kind == DefKind::Rule)
        .map(|d| item(&d.name, CompletionItemKind::REFERENCE, Some(d.docs.clone())))
        .collect()
}

fn general(ws: &Workspace, v: &View<'_>, uri: &str, offset: usize) -> Vec<CompletionItem> {
    let mut out: Vec<CompletionItem> = Vec::new();
    let range = item_range(ws, uri, v.src, offset);
    let mut seen = std::collections::HashSet::new();
    for l in locals(v, range) {
        if seen.insert(l.name.clone()) {
            out.push(item(&l.name, CompletionItemKind::VARIABLE, l.kind.clone()));
        }
    }
    for d in &ws.defs {
        let kind = match d.kind {
            DefKind::Const => CompletionItemKind::CONSTANT,
            DefKind::Fn => CompletionItemKind::FUNCTION,
            DefKind::Plugin => CompletionItemKind::MODULE,
            _ => continue,
        };
        out.push(item(&d.name, kind, Some(d.detail.clone())));
    }
    for b in Builtin::ALL {
        out.push(item(
            b.name(),
            CompletionItemKind::FUNCTION,
            Some(crate::check::builtin_signature(*b).to_owned()),
        ));
    }
    for (_, k) in ws.schema.kinds() {
        out.push(item(&k.name, CompletionItemKind::CLASS, Some(k.doc.clone())));
    }
    for k in KEYWORDS {
        out.push(item(k, CompletionItemKind::KEYWORD, None));
    }
    out
}

/// The outline of a file.
pub fn document_symbols(ws: &Workspace, uri: &str) -> Vec<DocumentSymbol> {
    let Some(f) = ws.files.get(uri) else { return Vec::new() };
    let ix = LineIndex::new(f.text.text());
    ws.defs
        .iter()
        .filter(|d| d.uri == uri && !matches!(d.kind, DefKind::Attr | DefKind::PluginFn))
        .map(|d| {
            let children: Vec<DocumentSymbol> = ws
                .defs
                .iter()
                .filter(|c| {
                    c.uri == uri
                        && matches!(c.kind, DefKind::Attr | DefKind::PluginFn)
                        && c.span.0 >= d.span.0
                        && c.span.1 <= d.span.1
                        && d.kind != DefKind::Test
                })
                .map(|c| symbol(&ix, c, None))
                .collect();
            symbol(&ix, d, (!children.is_empty()).then_some(children))
        })
        .collect()
}

/// The LSP kind of a declaration.
pub fn symbol_kind(k: DefKind) -> SymbolKind {
    match k {
        DefKind::Rule => SymbolKind::CLASS,
        DefKind::Exception => SymbolKind::EVENT,
        DefKind::Decision => SymbolKind::INTERFACE,
        DefKind::Const => SymbolKind::CONSTANT,
        DefKind::Fn | DefKind::PluginFn => SymbolKind::FUNCTION,
        DefKind::Plugin => SymbolKind::MODULE,
        DefKind::Kind => SymbolKind::STRUCT,
        DefKind::Attr => SymbolKind::FIELD,
        DefKind::Edge => SymbolKind::PROPERTY,
        DefKind::Enum => SymbolKind::ENUM,
        DefKind::Test => SymbolKind::METHOD,
    }
}

#[expect(deprecated, reason = "`deprecated` is a required field of the protocol type")]
fn symbol(ix: &LineIndex<'_>, d: &Def, children: Option<Vec<DocumentSymbol>>) -> DocumentSymbol {
    DocumentSymbol {
        name: d.name.clone(),
        detail: Some(d.detail.clone()),
        kind: symbol_kind(d.kind),
        tags: None,
        deprecated: None,
        range: ix.range(d.span.0, d.span.1),
        selection_range: ix.range(d.name_span.0, d.name_span.1),
        children,
    }
}

/// Workspace symbols whose name contains `query` (case-insensitive).
pub fn workspace_symbols(ws: &Workspace, query: &str) -> Vec<(Def, Location)> {
    let q = query.to_lowercase();
    let mut out = Vec::new();
    for d in ws.defs.iter().filter(|d| d.name.to_lowercase().contains(&q)) {
        let (Some(f), Ok(uri)) = (ws.files.get(&d.uri), d.uri.parse::<lsp_types::Uri>()) else {
            continue;
        };
        let ix = LineIndex::new(f.text.text());
        out.push((d.clone(), Location::new(uri, ix.range(d.name_span.0, d.name_span.1))));
        if out.len() >= 500 {
            break;
        }
    }
    out
}

/// The text that a diagnostic's help names as the fix, with the range it replaces.
pub fn fix_of(d: &Diag, src: &str) -> Option<(String, (usize, usize), String)> {
    let span = d.primary_span()?;
    let (s, e) = (span.start.min(src.len()), span.end.min(src.len()));
    let help = d.help.as_deref().unwrap_or("");
    if d.code == Code::AssignInsteadOfEq {
        return Some(("replace `=` with `==`".to_owned(), (s, e), "==".to_owned()));
    }
    if let Some(rest) = help.strip_prefix("did you mean `") {
        let word = rest.split('`').next()?;
        // The label may cover more than the misspelled word (`x.attr`): replace its last name.
        let covered = src.get(s..e)?;
        let toks = tokens(covered);
        let last = toks.iter().rev().find(|t| t.kind == TokKind::Ident)?;
        return Some((
            format!("replace with `{word}`"),
            (s + last.start, s + last.end),
            word.to_owned(),
        ));
    }
    if d.code == Code::OptionalWithoutGuard {
        // "guard it: `c has rotated_at and ...`": put the guard first in the clause.
        let guard = help.strip_prefix("guard it: `")?.split(" and ...`").next()?;
        let line_start = src.get(..s)?.rfind('\n').map_or(0, |i| i + 1);
        let line = src.get(line_start..s)?;
        let (kw_at, kw) = ["require ", "where ", "when "]
            .iter()
            .filter_map(|k| line.rfind(k).map(|i| (i, *k)))
            .max()?;
        let at = line_start + kw_at + kw.len();
        return Some((format!("guard with `{guard}`"), (at, at), format!("{guard} and ")));
    }
    if help.starts_with("give the number a unit") || help.starts_with("give the numbers a unit") {
        let covered = src.get(s..e)?;
        let toks = tokens(covered);
        let num = toks.iter().rev().find(|t| {
            t.kind == TokKind::Number && t.text(covered).bytes().all(|b| b.is_ascii_digit())
        })?;
        return Some((
            "add the unit `d` (days)".to_owned(),
            (s + num.end, s + num.end),
            "d".to_owned(),
        ));
    }
    None
}

/// Quick fixes for the diagnostics of `uri` that touch the byte range.
#[expect(
    clippy::mutable_key_type,
    reason = "the protocol's `WorkspaceEdit` keys its edits by `Uri`"
)]
pub fn code_actions(ws: &Workspace, uri: &str, range: (usize, usize)) -> Vec<CodeAction> {
    let (Some(f), Some(list), Ok(u)) =
        (ws.files.get(uri), ws.diags.get(uri), uri.parse::<lsp_types::Uri>())
    else {
        return Vec::new();
    };
    let src = f.text.text();
    let ix = LineIndex::new(src);
    let mut out = Vec::new();
    for d in list {
        let Some(span) = d.primary_span() else { continue };
        if span.end < range.0 || span.start > range.1 {
            continue;
        }
        let Some((title, (s, e), text)) = fix_of(d, src) else { continue };
        let mut changes = HashMap::new();
        changes.insert(u.clone(), vec![TextEdit::new(ix.range(s, e), text)]);
        out.push(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![super::to_lsp_diag(d, &ix, &u)]),
            edit: Some(WorkspaceEdit::new(changes)),
            is_preferred: Some(true),
            ..CodeAction::default()
        });
    }
    out
}
