//! The server's view of a project: every `.gov` file (open buffers over the
//! files on disk), their parse results, the checker's diagnostics for the
//! whole set, and an index of what each file declares.
//!
//! A file that does not parse keeps the last tree that did, so hover,
//! definition and completion keep working while the user types.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::Options;
use crate::diag::{Code, Diag, Diagnostics};
use crate::graph::Schema;
use crate::source::SourceFile;
use crate::syntax::ast::{Item, SchemaMember};
use crate::syntax::{Parsed, parse_bytes};
use crate::time::Timestamp;

/// Most `.gov` files read from disk at start (a root at `/` must not hang).
const MAX_WORKSPACE_FILES: usize = 20_000;

/// One `.gov` file.
pub struct File {
    /// The URI the client uses.
    pub uri: String,
    /// The current text (lossy for invalid UTF-8 on disk).
    pub text: Arc<SourceFile>,
    /// The current parse, when it succeeded.
    pub parsed: Option<Parsed>,
    /// The last parse that succeeded (may be older than `text`).
    pub last_good: Option<Parsed>,
    /// Parse errors of the current text.
    pub parse_diags: Diagnostics,
    /// Open in the editor (its text comes from the client, not the disk).
    pub open: bool,
}

/// What a declaration is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefKind {
    /// `rule`
    Rule,
    /// `exception`
    Exception,
    /// `decision`
    Decision,
    /// `const`
    Const,
    /// `fn`
    Fn,
    /// `plugin`
    Plugin,
    /// A function of a plugin (`name` is `plugin.fn`).
    PluginFn,
    /// `node` in a `schema` block.
    Kind,
    /// An attribute in a `schema` block (`container` is the kind).
    Attr,
    /// `edge` in a `schema` block.
    Edge,
    /// `enum` in a `schema` block.
    Enum,
    /// `test "..."`
    Test,
}

/// A top-level declaration (or a schema member) with its location.
#[derive(Clone, Debug)]
pub struct Def {
    /// The name.
    pub name: String,
    /// What it is.
    pub kind: DefKind,
    /// The file's URI.
    pub uri: String,
    /// The name's byte range.
    pub name_span: (usize, usize),
    /// The whole declaration's byte range.
    pub span: (usize, usize),
    /// The doc comment.
    pub docs: String,
    /// A one-line summary (signature, value).
    pub detail: String,
    /// For attributes: the kind they belong to.
    pub container: Option<String>,
}

/// All files and the results of the last analysis.
pub struct Workspace {
    /// Files by URI.
    pub files: BTreeMap<String, File>,
    /// The project root, if the client named one.
    pub root: Option<PathBuf>,
    /// The schema of the last policy set that compiled (the built-in one at first).
    pub schema: Arc<Schema>,
    /// The schema the policies extend (built-in, or the inventories').
    pub base_schema: Schema,
    /// Checker and parser diagnostics by URI.
    pub diags: BTreeMap<String, Vec<Diag>>,
    /// Declarations of every file.
    pub defs: Vec<Def>,
    /// "Now" for time-dependent lints (`None`: the clock).
    pub now: Option<Timestamp>,
    /// The project file, when the root has one: its URI, text and errors.
    pub project: Option<(String, Arc<SourceFile>, Vec<Diag>)>,
}

impl Workspace {
    /// An empty workspace over the built-in schema.
    pub fn new() -> Self {
        let base = Schema::builtin();
        Self {
            files: BTreeMap::new(),
            root: None,
            schema: Arc::new(base.clone()),
            base_schema: base,
            diags: BTreeMap::new(),
            defs: Vec::new(),
            now: None,
            project: None,
        }
    }

    /// Reads `gov.toml` at `root`, if there is one: `now`, the inventories
    /// (their schema extensions become the base schema) and the policy paths.
    /// Returns the policy paths to scan (the root when the file names none).
    pub fn load_project(&mut self, root: &Path) -> Vec<PathBuf> {
        let path = root.join(crate::project::FILE_NAME);
        let Ok(bytes) = std::fs::read(&path) else { return vec![root.to_path_buf()] };
        let uri = super::text::path_to_uri(&path);
        let file = SourceFile::new(
            path.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        );
        match crate::project::parse(&file, root) {
            Ok(p) => {
                let mut diags = Vec::new();
                if self.now.is_none() {
                    self.now = p.now;
                }
                // The inventories' schema, leniently: an editor shows what it
                // can of a half-written inventory.
                let sources = crate::load::Sources {
                    inventories: p.inventories.clone(),
                    mapping: p.mapping.clone(),
                    ..Default::default()
                };
                match crate::load::graph(&sources, crate::graph::Mode::Lenient) {
                    Ok(Some(g)) => self.base_schema = g.loaded.graph.schema().clone(),
                    Ok(None) => {}
                    Err(f) => {
                        diags.extend(f.diagnostics.into_iter().filter(Diag::is_error).take(20));
                    }
                }
                self.project = Some((uri, file, diags));
                if p.policies.is_empty() { vec![root.to_path_buf()] } else { p.policies }
            }
            Err(d) => {
                self.project = Some((uri, file, d.into_vec()));
                vec![root.to_path_buf()]
            }
        }
    }

    /// Reads every `.gov` file under `root` (a directory or a file) that is not open already.
    pub fn scan(&mut self, root: &Path) {
        let mut found = Vec::new();
        if root.is_file() {
            found.push(root.to_path_buf());
        }
        collect_gov_files(root, &mut found, 0);
        for path in found {
            let uri = super::text::path_to_uri(&path);
            if self.files.contains_key(&uri) {
                continue;
            }
            if let Ok(bytes) = std::fs::read(&path) {
                self.set_bytes(&uri, &bytes, false);
            }
        }
    }

    /// The display name of a URI: its path for `file:` URIs.
    fn name_of(uri: &str) -> String {
        super::text::uri_to_path(uri).map_or_else(|| uri.to_owned(), |p| p.display().to_string())
    }

    /// Sets a file's text from bytes (files on disk may be anything).
    pub fn set_bytes(&mut self, uri: &str, bytes: &[u8], open: bool) {
        let name = Self::name_of(uri);
        let text = String::from_utf8_lossy(bytes).into_owned();
        let (parsed, parse_diags) = match parse_bytes(&name, bytes) {
            Ok(p) => (Some(p), Diagnostics::new()),
            Err(d) => (None, d),
        };
        self.store(uri, SourceFile::new(name, text), parsed, parse_diags, open);
    }

    /// Sets a file's text (an open buffer).
    pub fn set_text(&mut self, uri: &str, text: String) {
        let name = Self::name_of(uri);
        let file = SourceFile::new(name.clone(), text);
        let (parsed, parse_diags) = match crate::syntax::parse(&file) {
            Ok(p) => (Some(p), Diagnostics::new()),
            Err(d) => (None, d),
        };
        self.store(uri, file, parsed, parse_diags, true);
    }

    fn store(
        &mut self,
        uri: &str,
        text: Arc<SourceFile>,
        parsed: Option<Parsed>,
        parse_diags: Diagnostics,
        open: bool,
    ) {
        let last_good =
            parsed.clone().or_else(|| self.files.get_mut(uri).and_then(|f| f.last_good.take()));
        self.files.insert(
            uri.to_owned(),
            File { uri: uri.to_owned(), text, parsed, last_good, parse_diags, open },
        );
    }

    /// Marks a file closed: its text comes from disk again (or it goes).
    pub fn close(&mut self, uri: &str) {
        match super::text::uri_to_path(uri).map(std::fs::read) {
            Some(Ok(bytes)) => self.set_bytes(uri, &bytes, false),
            _ => {
                self.files.remove(uri);
            }
        }
    }

    /// Checks the whole set and rebuilds the index.
    pub fn analyze(&mut self) {
        let mut diags: BTreeMap<String, Vec<Diag>> =
            self.files.keys().map(|u| (u.clone(), Vec::new())).collect();
        let mut by_name: BTreeMap<String, String> = BTreeMap::new();
        let mut parsed = Vec::new();
        let mut broken = false;
        for f in self.files.values() {
            by_name.insert(f.text.name().to_owned(), f.uri.clone());
            match &f.parsed {
                Some(p) => parsed.push(p.clone()),
                None => broken = true,
            }
            if let Some(list) = diags.get_mut(&f.uri) {
                list.extend(f.parse_diags.iter().cloned());
            }
        }
        let options = Options { now: self.now.unwrap_or_else(Timestamp::now) };
        let checked = match crate::check::compile(&parsed, &self.base_schema, &options) {
            Ok(c) => {
                self.schema = c.program.schema.clone();
                c.warnings
            }
            Err(d) => d,
        };
        for d in checked {
            // A rule in a file that does not parse is unknown to the others:
            // the parse error is the root cause, reported once.
            if broken && d.code == Code::UnknownRule {
                continue;
            }
            let uri = d.file.as_ref().and_then(|f| by_name.get(f.name()));
            if let Some(list) = uri.and_then(|u| diags.get_mut(u)) {
                list.push(d);
            }
        }
        self.diags = diags;
        self.defs = self.files.values().flat_map(file_defs).collect();
    }

    /// The tree to answer questions about a file: the current parse, or the last good one.
    pub fn tree(&self, uri: &str) -> Option<&Parsed> {
        let f = self.files.get(uri)?;
        f.parsed.as_ref().or(f.last_good.as_ref())
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

fn collect_gov_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 || out.len() >= MAX_WORKSPACE_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        let Ok(ty) = e.file_type() else { continue };
        let path = e.path();
        if ty.is_dir() {
            collect_gov_files(&path, out, depth + 1);
        } else if ty.is_file() && name.ends_with(".gov") && out.len() < MAX_WORKSPACE_FILES {
            out.push(path);
        }
    }
}

fn docs(lines: &[String]) -> String {
    lines.join("\n")
}

/// The first line of a declaration up to its body.
fn head(text: &str) -> String {
    let first = text.split('{').next().unwrap_or(text);
    first.lines().map(str::trim).collect::<Vec<_>>().join(" ").trim().to_owned()
}

fn file_defs(f: &File) -> Vec<Def> {
    let Some(p) = f.parsed.as_ref().or(f.last_good.as_ref()) else { return Vec::new() };
    // Spans of an older tree may point past the current text: keep them in range.
    let len = f.text.text().len();
    let sp = |l: &crate::source::Loc| (l.span.start.min(len), l.span.end.min(len));
    let mut out = Vec::new();
    let mut def = |name: &crate::syntax::ast::Name,
                   kind: DefKind,
                   loc: &crate::source::Loc,
                   docs: String,
                   detail: String,
                   container: Option<String>| {
        out.push(Def {
            name: name.name.clone(),
            kind,
            uri: f.uri.clone(),
            name_span: sp(&name.loc),
            span: sp(loc),
            docs,
            detail,
            container,
        });
    };
    for item in &p.module.items {
        match item {
            Item::Rule(r) => def(
                &r.name,
                DefKind::Rule,
                &r.loc,
                docs(&r.docs),
                format!("rule {}", r.name.name),
                None,
            ),
            Item::Exception(e) => {
                def(
                    &e.name,
                    DefKind::Exception,
                    &e.loc,
                    docs(&e.docs),
                    format!("exception {}", e.name.name),
                    None,
                );
            }
            Item::Decision(d) => {
                def(
                    &d.name,
                    DefKind::Decision,
                    &d.loc,
                    docs(&d.docs),
                    format!("decision {}", d.name.name),
                    None,
                );
            }
            Item::Const(c) => {
                def(&c.name, DefKind::Const, &c.loc, docs(&c.docs), head(c.loc.text()), None)
            }
            Item::Fn(x) => {
                def(&x.name, DefKind::Fn, &x.loc, docs(&x.docs), head(x.loc.text()), None)
            }
            Item::Plugin(pl) => {
                def(&pl.name, DefKind::Plugin, &pl.loc, docs(&pl.docs), head(pl.loc.text()), None);
                for pf in &pl.fns {
                    let name = crate::syntax::ast::Name {
                        name: format!("{}.{}", pl.name.name, pf.name.name),
                        loc: pf.name.loc.clone(),
                    };
                    def(
                        &name,
                        DefKind::PluginFn,
                        &pf.loc,
                        docs(&pf.docs),
                        head(pf.loc.text()),
                        Some(pl.name.name.clone()),
                    );
                }
            }
            Item::Schema(s) => {
                for m in &s.members {
                    match m {
                        SchemaMember::Node(n) => {
                            def(
                                &n.name,
                                DefKind::Kind,
                                &n.loc,
                                docs(&n.docs),
                                format!("node {}", n.name.name),
                                None,
                            );
                            for a in &n.attrs {
                                def(
                                    &a.name,
                                    DefKind::Attr,
                                    &a.loc,
                                    docs(&a.docs),
                                    head(a.loc.text()),
                                    Some(n.name.name.clone()),
                                );
                            }
                        }
                        SchemaMember::Edge(e) => def(
                            &e.name,
                            DefKind::Edge,
                            &e.loc,
                            docs(&e.docs),
                            head(e.loc.text()),
                            None,
                        ),
                        SchemaMember::Enum(e) => def(
                            &e.name,
                            DefKind::Enum,
                            &e.loc,
                            docs(&e.docs),
                            head(e.loc.text()),
                            None,
                        ),
                    }
                }
            }
            Item::Test(t) => {
                let name = crate::syntax::ast::Name {
                    name: t.name.value.clone(),
                    loc: t.name.loc.clone(),
                };
                def(
                    &name,
                    DefKind::Test,
                    &t.loc,
                    docs(&t.docs),
                    format!("test {:?}", t.name.value),
                    None,
                );
            }
            Item::Import(_) | Item::Priority(_) => {}
        }
    }
    out
}
