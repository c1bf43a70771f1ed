-- GET with the session cookie(s) from BENCH_COOKIE ("name=value; name2=value2").
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
