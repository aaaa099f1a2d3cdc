#!/usr/bin/env bash
# Tracking benchmarks (MLflow REST API 2.0 on Strata), one run on this machine:
#   RUNS runs (default 100,000) with 50 metrics, 5 params and 2 tags each are loaded through the tracking store into a
#   fresh data directory; `strata up` serves it on loopback; over HTTP: runs/search with a metric + param filter (a
#   page of 100), the same ordered by a metric, and runs/log-batch of 1,000 metrics, QUERIES times each (p50/p95/p99).
#   No MLflow peer: MLflow's tracking server is a Python package, not installable here (no PyPI).
# Writes bench/results/tracking-<stamp>.{json,md} and the README table. Bounded: the server is stopped by pid.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-100000}"; QUERIES="${QUERIES:-200}"
WORK="$(mktemp -d /tmp/strata-bench-tracking-XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null || true; }
trap cleanup EXIT
dotnet build src/Strata.Cli -c Release -nologo -v quiet
dotnet build bench/Strata.Bench.Tracking -c Release -nologo -v quiet
BENCH=(dotnet "$ROOT/bench/Strata.Bench.Tracking/bin/Release/net10.0/tracking-bench.dll")
mkdir -p "$WORK/data/registry"
LOAD_START=$(date +%s)
EXPERIMENT=$("${BENCH[@]}" load --db "$WORK/data/registry/tracking.db" --runs "$RUNS")
LOAD_SECONDS=$(( $(date +%s) - LOAD_START ))
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
dotnet "$ROOT/src/Strata.Cli/bin/Release/net10.0/strata.dll" up --port "$PORT" --data-dir "$WORK/data" > "$WORK/strata.log" 2>&1 & PID=$!
for _ in $(seq 600); do curl -fsS "http://127.0.0.1:$PORT/api/2.0/mlflow/experiments/get?experiment_id=$EXPERIMENT" >/dev/null 2>&1 && break; sleep 0.5; done
"${BENCH[@]}" measure --url "http://127.0.0.1:$PORT/" --experiment "$EXPERIMENT" --queries "$QUERIES" > "$WORK/tracking.json"
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
du -sb "$WORK/data/registry" | cut -f1 > "$WORK/bytes.txt"
echo "$RUNS $LOAD_SECONDS" > "$WORK/load.txt"
python3 bench/tracking_report.py "$WORK"
rm -rf "$WORK"
