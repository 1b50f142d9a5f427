//! The WebAssembly plugin host (issue #6): ABI, limits, module cache.
//!
//! Compiled only with the `plugins` feature once the host lands; the module
//! exists so the pipeline's layout is visible from the start.
