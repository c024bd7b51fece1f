#!/usr/bin/env bash
# Load test: builds and starts the release server on loopback (a fresh SQLite file, then a fresh
# PostgreSQL database), seeds certificates, drives it with wrk and prints requests/s, latency
# and each figure's ratio to the machine's own limits measured in the same run (raw Ed25519
# sign/verify on all cores, and a bare actix-web handler, `certrail bare`, with none of
# certrail's middleware).
#
# Scenarios: verify JSON on random labels among 20,000 that are not yet cached (as after a
# start); then, after one unmeasured pass over every label, so the cache is warm as on a server
# that has been up a while: verify JSON on random labels among 300 and among 20,000 certificates; the consumer
# page the same; offline label PNGs of 300 certificates, alone and with /healthz beside them
# (rendering must not hold up the HTTP workers); one hot label for 30 s (three 10 s windows: no
# decay as scans pile up); a flood of forged scans alone and beside genuine verifications; bulk
# issuance beside consumer traffic; single and bulk issuance.
#
#   scripts/load.sh                      # both backends, 10 s a scenario, 64 connections
#   BACKENDS=sqlite DURATION=5 scripts/load.sh
#   PG_URL=postgres://postgres@127.0.0.1:5432 scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
SEED=${SEED:-20000}
PORT=${PORT:-18080}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}

if ! command -v wrk >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk
fi
cargo build --release --quiet
bin=target/release/certrail
export LOAD_DIR="$PWD/scripts/load"
base="http://127.0.0.1:$PORT"

limits=$("$bin" limits --seconds 3)
bare_base="http://127.0.0.1:$((PORT + 1))"
"$bin" bare --bind "127.0.0.1:$((PORT + 1))" &
bare=$!
trap 'kill $bare 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "$bare_base/" >/dev/null && break; sleep 0.1; done
sign=$(awk '/sign/ {print $2}' <<<"$limits")
verify=$(awk '/verify/ {print $2}' <<<"$limits")

post() { curl -sf -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' --data-binary "$3" "$base$2"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

run() { # name script path connections [env...]
  local name=$1 script=$2 path=$3 conns=$4; shift 4
  local line
  line=$(env "$@" LOAD_TOKEN="$token" \
    wrk -t2 -c"$conns" -d"${DURATION}s" -s "scripts/load/$script" "$base$path" | grep '^RESULT')
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
  echo "$name ${line#RESULT } $rss" >> "$work/results.txt"
}

one_backend() { # sqlite | postgres
  local backend=$1
  work=$(mktemp -d)
  local database_url="sqlite://$work/certrail.db" pg_db=""
  if [ "$backend" = postgres ]; then
    pg_db="certrail_load_$$"
    psql "$PG_URL/postgres" -qc "CREATE DATABASE $pg_db" >/dev/null
    database_url="$PG_URL/$pg_db"
  fi
  local admin
  admin=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  start_server() { # then waits until /readyz says ready (at most 120 s), the seconds in ready.txt
    local t0=$EPOCHREALTIME
    CERTRAIL_DATA_DIR="$work" CERTRAIL_BIND="127.0.0.1:$PORT" CERTRAIL_ADMIN_TOKEN="$admin" \
      DATABASE_URL="$database_url" RUST_LOG=warn "$bin" serve &
    server=$!
    for _ in $(seq 2400); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.05; done
    python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" \
      "$t0" "$EPOCHREALTIME" > "$work/ready.txt"
  }
  start_server
  trap 'kill $server $bare 2>/dev/null; rm -rf "$work"' EXIT

  local org product
  org=$(post "$admin" /api/v1/organizations '{"kind":"producer","name":"常德市德山酱板鸭食品有限公司","credit_code":"91430700MA4Q1W2E3X","region_code":"430702","address":"湖南省常德市武陵区德山大道18号"}' | json "['id']")
  token=$(post "$admin" "/api/v1/organizations/$org/tokens" '{}' | json "['token']")
  product=$(post "$token" /api/v1/products '{"name":"酱板鸭（香辣味）","model":"500g/袋","standard":"GB/T 23586-2022","gtin":"6901234567892"}' | json "['id']")

  # Request bodies: one certificate, and a bulk of 1,000.
  python3 - "$product" "$work" <<'PY'
import datetime, json, sys
product, work = sys.argv[1], sys.argv[2]
today = datetime.date.today()
def cert(n):
    return {"product_id": product, "batch_no": f"LOAD-{n:08}", "quantity": 1200, "unit": "袋",
            "production_date": str(today - datetime.timedelta(days=2)),
            "inspection_date": str(today - datetime.timedelta(days=1)),
            "inspector": "质检员07", "result": "pass", "lab_report_no": f"CDJC-{n:08}",
            "expiry_date": str(today + datetime.timedelta(days=180))}
json.dump(cert(0), open(f"{work}/one.json", "w"), ensure_ascii=False)
json.dump({"certificates": [cert(n) for n in range(1000)]}, open(f"{work}/bulk.json", "w"), ensure_ascii=False)
PY

  # Seed SEED certificates and keep their label paths for the verify scenarios.
  : > "$work/paths.txt"
  for _ in $(seq $((SEED / 1000))); do
    post "$token" /api/v1/certificates/bulk "@$work/bulk.json" \
      | python3 -c "import json,sys; [print(c['verify_url'].split('$PORT',1)[1]) for c in json.load(sys.stdin)['certificates']]" \
      >> "$work/paths.txt"
  done
  head -300 "$work/paths.txt" > "$work/paths300.txt"
  head -1 "$work/paths.txt" > "$work/hot.txt"
  local all="$work/paths.txt" few="$work/paths300.txt" hot="$work/hot.txt"
  : > "$work/results.txt"

  # The reference, in this same run: a bare actix-web handler, then certrail's own liveness.
  local certrail_base=$base
  base=$bare_base run bare plain.lua / "$CONNECTIONS"
  base=$certrail_base
  run healthz plain.lua /healthz "$CONNECTIONS"
  # Random labels among 20,000 none of which is cached yet, as after a start or a cache drop:
  # its p99 takes in every record's first load.
  run verify_json_20000_cold verify.lua / "$CONNECTIONS" LOAD_PATHS="$all" ACCEPT=application/json
  # A restart: the instance reads the newest records into its cache (CERTRAIL_WARM_RECORDS,
  # 20,000 by default) before /readyz says ready, as a load balancer waits for; then the same
  # random labels, measured from the first request.
  kill $server; wait $server 2>/dev/null || true
  start_server
  echo "restart: ready after $(cat "$work/ready.txt") s" >&2
  run verify_json_20000_restarted verify.lua / "$CONNECTIONS" LOAD_PATHS="$all" ACCEPT=application/json
  # Then one unmeasured pass over every label: the figures after it are the steady state; the
  # cost of a label's first scan alone is in the criterion bench (consumer_scan/database/*).
  # It stops once every label was answered: a fixed time would leave labels cold wherever first
  # loads are slower than that time allows, and the warm figures would mix them in.
  python3 scripts/load/warm.py "$base" "$all" 16
  run verify_json_300 verify.lua / "$CONNECTIONS" LOAD_PATHS="$few" ACCEPT=application/json
  run verify_json_20000 verify.lua / "$CONNECTIONS" LOAD_PATHS="$all" ACCEPT=application/json
  run consumer_page_300 verify.lua / "$CONNECTIONS" LOAD_PATHS="$few" ACCEPT=text/html
  run consumer_page_20000 verify.lua / "$CONNECTIONS" LOAD_PATHS="$all" ACCEPT=text/html
  # Offline labels (QR codes carrying the payload): rendered once, then from the label cache.
  sed -E 's#^/v/([^/?]+).*#/api/v1/certificates/\1/offline-qr.png#' "$few" > "$work/offline300.txt"
  run offline_qr_300 verify.lua / "$CONNECTIONS" LOAD_PATHS="$work/offline300.txt" ACCEPT=image/png
  LOAD_PATHS="$work/offline300.txt" ACCEPT=image/png \
    wrk -t1 -c16 -d"${DURATION}s" -s scripts/load/verify.lua "$base/" >/dev/null &
  local offline=$!
  run healthz_beside_offline plain.lua /healthz 16
  wait $offline
  for window in 1 2 3; do
    run "hot_label_${window}" verify.lua / "$CONNECTIONS" LOAD_PATHS="$hot" ACCEPT=application/json
  done
  run forged_flood forged.lua / "$CONNECTIONS" LOAD_PATHS="$all"
  # Genuine verifications while a forged flood runs beside them.
  LOAD_PATHS="$all" wrk -t1 -c32 -d"${DURATION}s" -s scripts/load/forged.lua "$base/" >/dev/null &
  local flood=$!
  run verify_beside_flood verify.lua / 32 LOAD_PATHS="$all" ACCEPT=application/json
  wait $flood
  # Consumer traffic while producers issue in bulk.
  LOAD_BODY="$work/bulk.json" LOAD_TOKEN="$token" \
    wrk -t1 -c2 -d"${DURATION}s" -s scripts/load/post.lua "$base/api/v1/certificates/bulk" >/dev/null &
  local bulk=$!
  run verify_beside_bulk verify.lua / 62 LOAD_PATHS="$all" ACCEPT=application/json
  wait $bulk
  run issue_single post.lua /api/v1/certificates "$CONNECTIONS" LOAD_BODY="$work/one.json"
  run issue_bulk_1000 post.lua /api/v1/certificates/bulk 4 LOAD_BODY="$work/bulk.json"
  local rss_kb cache
  rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
  cache=$(curl -sf "$base/metrics" | awk '/^certrail_verify_cache_records /{r=$2} /^certrail_verify_cache_bytes /{b=$2}
    END {if (r > 0) printf "verify cache at the end: %d records, %.1f MB (%d bytes each)", r, b / 1048576, b / r}')
  kill $server; wait $server 2>/dev/null || true
  trap 'kill $bare 2>/dev/null' EXIT

  python3 - "$work/results.txt" "$sign" "$verify" "$rss_kb" "$CONNECTIONS" "$DURATION" "$backend" <<'PY'
import sys
path, sign, verify, rss_kb, conns, dur, backend = sys.argv[1:]
sign, verify = float(sign), float(verify)
rows = {}
for line in open(path):
    name, rps, p50, p99, status_err, sock_err, rss = line.split()
    rows[name] = (float(rps), float(p50), float(p99), int(status_err), int(sock_err), int(rss))
bare = rows["bare"][0]
print(f"== {backend}: machine limits: Ed25519 sign {sign:,.0f}/s, verify {verify:,.0f}/s on all cores; "
      f"bare actix-web handler {bare:,.0f} req/s ({conns} connections, {dur} s a scenario)")
print(f"{'scenario':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'RSS MB':>8}  ratio")
targets = {"healthz": 0.85, "verify_json_300": 0.30, "verify_json_20000": 0.30,
           "consumer_page_300": 0.20, "consumer_page_20000": 0.20, "issue_single": 0.10}
for name, (rps, p50, p99, se, ke, rss) in rows.items():
    if name == "issue_bulk_1000":
        certs = rps * 1000
        ratio = f"{certs:,.0f} certificates/s = {certs / sign:.0%} of raw sign/s (target 50%)"
    elif name in targets:
        ratio = f"{rps / bare:.2f} of bare (target {targets[name]:.2f})"
    elif name in ("verify_json_20000_cold", "verify_json_20000_restarted"):
        ratio = f"{rps / bare:.2f} of bare; p99 target < 10 ms from the first request"
    elif (name.startswith("hot_label") or name.startswith("verify_beside")
          or name in ("forged_flood", "offline_qr_300", "healthz_beside_offline")):
        ratio = f"{rps / bare:.2f} of bare"
    else:
        ratio = ""
    print(f"{name:<22}{rps:>10,.0f}{p50:>9.2f}{p99:>9.2f}{se + ke:>8}{rss / 1024:>8.0f}  {ratio}")
first, last = rows["hot_label_1"][0], rows["hot_label_3"][0]
print(f"hot label: last 10 s served {last / first:.0%} of the first 10 s (target >= 90%)")
print(f"server peak RSS: {int(rss_kb) / 1024:.0f} MB (target < 200 MB)")
PY
  echo "$cache"
  rm -rf "$work"
  if [ -n "$pg_db" ]; then psql "$PG_URL/postgres" -qc "DROP DATABASE $pg_db" >/dev/null; fi
}

for backend in $BACKENDS; do
  one_backend "$backend"
done
