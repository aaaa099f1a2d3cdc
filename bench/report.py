"""Turns the wrk outputs of bench/predict.sh into bench/results/predict-<stamp>.{json,md} and the table in bench/README.md."""
import datetime, json, os, platform, subprocess, sys

work, duration, connections, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchreport import wrk  # noqa: E402


def parse(name):
    return wrk(os.path.join(work, name + ".wrk"))


names = ["strata_monolith", "strata_microservices", "seed_flask_monolith", "bare_kestrel"]
results = {n: parse(n) for n in names}
extra = ["strata_monolith_v2_infer"] if os.path.exists(os.path.join(work, "strata_monolith_v2_infer.wrk")) else []
results.update({n: parse(n) for n in extra})
a, b, c, d = (results[n] for n in names)
ratios = {
    "monolith_vs_bare_kestrel_rps": a["requests_per_second"] / d["requests_per_second"],
    "microservices_minus_monolith_p50_ms": b["p50_ms"] - a["p50_ms"],
    "monolith_vs_seed_rps": a["requests_per_second"] / c["requests_per_second"],
}
targets = {
    "monolith_vs_bare_kestrel_rps": (">=", 0.5),
    "microservices_minus_monolith_p50_ms": ("<=", 1.0),
    "monolith_vs_seed_rps": (">=", 100.0),
}
met = {k: (ratios[k] >= v if op == ">=" else ratios[k] <= v) for k, (op, v) in targets.items()}
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
now = datetime.datetime.now(datetime.timezone.utc)
report = {"benchmark": "POST /predict single row", "date": now.isoformat(timespec="seconds"), "commit": commit,
          "machine": {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release()},
          "load": {"tool": "wrk", "threads": threads, "connections": connections, "duration": duration},
          "results": results, "ratios": ratios, "targets": {k: f"{op} {v}" for k, (op, v) in targets.items()}, "met": met}

labels = {"strata_monolith_v2_infer": "(a') Strata monolith, `POST /v2/models/seed/infer` (one row)", "strata_monolith": "(a) Strata monolith", "strata_microservices": "(b) Strata microservices via gateway",
          "seed_flask_monolith": "(c) seed Flask + scikit-learn (gunicorn, 2 workers)", "bare_kestrel": "(d) bare Kestrel, same JSON, constant answer"}
lines = [f"POST /predict, one row, wrk {threads} threads x {connections} connections x {duration}, loopback; "
         f"{now:%Y-%m-%d}, {os.cpu_count()} cores ({cpu}), commit {commit}.", "",
         "| contender | requests/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|"]
for n in names[:1] + extra + names[1:]:
    r = results[n]
    lines.append(f"| {labels[n]} | {r['requests_per_second']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non_2xx'] + r['socket_errors']} |")
lines += ["", "| ratio | measured | target | met |", "|---|---:|---:|:---:|",
          f"| (a) / (d) requests/s | {ratios['monolith_vs_bare_kestrel_rps']:.2f} | >= 0.50 | {'yes' if met['monolith_vs_bare_kestrel_rps'] else 'no'} |",
          f"| (b) - (a) p50 | {ratios['microservices_minus_monolith_p50_ms']:+.2f} ms | <= 1 ms | {'yes' if met['microservices_minus_monolith_p50_ms'] else 'no'} |",
          f"| (a) / (c) requests/s | {ratios['monolith_vs_seed_rps']:.0f}x | >= 100x | {'yes' if met['monolith_vs_seed_rps'] else 'no'} |"]
table = "\n".join(lines)

out = os.path.join(root, "bench", "results")
os.makedirs(out, exist_ok=True)
stamp = now.strftime("%Y%m%d-%H%M")
json.dump(report, open(os.path.join(out, f"predict-{stamp}.json"), "w"), indent=2)
open(os.path.join(out, f"predict-{stamp}.md"), "w").write(table + "\n")
readme = os.path.join(root, "bench", "README.md")
if os.path.exists(readme):
    text = open(readme).read()
    start, end = "<!-- bench:predict:start -->", "<!-- bench:predict:end -->"
    if start in text and end in text:
        text = text[:text.index(start) + len(start)] + "\n" + table + "\n" + text[text.index(end):]
        open(readme, "w").write(text)
print(table)
