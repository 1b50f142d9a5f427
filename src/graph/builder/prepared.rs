//! Records prepared on a loader's parsing thread, so that the thread that
//! inserts them into the [`GraphBuilder`] (in document order, the critical
//! path of a load) does as little as possible.
//!
//! The parsing thread holds a [`Preparer`]: a copy of the schema and the
//! hashers of the builder's two interners. For each record it resolves the
//! node or edge kind and the attribute names, converts and checks the values
//! (timestamps parsed, enum values checked), hashes the id and the string
//! values, and counts the record's line. The inserting thread then only
//! probes the interners with the hashes it is given and writes the columns.
//!
//! Only records that are valid against the copy of the schema are prepared;
//! anything else (an unknown kind or attribute, a wrong type, a list, a
//! label) goes through [`GraphBuilder::add_node`] / [`GraphBuilder::add_edge`]
//! unchanged, so diagnostics are the same as in a sequential load. The schema
//! only grows during a load (kinds, attributes and edge kinds are appended,
//! never changed), so a record prepared against an older copy is still valid,
//! with the same ids, when it is inserted.

use hashbrown::DefaultHashBuilder;
use std::hash::BuildHasher;

use crate::graph::builder::{GraphBuilder, Input, PendingEdge, Site, cell};
use crate::graph::column::{Cell, Interner};
use crate::graph::schema::{AttrId, AttrType, EdgeKindId, KindId, Schema};
use crate::graph::store::{NodeId, Provenance};

/// One attribute of a prepared node, in the record's order.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PreparedAttr {
    /// `null`: the same as leaving the attribute out.
    Skip,
    /// A checked scalar value, or a string value already interned (see
    /// [`Preparer::intern_strings`]).
    Cell(AttrId, Cell),
    /// A string or enum value with its hash for the string interner.
    Str(AttrId, u64),
}

/// A node record checked against the schema, with the hash of its id.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PreparedNode {
    pub(crate) kind: KindId,
    pub(crate) id_hash: u64,
    /// The record's attributes: `attrs[start..end]` of the batch's buffer.
    pub(crate) attrs: (u32, u32),
}

/// An edge record with its kind resolved and its ends hashed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PreparedEdge {
    pub(crate) kind: EdgeKindId,
    pub(crate) from_hash: u64,
    pub(crate) to_hash: u64,
}

/// What a loader's parsing thread needs to prepare records.
pub(crate) struct Preparer {
    schema: Schema,
    ids: DefaultHashBuilder,
    strings: DefaultHashBuilder,
    /// Never written: `cell` wants an interner, but only string values use
    /// it and those are hashed here instead.
    scratch: Interner,
    /// The last node kind (records of one kind come together).
    last_kind: Option<KindId>,
    /// Per node kind, the attributes of the last record, in its order:
    /// records of a kind list the same attributes, so a name is compared with
    /// the name at its position before it is looked up.
    last_attrs: Vec<Vec<AttrId>>,
    last_edge: Option<EdgeKindId>,
}

impl GraphBuilder {
    /// A [`Preparer`] for records to be inserted into this builder.
    pub(crate) fn preparer(&self) -> Preparer {
        Preparer {
            schema: self.schema.clone(),
            ids: self.ids.hasher(),
            strings: self.strings.hasher(),
            scratch: Interner::default(),
            last_kind: None,
            last_attrs: Vec::new(),
            last_edge: None,
        }
    }

    /// Exchanges the builder's string interner with `other`. A loader takes
    /// it out to intern the string values of prepared records on its parsing
    /// thread, and puts it back in for records that go through
    /// [`GraphBuilder::add_node`] and when it is done.
    pub(crate) fn swap_strings(&mut self, other: &mut Interner) {
        std::mem::swap(&mut self.strings, other);
    }

    /// Inserts a prepared node: the same as [`GraphBuilder::add_node`] for a
    /// record that is valid against the schema. `attrs` are the record's
    /// attributes, `prepared` their prepared form (same length and order),
    /// `line` the one-based line where the record starts. `known` is the
    /// id's symbol when [`GraphBuilder::find_prepared`] found it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_prepared_node<K: AsRef<str>>(
        &mut self,
        node: &PreparedNode,
        known: Option<u32>,
        id: &str,
        kind: &str,
        attrs: &[(K, Input<'_>)],
        prepared: &[PreparedAttr],
        at: &Site,
        line: u32,
    ) -> Option<NodeId> {
        let k = node.kind;
        let found = match known {
            Some(sym) => Ok(sym),
            None => self.ids.intern_hashed(id, node.id_hash).map(|(sym, _)| sym),
        };
        let Ok(sym) = found else {
            self.too_large(at);
            return None;
        };
        let prov = self.prov_at_line(at, line);
        let row = self.place_node(sym, k, id, at, prov)?;
        let ki = usize::from(k.0);
        for (p, (_, value)) in prepared.iter().zip(attrs) {
            let (a, c) = match (*p, value) {
                (PreparedAttr::Skip, _) => continue,
                (PreparedAttr::Cell(a, c), _) => (a, c),
                (PreparedAttr::Str(a, h), Input::Str(s)) => {
                    match self.strings.intern_hashed(s, h) {
                        Ok((sym, _)) => (a, Cell::Str(sym)),
                        Err(_) => {
                            self.too_large(at);
                            continue;
                        }
                    }
                }
                (PreparedAttr::Str(..), _) => continue,
            };
            if let Some(col) =
                self.columns.get_mut(ki).and_then(|cols| cols.get_mut(usize::from(a.0)))
            {
                col.set(row, c);
            }
        }
        self.check_required(k, row, id, kind, at);
        Some(NodeId(sym))
    }

    /// Inserts a prepared edge (no label): the same as
    /// [`GraphBuilder::add_edge`] for an edge of a known kind.
    /// `known` are the symbols of the ends that [`GraphBuilder::find_prepared`] found.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_prepared_edge(
        &mut self,
        edge: &PreparedEdge,
        known: (Option<u32>, Option<u32>),
        from: &str,
        to: &str,
        optional: bool,
        at: &Site,
        line: u32,
    ) {
        let a = match (known.0, self.last_from) {
            (Some(sym), _) => Ok(sym),
            (None, Some(sym)) if self.ids.get(sym) == from => Ok(sym),
            _ => self.slot_for_hashed(from, edge.from_hash),
        };
        if let Ok(sym) = a {
            self.last_from = Some(sym);
        }
        let b = match known.1 {
            Some(sym) => Ok(sym),
            None => self.slot_for_hashed(to, edge.to_hash),
        };
        let (Ok(a), Ok(b)) = (a, b) else {
            self.too_large(at);
            return;
        };
        let prov = self.prov_at_line(at, line);
        let label = crate::graph::column::NONE;
        let (kind, span) = (edge.kind, at.span);
        self.edges.push(PendingEdge { from: a, to: b, kind, optional, label, prov, span });
    }

    /// The symbol of an id already interned, looked up with its hash. A
    /// loader looks up a batch's ids first, in a loop of independent
    /// lookups (the table's cache misses overlap), then inserts the records
    /// in order, passing what it found: an id found stays the same symbol.
    pub(crate) fn find_prepared(&self, id: &str, hash: u64) -> Option<u32> {
        self.ids.find_hashed(id, hash)
    }

    /// The provenance of a record whose line was counted by the loader; the
    /// file's line counter moves on to it, so that records without a counted
    /// line go on counting from there.
    fn prov_at_line(&mut self, at: &Site, line: u32) -> Provenance {
        if let Some(st) = self.files.get_mut(at.file.0 as usize)
            && at.span.start >= st.cursor
            && at.span.start <= st.src.text().len()
        {
            st.cursor = at.span.start;
            st.line = line;
        }
        Provenance { file: at.file.0, record: at.record, line }
    }
}

impl Preparer {
    /// Takes the schema as extended by an inventory's `schema` section.
    pub(crate) fn set_schema(&mut self, schema: Schema) {
        self.schema = schema;
        self.last_kind = None;
        self.last_attrs.clear();
        self.last_edge = None;
    }

    fn kind(&mut self, name: &str) -> Option<KindId> {
        if let Some(k) = self.last_kind
            && self.schema.kind_name(k) == name
        {
            return Some(k);
        }
        let k = self.schema.kind(name)?;
        self.last_kind = Some(k);
        Some(k)
    }

    /// The node record prepared, its attributes appended to `out`; `None`
    /// when it must go through [`GraphBuilder::add_node`] (anything that is
    /// not plainly valid, so that the diagnostics are the usual ones).
    pub(crate) fn node<K: AsRef<str>>(
        &mut self,
        id: &str,
        kind: &str,
        attrs: &[(K, Input<'_>)],
        out: &mut Vec<PreparedAttr>,
    ) -> Option<PreparedNode> {
        let k = self.kind(kind)?;
        let start = out.len();
        let ok = self.node_attrs(k, attrs, out);
        let end = out.len();
        if !ok {
            out.truncate(start);
            return None;
        }
        Some(PreparedNode {
            kind: k,
            id_hash: self.ids.hash_one::<&str>(id),
            attrs: (u32::try_from(start).ok()?, u32::try_from(end).ok()?),
        })
    }

    fn node_attrs<K: AsRef<str>>(
        &mut self,
        k: KindId,
        attrs: &[(K, Input<'_>)],
        out: &mut Vec<PreparedAttr>,
    ) -> bool {
        let ki = usize::from(k.0);
        if self.last_attrs.len() <= ki {
            self.last_attrs.resize_with(ki + 1, Vec::new);
        }
        let Some(def) = self.schema.kind_def(k) else { return false };
        let Some(seen) = self.last_attrs.get_mut(ki) else { return false };
        for (i, (name, value)) in attrs.iter().enumerate() {
            let name = name.as_ref();
            if matches!(value, Input::Null) {
                out.push(PreparedAttr::Skip);
                continue;
            }
            let cached =
                seen.get(i).copied().filter(|a| def.attr_def(*a).is_some_and(|d| d.name == name));
            let a = match cached {
                Some(a) => a,
                None => {
                    let Some(a) = def.attr(name) else { return false };
                    match seen.get_mut(i) {
                        Some(slot) => *slot = a,
                        None => seen.push(a),
                    }
                    a
                }
            };
            let Some(ty) = def.attr_def(a).map(|d| &d.ty) else { return false };
            let p = match (ty, value) {
                (AttrType::Str, Input::Str(s)) => {
                    PreparedAttr::Str(a, self.strings.hash_one::<&str>(s))
                }
                (AttrType::Enum(values), Input::Str(s)) => {
                    if !values.iter().any(|x| x == s) {
                        return false;
                    }
                    PreparedAttr::Str(a, self.strings.hash_one::<&str>(s))
                }
                (AttrType::List(_), _) | (_, Input::List(_)) => return false,
                (ty, value) => match cell(ty, value, &mut self.scratch) {
                    Ok(
                        c @ (Cell::Bool(_)
                        | Cell::Int(_)
                        | Cell::Float(_)
                        | Cell::Time(_)
                        | Cell::Duration(_)),
                    ) => PreparedAttr::Cell(a, c),
                    _ => return false,
                },
            };
            out.push(p);
        }
        true
    }

    /// Interns the string values of a prepared node into `strings` (the
    /// builder's string interner, taken out with
    /// [`GraphBuilder::swap_strings`]), so that the inserting thread only
    /// writes symbols. `false` when the interner is full (the record then
    /// goes through [`GraphBuilder::add_node`], which reports it).
    pub(crate) fn intern_strings<K: AsRef<str>>(
        strings: &mut Interner,
        attrs: &[(K, Input<'_>)],
        prepared: &mut [PreparedAttr],
    ) -> bool {
        for (p, (_, value)) in prepared.iter_mut().zip(attrs) {
            if let (PreparedAttr::Str(a, h), Input::Str(s)) = (*p, value) {
                match strings.intern_hashed(s, h) {
                    Ok((sym, _)) => *p = PreparedAttr::Cell(a, Cell::Str(sym)),
                    Err(_) => return false,
                }
            }
        }
        true
    }

    /// The edge record prepared; `None` when it must go through
    /// [`GraphBuilder::add_edge`] (an unknown kind, or a label).
    pub(crate) fn edge(
        &mut self,
        from: &str,
        to: &str,
        kind: &str,
        label: Option<&str>,
    ) -> Option<PreparedEdge> {
        if label.is_some() {
            return None;
        }
        let k = match self.last_edge {
            Some(k) if self.schema.edge_name(k) == kind => k,
            _ => {
                let k = self.schema.edge_kind(kind)?;
                self.last_edge = Some(k);
                k
            }
        };
        Some(PreparedEdge {
            kind: k,
            from_hash: self.ids.hash_one::<&str>(from),
            to_hash: self.ids.hash_one::<&str>(to),
        })
    }
}
