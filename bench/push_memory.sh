#!/usr/bin/env bash
# Memory of large feature pushes (issue 24: a 46 MB push of a million rows took RSS from 0.4 to 1.6 GB). One monolith
# on loopback; pushes of ROWS rows (1,000,000 by default, about 46 MB of JSON) to the seed's user_profiles source, online
# and offline, PUSHES times (3). Reports the body size, the server's RSS before, its peak RSS (VmHWM) after each push and
# the peak's growth as a multiple of the body size; the stated bound is 8x the body (docs/features.md).
# Writes bench/results/push-memory-<stamp>.json and prints a table.
# Usage: bench/push_memory.sh   (ROWS=1000000 PUSHES=3)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
ROWS="${ROWS:-1000000}"; PUSHES="${PUSHES:-3}"; TO="${TO:-online_and_offline}"
WORK="$(mktemp -d /tmp/strata-pushmem-XXXXXX)"
source "$ROOT/bench/lib.sh"
build_strata
python3 - "$WORK/push.json" "$ROWS" "$TO" <<'PY'
import json, sys, datetime
path, rows, to = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ts = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
json.dump({"push_source_name": "user_profiles", "to": to, "df": {"user_id": list(range(rows)), "event_timestamp": [ts] * rows,
    "age": [20 + i % 60 for i in range(rows)], "income": [30000.5 + (i % 1000) * 70 for i in range(rows)]}}, open(path, "w"))
PY
PORT=$(free_port); URL="http://127.0.0.1:$PORT"
"${STRATA[@]}" up --port "$PORT" --data-dir "$WORK/data" > "$WORK/strata.log" 2>&1 & PIDS+=("$!"); SERVER=$!
until grep -q "stop: Ctrl-C" "$WORK/strata.log"; do kill -0 "$SERVER" || { cat "$WORK/strata.log" >&2; exit 1; }; sleep 0.5; done
strata_key "$WORK/data"
sleep 5
kb() { grep "^$1:" "/proc/$SERVER/status" | awk '{print $2}'; }
BODY=$(stat -c %s "$WORK/push.json")
BEFORE=$(kb VmRSS)
echo "[]" > "$WORK/pushes.json"
for i in $(seq "$PUSHES"); do
  start=$(date +%s.%N)
  code=$(curl -s -o "$WORK/answer.json" -w '%{http_code}' -X POST "$URL/api/features/push" -H 'Content-Type: application/json' --data-binary "@$WORK/push.json")
  seconds=$(python3 -c "import time; print(round(time.time() - $start, 2))")
  python3 - "$WORK/pushes.json" "$code" "$seconds" "$(kb VmRSS)" "$(kb VmHWM)" <<'PY'
import json, sys
path, code, seconds, rss, hwm = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
pushes = json.load(open(path)); pushes.append({"status": code, "seconds": seconds, "rss_kb": rss, "peak_kb": hwm}); json.dump(pushes, open(path, "w"))
PY
  echo "push $i: HTTP $code in ${seconds}s, RSS $(kb VmRSS) kB, peak $(kb VmHWM) kB" >&2
done
stop "$SERVER"
mkdir -p bench/results
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
python3 - "$WORK/pushes.json" "$ROWS" "$BODY" "$BEFORE" "bench/results/push-memory-$STAMP.json" "$(git rev-parse --short HEAD)" <<'PY'
import json, sys
pushes, rows, body, before, out, rev = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
peak = max(p["peak_kb"] for p in pushes)
result = {"commit": rev, "rows": rows, "body_bytes": body, "rss_before_kb": before, "pushes": pushes, "peak_kb": peak,
    "peak_growth_over_body": round((peak - before) * 1024 / body, 2), "errors": sum(p["status"] != 200 for p in pushes)}
json.dump(result, open(out, "w"), indent=2)
print(f"| rows | body | RSS before | peak RSS | growth / body | seconds per push | errors |\n|---|---|---|---|---|---|---|")
print(f"| {rows:,} | {body / 1e6:.1f} MB | {before / 1024:.0f} MB | {peak / 1024:.0f} MB | {result['peak_growth_over_body']}x | "
      f"{', '.join(str(p['seconds']) for p in pushes)} | {result['errors']} |")
PY
