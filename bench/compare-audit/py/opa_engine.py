"""OPA (the Go engine, v1.x) as the benchmark's fourth engine.

The wheel `opa-golib-python-bindings` ships OPA's Go `rego` package as a
C shared library (`libopabridge.so`); this script drives it the way the
Rust child drives the other engines, and answers with the same `RESULT`
line:

    python opa_engine.py DIR NOW [--failures] RULE...

Setup: add `policy/audit.rego`, then the `data` document (`DIR/rego.json`,
handed over as the file's bytes). Evaluation: `data.audit.<rule>` for each
rule, one query each (OPA computes helper rules such as `holders` again in
every query). Times are wall (`perf_counter`) and CPU of the process, all
threads (`process_time`); peak memory is `VmHWM`.
"""

import json
import os
import sys
import time

from opa_bindings import OpaEngine


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    args = sys.argv[1:]
    failures = "--failures" in args
    args = [a for a in args if a != "--failures"]
    directory, now, rules = args[0], args[1], args[2:]
    here = os.path.dirname(os.path.abspath(__file__))
    policy = os.path.join(here, "..", "policy", "audit.rego")

    t0, c0 = time.perf_counter(), time.process_time()
    engine = OpaEngine()
    with open(policy) as f:
        engine.add_policy("audit.rego", f.read())
    with open(os.path.join(directory, "rego.json"), "rb") as f:
        data = f.read()
    engine._call(engine._lib.OpaAddData, b"", data)
    del data
    setup_wall, setup_cpu = time.perf_counter() - t0, time.process_time() - c0

    t1, c1 = time.perf_counter(), time.process_time()
    per_rule, found = [], []
    for rule in rules:
        t, c = time.perf_counter(), time.process_time()
        ids = engine.eval_document("audit." + rule.replace("-", "_"), input={"now": now})
        per_rule.append({"rule": rule, "wall": time.perf_counter() - t, "failed": len(ids)})
        if failures:
            found.extend((rule, i) for i in ids)
    eval_wall, eval_cpu = time.perf_counter() - t1, time.process_time() - c1

    if failures:
        found.sort()
        with open(os.path.join(directory, "failures-opa.tsv"), "w") as f:
            f.writelines(f"{r}\t{i}\n" for r, i in found)
    result = {
        "setup_wall": setup_wall, "setup_cpu": setup_cpu,
        "eval_wall": eval_wall, "eval_cpu": eval_cpu,
        "peak_rss": peak_rss(), "checks": 0, "rules": per_rule,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
