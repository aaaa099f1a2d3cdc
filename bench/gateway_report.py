"""Summarises bench/gateway.sh: per path, the open-loop p50/p99 of each topology (medians over rounds) and what the
gateway adds, and the saturated throughput ratio microservices / monolith; writes bench/results/gateway-<stamp>.{json,md}
and the block between <!-- bench:gateway:start/end --> in bench/README.md."""
import datetime, glob, json, os, pathlib, re, statistics, subprocess, sys

work, rate = sys.argv[1], sys.argv[2]

def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

def wrk(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rps, p50, p99, int(bad.group(1)) if bad else 0

commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
result = {"commit": commit, "stamp": stamp, "rate": float(rate), "open": {}, "saturation": {}}
lines = [f"`bash bench/gateway.sh`: a monolith and a microservices topology (gateway -> serving over mutual TLS, as shipped) on the same seed; "
         f"{datetime.date.today()}, 2 cores, loopback, commit {commit}. Medians over interleaved rounds.", "",
         f"Open loop at {float(rate):,.0f} requests/s (latency of each request from its send):", "",
         "| path | monolith p50 / p99 | microservices p50 / p99 | added p50 / p99 | failed | target |", "|---|---|---|---|---|---|"]
labels = {"row": "`POST /predict` a row", "entity": "`POST /predict` `{\"user_id\": N}` (serving -> features)"}
for target in ["row", "entity"]:
    runs = {arm: [json.load(open(f)) for f in sorted(glob.glob(f"{work}/open_{target}_{arm}_*.json"))] for arm in ["monolith", "microservices"]}
    med = {arm: {k: statistics.median(r[k] for r in rs) for k in ["p50_ms", "p99_ms", "achieved_rate"]} for arm, rs in runs.items()}
    failed = {arm: sum(r["failed"] for r in rs) for arm, rs in runs.items()}
    added50 = med["microservices"]["p50_ms"] - med["monolith"]["p50_ms"]
    added99 = med["microservices"]["p99_ms"] - med["monolith"]["p99_ms"]
    result["open"][target] = {"median": med, "failed": failed, "added_p50_ms": added50, "added_p99_ms": added99, "runs": runs}
    lines.append(f"| {labels[target]} | {med['monolith']['p50_ms']:.2f} / {med['monolith']['p99_ms']:.2f} ms | {med['microservices']['p50_ms']:.2f} / {med['microservices']['p99_ms']:.2f} ms "
                 f"| {added50:+.2f} / {added99:+.2f} ms | {failed['monolith']} / {failed['microservices']} | " + ("p50 <= +0.3 ms" if target == "row" else "report") + " |")
lines += ["", "Saturation (wrk, 1 thread pinned to the last core, 32 connections):", "",
          "| path | monolith requests/s | microservices requests/s | ratio | p50 mono / micro | non-2xx | target |", "|---|---|---|---|---|---|---|"]
for target in ["row", "entity"]:
    runs = {arm: [wrk(f) for f in sorted(glob.glob(f"{work}/sat_{target}_{arm}_*.wrk"))] for arm in ["monolith", "microservices"]}
    rps = {arm: statistics.median(r[0] for r in rs) for arm, rs in runs.items()}
    p50 = {arm: statistics.median(r[1] for r in rs) for arm, rs in runs.items()}
    bad = {arm: sum(r[3] for r in rs) for arm, rs in runs.items()}
    ratio = rps["microservices"] / rps["monolith"]
    result["saturation"][target] = {"rps": rps, "p50_ms": p50, "non_2xx": bad, "ratio": ratio, "runs": runs}
    lines.append(f"| {labels[target]} | {rps['monolith']:,.0f} | {rps['microservices']:,.0f} | {ratio:.3f} | {p50['monolith']:.2f} / {p50['microservices']:.2f} ms "
                 f"| {bad['monolith']} / {bad['microservices']} | >= 0.5 |")
os.makedirs("bench/results", exist_ok=True)
pathlib.Path(f"bench/results/gateway-{stamp}.json").write_text(json.dumps(result, indent=2))
pathlib.Path(f"bench/results/gateway-{stamp}.md").write_text("\n".join(lines) + "\n")
readme = pathlib.Path("bench/README.md")
text = readme.read_text()
block = "<!-- bench:gateway:start -->\n" + "\n".join(lines) + "\n<!-- bench:gateway:end -->"
if "<!-- bench:gateway:start -->" in text:
    text = re.sub(r"<!-- bench:gateway:start -->.*?<!-- bench:gateway:end -->", block, text, flags=re.S)
else:
    text += "\nWhat the gateway hop costs (`bash bench/gateway.sh`):\n\n" + block + "\n"
readme.write_text(text)
print("\n".join(lines))
