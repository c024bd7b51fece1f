# Sourced by the page and Schemathesis runners. `demo_server PORT` starts the release server
# on 127.0.0.1:PORT with a fresh database (SQLite, or DATABASE_URL if set) holding the demo
# data, and returns once it answers: $work is its data directory (the demo's printout in
# $work/demo.txt), $server its pid. `empty_server PORT` starts one on an empty database
# ($empty, $empty_server). Callers set their own trap to stop them. CERTRAIL_BIN names another
# binary (e.g. target/debug/certrail for a quick local run); CI uses the release build.

wait_healthy() { # port
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "the server on port $1 did not start" >&2
  return 1
}

demo_server() { # port
  work=$(mktemp -d)
  CERTRAIL_DATA_DIR="$work" CERTRAIL_BIND="127.0.0.1:$1" ${CERTRAIL_BIN:-target/release/certrail} demo > "$work/demo.txt"
  CERTRAIL_DATA_DIR="$work" CERTRAIL_BIND="127.0.0.1:$1" ${CERTRAIL_BIN:-target/release/certrail} serve &
  server=$!
  wait_healthy "$1"
}

empty_server() { # port
  empty=$(mktemp -d)
  CERTRAIL_DATA_DIR="$empty" CERTRAIL_BIND="127.0.0.1:$1" ${CERTRAIL_BIN:-target/release/certrail} serve &
  empty_server=$!
  wait_healthy "$1"
}
