"""Turns the outputs of bench/tracking.sh into bench/results/tracking-<stamp>.{json,md} and the table in bench/README.md."""
import json, os, sys

import benchreport

work = sys.argv[1]
measured = json.load(open(os.path.join(work, "tracking.json")))
runs, load_seconds, store = open(os.path.join(work, "load.txt")).read().split()
runs, load_seconds = int(runs), int(load_seconds)
size = int(open(os.path.join(work, "bytes.txt")).read().strip())
r = measured["results"]
targets = {
    "runs/search metric+param filter (page of 100)": 100.0,
    "runs/search metric+param filter ordered by a metric (page of 100)": 100.0,
    "runs/log-batch of 1,000 metrics": 20.0,
}
rows = []
for name, target in targets.items():
    m = r[name]
    rows.append((f"{name}: p50 / p95 / p99 over {m['count']}", f"{m['p50_ms']:.1f} / {m['p95_ms']:.1f} / {m['p99_ms']:.1f} ms", f"p95 <= {target:.0f} ms", m["p95_ms"] <= target))
loader = "4 writers, synchronous_commit off for the load" if store == "postgres" else "one writer"
rows.append((f"load {runs:,} runs x (50 metrics, 5 params, 2 tags) through the store ({loader})", f"{load_seconds} s ({runs / max(load_seconds, 1):,.0f} runs/s), {size / 1e6:,.0f} MB", "-", None))
name = {"postgres": "PostgreSQL 15 store (default settings but shared_buffers 512MB)", "sqlite": "SQLite store"}[store]
header = (f"Tracking (MLflow REST API 2.0, {name}), {runs:,} runs in one experiment, measured over HTTP from one client; "
          f"{benchreport.machine()}. No MLflow peer (not installable here).")
kind = "tracking" if store == "sqlite" else "tracking-" + store
benchreport.publish(kind, header, rows, {"measured": measured, "runs": runs, "load_seconds": load_seconds, "bytes": size, "store": store})
