-- POST /api/v1/licenses/{id}/heartbeat for an appliance picked at random per request
-- from LICD_BENCH_APPLIANCES (lines: license id, activation secret, fingerprint). Sends
-- seq 0 ("no lease held"), which every activation accepts, and 10 + 2 users.
--
-- Each appliance's request is formatted once, in `init`, and picked per request: the
-- load generator shares licd's two cores, and formatting a request per call cost it
-- about a tenth of the heartbeats per second (docs/benchmarks.md, ninth pass). Thread k
-- of t takes every t-th appliance from the k-th, so the threads load in half the time
-- (wrk loads them one after another: 11 s a thread with 1,000,000 appliances, tenth
-- pass); `loaded` marks the end.
dofile(os.getenv("LICD_BENCH_WRK") .. "/report.lua")
local requests = {}
local n = 0

function init(args)
  local step = tonumber(os.getenv("LICD_BENCH_WRK_THREADS"))
  local headers = { ["Content-Type"] = "application/json" }
  local i = 0
  for line in io.lines(os.getenv("LICD_BENCH_APPLIANCES")) do
    if i % step == slot then
      local id, secret, fp = line:match("^(%S+) (%S+) (%S+)$")
      n = n + 1
      headers["Authorization"] = "Bearer " .. secret
      requests[n] = wrk.format("POST", "/api/v1/licenses/" .. id .. "/heartbeat", headers,
        '{"fingerprint":"' .. fp .. '","seq":0,"internal_users":10,"external_users":2}')
    end
    i = i + 1
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  loaded()
end

function request()
  return requests[math.random(n)]
end
