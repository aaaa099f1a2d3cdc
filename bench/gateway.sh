#!/usr/bin/env bash
# The gateway hop (issue 20): what the microservices topology (gateway -> serving over mutual TLS and HTTP/2, as shipped)
# adds to the monolith, and the same with HTTP/1.1 between gateway and modules, on this machine, loopback only, bounded in time. Two `strata up` on the same seed, both with the
# profiles of 1,000 users pushed online; rounds alternate between them; the report takes medians.
#   Open loop (bench/Strata.Bench.OpenLoop, what wrk2 does): RATE requests/s for OPEN_SECONDS, latency of each from its send;
#     the gateway's added p50/p99 = microservices minus monolith (target: <= 0.3 ms p50 at 1,000 req/s).
#   Saturation (wrk, 1 thread pinned to the last core, 32 connections): microservices / monolith throughput (target >= 0.5).
# Both on POST /predict with a row ({"age", "income"}) and by entity ({"user_id": N}: serving -> features).
# Writes bench/results/gateway-<stamp>.{json,md} and the block in bench/README.md <!-- bench:gateway -->.
# Usage: bench/gateway.sh   (RATE=1000 OPEN_SECONDS=15 DURATION=10s WARMUP=5s ROUNDS=3; the open loop warms up 3 s first)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RATE="${RATE:-1000}"; OPEN_SECONDS="${OPEN_SECONDS:-15}"; DURATION="${DURATION:-10s}"; WARMUP="${WARMUP:-5s}"; ROUNDS="${ROUNDS:-3}"
WORK="$(mktemp -d /tmp/strata-gateway-XXXXXX)"
source "$ROOT/bench/lib.sh"
ensure_wrk
build_strata
dotnet build "$ROOT/bench/Strata.Bench.OpenLoop" -c Release -nologo -v quiet
OPEN=(dotnet "$ROOT/bench/Strata.Bench.OpenLoop/bin/Release/net10.0/open-loop.dll")
WRK=(taskset -c "$(( $(nproc) - 1 ))" wrk -t1)
ROW='{"age": 35, "income": 50000}'
{ echo 'wrk.method = "POST"'; echo "wrk.body = '$ROW'"; echo 'wrk.headers["Content-Type"] = "application/json"'; wrk_auth_lua; } > "$WORK/row.lua"
{ echo 'wrk.method = "POST"'; echo 'wrk.headers["Content-Type"] = "application/json"'; wrk_auth_lua
  echo 'local n = 0'; echo 'request = function() n = n % 1000 + 1; return wrk.format(nil, nil, nil, string.format("{\"user_id\": %d}", n)) end'; } > "$WORK/entity.lua"

start() { # name topology [env...]; prints the URL
  local name="$1" topology="$2"; shift 2
  local port; port=$(free_port)
  env "$@" "${STRATA[@]}" up --topology "$topology" --port "$port" --data-dir "$WORK/$name" > "$WORK/$name.log" 2>&1 & PIDS+=("$!"); echo "$!" > "$WORK/$name.pid"
  until grep -q "stop: Ctrl-C" "$WORK/$name.log"; do kill -0 "$(cat "$WORK/$name.pid")" || { cat "$WORK/$name.log" >&2; exit 1; }; sleep 0.5; done
  echo "http://127.0.0.1:$port"
}
MONO=$(start monolith monolith)
MICRO=$(start microservices microservices)
# The same with HTTP/1.1 between the gateway and the modules (the default before HTTP/2 measured better).
H11=$(start h11 microservices Strata__Gateway__ModuleHttpVersion=1.1)
url_of() { case "$1" in monolith) echo "$MONO" ;; microservices) echo "$MICRO" ;; h11) echo "$H11" ;; esac; }
users=$(python3 -c 'import json; n=1000; print(json.dumps({"push_source_name": "user_profiles", "df": {"user_id": list(range(1, n+1)), "event_timestamp": ["2026-01-01T00:00:00Z"]*n, "age": [20 + i % 50 for i in range(n)], "income": [30000 + 37 * i for i in range(n)]}, "to": "online"}))')
for arm in monolith microservices h11; do
  url=$(url_of $arm)
  export STRATA_API_KEY; STRATA_API_KEY=$(cat "$WORK/$arm/api-key")
  curl -sf -X POST "$url/api/features/push" -H 'Content-Type: application/json' -d "$users" > /dev/null
  curl -sf -X POST "$url/predict" -H 'Content-Type: application/json' -d '{"user_id": 7}' >&2; echo >&2
done

for target in row entity; do
  body=$ROW; [ "$target" = entity ] && body='{"user_id": 7}'
  for arm in monolith microservices h11; do url=$(url_of $arm)
    STRATA_API_KEY=$(cat "$WORK/$arm/api-key") "${WRK[@]}" -c32 -d"$WARMUP" -s "$WORK/$target.lua" "$url/predict" > /dev/null; done
  for round in $(seq "$ROUNDS"); do
    for arm in monolith microservices h11; do
      url=$(url_of $arm)
      STRATA_API_KEY=$(cat "$WORK/$arm/api-key") "${OPEN[@]}" "$url/predict" "$RATE" "$OPEN_SECONDS" "$body" > "$WORK/open_${target}_${arm}_$round.json"
      echo "open $target $arm round $round: $(cat "$WORK/open_${target}_${arm}_$round.json")" >&2
      STRATA_API_KEY=$(cat "$WORK/$arm/api-key") "${WRK[@]}" -c32 -d"$DURATION" --latency -s "$WORK/$target.lua" "$url/predict" > "$WORK/sat_${target}_${arm}_$round.wrk"
      echo "saturation $target $arm round $round: $(grep -E 'Requests/sec' "$WORK/sat_${target}_${arm}_$round.wrk")" >&2
    done
  done
done
stop "$(cat "$WORK/monolith.pid")"; stop "$(cat "$WORK/microservices.pid")"; stop "$(cat "$WORK/h11.pid")"
python3 "$ROOT/bench/gateway_report.py" "$WORK" "$RATE"
