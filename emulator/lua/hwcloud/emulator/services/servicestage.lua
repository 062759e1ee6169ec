-- ServiceStage: add-on jobs and their progress.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local inventory = require "hwcloud.emulator.inventory"

local floor, tostring, ipairs = math.floor, tostring, ipairs

local _M = { name = "servicestage" }

local status_of = { waiting = "SUBMITTED", running = "RUNNING" }

local function deliver_addon_job(ctx)
  local p, body = ctx.store, ctx.body
  local id = "JOB" .. util.uuid4()
  p.servicestage_jobs[id] = {
    id = id,
    created = ctx.now,
    project_id = ctx.project_id,
    environment_id = ctx.params.environment_id,
    addon_id = ctx.params.addon_id,
    action = body.action,
  }
  return 200, { job_id = id }
end

local function not_found(what, id)
  return 404, errors.body("servicestage", 404, what .. " " .. id .. " does not exist")
end

local function environment(ctx)
  local inv = inventory.of(ctx.store)
  local id = ctx.params.environment_id
  return inventory.find(inv.servicestage.environments, id), inv, id
end

-- GET /v3/{project_id}/cas/environments: name or environment_id filters,
-- offset/limit
local function list_environments(ctx)
  local inv = inventory.of(ctx.store)
  local args, picked = ctx.args, {}
  for _, e in ipairs(inv.servicestage.environments) do
    if (args.name == nil or args.name == e.name)
      and (args.environment_id == nil or args.environment_id == e.id) then
      picked[#picked + 1] = e
    end
  end
  local page, err = inventory.page(picked, args)
  if not page then return 400, errors.body("servicestage", 400, err) end
  return 200, { environments = util.array(page), count = #picked }
end

local function show_environment(ctx)
  local e, _, id = environment(ctx)
  if not e then return not_found("Environment", id) end
  return 200, e
end

local function list_addons(ctx)
  local e, inv, id = environment(ctx)
  if not e then return not_found("Environment", id) end
  local out = {}
  for _, a in ipairs(inv.servicestage.addons) do
    if a.environment_id == e.id then out[#out + 1] = a end
  end
  return 200, { addons = util.array(out) }
end

local function show_addon(ctx)
  local e, inv, id = environment(ctx)
  if not e then return not_found("Environment", id) end
  local a = inventory.find(inv.servicestage.addons, ctx.params.addon_id)
  if not a or a.environment_id ~= e.id then
    return not_found("Add-on", ctx.params.addon_id)
  end
  return 200, a
end

local function show_job(ctx)
  local id = ctx.params.job_id
  local job = ctx.store.servicestage_jobs[id]
  if not job then
    return 404, errors.body("servicestage", 404, "Job " .. id .. " does not exist")
  end
  local now = ctx.now
  local phase = jobs.phase(job.created, now)
  local status = status_of[phase]
  local message = "Add-on " .. job.action .. " job is " .. phase
  if phase == "done" then
    if jobs.settle(job, job.id, job.addon_id, job.environment_id) then
      status, message = "FAILED", "Add-on " .. job.action .. " failed: injected failure"
    else
      status, message = "SUCCEEDED", "Add-on " .. job.action .. " succeeded"
    end
  end
  -- the official model has the timestamps as strings of milliseconds
  local created_ms = tostring(floor(job.created * 1000))
  local updated_ms = tostring(floor(now * 1000))
  return 200, {
    job = {
      JOB_ID = job.id,
      JOB_NAME = "addon-" .. job.action,
      JOB_TYPE = "DAILY_OPERATION",
      EXECUTION_STATUS = status,
      PROJECT_ID = job.project_id,
      SOURCE_ID = job.addon_id,
      SOURCE_TYPE = "ADDON",
      ENVIRONMENT_ID = job.environment_id,
      CREATED_AT = created_ms,
      UPDATED_AT = updated_ms,
    },
    tasks = {
      {
        TASK_ID = job.id .. "-1",
        TASK_NAME = "addon." .. job.action,
        TASK_TYPE = "ADDON",
        TASK_INDEX = 1,
        TASK_STATUS = status,
        JOB_ID = job.id,
        CREATED_AT = created_ms,
        UPDATE_AT = updated_ms,
        MESSAGES = message,
      },
    },
    task_count = 1,
  }
end

_M.routes = {
  {
    op = "deliver_addon_job", method = "POST",
    path = "/v3/{project_id}/cas/environments/{environment_id}/addons/{addon_id}/action",
    body = { type = "object", fields = {
      action = { type = "string", required = true, enum = { "restart", "redeploy" } },
    } },
    handler = deliver_addon_job,
  },
  { op = "show_environments", method = "GET", path = "/v3/{project_id}/cas/environments",
    handler = list_environments },
  { op = "show_environment_info", method = "GET",
    path = "/v3/{project_id}/cas/environments/{environment_id}", handler = show_environment },
  { op = "list_addons", method = "GET",
    path = "/v3/{project_id}/cas/environments/{environment_id}/addons", handler = list_addons },
  { op = "show_addon", method = "GET",
    path = "/v3/{project_id}/cas/environments/{environment_id}/addons/{addon_id}",
    handler = show_addon },
  {
    op = "show_job", method = "GET",
    path = "/v3/{project_id}/cas/jobs/{job_id}",
    handler = show_job,
  },
}

return _M
