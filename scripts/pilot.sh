#!/usr/bin/env bash
# Pilot-scale run: COUNT certificates (default 2,000,000) into a fresh SQLite database and into
# a fresh PostgreSQL database, each reporting time, certificates/s, bytes per certificate on
# disk (with indexes and the first trail event) and verify latency at that size.
#
#   scripts/pilot.sh [COUNT]        PG_URL=postgres://user@host:5432 scripts/pilot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-2000000}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
cargo build --release --quiet
bin=$PWD/target/release/certrail
work=$(mktemp -d)
db="certrail_pilot_$$"
trap 'rm -rf "$work"; psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db" 2>/dev/null || true' EXIT

echo "== SQLite"
CERTRAIL_DATA_DIR="$work/sqlite" RUST_LOG=warn "$bin" pilot --count "$COUNT"
echo "== PostgreSQL"
psql "$PG_URL/postgres" -qc "CREATE DATABASE $db"
CERTRAIL_DATA_DIR="$work/pg" DATABASE_URL="$PG_URL/$db" RUST_LOG=warn "$bin" pilot --count "$COUNT"
