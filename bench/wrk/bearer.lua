-- GET with "Authorization: Bearer <signed session token>" from BENCH_TOKEN, and no cookie.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
