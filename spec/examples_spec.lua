-- The examples, run as a user runs them: child processes aimed at the
-- bundled emulator through HWCLOUD_ENDPOINT, with some servers set to fail.
-- Checks their exit status and the lines a person reads.
--
-- Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" \
--        LUA_CPATH="build/5.4/?.so;;" lua5.4 /usr/bin/busted spec/examples_spec.lua

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local compat = require "spec.helpers.compat"

local q = emulator.quote

describe("examples #server", function()
  local emu, default_inventory
  local session = emulator.session({ job_seconds = 1 }, nil, false)
  setup(function()
    emu = session.start()
    default_inventory = emu:admin("GET", "/_emulator/inventory")
  end)
  teardown(function() session.stop() end)
  -- the default inventory; the fleet tests add the servers fleet_rollout names
  before_each(function()
    emu:reset()
    assert(emu:inventory(default_inventory))
  end)

  -- Runs an example with the environment `vars` and the arguments `args`
  -- (shell words, quoted by the caller); stdout and stderr are kept apart.
  -- Returns stdout, stderr, exit code.
  local function run(example, vars, args)
    local errfile = os.tmpname()
    local parts = { "cd " .. q(emulator.root) .. " &&",
                    "env -u HWCLOUD_SERVERS -u HUAWEICLOUD_SDK_AK -u HUAWEICLOUD_SDK_SK",
                    "-u HUAWEICLOUD_SDK_PROJECT_ID",
                    "LUA_PATH=" .. q("lua/?.lua;lua/?/init.lua;;"),
                    "LUA_CPATH=" .. q("build/5.4/?.so;;"),
                    "LUA_INIT=" .. q(compat.lua_init) }
    for k, v in pairs(vars) do parts[#parts + 1] = k .. "=" .. q(v) end
    parts[#parts + 1] = "lua5.4 " .. q(example) .. " " .. (args or "") .. " 2>" .. q(errfile)
    local p = io.popen(table.concat(parts, " "))
    local out = p:read("*a")
    local _, _, code = p:close()
    local err = emulator.read_file(errfile) or ""
    os.remove(errfile)
    return out, err, code
  end

  -- the environment `bin/hwcloud-emulator --env` prints, for this emulator
  local function emulator_env()
    return { HWCLOUD_ENDPOINT = emu.url, HUAWEICLOUD_SDK_AK = emu.ak, HUAWEICLOUD_SDK_SK = emu.sk,
             HUAWEICLOUD_SDK_PROJECT_ID = "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f",
             HUAWEICLOUD_SDK_REGION = "cn-north-4" }
  end

  it("the README's first example runs as written on the default inventory", function()
    local readme = emulator.read_file(emulator.root .. "/README.md")
    local code = assert(readme:match("\n## Example\n.-```lua\n(.-)```\n"), "no example")
    local file = emulator.root .. "/spec/.work/readme-example-" .. math.random(1e8) .. ".lua"
    emulator.write_file(file, code)
    finally(function() os.remove(file) end)
    local out, err, rc = run(file, emulator_env())
    assert.equal(0, rc, out .. err)
    -- what the README says it prints
    local said = assert(readme:match("this prints `([^`]+)`"), "the README says no output")
    assert.equal(said .. "\n", out)
    local counts = emu:counts()
    assert.equal(1, counts["workspaceapp.reinstall_server"])
    assert.equal(1, counts["rts.create_software_deployment"])
  end)

  it("test_with_emulator passes under busted, run as its header says (and with --ignore-lua)", function()
    local text = emulator.read_file(emulator.root .. "/examples/test_with_emulator.lua")
    local lines = {}
    for l in text:gmatch("%-%-   ([^\n]+)") do lines[#lines + 1] = l end
    assert.equal("busted examples/test_with_emulator.lua", lines[#lines])
    local script = table.concat(lines, "\n")
    for _, cmd in ipairs { script, (script:gsub("busted ", "busted --ignore-lua ")) } do
      local p = io.popen("cd " .. q(emulator.root) .. " && env -u LUA_PATH -u LUA_CPATH sh -c "
        .. q(cmd) .. " 2>&1")
      local out = p:read("*a")
      local _, _, code = p:close()
      assert.equal(0, code, cmd .. "\n" .. out)
      assert.truthy(out:find("2 passed, 0 failed", 1, true), out)
    end
  end)

  it("deploy_workflow runs to its summary and names the server that failed", function()
    emu:fail { "srv-api-02" }
    local out, err, code = run("examples/deploy_workflow.lua", { HWCLOUD_ENDPOINT = emu.url })
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("0. uploaded the package to obs://deploy-artifacts/releases/2026.11/app.tar "
      .. "(270000 bytes, 3 parts)", 1, true), out)
    assert.truthy(out:find("- package obs://deploy-artifacts/releases/2026.11/app.tar uploaded", 1, true), out)
    assert.truthy(out:find("1. reinstalling 5 app servers", 1, true), out)
    assert.truthy(out:find("summary (", 1, true), out)
    assert.truthy(out:find("- reinstalled 4/5 servers", 1, true), out)
    assert.truthy(out:find("- software deployments complete on 4/4 servers", 1, true), out)
    assert.truthy(out:find("- add-on redeployed (job ", 1, true), out)
    assert.truthy(out:find("- experience task preview-", 1, true), out)
    assert.truthy(out:find("- build notices updated", 1, true), out)
    assert.truthy(out:find("! reinstall failed: srv-api-02", 1, true), out)
    -- the job states of the add-on, as they were seen
    assert.truthy(out:find("SUCCEEDED", 1, true), out)
    -- progress on stderr, plain lines (not a terminal)
    assert.truthy(err:find("reinstall jobs: 5/5 done, 1 failed", 1, true), err)
    assert.is_nil(err:find("\r", 1, true))
  end)

  -- HWCLOUD_SERVERS for fleet-001 .. fleet-n (spec.fixtures.inventory has them)
  local function fleet(n)
    local ids = {}
    for i = 1, n do ids[i] = string.format("fleet-%03d", i) end
    return table.concat(ids, ",")
  end

  it("fleet_rollout runs as its header says, on the default inventory", function()
    -- HWCLOUD_ENDPOINT=http://127.0.0.1:8080 lua5.4 examples/fleet_rollout.lua
    local header = emulator.read_file(emulator.root .. "/examples/fleet_rollout.lua")
    assert.truthy(header:find("--   HWCLOUD_ENDPOINT=http://127.0.0.1:8080 lua5.4 "
      .. "examples/fleet_rollout.lua\n", 1, true))
    local out, err, code = run("examples/fleet_rollout.lua", { HWCLOUD_ENDPOINT = emu.url })
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("fleet rollout of release 2026.11 to 5 servers", 1, true), out)
    assert.truthy(out:find("reinstalled: 5/5", 1, true), out)
    assert.truthy(out:find("deployed:    5/5", 1, true), out)
    assert.truthy(out:find("every server runs release 2026.11", 1, true), out)
    assert.equal(1, emu:counts()["rts.create_software_config"])
  end)

  -- An emulator started as examples/cce_nodepool_scale.lua's header says
  -- (--inventory examples/cce_nodepool_inventory.json); f(cce_emu) runs
  -- against it, and it stops whatever f does.
  local function with_cce_emulator(f)
    local cce_emu = emulator.start { job_seconds = 1,
      inventory = emulator.root .. "/examples/cce_nodepool_inventory.json" }
    local ok, why = pcall(f, cce_emu)
    cce_emu:stop()
    assert(ok, why)
  end

  it("cce_nodepool_scale runs as its header says: the pool scaled out, nodes Active", function()
    local header = emulator.read_file(emulator.root .. "/examples/cce_nodepool_scale.lua")
    assert.truthy(header:find("--   bin/hwcloud-emulator --port 8080 --inventory "
      .. "examples/cce_nodepool_inventory.json\n", 1, true))
    assert.truthy(header:find("--   HWCLOUD_ENDPOINT=http://127.0.0.1:8080 lua5.4 "
      .. "examples/cce_nodepool_scale.lua prod web 2\n", 1, true))
    with_cce_emulator(function(cce_emu)
      local out, err, code = run("examples/cce_nodepool_scale.lua",
        { HWCLOUD_ENDPOINT = cce_emu.url }, "prod web 2")
      assert.equal(0, code, out .. err)
      assert.truthy(out:find("cluster prod (4d1c7a52-0b8e-11ef-9a51-0255ac100b0a): Available, "
        .. "v1.28", 1, true), out)
      assert.truthy(out:find("node pool web (web-k3v9q2xz8a): 2 nodes, scaling out to 4", 1,
        true), out)
      assert.truthy(out:find("scale%-out job [%x%-]+: Success %(2 nodes%)"), out)
      local _, active = out:gsub("\n  node web%-%w+ 10%.[%d.]+ Active", "")
      assert.equal(2, active, out)
      assert.truthy(out:find("node pool web: Synchronized, 4 nodes", 1, true), out)
      -- the emulator holds what the summary says
      local st = cce_emu:admin("GET", "/_emulator/state")
      local _, project = next(st.projects)
      assert.equal(4, #project.inventory.cce.nodes)
      assert.equal(4, project.inventory.cce.node_pools[1].spec.initialNodeCount)
      assert.equal(1, cce_emu:counts()["cce.update_node_pool"])
    end)
  end)

  it("cce_nodepool_scale exits 1 when the scale-out fails, or the pool is not there", function()
    with_cce_emulator(function(cce_emu)
      cce_emu:fail { "web-k3v9q2xz8a" }
      local out, err, code = run("examples/cce_nodepool_scale.lua",
        { HWCLOUD_ENDPOINT = cce_emu.url, HWCLOUD_WAIT_TIMEOUT = "30" }, "prod web 1")
      assert.equal(1, code, out .. err)
      assert.truthy(out:find("Failed", 1, true), out)
      assert.truthy(err:find("cce scale: node pool web did not synchronize", 1, true), err)
      out, err, code = run("examples/cce_nodepool_scale.lua", { HWCLOUD_ENDPOINT = cce_emu.url },
        "prod batch 1")
      assert.equal(1, code, out .. err)
      assert.truthy(err:find("cluster prod has no node pool named batch (pools: web)", 1, true), err)
      out, err, code = run("examples/cce_nodepool_scale.lua", { HWCLOUD_ENDPOINT = cce_emu.url },
        "staging web 1")
      assert.equal(1, code, out .. err)
      assert.truthy(err:find("no cluster named staging (clusters: prod)", 1, true), err)
    end)
  end)

  it("fleet_rollout fails when the servers cannot be listed", function()
    local out, err, code = run("examples/fleet_rollout.lua", { HWCLOUD_ENDPOINT = "http://127.0.0.1:1" })
    assert.equal(1, code, out .. err)
    assert.truthy(err:find("cannot list the servers", 1, true), err)
  end)

  it("fleet_rollout reinstalls, deploys and reports the failed servers, exit 0", function()
    assert(emu:inventory(require "spec.fixtures.inventory"))
    emu:fail { "fleet-003", "fleet-009" }
    -- one deployment cannot be started: the service answers 500
    emu:fault { operation = "rts.create_software_deployment", count = 1, status = 500 }
    local out, err, code = run("examples/fleet_rollout.lua", {
      HWCLOUD_ENDPOINT = emu.url, HWCLOUD_SERVERS = fleet(12), HWCLOUD_CONCURRENCY = "5",
    })
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("fleet rollout of release 2026.11 to 12 servers", 1, true), out)
    assert.truthy(out:find("rollout report", 1, true), out)
    assert.truthy(out:find("servers:     12", 1, true), out)
    assert.truthy(out:find("reinstalled: 10/12", 1, true), out)
    assert.truthy(out:find("deployed:    9/12", 1, true), out)
    assert.truthy(out:find("failed:      3", 1, true), out)
    assert.truthy(out:find("! fleet%-003: reinstall: workspaceapp job %d+ ended FAILED"), out)
    assert.truthy(out:find("! fleet%-009: reinstall: workspaceapp job %d+ ended FAILED"), out)
    assert.truthy(out:find("deployment not started: Injected fault: HTTP 500", 1, true), out)
    -- the failures come sorted by server
    local a = out:find("! fleet-003", 1, true)
    local b = out:find("! fleet-009", 1, true)
    assert.is_true(a < b)
    local counts = emu:counts()
    assert.equal(12, counts["workspaceapp.reinstall_server"])
    assert.equal(10, counts["rts.create_software_deployment"])
    assert.truthy(err:find("reinstall jobs: 12/12 done, 2 failed", 1, true), err)
    assert.truthy(err:find("deployments: 9/9 done, 0 failed", 1, true), err)
  end)

  it("fleet_rollout with every server healthy says so", function()
    assert(emu:inventory(require "spec.fixtures.inventory"))
    local out, err, code = run("examples/fleet_rollout.lua", {
      HWCLOUD_ENDPOINT = emu.url, HWCLOUD_SERVERS = fleet(3),
    })
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("deployed:    3/3", 1, true), out)
    assert.truthy(out:find("failed:      0", 1, true), out)
    assert.truthy(out:find("every server runs release 2026.11", 1, true), out)
  end)

  it("fleet_rollout fails when nothing answers", function()
    local out, err, code = run("examples/fleet_rollout.lua", {
      HWCLOUD_ENDPOINT = "http://127.0.0.1:1", HWCLOUD_SERVERS = fleet(2),
    })
    assert.equal(1, code, out .. err)
    assert.truthy(out:find("reinstalled: 0/2", 1, true), out)
    assert.truthy(out:find("reinstall not started", 1, true), out)
  end)

  it("reinstall_group finds the group, reinstalls its servers and waits for them", function()
    local out, err, code = run("examples/reinstall_group.lua", { HWCLOUD_ENDPOINT = emu.url })
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("group web (group-web): 3 servers", 1, true), out)
    assert.truthy(out:find("reinstalled 3/3 servers", 1, true), out)
    assert.is_nil(out:find("!", 1, true), out)
    -- one batch call for the group, no server of another group touched
    local counts = emu:counts()
    assert.equal(1, counts["workspaceapp.batch_reinstall_server"])
    assert.truthy(err:find("reinstall web: 3/3 done, 0 failed", 1, true), err)
  end)

  it("reinstall_group names the server that failed and exits 1", function()
    emu:fail { "srv-api-02" }
    local out, err, code = run("examples/reinstall_group.lua", { HWCLOUD_ENDPOINT = emu.url }, "api")
    assert.equal(1, code, out .. err)
    assert.truthy(out:find("group api (group-api): 2 servers", 1, true), out)
    assert.truthy(out:find("reinstalled 1/2 servers", 1, true), out)
    assert.truthy(out:find("! srv%-api%-02: workspaceapp job %d+ ended FAILED"), out)
    assert.is_nil(out:find("srv-api-01:", 1, true), out)
  end)

  it("reinstall_group refuses a group that does not exist", function()
    local out, err, code = run("examples/reinstall_group.lua", { HWCLOUD_ENDPOINT = emu.url }, "nosuch")
    assert.equal(1, code, out .. err)
    assert.truthy(err:find('no server group named "nosuch"', 1, true), err)
    assert.is_nil(emu:counts()["workspaceapp.batch_reinstall_server"])
  end)

  it("build_and_wait runs the build and waits until it finished", function()
    local out, err, code = run("examples/build_and_wait.lua", { HWCLOUD_ENDPOINT = emu.url })
    assert.equal(0, code, out .. err)
    -- the number follows the job's history in the inventory
    local n = out:match("build build%-web #(%d+) started")
    assert.truthy(n, out)
    assert.truthy(out:find("build build-web #" .. n .. " finished: success", 1, true), out)
    local counts = emu:counts()
    assert.equal(1, counts["codeartsbuild.run_job"])
    -- polled while running (the emulator's builds take job_seconds = 1)
    local polls = counts["codeartsbuild.show_job_status"]
    assert.truthy(polls >= 2, tostring(polls))
  end)

  it("build_and_wait gives up at its deadline, exit 1", function()
    local out, err, code = run("examples/build_and_wait.lua", {
      HWCLOUD_ENDPOINT = emu.url, HWCLOUD_BUILD_TIMEOUT = "0.1" }, "build-api")
    assert.equal(1, code, out .. err)
    assert.truthy(out:find("build build-api #1 started", 1, true), out)
    assert.truthy(err:find("build build-api #1 still running after 0.1 s", 1, true), err)
  end)

  it("build_and_wait refuses a job name that does not exist", function()
    local out, err, code = run("examples/build_and_wait.lua", { HWCLOUD_ENDPOINT = emu.url }, "nosuch")
    assert.equal(1, code, out .. err)
    assert.truthy(err:find('no build job named "nosuch"', 1, true), err)
    assert.is_nil(emu:counts()["codeartsbuild.run_job"])
  end)

  it("list_all follows every page and every item", function()
    local out, err, code = run("examples/list_all.lua", { HWCLOUD_ENDPOINT = emu.url }, "2")
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("page 1: srv-web-01, srv-web-02\n", 1, true), out)
    assert.truthy(out:find("page 2: srv-web-03, srv-api-01\n", 1, true), out)
    assert.truthy(out:find("page 3: srv-api-02\n", 1, true), out)
    assert.truthy(out:find("5 servers in 3 pages", 1, true), out)
    assert.truthy(out:find("group group-web: web", 1, true), out)
    assert.truthy(out:find("group group-api: api", 1, true), out)
    assert.truthy(out:find("2 server groups", 1, true), out)
  end)

  it("list_all reports a failing page once and exits 1", function()
    emu:fault { operation = "workspaceapp.list_servers", count = 3, status = 500 }
    local out, err, code = run("examples/list_all.lua", { HWCLOUD_ENDPOINT = emu.url })
    assert.equal(1, code, out .. err)
    assert.truthy(err:find("list_servers: hwcloud: workspaceapp.list_servers: http 500", 1, true), err)
  end)

  it("generic_request sends a signed call by path and prints the answer", function()
    local out, err, code = run("examples/generic_request.lua", { HWCLOUD_ENDPOINT = emu.url })
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("GET workspaceapp /v1/{project_id}/app-servers: 2 fields", 1, true), out)
    assert.truthy(out:find("  count: 5\n", 1, true), out)
    assert.truthy(out:find("  items: 2 items\n", 1, true), out)
    assert.equal(1, emu:counts()["workspaceapp.list_servers"])
  end)

  it("generic_request to ECS, which hwcloud describes, gets the emulator's answer", function()
    local out, err, code = run("examples/generic_request.lua", { HWCLOUD_ENDPOINT = emu.url },
      "ecs GET " .. q("/v1/{project_id}/cloudservers/detail") .. " limit=10")
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("GET ecs /v1/{project_id}/cloudservers/detail:", 1, true), out)
    assert.truthy(out:find("  servers: 0 items\n", 1, true), out)
  end)

  it("generic_request to a path no service publishes prints the gateway's 404", function()
    local out, err, code = run("examples/generic_request.lua", { HWCLOUD_ENDPOINT = emu.url },
      "ecs GET " .. q("/v1/{project_id}/no-such-api") .. " limit=10")
    assert.equal(1, code, out .. err)
    assert.equal("", out)
    assert.truthy(err:find("hwcloud: ecs.request: http 404 APIG.0101", 1, true), err)
  end)
end)

-- The blue/green rollout, run as its header says: an emulator started with
-- the inventory next to it (--job-seconds 1), the example with the
-- variables of its header.
describe("blue_green #server", function()
  local PROJECT = "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"
  local HEADER_EMULATOR = "--   bin/hwcloud-emulator --port 8080 --job-seconds 1 --inventory "
    .. "examples/blue_green.json &\n"
  local HEADER_RUN = "--   HWCLOUD_ENDPOINT=http://127.0.0.1:8080 HWCLOUD_POOL_ID=pool-app "
    .. "HWCLOUD_SUBNET_ID=subnet-app \\\n--     HWCLOUD_DRAIN_SECONDS=1 lua5.4 examples/blue_green.lua\n"
  local emu, c
  setup(function()
    emu = emulator.start { job_seconds = 1, inventory = emulator.root .. "/examples/blue_green.json" }
    c = emu:client(PROJECT)
  end)
  teardown(function()
    if c then c:close() end
    if emu then emu:stop() end
  end)
  before_each(function() emu:reset() end)

  -- the example with the header's variables (and `vars`): stdout, stderr, exit code
  local function run(vars)
    local errfile = os.tmpname()
    local parts = { "cd " .. q(emulator.root) .. " &&",
                    "env -u HUAWEICLOUD_SDK_AK -u HUAWEICLOUD_SDK_SK -u HUAWEICLOUD_SDK_PROJECT_ID",
                    "-u HWCLOUD_RELEASE -u HWCLOUD_IMAGE_ID -u HWCLOUD_FLAVOR",
                    "LUA_PATH=" .. q("lua/?.lua;lua/?/init.lua;;"),
                    "LUA_CPATH=" .. q("build/5.4/?.so;;"),
                    "LUA_INIT=" .. q(compat.lua_init),
                    "HWCLOUD_ENDPOINT=" .. q(emu.url), "HWCLOUD_POOL_ID=pool-app",
                    "HWCLOUD_SUBNET_ID=subnet-app", "HWCLOUD_DRAIN_SECONDS=1" }
    for k, v in pairs(vars or {}) do parts[#parts + 1] = k .. "=" .. q(v) end
    parts[#parts + 1] = "lua5.4 examples/blue_green.lua 2>" .. q(errfile)
    local p = io.popen(table.concat(parts, " "))
    local out = p:read("*a")
    local _, _, code = p:close()
    local err = emulator.read_file(errfile) or ""
    os.remove(errfile)
    return out, err, code
  end

  local function members()
    local out = {}
    for m in c:each("elb", "list_members", { pool_id = "pool-app" }) do out[#out + 1] = m end
    return out
  end

  it("replaces the blue servers behind the pool with healthy green ones", function()
    local header = emulator.read_file(emulator.root .. "/examples/blue_green.lua")
    assert.truthy(header:find(HEADER_EMULATOR, 1, true), "the header's emulator line")
    assert.truthy(header:find(HEADER_RUN, 1, true), "the header's run line")
    local out, err, code = run()
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("1. blue: 2 members (app-blue-1, app-blue-2)", 1, true), out)
    assert.truthy(out:find("green servers active: 2/2", 1, true), out)
    assert.truthy(out:find("healthy: app-%S+-0002 [%d.]+ %(2/2%)"), out)
    assert.truthy(out:find("from 2 green servers", 1, true), out)
    -- the pool holds the green members only, each ONLINE at a green server
    local now = members()
    assert.equal(2, #now)
    for _, m in ipairs(now) do
      assert.equal("ONLINE", m.operating_status)
      assert.equal(8080, m.protocol_port)
      local s = assert(c.ecs:list_servers_details { ip_eq = m.address })
      assert.equal(1, s.count)
      assert.truthy(s.servers[1].name:find("^app%-"), s.servers[1].name)
      assert.is_nil(s.servers[1].name:find("blue", 1, true))
      assert.equal("ACTIVE", s.servers[1].status)
    end
    local _, gone = c.ecs:show_server { server_id = "8c1f6a2e-3b4d-4e5f-9a0b-1c2d3e4f5a61" }
    assert.equal(404, gone.status)
    assert.equal(2, assert(c.ecs:list_servers_details {}).count)
    -- blue was drained (weight 0) before it was removed
    local counts = emu:counts()
    assert.equal(2, counts["elb.update_member"])
    assert.equal(2, counts["elb.delete_member"])
  end)

  it("rolls back when a green member is not healthy: blue keeps serving, exit 1", function()
    emu:fault { operation = "elb.show_member", status = 404, count = 1 }
    local out, err, code = run { HWCLOUD_RELEASE = "2026.12" }
    assert.equal(1, code, out .. err)
    assert.truthy(out:find("is not healthy", 1, true), out)
    assert.truthy(out:find("rolling back: blue keeps serving", 1, true), out)
    local now = members()
    assert.equal(2, #now)
    assert.same({ "mem-blue-1", "mem-blue-2" }, { now[1].id, now[2].id })
    assert.equal(10, now[1].weight)
    assert.equal("ONLINE", now[1].operating_status)
    -- the green servers went again
    local left = assert(c.ecs:list_servers_details {})
    assert.equal(2, left.count)
    for _, s in ipairs(left.servers) do assert.truthy(s.name:find("blue", 1, true), s.name) end
  end)

  it("refuses a pool without a health monitor before creating anything", function()
    assert(c.elb:delete_health_monitor { healthmonitor_id = "hm-app" })
    local out, err, code = run()
    assert.equal(1, code, out .. err)
    assert.truthy(err:find("pool pool-app has no health monitor", 1, true), err)
    assert.is_nil(emu:counts()["ecs.create_post_paid_servers"])
  end)

  it("says which variables it needs", function()
    local out, err, code = run { HWCLOUD_POOL_ID = "" }
    assert.equal(0, #out)
    assert.equal(2, code, err)
    assert.truthy(err:find("set HWCLOUD_POOL_ID", 1, true), err)
  end)
end)

-- The README's sample output of `make demo` is what it prints: every line
-- shown there appears in the demo's output, in order, once ids, times, the
-- port and job numbers are set aside.
describe("make demo and the README #server #slow", function()
  local function normal(line)
    return (line:gsub("JOB[%x%-]+", "JOB<id>")
      :gsub("%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x", "<uuid>")
      :gsub("%d+%.%d+ s", "<t> s"):gsub("%(%d+ s%)", "(<t> s)"):gsub("preview%-%d+", "preview-<time>")
      :gsub("job %d+ ended", "job <n> ended"):gsub("127%.0%.0%.1:%d+", "127.0.0.1:<port>")
      :gsub("%s+$", ""))
  end

  it("prints the lines the README shows", function()
    local readme = emulator.read_file(emulator.root .. "/README.md")
    local shown = assert(readme:match("`make demo` prints something like:\n\n```\n(.-)```\n"),
      "the README shows no demo output")
    local p = io.popen("cd " .. q(emulator.root) .. " && make -s demo 2>&1")
    local out = p:read("*a")
    local _, _, code = p:close()
    assert.equal(0, code, out)
    local lines = {}
    for l in out:gmatch("[^\n]*") do lines[#lines + 1] = normal(l) end
    local at, n = 1, 0
    for want in shown:gmatch("([^\n]*)\n") do
      want = normal(want)
      if want ~= "" then
        while at <= #lines and lines[at] ~= want do at = at + 1 end
        assert.truthy(at <= #lines, "not printed by make demo (in this order): " .. want
          .. "\n--- make demo printed:\n" .. out)
        n = n + 1
      end
    end
    assert.truthy(n >= 20, n)
  end)
end)

-- The inventory format as the README documents it: its example starts an
-- emulator (--inventory FILE) whose resources are those, and a broken one
-- is refused with a message naming the part.
describe("the README's inventory #server", function()
  local cjson = require "cjson"
  local readme = emulator.read_file(emulator.root .. "/README.md")
  local text = assert(readme:match("\n### The inventory\n.-```json\n(.-)```\n"), "no inventory example")
  local emu, file

  setup(function()
    file = emulator.root .. "/spec/.work/readme-inventory-" .. math.random(1e8) .. ".json"
    emulator.write_file(file, text)
    emu = emulator.start{ job_seconds = 1, inventory = file }
  end)
  teardown(function()
    if emu then emu:stop() end
    os.remove(file)
  end)

  it("starts the emulator with the README's example, whose resources the calls see", function()
    local c = emu:client("0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f", { progress = false })
    local servers = assert(c.workspaceapp:list_servers{})
    assert.equal(1, #servers.items)
    assert.equal("srv-web-01", servers.items[1].id)
    local d = assert(c.rts:create_software_deployment{ config_id = "cfg-app", server_id = "srv-web-01",
      status = "IN_PROGRESS", action = "CREATE" })
    assert.truthy(d.software_deployment.id)
    local _, err = c.rts:create_software_deployment{ config_id = "8da95794-...",
      server_id = "srv-web-01", status = "IN_PROGRESS", action = "CREATE" }
    assert.equal(404, err.status) -- strict: an id the inventory lacks
    assert(c.asm:list_workshops{ mesh_id = "mesh-prod-01" })
    -- the state shows the example's resources as given
    local state = emu:admin("GET", "/_emulator/inventory")
    -- (the generic services' section is there, empty, when the file has none)
    assert.same({}, state.generic)
    state.generic = nil
    assert.same(cjson.decode(text), state)
    c:close()
  end)

  it("refuses a broken inventory, naming the part", function()
    local body, status = emu:admin("POST", "/_emulator/inventory",
      { workspace = { servers = { { name = "no id" } } } })
    assert.equal(400, status)
    assert.truthy(cjson.encode(body):find("workspace.servers[1].id must be a non-empty string", 1, true),
      cjson.encode(body))
    body, status = emu:admin("POST", "/_emulator/inventory", { nosuch = {} })
    assert.equal(400, status)
    assert.truthy(cjson.encode(body):find("unknown inventory section: nosuch", 1, true))
  end)
end)

