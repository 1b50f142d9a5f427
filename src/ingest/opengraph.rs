//! Adapter for BloodHound OpenGraph JSON (`{"graph": {"nodes": [..],
//! "edges": [..]}}`), as GitHound and other collectors write it.
//!
//! Node kinds map to schema kinds through the [`Mapping`]'s OpenGraph table
//! (the first of a node's `kinds` that the table knows wins). Properties
//! named in the table (`token_expires_at` → `expires_at`, ...) fill schema
//! attributes; every other property is kept as an attribute of its own,
//! declared in the inventory's `schema` section with a type inferred from the
//! values (`*_at` strings that all parse as times are timestamps; an empty
//! string there means "none"). A property whose name clashes with a schema
//! attribute of another type is kept as `source_<name>`. Edges match their
//! ends by id, or by `name` with `match_by: name`; an end that is not in the
//! loaded payloads makes the edge optional (BloodHound resolves such ends
//! against its database; `gov` warns and skips them); an edge whose end was
//! itself rejected says so. A node id given twice (in one payload or across
//! payloads) is one node, as BloodHound merges it on upload: the first
//! record's values win and a differing value is a `conflicting_value`
//! warning; the same id under two schema kinds is a `duplicate_id` error.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value as Json};

use crate::diag::Code;
use crate::graph::{AttrType, Input, Schema};
use crate::ingest::native::{json_error, offset_in};
use crate::ingest::{EdgeRecord, Inventory, Mapping, NodeRecord, Origin};
use crate::source::{SourceFile, Span};
use crate::time::Timestamp;

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow)]
    graph: GraphPart<'a>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct GraphPart<'a> {
    #[serde(default, borrow)]
    nodes: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    edges: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    source_kind: Option<String>,
}

#[derive(Deserialize)]
struct OgNode {
    id: String,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    properties: Map<String, Json>,
}

#[derive(Deserialize)]
struct OgEdge {
    kind: String,
    start: End,
    end: End,
}

#[derive(Deserialize)]
struct End {
    value: String,
    #[serde(default)]
    match_by: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

struct Parsed {
    node: OgNode,
    kind: String,
    ty: Option<String>,
    source: String,
    origin: Origin,
}

fn valid_name(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if out.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The value as the given attribute type, if it fits (numbers and booleans fit
/// strings; an empty string is "none" for a timestamp).
fn fit(v: &Json, ty: &AttrType) -> Option<Input<'static>> {
    Some(match (ty, v) {
        (_, Json::Null) => Input::Null,
        (AttrType::Str, Json::String(s)) => Input::str(s.as_str()),
        (AttrType::Str, Json::Number(_) | Json::Bool(_)) => Input::str(v.to_string()),
        (AttrType::Str, Json::Object(_)) => Input::str(v.to_string()),
        (AttrType::Int, Json::Number(n)) => Input::Int(n.as_i64()?),
        (AttrType::Float, Json::Number(n)) => Input::Float(n.as_f64()?),
        (AttrType::Bool, Json::Bool(b)) => Input::Bool(*b),
        (AttrType::Time, Json::String(s)) if s.is_empty() => Input::Null,
        (AttrType::Time, Json::String(s)) => Input::Time(Timestamp::parse(s).ok()?),
        (AttrType::List(elem), Json::Array(items)) => {
            Input::List(items.iter().map(|i| fit(i, elem)).collect::<Option<Vec<_>>>()?)
        }
        _ => return None,
    })
}

/// The type that holds every value seen for a property.
fn infer(name: &str, values: &[&Json]) -> AttrType {
    let non_null: Vec<&&Json> = values.iter().filter(|v| !v.is_null()).collect();
    if non_null.is_empty() {
        return AttrType::Str;
    }
    if non_null.iter().all(|v| v.is_boolean()) {
        return AttrType::Bool;
    }
    if non_null.iter().all(|v| v.is_i64()) {
        return AttrType::Int;
    }
    if non_null.iter().all(|v| v.is_number()) {
        return AttrType::Float;
    }
    if non_null.iter().all(|v| v.is_array()) {
        return AttrType::List(Box::new(AttrType::Str));
    }
    let times = name.ends_with("_at")
        && non_null
            .iter()
            .all(|v| v.as_str().is_some_and(|s| s.is_empty() || Timestamp::parse(s).is_ok()))
        && non_null.iter().any(|v| v.as_str().is_some_and(|s| !s.is_empty()));
    if times { AttrType::Time } else { AttrType::Str }
}

/// Converts one or more OpenGraph payloads into one inventory (edges may
/// cross payloads, as the GitHound SAML sample's do).
pub fn convert(sources: &[Arc<SourceFile>], mapping: &Mapping) -> Inventory {
    let mut inv = Inventory::new();
    let builtin = Schema::builtin();
    let og = &mapping.opengraph;
    let mut parsed: Vec<Parsed> = Vec::new();
    let mut edges: Vec<(OgEdge, Origin)> = Vec::new();
    // Nodes that were reported and left out, with why: their edges say so
    // instead of claiming the node is missing from the inputs.
    let mut rejected: HashMap<String, String> = HashMap::new();
    for src in sources {
        let file = inv.add_file(src.clone());
        let text = src.text();
        let payload: Payload<'_> = match serde_json::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                inv.diags.push(json_error(src, text, 0, &e, "invalid OpenGraph payload"));
                continue;
            }
        };
        inv.set_records_read(file, (payload.graph.nodes.len() + payload.graph.edges.len()) as u64);
        let source = payload
            .metadata
            .and_then(|m| m.source_kind)
            .map_or_else(|| "opengraph".to_owned(), |s| s.to_ascii_lowercase());
        for (i, raw) in payload.graph.nodes.iter().enumerate() {
            let base = offset_in(text, raw.get());
            let origin =
                Origin { file, record: i as u32, span: Span::new(base, base + raw.get().len()) };
            let node: OgNode = match serde_json::from_str(raw.get()) {
                Ok(n) => n,
                Err(e) => {
                    if let Ok(Json::Object(m)) = serde_json::from_str::<Json>(raw.get())
                        && let Some(Json::String(id)) = m.get("id")
                    {
                        rejected.insert(id.clone(), format!("node {i} is not a valid node record"));
                    }
                    inv.diags.push(json_error(
                        src,
                        raw.get(),
                        base,
                        &e,
                        &format!("invalid node {i}"),
                    ));
                    continue;
                }
            };
            let mapped = node.kinds.iter().find_map(|k| og.kinds.get(k));
            let (kind, ty) = match (mapped, &og.default_kind) {
                (Some(m), _) => (m.kind.clone(), m.ty.clone()),
                (None, Some(d)) => (d.clone(), node.kinds.first().map(|k| k.to_ascii_lowercase())),
                (None, None) => {
                    let kinds =
                        node.kinds.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
                    let at = text
                        .get(origin.span.start..origin.span.end)
                        .and_then(|t| t.find("\"kinds\""))
                        .map_or(origin.span, |p| Span::new(base + p, base + p + 7));
                    let d = inv.diag(
                        Code::UnknownKind,
                        format!("node `{}` has no kind the mapping knows ({kinds})", node.id),
                        file,
                        at,
                    );
                    inv.diags.push(d.help(format!(
                        "map it in a mapping file: `opengraph: {{kinds: {{{}: {{kind: resource}}}}}}`, or set `opengraph.default_kind`",
                        node.kinds.first().map_or("Kind", String::as_str)
                    )));
                    rejected.insert(node.id, format!("it has no kind the mapping knows ({kinds})"));
                    continue;
                }
            };
            if builtin.kind(&kind).is_none() {
                let d = inv.diag(
                    Code::InvalidMapping,
                    format!(
                        "the mapping sends OpenGraph kinds to `{kind}`, which is not a schema kind"
                    ),
                    file,
                    origin.span,
                );
                inv.diags
                    .push(d.help("use identity, credential, service, group, role or resource"));
                rejected.insert(
                    node.id,
                    format!("the mapping sends it to `{kind}`, not a schema kind"),
                );
                continue;
            }
            parsed.push(Parsed { node, kind, ty, source: source.clone(), origin });
        }
        for (i, raw) in payload.graph.edges.iter().enumerate() {
            let base = offset_in(text, raw.get());
            let origin =
                Origin { file, record: i as u32, span: Span::new(base, base + raw.get().len()) };
            match serde_json::from_str::<OgEdge>(raw.get()) {
                Ok(e) => edges.push((e, origin)),
                Err(e) => inv.diags.push(json_error(
                    src,
                    raw.get(),
                    base,
                    &e,
                    &format!("invalid edge {i}"),
                )),
            }
        }
    }
    // Attribute names and types for properties, per schema kind.
    let mut seen: BTreeMap<(String, String), Vec<&Json>> = BTreeMap::new();
    let mut target: HashMap<(String, String), String> = HashMap::new();
    for p in &parsed {
        let k = builtin.kind(&p.kind);
        for (name, v) in &p.node.properties {
            let mapped =
                og.properties.get(name).filter(|a| k.and_then(|k| builtin.attr(k, a)).is_some());
            if mapped.is_some() {
                continue;
            }
            let attr = valid_name(name);
            let builtin_ty = k
                .and_then(|k| builtin.attr(k, &attr))
                .and_then(|a| k.and_then(|k| builtin.attr_def(k, a)));
            let fits = builtin_ty.is_some_and(|d| fit(v, &d.ty).is_some());
            let attr = match builtin_ty {
                Some(_) if fits && attr != "type" => attr,
                Some(_) => format!("source_{attr}"),
                None => attr,
            };
            target.insert((p.kind.clone(), name.clone()), attr.clone());
            seen.entry((p.kind.clone(), attr)).or_default().push(v);
        }
    }
    let mut types: HashMap<(String, String), AttrType> = HashMap::new();
    for ((kind, attr), values) in &seen {
        let k = builtin.kind(kind);
        let ty = match k.and_then(|k| builtin.attr(k, attr).and_then(|a| builtin.attr_def(k, a))) {
            Some(def) => def.ty.clone(),
            None => {
                let ty = infer(attr, values);
                inv.schema.declare_attr(kind, attr, &ty);
                ty
            }
        };
        types.insert((kind.clone(), attr.clone()), ty);
    }
    // Nodes.
    let mut by_name: HashMap<(Option<String>, String), String> = HashMap::new();
    for p in &parsed {
        let k = builtin.kind(&p.kind);
        let mut rec = NodeRecord::new(&p.node.id, &p.kind, p.origin);
        if let Some(ty) = &p.ty {
            rec.set("type", Input::str(ty));
        }
        rec.set("source", Input::str(&p.source));
        rec.set("tags", Input::strs(p.node.kinds.iter().map(|k| format!("kind={k}"))));
        // GitHub reports an expired token with `token_expired: true` and, for
        // tokens created without an expiry, an empty `token_expires_at`: such
        // a token can no longer be used, so it is not an active credential.
        if p.kind == "credential"
            && p.node.properties.get("token_expired") == Some(&Json::Bool(true))
        {
            rec.set("active", Input::Bool(false));
        }
        for (name, v) in &p.node.properties {
            let schema_attr =
                og.properties.get(name).filter(|a| k.and_then(|k| builtin.attr(k, a)).is_some());
            let (attr, ty) = match schema_attr {
                Some(a) => {
                    let def =
                        k.and_then(|k| builtin.attr(k, a).and_then(|id| builtin.attr_def(k, id)));
                    (a.clone(), def.map_or(AttrType::Str, |d| d.ty.clone()))
                }
                None => {
                    let attr = target
                        .get(&(p.kind.clone(), name.clone()))
                        .cloned()
                        .unwrap_or_else(|| valid_name(name));
                    let ty = types
                        .get(&(p.kind.clone(), attr.clone()))
                        .cloned()
                        .unwrap_or(AttrType::Str);
                    (attr, ty)
                }
            };
            if rec.get(&attr).is_some() {
                continue;
            }
            match fit(v, &ty) {
                Some(value) => {
                    rec.set(&attr, value);
                }
                None => {
                    let at = inv.files.get(p.origin.file as usize).and_then(|f| {
                        let t = f.text().get(p.origin.span.start..p.origin.span.end)?;
                        let i = t.find(&format!("\"{name}\""))?;
                        Some(Span::new(
                            p.origin.span.start + i,
                            p.origin.span.start + i + name.len() + 2,
                        ))
                    });
                    let code = if matches!(ty, AttrType::Time) {
                        Code::IngestInvalidDate
                    } else {
                        Code::WrongType
                    };
                    let d = inv.diag(
                        code,
                        format!(
                            "property `{name}` of `{}` is {v}, which is not a `{ty}`",
                            p.node.id
                        ),
                        p.origin.file,
                        at.unwrap_or(p.origin.span),
                    );
                    inv.diags.push(d.help(match ty {
                        AttrType::Time => "write times as RFC 3339, e.g. `2026-04-13T04:46:10Z`, or `\"\"` for none",
                        _ => "fix the value in the collector's output",
                    }));
                }
            }
        }
        if let Some(Json::String(name)) = p.node.properties.get("name") {
            for k in &p.node.kinds {
                by_name.entry((Some(k.clone()), name.clone())).or_insert_with(|| p.node.id.clone());
            }
            by_name.entry((None, name.clone())).or_insert_with(|| p.node.id.clone());
        }
        let origin = p.origin;
        inv.add_node(rec);
        // Lifecycle properties (`risk_class`, `retire_at`, ...) through the
        // mapping's attribute keys, as tags are for the other adapters.
        let props: Vec<(String, String)> = p
            .node
            .properties
            .iter()
            .filter(|(k, _)| mapping.is_attribute_key(k))
            .filter_map(|(k, v)| match v {
                Json::String(s) => Some((k.clone(), s.clone())),
                Json::Number(_) | Json::Bool(_) => Some((k.clone(), v.to_string())),
                _ => None,
            })
            .collect();
        mapping.apply_attributes(&mut inv, &p.node.id, &props, origin);
    }
    // Edges.
    let kind_of: HashMap<&str, &str> =
        parsed.iter().map(|p| (p.node.id.as_str(), p.kind.as_str())).collect();
    for (e, origin) in edges {
        let resolve = |end: &End| -> (String, bool) {
            if end.match_by.as_deref() == Some("name") {
                match by_name.get(&(end.kind.clone(), end.value.clone())) {
                    Some(id) => (id.clone(), true),
                    None => (end.value.clone(), false),
                }
            } else {
                (end.value.clone(), kind_of.contains_key(end.value.as_str()))
            }
        };
        let ((from, from_known), (to, to_known)) = (resolve(&e.start), resolve(&e.end));
        let dropped =
            [("source", &from, from_known), ("target", &to, to_known)].into_iter().find_map(
                |(end, id, known)| Some((end, id, rejected.get(id.as_str()).filter(|_| !known)?)),
            );
        if let Some((end, id, why)) = dropped {
            let mut d = inv.diag(
                Code::UnresolvedEdge,
                format!(
                    "edge `{}` is skipped: its {end} `{id}` was rejected because {why}",
                    e.kind
                ),
                origin.file,
                origin.span,
            );
            d.severity = crate::diag::Severity::Warning;
            inv.diags.push(d.help("fix the node's diagnostic above; its edges load with it"));
            continue;
        }
        let mapped = og.edges.get(&e.kind).filter(|ek| {
            // A mapped edge kind is used only where the schema allows it between
            // the two ends; elsewhere the default edge kind keeps the relation.
            let def = builtin.edge_kind(ek).and_then(|id| builtin.edge_def(id));
            match (def, kind_of.get(from.as_str()), kind_of.get(to.as_str())) {
                (Some(d), Some(f), Some(t)) => {
                    builtin.kind(f).zip(builtin.kind(t)).is_some_and(|(f, t)| d.allows(f, t))
                }
                (Some(_), _, _) => true,
                (None, _, _) => false,
            }
        });
        let Some(kind) = mapped.or(og.default_edge.as_ref()) else {
            let d = inv.diag(
                Code::UnknownEdgeKind,
                format!("edge kind `{}` is not in the mapping", e.kind),
                origin.file,
                origin.span,
            );
            inv.diags
                .push(d.help("map it under `opengraph.edges`, or set `opengraph.default_edge`"));
            continue;
        };
        let mut rec = EdgeRecord::new(from, kind, to, origin);
        rec.label = Some(e.kind.clone());
        rec.optional = !(from_known && to_known);
        inv.add_edge(rec);
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_prefers_the_narrowest_type() {
        let (a, b, c) = (Json::from(1), Json::from(2.5), Json::from("2026-01-01T00:00:00Z"));
        assert_eq!(infer("n", &[&a]), AttrType::Int);
        assert_eq!(infer("n", &[&a, &b]), AttrType::Float);
        assert_eq!(infer("created_at", &[&c, &Json::from("")]), AttrType::Time);
        assert_eq!(infer("note", &[&c]), AttrType::Str);
        assert_eq!(valid_name("a-b.c"), "a_b_c");
    }
}
