//! Name resolution, schema and type checking, lints; lowers checked policies
//! to the IR ([`crate::ir::Program`]).
//!
//! Owns: what a name means, what type an expression has, which attribute
//! column it reads. Reports every error of every file in one run, ordered by
//! position, and never the same root cause twice: an expression whose type is
//! already wrong has the type `Unknown`, which every later check accepts.
//! Must not: evaluate against a graph or read inventories.

mod attrs;
mod calls;
mod decision;
mod expr;
mod operators;
mod paths;
mod plugins;
pub use crate::types;

use std::collections::HashMap;
use std::sync::Arc;

use crate::diag::{Code, Diag, Diagnostics, did_you_mean, plural};
use crate::graph::{AttrType, KindId, Schema};
use crate::ir::{self, Slot};
use crate::source::{Loc, Span};
use crate::syntax::Parsed;
use crate::syntax::ast::{self, Item};
use crate::time::Timestamp;

pub use types::{Ty, Typed};

/// How a built-in function is called, e.g. `lower(text)` (hover, completion).
pub fn builtin_signature(b: ir::Builtin) -> &'static str {
    calls::signature(b)
}

/// A compiled policy set and the warnings found on the way.
#[derive(Debug)]
pub struct Compiled {
    /// The program.
    pub program: ir::Program,
    /// Warnings (no errors: errors make [`compile`] fail).
    pub warnings: Diagnostics,
}

/// How many expression nodes function calls may inline into one policy set.
/// Functions are inlined at every call, so functions that each call the
/// previous one twice double the program per level; past this the checker
/// stops inlining and reports `gov::check::inline_too_large`.
pub const MAX_INLINED_NODES: usize = 250_000;

/// Options for [`compile`].
#[derive(Clone, Debug)]
pub struct Options {
    /// "Now" for lints that depend on time (an exception's `until` in the past).
    pub now: Timestamp,
}

/// Checks and lowers parsed files against a base schema.
///
/// Returns every error and warning of every file, ordered by file and
/// position, when there is at least one error. Plugins are loaded by
/// [`crate::plugin::default_loader`]; see [`compile_with`] to pass another.
pub fn compile(
    files: &[Parsed],
    base: &Schema,
    options: &Options,
) -> Result<Compiled, Diagnostics> {
    compile_with(files, base, options, crate::plugin::default_loader())
}

/// [`compile`] with the loader that loads and verifies `plugin` modules
/// (a [`crate::plugin::Host`] with its own limits and cache, say).
pub fn compile_with(
    files: &[Parsed],
    base: &Schema,
    options: &Options,
    loader: &dyn crate::plugin::Loader,
) -> Result<Compiled, Diagnostics> {
    let mut cx = Checker::new(base.clone(), options.clone(), loader);
    cx.declare(files);
    cx.lower_all(files);
    let mut diags = std::mem::take(&mut cx.diags);
    diags.sort_by_position();
    if diags.has_errors() {
        return Err(diags);
    }
    let program = ir::Program {
        schema: Arc::new(cx.schema),
        rules: cx.lowered.rules,
        exceptions: cx.lowered.exceptions,
        priority: cx.lowered.priority,
        decisions: cx.lowered.decisions,
        plugins: cx.modules.plugin_set,
    };
    Ok(Compiled { program, warnings: diags })
}

/// A variable in scope.
#[derive(Clone, Debug)]
struct Binding {
    name: String,
    slot: Slot,
    ty: Typed,
    /// Index into `Checker::lets` for `let` bindings (unused-let lint).
    let_index: Option<usize>,
}

/// Where an expression is checked: what `service` means and which names exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Context {
    /// A const or fn body: no graph variables.
    #[default]
    Pure,
    /// A rule, exception or priority: `service` is the entity's business service.
    Entity,
}

struct LetInfo {
    name: String,
    loc: Loc,
    used: bool,
}

struct FnInfo<'a> {
    decl: &'a ast::FnDecl,
}

pub(crate) struct Checker<'a> {
    schema: Schema,
    options: Options,
    diags: Diagnostics,
    /// The variables and facts of the item being checked.
    frame: Frame,
    /// `let`s of the rule or decision being checked, for unused-let lints.
    lets: Vec<LetInfo>,
    /// What the policy set declares, by name.
    declared: Declared<'a>,
    /// Loading the `plugin` modules the policy set declares.
    modules: Modules<'a>,
    /// What has been lowered so far: the program's parts.
    lowered: Lowered,
    /// While inlining a function body a second time, errors were already reported.
    quiet: usize,
    /// Functions whose recursion was reported (once each).
    recursion_reported: Vec<String>,
    /// Expression nodes checked inside function bodies (see [`MAX_INLINED_NODES`]).
    pub(crate) inlined: usize,
    /// Whether the inlining limit was reported (once per policy set).
    inline_reported: bool,
    /// Inside message templates a missing value prints as `none`: no guard needed.
    pub(crate) lenient: usize,
}

/// The variables and facts of one item (a rule, an exception, a decision,
/// a const or a function body), saved and restored around the items
/// checked inside another (a const's value, a function's body).
#[derive(Default)]
struct Frame {
    scope: Vec<Binding>,
    /// Attributes proven present: `(slot, attribute name)`.
    facts: Vec<(Slot, String)>,
    next_slot: Slot,
    max_slot: Slot,
    context: Context,
    uses_service: bool,
    /// Unknown names reported in this frame, with the index of their report.
    unbound: Vec<(String, usize)>,
    /// Names bound by path nodes in this frame, with where (for "out of scope" help).
    path_binders: Vec<(String, Loc)>,
}

/// What the policy set declares, by name: constants (and their values once
/// checked), functions, plugins and rules, and what failed to declare.
#[derive(Default)]
struct Declared<'a> {
    consts: HashMap<String, &'a ast::ConstDecl>,
    const_values: HashMap<String, (ir::Expr, Typed)>,
    const_in_progress: Vec<String>,
    fns: HashMap<String, FnInfo<'a>>,
    fn_stack: Vec<String>,
    plugins: HashMap<String, &'a ast::Plugin>,
    rule_names: HashMap<String, (Loc, usize)>,
    rule_asts: Vec<&'a ast::Rule>,
    /// Rules whose `for` kind was reported unknown: exceptions for them are not.
    broken_rules: Vec<String>,
    /// Attributes whose `schema` declaration failed: uses are not reported again.
    poisoned_attrs: Vec<(KindId, String)>,
}

/// Loading plugin modules: the loader (no wasmtime type reaches the
/// checker), each declared plugin's state, the modules loaded.
struct Modules<'a> {
    loader: &'a dyn crate::plugin::Loader,
    plugin_states: HashMap<String, plugins::PluginState>,
    plugin_set: crate::plugin::PluginSet,
}

/// The program's parts, as they are lowered.
#[derive(Default)]
struct Lowered {
    rules: Vec<ir::Rule>,
    exceptions: Vec<ir::Exception>,
    priority: Option<ir::PriorityRule>,
    decisions: Vec<ir::Decision>,
}

impl<'a> Checker<'a> {
    fn new(schema: Schema, options: Options, loader: &'a dyn crate::plugin::Loader) -> Self {
        Checker {
            schema,
            options,
            diags: Diagnostics::new(),
            frame: Frame::default(),
            lets: Vec::new(),
            declared: Declared::default(),
            modules: Modules {
                loader,
                plugin_states: HashMap::new(),
                plugin_set: crate::plugin::PluginSet::default(),
            },
            lowered: Lowered::default(),
            quiet: 0,
            recursion_reported: Vec::new(),
            inlined: 0,
            inline_reported: false,
            lenient: 0,
        }
    }

    // ------------------------------------------------------------ diagnostics

    pub(crate) fn error(
        &mut self,
        code: Code,
        message: impl Into<String>,
        loc: &Loc,
        label: impl Into<String>,
    ) -> DiagHandle<'_> {
        let d = Diag::error(code, message).in_file(&loc.file).label(loc.span, label);
        self.push(d)
    }

    pub(crate) fn warning(
        &mut self,
        code: Code,
        message: impl Into<String>,
        loc: &Loc,
        label: impl Into<String>,
    ) -> DiagHandle<'_> {
        let d = Diag::warning(code, message).in_file(&loc.file).label(loc.span, label);
        self.push(d)
    }

    /// Adds a secondary label to the diagnostic at `index` (in report order).
    pub(crate) fn label_diag(&mut self, index: usize, loc: &Loc, text: &str) {
        let mut all = std::mem::take(&mut self.diags).into_vec();
        if let Some(d) = all.get_mut(index) {
            d.labels.push(crate::diag::Label { span: loc.span, text: text.to_owned() });
        }
        for d in all {
            self.diags.push(d);
        }
    }

    fn push(&mut self, d: Diag) -> DiagHandle<'_> {
        if self.quiet > 0 {
            return DiagHandle { diags: None };
        }
        self.diags.push(d);
        DiagHandle { diags: Some(&mut self.diags) }
    }

    // ------------------------------------------------------------ scopes

    fn alloc(&mut self) -> Slot {
        let s = self.frame.next_slot;
        self.frame.next_slot = self.frame.next_slot.saturating_add(1);
        self.frame.max_slot = self.frame.max_slot.max(self.frame.next_slot);
        s
    }

    pub(crate) fn bind(&mut self, name: &str, ty: Typed) -> Slot {
        let slot = self.alloc();
        self.frame.scope.push(Binding { name: name.to_owned(), slot, ty, let_index: None });
        slot
    }

    fn bind_let(&mut self, name: &ast::Name, ty: Typed) -> Slot {
        let slot = self.alloc();
        self.lets.push(LetInfo { name: name.name.clone(), loc: name.loc.clone(), used: false });
        let idx = self.lets.len() - 1;
        self.frame.scope.push(Binding { name: name.name.clone(), slot, ty, let_index: Some(idx) });
        slot
    }

    pub(crate) fn scope_mark(&self) -> (usize, usize) {
        (self.frame.scope.len(), self.frame.facts.len())
    }

    pub(crate) fn scope_reset(&mut self, mark: (usize, usize)) {
        self.frame.scope.truncate(mark.0);
        self.frame.facts.truncate(mark.1);
    }

    pub(crate) fn lookup(&mut self, name: &str) -> Option<(Slot, Typed)> {
        let b = self.frame.scope.iter().rev().find(|b| b.name == name)?.clone();
        if let Some(i) = b.let_index
            && let Some(l) = self.lets.get_mut(i)
        {
            l.used = true;
        }
        Some((b.slot, b.ty))
    }

    pub(crate) fn names_in_scope(&self) -> Vec<String> {
        let mut v: Vec<String> = self.frame.scope.iter().map(|b| b.name.clone()).collect();
        v.extend(self.declared.consts.keys().cloned());
        if self.frame.context == Context::Entity {
            v.push("service".into());
        }
        v
    }

    fn start_frame(&mut self, context: Context) {
        self.frame = Frame { context, ..Frame::default() };
    }

    // ------------------------------------------------------------ declarations

    fn declare(&mut self, files: &'a [Parsed]) {
        // Schema blocks first: every later check sees the extended schema.
        for f in files {
            for item in &f.module.items {
                if let Item::Schema(s) = item {
                    self.schema_block(s);
                }
            }
        }
        let mut seen_names: HashMap<String, Loc> = HashMap::new();
        for f in files {
            for item in &f.module.items {
                let named: Option<(&ast::Name, &str)> = match item {
                    Item::Const(c) => {
                        self.declared.consts.insert(c.name.name.clone(), c);
                        Some((&c.name, "constant"))
                    }
                    Item::Fn(d) => {
                        self.declared.fns.insert(d.name.name.clone(), FnInfo { decl: d });
                        Some((&d.name, "function"))
                    }
                    Item::Plugin(p) => {
                        self.declared.plugins.insert(p.name.name.clone(), p);
                        Some((&p.name, "plugin"))
                    }
                    Item::Rule(r) => Some((&r.name, "rule")),
                    Item::Exception(e) => Some((&e.name, "exception")),
                    Item::Decision(d) => Some((&d.name, "decision")),
                    _ => None,
                };
                if let Some((name, what)) = named {
                    let key = format!("{what}:{}", name.name);
                    if let Some(first) = seen_names.get(&key).cloned() {
                        let mut h = self.error(
                            Code::DuplicateName,
                            format!("{what} `{}` is defined twice", name.name),
                            &name.loc,
                            "second definition",
                        );
                        h.label_at(&first, "first defined here");
                        h.help(format!(
                            "rename one of them; {what} names must be unique across the policy set"
                        ));
                    } else {
                        seen_names.insert(key, name.loc.clone());
                    }
                }
            }
        }
    }

    fn schema_block(&mut self, s: &ast::SchemaBlock) {
        for m in &s.members {
            match m {
                ast::SchemaMember::Enum(_) => {}
                ast::SchemaMember::Node(n) => {
                    let kind = match self.schema.kind(&n.name.name) {
                        Some(k) => k,
                        None => match self.schema.add_kind(&n.name.name, &n.docs.join("\n")) {
                            Ok(k) => k,
                            Err(e) => {
                                self.error(
                                    Code::InvalidSchema,
                                    e.to_string(),
                                    &n.name.loc,
                                    "cannot declare this kind",
                                );
                                continue;
                            }
                        },
                    };
                    for a in &n.attrs {
                        let Some(ty) = self.attr_type(&a.ty, s) else {
                            self.declared.poisoned_attrs.push((kind, a.name.name.clone()));
                            continue;
                        };
                        // Attributes declared by policies are never required: inventories
                        // written before the policy do not have them, and `?` only says
                        // that the policy means to guard its uses.
                        if let Err(e) =
                            self.schema.add_attr(kind, &a.name.name, ty, false, &a.docs.join("\n"))
                        {
                            self.error(
                                Code::InvalidSchema,
                                e.to_string(),
                                &a.name.loc,
                                "conflicts with the schema",
                            )
                            .help("an attribute keeps one type; choose another name");
                        }
                    }
                }
                ast::SchemaMember::Edge(e) => {
                    let ends = |names: &[ast::Name], cx: &mut Self| -> Vec<KindId> {
                        let mut out = Vec::new();
                        for n in names {
                            if n.name == "_" {
                                return Vec::new();
                            }
                            match cx.kind(n) {
                                Some(k) => out.push(k),
                                None => return Vec::new(),
                            }
                        }
                        out
                    };
                    let from = ends(&e.from, self);
                    let to = ends(&e.to, self);
                    if self.schema.edge_kind(&e.name.name).is_none()
                        && let Err(err) =
                            self.schema.add_edge_kind(&e.name.name, &from, &to, &e.docs.join("\n"))
                    {
                        self.error(
                            Code::InvalidSchema,
                            err.to_string(),
                            &e.name.loc,
                            "cannot declare this edge kind",
                        );
                    }
                }
            }
        }
    }

    fn attr_type(&mut self, t: &ast::TypeExpr, block: &ast::SchemaBlock) -> Option<AttrType> {
        match &t.kind {
            ast::TypeKind::List(inner) => {
                Some(AttrType::List(Box::new(self.attr_type(inner, block)?)))
            }
            ast::TypeKind::Named(n) => {
                if let Some(at) = AttrType::parse(&n.name) {
                    return Some(at);
                }
                for m in &block.members {
                    if let ast::SchemaMember::Enum(e) = m
                        && e.name.name == n.name
                    {
                        return Some(AttrType::Enum(
                            e.variants.iter().map(|v| v.name.clone()).collect(),
                        ));
                    }
                }
                let names = ["string", "int", "float", "bool", "timestamp", "duration"];
                let mut h = self.error(
                    Code::TypeMismatch,
                    format!("unknown type `{}`", n.name),
                    &n.loc,
                    "not a type",
                );
                match did_you_mean(&n.name, names) {
                    Some(s) => h.help(format!("did you mean `{s}`?")),
                    None => h.help("attribute types are string, int, float, bool, timestamp, duration, a list `[T]` or an enum declared in the block"),
                }
                None
            }
        }
    }

    /// Resolves a node kind name, reporting an unknown one.
    pub(crate) fn kind(&mut self, n: &ast::Name) -> Option<KindId> {
        if let Some(k) = self.schema.kind(&n.name) {
            return Some(k);
        }
        let names: Vec<String> = self.schema.kind_names().map(str::to_owned).collect();
        let suggestion = did_you_mean(&n.name, names.iter().map(String::as_str)).map(str::to_owned);
        let mut h = self.error(
            Code::CheckUnknownKind,
            format!("unknown node kind `{}`", n.name),
            &n.loc,
            "not a node kind",
        );
        match suggestion {
            Some(s) => h.help(format!("did you mean `{s}`?")),
            None => h.help(format!(
                "known kinds: {}; declare new ones in a `schema` block",
                sorted_list(&names)
            )),
        }
        None
    }

    // ------------------------------------------------------------ items

    fn lower_all(&mut self, files: &'a [Parsed]) {
        self.load_plugins(files);
        for f in files {
            for item in &f.module.items {
                match item {
                    Item::Const(c) => {
                        self.const_value(&c.name.name.clone());
                    }
                    Item::Fn(d) => self.check_fn_decl(d),
                    Item::Rule(r) => self.rule(r),
                    _ => {}
                }
            }
        }
        for f in files {
            for item in &f.module.items {
                match item {
                    Item::Exception(e) => self.exception(e),
                    Item::Priority(p) => self.priority_decl(p),
                    Item::Decision(d) => self.decision(d),
                    _ => {}
                }
            }
        }
    }

    /// The lowered value of a constant, checked on first use.
    pub(crate) fn const_value(&mut self, name: &str) -> Option<(ir::Expr, Typed)> {
        if let Some(v) = self.declared.const_values.get(name) {
            return Some(v.clone());
        }
        let decl = *self.declared.consts.get(name)?;
        if self.declared.const_in_progress.iter().any(|n| n == name) {
            self.error(
                Code::RecursiveFunction,
                format!("constant `{name}` refers to itself"),
                &decl.name.loc,
                "defined in terms of itself",
            )
            .help("give the constant a value that does not depend on it");
            let v = (
                ir::Expr { kind: ir::ExprKind::Const(ir::Const::Null), loc: decl.loc.clone() },
                Typed::unknown(),
            );
            self.declared.const_values.insert(name.to_owned(), v.clone());
            return Some(v);
        }
        self.declared.const_in_progress.push(name.to_owned());
        // A constant is checked in its own, pure frame.
        let saved = self.save_frame();
        self.start_frame(Context::Pure);
        let (e, mut t) = self.expr(&decl.value);
        if let Some(ty) = &decl.ty {
            let want = self.type_of(ty);
            if let Some(want) = want
                && !t.is_unknown()
                && !assignable(&t.ty, &want.ty)
            {
                let (found, expected) = (t.show(&self.schema), want.show(&self.schema));
                let mut h = self.error(
                    Code::TypeMismatch,
                    format!(
                        "constant `{name}` is declared `{expected}` but its value is `{found}`"
                    ),
                    &decl.value.loc,
                    format!("this is `{found}`"),
                );
                h.label_at(&ty.loc, "declared here");
                if want.ty == Ty::Duration && t.ty.is_numeric() {
                    h.help("give the number a unit: `90d`, `24h`, `30m`");
                } else if want.ty == Ty::Time && t.ty == Ty::Str {
                    h.help("write dates without quotes: `2027-01-31` is a date, `\"2027-01-31\"` is text");
                }
                // Uses see the declared type: the declaration is what the
                // author meant, and the value is the one mistake.
                t = want;
            }
        }
        self.restore_frame(saved);
        self.declared.const_in_progress.retain(|n| n != name);
        let v = (e, t);
        self.declared.const_values.insert(name.to_owned(), v.clone());
        Some(v)
    }

    fn save_frame(&mut self) -> Frame {
        std::mem::take(&mut self.frame)
    }

    fn restore_frame(&mut self, saved: Frame) {
        self.frame = saved;
    }

    /// A declared type as a checker type (node kinds and enums included).
    pub(crate) fn type_of(&mut self, t: &ast::TypeExpr) -> Option<Typed> {
        let ty = match &t.kind {
            ast::TypeKind::List(inner) => Ty::List(Box::new(self.type_of(inner)?.ty)),
            ast::TypeKind::Named(n) => match n.name.as_str() {
                "bool" => Ty::Bool,
                "int" => Ty::Int,
                "float" => Ty::Float,
                "string" => Ty::Str,
                "timestamp" => Ty::Time,
                "duration" => Ty::Duration,
                "node" => Ty::Node(Vec::new()),
                other => match self.schema.kind(other) {
                    Some(k) => Ty::Node(vec![k]),
                    None => {
                        let mut names: Vec<String> =
                            self.schema.kind_names().map(str::to_owned).collect();
                        names.extend(
                            ["bool", "int", "float", "string", "timestamp", "duration"]
                                .map(String::from),
                        );
                        let s = did_you_mean(other, names.iter().map(String::as_str))
                            .map(str::to_owned);
                        let mut h = self.error(
                            Code::TypeMismatch,
                            format!("unknown type `{other}`"),
                            &n.loc,
                            "not a type",
                        );
                        if let Some(s) = s {
                            h.help(format!("did you mean `{s}`?"));
                        }
                        return None;
                    }
                },
            },
        };
        Some(Typed { ty, opt: t.optional })
    }

    fn check_fn_decl(&mut self, d: &'a ast::FnDecl) {
        let saved = self.save_frame();
        self.start_frame(Context::Pure);
        for p in &d.params {
            let t = self.type_of(&p.ty).unwrap_or_else(Typed::unknown);
            self.bind(&p.name.name, t);
        }
        // On the stack while its body is checked, so that a call of itself
        // is found here, once, rather than never (uses inline it quietly).
        self.declared.fn_stack.push(d.name.name.clone());
        let (_, t) = self.expr(&d.body);
        self.declared.fn_stack.pop();
        if let Some(want) = self.type_of(&d.ret)
            && !t.is_unknown()
            && !assignable(&t.ty, &want.ty)
        {
            let (found, expected) = (t.show(&self.schema), want.show(&self.schema));
            let mut h = self.error(
                Code::TypeMismatch,
                format!(
                    "function `{}` returns `{expected}` but its body is `{found}`",
                    d.name.name
                ),
                &d.body.loc,
                format!("this is `{found}`"),
            );
            h.label_at(&d.ret.loc, "declared here");
            if want.ty == Ty::Duration && t.ty.is_numeric() {
                h.help("give the numbers a unit: `30d`, `24h`; or declare the function `-> int`");
            } else {
                h.help(format!("change the body to give `{expected}`, or declare `-> {found}`"));
            }
        }
        self.restore_frame(saved);
    }

    /// Inlines a call of a user function.
    pub(crate) fn call_fn(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        loc: &Loc,
    ) -> Option<(ir::Expr, Typed)> {
        let decl = self.declared.fns.get(name)?.decl;
        if self.declared.fn_stack.iter().any(|n| n == name) {
            // Reported once per function, even from a body being inlined
            // quietly: a call chain `f -> g -> f` is found only there.
            if !self.recursion_reported.iter().any(|n| n == name) {
                let quiet = std::mem::replace(&mut self.quiet, 0);
                let mut via: Vec<String> =
                    self.declared.fn_stack.iter().skip_while(|n| *n != name).cloned().collect();
                via.push(name.to_owned());
                // One cycle, one report, whichever function it is found from.
                self.recursion_reported.extend(via.iter().cloned());
                let message = if via.len() > 2 {
                    format!(
                        "function `{name}` calls itself (through {})",
                        via.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" -> ")
                    )
                } else {
                    format!("function `{name}` calls itself")
                };
                self.error(Code::RecursiveFunction, message, loc, "recursive call")
                    .help("functions are inlined and must not recurse; express the repetition with a path `*1..N` or an aggregate");
                self.quiet = quiet;
            }
            return Some((
                ir::Expr { kind: ir::ExprKind::Const(ir::Const::Null), loc: loc.clone() },
                Typed::unknown(),
            ));
        }
        if self.inlined > MAX_INLINED_NODES {
            if !self.inline_reported {
                self.inline_reported = true;
                let quiet = std::mem::replace(&mut self.quiet, 0);
                self.error(
                    Code::InlineTooLarge,
                    format!(
                        "function calls inline to more than {MAX_INLINED_NODES} expression nodes"
                    ),
                    loc,
                    format!("`{name}` is not inlined here"),
                )
                .help("functions are inlined at every call: a function that calls another several times, in a chain, doubles the program at each step; compute the value once with `let`, or call fewer times");
                self.quiet = quiet;
            }
            return Some((
                ir::Expr { kind: ir::ExprKind::Const(ir::Const::Null), loc: loc.clone() },
                Typed::unknown(),
            ));
        }
        if args.len() != decl.params.len() {
            for a in args {
                self.expr(a);
            }
            self.error(
                Code::WrongArity,
                format!(
                    "`{name}` takes {}, found {}",
                    plural(decl.params.len(), "argument"),
                    args.len()
                ),
                loc,
                "wrong number of arguments",
            )
            .help(format!(
                "`{name}` is declared `{}`",
                decl.loc.text().split('{').next().unwrap_or_default().trim()
            ));
            return Some((
                ir::Expr { kind: ir::ExprKind::Const(ir::Const::Null), loc: loc.clone() },
                Typed::unknown(),
            ));
        }
        let mut binds = Vec::new();
        let mut arg_types = Vec::new();
        for (a, p) in args.iter().zip(&decl.params) {
            let (ae, at) = self.expr(a);
            if let Some(want) = self.type_of(&p.ty)
                && !at.is_unknown()
                && (!assignable(&at.ty, &want.ty) || (at.opt && !want.opt))
            {
                let (found, expected) = (at.show(&self.schema), want.show(&self.schema));
                // Only the `?` differs: the value may be missing.
                let only_missing = assignable(&at.ty, &want.ty);
                let code =
                    if only_missing { Code::OptionalWithoutGuard } else { Code::TypeMismatch };
                let mut h = self.error(
                    code,
                    format!(
                        "argument `{}` of `{name}` expects `{expected}`, found `{found}`",
                        p.name.name
                    ),
                    &a.loc,
                    if only_missing {
                        "may be missing here".to_owned()
                    } else {
                        format!("this is `{found}`")
                    },
                );
                h.label_at(&p.ty.loc, "parameter declared here");
                if only_missing {
                    h.help(format!(
                        "guard it with `has`, give a default: `default({}, ...)`, or declare the parameter `{expected}?`",
                        a.loc.text()
                    ));
                }
            }
            binds.push(ae);
            arg_types.push(at);
        }
        // Parameters live in the caller's frame, in fresh slots; the body
        // was checked at its declaration, so errors are not reported twice.
        let mark = self.scope_mark();
        let saved_scope = std::mem::take(&mut self.frame.scope);
        let saved_facts = std::mem::take(&mut self.frame.facts);
        let mut block = Vec::new();
        for ((p, e), t) in decl.params.iter().zip(binds).zip(arg_types) {
            let slot = self.bind(&p.name.name, t);
            block.push((slot, e));
        }
        self.declared.fn_stack.push(name.to_owned());
        self.quiet += 1;
        let context = std::mem::replace(&mut self.frame.context, Context::Pure);
        let (body, t) = self.expr(&decl.body);
        self.frame.context = context;
        self.quiet -= 1;
        self.declared.fn_stack.pop();
        self.frame.scope = saved_scope;
        self.frame.facts = saved_facts;
        self.scope_reset(mark);
        let ret = self.type_of(&decl.ret).map(|r| Typed {
            ty: if t.is_unknown() { Ty::Unknown } else { r.ty },
            opt: r.opt || t.opt,
        });
        Some((
            ir::Expr { kind: ir::ExprKind::Block(block, Box::new(body)), loc: loc.clone() },
            ret.unwrap_or(t),
        ))
    }

    pub(crate) fn is_plugin(&self, name: &str) -> bool {
        self.declared.plugins.contains_key(name)
    }

    pub(crate) fn is_fn(&self, name: &str) -> bool {
        self.declared.fns.contains_key(name)
    }

    pub(crate) fn fn_names(&self) -> Vec<String> {
        self.declared.fns.keys().cloned().collect()
    }

    pub(crate) fn note_service(&mut self) -> bool {
        if self.frame.context == Context::Entity {
            self.frame.uses_service = true;
            true
        } else {
            false
        }
    }

    pub(crate) fn schema(&self) -> &Schema {
        &self.schema
    }

    /// A `schema` block declared this attribute with a type that was reported.
    pub(crate) fn is_poisoned(&self, kinds: &[KindId], attr: &str) -> bool {
        self.declared
            .poisoned_attrs
            .iter()
            .any(|(k, a)| a == attr && (kinds.is_empty() || kinds.contains(k)))
    }

    pub(crate) fn push_facts(&mut self, facts: Vec<(Slot, String)>) {
        self.frame.facts.extend(facts);
    }

    pub(crate) fn proven(&self, slot: Slot, attr: &str) -> bool {
        self.frame.facts.iter().any(|(s, a)| *s == slot && a == attr)
    }

    fn rule(&mut self, r: &'a ast::Rule) {
        self.start_frame(Context::Entity);
        self.lets.clear();
        let mut kind = None;
        let mut var = 0;
        let mut filter = None;
        let mut body = Vec::new();
        let mut severity = ir::Severity::Fixed(crate::domain::SeverityLevel::Medium);
        let mut enforcement = crate::domain::Enforcement::Soft;
        let mut maps = Vec::new();
        let mut message = None;
        let mut help = None;
        // `for` first: every other clause sees its variable.
        for c in &r.clauses {
            if let ast::RuleClauseKind::For { var: v, kind: k, filter: f } = &c.kind {
                let kid = self.kind(k);
                kind = kid;
                // An unknown kind was reported; its variable is then
                // `Unknown`, so its uses are not reported again.
                let ty = match kid {
                    Some(k) => Typed::of(Ty::Node(vec![k])),
                    None => Typed::unknown(),
                };
                var = self.bind(&v.name, ty);
                if let Some(f) = f {
                    let (e, t) = self.expr(f);
                    self.expect_condition(&t, f);
                    let facts = expr::facts_of(&e, true);
                    self.push_facts(facts);
                    if matches!(e.kind, ir::ExprKind::Const(ir::Const::Bool(false))) {
                        self.warning(
                            Code::NeverMatches,
                            format!("rule `{}` can never match", r.name.name),
                            &f.loc,
                            "always false",
                        )
                        .help(
                            "the `where` filter is false for every entity; the rule checks nothing",
                        );
                    }
                    filter = Some(e);
                }
            }
        }
        for c in &r.clauses {
            match &c.kind {
                ast::RuleClauseKind::For { .. } => {}
                ast::RuleClauseKind::Let(l) => {
                    let (e, t) = self.expr(&l.value);
                    let slot = self.bind_let(&l.name, t);
                    body.push(ir::BodyStep::Let {
                        slot,
                        name: Arc::from(l.name.name.as_str()),
                        value: e,
                    });
                }
                ast::RuleClauseKind::Require { cond } => {
                    let (e, t) = self.expr(cond);
                    self.expect_condition(&t, cond);
                    body.push(ir::BodyStep::Require { cond: e, text: Arc::from(cond.loc.text()) });
                }
                ast::RuleClauseKind::Severity(ast::SeveritySpec::Fixed(l)) => {
                    severity = ir::Severity::Fixed(*l)
                }
                ast::RuleClauseKind::Severity(ast::SeveritySpec::By { .. }) => {}
                ast::RuleClauseKind::Enforce { level } => enforcement = *level,
                ast::RuleClauseKind::Maps { controls } => {
                    maps = controls.iter().map(|c| c.value.clone()).collect()
                }
                ast::RuleClauseKind::Message { text } => message = Some(self.template(text)),
                ast::RuleClauseKind::Help { text } => help = Some(self.template(text)),
            }
        }
        // `severity by` is computed for a finding, after the body: it may
        // read the rule's lets wherever it is written (the canonical layout
        // puts it first, e.g. `severity by tier` with a later `let tier`).
        for c in &r.clauses {
            if let ast::RuleClauseKind::Severity(ast::SeveritySpec::By { scrutinee, arms }) =
                &c.kind
            {
                let (e, t) = self.expr(scrutinee);
                for a in arms {
                    self.check_pattern(&a.pattern, &t, scrutinee);
                }
                let arms: Vec<(ir::Pattern, crate::domain::SeverityLevel)> =
                    arms.iter().map(|a| (expr::pattern(&a.pattern), a.value)).collect();
                let default = arms
                    .iter()
                    .map(|(_, l)| *l)
                    .max()
                    .unwrap_or(crate::domain::SeverityLevel::Medium);
                severity = ir::Severity::By { scrutinee: e, arms, default };
            }
        }
        for l in std::mem::take(&mut self.lets) {
            if !l.used && !l.name.starts_with('_') {
                self.warning(
                    Code::UnusedLet,
                    format!("`{}` is never used", l.name),
                    &l.loc,
                    "unused",
                )
                .help(format!("remove the `let`, or name it `_{}` to keep it", l.name));
            }
        }
        let frame = usize::from(self.frame.max_slot);
        let uses_service = self.frame.uses_service;
        // A duplicate was reported when declaring; the first definition wins.
        if self.declared.rule_names.contains_key(&r.name.name) {
            return;
        }
        let Some(kind) = kind else {
            self.declared.broken_rules.push(r.name.name.clone());
            return;
        };
        self.declared
            .rule_names
            .insert(r.name.name.clone(), (r.name.loc.clone(), self.lowered.rules.len()));
        self.declared.rule_asts.push(r);
        self.lowered.rules.push(ir::Rule {
            id: Arc::from(r.name.name.as_str()),
            doc: r.docs.join("\n"),
            name_loc: r.name.loc.clone(),
            kind,
            var,
            filter,
            body,
            severity,
            enforcement,
            maps,
            message,
            help,
            frame,
            uses_service,
        });
    }

    pub(crate) fn expect_condition(&mut self, t: &Typed, e: &ast::Expr) {
        // An optional bool in a condition reads as false when missing (documented).
        if !matches!(t.ty, Ty::Bool | Ty::Unknown) {
            let found = t.show(&self.schema);
            self.error(
                Code::TypeMismatch,
                format!("expected a condition (`bool`), found `{found}`"),
                &e.loc,
                format!("this is `{found}`"),
            )
            .help(match &e.kind {
                ast::ExprKind::Field(obj, name) => format!(
                    "test presence with `{} has {}`, or compare it: `{} == ...`",
                    obj.loc.text(),
                    name.name,
                    e.loc.text()
                ),
                _ => "compare it with something, e.g. `x == ...`, or test presence with `has`"
                    .to_owned(),
            });
        }
    }

    fn template(&mut self, t: &ast::Template) -> ir::Template {
        let mut parts = Vec::new();
        for p in &t.parts {
            match p {
                ast::TemplatePart::Text(s) => {
                    parts.push(ir::TemplatePart::Text(Arc::from(s.as_str())))
                }
                ast::TemplatePart::Hole(e) => {
                    // Missing values print as `none`: no guard needed in messages.
                    self.lenient += 1;
                    let (x, _) = self.expr(e);
                    self.lenient -= 1;
                    parts.push(ir::TemplatePart::Expr(x));
                }
            }
        }
        ir::Template { parts }
    }

    /// Rebinds a rule's variables (the `for` variable and its lets) for an exception's `when`.
    fn rule_scope(&mut self, index: usize) -> Option<()> {
        let r = *self.declared.rule_asts.get(index)?;
        let rule = self.lowered.rules.get(index)?.clone();
        self.start_frame(Context::Entity);
        for c in &r.clauses {
            if let ast::RuleClauseKind::For { var, .. } = &c.kind {
                let slot = self.bind(&var.name, Typed::of(Ty::Node(vec![rule.kind])));
                debug_assert_eq!(slot, rule.var);
            }
        }
        if let Some(f) = &rule.filter {
            let facts = expr::facts_of(f, true);
            self.push_facts(facts);
        }
        // The exception runs in the rule's frame after the rule: its lets are
        // read from the slots the rule gave them. Anything the exception binds
        // itself goes past the rule's frame.
        self.frame.next_slot =
            self.frame.next_slot.max(u16::try_from(rule.frame).unwrap_or(u16::MAX));
        self.frame.max_slot = self.frame.max_slot.max(self.frame.next_slot);
        let mut let_slots = rule.body.iter().filter_map(|s| match s {
            ir::BodyStep::Let { slot, .. } => Some(*slot),
            ir::BodyStep::Require { .. } => None,
        });
        self.quiet += 1;
        for c in &r.clauses {
            if let ast::RuleClauseKind::Let(l) = &c.kind {
                let (_, t) = self.expr(&l.value);
                if let Some(slot) = let_slots.next() {
                    self.frame.scope.push(Binding {
                        name: l.name.name.clone(),
                        slot,
                        ty: t,
                        let_index: None,
                    });
                }
            }
        }
        self.quiet -= 1;
        Some(())
    }

    fn exception(&mut self, e: &ast::Exception) {
        let mut rule = None;
        let mut when = None;
        let mut until = None;
        let mut approved_by = Vec::new();
        let mut reason = None;
        for c in &e.clauses {
            match &c.kind {
                ast::ExceptionClauseKind::Rule { rule: name } => {
                    let local = name.name.rsplit('.').next().unwrap_or(&name.name).to_owned();
                    match self.declared.rule_names.get(&local) {
                        Some((_, i)) => rule = Some(*i),
                        // The rule exists but did not check; that was reported.
                        None if self.declared.broken_rules.contains(&local) => {}
                        None => {
                            let names: Vec<String> =
                                self.declared.rule_names.keys().cloned().collect();
                            let s = did_you_mean(&local, names.iter().map(String::as_str))
                                .map(str::to_owned);
                            let mut h = self.error(
                                Code::UnknownRule,
                                format!(
                                    "exception `{}` is for unknown rule `{}`",
                                    e.name.name, name.name
                                ),
                                &name.loc,
                                "no such rule",
                            );
                            match s {
                                Some(s) => h.help(format!("did you mean `{s}`?")),
                                None => {
                                    h.help("an exception names the id of a rule in the policy set")
                                }
                            }
                        }
                    }
                }
                ast::ExceptionClauseKind::Until { date } => {
                    until = Some(*date);
                    if date.0 + 86_400 <= self.options.now.0 {
                        self.warning(
                            Code::ExpiredException,
                            format!("exception `{}` expired on {date}", e.name.name),
                            &c.loc,
                            "in the past",
                        )
                        .help("an expired exception waives nothing: fix the findings, or renew it with a new date and approval");
                    }
                }
                ast::ExceptionClauseKind::ApprovedBy { approvers } => {
                    approved_by = approvers.iter().map(|a| a.value.clone()).collect();
                }
                ast::ExceptionClauseKind::Reason { text } => reason = Some(text.value.clone()),
                ast::ExceptionClauseKind::When { .. } => {}
            }
        }
        let Some(rule_index) = rule else { return };
        if self.rule_scope(rule_index).is_none() {
            return;
        }
        for c in &e.clauses {
            if let ast::ExceptionClauseKind::When { cond } = &c.kind {
                let (x, t) = self.expr(cond);
                self.expect_condition(&t, cond);
                when = Some(x);
            }
        }
        if let Some(r) = self.lowered.rules.get_mut(rule_index) {
            r.frame = r.frame.max(usize::from(self.frame.max_slot));
            r.uses_service |= self.frame.uses_service;
        }
        let Some(until) = until else { return };
        self.lowered.exceptions.push(ir::Exception {
            id: Arc::from(e.name.name.as_str()),
            rule: rule_index,
            when,
            until,
            approved_by,
            reason,
            loc: e.name.loc.clone(),
        });
    }

    fn priority_decl(&mut self, p: &ast::Priority) {
        if self.lowered.priority.is_some() {
            self.error(Code::DuplicatePriority, "`priority by` is declared more than once", &p.by.loc, "second declaration")
                .help("declare priority once for the whole policy set, so every rule is ranked the same way");
            return;
        }
        self.start_frame(Context::Entity);
        let (by, t) = self.expr(&p.by);
        for a in &p.arms {
            self.check_pattern(&a.pattern, &t, &p.by);
        }
        let arms = p
            .arms
            .iter()
            .map(|a| (expr::pattern(&a.pattern), a.value.level, a.value.within))
            .collect();
        self.lowered.priority =
            Some(ir::PriorityRule { by, arms, frame: usize::from(self.frame.max_slot) });
    }

    /// Checks a decision block and lowers it to [`ir::Decision`] (see `decision.rs`).
    fn decision(&mut self, d: &ast::Decision) {
        if let Some(lowered) = self.lower_decision(d) {
            self.lowered.decisions.push(lowered);
        }
    }
}

/// A diagnostic just pushed, to add labels and help to.
pub(crate) struct DiagHandle<'d> {
    diags: Option<&'d mut Diagnostics>,
}

impl DiagHandle<'_> {
    fn last(&mut self) -> Option<&mut Diag> {
        self.diags.as_mut().and_then(|d| d.last_mut())
    }

    /// Sets the help line.
    pub(crate) fn help(&mut self, text: impl Into<String>) {
        if let Some(d) = self.last() {
            d.help = Some(text.into());
        }
    }

    /// Adds a secondary label (in the same file).
    pub(crate) fn label_at(&mut self, loc: &Loc, text: &str) {
        if let Some(d) = self.last() {
            d.labels.push(crate::diag::Label {
                span: Span::new(loc.span.start, loc.span.end),
                text: text.to_owned(),
            });
        }
    }
}

/// A value of type `found` may be used where `want` is declared.
pub(crate) fn assignable(found: &Ty, want: &Ty) -> bool {
    match (found, want) {
        (Ty::Unknown, _) | (_, Ty::Unknown) => true,
        (Ty::Int, Ty::Float) => true,
        (Ty::Null, _) => true,
        (Ty::List(a), Ty::List(b)) => assignable(a, b),
        (Ty::Node(_), Ty::Node(w)) if w.is_empty() => true,
        (Ty::Node(f), Ty::Node(w)) => f.iter().all(|k| w.contains(k)),
        (a, b) => a == b,
    }
}

pub(crate) fn sorted_list(names: &[String]) -> String {
    let mut v: Vec<&str> = names.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
