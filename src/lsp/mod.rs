//! `gov lsp`: the language server. Diagnostics (the checker's, with codes,
//! related spans and help), hover, go to definition, references, completion,
//! symbols, formatting (the canonical formatter), rename and quick fixes.
//!
//! Owns: the protocol loop and the translation between the protocol's
//! positions and the checker's byte spans. Must not: check or format on its
//! own; it calls [`crate::check`] and [`crate::syntax::fmt`]. The loop is
//! synchronous (rust-analyzer's `lsp-server`): one thread, no runtime, so a
//! test drives it in-process over [`Connection::memory`].

mod features;
mod text;
mod workspace;

use std::collections::HashMap;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{self as notif, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CompletionResponse, DiagnosticRelatedInformation, DiagnosticSeverity, DocumentSymbolResponse,
    GotoDefinitionResponse, Hover, HoverContents, HoverProviderCapability, Location, MarkupContent,
    MarkupKind, NumberOrString, OneOf, PublishDiagnosticsParams, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri,
};
use serde_json::Value;

pub use text::{LineIndex, path_to_uri, uri_to_path};
use workspace::Workspace;

/// How long the server waits after a change for the next one before it
/// checks the workspace: typing a word checks once, not once a letter.
pub const DEBOUNCE: Duration = Duration::from_millis(15);

/// Why the server stopped.
#[derive(Debug, thiserror::Error)]
pub enum LspError {
    /// The protocol broke (the client went away mid-handshake, say).
    #[error("language server protocol error: {0}")]
    Protocol(String),
}

impl From<lsp_server::ProtocolError> for LspError {
    fn from(e: lsp_server::ProtocolError) -> Self {
        Self::Protocol(e.to_string())
    }
}

/// Runs the server over stdin and stdout until the client says `exit`.
pub fn run_stdio() -> Result<(), LspError> {
    let (conn, io) = Connection::stdio();
    serve(&conn)?;
    drop(conn);
    io.join().map_err(|e| LspError::Protocol(e.to_string()))
}

/// The capabilities the server announces.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        completion_provider: Some(lsp_types::CompletionOptions {
            trigger_characters: Some(vec![".".into(), "[".into(), ":".into(), " ".into()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(lsp_types::CodeActionProviderCapability::Simple(true)),
        ..Default::default()
    }
}

/// Runs the server on a connection: the handshake, then messages until `exit`.
pub fn serve(conn: &Connection) -> Result<(), LspError> {
    let caps =
        serde_json::to_value(capabilities()).map_err(|e| LspError::Protocol(e.to_string()))?;
    let params = conn.initialize(caps)?;
    let mut server = Server {
        ws: Workspace::new(),
        published: HashMap::new(),
        touched: std::collections::HashSet::new(),
        dirty: true,
    };
    server.init(&params);
    loop {
        let msg = if server.dirty {
            match conn.receiver.recv_timeout(DEBOUNCE) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    server.refresh(conn);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        } else {
            match conn.receiver.recv() {
                Ok(m) => m,
                Err(_) => return Ok(()),
            }
        };
        match msg {
            Message::Request(r) => {
                if conn.handle_shutdown(&r)? {
                    return Ok(());
                }
                if server.dirty {
                    server.refresh(conn);
                }
                let id = r.id.clone();
                // A bug in one handler must not take the editor's server down.
                let resp =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.request(r)))
                        .unwrap_or_else(|_| {
                            Response::new_err(
                                id,
                                ErrorCode::InternalError as i32,
                                "internal error".into(),
                            )
                        });
                send(conn, Message::Response(resp));
            }
            Message::Notification(n) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    server.notification(n)
                }));
            }
            Message::Response(_) => {}
        }
    }
}

fn send(conn: &Connection, msg: Message) {
    // The client has gone when this fails; the loop ends at the next receive.
    let _ = conn.sender.send(msg);
}

struct Server {
    ws: Workspace,
    /// What each file's diagnostics were when last published.
    published: HashMap<String, Vec<lsp_types::Diagnostic>>,
    /// Files opened or edited since the last check: they get a list even when it is unchanged.
    touched: std::collections::HashSet<String>,
    dirty: bool,
}

/// Reads a request's or notification's parameters.
fn params<P: serde::de::DeserializeOwned>(v: Value) -> Result<P, String> {
    serde_json::from_value(v).map_err(|e| format!("invalid parameters: {e}"))
}

impl Server {
    fn init(&mut self, params: &Value) {
        let root = params
            .get("workspaceFolders")
            .and_then(|f| f.get(0))
            .and_then(|f| f.get("uri"))
            .or_else(|| params.get("rootUri"))
            .and_then(Value::as_str)
            .and_then(uri_to_path);
        if let Some(now) = params.pointer("/initializationOptions/now").and_then(Value::as_str) {
            self.ws.now = crate::time::Timestamp::parse(now).ok();
        }
        if let Some(root) = root {
            for path in self.ws.load_project(&root) {
                self.ws.scan(&path);
            }
            self.ws.root = Some(root);
        }
    }

    /// Checks the workspace and publishes the diagnostics that changed.
    fn refresh(&mut self, conn: &Connection) {
        self.dirty = false;
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.ws.analyze())).is_err() {
            return;
        }
        for (uri, diags) in &self.ws.diags {
            let Some(f) = self.ws.files.get(uri) else { continue };
            let Ok(u) = uri.parse::<Uri>() else { continue };
            let ix = LineIndex::new(f.text.text());
            let list: Vec<lsp_types::Diagnostic> =
                diags.iter().map(|d| to_lsp_diag(d, &ix, &u)).collect();
            let unchanged = self.published.get(uri) == Some(&list)
                || (list.is_empty() && !self.published.contains_key(uri));
            if unchanged && !self.touched.contains(uri) {
                continue;
            }
            self.published.insert(uri.clone(), list.clone());
            let p = PublishDiagnosticsParams::new(u, list, None);
            if let Ok(v) = serde_json::to_value(p) {
                send(
                    conn,
                    Message::Notification(Notification::new(
                        notif::PublishDiagnostics::METHOD.into(),
                        v,
                    )),
                );
            }
        }
        if let Some((uri, file, diags)) = &self.ws.project
            && !diags.is_empty()
            && !self.published.contains_key(uri)
            && let Ok(u) = uri.parse::<Uri>()
        {
            // The project file does not change while the server runs: published once.
            let ix = LineIndex::new(file.text());
            let list: Vec<lsp_types::Diagnostic> =
                diags.iter().map(|d| to_lsp_diag(d, &ix, &u)).collect();
            self.published.insert(uri.clone(), list.clone());
            if let Ok(v) = serde_json::to_value(PublishDiagnosticsParams::new(u, list, None)) {
                send(
                    conn,
                    Message::Notification(Notification::new(
                        notif::PublishDiagnostics::METHOD.into(),
                        v,
                    )),
                );
            }
        }
        // Files that went away get an empty list once.
        self.touched.clear();
        let project = self.ws.project.as_ref().map(|p| p.0.as_str());
        let gone: Vec<String> = self
            .published
            .keys()
            .filter(|u| !self.ws.files.contains_key(*u) && Some(u.as_str()) != project)
            .cloned()
            .collect();
        for uri in gone {
            self.published.remove(&uri);
            if let Ok(u) = uri.parse::<Uri>()
                && let Ok(v) =
                    serde_json::to_value(PublishDiagnosticsParams::new(u, Vec::new(), None))
            {
                send(
                    conn,
                    Message::Notification(Notification::new(
                        notif::PublishDiagnostics::METHOD.into(),
                        v,
                    )),
                );
            }
        }
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            notif::DidOpenTextDocument::METHOD => {
                if let Ok(p) = params::<lsp_types::DidOpenTextDocumentParams>(n.params) {
                    self.ws.set_text(p.text_document.uri.as_str(), p.text_document.text);
                    self.touched.insert(p.text_document.uri.as_str().to_owned());
                    self.dirty = true;
                }
            }
            notif::DidChangeTextDocument::METHOD => {
                if let Ok(p) = params::<lsp_types::DidChangeTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri.as_str();
                    let mut text = self
                        .ws
                        .files
                        .get(uri)
                        .map(|f| f.text.text().to_owned())
                        .unwrap_or_default();
                    for c in p.content_changes {
                        match c.range {
                            // Full sync is announced, but a client may still send ranges.
                            Some(r) => {
                                let ix = LineIndex::new(&text);
                                let (s, e) = (ix.offset(r.start), ix.offset(r.end));
                                if s <= e && text.is_char_boundary(s) && text.is_char_boundary(e) {
                                    text.replace_range(s..e, &c.text);
                                }
                            }
                            None => text = c.text,
                        }
                    }
                    self.ws.set_text(uri, text);
                    self.touched.insert(uri.to_owned());
                    self.dirty = true;
                }
            }
            notif::DidCloseTextDocument::METHOD => {
                if let Ok(p) = params::<lsp_types::DidCloseTextDocumentParams>(n.params) {
                    self.ws.close(p.text_document.uri.as_str());
                    self.dirty = true;
                }
            }
            notif::DidChangeWatchedFiles::METHOD => {
                if let Ok(p) = params::<lsp_types::DidChangeWatchedFilesParams>(n.params) {
                    for c in p.changes {
                        let uri = c.uri.as_str();
                        if self.ws.files.get(uri).is_some_and(|f| f.open) {
                            continue;
                        }
                        self.ws.close(uri);
                    }
                    self.dirty = true;
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, r: Request) -> Response {
        let id = r.id.clone();
        let result = self.dispatch(r);
        match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, msg)) => Response::new_err(id, code as i32, msg),
        }
    }

    /// The byte offset of a position in a document, with the document's URI.
    fn at(&self, doc: &lsp_types::TextDocumentPositionParams) -> Option<(String, usize)> {
        let uri = doc.text_document.uri.as_str().to_owned();
        let f = self.ws.files.get(&uri)?;
        Some((uri, LineIndex::new(f.text.text()).offset(doc.position)))
    }

    fn location(&self, uri: &str, span: (usize, usize)) -> Option<Location> {
        let f = self.ws.files.get(uri)?;
        let u = uri.parse::<Uri>().ok()?;
        Some(Location::new(u, LineIndex::new(f.text.text()).range(span.0, span.1)))
    }

    fn dispatch(&mut self, r: Request) -> Result<Value, (ErrorCode, String)> {
        let bad = |e: String| (ErrorCode::InvalidParams, e);
        let json = |v: Result<Value, serde_json::Error>| {
            v.map_err(|e| (ErrorCode::InternalError, e.to_string()))
        };
        match r.method.as_str() {
            req::HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = params(r.params).map_err(bad)?;
                let Some((uri, off)) = self.at(&p.text_document_position_params) else {
                    return Ok(Value::Null);
                };
                let Some((md, span)) = features::hover(&self.ws, &uri, off) else {
                    return Ok(Value::Null);
                };
                let range = self.location(&uri, span).map(|l| l.range);
                json(serde_json::to_value(Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: md,
                    }),
                    range,
                }))
            }
            req::GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams = params(r.params).map_err(bad)?;
                let Some((uri, off)) = self.at(&p.text_document_position_params) else {
                    return Ok(Value::Null);
                };
                let loc = features::definition(&self.ws, &uri, off)
                    .and_then(|(u, s)| self.location(&u, s));
                json(serde_json::to_value(loc.map(GotoDefinitionResponse::Scalar)))
            }
            req::References::METHOD => {
                let p: lsp_types::ReferenceParams = params(r.params).map_err(bad)?;
                let Some((uri, off)) = self.at(&p.text_document_position) else {
                    return Ok(Value::Null);
                };
                let locs: Vec<Location> = features::references(&self.ws, &uri, off)
                    .into_iter()
                    .filter_map(|(u, s)| self.location(&u, s))
                    .collect();
                json(serde_json::to_value(locs))
            }
            req::Completion::METHOD => {
                let p: lsp_types::CompletionParams = params(r.params).map_err(bad)?;
                let Some((uri, off)) = self.at(&p.text_document_position) else {
                    return Ok(Value::Null);
                };
                json(serde_json::to_value(CompletionResponse::Array(features::completion(
                    &self.ws, &uri, off,
                ))))
            }
            req::DocumentSymbolRequest::METHOD => {
                let p: lsp_types::DocumentSymbolParams = params(r.params).map_err(bad)?;
                let syms = features::document_symbols(&self.ws, p.text_document.uri.as_str());
                json(serde_json::to_value(DocumentSymbolResponse::Nested(syms)))
            }
            req::WorkspaceSymbolRequest::METHOD => {
                let p: lsp_types::WorkspaceSymbolParams = params(r.params).map_err(bad)?;
                let syms: Vec<lsp_types::WorkspaceSymbol> =
                    features::workspace_symbols(&self.ws, &p.query)
                        .into_iter()
                        .map(|(d, loc)| lsp_types::WorkspaceSymbol {
                            name: d.name,
                            kind: features::symbol_kind(d.kind),
                            tags: None,
                            container_name: d.container,
                            location: OneOf::Left(loc),
                            data: None,
                        })
                        .collect();
                json(serde_json::to_value(syms))
            }
            req::Formatting::METHOD => {
                let p: lsp_types::DocumentFormattingParams = params(r.params).map_err(bad)?;
                let Some(f) = self.ws.files.get(p.text_document.uri.as_str()) else {
                    return Ok(Value::Null);
                };
                // Text that does not parse is left alone: its diagnostics say why.
                let Some(parsed) = &f.parsed else { return Ok(Value::Null) };
                let formatted = crate::syntax::format(parsed);
                if formatted == f.text.text() {
                    return json(serde_json::to_value(Vec::<TextEdit>::new()));
                }
                let ix = LineIndex::new(f.text.text());
                json(serde_json::to_value(vec![TextEdit::new(
                    ix.range(0, f.text.text().len()),
                    formatted,
                )]))
            }
            req::Rename::METHOD => {
                let p: lsp_types::RenameParams = params(r.params).map_err(bad)?;
                let Some((uri, off)) = self.at(&p.text_document_position) else {
                    return Ok(Value::Null);
                };
                let edits = features::rename(&self.ws, &uri, off, &p.new_name)
                    .map_err(|e| (ErrorCode::RequestFailed, e))?;
                json(serde_json::to_value(features::workspace_edit(&self.ws, edits, &p.new_name)))
            }
            req::CodeActionRequest::METHOD => {
                let p: lsp_types::CodeActionParams = params(r.params).map_err(bad)?;
                let uri = p.text_document.uri.as_str();
                let Some(f) = self.ws.files.get(uri) else { return Ok(Value::Null) };
                let ix = LineIndex::new(f.text.text());
                let range = (ix.offset(p.range.start), ix.offset(p.range.end));
                json(serde_json::to_value(features::code_actions(&self.ws, uri, range)))
            }
            _ => Err((ErrorCode::MethodNotFound, format!("`{}` is not supported", r.method))),
        }
    }
}

/// The protocol's form of a checker diagnostic: code, message and help,
/// the secondary labels as related information.
fn to_lsp_diag(d: &crate::Diag, ix: &LineIndex<'_>, uri: &Uri) -> lsp_types::Diagnostic {
    let span = d.primary_span().unwrap_or_default();
    let mut message = d.message.clone();
    if let Some(primary) = d.labels.first().filter(|l| !l.text.is_empty()) {
        message.push_str(&format!(": {}", primary.text));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .skip(1)
        .map(|l| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), ix.range(l.span.start, l.span.end)),
            message: if l.text.is_empty() { "here".to_owned() } else { l.text.clone() },
        })
        .collect();
    lsp_types::Diagnostic {
        range: ix.range(span.start, span.end),
        severity: Some(match d.severity {
            crate::Severity::Error => DiagnosticSeverity::ERROR,
            crate::Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_owned())),
        source: Some("gov".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}
