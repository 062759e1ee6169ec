-- client:parallel against the bundled emulator: many operations at once on
-- one libcurl multi handle, results in the order of the calls whatever the
-- order their answers arrive in, a bound on how many are in flight, and
-- per-call errors kept in their place.
--
-- Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" \
--        LUA_CPATH="build/5.4/?.so;;" lua5.4 /usr/bin/busted spec/parallel_spec.lua

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local core = require "hwcloud.core"

local PID = "3c4d5e6f708192a3b4c5d6e7f8091a2b"

describe("client:parallel #server", function()
  local emu, client
  local session = emulator.session({ job_seconds = 1, inventory = require "spec.fixtures.inventory" }, PID,
                                   { region = "cn-north-4", retry_base = 0.01 })
  setup(function() emu, client = session.start() end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  local function deployment(server)
    return { "rts", "create_software_deployment",
             { config_id = "cfg-par", server_id = server, status = "IN_PROGRESS" } }
  end

  it("returns results in the order of the calls when the first answers last", function()
    -- the first call is the only one held back by the emulator
    emu:fault { operation = "asm.list_workshops", count = 1, delay_ms = 600 }
    local calls = { { "asm", "list_workshops", { mesh_id = "mesh-slow" } } }
    for i = 2, 8 do calls[i] = deployment("srv-par-" .. i) end
    local order = {}
    local t0 = core.now()
    local results = client:parallel(calls, {
      progress = function(s) order[#order + 1] = s.done end })
    assert.is_true(core.now() - t0 >= 0.6)
    assert.equal(8, #results)
    assert.is_nil(results[1].err)
    assert.same({}, results[1].result)
    for i = 2, 8 do
      assert.is_nil(results[i].err)
      assert.equal("srv-par-" .. i, results[i].result.software_deployment.server_id)
    end
    assert.same({ 1, 2, 3, 4, 5, 6, 7, 8 }, order)
  end)

  it("keeps the order when a random request of the same operation is slow", function()
    emu:fault { operation = "rts.create_software_deployment", count = 2, delay_ms = 300 }
    local calls = {}
    for i = 1, 10 do calls[i] = deployment(("srv-mix-%02d"):format(i)) end
    local results = client:parallel(calls, { concurrency = 10 })
    for i = 1, 10 do
      assert.equal(("srv-mix-%02d"):format(i), results[i].result.software_deployment.server_id)
    end
    assert.equal(10, emu:counts()["rts.create_software_deployment"])
  end)

  it("keeps at most `concurrency` requests in flight", function()
    -- six calls each held 0.3 s: two at a time need at least three rounds
    emu:fault { operation = "rts.list_software_deployments", count = 6, delay_ms = 300 }
    local calls = {}
    for i = 1, 6 do calls[i] = { "rts", "list_software_deployments", {} } end
    local t0 = core.now()
    local results = client:parallel(calls, { concurrency = 2 })
    local elapsed = core.now() - t0
    for i = 1, 6 do assert.is_nil(results[i].err) end
    assert.is_true(elapsed >= 0.9, "six 0.3 s calls two at a time took only " .. elapsed)
    assert.equal(6, emu:counts()["rts.list_software_deployments"])
  end)

  it("runs one at a time with concurrency = 1", function()
    emu:fault { operation = "rts.list_software_deployments", count = 3, delay_ms = 250 }
    local calls = {}
    for i = 1, 3 do calls[i] = { "rts", "list_software_deployments", {} } end
    local t0 = core.now()
    local results = client:parallel(calls, { concurrency = 1 })
    for i = 1, 3 do assert.is_nil(results[i].err) end
    assert.is_true(core.now() - t0 >= 0.75)
  end)

  it("takes calls by name or by position, with per-call options", function()
    emu:fault { operation = "workspaceapp.reinstall_server", count = 1, status = 503 }
    local results = client:parallel {
      { service = "workspaceapp", operation = "reinstall_server",
        request = { server_id = "srv-named" }, opts = { retries = 0 } },
      { "workspaceapp", "reinstall_server", { server_id = "srv-positional" }, { retries = 0 } },
    }
    -- one of the two met the 503 and, with retries = 0, kept it
    local failed, ok = 0, 0
    for i = 1, 2 do
      if results[i].err then
        failed = failed + 1
        assert.equal(503, results[i].err.status)
        assert.equal(1, results[i].err.attempts)
      else
        ok = ok + 1
        assert.is_string(results[i].result.job_id)
      end
    end
    assert.equal(1, failed)
    assert.equal(1, ok)
    assert.equal(2, emu:counts()["workspaceapp.reinstall_server"])
  end)

  it("gives each bad call its own validation error in place and sends the rest", function()
    local results = client:parallel {
      deployment("srv-valid-1"),
      { "nope", "reinstall_server", { server_id = "x" } },
      { "workspaceapp", "reinstall_serve", { server_id = "x" } },
      { "workspaceapp", "reinstall_server", {} },
      { "workspaceapp", "reinstall_server", { server_id = "x", bogus = 1 } },
      { "workspaceapp", "reinstall_server", "srv" },
      "not a call",
      { "workspaceapp", "reinstall_server", { server_id = "x" }, { retries = "x" } },
      deployment("srv-valid-2"),
    }
    assert.equal(9, #results)
    assert.equal("srv-valid-1", results[1].result.software_deployment.server_id)
    local fields = { nil, "calls[2].service", "calls[3].operation", "server_id", "bogus",
                     "request", "calls[7]", "opts.retries" }
    for i = 2, 8 do
      assert.is_nil(results[i].result)
      assert.equal("validation", results[i].err.kind, "call " .. i)
      assert.equal(fields[i], results[i].err.field, "call " .. i)
    end
    assert.truthy(results[3].err.message:find("reinstall_server", 1, true))
    assert.equal("srv-valid-2", results[9].result.software_deployment.server_id)
    assert.same({ ["rts.create_software_deployment"] = 2 }, emu:counts())
  end)

  it("reports cloud errors in place too", function()
    emu:fail {}
    local results = client:parallel {
      { "workspaceapp", "show_job_detail", { job_id = "missing" } },
      { "rts", "list_software_deployments", {} },
    }
    assert.equal(404, results[1].err.status)
    assert.is_nil(results[1].result)
    assert.is_table(results[2].result)
    assert.is_nil(results[2].err)
  end)

  it("returns an empty list for no calls, and sends nothing", function()
    assert.same({}, client:parallel({}))
    assert.same({}, client:parallel({}, { concurrency = 4 }))
    assert.same({}, emu:counts())
  end)

  it("marks job results so client:wait takes them as they are", function()
    local results = client:parallel {
      { "workspaceapp", "reinstall_server", { server_id = "srv-par-wait" } },
      deployment("srv-par-wait"),
    }
    local done = client:wait_all({ results[1].result, results[2].result },
                                 { interval = 0.1, max_interval = 0.3, timeout = 20 })
    assert.equal("SUCCESS", done[1].result.status)
    assert.equal("COMPLETE", done[2].result.software_deployment.status)
  end)

  it("raises for something that is not a list of calls (a programming error)", function()
    assert.has_error(function() client:parallel("calls") end)
  end)

  it("answers bad options with nil, err before any call runs", function()
    local res, err = client:parallel({ deployment("srv-par-opts") }, { concurrency = "many" })
    assert.is_nil(res)
    assert.equal("validation", err.kind)
    assert.equal("opts.concurrency", err.field)
    assert.same({}, emu:counts())
  end)

  it("can be called again after a run, with many calls over the same connections", function()
    for round = 1, 2 do
      local calls = {}
      for i = 1, 40 do calls[i] = { "rts", "list_software_deployments", {} } end
      local results = client:parallel(calls, { concurrency = 16 })
      for i = 1, 40 do assert.is_nil(results[i].err, "round " .. round .. " call " .. i) end
    end
    assert.equal(80, emu:counts()["rts.list_software_deployments"])
  end)
end)
