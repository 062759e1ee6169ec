-- Distributed Cache Service background tasks: upgrade_instance_minor_version
-- answers a task_id, a background task of the instance that
-- show_background_task_progress follows through three steps (each WAITING,
-- EXECUTING, then FINISH, a third of --job-seconds apiece; the last FAILED
-- when the task failed) and list_background_task lists. POST
-- /_emulator/fail fails a task by its id or its instance's. The instances
-- themselves are answered generically: any instance id is taken.

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"

local ipairs, type, tostring, floor, min = ipairs, type, tostring, math.floor, math.min

local array, iso = util.array, util.iso8601

local _M = { name = "dcs" }

local STEPS = { "CheckInstance", "UpgradeEngine", "VerifyInstance" }

-- instance id -> its tasks, oldest first
local function tasks_of(ctx)
  local all = ctx.store.dcs_tasks
  if not all then all = {} ctx.store.dcs_tasks = all end
  local list = all[ctx.params.instance_id]
  if not list then list = {} all[ctx.params.instance_id] = list end
  return list
end

-- How far a task is: the fraction of --job-seconds gone (at most 1), and
-- whether it failed (settled the first time it is seen done).
local function progress(task, now)
  local total = state.config.job_seconds
  local frac = total > 0 and min(1, (now - task.created) / total) or 1
  if frac >= 1 and task.failed == nil then
    task.failed = state.should_fail(task.id, task.instance_id) and true or false
  end
  return frac, task.failed
end

local function task_status(task, now)
  local frac, failed = progress(task, now)
  if frac < 1 then return "running" end
  return failed and "failed" or "success"
end

local function upgrade(ctx)
  local b = ctx.body
  for _, k in ipairs { "engine_minor_version", "proxy_minor_version" } do
    if b[k] ~= nil and (type(b[k]) ~= "string" or b[k] == "") then
      return 400, errors.body("dcs", 400, "Invalid parameter " .. k .. ": must be a version",
                              "DCS.4800")
    end
  end
  local list = tasks_of(ctx)
  for _, t in ipairs(list) do
    if task_status(t, ctx.now) == "running" then
      return 400, errors.body("dcs", 400, "The instance " .. ctx.params.instance_id
        .. " has a task still running: " .. t.id, "DCS.4817")
    end
  end
  local task = { id = util.uuid4(), instance_id = ctx.params.instance_id,
                 name = "UpgradeMinorVersion", created = ctx.now,
                 params = util.encode { engine_minor_version = b.engine_minor_version,
                                        proxy_minor_version = b.proxy_minor_version } }
  list[#list + 1] = task
  return 200, { task_id = task.id }
end

local function task_view(ctx, t)
  local status = task_status(t, ctx.now)
  return { id = t.id, name = t.name, status = status, params = t.params,
           user_name = "emulator", user_id = ctx.project_id, enable_show = true,
           created_at = iso(t.created),
           updated_at = status == "running" and iso(ctx.now)
                        or iso(t.created + state.config.job_seconds) }
end

-- list_background_task: newest first, offset (rows) and limit pages.
local function list_tasks(ctx)
  local list, out = tasks_of(ctx), {}
  for i = #list, 1, -1 do out[#out + 1] = task_view(ctx, list[i]) end
  local page, why = inventory.page(out, ctx.args)
  if not page then return 400, errors.body("dcs", 400, "Invalid parameter " .. why, "DCS.4800") end
  return 200, { task_count = tostring(#out), tasks = array(page) }
end

local function show_progress(ctx)
  local task = inventory.find(tasks_of(ctx), ctx.params.task_id)
  if not task then
    return 404, errors.body("dcs", 404, "The task " .. tostring(ctx.params.task_id)
      .. " does not exist", "DCS.4130")
  end
  local frac, failed = progress(task, ctx.now)
  local total, n = state.config.job_seconds, #STEPS
  local steps = {}
  for i, name in ipairs(STEPS) do
    local from, to = (i - 1) / n, i / n
    local st, ended, code = "WAITING", nil, nil
    if frac >= to then st, ended = "FINISH", iso(task.created + total * to)
    elseif frac >= from then st = "EXECUTING" end
    if frac >= 1 and failed and i == n then st, code = "FAILED", "DCS.4980" end
    steps[i] = { step_id = tostring(i), step_name = name, step_status = st,
                 begin_time = frac >= from and iso(task.created + total * from) or nil,
                 end_time = ended, error_code = code }
  end
  local pct = floor(frac * 100)
  if failed then pct = floor((n - 1) / n * 100) end
  return 200, { progress = pct, remain_time = floor((1 - frac) * total + 0.5),
                step_details = array(steps) }
end

local P = "/v2/{project_id}/instances/{instance_id}"

_M.routes = {
  { op = "upgrade_instance_minor_version", method = "POST",
    path = P .. "/minor-version/upgrade", full_request = true, handler = upgrade },
  { op = "list_background_task", method = "GET", path = P .. "/tasks", handler = list_tasks },
  { op = "show_background_task_progress", method = "GET",
    path = P .. "/tasks/{task_id}/progress", handler = show_progress },
}

return _M
