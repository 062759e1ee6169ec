-- Operations whose body or answer is not JSON, on libcurl: multipart forms
-- with file parts streamed from disk, form-urlencoded and json-patch
-- bodies, byte-stream answers to memory or to `output`, against the
-- emulator (which checks the signature and parses the forms); the wire of
-- each compared with what the official Python SDK sends
-- (spec/fixtures/wire/nonjson.json, tools/capture_nonjson.py); and the
-- bad input refused before anything leaves.
local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"
local cjson = require "cjson"
local hwcloud = require "hwcloud"

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

local function md5_of(path)
  return (util.capture("md5sum " .. util.quote(path)):match("^(%x+)"))
end

local function header(list, name)
  local found = {}
  for _, h in ipairs(list) do
    local k, v = h:match("^([^:]+):%s*(.*)$")
    if k and k:lower() == name then found[#found + 1] = v end
  end
  return found
end

describe("non-JSON operations on libcurl #server", function()
  local emu, client, dir

  setup(function()
    dir = util.tmpdir("nonjson")
    emu = emulator.start {}
    client = emu:client(PID)
  end)
  teardown(function()
    if client then client:close() end
    if emu then emu:stop() end
    util.rmdir(dir)
  end)
  before_each(function() emu:reset() end)

  local function forms()
    return (emu:admin("GET", "/_emulator/forms"))
  end

  it("sends a multipart form, its file part streamed from disk", function()
    local path = dir .. "/chart-1.tgz"
    assert(util.sh("head -c 3000000 /dev/urandom > " .. util.quote(path)))
    local res, err = client.cce:upload_chart { content = { path = path },
                                                parameters = '{"override":true}' }
    assert.is_nil(err)
    assert.is_table(res)
    local got = forms()["cce.upload_chart"]
    assert.are.equal('{"override":true}', got.parameters)
    assert.are.same({ filename = "chart-1.tgz", size = 3000000, md5 = md5_of(path) },
      { filename = got.content.filename, size = got.content.size, md5 = got.content.md5 })
    assert.is_nil(got.content.content_type)
  end)

  it("sends a file part given as data, with its own name and content type", function()
    local res, err = client.cce:upload_chart { content = { data = "chart bytes\0\r\n--x",
      filename = 'my "chart".tgz', content_type = "application/gzip" } }
    assert.is_nil(err)
    assert.is_table(res)
    local got = forms()["cce.upload_chart"].content
    assert.are.equal(17, got.size)
    assert.are.equal("application/gzip", got.content_type)
    assert.are.equal("my %22chart%22.tgz", got.filename)
  end)

  it("sends a form-urlencoded body", function()
    local res, err = client.ucs:register_cluster_group { metadata = "a b&c=d/é", spec = "s+1" }
    assert.is_nil(err)
    assert.are.equal("a b&c=d/é", res.metadata)
    assert.are.same({ metadata = "a b&c=d/é", spec = "s+1" }, forms()["ucs.register_cluster_group"])
  end)

  it("sends a json-patch body the emulator accepts as signed", function()
    local img = assert(client.ims:glance_create_image_metadata { name = "img-1",
      container_format = "bare", disk_format = "qcow2" })
    local res, err = client.ims:glance_update_image { image_id = img.id,
      body = { { op = "replace", path = "/name", value = "img-2" } } }
    assert.is_nil(err)
    assert.are.equal(img.id, res.id)
    -- a patch of a wrong shape is refused by the emulator's own checks
    local _, berr = client.ims:glance_update_image { image_id = img.id, body = { "replace" } }
    assert.are.equal("validation", berr.kind)
  end)

  it("returns a byte-stream answer as { status, headers, body }", function()
    local res = assert(client.cce:download_chart { chart_id = "c-1" })
    assert.are.equal(200, res.status)
    assert.are.equal("hwcloud emulator: the bytes of cce.download_chart\n", res.body)
    assert.are.equal("application/octet-stream", res.headers["content-type"])
  end)

  it("writes a byte-stream answer to output = PATH", function()
    local bytes = {}
    for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
    local blob = table.concat(bytes):rep(4096) -- 1 MiB, every byte value
    assert(emu:respond { operation = "cce.download_chart", status = 200, body = blob,
                         headers = { ["Content-Type"] = "application/octet-stream" } })
    local out = dir .. "/chart.out"
    local res = assert(client.cce:download_chart({ chart_id = "c-1" }, { output = out }))
    assert.are.equal(200, res.status)
    assert.are.equal(out, res.path)
    assert.are.equal(#blob, res.size)
    assert.is_nil(res.body)
    assert.are.equal(blob, util.read_file(out))
  end)

  it("refuses an output path that cannot be written, before the request leaves", function()
    local res, err = client.cce:download_chart({ chart_id = "c-1" },
      { output = dir .. "/no/such/dir/out" })
    assert.is_nil(res)
    assert.are.equal("validation", err.kind)
    assert.are.equal("opts.output", err.field)
    assert.matches("no/such/dir/out", err.message, 1, true)
    assert.is_nil(emu:counts()["cce.download_chart"])
    -- output is for byte answers only
    local _, jerr = client.cce:list_charts({}, { output = dir .. "/x" })
    assert.are.equal("opts.output", jerr.field)
  end)

  it("refuses a file part that cannot be read, naming the field and the path, nothing sent", function()
    local missing = dir .. "/missing.tgz"
    local res, err = client.cce:upload_chart { content = { path = missing } }
    assert.is_nil(res)
    assert.are.equal("validation", err.kind)
    assert.are.equal("content", err.field)
    assert.matches(missing, err.message, 1, true)
    local _, derr = client.cce:upload_chart { content = { path = dir } }
    assert.are.equal("content", derr.field)
    assert.matches(dir, derr.message, 1, true)
    local _, serr = client.cce:upload_chart { content = "chart.tgz" }
    assert.are.equal("content", serr.field)
    assert.matches("expected a file", serr.message, 1, true)
    assert.is_nil(emu:counts()["cce.upload_chart"])
  end)
end)

describe("non-JSON operations on the wire", function()
  local fixture = cjson.decode(util.read_file("spec/fixtures/wire/nonjson.json"))
  local dir

  setup(function() dir = util.tmpdir("nonjson-wire") end)
  teardown(function() util.rmdir(dir) end)

  local function recording()
    return assert(require("hwcloud.client").recording {
      endpoint = "http://127.0.0.1:9", ak = "WIREAK", sk = "wire-secret",
      project_id = "wireproject0001", domain_id = "wiredomain0001" })
  end

  local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

  -- what the official SDK sent vs what this client sends
  local function compare(want, sent, body_of)
    assert.are.equal(want.method, sent.method)
    assert.are.equal(want.target, sent.url:match("^https?://[^/]+(.*)$"))
    local ct = header(sent.headers, "content-type")
    assert.are.equal(1, #ct)
    local boundary = ct[1]:match("boundary=(%x+)")
    local body = sent.body
    if boundary then
      ct[1] = ct[1]:gsub(boundary, "BOUNDARY")
      body = body:gsub(boundary, "BOUNDARY")
    end
    assert.are.equal(want.headers["content-type"], ct[1])
    assert.are.same({ want.headers["x-sdk-content-sha256"] }, header(sent.headers, "x-sdk-content-sha256"))
    assert.are.equal(tonumber(want.headers["content-length"]), #body)
    body_of(unhex(want.body_hex), body)
  end

  it("sends CCE upload_chart's multipart form byte for byte as the Python SDK", function()
    local path = dir .. "/chart.bin"
    util.write_file(path, unhex(fixture.file_hex))
    local c, sends = recording()
    assert(c.cce:upload_chart { content = { path = path }, parameters = '{"override":true}' })
    compare(fixture.operations["cce.upload_chart"], sends[1], assert.are.equal)
  end)

  it("sends UCS register_cluster_group's form byte for byte as the Python SDK", function()
    local c, sends = recording()
    assert(c.ucs:register_cluster_group { metadata = "a b&c=d/é", spec = "s+1" })
    compare(fixture.operations["ucs.register_cluster_group"], sends[1], assert.are.equal)
  end)

  it("sends IMS glance_update_image's JSON patch as the Python SDK (compact JSON)", function()
    local c, sends = recording()
    assert(c.ims:glance_update_image { image_id = "img-1",
      body = { { op = "replace", path = "/name", value = "img-2" } } })
    local want = fixture.operations["ims.glance_update_image"]
    -- the SDK writes ", " and ": ": the same JSON, shorter here
    want.headers["content-length"] = #sends[1].body
    compare(want, sends[1], function(w, got) assert.are.same(cjson.decode(w), cjson.decode(got)) end)
  end)

  it("sends one Content-Type, the operation's, where the Go SDK described a Content-Type field", function()
    local c, sends = recording()
    -- the newer Python SDK, which the descriptions follow, overrides its
    -- Content-Type parameter with the operation's: hwcloud has no such field
    local _, err = c.cse:create_governance_policy { ["Content-Type"] = "text/plain",
      ["X-Enterprise-Project-ID"] = "0", ["x-engine-id"] = "eng-1", kind = "retry", name = "r" }
    assert.are.same({ "validation", "Content-Type" }, { err.kind, err.field })
    assert(c.cse:create_governance_policy { ["X-Enterprise-Project-ID"] = "0",
      ["x-engine-id"] = "eng-1", kind = "retry", name = "r" })
    assert.are.same({ "application/json" }, header(sends[1].headers, "content-type"))
    assert.are.same({ "eng-1" }, header(sends[1].headers, "x-engine-id"))
  end)

  it("fills {domain_id} of a path with the account's domain id instead of raising", function()
    local c, sends = recording()
    local ok, res, err = pcall(c.ec.change_ieg_password, c.ec, { ieg_id = "ieg-1", password = "p" })
    assert.is_true(ok, tostring(res))
    assert.is_nil(err)
    assert.matches("/v1/wiredomain0001/enterprise%-connect/intelligent%-enterprise%-gateway/ieg%-1/password$",
      sends[#sends].url)
    -- a path field typed "any" is sent as its text
    ok, res, err = pcall(c.octopus.delete_sim_extensions, c.octopus, { id = "7" })
    assert.is_true(ok, tostring(res))
    assert.is_nil(err)
    assert.matches("/sim/pm/extensions/7$", sends[#sends].url)
  end)

  it("a client with no domain id and no way to find one: nil, err, not a raise", function()
    local c = assert(hwcloud.client { endpoint = "http://127.0.0.1:9", token = "MIIEtoken",
                                      project_id = PID, retries = 0, timeout = 2 })
    local ok, res, err = pcall(c.ec.change_ieg_password, c.ec, { ieg_id = "ieg-1", password = "p" })
    assert.is_true(ok, tostring(res))
    assert.is_nil(res)
    assert.is_table(err)
  end)
end)
