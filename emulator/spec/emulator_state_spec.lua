-- The emulator's state for deployment work: the inventory it starts with,
-- replaced from a file or the admin API, the stateful operations, their
-- 404s and pagination, --port 0, the request log and the state dump.
-- Requests go with the curl CLI and an IAM token.

package.path = "./?.lua;" .. package.path

local cjson = require "cjson"
local emulator = require "spec.helpers.emulator"

local curl, q = emulator.curl, emulator.quote

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

local emu, token

local function call(method, path, body)
  return curl(method, emu.url .. path, { headers = {
    ["X-Auth-Token"] = token, ["Content-Type"] = "application/json", ["X-Project-Id"] = PID,
  }, body = body and cjson.encode(body) or nil })
end

local function ids(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v.id end
  return out
end

lazy_setup(function()
  emu = emulator.start{ job_seconds = 1 }
  token = emu:token(PID)
end)

lazy_teardown(function()
  if emu then emu:stop() end
end)

before_each(function()
  emu:admin("POST", "/_emulator/reset")
  token = emu:token(PID)
end)

describe("emulator state: Workspace #server", function()
  it("lists servers with offset/limit and filters, shows one, 404s unknown ids", function()
    local res = call("GET", "/v1/" .. PID .. "/app-servers?offset=1&limit=2")
    assert.are.equal(200, res.status)
    assert.are.equal(5, res.json.count)
    assert.are.same({ "srv-web-02", "srv-web-03" }, ids(res.json.items))
    res = call("GET", "/v1/" .. PID .. "/app-servers?server_group_id=group-api")
    assert.are.same({ "srv-api-01", "srv-api-02" }, ids(res.json.items))
    res = call("GET", "/v1/" .. PID .. "/app-servers/srv-api-01")
    assert.are.equal(200, res.status)
    assert.are.equal("api", res.json.server_group_name)
    res = call("GET", "/v1/" .. PID .. "/app-servers/srv-nope")
    assert.are.equal(404, res.status)
    assert.are.equal("WKS.00010404", res.json.error_code)
    res = call("GET", "/v1/" .. PID .. "/app-servers?limit=x")
    assert.are.equal(400, res.status)
  end)

  it("lists server groups and reinstalls a group with batch_reinstall_server", function()
    local res = call("GET", "/v1/" .. PID .. "/app-server-groups?limit=1")
    assert.are.equal(2, res.json.count)
    assert.are.same({ "group-web" }, ids(res.json.items))
    assert.are.equal(3, res.json.items[1].app_server_count)
    res = call("POST", "/v1/" .. PID .. "/app-servers/actions/batch-reinstall",
               { server_ids = { "srv-web-01", "srv-web-02" } })
    assert.are.equal(200, res.status)
    assert.are.equal(2, #res.json.items)
    local job = res.json.items[1].job_id
    assert.are.equal("srv-web-01", res.json.items[1].server_id)
    emulator.sleep(1.2)
    res = call("GET", "/v2/" .. PID .. "/job/" .. job)
    assert.are.equal("SUCCESS", res.json.status)
    assert.are.equal("srv-web-01", res.json.sub_jobs[1].job_resource_info.resource_id)
    res = call("POST", "/v1/" .. PID .. "/app-servers/actions/batch-reinstall",
               { server_ids = { "srv-web-01", "srv-gone" } })
    assert.are.equal(404, res.status)
    assert.is_truthy(res.json.error_msg:find("srv-gone", 1, true))
  end)
end)

describe("emulator state: ServiceStage, CodeArts Build, RTS #server", function()
  it("lists environments and add-ons, 404s unknown ones, enforces the action enum", function()
    local res = call("GET", "/v3/" .. PID .. "/cas/environments?offset=1&limit=5")
    assert.are.equal(2, res.json.count)
    assert.are.same({ "env-test-01" }, ids(res.json.environments))
    res = call("GET", "/v3/" .. PID .. "/cas/environments/env-prod-01/addons")
    assert.are.same({ "addon-gateway", "addon-logging" }, ids(res.json.addons))
    res = call("GET", "/v3/" .. PID .. "/cas/environments/env-prod-01/addons/addon-gateway")
    assert.are.equal("gateway", res.json.name)
    res = call("GET", "/v3/" .. PID .. "/cas/environments/env-nope/addons")
    assert.are.equal(404, res.status)
    assert.are.equal("SVCSTG.00100404", res.json.error_code)
    res = call("POST", "/v3/" .. PID .. "/cas/environments/env-prod-01/addons/addon-gateway/action",
               { action = "explode" })
    assert.are.equal(400, res.status)
    assert.is_truthy(res.json.error_msg:find("restart, redeploy", 1, true))
  end)

  it("pages build jobs, runs one and reports it running, 404s unknown jobs", function()
    local res = call("GET", "/v3/" .. PID .. "/jobs?page_index=2&page_size=2")
    assert.are.equal(3, res.json.total)
    assert.are.equal(1, #res.json.jobs)
    local id = res.json.jobs[1].id
    res = call("POST", "/v3/jobs/build", { job_id = id })
    assert.are.equal(200, res.status)
    assert.are.equal("1", res.json.actual_build_number)
    assert.is_true(call("GET", "/v3/jobs/" .. id .. "/status").json.result)
    emulator.sleep(1.2)
    assert.is_false(call("GET", "/v3/jobs/" .. id .. "/status").json.result)
    assert.are.equal(404, call("GET", "/v3/jobs/nope/status").status)
    res = call("POST", "/v3/jobs/build", { job_id = "nope" })
    assert.are.equal(404, res.status)
    assert.are.equal("CB.00060404", res.json.error_code)
  end)

  it("creates, lists (marker/limit), shows and deletes software configs", function()
    local made = {}
    for i = 1, 3 do
      local res = call("POST", "/v1/" .. PID .. "/software_configs",
                       { name = "cfg-" .. i, config = "echo " .. i })
      assert.are.equal(200, res.status)
      made[i] = res.json.software_config.id
    end
    local res = call("GET", "/v1/" .. PID .. "/software_configs?limit=1&marker=" .. made[1])
    assert.are.same({ made[2] }, ids(res.json.software_configs))
    res = call("GET", "/v1/" .. PID .. "/software_configs/" .. made[3])
    assert.are.equal("echo 3", res.json.software_config.config)
    assert.are.equal(204, call("DELETE", "/v1/" .. PID .. "/software_configs/" .. made[3]).status)
    res = call("GET", "/v1/" .. PID .. "/software_configs/" .. made[3])
    assert.are.equal(404, res.status)
    assert.are.equal(404, res.json.code)
    assert.are.equal(400, call("POST", "/v1/" .. PID .. "/software_configs", {}).status)
  end)
end)

describe("emulator state: inventory, log and state #server", function()
  it("replaces the inventory through the admin API, checking its shape", function()
    local _, status = emu:admin("POST", "/_emulator/inventory", {
      workspace = { servers = { { id = "only-1", server_group_id = "g" } },
                    server_groups = { { id = "g", name = "g" } } } })
    assert.are.equal(200, status)
    local res = call("GET", "/v1/" .. PID .. "/app-servers")
    assert.are.same({ "only-1" }, ids(res.json.items))
    assert.are.equal(404, call("GET", "/v3/" .. PID .. "/cas/environments/env-prod-01").status)
    local body
    body, status = emu:admin("POST", "/_emulator/inventory", { workspace = { servers = { {} } } })
    assert.are.equal(400, status)
    assert.is_truthy(body.error_msg:find("workspace.servers[1].id", 1, true))
    _, status = emu:admin("POST", "/_emulator/inventory", { nothing = {} })
    assert.are.equal(400, status)
  end)

  it("logs requests with their operation and status, dumps the state", function()
    call("GET", "/v1/" .. PID .. "/app-servers/srv-nope")
    local log = emu:admin("GET", "/_emulator/log").requests
    local last = log[#log]
    assert.are.equal("workspaceapp.show_server", last.operation)
    assert.are.equal(404, last.status)
    assert.are.equal("GET", last.method)
    local st = emu:admin("GET", "/_emulator/state")
    assert.is_table(st.projects[PID])
    assert.are.equal(1, st.counts["workspaceapp.show_server"])
  end)
end)

describe("emulator process: --port 0 and --inventory FILE #server", function()
  it("picks a free port, prints it and starts from the inventory file", function()
    local dir = emulator.work .. "/inventory-spec"
    os.execute("mkdir -p " .. q(dir))
    local file = dir .. "/inv.json"
    emulator.write_file(file, cjson.encode({ codeartsbuild = { jobs = {
      { id = "file-job", job_name = "from-file" } } } }))
    local out = dir .. "/out"
    os.execute(q(emulator.bin) .. " --port 0 --inventory " .. q(file) .. " >" .. q(out)
      .. " 2>&1 & echo $! >" .. q(dir .. "/pid"))
    local url
    for _ = 1, 200 do
      url = (emulator.read_file(out) or ""):match("listening on (http://127%.0%.0%.1:%d+)")
      if url then break end
      emulator.sleep(0.05)
    end
    assert.is_string(url, emulator.read_file(out))
    assert.is_truthy(tonumber(url:match(":(%d+)$")) > 0)
    local saved = emu
    emu = { url = url }
    token = saved.token(emu, PID) -- the helper's method, for this other emulator
    local res = call("GET", "/v3/" .. PID .. "/jobs?page_index=1&page_size=10")
    emu = saved
    os.execute("kill -TERM " .. (emulator.read_file(dir .. "/pid") or ""):match("%d+"))
    assert.are.same({ "file-job" }, ids(res.json.jobs))
    -- a bad file stops it at start with a message
    emulator.write_file(file, "{not json")
    local p = io.popen(q(emulator.bin) .. " --port 0 --inventory " .. q(file) .. " 2>&1")
    local text = p:read("a")
    p:close()
    assert.is_truthy(text:find("not valid JSON", 1, true), text)
  end)
end)
