-- Credentials inside nginx: clients made in init_by_lua (where nothing may
-- be sent) and used in content handlers, whose identity requests (ECS
-- metadata, IAM tokens and look-ups) go out over cosockets like the calls.
-- The handlers are spec/fixtures/ngx_identity/.

local emulator = require "spec.helpers.emulator"
local server = require "spec.helpers.server"

local REGION = "cn-north-4"

describe("credentials inside nginx #server", function()
  local emu, srv

  setup(function()
    emu = emulator.start{ inventory = require "spec.fixtures.inventory" }
    srv = server.start{
      name = "ngx-identity",
      conf = emulator.read_file("spec/fixtures/ngx_identity/nginx.conf"),
      vars = { emu = emu.url, region = REGION, ak = emu.ak, sk = emu.sk },
    }
  end)

  teardown(function()
    if srv then srv:stop() end
    if emu then emu:stop() end
  end)

  local function get(path)
    local r = emulator.curl("GET", srv:url(path), { timeout = 20 })
    assert(r.status == 200 and r.json, "no JSON from " .. path .. " (" .. r.status .. "): "
      .. r.body .. "\n" .. srv:log():sub(-2000))
    return r.json
  end

  local function count(op) return emu:counts()[op] or 0 end

  it("sends nothing while the clients are made in init_by_lua", function()
    assert.are.same({}, emu:counts())
  end)

  it("fetches metadata keys and the project id over cosockets at the first call", function()
    emu:reset()
    local doc = get("/calls?client=metadata&n=2")
    assert.are.same({ "ok", "ok" }, doc.results)
    -- token, security key, project look-up, then the two calls: all cosockets
    assert.are.equal(5, doc.sends)
    assert.are.equal(1, count("metadata.get_security_key"))
    assert.are.equal(1, count("iam.keystone_list_projects"))
    -- a later request of the worker reuses what the first fetched
    doc = get("/calls?client=metadata&n=1")
    assert.are.equal(1, doc.sends)
    assert.are.equal(1, count("metadata.get_security_key"))
  end)

  it("shares one fetch among the light threads of client:parallel", function()
    emu:reset()
    emu:identity{ users = { deployer = "ngx-password" } }
    local doc = get("/parallel?client=password&n=4")
    assert.are.same({ "ok", "ok", "ok", "ok" }, doc.results)
    assert.are.equal(5, doc.sends)
    assert.are.equal(1, count("iam.create_token"))
    assert.are.equal(4, count("workspaceapp.reinstall_server"))
  end)

  it("calls a credentials function again on a 401 to the first keys it returned", function()
    emu:reset()
    local t = emulator.curl("PUT", emu.url .. "/meta-data/latest/api/token",
      { headers = { ["X-Metadata-Token-Ttl-Seconds"] = "60" } }).body
    local cr = emulator.curl("GET", emu.url .. "/openstack/latest/securitykey",
      { headers = { ["X-Metadata-Token"] = t } }).json.credential
    emu:identity{ expire_issued = true }
    local function enc(v) return (v:gsub("[^%w]", function(ch) return ("%%%02X"):format(ch:byte()) end)) end
    local doc = get("/stale?ak=" .. enc(cr.access) .. "&sk=" .. enc(cr.secret) .. "&token="
      .. enc(cr.securitytoken))
    assert.are.equal("ok", doc.result)
    assert.are.equal(2, doc.fn_calls)
    assert.are.equal(2, count("workspaceapp.reinstall_server"))
  end)

  it("calls a credentials function inside the worker, once while its keys last", function()
    local doc = get("/calls?client=function&n=3")
    assert.are.same({ "ok", "ok", "ok" }, doc.results)
    assert.are.equal(1, doc.fn_calls)
    assert.are.equal(3, doc.sends)
  end)
end)
