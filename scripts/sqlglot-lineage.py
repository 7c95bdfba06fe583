"""Column lineage of dbt models computed with sqlglot (a second opinion for the tests and bench).

stdin: {"dialect": "postgres", "schema": {"db": {"sch": {"tbl": {"col": "type"}}}}, "models": [{"id": ..., "sql": ...}]}
stdout: one JSON line per model: {"id", "edges": [[out_column, "db.sch.tbl", column], ...], "error"?, "ms"}
Written for sqlglot 10.x (Debian's python3-sqlglot); qualifies and scopes the query once per model.
"""
import json
import sys
import time

import sqlglot
from sqlglot import exp
from sqlglot.optimizer import optimize
from sqlglot.optimizer.qualify_columns import qualify_columns
from sqlglot.optimizer.qualify_tables import qualify_tables
from sqlglot.optimizer.scope import Scope, build_scope


def names(scope):
    if isinstance(scope.expression, exp.Union):
        return names(scope.union_scopes[0])
    return [s.alias_or_name for s in scope.selects]


def trace(scope, index, out, depth=0):
    if depth > 60:
        return
    if isinstance(scope.expression, exp.Union):
        for s in scope.union_scopes:
            trace(s, index, out, depth + 1)
        return
    selects = scope.selects
    if index >= len(selects):
        return
    for c in selects[index].find_all(exp.Column):
        src = scope.sources.get(c.table)
        if isinstance(src, Scope):
            ns = names(src)
            low = [n.lower() for n in ns]
            if c.name.lower() in low:
                trace(src, low.index(c.name.lower()), out, depth + 1)
        elif isinstance(src, exp.Table):
            fq = ".".join(p.name for p in (src.args.get("catalog"), src.args.get("db"), src.this) if p is not None and p.name)
            out.add((fq.lower(), c.name.lower()))


def main():
    req = json.load(sys.stdin)
    dialect = req.get("dialect") or None
    schema = req["schema"]
    for m in req["models"]:
        t0 = time.perf_counter()
        res = {"id": m["id"], "edges": []}
        try:
            e = sqlglot.parse_one(m["sql"], read=dialect)
            e = optimize(e, schema=schema, rules=(qualify_tables, qualify_columns))
            scope = build_scope(e)
            edges = set()
            for i, n in enumerate(names(scope)):
                srcs = set()
                trace(scope, i, srcs)
                for fq, col in srcs:
                    edges.add((n.lower(), fq, col))
            res["edges"] = sorted(edges)
        except Exception as err:  # noqa: BLE001 - any failure is reported, the run goes on
            res["error"] = (type(err).__name__ + ": " + str(err))[:300]
        res["ms"] = (time.perf_counter() - t0) * 1000
        sys.stdout.write(json.dumps(res) + "\n")


main()
