"""Turns the outputs of bench/gateway.sh into bench/results/gateway-<stamp>.{json,md} and the block in bench/README.md:
per path, the open-loop p50/p99 of each topology (medians over rounds) and what the gateway adds, and the saturated
throughput ratio microservices / monolith."""
import glob, json, os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchreport import machine, publish, wrk  # noqa: E402

work, rate = sys.argv[1], float(sys.argv[2])
labels = {"row": "`POST /predict` a row", "entity": "`POST /predict` `{\"user_id\": N}` (serving -> features)"}
rows, payload = [], {"rate": rate, "open": {}, "saturation": {}}
for target, label in labels.items():
    runs = {arm: [json.load(open(f)) for f in sorted(glob.glob(f"{work}/open_{target}_{arm}_*.json"))] for arm in ("monolith", "microservices", "h11")}
    med = {arm: {k: statistics.median(r[k] for r in rs) for k in ("p50_ms", "p99_ms", "achieved_rate")} for arm, rs in runs.items()}
    failed = sum(r["failed"] for rs in runs.values() for r in rs)
    added50 = med["microservices"]["p50_ms"] - med["monolith"]["p50_ms"]
    added99 = med["microservices"]["p99_ms"] - med["monolith"]["p99_ms"]
    payload["open"][target] = {"median": med, "runs": runs}
    rows.append((f"{label}, open loop {rate:,.0f}/s: p50 added by the gateway ({med['microservices']['p50_ms']:.2f} - {med['monolith']['p50_ms']:.2f} ms)",
                 f"{added50:+.2f} ms", "<= +0.3 ms" if target == "row" else "report", added50 <= 0.3 if target == "row" else None))
    rows.append((f"{label}, open loop {rate:,.0f}/s: p99 added ({med['microservices']['p99_ms']:.2f} - {med['monolith']['p99_ms']:.2f} ms)",
                 f"{added99:+.2f} ms", "report", None))
    sat = {arm: [wrk(f) for f in sorted(glob.glob(f"{work}/sat_{target}_{arm}_*.wrk"))] for arm in ("monolith", "microservices", "h11")}
    rps = {arm: statistics.median(r["requests_per_second"] for r in rs) for arm, rs in sat.items()}
    p50 = {arm: statistics.median(r["p50_ms"] for r in rs) for arm, rs in sat.items()}
    ratio = rps["microservices"] / rps["monolith"]
    payload["saturation"][target] = {"rps": rps, "p50_ms": p50, "runs": sat}
    rows.append((f"{label}, saturated (c32): microservices / monolith requests/s ({rps['microservices']:,.0f} / {rps['monolith']:,.0f}; p50 {p50['microservices']:.2f} / {p50['monolith']:.2f} ms)",
                 f"{ratio:.3f}", ">= 0.5", ratio >= 0.5))
    h11_50 = med["h11"]["p50_ms"] - med["monolith"]["p50_ms"]
    rows.append((f"{label}, HTTP/1.1 between gateway and modules instead: p50 added at {rate:,.0f}/s ({med['h11']['p50_ms']:.2f} - {med['monolith']['p50_ms']:.2f} ms); "
                 f"saturated microservices / monolith ({rps['h11']:,.0f} / {rps['monolith']:,.0f})", f"{h11_50:+.2f} ms; {rps['h11'] / rps['monolith']:.3f}", "report (vs HTTP/2 above)", None))
    bad = failed + sum(r["non_2xx"] + r["socket_errors"] for rs in sat.values() for r in rs)
    rows.append((f"{label}: failed requests, both topologies, open loop and saturated", f"{bad}", "0", bad == 0))
publish("gateway", f"The gateway hop: a monolith and the microservices topology (gateway -> serving over mutual TLS and HTTP/2, as shipped) on the same seed, "
        f"1,000 users' profiles online; a third arm is the microservices topology with HTTP/1.1 between the gateway and the modules (`Strata__Gateway__ModuleHttpVersion=1.1`); open loop by bench/Strata.Bench.OpenLoop (latency from each send), saturation by wrk 1 thread pinned to the last core; "
        f"medians of alternating rounds, loopback; {machine()}.", rows, payload)
