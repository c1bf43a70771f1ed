-- GET the URL as is (nginx ceiling). Prints the JSON summary via report.lua.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
