#!/usr/bin/env python3
"""Writes Acme's earlier inventory states (`states/DAY/native.json`) from
today's `../acme/native.json`.

Acme's finding history (`runs/`) is made by running gov on these states
(see `record.sh`), never written by hand. They live beside `examples/acme/`,
not in it, because loading a directory reads its subdirectories too. Each state is the CMDB /
HRIS / Vault export (`native.json`) as it was on that day; the AWS and
Kubernetes exports are today's in every state.

- 2026-10-25: four legacy batch service accounts with no owner still exist
  (retired since), and two identities that appear later are not there yet.
- 2026-11-08: two of the legacy accounts are gone; one of the two later
  identities has appeared.

Python 3 standard library only; the output is byte-identical on every run.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

LEGACY = [
    ("sa-legacy-batch-settlement", "service:payments-core"),
    ("sa-legacy-batch-reconcile", "service:ledger"),
    ("sa-legacy-batch-export", "service:data-warehouse"),
    ("sa-legacy-batch-mailer", "service:notifications"),
]
# Identities that joined after the earlier states (and have findings today).
LATER = ["bot-statusflare", "client-shopbridge"]


def state(today, legacy, absent, as_of):
    doc = json.loads(json.dumps(today))
    doc["metadata"]["as_of"] = as_of
    doc["metadata"]["generated_by"] = "examples/acme-history/make_states.py"
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] not in absent]
    doc["edges"] = [e for e in doc["edges"] if e["from"] not in absent and e["to"] not in absent]
    for ident, service in legacy:
        doc["nodes"].append({
            "id": ident,
            "kind": "identity",
            "attrs": {
                "type": "service_account",
                "name": ident,
                "source": "vault",
                "active": True,
                "created_at": "2021-02-01T09:00:00+00:00",
                "last_used_at": as_of + "T03:00:00+00:00",
            },
        })
        doc["edges"].append({"from": ident, "to": service, "kind": "supports"})
    return doc


def write(doc, day):
    os.makedirs(os.path.join(HERE, "states", day), exist_ok=True)
    with open(os.path.join(HERE, "states", day, "native.json"), "w", encoding="utf-8") as f:
        f.write("{\n")
        keys = list(doc)
        for i, k in enumerate(keys):
            if k in ("nodes", "edges"):
                f.write(f'  "{k}": [\n')
                rows = [json.dumps(x, ensure_ascii=False) for x in doc[k]]
                f.write(",\n".join("    " + r for r in rows))
                f.write("\n  ]")
            else:
                f.write(f"  {json.dumps(k)}: {json.dumps(doc[k], ensure_ascii=False)}")
            f.write(",\n" if i + 1 < len(keys) else "\n")
        f.write("}\n")


def main():
    with open(os.path.join(HERE, "..", "acme", "native.json"), encoding="utf-8") as f:
        today = json.load(f)
    write(state(today, LEGACY, set(LATER), "2026-10-25"), "2026-10-25")
    write(state(today, LEGACY[:2], {LATER[1]}, "2026-11-08"), "2026-11-08")


if __name__ == "__main__":
    main()
