"""Summarises bench/telemetry.sh: per arm the median requests/s and p99 over the rounds; metrics and tracing against off."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchreport

work, duration = sys.argv[1], sys.argv[2]
rounds, runs, n = benchreport.wrk_rounds(work)
off, metrics, traced = runs["off"], runs["metrics"], runs["traced"]
header = (f"POST /predict on three monoliths, wrk 1 thread (pinned) x 32 connections, {n} interleaved rounds of {duration}, loopback; "
          f"{benchreport.machine()}. Medians over the rounds.")
rows = []
for name, arm in (("off", off), ("metrics", metrics), ("traced", traced)):
    rows.append((f"{name}: requests/s, p50, p99", f"{arm['requests_per_second']:,.0f}, {arm['p50_ms']:.2f} ms, {arm['p99_ms']:.2f} ms", "-", None))
for name, arm in (("metrics on", metrics), ("metrics + tracing at 1%", traced)):
    ratio = arm["requests_per_second"] / off["requests_per_second"]
    delta = arm["p99_ms"] - off["p99_ms"]
    rows.append((f"{name} / off, throughput", f"{ratio:.3f}", ">= 0.90", ratio >= 0.90))
    rows.append((f"{name} - off, p99", f"{delta:+.2f} ms", "<= +0.3 ms", delta <= 0.3))
bad = sum(r["non_2xx"] + r["socket_errors"] for r in runs.values())
rows.append(("non-2xx and socket errors, all rounds", str(bad), "0", bad == 0))
benchreport.publish("telemetry", header, rows, {"rounds": rounds, "runs": runs})
