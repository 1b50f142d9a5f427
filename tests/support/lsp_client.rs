//! A small LSP client for tests: drives `gov::lsp::serve` in-process over an
//! in-memory connection with real JSON-RPC messages.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};

pub struct Client {
    conn: Connection,
    next_id: i32,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Notifications received while waiting for responses.
    pub notifications: Vec<Notification>,
}

impl Client {
    /// Starts a server with `root` as its workspace folder.
    pub fn start(root: Option<&std::path::Path>, init_options: Value) -> Self {
        let (server, conn) = Connection::memory();
        let thread = std::thread::spawn(move || {
            gov::lsp::serve(&server).expect("server ends cleanly");
        });
        let mut c = Client { conn, next_id: 0, thread: Some(thread), notifications: Vec::new() };
        let root_uri = root.map(gov::lsp::path_to_uri);
        let init = c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "capabilities": {},
                "initializationOptions": init_options,
            }),
        );
        assert!(init.get("capabilities").is_some(), "{init}");
        c.notify("initialized", json!({}));
        c
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(method.into(), params)))
            .unwrap();
    }

    /// Sends a request and waits for its response; returns the result or `{"error": ...}`.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.conn
            .sender
            .send(Message::Request(Request::new(id.clone(), method.into(), params)))
            .unwrap();
        loop {
            match self.conn.receiver.recv_timeout(Duration::from_secs(60)).expect("server answers")
            {
                Message::Response(r) if r.id == id => {
                    return match r.response_result {
                        Err(e) => json!({"error": {"code": e.code, "message": e.message}}),
                        Ok(v) => v,
                    };
                }
                Message::Notification(n) => self.notifications.push(n),
                _ => {}
            }
        }
    }

    /// Waits for the next diagnostics published for `uri`.
    pub fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        if let Some(i) = self.notifications.iter().position(|n| is_diags_for(n, uri)) {
            let n = self.notifications.remove(i);
            return n.params["diagnostics"].as_array().cloned().unwrap_or_default();
        }
        loop {
            match self
                .conn
                .receiver
                .recv_timeout(Duration::from_secs(60))
                .expect("diagnostics arrive")
            {
                Message::Notification(n) if is_diags_for(&n, uri) => {
                    return n.params["diagnostics"].as_array().cloned().unwrap_or_default();
                }
                Message::Notification(n) => self.notifications.push(n),
                _ => {}
            }
        }
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "gov", "version": 1, "text": text}}),
        );
    }

    pub fn change(&mut self, uri: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    /// A position request (`hover`, `definition`, ...) at a zero-based line and UTF-16 column.
    pub fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        let mut params = json!({
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": character},
        });
        if method == "textDocument/references" {
            params["context"] = json!({"includeDeclaration": true});
        }
        self.request(method, params)
    }

    pub fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread did not panic");
        }
    }
}

fn is_diags_for(n: &Notification, uri: &str) -> bool {
    n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri
}

/// The zero-based (line, column) of the first occurrence of `needle` in `text`, plus `delta` columns.
pub fn pos_of(text: &str, needle: &str, delta: u32) -> (u32, u32) {
    let at = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in text"));
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let col = before.rsplit('\n').next().unwrap().encode_utf16().count() as u32;
    (line, col + delta)
}
