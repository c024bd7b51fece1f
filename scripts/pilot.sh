#!/usr/bin/env bash
# Pilot-scale run: COUNT certificates (default 2,000,000) into a fresh SQLite database and into
# a fresh PostgreSQL database, each reporting time, certificates/s, bytes per certificate on
# disk (with indexes and the first trail event) and verify latency at that size.
#
#   scripts/pilot.sh [COUNT]        PG_URL=postgres://user@host:5432 scripts/pilot.sh
#   BACKENDS=postgres scripts/pilot.sh 20000000     (one backend: sqlite or postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-2000000}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
cargo build --release --quiet
bin=$PWD/target/release/certrail
work=$(mktemp -d)
db="certrail_pilot_$$"
trap 'rm -rf "$work"; psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db" 2>/dev/null || true' EXIT

for backend in ${BACKENDS:-sqlite postgres}; do
  case "$backend" in
    sqlite)
      echo "== SQLite"
      CERTRAIL_DATA_DIR="$work/sqlite" RUST_LOG=warn "$bin" pilot --count "$COUNT"
      ;;
    postgres)
      echo "== PostgreSQL"
      psql "$PG_URL/postgres" -qc "CREATE DATABASE $db"
      CERTRAIL_DATA_DIR="$work/pg" DATABASE_URL="$PG_URL/$db" RUST_LOG=warn "$bin" pilot --count "$COUNT"
      # Where the bytes went, table by table (heap, TOAST and indexes).
      psql "$PG_URL/$db" -qAt -F ' ' -c "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables ORDER BY 2 DESC LIMIT 12"
      ;;
    *) echo "unknown backend $backend (sqlite or postgres)" >&2; exit 2 ;;
  esac
done
