-- The emulator's DCS background tasks, through the client: a minor version
-- upgrade answers a task_id that client:wait follows with
-- show_background_task_progress (its instance_id from the request) until
-- every step is FINISH, or fails when one is FAILED; list_background_task
-- lists the task; an unknown task is a 404; every answer as its
-- description says.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local answers = require "spec.helpers.answers"

local PID = "2f3e4d5c6b7a48f9a0b1c2d3e4f5a6b7"
local INSTANCE = "b7c1e2d3-4f5a-4b6c-9d7e-8f9a0b1c2d3e"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

before_each(function() session.restore() end)

local function conform(op, res)
  assert(answers.conform("dcs", op, res))
  return res
end

local function upgrade()
  return conform("upgrade_instance_minor_version", assert(
    client.dcs:upgrade_instance_minor_version { instance_id = INSTANCE,
                                                engine_minor_version = "6.0.20" }))
end

describe("emulator DCS background tasks #server", function()
  it("waits on a minor version upgrade's task_id until every step is FINISH", function()
    local started = upgrade()
    assert.is_string(started.task_id)
    local p = conform("show_background_task_progress", assert(
      client.dcs:show_background_task_progress { instance_id = INSTANCE,
                                                 task_id = started.task_id }))
    assert.truthy(p.progress < 100, p.progress)
    assert.are.equal(3, #p.step_details)
    local seen = {}
    local done = assert(client:wait(started, { interval = 0.1, max_interval = 0.2, timeout = 20,
      on_progress = function(e) seen[#seen + 1] = e.status end }))
    assert.are.equal(100, done.progress)
    for _, s in ipairs(done.step_details) do assert.are.equal("FINISH", s.step_status) end
    -- polled while steps ran, not only at the end
    assert.truthy(#seen > 1, #seen)
    local list = conform("list_background_task", assert(
      client.dcs:list_background_task { instance_id = INSTANCE }))
    assert.are.equal("1", list.task_count)
    assert.are.equal(started.task_id, list.tasks[1].id)
    assert.are.equal("success", list.tasks[1].status)
  end)

  it("fails the wait when the task fails, with the failed step's code", function()
    local started = upgrade()
    -- one task at a time per instance
    local _, busy = client.dcs:upgrade_instance_minor_version { instance_id = INSTANCE }
    assert.are.equal(400, busy.status)
    emu:fail { started.task_id }
    local _, err = client:wait(started, FAST)
    assert.is_table(err)
    assert.are.equal("FAILED", err.code)
    assert.truthy(tostring(err.message):find("DCS.4980", 1, true), tostring(err.message))
    local list = assert(client.dcs:list_background_task { instance_id = INSTANCE })
    assert.are.equal("failed", list.tasks[1].status)
  end)

  it("answers 404 for a task the instance does not have; a key analysis is no job", function()
    local _, err = client.dcs:show_background_task_progress { instance_id = INSTANCE,
                                                              task_id = "no-such-task" }
    assert.are.equal(404, err.status)
    _, err = client:wait({ service = "dcs", kind = "task", task_id = "no-such-task",
                           instance_id = INSTANCE }, FAST)
    assert.are.equal(404, err.status)
    -- its task_id names no state an operation gives by id: not waited on
    local ka = assert(client.dcs:create_offline_key_analysis { instance_id = INSTANCE,
                                                              node_id = "node-1" })
    _, err = client:wait(ka, FAST)
    assert.are.equal("validation", err.kind)
    assert.truthy(err.message:find("job-starting operation", 1, true), err.message)
  end)
end)
