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
            let src = file.line_text(line);
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{line} | {src}");
            // Underline within this line, measured in characters.
            let line_start = label.span.start + 1 - col;
            let end_in_line = (label.span.end.saturating_sub(line_start)).min(src.len());
            let width = src
                .get(
                    col.saturating_sub(1).min(src.len())
                        ..end_in_line.max(col.saturating_sub(1)).min(src.len()),
                )
                .map_or(0, |s| s.chars().count())
                .max(1);
            let offset: String =
                src.chars().take(col - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
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

/// Renders a list as plain text with a summary line.
pub fn render_plain_all(ds: &Diagnostics) -> String {
    let mut out = String::new();
    for d in ds {
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
}
