//! Diagnostics for people and tools.
//!
//! - `plain`: stable, colourless, rustc-like text for logs, screen readers and
//!   snapshot tests (one `error[code]: message`, the location, the source line
//!   with a caret underline, then `= help:`).
//! - `json`: one object per diagnostic, for editors and CI annotations.
//! - `fancy` (feature `cli`): miette's graphical renderer, for terminals.

use std::fmt::Write as _;

use serde::Serialize;

use crate::diag::{Diag, Diagnostics, Severity};

/// Renders one diagnostic as plain text (ends with a newline).
pub fn render_plain(d: &Diag) -> String {
    let mut out = String::new();
    let sev = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{sev}[{}]: {}", d.code, d.message);
    if let Some(file) = &d.file {
        let mut first = true;
        for label in &d.labels {
            let (line, col) = file.line_col(label.span.start);
            let gutter = line.to_string().len();
            let pad = " ".repeat(gutter);
            if first {
                let _ = writeln!(out, "{pad}--> {}:{line}:{col}", file.name());
            } else {
                let _ = writeln!(out, "{pad}::: {}:{line}:{col}", file.name());
            }
            let w = window(file.text(), label.span);
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{line} | {}{}{}", w.before, w.text, w.after);
            // Underline within the shown text, measured in characters.
            let width = w.text.get(w.start..w.end).map_or(0, |s| s.chars().count()).max(1);
            let offset: String = w
                .before
                .chars()
                .chain(w.text.get(..w.start).unwrap_or("").chars())
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let mark = if first { "^" } else { "-" };
            let _ =
                writeln!(out, "{pad} | {offset}{} {}", mark.repeat(width), label.text).map(|_| ());
            first = false;
        }
        // Remove the trailing space left by an empty label text.
        out = out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
        out.push('\n');
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out
}

/// Lines longer than this many bytes are shown as a window around the span.
pub const MAX_LINE_BYTES: usize = 240;
/// Bytes of context shown on each side of a span in a long line.
const WINDOW_CONTEXT: usize = 80;
/// Bytes of a span shown in a long line (the underline stops there).
const WINDOW_SPAN: usize = 160;

/// The part of a span's line that is shown: the whole line when it is
/// short, else a window around the span, with `…` where text is left out.
struct Window<'a> {
    before: &'static str,
    text: &'a str,
    after: &'static str,
    /// The span within `text` (bytes).
    start: usize,
    end: usize,
}

fn window(text: &str, span: crate::source::Span) -> Window<'_> {
    let start = floor_boundary(text, span.start.min(text.len()));
    let line_start = text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let line_end = text.get(start..).and_then(|t| t.find('\n')).map_or(text.len(), |i| start + i);
    let line = text.get(line_start..line_end).unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    // A span may start on the line's `\r` (or past the text): after the
    // strip it points at the line's end.
    let s = (start - line_start).min(line.len());
    let e = span.end.saturating_sub(line_start).clamp(s, line.len());
    if line.len() <= MAX_LINE_BYTES {
        return Window { before: "", text: line, after: "", start: s, end: e };
    }
    let e = floor_boundary(line, e.min(s + WINDOW_SPAN));
    let from = floor_boundary(line, s.saturating_sub(WINDOW_CONTEXT));
    let to = ceil_boundary(line, (e + WINDOW_CONTEXT).min(line.len()));
    Window {
        before: if from > 0 { "…" } else { "" },
        text: line.get(from..to).unwrap_or(""),
        after: if to < line.len() { "…" } else { "" },
        start: s - from,
        end: e - from,
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i.min(s.len())
}

/// Diagnostics of one code in one file shown before the rest are counted.
pub const MAX_PER_CODE_PER_FILE: usize = 10;

/// What a person is shown of a list: the first [`MAX_PER_CODE_PER_FILE`]
/// diagnostics of each code in each file, in order, then for each code and
/// file with more, one `gov::report::omitted` diagnostic that counts the
/// rest. A minified file with thousands of one problem stays readable, and
/// its output small. Tools that need every diagnostic read the JSON output.
pub fn capped(ds: &Diagnostics) -> Diagnostics {
    use std::collections::HashMap;
    let mut seen: HashMap<(crate::diag::Code, Option<&str>), usize> = HashMap::new();
    // (code, file, how many left out, any of them an error), in order of first omission.
    let mut left_out: Vec<(
        crate::diag::Code,
        Option<std::sync::Arc<crate::source::SourceFile>>,
        usize,
        bool,
    )> = Vec::new();
    let mut out = Diagnostics::new();
    for d in ds {
        let key = (d.code, d.file.as_deref().map(crate::source::SourceFile::name));
        let n = seen.entry(key).or_insert(0);
        *n += 1;
        if *n <= MAX_PER_CODE_PER_FILE {
            out.push(d.clone());
            continue;
        }
        let name = key.1;
        match left_out.iter_mut().find(|(c, f, _, _)| {
            *c == d.code && f.as_deref().map(crate::source::SourceFile::name) == name
        }) {
            Some(entry) => {
                entry.2 += 1;
                entry.3 |= d.is_error();
            }
            None => left_out.push((d.code, d.file.clone(), 1, d.is_error())),
        }
    }
    for (code, file, n, error) in left_out {
        let where_ = file.as_ref().map_or(String::new(), |f| format!(" in `{}`", f.name()));
        let message = format!("{} more `{code}`{where_} not shown", crate::diag::thousands(n));
        let d = if error {
            Diag::error(crate::diag::Code::Omitted, message)
        } else {
            Diag::warning(crate::diag::Code::Omitted, message)
        };
        out.push(d.help(format!(
            "the first {MAX_PER_CODE_PER_FILE} of each code in each file are shown; `--error-format json` lists every one"
        )));
    }
    out
}

/// Renders a list as plain text with a summary line (repeats counted, see [`capped`]).
pub fn render_plain_all(ds: &Diagnostics) -> String {
    let mut out = String::new();
    for d in &capped(ds) {
        out.push_str(&render_plain(d));
        out.push('\n');
    }
    out.push_str(&summary(ds));
    out.push('\n');
    out
}

/// `2 errors, 1 warning`.
pub fn summary(ds: &Diagnostics) -> String {
    let e = ds.error_count();
    let w = ds.warning_count();
    let plural = |n: usize, s: &str| if n == 1 { format!("{n} {s}") } else { format!("{n} {s}s") };
    match (e, w) {
        (0, 0) => "no problems".to_owned(),
        (_, 0) => plural(e, "error"),
        (0, _) => plural(w, "warning"),
        _ => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    text: &'a str,
    start: usize,
    end: usize,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonDiag<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
}

/// One JSON value per diagnostic, as an array.
pub fn render_json(ds: &Diagnostics) -> serde_json::Value {
    let items: Vec<JsonDiag<'_>> = ds
        .iter()
        .map(|d| {
            let labels: Vec<JsonLabel<'_>> = d
                .labels
                .iter()
                .map(|l| {
                    let (line, column) =
                        d.file.as_ref().map_or((0, 0), |f| f.line_col(l.span.start));
                    JsonLabel { text: &l.text, start: l.span.start, end: l.span.end, line, column }
                })
                .collect();
            JsonDiag {
                code: d.code.as_str(),
                severity: d.severity,
                message: &d.message,
                file: d.file.as_ref().map(|f| f.name()),
                line: labels.first().map(|l| l.line),
                column: labels.first().map(|l| l.column),
                labels,
                help: d.help.as_deref(),
            }
        })
        .collect();
    serde_json::to_value(items).unwrap_or(serde_json::Value::Null)
}

/// miette's graphical rendering (colour when `color` is set).
#[cfg(feature = "cli")]
pub fn render_fancy(d: &Diag, color: bool) -> String {
    // miette shows whole lines: a long (minified) line is shown as plain
    // text's window around the span instead.
    if let Some(file) = &d.file
        && d.labels.iter().any(|l| {
            window(file.text(), l.span).after == "…" || window(file.text(), l.span).before == "…"
        })
    {
        return render_plain(d);
    }
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, d).is_err() {
        out = render_plain(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::source::{SourceFile, Span};

    /// Found by the `mapping` fuzz target: a span at the `\r` that ends a
    /// file lay past the line once the `\r` was stripped.
    #[test]
    fn a_span_on_a_line_ending_carriage_return_renders() {
        let src = SourceFile::new("mapping.yaml", "\"\r");
        let d = crate::ingest::Mapping::parse(&src).expect_err("an unterminated string");
        let text = render_plain(&d);
        assert!(text.contains("mapping.yaml:1:"), "{text}");
        for (start, end) in [(1, 2), (2, 2), (2, 1), (0, 9)] {
            let d = Diag::error(Code::InvalidMapping, "x")
                .in_file(&src)
                .label(Span::new(start, end), "here");
            let _ = render_plain(&d);
        }
        let crlf = SourceFile::new("a.yaml", "a: 1\r\nb: \"\r\n");
        let d =
            Diag::error(Code::InvalidMapping, "x").in_file(&crlf).label(Span::new(10, 12), "here");
        assert!(render_plain(&d).contains("a.yaml:2:"));
    }

    #[test]
    fn plain_output_points_at_the_span() {
        let f = SourceFile::new("p.gov", "rule r {\n  require x = 1\n}\n");
        let d = Diag::error(Code::AssignInsteadOfEq, "expected `==` to compare, found `=`")
            .in_file(&f)
            .label(Span::new(21, 22), "`=` does not compare")
            .help("write `==`");
        assert_eq!(
            render_plain(&d),
            "error[gov::parse::assign_instead_of_eq]: expected `==` to compare, found `=`\n \
             --> p.gov:2:13\n  |\n2 |   require x = 1\n  |             ^ `=` does not compare\n  = help: write `==`\n"
        );
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_span() {
        let line = format!("{}TARGET{}", "a".repeat(5000), "b".repeat(5000));
        let f = SourceFile::new("min.json", format!("{line}\n"));
        let d = Diag::warning(Code::UnresolvedEdge, "unresolved")
            .in_file(&f)
            .label(Span::new(5000, 5006), "here");
        let out = render_plain(&d);
        assert!(out.len() < 600, "{} bytes:\n{out}", out.len());
        let shown = out.lines().nth(3).unwrap_or_default();
        assert!(shown.starts_with("1 | …a") && shown.ends_with("b…"), "{shown}");
        let caret = out.lines().nth(4).unwrap_or_default();
        // The underline sits under TARGET: same column in the shown line.
        let at = shown.chars().position(|c| c == 'T').unwrap_or_default();
        assert_eq!(caret.chars().position(|c| c == '^'), Some(at), "{out}");
        assert!(caret.contains("^^^^^^ here"), "{out}");
    }

    #[test]
    fn repeats_of_one_code_in_one_file_are_counted_not_shown() {
        let a = SourceFile::new("a.json", "x");
        let b = SourceFile::new("b.json", "x");
        let mut ds = Diagnostics::new();
        for _ in 0..25 {
            ds.push(Diag::warning(Code::UnresolvedEdge, "u").in_file(&a));
        }
        for _ in 0..3 {
            ds.push(Diag::warning(Code::UnresolvedEdge, "u").in_file(&b));
        }
        ds.push(Diag::error(Code::DanglingEdge, "d").in_file(&a));
        let shown = capped(&ds);
        assert_eq!(shown.len(), MAX_PER_CODE_PER_FILE + 3 + 1 + 1);
        let last = shown.iter().last().map(|d| (d.code, d.message.clone()));
        assert_eq!(
            last,
            Some((
                Code::Omitted,
                "15 more `gov::ingest::unresolved_edge` in `a.json` not shown".into()
            ))
        );
        assert!(render_plain_all(&ds).ends_with("1 error, 28 warnings\n"));
    }
}
