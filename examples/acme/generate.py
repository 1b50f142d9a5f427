#!/usr/bin/env python3
"""Generates the Acme Payments example organisation (issue #5).

Writes, next to this script:
  native.json                     gov.inventory/v1: people, services, vault credentials, workloads, bots
  aws-authorization-details.json  `aws iam get-account-authorization-details`
  credential-report.csv           `aws iam get-credential-report` (22 columns)
  k8s-rbac.json                   `kubectl get serviceaccounts,roles,clusterroles,rolebindings,clusterrolebindings -A -o json`

Python 3 standard library only; deterministic (fixed seed, no clock): running it
twice gives byte-identical files. All dates are relative to the audit day
2026-11-22 (`gov eval ... --now 2026-11-22`).

    python3 examples/acme/generate.py
"""

import csv
import io
import json
import os
import random
from datetime import datetime, timedelta, timezone

SEED = 20261122
NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
ACCOUNT = "418273645091"  # Acme Payments production account (fictional)
MGMT_ACCOUNT = "300011112222"  # AWS Organizations management account (fictional)
VENDOR_ACCOUNT = "999988887777"  # StatusFlare, the status-page vendor (fictional)
DOMAIN = "acmepay.example"
HERE = os.path.dirname(os.path.abspath(__file__))

rng = random.Random(SEED)


def ago(days, hour=None, minute=None, second=None):
    """A timestamp `days` before the audit day, at a deterministic time of day."""
    h = rng.randrange(7, 19) if hour is None else hour
    m = rng.randrange(0, 60) if minute is None else minute
    s = rng.randrange(0, 60) if second is None else second
    return (NOW - timedelta(days=days)).replace(hour=h, minute=m, second=s)


def iso(t):
    """RFC 3339 as the AWS CLI prints it."""
    return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def k8s_ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def date(t):
    return t.strftime("%Y-%m-%d")


def email(handle):
    return f"{handle}@{DOMAIN}"


# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

# handle -> (display name, team, title, left_at or None)
NAMED = {
    "grace.okafor": ("Grace Okafor", "security", "CISO", None),
    "samuel.adeyemi": ("Samuel Adeyemi", "payments", "Engineering Manager, Payments Core", None),
    "noor.haddad": ("Noor Haddad", "payments", "Staff Engineer", None),
    "hannah.cho": ("Hannah Cho", "ledger", "Engineering Manager, Ledger", None),
    "felix.wagner": ("Felix Wagner", "ledger", "Senior Engineer", None),
    "marta.jensen": ("Marta Jensen", "ledger", "Senior Engineer", "2026-08-14"),
    "ivan.petrov": ("Ivan Petrov", "checkout", "Engineering Manager, Checkout", None),
    "lucia.romero": ("Lucia Romero", "checkout", "Senior Engineer", None),
    "tom.becker": ("Tom Becker", "checkout", "Engineer", "2026-05-29"),
    "amara.nwosu": ("Amara Nwosu", "risk", "Head of Risk Engineering", None),
    "kenji.sato": ("Kenji Sato", "risk", "ML Engineer", None),
    "rahul.mehta": ("Rahul Mehta", "platform", "Platform Lead", None),
    "sofia.costa": ("Sofia Costa", "platform", "Site Reliability Engineer", None),
    "claire.dubois": ("Claire Dubois", "merchant", "Product Engineering Manager", None),
    "mateo.silva": ("Mateo Silva", "merchant", "Senior Engineer", None),
    "mei.lin": ("Mei Lin", "search", "Engineering Manager, Search", None),
    "jonas.berg": ("Jonas Berg", "search", "Engineer", None),
    "priya.raman": ("Priya Raman", "search", "Senior Engineer", "2026-09-30"),
    "dana.kim": ("Dana Kim", "data", "Data Engineering Lead", None),
    "oskar.lund": ("Oskar Lund", "data", "Analytics Engineer", None),
    "ines.moreau": ("Ines Moreau", "comms", "Engineering Manager, Notifications", None),
    "yusuf.demir": ("Yusuf Demir", "support", "Support Tooling Lead", None),
    "olivia.brandt": ("Olivia Brandt", "web", "Head of Web", None),
    "leo.fischer": ("Leo Fischer", "web", "Web Developer", "2025-12-19"),
    "ana.ortiz": ("Ana Ortiz", "it", "IT Operations", None),
}

FIRST = ["Aisha", "Ben", "Carla", "David", "Elif", "Farah", "Gabriel", "Hugo", "Ingrid", "Jamal",
         "Katya", "Liam", "Maya", "Nikolai", "Omar", "Paula", "Quentin", "Rosa", "Stefan", "Tara",
         "Umar", "Vera", "Wen", "Xavier", "Yara", "Zoe"]
LAST = ["Andersen", "Baptiste", "Castillo", "Dvorak", "Eriksen", "Fontaine", "Gupta", "Horvat",
        "Ibrahim", "Jovanovic", "Kowalski", "Larsen", "Moreno", "Nakamura", "Oyelaran", "Popescu",
        "Quinn", "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Whitfield", "Yilmaz", "Zhou"]
TEAMS = ["payments", "ledger", "checkout", "risk", "platform", "merchant", "search", "data",
         "comms", "support", "web", "security", "finance", "it"]

PEOPLE = dict(NAMED)
while len(PEOPLE) < 96:
    f, l = rng.choice(FIRST), rng.choice(LAST)
    handle = f"{f.lower()}.{l.lower()}"
    if handle in PEOPLE:
        continue
    team = rng.choice(TEAMS)
    left = None
    if len(PEOPLE) % 11 == 0:  # a few more leavers, owning nothing
        left = date(ago(rng.randrange(20, 400), 0, 0, 0))
    PEOPLE[handle] = (f"{f} {l}", team, "Engineer" if team not in ("finance", "it") else "Analyst", left)


def team_members(team, active_only=True):
    return sorted(h for h, p in PEOPLE.items() if p[1] == team and (p[3] is None or not active_only))


# ---------------------------------------------------------------------------
# Business services
# ---------------------------------------------------------------------------
# name, tier, owner, steward, where it is declared, Kubernetes namespace, team.
# "tags": the service node comes from AWS tags / Kubernetes labels (the default
# mapping creates `service:<name>` with the tier tag); native.json links its
# owner and steward with edges. "native": declared in native.json with its
# tier and owner attributes (no AWS or Kubernetes identity names it).
SERVICES = [
    ("payments-core", 0, "samuel.adeyemi", "noor.haddad", "tags", "payments", "payments"),
    ("ledger", 0, "hannah.cho", "felix.wagner", "tags", "ledger", "ledger"),
    ("checkout", 1, "ivan.petrov", "lucia.romero", "tags", "checkout", "checkout"),
    ("fraud-scoring", 1, "amara.nwosu", "kenji.sato", "tags", "fraud", "risk"),
    ("ci-platform", 1, "rahul.mehta", "sofia.costa", "tags", "ci", "platform"),
    ("observability", 1, "rahul.mehta", "sofia.costa", "tags", "monitoring", "platform"),
    ("merchant-portal", 1, "claire.dubois", "mateo.silva", "native", None, "merchant"),
    ("search", 2, "mei.lin", "jonas.berg", "tags", "search", "search"),
    ("data-warehouse", 2, "dana.kim", "oskar.lund", "tags", None, "data"),
    ("notifications", 2, "ines.moreau", None, "native", None, "comms"),
    ("customer-support", 2, "yusuf.demir", None, "native", None, "support"),
    ("marketing-site", 3, "olivia.brandt", "leo.fischer", "tags", "web", "web"),
    ("internal-wiki", 3, "ana.ortiz", None, "native", None, "it"),
]
SVC = {s[0]: s for s in SERVICES}
CRITICALITY = {0: "critical", 1: "high", 2: "medium", 3: "low"}
# Lifecycle registration (risk class, data class, purpose, retirement trigger):
# by default an NHI's risk class follows its service's tier and its data class
# the data the service handles. Derived, never drawn: the random sequence (and
# so every other value) stays as it was before these attributes existed.
RISK = {0: "critical", 1: "high", 2: "medium", 3: "low"}
DATA_CLASS = {"payments-core": "restricted", "ledger": "restricted", "checkout": "confidential",
              "fraud-scoring": "confidential", "merchant-portal": "confidential",
              "data-warehouse": "confidential", "customer-support": "confidential",
              "ci-platform": "internal", "observability": "internal", "search": "internal",
              "notifications": "internal", "marketing-site": "public", "internal-wiki": "internal"}


def lifecycle(svc, purpose, trigger="idle", risk=None, data=None):
    """The registration attributes of an NHI of service `svc` (native records)."""
    return {"risk_class": risk or RISK[tier_of(svc)], "data_class": data or DATA_CLASS[svc],
            "purpose": purpose, "retirement_trigger": trigger}


def sid(name):
    return f"service:{name}"


def tier_of(name):
    return SVC[name][1]


# ---------------------------------------------------------------------------
# native.json
# ---------------------------------------------------------------------------
nodes, edges = [], []


def node(id_, kind, **attrs):
    nodes.append({"id": id_, "kind": kind, "attrs": attrs})
    return id_


def edge(frm, kind, to, label=None):
    e = {"from": frm, "to": to, "kind": kind}
    if label:
        e["label"] = label
    edges.append(e)


for handle, (name, team, title, left) in sorted(PEOPLE.items()):
    hired = ago(rng.randrange(200, 2600), 9, 0, 0)
    attrs = {"type": "human", "name": name, "email": email(handle), "source": "hris",
             "active": left is None, "created_at": date(hired), "team": team,
             "tags": [f"team={team}", f"title={title}"]}
    if left:
        attrs["left_at"] = left
    node(email(handle), "identity", **attrs)
    edge(email(handle), "member_of", f"group:team-{team}")

for team in sorted({p[1] for p in PEOPLE.values()}):
    node(f"group:team-{team}", "group", name=f"team-{team}", source="hris")

for name, tier, owner, steward, where, _ns, team in SERVICES:
    if where == "native":
        node(sid(name), "service", name=name, tier=tier, owner=email(owner),
             criticality=CRITICALITY[tier], source="cmdb", owning_team=team,
             tags=["env=prod", f"team={team}"])
    # Owner and steward as edges for every service, tagged or native.
    edge(sid(name), "owned_by", email(owner))
    if steward:
        edge(sid(name), "steward", email(steward))

# Resources the workloads reach.
RESOURCES = [
    ("res:postgres-ledger", "database", "ledger"),
    ("res:postgres-checkout", "database", "checkout"),
    ("res:postgres-analytics", "database", "data-warehouse"),
    ("res:s3-settlement-files", "bucket", "payments-core"),
    ("res:card-vault-hsm", "hsm", "payments-core"),
    ("res:opensearch-catalog", "search_cluster", "search"),
    ("res:smtp-relay", "mail_relay", "notifications"),
    ("res:github-acme-payments", "organization", "ci-platform"),
    ("res:cms-headless", "saas", "marketing-site"),
    ("res:confluence", "saas", "internal-wiki"),
]
for rid, rtype, svc in RESOURCES:
    node(rid, "resource", type=rtype, name=rid.split(":", 1)[1], source="cmdb")
    edge(rid, "supports", sid(svc))

PURPOSES = ["gateway-client", "ledger-client", "audit-log", "worker", "scheduler", "reporting", "migrations", "webhooks", "exporter",
            "sync", "reconciler", "notifier", "cache-warmer", "archiver"]
CRED_TYPES = ["secret", "api_key", "password", "token", "certificate"]


def vault_cred(path, ctype, rotated_days, *, expires_in=None, used_days=1, scopes=None,
               created_days=None, name=None):
    cid = f"vault:{path}"
    attrs = {"type": ctype, "name": name or path.rsplit("/", 1)[1], "source": "vault",
             "external_id": path, "ephemeral": False, "active": True,
             "created_at": iso(ago(created_days if created_days is not None else rotated_days + rng.randrange(0, 700))),
             "rotated_at": iso(ago(rotated_days))}
    if expires_in is not None:
        attrs["expires_at"] = iso(NOW + timedelta(days=expires_in, hours=rng.randrange(0, 12)))
    if used_days is not None:
        attrs["last_used_at"] = iso(ago(used_days))
    if scopes:
        attrs["scopes"] = scopes
    node(cid, "credential", **attrs)
    return cid


def attested(tier):
    """Attestation date: inside the tier's window (90/180/365 days), one in ten overdue."""
    window = {0: 90, 1: 180}.get(tier, 365)
    days = rng.randrange(window + 10, window + 200) if rng.random() < 0.1 else rng.randrange(5, window - 5)
    return iso(ago(days))


def healthy_rotation(tier):
    # Vault rotates tier 0/1 secrets monthly, the rest quarterly-ish.
    return rng.randrange(2, 27) if tier <= 1 else rng.randrange(5, 75)


native_nhi = []
for name, tier, owner, steward, where, _ns, team in SERVICES:
    members = team_members(team)
    purposes = rng.sample(PURPOSES, 4 + (tier <= 1))
    for p in purposes:
        ident = f"sa-{name}-{p}"
        node(ident, "identity", type="service_account", name=ident, source="vault",
             active=True, created_at=iso(ago(rng.randrange(120, 1500))),
             last_used_at=iso(ago(rng.randrange(0, 3))), attested_at=attested(tier),
             **lifecycle(name, f"{p} of {name}"))
        edge(ident, "supports", sid(name))
        edge(ident, "owned_by", email(owner))
        if members:
            edge(ident, "steward", email(rng.choice(members)))
        if rng.random() < 0.4:
            # Vault's database engine issues this one per lease: short-lived.
            lease = f"database/creds/{name}-{p}"
            cid = node(f"vault:{lease}", "credential", type="dynamic_secret", name=f"{name}-{p} lease",
                       source="vault", external_id=lease, ephemeral=True, active=True,
                       created_at=iso(ago(0, 0, 0, 0)), rotated_at=iso(ago(0, 0, 0, 0)),
                       expires_at=iso(NOW + timedelta(hours=8)), last_used_at=iso(ago(0, 0, 0, 0)))
        else:
            ctype = rng.choice(CRED_TYPES)
            cid = vault_cred(f"kv/{name}/{p}-{ctype.replace('_', '-')}", ctype, healthy_rotation(tier),
                             expires_in=rng.randrange(20, 340), used_days=rng.randrange(0, 4))
        edge(ident, "has_credential", cid)
        native_nhi.append(ident)
    for job in rng.sample(["nightly-batch", "report-cron", "backfill", "vm-agent", "lambda-edge"], 1 + (tier <= 2)):
        wl = f"wl-{name}-{job}"
        node(wl, "identity", type="workload", name=wl, source="cmdb", active=True,
             created_at=iso(ago(rng.randrange(60, 900))), last_used_at=iso(ago(rng.randrange(0, 2))),
             attested_at=attested(tier), **lifecycle(name, f"{job} of {name}"))
        if team_members(team):
            edge(wl, "steward", f"group:team-{team}")
        edge(wl, "supports", sid(name))
        edge(wl, "owned_by", email(owner))
        native_nhi.append(wl)

# Resource access.
for rid, _rtype, svc in RESOURCES:
    for ident in [i for i in native_nhi if i.startswith(f"sa-{svc}-") or i.startswith(f"wl-{svc}-")][:2]:
        edge(ident, "can_access", rid)

# --- Planted problems in the vault / CMDB world -----------------------------

# P-N1: a tier-0 service account whose owner has left (Marta Jensen, 2026-08-14),
# sharing the ledger database admin password with the ledger API.
node("sa-ledger-recon", "identity", type="service_account", name="sa-ledger-recon",
     source="vault", active=True, created_at=iso(ago(1210)), last_used_at=iso(ago(0, 3, 12, 40)),
     **lifecycle("ledger", "nightly reconciliation of the ledger against bank statements"))
edge("sa-ledger-recon", "supports", sid("ledger"))
edge("sa-ledger-recon", "owned_by", email("marta.jensen"))
edge("sa-ledger-recon", "steward", email("marta.jensen"))
node("sa-ledger-api", "identity", type="service_account", name="sa-ledger-api", source="vault",
     active=True, created_at=iso(ago(980)), last_used_at=iso(ago(0, 4, 1, 2)),
     **lifecycle("ledger", "the ledger API's database access"))
edge("sa-ledger-api", "supports", sid("ledger"))
edge("sa-ledger-api", "owned_by", email("hannah.cho"))
ledger_admin = vault_cred("kv/ledger/ledger-db-admin", "password", 19, used_days=0,
                          scopes=["postgres:ledger:superuser"])
edge("sa-ledger-recon", "has_credential", ledger_admin)
edge("sa-ledger-api", "has_credential", ledger_admin)
edge(ledger_admin, "can_access", "res:postgres-ledger")

# P-N2: one read-only analytics password shared by three teams' service accounts.
shared_ro = vault_cred("kv/shared/analytics-db-readonly", "password", 212, used_days=0,
                       scopes=["postgres:analytics:read"], created_days=1400)
for ident in ("sa-checkout-analytics", "sa-search-analytics", "sa-data-warehouse-analytics"):
    svc = ident[3:].rsplit("-analytics", 1)[0]
    reg = lifecycle(svc, f"analytics queries of {svc}")
    if svc == "search":
        # P-L4: reads the analytics database, and nobody classified that data.
        del reg["data_class"]
    node(ident, "identity", type="service_account", name=ident, source="vault", active=True,
         created_at=iso(ago(rng.randrange(400, 900))), last_used_at=iso(ago(rng.randrange(0, 2))), **reg)
    edge(ident, "supports", sid(svc))
    edge(ident, "owned_by", email(SVC[svc][2]))
    edge(ident, "has_credential", shared_ro)
edge(shared_ro, "can_access", "res:postgres-analytics")
# ... and an analyst pasted it into a BI desktop tool (a person holds an NHI's secret).
edge(email("oskar.lund"), "has_credential", shared_ro)

# P-N10: a staging copy of notifications, and one template-sync job serving both.
node(sid("notifications-staging"), "service", name="notifications-staging", tier=3,
     owner=email("ines.moreau"), criticality="low", source="cmdb", tags=["env=staging", "team=comms"])
edge(sid("notifications-staging"), "owned_by", email("ines.moreau"))
node("wl-notifications-template-sync", "identity", type="workload", name="wl-notifications-template-sync",
     source="cmdb", active=True, created_at=iso(ago(330)), last_used_at=iso(ago(0)), attested_at=iso(ago(40)),
     **lifecycle("notifications", "syncs e-mail templates from the CMS"))
edge("wl-notifications-template-sync", "supports", sid("notifications"))
edge("wl-notifications-template-sync", "supports", sid("notifications-staging"))
edge("wl-notifications-template-sync", "owned_by", email("ines.moreau"))
edge("wl-notifications-template-sync", "steward", "group:team-comms")

# P-N3: the vendor bot: StatusFlare polls checkout health with a token that never
# expires, was last rotated in 2024, and nobody at Acme owns it.
node("bot-statusflare", "identity", type="bot", name="StatusFlare status-page bot",
     source="vendor", active=True, created_at=iso(ago(860)), last_used_at=iso(ago(0, 6, 0, 5)),
     vendor="StatusFlare", reviewed_at="2025-06-30",
     **lifecycle("checkout", "StatusFlare polls checkout health for the public status page",
                 trigger="vendor_change", risk="medium"),
     tags=["vendor=StatusFlare", "contract=SF-2024-118", "vendor-contact=support@statusflare.example"])
edge("bot-statusflare", "supports", sid("checkout"))
sf_tok = vault_cred("kv/checkout/statusflare-api-token", "token", 812, used_days=0,
                    scopes=["checkout:health:read", "checkout:orders:read"], created_days=812)
edge("bot-statusflare", "has_credential", sf_tok)

# P-N4: a GitHub personal access token without expiry behind the release bot.
# P-L5: classed critical (its token administers the GitHub organisation), so
# attested every 90 days; the last attestation is 150 days old, which tier 1's
# 180 days would still allow.
node("bot-release", "identity", type="bot", name="release-bot", source="github", active=True,
     created_at=iso(ago(1300)), last_used_at=iso(ago(0, 10, 30, 0)), attested_at=iso(ago(150, 10, 0, 0)),
     **lifecycle("ci-platform", "tags releases and publishes GitHub releases", risk="critical"))
edge("bot-release", "supports", sid("ci-platform"))
edge("bot-release", "owned_by", email("rahul.mehta"))
edge("bot-release", "can_access", "res:github-acme-payments")
pat = vault_cred("kv/ci/github-pat-release-bot", "personal_access_token", 676, used_days=0,
                 scopes=["repo", "workflow", "admin:org"], created_days=676)
edge("bot-release", "has_credential", pat)

# P-N5: marketing CMS publisher bot, owner left in 2025; its CMS token is shared
# with the site build and never expires.
node("bot-cms-publisher", "identity", type="bot", name="cms-publisher-bot", source="cmdb",
     active=True, created_at=iso(ago(1100)), last_used_at=iso(ago(2, 22, 0, 0)),
     **lifecycle("marketing-site", "publishes CMS pages to the marketing site"))
edge("bot-cms-publisher", "supports", sid("marketing-site"))
edge("bot-cms-publisher", "owned_by", email("leo.fischer"))
cms_tok = vault_cred("kv/web/cms-api-token", "token", 401, used_days=2, created_days=1100)
edge("bot-cms-publisher", "has_credential", cms_tok)
edge("wl-marketing-site-build", "has_credential", cms_tok)
node("wl-marketing-site-build", "identity", type="workload", name="wl-marketing-site-build",
     source="cmdb", active=True, created_at=iso(ago(700)), last_used_at=iso(ago(1)),
     **lifecycle("marketing-site", "builds the static marketing site"))
edge("wl-marketing-site-build", "supports", sid("marketing-site"))
edge("wl-marketing-site-build", "owned_by", email("olivia.brandt"))

# P-N6: an idle SMS service account (notifications, tier 2): unused for over a year.
# P-L3: nobody remembers what it was for: no purpose on record.
reg = lifecycle("notifications", "")
del reg["purpose"]
node("sa-notifications-sms-legacy", "identity", type="service_account",
     name="sa-notifications-sms-legacy", source="vault", active=True,
     created_at=iso(ago(1650)), last_used_at=iso(ago(417)), **reg)
edge("sa-notifications-sms-legacy", "supports", sid("notifications"))
edge("sa-notifications-sms-legacy", "owned_by", email("ines.moreau"))
sms = vault_cred("kv/notifications/sms-gateway-key", "api_key", 540, used_days=417, created_days=1650)
edge("sa-notifications-sms-legacy", "has_credential", sms)

# P-N7: a partner API client of the merchant portal with no owner at all, and
# so never registered either (P-L2: no risk class, purpose or retirement trigger).
node("client-shopbridge", "identity", type="api_client", name="ShopBridge partner integration",
     source="merchant-portal", active=True, created_at=iso(ago(530)), last_used_at=iso(ago(0)),
     vendor="ShopBridge", reviewed_at="2026-07-01", attested_at=iso(ago(300)),
     tags=["partner=ShopBridge"])
edge("client-shopbridge", "supports", sid("merchant-portal"))
sb_key = vault_cred("kv/merchant-portal/shopbridge-client-secret", "secret", 130, used_days=0,
                    created_days=530)
edge("client-shopbridge", "has_credential", sb_key)

# P-N8: the wiki's export job still uses a token that expired two months ago.
node("wl-internal-wiki-export", "identity", type="workload", name="wl-internal-wiki-export",
     source="cmdb", active=True, created_at=iso(ago(800)), last_used_at=iso(ago(61)),
     **lifecycle("internal-wiki", "nightly export of the wiki to the archive"))
edge("wl-internal-wiki-export", "supports", sid("internal-wiki"))
edge("wl-internal-wiki-export", "owned_by", email("ana.ortiz"))
wiki_tok = vault_cred("kv/internal-wiki/confluence-export-token", "token", 250, expires_in=-58,
                      used_days=61, created_days=250)
edge("wl-internal-wiki-export", "has_credential", wiki_tok)

# People and their AWS / Kubernetes counterparts (joins the HRIS to the clouds).
# Dana Kim and Tom Becker still have IAM users; SSO users assume the SSO roles.
edge(email("dana.kim"), "assumes", f"arn:aws:iam::{ACCOUNT}:user/dana.kim", "same person")
edge(email("tom.becker"), "assumes", f"arn:aws:iam::{ACCOUNT}:user/tom.becker", "same person")
# The account root is owned by the CISO (it cannot carry tags), and so are the
# SSO permission-set roles (IAM Identity Center creates them untagged).
edge(f"arn:aws:iam::{ACCOUNT}:root", "owned_by", email("grace.okafor"))
edge(f"arn:aws:iam::{MGMT_ACCOUNT}:root", "owned_by", email("grace.okafor"))
SSO_ADMIN = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_3b9f2c1d7e8a4f60"
SSO_READONLY = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ReadOnly_9d2e4a6c8b0f1e3a"
for r in (SSO_ADMIN, SSO_READONLY):
    edge(r, "owned_by", email("grace.okafor"))
    edge(r, "steward", email("ana.ortiz"))
# Permission-set assignments: engineers read, the platform team and the CISO administer.
for handle, (_name, team, _title, left) in sorted(PEOPLE.items()):
    if team in ("platform", "security") and left is None:
        edge(email(handle), "assumes", SSO_ADMIN, "IAM Identity Center assignment")
    elif team not in ("finance", "it", "support") and left is None:
        edge(email(handle), "assumes", SSO_READONLY, "IAM Identity Center assignment")
# P-N9: Priya Raman left on 2026-09-30; her admin assignment was never removed.
edge(email("priya.raman"), "assumes", SSO_ADMIN, "IAM Identity Center assignment")

# ---------------------------------------------------------------------------
# AWS: authorization details and credential report
# ---------------------------------------------------------------------------


def arn(kind, name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:{kind}{path}{name}"


def aws_id(prefix):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return prefix + "".join(rng.choice(alphabet) for _ in range(17))


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions, resource="*", sid_=None):
    s = {"Effect": "Allow", "Action": actions, "Resource": resource}
    if sid_:
        s = {"Sid": sid_, **s}
    return s


def tags(owner=None, service=None, tier=None, steward=None, **extra):
    out = []
    if owner:
        out.append({"Key": "owner", "Value": email(owner) if "@" not in owner else owner})
    if steward:
        out.append({"Key": "steward", "Value": email(steward)})
    if service:
        out.append({"Key": "service", "Value": service})
    if tier is not None:
        out.append({"Key": "tier", "Value": str(tier)})
    if service:
        out.append({"Key": "owning-team", "Value": SVC[service][6]})
    for k, v in extra.items():
        out.append({"Key": k.replace("_", "-"), "Value": v})
    return out


POLICIES = {}  # arn -> policy record


def managed_aws(name, statements, path="/"):
    parn = f"arn:aws:iam::aws:policy{path}{name}"
    if parn not in POLICIES:
        POLICIES[parn] = (name, parn, path, doc(*statements), True)
    return {"PolicyName": name, "PolicyArn": parn}


def managed_local(name, statements, path="/"):
    parn = f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"
    if parn not in POLICIES:
        POLICIES[parn] = (name, parn, path, doc(*statements), False)
    return {"PolicyName": name, "PolicyArn": parn}


ADMIN = lambda: managed_aws("AdministratorAccess", [allow("*")])
READONLY = lambda: managed_aws("ReadOnlyAccess", [allow(["ec2:Describe*", "s3:Get*", "s3:List*", "iam:Get*", "iam:List*", "rds:Describe*"])])
AUDIT = lambda: managed_aws("SecurityAudit", [allow(["access-analyzer:List*", "cloudtrail:Describe*", "config:Get*", "iam:GenerateCredentialReport", "iam:GetAccountAuthorizationDetails"])])
LAMBDA_BASIC = lambda: managed_aws("AWSLambdaBasicExecutionRole", [allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])], "/service-role/")
S3_RO = lambda: managed_aws("AmazonS3ReadOnlyAccess", [allow(["s3:Get*", "s3:List*"])])
ECR_RO = lambda: managed_aws("AmazonEC2ContainerRegistryReadOnly", [allow(["ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer"])])


def service_policy(svc):
    res = {
        "payments-core": [allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::acme-settlement-files/*"),
                          allow(["kms:Decrypt", "kms:Encrypt"], f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/payments-core"),
                          allow(["sqs:SendMessage", "sqs:ReceiveMessage"], f"arn:aws:sqs:eu-west-1:{ACCOUNT}:payouts")],
        "ledger": [allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/ledger-*"),
                   allow(["kms:Decrypt"], f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/ledger")],
        "checkout": [allow(["sqs:SendMessage"], f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders"),
                     allow(["s3:GetObject"], "arn:aws:s3:::acme-checkout-assets/*")],
        "fraud-scoring": [allow(["sagemaker:InvokeEndpoint"], f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint/fraud-*"),
                          allow(["kinesis:GetRecords", "kinesis:PutRecord"], f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/risk-events")],
        "ci-platform": [allow(["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]),
                        allow(["s3:PutObject"], "arn:aws:s3:::acme-build-artifacts/*")],
        "search": [allow(["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"], f"arn:aws:es:eu-west-1:{ACCOUNT}:domain/catalog/*")],
        "data-warehouse": [allow(["redshift:GetClusterCredentials", "s3:GetObject", "s3:ListBucket"]),
                           allow(["glue:StartJobRun", "glue:GetJobRun"])],
        "marketing-site": [allow(["s3:PutObject", "s3:DeleteObject"], "arn:aws:s3:::acme-marketing-site/*"),
                           allow(["cloudfront:CreateInvalidation"])],
    }[svc]
    return managed_local(f"{svc}-app", res, "/services/")


GROUPS = {
    "platform-admins": {"policies": [ADMIN()], "inline": []},
    "deployers": {"policies": [ADMIN()], "inline": []},
    "security-auditors": {"policies": [AUDIT(), READONLY()], "inline": []},
    "data-engineers": {"policies": [service_policy("data-warehouse"), S3_RO()], "inline": []},
    "service-users": {"policies": [], "inline": [{"PolicyName": "deny-console-regions", "PolicyDocument": doc(
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}})}]},
    "readonly": {"policies": [READONLY()], "inline": []},
}

# IAM users: (name, path, tags, groups, attached, inline, created_days, report row settings)
users = []


def user(name, *, path="/", tag=None, groups=(), attached=(), inline=(), created=None, report=None):
    users.append({"name": name, "path": path, "tags": tag or [], "groups": list(groups),
                  "attached": list(attached), "inline": list(inline),
                  "created": ago(created if created is not None else rng.randrange(300, 1500)),
                  "report": report or {}})


def key(rotated_days, used_days=None, active=True, region="eu-west-1", service="s3"):
    return {"active": active, "rotated": ago(rotated_days),
            "used": None if used_days is None else ago(used_days),
            "region": region, "service": service}


# Healthy service users per tagged service.
SERVICE_USERS = {
    "payments-core": ["svc-payments-psp-sync", "svc-payments-reporting"],
    "ledger": ["svc-ledger-archiver"],
    "checkout": ["svc-checkout-assets"],
    "fraud-scoring": ["svc-fraud-feature-export", "svc-fraud-model-push"],
    "ci-platform": ["svc-ci-artifacts"],
    "search": ["svc-search-snapshots"],
    "data-warehouse": ["svc-dw-loader", "svc-dw-bi-connector"],
    "marketing-site": ["svc-marketing-assets"],
}
for svc, names in SERVICE_USERS.items():
    _n, tier, owner, steward, *_ = SVC[svc]
    for n in names:
        rot = healthy_rotation(tier)
        user(n, path="/service/", tag=tags(owner, svc, tier, steward),
             groups=["service-users"], attached=[service_policy(svc)],
             report={"key1": key(rot, rng.randrange(0, 3), service=rng.choice(["s3", "sqs", "kms", "dynamodb"]))})

# --- Planted AWS problems -----------------------------------------------------
# P-A1: tier-0 settlement user with a 537-day-old access key (in daily use).
user("svc-payments-settlement", path="/service/",
     tag=tags("samuel.adeyemi", "payments-core", 0, "noor.haddad"),
     groups=["service-users"], attached=[service_policy("payments-core")], created=1460,
     report={"key1": key(537, 0, service="s3")})
# P-A2: console password on a tier-0 service account, no MFA, plus an old signing certificate.
user("svc-ledger-batch", path="/service/", tag=tags("hannah.cho", "ledger", 0, "felix.wagner"),
     groups=["service-users"], attached=[service_policy("ledger")], created=1330,
     report={"password": {"enabled": True, "used": ago(23), "changed": ago(400)}, "mfa": False,
             "key1": key(14, 0, service="dynamodb"), "cert1": {"active": True, "rotated": ago(1030)}})
# P-A3: checkout export user owned by Tom Becker, who left on 2026-05-29; key 285 days old.
user("svc-checkout-export", path="/service/", tag=tags("tom.becker", "checkout", 1),
     groups=["service-users"], attached=[service_policy("checkout")], created=720,
     report={"key1": key(285, 1, service="sqs")})
# P-A4: search sync user: key idle since May, a second key never used.
user("svc-search-sync", path="/service/", tag=tags("mei.lin", "search", 2, "jonas.berg"),
     groups=["service-users"], attached=[service_policy("search")], created=610,
     report={"key1": key(235, 204, service="es"), "key2": key(160, None)})
# P-A5: marketing deploy user: key from 2024, never used, never rotated.
user("svc-marketing-deploy", path="/service/", tag=tags("olivia.brandt", "marketing-site", 3),
     groups=["service-users"], attached=[service_policy("marketing-site")], created=750,
     report={"key1": key(750, None)})
# P-A6: legacy deployer: a service user in `deployers` (AdministratorAccess) with two
# active keys and no tags at all: no owner, no service.
user("svc-legacy-deployer", groups=["deployers"], created=2100,
     report={"key1": key(1460, 3, service="cloudformation"), "key2": key(900, 45, service="iam")})
# P-A7: an employee IAM user with console access and no MFA (Dana Kim).
user("dana.kim", tag=tags("dana.kim", team="data"), groups=["data-engineers"], created=1200,
     report={"password": {"enabled": True, "used": ago(1), "changed": ago(70)}, "mfa": False})
# P-A8: Tom Becker left in May; his IAM user still has a console password and an active key.
user("tom.becker", tag=tags("tom.becker", team="checkout"), groups=["readonly"], created=900,
     report={"password": {"enabled": True, "used": ago(178), "changed": ago(420)}, "mfa": True,
             "key1": key(420, 177, service="sts")})
# Break-glass admin: owned by the CISO, MFA on, no keys (the way it should be).
user("breakglass-admin", tag=tags("grace.okafor", team="security", steward="ana.ortiz"), groups=["platform-admins"],
     created=1500, report={"password": {"enabled": True, "used": ago(96), "changed": ago(96)}, "mfa": True})
# A security auditor's IAM user (healthy).
user("audit.reader", tag=tags("grace.okafor", team="security", steward="ana.ortiz"), groups=["security-auditors"],
     created=500, report={"password": {"enabled": True, "used": ago(12), "changed": ago(40)}, "mfa": True})

# Roles: (name, path, tags, trust, attached, inline, last_used_days)
roles = []


def trust(*principals, conditions=None):
    sts = []
    for p in principals:
        action = "sts:AssumeRoleWithWebIdentity" if "Federated" in p and "oidc" in json.dumps(p) else (
            "sts:AssumeRoleWithSAML" if "Federated" in p else "sts:AssumeRole")
        s = {"Effect": "Allow", "Principal": p, "Action": action}
        if conditions:
            s["Condition"] = conditions
        sts.append(s)
    return doc(*sts)


def role(name, *, path="/", tag=None, trust_doc, attached=(), inline=(), used=2, created=None):
    roles.append({"name": name, "path": path, "tags": tag or [], "trust": trust_doc,
                  "attached": list(attached), "inline": list(inline),
                  "created": ago(created if created is not None else rng.randrange(200, 1400)),
                  "used": None if used is None else ago(used)})


OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C1F0A3E9B7D2E4F6A8C0B1D3E5F7A9C"
GITHUB_OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
SAML = f"arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_7f3c1a2b9d4e6f80_DO_NOT_DELETE"

for svc in ["payments-core", "ledger", "checkout", "fraud-scoring", "search", "data-warehouse", "marketing-site", "ci-platform"]:
    _n, tier, owner, steward, *_ = SVC[svc]
    role(f"{svc}-lambda", path="/service-role/", tag=tags(owner, svc, tier, steward),
         trust_doc=trust({"Service": "lambda.amazonaws.com"}),
         attached=[LAMBDA_BASIC(), service_policy(svc)], used=rng.randrange(0, 3))
    if svc in ("payments-core", "ledger", "checkout", "fraud-scoring", "search"):
        ns = SVC[svc][5]
        role(f"{svc}-api-irsa", tag=tags(owner, svc, tier, steward),
             trust_doc=trust({"Federated": OIDC}, conditions={"StringEquals": {
                 "oidc.eks.eu-west-1.amazonaws.com/id/5C1F0A3E9B7D2E4F6A8C0B1D3E5F7A9C:sub":
                     f"system:serviceaccount:{ns}:{svc.split('-')[0]}-api"}}),
             attached=[service_policy(svc), ECR_RO()], used=0)
    if svc in ("payments-core", "ledger", "data-warehouse"):
        principals = [{"Service": "ecs-tasks.amazonaws.com"}]
        if svc == "payments-core":
            # P-A14: the untagged legacy deployer may assume a tier-0 role.
            principals.append({"AWS": arn("user", "svc-legacy-deployer")})
        if svc == "ledger":
            # P-A15: a disaster-recovery account's role nobody here owns.
            principals.append({"AWS": "arn:aws:iam::512345678901:role/ledger-dr-replicator"})
        role(f"{svc}-batch", tag=tags(owner, svc, tier, steward),
             trust_doc=trust(*principals),
             attached=[service_policy(svc)], used=rng.randrange(0, 2))

# P-A9: checkout's legacy batch role with an inline `*` policy.
role("checkout-legacy-batch", tag=tags("ivan.petrov", "checkout", 1),
     trust_doc=trust({"Service": "ec2.amazonaws.com"}), created=1600, used=9,
     inline=[{"PolicyName": "everything-temporary", "PolicyDocument": doc(allow("*", sid_="TemporaryFullAccess2021"))}])
# P-A10: Terraform CI role with AdministratorAccess, assumed from GitHub Actions via OIDC.
role("terraform-ci", tag=tags("rahul.mehta", "ci-platform", 1, "sofia.costa"),
     trust_doc=trust({"Federated": GITHUB_OIDC}, conditions={"StringLike": {
         "token.actions.githubusercontent.com:sub": "repo:acme-payments/infrastructure:*"}}),
     attached=[ADMIN()], used=0)
# P-A11: platform automation role with a customer-managed `iam:*` policy.
role("platform-iam-automation", tag=tags("rahul.mehta", "ci-platform", 1),
     trust_doc=trust({"AWS": arn("role", "terraform-ci")}),
     attached=[managed_local("iam-self-service", [allow("iam:*"), allow(["sts:AssumeRole"])])], used=5)
# P-A12: the vendor's cross-account role: StatusFlare's account can read everything.
role("vendor-statusflare-readonly", tag=tags(service="checkout", tier=1, vendor="StatusFlare"),
     trust_doc=trust({"AWS": f"arn:aws:iam::{VENDOR_ACCOUNT}:root"},
                     conditions={"StringEquals": {"sts:ExternalId": "acme-7731"}}),
     attached=[READONLY()], created=860, used=0)
# P-A13: an old reporting role nobody tags, unused for 16 months.
role("legacy-reporting-role", trust_doc=trust({"Service": "ec2.amazonaws.com"}),
     attached=[S3_RO()], created=2300, used=487)
# SSO permission-set roles: people assume these through IAM Identity Center.
role("AWSReservedSSO_AdministratorAccess_3b9f2c1d7e8a4f60", path="/aws-reserved/sso.amazonaws.com/eu-west-1/",
     trust_doc=trust({"Federated": SAML}), attached=[ADMIN()], created=1000, used=0)
role("AWSReservedSSO_ReadOnly_9d2e4a6c8b0f1e3a", path="/aws-reserved/sso.amazonaws.com/eu-west-1/",
     trust_doc=trust({"Federated": SAML}), attached=[READONLY()], created=1000, used=0)
role("OrganizationAccountAccessRole", tag=tags("grace.okafor"),
     trust_doc=trust({"AWS": f"arn:aws:iam::{MGMT_ACCOUNT}:root"}), attached=[ADMIN()], created=2400, used=130)


# Lifecycle registration tags: every principal with an owner tag, and the
# vendor's role. The untagged legacy deployer (P-A6) and reporting role (P-A13)
# were never registered.
AWS_REGISTRATION = {  # name -> (purpose, retirement trigger, risk class, data class)
    "dana.kim": ("Dana Kim's console access (data engineering)", "idle", "high", "confidential"),
    "tom.becker": ("Tom Becker's console access (checkout)", "idle", "medium", "confidential"),
    "breakglass-admin": ("break-glass administrator for SSO outages", "fixed_date", "critical", "restricted"),
    "audit.reader": ("read-only access for security audits", "idle", "high", "confidential"),
    "OrganizationAccountAccessRole": ("administration from the AWS Organizations management account", "idle", "critical", "restricted"),
    "vendor-statusflare-readonly": ("StatusFlare reads the account's health for the status page", "vendor_change", "medium", "internal"),
}
for p in users + roles:
    keys = {t["Key"]: t["Value"] for t in p["tags"]}
    if "owner" not in keys and p["name"] not in AWS_REGISTRATION:
        continue
    svc = keys.get("service")
    purpose, trigger, risk, data = AWS_REGISTRATION.get(p["name"], (
        f"{p['name']} of {svc}", "idle", RISK[tier_of(svc)] if svc else "high",
        DATA_CLASS[svc] if svc else "internal"))
    p["tags"] = p["tags"] + [{"Key": "risk-class", "Value": risk}, {"Key": "data-class", "Value": data},
                             {"Key": "purpose", "Value": purpose}, {"Key": "retirement-trigger", "Value": trigger}]
    if trigger == "fixed_date":
        p["tags"].append({"Key": "retire-at", "Value": "2027-06-30"})


def principal_record(p, kind):
    name_key = {"user": "UserName", "role": "RoleName", "group": "GroupName"}[kind]
    id_key = {"user": "UserId", "role": "RoleId", "group": "GroupId"}[kind]
    prefix = {"user": "AIDA", "role": "AROA", "group": "AGPA"}[kind]
    rec = {"Path": p.get("path", "/"), name_key: p["name"], id_key: aws_id(prefix),
           "Arn": arn(kind, p["name"], p.get("path", "/")), "CreateDate": iso(p["created"])}
    return rec


authz_users = []
for u in users:
    rec = principal_record(u, "user")
    rec["UserPolicyList"] = u["inline"]
    rec["GroupList"] = u["groups"]
    rec["AttachedManagedPolicies"] = u["attached"]
    if u["tags"]:
        rec["Tags"] = u["tags"]
    authz_users.append(rec)

authz_groups = []
for g, spec in GROUPS.items():
    rec = principal_record({"name": g, "created": ago(1800 + len(authz_groups) * 17)}, "group")
    rec["GroupPolicyList"] = spec["inline"]
    rec["AttachedManagedPolicies"] = spec["policies"]
    authz_groups.append(rec)

authz_roles = []
for r in roles:
    rec = principal_record(r, "role")
    rec["AssumeRolePolicyDocument"] = r["trust"]
    rec["InstanceProfileList"] = []
    rec["RolePolicyList"] = r["inline"]
    rec["AttachedManagedPolicies"] = r["attached"]
    if r["tags"]:
        rec["Tags"] = r["tags"]
    rec["RoleLastUsed"] = {} if r["used"] is None else {"LastUsedDate": iso(r["used"]), "Region": "eu-west-1"}
    authz_roles.append(rec)

attachments = {}
for holder in authz_users + authz_groups + authz_roles:
    for a in holder["AttachedManagedPolicies"]:
        attachments[a["PolicyArn"]] = attachments.get(a["PolicyArn"], 0) + 1

authz_policies = []
for parn in sorted(POLICIES):
    name, parn, path, document, aws_managed = POLICIES[parn]
    created = ago(2900 if aws_managed else rng.randrange(300, 1500))
    updated = created + timedelta(days=rng.randrange(0, 200))
    authz_policies.append({
        "PolicyName": name, "PolicyId": aws_id("ANPA"), "Arn": parn, "Path": path,
        "DefaultVersionId": "v3" if aws_managed else "v1", "AttachmentCount": attachments.get(parn, 0),
        "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
        "CreateDate": iso(created), "UpdateDate": iso(updated),
        "PolicyVersionList": [{"Document": document, "VersionId": "v3" if aws_managed else "v1",
                               "IsDefaultVersion": True, "CreateDate": iso(updated)}],
    })

AUTHZ = {"UserDetailList": authz_users, "GroupDetailList": authz_groups,
         "RoleDetailList": authz_roles, "Policies": authz_policies}

# Credential report ---------------------------------------------------------
COLUMNS = ["user", "arn", "user_creation_time", "password_enabled", "password_last_used",
           "password_last_changed", "password_next_rotation", "mfa_active",
           "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
           "access_key_1_last_used_region", "access_key_1_last_used_service",
           "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
           "access_key_2_last_used_region", "access_key_2_last_used_service",
           "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"]


def key_cols(k):
    if not k:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    if k["used"] is None:
        return ["true" if k["active"] else "false", iso(k["rotated"]), "N/A", "N/A", "N/A"]
    return ["true" if k["active"] else "false", iso(k["rotated"]), iso(k["used"]), k["region"], k["service"]]


report_rows = [["<root_account>", f"arn:aws:iam::{ACCOUNT}:root", iso(ago(2950, 8, 2, 11)),
                "not_supported", iso(ago(96, 9, 15, 0)), "not_supported", "not_supported", "true",
                "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A",
                "false", "N/A", "false", "N/A"]]
for u in users:
    r = u["report"]
    pw = r.get("password")
    row = [u["name"], arn("user", u["name"], u["path"]), iso(u["created"])]
    if pw:
        row += ["true", iso(pw["used"]), iso(pw["changed"]), "N/A"]
    else:
        row += ["false", "N/A", "N/A", "N/A"]
    row.append("true" if r.get("mfa") else "false")
    row += key_cols(r.get("key1")) + key_cols(r.get("key2"))
    c = r.get("cert1")
    row += (["true", iso(c["rotated"])] if c else ["false", "N/A"]) + ["false", "N/A"]
    assert len(row) == 22
    report_rows.append(row)

# ---------------------------------------------------------------------------
# Kubernetes RBAC
# ---------------------------------------------------------------------------
items = []


def uid():
    h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def meta(name, ns=None, labels=None, annotations=None, created_days=None):
    m = {"creationTimestamp": k8s_ts(ago(created_days if created_days is not None else rng.randrange(60, 800))),
         "name": name, "resourceVersion": str(rng.randrange(1000, 9_000_000)), "uid": uid()}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    return m


def sa(name, ns, svc=None, owner=None, extra_ann=None, secrets=None, created=None):
    labels, ann = {}, {}
    if svc:
        labels = {"app.kubernetes.io/part-of": svc, "app.kubernetes.io/name": name, "tier": str(tier_of(svc)),
                  "gov/owning-team": SVC[svc][6]}
    if owner:
        ann["gov/owner"] = email(owner)
    if svc and owner:
        # Registered by its owner: risk and data class, purpose, retirement trigger.
        ann.update({"gov/risk-class": RISK[tier_of(svc)], "gov/data-class": DATA_CLASS[svc],
                    "gov/purpose": f"{name} of {svc}", "gov/retirement-trigger": "idle"})
    if svc and owner:
        ann["gov/steward"] = f"group:team-{SVC[svc][6]}"
    ann.update(extra_ann or {})
    obj = {"apiVersion": "v1", "kind": "ServiceAccount",
           "metadata": meta(name, ns, labels or None, ann or None, created)}
    if secrets:
        obj["secrets"] = [{"name": s} for s in secrets]
    items.append(obj)


def k8s_role(kind, name, ns, rules, labels=None):
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
           "metadata": meta(name, ns if kind == "Role" else None, labels), "rules": rules}
    items.append(obj)


def binding(kind, name, ns, role_kind, role_name, subjects):
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
           "metadata": meta(name, ns if kind == "RoleBinding" else None),
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
           "subjects": subjects}
    items.append(obj)


def sa_subject(name, ns):
    return {"kind": "ServiceAccount", "name": name, "namespace": ns}


K8S_APPS = {
    "payments": ("payments-core", ["payments-api", "payments-payout-worker", "payments-webhooks"]),
    "ledger": ("ledger", ["ledger-api", "ledger-posting-worker", "ledger-reporter"]),
    "checkout": ("checkout", ["checkout-api", "checkout-cart", "checkout-pricing", "checkout-emails"]),
    "fraud": ("fraud-scoring", ["fraud-api", "fraud-feature-store"]),
    "search": ("search", ["search-api", "indexer", "search-query-suggest"]),
    "ci": ("ci-platform", ["argo-deployer", "buildkite-agent", "image-scanner"]),
    "web": ("marketing-site", ["marketing-site", "preview-builder"]),
    "monitoring": ("observability", ["prometheus", "grafana", "alertmanager"]),
}
OWNERS_BY_NS = {"payments": "noor.haddad", "ledger": "felix.wagner", "checkout": "lucia.romero",
                "fraud": "kenji.sato", "search": "jonas.berg", "ci": "sofia.costa", "web": "olivia.brandt",
                "monitoring": "sofia.costa"}

for ns, (svc, names) in K8S_APPS.items():
    for n in names:
        extra, secrets, owner = {}, None, OWNERS_BY_NS[ns]
        if ns == "payments" and n == "payments-api":
            # IRSA: this pod identity becomes the AWS role payments-core-api-irsa.
            extra = {"eks.amazonaws.com/role-arn": arn("role", "payments-core-api-irsa")}
        if n in ("ledger-reporter", "prometheus"):
            # Legacy long-lived token secret (created before Kubernetes 1.24): never expires.
            secrets = [f"{n}-token-" + "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))]
        if n == "indexer":
            owner = "priya.raman"  # left on 2026-09-30
        if n == "preview-builder":
            owner = None  # nobody claimed it
        sa(n, ns, svc, owner, extra, secrets)
    sa("default", ns)
    k8s_role("Role", f"{svc}-config-reader", ns,
             [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}])
    binding("RoleBinding", f"{svc}-config-reader", ns, "Role", f"{svc}-config-reader",
            [sa_subject(n, ns) for n in names])

# Platform namespaces without owners (the way clusters come).
for n in ["coredns", "aws-node", "ebs-csi-controller-sa", "default"]:
    sa(n, "kube-system", created=900)

k8s_role("ClusterRole", "cluster-admin", None,
         [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}],
         labels={"kubernetes.io/bootstrapping": "rbac-defaults"})
k8s_role("ClusterRole", "view", None,
         [{"apiGroups": ["", "apps"], "resources": ["pods", "services", "deployments", "configmaps"], "verbs": ["get", "list", "watch"]}],
         labels={"kubernetes.io/bootstrapping": "rbac-defaults"})
k8s_role("ClusterRole", "edit", None,
         [{"apiGroups": ["", "apps"], "resources": ["pods", "services", "deployments", "configmaps", "secrets"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]}],
         labels={"kubernetes.io/bootstrapping": "rbac-defaults"})
k8s_role("ClusterRole", "prometheus-scrape", None,
         [{"apiGroups": [""], "resources": ["nodes", "nodes/metrics", "pods", "services", "endpoints"], "verbs": ["get", "list", "watch"]},
          {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}])
# P-K1: the search operator may do anything with secrets, cluster-wide.
k8s_role("ClusterRole", "search-operator", None,
         [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]},
          {"apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get", "list", "patch"]}])
k8s_role("Role", "image-scanner", "ci",
         [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}])

# P-K2: Argo's deployer is cluster-admin.
binding("ClusterRoleBinding", "argo-deployer-cluster-admin", None, "ClusterRole", "cluster-admin",
        [sa_subject("argo-deployer", "ci")])
binding("ClusterRoleBinding", "platform-oncall-admin", None, "ClusterRole", "cluster-admin",
        [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "acme:platform-oncall"}])
binding("ClusterRoleBinding", "search-indexer-operator", None, "ClusterRole", "search-operator",
        [sa_subject("indexer", "search")])
binding("ClusterRoleBinding", "prometheus-scrape", None, "ClusterRole", "prometheus-scrape",
        [sa_subject("prometheus", "monitoring")])
binding("ClusterRoleBinding", "readers-view", None, "ClusterRole", "view",
        [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "acme:engineering"},
         {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-scheduler"}])
binding("RoleBinding", "buildkite-edit", "ci", "ClusterRole", "edit", [sa_subject("buildkite-agent", "ci")])
binding("RoleBinding", "image-scanner", "ci", "Role", "image-scanner", [sa_subject("image-scanner", "ci")])

K8S = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}

# --- Planted lifecycle problems -----------------------------------------------
# Added last, so that whatever they draw from the random sequence changes
# nothing above.

# P-L1: a low-risk pilot that became a production dependency: the FX-rates
# hackathon pilot of checkout now prices payouts, so payments-core (tier 0)
# supports on it, and it is still classed low.
node("wl-fx-rates-pilot", "identity", type="workload", name="wl-fx-rates-pilot", source="cmdb",
     active=True, created_at=iso(ago(410)), last_used_at=iso(ago(0, 2, 0, 0)), attested_at=iso(ago(60)),
     **lifecycle("checkout", "hackathon pilot: live FX rates for checkout", trigger="project_end",
                 risk="low", data="internal"))
edge("wl-fx-rates-pilot", "supports", sid("checkout"))
edge("wl-fx-rates-pilot", "supports", sid("payments-core"))
edge("wl-fx-rates-pilot", "owned_by", email("ivan.petrov"))
edge("wl-fx-rates-pilot", "steward", "group:team-checkout")

# P-L6: the RateWise integration: the contract ended on 2026-09-30 (its
# retirement date), and the client and its API key are still live.
node("client-ratewise", "identity", type="api_client", name="RateWise currency-data integration",
     source="merchant-portal", active=True, created_at=iso(ago(900)), last_used_at=iso(ago(1)),
     vendor="RateWise", reviewed_at="2026-02-10", attested_at=iso(ago(45)), retire_at="2026-09-30",
     **lifecycle("merchant-portal", "currency rates for merchant payouts", trigger="vendor_change"),
     tags=["vendor=RateWise", "contract=RW-2023-031"])
edge("client-ratewise", "supports", sid("merchant-portal"))
edge("client-ratewise", "owned_by", email("claire.dubois"))
edge("client-ratewise", "steward", email("mateo.silva"))
rw_key = vault_cred("kv/merchant-portal/ratewise-api-key", "api_key", 40, expires_in=150, used_days=1,
                    created_days=900)
edge("client-ratewise", "has_credential", rw_key)

# P-L7: a mover: Maya Ibrahim built the receipt renderer in checkout and moved
# to finance on 2026-07-01 (the HRIS says so); she still owns it.
node("wl-checkout-receipt-renderer", "identity", type="workload", name="wl-checkout-receipt-renderer",
     source="cmdb", active=True, created_at=iso(ago(620)), last_used_at=iso(ago(0, 5, 0, 0)),
     attested_at=iso(ago(100)), **lifecycle("checkout", "renders PDF receipts of checkout orders"))
edge("wl-checkout-receipt-renderer", "supports", sid("checkout"))
edge("wl-checkout-receipt-renderer", "owned_by", email("maya.ibrahim"))
edge("wl-checkout-receipt-renderer", "steward", "group:team-checkout")
for n in nodes:
    if n["id"] == email("maya.ibrahim"):
        n["attrs"].update(team="finance", team_changed_at="2026-07-01",
                          tags=["team=finance"] + n["attrs"]["tags"][1:])
for e in edges:
    if e["from"] == email("maya.ibrahim") and e["kind"] == "member_of":
        e["to"] = "group:team-finance"

# ---------------------------------------------------------------------------
# Consistency checks and output
# ---------------------------------------------------------------------------
native_ids = {n["id"] for n in nodes}
assert len(native_ids) == len(nodes), "duplicate native ids"
for name, *_rest in SERVICES:
    where = SVC[name][4]
    assert (sid(name) in native_ids) == (where == "native"), name

NATIVE = {
    "format": "gov.inventory/v1",
    "metadata": {"organisation": "Acme Payments (fictional)", "generated_by": "examples/acme/generate.py",
                 "seed": SEED, "as_of": "2026-11-22",
                 "sources": ["HRIS export (people)", "CMDB (services, workloads, resources)",
                             "HashiCorp Vault (credentials)", "vendor register (bots)"]},
    # Attributes the standard library's schema blocks declare (attestation and
    # vendor review); the HRIS, CMDB and vendor register carry them.
    "schema": {"kinds": {"identity": {"attributes": {
        "attested_at": "timestamp", "reviewed_at": "timestamp", "vendor": "string"}}}},
    "nodes": nodes,
    "edges": edges,
}


def write_json_lines(path, doc_, list_keys):
    """JSON with one record per line in the big lists (readable diffs)."""
    out = io.StringIO()
    out.write("{\n")
    keys = list(doc_)
    for i, k in enumerate(keys):
        v = doc_[k]
        comma = "," if i + 1 < len(keys) else ""
        if k in list_keys and isinstance(v, list):
            out.write(f'  {json.dumps(k)}: [\n')
            for j, item in enumerate(v):
                c = "," if j + 1 < len(v) else ""
                out.write("    " + json.dumps(item, ensure_ascii=False) + c + "\n")
            out.write(f"  ]{comma}\n")
        else:
            out.write(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}{comma}\n")
    out.write("}\n")
    with open(os.path.join(HERE, path), "w", encoding="utf-8", newline="\n") as f:
        f.write(out.getvalue())


write_json_lines("native.json", NATIVE, {"nodes", "edges"})
with open(os.path.join(HERE, "aws-authorization-details.json"), "w", encoding="utf-8", newline="\n") as f:
    json.dump(AUTHZ, f, indent=4)
    f.write("\n")
with open(os.path.join(HERE, "k8s-rbac.json"), "w", encoding="utf-8", newline="\n") as f:
    json.dump(K8S, f, indent=4)
    f.write("\n")
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
w.writerow(COLUMNS)
w.writerows(report_rows)
with open(os.path.join(HERE, "credential-report.csv"), "w", encoding="utf-8", newline="\n") as f:
    f.write(buf.getvalue())

print(f"native.json: {len(nodes)} nodes, {len(edges)} edges; "
      f"aws: {len(users)} users, {len(roles)} roles, {len(GROUPS)} groups, {len(POLICIES)} policies; "
      f"k8s: {len(items)} objects")
