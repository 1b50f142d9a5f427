//! Exit codes and diagnostic printing shared by every command.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use gov::report::diagnostics;
use gov::{Code, Diag, Diagnostics};

use super::{ColorChoice, ErrorFormat};

/// Process exit codes (documented in the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// Policy violations at or above `--fail-on`, or `fmt --check` found unformatted files.
    Violations = 1,
    /// Bad command-line usage (clap also exits 2).
    Usage = 2,
    /// A policy file does not parse or check.
    InvalidPolicy = 3,
    /// An inventory does not load.
    InvalidInventory = 4,
    /// A file could not be read or written.
    Io = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// Where and how diagnostics are printed.
pub struct Output {
    format: ErrorFormat,
    color: bool,
    tty: bool,
}

impl Output {
    pub fn new(format: ErrorFormat, color: ColorChoice) -> Self {
        let tty = std::io::stderr().is_terminal();
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none(),
        };
        Self { format, color, tty }
    }

    /// Prints diagnostics to stderr in the chosen format, with a summary line.
    pub fn diagnostics(&self, ds: &Diagnostics) {
        self.each(ds);
        if !ds.is_empty() && self.format != ErrorFormat::Json {
            let _ = writeln!(std::io::stderr().lock(), "{}", diagnostics::summary(ds));
        }
    }

    /// Prints diagnostics to stderr in the chosen format, without a summary:
    /// JSON lists every one; people see the first few of each code in each
    /// file and a count of the rest.
    pub fn each(&self, ds: &Diagnostics) {
        if self.format == ErrorFormat::Json {
            ds.iter().for_each(|d| self.one(d));
        } else {
            diagnostics::capped(ds).iter().for_each(|d| self.one(d));
        }
    }

    /// Prints one diagnostic to stderr in the chosen format.
    pub fn one(&self, d: &Diag) {
        let mut err = std::io::stderr().lock();
        match self.format {
            ErrorFormat::Json => {
                let list: Diagnostics = d.clone().into();
                for v in diagnostics::render_json(&list).as_array().into_iter().flatten() {
                    let _ = writeln!(err, "{v}");
                }
            }
            ErrorFormat::Human if self.tty => {
                let _ = write!(err, "{}", diagnostics::render_fancy(d, self.color));
            }
            _ => {
                let _ = writeln!(err, "{}", diagnostics::render_plain(d));
            }
        }
    }

    /// Prints one diagnostic and returns `exit`: every error of the command
    /// line goes through here, so `--error-format json` sees each one.
    pub fn fail(&self, exit: Exit, d: Diag) -> Exit {
        self.one(&d);
        exit
    }

    /// A line for people after the diagnostics (a count, what was kept);
    /// JSON consumers get only the diagnostics.
    pub fn note(&self, line: &str) {
        if self.format != ErrorFormat::Json {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    /// Prints one I/O problem and returns the I/O exit code.
    pub fn io_error(&self, path: &str, e: &std::io::Error) -> Exit {
        self.diagnostics(&Diag::error(Code::Io, format!("cannot read `{path}`: {e}")).into());
        Exit::Io
    }

    /// [`Output::io_error`] for a file that could not be written.
    pub fn io_write_error(&self, path: &str, e: &std::io::Error) -> Exit {
        self.diagnostics(&Diag::error(Code::Io, format!("cannot write `{path}`: {e}")).into());
        Exit::Io
    }
}

/// A usage error (`gov::cli::usage`, exit 2) with its hint.
pub fn usage(out: &Output, message: &str, help: &str) -> Exit {
    out.fail(Exit::Usage, Diag::error(Code::CliUsage, message).help(help))
}

/// A rule, entity or node named on the command line that does not exist
/// (`gov::cli::not_found`, exit 2), with the nearest name when one is close.
pub fn not_found<'a>(
    out: &Output,
    what: &str,
    name: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Exit {
    let mut d = Diag::error(Code::CliNotFound, format!("no {what} `{name}`"));
    if let Some(s) = gov::diag::did_you_mean(name, known) {
        d = d.help(format!("did you mean `{s}`?"));
    }
    out.fail(Exit::Usage, d)
}

/// Writes a command's result through `body` to `path` (atomically) or to
/// standard output, and reports a failed write as `gov::io` (exit 5).
pub fn write_result(
    out: &Output,
    path: Option<&std::path::Path>,
    body: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), Exit> {
    let written = match path {
        Some(path) => write_atomically(path, body),
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            body(&mut w).and_then(|()| std::io::Write::flush(&mut w))
        }
    };
    written.map_err(|e| {
        let name = path.map_or("<stdout>".to_owned(), |p| p.display().to_string());
        out.io_write_error(&name, &e)
    })
}

/// Writes `path` through `body`, buffered, under a temporary name beside it
/// that is renamed when complete: a failed write (a full disk) never leaves
/// a truncated file where the last good one was, nor the temporary behind.
pub fn write_atomically(
    path: &std::path::Path,
    body: &mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".gov-partial");
    let partial = path.with_file_name(name);
    let written = std::fs::File::create(&partial).and_then(|f| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
        body(&mut out)?;
        out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&partial, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

pub use gov::source::policy_files;
