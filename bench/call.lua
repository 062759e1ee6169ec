-- Sequential reinstall_server calls against the emulator with one hwcloud
-- client (libcurl, one keep-alive connection).
--   lua5.4 bench/call.lua rate ENDPOINT SECONDS
--       -> call_rate=..., calls=...
--   lua5.4 bench/call.lua rate-keepalive ENDPOINT SECONDS
--       the same with the call option retry_unsafe = true: libcurl may then
--       restart the POST on its own (by default a request that is not safe
--       to repeat goes out as `once`), to show what that guard costs
--   lua5.4 bench/call.lua memory ENDPOINT WARMUP FIRST TOTAL
--       -> rss_warm_kb, rss_first_kb (after FIRST calls), rss_total_kb (after
--          TOTAL calls), each read from /proc/self/status after a full
--          garbage collection; calls counted after the warm-up
local B = require "bench.common"

local mode, endpoint = arg[1], arg[2]
local client = B.client(endpoint)
local ws = client.workspaceapp
local req = B.request()
local opts = nil
if mode == "rate-keepalive" then
  mode, opts = "rate", { retry_unsafe = true }
end

local function calls(n)
  for _ = 1, n do
    local res, err = ws:reinstall_server(req, opts)
    if not res then error("reinstall_server failed: " .. tostring(err)) end
  end
end

local function rss_kb()
  collectgarbage("collect")
  collectgarbage("collect")
  local f = assert(io.open("/proc/self/status", "r"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

if mode == "rate" then
  B.timed(0.5, 100, calls) -- warm-up: connection open, schema loaded
  local n, elapsed = B.timed(B.arg(3, 3), 100, calls)
  B.emit("call_rate", n / elapsed)
  B.emit("calls", n)
elseif mode == "memory" then
  local warm, first, total = B.arg(3, 2000), B.arg(4, 10000), B.arg(5, 100000)
  calls(warm)
  B.emit("rss_warm_kb", rss_kb())
  local t0 = B.now()
  calls(first)
  B.emit("rss_first_kb", rss_kb())
  calls(total - first)
  B.emit("rss_total_kb", rss_kb())
  B.emit("call_rate", total / (B.now() - t0))
else
  error("usage: call.lua rate|memory ENDPOINT ...")
end
