-- CodeArts Deploy (v2): deployment tasks (the applications' deploy tasks:
-- made from a template or with an application; listed, shown and deleted
-- both ways) and their executions. start_deploy_task answers the
-- execution's record id; the execution is pending, then running, over
-- --job-seconds, then succeeded, or failed for a record, task or
-- application id on POST /_emulator/fail's list. ShowDeployStatus (GET
-- /v2/tasks/{task_id}/state?record_id=, described in the client's overlay
-- from the API reference) says running, succeeded or failed; the task's
-- execution_state and its history follow the latest execution.
--
-- The inventory's codeartsdeploy.tasks ({id, name, app_id?, project_id?,
-- state?}) and codeartsdeploy.records (past executions: {id, task_id,
-- state, start_time, end_time}) are where a project starts.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"

local type, pairs, ipairs, tostring, tonumber, remove, sort, format, floor, os_date =
  type, pairs, ipairs, tostring, tonumber, table.remove, table.sort, string.format, math.floor,
  os.date

local _M = { name = "codeartsdeploy" }

local function fail(status, msg)
  return status, errors.body("codeartsdeploy", status, msg)
end

local function section(store)
  return inventory.of(store).codeartsdeploy
end

local function str(v, default)
  if type(v) == "string" then return v end
  return default
end

local function time_text(t) return os_date("!%Y-%m-%d %H:%M:%S", floor(t)) end

-- Executions ----------------------------------------------------------------

-- An execution's state now and when it ended (seconds, nil while it runs);
-- one from the inventory keeps the state it was given.
local function record_state(ctx, rec)
  if type(rec.began) ~= "number" then return str(rec.state, "succeeded") end
  local phase = jobs.phase(rec.began, ctx.now)
  if phase == "waiting" then return "pending" end
  if phase == "running" then return "running" end
  local task = inventory.find(section(ctx.store).tasks, rec.task_id)
  local failed = jobs.settle(rec, rec.id, rec.task_id, task and task.app_id)
  return failed and "failed" or "succeeded", rec.began + state.config.job_seconds
end

local function records_of(ctx, task_id)
  local out = {}
  for _, r in ipairs(section(ctx.store).records) do
    if r.task_id == task_id then out[#out + 1] = r end
  end
  sort(out, function(a, b)
    return (tonumber(a.number) or 0) > (tonumber(b.number) or 0)
  end)
  return out
end

local function started_at(rec)
  if type(rec.began) == "number" then return time_text(rec.began) end
  return str(rec.start_time, "")
end

local function ended_at(rec, ended)
  if type(rec.began) == "number" then return ended and time_text(ended) or "" end
  return str(rec.end_time, "")
end

local function duration(rec, ended)
  if not (type(rec.began) == "number" and ended) then return str(rec.duration, "") end
  local s = floor(ended - rec.began)
  return format("%02d:%02d:%02d", floor(s / 3600), floor(s / 60) % 60, s % 60)
end

-- Tasks ---------------------------------------------------------------------

local FLAGS = { "can_copy", "can_delete", "can_disable", "can_execute", "can_manage",
                "can_modify", "can_view" }

-- The task's latest execution: its state ("not_executed" before any),
-- start, duration and number.
local function latest(ctx, task)
  local rec = records_of(ctx, task.id)[1]
  if not rec then return "not_executed", "", "", 0, "" end
  local st, ended = record_state(ctx, rec)
  return st, started_at(rec), duration(rec, ended), tonumber(rec.number) or 1,
    ended_at(rec, ended)
end

local function task_view(ctx, t)
  local exec_state, exec_time, dur, release = latest(ctx, t)
  local v = {
    id = t.id, task_id = t.id, name = str(t.name, t.id), app_id = str(t.app_id, ""),
    project_id = str(t.project_id, ctx.project_id), project_name = str(t.project_name, ""),
    description = str(t.description, ""), state = str(t.state, "Available"),
    execution_state = exec_state, execution_time = exec_time, duration = dur,
    release_id = release, create_time = str(t.create_time, ""),
    update_time = str(t.update_time, str(t.create_time, "")),
    deploy_system = str(t.deploy_system, "deployTemplate"), template_id = str(t.template_id, ""),
    slave_cluster_id = str(t.slave_cluster_id, ""), owner = "emulator", owner_id = "emulator",
    nick_name = "emulator", tenant_id = "emulator", tenant_name = "emulator",
    executor_id = "emulator", executor_nick_name = "emulator", role_id = 1, is_care = false,
    is_defaut_permission = true, is_disable = false, app_component_list = util.array({}),
    steps = {},
  }
  for _, f in ipairs(FLAGS) do v[f] = true end
  return v
end

local function new_task(ctx, fields)
  local t = { id = util.random_hex(16), create_time = time_text(ctx.now) }
  for k, v in pairs(fields) do t[k] = v end
  local list = section(ctx.store).tasks
  list[#list + 1] = t
  state.own(t.id, "codeartsdeploy")
  return t
end

local function name_taken(ctx, project_id, name)
  for _, t in ipairs(section(ctx.store).tasks) do
    if str(t.project_id, ctx.project_id) == project_id and t.name == name then return true end
  end
  return false
end

local function create_task(ctx)
  local b = ctx.body
  if name_taken(ctx, b.project_id, b.task_name) then
    return fail(409, "The project already has a task named " .. b.task_name)
  end
  local t = new_task(ctx, { name = b.task_name, project_id = b.project_id,
                            project_name = b.project_name, template_id = b.template_id,
                            slave_cluster_id = b.slave_cluster_id, app_id = util.random_hex(16),
                            configs = util.copy(b.configs) })
  return 200, { task_id = t.id, task_name = t.name }
end

local function find_task(ctx, id)
  return inventory.find(section(ctx.store).tasks, id)
end

local function task_not_found(id)
  return fail(404, "The deployment task " .. tostring(id) .. " does not exist")
end

local function show_task(ctx)
  local t = find_task(ctx, ctx.params.task_id)
  if not t then return task_not_found(ctx.params.task_id) end
  return 200, task_view(ctx, t)
end

local function page_of(rows, page, size)
  return inventory.page(rows, { page = page, size = size }, { page = "page", page_size = "size" })
end

local function list_tasks(ctx)
  local rows = {}
  for _, t in ipairs(section(ctx.store).tasks) do
    if str(t.project_id, ctx.project_id) == ctx.params.project_id then
      rows[#rows + 1] = task_view(ctx, t)
    end
  end
  local page, err = page_of(rows, ctx.args.page, ctx.args.size)
  if not page then return fail(400, "Invalid parameter " .. err) end
  return 200, { result = util.array(page), total_num = #rows }
end

local function forget_task(ctx, id)
  local _, i = find_task(ctx, id)
  remove(section(ctx.store).tasks, i)
  local recs = section(ctx.store).records
  for k = #recs, 1, -1 do
    if recs[k].task_id == id then remove(recs, k) end
  end
end

local function delete_task(ctx)
  local t = find_task(ctx, ctx.params.task_id)
  if not t then return task_not_found(ctx.params.task_id) end
  forget_task(ctx, t.id)
  return 200, { task_id = t.id }
end

-- Applications: an application holds its deploy task ------------------------

local function app_tasks(ctx, app_id)
  local out = {}
  for _, t in ipairs(section(ctx.store).tasks) do
    if t.app_id == app_id then out[#out + 1] = t end
  end
  return out
end

local function app_summary(t)
  return { id = t.app_id, name = str(t.app_name, str(t.name, "")), region = "emulator",
           arrange_infos = { { id = t.id } } }
end

local function create_app(ctx)
  local b = ctx.body
  if name_taken(ctx, b.project_id, b.name) then
    return fail(409, "The project already has an application named " .. b.name)
  end
  local t = new_task(ctx, { name = b.name, app_name = b.name, project_id = b.project_id,
                            description = b.description, app_id = util.random_hex(16),
                            state = b.is_draft and "Draft" or "Available",
                            group_id = b.group_id, slave_cluster_id = b.slave_cluster_id })
  state.own(t.app_id, "codeartsdeploy")
  return 200, { status = "success", result = app_summary(t) }
end

local function app_row(ctx, t)
  local v = task_view(ctx, t)
  local exec_state, _, _, _, end_time = latest(ctx, t)
  local row = {
    id = t.app_id, name = str(t.app_name, v.name), project_id = v.project_id,
    project_name = v.project_name, create_time = v.create_time, update_time = v.update_time,
    execution_state = exec_state, execution_time = v.execution_time, duration = v.duration,
    end_time = end_time, release_id = v.release_id, deploy_system = v.deploy_system,
    create_user_id = "emulator", create_tenant_id = "emulator", executor_id = "emulator",
    executor_nick_name = "emulator", is_care = false, is_disable = false, can_create_env = true,
    arrange_infos = { { id = t.id, state = v.state, deploy_system = v.deploy_system } },
  }
  for _, f in ipairs(FLAGS) do row[f] = true end
  return row
end

local function list_apps(ctx)
  local b = ctx.body
  local want
  if type(b.states) == "table" and b.states[1] ~= nil then
    want = {}
    for _, s in ipairs(b.states) do want[s] = true end
  end
  local rows = {}
  for _, t in ipairs(section(ctx.store).tasks) do
    if t.app_id and str(t.project_id, ctx.project_id) == b.project_id then
      local row = app_row(ctx, t)
      if not want or want[row.execution_state] then rows[#rows + 1] = row end
    end
  end
  local page, err = page_of(rows, b.page, b.size)
  if not page then return fail(400, "Invalid parameter " .. err) end
  return 200, { result = util.array(page), total_num = #rows }
end

local function show_app(ctx)
  local list = app_tasks(ctx, ctx.params.app_id)
  local t = list[1]
  if not t then
    return fail(404, "The application " .. tostring(ctx.params.app_id) .. " does not exist")
  end
  local infos = {}
  for i, x in ipairs(list) do infos[i] = task_view(ctx, x) end
  local r = {
    id = t.app_id, name = str(t.app_name, str(t.name, "")), description = str(t.description, ""),
    project_id = str(t.project_id, ctx.project_id), project_name = str(t.project_name, ""),
    region = "emulator", create_type = "template", create_time = str(t.create_time, ""),
    update_time = str(t.update_time, str(t.create_time, "")), create_user_id = "emulator",
    create_tenant_id = "emulator", owner_tenant_id = "emulator", permission_level = "instance",
    slave_cluster_id = str(t.slave_cluster_id, ""), is_care = false, is_disable = false,
    can_create_env = true, arrange_infos = infos,
  }
  for _, f in ipairs(FLAGS) do r[f] = true end
  return 200, { status = "success", result = r }
end

local function delete_app(ctx)
  local list = app_tasks(ctx, ctx.params.app_id)
  if not list[1] then
    return fail(404, "The application " .. tostring(ctx.params.app_id) .. " does not exist")
  end
  local summary = app_summary(list[1])
  summary.arrange_infos = {}
  for i, t in ipairs(list) do
    summary.arrange_infos[i] = { id = t.id }
    forget_task(ctx, t.id)
  end
  return 200, { status = "success", result = summary }
end

-- Starting and following an execution ----------------------------------------

local function start_task(ctx)
  local t = find_task(ctx, ctx.params.task_id)
  if not t then return task_not_found(ctx.params.task_id) end
  if t.state == "Draft" then
    return fail(400, "The deployment task " .. t.id .. " is a draft: it cannot be deployed")
  end
  local number = 0
  for _, r in ipairs(records_of(ctx, t.id)) do
    if (tonumber(r.number) or 0) > number then number = tonumber(r.number) end
  end
  local rec = { id = util.random_hex(16), task_id = t.id, began = ctx.now, number = number + 1,
                params = util.copy(ctx.body.params), trigger_source = ctx.body.trigger_source }
  local recs = section(ctx.store).records
  recs[#recs + 1] = rec
  return 200, { id = rec.id, task_id = t.id, job_name = str(t.name, t.id),
                app_component_list = util.array({}) }
end

local function show_status(ctx)
  local t = find_task(ctx, ctx.params.task_id)
  if not t then return task_not_found(ctx.params.task_id) end
  local id = ctx.args.record_id
  local rec
  for _, r in ipairs(records_of(ctx, t.id)) do
    if r.id == id then rec = r break end
  end
  if not rec then
    return fail(404, "The deployment record " .. tostring(id) .. " of task " .. t.id
      .. " does not exist")
  end
  local st = record_state(ctx, rec)
  local message = ""
  if st == "failed" then message = "the deployment " .. rec.id .. " failed (injected failure)" end
  return 200, { status = "success",
                result = { status = st == "pending" and "running" or st, message = message } }
end

-- "2026-12-05" from an execution's start ("2026-12-05 10:20:30")
local function day_of(rec)
  return (started_at(rec)):sub(1, 10)
end

local function history(ctx)
  local t = find_task(ctx, ctx.params.id)
  if not t then return task_not_found(ctx.params.id) end
  local from, to = tostring(ctx.args.start_date), tostring(ctx.args.end_date)
  local rows = {}
  for _, rec in ipairs(records_of(ctx, t.id)) do
    local day = day_of(rec)
    if day >= from and day <= to then
      local st, ended = record_state(ctx, rec)
      rows[#rows + 1] = { execution_id = rec.id, state = st, start_time = started_at(rec),
                          end_time = ended_at(rec, ended), duration = duration(rec, ended),
                          type = "deploy", operator = "emulator", nickname = "emulator",
                          release_id = tonumber(rec.number) or 1 }
    end
  end
  local page, err = page_of(rows, ctx.args.page, ctx.args.size)
  if not page then return fail(400, "Invalid parameter " .. err) end
  return 200, { result = util.array(page), total_num = #rows }
end

_M.routes = {
  { op = "create_deploy_task_by_template", method = "POST", path = "/v2/tasks/template-task",
    full_request = true, handler = create_task },
  { op = "list_deploy_tasks", method = "GET", path = "/v2/{project_id}/tasks/list",
    handler = list_tasks },
  { op = "show_deploy_task_detail", method = "GET", path = "/v2/tasks/{task_id}",
    handler = show_task },
  { op = "delete_deploy_task", method = "DELETE", path = "/v2/tasks/{task_id}",
    handler = delete_task },
  { op = "start_deploy_task", method = "POST", path = "/v2/tasks/{task_id}/start",
    full_request = true, handler = start_task },
  { op = "show_deploy_status", method = "GET", path = "/v2/tasks/{task_id}/state",
    handler = show_status },
  { op = "list_deploy_task_history_by_date", method = "GET",
    path = "/v2/{project_id}/task/{id}/history", handler = history },
  { op = "create_app", method = "POST", path = "/v1/applications", full_request = true,
    handler = create_app },
  { op = "list_all_app", method = "POST", path = "/v1/applications/list", full_request = true,
    handler = list_apps },
  { op = "show_app_detail_by_id", method = "GET", path = "/v1/applications/{app_id}/info",
    handler = show_app },
  { op = "delete_application", method = "DELETE", path = "/v1/applications/{app_id}",
    handler = delete_app },
}

return _M
