//! A gov plugin (ABI version 1, see docs/plugins.md): the Shannon entropy of a
//! string in bits per byte, for rules that flag random-looking key names or
//! secrets pasted into descriptions.
//!
//! Exports: `memory` (by the toolchain), `gov_abi_version`, `gov_alloc`,
//! `gov_last_error`, `entropy(string) -> float`, `longest_run(string) -> int`.
//! No imports: nothing here touches the file system, clock or randomness.

use std::sync::Mutex;

/// The argument buffer: each `gov_alloc` starts a new call's arguments, so one
/// buffer, reused, is enough.
static ARGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// The last error message, kept alive until the host has read it.
static ERROR: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Longest input the plugin accepts (bytes).
const MAX_INPUT: usize = 1 << 20;

#[unsafe(no_mangle)]
pub extern "C" fn gov_abi_version() -> i32 {
    1
}

#[unsafe(no_mangle)]
pub extern "C" fn gov_alloc(len: i32) -> i32 {
    let mut buf = ARGS.lock().unwrap_or_else(|e| e.into_inner());
    buf.clear();
    buf.resize(len.max(0) as usize, 0);
    buf.as_mut_ptr() as i32
}

#[unsafe(no_mangle)]
pub extern "C" fn gov_last_error() -> i64 {
    let e = ERROR.lock().unwrap_or_else(|e| e.into_inner());
    if e.is_empty() { 0 } else { ((e.as_ptr() as i64) << 32) | e.len() as i64 }
}

fn fail(message: &str) {
    let mut e = ERROR.lock().unwrap_or_else(|e| e.into_inner());
    e.clear();
    e.extend_from_slice(message.as_bytes());
}

/// The argument the host wrote at `ptr..ptr+len` (inside the `gov_alloc` buffer).
fn arg(ptr: i32, len: i32) -> Option<Vec<u8>> {
    let buf = ARGS.lock().unwrap_or_else(|e| e.into_inner());
    let start = (ptr as usize).checked_sub(buf.as_ptr() as usize)?;
    buf.get(start..start.checked_add(len as usize)?).map(<[u8]>::to_vec)
}

/// Shannon entropy in bits per byte (0 for an empty string).
#[unsafe(no_mangle)]
pub extern "C" fn entropy(ptr: i32, len: i32) -> f64 {
    let Some(bytes) = arg(ptr, len) else {
        fail("argument outside the gov_alloc buffer");
        return f64::NAN;
    };
    if bytes.len() > MAX_INPUT {
        fail("input longer than 1 MiB");
        return f64::NAN;
    }
    let mut counts = [0u32; 256];
    for b in &bytes {
        counts[*b as usize] += 1;
    }
    let n = bytes.len() as f64;
    let mut h = 0.0;
    for c in counts {
        if c > 0 {
            let p = f64::from(c) / n;
            h -= p * p.log2();
        }
    }
    h
}

/// The longest run of one repeated byte (`aaab` has 3).
#[unsafe(no_mangle)]
pub extern "C" fn longest_run(ptr: i32, len: i32) -> i64 {
    let Some(bytes) = arg(ptr, len) else {
        fail("argument outside the gov_alloc buffer");
        return i64::MIN;
    };
    let (mut best, mut run, mut prev) = (0i64, 0i64, None);
    for b in bytes {
        run = if prev == Some(b) { run + 1 } else { 1 };
        best = best.max(run);
        prev = Some(b);
    }
    best
}
