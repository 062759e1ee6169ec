-- CodeArts Pipeline (v2): runs of a pipeline. run_pipeline answers the
-- run's id; the run is RUNNING for --job-seconds, its stages following
-- one another (Build, then Deploy), then COMPLETED, or FAILED (its Deploy
-- step saying why) for a run or pipeline id on POST /_emulator/fail's
-- list, or CANCELED when stop_pipeline_run came first. show_pipeline_run_detail
-- (the run id in the query; the latest run without one) and
-- list_pipeline_runs (offset and limit in the body) show them.
--
-- The pipelines are the inventory's (codeartspipeline.pipelines) and those
-- create_pipeline_new made (answered generically); runs already over can
-- be given in the inventory too (codeartspipeline.runs: id, pipeline_id,
-- status, run_number, start_time and end_time in milliseconds).

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"
local generic = require "hwcloud.emulator.generic"

local type, ipairs, next, tostring, tonumber, sort, floor, max = type, ipairs, next, tostring,
  tonumber, table.sort, math.floor, math.max

local _M = { name = "codeartspipeline" }

local function fail(status, msg)
  return status, errors.body("codeartspipeline", status, msg)
end

local function section(store)
  return inventory.of(store).codeartspipeline
end

local function str(v, default)
  if type(v) == "string" then return v end
  return default
end

-- The pipeline's record (inventory or generic), or nil.
local function pipeline(ctx, id)
  local p = inventory.find(section(ctx.store).pipelines, id)
  if p then return p end
  p = generic.item(ctx.project_id, "codeartspipeline", "pipelines", id)
  if p then return p end
  if not inventory.strict(ctx.store) then return { id = id } end
  return nil
end

local function pipeline_error(ctx)
  local id = ctx.params.pipeline_id
  if pipeline(ctx, id) then return nil end
  return 404, errors.body("codeartspipeline", 404, "The pipeline " .. tostring(id)
    .. " does not exist")
end

local function millis(t) return floor(t * 1000) end

-- The stages a run walks through: name, its job's and its step's names.
local STAGES = { { "Build", "build", "compile" }, { "Deploy", "deploy", "deploy" } }

-- The status of each stage of a run now, the run's status, and when it
-- ended (seconds; nil while it runs). A run from the inventory keeps the
-- status it was given.
local function progress(ctx, run)
  if type(run.began) ~= "number" then
    local s = str(run.status, "COMPLETED")
    return { s, s }, s
  end
  local finish = run.began + state.config.job_seconds
  if type(run.canceled) == "number" then
    local phase = jobs.phase(run.began, run.canceled)
    return phase == "waiting" and { "CANCELED", "INIT" } or { "COMPLETED", "CANCELED" },
      "CANCELED", run.canceled
  end
  local phase = jobs.phase(run.began, ctx.now)
  if phase == "waiting" then return { "RUNNING", "INIT" }, "RUNNING" end
  if phase == "running" then return { "COMPLETED", "RUNNING" }, "RUNNING" end
  if jobs.settle(run, run.id, run.pipeline_id) then
    return { "COMPLETED", "FAILED" }, "FAILED", finish
  end
  return { "COMPLETED", "COMPLETED" }, "COMPLETED", finish
end

local function times(run, ended)
  if type(run.began) ~= "number" then
    return tonumber(run.start_time) or 0, tonumber(run.end_time) or 0
  end
  return millis(run.began), ended and millis(ended) or 0
end

local function stage_views(ctx, run)
  local statuses, _, ended = progress(ctx, run)
  local start, finish = times(run, ended)
  local out = {}
  for i, s in ipairs(STAGES) do
    local status = statuses[i]
    local over = status ~= "RUNNING" and status ~= "INIT"
    local message = status == "FAILED" and ("step " .. s[3] .. " of the run " .. run.id
      .. " failed (injected failure)") or ""
    local id = run.id .. "-" .. i
    local step = {
      id = id .. "-step", identifier = s[3], name = s[3], sequence = 0, status = status,
      start_time = start, end_time = over and finish or 0, message = message,
      task = "official_" .. s[3], business_type = "Normal", endpoint_ids = util.array({}),
      inputs = util.array({}), last_dispatch_id = "", multi_step_editable = 0,
      official_task_version = "0.0.1",
    }
    local job = {
      id = id .. "-job", identifier = s[2], name = s[2], sequence = 0, status = status,
      start_time = start, end_time = over and finish or 0, message = message,
      category = "", async = "false", condition = "", depends_on = util.array({}),
      exec_id = id, is_select = true, last_dispatch_id = "", resource = "", timeout = "",
      steps = { step },
    }
    out[i] = {
      id = id, identifier = s[1], name = s[1], sequence = i - 1, status = status,
      start_time = start, end_time = over and finish or 0, category = "", condition = "",
      depends_on = util.array(i > 1 and { run.id .. "-" .. (i - 1) } or {}), is_select = true,
      parallel = "", pause_time = 0, run_always = false, pre = util.array({}),
      post = util.array({}), jobs = { job },
    }
  end
  return out
end

local function detail_view(ctx, run)
  local _, status, ended = progress(ctx, run)
  local start, finish = times(run, ended)
  local p = pipeline(ctx, run.pipeline_id) or {}
  return {
    id = run.id, pipeline_id = run.pipeline_id, name = str(p.name, run.pipeline_id),
    description = str(run.description, ""), status = status,
    run_number = tonumber(run.run_number) or 1, start_time = start, end_time = finish,
    pause_time = 0, current_system_time = millis(ctx.now), executor_id = "emulator",
    executor_name = "emulator", trigger_type = "Manual", project_id = ctx.project_id,
    domain_id = "emulator", region = "emulator", subject_id = run.id, component_id = "",
    group_id = "", group_name = "", is_publish = false, language = "en-US",
    manifest_version = "3.0", detail_url = "", stages = stage_views(ctx, run),
    sources = util.array(type(run.sources) == "table" and util.copy(run.sources) or {}),
    artifacts = util.array({}),
  }
end

local function row_view(ctx, run)
  local d = detail_view(ctx, run)
  local list = {}
  for i, s in ipairs(d.stages) do
    list[i] = { id = s.id, name = s.name, sequence = s.sequence, status = s.status,
                start_time = tostring(s.start_time), end_time = tostring(s.end_time) }
  end
  return {
    pipeline_id = d.pipeline_id, pipeline_run_id = d.id, run_number = d.run_number,
    status = d.status, start_time = d.start_time, end_time = d.end_time,
    executor_id = d.executor_id, executor_name = d.executor_name, trigger_type = d.trigger_type,
    detail_url = "", modify_url = "", stage_status_list = list,
  }
end

local function runs_of(ctx, pipeline_id)
  local out = {}
  for _, r in ipairs(section(ctx.store).runs) do
    if r.pipeline_id == pipeline_id then out[#out + 1] = r end
  end
  return out
end

local function run_pipeline(ctx)
  local status, body = pipeline_error(ctx)
  if status then return status, body end
  local pid = ctx.params.pipeline_id
  local number = 0
  for _, r in ipairs(runs_of(ctx, pid)) do
    number = max(number, tonumber(r.run_number) or 0)
  end
  local b = ctx.body
  local run = { id = util.random_hex(16), pipeline_id = pid, run_number = number + 1,
                began = ctx.now, description = str(b.description, ""),
                sources = util.copy(b.sources), variables = util.copy(b.variables),
                choose_stages = util.copy(b.choose_stages), choose_jobs = util.copy(b.choose_jobs) }
  local runs = section(ctx.store).runs
  runs[#runs + 1] = run
  state.own(run.id, "codeartspipeline")
  return 200, { pipeline_run_id = run.id }
end

local function find_run(ctx, id)
  for _, r in ipairs(section(ctx.store).runs) do
    if r.id == id and r.pipeline_id == ctx.params.pipeline_id then return r end
  end
  return nil
end

-- newest first
local function newest(runs)
  sort(runs, function(a, b)
    local na, nb = tonumber(a.run_number) or 0, tonumber(b.run_number) or 0
    if na ~= nb then return na > nb end
    return a.id < b.id
  end)
  return runs
end

local function show_run(ctx)
  local status, body = pipeline_error(ctx)
  if status then return status, body end
  local id = ctx.args.pipeline_run_id
  local run
  if id == nil or id == "" then
    run = newest(runs_of(ctx, ctx.params.pipeline_id))[1]
  else
    run = find_run(ctx, id)
  end
  if not run then
    return fail(404, "The pipeline run " .. tostring(id or "(latest)") .. " does not exist")
  end
  return 200, detail_view(ctx, run)
end

local function list_runs(ctx)
  local status, body = pipeline_error(ctx)
  if status then return status, body end
  local b = ctx.body
  local want = {}
  for _, s in ipairs(type(b.status) == "table" and b.status or {}) do want[s] = true end
  local rows = {}
  for _, r in ipairs(newest(runs_of(ctx, ctx.params.pipeline_id))) do
    local v = row_view(ctx, r)
    if next(want) == nil or want[v.status] then rows[#rows + 1] = v end
  end
  local offset = b.offset == nil and 0 or b.offset
  local limit = b.limit == nil and 10 or b.limit
  local page, err = inventory.page(rows, { offset = offset, limit = limit })
  if not page then return fail(400, "Invalid parameter " .. err) end
  return 200, { offset = offset, limit = limit, total = #rows, pipeline_runs = util.array(page) }
end

local function stop_run(ctx)
  local run = find_run(ctx, ctx.params.pipeline_run_id)
  if not run then
    return fail(404, "The pipeline run " .. tostring(ctx.params.pipeline_run_id)
      .. " does not exist")
  end
  local _, status = progress(ctx, run)
  if status ~= "RUNNING" then
    return fail(409, "The pipeline run " .. run.id .. " has already ended (" .. status .. ")")
  end
  run.canceled = ctx.now
  return 200, { success = true }
end

local P = "/v5/{project_id}/api/pipelines/{pipeline_id}"

_M.routes = {
  { op = "run_pipeline", method = "POST", path = P .. "/run", full_request = true,
    handler = run_pipeline },
  { op = "show_pipeline_run_detail", method = "GET", path = P .. "/pipeline-runs/detail",
    handler = show_run },
  { op = "list_pipeline_runs", method = "POST", path = P .. "/pipeline-runs/list",
    full_request = true, handler = list_runs },
  { op = "stop_pipeline_run", method = "POST",
    path = P .. "/pipeline-runs/{pipeline_run_id}/stop", handler = stop_run },
}

return _M
