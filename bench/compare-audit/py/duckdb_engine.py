"""DuckDB through its Python package: the same SQL as the `duckdb` engine
(`policy/audit.sql`, tables from `DIR/load.sql`), for a build of the
benchmark without DuckDB's C++ library (`--no-default-features`). Answers
with the same `RESULT` line as the Rust child:

    python duckdb_engine.py DIR NOW [--failures] RULE...

Timing and the RESULT line: `child.py`.
"""

import os

import duckdb

import child


def main():
    directory, now, rules, failures = child.args()
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "policy", "audit.sql")) as f:
        text = f.read().replace("{now}", now.replace("T", " ").rstrip("Z"))
    setup_sql, *parts = text.split("\n-- rule: ")
    queries = {}
    for part in parts:
        name, sql = part.split("\n", 1)
        queries[name.strip()] = sql.strip().rstrip(";")

    def setup():
        con = duckdb.connect()
        with open(os.path.join(directory, "load.sql")) as f:
            con.execute(f.read())
        con.execute(setup_sql)
        return con

    def evaluate(con, rule):
        return [row[0] for row in con.execute(queries[rule]).fetchall()]

    child.run("duckdb-py", directory, rules, failures, setup, evaluate)


if __name__ == "__main__":
    main()
