//! The inventory documentation and JSON Schema stay in step with the code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use gov::graph::Schema;

fn read(rel: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[test]
fn docs_name_every_builtin_kind_attribute_edge_and_code() {
    let doc = read("docs/inventory.md");
    let s = Schema::builtin();
    for (_, k) in s.kinds() {
        assert!(doc.contains(&format!("`{}`", k.name)), "kind {}", k.name);
        for a in &k.attrs {
            assert!(doc.contains(&format!("`{}`", a.name)), "attribute {}.{}", k.name, a.name);
        }
    }
    for (_, e) in s.edge_kinds() {
        assert!(doc.contains(&format!("`{}`", e.name)), "edge {}", e.name);
    }
    for c in gov::Code::ALL.iter().filter(|c| c.as_str().starts_with("gov::ingest::")) {
        assert!(doc.contains(&format!("`{c}`")), "code {c}");
    }
}

#[test]
fn json_schema_is_valid_json_for_this_format() {
    let schema: serde_json::Value =
        serde_json::from_str(&read("schemas/inventory.schema.json")).unwrap();
    assert_eq!(schema["properties"]["format"]["const"], gov::ingest::native::FORMAT);
    let node_fields: Vec<&str> = schema["$defs"]["node"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(node_fields, ["attrs", "id", "kind"]);
}

/// The code table of `docs/diagnostics.md`, as `gov::Code::ALL` makes it.
fn code_table() -> String {
    let mut t = String::from("| code | meaning |\n|---|---|\n");
    for c in gov::Code::ALL {
        t.push_str(&format!("| `{}` | {} |\n", c.as_str(), c.summary().replace('|', "\\|")));
    }
    t
}

#[test]
fn diagnostics_guide_lists_every_code_with_its_summary() {
    let rel = "docs/diagnostics.md";
    let doc = read(rel);
    let (begin, end) = ("<!-- codes:begin -->\n", "<!-- codes:end -->");
    let a = doc.find(begin).expect("codes:begin marker") + begin.len();
    let b = doc.find(end).expect("codes:end marker");
    let want = code_table();
    if doc[a..b] != want {
        if std::env::var_os("GOV_UPDATE_DOCS").is_some() {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
            std::fs::write(path, format!("{}{want}{}", &doc[..a], &doc[b..])).unwrap();
        } else {
            panic!(
                "{rel}'s code table is out of date: run GOV_UPDATE_DOCS=1 cargo test --test docs"
            );
        }
    }
}
