-- POST /api/v1/licenses/{id}/heartbeat for an appliance picked at random per request
-- from LICD_BENCH_APPLIANCES (lines: license id, activation secret, fingerprint). Sends
-- seq 0 ("no lease held"), which every activation accepts, and 10 + 2 users.
--
-- Each appliance's request is formatted once, in `init`, and picked per request: the
-- load generator shares licd's two cores, and formatting a request per call cost it
-- about a tenth of the heartbeats per second (docs/benchmarks.md, ninth pass).
dofile(os.getenv("LICD_BENCH_WRK") .. "/report.lua")
local requests = {}
local n = 0

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(os.getenv("LICD_BENCH_APPLIANCES")) do
    local id, secret, fp = line:match("^(%S+) (%S+) (%S+)$")
    n = n + 1
    headers["Authorization"] = "Bearer " .. secret
    requests[n] = wrk.format("POST", "/api/v1/licenses/" .. id .. "/heartbeat", headers,
      '{"fingerprint":"' .. fp .. '","seq":0,"internal_users":10,"external_users":2}')
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  return requests[math.random(n)]
end
