-- POST /api/v1/licenses/{id}/heartbeat for an appliance picked at random per request
-- from LICD_BENCH_APPLIANCES (lines: license id, activation secret, fingerprint). Sends
-- seq 0 ("no lease held"), which every activation accepts, and 10 + 2 users.
dofile(os.getenv("LICD_BENCH_WRK") .. "/report.lua")
local ids, auths, bodies = {}, {}, {}
local n = 0

function init(args)
  for line in io.lines(os.getenv("LICD_BENCH_APPLIANCES")) do
    local id, secret, fp = line:match("^(%S+) (%S+) (%S+)$")
    n = n + 1
    ids[n] = "/api/v1/licenses/" .. id .. "/heartbeat"
    auths[n] = "Bearer " .. secret
    bodies[n] = '{"fingerprint":"' .. fp .. '","seq":0,"internal_users":10,"external_users":2}'
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  local k = math.random(n)
  headers["Authorization"] = auths[k]
  return wrk.format("POST", ids[k], headers, bodies[k])
end
