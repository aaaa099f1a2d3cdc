#!/usr/bin/env bash
# Dashboard page load (issue 21), one run on this machine: a monolith whose registry holds VERSIONS versions of one model
# (default 1,000) and RUNS runs (default 100,000, 50 metrics / 5 params / 2 tags each, loaded through the tracking store
# as bench/tracking.sh does). Debian's chromium, driven by Playwright, signs in and loads each page LOADS times (default
# 20, after 2 warm-ups); per page the browser's navigation timing (response end; load event end, charts drawn) and, as
# the peer, the API call returning the same data as JSON. No MLflow UI peer: MLflow is a Python package, not installable
# here (no PyPI). Writes bench/results/dashboard-<stamp>.{json,md} and the table in bench/README.md; the server is
# stopped by pid.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source bench/lib.sh
RUNS="${RUNS:-100000}"; VERSIONS="${VERSIONS:-1000}"; LOADS="${LOADS:-20}"
WORK="$(mktemp -d /tmp/strata-bench-dashboard-XXXXXX)"
dotnet build src/Strata.Cli -c Release -nologo -v quiet
dotnet build bench/Strata.Bench.Tracking -c Release -nologo -v quiet
dotnet build bench/Strata.Bench.Dashboard -c Release -nologo -v quiet
TRACKING=(dotnet "$ROOT/bench/Strata.Bench.Tracking/bin/Release/net10.0/tracking-bench.dll")
DASHBOARD=(dotnet "$ROOT/bench/Strata.Bench.Dashboard/bin/Release/net10.0/dashboard-bench.dll")
mkdir -p "$WORK/data/registry"
EXPERIMENT=$("${TRACKING[@]}" load --db "$WORK/data/registry/tracking.db" --runs "$RUNS")
PORT=$(free_port)
dotnet "$ROOT/src/Strata.Cli/bin/Release/net10.0/strata.dll" up --port "$PORT" --data-dir "$WORK/data" > "$WORK/strata.log" 2>&1 & PIDS+=($!)
for _ in $(seq 600); do [ -s "$WORK/data/api-key" ] && break; sleep 0.5; done
KEY="$(cat "$WORK/data/api-key")"
wait_ready "http://127.0.0.1:$PORT" /health/ready
"${DASHBOARD[@]}" versions --url "http://127.0.0.1:$PORT/" --key "$KEY" --model bench-model --count "$VERSIONS"
"${DASHBOARD[@]}" measure --url "http://127.0.0.1:$PORT/" --key "$KEY" --model bench-model --count "$VERSIONS" --experiment "$EXPERIMENT" --loads "$LOADS" > "$WORK/dashboard.json"
stop "${PIDS[0]}"
python3 bench/dashboard_report.py "$WORK" "$RUNS" "$VERSIONS"
