-- ServiceStage: add-on jobs and their progress.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"

local floor, tostring = math.floor, tostring

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
      action = { type = "string", required = true },
    } },
    handler = deliver_addon_job,
  },
  {
    op = "show_job", method = "GET",
    path = "/v3/{project_id}/cas/jobs/{job_id}",
    handler = show_job,
  },
}

return _M
