-- The examples, run as a user runs them: child processes aimed at the
-- bundled emulator through HWCLOUD_ENDPOINT, with some servers set to fail.
-- Checks their exit status and the lines a person reads.
--
-- Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" \
--        LUA_CPATH="build/5.4/?.so;;" lua5.4 /usr/bin/busted spec/examples_spec.lua

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"

local q = emulator.quote

describe("examples #server", function()
  local emu
  local session = emulator.session({ job_seconds = 1 }, nil, false)
  setup(function() emu = session.start() end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  -- Runs an example with the environment `vars`; stdout and stderr are
  -- kept apart. Returns stdout, stderr, exit code.
  local function run(example, vars)
    local errfile = os.tmpname()
    local parts = { "cd " .. q(emulator.root) .. " &&",
                    "env -u HWCLOUD_SERVERS -u HUAWEICLOUD_SDK_AK -u HUAWEICLOUD_SDK_SK",
                    "-u HUAWEICLOUD_SDK_PROJECT_ID",
                    "LUA_PATH=" .. q("lua/?.lua;lua/?/init.lua;;"),
                    "LUA_CPATH=" .. q("build/5.4/?.so;;") }
    for k, v in pairs(vars) do parts[#parts + 1] = k .. "=" .. q(v) end
    parts[#parts + 1] = "lua5.4 " .. q(example) .. " 2>" .. q(errfile)
    local p = io.popen(table.concat(parts, " "))
    local out = p:read("*a")
    local _, _, code = p:close()
    local err = emulator.read_file(errfile) or ""
    os.remove(errfile)
    return out, err, code
  end

  it("deploy_workflow runs to its summary and names the server that failed", function()
    emu:fail { "srv-api-02" }
    local out, err, code = run("examples/deploy_workflow.lua", { HWCLOUD_ENDPOINT = emu.url })
    assert.equal(0, code, out .. err)
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

  it("fleet_rollout reinstalls, deploys and reports the failed servers, exit 0", function()
    emu:fail { "fleet-003", "fleet-009" }
    -- one deployment cannot be started: the service answers 500
    emu:fault { operation = "rts.create_software_deployment", count = 1, status = 500 }
    local out, err, code = run("examples/fleet_rollout.lua", {
      HWCLOUD_ENDPOINT = emu.url, HWCLOUD_FLEET_SIZE = "12", HWCLOUD_CONCURRENCY = "5",
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
    local out, err, code = run("examples/fleet_rollout.lua", {
      HWCLOUD_ENDPOINT = emu.url, HWCLOUD_FLEET_SIZE = "3",
    })
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("deployed:    3/3", 1, true), out)
    assert.truthy(out:find("failed:      0", 1, true), out)
    assert.truthy(out:find("every server runs release 2026.11", 1, true), out)
  end)

  it("fleet_rollout fails when nothing answers", function()
    local out, err, code = run("examples/fleet_rollout.lua", {
      HWCLOUD_ENDPOINT = "http://127.0.0.1:1", HWCLOUD_FLEET_SIZE = "2",
    })
    assert.equal(1, code, out .. err)
    assert.truthy(out:find("reinstalled: 0/2", 1, true), out)
    assert.truthy(out:find("reinstall not started", 1, true), out)
  end)
end)
