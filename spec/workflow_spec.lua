-- client:wait and client:wait_all against the bundled emulator: every kind of
-- job (ServiceStage jobs, Workspace app jobs, RTS software deployments), each
-- way it can end, timeouts, progress callbacks and bad input.
--
-- Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" \
--        LUA_CPATH="build/5.4/?.so;;" lua5.4 /usr/bin/busted spec/workflow_spec.lua

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local hwcloud = require "hwcloud"
local core = require "hwcloud.core"

local PID = "7e6d5c4b3a2918070605040302010000"
-- polls every 0.1 s at first, never more than 0.3 s apart; jobs take 1 s
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local function with(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

describe("workflows #server", function()
  local emu, client
  local session = emulator.session({ job_seconds = 1, inventory = require "spec.fixtures.inventory" }, PID,
                                   { region = "cn-north-4", retry_base = 0.01 })
  setup(function() emu, client = session.start() end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  local function reinstall(server)
    return assert(client.workspaceapp:reinstall_server { server_id = server })
  end

  local function redeploy(addon)
    return assert(client.servicestage:deliver_addon_job {
      environment_id = "e", addon_id = addon, action = "redeploy" })
  end

  local function deploy(server)
    return assert(client.rts:create_software_deployment {
      config_id = "cfg-wf", server_id = server, action = "CREATE", status = "IN_PROGRESS" })
  end

  describe("client:wait", function()
    it("follows a ServiceStage job to SUCCEEDED", function()
      local job = redeploy("addon-ok")
      assert.is_string(job.job_id)
      local final, err = client:wait(job, FAST)
      assert.is_nil(err)
      assert.equal("SUCCEEDED", final.job.EXECUTION_STATUS)
      assert.is_true(emu:counts()["servicestage.show_job"] >= 2)
    end)

    it("reports a ServiceStage job that ends FAILED as job_failed, with the job", function()
      emu:fail { "addon-bad" }
      local job = redeploy("addon-bad")
      local final, err = client:wait(job, FAST)
      assert.is_nil(final)
      assert.equal("job_failed", err.kind)
      assert.equal("servicestage", err.service)
      assert.equal("FAILED", err.code)
      assert.equal("FAILED", err.job.job.EXECUTION_STATUS)
      assert.truthy(err.message:find(job.job_id, 1, true))
      assert.truthy(tostring(err):find("FAILED", 1, true))
    end)

    it("follows a Workspace app job to SUCCESS", function()
      local job = reinstall("srv-wf-ok")
      local final, err = client:wait(job, FAST)
      assert.is_nil(err)
      assert.equal("SUCCESS", final.status)
      assert.equal(job.job_id, final.id)
    end)

    it("reports a Workspace app job that ends FAILED, with the service's reason", function()
      emu:fail { "srv-wf-bad" }
      local job = reinstall("srv-wf-bad")
      local final, err = client:wait(job, FAST)
      assert.is_nil(final)
      assert.equal("job_failed", err.kind)
      assert.equal("workspaceapp", err.service)
      assert.equal("FAILED", err.code)
      assert.equal("FAILED", err.job.status)
      assert.truthy(err.message:find("srv-wf-bad", 1, true))
    end)

    it("follows an RTS software deployment to COMPLETE", function()
      local dep = deploy("srv-wf-ok")
      local final, err = client:wait(dep, FAST)
      assert.is_nil(err)
      assert.equal("COMPLETE", final.software_deployment.status)
      assert.equal(dep.software_deployment.id, final.software_deployment.id)
    end)

    it("reports an RTS deployment that ends FAILED, with its status_reason", function()
      emu:fail { "srv-wf-bad" }
      local dep = deploy("srv-wf-bad")
      local final, err = client:wait(dep, FAST)
      assert.is_nil(final)
      assert.equal("job_failed", err.kind)
      assert.equal("rts", err.service)
      assert.equal("FAILED", err.code)
      assert.equal("FAILED", err.job.software_deployment.status)
      assert.truthy(err.message:find("non-zero status", 1, true))
    end)

    it("gives up after opts.timeout with kind timeout and the last state seen", function()
      local job = reinstall("srv-wf-slow")
      local t0 = core.now()
      local final, err = client:wait(job, { interval = 0.05, max_interval = 0.1,
                                            timeout = 0.25 })
      local elapsed = core.now() - t0
      assert.is_nil(final)
      assert.equal("timeout", err.kind)
      assert.equal("workspaceapp", err.service)
      assert.is_table(err.job)
      assert.truthy(err.job.status == "WAITING" or err.job.status == "RUNNING")
      assert.truthy(err.message:find(job.job_id, 1, true))
      assert.is_true(elapsed >= 0.25, "gave up after " .. elapsed .. " s")
    end)

    it("never polls sooner than opts.interval", function()
      -- polls at least 0.4 s apart, plus one last look at the deadline: in
      -- T seconds of waiting, at most 2 + floor(T / 0.4) polls, however slow
      -- the machine makes each one; the job (on an emulator of its own)
      -- outlasts the wait
      local slow = emulator.start { job_seconds = 60, inventory = require "spec.fixtures.inventory" }
      local c = assert(hwcloud.client { endpoint = slow.url, ak = slow.ak, sk = slow.sk,
                                        project_id = PID, progress = false })
      local job = assert(c.workspaceapp:reinstall_server { server_id = "srv-wf-interval" })
      local t0 = core.now()
      local _, err = c:wait(job, { interval = 0.4, max_interval = 0.4, timeout = 1.3 })
      local elapsed = core.now() - t0
      local polls = slow:counts()["workspaceapp.show_job_detail"]
      c:close()
      slow:stop()
      assert.equal("timeout", err.kind)
      assert.is_true(polls >= 2, polls .. " polls")
      assert.is_true(polls <= 2 + math.floor(elapsed / 0.4), polls .. " polls in " .. elapsed .. " s")
    end)

    it("calls on_progress with each state seen, the last one done", function()
      local job = reinstall("srv-wf-progress")
      local states = {}
      local final = assert(client:wait(job, with(FAST, {
        on_progress = function(s) states[#states + 1] = s end })))
      assert.is_true(#states >= 2)
      local seen = {}
      for i, s in ipairs(states) do
        assert.equal("workspaceapp", s.service)
        assert.equal(job.job_id, s.id)
        assert.equal(i, s.polls)
        assert.is_number(s.elapsed)
        if i > 1 then assert.is_true(s.elapsed >= states[i - 1].elapsed) end
        assert.is_table(s.job)
        seen[s.status] = true
        if i < #states then assert.is_falsy(s.done) end
      end
      assert.is_true(seen.WAITING or seen.RUNNING)
      local last = states[#states]
      assert.is_true(last.done)
      assert.equal("SUCCESS", last.status)
      assert.same(final, last.job)
    end)

    it("calls on_progress with the FAILED state too", function()
      emu:fail { "srv-wf-progress-bad" }
      local job = reinstall("srv-wf-progress-bad")
      local last
      local _, err = client:wait(job, with(FAST, { on_progress = function(s) last = s end }))
      assert.equal("job_failed", err.kind)
      assert.is_true(last.done)
      assert.equal("FAILED", last.status)
    end)

    it("takes a job named explicitly: {service=, job_id=} and {service='rts', deployment_id=}",
      function()
        local ws = reinstall("srv-wf-explicit")
        local ss = redeploy("addon-explicit")
        local dep = deploy("srv-wf-explicit")
        local a = assert(client:wait({ service = "workspaceapp", job_id = ws.job_id }, FAST))
        assert.equal("SUCCESS", a.status)
        local b = assert(client:wait({ service = "servicestage", job_id = ss.job_id }, FAST))
        assert.equal("SUCCEEDED", b.job.EXECUTION_STATUS)
        local c = assert(client:wait({ service = "rts",
                                       deployment_id = dep.software_deployment.id }, FAST))
        assert.equal("COMPLETE", c.software_deployment.status)
      end)

    it("takes the result of a show operation as the job", function()
      local dep = deploy("srv-wf-show")
      local shown = assert(client.rts:show_software_deployment {
        deployment_id = dep.software_deployment.id })
      local final = assert(client:wait(shown, FAST))
      assert.equal("COMPLETE", final.software_deployment.status)
    end)

    it("returns an unknown job's error (404) without polling again", function()
      local final, err = client:wait({ service = "workspaceapp", job_id = "no-such-job" }, FAST)
      assert.is_nil(final)
      assert.equal("http", err.kind)
      assert.equal(404, err.status)
      assert.equal(1, emu:counts()["workspaceapp.show_job_detail"])
    end)

    it("polls on through a passing outage of the show operation", function()
      local job = reinstall("srv-wf-outage")
      emu:fault { operation = "workspaceapp.show_job_detail", count = 2, status = 503 }
      local final, err = client:wait(job, FAST)
      assert.is_nil(err)
      assert.equal("SUCCESS", final.status)
    end)

    local bad = {
      { "nil", nil, "job" },
      { "a string", "123", "job" },
      { "an empty table", {}, "job.service" },
      { "a service without jobs", { service = "asm", job_id = "1" }, "job.service" },
      { "an unknown service", { service = "nope", job_id = "1" }, "job.service" },
      { "no job id", { service = "workspaceapp" }, "job.job_id" },
      { "an empty job id", { service = "servicestage", job_id = "" }, "job.job_id" },
      { "a number job id", { service = "workspaceapp", job_id = 7 }, "job.job_id" },
      { "rts without deployment_id", { service = "rts", job_id = "x" }, "job.deployment_id" },
    }
    for _, case in ipairs(bad) do
      it("rejects " .. case[1] .. " as a validation error before any request", function()
        local final, err = client:wait(case[2], FAST)
        assert.is_nil(final)
        assert.equal("validation", err.kind)
        assert.equal(case[3], err.field)
        assert.same({}, emu:counts())
      end)
    end

    it("rejects bad options as a validation error before any request", function()
      local job = { service = "workspaceapp", job_id = "j" }
      for field, value in pairs { interval = "fast", max_interval = -1, timeout = {},
                                  on_progress = "print" } do
        local final, err = client:wait(job, { [field] = value })
        assert.is_nil(final)
        assert.equal("validation", err.kind)
        assert.equal("opts." .. field, err.field)
      end
      assert.same({}, emu:counts())
    end)
  end)

  describe("failure reasons", function()
    -- a service may answer null where a text is documented
    local jobs = require "hwcloud.jobs"
    local null = hwcloud.null

    it("come from text fields only, never from a JSON null", function()
      local K = jobs.KINDS
      assert.equal("task 1 failed", K.servicestage.reason {
        tasks = { { task_status = "FAILED", task_name = null, messages = null } } })
      assert.equal("deploy failed: quota", K.servicestage.reason {
        tasks = { { task_status = "FAILED", task_name = "deploy", messages = "quota" } } })
      assert.equal("FAILED: disk full", K.workspaceapp.reason {
        sub_jobs = { { status = "FAILED", error_code = null, error_message = "disk full" } } })
      assert.is_nil(K.workspaceapp.reason {
        sub_jobs = { { status = "FAILED", error_code = null, error_message = null } } })
      assert.is_nil(K.rts.reason { software_deployment = { status_reason = null } })
    end)
  end)

  describe("client:wait_all", function()
    it("waits for many jobs of every kind and answers in the order given", function()
      emu:fail { "srv-all-bad", "addon-all-bad" }
      local list = {
        reinstall("srv-all-ok"),
        reinstall("srv-all-bad"),
        deploy("srv-all-ok"),
        redeploy("addon-all-bad"),
        { service = "asm", job_id = "x" },
        redeploy("addon-all-ok"),
        deploy("srv-all-bad"),
      }
      local results = client:wait_all(list, FAST)
      assert.equal(#list, #results)
      assert.equal("SUCCESS", results[1].result.status)
      assert.is_nil(results[1].err)
      assert.equal("job_failed", results[2].err.kind)
      assert.equal("FAILED", results[2].err.job.status)
      assert.equal("COMPLETE", results[3].result.software_deployment.status)
      assert.equal("job_failed", results[4].err.kind)
      assert.equal("servicestage", results[4].err.service)
      assert.equal("validation", results[5].err.kind)
      assert.equal("SUCCEEDED", results[6].result.job.EXECUTION_STATUS)
      assert.equal("job_failed", results[7].err.kind)
      assert.equal("rts", results[7].err.service)
      -- each result is also {result, err}
      assert.equal(results[1].result, results[1][1])
      assert.equal(results[2].err, results[2][2])
    end)

    it("times each job out on its own", function()
      local list = { reinstall("srv-all-a"), reinstall("srv-all-b") }
      local results = client:wait_all(list, { interval = 0.05, max_interval = 0.1,
                                              timeout = 0.2 })
      assert.equal("timeout", results[1].err.kind)
      assert.equal("timeout", results[2].err.kind)
    end)

    it("waits for jobs with the polls running side by side", function()
      local list = {}
      for i = 1, 12 do list[i] = reinstall(("srv-many-%02d"):format(i)) end
      local results = client:wait_all(list, FAST)
      for i = 1, 12 do
        assert.is_nil(results[i].err)
        assert.equal(list[i].job_id, results[i].result.id)
      end
    end)

    it("returns an empty list for no jobs", function()
      assert.same({}, client:wait_all({}, FAST))
    end)
  end)
end)
