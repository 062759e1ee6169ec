-- Object storage transfers for tools/bench.sh (obs-put, obs-get), against
-- an emulator: a file put with put_object and got back with get_object,
-- each in a process of its own so its peak resident memory is its own.
--   lua5.4 bench/obs.lua prepare ENDPOINT DIR MB
--       writes DIR/obs.bin (MB MiB of random bytes), makes the bucket, and
--       writes DIR/put.url and DIR/get.url: signed URLs for curl(1) to
--       make the same transfers to the same server
--   lua5.4 bench/obs.lua put ENDPOINT FILE
--   lua5.4 bench/obs.lua get ENDPOINT FILE
--       -> seconds=<the transfer> vmhwm_kib=<the process's peak resident memory>
local core = require "hwcloud.core"
local hwcloud = require "hwcloud"

local mode, endpoint, a, b = arg[1], arg[2], arg[3], arg[4]
local BUCKET, KEY = "bench-obs", "bench/object.bin"

local client = assert(hwcloud.client{ endpoint = endpoint, ak = "HWCLOUDEMULATORAK001",
  sk = "hwcloud-emulator-secret", project_id = "0123456789abcdef0123456789abcdef",
  progress = false, timeout = 600 })

local function peak()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
end

if mode == "prepare" then
  local file = a .. "/obs.bin"
  assert(os.execute(("head -c %d /dev/urandom > '%s'"):format(tonumber(b) * 1048576, file)))
  local _, err = client.obs:head_bucket{ bucket = BUCKET }
  if err then assert(client.obs:create_bucket{ bucket = BUCKET }) end
  write(a .. "/put.url", assert(client.obs:create_signed_url{ method = "PUT", bucket = BUCKET,
    key = KEY .. ".curl", expires = 7200 }))
  write(a .. "/get.url", assert(client.obs:create_signed_url{ method = "GET", bucket = BUCKET,
    key = KEY, expires = 7200 }))
  -- the object curl gets, put once here
  assert(client.obs:put_object{ bucket = BUCKET, key = KEY, file = file })
elseif mode == "put" or mode == "get" then
  local t0 = core.now()
  if mode == "put" then
    assert(client.obs:put_object{ bucket = BUCKET, key = KEY, file = a })
  else
    assert(client.obs:get_object{ bucket = BUCKET, key = KEY, file = a })
  end
  print(("seconds=%.6f"):format(core.now() - t0))
  print(("vmhwm_kib=%d"):format(peak()))
else
  io.stderr:write("usage: bench/obs.lua prepare|put|get ENDPOINT ...\n")
  os.exit(2)
end
client:close()
