-- Signatures per second of hwcloud.sign (the public Lua API: checks its
-- arguments, then core.sign) on the reinstall_server request.
--   lua5.4 bench/sign.lua SECONDS      -> sign_rate=..., core_sign_rate=...
--   lua5.4 bench/sign.lua check DATE   -> authorization=... for a fixed X-Sdk-Date
local hwcloud = require "hwcloud"
local core = require "hwcloud.core"
local B = require "bench.common"

local url = "https://appstream.cn-north-4.myhuaweicloud.com" .. B.path()
local req = {
  method = "POST", url = url, body = B.BODY,
  headers = { ["Content-Type"] = "application/json", ["X-Project-Id"] = B.PROJECT_ID },
}
local creds = { ak = B.AK, sk = B.SK }

if arg[1] == "check" then
  req.headers["X-Sdk-Date"] = arg[2]
  local h = assert(hwcloud.sign(req, creds))
  B.emit("authorization", h.Authorization)
  return
end

local seconds = B.arg(1, 2)
local sign = hwcloud.sign
local function run(n)
  for _ = 1, n do sign(req, creds) end
end
B.timed(0.3, 1000, run) -- warm-up
local calls, elapsed = B.timed(seconds, 1000, run)
B.emit("sign_rate", calls / elapsed)

local h, ak, sk, body, csign = req.headers, B.AK, B.SK, B.BODY, core.sign
calls, elapsed = B.timed(seconds / 2, 1000, function(n)
  for _ = 1, n do csign("POST", url, h, body, ak, sk) end
end)
B.emit("core_sign_rate", calls / elapsed)
