#!/usr/bin/env bash
# Runs scripts/long-trail.py against the release server on a fresh SQLite database with the
# demo data: the cost of a 2,000-event trail (first verification after a change, a page).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
PORT=${PORT:-18390}
export RUST_LOG=error
. scripts/lib/demo-server.sh
trap 'kill ${server:-} 2>/dev/null; rm -rf "${work:-}"' EXIT
demo_server "$PORT"
# The demo's printout: kind, organization id, token, name.
producer=$(awk '$1=="producer" {print $2","$3; exit}' "$work/demo.txt")
shops=($(awk '$1=="retailer" {print $2","$3}' "$work/demo.txt" | head -2))
python3 - "http://127.0.0.1:$PORT" "$producer" "${shops[0]}" "${shops[1]}" <<'PY'
import runpy, sys
sys.argv = ["long-trail.py"] + [a if i == 0 else tuple(a.split(",")) for i, a in enumerate(sys.argv[1:])]
runpy.run_path("scripts/long-trail.py", run_name="__main__")
PY
