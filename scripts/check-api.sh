#!/usr/bin/env bash
# The API as a product, checked with tools we did not write (CI runs this after `make test`):
#   1. Node tools from the lock file (npm ci, no install scripts, so no browser downloads)
#   2. openapi.json is what the code generates, and it is a valid OpenAPI document
#   3. Spectral: spectral:oas + the OWASP API Top 10 ruleset + our rules (.spectral.yaml, spectral/functions/);
#      Redocly CLI, rule set `recommended`: both must report 0 errors (and Spectral 0 warnings)
#   4. openapi-typescript regenerates clients/ts/schema.d.ts (must be committed as generated) and
#      `tsc --noEmit` (strict: clients/ts/tsconfig.json) compiles it with the typed usage file clients/ts/usage.ts
#   5. Schemathesis CLI against a live server with the demo province (scripts/schemathesis-live.sh); skipped
#      with SKIP_LIVE_SCHEMATHESIS=1 (e.g. a quick local run)
# Fix a stale document with `make openapi` (it also regenerates the TypeScript schema).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_config_fund=false npm_config_audit=false
step() { printf '== check-api: %s\n' "$*"; }

step "npm ci (package-lock.json)"
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.lock-sha256
else
  echo "node_modules already installed from this lock file"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step "openapi.json is fresh and valid"
"$PY" -m app openapi > "$tmp/openapi.json"
if ! diff -q "$tmp/openapi.json" openapi.json > /dev/null; then
  diff -u openapi.json "$tmp/openapi.json" | head -40
  echo "openapi.json is stale: run 'make openapi' and commit it" >&2
  exit 1
fi
"$PY" -m openapi_spec_validator openapi.json

step "spectral lint (spectral:oas + OWASP + ours)"
npx --no-install spectral lint --ruleset .spectral.yaml openapi.json -f json -q -o "$tmp/spectral.json" || true
node -e 'const r=require(process.argv[1]); const n=s=>r.filter(x=>x.severity===s).length;
  console.log(`spectral: ${n(0)} errors, ${n(1)} warnings`)' "$tmp/spectral.json"
npx --no-install spectral lint --fail-severity=warn --ruleset .spectral.yaml openapi.json

step "redocly lint (recommended)"
npx --no-install redocly lint --extends recommended --format summary --max-problems 100000 openapi.json \
  > "$tmp/redocly.txt" 2>&1 && redocly_status=0 || redocly_status=$?
grep -E '^(error|warning) ' "$tmp/redocly.txt" || true
echo "redocly: $(grep -E '^error ' "$tmp/redocly.txt" | awk '{s+=$NF} END {print s+0}') errors, $(grep -E '^warning ' "$tmp/redocly.txt" | awk '{s+=$NF} END {print s+0}') warnings"
[ "$redocly_status" -eq 0 ] || { cat "$tmp/redocly.txt" | tail -40; exit 1; }

step "openapi-typescript + tsc"
npx --no-install openapi-typescript openapi.json -o "$tmp/schema.d.ts" > /dev/null
if ! diff -q "$tmp/schema.d.ts" clients/ts/schema.d.ts > /dev/null; then
  echo "clients/ts/schema.d.ts is stale: run 'make openapi' and commit it" >&2
  exit 1
fi
npx --no-install tsc -p clients/ts --noEmit --strict
echo "tsc --strict: 0 errors"

step "openapi-python-client + the Treasury poller written on it (clients/python)"
# The generator pins typer below the app's own, so it lives in a tool venv of its own (kept between runs).
OPC=.venv-tools/openapi-python-client
if [ ! -x "$OPC/bin/openapi-python-client" ]; then
  python3 -m venv "$OPC" && "$OPC/bin/pip" install --quiet openapi-python-client==0.29.1
fi
mkdir -p "$tmp/pyclient"
"$OPC/bin/openapi-python-client" generate --path openapi.json --meta none --output-path "$tmp/pyclient/dm_client" \
  --config clients/python/generator.yaml > "$tmp/opc.log" 2>&1 || { cat "$tmp/opc.log"; exit 1; }
grep -E "^WARNING" "$tmp/opc.log" || true  # the .xlsx upload has no Python model: reported, not generated
DM_CLIENT_DIR="$tmp/pyclient" "$PY" -m pytest -q -p no:cacheprovider clients/python

if [ "${SKIP_LIVE_SCHEMATHESIS:-0}" != 1 ]; then
  step "schemathesis CLI against a live server"
  bash scripts/schemathesis-live.sh
fi
step "ok"
