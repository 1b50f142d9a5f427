// Tokenises every file of tests/syntax/valid with editors/gov.tmLanguage.json
// (vscode-textmate + vscode-oniguruma, what VS Code itself runs) and fails
// when a token is scoped `invalid.*` or has no scope beyond `source.gov`.
// A second pass checks that the grammar does flag a stray character.
"use strict";
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const root = path.join(__dirname, "..", "..");
const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;

async function main() {
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) => {
      if (scope !== "source.gov") return null;
      const file = path.join(root, "editors", "gov.tmLanguage.json");
      return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  const grammar = await registry.loadGrammar("source.gov");
  const problems = (text) => {
    const found = [];
    let stack = vsctm.INITIAL;
    text.split("\n").forEach((line, i) => {
      const r = grammar.tokenizeLine(line, stack);
      for (const t of r.tokens) {
        const s = line.slice(t.startIndex, t.endIndex);
        if (s.trim() === "") continue;
        const bad = t.scopes.find((x) => x.startsWith("invalid"));
        if (bad || t.scopes.length < 2) {
          found.push(`${i + 1}:${t.startIndex + 1} \`${s}\` ${t.scopes.join(" ")}`);
        }
      }
      stack = r.ruleStack;
    });
    return found;
  };
  const dir = path.join(root, "tests", "syntax", "valid");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".gov")).sort();
  let failed = 0;
  for (const f of files) {
    const p = problems(fs.readFileSync(path.join(dir, f), "utf8"));
    for (const line of p) console.error(`${f}:${line}`);
    failed += p.length;
  }
  if (files.length === 0) throw new Error(`no .gov files in ${dir}`);
  if (problems("rule r { severity high $ }").length !== 1) {
    throw new Error("a stray `$` must be scoped invalid");
  }
  if (failed) {
    console.error(`${failed} token(s) invalid or unscoped`);
    process.exit(1);
  }
  console.log(`ok: ${files.length} files, every token scoped`);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
