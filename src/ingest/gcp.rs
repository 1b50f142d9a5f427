//! Adapter for the Google Cloud IAM exports an administrator already makes:
//! `gcloud projects get-iam-policy PROJECT --format=json` (a `Policy`),
//! `gcloud iam service-accounts list --format=json` and `gcloud iam
//! service-accounts keys list --iam-account SA --format=json` (JSON arrays),
//! and the REST list responses `{"accounts": [..]}` and `{"keys": [..]}`.
//!
//! Each member of a binding (`serviceAccount:`, `user:`, `group:`, `domain:`,
//! `allUsers`, `allAuthenticatedUsers`, `principal://`, `principalSet://`,
//! `deleted:...`) is a node with id `gcp:<member>`, marked `inferred` until
//! its own record (a listed service account) is loaded. Each role is a
//! `role` node `gcp:role:<role>`; a conditional binding is its own role node
//! (`gcp:role:<role> if <expression>`) holding the condition in
//! `conditions`, so a rule can tell a conditional grant from a plain one.
//! Members get a `grants` edge labelled with the policy file's name (the
//! project id is not inside the export) and the condition's title.
//! Service-account keys are `credential` nodes held by their account;
//! system-managed keys (Google rotates them) are `ephemeral`.
//!
//! Must not: guess the project of a policy, or drop a binding, member or key
//! without a diagnostic.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::diag::{Code, Severity};
use crate::graph::Input;
use crate::ingest::native::{json_error, offset_in};
use crate::ingest::{EdgeRecord, Inventory, NodeRecord, Origin};
use crate::source::{SourceFile, Span};
use crate::time::Timestamp;

/// The roles the adapter judges `privileged`: the basic roles that grant
/// (almost) every permission on the project.
const PRIVILEGED_ROLES: [&str; 2] = ["roles/owner", "roles/editor"];

/// `validBeforeTime` of a key that never expires starts with this year.
const NO_EXPIRY_YEAR: &str = "9999-";

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(default, borrow)]
    bindings: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    etag: Option<IgnoredAny>,
    #[serde(default, borrow)]
    accounts: Option<Vec<&'a RawValue>>,
    #[serde(default, borrow)]
    keys: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize)]
struct Binding {
    role: String,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    condition: Option<Condition>,
}

#[derive(Deserialize)]
struct Condition {
    #[serde(default)]
    expression: String,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Account {
    email: String,
    #[serde(default)]
    unique_id: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Key {
    name: String,
    #[serde(default)]
    key_type: Option<String>,
    #[serde(default)]
    valid_after_time: Option<String>,
    #[serde(default)]
    valid_before_time: Option<String>,
    #[serde(default)]
    disabled: bool,
}

/// What one element of a gcloud list is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Account,
    Key,
}

/// The kind of list element `raw` is, from its field names.
fn item_kind(raw: &str) -> Option<Item> {
    let keys: BTreeMap<String, IgnoredAny> = serde_json::from_str(raw).ok()?;
    let has = |k: &str| keys.contains_key(k);
    if has("keyType") || has("validAfterTime") && has("name") {
        Some(Item::Key)
    } else if has("email") && (has("uniqueId") || has("projectId") || has("oauth2ClientId")) {
        Some(Item::Account)
    } else {
        None
    }
}

/// Whether `text` is one of the exports this adapter reads: an IAM policy
/// (`bindings`, or only `etag`/`version` when it has none), a list of service
/// accounts or keys (a JSON array, or the REST `accounts`/`keys` response).
/// An empty array is what gcloud prints for an empty list, and is read as one.
pub fn detect(text: &str) -> bool {
    if text.trim_start().starts_with('[') {
        let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) else { return false };
        return items.first().is_none_or(|first| item_kind(first.get()).is_some());
    }
    let Ok(obj) = serde_json::from_str::<BTreeMap<String, &RawValue>>(text) else { return false };
    let only = |allowed: &[&str]| obj.keys().all(|k| allowed.contains(&k.as_str()));
    let list = |field: &str, want: Item| {
        obj.get(field).is_some_and(|v| {
            serde_json::from_str::<Vec<&RawValue>>(v.get())
                .is_ok_and(|l| l.first().is_none_or(|f| item_kind(f.get()) == Some(want)))
        })
    };
    obj.contains_key("bindings") && only(&["bindings", "etag", "version", "auditConfigs"])
        || obj.contains_key("etag") && only(&["etag", "version", "auditConfigs"])
        || list("accounts", Item::Account) && only(&["accounts", "nextPageToken"])
        || list("keys", Item::Key) && only(&["keys"])
}

/// The id of a member's node: `gcp:` and the member as the policy writes it
/// (`gcp:serviceAccount:ci@p.iam.gserviceaccount.com`).
fn member_id(member: &str) -> String {
    format!("gcp:{member}")
}

/// Google-managed service agents (`service-<number>@...`, the Google APIs
/// service agent `<number>@cloudservices.gserviceaccount.com`): Google
/// creates them and grants their roles, like AWS service-linked roles.
fn service_account_type(email: &str) -> &'static str {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let numbered = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let agent = domain == "cloudservices.gserviceaccount.com"
        || local.strip_prefix("service-").is_some_and(numbered)
        || domain.starts_with("gcp-sa-") && domain.ends_with(".iam.gserviceaccount.com");
    if agent { "service_agent" } else { "service_account" }
}

struct Ctx {
    inv: Inventory,
    file: u32,
    src: Arc<SourceFile>,
    /// The policy file's name, the label of its grants.
    label: String,
}

impl Ctx {
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

    fn warn(&mut self, code: Code, message: String, span: Span, help: &str) {
        let mut d = self.inv.diag(code, message, self.file, span);
        d.severity = Severity::Warning;
        self.inv.diags.push(d.help(help));
    }

    fn error(&mut self, code: Code, message: String, span: Span, help: &str) {
        let d = self.inv.diag(code, message, self.file, span);
        self.inv.diags.push(d.help(help));
    }

    /// Records `raw` elements (at their offsets in the file) with `f`.
    fn each<'t>(&mut self, items: &[&'t RawValue], mut f: impl FnMut(&mut Self, &'t str, Origin)) {
        let src = Arc::clone(&self.src);
        let text = src.text();
        for (i, raw) in items.iter().enumerate() {
            let base = offset_in(text, raw.get());
            let o = Origin {
                file: self.file,
                record: i as u32,
                span: Span::new(base, base + raw.get().len()),
            };
            f(self, raw.get(), o);
        }
    }

    fn parse<T: for<'de> Deserialize<'de>>(
        &mut self,
        raw: &str,
        o: Origin,
        what: &str,
    ) -> Option<T> {
        match serde_json::from_str::<T>(raw) {
            Ok(t) => Some(t),
            Err(e) => {
                let d = json_error(
                    &self.src,
                    raw,
                    o.span.start,
                    &e,
                    &format!("invalid {what} {}", o.record),
                );
                self.inv.diags.push(d);
                None
            }
        }
    }

    fn binding(&mut self, raw: &str, o: Origin) {
        let Some(b) = self.parse::<Binding>(raw, o, "binding") else { return };
        if b.role.is_empty() {
            let span = self.find(&o, "\"role\"");
            self.error(
                Code::MissingField,
                format!("binding {} has an empty `role`", o.record),
                span,
                "a binding names the role it grants, such as `roles/viewer`",
            );
            return;
        }
        let mut id = format!("gcp:role:{}", b.role);
        let mut name = b.role.clone();
        let mut label = self.label.clone();
        let mut conditions = Vec::new();
        if let Some(c) = &b.condition {
            if c.expression.trim().is_empty() {
                let span = self.find(&o, "\"condition\"");
                self.error(
                    Code::MissingField,
                    format!("the condition of binding {} (`{}`) has no `expression`", o.record, b.role),
                    span,
                    "an IAM condition is a CEL `expression` with a `title`; re-export the policy with `--format=json`",
                );
                return;
            }
            let title = c.title.as_deref().filter(|t| !t.is_empty()).unwrap_or(&c.expression);
            // One node per condition: the grant holds only when it is true.
            id = format!("{id} if {}", c.expression);
            name = format!("{name} if {title}");
            label = format!("{label} if {title}");
            conditions.push(c.expression.clone());
        }
        let mut rec = NodeRecord::new(&id, "role", o);
        rec.set("name", Input::str(name))
            .set("external_id", Input::str(&b.role))
            .set("source", Input::str("gcp"))
            .set("managed", Input::Bool(b.role.starts_with("roles/")))
            .set("privileged", Input::Bool(PRIVILEGED_ROLES.contains(&b.role.as_str())));
        if !conditions.is_empty() {
            rec.set("conditions", Input::strs(conditions));
        }
        let role = rec.id.clone();
        self.inv.add_node(rec);
        // A member listed twice in one binding holds the role once.
        let mut seen = std::collections::BTreeSet::new();
        for m in b.members.iter().filter(|m| seen.insert(m.as_str())) {
            if let Some(id) = self.member(m, o) {
                let mut e = EdgeRecord::new(id, "grants", &role, o);
                e.label = Some(label.clone());
                self.inv.add_edge(e);
            }
        }
    }

    /// The node of a binding member (added, marked `inferred`), or a warning.
    fn member(&mut self, member: &str, o: Origin) -> Option<String> {
        let (deleted, inner) = match member.strip_prefix("deleted:") {
            Some(rest) => (true, rest),
            None => (false, member),
        };
        let (prefix, rest) = inner.split_once(':').unwrap_or((inner, ""));
        // `deleted:` members end in `?uid=<number>`: the account that held the
        // grant, not a new one of the same name.
        let email = rest.split_once('?').map_or(rest, |(e, _)| e);
        let (kind, ty, mail) = match prefix {
            "serviceAccount" if !email.is_empty() => {
                ("identity", Some(service_account_type(email)), Some(email))
            }
            "user" if !email.is_empty() => ("identity", Some("human"), Some(email)),
            "group" if !email.is_empty() => ("group", None, Some(email)),
            "domain" if !rest.is_empty() => ("group", None, None),
            "allUsers" | "allAuthenticatedUsers" if rest.is_empty() => ("group", None, None),
            "principal" if rest.starts_with("//") => {
                let ty = if rest.contains("/workloadIdentityPools/") {
                    "workload"
                } else if rest.contains("/workforcePools/") || rest.starts_with("//goog/subject/") {
                    "human"
                } else {
                    "external"
                };
                ("identity", Some(ty), None)
            }
            "principalSet" if rest.starts_with("//") => ("group", None, None),
            "projectOwner" | "projectEditor" | "projectViewer" if !rest.is_empty() => {
                ("group", None, None)
            }
            _ => {
                let span = self.find(&o, member);
                self.warn(
                    Code::UnknownKind,
                    format!("binding {} has a member of unknown kind `{member}`; it is skipped", o.record),
                    span,
                    "members are serviceAccount:, user:, group:, domain:, allUsers, allAuthenticatedUsers, principal://, principalSet:// or deleted:...",
                );
                return None;
            }
        };
        let id = member_id(member);
        let mut rec = NodeRecord::new(&id, kind, o);
        let name = if deleted { member } else { mail.unwrap_or(member) };
        rec.set("name", Input::str(name)).set("source", Input::str("gcp"));
        if let Some(ty) = ty {
            rec.set("type", Input::str(ty));
        }
        if let (Some(m), "identity") = (mail, kind) {
            rec.set("email", Input::str(m));
        }
        if deleted && kind == "identity" {
            rec.set("active", Input::Bool(false));
        }
        rec.set("inferred", Input::Bool(true));
        self.inv.add_node(rec);
        Some(id)
    }

    fn account(&mut self, raw: &str, o: Origin) {
        let Some(a) = self.parse::<Account>(raw, o, "service account") else { return };
        if a.email.is_empty() {
            let span = self.find(&o, "\"email\"");
            self.error(
                Code::MissingField,
                format!("service account {} has an empty `email`", o.record),
                span,
                "export with `gcloud iam service-accounts list --format=json`",
            );
            return;
        }
        let mut rec =
            NodeRecord::new(member_id(&format!("serviceAccount:{}", a.email)), "identity", o);
        rec.set("name", Input::str(&a.email))
            .set("type", Input::str(service_account_type(&a.email)))
            .set("email", Input::str(&a.email))
            .set("source", Input::str("gcp"))
            .set("active", Input::Bool(!a.disabled));
        if let Some(uid) = a.unique_id.filter(|u| !u.is_empty()) {
            rec.set("external_id", Input::str(uid));
        }
        if let Some(p) = a.project_id.filter(|p| !p.is_empty()) {
            rec.set("namespace", Input::str(p));
        }
        self.inv.add_node(rec);
    }

    fn date(&mut self, o: &Origin, field: &str, value: &str, key: &str) -> Option<Timestamp> {
        match Timestamp::parse(value) {
            Ok(t) => Some(t),
            Err(e) => {
                let span = self.find(o, value);
                self.error(
                    Code::IngestInvalidDate,
                    format!("`{field}` of key `{key}` is not a date: `{value}` ({e})"),
                    span,
                    "gcloud writes RFC 3339 times such as `2025-03-04T10:11:12Z`",
                );
                None
            }
        }
    }

    fn key(&mut self, raw: &str, o: Origin) {
        let Some(k) = self.parse::<Key>(raw, o, "key") else { return };
        // projects/{project}/serviceAccounts/{account}/keys/{key id}
        let parts: Vec<&str> = k.name.split('/').collect();
        let &["projects", project, "serviceAccounts", account, "keys", key_id] = parts.as_slice()
        else {
            let span = self.find(&o, &k.name);
            self.error(
                Code::InvalidValue,
                format!("key name `{}` is not `projects/PROJECT/serviceAccounts/ACCOUNT/keys/ID`", k.name),
                span,
                "export with `gcloud iam service-accounts keys list --iam-account SA --format=json`",
            );
            return;
        };
        if account.is_empty() || key_id.is_empty() {
            let span = self.find(&o, &k.name);
            self.error(
                Code::InvalidValue,
                format!("key name `{}` has an empty account or key id", k.name),
                span,
                "export with `gcloud iam service-accounts keys list --iam-account SA --format=json`",
            );
            return;
        }
        let id = format!("gcp:key:{account}/{key_id}");
        let mut rec = NodeRecord::new(&id, "credential", o);
        rec.set("name", Input::str(format!("{account}/keys/{key_id}")))
            .set("type", Input::str("service_account_key"))
            .set("external_id", Input::str(&k.name))
            .set("source", Input::str("gcp"))
            .set("active", Input::Bool(!k.disabled));
        if project != "-" && !project.is_empty() {
            rec.set("namespace", Input::str(project));
        }
        let ephemeral = match k.key_type.as_deref() {
            Some("SYSTEM_MANAGED") => true,
            Some("USER_MANAGED") => false,
            other => {
                let span = self.find(&o, other.unwrap_or(&k.name));
                self.warn(
                    Code::InvalidValue,
                    match other {
                        Some(t) => format!(
                            "key `{}` has `keyType` `{t}`; it is read as user-managed",
                            k.name
                        ),
                        None => {
                            format!("key `{}` has no `keyType`; it is read as user-managed", k.name)
                        }
                    },
                    span,
                    "gcloud writes `USER_MANAGED` or `SYSTEM_MANAGED`",
                );
                false
            }
        };
        rec.set("ephemeral", Input::Bool(ephemeral));
        if let Some(v) = k.valid_after_time.as_deref().filter(|v| !v.is_empty())
            && let Some(t) = self.date(&o, "validAfterTime", v, &k.name)
        {
            rec.set("created_at", Input::Time(t)).set("rotated_at", Input::Time(t));
        }
        if let Some(v) = k
            .valid_before_time
            .as_deref()
            .filter(|v| !v.is_empty() && !v.starts_with(NO_EXPIRY_YEAR))
            && let Some(t) = self.date(&o, "validBeforeTime", v, &k.name)
        {
            rec.set("expires_at", Input::Time(t));
        }
        self.inv.add_node(rec);
        if !account.contains('@') {
            let span = self.find(&o, account);
            self.warn(
                Code::MissingField,
                format!("key `{}` names its service account by unique id, not email; it is loaded without its holder", k.name),
                span,
                "list keys with `--iam-account EMAIL` so the key joins its account",
            );
            return;
        }
        let holder = member_id(&format!("serviceAccount:{account}"));
        let mut sa = NodeRecord::new(&holder, "identity", o);
        sa.set("name", Input::str(account))
            .set("type", Input::str(service_account_type(account)))
            .set("email", Input::str(account))
            .set("source", Input::str("gcp"));
        if project != "-" && !project.is_empty() {
            sa.set("namespace", Input::str(project));
        }
        sa.set("inferred", Input::Bool(true));
        self.inv.add_node(sa);
        self.inv.add_edge(EdgeRecord::new(holder, "has_credential", id, o));
    }

    fn list_item(&mut self, raw: &str, o: Origin) {
        match item_kind(raw) {
            Some(Item::Account) => self.account(raw, o),
            Some(Item::Key) => self.key(raw, o),
            None => self.error(
                Code::UnknownKind,
                format!("item {} is neither a service account (`email`, `uniqueId`) nor a key (`name`, `keyType`)", o.record),
                o.span,
                "give the output of `gcloud iam service-accounts list` or `... keys list` with `--format=json`",
            ),
        }
    }
}

/// Converts one gcloud IAM export (policy, service-account list or key list).
pub fn convert(src: Arc<SourceFile>) -> Inventory {
    let mut inv = Inventory::new();
    let file = inv.add_file(src.clone());
    let label = Path::new(src.name())
        .file_name()
        .map_or_else(|| src.name().to_owned(), |n| n.to_string_lossy().into_owned());
    let mut cx = Ctx { inv, file, src: src.clone(), label };
    let text = src.text();
    if text.trim_start().starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(items) => cx.each(&items, Ctx::list_item),
            Err(e) => cx.inv.diags.push(json_error(&src, text, 0, &e, "invalid gcloud list")),
        }
        return cx.inv;
    }
    let top: Top<'_> = match serde_json::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            cx.inv.diags.push(json_error(&src, text, 0, &e, "invalid gcloud IAM export"));
            return cx.inv;
        }
    };
    let mut known = false;
    if let Some(b) = &top.bindings {
        cx.each(b, Ctx::binding);
        known = true;
    }
    if let Some(a) = &top.accounts {
        cx.each(a, Ctx::list_item);
        known = true;
    }
    if let Some(k) = &top.keys {
        cx.each(k, Ctx::list_item);
        known = true;
    }
    if !known && top.etag.is_none() {
        let span = Span::new(0, text.len().min(1));
        cx.error(
            Code::UnknownFormat,
            format!("`{}` is not a gcloud IAM policy, service-account list or key list", src.name()),
            span,
            "export with `gcloud projects get-iam-policy PROJECT --format=json` or `gcloud iam service-accounts [keys] list --format=json`",
        );
    }
    cx.inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_agents_are_told_from_service_accounts() {
        for agent in [
            "service-12340002@compute-system.iam.gserviceaccount.com",
            "12340002@cloudservices.gserviceaccount.com",
            "service-org-1@gcp-sa-logging.iam.gserviceaccount.com",
        ] {
            assert_eq!(service_account_type(agent), "service_agent", "{agent}");
        }
        for sa in [
            "ci@my-project.iam.gserviceaccount.com",
            "12340002-compute@developer.gserviceaccount.com",
            "my-project@appspot.gserviceaccount.com",
            "12340005@cloudbuild.gserviceaccount.com",
            "service-account@p.iam.gserviceaccount.com",
        ] {
            assert_eq!(service_account_type(sa), "service_account", "{sa}");
        }
    }

    #[test]
    fn list_elements_are_classified_by_their_fields() {
        assert_eq!(
            item_kind(
                r#"{"name": "projects/p/serviceAccounts/a@b/keys/1", "keyType": "USER_MANAGED"}"#
            ),
            Some(Item::Key)
        );
        assert_eq!(item_kind(r#"{"email": "a@b", "uniqueId": "1"}"#), Some(Item::Account));
        assert_eq!(item_kind(r#"{"email": "a@b"}"#), None);
        assert_eq!(item_kind("[1]"), None);
    }

    #[test]
    fn detects_each_export_and_nothing_else() {
        assert!(detect(r#"{"bindings": [], "etag": "BwX=", "version": 1}"#));
        assert!(detect(r#"{"etag": "ACAB"}"#));
        assert!(detect(r#"[{"email": "a@p.iam.gserviceaccount.com", "uniqueId": "1"}]"#));
        assert!(detect(r#"{"accounts": [{"email": "a@p", "projectId": "p"}]}"#));
        assert!(detect(
            r#"{"keys": [{"name": "projects/p/serviceAccounts/a@p/keys/1", "keyType": "SYSTEM_MANAGED"}]}"#
        ));
        assert!(detect("[]"));
        assert!(!detect(r#"[{"id": 1}]"#));
        assert!(!detect(r#"{"keys": [{"id": 1}]}"#));
        assert!(!detect(r#"{"etag": "x", "items": []}"#));
        assert!(!detect(r#"{"bindings": [], "apiVersion": "v1"}"#));
        assert!(!detect("not json"));
    }
}
