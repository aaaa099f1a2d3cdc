#!/usr/bin/env bash
# A/B of get-online-features between two builds (BASE, NEW: their strata.dll) on the same data: interleaved rounds of
# wrk at 32 connections (D each, 8s by default), so the machine's drift falls on both alike. What a change to the online
# path costs; bench/features.sh gives the absolute figures.
# Usage: BASE=<base clone>/src/Strata.Cli/bin/Release/net10.0/strata.dll bash bench/features_ab.sh   (STORES="embedded redis")
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/strata-features-ab-XXXXXX)"
BASE="${BASE:?set BASE to the strata.dll of the base build}"
NEW="${NEW:-$ROOT/src/Strata.Cli/bin/Release/net10.0/strata.dll}"
source "$ROOT/bench/lib.sh"
# The bodies of bench/features.sh (10,000 cards); requests present the key of the build's data directory (a build from
# before authentication has none and needs none).
python3 "$ROOT/bench/features_bodies.py" "$WORK" 10000
for n in 1 100; do wrk_auth_lua >> "$WORK/online_$n.lua"; done
key_of() { cat "$WORK/$1/api-key" 2>/dev/null || true; }
RP=$(free_port); mkdir -p "$WORK/redis"
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" --daemonize no --loglevel warning > "$WORK/redis.log" 2>&1 & PIDS+=("$!")
until redis-cli -p "$RP" ping >/dev/null 2>&1; do sleep 0.1; done
declare -A PORT
for store in ${STORES:-embedded redis}; do
  for build in base new; do
    dll=$BASE; [ $build = new ] && dll=$NEW
    P=$(free_port); PORT[$store-$build]=$P
    Strata__Features__OnlineStore="$store" Strata__Features__Redis="127.0.0.1:$RP" Strata__Features__RedisKeyPrefix="$build:" \
      dotnet "$dll" up --port "$P" --data-dir "$WORK/$store-$build" > "$WORK/$store-$build.log" 2>&1 & PIDS+=("$!")
    until grep -q "stop: Ctrl-C" "$WORK/$store-$build.log"; do sleep 0.2; done
    for f in profiles embeddings transactions; do STRATA_API_KEY=$(key_of "$store-$build") curl -sf -X POST "http://127.0.0.1:$P/api/features/push" -H 'Content-Type: application/json' --data-binary "@$WORK/$f.json" >/dev/null; done
  done
  for n in 1 100; do
    for build in base new; do STRATA_API_KEY=$(key_of "$store-$build") wrk -t1 -c1 -d3s -s "$WORK/online_$n.lua" "http://127.0.0.1:${PORT[$store-$build]}/api/features/get-online-features" >/dev/null; done
    for round in 1 2 3; do
      for build in base new; do
        r=$(STRATA_API_KEY=$(key_of "$store-$build") wrk -t2 -c32 -d${D:-8s} --latency -s "$WORK/online_$n.lua" "http://127.0.0.1:${PORT[$store-$build]}/api/features/get-online-features")
        echo "$store ${n}x50 $build round $round: $(echo "$r" | grep Requests/sec | awk '{print $2}') req/s, p99 $(echo "$r" | grep ' 99%' | awk '{print $2}')"
      done
    done
  done
done
