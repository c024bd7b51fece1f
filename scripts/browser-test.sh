#!/usr/bin/env bash
# Page tests in a real browser: starts the release server on loopback with a fresh database
# (SQLite, or DATABASE_URL if set) and the demo data, then walks the actors' stories in
# headless Debian Chromium with playwright-core. Screenshots of every page, at phone and
# desktop width, go to target/screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build --release --quiet
PORT=${PORT:-18090}
# The stories forward a documentation address per story (see stories.mjs).
export RUST_LOG=warn CERTRAIL_TRUSTED_PROXIES=127.0.0.1
. scripts/lib/demo-server.sh
trap 'kill ${server:-} ${empty_server:-} 2>/dev/null; rm -rf "${work:-}" "${empty:-}"' EXIT
demo_server "$PORT"
# A second server on an empty database, for the first-run story.
empty_server "$((PORT + 1))"
rm -rf target/screenshots
BASE_URL="http://127.0.0.1:$PORT" EMPTY_URL="http://127.0.0.1:$((PORT + 1))" DEMO="$work/demo.txt" SCREENSHOTS="$PWD/target/screenshots" \
  node tests/browser/stories.mjs
