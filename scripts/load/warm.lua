-- Visits every label once per thread, in order, without measuring: the verify scenarios then
-- run against a warm cache (the steady state of a server that has been up for a while).
local paths = {}
for line in io.lines(os.getenv("LOAD_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Accept"] = "application/json" })
end
