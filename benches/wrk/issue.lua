-- POST /api/v1/licenses: a new license per request, each for its own Install ID,
-- authenticated by the staff token in LICD_BENCH_TOKEN.
dofile(os.getenv("LICD_BENCH_WRK") .. "/report.lua")

local headers, count = nil, 0
function init(args)
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("LICD_BENCH_TOKEN"),
  }
end

function request()
  count = count + 1
  local body = string.format(
    '{"name":"wrk","install_id":"wrk-%d-%d-%d","internal_users":5,"expires_at":"2030-06-01T00:00:00Z"}',
    os.time(), slot, count)
  return wrk.format("POST", "/api/v1/licenses", headers, body)
end
