//! Row-major copies of the attributes compiled decision conditions read.
//!
//! The graph stores attributes by column: one array per attribute of a
//! kind, plus a presence bitmap for numbers and times, and a node's row in
//! its kind's columns comes from a per-node table. An audit scans a column
//! from top to bottom and that layout suits it, but a decision reads a few
//! attributes of a few random nodes: every attribute is then a cache line
//! of its own (two for a timestamp: its value and its presence bit), after
//! the line of the per-node table that says where the row is.
//!
//! When an engine is built, the attributes its compiled conditions and
//! reason templates read are copied into one record per node, indexed by
//! node id: a header word (the node's kind and a presence bit per copied
//! attribute), then the values, strings and booleans in 32 bits and
//! numbers and times in 64. Every record has the same size, a power of two
//! words, and the records start on a cache line, so a record of up to
//! eight words is one cache line, found from the node id alone. Reading
//! `c.type`, `c.expires_at` and `c.rotated_at` of a credential, or testing
//! its kind, then costs one cache miss instead of six.
//!
//! Only what the compiled conditions read is copied (at 100,000 identities
//! the benchmark's decision copies 8 attributes of 5 kinds: 4 words for
//! each of the 264,458 nodes, about 8.5 MB), and an attribute not copied
//! is read from its column as before.

use crate::graph::{AttrId, Graph, KindId, NodeId, Raw, RawType};

/// Most attributes one kind's record holds (presence bits of the header).
const MAX_FIELDS: usize = 48;
/// Header bits below the presence bits: the node's kind.
const KIND_BITS: u32 = 16;
/// Words in a cache line.
const LINE: usize = 8;

/// The records of every node (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Rows {
    /// Words per record, a power of two; 0 when nothing is copied.
    stride: usize,
    /// Where node 0's record starts in `words`: the first word on a cache
    /// line boundary.
    base: usize,
    words: Vec<u64>,
    /// Per kind id, per attribute id: where the attribute is in the record.
    fields: Vec<Vec<Field>>,
}

/// Where a copied attribute is in its kind's records.
#[derive(Clone, Copy, Debug)]
struct Field {
    /// Its presence bit, plus one (0: not copied).
    bit: u8,
    /// Its 32-bit half-word in the record (a number or time takes two,
    /// from an even one).
    half: u8,
    ty: RawType,
}

impl Field {
    const NONE: Field = Field { bit: 0, half: 0, ty: RawType::List };
}

/// Whether a value of this type takes 64 bits (else 32, or none for lists,
/// of which only presence is read).
fn wide(ty: RawType) -> bool {
    matches!(ty, RawType::Int | RawType::Float | RawType::Time | RawType::Duration)
}

impl Rows {
    /// Copies attributes `wanted` (`(kind, column)` pairs, in any order,
    /// repeats allowed) of every node of their kinds.
    pub(crate) fn build(graph: &Graph, wanted: &[(KindId, AttrId)]) -> Rows {
        let mut by_kind: Vec<Vec<(AttrId, RawType)>> = Vec::new();
        for &(k, a) in wanted {
            let Some(ty) = graph.raw_type(k, a) else { continue };
            let i = usize::from(k.0);
            if by_kind.len() <= i {
                by_kind.resize_with(i + 1, Vec::new);
            }
            if let Some(attrs) = by_kind.get_mut(i)
                && !attrs.iter().any(|(x, _)| *x == a)
                && attrs.len() < MAX_FIELDS
            {
                attrs.push((a, ty));
            }
        }
        if by_kind.iter().all(Vec::is_empty) {
            return Rows::default();
        }
        // Lay each kind's record out: the header takes half-words 0 and 1,
        // then 64-bit values (aligned), then 32-bit ones.
        let mut fields: Vec<Vec<Field>> = Vec::with_capacity(by_kind.len());
        let mut longest = 1;
        for attrs in &by_kind {
            let width = attrs.iter().map(|(a, _)| usize::from(a.0) + 1).max().unwrap_or(0);
            let mut layout = vec![Field::NONE; width];
            let mut half = 2u8;
            let by_width = attrs
                .iter()
                .filter(|(_, t)| wide(*t))
                .chain(attrs.iter().filter(|(_, t)| !wide(*t)));
            for (bit, (a, ty)) in (1u8..).zip(by_width) {
                let at = half;
                half += match ty {
                    RawType::List => 0,
                    t if wide(*t) => 2,
                    _ => 1,
                };
                if let Some(f) = layout.get_mut(usize::from(a.0)) {
                    *f = Field { bit, half: at, ty: *ty };
                }
            }
            longest = longest.max(usize::from(half).div_ceil(2));
            fields.push(layout);
        }
        let stride = longest.next_power_of_two();
        let nodes = graph.node_count();
        let mut words = vec![0u64; nodes * stride + LINE];
        // The address of the buffer is only used to align the records.
        let base = (LINE - (words.as_ptr() as usize / 8) % LINE) % LINE;
        for n in graph.nodes() {
            let kind = graph.kind(n);
            let start = base + n.0 as usize * stride;
            let Some(record) = words.get_mut(start..start + stride) else { continue };
            let mut header = u64::from(kind.0);
            for (a, f) in
                (0u16..).zip(fields.get(usize::from(kind.0)).map_or(&[][..], Vec::as_slice))
            {
                if f.bit == 0 {
                    continue;
                }
                let (v, wide) = match graph.raw(n, &[(kind, AttrId(a))]) {
                    Raw::Missing => continue,
                    Raw::Sym(s) => (u64::from(s), false),
                    Raw::Bool(b) => (u64::from(b), false),
                    Raw::Int(i) | Raw::Time(i) | Raw::Duration(i) => (i as u64, true),
                    Raw::Float(x) => (x.to_bits(), true),
                    Raw::List => (0, false),
                };
                header |= 1 << (KIND_BITS + u32::from(f.bit) - 1);
                if let Some(w) = record.get_mut(usize::from(f.half / 2)) {
                    if wide {
                        *w = v;
                    } else {
                        *w |= v << (32 * u32::from(f.half % 2));
                    }
                }
            }
            if let Some(h) = record.first_mut() {
                *h = header;
            }
        }
        Rows { stride, base, words, fields }
    }

    /// An attribute of `n` as stored, its column chosen by `n`'s kind from
    /// `cols`: [`Graph::raw`], from the record when the attribute was
    /// copied.
    #[inline]
    pub(crate) fn raw(&self, g: &Graph, n: NodeId, cols: &[(KindId, AttrId)]) -> Raw {
        let start = self.base + n.0 as usize * self.stride;
        let Some(&header) = self.words.get(start).filter(|_| self.stride > 0) else {
            return g.raw(n, cols);
        };
        let kind = KindId(header as u16);
        let Some(&(_, a)) = cols.iter().find(|(k, _)| *k == kind) else { return Raw::Missing };
        let field = self.fields.get(usize::from(kind.0)).and_then(|f| f.get(usize::from(a.0)));
        let Some(f) = field.filter(|f| f.bit > 0) else {
            return g.raw(n, cols);
        };
        if header >> (KIND_BITS + u32::from(f.bit) - 1) & 1 == 0 {
            return Raw::Missing;
        }
        let w = self.words.get(start + usize::from(f.half / 2)).copied().unwrap_or(0);
        let narrow = (w >> (32 * u32::from(f.half % 2))) as u32;
        match f.ty {
            RawType::Str => Raw::Sym(narrow),
            RawType::Bool => Raw::Bool(narrow != 0),
            RawType::Int => Raw::Int(w as i64),
            RawType::Float => Raw::Float(f64::from_bits(w)),
            RawType::Time => Raw::Time(w as i64),
            RawType::Duration => Raw::Duration(w as i64),
            RawType::List => Raw::List,
        }
    }

    /// The kind of `n`: [`Graph::kind`], from the record when there are
    /// records (the line the attributes are read from next).
    #[inline]
    pub(crate) fn kind(&self, g: &Graph, n: NodeId) -> KindId {
        let start = self.base + n.0 as usize * self.stride;
        match self.words.get(start).filter(|_| self.stride > 0) {
            Some(&header) => KindId(header as u16),
            None => g.kind(n),
        }
    }

    /// Whether attribute `a` of `kind` was copied.
    pub(crate) fn copied(&self, kind: KindId, a: AttrId) -> bool {
        self.fields
            .get(usize::from(kind.0))
            .and_then(|f| f.get(usize::from(a.0)))
            .is_some_and(|f| f.bit > 0)
    }

    /// Loads `n`'s record (its first and last word: one cache line up to
    /// eight words) and folds it into one number, as [`Graph::touch`] does
    /// for columns.
    pub(crate) fn touch(&self, n: NodeId) -> u64 {
        let start = self.base + n.0 as usize * self.stride;
        let first = self.words.get(start).copied().unwrap_or(0);
        let last = self.words.get(start + self.stride.saturating_sub(1)).copied().unwrap_or(0);
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
        // Every node's kind reads from its record, and with every attribute
        // of every kind copied, records are a power of two words long and
        // start on a cache line when they are one long or more.
        for n in graph.nodes() {
            assert_eq!(rows.kind(&graph, n), graph.kind(n), "{}", graph.id(n));
        }
        assert!(rows.stride.is_power_of_two(), "{}", rows.stride);
        let first = rows.words.as_ptr() as usize + rows.base * 8;
        assert_eq!(first % 64, 0);
        assert!(rows.base + graph.node_count() * rows.stride <= rows.words.len());
        // Each record holds what is asked, in the fewest words: the header,
        // a float (two half-words) and a string (one) take three words,
        // rounded up to four; the header alone one.
        let robot = schema.kind("robot").unwrap_or_else(|| panic!());
        let weight = schema.attr(robot, "weight").unwrap_or_else(|| panic!());
        let serial = schema.attr(robot, "serial").unwrap_or_else(|| panic!());
        assert_eq!(Rows::build(&graph, &[(robot, weight), (robot, serial)]).stride, 4);
        assert_eq!(Rows::build(&graph, &[(robot, serial)]).stride, 2);
        let tags = schema.attr(robot, "tags").unwrap_or_else(|| panic!());
        assert_eq!(Rows::build(&graph, &[(robot, tags)]).stride, 1);
        // An attribute not copied is read from its column.
        let r1 = graph.lookup("r1").unwrap_or_else(|| panic!());
        let none = Rows::build(&graph, &[]);
        assert_eq!(none.raw(&graph, r1, &[(robot, serial)]), graph.raw(r1, &[(robot, serial)]));
        assert!(matches!(none.raw(&graph, r1, &[(robot, serial)]), Raw::Sym(_)));
    }
}
