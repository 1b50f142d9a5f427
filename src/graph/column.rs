//! Storage pieces of the graph: the string interner, attribute columns and
//! the borrowed [`Value`] read out of them. One column per attribute of a
//! kind, indexed by the node's row within its kind; missing values cost a bit
//! or a sentinel, not a map entry.

use std::fmt;

use hashbrown::DefaultHashBuilder;
use hashbrown::HashTable;
use std::hash::BuildHasher;

use crate::graph::schema::AttrType;
use crate::time::{Duration, Timestamp};

/// Sentinel for "no string" in `u32` string columns.
pub(crate) const NONE: u32 = u32::MAX;

/// Strings stored once, in one buffer, looked up in O(1).
#[derive(Default)]
pub(crate) struct Interner {
    bytes: String,
    ends: Vec<u32>,
    table: HashTable<Entry>,
    hasher: DefaultHashBuilder,
}

/// A table entry carries the string's place in the buffer, so that a lookup
/// touches the table and the bytes, not the `ends` list as well (at millions
/// of ids each avoided cache miss shows in the load time).
#[derive(Clone, Copy)]
struct Entry {
    sym: u32,
    start: u32,
    len: u32,
}

impl Entry {
    fn text(self, bytes: &str) -> &str {
        let start = self.start as usize;
        bytes.get(start..start + self.len as usize).unwrap_or("")
    }
}

/// The interner ran past 4 GiB of text or 4 billion strings.
#[derive(Debug)]
pub(crate) struct InternerFull;

impl Interner {
    pub(crate) fn with_capacity(strings: usize, bytes: usize) -> Self {
        Self {
            bytes: String::with_capacity(bytes),
            ends: Vec::with_capacity(strings),
            table: HashTable::with_capacity(strings),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Makes room for `strings` more strings of `bytes` bytes in all.
    pub(crate) fn reserve(&mut self, strings: usize, bytes: usize) {
        self.bytes.reserve(bytes);
        self.ends.reserve(strings);
        let (b, hasher) = (&self.bytes, &self.hasher);
        self.table.reserve(strings, |e| hasher.hash_one(e.text(b)));
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, sym: u32) -> &str {
        let (start, len) = self.span(sym);
        self.at(start, len)
    }

    /// Where the text of `sym` is in the buffer: start and length.
    pub(crate) fn span(&self, sym: u32) -> (u32, u32) {
        let i = sym as usize;
        let end = self.ends.get(i).copied().unwrap_or(0);
        let start = if i == 0 { 0 } else { self.ends.get(i - 1).copied().unwrap_or(0) };
        (start, end.saturating_sub(start))
    }

    /// The text at a [`Interner::span`] ("" for a span not from it).
    pub(crate) fn at(&self, start: u32, len: u32) -> &str {
        let start = start as usize;
        self.bytes.get(start..start + len as usize).unwrap_or("")
    }

    pub(crate) fn find(&self, s: &str) -> Option<u32> {
        self.find_hashed(s, self.hasher.hash_one(s))
    }

    /// [`Interner::find`] with `h`, the hash of `s` by [`Interner::hasher`].
    pub(crate) fn find_hashed(&self, s: &str, h: u64) -> Option<u32> {
        // Compared as bytes: equal bytes are equal text, and slicing bytes
        // skips the char-boundary checks of slicing a `str` (this is every
        // id lookup of a decision).
        let (bytes, s) = (self.bytes.as_bytes(), s.as_bytes());
        let hit = |e: &Entry| {
            e.len as usize == s.len()
                && bytes.get(e.start as usize..e.start as usize + s.len()) == Some(s)
        };
        self.table.find(h, hit).map(|e| e.sym)
    }

    /// The symbol of `s` and whether it was new (one probe of the table).
    pub(crate) fn intern(&mut self, s: &str) -> Result<(u32, bool), InternerFull> {
        let h = self.hasher.hash_one(s);
        self.intern_hashed(s, h)
    }

    /// The hasher of this interner: a loader hashes strings with it on another
    /// thread and interns them with [`Interner::intern_hashed`].
    pub(crate) fn hasher(&self) -> DefaultHashBuilder {
        self.hasher
    }

    /// [`Interner::intern`] with `h`, the hash of `s` by [`Interner::hasher`]
    /// (computed elsewhere, e.g. on a parsing thread).
    pub(crate) fn intern_hashed(&mut self, s: &str, h: u64) -> Result<(u32, bool), InternerFull> {
        let Self { bytes, ends, table, hasher } = self;
        let entry = table.entry(h, |e| e.text(bytes) == s, |e| hasher.hash_one(e.text(bytes)));
        match entry {
            hashbrown::hash_table::Entry::Occupied(o) => Ok((o.get().sym, false)),
            hashbrown::hash_table::Entry::Vacant(v) => {
                let sym =
                    u32::try_from(ends.len()).ok().filter(|&n| n != NONE).ok_or(InternerFull)?;
                let start = u32::try_from(bytes.len()).map_err(|_| InternerFull)?;
                let len = u32::try_from(s.len()).map_err(|_| InternerFull)?;
                let end = start.checked_add(len).ok_or(InternerFull)?;
                bytes.push_str(s);
                ends.push(end);
                v.insert(Entry { sym, start, len });
                Ok((sym, true))
            }
        }
    }

    pub(crate) fn shrink(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
        let (bytes, hasher) = (&self.bytes, &self.hasher);
        self.table.shrink_to_fit(|e| hasher.hash_one(e.text(bytes)));
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 4 + self.table.capacity() * 13
    }
}

/// A growable bit set.
#[derive(Default, Clone)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    pub(crate) fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
    /// The word holding bit `i` (0 past the end).
    pub(crate) fn word(&self, i: usize) -> u64 {
        self.0.get(i / 64).copied().unwrap_or(0)
    }
    pub(crate) fn set(&mut self, i: usize) {
        let w = i / 64;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        if let Some(word) = self.0.get_mut(w) {
            *word |= 1 << (i % 64);
        }
    }
}

/// One element of a list attribute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(u32),
    Time(Timestamp),
    Duration(Duration),
}

/// The values of one attribute for every node of one kind.
pub(crate) enum Column {
    /// String and enum attributes: interned symbols, [`NONE`] for missing.
    Str(Vec<u32>),
    Int(Vec<i64>, Bits),
    Float(Vec<f64>, Bits),
    /// 0 false, 1 true, 2 missing.
    Bool(Vec<u8>),
    Time(Vec<i64>, Bits),
    Duration(Vec<i64>, Bits),
    /// `starts` has one entry per row plus one; row `r` is `items[starts[r]..starts[r+1]]`.
    List {
        starts: Vec<u32>,
        items: Vec<Cell>,
        present: Bits,
    },
}

impl Column {
    pub(crate) fn new(ty: &AttrType, rows: usize) -> Column {
        match ty {
            AttrType::Str | AttrType::Enum(_) => Column::Str(vec![NONE; rows]),
            AttrType::Int => Column::Int(vec![0; rows], Bits::default()),
            AttrType::Float => Column::Float(vec![0.0; rows], Bits::default()),
            AttrType::Bool => Column::Bool(vec![2; rows]),
            AttrType::Time => Column::Time(vec![0; rows], Bits::default()),
            AttrType::Duration => Column::Duration(vec![0; rows], Bits::default()),
            AttrType::List(_) => Column::List {
                starts: vec![0; rows + 1],
                items: Vec::new(),
                present: Bits::default(),
            },
        }
    }

    /// Appends a missing value (a new row).
    pub(crate) fn push_missing(&mut self) {
        match self {
            Column::Str(v) => v.push(NONE),
            Column::Int(v, _) | Column::Time(v, _) | Column::Duration(v, _) => v.push(0),
            Column::Float(v, _) => v.push(0.0),
            Column::Bool(v) => v.push(2),
            Column::List { starts, items, .. } => starts.push(items.len() as u32),
        }
    }

    /// Sets a scalar in `row`. Lists are set with [`Column::set_list`].
    pub(crate) fn set(&mut self, row: usize, cell: Cell) {
        match (self, cell) {
            (Column::Str(v), Cell::Str(s)) => {
                if let Some(x) = v.get_mut(row) {
                    *x = s;
                }
            }
            (Column::Int(v, p), Cell::Int(i)) | (Column::Time(v, p), Cell::Time(Timestamp(i))) => {
                if let Some(x) = v.get_mut(row) {
                    *x = i;
                    p.set(row);
                }
            }
            (Column::Duration(v, p), Cell::Duration(Duration(i))) => {
                if let Some(x) = v.get_mut(row) {
                    *x = i;
                    p.set(row);
                }
            }
            (Column::Float(v, p), Cell::Float(f)) => {
                if let Some(x) = v.get_mut(row) {
                    *x = f;
                    p.set(row);
                }
            }
            (Column::Bool(v), Cell::Bool(b)) => {
                if let Some(x) = v.get_mut(row) {
                    *x = u8::from(b);
                }
            }
            _ => {}
        }
    }

    /// Sets the list of the last row (lists are only written while a node is added).
    pub(crate) fn set_list(&mut self, row: usize, cells: Vec<Cell>) {
        if let Column::List { starts, items, present } = self {
            if row + 2 != starts.len() {
                return;
            }
            items.extend(cells);
            if let Some(last) = starts.last_mut() {
                *last = items.len() as u32;
            }
            present.set(row);
        }
    }

    pub(crate) fn is_missing(&self, row: usize) -> bool {
        match self {
            Column::Str(v) => v.get(row).is_none_or(|&s| s == NONE),
            Column::Int(_, p)
            | Column::Float(_, p)
            | Column::Time(_, p)
            | Column::Duration(_, p) => !p.get(row),
            Column::Bool(v) => v.get(row).is_none_or(|&b| b == 2),
            Column::List { present, .. } => !present.get(row),
        }
    }

    /// Loads the words a read of `row` needs (its value, its presence bit)
    /// and folds them into one number. Reading several attributes this way,
    /// before any of them is needed, lets their cache misses overlap instead
    /// of waiting on one at a time. (A string's text is not loaded:
    /// decisions compare strings by symbol.)
    pub(crate) fn touch(&self, row: usize) -> u64 {
        match self {
            Column::Str(v) => u64::from(v.get(row).copied().unwrap_or(NONE)),
            Column::Int(v, p) | Column::Time(v, p) | Column::Duration(v, p) => {
                v.get(row).copied().unwrap_or(0) as u64 ^ p.word(row)
            }
            Column::Float(v, p) => v.get(row).map_or(0, |f| f.to_bits()) ^ p.word(row),
            Column::Bool(v) => u64::from(v.get(row).copied().unwrap_or(2)),
            Column::List { starts, present, .. } => {
                u64::from(starts.get(row).copied().unwrap_or(0)) ^ present.word(row)
            }
        }
    }

    pub(crate) fn get<'g>(&'g self, row: usize, strings: &'g Interner) -> Value<'g> {
        if self.is_missing(row) {
            return Value::Missing;
        }
        match self {
            Column::Str(v) => v.get(row).map_or(Value::Missing, |&s| Value::Str(strings.get(s))),
            Column::Int(v, _) => v.get(row).map_or(Value::Missing, |&i| Value::Int(i)),
            Column::Float(v, _) => v.get(row).map_or(Value::Missing, |&f| Value::Float(f)),
            Column::Bool(v) => v.get(row).map_or(Value::Missing, |&b| Value::Bool(b == 1)),
            Column::Time(v, _) => v.get(row).map_or(Value::Missing, |&t| Value::Time(Timestamp(t))),
            Column::Duration(v, _) => {
                v.get(row).map_or(Value::Missing, |&t| Value::Duration(Duration(t)))
            }
            Column::List { starts, items, .. } => {
                let s = starts.get(row).copied().unwrap_or(0) as usize;
                let e = starts.get(row + 1).copied().unwrap_or(0) as usize;
                Value::List(ListValue { items: items.get(s..e).unwrap_or(&[]), strings })
            }
        }
    }

    /// The value of `row` as stored, strings as their symbol: no text is
    /// read, so a comparison with a constant resolved against the same
    /// interner is one integer compare.
    #[inline]
    pub(crate) fn raw(&self, row: usize) -> Raw {
        match self {
            Column::Str(v) => match v.get(row) {
                Some(&s) if s != NONE => Raw::Sym(s),
                _ => Raw::Missing,
            },
            Column::Bool(v) => match v.get(row) {
                Some(0) => Raw::Bool(false),
                Some(1) => Raw::Bool(true),
                _ => Raw::Missing,
            },
            Column::Int(v, p) if p.get(row) => v.get(row).map_or(Raw::Missing, |&i| Raw::Int(i)),
            Column::Float(v, p) if p.get(row) => {
                v.get(row).map_or(Raw::Missing, |&x| Raw::Float(x))
            }
            Column::Time(v, p) if p.get(row) => v.get(row).map_or(Raw::Missing, |&t| Raw::Time(t)),
            Column::Duration(v, p) if p.get(row) => {
                v.get(row).map_or(Raw::Missing, |&d| Raw::Duration(d))
            }
            Column::List { present, .. } if present.get(row) => Raw::List,
            _ => Raw::Missing,
        }
    }

    /// What the column holds.
    pub(crate) fn raw_type(&self) -> RawType {
        match self {
            Column::Str(_) => RawType::Str,
            Column::Bool(_) => RawType::Bool,
            Column::Int(..) => RawType::Int,
            Column::Float(..) => RawType::Float,
            Column::Time(..) => RawType::Time,
            Column::Duration(..) => RawType::Duration,
            Column::List { .. } => RawType::List,
        }
    }

    pub(crate) fn shrink(&mut self) {
        match self {
            Column::Str(v) => v.shrink_to_fit(),
            Column::Int(v, _) | Column::Time(v, _) | Column::Duration(v, _) => v.shrink_to_fit(),
            Column::Float(v, _) => v.shrink_to_fit(),
            Column::Bool(v) => v.shrink_to_fit(),
            Column::List { starts, items, .. } => {
                starts.shrink_to_fit();
                items.shrink_to_fit();
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Column::Str(v) => v.capacity() * 4,
            Column::Int(v, b) | Column::Time(v, b) | Column::Duration(v, b) => {
                v.capacity() * 8 + b.0.capacity() * 8
            }
            Column::Float(v, b) => v.capacity() * 8 + b.0.capacity() * 8,
            Column::Bool(v) => v.capacity(),
            Column::List { starts, items, present } => {
                starts.capacity() * 4 + items.capacity() * 16 + present.0.capacity() * 8
            }
        }
    }
}

/// A cell as stored ([`Column::raw`]): strings and enums as their interned
/// symbol, times and durations as their integer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Raw {
    Missing,
    Sym(u32),
    Bool(bool),
    Int(i64),
    Float(f64),
    Time(i64),
    Duration(i64),
    /// A list (not read raw).
    List,
}

/// What a [`Column`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawType {
    Str,
    Bool,
    Int,
    Float,
    Time,
    Duration,
    List,
}

/// An attribute value read from the graph; borrows the graph's strings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'g> {
    /// The node has no value for the attribute (absent, or `null` in the inventory).
    Missing,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string or enum value.
    Str(&'g str),
    /// A timestamp.
    Time(Timestamp),
    /// A duration.
    Duration(Duration),
    /// A list.
    List(ListValue<'g>),
}

impl Value<'_> {
    /// True for [`Value::Missing`].
    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing)
    }

    /// The string, for strings and enums.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A list attribute's elements.
#[derive(Clone, Copy)]
pub struct ListValue<'g> {
    items: &'g [Cell],
    strings: &'g Interner,
}

impl<'g> ListValue<'g> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = Value<'g>> + 'g {
        let strings = self.strings;
        self.items.iter().map(move |c| match *c {
            Cell::Bool(b) => Value::Bool(b),
            Cell::Int(i) => Value::Int(i),
            Cell::Float(f) => Value::Float(f),
            Cell::Str(s) => Value::Str(strings.get(s)),
            Cell::Time(t) => Value::Time(t),
            Cell::Duration(d) => Value::Duration(d),
        })
    }
}

impl PartialEq for ListValue<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl fmt::Debug for ListValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Display for Value<'_> {
    /// Inventory spelling: strings quoted as JSON, times RFC 3339, lists in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Missing => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{}", serde_json::Value::String((*s).to_owned())),
            Value::Time(t) => write!(f, "\"{t}\""),
            Value::Duration(d) => write!(f, "\"{d}\""),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_dedupes_and_finds() {
        let mut i = Interner::default();
        let (a, new_a) = i.intern("alpha").unwrap();
        let (b, _) = i.intern("beta").unwrap();
        let (a2, new_a2) = i.intern("alpha").unwrap();
        assert!(new_a && !new_a2);
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert_eq!(i.get(b), "beta");
        assert_eq!(i.find("beta"), Some(b));
        assert_eq!(i.find("gamma"), None);
        for n in 0..1000 {
            i.intern(&format!("k{n}")).unwrap();
        }
        assert_eq!(i.find("k999").map(|s| i.get(s)), Some("k999"));
    }

    #[test]
    fn columns_keep_missing_apart_from_values() {
        let strings = Interner::default();
        let mut c = Column::new(&AttrType::Int, 0);
        c.push_missing();
        c.push_missing();
        c.set(1, Cell::Int(0));
        assert_eq!(c.get(0, &strings), Value::Missing);
        assert_eq!(c.get(1, &strings), Value::Int(0));
        let mut l = Column::new(&AttrType::List(Box::new(AttrType::Int)), 0);
        l.push_missing();
        l.set_list(0, vec![Cell::Int(1), Cell::Int(2)]);
        l.push_missing();
        let Value::List(v) = l.get(0, &strings) else { panic!() };
        assert_eq!(v.len(), 2);
        assert_eq!(l.get(1, &strings), Value::Missing);
    }
}
