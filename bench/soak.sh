#!/usr/bin/env bash
# Soak (issue 24): SOAK_MINUTES (10) of mixed load on one monolith, loopback only, bounded in time: scoring with wrk
# (1 thread pinned to the last core, 16 connections, one window per minute), feature pushes (online and offline, new
# users each time), event publishes (batches of 50 to a topic of its own), and a training every 30 s (register, no
# promotion). Reports the errors of every kind (target 0), p99 of scoring per minute, and the server's RSS growth:
# the median of its readings (every 5 s) over the last two minutes against their median over minutes 2-3, warm
# (target <= 5%); and, as before, the single readings at the end of minute 2 and at the end.
# Writes bench/results/soak-<stamp>.{json,md} and the block in bench/README.md <!-- bench:soak -->.
# Usage: bench/soak.sh   (SOAK_MINUTES=10)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MINUTES="${SOAK_MINUTES:-10}"
WORK="$(mktemp -d /tmp/strata-soak-XXXXXX)"
source "$ROOT/bench/lib.sh"
ensure_wrk
build_strata
scoring_lua "$WORK"
PORT=$(free_port); URL="http://127.0.0.1:$PORT"
"${STRATA[@]}" up --port "$PORT" --data-dir "$WORK/data" > "$WORK/strata.log" 2>&1 & PIDS+=("$!"); SERVER=$!
until grep -q "stop: Ctrl-C" "$WORK/strata.log"; do kill -0 "$SERVER" || { cat "$WORK/strata.log" >&2; exit 1; }; sleep 0.5; done
strata_key "$WORK/data"
TOKEN="$(cat "$WORK/data/security/service-token")"
START=$(date +%s); END=$(( START + MINUTES * 60 ))
# The server's RSS every 5 s (one reading a minute swings by tens of MB with each training and GC).
( while [ "$(date +%s)" -lt "$END" ]; do echo "$(( $(date +%s) - START )) $(ps -o rss= -p "$SERVER" | tr -d ' ')"; sleep 5; done > "$WORK/rss-samples.txt" ) & PIDS+=("$!")

# Writers: each appends "ok" or "error <status>" per request to its own file.
( i=0; while [ "$(date +%s)" -lt "$END" ]; do i=$((i + 1))
    body=$(printf '{"push_source_name":"user_profiles","df":{"user_id":[%d,%d],"event_timestamp":["%s","%s"],"age":[30,40],"income":[50000,60000]},"to":"online_and_offline"}' \
      $((i * 2)) $((i * 2 + 1)) "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)")
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/features/push" -H 'Content-Type: application/json' -d "$body")
    [ "$code" = 200 ] && echo ok || echo "error $code"; sleep 0.05; done > "$WORK/pushes.txt" ) & PIDS+=("$!")
( i=0; while [ "$(date +%s)" -lt "$END" ]; do i=$((i + 1))
    msgs=$(python3 -c "import json,sys; i=int(sys.argv[1]); print(json.dumps({'messages':[{'id':f'soak-{i}-{j}','key':str(j%8),'target_group':None,'event':{'specversion':'1.0','id':f'soak-{i}-{j}','type':'com.example.soak','source':'/soak','datacontenttype':'application/json','data':{'n':j}}} for j in range(50)]}))" "$i")
    code=$(command curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/events/topics/soak.events/messages" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$msgs")
    [ "$code" = 200 ] && echo ok || echo "error $code"; sleep 0.1; done > "$WORK/publishes.txt" ) & PIDS+=("$!")
( while [ "$(date +%s)" -lt "$END" ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/training/train" -H 'Content-Type: application/json' -d '{"model":"soak","trees":20,"alias":null}')
    [ "$code" = 200 ] && echo ok || echo "error $code"; sleep 30; done > "$WORK/trainings.txt" ) & PIDS+=("$!")

for minute in $(seq "$MINUTES"); do
  left=$(( END - $(date +%s) )); [ "$left" -lt 5 ] && break
  window=$(( left < 60 ? left : 60 ))
  taskset -c "$(( $(nproc) - 1 ))" wrk -t1 -c16 -d"${window}s" --latency -s "$WORK/predict.lua" "$URL/predict" > "$WORK/minute-$(printf %02d "$minute").wrk"
  echo "$minute $(ps -o rss= -p "$SERVER" | tr -d ' ')" >> "$WORK/rss.txt"
  echo "minute $minute: $(grep Requests/sec "$WORK/minute-$(printf %02d "$minute").wrk") rss $(tail -1 "$WORK/rss.txt" | cut -d' ' -f2) kB" >&2
done
sleep 2
stop "$SERVER"
python3 "$ROOT/bench/soak_report.py" "$WORK" "$MINUTES"
