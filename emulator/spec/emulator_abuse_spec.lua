-- The emulator under abuse: bodies with numbers JSON cannot carry, a
-- signature check fed white space and repeated names, admin edge cases.
-- Requests go through the curl command line, signed with hwcloud.sign.

local emulator = require "spec.helpers.emulator"

local PID = "1f2e3d4c5b6a79880796a5b4c3d2e1f0"

describe("the emulator under abuse #server", function()
  local emu, signer
  local session = emulator.session({ inventory = require "spec.fixtures.inventory" }, nil, false)
  setup(function()
    emu = session.start()
    -- the headers a signed call carries, as "Name: value" lines
    signer = { headers = function(_, method, url, content_type, body)
      local h = { ["X-Project-Id"] = PID }
      if content_type then h["Content-Type"] = content_type end
      local list = { "User-Agent: hwcloud-spec" }
      local signed = assert(require("hwcloud").sign({ method = method, url = url, headers = h, body = body },
        { ak = emu.ak, sk = emu.sk }))
      for k, v in pairs(signed) do
        list[#list + 1] = k .. ": " .. v
      end
      return list
    end }
  end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  local function signed(method, path, body, extra)
    local url = emu.url .. path
    local list = signer:headers(method, url, body and "application/json" or nil, body)
    local h = {}
    for _, line in ipairs(list) do
      local k, v = line:match("^([^:]+):%s*(.*)$")
      h[k] = v
    end
    for k, v in pairs(extra or {}) do h[k] = v end
    return emulator.curl(method, url, { headers = h, body = body, timeout = 30 })
  end

  local WORKSHOPS = "/v2/meshes/mesh-1/workshops"
  local function workshop(extra)
    return '{"metadata":{"name":"w1"},"spec":{"primaryCluster":"c","ingress":'
      .. '{"elbId":"e","elbIp":"10.0.0.1","port":80}}' .. extra .. '}'
  end

  for _, bad in ipairs { "NaN", "Infinity", "-Infinity", "1e999" } do
    it("refuses a body with " .. bad .. " and keeps listing the project", function()
      local r = signed("POST", WORKSHOPS, workshop(',"description":"d","x":' .. bad))
      assert.equal(400, r.status, r.body)
      r = signed("GET", WORKSHOPS)
      assert.equal(200, r.status, r.body)
    end)
  end

  it("takes a valid body (the signing here is right)", function()
    local r = signed("POST", WORKSHOPS, workshop(""))
    assert.is_true(r.status < 300, r.body)
  end)

  it("refuses SignedHeaders that name a header twice, at once", function()
    local base = signer:headers("GET", emu.url .. WORKSHOPS, nil, nil)
    local authz
    for _, line in ipairs(base) do
      authz = authz or line:match("^Authorization:%s*(.*)$")
    end
    local names = {}
    for i = 1, 1000 do names[i] = "x-pad" end
    local forged = authz:gsub("SignedHeaders=([^,]+)",
      "SignedHeaders=%1;" .. table.concat(names, ";"))
    local r = signed("GET", WORKSHOPS, nil, {
      Authorization = forged, ["X-Pad"] = "a" .. string.rep(" ", 7000) .. "b" })
    assert.equal(401, r.status)
    -- one request must not hold the worker: the next one is served
    r = signed("GET", WORKSHOPS)
    assert.equal(200, r.status)
  end)

  local function fault(doc)
    return emulator.curl("POST", emu.url .. "/_emulator/faults",
      { body = doc, headers = { ["Content-Type"] = "application/json" } })
  end

  it("refuses delay_ms that is infinite or huge", function()
    assert.equal(400, fault('{"operation":"*","delay_ms":1e999}').status)
    assert.equal(400, fault('{"operation":"*","delay_ms":Infinity}').status)
    assert.equal(400, fault('{"operation":"*","delay_ms":1e12}').status)
    assert.equal(200, fault('{"operation":"*","delay_ms":10}').status)
  end)

  it("refuses a 1xx status, with or without truncate", function()
    assert.equal(400, fault('{"operation":"*","status":101}').status)
    assert.equal(400, fault('{"operation":"*","status":100,"truncate":true}').status)
  end)

  it("answers a canned body's empty arrays as []", function()
    assert.equal(200, fault('{"operation":"asm.list_workshops","status":200,'
      .. '"body":{"items":[],"nested":{"list":[ ]},"text":"[]"}}').status)
    local r = signed("GET", WORKSHOPS)
    assert.equal(200, r.status)
    assert.truthy(r.body:find('"items":[]', 1, true), r.body)
    assert.truthy(r.body:find('"list":[]', 1, true), r.body)
    assert.truthy(r.body:find('"text":"[]"', 1, true), r.body)
  end)
end)
