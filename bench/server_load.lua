-- wrk script for bench/server_load.sh: every request is the same completion, whose JSON body
-- the shell script passes in AUTARKY_LOAD_BODY. Non-2xx answers are counted by wrk itself.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("AUTARKY_LOAD_BODY")
