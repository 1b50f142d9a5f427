//! Loading and verifying plugin modules with wasmtime: one engine per set of
//! limits, each module compiled once (in memory, and on disk with
//! `--plugin-cache`), every declared function checked against its export.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use wasmtime::{Cache, CacheConfig, Config, Engine, ExternType, Module, OptLevel, ValType};

use super::{
    ABI_VERSION, AbiType, Declaration, FnSig, HostOptions, Limits, Loader, MAX_PARAMS, Plugin,
    Problem, ProblemKind,
};
use crate::types::Ty;

/// A verified module with what the runtime needs to call it.
pub(crate) struct Loaded {
    /// The name rules call it by.
    pub(crate) name: String,
    pub(crate) module: Module,
    pub(crate) limits: Limits,
    /// Declared functions, by id.
    pub(crate) fns: Vec<FnSig>,
    /// The module exports `gov_last_error`.
    pub(crate) has_last_error: bool,
}

/// The wasmtime plugin host: a [`Loader`] that compiles each module once.
pub struct Host {
    engine: Engine,
    limits: Limits,
    /// Compiled modules by a hash of their bytes: a module named by several
    /// declarations or loaded again (tests, `gov test`) is compiled once.
    modules: Mutex<HashMap<(u64, usize), Module>>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Host {
    /// A host with these limits and cache.
    pub fn new(options: &HostOptions) -> Result<Host, String> {
        let mut config = Config::new();
        // Fuel rather than epochs: deterministic (the same call fails the same
        // way on every machine) and needs no timer thread.
        config.consume_fuel(true);
        config.max_wasm_stack(options.limits.stack.max(16 << 10));
        config.cranelift_opt_level(OptLevel::Speed);
        // The same float results on every platform.
        config.cranelift_nan_canonicalization(true);
        if let Some(dir) = &options.cache_dir {
            let dir = std::path::absolute(dir)
                .map_err(|e| format!("plugin cache `{}`: {e}", dir.display()))?;
            let mut cc = CacheConfig::new();
            cc.with_directory(dir);
            let cache = Cache::new(cc).map_err(|e| format!("plugin cache: {e:#}"))?;
            config.cache(Some(cache));
        }
        let engine = Engine::new(&config).map_err(|e| format!("plugin engine: {e:#}"))?;
        Ok(Host { engine, limits: options.limits.clone(), modules: Mutex::new(HashMap::new()) })
    }

    /// The limits every plugin loaded by this host runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn compile(&self, bytes: &[u8]) -> Result<Module, String> {
        let mut h = DefaultHasher::new();
        h.write(bytes);
        let key = (h.finish(), bytes.len());
        if let Ok(map) = self.modules.lock()
            && let Some(m) = map.get(&key)
        {
            return Ok(m.clone());
        }
        let m = Module::new(&self.engine, bytes).map_err(|e| format!("{e:#}"))?;
        if let Ok(mut map) = self.modules.lock() {
            map.insert(key, m.clone());
        }
        Ok(m)
    }
}

static DEFAULT_OPTIONS: OnceLock<HostOptions> = OnceLock::new();
static DEFAULT_HOST: OnceLock<DefaultHost> = OnceLock::new();

/// The process-wide host, or why it could not be built.
struct DefaultHost(Result<Host, String>);

impl Loader for DefaultHost {
    fn load(&self, decl: &Declaration) -> Result<Plugin, Vec<Problem>> {
        match &self.0 {
            Ok(h) => h.load(decl),
            Err(e) => Err(vec![Problem::load(
                format!("cannot start the plugin host: {e}"),
                "check `--plugin-cache` and the plugin limits",
            )]),
        }
    }
}

pub(crate) fn default_host() -> &'static dyn Loader {
    DEFAULT_HOST.get_or_init(|| {
        let options = DEFAULT_OPTIONS.get_or_init(HostOptions::default);
        DefaultHost(Host::new(options))
    })
}

pub(crate) fn configure_default(options: HostOptions) -> bool {
    DEFAULT_HOST.get().is_none() && DEFAULT_OPTIONS.set(options).is_ok()
}

/// The core-wasm parameter types of an ABI type.
fn wasm_params(t: &AbiType, out: &mut Vec<ValType>) {
    match t.ty() {
        Ty::Bool => out.push(ValType::I32),
        Ty::Float => out.push(ValType::F64),
        Ty::Str | Ty::List(_) => out.extend([ValType::I32, ValType::I32]),
        // Int, Time, Duration (an ABI type has no other: `AbiType::new`).
        _ => out.push(ValType::I64),
    }
}

/// The core-wasm result type of an ABI type (strings and lists: a packed `ptr << 32 | len`).
fn wasm_result(t: &AbiType) -> ValType {
    match t.ty() {
        Ty::Bool => ValType::I32,
        Ty::Float => ValType::F64,
        // Int, Time, Duration; strings and lists as a packed pointer.
        _ => ValType::I64,
    }
}

fn show_types(ts: &[ValType]) -> String {
    ts.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
}

fn show_func(params: &[ValType], results: &[ValType]) -> String {
    format!("({}) -> ({})", show_types(params), show_types(results))
}

fn same(a: &[ValType], b: &[ValType]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| ValType::eq(x, y))
}

/// Checks an export against the core signature it must have.
fn check_func(
    module: &Module,
    export: &str,
    params: &[ValType],
    results: &[ValType],
) -> Result<(), String> {
    match module.get_export(export) {
        None => Err("is not exported".into()),
        Some(ExternType::Func(ft)) => {
            let (p, r): (Vec<ValType>, Vec<ValType>) =
                (ft.params().collect(), ft.results().collect());
            if same(&p, params) && same(&r, results) {
                Ok(())
            } else {
                Err(format!(
                    "is exported as `{}`, the ABI needs `{}`",
                    show_func(&p, &r),
                    show_func(params, results)
                ))
            }
        }
        Some(other) => Err(format!("is exported as a {}, not a function", extern_kind(&other))),
    }
}

fn extern_kind(t: &ExternType) -> &'static str {
    match t {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        ExternType::Tag(_) => "tag",
    }
}

impl Loader for Host {
    fn load(&self, decl: &Declaration) -> Result<Plugin, Vec<Problem>> {
        let module = self.module(&decl.path).map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        if let Some(i) = module.imports().next() {
            problems.push(Problem::load(
                format!(
                    "plugin module `{}` imports `{}::{}` (a {})",
                    decl.path.display(),
                    i.module(),
                    i.name(),
                    extern_kind(&i.ty())
                ),
                "plugins get no imports (no WASI, files, network, clock or randomness); build the module without them (for Rust: `--target wasm32-unknown-unknown`, no `std::fs`, `std::time`, `println!`)",
            ));
            return Err(problems);
        }
        let abi_help = "see docs/plugins.md for the exports every plugin needs";
        if let Err(why) = check_func(&module, "gov_abi_version", &[], &[ValType::I32]) {
            problems.push(Problem::load(format!("`gov_abi_version` {why}"), abi_help));
        }
        let uses_memory =
            decl.fns.iter().any(|f| f.ret.in_memory() || f.params.iter().any(AbiType::in_memory));
        let passes_memory = decl.fns.iter().any(|f| f.params.iter().any(AbiType::in_memory));
        if uses_memory && !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
            problems.push(Problem::load(
                "the module exports no `memory`, and strings and lists cross in memory",
                abi_help,
            ));
        }
        if passes_memory
            && let Err(why) = check_func(&module, "gov_alloc", &[ValType::I32], &[ValType::I32])
        {
            problems.push(Problem::load(
                format!(
                    "`gov_alloc` {why}, and the host writes string and list arguments through it"
                ),
                abi_help,
            ));
        }
        let has_last_error = module.get_export("gov_last_error").is_some();
        if has_last_error
            && let Err(why) = check_func(&module, "gov_last_error", &[], &[ValType::I64])
        {
            problems.push(Problem::load(format!("`gov_last_error` {why}"), abi_help));
        }
        for (i, f) in decl.fns.iter().enumerate() {
            let mut params = Vec::new();
            for p in &f.params {
                wasm_params(p, &mut params);
            }
            if f.params.len() > MAX_PARAMS {
                problems.push(Problem {
                    kind: ProblemKind::Signature,
                    message: format!("plugin function `{}.{}` takes {} parameters; at most {MAX_PARAMS} are allowed", decl.name, f.name, f.params.len()),
                    help: Some("pass a list instead".into()),
                    func: Some(i),
                });
                continue;
            }
            if let Err(why) = check_func(&module, &f.name, &params, &[wasm_result(&f.ret)]) {
                let sig = format!(
                    "({}) -> {}",
                    f.params.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                    f.ret
                );
                problems.push(Problem {
                    kind: ProblemKind::Signature,
                    message: format!("plugin function `{}.{}` {why}", decl.name, f.name),
                    help: Some(format!(
                        "`{sig}` maps to core wasm `{}` (see the ABI in docs/plugins.md); fix the declaration or the module",
                        show_func(&params, &[wasm_result(&f.ret)])
                    )),
                    func: Some(i),
                });
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let loaded = Loaded {
            name: decl.name.clone(),
            module,
            limits: self.limits.clone(),
            fns: decl.fns.clone(),
            has_last_error,
        };
        // The version check runs the module once (start function included),
        // under the same limits as every call.
        match super::runtime::abi_version(&loaded) {
            Ok(v) if v == ABI_VERSION => {}
            Ok(v) => {
                return Err(vec![Problem::load(
                    format!(
                        "plugin module `{}` speaks ABI version {v}; this gov speaks version {ABI_VERSION}",
                        decl.path.display()
                    ),
                    "rebuild the plugin against the ABI in docs/plugins.md",
                )]);
            }
            Err(e) => {
                return Err(vec![Problem::load(
                    format!("plugin module `{}` fails to start: {e}", decl.path.display()),
                    "the host instantiates the module and calls `gov_abi_version()` at check time",
                )]);
            }
        }
        Ok(Plugin { inner: Arc::new(loaded) })
    }
}

impl Host {
    /// Reads and compiles a module (`.wat` text is accepted too).
    fn module(&self, path: &Path) -> Result<Module, Problem> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| {
            Problem::load(
                format!("cannot read plugin module `{shown}`: {e}"),
                "plugin paths are relative to the policy file that declares them",
            )
        })?;
        let bytes = if path.extension().is_some_and(|e| e == "wat") {
            wat::parse_bytes(&bytes)
                .map_err(|e| {
                    Problem::load(
                        format!("plugin module `{shown}` is not valid WAT: {e}"),
                        "fix the module text",
                    )
                })?
                .into_owned()
        } else {
            bytes
        };
        self.compile(&bytes).map_err(|e| {
            Problem::load(
                format!("plugin module `{shown}` is not a valid WebAssembly module: {e}"),
                "build the plugin for `wasm32-unknown-unknown` (a core module, not a component)",
            )
        })
    }
}

// A compiled program is shared by every audit worker: its plugins must be too.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<Loaded>();
    shared::<super::PluginSet>();
};
