-- wrk script: replays one pre-signed reinstall_server request (method, body
-- and the headers bench/presign.lua wrote to the file named by
-- BENCH_HEADERS).
wrk.method = "POST"
wrk.body = '{"update_access_agent":false}'
for line in io.lines(os.getenv("BENCH_HEADERS")) do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
