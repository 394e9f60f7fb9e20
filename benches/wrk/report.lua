-- Shared by the wrk scripts: each thread's number (`slot`, 0-based), and one
-- machine-readable line per run for benches/fleet.rs.
local threads_seen = 0
function setup(thread)
  thread:set("slot", threads_seen)
  threads_seen = threads_seen + 1
end

-- Called at the end of a script's `init`. wrk runs the threads' `init`s one after
-- another and starts each thread as soon as its own is done; its clock (`-d`) starts
-- after the last. That thread says so on stderr, and benches/fleet.rs times licd's own
-- counters from there: requests sent before (while later threads load) count in wrk's
-- total but not in its duration.
function loaded()
  if slot == tonumber(os.getenv("LICD_BENCH_WRK_THREADS")) - 1 then
    io.stderr:write("WRK-LOADED\n")
    io.stderr:flush()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
