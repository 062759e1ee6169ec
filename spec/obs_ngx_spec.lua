-- client.obs inside nginx (the cosocket engine) against the emulator: the
-- same operations as with libcurl, files streamed through cosockets with
-- the worker's resident memory bounded. Handlers: spec/fixtures/ngx/.
local emulator = require "spec.helpers.emulator"
local server = require "spec.helpers.server"
local util = require "spec.helpers.util"
local cjson = require "cjson"

local PID = "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"

describe("obs inside nginx #server", function()
  local emu, srv, dir

  setup(function()
    dir = util.tmpdir("obs-ngx")
    emu = emulator.start{}
    srv = server.start{
      name = "obs-ngx",
      conf = util.read_file("spec/fixtures/ngx/nginx.conf"),
      vars = { ak = emu.ak, sk = emu.sk, project_id = PID, plain = emu.url, slow300 = emu.url,
               slow500 = emu.url, tls = emu.url, untrusted = emu.url,
               trusted_cert = "/etc/ssl/certs/ca-certificates.crt" },
    }
  end)
  teardown(function()
    if srv then srv:stop() end
    if emu then emu:stop() end
    util.rmdir(dir)
  end)
  before_each(function() emu:reset() end)

  local function op(operation, request, client)
    local r = emulator.curl("POST", srv:url("/op"), { timeout = 120, body = cjson.encode {
      service = "obs", operation = operation, request = request, client = client } })
    assert(r.json, "no JSON from /op (" .. r.status .. "): " .. r.body .. "\n" .. srv:log():sub(-2000))
    return r.json
  end

  for _, mode in ipairs { "obs", "v2", "v4" } do
    it("speaks OBS over cosockets with signature " .. mode, function()
      local cl = { obs_signature = mode, region = "cn-north-4" }
      local a = op("create_bucket", { bucket = "pkgs" }, cl)
      assert.equal(cjson.null, a.err, cjson.encode(a.err))
      assert.equal("ngx", a.engine)
      a = op("put_object", { bucket = "pkgs", key = "a/b c.txt", body = "hello" }, cl)
      assert.equal("5d41402abc4b2a76b9719d911017c592", a.result.etag)
      a = op("get_object", { bucket = "pkgs", key = "a/b c.txt", range = "bytes=1-3" }, cl)
      assert.equal("ell", a.result.body)
      a = op("get_object", { bucket = "pkgs", key = "missing" }, cl)
      assert.equal("NoSuchKey", a.err.code)
      assert.equal(404, a.err.status)
      a = op("list_objects", { bucket = "pkgs", prefix = "a/" }, cl)
      assert.equal("a/b c.txt", a.result.contents[1].key)
    end)
  end

  it("streams a 64 MB file up and down through cosockets, the worker staying small", function()
    local big = dir .. "/big.bin"
    assert(util.sh("head -c 67108864 /dev/urandom > " .. util.quote(big)))
    assert.equal(cjson.null, op("create_bucket", { bucket = "pkgs" }).err)
    local base = emulator.curl("GET", srv:url("/vmhwm")).json
    local a = op("put_object", { bucket = "pkgs", key = "big", file = big })
    assert.equal(cjson.null, a.err, cjson.encode(a.err))
    local md5 = util.capture("md5sum " .. util.quote(big) .. " | cut -c1-32")
    assert.equal(md5, a.result.etag)
    a = op("get_object", { bucket = "pkgs", key = "big", file = big .. ".back" })
    assert.equal(cjson.null, a.err, cjson.encode(a.err))
    assert.equal(67108864, a.result.size)
    assert.truthy(util.sh("cmp -s " .. util.quote(big) .. " " .. util.quote(big .. ".back")))
    a = op("upload_file", { bucket = "pkgs", key = "parts", file = big, part_size = 8388608,
                            concurrency = 4 })
    assert.equal(cjson.null, a.err, cjson.encode(a.err))
    assert.equal(8, a.result.parts)
    a = op("download_file", { bucket = "pkgs", key = "parts", file = big .. ".parts",
                              part_size = 8388608, concurrency = 4 })
    assert.equal(cjson.null, a.err, cjson.encode(a.err))
    assert.truthy(util.sh("cmp -s " .. util.quote(big) .. " " .. util.quote(big .. ".parts")))
    os.remove(big .. ".parts")
    local m = emulator.curl("GET", srv:url("/vmhwm")).json
    assert.truthy(m.vmhwm_kib < 48 * 1024, "worker peak " .. tostring(m.vmhwm_kib) .. " KiB")
    -- 64 MB went each way (and 64 MB more in parts): the worker grew by far less
    assert.truthy(m.vmhwm_kib - base.vmhwm_kib < 16 * 1024,
      "worker grew from " .. base.vmhwm_kib .. " to " .. m.vmhwm_kib .. " KiB")
    os.remove(big .. ".back")
    os.remove(big)
  end)
end)
