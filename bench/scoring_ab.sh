#!/usr/bin/env bash
# A/B of the scoring path between two builds (BASE, NEW: their strata.dll) on the same seed: two monoliths, interleaved
# rounds of wrk (1 thread pinned to the last core, 32 connections, D each, 8s by default) on POST /predict and V2 infer,
# so the machine's drift falls on both alike. What a change to the request path costs; bench/serving.sh gives the
# absolute figures against bare Kestrel.
# Usage: BASE=<base clone>/src/Strata.Cli/bin/Release/net10.0/strata.dll bash bench/scoring_ab.sh   (ROUNDS=3)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/strata-scoring-ab-XXXXXX)"
BASE="${BASE:?set BASE to the strata.dll of the base build}"
NEW="${NEW:-$ROOT/src/Strata.Cli/bin/Release/net10.0/strata.dll}"
source "$ROOT/bench/lib.sh"
ensure_wrk
scoring_lua "$WORK"
WRK=(taskset -c "$(( $(nproc) - 1 ))" wrk -t1)
declare -A URL
for build in base new; do
  dll=$BASE; [ $build = new ] && dll=$NEW
  port=$(free_port); URL[$build]="http://127.0.0.1:$port"
  dotnet "$dll" up --port "$port" --data-dir "$WORK/$build" > "$WORK/$build.log" 2>&1 & PIDS+=("$!")
  until grep -q "stop: Ctrl-C" "$WORK/$build.log"; do sleep 0.3; done
done
key_of() { cat "$WORK/$1/api-key" 2>/dev/null || true; }
for target in predict:/predict infer:/v2/models/seed/infer; do
  script="${target%%:*}"; path="${target#*:}"
  for build in base new; do STRATA_API_KEY=$(key_of $build) "${WRK[@]}" -c32 -d3s -s "$WORK/$script.lua" "${URL[$build]}$path" >/dev/null; done
  for round in $(seq "${ROUNDS:-3}"); do
    for build in base new; do
      r=$(STRATA_API_KEY=$(key_of $build) "${WRK[@]}" -c32 -d"${D:-8s}" --latency -s "$WORK/$script.lua" "${URL[$build]}$path")
      echo "$script $build round $round: $(echo "$r" | grep Requests/sec | awk '{print $2}') req/s, p99 $(echo "$r" | grep ' 99%' | awk '{print $2}'), non-2xx $(echo "$r" | grep -c 'Non-2xx' || true)"
    done
  done
done
