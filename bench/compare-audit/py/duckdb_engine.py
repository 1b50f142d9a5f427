"""DuckDB through its Python package: the same SQL as the `duckdb` engine
(`policy/audit.sql`, tables from `DIR/load.sql`), for a build of the
benchmark without DuckDB's C++ library (`--no-default-features`). Answers
with the same `RESULT` line as the Rust child:

    python duckdb_engine.py DIR NOW [--failures] RULE...

Times are wall (`perf_counter`) and CPU of the process, all threads
(`process_time`); peak memory is `VmHWM`.
"""

import json
import os
import sys
import time

import duckdb


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
    with open(os.path.join(here, "..", "policy", "audit.sql")) as f:
        text = f.read().replace("{now}", now.replace("T", " ").rstrip("Z"))
    setup_sql, *parts = text.split("\n-- rule: ")
    queries = {}
    for part in parts:
        name, sql = part.split("\n", 1)
        queries[name.strip()] = sql.strip().rstrip(";")

    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect()
    with open(os.path.join(directory, "load.sql")) as f:
        con.execute(f.read())
    con.execute(setup_sql)
    setup_wall, setup_cpu = time.perf_counter() - t0, time.process_time() - c0

    t1, c1 = time.perf_counter(), time.process_time()
    per_rule, found = [], []
    for rule in rules:
        t = time.perf_counter()
        ids = [row[0] for row in con.execute(queries[rule]).fetchall()]
        per_rule.append({"rule": rule, "wall": time.perf_counter() - t, "failed": len(ids)})
        if failures:
            found.extend((rule, i) for i in ids)
    eval_wall, eval_cpu = time.perf_counter() - t1, time.process_time() - c1

    if failures:
        found.sort()
        with open(os.path.join(directory, "failures-duckdb-py.tsv"), "w") as f:
            f.writelines(f"{r}\t{i}\n" for r, i in found)
    result = {
        "setup_wall": setup_wall, "setup_cpu": setup_cpu,
        "eval_wall": eval_wall, "eval_cpu": eval_cpu,
        "peak_rss": peak_rss(), "checks": 0, "rules": per_rule,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
