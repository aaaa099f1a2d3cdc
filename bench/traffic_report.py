"""Summarises bench/traffic.sh: per target and policy, the median requests/s and p99 over the rounds, as a ratio to no
policy; writes bench/results/traffic-<stamp>.json and the block between <!-- bench:traffic:start/end --> in bench/README.md."""
import json, re, statistics, sys, datetime, pathlib

runs, commit = sys.argv[1], sys.argv[2]
rows = [line.rstrip("\n").split("\t") for line in open(runs) if line.strip()]

def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

by = {}
for target, arm, _round, rps, p99, bad, shadow in rows:
    by.setdefault((target, arm), []).append((float(rps), ms(p99), int(bad), shadow))
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
result = {"commit": commit, "stamp": stamp, "runs": rows, "summary": {}}
lines = [f"Two monoliths, seed v1 and v2, wrk 1 thread (pinned) x 32 connections, interleaved rounds of 8 s, loopback; {datetime.date.today()}, 2 cores, commit {commit}.",
         "Ratios of the routed arms are to B without a policy (both log every prediction: the routing's own cost); B's to A's is what logging every prediction costs.", "",
         "| target | arm | requests/s (median) | ratio | p99 (median) | non-2xx | target |", "|---|---|---|---|---|---|---|"]
for target in ["predict", "infer"]:
    base = statistics.median(r[0] for r in by[(target, "none")])
    sampled = statistics.median(r[0] for r in by[(target, "sampled")])
    for arm, label in [("sampled", "A: no policy, log samples 1 in 100"), ("none", "B: no policy, every prediction logged"), ("rules", "B + 3 header rules + 90/10 split"),
                       ("shadow10", "B + rules + shadow on 10%"), ("shadow", "B + rules + shadow on 100%")]:
        runs_ = by[(target, arm)]
        rps = statistics.median(r[0] for r in runs_)
        p99 = statistics.median(r[1] for r in runs_)
        bad = sum(r[2] for r in runs_)
        ratio = 1.0 if arm == "sampled" else rps / sampled if arm == "none" else rps / base
        goal = ">= 0.90" if arm in ("rules", "shadow10") else "report"
        result["summary"][f"{target}/{arm}"] = {"rps": rps, "ratio": ratio, "p99_ms": p99, "non_2xx": bad}
        lines.append(f"| `{ 'POST /predict' if target == 'predict' else 'V2 infer'}` | {label} | {rps:,.0f} | {ratio:.3f} | {p99:.2f} ms | {bad} | {goal} |")
out = pathlib.Path("bench/results") / f"traffic-{stamp}.json"
out.write_text(json.dumps(result, indent=2))
readme = pathlib.Path("bench/README.md")
text = readme.read_text()
block = "<!-- bench:traffic:start -->\n" + "\n".join(lines) + "\n<!-- bench:traffic:end -->"
if "<!-- bench:traffic:start -->" in text:
    text = re.sub(r"<!-- bench:traffic:start -->.*?<!-- bench:traffic:end -->", block, text, flags=re.S)
else:
    text += "\nWhat a traffic policy costs scoring (`bash bench/traffic.sh`: the same monolith with no policy, then 3 header rules that never match + a 90/10 split, then with a shadow on 10% and 100% of requests):\n\n" + block + "\n"
readme.write_text(text)
print("\n".join(lines))
