//! Adapter for Kubernetes RBAC as `kubectl get serviceaccounts,roles,
//! clusterroles,rolebindings,clusterrolebindings -A -o json` prints it (a
//! `List`), each kind alone (`ServiceAccountList`, ...) or one object.
//!
//! Service accounts are `identity` nodes (type `service_account`); users and
//! groups named by bindings are `identity` (type `human`, or `system` for
//! `system:` names) and `group` nodes, `system:` ones included. Roles and
//! cluster roles are `role` nodes with their rules as actions (`verb
//! resource`; the encoding is documented in `docs/inventory.md`). Each binding subject gets a
//! `grants` edge to the bound role, labelled with the binding. A
//! ServiceAccount subject is an identity even when the export lacks the
//! account itself (`kubectl get clusterroles,clusterrolebindings` is the
//! common export): it is marked `inferred` until its own record is loaded. A
//! RoleBinding's ServiceAccount subject without a namespace takes the
//! binding's, with a warning. The IRSA annotation `eks.amazonaws.com/role-arn`
//! becomes an optional `assumes` edge to the AWS role, resolved when the AWS
//! inventory is loaded too. Labels and annotations go through the [`Mapping`].

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

use crate::diag::{Code, Severity};
use crate::graph::Input;
use crate::ingest::native::{json_error, offset_in};
use crate::ingest::{EdgeRecord, Inventory, Mapping, NodeRecord, Origin};
use crate::source::{SourceFile, Span};
use crate::time::Timestamp;

/// The annotation EKS uses for IAM roles for service accounts.
pub const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(default)]
    kind: String,
    #[serde(default, borrow)]
    items: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    creation_timestamp: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    kind: String,
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    rules: Option<Vec<Rule>>,
    #[serde(default)]
    role_ref: Option<RoleRef>,
    #[serde(default)]
    subjects: Option<Vec<Subject>>,
    /// Legacy long-lived token secrets of a service account.
    #[serde(default)]
    secrets: Option<Vec<SecretRef>>,
}

#[derive(Deserialize)]
struct SecretRef {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    api_groups: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    resource_names: Vec<String>,
    #[serde(default, rename = "nonResourceURLs")]
    non_resource_urls: Vec<String>,
    #[serde(default)]
    verbs: Vec<String>,
}

#[derive(Deserialize)]
struct RoleRef {
    kind: String,
    name: String,
}

#[derive(Deserialize)]
struct Subject {
    kind: String,
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

/// Node id of a service account.
pub fn service_account_id(ns: &str, name: &str) -> String {
    format!("k8s:serviceaccount:{ns}/{name}")
}

fn role_id(kind: &str, ns: Option<&str>, name: &str) -> String {
    match (kind, ns) {
        ("ClusterRole", _) | (_, None) => format!("k8s:clusterrole:{name}"),
        (_, Some(ns)) => format!("k8s:role:{ns}/{name}"),
    }
}

/// A rule's grants as `verb resource` strings. Resources of the core API
/// group are written bare (`get pods`), others with their group
/// (`list apps/deployments`), every group as `*` (`* */*` is every verb on
/// every resource of every group: full control); each group a rule lists is
/// granted. Non-resource URLs keep their leading `/` (`get /healthz`; the
/// wildcard `*` is written `/*`), so they never read as a resource.
fn actions(rules: &[Rule]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rules {
        // An empty `apiGroups` list names no group; the API server then
        // matches the core group only.
        let core = [String::new()];
        let groups = if r.api_groups.is_empty() { &core[..] } else { &r.api_groups[..] };
        for v in &r.verbs {
            for g in groups {
                for res in &r.resources {
                    let res = if g.is_empty() { res.clone() } else { format!("{g}/{res}") };
                    if r.resource_names.is_empty() {
                        out.push(format!("{v} {res}"));
                    } else {
                        out.extend(r.resource_names.iter().map(|n| format!("{v} {res}/{n}")));
                    }
                }
            }
            out.extend(r.non_resource_urls.iter().map(|u| {
                if u.starts_with('/') { format!("{v} {u}") } else { format!("{v} /{u}") }
            }));
        }
    }
    out.sort();
    out.dedup();
    out
}

struct Ctx<'m> {
    inv: Inventory,
    file: u32,
    mapping: &'m Mapping,
}

impl Ctx<'_> {
    fn common(&mut self, rec: &mut NodeRecord, meta: &Meta) {
        rec.set("name", Input::str(&meta.name)).set("source", Input::str("k8s"));
        if let Some(ns) = &meta.namespace {
            rec.set("namespace", Input::str(ns));
        }
        if let Some(uid) = &meta.uid {
            rec.set("external_id", Input::str(uid));
        }
        if let Some(ts) = &meta.creation_timestamp {
            match Timestamp::parse(ts) {
                Ok(t) => {
                    rec.set("created_at", Input::Time(t));
                }
                Err(e) => {
                    let d = self.inv.diag(
                        Code::IngestInvalidDate,
                        format!(
                            "`metadata.creationTimestamp` of `{}` is not a date: `{ts}` ({e})",
                            meta.name
                        ),
                        self.file,
                        rec.origin.span,
                    );
                    self.inv.diags.push(
                        d.help("Kubernetes writes RFC 3339 times such as `2025-03-04T10:11:12Z`"),
                    );
                }
            }
        }
    }

    fn tags(meta: &Meta) -> Vec<(String, String)> {
        meta.labels
            .iter()
            .chain(
                meta.annotations.iter().filter(|(k, _)| !k.starts_with("kubectl.kubernetes.io/")),
            )
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn subject(
        &mut self,
        s: &Subject,
        binding_ns: Option<&str>,
        o: Origin,
        binding: &str,
    ) -> Option<String> {
        match s.kind.as_str() {
            "ServiceAccount" => match s.namespace.as_deref().or(binding_ns) {
                Some(ns) => {
                    if s.namespace.is_none() {
                        let mut d = self.inv.diag(
                            Code::MissingField,
                            format!(
                                "ServiceAccount subject `{}` of `{binding}` has no namespace; the binding's namespace `{ns}` is used",
                                s.name
                            ),
                            self.file,
                            o.span,
                        );
                        d.severity = Severity::Warning;
                        self.inv.diags.push(d.help(
                            "give each ServiceAccount subject its `namespace`, as `kubectl create rolebinding` does",
                        ));
                    }
                    let id = service_account_id(ns, &s.name);
                    // The binding is evidence that the account exists; its
                    // own record, if loaded too, replaces this one.
                    let mut rec = NodeRecord::new(&id, "identity", o);
                    rec.set("name", Input::str(&s.name))
                        .set("type", Input::str("service_account"))
                        .set("namespace", Input::str(ns))
                        .set("source", Input::str("k8s"))
                        .set("inferred", Input::Bool(true));
                    self.inv.add_node(rec);
                    Some(id)
                }
                None => {
                    let d = self.inv.diag(
                        Code::MissingField,
                        format!(
                            "ServiceAccount subject `{}` of `{binding}` has no namespace",
                            s.name
                        ),
                        self.file,
                        o.span,
                    );
                    self.inv.diags.push(d.help("a ClusterRoleBinding must give each ServiceAccount subject its `namespace`"));
                    None
                }
            },
            "User" => {
                let id = format!("k8s:user:{}", s.name);
                let mut rec = NodeRecord::new(&id, "identity", o);
                let ty = if s.name.starts_with("system:") { "system" } else { "human" };
                rec.set("name", Input::str(&s.name))
                    .set("type", Input::str(ty))
                    .set("source", Input::str("k8s"));
                self.inv.add_node(rec);
                Some(id)
            }
            "Group" => {
                let id = format!("k8s:group:{}", s.name);
                let mut rec = NodeRecord::new(&id, "group", o);
                rec.set("name", Input::str(&s.name)).set("source", Input::str("k8s"));
                self.inv.add_node(rec);
                Some(id)
            }
            other => {
                let d = self.inv.diag(
                    Code::UnknownKind,
                    format!("binding `{binding}` has a subject of unknown kind `{other}`"),
                    self.file,
                    o.span,
                );
                self.inv.diags.push(d.help("subjects are ServiceAccount, User or Group"));
                None
            }
        }
    }

    fn object(&mut self, obj: Object, o: Origin) {
        let meta = &obj.metadata;
        match obj.kind.as_str() {
            "ServiceAccount" => {
                let ns = meta.namespace.as_deref().unwrap_or("default");
                let id = service_account_id(ns, &meta.name);
                let mut rec = NodeRecord::new(&id, "identity", o);
                rec.set("type", Input::str("service_account"));
                self.common(&mut rec, meta);
                self.inv.add_node(rec);
                let tags = Self::tags(meta);
                self.mapping.apply_tags(&mut self.inv, &id, &tags, o);
                for secret in
                    obj.secrets.as_deref().unwrap_or(&[]).iter().filter(|s| !s.name.is_empty())
                {
                    let cid = format!("k8s:secret:{ns}/{}", secret.name);
                    let mut cred = NodeRecord::new(&cid, "credential", o);
                    cred.set("name", Input::str(&secret.name))
                        .set("type", Input::str("service_account_token"))
                        .set("namespace", Input::str(ns))
                        .set("source", Input::str("k8s"))
                        .set("ephemeral", Input::Bool(false));
                    self.inv.add_node(cred);
                    self.inv.add_edge(EdgeRecord::new(&id, "has_credential", cid, o));
                }
                if let Some(arn) = meta.annotations.get(IRSA_ANNOTATION) {
                    let mut e = EdgeRecord::new(&id, "assumes", arn, o);
                    e.optional = true;
                    e.label = Some("IRSA".into());
                    self.inv.add_edge(e);
                }
            }
            "Role" | "ClusterRole" => {
                let ns =
                    (obj.kind == "Role").then_some(meta.namespace.as_deref().unwrap_or("default"));
                let id = role_id(&obj.kind, ns, &meta.name);
                let rules = obj.rules.as_deref().unwrap_or(&[]);
                let acts = actions(rules);
                // Every verb on every resource, or on secrets (which hold
                // other identities' tokens), is administrative power.
                let privileged = rules.iter().any(|r| {
                    r.verbs.iter().any(|v| v == "*")
                        && (r.resources.iter().any(|x| x == "*" || x == "secrets"))
                });
                let mut rec = NodeRecord::new(&id, "role", o);
                self.common(&mut rec, meta);
                rec.set("actions", Input::strs(acts))
                    .set("privileged", Input::Bool(privileged))
                    .set(
                        "managed",
                        Input::Bool(
                            meta.name.starts_with("system:")
                                || meta.labels.contains_key("kubernetes.io/bootstrapping"),
                        ),
                    );
                self.inv.add_node(rec);
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let ns = meta.namespace.as_deref().filter(|_| obj.kind == "RoleBinding");
                let binding = match ns {
                    Some(ns) => format!("{}/{ns}/{}", obj.kind, meta.name),
                    None => format!("{}/{}", obj.kind, meta.name),
                };
                let Some(rr) = &obj.role_ref else {
                    let d = self.inv.diag(
                        Code::MissingField,
                        format!("`{binding}` has no `roleRef`"),
                        self.file,
                        o.span,
                    );
                    self.inv.diags.push(d.help("a binding names the role it grants in `roleRef`"));
                    return;
                };
                let role = role_id(&rr.kind, ns, &rr.name);
                for s in obj.subjects.as_deref().unwrap_or(&[]) {
                    if let Some(subject) = self.subject(s, ns, o, &binding) {
                        let mut e = EdgeRecord::new(subject, "grants", &role, o);
                        // The role or the service account may be in another export.
                        e.optional = true;
                        e.label = Some(binding.clone());
                        self.inv.add_edge(e);
                    }
                }
            }
            other => {
                let mut d = self.inv.diag(
                    Code::UnknownKind,
                    format!(
                        "the k8s adapter does not read `{other}` objects; `{}` is skipped",
                        meta.name
                    ),
                    self.file,
                    o.span,
                );
                d.severity = Severity::Warning;
                self.inv.diags.push(d.help(
                    "export with `kubectl get serviceaccounts,roles,clusterroles,rolebindings,clusterrolebindings -A -o json`",
                ));
            }
        }
    }
}

/// Converts a `kubectl ... -o json` list or object.
pub fn convert(src: Arc<SourceFile>, mapping: &Mapping) -> Inventory {
    let mut inv = Inventory::new();
    let file = inv.add_file(src.clone());
    let text = src.text();
    let top: Top<'_> = match serde_json::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            inv.diags.push(json_error(&src, text, 0, &e, "invalid kubectl output"));
            return inv;
        }
    };
    let mut cx = Ctx { inv, file, mapping };
    let items: Vec<(usize, &str)> = match &top.items {
        Some(items) => items.iter().map(|r| (offset_in(text, r.get()), r.get())).collect(),
        None if !top.kind.is_empty() => vec![(0, text)],
        None => Vec::new(),
    };
    cx.inv.set_records_read(file, items.len() as u64);
    for (i, (base, raw)) in items.into_iter().enumerate() {
        let o = Origin { file, record: i as u32, span: Span::new(base, base + raw.len()) };
        match serde_json::from_str::<Object>(raw) {
            Ok(obj) => cx.object(obj, o),
            Err(e) => {
                cx.inv.diags.push(json_error(&src, raw, base, &e, &format!("invalid item {i}")))
            }
        }
    }
    cx.inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_become_actions() {
        let rules = vec![Rule {
            api_groups: vec!["apps".into()],
            resources: vec!["deployments".into()],
            resource_names: vec![],
            non_resource_urls: vec![],
            verbs: vec!["get".into(), "list".into()],
        }];
        assert_eq!(actions(&rules), vec!["get apps/deployments", "list apps/deployments"]);
    }

    fn rule(groups: &[&str], resources: &[&str], urls: &[&str], verbs: &[&str]) -> Rule {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Rule {
            api_groups: v(groups),
            resources: v(resources),
            resource_names: vec![],
            non_resource_urls: v(urls),
            verbs: v(verbs),
        }
    }

    #[test]
    fn every_api_group_of_a_rule_is_granted() {
        let r = rule(&["", "events.k8s.io"], &["events"], &[], &["get"]);
        assert_eq!(actions(&[r]), vec!["get events", "get events.k8s.io/events"]);
        let r = rule(&["apps", "extensions"], &["deployments"], &[], &["patch"]);
        assert_eq!(actions(&[r]), vec!["patch apps/deployments", "patch extensions/deployments"]);
    }

    #[test]
    fn full_control_and_non_resource_urls_are_spelled_apart() {
        // cluster-admin as Kubernetes ships it.
        let admin = [rule(&["*"], &["*"], &[], &["*"]), rule(&[], &[], &["*"], &["*"])];
        assert_eq!(actions(&admin), vec!["* */*", "* /*"]);
        // Every verb on every core resource is not every resource.
        assert_eq!(actions(&[rule(&[""], &["*"], &[], &["*"])]), vec!["* *"]);
        assert_eq!(actions(&[rule(&[], &[], &["/healthz"], &["get"])]), vec!["get /healthz"]);
    }
}
