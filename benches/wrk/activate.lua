-- POST /api/v1/licenses/{id}/activate, each request a license not yet activated, from
-- LICD_BENCH_UNBOUND (lines: license id, license key, Install ID); thread k of t takes
-- every t-th line from the k-th. Past the end it starts again: the same box activating
-- again (a reinstall), which replaces its activation.
dofile(os.getenv("LICD_BENCH_WRK") .. "/report.lua")

local paths, bodies = {}, {}
local n, next_one = 0, 0

function init(args)
  local step = tonumber(os.getenv("LICD_BENCH_WRK_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("LICD_BENCH_UNBOUND")) do
    if i % step == slot then
      local id, key, install = line:match("^(%S+) (%S+) (%S+)$")
      n = n + 1
      paths[n] = "/api/v1/licenses/" .. id .. "/activate"
      bodies[n] = '{"license_key":"' .. key .. '","fingerprint":"wrk-' .. id ..
        '","install_id":"' .. install .. '"}'
    end
    i = i + 1
  end
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  next_one = next_one % n + 1
  return wrk.format("POST", paths[next_one], headers, bodies[next_one])
end
