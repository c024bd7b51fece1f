#!/usr/bin/env bash
# Schemathesis (PyPI) against the OpenAPI document the release server serves, on a fresh
# SQLite database with the demo data: every operation, generated valid and invalid requests,
# once with a producer's token and once with the platform admin's (CERTRAIL_ADMIN_TOKEN: the
# demo creates no admin organization), with every check: fails on any 5xx, an answer whose
# status, content type or body the document does not declare, an error outside the envelope
# (the document declares ErrorEnvelope for every error status), a request the document allows
# but the server refuses (scripts/schemathesis.toml names the operations with rules JSON
# Schema cannot state), or one it forbids but the server accepts.
#
# CERTRAIL_BIN=target/debug/certrail runs another build (no release build then);
# SCHEMA_SECONDS is each run's time limit.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/schemathesis
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis==4.32.5
fi
[ -n "${CERTRAIL_BIN:-}" ] || cargo build --release --quiet
PORT=${PORT:-18290}
export RUST_LOG=error
CERTRAIL_ADMIN_TOKEN="schema-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export CERTRAIL_ADMIN_TOKEN
. scripts/lib/demo-server.sh
trap 'kill ${server:-} 2>/dev/null; rm -rf "${work:-}"' EXIT
demo_server "$PORT"
producer=$(awk '/^producer/{print $3; exit}' "$work/demo.txt")
for who in producer admin; do
  case $who in
    producer) token=$producer ;;
    admin) token=$CERTRAIL_ADMIN_TOKEN ;;
  esac
  echo "== Schemathesis with the $who's token"
  # POST /api/v1/organizations/import is left out: Hypothesis 6 fails inside its own strategy
  # for that text/csv body ("AST constructor recursion depth mismatch"), before any request.
  "$venv/bin/st" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/api-docs/openapi.json" \
    -H "Authorization: Bearer $token" \
    --checks all \
    --exclude-path /api/v1/organizations/import \
    --phases examples,coverage,fuzzing --max-time "${SCHEMA_SECONDS:-60}" --workers 2 \
    --seed 20261130 --suppress-health-check all --no-color
done
