//! The adapters read the lifecycle attributes (risk and data class, purpose,
//! retirement date and trigger, review cadence, owning team) from the tags,
//! labels, annotations and properties the exports already carry, through
//! the mapping's default keys: the real public samples in
//! `../shared/realdata/` (and the Kubernetes fixture, for which no public
//! export exists) with tags added here, as an organisation would add them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::PathBuf;

use gov::graph::{Graph, Mode, Schema};
use gov::ingest::{self, Format, Inventory, Mapping};
use gov::source::SourceFile;
use serde_json::{Value as Json, json};

fn read_json(path: PathBuf) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn realdata(name: &str) -> Json {
    read_json(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata").join(name))
}

fn load(inv: &Inventory) -> gov::graph::Loaded {
    assert!(inv.diags.is_empty(), "{:?}", inv.diags.iter().map(|d| &d.message).collect::<Vec<_>>());
    let mut b = gov::graph::GraphBuilder::new(Schema::builtin());
    inv.load_into(&mut b);
    match b.finish(Mode::Strict) {
        Ok(l) => l,
        Err(d) => panic!("{:#?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()),
    }
}

fn convert(format: Format, doc: &Json, mapping: &Mapping) -> Inventory {
    ingest::convert(format, SourceFile::new("export.json", doc.to_string()), mapping)
}

fn attr(g: &Graph, id: &str, name: &str) -> String {
    let n = g.lookup(id).unwrap_or_else(|| panic!("no node `{id}`"));
    g.attr_by_name(n, name).to_string()
}

fn aws_tag(doc: &mut Json, list: &str, index: usize, tags: &[(&str, &str)]) -> String {
    let p = &mut doc[list][index];
    let added = tags.iter().map(|(k, v)| json!({"Key": k, "Value": v}));
    match p["Tags"].as_array_mut() {
        Some(t) => t.extend(added),
        None => p["Tags"] = Json::Array(added.collect()),
    }
    p["Arn"].as_str().unwrap().to_owned()
}

#[test]
fn aws_tags_on_the_real_sample_set_the_lifecycle_attributes() {
    let mut doc = realdata("aws_authz_details__cloudsplaining_example.json");
    // A role that already has tags (AWS Quick Setup's) and a user that has none.
    let role = aws_tag(
        &mut doc,
        "RoleDetailList",
        0,
        &[
            ("risk", "Low"),
            ("data-class", "internal"),
            ("purpose", "records AWS Config for Quick Setup"),
            ("retire-at", "2027-03-31"),
            ("retirement-trigger", "project-end"),
            ("review-cadence", "90d"),
            ("service", "compliance"),
            ("owning-team", "security"),
        ],
    );
    let user = aws_tag(
        &mut doc,
        "UserDetailList",
        0,
        &[("RiskClass", "critical"), ("RetirementTrigger", "vendor_change"), ("team", "red-team")],
    );
    let loaded = load(&convert(Format::AwsAuthz, &doc, &Mapping::default()));
    let g = &loaded.graph;
    assert_eq!(attr(g, &role, "risk_class"), "\"low\"");
    assert_eq!(attr(g, &role, "data_class"), "\"internal\"");
    assert_eq!(attr(g, &role, "purpose"), "\"records AWS Config for Quick Setup\"");
    assert_eq!(attr(g, &role, "retire_at"), "\"2027-03-31\"");
    assert_eq!(attr(g, &role, "retirement_trigger"), "\"project_end\"");
    assert_eq!(attr(g, &role, "review_cadence"), "\"90d\"");
    assert_eq!(attr(g, "service:compliance", "owning_team"), "\"security\"");
    // The sample's own tags are kept next to the ones added.
    assert!(attr(g, &role, "tags").contains("QuickSetupID=1clff"));
    assert_eq!(attr(g, &user, "risk_class"), "\"critical\"");
    assert_eq!(attr(g, &user, "retirement_trigger"), "\"vendor_change\"");
    assert_eq!(attr(g, &user, "team"), "\"red-team\"");
    // Untagged principals stay unclassified.
    let other = doc["RoleDetailList"][1]["Arn"].as_str().unwrap();
    assert!(g.attr_by_name(g.lookup(other).unwrap(), "risk_class").is_missing());
}

#[test]
fn a_mapping_file_reads_an_organisations_own_tag_names() {
    let mut doc = realdata("aws_authz_details__cloudsplaining_example.json");
    let role = aws_tag(&mut doc, "RoleDetailList", 2, &[("acme:risk", "high"), ("risk", "low")]);
    let mapping =
        Mapping::parse(&SourceFile::new("map.yaml", "attributes:\n  risk_class: [acme:risk]\n"))
            .unwrap();
    let loaded = load(&convert(Format::AwsAuthz, &doc, &mapping));
    assert_eq!(attr(&loaded.graph, &role, "risk_class"), "\"high\"");
}

#[test]
fn a_tag_value_outside_the_enum_fails_the_load_naming_tag_and_principal() {
    let mut doc = realdata("aws_authz_details__cloudsplaining_example.json");
    let role = aws_tag(&mut doc, "RoleDetailList", 0, &[("risk", "moderate")]);
    let inv = convert(Format::AwsAuthz, &doc, &Mapping::default());
    assert_eq!(inv.diags.len(), 1);
    let d = inv.diags.iter().next().unwrap();
    assert_eq!(d.code, gov::Code::InvalidValue);
    assert_eq!(
        d.message,
        format!("tag `risk` of `{role}` is `moderate`, not one of low, medium, high, critical")
    );
    assert!(d.help.as_deref().unwrap().contains("risk_class"));
}

#[test]
fn kubernetes_labels_and_annotations_set_the_lifecycle_attributes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ingest/k8s_serviceaccounts.json");
    let mut doc = read_json(path);
    let meta = &mut doc["items"][0]["metadata"];
    meta["labels"] = json!({
        "app.kubernetes.io/part-of": "ci-platform",
        "gov/owning-team": "platform",
    });
    meta["annotations"] = json!({
        "gov/risk-class": "high",
        "gov/data-class": "confidential",
        "gov/purpose": "deploys every service from Argo",
        "gov/retirement-trigger": "idle",
        "gov/owner-since": "2025-10-01",
    });
    let loaded = load(&convert(Format::K8s, &doc, &Mapping::default()));
    let g = &loaded.graph;
    let sa = "k8s:serviceaccount:ci/deployer";
    assert_eq!(attr(g, sa, "risk_class"), "\"high\"");
    assert_eq!(attr(g, sa, "data_class"), "\"confidential\"");
    assert_eq!(attr(g, sa, "purpose"), "\"deploys every service from Argo\"");
    assert_eq!(attr(g, sa, "retirement_trigger"), "\"idle\"");
    assert_eq!(attr(g, sa, "ownership_started_at"), "\"2025-10-01\"");
    assert_eq!(attr(g, "service:ci-platform", "owning_team"), "\"platform\"");
    assert!(
        g.attr_by_name(g.lookup("k8s:serviceaccount:ci/default").unwrap(), "risk_class")
            .is_missing()
    );
}

#[test]
fn opengraph_properties_on_the_real_sample_set_the_lifecycle_attributes() {
    let mut doc = realdata("opengraph_github__githound_O_kgDOCoV2OQ.json");
    let nodes = doc["graph"]["nodes"].as_array_mut().unwrap();
    let app = nodes
        .iter_mut()
        .find(|n| n["kinds"].as_array().unwrap().iter().any(|k| k == "GH_AppInstallation"))
        .unwrap();
    let props = app["properties"].as_object_mut().unwrap();
    props.insert("risk_class".into(), json!("Medium"));
    props.insert("retire_at".into(), json!("2027-01-31T00:00:00Z"));
    props.insert("retirement_trigger".into(), json!("vendor-change"));
    props.insert("purpose".into(), json!("syncs issues to the tracker"));
    let id = app["id"].as_str().unwrap().to_owned();
    let src = SourceFile::new("githound.json", doc.to_string());
    let inv = ingest::opengraph::convert(&[src], &Mapping::default());
    let loaded = load(&inv);
    let g = &loaded.graph;
    assert_eq!(attr(g, &id, "risk_class"), "\"medium\"");
    assert_eq!(attr(g, &id, "retire_at"), "\"2027-01-31\"");
    assert_eq!(attr(g, &id, "retirement_trigger"), "\"vendor_change\"");
    assert_eq!(attr(g, &id, "purpose"), "\"syncs issues to the tracker\"");
}
