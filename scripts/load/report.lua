-- Shared by every scenario: prints one machine-readable line when wrk finishes.
-- RESULT <requests/s> <p50 ms> <p99 ms> <non-2xx> <socket errors>
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, errors))
end
