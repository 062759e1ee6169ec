-- The emulator's CodeArts Build state, through the client: the inventory's
-- build history, run_job's builds joining it with their status, history
-- details, stop_build_job, injected failures, notices, 404s and pages.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"

local PID = "7a7b7c7d7e7f80818283848586878889"
local WEB = "48c66c6002964721be537cdc6ce0297b"     -- build-web, with two past builds
local API = "5d1e0b6c8a3f4e2b9c7d6a5f4e3d2c1b"     -- build-api, none

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

-- each test starts from the default inventory
before_each(function() session.restore() end)

local function history(job, offset, limit)
  return assert(client.codeartsbuild:show_list_history {
    job_id = job, offset = offset or 0, limit = limit or 10, interval = 7 })
end

local function numbers(h)
  local out = {}
  for i, r in ipairs(h.history_records) do out[i] = r.build_number .. ":" .. r.result end
  return out
end

-- waits (polling, no upper bound asserted) until the build is no longer running
local function settle(job)
  for _ = 1, 100 do
    if not assert(client.codeartsbuild:show_job_status { job_id = job }).result then return end
    emulator.sleep(0.1)
  end
  error("the build did not end")
end

describe("emulator CodeArts Build #server", function()
  it("starts with the inventory's history, newest first, with offset/limit and total", function()
    local h = history(WEB)
    assert.are.equal(2, h.total)
    assert.are.same({ "2:failed", "1:success" }, numbers(h))
    assert.are.equal("rec-web-2", h.history_records[1].record_id)
    h = history(WEB, 1, 1)
    assert.are.same({ "1:success" }, numbers(h))
    h = history(API)
    assert.are.equal(0, h.total)
    assert.are.same({}, numbers(h))
  end)

  it("puts run_job's build into the history, running then success", function()
    local run = assert(client.codeartsbuild:run_job { job_id = WEB,
      parameter = { { name = "branch", value = "main" } } })
    assert.are.equal("3", run.actual_build_number)
    assert.are.same({ "3:running", "2:failed", "1:success" }, numbers(history(WEB)))
    local page = assert(client.codeartsbuild:show_job_list_by_project_id {
      project_id = PID, page_index = 1, page_size = 1 })
    assert.are.equal("running", page.jobs[1].last_build_status)
    settle(WEB)
    assert.are.same({ "3:success", "2:failed", "1:success" }, numbers(history(WEB)))
    local d = assert(client.codeartsbuild:show_history_details { job_id = WEB, build_number = 3 })
    assert.are.equal(3, d.build_number)
    assert.are.equal("build-web", d.job_name)
    assert.are.equal("main", d.parameters.branch)
    assert.are.equal("success", d.build_steps[#d.build_steps].status)
    d = assert(client.codeartsbuild:show_history_details { job_id = WEB, build_number = 2 })
    assert.are.equal("failed", d.build_steps[#d.build_steps].status)
  end)

  it("ends a build failed when its job is on the fail list", function()
    emu:fail { API }
    assert.are.equal("1", assert(client.codeartsbuild:run_job { job_id = API }).actual_build_number)
    settle(API)
    assert.are.same({ "1:failed" }, numbers(history(API)))
    local page = assert(client.codeartsbuild:show_job_list_by_project_id {
      project_id = PID, page_index = 2, page_size = 1 })
    assert.are.equal(API, page.jobs[1].id)
    assert.are.equal("failed", page.jobs[1].last_build_status)
  end)

  it("stops a running build (aborted); a finished one cannot be stopped", function()
    assert(client.codeartsbuild:run_job { job_id = API })
    local res = assert(client.codeartsbuild:stop_build_job { job_id = API, build_no = 1 })
    assert.is_true(res.success)
    assert.is_false(assert(client.codeartsbuild:show_job_status { job_id = API }).result)
    assert.are.same({ "1:aborted" }, numbers(history(API)))
    local err
    res, err = client.codeartsbuild:stop_build_job { job_id = API, build_no = 1 }
    assert.is_nil(res)
    assert.are.equal(400, err.status)
    assert.is_truthy(err.message:find("not running", 1, true))
  end)

  it("keeps notices per job and lists them", function()
    assert(client.codeartsbuild:update_notice { job_id = WEB, notice_type = "mail",
      enabled_event_type_names = { "build_fail" } })
    assert(client.codeartsbuild:update_notice { job_id = WEB, notice_type = "dingding",
      enabled_event_type_names = { "build_success", "build_fail" }, param_config = "{}" })
    local res = assert(client.codeartsbuild:list_notice { job_id = WEB })
    assert.are.equal("success", res.status)
    assert.are.equal(2, #res.result)
    assert.are.equal("dingding", res.result[1].notice_type)
    assert.is_true(res.result[1].enable_map.build_success)
    assert.are.equal("mail", res.result[2].notice_type)
    assert.is_true(res.result[2].enable_map.build_fail)
    assert.is_false(res.result[2].enable_map.build_success)
    assert.are.same({}, assert(client.codeartsbuild:list_notice { job_id = API }).result)
  end)

  it("answers 404 in CodeArts Build's shape for unknown jobs and builds", function()
    local cases = {
      { "run_job", { job_id = "nope" } },
      { "show_job_status", { job_id = "nope" } },
      { "show_list_history", { job_id = "nope", offset = 0, limit = 1, interval = 7 } },
      { "show_history_details", { job_id = WEB, build_number = 99 } },
      { "show_history_details", { job_id = "nope", build_number = 1 } },
      { "stop_build_job", { job_id = WEB, build_no = 99 } },
      { "list_notice", { job_id = "nope" } },
      { "update_notice", { job_id = "nope", notice_type = "mail",
                           enabled_event_type_names = {} } },
    }
    for _, c in ipairs(cases) do
      local res, err = client.codeartsbuild[c[1]](client.codeartsbuild, c[2])
      assert.is_nil(res, c[1])
      assert.are.equal(404, err.status, c[1])
      assert.are.equal("CB.00060404", err.code, c[1])
    end
  end)

  it("refuses a page_index of 0 and a negative offset in its 400 shape", function()
    local res, err = client.codeartsbuild:show_job_list_by_project_id {
      project_id = PID, page_index = 0, page_size = 2 }
    assert.is_nil(res)
    assert.are.equal(400, err.status)
    assert.is_truthy(err.message:find("page_index", 1, true))
    res, err = client.codeartsbuild:show_list_history {
      job_id = WEB, offset = -1, limit = 1, interval = 7 }
    assert.is_nil(res)
    assert.are.equal(400, err.status)
    assert.is_truthy(err.message:find("offset", 1, true))
  end)
end)
