//! Row-major copies of the attributes compiled decision conditions read.
//!
//! The graph stores attributes by column: one array per attribute of a
//! kind, plus a presence bitmap for numbers and times. An audit scans a
//! column from top to bottom and that layout suits it, but a decision reads
//! a few attributes of a few random nodes, and every attribute is then a
//! cache line of its own (two for a timestamp: its value and its presence
//! bit). When an engine is built, the attributes its compiled conditions
//! and reason templates read are copied, per kind, into one record per
//! node: a presence word, then one word per attribute. Reading
//! `c.type`, `c.expires_at` and `c.rotated_at` of a credential then costs
//! one cache line instead of five.
//!
//! Only what the compiled conditions read is copied (at 100,000 identities
//! the benchmark's decision copies 8 attributes of 5 kinds, about 6 MB), and
//! an attribute not copied is read from its column as before.

use crate::graph::{AttrId, Graph, KindId, NodeId, Raw, RawType};

/// Most attributes one kind's record holds (bits of the presence word).
const MAX_FIELDS: usize = 63;

/// The records of every kind (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Rows {
    /// Indexed by kind id; empty for kinds nothing reads.
    kinds: Vec<KindRows>,
}

#[derive(Debug, Default)]
struct KindRows {
    /// Per attribute id of the kind: its word in the record (1-based; 0:
    /// not copied) and what it holds.
    word_of: Vec<(u8, RawType)>,
    /// Words per record: the presence word and one per attribute.
    stride: usize,
    /// Row `r` of the kind is `words[r * stride..(r + 1) * stride]`.
    words: Vec<u64>,
}

impl Rows {
    /// Copies attributes `wanted` (`(kind, column)` pairs, in any order,
    /// repeats allowed) of every node of their kinds.
    pub(crate) fn build(graph: &Graph, wanted: &[(KindId, AttrId)]) -> Rows {
        let mut rows = Rows::default();
        let mut by_kind: Vec<(KindId, Vec<(AttrId, RawType)>)> = Vec::new();
        for &(k, a) in wanted {
            let Some(ty) = graph.raw_type(k, a) else { continue };
            let i = match by_kind.iter().position(|(kk, _)| *kk == k) {
                Some(i) => i,
                None => {
                    by_kind.push((k, Vec::new()));
                    by_kind.len() - 1
                }
            };
            if let Some((_, attrs)) = by_kind.get_mut(i)
                && !attrs.iter().any(|(x, _)| *x == a)
                && attrs.len() < MAX_FIELDS
            {
                attrs.push((a, ty));
            }
        }
        for (k, attrs) in by_kind {
            let Some(width) = attrs.iter().map(|(a, _)| usize::from(a.0) + 1).max() else {
                continue;
            };
            let nodes = graph.nodes_of_kind(k);
            let stride = attrs.len() + 1;
            let mut kr = KindRows {
                word_of: vec![(0, RawType::List); width],
                stride,
                words: vec![0; nodes.len() * stride],
            };
            for (w, (a, ty)) in (1u8..).zip(&attrs) {
                if let Some(x) = kr.word_of.get_mut(usize::from(a.0)) {
                    *x = (w, *ty);
                }
            }
            for (record, &n) in kr.words.chunks_exact_mut(stride).zip(nodes) {
                let (presence, values) = record.split_at_mut(1);
                let mut present = 0u64;
                for ((bit, (a, _)), value) in (0u32..).zip(&attrs).zip(values.iter_mut()) {
                    let v = match graph.raw(n, &[(k, *a)]) {
                        Raw::Missing => continue,
                        Raw::Sym(s) => u64::from(s),
                        Raw::Bool(b) => u64::from(b),
                        Raw::Int(i) | Raw::Time(i) | Raw::Duration(i) => i as u64,
                        Raw::Float(x) => x.to_bits(),
                        Raw::List => 0,
                    };
                    *value = v;
                    present |= 1 << bit;
                }
                if let Some(p) = presence.first_mut() {
                    *p = present;
                }
            }
            let i = usize::from(k.0);
            if rows.kinds.len() <= i {
                rows.kinds.resize_with(i + 1, KindRows::default);
            }
            if let Some(slot) = rows.kinds.get_mut(i) {
                *slot = kr;
            }
        }
        rows
    }

    /// An attribute of `n` as stored, its column chosen by `n`'s kind from
    /// `cols`: [`Graph::raw`], from the record when the attribute was
    /// copied.
    #[inline]
    pub(crate) fn raw(&self, g: &Graph, n: NodeId, cols: &[(KindId, AttrId)]) -> Raw {
        let Some((kind, row)) = g.kind_row(n) else { return Raw::Missing };
        let Some(&(_, a)) = cols.iter().find(|(k, _)| *k == kind) else { return Raw::Missing };
        let field = self.kinds.get(usize::from(kind.0)).and_then(|kr| {
            let &(word, ty) = kr.word_of.get(usize::from(a.0))?;
            let start = row as usize * kr.stride;
            Some((word, ty, kr.words.get(start..start + usize::from(word) + 1)?))
        });
        let Some((word, ty, record)) = field.filter(|(w, ..)| *w > 0) else {
            return g.raw(n, cols);
        };
        let (Some(&present), Some(&v)) = (record.first(), record.last()) else {
            return Raw::Missing;
        };
        if present & (1 << (word - 1)) == 0 {
            return Raw::Missing;
        }
        match ty {
            RawType::Str => Raw::Sym(v as u32),
            RawType::Bool => Raw::Bool(v != 0),
            RawType::Int => Raw::Int(v as i64),
            RawType::Float => Raw::Float(f64::from_bits(v)),
            RawType::Time => Raw::Time(v as i64),
            RawType::Duration => Raw::Duration(v as i64),
            RawType::List => Raw::List,
        }
    }

    /// Whether attribute `a` of `kind` was copied.
    pub(crate) fn copied(&self, kind: KindId, a: AttrId) -> bool {
        self.kinds
            .get(usize::from(kind.0))
            .and_then(|kr| kr.word_of.get(usize::from(a.0)))
            .is_some_and(|(w, _)| *w > 0)
    }

    /// Loads `n`'s record (its first and last word) and folds it into one
    /// number, as [`Graph::touch`] does for columns.
    pub(crate) fn touch(&self, g: &Graph, n: NodeId) -> u64 {
        let Some((kind, row)) = g.kind_row(n) else { return 0 };
        let Some(kr) = self.kinds.get(usize::from(kind.0)) else { return 0 };
        let start = row as usize * kr.stride;
        let first = kr.words.get(start).copied().unwrap_or(0);
        let last = kr.words.get(start + kr.stride.saturating_sub(1)).copied().unwrap_or(0);
        first ^ last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every attribute of every kind, copied, reads as its column does, for
    /// every node: strings, enums, booleans, times, lists and missing values.
    #[test]
    fn records_read_as_the_columns_do() {
        let text = r#"{"format":"gov.inventory/v1",
"schema":{"kinds":{"robot":{"attributes":{"serial":"string","weight":"float","age":"duration","tags":"list<string>"}}}},
"nodes":[
{"id":"r1","kind":"robot","attrs":{"serial":"s1","weight":2.5,"age":"3d","tags":["a","b"]}},
{"id":"r2","kind":"robot","attrs":{}},
{"id":"r3","kind":"robot","attrs":{"weight":-1.0}}
]}"#;
        let mut sources = vec![crate::source::SourceFile::new("robots.json", text)];
        let opts = crate::ingest::generate::GenOptions { identities: 300, ..Default::default() };
        let mut bytes = Vec::new();
        crate::ingest::generate::generate(&opts, &mut bytes).unwrap_or_else(|e| panic!("{e}"));
        let generated = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"));
        sources.push(crate::source::SourceFile::new("inventory.json", generated));
        let graph = crate::ingest::load_sources(sources, &crate::ingest::LoadOptions::default())
            .unwrap_or_else(|d| panic!("{d:?}"))
            .graph;
        let schema = graph.schema();
        let mut wanted = Vec::new();
        for (k, def) in schema.kinds() {
            wanted.extend(def.attrs().map(|(a, _)| (k, a)));
        }
        // Asked twice, and in reverse: each attribute is copied once.
        let mut twice = wanted.clone();
        twice.extend(wanted.iter().rev());
        let rows = Rows::build(&graph, &twice);
        let mut present = 0;
        for &(k, a) in &wanted {
            for &n in graph.nodes_of_kind(k) {
                let want = graph.raw(n, &[(k, a)]);
                assert_eq!(rows.raw(&graph, n, &[(k, a)]), want, "{} {a:?}", graph.id(n));
                present += usize::from(want != Raw::Missing);
            }
        }
        assert!(present > 1000, "{present}");
        // An attribute not copied is read from its column.
        let robot = schema.kind("robot").unwrap_or_else(|| panic!());
        let serial = schema.attr(robot, "serial").unwrap_or_else(|| panic!());
        let r1 = graph.lookup("r1").unwrap_or_else(|| panic!());
        let none = Rows::build(&graph, &[]);
        assert_eq!(none.raw(&graph, r1, &[(robot, serial)]), graph.raw(r1, &[(robot, serial)]));
        assert!(matches!(none.raw(&graph, r1, &[(robot, serial)]), Raw::Sym(_)));
    }
}
