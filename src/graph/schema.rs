//! The schema as data: node kinds with typed attributes, and edge kinds with
//! the node kinds they may connect. The checker types policies against it and
//! the loaders validate inventories against it; nothing here knows a concrete
//! kind except [`Schema::builtin`].

use hashbrown::HashMap;
use std::fmt;

use serde::Serialize;

/// Index of a node kind in its [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct KindId(pub u16);

/// Index of an attribute within its node kind (its column slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AttrId(pub u16);

/// Index of an edge kind in its [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EdgeKindId(pub u16);

/// The type of an attribute.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AttrType {
    /// Text.
    Str,
    /// 64-bit signed integer.
    Int,
    /// 64-bit float.
    Float,
    /// `true` or `false`.
    Bool,
    /// A point in time (UTC).
    Time,
    /// A span of time.
    Duration,
    /// A list of values of one element type.
    List(Box<AttrType>),
    /// One of a fixed set of strings.
    Enum(Vec<String>),
}

impl AttrType {
    /// Parses the spelling used by inventories and `.gov` schema blocks:
    /// `string`, `int`, `float`, `bool`, `timestamp`, `duration`, `[T]` or
    /// `list<T>`; `enum(a, b)` or `enum(a|b)`.
    pub fn parse(s: &str) -> Option<AttrType> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            return Some(AttrType::List(Box::new(AttrType::parse(inner)?)));
        }
        if let Some(inner) = s.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
            return Some(AttrType::List(Box::new(AttrType::parse(inner)?)));
        }
        if let Some(inner) = s.strip_prefix("enum(").and_then(|r| r.strip_suffix(')')) {
            let values: Vec<String> = inner
                .split([',', '|'])
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
            return (!values.is_empty()).then_some(AttrType::Enum(values));
        }
        Some(match s {
            "string" | "str" => AttrType::Str,
            "int" | "integer" => AttrType::Int,
            "float" | "number" => AttrType::Float,
            "bool" | "boolean" => AttrType::Bool,
            "timestamp" | "time" | "date" => AttrType::Time,
            "duration" => AttrType::Duration,
            _ => return None,
        })
    }
}

impl fmt::Display for AttrType {
    /// The spelling [`AttrType::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrType::Str => f.write_str("string"),
            AttrType::Int => f.write_str("int"),
            AttrType::Float => f.write_str("float"),
            AttrType::Bool => f.write_str("bool"),
            AttrType::Time => f.write_str("timestamp"),
            AttrType::Duration => f.write_str("duration"),
            AttrType::List(t) => write!(f, "[{t}]"),
            AttrType::Enum(v) => write!(f, "enum({})", v.join(", ")),
        }
    }
}

impl Serialize for AttrType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One attribute of a node kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttrDef {
    /// Name, e.g. `rotated_at`.
    pub name: String,
    /// Type of its values.
    pub ty: AttrType,
    /// Whether every node of the kind must have it.
    pub required: bool,
    /// What it means (shown by `gov graph schema` and in "did you mean").
    pub doc: String,
}

/// A node kind: its name and attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KindDef {
    /// Name, e.g. `credential`.
    pub name: String,
    /// Attributes in slot order: `attrs[i]` is [`AttrId`]`(i)`.
    pub attrs: Vec<AttrDef>,
    /// What the kind means.
    pub doc: String,
    #[serde(skip)]
    by_name: HashMap<String, AttrId>,
}

impl KindDef {
    /// The attribute called `name`.
    pub fn attr(&self, name: &str) -> Option<AttrId> {
        self.by_name.get(name).copied()
    }

    /// The definition of an attribute.
    pub fn attr_def(&self, id: AttrId) -> Option<&AttrDef> {
        self.attrs.get(usize::from(id.0))
    }

    /// Attributes with their ids.
    pub fn attrs(&self) -> impl Iterator<Item = (AttrId, &AttrDef)> {
        self.attrs.iter().enumerate().map(|(i, a)| (AttrId(i as u16), a))
    }
}

/// An edge kind and the node kinds it may connect (empty list: any kind).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EdgeKindDef {
    /// Name, e.g. `owned_by`.
    pub name: String,
    /// Kinds allowed at the source; empty means any.
    pub from: Vec<KindId>,
    /// Kinds allowed at the target; empty means any.
    pub to: Vec<KindId>,
    /// What the edge means, read `from -[name]-> to`.
    pub doc: String,
}

impl EdgeKindDef {
    /// Whether an edge of this kind may go from `from` to `to`.
    pub fn allows(&self, from: KindId, to: KindId) -> bool {
        (self.from.is_empty() || self.from.contains(&from))
            && (self.to.is_empty() || self.to.contains(&to))
    }
}

/// Why the schema could not be extended.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The kind exists already.
    #[error("node kind `{0}` is already defined")]
    DuplicateKind(String),
    /// The kind does not exist.
    #[error("unknown node kind `{0}`")]
    UnknownKind(String),
    /// The attribute exists with another type or requiredness.
    #[error("attribute `{kind}.{attr}` is already defined as `{existing}`")]
    ConflictingAttr {
        /// Kind name.
        kind: String,
        /// Attribute name.
        attr: String,
        /// The existing type.
        existing: AttrType,
    },
    /// The edge kind exists with other endpoints.
    #[error("edge kind `{0}` is already defined with other endpoints")]
    ConflictingEdge(String),
    /// A name that is not `[a-z_][a-z0-9_]*` (ASCII letters, digits, `_`).
    #[error("`{0}` is not a valid name (use letters, digits and `_`)")]
    InvalidName(String),
    /// More than 65,535 kinds, attributes or edge kinds.
    #[error("too many kinds, attributes or edge kinds")]
    TooMany,
}

/// Node kinds, their attributes, and edge kinds. Data, not Rust types, so that
/// policy packages and inventories can extend it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Schema {
    kinds: Vec<KindDef>,
    edges: Vec<EdgeKindDef>,
    #[serde(skip)]
    kind_by_name: HashMap<String, KindId>,
    #[serde(skip)]
    edge_by_name: HashMap<String, EdgeKindId>,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How the schema ties entities to business services, in one place: every
/// stage that asks "which service is this for, and how critical is it"
/// (the evaluator's `service`, priorities, decisions, posture metrics) reads
/// it from here.
///
/// A service is a node of kind `service`; an entity supports one through a
/// `supports` edge; a credential supports what the identity holding it
/// (`has_credential`) supports; among several, the lowest `tier` (the most
/// critical) wins. Any part a schema lacks is `None`, and then no entity
/// has a service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceModel {
    /// The kind of a business service.
    pub kind: Option<KindId>,
    /// The edge from an entity to the services it supports.
    pub supports: Option<EdgeKindId>,
    /// The edge from an identity to the credentials it holds.
    pub holds: Option<EdgeKindId>,
    /// The service attribute that ranks services (lower is more critical).
    pub tier: Option<AttrId>,
}

impl ServiceModel {
    /// The names the model is made of, as the built-in schema spells them.
    pub const KIND: &'static str = "service";
    /// See [`ServiceModel::supports`].
    pub const SUPPORTS: &'static str = "supports";
    /// See [`ServiceModel::holds`].
    pub const HOLDS: &'static str = "has_credential";
    /// See [`ServiceModel::tier`].
    pub const TIER: &'static str = "tier";
}

impl Schema {
    /// The service model of this schema (resolved from its names; cheap).
    pub fn service_model(&self) -> ServiceModel {
        let kind = self.kind(ServiceModel::KIND);
        ServiceModel {
            kind,
            supports: self.edge_kind(ServiceModel::SUPPORTS),
            holds: self.edge_kind(ServiceModel::HOLDS),
            tier: kind.and_then(|k| self.attr(k, ServiceModel::TIER)),
        }
    }

    /// An empty schema.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The kind called `name` (aliases such as `entitlement` for `role` included).
    pub fn kind(&self, name: &str) -> Option<KindId> {
        self.kind_by_name.get(name).copied()
    }

    /// The definition of a kind.
    pub fn kind_def(&self, id: KindId) -> Option<&KindDef> {
        self.kinds.get(usize::from(id.0))
    }

    /// The name of a kind (empty for an id from another schema).
    pub fn kind_name(&self, id: KindId) -> &str {
        self.kind_def(id).map_or("", |k| k.name.as_str())
    }

    /// The attribute `name` of `kind`.
    pub fn attr(&self, kind: KindId, name: &str) -> Option<AttrId> {
        self.kind_def(kind)?.attr(name)
    }

    /// The definition of an attribute.
    pub fn attr_def(&self, kind: KindId, attr: AttrId) -> Option<&AttrDef> {
        self.kind_def(kind)?.attr_def(attr)
    }

    /// The edge kind called `name`.
    pub fn edge_kind(&self, name: &str) -> Option<EdgeKindId> {
        self.edge_by_name.get(name).copied()
    }

    /// The definition of an edge kind.
    pub fn edge_def(&self, id: EdgeKindId) -> Option<&EdgeKindDef> {
        self.edges.get(usize::from(id.0))
    }

    /// The name of an edge kind.
    pub fn edge_name(&self, id: EdgeKindId) -> &str {
        self.edge_def(id).map_or("", |e| e.name.as_str())
    }

    /// Node kinds with their ids, in definition order.
    pub fn kinds(&self) -> impl Iterator<Item = (KindId, &KindDef)> {
        self.kinds.iter().enumerate().map(|(i, k)| (KindId(i as u16), k))
    }

    /// Edge kinds with their ids, in definition order.
    pub fn edge_kinds(&self) -> impl Iterator<Item = (EdgeKindId, &EdgeKindDef)> {
        self.edges.iter().enumerate().map(|(i, e)| (EdgeKindId(i as u16), e))
    }

    /// Every name a kind can be looked up by (aliases included), for "did you mean".
    pub fn kind_names(&self) -> impl Iterator<Item = &str> {
        self.kind_by_name.keys().map(String::as_str)
    }

    /// Number of node kinds.
    pub fn kind_count(&self) -> usize {
        self.kinds.len()
    }

    /// Number of edge kinds.
    pub fn edge_kind_count(&self) -> usize {
        self.edges.len()
    }

    /// Adds a node kind with no attributes.
    pub fn add_kind(&mut self, name: &str, doc: &str) -> Result<KindId, SchemaError> {
        if !valid_name(name) {
            return Err(SchemaError::InvalidName(name.to_owned()));
        }
        if self.kind_by_name.contains_key(name) {
            return Err(SchemaError::DuplicateKind(name.to_owned()));
        }
        let id = KindId(u16::try_from(self.kinds.len()).map_err(|_| SchemaError::TooMany)?);
        self.kinds.push(KindDef {
            name: name.to_owned(),
            attrs: Vec::new(),
            doc: doc.to_owned(),
            by_name: HashMap::new(),
        });
        self.kind_by_name.insert(name.to_owned(), id);
        Ok(id)
    }

    /// The kind `name`, added if missing.
    pub fn ensure_kind(&mut self, name: &str) -> Result<KindId, SchemaError> {
        match self.kind(name) {
            Some(k) => Ok(k),
            None => self.add_kind(name, ""),
        }
    }

    /// Makes `alias` another name of `kind`.
    pub fn add_kind_alias(&mut self, alias: &str, kind: KindId) -> Result<(), SchemaError> {
        if !valid_name(alias) {
            return Err(SchemaError::InvalidName(alias.to_owned()));
        }
        if self.kind_by_name.contains_key(alias) {
            return Err(SchemaError::DuplicateKind(alias.to_owned()));
        }
        self.kind_by_name.insert(alias.to_owned(), kind);
        Ok(())
    }

    /// Adds an attribute to a kind. Adding one that exists with the same type
    /// and requiredness is a no-op; any other redefinition is an error.
    pub fn add_attr(
        &mut self,
        kind: KindId,
        name: &str,
        ty: AttrType,
        required: bool,
        doc: &str,
    ) -> Result<AttrId, SchemaError> {
        if !valid_name(name) {
            return Err(SchemaError::InvalidName(name.to_owned()));
        }
        let k = self
            .kinds
            .get_mut(usize::from(kind.0))
            .ok_or_else(|| SchemaError::UnknownKind(format!("#{}", kind.0)))?;
        if let Some(id) = k.attr(name) {
            let existing = k.attr_def(id).map(|a| (a.ty.clone(), a.required));
            return match existing {
                Some((t, r)) if t == ty && r == required => Ok(id),
                Some((t, _)) => Err(SchemaError::ConflictingAttr {
                    kind: k.name.clone(),
                    attr: name.to_owned(),
                    existing: t,
                }),
                None => Err(SchemaError::TooMany),
            };
        }
        let id = AttrId(u16::try_from(k.attrs.len()).map_err(|_| SchemaError::TooMany)?);
        k.attrs.push(AttrDef { name: name.to_owned(), ty, required, doc: doc.to_owned() });
        k.by_name.insert(name.to_owned(), id);
        Ok(id)
    }

    /// Adds an edge kind. Re-adding one with the same endpoints is a no-op.
    pub fn add_edge_kind(
        &mut self,
        name: &str,
        from: &[KindId],
        to: &[KindId],
        doc: &str,
    ) -> Result<EdgeKindId, SchemaError> {
        if !valid_name(name) {
            return Err(SchemaError::InvalidName(name.to_owned()));
        }
        if let Some(id) = self.edge_kind(name) {
            let same = self.edge_def(id).is_some_and(|e| e.from == from && e.to == to);
            return if same { Ok(id) } else { Err(SchemaError::ConflictingEdge(name.to_owned())) };
        }
        let id = EdgeKindId(u16::try_from(self.edges.len()).map_err(|_| SchemaError::TooMany)?);
        self.edges.push(EdgeKindDef {
            name: name.to_owned(),
            from: from.to_vec(),
            to: to.to_vec(),
            doc: doc.to_owned(),
        });
        self.edge_by_name.insert(name.to_owned(), id);
        Ok(id)
    }

    /// The built-in identity-governance schema (see `docs/inventory.md`).
    pub fn builtin() -> Self {
        // Built once per process: every load starts from it, and cloning is
        // a fraction of validating and interning every name again.
        static BUILTIN: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let mut s = Schema::empty();
                // Names and types below are fixed and valid, so these cannot
                // fail; `let _ =` keeps the library free of `expect`.
                let _ = s.fill_builtin();
                s
            })
            .clone()
    }

    fn fill_builtin(&mut self) -> Result<(), SchemaError> {
        use AttrType as T;
        let ts = || T::Time;
        let strs = || T::List(Box::new(T::Str));
        let usage = || {
            T::Enum(["used", "never", "no_information", "not_supported"].map(String::from).to_vec())
        };
        let risk = || T::Enum(["low", "medium", "high", "critical"].map(String::from).to_vec());
        let data = || {
            T::Enum(["public", "internal", "confidential", "restricted"].map(String::from).to_vec())
        };
        let common: &[(&str, AttrType, &str)] = &[
            ("name", T::Str, "display name"),
            ("source", T::Str, "system the record came from: aws, k8s, github, ..."),
            ("external_id", T::Str, "id in the source system (ARN, UID, node id)"),
            ("created_at", ts(), "when it was created"),
            ("tags", strs(), "source tags or labels as `key=value`"),
            ("namespace", T::Str, "Kubernetes namespace or similar scope"),
            (
                "inferred",
                T::Bool,
                "known only because another record names it (a binding, a trust policy, a key); the source has no record of its own",
            ),
        ];
        type Attrs<'a> = &'a [(&'a str, AttrType, bool, &'a str)];
        let kinds: &[(&str, &str, Attrs<'_>)] = &[
            (
                "identity",
                "a person or a non-human identity: service account, workload, bot, API client, cloud role",
                &[
                    (
                        "type",
                        T::Str,
                        true,
                        "human, service_account, workload, bot, api_client, role, root, external, group_principal",
                    ),
                    ("active", T::Bool, false, "false once disabled or offboarded"),
                    ("email", T::Str, false, "contact address"),
                    ("left_at", ts(), false, "when a person left the organisation"),
                    ("last_used_at", ts(), false, "last authentication or use"),
                    ("mfa_active", T::Bool, false, "multi-factor authentication is on"),
                    ("password_enabled", T::Bool, false, "can sign in with a password"),
                    ("password_last_used_at", ts(), false, "last password sign-in"),
                    (
                        "password_last_used_state",
                        usage(),
                        false,
                        "why `password_last_used_at` is missing, if it is",
                    ),
                    ("password_last_changed_at", ts(), false, "last password change"),
                    ("password_next_rotation_at", ts(), false, "when the password must change"),
                    (
                        "permissions_boundary",
                        T::Str,
                        false,
                        "AWS: ARN of the managed policy that caps its permissions",
                    ),
                    (
                        "risk_class",
                        risk(),
                        false,
                        "risk classification: low, medium, high, critical",
                    ),
                    ("data_class", data(), false, "most sensitive data it can reach"),
                    ("purpose", T::Str, false, "why it exists, in the owner's words"),
                    ("retire_at", ts(), false, "planned retirement date"),
                    (
                        "retirement_trigger",
                        T::Enum(
                            ["project_end", "vendor_change", "idle", "fixed_date"]
                                .map(String::from)
                                .to_vec(),
                        ),
                        false,
                        "the event that retires it: project_end, vendor_change, idle, fixed_date",
                    ),
                    ("review_cadence", T::Duration, false, "how often its access is reviewed"),
                    ("team", T::Str, false, "a person's team or department"),
                    ("team_changed_at", ts(), false, "when a person last changed team"),
                    (
                        "ownership_started_at",
                        ts(),
                        false,
                        "when the current owner and steward took it over (else `created_at`)",
                    ),
                ],
            ),
            (
                "credential",
                "a secret that authenticates an identity: key, token, certificate, password",
                &[
                    (
                        "type",
                        T::Str,
                        true,
                        "access_key, certificate, password, personal_access_token, secret, token, ...",
                    ),
                    ("rotated_at", ts(), false, "last rotation (creation if never rotated)"),
                    ("expires_at", ts(), false, "hard expiry; missing means it never expires"),
                    ("last_used_at", ts(), false, "last use"),
                    ("last_used_state", usage(), false, "why `last_used_at` is missing, if it is"),
                    ("last_used_region", T::Str, false, "region of the last use"),
                    ("last_used_service", T::Str, false, "service of the last use"),
                    ("ephemeral", T::Bool, false, "short-lived, issued per session"),
                    ("active", T::Bool, false, "usable now"),
                    ("scopes", strs(), false, "scopes or permissions it carries"),
                ],
            ),
            (
                "service",
                "a business service that identities support",
                &[
                    ("tier", T::Int, false, "0 (most critical) to 3"),
                    ("owner", T::Str, false, "accountable owner (id or address)"),
                    ("criticality", risk(), false, "business criticality"),
                    ("data_class", data(), false, "most sensitive data it handles"),
                    ("owning_team", T::Str, false, "the team accountable for the service"),
                ],
            ),
            ("group", "a set of identities that share entitlements", &[]),
            (
                "role",
                "an entitlement: a role, policy or permission set",
                &[
                    ("managed", T::Bool, false, "maintained by the provider, not the organisation"),
                    ("actions", strs(), false, "actions it allows"),
                    ("privileged", T::Bool, false, "grants administrative power"),
                    (
                        "deny_actions",
                        strs(),
                        false,
                        "actions it denies unconditionally (AWS `Deny` on every resource)",
                    ),
                    (
                        "not_actions",
                        strs(),
                        false,
                        "AWS `Allow` with `NotAction`: every action is allowed except these",
                    ),
                    (
                        "conditional_actions",
                        strs(),
                        false,
                        "the allowed actions (in `actions`, or every action with `not_actions`) that hold only under a condition",
                    ),
                    (
                        "conditions",
                        strs(),
                        false,
                        "the conditions of conditional grants, as the source writes them (AWS: the `Condition` block as JSON)",
                    ),
                    (
                        "not_resources",
                        strs(),
                        false,
                        "AWS `Allow` with `NotResource`: the grant covers every resource except these",
                    ),
                ],
            ),
            (
                "resource",
                "something access is granted to: account, repository, bucket, cluster",
                &[
                    ("type", T::Str, false, "what sort of resource"),
                    ("data_class", data(), false, "most sensitive data it holds"),
                ],
            ),
        ];
        for (kind, doc, attrs) in kinds {
            let k = self.add_kind(kind, doc)?;
            for (name, ty, doc) in common {
                self.add_attr(k, name, ty.clone(), false, doc)?;
            }
            for (name, ty, req, doc) in *attrs {
                self.add_attr(k, name, ty.clone(), *req, doc)?;
            }
        }
        let role = self.kind("role").ok_or(SchemaError::TooMany)?;
        self.add_kind_alias("entitlement", role)?;
        let k = |s: &Schema, names: &[&str]| -> Vec<KindId> {
            names.iter().filter_map(|n| s.kind(n)).collect()
        };
        let edges: &[(&str, &[&str], &[&str], &str)] = &[
            ("owned_by", &[], &["identity", "group"], "accountable business owner"),
            ("steward", &[], &["identity", "group"], "technical steward who runs it day to day"),
            (
                "has_credential",
                &["identity", "service"],
                &["credential"],
                "the identity authenticates with the credential",
            ),
            ("member_of", &["identity", "group"], &["group"], "membership"),
            (
                "assumes",
                &["identity", "credential"],
                &["identity"],
                "may act as the target identity (role assumption, impersonation)",
            ),
            (
                "grants",
                &["identity", "group", "credential"],
                &["role"],
                "the subject holds the entitlement",
            ),
            (
                "can_access",
                &[],
                &["resource", "service", "role", "identity", "credential", "group"],
                "may act on the target",
            ),
            (
                "supports",
                &["identity", "credential", "resource", "group", "role"],
                &["service"],
                "exists to run the business service",
            ),
            ("uses", &[], &[], "depends on"),
        ];
        for (name, from, to, doc) in edges {
            let (f, t) = (k(self, from), k(self, to));
            self.add_edge_kind(name, &f, &t, doc)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_schema_has_the_whole_service_model() {
        let s = Schema::builtin();
        let m = s.service_model();
        let kind = m.kind.unwrap();
        assert_eq!(s.kind_name(kind), "service");
        assert_eq!(m.supports, s.edge_kind("supports"));
        assert_eq!(m.holds, s.edge_kind("has_credential"));
        assert_eq!(m.tier, s.attr(kind, "tier"));
        assert!(m.supports.is_some() && m.holds.is_some() && m.tier.is_some());
        assert_eq!(Schema::empty().service_model(), ServiceModel::default());
    }

    #[test]
    fn builtin_has_the_governance_model() {
        let s = Schema::builtin();
        let cred = s.kind("credential").unwrap();
        let rot = s.attr(cred, "rotated_at").unwrap();
        assert_eq!(s.attr_def(cred, rot).unwrap().ty, AttrType::Time);
        assert_eq!(s.kind("entitlement"), s.kind("role"));
        assert!(s.edge_kind("owned_by").is_some());
        assert_eq!(s.edge_kinds().count(), 9);
        let has = s.edge_def(s.edge_kind("has_credential").unwrap()).unwrap();
        assert!(has.allows(s.kind("identity").unwrap(), cred));
        assert!(!has.allows(cred, cred));
    }

    #[test]
    fn extending_checks_conflicts() {
        let mut s = Schema::builtin();
        let id = s.kind("identity").unwrap();
        assert!(s.add_attr(id, "name", AttrType::Str, false, "").is_ok());
        assert!(matches!(
            s.add_attr(id, "name", AttrType::Int, false, ""),
            Err(SchemaError::ConflictingAttr { .. })
        ));
        assert!(matches!(s.add_kind("identity", ""), Err(SchemaError::DuplicateKind(_))));
        assert!(matches!(s.add_kind("bad-name", ""), Err(SchemaError::InvalidName(_))));
        let vault = s.add_kind("vault", "").unwrap();
        assert!(s.add_edge_kind("stores", &[vault], &[], "").is_ok());
        assert!(s.add_edge_kind("stores", &[], &[], "").is_err());
    }

    #[test]
    fn attr_types_round_trip_through_text() {
        for t in
            ["string", "int", "float", "bool", "timestamp", "duration", "[string]", "enum(a, b)"]
        {
            assert_eq!(AttrType::parse(t).unwrap().to_string(), t);
        }
        assert_eq!(AttrType::parse("list<int>"), Some(AttrType::List(Box::new(AttrType::Int))));
        assert_eq!(AttrType::parse("thing"), None);
    }
}
