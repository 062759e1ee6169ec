-- Workspace application servers: reinstall and the job that follows it.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"

local null = util.null

local _M = { name = "workspaceapp" }

local status_of = { waiting = "WAITING", running = "RUNNING" }

local function reinstall_server(ctx)
  local p = ctx.store
  local id
  repeat id = util.digits(18) until not p.workspace_jobs[id]
  p.workspace_jobs[id] = {
    id = id,
    sub_id = util.digits(18),
    created = ctx.now,
    project_id = ctx.project_id,
    server_id = ctx.params.server_id,
    update_access_agent = ctx.body.update_access_agent == true,
  }
  return 200, { job_id = id }
end

local function show_job(ctx)
  local id = ctx.params.job_id
  local job = ctx.store.workspace_jobs[id]
  if not job then
    return 404, errors.body("workspaceapp", 404, "The job " .. id .. " does not exist",
                            "WKS.00010404")
  end
  local now = ctx.now
  local phase = jobs.phase(job.created, now)
  local status = status_of[phase]
  local end_time, error_code, error_message = null, null, null
  if phase == "done" then
    end_time = util.iso8601(job.created + state.config.job_seconds)
    if jobs.settle(job, job.id, job.server_id) then
      status = "FAILED"
      error_code = "WKS.00010500"
      error_message = "Reinstalling server " .. job.server_id .. " failed (injected failure)"
    else
      status = "SUCCESS"
    end
  end
  local begin_time = util.iso8601(job.created)
  return 200, {
    id = job.id,
    job_type = "REINSTALL_OS",
    begin_time = begin_time,
    end_time = end_time,
    status = status,
    sub_jobs_total = 1,
    sub_jobs = {
      {
        id = job.sub_id,
        job_id = job.id,
        project_id = job.project_id,
        job_type = "REINSTALL_OS",
        begin_time = begin_time,
        end_time = end_time,
        status = status,
        error_code = error_code,
        error_message = error_message,
        job_resource_info = { resource_id = job.server_id, resource_name = job.server_id },
      },
    },
  }
end

_M.routes = {
  {
    op = "reinstall_server", method = "POST",
    path = "/v1/{project_id}/app-servers/{server_id}/actions/reinstall",
    body = { type = "object", fields = {
      update_access_agent = { type = "boolean" },
    } },
    handler = reinstall_server,
  },
  {
    op = "show_job_detail", method = "GET",
    path = "/v2/{project_id}/job/{job_id}",
    handler = show_job,
  },
}

return _M
