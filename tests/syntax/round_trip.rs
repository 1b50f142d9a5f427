//! `gov ingest` → native JSON → load gives the same graph (compared through
//! the canonical dump, which ignores load order and provenance).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::PathBuf;

use gov::graph::Mode;
use gov::ingest::{self, LoadOptions, Mapping};
use gov::source::SourceFile;

fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn round_trip(files: &[&str]) {
    let sources = files.iter().map(|f| ingest::read_source(&path(f)).unwrap()).collect();
    let converted =
        ingest::convert_sources(sources, None, &Mapping::default(), Mode::Strict).unwrap();
    let json = String::from_utf8(converted.write(None, Vec::new()).unwrap()).unwrap();
    let loaded = ingest::load_sources(
        vec![SourceFile::new("native.json", json.clone())],
        &LoadOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()));
    let (a, b) = (converted.loaded.graph.canonical_dump(), loaded.graph.canonical_dump());
    assert!(a == b, "dumps differ for {files:?}");
    assert_eq!(converted.loaded.graph.node_count(), loaded.graph.node_count());
    assert_eq!(converted.loaded.graph.edge_count(), loaded.graph.edge_count());
    // Writing the reloaded graph again gives the same bytes.
    let again = String::from_utf8(
        ingest::native::write_graph(&loaded.graph, &converted.unresolved, None, Vec::new())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json, again);
}

#[test]
fn aws_authz_round_trips() {
    round_trip(&["../shared/realdata/aws_authz_details__cloudsplaining_example.json"]);
}

#[test]
fn opengraph_round_trips_with_inferred_schema() {
    round_trip(&[
        "../shared/realdata/opengraph_github__githound_O_kgDOCoV2OQ.json",
        "../shared/realdata/opengraph_github_saml__githound_saml_O_kgDOCoV2OQ.json",
    ]);
}

#[test]
fn merged_aws_and_k8s_round_trip() {
    round_trip(&[
        "../shared/realdata/aws_authz_details__cloudsplaining_example.json",
        "tests/fixtures/ingest/credential_report.csv",
        "tests/fixtures/ingest/k8s_rbac.json",
    ]);
}

#[test]
fn generated_inventory_round_trips_through_yaml() {
    let mut json = Vec::new();
    ingest::generate::generate(
        &ingest::generate::GenOptions { identities: 300, seed: 3, ..Default::default() },
        &mut json,
    )
    .unwrap();
    let json = String::from_utf8(json).unwrap();
    let from_json = ingest::load_sources(
        vec![SourceFile::new("g.json", json.clone())],
        &LoadOptions::default(),
    )
    .unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let yaml = serde_yaml_ng::to_string(&value).unwrap();
    let from_yaml =
        ingest::load_sources(vec![SourceFile::new("g.yaml", yaml)], &LoadOptions::default())
            .unwrap();
    assert_eq!(from_json.graph.canonical_dump(), from_yaml.graph.canonical_dump());
}

#[test]
fn unresolved_optional_edges_survive_conversion() {
    let src = ingest::read_source(&path("tests/fixtures/ingest/k8s_rbac.json")).unwrap();
    let converted =
        ingest::convert_sources(vec![src], None, &Mapping::default(), Mode::Strict).unwrap();
    assert_eq!(converted.unresolved.len(), 2);
    let json = String::from_utf8(converted.write(None, Vec::new()).unwrap()).unwrap();
    assert!(json.contains(r#""kind":"assumes","label":"IRSA","optional":true"#), "{json}");
    // Loaded together with the AWS inventory, the IRSA edge resolves.
    let aws = ingest::read_source(&path(
        "../shared/realdata/aws_authz_details__cloudsplaining_example.json",
    ))
    .unwrap();
    let aws = ingest::convert_sources(vec![aws], None, &Mapping::default(), Mode::Strict).unwrap();
    let aws_json = String::from_utf8(aws.write(None, Vec::new()).unwrap()).unwrap();
    let loaded = ingest::load_sources(
        vec![SourceFile::new("k8s.json", json), SourceFile::new("aws.json", aws_json)],
        &LoadOptions::default(),
    )
    .unwrap_or_else(|d| {
        panic!("{:?}", d.iter().map(|d| (d.code, &d.message)).take(5).collect::<Vec<_>>())
    });
    let g = &loaded.graph;
    let sa = g.lookup("k8s:serviceaccount:payments/payments-api").unwrap();
    let role = g
        .lookup("arn:aws:iam::200611803367:role/AWS-QuickSetup-StackSet-Local-ExecutionRole")
        .unwrap();
    assert_eq!(g.out(sa, g.schema().edge_kind("assumes").unwrap()), &[role]);
}

mod property {
    use gov::graph::{GraphBuilder, Input, Mode, Schema, Site};
    use gov::ingest::{self, LoadOptions};
    use gov::source::{SourceFile, Span};
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Attr {
        Name(String),
        Active(bool),
        Created(i64),
        Tags(Vec<String>),
    }

    fn attr() -> impl Strategy<Value = Attr> {
        prop_oneof![
            "[a-zA-Z0-9 \"\\\\é_-]{0,12}".prop_map(Attr::Name),
            any::<bool>().prop_map(Attr::Active),
            (0i64..4_000_000_000).prop_map(Attr::Created),
            proptest::collection::vec("[a-z=]{0,6}", 0..3).prop_map(Attr::Tags),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Any graph written as native JSON loads back with the same canonical dump.
        #[test]
        fn written_graphs_load_back_the_same(
            nodes in proptest::collection::vec((0usize..3, proptest::collection::vec(attr(), 0..4)), 1..20),
            edges in proptest::collection::vec((0usize..20, 0usize..20, 0usize..3), 0..30),
        ) {
            let mut b = GraphBuilder::new(Schema::builtin());
            let f = b.add_file(SourceFile::new("p", ""));
            let at = Site { file: f, record: 0, span: Span::default() };
            let kinds = ["identity", "group", "resource"];
            for (i, (k, attrs)) in nodes.iter().enumerate() {
                let mut list: Vec<(&str, Input<'static>)> = Vec::new();
                if *k == 0 {
                    list.push(("type", Input::str("bot")));
                }
                for a in attrs {
                    let (name, v) = match a {
                        Attr::Name(s) => ("name", Input::str(s.clone())),
                        Attr::Active(v) if *k == 0 => ("active", Input::Bool(*v)),
                        Attr::Active(_) => continue,
                        Attr::Created(t) => ("created_at", Input::Time(gov::time::Timestamp(*t))),
                        Attr::Tags(t) => ("tags", Input::strs(t.clone())),
                    };
                    if !list.iter().any(|(n, _)| *n == name) {
                        list.push((name, v));
                    }
                }
                b.add_node(&format!("n{i}"), kinds[*k], &list, &at);
            }
            for (a, z, k) in edges {
                if a < nodes.len() && z < nodes.len() {
                    let kind = ["uses", "can_access", "owned_by"][k];
                    let allowed = kind != "owned_by" || nodes[z].0 <= 1;
                    if allowed {
                        b.add_edge(&format!("n{a}"), &format!("n{z}"), kind, (k == 1).then_some("lbl"), false, &at);
                    }
                }
            }
            let g = b.finish(Mode::Strict).unwrap().graph;
            let json = String::from_utf8(ingest::native::write_graph(&g, &[], None, Vec::new()).unwrap()).unwrap();
            let back = ingest::load_sources(vec![SourceFile::new("p.json", json)], &LoadOptions::default()).unwrap();
            prop_assert_eq!(g.canonical_dump(), back.graph.canonical_dump());
        }
    }
}
