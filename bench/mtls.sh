#!/usr/bin/env bash
# Mutual TLS benchmark (issue 19): what TLS between the gateway and the modules costs scoring in the microservices
# topology, measured in one run on this machine, loopback only, bounded in time. Two `strata up --topology
# microservices` on the same seed: one as shipped (every module port TLS only, client certificates checked, the gateway
# calling serving with its certificate), one with Strata__Security__Mtls__Enabled=false (plain HTTP between the
# processes), the peer. Both authenticate the same way. Rounds alternate between the two; the report takes medians.
#   POST /predict and POST /v2/models/seed/infer through the gateway, one row, wrk 1 thread pinned to the last core, 32 connections.
# Also counted: the gateway's open connections to serving after the load (connection reuse is what keeps the ratio close
# to 1: a handshake per connection, not per request).
# Writes bench/results/mtls-<stamp>.{json,md} and the block in bench/README.md <!-- bench:mtls -->.
# Usage: bench/mtls.sh   (DURATION=10s WARMUP=5s ROUNDS=3 by default)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-10s}"; WARMUP="${WARMUP:-5s}"; ROUNDS="${ROUNDS:-3}"
WORK="$(mktemp -d /tmp/strata-mtls-XXXXXX)"
source "$ROOT/bench/lib.sh"
ensure_wrk
build_strata
scoring_lua "$WORK"
WRK=(taskset -c "$(( $(nproc) - 1 ))" wrk -t1)

start() { # name extra-env...; prints the URL
  local name="$1"; shift
  local port; port=$(free_port)
  env "$@" "${STRATA[@]}" up --topology microservices --port "$port" --data-dir "$WORK/$name" > "$WORK/$name.log" 2>&1 & PIDS+=("$!"); echo "$!" > "$WORK/$name.pid"
  until grep -q "stop: Ctrl-C" "$WORK/$name.log"; do kill -0 "$(cat "$WORK/$name.pid")" || { cat "$WORK/$name.log" >&2; exit 1; }; sleep 0.5; done
  echo "http://127.0.0.1:$port"
}
MTLS=$(start mtls)
PLAIN=$(start plain Strata__Security__Mtls__Enabled=false)
key_of() { cat "$WORK/$1/api-key"; }
serving_port() { sed -n 's/.*│ serving *│ https\?:\/\/127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$WORK/$1.log"; }
grep -q "https://127.0.0.1:$(serving_port mtls)/" "$WORK/mtls.log"
grep -q "http://127.0.0.1:$(serving_port plain)/" "$WORK/plain.log"
for arm in mtls plain; do
  url=$MTLS; [ "$arm" = plain ] && url=$PLAIN
  STRATA_API_KEY=$(key_of $arm) curl -sf -X POST "$url/predict" -H 'Content-Type: application/json' -d '{"age": 35, "income": 50000}' >&2; echo >&2
done
# The shipped module port refuses plain HTTP (what the peer measures is what it claims).
! command curl -s -m 5 -o /dev/null "http://127.0.0.1:$(serving_port mtls)/health/live"

for target in predict:/predict infer:/v2/models/seed/infer; do
  script="${target%%:*}"; path="${target#*:}"
  for arm in mtls plain; do url=$MTLS; [ "$arm" = plain ] && url=$PLAIN
    STRATA_API_KEY=$(key_of $arm) "${WRK[@]}" -c32 -d"$WARMUP" -s "$WORK/$script.lua" "$url$path" >/dev/null; done
  for round in $(seq "$ROUNDS"); do
    for arm in mtls plain; do
      url=$MTLS; [ "$arm" = plain ] && url=$PLAIN
      out="$WORK/${script}_$arm.wrk"; [ "$round" -gt 1 ] && out="$WORK/${script}_$arm~$round.wrk"
      STRATA_API_KEY=$(key_of $arm) "${WRK[@]}" -c32 -d"$DURATION" --latency -s "$WORK/$script.lua" "$url$path" > "$out"
      echo "$script $arm round $round: $(grep -E 'Requests/sec' "$out")" >&2
    done
  done
done
for arm in mtls plain; do
  ss -Htn state established "( dport = :$(serving_port $arm) )" | wc -l > "$WORK/$arm.connections"
done
stop "$(cat "$WORK/mtls.pid")"; stop "$(cat "$WORK/plain.pid")"
python3 "$ROOT/bench/mtls_report.py" "$WORK"
