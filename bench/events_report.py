"""Turns the outputs of bench/events.sh into bench/results/events-<stamp>.{json,md} and the table in bench/README.md."""
import json, os, re, sys

import benchreport

work = sys.argv[1]
bus = json.load(open(os.path.join(work, "bus.json")))
text = open(os.path.join(work, "redis-benchmark.txt")).read()
m = re.search(r"([\d.]+) requests per second", text)
redis_benchmark = float(m.group(1)) if m else None

strata = {r["backend"]: r for r in bus["results"] if r["kind"] == "strata"}
raw = {r["backend"]: r["events_per_second"] for r in bus["results"] if r["kind"] == "raw"}
raw_latency = {r["backend"]: r for r in bus["results"] if r["kind"] == "raw" and "latency_p99_ms" in r}
rows = []  # (what, measured, target, met)
e = strata["embedded"]
rows.append(("embedded log, in process: publish+consume events/s", f"{e['events_per_second']:,.0f}", ">= 100,000", e["events_per_second"] >= 100_000))
h = strata["embedded-http"]
rows.append(("embedded log over HTTP (microservices): events/s", f"{h['events_per_second']:,.0f}", "-", None))
for name in ("nats", "redis"):
    s = strata[name]
    ratio = s["events_per_second"] / raw[name]
    each = ", ".join(f"{r['bus'] / r['bare']:.2f}" for r in s.get("rounds", []) if r.get("bare"))
    rows.append((f"{name}: events/s, Strata bus / bare client (median of {len(s.get('rounds', []))} alternating rounds: {each})",
                 f"{s['events_per_second']:,.0f} / {raw[name]:,.0f} = {ratio:.3f}", ">= 0.50", ratio >= 0.5))
for name in ("embedded", "embedded-http", "nats", "redis"):
    s = strata[name]
    rows.append((f"{name}: end-to-end latency p50 / p99 at {bus['rate']} events/s", f"{s['latency_p50_ms']:.2f} / {s['latency_p99_ms']:.2f} ms", "p99 <= 5 ms",
                 s["latency_p99_ms"] <= 5.0 if name != "embedded-http" else None))
    if name in raw_latency:
        r = raw_latency[name]
        rows.append((f"{name}, bare client (same run): latency p50 / p99 at {bus['rate']} events/s", f"{r['latency_p50_ms']:.2f} / {r['latency_p99_ms']:.2f} ms", "-", None))
if redis_benchmark:
    rows.append(("redis-benchmark XADD (256 B, -P 100, publish only): requests/s", f"{redis_benchmark:,.0f}", "-", None))

header = (f"Event bus, {bus['events']:,} events of {bus['payload_bytes']} B through one consumer group (after a warm-up round; bus and bare client alternate, median round), latency at {bus['rate']} events/s for "
          f"{bus['seconds']} s; {benchreport.machine()}. Publisher, consumer and broker share the machine.")
benchreport.publish("events", header, rows, {"bus": bus, "redis_benchmark_xadd_per_second": redis_benchmark})
