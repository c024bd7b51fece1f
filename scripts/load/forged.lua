-- A flood of forged scans: a random existing certificate id with a random, well-formed but
-- false 86-character signature (each costs the server a real Ed25519 check).
dofile(os.getenv("LOAD_DIR") .. "/report.lua")
local paths = {}
for line in io.lines(os.getenv("LOAD_PATHS")) do paths[#paths + 1] = line end
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
math.randomseed(os.time())
request = function()
  local path = paths[math.random(#paths)]
  local chars = {}
  for i = 1, 86 do
    local n = math.random(#alphabet)
    chars[i] = alphabet:sub(n, n)
  end
  local forged = path:gsub("s=.*$", "s=" .. table.concat(chars))
  return wrk.format("GET", forged, { ["Accept"] = "application/json" })
end
