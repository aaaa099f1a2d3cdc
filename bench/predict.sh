#!/usr/bin/env bash
# POST /predict single-row benchmark, all contenders measured in one run on this machine:
#   (a) Strata monolith   (b) Strata microservices through the gateway
#   (c) the seed's Flask + scikit-learn monolith (../shared/peers/seed-monolith/run.sh)
#   (d) a bare Kestrel endpoint parsing the same JSON and answering a constant (the HTTP ceiling)
# Each runs alone, gets a warm-up, then wrk (loopback, bounded: DURATION, CONNECTIONS) measures it.
# Writes bench/results/predict-<stamp>.json and .md and refreshes the table in bench/README.md.
# Usage: bench/predict.sh            (DURATION=15s CONNECTIONS=32 THREADS=2 by default)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-15s}"; CONNECTIONS="${CONNECTIONS:-32}"; THREADS="${THREADS:-2}"; WARMUP="${WARMUP:-5s}"
PEER="${PEER:-$ROOT/../shared/peers/seed-monolith/run.sh}"
WORK="$(mktemp -d /tmp/strata-bench-XXXXXX)"
source "$ROOT/bench/lib.sh"
ensure_wrk
dotnet build src/Strata.Cli -c Release -nologo -v quiet
dotnet build bench/Strata.Bench.BareKestrel -c Release -nologo -v quiet
STRATA=(dotnet "$ROOT/src/Strata.Cli/bin/Release/net10.0/strata.dll")
# The compiler and MSBuild servers a build leaves running would share the cores with the first measurements.
dotnet build-server shutdown >/dev/null 2>&1 || true

cat > "$WORK/infer.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [35]}, {"name": "income", "shape": [1], "datatype": "FP64", "data": [50000]}]}'
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("STRATA_API_KEY")
if key then wrk.headers["Authorization"] = "Bearer " .. key end
LUA
cat > "$WORK/predict.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"age": 35, "income": 50000}'
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("STRATA_API_KEY")
if key then wrk.headers["Authorization"] = "Bearer " .. key end
LUA

measure() { # name url [path] [script]
  local name="$1" url="$2" path="${3:-/predict}" script="${4:-predict.lua}"
  local body; body=$(sed -n "s/^wrk.body = '\\(.*\\)'$/\\1/p" "$WORK/$script")
  local check; check=$(curl -s -X POST "$url$path" -H 'Content-Type: application/json' -d "$body")
  echo "$name: $check" >&2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$WORK/$script" "$url$path" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/$script" "$url$path" > "$WORK/$name.wrk"
  cat "$WORK/$name.wrk" >&2
}

# (a) Strata monolith
P=$(free_port); "${STRATA[@]}" up --port "$P" --data-dir "$WORK/mono" > "$WORK/mono.log" 2>&1 & PID=$!; PIDS+=("$PID")
wait_ready "http://127.0.0.1:$P" /health/ready; until grep -q "stop: Ctrl-C" "$WORK/mono.log"; do sleep 0.2; done
strata_key "$WORK/mono"
measure strata_monolith "http://127.0.0.1:$P"
measure strata_monolith_v2_infer "http://127.0.0.1:$P" /v2/models/seed/infer infer.lua; stop "$PID"

# (b) Strata microservices through the gateway
P=$(free_port); "${STRATA[@]}" up --topology microservices --port "$P" --data-dir "$WORK/micro" > "$WORK/micro.log" 2>&1 & PID=$!; PIDS+=("$PID")
wait_ready "http://127.0.0.1:$P" /health/ready; until grep -q "stop: Ctrl-C" "$WORK/micro.log"; do sleep 0.2; done
strata_key "$WORK/micro"
measure strata_microservices "http://127.0.0.1:$P"; stop "$PID"

# (c) the seed's own monolith (Flask + scikit-learn under gunicorn, 2 workers)
P=$(free_port); PORT="$P" PEER_STATE="$WORK/peer" bash "$PEER" >&2
PIDS+=("$(cat "$WORK/peer/pid")")
measure seed_flask_monolith "http://127.0.0.1:$P"; stop "$(cat "$WORK/peer/pid")"

# (d) bare Kestrel
P=$(free_port); dotnet "$ROOT/bench/Strata.Bench.BareKestrel/bin/Release/net10.0/bare-kestrel.dll" "$P" >/dev/null 2>&1 & PID=$!; PIDS+=("$PID")
until curl -s -o /dev/null "http://127.0.0.1:$P/"; do sleep 0.2; done
measure bare_kestrel "http://127.0.0.1:$P"; stop "$PID"

python3 "$ROOT/bench/report.py" "$WORK" "$DURATION" "$CONNECTIONS" "$THREADS"
