//! Adapter for the AWS IAM credential report (CSV, the 22 documented
//! columns). Each row is an `identity` (the `<root_account>` row is the
//! account root, type `root`); each access key and signing certificate that
//! exists becomes a `credential` joined to the identity by ARN with
//! `has_credential`. `N/A`, `no_information` and `not_supported` are three
//! different reasons for a missing value: the date is left out and the
//! matching `*_state` attribute says which (`never`, `no_information`,
//! `not_supported`). Booleans are case-insensitive.

use std::sync::Arc;

use crate::diag::Code;
use crate::graph::Input;
use crate::ingest::{EdgeRecord, Inventory, Mapping, NodeRecord, Origin};
use crate::source::{SourceFile, Span};
use crate::time::Timestamp;

/// The documented columns, in the documented order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// A field's value with the three missing states kept apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// A value.
    Value(&'a str),
    /// `N/A`: does not apply (never used, never rotated, no key).
    NotApplicable,
    /// `no_information`: AWS has no record (e.g. last use before April 2015).
    NoInformation,
    /// `not_supported`: the field does not exist for this row (the root's password fields).
    NotSupported,
}

impl<'a> Field<'a> {
    /// Classifies raw CSV text.
    pub fn of(s: &'a str) -> Field<'a> {
        match s.trim() {
            "N/A" | "" => Field::NotApplicable,
            "no_information" => Field::NoInformation,
            "not_supported" => Field::NotSupported,
            v => Field::Value(v),
        }
    }

    fn state(self) -> &'static str {
        match self {
            Field::Value(_) => "used",
            Field::NotApplicable => "never",
            Field::NoInformation => "no_information",
            Field::NotSupported => "not_supported",
        }
    }
}

struct Row<'r> {
    fields: Vec<(&'r str, Span)>,
    origin: Origin,
}

struct Ctx {
    inv: Inventory,
    file: u32,
}

impl Ctx {
    fn field<'r>(&self, row: &Row<'r>, col: usize) -> (Field<'r>, Span) {
        row.fields
            .get(col)
            .map_or((Field::NotApplicable, row.origin.span), |(s, span)| (Field::of(s), *span))
    }

    fn bool(&mut self, row: &Row<'_>, col: usize, id: &str) -> Option<bool> {
        let (f, span) = self.field(row, col);
        let Field::Value(v) = f else { return None };
        match v.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                let name = COLUMNS.get(col).copied().unwrap_or("");
                let d = self.inv.diag(
                    Code::InvalidValue,
                    format!("`{name}` of `{id}` is `{v}`, not `true` or `false`"),
                    self.file,
                    span,
                );
                self.inv
                    .diags
                    .push(d.help("the credential report writes booleans as `true` or `false`"));
                None
            }
        }
    }

    fn time(&mut self, row: &Row<'_>, col: usize, id: &str) -> (Option<Timestamp>, Field<'static>) {
        let (f, span) = self.field(row, col);
        let state = match f {
            Field::Value(_) => Field::Value(""),
            Field::NotApplicable => Field::NotApplicable,
            Field::NoInformation => Field::NoInformation,
            Field::NotSupported => Field::NotSupported,
        };
        let Field::Value(v) = f else { return (None, state) };
        match Timestamp::parse(v) {
            Ok(t) => (Some(t), state),
            Err(e) => {
                let name = COLUMNS.get(col).copied().unwrap_or("");
                let d = self.inv.diag(
                    Code::IngestInvalidDate,
                    format!("`{name}` of `{id}` is not a date: `{v}` ({e})"),
                    self.file,
                    span,
                );
                self.inv.diags.push(d.help(
                    "the report writes ISO 8601 times such as `2026-01-31T12:00:00+00:00`, or `N/A`, `no_information`, `not_supported`",
                ));
                (None, Field::NotApplicable)
            }
        }
    }
}

/// Converts a credential report.
pub fn convert(src: Arc<SourceFile>, _mapping: &Mapping) -> Inventory {
    let mut inv = Inventory::new();
    let file = inv.add_file(src.clone());
    let text = src.text();
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header_span = Span::new(0, text.find('\n').unwrap_or(text.len()));
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.trim().trim_start_matches('\u{feff}').to_owned()).collect(),
        Err(e) => {
            let d = inv.diag(
                Code::MalformedCsv,
                format!("cannot read the CSV header: {e}"),
                file,
                header_span,
            );
            inv.diags
                .push(d.help("the report starts with the line `user,arn,user_creation_time,...`"));
            return inv;
        }
    };
    let missing: Vec<&str> =
        COLUMNS.iter().copied().filter(|c| !headers.iter().any(|h| h == c)).collect();
    if !missing.is_empty() {
        let d = inv.diag(
            Code::MalformedCsv,
            format!(
                "the credential report lacks {} of its 22 columns: {}",
                missing.len(),
                missing.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ),
            file,
            header_span,
        );
        inv.diags.push(d.help("export the report again with `aws iam get-credential-report`"));
        return inv;
    }
    // Column index of each documented column in this file.
    let index: Vec<usize> =
        COLUMNS.iter().map(|c| headers.iter().position(|h| h == c).unwrap_or(usize::MAX)).collect();
    let mut cx = Ctx { inv, file };
    let mut record = csv::StringRecord::new();
    let mut i = 0u32;
    loop {
        let start = rdr.position().byte() as usize;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let (line, at) = match e.position() {
                    Some(p) => (p.line(), p.byte() as usize),
                    None => (0, start),
                };
                let end = text.get(at..).and_then(|t| t.find('\n')).map_or(text.len(), |n| at + n);
                let msg = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!(
                            "row on line {line} has {len} fields, the header has {expected_len}"
                        )
                    }
                    _ => format!("malformed CSV on line {line}: {e}"),
                };
                let d = cx.inv.diag(Code::MalformedCsv, msg, file, Span::new(at, end));
                cx.inv.diags.push(d.help(
                    "every row has the 22 columns of the header; quote fields that contain commas",
                ));
                // The csv reader cannot resume inside a broken quote; stop at the first error.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
                i += 1;
                continue;
            }
        }
        let end = rdr.position().byte() as usize;
        let span = Span::new(start, end.min(text.len()));
        let line_text = text.get(span.start..span.end).unwrap_or("");
        // Locate each field in the row's text, moving forwards.
        let mut cursor = 0;
        let raw_fields: Vec<(&str, Span)> = record
            .iter()
            .map(|f| {
                let at =
                    line_text.get(cursor..).and_then(|t| t.find(f)).map_or(cursor, |p| cursor + p);
                cursor = at + f.len();
                (f, Span::new(span.start + at, span.start + at + f.len()))
            })
            .collect();
        let fields =
            index.iter().map(|&c| raw_fields.get(c).copied().unwrap_or(("", span))).collect();
        let row = Row { fields, origin: Origin { file, record: i, span } };
        convert_row(&mut cx, &row);
        i += 1;
    }
    cx.inv.set_records_read(file, u64::from(i));
    cx.inv
}

fn convert_row(cx: &mut Ctx, row: &Row<'_>) {
    let user = row.fields.first().map_or("", |f| f.0);
    let Some(&(arn, arn_span)) = row.fields.get(1).filter(|(a, _)| a.starts_with("arn:")) else {
        let span = row.fields.get(1).map_or(row.origin.span, |f| f.1);
        let d =
            cx.inv.diag(Code::MissingField, format!("row for `{user}` has no ARN"), cx.file, span);
        cx.inv.diags.push(d.help("the second column holds the user's ARN"));
        return;
    };
    let _ = arn_span;
    let root = user == "<root_account>";
    let mut rec = NodeRecord::new(arn, "identity", row.origin);
    rec.set("name", Input::str(if root { "root" } else { user }))
        .set("type", Input::str(if root { "root" } else { "iam_user" }))
        .set("source", Input::str("aws"));
    if let (Some(t), _) = cx.time(row, 2, arn) {
        rec.set("created_at", Input::Time(t));
    }
    if let Some(b) = cx.bool(row, 3, arn) {
        rec.set("password_enabled", Input::Bool(b));
    }
    let (t, state) = cx.time(row, 4, arn);
    if let Some(t) = t {
        rec.set("password_last_used_at", Input::Time(t));
    }
    rec.set("password_last_used_state", Input::str(state.state()));
    if let (Some(t), _) = cx.time(row, 5, arn) {
        rec.set("password_last_changed_at", Input::Time(t));
    }
    if let (Some(t), _) = cx.time(row, 6, arn) {
        rec.set("password_next_rotation_at", Input::Time(t));
    }
    if let Some(b) = cx.bool(row, 7, arn) {
        rec.set("mfa_active", Input::Bool(b));
    }
    cx.inv.add_node(rec);
    for (n, base) in [(1, 8), (2, 13)] {
        let active = cx.bool(row, base, arn);
        let (rotated, _) = cx.time(row, base + 1, arn);
        if active != Some(true) && rotated.is_none() {
            continue; // no such key
        }
        let id = format!("{arn}#access_key_{n}");
        let mut key = NodeRecord::new(&id, "credential", row.origin);
        key.set("name", Input::str(format!("{} access key {n}", if root { "root" } else { user })))
            .set("type", Input::str("access_key"))
            .set("source", Input::str("aws"))
            .set("ephemeral", Input::Bool(false));
        if let Some(a) = active {
            key.set("active", Input::Bool(a));
        }
        if let Some(t) = rotated {
            key.set("rotated_at", Input::Time(t));
        }
        let (used, state) = cx.time(row, base + 2, arn);
        if let Some(t) = used {
            key.set("last_used_at", Input::Time(t));
        }
        key.set("last_used_state", Input::str(state.state()));
        for (attr, col) in [("last_used_region", base + 3), ("last_used_service", base + 4)] {
            if let (Field::Value(v), _) = cx.field(row, col) {
                key.set(attr, Input::str(v));
            }
        }
        cx.inv.add_node(key);
        cx.inv.add_edge(EdgeRecord::new(arn, "has_credential", id, row.origin));
    }
    for (n, base) in [(1, 18), (2, 20)] {
        let active = cx.bool(row, base, arn);
        let (rotated, _) = cx.time(row, base + 1, arn);
        if active != Some(true) && rotated.is_none() {
            continue;
        }
        let id = format!("{arn}#cert_{n}");
        let mut cert = NodeRecord::new(&id, "credential", row.origin);
        cert.set(
            "name",
            Input::str(format!("{} signing certificate {n}", if root { "root" } else { user })),
        )
        .set("type", Input::str("certificate"))
        .set("source", Input::str("aws"))
        .set("ephemeral", Input::Bool(false));
        if let Some(a) = active {
            cert.set("active", Input::Bool(a));
        }
        if let Some(t) = rotated {
            cert.set("rotated_at", Input::Time(t));
        }
        cx.inv.add_node(cert);
        cx.inv.add_edge(EdgeRecord::new(arn, "has_credential", id, row.origin));
    }
}
