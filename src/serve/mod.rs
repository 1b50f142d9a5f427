//! HTTP decision API for gateways (issue #7), behind the `serve` feature.
//!
//! Must not: hold policy logic; it calls the library's decision API.
