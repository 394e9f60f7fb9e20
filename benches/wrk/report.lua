-- Shared by the wrk scripts: each thread's number (`slot`, 0-based), and one
-- machine-readable line per run for benches/fleet.rs.
local threads_seen = 0
function setup(thread)
  thread:set("slot", threads_seen)
  threads_seen = threads_seen + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
