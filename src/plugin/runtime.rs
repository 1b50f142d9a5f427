//! Calling plugins: per-worker instances, argument encoding, result
//! validation, and turning every way a call can fail into a reason.
//!
//! Must not: allocate on the host for a call with scalar arguments and a
//! scalar result, trust any pointer, length or byte the guest returns, or keep
//! using an instance after it trapped.

use std::borrow::Cow;
use std::sync::Arc;

use super::fast::Fast;
use wasmtime::{Func, Instance, Memory, ResourceLimiter, Store, Trap, TypedFunc, Val};

use super::host::Loaded;
use super::{FnSig, Limits, MAX_PARAMS, PluginSet};
use crate::time::{Duration, Timestamp};
use crate::types::Ty;
use crate::value::Value;

/// Largest table a plugin may grow to (tables hold function references).
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Largest error message read from `gov_last_error`.
const MAX_ERROR_MESSAGE: usize = 4096;

/// The store's data: the memory limiter, which remembers that it refused a
/// growth so that the error says "memory limit" rather than a generic trap.
pub(crate) struct Guard {
    memory: usize,
    refused: bool,
}

impl ResourceLimiter for Guard {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory {
            self.refused = true;
            // An error, not `Ok(false)`: a module that ignores `memory.grow`
            // returning -1 would otherwise go on until it runs out of fuel.
            return Err(wasmtime::format_err!("memory limit"));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        4
    }
}

/// One live instance.
struct Live {
    plugin: Arc<Loaded>,
    store: Store<Guard>,
    memory: Option<Memory>,
    alloc: Option<TypedFunc<i32, i32>>,
    last_error: Option<TypedFunc<(), i64>>,
    funcs: Vec<Func>,
    /// Typed entry points of `funcs`, where the signature has one.
    fast: Vec<Option<Fast>>,
}

/// The instances of one worker, by plugin id.
#[derive(Default)]
pub(crate) struct Instances {
    live: Vec<Option<Live>>,
    /// JSON of list arguments, reused from call to call.
    scratch: Vec<u8>,
}

/// Why a call failed, and whether the instance is still usable.
enum Failure {
    /// A trap, out of fuel or memory: the instance is dropped.
    Trap(String),
    /// A bad result or a reported error: the instance is fine.
    Result(String),
}

/// Why a wasmtime call failed, in words.
fn reason(e: &wasmtime::Error, guard: &Guard, limits: &Limits) -> String {
    if guard.refused {
        return format!("exceeded its memory limit of {} bytes", limits.memory);
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => format!(
            "ran out of fuel ({} units per call): a loop that does not end, or raise --plugin-fuel",
            limits.fuel
        ),
        Some(Trap::StackOverflow) => {
            format!("overflowed its stack ({} bytes): recursion too deep", limits.stack)
        }
        Some(t) => {
            let t = t.to_string();
            format!("trapped: {}", t.strip_prefix("wasm trap: ").unwrap_or(&t))
        }
        None => format!("failed: {e:#}"),
    }
}

fn start(p: &Loaded) -> Result<(Store<Guard>, Instance), String> {
    let mut store =
        Store::new(p.module.engine(), Guard { memory: p.limits.memory, refused: false });
    store.limiter(|g| g);
    store.set_fuel(p.limits.fuel).map_err(|e| format!("failed: {e:#}"))?;
    match Instance::new(&mut store, &p.module, &[]) {
        Ok(i) => Ok((store, i)),
        Err(e) => Err(reason(&e, store.data(), &p.limits)),
    }
}

fn instantiate(p: &Arc<Loaded>) -> Result<Live, String> {
    let (mut store, instance) = start(p)?;
    let memory = instance.get_memory(&mut store, "memory");
    let alloc = instance.get_typed_func::<i32, i32>(&mut store, "gov_alloc").ok();
    let last_error = if p.has_last_error {
        instance.get_typed_func::<(), i64>(&mut store, "gov_last_error").ok()
    } else {
        None
    };
    let mut funcs = Vec::with_capacity(p.fns.len());
    for f in &p.fns {
        match instance.get_func(&mut store, &f.name) {
            Some(func) => funcs.push(func),
            None => return Err(format!("does not export `{}`", f.name)),
        }
    }
    let fast = funcs.iter().map(|f| Fast::new(f, &store)).collect();
    Ok(Live { plugin: Arc::clone(p), store, memory, alloc, last_error, funcs, fast })
}

/// Instantiates the module once and calls `gov_abi_version()` (at load time).
pub(crate) fn abi_version(p: &Loaded) -> Result<i32, String> {
    let (mut store, instance) = start(p)?;
    let f = instance
        .get_typed_func::<(), i32>(&mut store, "gov_abi_version")
        .map_err(|e| format!("`gov_abi_version`: {e:#}"))?;
    f.call(&mut store, ()).map_err(|e| reason(&e, store.data(), &p.limits))
}

pub(crate) fn call<'v>(
    set: &PluginSet,
    inst: &mut Instances,
    plugin: u16,
    func: u16,
    args: &[Value<'_>],
) -> Result<Value<'v>, String> {
    let Some(p) = set.get(plugin) else {
        return Err(format!("no plugin with id {plugin}"));
    };
    let p = &p.inner;
    let name = |f: &str| format!("plugin `{}` function `{f}`", p.name);
    let Some(sig) = p.fns.get(usize::from(func)) else {
        return Err(format!("plugin `{}` has no function {func}", p.name));
    };
    // Missing values propagate: the plugin is not asked about them.
    if args.iter().any(|a| matches!(a, Value::Missing)) {
        return Ok(Value::Missing);
    }
    let idx = usize::from(plugin);
    if inst.live.len() <= idx {
        inst.live.resize_with(idx + 1, || None);
    }
    let Some(slot) = inst.live.get_mut(idx) else {
        return Err(format!("no plugin with id {plugin}"));
    };
    if !matches!(slot, Some(l) if Arc::ptr_eq(&l.plugin, p)) {
        *slot = None;
        match instantiate(p) {
            Ok(l) => *slot = Some(l),
            Err(e) => return Err(format!("{} could not start: {e}", name(&sig.name))),
        }
    }
    let Some(live) = slot.as_mut() else {
        return Err(format!("{} could not start", name(&sig.name)));
    };
    match invoke(live, &mut inst.scratch, sig, usize::from(func), args) {
        Ok(v) => Ok(v),
        Err(Failure::Result(why)) => Err(format!("{} {why}", name(&sig.name))),
        Err(Failure::Trap(why)) => {
            // Its memory and globals may be half-updated: start afresh next time.
            *slot = None;
            Err(format!("{} {why}", name(&sig.name)))
        }
    }
}

fn invoke<'v>(
    live: &mut Live,
    scratch: &mut Vec<u8>,
    sig: &FnSig,
    func: usize,
    args: &[Value<'_>],
) -> Result<Value<'v>, Failure> {
    let limits = &live.plugin.limits;
    live.store.set_fuel(limits.fuel).map_err(|e| Failure::Trap(format!("failed: {e:#}")))?;
    let trap =
        |e: wasmtime::Error, store: &Store<Guard>| Failure::Trap(reason(&e, store.data(), limits));

    // Strings and lists go in one `gov_alloc` buffer per call, in argument order.
    let mut ranges = [(0u32, 0u32); MAX_PARAMS];
    // Where each list argument's JSON sits in `scratch`.
    let mut json = [(0usize, 0usize); MAX_PARAMS];
    let mut needs_memory = false;
    scratch.clear();
    let mut total: usize = 0;
    for (i, (a, t)) in args.iter().zip(&sig.params).enumerate() {
        match (t.ty(), a) {
            (Ty::Str, Value::Str(s)) => {
                total = total.saturating_add(s.len());
                needs_memory = true;
            }
            (Ty::List(_), v) => {
                let before = scratch.len();
                write_json(v, scratch);
                total = total.saturating_add(scratch.len() - before);
                if let Some(r) = json.get_mut(i) {
                    *r = (before, scratch.len());
                }
                needs_memory = true;
            }
            _ => {}
        }
    }
    if needs_memory {
        let (Some(alloc), Some(memory)) = (live.alloc.clone(), live.memory) else {
            return Err(Failure::Result("exports no `gov_alloc` or `memory`".into()));
        };
        let Ok(len) = i32::try_from(total) else {
            return Err(Failure::Result(format!(
                "arguments of {total} bytes do not fit in 32-bit memory"
            )));
        };
        let base = alloc.call(&mut live.store, len).map_err(|e| trap(e, &live.store))?;
        let mut at = base as u32 as usize;
        let end = at.saturating_add(total);
        if end > memory.data_size(&live.store) {
            return Err(Failure::Result(format!(
                "`gov_alloc({total})` returned {at}, outside its memory of {} bytes",
                memory.data_size(&live.store)
            )));
        }
        for (i, (a, t)) in args.iter().zip(&sig.params).enumerate() {
            let bytes: &[u8] = match (t.ty(), a) {
                (Ty::Str, Value::Str(s)) => s.as_bytes(),
                (Ty::List(_), _) => {
                    let (start, end) = json.get(i).copied().unwrap_or_default();
                    scratch.get(start..end).unwrap_or_default()
                }
                _ => continue,
            };
            memory
                .write(&mut live.store, at, bytes)
                .map_err(|e| Failure::Result(format!("failed to write an argument: {e}")))?;
            if let Some(r) = ranges.get_mut(i) {
                *r = (at as u32, bytes.len() as u32);
            }
            at += bytes.len();
        }
    }

    // Core arguments on the stack: no allocation for scalar calls.
    let mut params: [Val; 2 * MAX_PARAMS] = std::array::from_fn(|_| Val::I32(0));
    let mut n = 0usize;
    let mut put = |v: Val| {
        if let Some(p) = params.get_mut(n) {
            *p = v;
        }
        n += 1;
    };
    for (i, (a, t)) in args.iter().zip(&sig.params).enumerate() {
        match (t.ty(), a) {
            (Ty::Bool, Value::Bool(b)) => put(Val::I32(i32::from(*b))),
            (Ty::Int, Value::Int(x)) => put(Val::I64(*x)),
            (Ty::Float, Value::Float(x)) => put(Val::F64(x.to_bits())),
            (Ty::Float, Value::Int(x)) => put(Val::F64((*x as f64).to_bits())),
            (Ty::Time, Value::Time(t)) => put(Val::I64(t.0)),
            (Ty::Duration, Value::Duration(d)) => put(Val::I64(d.0)),
            (Ty::Str | Ty::List(_), _) => {
                let (ptr, len) = ranges.get(i).copied().unwrap_or_default();
                put(Val::I32(ptr as i32));
                put(Val::I32(len as i32));
            }
            (t, v) => {
                return Err(Failure::Result(format!(
                    "was passed `{}` for a `{t}` parameter",
                    value_kind(v)
                )));
            }
        }
    }
    let params = params.get(..n).unwrap_or_default();
    if let Some(Some(fast)) = live.fast.get(func) {
        match fast.call(&mut live.store, params) {
            Ok(Some(result)) => return decode(live, sig, &result),
            Ok(None) => {}
            Err(e) => return Err(trap(e, &live.store)),
        }
    }
    let mut results = [Val::I32(0)];
    let Some(f) = live.funcs.get(func) else {
        return Err(Failure::Result("is not exported".into()));
    };
    let f = *f;
    let call = f.call(&mut live.store, params, &mut results);
    if let Err(e) = call {
        return Err(trap(e, &live.store));
    }
    let [result] = results;
    decode(live, sig, &result)
}

fn value_kind(v: &Value<'_>) -> &'static str {
    match v {
        Value::Missing => "missing",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Str(_) => "string",
        Value::Time(_) => "timestamp",
        Value::Duration(_) => "duration",
        Value::List(_) => "list",
        Value::Node(_) => "node",
    }
}

/// Serialises a list argument as JSON (timestamps and durations as seconds).
fn write_json(v: &Value<'_>, out: &mut Vec<u8>) {
    match v {
        Value::Missing | Value::Node(_) => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => match serde_json::to_vec(f) {
            Ok(b) => out.extend_from_slice(&b),
            Err(_) => out.extend_from_slice(b"null"),
        },
        Value::Str(s) => match serde_json::to_vec(s.as_ref()) {
            Ok(b) => out.extend_from_slice(&b),
            Err(_) => out.extend_from_slice(b"null"),
        },
        Value::Time(t) => out.extend_from_slice(t.0.to_string().as_bytes()),
        Value::Duration(d) => out.extend_from_slice(d.0.to_string().as_bytes()),
        Value::List(xs) => {
            out.push(b'[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(x, out);
            }
            out.push(b']');
        }
    }
}

/// Reads `len` bytes at `ptr` of guest memory, checking bounds and the size cap.
fn read_out(live: &Live, packed: i64, max: usize) -> Result<&[u8], String> {
    let ptr = ((packed as u64) >> 32) as usize;
    let len = ((packed as u64) & 0xffff_ffff) as usize;
    if len > max {
        return Err(format!(
            "returned {len} bytes, more than the limit of {max} (--plugin-output)"
        ));
    }
    let Some(memory) = live.memory else {
        return Err("returned a string but exports no `memory`".into());
    };
    let data = memory.data(&live.store);
    ptr.checked_add(len).and_then(|end| data.get(ptr..end)).ok_or_else(|| {
        format!(
            "returned bytes {ptr}..{} outside its memory of {} bytes",
            ptr.saturating_add(len),
            data.len()
        )
    })
}

/// The error a plugin reported with a sentinel result.
fn reported(live: &mut Live) -> Failure {
    let Some(f) = live.last_error.clone() else {
        return Failure::Result(
            "reported an error (it exports no `gov_last_error` to say which)".into(),
        );
    };
    let limits = live.plugin.limits.clone();
    match f.call(&mut live.store, ()) {
        Ok(0) => Failure::Result("reported an error without a message".into()),
        Ok(packed) => match read_out(live, packed, MAX_ERROR_MESSAGE) {
            Ok(bytes) => {
                Failure::Result(format!("reported an error: {}", String::from_utf8_lossy(bytes)))
            }
            Err(why) => Failure::Result(format!("reported an error, but `gov_last_error` {why}")),
        },
        Err(e) => Failure::Trap(reason(&e, live.store.data(), &limits)),
    }
}

fn decode<'v>(live: &mut Live, sig: &FnSig, result: &Val) -> Result<Value<'v>, Failure> {
    let max = live.plugin.limits.max_output;
    let wrong = |what: &str| Failure::Result(format!("returned {what} for a `{}` result", sig.ret));
    Ok(match (sig.ret.ty(), result) {
        (Ty::Bool, Val::I32(0)) => Value::Bool(false),
        (Ty::Bool, Val::I32(1)) => Value::Bool(true),
        (Ty::Bool, Val::I32(_)) => return Err(reported(live)),
        (Ty::Int | Ty::Time | Ty::Duration, Val::I64(i64::MIN)) => {
            return Err(reported(live));
        }
        (Ty::Int, Val::I64(x)) => Value::Int(*x),
        (Ty::Time, Val::I64(x)) => Value::Time(Timestamp(*x)),
        (Ty::Duration, Val::I64(x)) => Value::Duration(Duration(*x)),
        (Ty::Float, Val::F64(bits)) => {
            let x = f64::from_bits(*bits);
            if x.is_nan() {
                return Err(reported(live));
            }
            Value::Float(x)
        }
        (Ty::Str | Ty::List(_), Val::I64(p)) if *p < 0 => return Err(reported(live)),
        (Ty::Str, Val::I64(p)) => {
            let bytes = read_out(live, *p, max).map_err(Failure::Result)?;
            match std::str::from_utf8(bytes) {
                Ok(s) => Value::Str(Cow::Owned(s.to_owned())),
                Err(e) => {
                    return Err(Failure::Result(format!(
                        "returned a string that is not UTF-8 ({e})"
                    )));
                }
            }
        }
        (Ty::List(elem), Val::I64(p)) => {
            let bytes = read_out(live, *p, max).map_err(Failure::Result)?;
            let json: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| Failure::Result(format!("returned a list that is not JSON ({e})")))?;
            from_json(&json, &Ty::List(elem.clone()))
                .ok_or_else(|| wrong(&format!("`{}`", truncate(&json.to_string()))))?
        }
        (_, v) => return Err(wrong(&format!("{v:?}"))),
    })
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", s.get(..i).unwrap_or(s)),
        None => s.to_owned(),
    }
}

/// A JSON result as a value of the declared type.
fn from_json<'v>(j: &serde_json::Value, t: &Ty) -> Option<Value<'v>> {
    use serde_json::Value as J;
    Some(match (t, j) {
        (Ty::Bool, J::Bool(b)) => Value::Bool(*b),
        (Ty::Int, J::Number(n)) => Value::Int(n.as_i64()?),
        (Ty::Float, J::Number(n)) => Value::Float(n.as_f64()?),
        (Ty::Str, J::String(s)) => Value::Str(Cow::Owned(s.clone())),
        (Ty::Time, J::Number(n)) => Value::Time(Timestamp(n.as_i64()?)),
        (Ty::Duration, J::Number(n)) => Value::Duration(Duration(n.as_i64()?)),
        (Ty::List(e), J::Array(xs)) => {
            Value::List(Arc::new(xs.iter().map(|x| from_json(x, e)).collect::<Option<Vec<_>>>()?))
        }
        _ => return None,
    })
}
