-- Object storage transfers for tools/bench.sh (obs-put, obs-get), against
-- an emulator: a file put with put_object and got back with get_object,
-- each in a process of its own so its peak resident memory is its own.
--   lua5.4 bench/obs.lua prepare ENDPOINT DIR MB
--       writes DIR/obs.bin (MB MiB of random bytes), makes the bucket, and
--       writes DIR/put.url and DIR/get.url: signed URLs for curl(1) to
--       make the same transfers to the same server
--   lua5.4 bench/obs.lua put ENDPOINT FILE [nocheck]
--   lua5.4 bench/obs.lua get ENDPOINT FILE [nocheck]
--       -> seconds=<the transfer> vmhwm_kib=<the process's peak resident memory>
--       (nocheck: checksum = false, no MD5 taken or compared with the ETag)
--   lua5.4 bench/obs.lua md5 ENDPOINT FILE
--       -> seconds=<core.file_digest("md5", FILE) alone>: what the check
--       adds to a transfer at the least, the bound printed beside it
--   lua5.4 bench/obs.lua prepare-upload ENDPOINT DIR MB PART_MB
--       writes DIR/big.bin (MB MiB of random bytes) cut into DIR/parts/
--       (PART_MB MiB each)
--   lua5.4 bench/obs.lua plan-upload ENDPOINT DIR
--       starts a multipart upload for curl and writes DIR/parts.curl, a
--       curl(1) config that puts each part to its signed URL (for `curl
--       --parallel --parallel-max 4 -K DIR/parts.curl`, printing "N status
--       etag" a part), and DIR/complete.url, the signed completion
--   lua5.4 bench/obs.lua upload ENDPOINT FILE PART_MB CONCURRENCY
--       upload_file with that part size and concurrency
--       -> seconds=... vmhwm_kib=...
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
elseif mode == "prepare-upload" then
  local file, part_mb = a .. "/big.bin", tonumber(arg[5])
  assert(os.execute(("head -c %d /dev/urandom > '%s' && rm -rf '%s/parts' && mkdir '%s/parts' && "
    .. "split -b %dM -d -a 5 '%s' '%s/parts/part.'"):format(tonumber(b) * 1048576, file, a, a, part_mb, file, a)))
  local _, err = client.obs:head_bucket{ bucket = BUCKET }
  if err then assert(client.obs:create_bucket{ bucket = BUCKET }) end
elseif mode == "plan-upload" then
  -- a multipart upload for curl, started with a signed POST; its parts'
  -- and its completion's signed URLs
  local key = KEY .. ".parts"
  local init = assert(client.obs:create_signed_url{ method = "POST", bucket = BUCKET, key = key,
    query = { uploads = "" }, expires = 7200 })
  local p = assert(io.popen(("curl -sS -X POST '%s'"):format(init)))
  local answer = p:read("*a")
  p:close()
  local upload_id = assert(answer:match("<UploadId>([^<]+)</UploadId>"), answer)
  local cfg = {}
  local ls = assert(io.popen(("ls '%s/parts' | sort"):format(a)))
  local n = 0
  for name in ls:lines() do
    n = n + 1
    local url = assert(client.obs:create_signed_url{ method = "PUT", bucket = BUCKET, key = key,
      query = { partNumber = tostring(n), uploadId = upload_id }, expires = 7200 })
    -- each transfer's options: `next` starts the next one afresh
    cfg[#cfg + 1] = ('upload-file = "%s/parts/%s"\nurl = "%s"\noutput = "/dev/null"\nsilent\nshow-error\n'
      .. 'header = "Expect:"\nwrite-out = "%d %%{http_code} %%header{etag}\\n"\n'):format(a, name, url, n)
  end
  ls:close()
  write(a .. "/parts.curl", table.concat(cfg, "next\n"))
  write(a .. "/complete.url", assert(client.obs:create_signed_url{ method = "POST", bucket = BUCKET,
    key = key, query = { uploadId = upload_id }, content_type = "application/xml", expires = 7200 }))
elseif mode == "upload" then
  local t0 = core.now()
  assert(client.obs:upload_file{ bucket = BUCKET, key = KEY .. ".multipart", file = a,
    part_size = tonumber(b) * 1048576, concurrency = tonumber(arg[5]) })
  print(("seconds=%.6f"):format(core.now() - t0))
  print(("vmhwm_kib=%d"):format(peak()))
elseif mode == "put" or mode == "get" then
  local check = b ~= "nocheck"
  local t0 = core.now()
  if mode == "put" then
    assert(client.obs:put_object{ bucket = BUCKET, key = KEY, file = a, checksum = check })
  else
    assert(client.obs:get_object{ bucket = BUCKET, key = KEY, file = a, checksum = check })
  end
  print(("seconds=%.6f"):format(core.now() - t0))
  print(("vmhwm_kib=%d"):format(peak()))
elseif mode == "md5" then
  local t0 = core.now()
  assert(core.file_digest("md5", a))
  print(("seconds=%.6f"):format(core.now() - t0))
else
  io.stderr:write("usage: bench/obs.lua prepare|put|get|md5|prepare-upload|plan-upload|upload ENDPOINT ...\n")
  os.exit(2)
end
client:close()
