//! placeholder
use std::sync::Arc;
use crate::ingest::{Inventory, Mapping};
use crate::source::SourceFile;
/// Converts.
pub fn convert(src: &[Arc<SourceFile>], _m: &Mapping) -> Inventory { let mut i = Inventory::new(); for s in src { i.add_file(s.clone()); } i }
