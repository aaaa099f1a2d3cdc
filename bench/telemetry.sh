#!/usr/bin/env bash
# What observability costs the scoring path (issue 21): three monoliths serving the seed model, interleaved rounds of
# wrk (1 thread pinned to the last core, 32 connections) on POST /predict:
#   off      Strata__Otel__Metrics=false: no meter listened to, no span recorded;
#   metrics  the default: every meter exported at /metrics (per route, per model and version, score histogram);
#   traced   metrics and tracing at the default sampling (1% of new traces, parent-based), spans recorded (no
#            collector runs here, so nothing is exported: the export itself is a background batch).
# Writes bench/results/telemetry-<stamp>.json and the block in bench/README.md.
# Usage: bash bench/telemetry.sh   (ROUNDS=3 D=8s)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
WORK="$(mktemp -d /tmp/strata-telemetry-XXXXXX)"
source "$ROOT/bench/lib.sh"
ensure_wrk
build_strata
scoring_lua "$WORK"
ROUNDS="${ROUNDS:-3}"; D="${D:-8s}"
WRK=(taskset -c "$(( $(nproc) - 1 ))" wrk -t1 -c32)
declare -A URL KEY
for arm in off metrics traced; do
  port=$(free_port)
  case "$arm" in
    off) env=(Strata__Otel__Metrics=false) ;;
    metrics) env=() ;;
    traced) env=(Strata__Otel__Tracing=true) ;;
  esac
  env "${env[@]}" "${STRATA[@]}" up --port "$port" --data-dir "$WORK/$arm" > "$WORK/$arm.log" 2>&1 & PIDS+=("$!")
  until grep -q "stop: Ctrl-C" "$WORK/$arm.log"; do sleep 0.3; done
  URL[$arm]="http://127.0.0.1:$port"; KEY[$arm]=$(cat "$WORK/$arm/api-key")
done
for arm in off metrics traced; do
  STRATA_API_KEY=${KEY[$arm]} "${WRK[@]}" -d3s -s "$WORK/predict.lua" "${URL[$arm]}/predict" > /dev/null
done
for round in $(seq "$ROUNDS"); do
  for arm in off metrics traced; do
    STRATA_API_KEY=${KEY[$arm]} "${WRK[@]}" -d"$D" --latency -s "$WORK/predict.lua" "${URL[$arm]}/predict" > "$WORK/$arm~$round.wrk"
    echo "round $round $arm: $(grep Requests/sec "$WORK/$arm~$round.wrk")" >&2
  done
done
# The metrics arm's scrape, to show what was measured is there.
STRATA_API_KEY=${KEY[metrics]} curl -s "${URL[metrics]}/metrics" | grep -c '^strata_serving_predictions_total' > "$WORK/series.txt" || true
python3 "$ROOT/bench/telemetry_report.py" "$WORK" "$D"
