//! Native YAML: read whole through serde (with the alias and nesting
//! limits of `ingest::yaml_limits`), then inserted record by record.

use super::*;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct YamlNode {
    id: String,
    kind: String,
    #[serde(default)]
    attrs: Option<serde_yaml_ng::Mapping>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct YamlEdge {
    from: String,
    to: String,
    kind: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    optional: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct YamlDoc {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    metadata: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    schema: Option<SchemaSection>,
    #[serde(default)]
    nodes: Vec<YamlNode>,
    #[serde(default)]
    edges: Vec<YamlEdge>,
}

pub(super) fn yaml_value(v: serde_yaml_ng::Value) -> Result<Input<'static>, &'static str> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Input::Null,
        Y::Bool(b) => Input::Bool(b),
        Y::Number(n) => match n.as_i64() {
            Some(i) => Input::Int(i),
            None => Input::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Y::String(s) => Input::Str(Cow::Owned(s)),
        Y::Sequence(items) => {
            Input::List(items.into_iter().map(yaml_value).collect::<Result<_, _>>()?)
        }
        Y::Mapping(_) => return Err("an attribute value cannot be a mapping"),
        Y::Tagged(t) => yaml_value(t.value)?,
    })
}

/// A diagnostic for a YAML error.
pub fn yaml_error(src: &Arc<SourceFile>, e: &serde_yaml_ng::Error, what: &str) -> Diag {
    let (at, pos) = match e.location() {
        Some(l) => (l.index(), format!(" (line {}, column {})", l.line(), l.column())),
        None => (0, String::new()),
    };
    let at = at.min(src.text().len());
    let msg = strip_position(&e.to_string());
    Diag::error(Code::MalformedYaml, format!("{what}: {msg}{pos}"))
        .in_file(src)
        .label(Span::new(at, (at + 1).min(src.text().len())), "here")
        .help("fix the YAML at this position; see docs/inventory.md for the layout")
}

pub(super) fn read_yaml(b: &mut GraphBuilder, src: &Arc<SourceFile>, file: FileId) {
    let text = src.text();
    if let Err(d) = crate::ingest::yaml_limits::check(src) {
        b.push_diag(d);
        return;
    }
    let doc: YamlDoc = match serde_yaml_ng::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            b.push_diag(yaml_error(src, &e, "invalid inventory"));
            return;
        }
    };
    if !check_format(b, src, doc.format.as_deref()) {
        return;
    }
    let _ = doc.metadata;
    if let Some(s) = &doc.schema {
        let at = text.find("schema:").unwrap_or(0);
        s.apply(b, file, Span::new(at, text.len()));
    }
    // YAML gives no positions after parsing: find each record by its id,
    // moving forwards, so that provenance and labels point near it.
    let mut cursor = 0usize;
    let mut locate = |key: &str, value: &str| -> Span {
        let rest = text.get(cursor..).unwrap_or("");
        let found =
            [format!("{key}: {value}"), format!("{key}: \"{value}\""), format!("{key}: '{value}'")]
                .into_iter()
                .find_map(|n| rest.find(&n).map(|i| (i, n.len())));
        match found {
            Some((i, len)) => {
                let start = cursor + i;
                let line_start = text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |p| p + 1);
                // The record runs on while lines are indented at least as deep as its keys.
                let key_col = start - line_start;
                let mut end =
                    text.get(start..).and_then(|t| t.find('\n')).map_or(text.len(), |p| start + p);
                while let Some(next) = text.get(end + 1..).filter(|t| !t.is_empty()) {
                    let line = next.split('\n').next().unwrap_or("");
                    let indent = line.len() - line.trim_start_matches(' ').len();
                    if !line.trim().is_empty() && indent < key_col {
                        break;
                    }
                    end = (end + 1 + line.len()).min(text.len());
                }
                cursor = start + len;
                Span::new(line_start, end)
            }
            None => Span::default(),
        }
    };
    for (i, n) in doc.nodes.into_iter().enumerate() {
        let at = Site { file, record: i as u32, span: locate("id", &n.id) };
        let mut attrs = Vec::new();
        for (k, v) in n.attrs.unwrap_or_default() {
            let key = match k {
                serde_yaml_ng::Value::String(s) => s,
                other => serde_yaml_ng::to_string(&other).unwrap_or_default().trim().to_owned(),
            };
            match yaml_value(v) {
                Ok(v) => attrs.push((key, v)),
                Err(msg) => {
                    let span = b.key_span(&at, &key);
                    let d = b.diag_at(
                        Code::WrongType,
                        format!("attribute `{key}` of node `{}`: {msg}", n.id),
                        file,
                        span,
                    );
                    b.push_diag(d.help("attribute values are scalars or lists of scalars"));
                }
            }
        }
        b.add_node(&n.id, &n.kind, &attrs, &at);
    }
    for (i, e) in doc.edges.into_iter().enumerate() {
        let at = Site { file, record: i as u32, span: locate("from", &e.from) };
        b.add_edge(&e.from, &e.to, &e.kind, e.label.as_deref(), e.optional, &at);
    }
}
