//! Synthetic inventories (placeholder).
