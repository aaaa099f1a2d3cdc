#!/usr/bin/env bash
# What a traffic policy costs the scoring path (issue 20). A routed prediction is always logged (prediction.made, joined
# to outcomes by Monitoring), so two costs are told apart with two monoliths serving the seed model as v1 (champion)
# and v2 (the same artifact registered again), interleaved rounds of wrk (1 thread pinned to the last core, 32
# connections) on POST /predict and V2 infer:
#   sampled  monolith A, prediction log sampling one in a hundred (the default), no policy;
#   none     monolith B, every prediction logged (sample rate 1), no policy: the cost of logging every prediction;
#   rules    B + 3 header rules that never match + a 90/10 split of v1 and v2: the cost of routing;
#   shadow10 B + rules + a shadow of v2 on 10% of requests;
#   shadow   B + rules + a shadow of v2 on every request (scored on its own worker; when it falls behind its queue
#            drops copies, counted).
# Policies change between runs on the same process (in force within milliseconds). Writes
# bench/results/traffic-<stamp>.json and the block in bench/README.md.
# Usage: bash bench/traffic.sh   (ROUNDS=3 D=8s)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
WORK="$(mktemp -d /tmp/strata-traffic-XXXXXX)"
source "$ROOT/bench/lib.sh"
ensure_wrk
build_strata
scoring_lua "$WORK"
WRK=(taskset -c "$(( $(nproc) - 1 ))" wrk -t1)
PORT_A=$(free_port); URL_A="http://127.0.0.1:$PORT_A"
"${STRATA[@]}" up --port "$PORT_A" --data-dir "$WORK/a" > "$WORK/a.log" 2>&1 & PIDS+=("$!")
until grep -q "stop: Ctrl-C" "$WORK/a.log"; do sleep 0.3; done
PORT=$(free_port); URL="http://127.0.0.1:$PORT"
Strata__Serving__PredictionLogSampleRate=1 "${STRATA[@]}" up --port "$PORT" --data-dir "$WORK/data" > "$WORK/up.log" 2>&1 & PIDS+=("$!")
until grep -q "stop: Ctrl-C" "$WORK/up.log"; do sleep 0.3; done
strata_key "$WORK/data"
KEY_B=$STRATA_API_KEY; KEY_A=$(cat "$WORK/a/api-key")
# v2: the seed's v1 artifact registered again.
curl -s "$URL/api/registry/models/seed/versions/1" | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(json.dumps({k: v[k] for k in ["artifact_sha256", "format", "metrics", "params", "dataset_version", "feature_view", "feature_view_version", "feature_names"] if k in v}))' \
  > "$WORK/v2.json"
curl -sf -X POST "$URL/api/registry/models/seed/versions" -H 'Content-Type: application/json' -d @"$WORK/v2.json" >/dev/null

RULES='"rules": [{"header": "x-user-group", "exact": "beta", "target": {"version": 2}}, {"header": "x-canary", "present": true, "target": {"version": 2}}, {"header": "x-tenant", "prefix": "internal-", "target": {"version": 2}}], "split": [{"target": {"alias": "champion"}, "weight": 90}, {"target": {"version": 2}, "weight": 10}]'
policy() { # name: puts the policy in force and waits until serving has it
  local body
  case "$1" in
    none) curl -sf -X DELETE "$URL/api/registry/models/seed/traffic" > "$WORK/set.json" ;;
    rules) body="{$RULES}" ;;
    shadow10) body="{$RULES, \"shadow\": {\"target\": {\"version\": 2}, \"percent\": 10}}" ;;
    shadow) body="{$RULES, \"shadow\": {\"target\": {\"version\": 2}}}" ;;
  esac
  [ -n "${body:-}" ] && curl -sf -X PUT "$URL/api/registry/models/seed/traffic" -H 'Content-Type: application/json' -d "$body" > "$WORK/set.json"
  local want; want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["version"] if d.get("policy") else "None")' "$WORK/set.json")
  for _ in $(seq 200); do
    [ "$(curl -s "$URL/api/serving/traffic/seed" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("policy_version"))')" = "$want" ] && return 0
    sleep 0.05
  done
  echo "policy $1 not in force" >&2; return 1
}
: > "$WORK/runs.tsv"
for target in predict:/predict infer:/v2/models/seed/infer; do
  script="${target%%:*}"; path="${target#*:}"
  policy none; "${WRK[@]}" -c32 -d3s -s "$WORK/$script.lua" "$URL$path" >/dev/null
  STRATA_API_KEY=$KEY_A "${WRK[@]}" -c32 -d3s -s "$WORK/$script.lua" "$URL_A$path" >/dev/null
  for round in $(seq "${ROUNDS:-3}"); do
    for arm in sampled none rules shadow10 shadow; do
      if [ "$arm" = sampled ]; then
        r=$(STRATA_API_KEY=$KEY_A "${WRK[@]}" -c32 -d"${D:-8s}" --latency -s "$WORK/$script.lua" "$URL_A$path")
      else
        policy "$arm"
        r=$("${WRK[@]}" -c32 -d"${D:-8s}" --latency -s "$WORK/$script.lua" "$URL$path")
      fi
      rps=$(echo "$r" | awk '/Requests\/sec/ {print $2}')
      p99=$(echo "$r" | awk '$1 == "99%" {print $2}')
      bad=$(echo "$r" | awk '/Non-2xx/ {print $4}'); bad=${bad:-0}
      shadow=$(curl -s "$URL/api/serving/traffic/seed" | python3 -c 'import json,sys; s=json.load(sys.stdin).get("shadow") or {}; print(s.get("mirrored", 0), s.get("dropped", 0), s.get("agreement", ""))')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$script" "$arm" "$round" "$rps" "$p99" "$bad" "$shadow" | tee -a "$WORK/runs.tsv" >&2
    done
  done
done
python3 bench/traffic_report.py "$WORK/runs.tsv" "$(git rev-parse --short HEAD)"
