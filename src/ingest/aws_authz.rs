//! Adapter for `aws iam get-account-authorization-details` JSON.
//!
//! Users and roles become `identity` nodes (type `iam_user`, `role`, or the
//! type a mapped tag names), groups `group` nodes, managed and inline
//! policies `role` nodes (entitlements) with their allowed actions. Group
//! membership is `member_of`, attached and inline policies are `grants`, and
//! each `Allow` statement of a role's trust policy is an `assumes` edge from
//! the principal (AWS principals, services, federated providers) to the role;
//! principals outside the export are identities marked `inferred`.
//!
//! A policy records what it grants as the statements say it, so rules can
//! judge: `Allow` actions (conditional ones too, and listed again in
//! `conditional_actions` with the `conditions`), `Allow` + `NotAction` as
//! `not_actions` (everything else is allowed: broad, so `privileged`),
//! `NotResource` exclusions, and unconditional denies on every resource
//! (`deny_actions`, which also remove the actions they cover). A principal's
//! permissions boundary is its `permissions_boundary`. Tags go through the
//! [`Mapping`] (owner, steward, service, tier).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;

use crate::diag::Code;
use crate::graph::Input;
use crate::ingest::native::{json_error, offset_in};
use crate::ingest::{EdgeRecord, Inventory, Mapping, NodeRecord, Origin};
use crate::source::{SourceFile, Span};
use crate::time::Timestamp;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Doc<'a> {
    #[serde(default, borrow)]
    user_detail_list: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    group_detail_list: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    role_detail_list: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    policies: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attached {
    policy_name: String,
    policy_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Inline {
    policy_name: String,
    #[serde(default)]
    policy_document: Json,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Principal {
    arn: String,
    #[serde(alias = "UserName", alias = "GroupName", alias = "RoleName")]
    name: String,
    #[serde(alias = "UserId", alias = "GroupId", alias = "RoleId")]
    id: String,
    #[serde(default)]
    create_date: Option<String>,
    #[serde(default)]
    group_list: Vec<String>,
    #[serde(default)]
    attached_managed_policies: Vec<Attached>,
    #[serde(default, alias = "GroupPolicyList", alias = "RolePolicyList")]
    user_policy_list: Vec<Inline>,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    assume_role_policy_document: Option<Json>,
    #[serde(default)]
    role_last_used: Option<RoleLastUsed>,
    #[serde(default)]
    permissions_boundary: Option<Boundary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Boundary {
    #[serde(default)]
    permissions_boundary_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleLastUsed {
    #[serde(default)]
    last_used_date: Option<String>,
    #[serde(default)]
    region: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Policy {
    policy_name: String,
    arn: String,
    #[serde(default)]
    policy_id: Option<String>,
    #[serde(default)]
    create_date: Option<String>,
    #[serde(default)]
    update_date: Option<String>,
    #[serde(default)]
    policy_version_list: Vec<PolicyVersion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyVersion {
    #[serde(default)]
    document: Json,
    #[serde(default)]
    is_default_version: bool,
}

/// Parses a policy document: a JSON object, or the URL-encoded JSON string
/// some exports hold.
fn document(doc: &Json) -> Json {
    match doc {
        Json::String(s) => serde_json::from_str(&percent_decode(s)).unwrap_or(Json::Null),
        other => other.clone(),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn one_or_many(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// What a policy document grants, as the `role` node's attributes record it.
#[derive(Debug, Default, PartialEq)]
struct Grants {
    /// Actions of `Allow` statements, conditional ones included, less what
    /// an unconditional `Deny` on every resource removes.
    allow: Vec<String>,
    /// Actions denied unconditionally on every resource.
    deny: Vec<String>,
    /// `Allow` + `NotAction`: every action is allowed except these (the
    /// patterns every such statement excludes).
    not_actions: Vec<String>,
    /// Allowed actions that hold only under a `Condition` (`*` when the
    /// `NotAction` grant is conditional).
    conditional: Vec<String>,
    /// The `Condition` blocks of conditional grants, as compact JSON.
    conditions: Vec<String>,
    /// `Allow` + `NotResource`: resources the grants leave out.
    not_resources: Vec<String>,
    /// A `NotAction` grant on every resource: all but a few actions, which
    /// is broad privilege whatever it leaves out.
    broad: bool,
}

fn statements(doc: &Json) -> Vec<Json> {
    match document(doc).get("Statement") {
        Some(Json::Array(a)) => a.clone(),
        Some(s @ Json::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn effect(s: &Json, e: &str) -> bool {
    s.get("Effect").and_then(Json::as_str) == Some(e)
}

/// A non-empty `Condition` block.
fn condition(s: &Json) -> Option<&Json> {
    s.get("Condition").filter(|c| c.as_object().is_some_and(|m| !m.is_empty()))
}

/// What a policy document grants (see [`Grants`]).
fn actions(doc: &Json) -> Grants {
    let statements = statements(doc);
    let everywhere = |s: &Json| one_or_many(s.get("Resource")).iter().any(|r| r == "*");
    // An unconditional Deny on every resource removes what it covers: the
    // cloudsplaining sample's `fp1-allow-and-deny` allows and denies `iam:*`
    // and grants nothing. Conditional or resource-scoped denies are kept out
    // of this (they do not always apply), so they never hide a grant.
    let unconditional_deny =
        |s: &&Json| effect(s, "Deny") && condition(s).is_none() && everywhere(s);
    let mut g = Grants {
        deny: statements
            .iter()
            .filter(unconditional_deny)
            .flat_map(|s| one_or_many(s.get("Action")))
            .collect(),
        ..Grants::default()
    };
    // `Deny` + `NotAction` on every resource denies everything but the
    // listed actions: a grant survives only inside every such list.
    let only: Vec<Vec<String>> = statements
        .iter()
        .filter(unconditional_deny)
        .filter(|s| s.get("NotAction").is_some())
        .map(|s| one_or_many(s.get("NotAction")))
        .collect();
    let survives = |a: &str, deny: &[String]| {
        !deny.iter().any(|d| deny_covers(d, a))
            && only.iter().all(|list| list.iter().any(|o| deny_covers(o, a)))
    };
    let mut excluded: Option<Vec<String>> = None;
    let mut not_action_conditional = true;
    for s in statements.iter().filter(|s| effect(s, "Allow")) {
        let cond = condition(s);
        if let Some(c) = cond {
            g.conditions.push(c.to_string());
        }
        g.not_resources.extend(one_or_many(s.get("NotResource")));
        let acts: Vec<String> =
            one_or_many(s.get("Action")).into_iter().filter(|a| survives(a, &g.deny)).collect();
        if cond.is_some() {
            g.conditional.extend(acts.iter().cloned());
        }
        g.allow.extend(acts);
        if s.get("NotAction").is_some() {
            let list = one_or_many(s.get("NotAction"));
            if !only.is_empty() {
                // Everything but `list`, within what the `Deny NotAction`
                // leaves: the leftover patterns are plain grants.
                let kept =
                    only.iter().flatten().filter(|o| !list.iter().any(|x| deny_covers(x, o)));
                let kept: Vec<String> = kept.filter(|a| survives(a, &g.deny)).cloned().collect();
                if cond.is_some() {
                    g.conditional.extend(kept.iter().cloned());
                }
                g.allow.extend(kept);
                continue;
            }
            // Two `NotAction` grants allow what either allows: only what
            // both exclude stays excluded.
            excluded = Some(match excluded {
                None => list,
                Some(prev) => prev
                    .into_iter()
                    .filter(|p| list.iter().any(|x| x.eq_ignore_ascii_case(p)))
                    .collect(),
            });
            not_action_conditional &= cond.is_some();
            g.broad |= everywhere(s) || s.get("NotResource").is_some();
        }
    }
    if let Some(ex) = excluded {
        g.not_actions = ex;
        if not_action_conditional {
            g.conditional.push("*".to_owned());
        }
    }
    for list in
        [&mut g.allow, &mut g.deny, &mut g.not_actions, &mut g.conditional, &mut g.not_resources]
    {
        list.sort();
        list.dedup();
    }
    g.conditions.dedup();
    g
}

/// Whether a denied action pattern covers an allowed one (actions are
/// case-insensitive; `*` in the deny matches any run of characters).
fn deny_covers(deny: &str, allow: &str) -> bool {
    let (d, a) = (deny.to_ascii_lowercase(), allow.to_ascii_lowercase());
    match d.split_once('*') {
        None => d == a,
        // A trailing wildcard (`iam:*`, `*`): the allowed pattern must start
        // with the prefix, so `iam:*` covers `iam:*` and `iam:PassRole`.
        Some((prefix, "")) => a.starts_with(prefix),
        // Other wildcards: only an identical pattern is known to be covered.
        Some(_) => d == a,
    }
}

/// A policy as an entitlement (`role`) node: what it allows and denies.
fn policy_record(id: &str, name: &str, managed: bool, g: Grants, origin: Origin) -> NodeRecord {
    let mut rec = NodeRecord::new(id, "role", origin);
    rec.set("name", Input::str(name))
        .set("source", Input::str("aws"))
        .set("managed", Input::Bool(managed))
        .set("privileged", Input::Bool(g.broad || privileged(&g.allow)))
        .set("actions", Input::strs(g.allow));
    for (attr, list) in [
        ("deny_actions", g.deny),
        ("not_actions", g.not_actions),
        ("conditional_actions", g.conditional),
        ("conditions", g.conditions),
        ("not_resources", g.not_resources),
    ] {
        if !list.is_empty() {
            rec.set(attr, Input::strs(list));
        }
    }
    rec
}

fn privileged(actions: &[String]) -> bool {
    actions.iter().any(|a| a == "*" || a == "iam:*" || a == "*:*")
}

struct Ctx<'a> {
    inv: Inventory,
    /// Role names to ARNs: `assumed-role` sessions name the role without its path.
    role_arn: HashMap<String, String>,
    /// Principals named by trust policies, added at the end if the export lacks them.
    principals: Vec<(String, &'static str, String, Origin)>,
    file: u32,
    src: Arc<SourceFile>,
    mapping: &'a Mapping,
}

impl Ctx<'_> {
    /// The span of `needle` inside the record, else the record.
    fn find(&self, origin: &Origin, needle: &str) -> Span {
        self.src
            .text()
            .get(origin.span.start..origin.span.end)
            .and_then(|t| t.find(needle))
            .map_or(origin.span, |i| {
                Span::new(origin.span.start + i, origin.span.start + i + needle.len())
            })
    }

    fn date(&mut self, rec: &mut NodeRecord, attr: &str, field: &str, value: Option<&str>) {
        let Some(v) = value.filter(|v| !v.is_empty()) else { return };
        match Timestamp::parse(v) {
            Ok(t) => {
                rec.set(attr, Input::Time(t));
            }
            Err(e) => {
                let span = self.find(&rec.origin, v);
                let d = self.inv.diag(
                    Code::IngestInvalidDate,
                    format!("`{field}` of `{}` is not a date: `{v}` ({e})", rec.id),
                    self.file,
                    span,
                );
                self.inv.diags.push(d.help(
                    "AWS writes dates as `2023-03-09 10:41:45+00:00` or `2023-03-09T10:41:45Z`",
                ));
            }
        }
    }

    fn inline(&mut self, owner: &str, list: &[Inline], origin: Origin) {
        for p in list {
            let id = format!("{owner}#inline/{}", p.policy_name);
            let rec =
                policy_record(&id, &p.policy_name, false, actions(&p.policy_document), origin);
            self.inv.add_node(rec);
            self.inv.add_edge(EdgeRecord::new(owner, "grants", id, origin));
        }
    }

    fn attached(&mut self, owner: &str, list: &[Attached], origin: Origin) {
        for a in list {
            let mut e = EdgeRecord::new(owner, "grants", &a.policy_arn, origin);
            e.label = Some(a.policy_name.clone());
            self.inv.add_edge(e);
        }
    }
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

/// Converts an authorization-details export.
pub fn convert(src: Arc<SourceFile>, mapping: &Mapping) -> Inventory {
    let mut inv = Inventory::new();
    let file = inv.add_file(src.clone());
    let text = src.text();
    let doc: Doc<'_> = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            inv.diags.push(json_error(&src, text, 0, &e, "invalid authorization details"));
            return inv;
        }
    };
    let mut cx = Ctx {
        inv,
        role_arn: HashMap::new(),
        principals: Vec::new(),
        file,
        src: src.clone(),
        mapping,
    };
    let origin = |i: usize, raw: &RawValue| {
        let base = offset_in(text, raw.get());
        Origin { file, record: i as u32, span: Span::new(base, base + raw.get().len()) }
    };
    let records = doc.user_detail_list.len()
        + doc.group_detail_list.len()
        + doc.role_detail_list.len()
        + doc.policies.len();
    cx.inv.set_records_read(file, records as u64);
    // Group names to ARNs, for users' `GroupList`.
    let mut group_arn: HashMap<String, String> = HashMap::new();
    let mut groups = Vec::new();
    for (i, raw) in doc.group_detail_list.iter().enumerate() {
        let o = origin(i, raw);
        match serde_json::from_str::<Principal>(raw.get()) {
            Ok(g) => {
                group_arn.insert(g.name.clone(), g.arn.clone());
                groups.push((g, o));
            }
            Err(e) => cx.inv.diags.push(json_error(
                &src,
                raw.get(),
                o.span.start,
                &e,
                &format!("invalid group {i}"),
            )),
        }
    }
    for (g, o) in groups {
        let mut rec = NodeRecord::new(&g.arn, "group", o);
        rec.set("name", Input::str(&g.name))
            .set("source", Input::str("aws"))
            .set("external_id", Input::str(&g.id));
        cx.date(&mut rec, "created_at", "CreateDate", g.create_date.as_deref());
        cx.inv.add_node(rec);
        cx.attached(&g.arn, &g.attached_managed_policies, o);
        cx.inline(&g.arn, &g.user_policy_list, o);
    }
    for raw in &doc.role_detail_list {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Names {
            role_name: String,
            arn: String,
        }
        if let Ok(n) = serde_json::from_str::<Names>(raw.get()) {
            cx.role_arn.insert(n.role_name, n.arn);
        }
    }
    for (kind_label, list) in [("user", &doc.user_detail_list), ("role", &doc.role_detail_list)] {
        for (i, raw) in list.iter().enumerate() {
            let o = origin(i, raw);
            let p = match serde_json::from_str::<Principal>(raw.get()) {
                Ok(p) => p,
                Err(e) => {
                    cx.inv.diags.push(json_error(
                        &src,
                        raw.get(),
                        o.span.start,
                        &e,
                        &format!("invalid {kind_label} {i}"),
                    ));
                    continue;
                }
            };
            let tags: Vec<(String, String)> =
                p.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
            let default_type = if kind_label == "user" { "iam_user" } else { "role" };
            let ty = cx.mapping.identity_type(&tags).unwrap_or(default_type).to_owned();
            let mut rec = NodeRecord::new(&p.arn, "identity", o);
            rec.set("name", Input::str(&p.name))
                .set("type", Input::str(ty))
                .set("source", Input::str("aws"))
                .set("external_id", Input::str(&p.id));
            cx.date(&mut rec, "created_at", "CreateDate", p.create_date.as_deref());
            if let Some(last) = &p.role_last_used {
                cx.date(
                    &mut rec,
                    "last_used_at",
                    "RoleLastUsed.LastUsedDate",
                    last.last_used_date.as_deref(),
                );
                let _ = &last.region;
            }
            if let Some(arn) =
                p.permissions_boundary.as_ref().and_then(|b| b.permissions_boundary_arn.as_deref())
            {
                rec.set("permissions_boundary", Input::str(arn));
            }
            cx.inv.add_node(rec);
            cx.mapping.apply_tags(&mut cx.inv, &p.arn, &tags, o);
            for g in &p.group_list {
                let to = group_arn
                    .get(g)
                    .cloned()
                    .unwrap_or_else(|| format!("arn:aws:iam::{}:group/{g}", account_of(&p.arn)));
                cx.inv.add_edge(EdgeRecord::new(&p.arn, "member_of", to, o));
            }
            cx.attached(&p.arn, &p.attached_managed_policies, o);
            cx.inline(&p.arn, &p.user_policy_list, o);
            if let Some(trust) = &p.assume_role_policy_document {
                trust_edges(&mut cx, &p.arn, trust, o);
            }
        }
    }
    for (i, raw) in doc.policies.iter().enumerate() {
        let o = origin(i, raw);
        let p = match serde_json::from_str::<Policy>(raw.get()) {
            Ok(p) => p,
            Err(e) => {
                cx.inv.diags.push(json_error(
                    &src,
                    raw.get(),
                    o.span.start,
                    &e,
                    &format!("invalid policy {i}"),
                ));
                continue;
            }
        };
        let acts = p
            .policy_version_list
            .iter()
            .find(|v| v.is_default_version)
            .map(|v| actions(&v.document))
            .unwrap_or_default();
        let managed = p.arn.starts_with("arn:aws:iam::aws:");
        let mut rec = policy_record(&p.arn, &p.policy_name, managed, acts, o);
        if let Some(id) = &p.policy_id {
            rec.set("external_id", Input::str(id));
        }
        cx.date(&mut rec, "created_at", "CreateDate", p.create_date.as_deref());
        let _ = &p.update_date;
        cx.inv.add_node(rec);
    }
    // Principals outside the export (other accounts, SSO sessions, services)
    // become identities of their own, so that "who can assume this role"
    // stays answerable.
    for (id, ty, name, o) in std::mem::take(&mut cx.principals) {
        if !cx.inv.has_node(&id) {
            let mut rec = NodeRecord::new(&id, "identity", o);
            rec.set("name", Input::str(name))
                .set("type", Input::str(ty))
                .set("source", Input::str("aws"))
                .set("inferred", Input::Bool(true));
            cx.inv.add_node(rec);
        }
    }
    cx.inv
}

/// `assumes` edges from each principal of the role's trust policy.
fn trust_edges(cx: &mut Ctx<'_>, role: &str, trust: &Json, o: Origin) {
    for s in statements(trust).iter().filter(|s| effect(s, "Allow")) {
        let principal = s.get("Principal");
        let mut add = |id: String, ty: &'static str, name: &str| {
            let mut e = EdgeRecord::new(&id, "assumes", role, o);
            e.label = Some("trust policy".to_owned());
            cx.inv.add_edge(e);
            cx.principals.push((id, ty, name.to_owned(), o));
        };
        match principal {
            Some(Json::String(star)) if star == "*" => add("aws:*".into(), "anyone", "*"),
            Some(Json::Object(map)) => {
                for p in one_or_many(map.get("AWS")) {
                    let id = aws_principal(&p, &cx.role_arn);
                    // Account roots are named and typed as the credential report names them.
                    if id.ends_with(":root") {
                        add(id, "root", "root");
                    } else {
                        add(id, "external_principal", &p);
                    }
                }
                for p in one_or_many(map.get("Service")) {
                    add(format!("aws-service:{p}"), "aws_service", &p);
                }
                for p in one_or_many(map.get("Federated")) {
                    add(format!("aws-federated:{p}"), "federated", &p);
                }
            }
            _ => {}
        }
    }
}

/// The IAM id of an AWS principal: `assumed-role` sessions become their role,
/// bare account ids the account root.
fn aws_principal(p: &str, roles: &HashMap<String, String>) -> String {
    if p == "*" {
        return "aws:*".into();
    }
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        return format!("arn:aws:iam::{p}:root");
    }
    if let Some(rest) = p.strip_prefix("arn:aws:sts::")
        && let Some((acct, tail)) = rest.split_once(":assumed-role/")
    {
        let role = tail.split('/').next().unwrap_or(tail);
        let local = roles.get(role).filter(|arn| account_of(arn) == acct);
        return local.cloned().unwrap_or_else(|| format!("arn:aws:iam::{acct}:role/{role}"));
    }
    p.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_normalise_to_iam_ids() {
        let roles =
            HashMap::from([("Sso".to_owned(), "arn:aws:iam::1:role/aws-reserved/Sso".to_owned())]);
        assert_eq!(aws_principal("123456789012", &roles), "arn:aws:iam::123456789012:root");
        assert_eq!(
            aws_principal("arn:aws:sts::1:assumed-role/Admin/alice@example.com", &roles),
            "arn:aws:iam::1:role/Admin"
        );
        assert_eq!(
            aws_principal("arn:aws:sts::1:assumed-role/Sso/bob", &roles),
            "arn:aws:iam::1:role/aws-reserved/Sso"
        );
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
    }

    fn grants(doc: &str) -> Grants {
        actions(&serde_json::from_str(doc).unwrap())
    }

    #[test]
    fn not_action_allows_everything_else_and_is_broad() {
        // AWS-managed PowerUserAccess, as the cloudsplaining sample holds it.
        let g = grants(
            r#"{"Statement": [
                {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
                {"Effect": "Allow", "Action": ["iam:ListRoles"], "Resource": "*"}]}"#,
        );
        assert_eq!(g.not_actions, vec!["account:*", "iam:*", "organizations:*"]);
        assert_eq!(g.allow, vec!["iam:ListRoles"]);
        assert!(g.broad);
        assert!(g.conditional.is_empty());
        let rec = policy_record("p", "PowerUserAccess", true, g, Origin::default());
        assert_eq!(rec.get("privileged"), Some(&Input::Bool(true)));
    }

    #[test]
    fn not_action_grants_exclude_only_what_every_statement_excludes() {
        let g = grants(
            r#"{"Statement": [
                {"Effect": "Allow", "NotAction": ["iam:*", "s3:*"], "Resource": "*"},
                {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "arn:aws:s3:::b/*"}]}"#,
        );
        assert_eq!(g.not_actions, vec!["iam:*"]);
    }

    #[test]
    fn conditions_stay_as_data() {
        let g = grants(
            r#"{"Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
                {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}"#,
        );
        assert_eq!(g.allow, vec!["s3:GetObject", "s3:ListBucket"]);
        assert_eq!(g.conditional, vec!["s3:GetObject"]);
        assert_eq!(g.conditions, vec![r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#]);
        assert!(!g.broad);
    }

    #[test]
    fn a_conditional_not_action_grant_is_conditional_everywhere() {
        let g = grants(
            r#"{"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}}"#,
        );
        assert_eq!(g.conditional, vec!["*"]);
        assert!(g.broad);
    }

    #[test]
    fn not_resource_is_recorded_and_its_actions_granted() {
        let g = grants(
            r#"{"Statement": {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secrets/*"}}"#,
        );
        assert_eq!(g.allow, vec!["s3:*"]);
        assert_eq!(g.not_resources, vec!["arn:aws:s3:::secrets/*"]);
    }

    #[test]
    fn deny_not_action_leaves_only_the_listed_actions() {
        let g = grants(
            r#"{"Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "ec2:RunInstances"], "Resource": "*"},
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
                {"Effect": "Deny", "NotAction": ["s3:*", "sts:GetCallerIdentity"], "Resource": "*"}]}"#,
        );
        assert_eq!(g.allow, vec!["s3:*", "s3:GetObject", "sts:GetCallerIdentity"]);
        assert!(g.not_actions.is_empty());
        assert!(!g.broad);
    }
}
