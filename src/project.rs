//! `gov.toml`: a project's policies, inventories and settings, read by the
//! command line and the language server so that the editor and CI agree.
//!
//! Owns: finding the file, reading it, and reporting an unknown key or a
//! value of the wrong type at its position. Must not: load policies or
//! inventories (it only names them, relative to the file's directory).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Code, Diag, Diagnostics};
use crate::source::{SourceFile, Span};
use crate::time::Timestamp;

/// The project file's name.
pub const FILE_NAME: &str = "gov.toml";

/// The values `fail_on` accepts (as `gov eval --fail-on`).
pub const FAIL_ON: &[&str] = &["advisory", "soft", "hard", "never"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    policies: Option<Vec<String>>,
    inventories: Option<Vec<String>>,
    mapping: Option<String>,
    now: Option<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    lenient: Option<bool>,
    plugins: Option<RawPlugins>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugins {
    fuel: Option<u64>,
    memory_mib: Option<u32>,
    cache: Option<String>,
}

/// A project file, its paths made relative to the directory it is in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Project {
    /// The directory of `gov.toml`.
    pub root: PathBuf,
    /// Policy files or directories (`policies`).
    pub policies: Vec<PathBuf>,
    /// Inventory files or directories (`inventories`).
    pub inventories: Vec<PathBuf>,
    /// A mapping file (`mapping`).
    pub mapping: Option<PathBuf>,
    /// The evaluation time (`now`).
    pub now: Option<Timestamp>,
    /// The enforcement level at which `gov eval` fails (`fail_on`).
    pub fail_on: Option<String>,
    /// Load the valid part of broken inventories (`lenient`).
    pub lenient: bool,
    /// Fuel per plugin call (`[plugins] fuel`).
    pub plugin_fuel: Option<u64>,
    /// Memory cap of a plugin instance in MiB (`[plugins] memory_mib`).
    pub plugin_memory_mib: Option<u32>,
    /// The compiled-module cache directory (`[plugins] cache`).
    pub plugin_cache: Option<PathBuf>,
}

/// The nearest `gov.toml` in `start` or a directory above it.
pub fn find(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(|d| d.join(FILE_NAME)).find(|p| p.is_file())
}

/// Reads and parses the project file at `path`.
pub fn load(path: &Path) -> Result<Project, Diagnostics> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostics::from(Diag::error(Code::Io, format!("cannot read `{name}`: {e}")))
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostics::from(Diag::error(Code::InvalidUtf8, format!("`{name}` is not valid UTF-8")))
    })?;
    let root = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    parse(&SourceFile::new(name, text), &root)
}

/// Parses a project file's text; paths are taken relative to `root`.
pub fn parse(file: &Arc<SourceFile>, root: &Path) -> Result<Project, Diagnostics> {
    let raw: Raw = toml::from_str(file.text()).map_err(|e| {
        let span = e.span().map_or(Span::new(0, 0), |r| Span::new(r.start, r.end));
        let message = e.message().trim().to_owned();
        let (code, help) = if message.starts_with("unknown field") {
            (
                Code::ProjectUnknownKey,
                "keys are policies, inventories, mapping, now, fail_on, lenient and a [plugins] table with fuel, memory_mib and cache",
            )
        } else {
            (Code::ProjectInvalidValue, "see \"The project file\" in docs/editors.md for each key's type")
        };
        Diagnostics::from(
            Diag::error(code, format!("invalid `{}`: {message}", crate::project::FILE_NAME))
                .in_file(file)
                .label(span, "here")
                .help(help),
        )
    })?;
    let mut diags = Diagnostics::new();
    let at = |s: &Spanned<String>| Span::new(s.span().start, s.span().end);
    let now = raw.now.as_ref().and_then(|n| match Timestamp::parse(n.get_ref()) {
        Ok(t) => Some(t),
        Err(e) => {
            diags.push(
                Diag::error(Code::ProjectInvalidValue, format!("`now` is not a date or time: {e}"))
                    .in_file(file)
                    .label(at(n), "here")
                    .help("write a date `2026-11-22` or an RFC 3339 time `2026-11-22T09:00:00Z`"),
            );
            None
        }
    });
    let fail_on = raw.fail_on.as_ref().and_then(|f| {
        if FAIL_ON.contains(&f.get_ref().as_str()) {
            Some(f.get_ref().clone())
        } else {
            let mut d = Diag::error(
                Code::ProjectInvalidValue,
                format!("`fail_on` is `{}`, not an enforcement level", f.get_ref()),
            )
            .in_file(file)
            .label(at(f), "here");
            d = match crate::diag::did_you_mean(f.get_ref(), FAIL_ON.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("one of `advisory`, `soft`, `hard`, `never`"),
            };
            diags.push(d);
            None
        }
    });
    if diags.has_errors() {
        return Err(diags);
    }
    let rel = |p: &String| root.join(p);
    let plugins = raw.plugins.as_ref();
    Ok(Project {
        root: root.to_path_buf(),
        policies: raw.policies.iter().flatten().map(rel).collect(),
        inventories: raw.inventories.iter().flatten().map(rel).collect(),
        mapping: raw.mapping.as_ref().map(rel),
        now,
        fail_on,
        lenient: raw.lenient.unwrap_or(false),
        plugin_fuel: plugins.and_then(|p| p.fuel),
        plugin_memory_mib: plugins.and_then(|p| p.memory_mib),
        plugin_cache: plugins.and_then(|p| p.cache.as_ref()).map(rel),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(t: &str) -> Result<Project, Diagnostics> {
        parse(&SourceFile::new("gov.toml", t), Path::new("/p"))
    }

    #[test]
    fn a_full_file_parses_with_paths_under_the_root() {
        let p = parse_text(
            "policies = [\"policies/\"]\ninventories = [\"inv.json\"]\nmapping = \"m.yaml\"\nnow = \"2026-11-22\"\nfail_on = \"soft\"\n[plugins]\nfuel = 5\nmemory_mib = 8\n",
        )
        .unwrap();
        assert_eq!(p.policies, [PathBuf::from("/p/policies/")]);
        assert_eq!(p.inventories, [PathBuf::from("/p/inv.json")]);
        assert_eq!(p.mapping, Some(PathBuf::from("/p/m.yaml")));
        assert_eq!(p.now, Timestamp::parse("2026-11-22").ok());
        assert_eq!(p.fail_on.as_deref(), Some("soft"));
        assert_eq!((p.plugin_fuel, p.plugin_memory_mib), (Some(5), Some(8)));
    }

    #[test]
    fn an_unknown_key_is_located() {
        let t = "policies = [\"p\"]\ninventory = [\"x\"]\n";
        let d = parse_text(t).unwrap_err().into_vec().remove(0);
        assert_eq!(d.code, Code::ProjectUnknownKey);
        let s = d.primary_span().unwrap();
        assert_eq!(&t[s.start..s.end], "inventory");
    }

    #[test]
    fn a_wrong_type_and_a_bad_level_are_located() {
        let t = "policies = \"p\"\n";
        let d = parse_text(t).unwrap_err().into_vec().remove(0);
        assert_eq!(d.code, Code::ProjectInvalidValue);
        assert_eq!(&t[d.primary_span().unwrap().start..d.primary_span().unwrap().end], "\"p\"");
        let t = "fail_on = \"hrad\"\n";
        let d = parse_text(t).unwrap_err().into_vec().remove(0);
        assert_eq!(d.help.as_deref(), Some("did you mean `hard`?"));
        assert_eq!(&t[d.primary_span().unwrap().start..d.primary_span().unwrap().end], "\"hrad\"");
    }
}
