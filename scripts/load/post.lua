-- POST the JSON body in LOAD_BODY to wrk's URL path with the producer token.
dofile(os.getenv("LOAD_DIR") .. "/report.lua")
local f = assert(io.open(os.getenv("LOAD_BODY")))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN")
