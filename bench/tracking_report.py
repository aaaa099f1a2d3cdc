"""Turns the outputs of bench/tracking.sh into bench/results/tracking-<stamp>.{json,md} and the README table."""
import datetime, json, os, platform, subprocess, sys

work = sys.argv[1]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
measured = json.load(open(os.path.join(work, "tracking.json")))
runs, load_seconds = (int(x) for x in open(os.path.join(work, "load.txt")).read().split())
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
rows.append((f"load {runs:,} runs x (50 metrics, 5 params, 2 tags) through the store", f"{load_seconds} s ({runs / max(load_seconds, 1):,.0f} runs/s), {size / 1e6:,.0f} MB", "-", None))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=root).stdout.strip()
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
header = (f"Tracking (MLflow REST API 2.0, SQLite store), {runs:,} runs in one experiment, measured over HTTP from one client; "
          f"{datetime.date.today()}, {os.cpu_count()} cores ({cpu}), commit {commit}. No MLflow peer (not installable here).")
md = [header, "", "| measurement | measured | target | met |", "|---|---|---|:---:|"]
for what, value, target, met in rows:
    md.append(f"| {what} | {value} | {target} | {'-' if met is None else ('yes' if met else 'no')} |")
table = "\n".join(md)
os.makedirs(os.path.join(root, "bench", "results"), exist_ok=True)
json.dump({"measured": measured, "runs": runs, "load_seconds": load_seconds, "bytes": size, "commit": commit},
          open(os.path.join(root, "bench", "results", f"tracking-{stamp}.json"), "w"), indent=2)
open(os.path.join(root, "bench", "results", f"tracking-{stamp}.md"), "w").write(table + "\n")
readme = os.path.join(root, "README.md")
text = open(readme).read()
start, end = "<!-- bench:tracking:start -->", "<!-- bench:tracking:end -->"
if start in text:
    text = text[: text.index(start) + len(start)] + "\n" + table + "\n" + text[text.index(end):]
    open(readme, "w").write(text)
print(table)
