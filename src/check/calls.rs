//! Calls: built-in functions (their type rules are `ir::builtins`), `fn`s
//! (inlined at each call) and plugin functions.

use super::Checker;
use super::expr::*;
use super::types::{Ty, Typed};
use crate::diag::plural;
use crate::diag::{Code, did_you_mean};
use crate::ir::value::{self, Value};
use crate::ir::{self, Builtin, Const};
use crate::source::Loc;
use crate::syntax::ast::{self, ExprKind as A};

pub(super) fn builtin_named(name: &str) -> Option<Builtin> {
    Builtin::ALL.iter().copied().find(|b| b.name() == name)
}

/// The built-in that a name from another language (or a misspelling too far
/// for edit distance) most likely means.
pub(super) fn familiar_builtin(name: &str) -> Option<&'static str> {
    Some(match name.to_lowercase().as_str() {
        "length" | "lenght" | "lentgh" | "size" | "strlen" => "len",
        "lowercase" | "tolower" | "to_lower" | "downcase" => "lower",
        "uppercase" | "toupper" | "to_upper" | "upcase" => "upper",
        "has_prefix" | "hasprefix" | "prefix" | "begins_with" => "starts_with",
        "has_suffix" | "hassuffix" | "suffix" => "ends_with",
        "includes" | "has_item" => "contains",
        "glob" | "like" | "fnmatch" => "matches",
        "coalesce" | "unwrap_or" | "or_else" | "ifnull" | "nvl" => "default",
        "empty" => "is_empty",
        _ => return None,
    })
}

/// How a built-in is called, for help ([`ir::builtins::Def::signature`]).
pub(crate) fn signature(b: Builtin) -> &'static str {
    b.def().signature
}

impl Checker<'_> {
    pub(super) fn call(
        &mut self,
        callee: &ast::Expr,
        args: &[ast::Expr],
        loc: &Loc,
    ) -> (ir::Expr, Typed) {
        match &callee.kind {
            A::Var(f) if self.lookup(&f.name).is_none() => {
                if self.is_fn(&f.name)
                    && let Some(r) = self.call_fn(&f.name, args, loc)
                {
                    return r;
                }
                if let Some(b) = builtin_named(&f.name) {
                    return self.builtin(b, args.iter().collect(), loc);
                }
                // The arguments are checked on their own: their mistakes are
                // independent, and the names they use count as used.
                for a in args {
                    self.expr(a);
                }
                let mut names = self.fn_names();
                names.extend(Builtin::ALL.iter().map(|b| b.name().to_owned()));
                let s = did_you_mean(&f.name, names.iter().map(String::as_str))
                    .or_else(|| familiar_builtin(&f.name))
                    .map(str::to_owned);
                let mut h = self.error(
                    Code::UnknownFunction,
                    format!("unknown function `{}`", f.name),
                    &f.loc,
                    "not a function",
                );
                match s {
                    Some(s) => h.help(format!("did you mean `{s}`?")),
                    None => h.help(format!(
                        "built-in functions: {}; declare your own with `fn`",
                        Builtin::ALL
                            .iter()
                            .map(|b| format!("`{}`", b.name()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
                (konst(Const::Null, loc), Typed::unknown())
            }
            A::Field(obj, m) => {
                if let A::Var(p) = &obj.kind
                    && self.is_plugin(&p.name)
                    && self.lookup(&p.name).is_none()
                {
                    return self.plugin_call(p, m, args, loc);
                }
                if let Some(b) = builtin_named(&m.name) {
                    // Method style: `x.f(a)` is `f(x, a)`.
                    let mut all: Vec<&ast::Expr> = vec![obj.as_ref()];
                    all.extend(args.iter());
                    return self.builtin(b, all, loc);
                }
                self.expr(obj);
                for a in args {
                    self.expr(a);
                }
                let names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
                let s = did_you_mean(&m.name, names.iter().copied())
                    .or_else(|| familiar_builtin(&m.name))
                    .map(str::to_owned);
                let mut h = self.error(
                    Code::UnknownFunction,
                    format!("unknown function `{}`", m.name),
                    &m.loc,
                    "not a function",
                );
                if let Some(s) = s {
                    h.help(format!("did you mean `{s}`?"));
                }
                (konst(Const::Null, loc), Typed::unknown())
            }
            _ => {
                self.error(Code::TypeMismatch, "this cannot be called", &callee.loc, "not a function")
                    .help("call a function by name: `f(x)`, a built-in method `x.f()` or a plugin `p.f(x)`");
                (konst(Const::Null, loc), Typed::unknown())
            }
        }
    }

    pub(super) fn builtin(
        &mut self,
        b: Builtin,
        args: Vec<&ast::Expr>,
        loc: &Loc,
    ) -> (ir::Expr, Typed) {
        let def = b.def();
        let arity = def.arity;
        let mut lowered = Vec::new();
        let mut types = Vec::new();
        for a in &args {
            let (e, t) = self.expr(a);
            lowered.push(e);
            types.push(t);
        }
        if args.len() != arity {
            self.error(
                Code::WrongArity,
                format!("`{}` takes {}, found {}", b.name(), plural(arity, "argument"), args.len()),
                loc,
                "wrong number of arguments",
            )
            .help(format!("call it as `{}`", def.signature));
            return (konst(Const::Null, loc), Typed::unknown());
        }
        if types.iter().any(Typed::is_unknown) {
            return (konst(Const::Null, loc), Typed::unknown());
        }
        let tys: Vec<Ty> = types.iter().map(|t| t.ty.clone()).collect();
        let ret = match (def.check)(&tys, self.schema()) {
            Ok(ret) => ret,
            Err(w) => {
                if let (Some(a), Some(t)) = (args.get(w.arg), types.get(w.arg)) {
                    let found = t.ty.show(self.schema());
                    self.error(
                        Code::TypeMismatch,
                        format!("`{}` expects {}, found `{found}`", b.name(), w.want),
                        &a.loc,
                        format!("this is `{found}`"),
                    )
                    .help(w.help.unwrap_or_else(|| format!("call it as `{}`", def.signature)));
                }
                return (konst(Const::Null, loc), Typed::unknown());
            }
        };
        // Every argument but `default`'s first must be present (checked after
        // the types: a wrong type is the one error).
        for (i, (a, t)) in args.iter().zip(&types).enumerate() {
            if !(def.fallback && i == 0) {
                self.present(t, a);
            }
        }
        let ret_t = if def.fallback {
            Typed { ty: ret, opt: types.get(1).is_some_and(|t| t.opt) }
        } else {
            Typed::of(ret)
        };
        // Fold calls on constants.
        if b != Builtin::Id {
            let consts: Option<Vec<&Const>> = lowered.iter().map(as_const).collect();
            if let Some(cs) = consts {
                let vals: Vec<Value<'_>> = cs.into_iter().map(Value::from_const).collect();
                if let Ok(v) = value::builtin(b, &vals)
                    && let Some(c) = v.to_const()
                {
                    return (konst(c, loc), ret_t);
                }
            }
        }
        (ir(ir::ExprKind::Call(b, lowered), loc), ret_t)
    }
}
