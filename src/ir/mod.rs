//! The lowered, typed program (issue #4): interned attribute slots, resolved
//! edge kinds, constant-folded expressions.
//!
//! Must not: keep names for lookup on the hot path, or reach back to source text.
