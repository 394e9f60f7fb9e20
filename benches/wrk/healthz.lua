-- GET /healthz: the HTTP ceiling of the same process.
dofile(os.getenv("LICD_BENCH_WRK") .. "/report.lua")
wrk.method = "GET"
wrk.path = "/healthz"
