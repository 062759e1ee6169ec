-- A large multipart upload for tools/bench.sh (multipart): CCE upload_chart
-- with its file part streamed from disk to a loopback sink (an nginx that
-- reads every byte and answers {}), in a process of its own so its peak
-- resident memory is its own.
--   lua5.4 bench/multipart.lua ENDPOINT FILE
--       -> seconds=<the call> vmhwm_kib=<the process's peak resident memory>
local core = require "hwcloud.core"
local hwcloud = require "hwcloud"

local endpoint, file = arg[1], arg[2]
if not (endpoint and file) then
  io.stderr:write("usage: bench/multipart.lua ENDPOINT FILE\n")
  os.exit(2)
end

local client = assert(hwcloud.client{ endpoint = endpoint, ak = "HWCLOUDEMULATORAK001",
  sk = "hwcloud-emulator-secret", project_id = "0123456789abcdef0123456789abcdef",
  progress = false, timeout = 600, retries = 0 })

local function peak()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end

local t0 = core.now()
assert(client.cce:upload_chart{ content = { path = file }, parameters = "{}" })
print(("seconds=%.6f"):format(core.now() - t0))
print(("vmhwm_kib=%d"):format(peak()))
client:close()
