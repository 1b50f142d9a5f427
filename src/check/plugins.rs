//! `plugin` declarations and plugin calls: types each declared function in
//! ABI types, has the [`Loader`](crate::plugin::Loader) load and verify the module (diagnostics on
//! the declaration), and lowers `p.f(args)` to [`ir::ExprKind::PluginCall`].
//!
//! Must not: name wasmtime (the loader does the loading), or report a call of
//! a plugin whose declaration already failed (one root cause, one report).

use std::path::Path;
use std::sync::Arc;

use super::{Checker, Ty, Typed, assignable};
use crate::diag::plural;
use crate::diag::{Code, did_you_mean};
use crate::ir;
use crate::plugin::{AbiType, Declaration, FnSig, ProblemKind};
use crate::source::Loc;
use crate::syntax::Parsed;
use crate::syntax::ast::{self, Item};

/// A checked declaration.
pub(crate) struct PluginState {
    /// Its id in the program's plugin set; `None` when loading failed
    /// (reported once, at the declaration: calls are then not checked).
    id: Option<u16>,
    /// Declared functions: name, parameter types, result type.
    fns: Vec<(String, Vec<Typed>, Typed)>,
    /// `fn` lines, for arity help.
    decls: Vec<String>,
}

/// The ABI type of a declared type, or why it cannot cross the boundary.
fn abi(t: &Typed) -> Result<AbiType, String> {
    if t.opt {
        return Err("plugin parameters and results cannot be optional (`?`)".into());
    }
    fn has_node(t: &Ty) -> bool {
        match t {
            Ty::Node(_) => true,
            Ty::List(e) => has_node(e),
            _ => false,
        }
    }
    if has_node(&t.ty) {
        return Err("nodes cannot cross the plugin boundary; pass an attribute or `id(x)`".into());
    }
    AbiType::new(t.ty.clone()).ok_or_else(|| "not a type a plugin can take".into())
}

impl<'a> Checker<'a> {
    /// Loads every `plugin` declaration (after the schema is complete).
    pub(super) fn load_plugins(&mut self, files: &'a [Parsed]) {
        for f in files {
            for item in &f.module.items {
                if let Item::Plugin(p) = item
                    && !self.modules.plugin_states.contains_key(&p.name.name)
                {
                    let state = self.load_plugin(p);
                    self.modules.plugin_states.insert(p.name.name.clone(), state);
                }
            }
        }
    }

    fn load_plugin(&mut self, p: &ast::Plugin) -> PluginState {
        let mut ok = true;
        let mut fns = Vec::new();
        let mut sigs = Vec::new();
        let mut decls = Vec::new();
        for (i, f) in p.fns.iter().enumerate() {
            if let Some(first) = p.fns.iter().take(i).find(|g| g.name.name == f.name.name) {
                let first = first.name.loc.clone();
                let mut h = self.error(
                    Code::DuplicateName,
                    format!("plugin `{}` declares `{}` twice", p.name.name, f.name.name),
                    &f.name.loc,
                    "second declaration",
                );
                h.label_at(&first, "first declared here");
                h.help("a plugin function is declared once");
                ok = false;
            }
            let mut params = Vec::new();
            let mut abi_params = Vec::new();
            for prm in &f.params {
                let t = self.type_of(&prm.ty);
                match t.as_ref().map(abi) {
                    Some(Ok(a)) => abi_params.push(a),
                    Some(Err(why)) => {
                        self.error(Code::PluginSignature, why, &prm.ty.loc, "cannot cross to a plugin")
                            .help("plugin types: bool, int, float, string, timestamp, duration and lists of them");
                        ok = false;
                    }
                    None => ok = false,
                }
                params.push(t.unwrap_or_else(Typed::unknown));
            }
            let ret = self.type_of(&f.ret);
            let abi_ret = match ret.as_ref().map(abi) {
                Some(Ok(a)) => Some(a),
                Some(Err(why)) => {
                    self.error(Code::PluginSignature, why, &f.ret.loc, "cannot cross from a plugin")
                        .help("plugin types: bool, int, float, string, timestamp, duration and lists of them");
                    ok = false;
                    None
                }
                None => {
                    ok = false;
                    None
                }
            };
            if let Some(r) = abi_ret {
                sigs.push(FnSig { name: f.name.name.clone(), params: abi_params, ret: r });
            }
            fns.push((f.name.name.clone(), params, ret.unwrap_or_else(Typed::unknown)));
            decls.push(f.loc.text().trim().to_owned());
        }
        if !ok {
            return PluginState { id: None, fns, decls };
        }
        // Paths are relative to the policy file that declares the plugin.
        let file = p.loc.file.name();
        let dir = Path::new(file).parent().unwrap_or(Path::new(""));
        let decl =
            Declaration { name: p.name.name.clone(), path: dir.join(&p.path.value), fns: sigs };
        match self.modules.loader.load(&decl) {
            Ok(plugin) => {
                PluginState { id: Some(self.modules.plugin_set.push(plugin)), fns, decls }
            }
            Err(problems) => {
                for pr in problems {
                    let code = match pr.kind {
                        ProblemKind::Unavailable => Code::PluginUnavailable,
                        ProblemKind::Load => Code::PluginLoad,
                        ProblemKind::Signature => Code::PluginSignature,
                    };
                    let (loc, label) = match pr.func.and_then(|i| p.fns.get(i)) {
                        Some(f) => (&f.loc, "declared here"),
                        None => (&p.path.loc, "this module"),
                    };
                    let mut h = self.error(code, pr.message, loc, label);
                    if let Some(help) = pr.help {
                        h.help(help);
                    }
                }
                PluginState { id: None, fns, decls }
            }
        }
    }

    /// `p.m(args)` where `p` names a plugin.
    pub(crate) fn plugin_call(
        &mut self,
        p: &ast::Name,
        m: &ast::Name,
        args: &[ast::Expr],
        loc: &Loc,
    ) -> (ir::Expr, Typed) {
        let unknown = |loc: &Loc| {
            (
                ir::Expr { kind: ir::ExprKind::Const(ir::Const::Null), loc: loc.clone() },
                Typed::unknown(),
            )
        };
        let arg_exprs: Vec<(ir::Expr, Typed)> = args.iter().map(|a| self.expr(a)).collect();
        let Some(state) = self.modules.plugin_states.get(&p.name) else {
            return unknown(loc);
        };
        let Some(index) = state.fns.iter().position(|(n, _, _)| *n == m.name) else {
            let names: Vec<String> = state.fns.iter().map(|(n, _, _)| n.clone()).collect();
            let s = did_you_mean(&m.name, names.iter().map(String::as_str)).map(str::to_owned);
            let mut h = self.error(
                Code::UnknownFunction,
                format!("plugin `{}` declares no function `{}`", p.name, m.name),
                &m.loc,
                "not declared",
            );
            match s {
                Some(s) => h.help(format!("did you mean `{s}`?")),
                None => h.help(format!(
                    "declare it in the `plugin {}` block: `fn {}(...) -> ...`",
                    p.name, m.name
                )),
            }
            return unknown(loc);
        };
        let Some((_, params, ret)) = state.fns.get(index).cloned() else {
            return unknown(loc);
        };
        let decl = state.decls.get(index).cloned().unwrap_or_default();
        let id = state.id;
        let name = format!("{}.{}", p.name, m.name);
        if args.len() != params.len() {
            self.error(
                Code::WrongArity,
                format!(
                    "`{name}` takes {}, found {}",
                    plural(params.len(), "argument"),
                    args.len()
                ),
                loc,
                "wrong number of arguments",
            )
            .help(format!("the plugin declares `{decl}`"));
            return unknown(loc);
        }
        let mut lowered = Vec::with_capacity(args.len());
        for ((a, (ae, at)), want) in args.iter().zip(arg_exprs).zip(&params) {
            if !at.is_unknown()
                && !want.is_unknown()
                && (!assignable(&at.ty, &want.ty) || (at.opt && !want.opt))
            {
                let (found, expected) = (at.show(self.schema()), want.show(self.schema()));
                let only_missing = assignable(&at.ty, &want.ty);
                let code =
                    if only_missing { Code::OptionalWithoutGuard } else { Code::TypeMismatch };
                let mut h = self.error(
                    code,
                    format!("argument of `{name}` expects `{expected}`, found `{found}`"),
                    &a.loc,
                    if only_missing {
                        "may be missing here".to_owned()
                    } else {
                        format!("this is `{found}`")
                    },
                );
                if only_missing {
                    h.help(format!(
                        "guard it with `has` or give a default: `default({}, ...)`",
                        a.loc.text()
                    ));
                } else {
                    h.help(format!("the plugin declares `{decl}`"));
                }
            }
            lowered.push(ae);
        }
        let Some(plugin) = id else {
            // The declaration was reported; its calls are not.
            return unknown(loc);
        };
        let kind = ir::ExprKind::PluginCall {
            plugin,
            func: u16::try_from(index).unwrap_or(u16::MAX),
            name: Arc::from(name.as_str()),
            args: lowered,
        };
        (ir::Expr { kind, loc: loc.clone() }, ret)
    }
}
