//! Read-optimised records: row-major copies of the attributes a set of
//! compiled conditions ([`crate::eval::plan`]) reads, for random access by
//! node id. Decision engines build them; audits, which scan a kind's rows in
//! order, read the columns ([`Records::EMPTY`]).
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
//! numbers and times in 64; an attribute only tested with `has` is a
//! presence bit, and a string only reason templates read is where its text
//! is (start and length), so rendering skips the table of string ends.
//! Every record has the same size, a power of two words, and the records
//! start on a cache line, so a record is in one cache line, found from the
//! node id alone. Reading `c.type`, `c.expires_at` and `c.rotated_at` of a
//! credential, or testing its kind, then costs one cache miss instead of
//! six.
//!
//! Only what the compiled conditions and templates read is copied (at
//! 100,000 identities the benchmark's decision copies 11 attributes of 4
//! kinds: 4 words for each of the 264,458 nodes, 8.5 MB). Records take at
//! most four words (32 bytes a node); a value that does not fit, like an
//! attribute not copied, is read from its column.

use super::{AttrId, Graph, KindId, NodeId, Raw, RawType};

/// Most attributes one kind's record holds (presence bits of the header).
const MAX_FIELDS: usize = 48;
/// Header bits below the presence bits: the node's kind.
const KIND_BITS: u32 = 16;
/// Words in a cache line.
const LINE: usize = 8;
/// Most words a record takes: half a cache line.
const MAX_STRIDE: usize = 4;

/// The records of every node (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Records {
    /// Words per record, a power of two; 0 when nothing is copied.
    stride: usize,
    /// Where node 0's record starts in `words`: the first word on a cache
    /// line boundary.
    base: usize,
    words: Vec<u64>,
    /// Per kind id, per attribute id: where the attribute is in the record.
    fields: Vec<Vec<Field>>,
}

/// What a decision reads of an attribute, which decides how it is copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Use {
    /// Whether it is there (`x has a`): a presence bit, no value.
    Presence,
    /// Its text, for a reason template: where the text is in the graph's
    /// strings (a start and a length), so that rendering reads the text
    /// straight away, not the table of string ends first.
    Text,
    /// Its value, for a comparison (a string as its symbol).
    Value,
}

/// Where a copied attribute is in its kind's records.
#[derive(Clone, Copy, Debug)]
struct Field {
    /// Its presence bit, plus one (0: not copied).
    bit: u8,
    /// Its 32-bit half-word in the record (a number, time or text span
    /// takes two, from an even one).
    half: u8,
    ty: RawType,
    /// What is stored: the value, its text span or nothing.
    form: Use,
}

impl Field {
    const NONE: Field = Field { bit: 0, half: 0, ty: RawType::List, form: Use::Presence };

    /// Half-words it takes.
    fn halves(self) -> u8 {
        match (self.form, self.ty) {
            (Use::Presence, _) | (Use::Value, RawType::List) => 0,
            (Use::Text, _) => 2,
            (Use::Value, t) if wide(t) => 2,
            (Use::Value, _) => 1,
        }
    }
}

/// Where [`Records::field`] found an attribute.
enum Found {
    /// In `n`'s record (its header, and its first word's index).
    Record { header: u64, start: usize, field: Field },
    /// Not copied (or no records): in its column.
    Column,
    /// Nowhere: `n`'s kind is not among the columns asked for.
    NoColumn,
}

/// Whether a value of this type takes 64 bits (else 32, or none for lists,
/// of which only presence is read).
fn wide(ty: RawType) -> bool {
    matches!(ty, RawType::Int | RawType::Float | RawType::Time | RawType::Duration)
}

impl Records {
    /// No records: every read goes to the graph's columns.
    pub(crate) const EMPTY: Records =
        Records { stride: 0, base: 0, words: Vec::new(), fields: Vec::new() };

    /// Copies attributes `wanted` (`(kind, column, use)`, in any order,
    /// repeats allowed: the most an attribute is used for decides) of every
    /// node of their kinds.
    pub(crate) fn build(graph: &Graph, wanted: &[(KindId, AttrId, Use)]) -> Records {
        let mut by_kind: Vec<Vec<Field>> = Vec::new();
        let mut counts: Vec<u8> = Vec::new();
        for &(k, a, form) in wanted {
            let Some(ty) = graph.raw_type(k, a) else { continue };
            // Only strings have a text span.
            let form = if form == Use::Text && ty != RawType::Str { Use::Value } else { form };
            let (i, j) = (usize::from(k.0), usize::from(a.0));
            if by_kind.len() <= i {
                by_kind.resize_with(i + 1, Vec::new);
                counts.resize(i + 1, 0);
            }
            let (Some(layout), Some(count)) = (by_kind.get_mut(i), counts.get_mut(i)) else {
                continue;
            };
            if layout.len() <= j {
                layout.resize(j + 1, Field::NONE);
            }
            let Some(f) = layout.get_mut(j) else { continue };
            if f.bit == 0 {
                if usize::from(*count) == MAX_FIELDS {
                    continue;
                }
                *count += 1;
                *f = Field { bit: *count, half: 0, ty, form };
            }
            f.form = f.form.max(form);
        }
        if counts.iter().all(|c| *c == 0) {
            return Records::default();
        }
        // Lay each kind's record out: the header takes half-words 0 and 1,
        // then 64-bit values (aligned), then 32-bit ones. A value that does
        // not fit in MAX_STRIDE words is not copied (it is read from its
        // column): every node has a record of the longest kind's size, and
        // the cap bounds that to 32 bytes a node.
        let mut longest = 1;
        for layout in &mut by_kind {
            let mut half = 2u8;
            for two in [true, false] {
                for f in layout.iter_mut().filter(|f| f.bit > 0 && (f.halves() == 2) == two) {
                    if usize::from(half + f.halves()) > 2 * MAX_STRIDE {
                        f.bit = 0;
                        continue;
                    }
                    f.half = half;
                    half += f.halves();
                }
            }
            longest = longest.max(usize::from(half).div_ceil(2));
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
            let layout = by_kind.get(usize::from(kind.0)).map_or(&[][..], Vec::as_slice);
            for (a, f) in (0u16..).zip(layout).filter(|(_, f)| f.bit > 0) {
                let raw = graph.raw(n, &[(kind, AttrId(a))]);
                let v = match (raw, f.form) {
                    (Raw::Missing, _) => continue,
                    (Raw::Sym(s), Use::Text) => {
                        let (start, len) = graph.string_span(s);
                        u64::from(start) | u64::from(len) << 32
                    }
                    (Raw::Sym(s), _) => u64::from(s),
                    (Raw::Bool(b), _) => u64::from(b),
                    (Raw::Int(i) | Raw::Time(i) | Raw::Duration(i), _) => i as u64,
                    (Raw::Float(x), _) => x.to_bits(),
                    (Raw::List, _) => 0,
                };
                header |= 1 << (KIND_BITS + u32::from(f.bit) - 1);
                match f.halves() {
                    2 => {
                        if let Some(w) = record.get_mut(usize::from(f.half / 2)) {
                            *w = v;
                        }
                    }
                    1 => {
                        if let Some(w) = record.get_mut(usize::from(f.half / 2)) {
                            *w |= v << (32 * u32::from(f.half % 2));
                        }
                    }
                    _ => {}
                }
            }
            if let Some(h) = record.first_mut() {
                *h = header;
            }
        }
        Records { stride, base, words, fields: by_kind }
    }

    /// Where the attribute of `n` whose column `cols` gives for `n`'s kind
    /// is.
    #[inline]
    fn field(&self, n: NodeId, cols: &[(KindId, AttrId)]) -> Found {
        let Some((header, start)) = self.header(n) else { return Found::Column };
        let kind = KindId(header as u16);
        let Some(&(_, a)) = cols.iter().find(|(k, _)| *k == kind) else { return Found::NoColumn };
        let field = self.fields.get(usize::from(kind.0)).and_then(|f| f.get(usize::from(a.0)));
        match field.filter(|f| f.bit > 0) {
            Some(&field) => Found::Record { header, start, field },
            None => Found::Column,
        }
    }

    /// Whether the field's presence bit is set in `header`.
    #[inline]
    fn present(header: u64, f: Field) -> bool {
        header >> (KIND_BITS + u32::from(f.bit) - 1) & 1 == 1
    }

    /// The field's word (a 32-bit value in its low half).
    #[inline]
    fn word(&self, start: usize, f: Field) -> u64 {
        let w = self.words.get(start + usize::from(f.half / 2)).copied().unwrap_or(0);
        if f.halves() == 1 { w >> (32 * u32::from(f.half % 2)) & u64::from(u32::MAX) } else { w }
    }

    /// Whether `n` has the attribute, its column chosen by `n`'s kind from
    /// `cols` (`x has a`).
    #[inline]
    pub(crate) fn has(&self, g: &Graph, n: NodeId, cols: &[(KindId, AttrId)]) -> bool {
        match self.field(n, cols) {
            Found::Record { header, field, .. } => Self::present(header, field),
            Found::NoColumn => false,
            Found::Column => !matches!(g.raw(n, cols), Raw::Missing),
        }
    }

    /// The text of a string attribute of `n`, its column chosen by `n`'s
    /// kind from `cols` (`None`: missing, or not a string).
    #[inline]
    pub(crate) fn text<'g>(
        &self,
        g: &'g Graph,
        n: NodeId,
        cols: &[(KindId, AttrId)],
    ) -> Option<&'g str> {
        match self.field(n, cols) {
            Found::NoColumn => return None,
            Found::Record { header, start, field: f } => {
                if !Self::present(header, f) {
                    return None;
                }
                let w = self.word(start, f);
                match (f.form, f.ty) {
                    (Use::Text, _) => return Some(g.string_at(w as u32, (w >> 32) as u32)),
                    (Use::Value, RawType::Str) => return Some(g.string(w as u32)),
                    _ => {}
                }
            }
            Found::Column => {}
        }
        match g.raw(n, cols) {
            Raw::Sym(sym) => Some(g.string(sym)),
            _ => None,
        }
    }

    /// An attribute of `n` as stored, its column chosen by `n`'s kind from
    /// `cols`: [`Graph::raw`], from the record when its value was copied.
    #[inline]
    pub(crate) fn raw(&self, g: &Graph, n: NodeId, cols: &[(KindId, AttrId)]) -> Raw {
        let (header, start, f) = match self.field(n, cols) {
            Found::Record { header, start, field } if field.form == Use::Value => {
                (header, start, field)
            }
            Found::NoColumn => return Raw::Missing,
            Found::Record { .. } | Found::Column => return g.raw(n, cols),
        };
        if !Self::present(header, f) {
            return Raw::Missing;
        }
        let w = self.word(start, f);
        match f.ty {
            RawType::Str => Raw::Sym(w as u32),
            RawType::Bool => Raw::Bool(w != 0),
            RawType::Int => Raw::Int(w as i64),
            RawType::Float => Raw::Float(f64::from_bits(w)),
            RawType::Time => Raw::Time(w as i64),
            RawType::Duration => Raw::Duration(w as i64),
            RawType::List => Raw::List,
        }
    }

    /// Where `n`'s record starts in `words`.
    #[inline]
    fn start(&self, n: NodeId) -> usize {
        self.base + n.0 as usize * self.stride
    }

    /// `n`'s header word and where its record starts (`None`: no records).
    #[inline]
    fn header(&self, n: NodeId) -> Option<(u64, usize)> {
        let start = self.start(n);
        self.words.get(start).filter(|_| self.stride > 0).map(|h| (*h, start))
    }

    /// Asks the processor to load `n`'s record, without waiting for it.
    #[inline]
    pub(crate) fn prefetch(&self, n: NodeId) {
        if self.stride > 0 {
            prefetch_index::prefetch_index(&self.words, self.start(n));
        }
    }

    /// The kind of `n`: [`Graph::kind`], from the record when there are
    /// records (the line the attributes are read from next).
    #[inline]
    pub(crate) fn kind(&self, g: &Graph, n: NodeId) -> KindId {
        match self.header(n) {
            Some((header, _)) => KindId(header as u16),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every attribute of every kind, copied for each use, reads as its
    /// column does, for every node: strings, enums, booleans, times, lists
    /// and missing values, as values, presence and text.
    #[test]
    fn records_read_as_the_columns_do() {
        let text = r#"{"format":"gov.inventory/v1",
"schema":{"kinds":{"robot":{"attributes":{"serial":"string","weight":"float","age":"duration","tags":"list<string>"}},
"probe":{"attributes":{"a":"int","b":"int","c":"int","d":"int"}}}},
"nodes":[
{"id":"r1","kind":"robot","attrs":{"serial":"s1","weight":2.5,"age":"3d","tags":["a","b"]}},
{"id":"r2","kind":"robot","attrs":{}},
{"id":"r3","kind":"robot","attrs":{"weight":-1.0,"serial":""}},
{"id":"p1","kind":"probe","attrs":{"a":1,"b":2,"c":3,"d":4}},
{"id":"p2","kind":"probe","attrs":{"d":-4}}
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
        let text_of = |n, c: &[(KindId, AttrId)]| match graph.raw(n, c) {
            Raw::Sym(s) => Some(graph.string(s)),
            _ => None,
        };
        for form in [Use::Value, Use::Text, Use::Presence] {
            // Asked twice, and in reverse: each attribute is copied once.
            let mut twice: Vec<_> = wanted.iter().map(|&(k, a)| (k, a, form)).collect();
            twice.extend(wanted.iter().rev().map(|&(k, a)| (k, a, form)));
            let rows = Records::build(&graph, &twice);
            let (mut present, mut texts) = (0, 0);
            for &(k, a) in &wanted {
                let c = [(k, a)];
                for &n in graph.nodes_of_kind(k) {
                    let want = graph.raw(n, &c);
                    let at = format!("{form:?} {} {a:?}", graph.id(n));
                    assert_eq!(rows.raw(&graph, n, &c), want, "{at}");
                    assert_eq!(rows.has(&graph, n, &c), want != Raw::Missing, "{at}");
                    assert_eq!(rows.text(&graph, n, &c), text_of(n, &c), "{at}");
                    present += usize::from(want != Raw::Missing);
                    texts += usize::from(matches!(want, Raw::Sym(_)));
                }
            }
            assert!(present > 1000 && texts > 500, "{present} {texts}");
            // Every node's kind reads from its record; records are a power
            // of two words long and start on a cache line.
            for n in graph.nodes() {
                assert_eq!(rows.kind(&graph, n), graph.kind(n), "{}", graph.id(n));
            }
            assert!(rows.stride.is_power_of_two(), "{}", rows.stride);
            let first = rows.words.as_ptr() as usize + rows.base * 8;
            assert_eq!(first % 64, 0);
            assert!(rows.base + graph.node_count() * rows.stride <= rows.words.len());
        }
        // Each record holds what is asked, in the fewest words: the header,
        // a float (two half-words) and a string (one) take three words,
        // rounded up to four; a text span two half-words; presence none.
        let robot = schema.kind("robot").unwrap_or_else(|| panic!());
        let weight = schema.attr(robot, "weight").unwrap_or_else(|| panic!());
        let serial = schema.attr(robot, "serial").unwrap_or_else(|| panic!());
        let tags = schema.attr(robot, "tags").unwrap_or_else(|| panic!());
        let stride = |w: &[(AttrId, Use)]| {
            let w: Vec<_> = w.iter().map(|&(a, u)| (robot, a, u)).collect();
            Records::build(&graph, &w).stride
        };
        assert_eq!(stride(&[(weight, Use::Value), (serial, Use::Value)]), 4);
        assert_eq!(stride(&[(serial, Use::Value)]), 2);
        assert_eq!(stride(&[(serial, Use::Text)]), 2);
        assert_eq!(stride(&[(serial, Use::Text), (weight, Use::Presence)]), 2);
        assert_eq!(stride(&[(serial, Use::Text), (weight, Use::Value)]), 4);
        assert_eq!(stride(&[(tags, Use::Value), (weight, Use::Presence)]), 1);
        // The most an attribute is used for decides: read for its value and
        // for presence, it is copied as a value.
        let mixed =
            Records::build(&graph, &[(robot, weight, Use::Presence), (robot, weight, Use::Value)]);
        let r3 = graph.lookup("r3").unwrap_or_else(|| panic!());
        assert_eq!(mixed.raw(&graph, r3, &[(robot, weight)]), Raw::Float(-1.0));
        assert!(
            matches!(mixed.field(r3, &[(robot, weight)]), Found::Record { field, .. } if field.form == Use::Value)
        );
        // Four 64-bit values do not fit in four words with the header: the
        // fourth is not copied, and reads from its column.
        let probe = schema.kind("probe").unwrap_or_else(|| panic!());
        let ints: Vec<_> = ["a", "b", "c", "d"]
            .iter()
            .map(|a| (probe, schema.attr(probe, a).unwrap_or_else(|| panic!()), Use::Value))
            .collect();
        let capped = Records::build(&graph, &ints);
        assert_eq!(capped.stride, MAX_STRIDE);
        let copied: Vec<bool> = ints.iter().map(|&(k, a, _)| capped.copied(k, a)).collect();
        assert_eq!(copied, [true, true, true, false]);
        for (id, want) in [("p1", [1, 2, 3, 4]), ("p2", [0, 0, 0, -4])] {
            let n = graph.lookup(id).unwrap_or_else(|| panic!());
            for (&(k, a, _), v) in ints.iter().zip(want) {
                let read = capped.raw(&graph, n, &[(k, a)]);
                assert_eq!(read, if v == 0 { Raw::Missing } else { Raw::Int(v) }, "{id} {a:?}");
            }
        }
        // An attribute not copied is read from its column.
        let r1 = graph.lookup("r1").unwrap_or_else(|| panic!());
        let none = Records::build(&graph, &[]);
        assert_eq!(none.raw(&graph, r1, &[(robot, serial)]), graph.raw(r1, &[(robot, serial)]));
        assert!(matches!(none.raw(&graph, r1, &[(robot, serial)]), Raw::Sym(_)));
        assert_eq!(none.text(&graph, r1, &[(robot, serial)]), Some("s1"));
    }
}
