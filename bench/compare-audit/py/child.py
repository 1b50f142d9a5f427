"""What the Python engines share with the Rust child: the command line
(`DIR NOW [--failures] RULE...`), timing each rule, writing the failures
file, and the `RESULT` line. Times are wall (`perf_counter`) and CPU of the
process, all threads (`process_time`); peak memory is `VmHWM`.
"""

import json
import os
import sys
import time


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def args():
    """(directory, now, rules, failures) from the command line."""
    argv = sys.argv[1:]
    failures = "--failures" in argv
    argv = [a for a in argv if a != "--failures"]
    return argv[0], argv[1], argv[2:], failures


def run(engine, directory, rules, failures, setup, evaluate):
    """Times `setup()` then `evaluate(rule)` (the failing ids) for each rule,
    writes `failures-ENGINE.tsv` when asked, and prints the RESULT line."""
    t0, c0 = time.perf_counter(), time.process_time()
    state = setup()
    setup_wall, setup_cpu = time.perf_counter() - t0, time.process_time() - c0

    t1, c1 = time.perf_counter(), time.process_time()
    per_rule, found = [], []
    for rule in rules:
        t = time.perf_counter()
        ids = evaluate(state, rule)
        per_rule.append({"rule": rule, "wall": time.perf_counter() - t, "failed": len(ids)})
        if failures:
            found.extend((rule, i) for i in ids)
    eval_wall, eval_cpu = time.perf_counter() - t1, time.process_time() - c1

    if failures:
        found.sort()
        with open(os.path.join(directory, f"failures-{engine}.tsv"), "w") as f:
            f.writelines(f"{r}\t{i}\n" for r, i in found)
    result = {
        "setup_wall": setup_wall, "setup_cpu": setup_cpu,
        "eval_wall": eval_wall, "eval_cpu": eval_cpu,
        "peak_rss": peak_rss(), "checks": 0, "rules": per_rule,
    }
    print("RESULT " + json.dumps(result), flush=True)
