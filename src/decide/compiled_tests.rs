//! Compiled decision conditions ([`crate::eval::plan`]) against the
//! interpreter, request by request.

use std::collections::BTreeMap;

use super::Request;
use super::eval::{self, Prepared};
use crate::eval::engine::Known;
use crate::eval::plan::Cond;
use crate::graph::NodeId;
use crate::graph::records::Records;

/// Every specialised form next to variants it must not take (operands
/// swapped, a text no attribute has, a missing optional input, a
/// binding read by the reason), all deny clauses so that each clause's
/// outcome shows in the decision's reasons.
const FORMS: &str = r#"
decision forms {
  input subject: identity, target: resource, app: service, action: string, note: string?
  deny "a" when subject.type == "human"
  deny "b" when "bot" == subject.type
  deny "c" when subject.type != "no attribute has this text"
  deny "d" when subject.type == "no attribute has this text"
  deny "e {subject.email} {subject.type}/{action}" when subject.active != true
  deny "f" when subject.active == false or subject.source == "github"
  deny "g" when subject has left_at and subject.left_at < now
  deny "h" when subject has left_at and now >= subject.left_at
  deny "g2" when subject has left_at and subject.left_at != now
  deny "g3" when subject has email and subject.email == "p-1@example.com"
  deny "i" when not (subject has left_at) or subject.left_at != now
  deny "j" when subject has created_at and subject.created_at <= 2025-06-01
  deny "k" when app has tier and app.tier >= 1
  deny "l" when app has tier and 2 > app.tier and app.tier != 0
  deny "m" when subject has left_at
  deny "n" when not (target has name) or not (subject has source)
  deny "o" when note == "x"
  deny "p" when note != "x"
  deny "q" when note in ["x", "y"]
  deny "r" when note not in ["x", "y"]
  deny "s" when action in ["read", "write"] or action == "admin"
  deny "t {subject.name}" when exists subject -[has_credential]-> c: credential where c has expires_at and c.expires_at < now and c.type != "token"
  deny "u {app.name}" when exists app <-[supports]- s: identity where s.active == false
  deny "v" when exists subject -[supports]-> app
  deny "w" when exists subject -[member_of]-> g where g has name
  deny "x" when exists subject -[has_credential]-> c: credential where c has scopes and c.ephemeral == true
  deny "y" when exists subject -[has_credential]-> c: credential where c has rotated_at and now - c.rotated_at > 180d
  deny "y2" when exists subject -[has_credential]-> c: credential where not (c has rotated_at) or 30d >= now - c.rotated_at
  deny "y3" when subject has created_at and now - subject.created_at != 1000d
  deny "z" when not exists subject -[owned_by]-> _
  let near = exists subject -[member_of|grants*1..2]-> _ -[can_access]-> target
  deny "aa" when near and action != "delete"
  deny "ab" when exists subject -[member_of]-> g -[grants]-> (r: role where r.privileged == true)
  deny "ac" when exists subject -[member_of|has_credential]-> x where x has name
  deny "ad" when exists subject <-[owned_by]- (o where o.active == true)
  deny "ae" when exists subject -[grants]-> _ -[can_access]-> target
  deny "af" when exists target -[can_access]- r where r has name
  deny "ag" when exists subject -[member_of]-> g -[grants]-> r where exists r -[can_access]-> target
  let all_active = all subject -[has_credential]-> c where c.active == true
  deny "ah" when all_active or not near
  deny "ai" when exists target <-[can_access]- x: group
  deny "aj" when exists subject -[has_credential]-> x: credential where x.type == "token"
}
"#;

#[test]
fn compiled_conditions_decide_as_the_interpreter_does() {
    let now = crate::test_support::now();
    let graph = crate::test_support::generated_graph(1500, 7);
    let program = crate::test_support::compiled(
        &[
            ("decide20.gov", include_str!("../../benches/policies/decide20.gov")),
            ("forms.gov", FORMS),
        ],
        &graph,
    );
    let known = Known::of(&graph);
    let schema = graph.schema();
    let kind = |k: &str| schema.kind(k).unwrap_or_else(|| panic!("{k}"));
    let (identities, resources, services) = (
        graph.nodes_of_kind(kind("identity")),
        graph.nodes_of_kind(kind("resource")),
        graph.nodes_of_kind(kind("service")),
    );
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let actions = ["read", "write", "admin", "delete", "Read", ""];
    let notes = [None, Some("x"), Some("y"), Some("z")];
    let mut compiled_forms = 0;
    for (index, d) in program.decisions.iter().enumerate() {
        let compiled = eval::sites_of(d, Some(&graph));
        let interpreted = eval::sites_of(d, None);
        let rows = eval::rows_of(&graph, std::slice::from_ref(&compiled));
        let no_rows = Records::default();
        let warm = eval::warm_of(d);
        compiled_forms += compiled
            .iter()
            .filter(|s| s.when.as_ref().is_some_and(|c| !matches!(c, Cond::Interp(_))))
            .count();
        let mut differing = 0;
        for _ in 0..3000 {
            let mut input = BTreeMap::new();
            let id = |n: NodeId| serde_json::Value::from(graph.id(n));
            let pick = |xs: &[NodeId], i: usize| xs.get(i).copied().unwrap_or(NodeId(0));
            input.insert("subject".to_owned(), id(pick(identities, next(identities.len()))));
            input.insert("target".to_owned(), id(pick(resources, next(resources.len()))));
            input.insert("app".to_owned(), id(pick(services, next(services.len()))));
            let action = actions.get(next(actions.len())).copied().unwrap_or("");
            input.insert("action".to_owned(), action.into());
            if d.input("note").is_some()
                && let Some(Some(note)) = notes.get(next(notes.len()))
            {
                input.insert("note".to_owned(), (*note).into());
            }
            let request = Request { decision: d.name.to_string(), input, now: Some(now) };
            let run = |sites, rows| {
                let prepared = Prepared { sites, warm: &warm, priorities: None, rows };
                let decision = eval::decide_in(&program, &graph, known, index, prepared, &request)
                    .unwrap_or_else(|e| panic!("{e}"));
                serde_json::to_value(decision).unwrap_or_else(|e| panic!("{e}"))
            };
            let (a, b) = (run(&compiled, &rows), run(&interpreted, &no_rows));
            // Compiled conditions without the records read the columns.
            assert_eq!(a, run(&compiled, &no_rows), "{request:?}");
            assert_eq!(a, b, "{request:?}");
            differing += usize::from(a["reasons"].as_array().map_or(0, Vec::len) > 1);
        }
        // The requests exercise the clauses: many decisions give more
        // than one reason (all but the one-clause baseline).
        assert!(d.steps.len() < 2 || differing > 300, "{}: {differing}", d.name);
    }
    // The forms policy compiles to specialised forms, not to the fallback.
    assert!(compiled_forms >= 40, "{compiled_forms}");
}
