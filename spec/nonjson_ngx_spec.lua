-- Non-JSON operations inside nginx (the cosocket engine) against the
-- emulator: a multipart form whose file part is written a piece at a
-- time, a form-urlencoded body, byte-stream answers to memory and to
-- `output`, and a file that cannot be read refused before anything leaves.
-- Handlers: spec/fixtures/ngx/.
local emulator = require "spec.helpers.emulator"
local server = require "spec.helpers.server"
local util = require "spec.helpers.util"
local cjson = require "cjson"

local PID = "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"

describe("non-JSON operations inside nginx #server", function()
  local emu, srv, dir

  setup(function()
    dir = util.tmpdir("nonjson-ngx")
    emu = emulator.start{}
    srv = server.start{
      name = "nonjson-ngx",
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

  local function op(service, operation, request, opts)
    local r = emulator.curl("POST", srv:url("/op"), { timeout = 120, body = cjson.encode {
      service = service, operation = operation, request = request, opts = opts } })
    assert(r.json, "no JSON from /op (" .. r.status .. "): " .. r.body .. "\n" .. srv:log():sub(-2000))
    return r.json
  end

  local function forms() return (emu:admin("GET", "/_emulator/forms")) end

  it("sends a multipart form over cosockets, its 16 MB file part a piece at a time", function()
    local path = dir .. "/chart.tgz"
    assert(util.sh("head -c 16777216 /dev/urandom > " .. util.quote(path)))
    local a = op("cce", "upload_chart", { content = { path = path }, parameters = "{}" })
    assert.equal(cjson.null, a.err, cjson.encode(a.err))
    assert.equal("ngx", a.engine)
    local got = forms()["cce.upload_chart"]
    assert.equal("{}", got.parameters)
    assert.equal(16777216, got.content.size)
    assert.equal(util.capture("md5sum " .. util.quote(path) .. " | cut -c1-32"), got.content.md5)
    os.remove(path)
  end)

  it("sends a form-urlencoded body over cosockets", function()
    local a = op("ucs", "register_cluster_group", { metadata = "a b&c", spec = "é" })
    assert.equal(cjson.null, a.err, cjson.encode(a.err))
    assert.equal("ngx", a.engine)
    assert.same({ metadata = "a b&c", spec = "é" }, forms()["ucs.register_cluster_group"])
  end)

  it("returns a byte-stream answer, or writes it to output", function()
    local a = op("cce", "download_chart", { chart_id = "c-1" })
    assert.equal(cjson.null, a.err, cjson.encode(a.err))
    assert.equal("ngx", a.engine)
    assert.equal("hwcloud emulator: the bytes of cce.download_chart\n", a.result.body)
    local blob = ("0123456789abcdef\0\255"):rep(100000)
    assert(emu:respond { operation = "cce.download_chart", status = 200, body = blob })
    local out = dir .. "/chart.out"
    a = op("cce", "download_chart", { chart_id = "c-1" }, { output = out })
    assert.equal(cjson.null, a.err, cjson.encode(a.err))
    assert.equal(out, a.result.path)
    assert.equal(#blob, a.result.size)
    assert.equal(blob, util.read_file(out))
  end)

  it("refuses a file that cannot be read and an output that cannot be written, nothing sent", function()
    local a = op("cce", "upload_chart", { content = { path = dir .. "/missing" } })
    assert.equal("content", a.err.field)
    assert.truthy(a.err.message:find(dir .. "/missing", 1, true))
    a = op("cce", "download_chart", { chart_id = "c-1" }, { output = dir .. "/no/dir/x" })
    assert.equal("opts.output", a.err.field)
    assert.equal(0, a.requests)
    local counts = emu:counts()
    assert.is_nil(counts["cce.upload_chart"])
    assert.is_nil(counts["cce.download_chart"])
  end)
end)
