-- POST /api/auth/sign-in/email with BENCH_EMAIL / BENCH_PASSWORD: every request verifies
-- the password hash and creates a session row.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")
wrk.body = string.format('{"email":"%s","password":"%s"}',
                         os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD"))
