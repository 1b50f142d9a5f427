//! The adapters on real, public samples (`../shared/realdata/`) and on the
//! documented-format fixtures under `tests/fixtures/ingest/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::PathBuf;

use gov::graph::{Graph, Mode, NodeId, Schema, Value};
use gov::ingest::{self, Format, Inventory, Mapping};

fn realdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/realdata").join(name)
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest").join(name)
}

fn convert(format: Format, path: PathBuf) -> Inventory {
    let src = ingest::read_source(&path).unwrap();
    ingest::convert(format, src, &Mapping::default())
}

fn load(inv: &Inventory) -> gov::graph::Loaded {
    let mut b = gov::graph::GraphBuilder::new(Schema::builtin());
    inv.load_into(&mut b);
    match b.finish(Mode::Strict) {
        Ok(l) => l,
        Err(d) => panic!("{:#?}", d.iter().map(|d| format!("{}: {}", d.code, d.message)).collect::<Vec<_>>()),
    }
}

fn count(g: &Graph, kind: &str) -> usize {
    g.nodes_of_kind(g.schema().kind(kind).unwrap()).len()
}

fn count_where(g: &Graph, kind: &str, attr: &str, value: &str) -> usize {
    let k = g.schema().kind(kind).unwrap();
    let a = g.schema().attr(k, attr).unwrap();
    g.nodes_of_kind(k).iter().filter(|n| g.attr(**n, a) == Value::Str(value)).count()
}

fn has_edge(g: &Graph, from: &str, kind: &str, to: &str) -> bool {
    let (Some(a), Some(b)) = (g.lookup(from), g.lookup(to)) else { return false };
    g.out(a, g.schema().edge_kind(kind).unwrap()).contains(&b)
}

fn node(g: &Graph, id: &str) -> NodeId {
    g.lookup(id).unwrap_or_else(|| panic!("no node `{id}`"))
}

#[test]
fn aws_authz_real_sample() {
    let inv = convert(Format::AwsAuthz, realdata("aws_authz_details__cloudsplaining_example.json"));
    assert!(inv.diags.is_empty(), "{:?}", inv.diags);
    let loaded = load(&inv);
    let g = &loaded.graph;
    eprintln!("{:?}", loaded.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>());
    assert_eq!(count_where(g, "identity", "type", "iam_user"), 44);
    assert_eq!(count_where(g, "identity", "type", "role"), 78);
    assert_eq!(count(g, "group"), 5);
    let policies = g
        .nodes_of_kind(g.schema().kind("role").unwrap())
        .iter()
        .filter(|n| !g.id(**n).contains("#inline/"))
        .count();
    assert_eq!(policies, 84);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    // Group membership, attached managed policies, inline policies.
    let acct = "arn:aws:iam::200611803367";
    assert!(has_edge(g, &format!("{acct}:user/privesc-sre-user"), "member_of", &format!("{acct}:group/privesc-sre-group")));
    assert!(has_edge(g, &format!("{acct}:group/privesc-sre-group"), "grants", &format!("{acct}:policy/privesc-sre-admin-policy")));
    assert!(has_edge(
        g,
        &format!("{acct}:user/fp2-allow-and-deny-multiple-policies-user"),
        "grants",
        &format!("{acct}:policy/fp2-allow-all")
    ));
    assert!(has_edge(
        g,
        "arn:aws:iam::012345678901:user/userwithlotsofpermissions",
        "grants",
        "arn:aws:iam::012345678901:user/userwithlotsofpermissions#inline/InsecureUserPolicy"
    ));
    // Trust policies: a role, a service and an SSO session (resolved to the role with its path).
    let exec = format!("{acct}:role/AWS-QuickSetup-StackSet-Local-ExecutionRole");
    assert!(has_edge(g, &format!("{acct}:role/AWS-QuickSetup-StackSet-Local-AdministrationRole"), "assumes", &exec));
    assert!(has_edge(g, &exec, "grants", "arn:aws:iam::aws:policy/AdministratorAccess"));
    let ssm = node(g, "aws-service:ssm.amazonaws.com");
    assert_eq!(g.attr_by_name(ssm, "type"), Value::Str("aws_service"));
    // Dates with a space and an offset, AWS managed policies, actions.
    let user = node(g, &format!("{acct}:user/fn1-privesc3-partial-user"));
    assert_eq!(g.attr_by_name(user, "created_at").to_string(), "\"2023-03-09T10:41:45Z\"");
    let admin = node(g, "arn:aws:iam::aws:policy/AdministratorAccess");
    assert_eq!(g.attr_by_name(admin, "managed"), Value::Bool(true));
    assert_eq!(g.attr_by_name(admin, "privileged"), Value::Bool(true));
    // Each node points back at its record.
    let p = g.provenance(user).unwrap();
    assert_eq!((p.record, g.files()[p.file as usize].ends_with("cloudsplaining_example.json")), (0, true));
    assert!(p.line > 1);
}
