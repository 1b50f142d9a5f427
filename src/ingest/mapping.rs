//! The mapping file (YAML): which tag, label, annotation or property names
//! carry the owner, steward, service, tier and identity type, which carry
//! attributes such as the risk class or the retirement date, and how
//! OpenGraph kinds map to schema kinds. Every organisation names these
//! differently; the defaults cover the common spellings.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use serde::Deserialize;

use crate::diag::{Code, Diag};
use crate::graph::{AttrType, Input, Schema};
use crate::ingest::inventory::{EdgeRecord, Inventory, NodeRecord, Origin};
use crate::ingest::native::yaml_error;
use crate::source::{SourceFile, Span};
use crate::time::{Duration, Timestamp};

/// How one OpenGraph node kind maps into the schema.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindMap {
    /// Schema kind: identity, credential, service, group, role, resource.
    pub kind: String,
    /// The `type` attribute to set (identities and credentials), if any.
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
}

/// OpenGraph part of the mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenGraphMap {
    /// Source node kind → schema kind (the first listed kind of a node that maps wins).
    #[serde(default)]
    pub kinds: BTreeMap<String, KindMap>,
    /// Source edge kind → schema edge kind.
    #[serde(default)]
    pub edges: BTreeMap<String, String>,
    /// Schema edge kind for source edge kinds not listed (the source name is
    /// kept as the edge's label). Without it an unlisted edge kind is an error.
    #[serde(default)]
    pub default_edge: Option<String>,
    /// Schema kind for source node kinds not listed. Without it an unlisted
    /// node kind is an error.
    #[serde(default)]
    pub default_kind: Option<String>,
    /// Source property → schema attribute (e.g. `token_expires_at: expires_at`).
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

/// A mapping file. Lists replace the defaults; maps are merged over them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mapping {
    /// Keys whose value is the id of the accountable owner (an `owned_by` edge).
    pub owner: Vec<String>,
    /// Keys whose value is the id of the technical steward (a `steward` edge).
    pub steward: Vec<String>,
    /// Keys whose value names the business service (a `service` node and a `supports` edge).
    pub service: Vec<String>,
    /// Keys whose value is the service tier (0-3).
    pub tier: Vec<String>,
    /// Keys whose value is the identity `type` (human, service_account, ...).
    pub identity_type: Vec<String>,
    /// Attribute → keys whose value sets it on the tagged record
    /// (`risk_class: [risk-class, risk]`); `service.NAME` sets an attribute
    /// of the service the tags name (`service.owning_team`).
    pub attributes: BTreeMap<String, Vec<String>>,
    /// OpenGraph kinds and edges.
    pub opengraph: OpenGraphMap,
}

/// The default keys of [`Mapping::attributes`]: the spellings of AWS tags,
/// Kubernetes labels and annotations, and OpenGraph properties (snake case,
/// the attribute's own name).
const DEFAULT_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("risk_class", &["risk-class", "risk", "RiskClass", "gov/risk-class", "risk_class"]),
    (
        "data_class",
        &[
            "data-class",
            "data-classification",
            "DataClassification",
            "gov/data-class",
            "data_class",
        ],
    ),
    ("purpose", &["purpose", "Purpose", "gov/purpose"]),
    ("retire_at", &["retire-at", "retirement-date", "RetireAt", "gov/retire-at", "retire_at"]),
    (
        "retirement_trigger",
        &[
            "retirement-trigger",
            "retire-when",
            "RetirementTrigger",
            "gov/retirement-trigger",
            "retirement_trigger",
        ],
    ),
    (
        "review_cadence",
        &["review-cadence", "ReviewCadence", "gov/review-cadence", "review_cadence"],
    ),
    ("team", &["team", "Team", "department", "Department", "gov/team"]),
    ("team_changed_at", &["team-changed-at", "gov/team-changed-at", "team_changed_at"]),
    (
        "ownership_started_at",
        &["owner-since", "OwnerSince", "gov/owner-since", "ownership_started_at"],
    ),
    ("service.owning_team", &["owning-team", "OwningTeam", "gov/owning-team", "owning_team"]),
];

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for Mapping {
    /// Built once per process and cloned: every load and every mapping file
    /// (whose missing sections fall back to these) starts from it.
    fn default() -> Self {
        static DEFAULT: std::sync::OnceLock<Mapping> = std::sync::OnceLock::new();
        DEFAULT.get_or_init(Mapping::builtin).clone()
    }
}

impl Mapping {
    fn builtin() -> Self {
        let k = |kind: &str, ty: Option<&str>| KindMap {
            kind: kind.to_owned(),
            ty: ty.map(str::to_owned),
        };
        let kinds = [
            ("GH_User", k("identity", Some("human"))),
            ("GH_ExternalIdentity", k("identity", Some("external"))),
            ("GH_App", k("identity", Some("api_client"))),
            ("GH_AppInstallation", k("identity", Some("bot"))),
            ("GH_PersonalAccessToken", k("credential", Some("personal_access_token"))),
            ("GH_Secret", k("credential", Some("secret"))),
            ("GH_OrgSecret", k("credential", Some("secret"))),
            ("GH_RepoSecret", k("credential", Some("secret"))),
            ("GH_EnvironmentSecret", k("credential", Some("secret"))),
            ("GH_Team", k("group", None)),
            ("GH_Role", k("role", None)),
            ("GH_OrgRole", k("role", None)),
            ("GH_RepoRole", k("role", None)),
            ("GH_TeamRole", k("role", None)),
            ("GH_Organization", k("resource", Some("organization"))),
            ("GH_Repository", k("resource", Some("repository"))),
            ("GH_Branch", k("resource", Some("branch"))),
            ("GH_BranchProtectionRule", k("resource", Some("branch_protection_rule"))),
            ("GH_Workflow", k("resource", Some("workflow"))),
            ("GH_Environment", k("resource", Some("environment"))),
            ("GH_Variable", k("resource", Some("variable"))),
            ("GH_OrgVariable", k("resource", Some("variable"))),
            ("GH_RepoVariable", k("resource", Some("variable"))),
            ("GH_SecretScanningAlert", k("resource", Some("secret_scanning_alert"))),
            ("GH_SamlIdentityProvider", k("resource", Some("identity_provider"))),
        ];
        let edges = [
            ("GH_HasPersonalAccessToken", "has_credential"),
            ("GH_MemberOf", "member_of"),
            ("GH_HasRole", "grants"),
            ("GH_HasBaseRole", "grants"),
            ("GH_MapsToUser", "assumes"),
            ("GH_SyncedTo", "assumes"),
        ];
        let properties = [
            ("token_expires_at", "expires_at"),
            ("token_last_used_at", "last_used_at"),
            ("access_granted_at", "created_at"),
            ("email", "email"),
        ];
        Mapping {
            owner: strings(&["owner", "Owner", "gov/owner", "owner_email"]),
            steward: strings(&["steward", "Steward", "gov/steward", "technical-contact"]),
            service: strings(&["service", "Service", "gov/service", "app.kubernetes.io/part-of"]),
            tier: strings(&["tier", "Tier", "gov/tier", "service-tier"]),
            identity_type: strings(&["identity-type", "gov/identity-type"]),
            attributes: DEFAULT_ATTRIBUTES
                .iter()
                .map(|(attr, keys)| ((*attr).to_owned(), strings(keys)))
                .collect(),
            opengraph: OpenGraphMap {
                kinds: kinds.into_iter().map(|(a, b)| (a.to_owned(), b)).collect(),
                edges: edges.into_iter().map(|(a, b)| (a.to_owned(), b.to_owned())).collect(),
                default_edge: Some("can_access".to_owned()),
                default_kind: None,
                properties: properties
                    .into_iter()
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .collect(),
            },
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    owner: Option<Vec<String>>,
    steward: Option<Vec<String>>,
    service: Option<Vec<String>>,
    tier: Option<Vec<String>>,
    identity_type: Option<Vec<String>>,
    attributes: Option<BTreeMap<String, Vec<String>>>,
    opengraph: Option<OpenGraphMap>,
}

/// The built-in schema, which types the attributes that tags set.
static BUILTIN: LazyLock<Schema> = LazyLock::new(Schema::builtin);

/// The schema attribute a key of `attributes:` names: `(kind, attribute,
/// type)`, or why it cannot be set from a tag.
fn attribute_target(
    schema: &Schema,
    name: &str,
) -> Result<(&'static str, String, AttrType), String> {
    let (kind, attr) = match name.strip_prefix("service.") {
        Some(a) => ("service", a),
        None => ("identity", name),
    };
    if matches!(attr, "type" | "tags" | "tier") {
        return Err(format!("`{name}` has its own key in the mapping (`identity_type`, `tier`)"));
    }
    let def = schema
        .kind(kind)
        .and_then(|k| schema.attr(k, attr).and_then(|a| schema.attr_def(k, a)))
        .ok_or_else(|| format!("`{name}` is not an attribute of the built-in `{kind}` kind"))?;
    match def.ty {
        AttrType::List(_) => Err(format!("`{name}` is a list; tags set single values")),
        _ => Ok((kind, attr.to_owned(), def.ty.clone())),
    }
}

/// The tag value as a value of `ty`; a value that does not fit is an error
/// diagnostic on the record and `None`.
fn typed(
    inv: &mut Inventory,
    name: &str,
    key: &str,
    raw: &str,
    ty: &AttrType,
    node: &str,
    origin: Origin,
) -> Option<Input<'static>> {
    match tag_value(ty, raw) {
        Ok(v) => Some(v),
        Err(why) => {
            let code = if matches!(ty, AttrType::Time) {
                Code::IngestInvalidDate
            } else {
                Code::InvalidValue
            };
            let d = inv.diag(
                code,
                format!("tag `{key}` of `{node}` is `{raw}`, {why}"),
                origin.file,
                origin.span,
            );
            inv.diags.push(
                d.help(format!("fix the tag, or map other keys to `{name}` in a mapping file")),
            );
            None
        }
    }
}

/// A tag value as a value of `ty`, or what is wrong with it. Enum values are
/// compared ignoring case, with `-` and spaces read as `_` (`Project End`,
/// `project-end` and `project_end` are one value).
fn tag_value(ty: &AttrType, raw: &str) -> Result<Input<'static>, String> {
    let v = raw.trim();
    match ty {
        AttrType::Str => Ok(Input::str(v)),
        AttrType::Enum(values) => {
            let norm: String = v
                .chars()
                .map(|c| if c == '-' || c == ' ' { '_' } else { c.to_ascii_lowercase() })
                .collect();
            if values.contains(&norm) {
                Ok(Input::str(norm))
            } else {
                Err(format!("not one of {}", values.join(", ")))
            }
        }
        AttrType::Time => Timestamp::parse(v)
            .map(Input::Time)
            .map_err(|_| "not a date (`2027-03-31` or RFC 3339)".to_owned()),
        AttrType::Duration => Duration::parse(v)
            .map(Input::Duration)
            .map_err(|_| "not a duration (`90d`, `2w`, `12h`)".to_owned()),
        AttrType::Bool => match v.to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(Input::Bool(true)),
            "false" | "no" => Ok(Input::Bool(false)),
            _ => Err("not `true` or `false`".to_owned()),
        },
        AttrType::Int => v.parse().map(Input::Int).map_err(|_| "not an integer".to_owned()),
        AttrType::Float => v.parse().map(Input::Float).map_err(|_| "not a number".to_owned()),
        AttrType::List(_) => Err("a list".to_owned()),
    }
}

impl Mapping {
    /// Reads a mapping file over the defaults.
    pub fn parse(src: &Arc<SourceFile>) -> Result<Mapping, Diag> {
        let file: MappingFile = if src.text().trim().is_empty() {
            MappingFile::default()
        } else {
            super::yaml_limits::check(src)?;
            serde_yaml_ng::from_str(src.text()).map_err(|e| {
                let mut d = yaml_error(src, &e, "invalid mapping file");
                d.code = Code::InvalidMapping;
                d.help = Some("see docs/inventory.md, section \"Mapping file\"".into());
                d
            })?
        };
        let mut m = Mapping::default();
        if let Some(v) = file.owner {
            m.owner = v;
        }
        if let Some(v) = file.steward {
            m.steward = v;
        }
        if let Some(v) = file.service {
            m.service = v;
        }
        if let Some(v) = file.tier {
            m.tier = v;
        }
        if let Some(v) = file.identity_type {
            m.identity_type = v;
        }
        if let Some(attrs) = file.attributes {
            for name in attrs.keys() {
                if let Err(why) = attribute_target(&BUILTIN, name) {
                    let at = src.text().find(name.as_str()).unwrap_or(0);
                    return Err(Diag::error(
                        Code::InvalidMapping,
                        format!("the mapping sets `{name}` from tags, which it cannot: {why}"),
                    )
                    .in_file(src)
                    .label(Span::new(at, at + name.len()), "this attribute")
                    .help("map tags to a single-valued attribute of `identity` (`risk_class`), or of the service with `service.NAME` (`service.owning_team`)"));
                }
            }
            m.attributes.extend(attrs);
        }
        if let Some(og) = file.opengraph {
            m.opengraph.kinds.extend(og.kinds);
            m.opengraph.edges.extend(og.edges);
            m.opengraph.properties.extend(og.properties);
            if og.default_edge.is_some() {
                m.opengraph.default_edge = og.default_edge;
            }
            if og.default_kind.is_some() {
                m.opengraph.default_kind = og.default_kind;
            }
        }
        Ok(m)
    }

    fn find<'a>(keys: &[String], tags: &'a [(String, String)]) -> Option<&'a str> {
        keys.iter().find_map(|k| tags.iter().find(|(t, _)| t == k).map(|(_, v)| v.as_str()))
    }

    /// The identity type a tag names, if any.
    pub fn identity_type<'a>(&self, tags: &'a [(String, String)]) -> Option<&'a str> {
        Self::find(&self.identity_type, tags).filter(|v| !v.is_empty())
    }

    /// Sets the attributes that [`Mapping::attributes`] reads from `tags` on
    /// the node `node` (already added to `inv`), where the node's kind has
    /// them and no earlier source set them. Attributes of the service
    /// (`service.NAME`) are left to [`Mapping::apply_tags`]. A value that
    /// does not fit its attribute is an `invalid_value` error.
    pub fn apply_attributes(
        &self,
        inv: &mut Inventory,
        node: &str,
        tags: &[(String, String)],
        origin: Origin,
    ) {
        let Some(kind) = inv.node(node).map(|n| n.kind.clone()) else { return };
        for (name, key, raw, attr, ty) in self.attribute_tags(&kind, false, tags) {
            if inv.node(node).is_some_and(|n| n.get(&attr).is_some()) {
                continue;
            }
            if let Some(value) = typed(inv, name, key, raw, &ty, node, origin)
                && let Some(n) = inv.node_mut(node)
            {
                n.set(&attr, value);
            }
        }
    }

    /// Whether `key` is one of the keys of [`Mapping::attributes`].
    pub fn is_attribute_key(&self, key: &str) -> bool {
        self.attributes.values().any(|keys| keys.iter().any(|k| k == key))
    }

    /// The tags that set attributes of `kind` (of the service the tags name
    /// when `service` is true): `(attribute key of the mapping, tag key, tag
    /// value, schema attribute, its type)`.
    fn attribute_tags<'a>(
        &'a self,
        kind: &str,
        service: bool,
        tags: &'a [(String, String)],
    ) -> Vec<(&'a str, &'a str, &'a str, String, AttrType)> {
        let mut out = Vec::new();
        for (name, keys) in &self.attributes {
            if name.starts_with("service.") != service {
                continue;
            }
            let Some((key, raw)) = keys.iter().find_map(|k| {
                tags.iter().find(|(t, v)| t == k && !v.trim().is_empty()).map(|(t, v)| (t, v))
            }) else {
                continue;
            };
            match attribute_target(&BUILTIN, name) {
                Ok((target, attr, ty)) if target == kind => {
                    out.push((name.as_str(), key.as_str(), raw.as_str(), attr, ty));
                }
                _ => {}
            }
        }
        out
    }

    /// Applies tags to the node `node` (already added to `inv`): sets `tags`,
    /// adds owner and steward edges, and the service node and `supports` edge,
    /// and sets the attributes of [`Mapping::attributes`] on both.
    pub fn apply_tags(
        &self,
        inv: &mut Inventory,
        node: &str,
        tags: &[(String, String)],
        origin: Origin,
    ) {
        if tags.is_empty() {
            return;
        }
        if let Some(n) = inv.node_mut(node)
            && n.get("tags").is_none()
        {
            n.set("tags", Input::strs(tags.iter().map(|(k, v)| format!("{k}={v}"))));
        }
        self.apply_attributes(inv, node, tags, origin);
        for (keys, edge) in [(&self.owner, "owned_by"), (&self.steward, "steward")] {
            if let Some(v) = Self::find(keys, tags).filter(|v| !v.is_empty()) {
                let mut e = EdgeRecord::new(node, edge, v, origin);
                e.optional = true;
                inv.add_edge(e);
            }
        }
        if let Some(svc) = Self::find(&self.service, tags).filter(|v| !v.is_empty()) {
            let id = format!("service:{svc}");
            let mut rec = NodeRecord::new(&id, "service", origin);
            rec.set("name", Input::str(svc));
            if let Some(t) = Self::find(&self.tier, tags) {
                match t.trim().trim_start_matches(['t', 'T']).parse::<i64>() {
                    Ok(tier) if (0..=3).contains(&tier) => {
                        rec.set("tier", Input::Int(tier));
                    }
                    _ => {
                        let d = inv.diag(
                            Code::InvalidValue,
                            format!("tier tag of `{node}` is `{t}`, not a tier from 0 to 3"),
                            origin.file,
                            origin.span,
                        );
                        inv.diags.push(d.help("write the tier as 0, 1, 2 or 3 (or t0 to t3)"));
                    }
                }
            }
            for (name, key, raw, attr, ty) in self.attribute_tags("service", true, tags) {
                if let Some(value) = typed(inv, name, key, raw, &ty, node, origin) {
                    rec.set(&attr, value);
                }
            }
            inv.add_node(rec);
            inv.add_edge(EdgeRecord::new(node, "supports", id, origin));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_file_overrides_the_defaults() {
        let src = SourceFile::new(
            "m.yaml",
            "owner: [team-owner]\nopengraph:\n  kinds:\n    Okta_User: {kind: identity, type: human}\n",
        );
        let m = Mapping::parse(&src).unwrap();
        assert_eq!(m.owner, vec!["team-owner"]);
        assert_eq!(m.steward, Mapping::default().steward);
        assert!(m.opengraph.kinds.contains_key("Okta_User"));
        assert!(m.opengraph.kinds.contains_key("GH_User"));
    }

    #[test]
    fn tags_become_edges_and_a_service() {
        let mut inv = Inventory::new();
        inv.add_node(NodeRecord::new("svc-a", "identity", Origin::default()));
        let tags = vec![
            ("owner".to_owned(), "alice@example.com".to_owned()),
            ("service".to_owned(), "billing".to_owned()),
            ("tier".to_owned(), "1".to_owned()),
        ];
        Mapping::default().apply_tags(&mut inv, "svc-a", &tags, Origin::default());
        assert_eq!(inv.node("service:billing").unwrap().get("tier"), Some(&Input::Int(1)));
        assert!(
            inv.edges
                .iter()
                .any(|e| e.kind == "owned_by" && e.to == "alice@example.com" && e.optional)
        );
        assert!(inv.edges.iter().any(|e| e.kind == "supports" && e.to == "service:billing"));
    }

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn default_keys_set_lifecycle_attributes_with_their_types() {
        let mut inv = Inventory::new();
        inv.add_node(NodeRecord::new("svc-a", "identity", Origin::default()));
        let t = tags(&[
            ("risk", "Medium"),
            ("data-class", "confidential"),
            ("purpose", "nightly settlement export"),
            ("retire-at", "2027-03-31"),
            ("retirement-trigger", "Project End"),
            ("review-cadence", "90d"),
            ("owner-since", "2025-01-15"),
            ("service", "billing"),
            ("owning-team", "payments"),
        ]);
        Mapping::default().apply_tags(&mut inv, "svc-a", &t, Origin::default());
        assert!(inv.diags.is_empty(), "{:?}", inv.diags);
        let n = inv.node("svc-a").unwrap();
        assert_eq!(n.get("risk_class"), Some(&Input::str("medium")));
        assert_eq!(n.get("data_class"), Some(&Input::str("confidential")));
        assert_eq!(n.get("purpose"), Some(&Input::str("nightly settlement export")));
        assert_eq!(n.get("retire_at"), Some(&Input::Time(Timestamp::parse("2027-03-31").unwrap())));
        assert_eq!(n.get("retirement_trigger"), Some(&Input::str("project_end")));
        assert_eq!(
            n.get("review_cadence"),
            Some(&Input::Duration(Duration::parse("90d").unwrap()))
        );
        assert!(n.get("ownership_started_at").is_some());
        assert_eq!(n.get("owning_team"), None, "a service attribute, not the identity's");
        let svc = inv.node("service:billing").unwrap();
        assert_eq!(svc.get("owning_team"), Some(&Input::str("payments")));
    }

    #[test]
    fn a_tag_value_outside_its_attribute_is_an_error_naming_the_tag() {
        let mut inv = Inventory::new();
        inv.add_node(NodeRecord::new("svc-a", "identity", Origin::default()));
        let t = tags(&[("risk", "extreme"), ("retire-at", "next spring"), ("purpose", "ok")]);
        Mapping::default().apply_tags(&mut inv, "svc-a", &t, Origin::default());
        let msgs: Vec<String> = inv.diags.iter().map(|d| d.message.clone()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("tag `risk` of `svc-a` is `extreme`")
            && m.contains("low, medium, high, critical")));
        assert!(inv.diags.iter().any(|d| d.code == Code::IngestInvalidDate));
        let n = inv.node("svc-a").unwrap();
        assert_eq!(n.get("risk_class"), None);
        assert_eq!(n.get("purpose"), Some(&Input::str("ok")));
    }

    #[test]
    fn a_mapping_file_renames_attribute_keys_and_rejects_unknown_attributes() {
        let src = SourceFile::new("m.yaml", "attributes:\n  risk_class: [acme:risk]\n");
        let m = Mapping::parse(&src).unwrap();
        assert_eq!(m.attributes["risk_class"], vec!["acme:risk"]);
        assert_eq!(m.attributes["purpose"], Mapping::default().attributes["purpose"]);
        for bad in ["risk_klass", "tags", "service.nope", "type"] {
            let src = SourceFile::new("m.yaml", format!("attributes:\n  {bad}: [x]\n"));
            let d = Mapping::parse(&src).unwrap_err();
            assert_eq!(d.code, Code::InvalidMapping, "{bad}");
            assert!(d.message.contains(&format!("`{bad}`")), "{}", d.message);
        }
    }
}
