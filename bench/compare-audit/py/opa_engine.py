"""OPA (the Go engine, v1.x) as the benchmark's fourth engine.

The wheel `opa-golib-python-bindings` ships OPA's Go `rego` package as a
C shared library (`libopabridge.so`); this script drives it the way the
Rust child drives the other engines, and answers with the same `RESULT`
line:

    python opa_engine.py DIR NOW [--failures] RULE...

Setup: add `policy/audit.rego` and `policy/holders_opa.rego`, then the
`data` document (`DIR/rego.json`, handed over as the file's bytes).
Evaluation: `data.audit.<rule>` for each rule, one query each (OPA computes
helper rules such as `holders` again in every query). Timing and the
RESULT line: `child.py`.
"""

import os

from opa_bindings import OpaEngine

import child


def main():
    directory, now, rules, failures = child.args()
    here = os.path.dirname(os.path.abspath(__file__))
    policies = [os.path.join(here, "..", "policy", n) for n in ("audit.rego", "holders_opa.rego")]

    def setup():
        engine = OpaEngine()
        for policy in policies:
            with open(policy) as f:
                engine.add_policy(os.path.basename(policy), f.read())
        with open(os.path.join(directory, "rego.json"), "rb") as f:
            data = f.read()
        engine._call(engine._lib.OpaAddData, b"", data)
        return engine

    def evaluate(engine, rule):
        return engine.eval_document("audit." + rule.replace("-", "_"), input={"now": now})

    child.run("opa", directory, rules, failures, setup, evaluate)


if __name__ == "__main__":
    main()
