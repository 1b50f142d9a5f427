// Starts `gov lsp` for .gov files. The server does the work; this only
// connects VS Code to it over stdio.
"use strict";
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("gov").get("path", "gov");
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "gov",
    "gov language server",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "gov" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.gov") },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
