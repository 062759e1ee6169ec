-- The C core's own cost for one call, no I/O: core.build (validate +
-- marshal the reinstall_server request) then core.sign, as call.lua and
-- auth.lua use them.
--   lua5.4 bench/core.lua rate SECONDS  -> core_us=... (microseconds per call)
--   lua5.4 bench/core.lua count N       -> 200 warm-up calls, then N calls; run
--                                          under callgrind with N and with 0
local core = require "hwcloud.core"
local services = require "hwcloud.services"
local B = require "bench.common"

local op = services.load("workspaceapp").operations.reinstall_server
local base = "https://appstream.cn-north-4.myhuaweicloud.com"
local req = B.request()
local pid, ak, sk = B.PROJECT_ID, B.AK, B.SK
local build, sign = core.build, core.sign

-- the lines auth.lua puts first on every signed request
local common = { "User-Agent: hwcloud-bench", "Accept: application/json" }

local function one()
  local path, body = build(op, req, pid)
  local h = { ["Content-Type"] = "application/json", ["X-Project-Id"] = pid }
  return sign("POST", base .. path, h, body, ak, sk, nil, common)
end

local function calls(count)
  for _ = 1, count do one() end
end

-- the same request as the other benchmarks
local path, body = build(op, req, pid)
assert(path == B.path() and body == B.BODY, "unexpected request: " .. tostring(path))

if arg[1] == "rate" then
  B.timed(0.3, 1000, calls)
  local n, elapsed = B.timed(B.arg(2, 2), 1000, calls)
  B.emit("core_us", elapsed / n * 1e6)
elseif arg[1] == "count" then
  calls(200)
  calls(B.arg(2, 0))
else
  error("usage: core.lua rate SECONDS | count N")
end
