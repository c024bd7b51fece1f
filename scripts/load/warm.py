"""Visits every label of a paths file once, without measuring, then stops: the verify
scenarios of load.sh then run against a warm cache (the steady state of a server that has been
up a while), however long the first loads take. wrk cannot stop after a number of requests.

    python3 scripts/load/warm.py http://127.0.0.1:18080 paths.txt [connections]
"""
import http.client
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

base, paths_file = urlsplit(sys.argv[1]), sys.argv[2]
connections = int(sys.argv[3]) if len(sys.argv) > 3 else 16
paths = [line.strip() for line in open(paths_file) if line.strip()]


def visit(share):
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    failed = 0
    for path in share:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        response.read()
        failed += response.status != 200
    conn.close()
    return failed


started = time.monotonic()
with ThreadPoolExecutor(connections) as pool:
    failed = sum(pool.map(visit, [paths[i::connections] for i in range(connections)]))
print(f"warm pass: {len(paths)} labels in {time.monotonic() - started:.1f} s, {failed} not 200",
      file=sys.stderr)
sys.exit(1 if failed else 0)
