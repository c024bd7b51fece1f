#!/usr/bin/env bash
# Runs the whole test suite on SQLite, then again on PostgreSQL.
#
# PostgreSQL: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); each test
# creates its own schema and drops it. Without a reachable server the PostgreSQL pass is
# skipped, except under CI=true, where it is required.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The API tests check GS1 Digital Links with GS1's own parser (npm digital-link.js).
(cd tests/browser && npm ci --no-audit --no-fund --silent)

pg_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "== tests on SQLite"
env -u TEST_DATABASE_URL cargo test --all-targets "$@"

echo "== tests on PostgreSQL ($pg_url)"
if command -v pg_isready >/dev/null && pg_isready -q -d "$pg_url"; then
  TEST_DATABASE_URL="$pg_url" cargo test --all-targets "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL at $pg_url is not reachable; CI requires it" >&2
  exit 1
else
  echo "PostgreSQL at $pg_url is not reachable: skipped (set TEST_DATABASE_URL)"
fi

echo "== pages in headless Chromium"
scripts/browser-test.sh

echo "== the API against its OpenAPI document (Schemathesis)"
scripts/schema-test.sh
