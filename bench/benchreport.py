"""What every bench report shares: the machine line, the targets table, bench/results/<kind>-<stamp>.{json,md} and the
README block between <!-- bench:<kind>:start --> and <!-- bench:<kind>:end -->."""
import datetime, json, os, platform, re, statistics, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def commit():
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()


def machine():
    """'<date>, <n> cores (<cpu>), commit <sha>'."""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    return f"{datetime.date.today()}, {os.cpu_count()} cores ({cpu}), commit {commit()}"


def publish(kind, header, rows, payload):
    """rows: (measurement, measured, target, met: True/False/None). Writes the results and the block in bench/README.md; prints the table."""
    md = [header, "", "| measurement | measured | target | met |", "|---|---|---|:---:|"]
    for what, measured, target, met in rows:
        md.append(f"| {what} | {measured} | {target} | {'-' if met is None else ('yes' if met else 'no')} |")
    table = "\n".join(md)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results = os.path.join(ROOT, "bench", "results")
    os.makedirs(results, exist_ok=True)
    json.dump(dict(payload, commit=commit()), open(os.path.join(results, f"{kind}-{stamp}.json"), "w"), indent=2)
    open(os.path.join(results, f"{kind}-{stamp}.md"), "w").write(table + "\n")
    readme = os.path.join(ROOT, "bench", "README.md")
    text = open(readme).read()
    start, end = f"<!-- bench:{kind}:start -->", f"<!-- bench:{kind}:end -->"
    if start in text:
        text = text[: text.index(start) + len(start)] + "\n" + table + "\n" + text[text.index(end):]
        open(readme, "w").write(text)
    print(table)


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(path):
    """A `wrk --latency` output: requests/s, p50/p99 ms, request count, non-2xx responses and socket errors."""
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    pct = {m.group(1): float(m.group(2)) * WRK_UNITS[m.group(3)] for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {"requests_per_second": rps, "p50_ms": pct["50"], "p99_ms": pct["99"], "requests": requests,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0}


def wrk_rounds(work):
    """The wrk outputs in work (name.wrk, name~2.wrk, ...): (rounds by name, each figure's median over a name's rounds,
    counts summed), and the most rounds any name ran."""
    rounds = {}
    for n in sorted(os.listdir(work)):
        if n.endswith(".wrk"):
            rounds.setdefault(n[:-4].split("~")[0], []).append(wrk(os.path.join(work, n)))
    counts = ("requests", "non_2xx", "socket_errors")  # summed over the rounds; rates and latencies are medians
    runs = {name: ({k: (sum if k in counts else statistics.median)([x[k] for x in rs]) for k in rs[0]} if len(rs) > 1 else rs[0])
            for name, rs in rounds.items()}
    return rounds, runs, max((len(rs) for rs in rounds.values()), default=0)

