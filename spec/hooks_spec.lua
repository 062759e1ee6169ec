-- on_request and on_response: what a client's log and trace hooks get for
-- every try of a call, that no secret is in it, and that a failing hook
-- does not break the call.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local hwcloud = require "hwcloud"
local call = require "hwcloud.call"

local PID = "5d2c1b0a99887766554433221100ffee"

-- every string inside v, for the secret checks
local function strings(v, out)
  out = out or {}
  if type(v) == "string" then out[#out + 1] = v
  elseif type(v) == "table" then
    for k, x in pairs(v) do strings(k, out); strings(x, out) end
  end
  return out
end

describe("hooks #server", function()
  local emu
  local session = emulator.session({ job_seconds = 1 }, nil, false)
  setup(function() emu = session.start() end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  local function new_client(extra)
    local opts = { endpoint = emu.url, ak = emu.ak, sk = emu.sk, region = "cn-north-4",
      project_id = PID, retry_base = 0.01, progress = false }
    for k, v in pairs(extra) do opts[k] = v end
    return assert(hwcloud.client(opts))
  end

  it("get service, operation, method, URL, attempt; then status, request id and duration", function()
    local seen = {}
    local c = new_client {
      on_request = function(i) seen[#seen + 1] = { "request", i } end,
      on_response = function(i) seen[#seen + 1] = { "response", i } end,
    }
    emu:fault { operation = "rts.list_software_deployments", count = 1, status = 503 }
    assert(c.rts:list_software_deployments {})
    assert.are.equal(4, #seen)
    local names = {}
    for i, s in ipairs(seen) do names[i] = s[1] .. ":" .. s[2].attempt end
    assert.are.same({ "request:1", "response:1", "request:2", "response:2" }, names)
    local req, res = seen[3][2], seen[4][2]
    assert.are.equal("rts", req.service)
    assert.are.equal("list_software_deployments", req.operation)
    assert.are.equal("GET", req.method)
    assert.matches("^" .. emu.url:gsub("%p", "%%%0") .. "/v1/" .. PID, req.url)
    assert.are.equal(503, seen[2][2].status)
    assert.are.equal(200, res.status)
    assert.is_string(res.request_id)
    assert.is_true(res.request_id ~= "")
    assert.is_number(res.duration)
    assert.is_true(res.duration >= 0)
    c:close()
  end)

  it("carry no secret: no AK/SK signature, token or header", function()
    local infos = {}
    local function keep(i) infos[#infos + 1] = i end
    local c = new_client { on_request = keep, on_response = keep, security_token = "SECTOKEN-123" }
    c.workspaceapp:reinstall_server { server_id = "srv-hook-01" }
    assert.is_true(#infos >= 2)
    for _, s in ipairs(strings(infos)) do
      for _, secret in ipairs { emu.sk, "SECTOKEN-123", "SDK-HMAC-SHA256", "Signature=" } do
        assert.is_nil(s:find(secret, 1, true), s)
      end
    end
    for _, i in ipairs(infos) do assert.is_nil(i.headers) end
    c:close()
  end)

  it("strip user:password@ and secret-looking query values from the URL", function()
    assert.are.equal("https://h/p?a=1&token=***&X-Sk=***&b=2",
      call.loggable_url("https://u:pw@h/p?a=1&token=t0k&X-Sk=s&b=2"))
    assert.are.equal("http://h:80/p", call.loggable_url("http://h:80/p"))
  end)

  it("cannot break a call by raising", function()
    local c = new_client {
      on_request = function() error("hook failed") end,
      on_response = function() error("hook failed too") end,
    }
    local res, err = c.rts:list_software_deployments {}
    assert.is_nil(err)
    assert.is_table(res)
    c:close()
  end)

  it("on_retry cannot break a call or a fan-out by raising either", function()
    local tries = 0
    local c = new_client {
      on_retry = function() tries = tries + 1; error("retry hook failed") end,
    }
    emu:fault { operation = "rts.list_software_deployments", count = 2, status = 503 }
    local ok, results = pcall(c.parallel, c, {
      { "rts", "list_software_deployments", {} },
      { "rts", "list_software_deployments", {} },
      { "rts", "list_software_deployments", {} },
    })
    assert.is_true(ok, tostring(results))
    for i = 1, 3 do
      assert.is_nil(results[i].err)
      assert.is_table(results[i].result)
    end
    assert.are.equal(2, tries)
    c:close()
  end)

  it("must be functions", function()
    local c, err = hwcloud.client { endpoint = emu.url, ak = "a", sk = "b", on_request = "log" }
    assert.is_nil(c)
    assert.are.equal("on_request", err.field)
    assert.matches("expected function, got string", err.message, 1, true)
  end)
end)
