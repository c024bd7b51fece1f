#!/usr/bin/env python3
"""The cost of a long trail, measured against a running release server (scripts/long-trail.sh
starts one with the demo data): a certificate of 1,000 units whose trail two retailers grow to
about 2,000 events (their unit intakes), beside a fresh certificate of 5 events. Prints the
median time of the first verification after each change (the record is read and the whole
chain checked again), and of a page of the trail.

    scripts/long-trail.sh
"""
import http.client
import json
import statistics
import sys
import time

base, producer, shop_a, shop_b = sys.argv[1:5]
host, port = base.replace("http://", "").split(":")
conn = http.client.HTTPConnection(host, int(port))


def call(method, path, token=None, body=None, accept="application/json"):
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token[1]}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    res = conn.getresponse()
    data = res.read()
    return res.status, (json.loads(data) if data else None)


def ok(status, body, want=(200, 201)):
    if status not in want:
        sys.exit(f"unexpected {status}: {body}")
    return body


product = ok(*call("GET", "/api/v1/products", producer))["products"][0]["id"]


def certificate(batch_no, units):
    return ok(*call("POST", "/api/v1/certificates", producer, {
        "product_id": product, "batch_no": batch_no, "quantity": 1000, "unit": "袋",
        "production_date": "2026-12-01", "inspection_date": "2026-12-02", "inspector": "QC-07",
        "result": "pass", "units": units}))


def path(url):
    return url[url.index("/v/"):]


def events(cert):
    return f"/api/v1/certificates/{cert['id']}/events"


def hand_over(cert):
    for shop in (shop_a, shop_b):
        ok(*call("POST", events(cert), producer, {"type": "shipped", "consignee": shop[0], "quantity": 500}))
        ok(*call("POST", events(cert), shop, {"type": "received", "label_url": cert["verify_url"]}))


long_cert, short_cert = certificate("LONG-1", 1000), certificate("SHORT-1", 1000)
hand_over(long_cert)
hand_over(short_cert)
started = time.time()
for shop in (shop_a, shop_b):
    for serial in range(1, 999):
        label = f"{base}/v/{long_cert['id']}/{serial}?s={'A' * 86}"
        ok(*call("POST", events(long_cert), shop, {"type": "received", "label_url": label}))
total = ok(*call("GET", f"/api/v1/certificates/{long_cert['id']}/trail?limit=1"))["total"]
print(f"long trail: {total} events, appended in {time.time() - started:.1f} s")


def first_verification_after_a_change(cert, rounds=40):
    times = []
    for n in range(rounds):
        ok(*call("POST", events(cert), shop_b, {"type": "sold", "note": f"售出 {n}"}))
        t = time.perf_counter()
        ok(*call("GET", path(cert["verify_url"])))
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def page(cert, rounds=200):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        ok(*call("GET", f"/api/v1/certificates/{cert['id']}/trail"))
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


long_first, short_first = first_verification_after_a_change(long_cert), first_verification_after_a_change(short_cert)
print(f"first verification after a change: {long_first:.2f} ms at {total} events, "
      f"{short_first:.2f} ms at 5 events")
print(f"a page of the trail (100 events): {page(long_cert):.2f} ms; of 5 events: {page(short_cert):.2f} ms")
