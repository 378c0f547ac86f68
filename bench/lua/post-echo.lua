-- POST /echo with a 1 KiB body (wrk.format() adds Content-Length). Usage: wrk -s post-echo.lua URL
wrk.method = "POST"
wrk.body = string.rep("0123456789abcdef", 64)
wrk.headers["Content-Type"] = "text/plain"
