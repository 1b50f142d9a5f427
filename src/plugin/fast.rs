//! Typed entry points for the common core signatures.
//!
//! `wasmtime::Func::call` checks the argument types on every call, and loading
//! a function's type takes a lock on the engine's type registry: with several
//! worker threads calling plugins, that lock serialised them (measured: a
//! plugin rule ran no faster on 2 threads than on 1). A `TypedFunc` checks
//! its type once, when it is made, so calls through it share nothing between
//! threads. Signatures outside this table fall back to `Func::call`.

use wasmtime::{Func, Store, TypedFunc, Val, WasmParams, WasmResults, WasmTy};

/// A core value type of the ABI: `i32` (bool, string/list pointer and
/// length), `i64` (int, timestamp, duration, packed string result), `f64`.
trait Core: WasmTy + Copy {
    fn from_val(v: Option<&Val>) -> Option<Self>;
    fn into_val(self) -> Val;
}

impl Core for i32 {
    fn from_val(v: Option<&Val>) -> Option<Self> {
        v.and_then(Val::i32)
    }
    fn into_val(self) -> Val {
        Val::I32(self)
    }
}

impl Core for i64 {
    fn from_val(v: Option<&Val>) -> Option<Self> {
        v.and_then(Val::i64)
    }
    fn into_val(self) -> Val {
        Val::I64(self)
    }
}

impl Core for f64 {
    fn from_val(v: Option<&Val>) -> Option<Self> {
        v.and_then(Val::f64)
    }
    fn into_val(self) -> Val {
        Val::F64(self.to_bits())
    }
}

fn typed<P: WasmParams, R: WasmResults>(
    f: &Func,
    store: &Store<super::runtime::Guard>,
) -> Option<TypedFunc<P, R>> {
    f.typed::<P, R>(store).ok()
}

macro_rules! shapes {
    ($( $name:ident : ($($p:ident),*) -> $r:ident ;)*) => {
        /// A function behind a typed entry point.
        pub(crate) enum Fast {
            $( $name(TypedFunc<($($p,)*), $r>), )*
        }

        impl Fast {
            /// The typed entry point of `f`, when its signature is in the table.
            pub(crate) fn new(f: &Func, store: &Store<super::runtime::Guard>) -> Option<Fast> {
                $( if let Some(t) = typed::<($($p,)*), $r>(f, store) {
                    return Some(Fast::$name(t));
                } )*
                None
            }

            /// Calls with `params` (already in core form) and returns the
            /// result; `Ok(None)` when the parameters do not fit the shape.
            pub(crate) fn call(
                &self,
                store: &mut Store<super::runtime::Guard>,
                params: &[Val],
            ) -> wasmtime::Result<Option<Val>> {
                match self {
                    $( Fast::$name(t) => {
                        let mut it = params.iter();
                        let args = ($( match <$p as Core>::from_val(it.next()) {
                            Some(v) => v,
                            None => return Ok(None),
                        }, )*);
                        if it.next().is_some() {
                            return Ok(None);
                        }
                        Ok(Some(Core::into_val(t.call(store, args)?)))
                    } )*
                }
            }
        }
    };
}

// Names: S is a string or list (pointer, length), V no parameters, then the
// core types of the other parameters, `To` the result.
// One string argument, a string and a number, two strings, scalars: the
// shapes of the examples and the usual naming, entropy and lookup checks.
shapes! {
    VToI32: () -> i32;
    VToI64: () -> i64;
    I32ToI32: (i32) -> i32;
    I32ToI64: (i32) -> i64;
    I64ToI32: (i64) -> i32;
    I64ToI64: (i64) -> i64;
    F64ToI32: (f64) -> i32;
    F64ToF64: (f64) -> f64;
    I64ToF64: (i64) -> f64;
    SToI32: (i32, i32) -> i32;
    SToI64: (i32, i32) -> i64;
    SToF64: (i32, i32) -> f64;
    I64I64ToI32: (i64, i64) -> i32;
    I64I64ToI64: (i64, i64) -> i64;
    SI64ToI32: (i32, i32, i64) -> i32;
    SI64ToI64: (i32, i32, i64) -> i64;
    SI32ToI32: (i32, i32, i32) -> i32;
    SF64ToI32: (i32, i32, f64) -> i32;
    SSToI32: (i32, i32, i32, i32) -> i32;
    SSToI64: (i32, i32, i32, i32) -> i64;
    SSToF64: (i32, i32, i32, i32) -> f64;
    SSI64ToI32: (i32, i32, i32, i32, i64) -> i32;
    SSSToI32: (i32, i32, i32, i32, i32, i32) -> i32;
}
