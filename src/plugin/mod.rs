//! The WebAssembly plugin host: the ABI, the sandbox limits, the
//! module cache and the per-worker instances.
//!
//! Owns: loading a module named by a `plugin` declaration, verifying that it
//! exports what the declaration promises, and calling it from the evaluator
//! under fuel, memory and stack limits. The ABI is described in
//! `docs/plugins.md`.
//!
//! The checker sees only [`Loader`], [`Declaration`], [`Problem`] and the
//! opaque [`Plugin`] handle; the evaluator only [`PluginSet`], [`Instances`]
//! and [`call`]. Everything that names wasmtime lives in `host.rs` and
//! `runtime.rs`, compiled with the `plugins` feature; without it, every
//! load fails with a "no plugin support" problem and nothing else changes.
//!
//! Must not: give a module any import (no WASI, files, clock, network or
//! randomness), panic on anything a module does, or let one entity's failed
//! call change the result of the next.

use std::fmt;
use std::path::PathBuf;

pub use crate::types::AbiType;
use crate::value::Value;

#[cfg(feature = "plugins")]
mod fast;
#[cfg(feature = "plugins")]
mod host;
#[cfg(feature = "plugins")]
mod runtime;

#[cfg(feature = "plugins")]
pub use host::Host;

/// The ABI version this host speaks: a module's `gov_abi_version()` must return it.
pub const ABI_VERSION: i32 = 1;

/// Most parameters a plugin function may declare (the host passes them from a
/// fixed-size array: no allocation per call).
pub const MAX_PARAMS: usize = 8;

/// One declared plugin function, in ABI types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnSig {
    /// The export name.
    pub name: String,
    /// Parameter types.
    pub params: Vec<AbiType>,
    /// Result type.
    pub ret: AbiType,
}

/// A `plugin` declaration as the loader sees it.
#[derive(Clone, Debug)]
pub struct Declaration {
    /// The name rules call it by (for messages).
    pub name: String,
    /// The module file, already resolved against the policy file's directory.
    pub path: PathBuf,
    /// Declared functions, in declaration order.
    pub fns: Vec<FnSig>,
}

/// What kind of problem a load found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// This build has no plugin host.
    Unavailable,
    /// The module cannot be used: missing file, invalid module, an import,
    /// a wrong ABI version, a failing start.
    Load,
    /// A declared function is missing or has another signature.
    Signature,
}

/// Why a declaration cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// The message (lowercase, no final period).
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The declared function it is about (index into [`Declaration::fns`]),
    /// or `None` for the declaration as a whole.
    pub func: Option<usize>,
}

impl Problem {
    /// A [`ProblemKind::Load`] problem about the whole declaration.
    pub fn load(message: impl Into<String>, help: impl Into<String>) -> Self {
        Problem {
            kind: ProblemKind::Load,
            message: message.into(),
            help: Some(help.into()),
            func: None,
        }
    }
}

/// Loads plugin modules for the checker. [`Host`] is the wasmtime
/// implementation; tests and embedders may supply their own.
pub trait Loader {
    /// Loads the module and verifies every declared function.
    fn load(&self, decl: &Declaration) -> Result<Plugin, Vec<Problem>>;
}

/// A loaded, verified plugin module (compiled once, shared by every worker).
#[derive(Clone)]
pub struct Plugin {
    #[cfg(feature = "plugins")]
    pub(crate) inner: std::sync::Arc<host::Loaded>,
    #[cfg(not(feature = "plugins"))]
    _none: (),
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "plugins")]
        return f.debug_struct("Plugin").field("name", &self.inner.name).finish_non_exhaustive();
        #[cfg(not(feature = "plugins"))]
        f.write_str("Plugin")
    }
}

/// The plugins of one program, indexed by the ids in
/// [`crate::ir::ExprKind::PluginCall`].
#[derive(Clone, Debug, Default)]
pub struct PluginSet {
    plugins: Vec<Plugin>,
}

impl PluginSet {
    /// Adds a plugin; returns its id.
    pub fn push(&mut self, p: Plugin) -> u16 {
        self.plugins.push(p);
        u16::try_from(self.plugins.len() - 1).unwrap_or(u16::MAX)
    }

    /// The number of plugins.
    pub fn len(&self) -> usize {
        self.plugins.len()
    }

    /// True when the program uses no plugin.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    #[cfg(feature = "plugins")]
    pub(crate) fn get(&self, id: u16) -> Option<&Plugin> {
        self.plugins.get(usize::from(id))
    }
}

/// Instances of a program's plugins for one worker thread: created on first
/// call, reused for every later call, dropped and re-created after a trap
/// (the instance's state may be corrupt).
#[derive(Default)]
pub struct Instances {
    #[cfg(feature = "plugins")]
    inner: runtime::Instances,
}

impl fmt::Debug for Instances {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Instances")
    }
}

/// Calls function `func` of plugin `plugin` with `args`.
///
/// A missing argument gives a missing result without calling the plugin
/// (missing values propagate, as everywhere in the evaluator). The error is
/// the reason, e.g. "`naming.ok` ran out of fuel (limit 10000000)".
pub fn call<'v>(
    set: &PluginSet,
    instances: &mut Instances,
    plugin: u16,
    func: u16,
    args: &[Value<'_>],
) -> Result<Value<'v>, String> {
    #[cfg(feature = "plugins")]
    return runtime::call(set, &mut instances.inner, plugin, func, args);
    #[cfg(not(feature = "plugins"))]
    {
        let _ = (set, instances, plugin, func, args);
        Err("this build of gov has no plugin support; rebuild with --features plugins".into())
    }
}

/// Sandbox limits, per call and per instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per call (about one unit per WebAssembly instruction): an
    /// infinite loop ends with an error after this many.
    pub fuel: u64,
    /// Largest linear memory of one instance, in bytes.
    pub memory: usize,
    /// Largest WebAssembly stack, in bytes (deep recursion ends with an error).
    pub stack: usize,
    /// Largest string or list a call may return, in bytes.
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { fuel: 10_000_000, memory: 64 << 20, stack: 512 << 10, max_output: 1 << 20 }
    }
}

/// How to build a [`Host`].
#[derive(Clone, Debug, Default)]
pub struct HostOptions {
    /// Sandbox limits.
    pub limits: Limits,
    /// Directory for compiled modules, keyed by the module's hash
    /// (`--plugin-cache`); none: compile in memory only.
    pub cache_dir: Option<PathBuf>,
}

/// The loader [`crate::check::compile`] uses: a process-wide [`Host`] built
/// from the options given to [`configure_default`] (or the defaults).
pub fn default_loader() -> &'static dyn Loader {
    #[cfg(feature = "plugins")]
    return host::default_host();
    #[cfg(not(feature = "plugins"))]
    &Unavailable
}

/// Sets the options of the process-wide default loader (the CLI calls this
/// once at start, from `--plugin-fuel`, `--plugin-memory`, `--plugin-cache`).
/// Returns false if the default loader was already in use.
pub fn configure_default(options: HostOptions) -> bool {
    #[cfg(feature = "plugins")]
    return host::configure_default(options);
    #[cfg(not(feature = "plugins"))]
    {
        let _ = options;
        false
    }
}

/// The loader of a build without the `plugins` feature.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unavailable;

impl Loader for Unavailable {
    fn load(&self, decl: &Declaration) -> Result<Plugin, Vec<Problem>> {
        Err(vec![Problem {
            kind: ProblemKind::Unavailable,
            message: format!(
                "cannot load plugin `{}`: this build of gov has no plugin support",
                decl.name
            ),
            help: Some(
                "rebuild with --features plugins (the `gov` binary has it on by default)".into(),
            ),
            func: None,
        }])
    }
}
