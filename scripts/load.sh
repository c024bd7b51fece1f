#!/usr/bin/env bash
# Load test: builds and starts the release server on loopback with a fresh SQLite database,
# seeds certificates, drives it with wrk and prints requests/s, latency and each figure's
# ratio to the machine's own limits measured in the same run (raw Ed25519 sign/verify on all
# cores, and a trivial endpoint on the same server).
#
#   scripts/load.sh              # 10 s a scenario, 64 connections
#   DURATION=5 CONNECTIONS=32 scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
SEED=${SEED:-20000}
PORT=${PORT:-18080}

if ! command -v wrk >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk
fi
cargo build --release --quiet
bin=target/release/certrail

work=$(mktemp -d)
export LOAD_DIR="$PWD/scripts/load"
admin=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
base="http://127.0.0.1:$PORT"
CERTRAIL_DATA_DIR="$work" CERTRAIL_BIND="127.0.0.1:$PORT" CERTRAIL_ADMIN_TOKEN="$admin" \
  RUST_LOG=warn "$bin" serve &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

post() { curl -sf -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' --data-binary "$3" "$base$2"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
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

limits=$("$bin" limits --seconds 3)
sign=$(awk '/sign/ {print $2}' <<<"$limits")
verify=$(awk '/verify/ {print $2}' <<<"$limits")

run() { # name script path [env...]
  local name=$1 script=$2 path=$3; shift 3
  local line
  line=$(env "$@" LOAD_PATHS="$work/paths.txt" LOAD_TOKEN="$token" \
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "scripts/load/$script" "$base$path" | grep '^RESULT')
  echo "$name ${line#RESULT }" >> "$work/results.txt"
}
run trivial plain.lua /healthz
run verify_json verify.lua / ACCEPT=application/json
run consumer_page verify.lua / ACCEPT=text/html
run issue_single post.lua /api/v1/certificates LOAD_BODY="$work/one.json"
CONNECTIONS=4 run issue_bulk_1000 post.lua /api/v1/certificates/bulk LOAD_BODY="$work/bulk.json"
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")

python3 - "$work/results.txt" "$sign" "$verify" "$rss_kb" "$CONNECTIONS" "$DURATION" <<'PY'
import sys
path, sign, verify, rss_kb, conns, dur = sys.argv[1:]
sign, verify = float(sign), float(verify)
rows = {}
for line in open(path):
    name, rps, p50, p99, status_err, sock_err = line.split()
    rows[name] = (float(rps), float(p50), float(p99), int(status_err), int(sock_err))
trivial = rows["trivial"][0]
print(f"machine limits: Ed25519 sign {sign:,.0f}/s, verify {verify:,.0f}/s on all cores; "
      f"trivial endpoint {trivial:,.0f} req/s ({conns} connections, {dur} s a scenario)")
print(f"{'scenario':<18}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}  ratio")
targets = {"verify_json": ("trivial", 0.30), "consumer_page": ("trivial", 0.20),
           "issue_single": ("trivial", 0.10)}
for name, (rps, p50, p99, se, ke) in rows.items():
    if name == "issue_bulk_1000":
        certs = rps * 1000
        ratio = f"{certs:,.0f} certificates/s = {certs / sign:.0%} of raw sign/s (target 50%)"
    elif name in targets:
        ratio = f"{rps / trivial:.0%} of trivial (target {targets[name][1]:.0%})"
        if name == "verify_json":
            ratio += f", {rps / verify:.0%} of raw verify/s"
    else:
        ratio = ""
    print(f"{name:<18}{rps:>10,.0f}{p50:>9.2f}{p99:>9.2f}{se + ke:>8}  {ratio}")
print(f"server peak RSS: {int(rss_kb) / 1024:.0f} MB (target < 200 MB)")
PY
