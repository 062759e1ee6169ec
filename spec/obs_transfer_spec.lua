-- Large transfers with client.obs against the emulator, each in a child
-- process: a file streamed up and down with the resident memory bounded,
-- and upload_file killed (SIGKILL) half-way then resumed from its
-- checkpoint, each acknowledged part sent once; an object corrupted at
-- rest in the emulator's folder caught by the MD5 check, or let through
-- with the check turned off.
local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"
local cjson = require "cjson"

local PID = "0123456789abcdef0123456789abcdef"
local emu, dir

-- a child Lua running `body` with a client `c` for the emulator
local function child_script(name, body)
  local path = dir .. "/" .. name .. ".lua"
  util.write_file(path, ([[
local hwcloud = require "hwcloud"
local c = assert(hwcloud.client{ endpoint = %q, ak = %q, sk = %q, project_id = %q,
                                progress = false })
]]):format(emu.url, emu.ak, emu.sk, PID) .. body)
  return util.clean_env(dir) .. " lua5.4 " .. util.quote(path)
end

local function peak_kib(out)
  return tonumber(out:match("VmHWM:(%d+)"))
end

describe("obs transfers #server", function()
  setup(function()
    dir = util.tmpdir("obs-transfer")
    -- objects over 1 MiB are files here, where a spec can damage one
    emu = emulator.start{ latency_ms = 0, obs_dir = dir }
  end)
  teardown(function()
    emu:stop()
    util.rmdir(dir)
  end)
  before_each(function() emu:reset() end)

  it("streams a 96 MB file up and down (whole and in ranges) with resident memory under 48 MB", function()
    local big = dir .. "/big.bin"
    assert(util.sh("head -c 100663296 /dev/urandom > " .. util.quote(big)))
    local cmd = child_script("stream", ([[
assert(c.obs:create_bucket{ bucket = "pkgs" })
local put = assert(c.obs:put_object{ bucket = "pkgs", key = "big.bin", file = %q })
local got = assert(c.obs:get_object{ bucket = "pkgs", key = "big.bin", file = %q })
local parts = assert(c.obs:download_file{ bucket = "pkgs", key = "big.bin", file = %q,
  part_size = 16777216, concurrency = 4 })
assert(parts.size == got.size)
local f = io.open("/proc/self/status"); local s = f:read("*a"); f:close()
print("etag:" .. put.etag .. " size:" .. got.size .. " VmHWM:" .. s:match("VmHWM:%%s*(%%d+)"))
]]):format(big, big .. ".back", big .. ".parts"))
    local out, code = util.capture(cmd .. " 2>&1")
    assert.equal(0, code, out)
    assert.truthy(out:find("size:100663296", 1, true), out)
    local md5 = util.capture("md5sum " .. util.quote(big) .. " | cut -c1-32")
    assert.truthy(out:find("etag:" .. md5, 1, true), out)
    assert.truthy(util.sh("cmp -s " .. util.quote(big) .. " " .. util.quote(big .. ".back")))
    assert.truthy(util.sh("cmp -s " .. util.quote(big) .. " " .. util.quote(big .. ".parts")))
    os.remove(big .. ".parts")
    local kib = peak_kib(out)
    assert.truthy(kib and kib < 48 * 1024, "peak resident memory " .. tostring(kib) .. " KiB")
    os.remove(big .. ".back")
    os.remove(big)
  end)

  it("resumes a killed upload_file from its checkpoint, each acknowledged part sent once", function()
    local file, cp = dir .. "/pkg.zip", dir .. "/pkg.checkpoint"
    -- 40 parts of 100 KiB, the emulator slowed so the kill lands half-way
    assert(util.sh("head -c 4096000 /dev/urandom > " .. util.quote(file)))
    local c = emu:client(PID)
    assert(c.obs:create_bucket{ bucket = "pkgs" })
    local slow = emulator.start{ latency_ms = 60 }
    local ok, err = pcall(function()
      local saved = emu
      emu = slow
      local cmd = child_script("upload", ([[
assert(c.obs:create_bucket{ bucket = "pkgs" })
local res, err = c.obs:upload_file{ bucket = "pkgs", key = "pkg.zip", file = %q,
  part_size = 102400, concurrency = 2, checkpoint = %q }
print(res and "done" or tostring(err))
]]):format(file, cp))
      emu = saved
      local pid = util.capture(cmd .. " >/dev/null 2>&1 & echo $!")
      -- wait for a few acknowledged parts, then kill
      local parts = 0
      for _ = 1, 200 do
        emulator.sleep(0.05)
        local s = util.read_file(cp)
        local doc = s and cjson.decode(s)
        parts = doc and #doc.parts or 0
        if parts >= 6 then break end
      end
      assert(util.sh("kill -KILL " .. pid))
      assert.truthy(parts >= 6, "the upload did not get far enough: " .. parts)
      emulator.sleep(0.2)
      local doc = cjson.decode(util.read_file(cp))
      local acked = {}
      for _, p in ipairs(doc.parts) do acked[p.n] = true end
      assert.truthy(#doc.parts < 40, "the upload finished before it was killed")

      -- resumed here, against the same emulator
      local c2 = slow:client(PID)
      local res = assert(c2.obs:upload_file{ bucket = "pkgs", key = "pkg.zip", file = file,
        part_size = 102400, concurrency = 2, checkpoint = cp })
      assert.equal(40, res.parts)
      assert.equal(doc.upload_id, res.upload_id)
      assert.is_nil(util.read_file(cp)) -- removed once complete
      local sends = slow:admin("GET", "/_emulator/obs/parts")
      for n = 1, 40 do
        local k = doc.upload_id .. "#" .. n
        if acked[n] then
          assert.equal(1, sends[k], "acknowledged part " .. n .. " sent again")
        else
          assert.truthy((sends[k] or 0) >= 1, "part " .. n .. " never sent")
        end
      end
      local back = dir .. "/pkg.back"
      assert(c2.obs:get_object{ bucket = "pkgs", key = "pkg.zip", file = back })
      assert.truthy(util.sh("cmp -s " .. util.quote(file) .. " " .. util.quote(back)))
    end)
    slow:stop()
    assert(ok, err)
  end)

  it("refuses a checkpoint of another upload, never splicing it", function()
    local c = emu:client(PID)
    assert(c.obs:create_bucket{ bucket = "pkgs" })
    local a, b, cp = dir .. "/a.bin", dir .. "/b.bin", dir .. "/other.checkpoint"
    assert(util.sh("head -c 300000 /dev/urandom > " .. util.quote(a)))
    assert(util.sh("head -c 300000 /dev/urandom > " .. util.quote(b)))
    util.write_file(cp, cjson.encode { version = 1, bucket = "pkgs", key = "a", file = util.abs(a),
      size = 300000, mtime = 1, part_size = 102400, upload_id = "x", parts = {} })
    local before = emu:counts()["obs.upload_part"]
    for _, case in ipairs {
      { file = a, key = "a", why = "mtime" },
      { file = b, key = "a", why = "file" },
      { file = a, key = "other", why = "key" },
    } do
      local _, err = c.obs:upload_file{ bucket = "pkgs", key = case.key, file = case.file,
        part_size = 102400, checkpoint = cp }
      assert.equal("checkpoint", err.field)
      assert.truthy(tostring(err):find(case.why, 1, true), tostring(err))
    end
    assert.equal(before, emu:counts()["obs.upload_part"])
    assert.truthy(util.read_file(cp)) -- left as it was
    -- without a checkpoint the same file goes up in parts
    local res = assert(c.obs:upload_file{ bucket = "pkgs", key = "a", file = a, part_size = 102400,
      concurrency = 3 })
    assert.equal(3, res.parts)
    assert.truthy(res.etag:find("%-3$"))
  end)

  it("reports an object whose bytes do not match its ETag, unless the check is off", function()
    local c = emu:client(PID)
    assert(c.obs:create_bucket{ bucket = "pkgs" })
    local src, dst = dir .. "/good.bin", dir .. "/got.bin"
    local data = ("0123456789abcdef"):rep(2 * 65536) -- 2 MiB: stored as a file
    util.write_file(src, data)
    local before = util.capture("ls " .. util.quote(dir))
    assert(c.obs:put_object{ bucket = "pkgs", key = "pkg", file = src })
    local stored
    for name in util.capture("ls " .. util.quote(dir)):gmatch("object%-[%d%-]+") do
      if not before:find(name, 1, true) then stored = dir .. "/" .. name end
    end
    assert.is_string(stored)
    -- one byte changed in place: the size and the ETag stay as they were
    local f = assert(io.open(stored, "r+b"))
    f:seek("set", 1000000)
    f:write("X")
    f:close()
    local bad = data:sub(1, 1000000) .. "X" .. data:sub(1000002)

    -- checked by default: to a file, to memory, in ranges
    local _, err = c.obs:get_object{ bucket = "pkgs", key = "pkg", file = dst }
    assert.equal("decode", err.kind)
    assert.truthy(tostring(err):find("do not match its ETag", 1, true), tostring(err))
    _, err = c.obs:get_object{ bucket = "pkgs", key = "pkg" }
    assert.truthy(tostring(err):find("do not match its ETag", 1, true), tostring(err))
    _, err = c.obs:download_file{ bucket = "pkgs", key = "pkg", file = dst, part_size = 1048576 }
    assert.truthy(tostring(err):find("do not match", 1, true), tostring(err))

    -- checksum = false: the bytes as they came, not reported
    local got = assert(c.obs:get_object{ bucket = "pkgs", key = "pkg", file = dst, checksum = false })
    assert.equal(#data, got.size)
    assert.equal(bad, util.read_file(dst))
    got = assert(c.obs:get_object{ bucket = "pkgs", key = "pkg", checksum = false })
    assert.equal(bad, got.body)
    assert(c.obs:download_file{ bucket = "pkgs", key = "pkg", file = dst, part_size = 1048576,
      checksum = false })
    assert.equal(bad, util.read_file(dst))

    -- the client's obs_checksum = false, and a call that asks for the check anyway
    local off = emu:client(PID, { obs_checksum = false })
    assert(off.obs:get_object{ bucket = "pkgs", key = "pkg", file = dst })
    _, err = off.obs:get_object{ bucket = "pkgs", key = "pkg", file = dst, checksum = true }
    assert.truthy(tostring(err):find("do not match its ETag", 1, true), tostring(err))
    -- uploads without the check still arrive whole
    assert(off.obs:put_object{ bucket = "pkgs", key = "again", file = src })
    assert(off.obs:upload_file{ bucket = "pkgs", key = "parts", file = src, part_size = 1048576 })
    assert.equal(data, assert(c.obs:get_object{ bucket = "pkgs", key = "parts" }).body)

    _, err = c.obs:get_object{ bucket = "pkgs", key = "pkg", checksum = "no" }
    assert.equal("checksum", err.field)
    os.remove(src) os.remove(dst)
  end)
end)
