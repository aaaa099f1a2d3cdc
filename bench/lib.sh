# Shared by the bench scripts (source it after setting ROOT): the processes a script starts are stopped on exit, wrk is
# installed when missing, free loopback ports, readiness waits and stopping by pid.
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; sleep 1; for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
build_strata() { # builds the CLI in Release and sets STRATA to the command that runs it
  dotnet build "$ROOT/src/Strata.Cli" -c Release -nologo -v quiet
  STRATA=(dotnet "$ROOT/src/Strata.Cli/bin/Release/net10.0/strata.dll")
  dotnet build-server shutdown >/dev/null 2>&1 || true
}
ensure_wrk() { command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_ready() { # base-url path: up to 3 minutes
  for _ in $(seq 900); do curl -sf "$1$2" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "not ready: $1$2" >&2; return 1
}
stop() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null || true; }
# Strata answers nothing but health and OpenAPI without credentials: once a script has a key (strata_key), every curl it
# runs presents it, and wrk scripts written by wrk_script send it too (read from the environment when wrk starts).
curl() { if [ -n "${STRATA_API_KEY:-}" ]; then command curl -H "Authorization: Bearer $STRATA_API_KEY" "$@"; else command curl "$@"; fi; }
strata_key() { # data-dir: exports the admin key a fresh `strata up` wrote there
  for _ in $(seq 300); do [ -s "$1/api-key" ] && break; sleep 0.2; done
  STRATA_API_KEY="$(cat "$1/api-key")"; export STRATA_API_KEY
}
wrk_auth_lua() { printf '%s\n' 'local key = os.getenv("STRATA_API_KEY")' 'if key then wrk.headers["Authorization"] = "Bearer " .. key end'; }
scoring_lua() { # dir: writes predict.lua (POST /predict) and infer.lua (V2 infer), one row each, presenting the key
  for name in predict infer; do
    { echo 'wrk.method = "POST"'
      if [ "$name" = predict ]; then echo "wrk.body = '{\"age\": 35, \"income\": 50000}'"
      else echo "wrk.body = '{\"inputs\": [{\"name\": \"age\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [35]}, {\"name\": \"income\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [50000]}]}'"; fi
      echo 'wrk.headers["Content-Type"] = "application/json"'
      wrk_auth_lua; } > "$1/$name.lua"
  done
}
