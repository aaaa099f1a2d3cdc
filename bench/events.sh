#!/usr/bin/env bash
# Event bus benchmarks, one run on this machine (bench/Strata.Bench.Events starts nats-server and redis-server on
# loopback and stops them): publish+consume throughput (256-byte payloads, one consumer group, through Strata's bus:
# CloudEvents envelopes, inbox, acks) and end-to-end latency p50/p99 at RATE events/s, for each backend; the raw
# brokers measured in the same run as the limit (bare NATS.Net JetStream publish/consume; StackExchange.Redis
# XADD/XREADGROUP/XACK; and redis-benchmark XADD, publish only).
# Writes bench/results/events-<stamp>.{json,md} and the table in bench/README.md. Bounded: every load stops by itself.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
EVENTS="${EVENTS:-1000000}"; RATE="${RATE:-1000}"; SECONDS_AT_RATE="${SECONDS_AT_RATE:-10}"
WORK="$(mktemp -d /tmp/strata-bench-events-XXXXXX)"
for p in nats-server redis-server; do
  command -v "$p" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null; }
done
dotnet build bench/Strata.Bench.Events -c Release -nologo -v quiet
dotnet bench/Strata.Bench.Events/bin/Release/net10.0/events-bench.dll --events "$EVENTS" --rate "$RATE" --seconds "$SECONDS_AT_RATE" > "$WORK/bus.json"

# redis-benchmark XADD with a 256-byte field, pipelined like the bus's batches, on a server of its own.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning --dir "$WORK" & RPID=$!
trap 'kill -TERM $RPID 2>/dev/null || true' EXIT
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
PAYLOAD=$(python3 -c 'print("y"*256)')
redis-benchmark -p "$PORT" -n "$EVENTS" -P 100 -c 4 -q XADD bench '*' body "$PAYLOAD" > "$WORK/redis-benchmark.txt" 2>&1 || true
kill -TERM $RPID; wait $RPID 2>/dev/null || true; trap - EXIT

python3 bench/events_report.py "$WORK"
