-- GET a random existing label, as JSON or as the consumer page (ACCEPT env var).
dofile(os.getenv("LOAD_DIR") .. "/report.lua")
local paths = {}
for line in io.lines(os.getenv("LOAD_PATHS")) do paths[#paths + 1] = line end
local accept = os.getenv("ACCEPT")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)], { ["Accept"] = accept })
end
