#!/usr/bin/env bash
# Tracking benchmarks (MLflow REST API 2.0 on Strata), one run on this machine:
#   RUNS runs (default 100,000) with 50 metrics, 5 params and 2 tags each are loaded through the tracking store into a
#   fresh data directory; `strata up` serves it on loopback; over HTTP: runs/search with a metric + param filter (a
#   page of 100), the same ordered by a metric, and runs/log-batch of 1,000 metrics, QUERIES times each (p50/p95/p99).
#   No MLflow peer: MLflow's tracking server is a Python package, not installable here (no PyPI).
#   STORE=sqlite (default) or STORE=postgres: the stores in a PostgreSQL server this script starts (Debian postgresql,
#   default durability, on a free loopback port, its cluster in the work folder; loaded by PARALLEL=4 writers with
#   synchronous_commit off for the load only) and stops by pid.
# Writes bench/results/tracking-<stamp>.{json,md} and the table in bench/README.md. Bounded: the server is stopped by pid.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-100000}"; QUERIES="${QUERIES:-200}"; STORE="${STORE:-sqlite}"
WORK="$(mktemp -d /tmp/strata-bench-tracking-XXXXXX)"
PID=""; PGPID=""
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null || true; [ -n "$PGPID" ] && kill -INT "$PGPID" 2>/dev/null || true; }
trap cleanup EXIT
dotnet build src/Strata.Cli -c Release -nologo -v quiet
dotnet build bench/Strata.Bench.Tracking -c Release -nologo -v quiet
BENCH=(dotnet "$ROOT/bench/Strata.Bench.Tracking/bin/Release/net10.0/tracking-bench.dll")
mkdir -p "$WORK/data/registry"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
ENV=()
if [ "$STORE" = postgres ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  AS=(); [ "$(id -u)" = 0 ] && AS=(setpriv --reuid=postgres --regid=postgres --init-groups --) && chown -R postgres:postgres "$WORK"
  mkdir -p "$WORK/pg" && [ "$(id -u)" = 0 ] && chown postgres:postgres "$WORK/pg"
  "${AS[@]}" "$PGBIN/initdb" -D "$WORK/pg/data" -U strata --auth=trust --encoding=UTF8 --locale=C > "$WORK/initdb.log"
  PGPORT=$(free_port)
  "${AS[@]}" "$PGBIN/postgres" -D "$WORK/pg/data" -p "$PGPORT" -k "$WORK/pg" -c listen_addresses=127.0.0.1 -c shared_buffers=512MB > "$WORK/postgres.log" 2>&1 & PGPID=$!
  for _ in $(seq 100); do psql -h 127.0.0.1 -p "$PGPORT" -U strata -d postgres -c 'CREATE DATABASE strata' >/dev/null 2>&1 && break; sleep 0.2; done
  CONN="Host=127.0.0.1;Port=$PGPORT;Username=strata;Database=strata"
  LOAD=(--postgres "$CONN;Options=-c synchronous_commit=off" --parallel "${PARALLEL:-4}")
  ENV=(Strata__Registry__Store=postgres "Strata__Registry__Postgres=$CONN")
else
  LOAD=(--db "$WORK/data/registry/tracking.db")
fi
LOAD_START=$(date +%s)
EXPERIMENT=$("${BENCH[@]}" load "${LOAD[@]}" --runs "$RUNS")
LOAD_SECONDS=$(( $(date +%s) - LOAD_START ))
# Statistics for the planner after the bulk load (autovacuum's ANALYZE would come on its own a little later; done here
# so the measurement does not depend on when).
[ "$STORE" = postgres ] && psql -h 127.0.0.1 -p "$PGPORT" -U strata -d strata -qc 'VACUUM ANALYZE'
PORT=$(free_port)
env "${ENV[@]}" dotnet "$ROOT/src/Strata.Cli/bin/Release/net10.0/strata.dll" up --port "$PORT" --data-dir "$WORK/data" > "$WORK/strata.log" 2>&1 & PID=$!
# The first admin key of the data directory (written at start): the readiness probe and the bench client send it.
for _ in $(seq 600); do [ -s "$WORK/data/api-key" ] && break; sleep 0.5; done
STRATA_API_KEY="$(cat "$WORK/data/api-key")"; export STRATA_API_KEY
for _ in $(seq 600); do curl -fsS -H "Authorization: Bearer $STRATA_API_KEY" "http://127.0.0.1:$PORT/api/2.0/mlflow/experiments/get?experiment_id=$EXPERIMENT" >/dev/null 2>&1 && break; sleep 0.5; done
"${BENCH[@]}" measure --url "http://127.0.0.1:$PORT/" --experiment "$EXPERIMENT" --queries "$QUERIES" > "$WORK/tracking.json"
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
if [ "$STORE" = postgres ]; then
  psql -h 127.0.0.1 -p "$PGPORT" -U strata -d strata -Atc "SELECT pg_database_size('strata')" > "$WORK/bytes.txt"
  kill -INT "$PGPID"; wait "$PGPID" 2>/dev/null || true; PGPID=""
else
  du -sb "$WORK/data/registry" | cut -f1 > "$WORK/bytes.txt"
fi
echo "$RUNS $LOAD_SECONDS $STORE" > "$WORK/load.txt"
python3 bench/tracking_report.py "$WORK"
rm -rf "$WORK"
