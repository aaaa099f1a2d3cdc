#!/usr/bin/env bash
# Feature definitions: plan and apply of a repository of VIEWS stored views (default 100, each on its own source, plus
# an on-demand view over every tenth) on `strata up` (Release, monolith, embedded defaults), over HTTP with curl:
#   apply (fresh: VIEWS views added), apply again (no changes), plan of a one-view change, apply of it; ROUNDS rounds
#   each on a fresh data directory, median reported. No peer: Feast (`feast apply`) is a Python package, not
#   installable here (no PyPI).
# Writes bench/results/definitions-<stamp>.json. Bounded: the server is stopped by pid.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source bench/lib.sh
VIEWS="${VIEWS:-100}"; ROUNDS="${ROUNDS:-5}"
WORK="$(mktemp -d /tmp/strata-bench-definitions-XXXXXX)"
dotnet build src/Strata.Cli -c Release -nologo -v quiet >/dev/null
python3 - "$WORK" "$VIEWS" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
def repo(change):
    y = ["entities:\n  - {name: e, join_keys: [{name: id, type: string}]}\nsources:\n"]
    y += [f"  - {{name: s{i}, entity: e, columns: [{{name: a, type: float64}}, {{name: b, type: float64}}]}}\n" for i in range(n)]
    y.append("feature_views:\n")
    y += [f"  - {{name: v{i}, source: s{i}, ttl: 1d, owner: team{i % 7}}}\n" for i in range(n)]
    y += [f"  - {{name: r{i}, kind: on_demand, sources: [v{i}], inputs: [{{name: a}}, {{name: b, exclusive_minimum: 0}}],"
          f" features: [{{name: ratio, expression: 'a / b{' + 1' if change and i == 0 else ''}'}}, {{name: big, expression: 'a > 10 ? 1 : 0'}}]}}\n" for i in range(0, n, 10)]
    return "".join(y)
for name, change in (("repo", False), ("changed", True)):
    json.dump({"files": [{"name": "repo.yaml", "content": repo(change)}], "force": True}, open(f"{work}/{name}.json", "w"))
PY
time_post() { curl -s -o "$WORK/last.json" -w '%{http_code} %{time_total}\n' -X POST "$1" -H 'Content-Type: application/json' --data-binary "@$2"; }
declare -A T
for round in $(seq "$ROUNDS"); do
  PORT=$(free_port); rm -rf "$WORK/data"
  dotnet src/Strata.Cli/bin/Release/net10.0/strata.dll up -p "$PORT" -d "$WORK/data" > "$WORK/up.log" 2>&1 & PID=$!; PIDS+=("$PID")
  wait_ready "http://127.0.0.1:$PORT" /health/ready
  strata_key "$WORK/data" # curl (lib.sh) sends the data directory's first admin key
  URL="http://127.0.0.1:$PORT/api/features"
  for step in "apply_fresh apply repo" "apply_noop apply repo" "plan_one_change plan changed" "apply_one_change apply changed"; do
    set -- $step
    read -r code secs < <(time_post "$URL/$2" "$WORK/$3.json")
    [ "$code" = 200 ] || { echo "$1: HTTP $code $(cat "$WORK/last.json")" >&2; exit 1; }
    T[$1]+="$secs "
  done
  stop "$PID"
done
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$WORK" "$VIEWS" "$ROUNDS" "$STAMP" "${T[apply_fresh]}" "${T[apply_noop]}" "${T[plan_one_change]}" "${T[apply_one_change]}" <<'PY'
import json, statistics, sys
work, views, rounds, stamp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
names = ["apply_fresh", "apply_noop", "plan_one_change", "apply_one_change"]
result = {"views": views, "rounds": rounds, "median_ms": {}, "all_ms": {}}
for name, raw in zip(names, sys.argv[5:]):
    ms = [round(float(x) * 1000, 1) for x in raw.split()]
    result["all_ms"][name] = ms
    result["median_ms"][name] = statistics.median(ms)
json.dump(result, open(f"bench/results/definitions-{stamp}.json", "w"), indent=2)
print(json.dumps(result["median_ms"]))
PY
