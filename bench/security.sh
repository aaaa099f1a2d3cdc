#!/usr/bin/env bash
# Security benchmark (issue 19): what authentication and rate limiting cost the hot paths, measured in one run on this machine, loopback
# only, bounded in time. Two monoliths on the same seed model: one as shipped (every request authenticated with an API
# key, authorized and counted against its rate limit), one with the scoring routes opened (Strata:Security:PublicRoutes), the peer. Both receive the
# same bytes (the key header), so the difference is the checking alone. Rounds alternate between the two (this VM's
# speed drifts within a run); the report takes medians.
#   POST /predict and POST /v2/models/seed/infer, one row, wrk 1 thread pinned to the last core, 32 connections.
# Writes bench/results/security-<stamp>.{json,md} and the block in bench/README.md <!-- bench:security -->.
# Usage: bench/security.sh   (DURATION=10s WARMUP=5s ROUNDS=3 by default)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-10s}"; WARMUP="${WARMUP:-5s}"; ROUNDS="${ROUNDS:-3}"
WORK="$(mktemp -d /tmp/strata-security-XXXXXX)"
source "$ROOT/bench/lib.sh"
ensure_wrk
build_strata

scoring_lua "$WORK"
WRK=(taskset -c "$(( $(nproc) - 1 ))" wrk -t1)

start() { # name extra-env...; prints the URL
  local name="$1"; shift
  local port; port=$(free_port)
  env "$@" "${STRATA[@]}" up --port "$port" --data-dir "$WORK/$name" > "$WORK/$name.log" 2>&1 & PIDS+=("$!"); echo "$!" > "$WORK/$name.pid"
  wait_ready "http://127.0.0.1:$port" /health/ready; until grep -q "stop: Ctrl-C" "$WORK/$name.log"; do sleep 0.2; done
  echo "http://127.0.0.1:$port"
}
# 'on' also runs a rate limit (a bucket per key that this load never empties): the limiter's work is measured, not its refusals.
ON=$(start on Strata__Limits__Rates__predict__PerSecond=10000000 Strata__Limits__Rates__predict__Burst=10000000)
OFF=$(start off "Strata__Security__PublicRoutes__0=POST /predict" "Strata__Security__PublicRoutes__1=POST /v2/models/{name}/infer")
# One key for both: the 'off' server ignores it on its public routes, the 'on' server checks it.
strata_key "$WORK/on"
for url in "$ON" "$OFF"; do
  curl -sf -X POST "$url/predict" -H 'Content-Type: application/json' -d '{"age": 35, "income": 50000}' >&2; echo >&2
done
# Without the key: the shipped server refuses, the opened one answers (what the peer measures is what it claims).
test "$(command curl -s -o /dev/null -w '%{http_code}' -X POST "$ON/predict" -H 'Content-Type: application/json' -d '{"age": 35, "income": 50000}')" = 401
test "$(command curl -s -o /dev/null -w '%{http_code}' -X POST "$OFF/predict" -H 'Content-Type: application/json' -d '{"age": 35, "income": 50000}')" = 200

for target in predict:/predict infer:/v2/models/seed/infer; do
  script="${target%%:*}"; path="${target#*:}"
  for arm in on off; do url=$ON; [ "$arm" = off ] && url=$OFF; "${WRK[@]}" -c32 -d"$WARMUP" -s "$WORK/$script.lua" "$url$path" >/dev/null; done
  for round in $(seq "$ROUNDS"); do
    for arm in on off; do
      url=$ON; [ "$arm" = off ] && url=$OFF
      out="$WORK/${script}_$arm.wrk"; [ "$round" -gt 1 ] && out="$WORK/${script}_$arm~$round.wrk"
      "${WRK[@]}" -c32 -d"$DURATION" --latency -s "$WORK/$script.lua" "$url$path" > "$out"
      echo "$script $arm round $round: $(grep -E 'Requests/sec' "$out")" >&2
    done
  done
done
stop "$(cat "$WORK/on.pid")"; stop "$(cat "$WORK/off.pid")"
python3 "$ROOT/bench/security_report.py" "$WORK"
