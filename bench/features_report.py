"""Turns the outputs of bench/features.sh into bench/results/features-<stamp>.{json,md} and the table in bench/README.md."""
import datetime, json, os, platform, re, subprocess, sys

work, duration, connections, cards = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse(name):
    text = open(os.path.join(work, name + ".wrk")).read()
    pct = {m.group(1): float(m.group(2)) * UNITS[m.group(3)] for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), "p50_ms": pct["50"], "p99_ms": pct["99"],
            "requests": int(re.search(r"(\d+) requests in", text).group(1)), "non_2xx": int(non2xx.group(1)) if non2xx else 0}


online = {}
for store in ("embedded", "redis"):
    for n in (1, 100):
        online[f"{store}_{n}x50"] = {"latency_1_connection": parse(f"{store}_{n}x50_c1"), f"throughput_{connections}_connections": parse(f"{store}_{n}x50_c{connections}"),
                                     "paced": json.load(open(os.path.join(work, f"{store}_{n}x50_paced.json")))}
offline = json.load(open(os.path.join(work, "offline.json")))
bare = {"latency_1_connection": parse("bare_c1"), "paced": json.load(open(os.path.join(work, "bare_paced.json")))}

rows = []  # (what, measured, target, met)
for store in ("embedded", "redis"):
    for n, target in ((1, 0.5), (100, 2.0 if store == "embedded" else 3.0)):
        r = online[f"{store}_{n}x50"]
        lat, thr, paced = r["latency_1_connection"], r[f"throughput_{connections}_connections"], r["paced"]
        rows.append((f"online {n} x 50, {store}: p50 / p99 at {paced['rate']:.0f} req/s; p50 / p99 at 1 busy connection; max req/s ({connections} conn)",
                     f"{paced['p50_ms']:.3f} / {paced['p99_ms']:.3f} ms; {lat['p50_ms']:.3f} / {lat['p99_ms']:.3f} ms; {thr['requests_per_second']:,.0f} req/s",
                     f"p99 <= {target} ms", paced["p99_ms"] <= target))
rows.append((f"floor: bare Kestrel, small JSON body: p50 / p99 at {bare['paced']['rate']:.0f} req/s; p50 / p99 at 1 busy connection",
             f"{bare['paced']['p50_ms']:.3f} / {bare['paced']['p99_ms']:.3f} ms; {bare['latency_1_connection']['p50_ms']:.3f} / {bare['latency_1_connection']['p99_ms']:.3f} ms", "-", None))
rows.append(("historical 1M entity rows x 10M feature rows (dataset in, dataset out)",
             f"{offline['historical_strata_seconds']:.2f} s (raw DuckDB ASOF of the same files: {offline['historical_raw_asof_seconds']:.2f} s, ratio {offline['historical_ratio_to_raw']:.2f})",
             "<= 3 s", offline["historical_strata_seconds"] <= 3.0))
for key in ("materialize_embedded", "materialize_redis"):
    m = offline.get(key)
    if m:
        rows.append((f"materialise {m['rows']:,} rows into {m['store']}", f"{m['rows_per_second']:,.0f} rows/s ({m['seconds']:.1f} s)",
                     ">= 200,000 rows/s" if m["store"] == "redis" else "-", m["rows_per_second"] >= 200_000 if m["store"] == "redis" else None))

commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
now = datetime.datetime.now(datetime.timezone.utc)
report = {"benchmark": "feature store", "date": now.isoformat(timespec="seconds"), "commit": commit, "machine": f"{os.cpu_count()} cores, {cpu}",
          "duration": duration, "connections": connections, "cards": cards, "online": online, "offline": offline, "bare_kestrel": bare,
          "table": [{"what": w, "measured": m, "target": t, "met": ok} for w, m, t, ok in rows]}
stamp = now.strftime("%Y%m%dT%H%M%SZ")
os.makedirs(os.path.join(root, "bench", "results"), exist_ok=True)
json.dump(report, open(os.path.join(root, "bench", "results", f"features-{stamp}.json"), "w"), indent=2)
md = [f"Feature store, {report['date']}, commit {commit}, {report['machine']}; wrk {duration} per row; {cards:,} cards online. "
      "Feast's published p99 for comparison: Java server 1 x 50 1.13 ms at 100 rps; Go 100 x 50 22 ms; Python 100 x 50 206 ms at 80 rps.", "",
      "| measurement | result | target | met |", "|---|---|---|:---:|"]
md += [f"| {w} | {m} | {t} | {'-' if ok is None else ('yes' if ok else 'no')} |" for w, m, t, ok in rows]
text = "\n".join(md) + "\n"
open(os.path.join(root, "bench", "results", f"features-{stamp}.md"), "w").write(text)
readme = os.path.join(root, "bench", "README.md")
content = open(readme).read()
start, end = "<!-- bench:features:start -->", "<!-- bench:features:end -->"
if start in content and end in content:
    content = content[:content.index(start) + len(start)] + "\n" + text + content[content.index(end):]
    open(readme, "w").write(content)
print(text)
