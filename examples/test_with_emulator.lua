-- Testing a deployment script against the emulator, as a busted test of
-- your own would: start the emulator in setup, reset it before each test,
-- make one server's reinstall fail and the API busy once, run the script with
-- the emulator's environment, check what it did, stop the emulator in
-- teardown. From the checkout (the script under test inherits the paths):
--
--   export LUA_PATH='lua/?.lua;lua/?/init.lua;emulator/lua/?.lua;emulator/lua/?/init.lua;;'
--   export LUA_CPATH='build/5.4/?.so;;'
--   busted examples/test_with_emulator.lua
--
-- (`busted --ignore-lua` runs it under the interpreter busted itself runs
-- on: the test needs no C module of hwcloud, the script runs in its own
-- lua5.4.) With the rocks installed, no paths are needed. HWCLOUD_SCRIPT
-- names the script under test (default examples/deploy_workflow.lua).

local testing = require "hwcloud.emulator.testing"

local script = os.getenv("HWCLOUD_SCRIPT") or "examples/deploy_workflow.lua"

describe("the deployment workflow against the emulator", function()
  local emu

  setup(function()
    emu = assert(testing.start { port = 0, job_seconds = 1 })
  end)

  teardown(function()
    if emu then emu:stop() end
  end)

  before_each(function()
    assert(emu:reset())
  end)

  it("names the server whose reinstall failed, and exits 0", function()
    assert(emu:fail { "srv-api-02" })
    -- the script sees HWCLOUD_ENDPOINT, the key pair and a project id
    local out, code = emu:run("lua5.4 " .. testing.quote(script))
    assert.are.equal(0, code, out)
    assert.truthy(out:find("! reinstall failed: srv-api-02", 1, true), out)
    assert.truthy(out:find("- reinstalled 4/5 servers", 1, true), out)
  end)

  it("retries list_servers after a 503", function()
    assert(emu:fault { operation = "workspaceapp.list_servers", status = 503,
                       headers = { ["Retry-After"] = "0" } })
    local out, code = emu:run("lua5.4 " .. testing.quote(script))
    assert.are.equal(0, code, out)
    -- what the script asked for, oldest first: {method, path, operation, status}
    local statuses = {}
    for _, r in ipairs(assert(emu:log())) do
      if r.operation == "workspaceapp.list_servers" then statuses[#statuses + 1] = r.status end
    end
    assert.are.equal(503, statuses[1])
    assert.are.equal(200, statuses[2])
    assert.are.equal(0, #assert(emu:faults()), "the fault was used")
  end)
end)
