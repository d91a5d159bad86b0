#!/usr/bin/env bash
# An outside client against a live server: the Schemathesis CLI, every check, every phase (stateful too), a
# fixed seed and a time budget, against `python -m app serve` on a fresh SQLite database holding the demo
# province (its admin key). Prints the case and failure counts; exits non-zero on any failure.
#   ST_MAX_TIME (default 150 s), ST_SEED (default 20241011), ST_MAX_EXAMPLES (default 10 per operation)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ST=${ST:-.venv/bin/schemathesis}
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL="sqlite+aiosqlite:///$work/demo.db" CLOCK_TODAY=2024-10-11 SWEEP_ENABLED=false \
  INDICATOR_REFRESH_ENABLED=false LOG_LEVEL=WARNING AUTH_FAILURE_LIMIT=0 AUDIT_ANONYMOUS_PER_MINUTE=0
# The .xlsx batch upload is excluded: Schemathesis cannot generate workbook bodies (its JSON twin,
# /disbursements/batch, is fuzzed). One worker: CPython 3.11's ast.parse is not thread-safe, and Hypothesis parses
# lambdas while describing strategies ("AST constructor recursion depth mismatch" with two workers). AUTH_FAILURE_LIMIT=0: the `ignored_auth` check sends hundreds of keyless requests from 127.0.0.1 on purpose.
"$PY" -m app migrate > /dev/null
"$PY" -m app demo --keys-file "$work/keys.json" > /dev/null
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" -m app serve --host 127.0.0.1 --port "$port" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
  sleep 0.2
done
key=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin"])' "$work/keys.json")

set +e
"$ST" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks all --phases examples,coverage,fuzzing,stateful \
  --seed "${ST_SEED:-20241011}" --max-examples "${ST_MAX_EXAMPLES:-10}" --max-time "${ST_MAX_TIME:-150}" \
  --exclude-path /api/v1/disbursements/workbook \
  --workers 1 --request-timeout 30 --suppress-health-check all --no-color \
  --report ndjson --report-ndjson-path "$work/events.ndjson" > "$work/out.txt" 2>&1
status=$?
set -e
summary=$(sed -n '/= SUMMARY =/,$p' "$work/out.txt")
if [ "$status" -ne 0 ]; then
  cp "$work/out.txt" "${ST_OUT:-/tmp/schemathesis-live.txt}"
  sed -n '/= FAILURES =/,/= SUMMARY =/p' "$work/out.txt" | head -300 || true
  grep -iE '"event": "unhandled_error"' "$work/server.log" | cut -c1-600 | head -5 || true
fi
echo "$summary" | grep -E "generated|Failures|ST[0-9]+|Seed|passed|failures" || true
cases=$(echo "$summary" | sed -nE 's/.* ([0-9]+) generated.*/\1/p')
failures=$(echo "$summary" | sed -nE 's/.* found ([0-9]+) unique failures.*/\1/p')
errors=$(echo "$summary" | sed -nE 's/.* ([0-9]+) errors?[,. ].*/\1/p' | tail -1)
echo "schemathesis (live server): ${cases:-?} cases, ${failures:-0} failures, ${errors:-0} errors, exit $status"
exit "$status"
