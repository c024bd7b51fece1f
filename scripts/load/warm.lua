-- Visits every label, each wrk thread its own share in order, without measuring: the verify
-- scenarios then run against a warm cache (the steady state of a server that has been up a
-- while). WARM_THREADS must match wrk's -t.
local paths = {}
for line in io.lines(os.getenv("LOAD_PATHS")) do paths[#paths + 1] = line end
local threads = tonumber(os.getenv("WARM_THREADS") or "1")
local next_offset = 0
function setup(thread)
  thread:set("offset", next_offset)
  next_offset = next_offset + 1
end
function init(args)
  i = offset
end
request = function()
  local path = paths[i % #paths + 1]
  i = i + threads
  return wrk.format("GET", path, { ["Accept"] = "application/json" })
end
