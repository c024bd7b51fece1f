#!/usr/bin/env bash
# Schemathesis (PyPI) against the OpenAPI document the release server serves, on a fresh
# SQLite database with the demo data: every operation, generated valid and invalid requests,
# with a producer's token. Fails on any 5xx, an answer whose status, content type or body
# the document does not declare, or an error outside the envelope (the document declares
# ErrorEnvelope for every error status).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/schemathesis
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis==4.32.5
fi
cargo build --release --quiet
PORT=${PORT:-18290}
export RUST_LOG=error
. scripts/lib/demo-server.sh
trap 'kill ${server:-} 2>/dev/null; rm -rf "${work:-}"' EXIT
demo_server "$PORT"
token=$(awk '/^producer/{print $3; exit}' "$work/demo.txt")
# POST /api/v1/organizations/import is left out: Hypothesis 6 fails inside its own strategy
# for that text/csv body ("AST constructor recursion depth mismatch"), before any request.
"$venv/bin/st" run "http://127.0.0.1:$PORT/api-docs/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /api/v1/organizations/import \
  --phases examples,coverage,fuzzing --max-time "${SCHEMA_SECONDS:-60}" --workers 2 \
  --seed 20261130 --suppress-health-check all --no-color
