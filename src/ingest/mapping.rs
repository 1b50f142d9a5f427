//! The mapping file (YAML): which tag, label, annotation or property names
//! carry the owner, steward, service, tier and identity type, and how
//! OpenGraph kinds map to schema kinds. Every organisation names these
//! differently; the defaults cover the common spellings.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::diag::{Code, Diag};
use crate::graph::Input;
use crate::ingest::inventory::{EdgeRecord, Inventory, NodeRecord, Origin};
use crate::ingest::native::yaml_error;
use crate::source::SourceFile;

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
    /// OpenGraph kinds and edges.
    pub opengraph: OpenGraphMap,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for Mapping {
    fn default() -> Self {
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
    opengraph: Option<OpenGraphMap>,
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

    /// Applies tags to the node `node` (already added to `inv`): sets `tags`,
    /// adds owner and steward edges, and the service node and `supports` edge.
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
}
