"""What every bench report shares: the machine line, the targets table, bench/results/<kind>-<stamp>.{json,md} and the
README block between <!-- bench:<kind>:start --> and <!-- bench:<kind>:end -->."""
import datetime, json, os, platform, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def commit():
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()


def machine():
    """'<date>, <n> cores (<cpu>), commit <sha>'."""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    return f"{datetime.date.today()}, {os.cpu_count()} cores ({cpu}), commit {commit()}"


def publish(kind, header, rows, payload):
    """rows: (measurement, measured, target, met: True/False/None). Writes the results and the README block; prints the table."""
    md = [header, "", "| measurement | measured | target | met |", "|---|---|---|:---:|"]
    for what, measured, target, met in rows:
        md.append(f"| {what} | {measured} | {target} | {'-' if met is None else ('yes' if met else 'no')} |")
    table = "\n".join(md)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results = os.path.join(ROOT, "bench", "results")
    os.makedirs(results, exist_ok=True)
    json.dump(dict(payload, commit=commit()), open(os.path.join(results, f"{kind}-{stamp}.json"), "w"), indent=2)
    open(os.path.join(results, f"{kind}-{stamp}.md"), "w").write(table + "\n")
    readme = os.path.join(ROOT, "README.md")
    text = open(readme).read()
    start, end = f"<!-- bench:{kind}:start -->", f"<!-- bench:{kind}:end -->"
    if start in text:
        text = text[: text.index(start) + len(start)] + "\n" + table + "\n" + text[text.index(end):]
        open(readme, "w").write(text)
    print(table)
