#!/usr/bin/env bash
# Feature store benchmarks, measured in one run on this machine:
#   online:     HTTP POST /api/features/get-online-features for the fraud_detection service (50 features: 14 sliding-window
#               aggregates, a 4-feature profile, a 32-dimension embedding) for 1 and for 100 entities, with the embedded
#               and the Redis online store (a real redis-server on loopback). Latency p50/p99 at RATE requests/s (open
#               loop, as Feast publishes its figures) and from one closed-loop wrk connection; max requests/s from wrk at
#               CONNECTIONS connections.
#   offline:    point-in-time retrieval of 1,000,000 entity rows against 10,000,000 feature rows (100,000 entities), with
#               the raw DuckDB ASOF LEFT JOIN of the same files as the limit; materialisation of MATERIALIZE rows into
#               the embedded store and into Redis (bench/Strata.Bench.FeatureStore).
# Writes bench/results/features-<stamp>.{json,md} and the table in bench/README.md. Bounded: every load stops by itself.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-10s}"; CONNECTIONS="${CONNECTIONS:-32}"; THREADS="${THREADS:-2}"; WARMUP="${WARMUP:-3s}"
CARDS="${CARDS:-10000}"; MATERIALIZE="${MATERIALIZE:-10000000}"; RATE="${RATE:-100}"
WORK="$(mktemp -d /tmp/strata-bench-features-XXXXXX)"
source "$ROOT/bench/lib.sh" # stops what it starts, free ports, and the key helpers (strata_key, wrk_auth_lua)

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
dotnet build src/Strata.Cli -c Release -nologo -v quiet
dotnet build bench/Strata.Bench.FeatureStore -c Release -nologo -v quiet
STRATA=(dotnet "$ROOT/src/Strata.Cli/bin/Release/net10.0/strata.dll")


# Push bodies for CARDS cards: one profile, one embedding, ten transactions in the last hour each.
python3 "$ROOT/bench/features_bodies.py" "$WORK" "$CARDS"

RP=$(free_port); mkdir -p "$WORK/redis"
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" --daemonize no --loglevel warning > "$WORK/redis.log" 2>&1 & PIDS+=("$!")
until redis-cli -p "$RP" ping >/dev/null 2>&1; do sleep 0.1; done

for store in embedded redis; do
  P=$(free_port)
  Strata__Features__OnlineStore="$store" Strata__Features__Redis="127.0.0.1:$RP" \
    "${STRATA[@]}" up --port "$P" --data-dir "$WORK/$store" > "$WORK/$store.log" 2>&1 & PID=$!; PIDS+=("$PID")
  until grep -q "stop: Ctrl-C" "$WORK/$store.log"; do kill -0 "$PID" || { cat "$WORK/$store.log"; exit 1; }; sleep 0.2; done
  strata_key "$WORK/$store" # curl, wrk (below) and the paced client send the data directory's first admin key
  for n in 1 100; do grep -q Authorization "$WORK/online_$n.lua" || wrk_auth_lua >> "$WORK/online_$n.lua"; done
  for f in profiles embeddings transactions; do
    curl -sf -X POST "http://127.0.0.1:$P/api/features/push" -H 'Content-Type: application/json' --data-binary "@$WORK/$f.json" >&2; echo >&2
  done
  for n in 1 100; do
    curl -s -X POST "http://127.0.0.1:$P/api/features/get-online-features" -H 'Content-Type: application/json' --data-binary "@$WORK/online_$n.json" \
      | python3 -c 'import json,sys; r=json.load(sys.stdin); s=[x for v in r["results"] for x in v["statuses"]]; print("check:", len(r["results"]), "columns,", s.count("PRESENT"), "of", len(s), "present")' >&2
    wrk -t1 -c1 -d"$WARMUP" -s "$WORK/online_$n.lua" "http://127.0.0.1:$P/api/features/get-online-features" >/dev/null
    wrk -t1 -c1 -d"$DURATION" --latency -s "$WORK/online_$n.lua" "http://127.0.0.1:$P/api/features/get-online-features" > "$WORK/${store}_${n}x50_c1.wrk"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/online_$n.lua" "http://127.0.0.1:$P/api/features/get-online-features" > "$WORK/${store}_${n}x50_c${CONNECTIONS}.wrk"
    dotnet "$ROOT/bench/Strata.Bench.FeatureStore/bin/Release/net10.0/feature-store-bench.dll" paced \
      "http://127.0.0.1:$P/api/features/get-online-features" "$WORK/online_$n.json" "$RATE" "${DURATION%s}" > "$WORK/${store}_${n}x50_paced.json"
    grep -E "Latency|Requests/sec| 99%" "$WORK/${store}_${n}x50_c1.wrk" "$WORK/${store}_${n}x50_c${CONNECTIONS}.wrk" >&2; cat "$WORK/${store}_${n}x50_paced.json" >&2
  done
  stop "$PID"
done

# The floor of this machine for the same measurements: a bare Kestrel endpoint parsing a small JSON body.
dotnet build bench/Strata.Bench.BareKestrel -c Release -nologo -v quiet
P=$(free_port); dotnet "$ROOT/bench/Strata.Bench.BareKestrel/bin/Release/net10.0/bare-kestrel.dll" "$P" >/dev/null 2>&1 & PID=$!; PIDS+=("$PID")
until curl -s -o /dev/null "http://127.0.0.1:$P/"; do sleep 0.2; done
echo '{"age": 35, "income": 50000}' > "$WORK/bare.json"
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' "'{\"age\": 35, \"income\": 50000}'" > "$WORK/bare.lua"
wrk -t1 -c1 -d"$WARMUP" -s "$WORK/bare.lua" "http://127.0.0.1:$P/predict" >/dev/null
wrk -t1 -c1 -d"$DURATION" --latency -s "$WORK/bare.lua" "http://127.0.0.1:$P/predict" > "$WORK/bare_c1.wrk"
dotnet "$ROOT/bench/Strata.Bench.FeatureStore/bin/Release/net10.0/feature-store-bench.dll" paced "http://127.0.0.1:$P/predict" "$WORK/bare.json" "$RATE" "${DURATION%s}" > "$WORK/bare_paced.json"
stop "$PID"

dotnet "$ROOT/bench/Strata.Bench.FeatureStore/bin/Release/net10.0/feature-store-bench.dll" --materialize "$MATERIALIZE" --redis "127.0.0.1:$RP" > "$WORK/offline.json"
cat "$WORK/offline.json" >&2
python3 "$ROOT/bench/features_report.py" "$WORK" "$DURATION" "$CONNECTIONS" "$CARDS"
