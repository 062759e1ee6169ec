-- CodeArts Build: notification settings of a build task.

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local inventory = require "hwcloud.emulator.inventory"
local jobs = require "hwcloud.emulator.jobs"

local null = util.null
local ipairs, tostring = ipairs, tostring

local function not_found(id)
  return 404, errors.body("codeartsbuild", 404, "The build job " .. id .. " does not exist",
                          "CB.00060404")
end

local function build_job(ctx, id)
  return inventory.find(inventory.of(ctx.store).codeartsbuild.jobs, id)
end

-- GET /v3/{project_id}/jobs?page_index=&page_size= (pages from 1)
local function list_jobs(ctx)
  local list = inventory.of(ctx.store).codeartsbuild.jobs
  local page = inventory.page(list, ctx.args, { page = "page_index", page_size = "page_size" })
  local out = {}
  for i, j in ipairs(page) do
    local v = util.copy(j)
    local b = ctx.store.builds and ctx.store.builds[j.id]
    v.last_build_status = b and (jobs.phase(b.created, ctx.now) == "done" and "success"
                                 or "running") or null
    out[i] = v
  end
  return 200, { jobs = util.array(out), total = #list }
end

local function run_job(ctx)
  local id = ctx.body.job_id
  local job = build_job(ctx, id)
  if not job then return not_found(tostring(id)) end
  local builds = ctx.store.builds
  if not builds then builds = {} ctx.store.builds = builds end
  local prev = builds[id]
  local number = (prev and prev.number or 0) + 1
  builds[id] = { number = number, created = ctx.now }
  return 200, { octopus_job_name = job.job_name, actual_build_number = tostring(number),
                daily_build_number = tostring(number) }
end

-- result: true while the last build is running
local function show_job_status(ctx)
  local id = ctx.params.job_id
  if not build_job(ctx, id) then return not_found(id) end
  local b = ctx.store.builds and ctx.store.builds[id]
  return 200, { result = b ~= nil and jobs.phase(b.created, ctx.now) ~= "done" }
end

local _M = { name = "codeartsbuild" }

local function update_notice(ctx)
  local job_id, body = ctx.params.job_id, ctx.body
  local per_job = ctx.store.notices[job_id]
  if not per_job then per_job = {} ctx.store.notices[job_id] = per_job end
  per_job[body.notice_type] = {
    notice_type = body.notice_type,
    enabled_event_type_names = util.copy(body.enabled_event_type_names),
    param_config = body.param_config,
    updated = ctx.now,
  }
  return 200, { result = { job_id = job_id }, error = null, status = "success" }
end

_M.routes = {
  { op = "show_job_list_by_project_id", method = "GET", path = "/v3/{project_id}/jobs",
    handler = list_jobs },
  { op = "run_job", method = "POST", path = "/v3/jobs/build",
    body = { type = "object", fields = { job_id = { type = "string", required = true } } },
    handler = run_job },
  { op = "show_job_status", method = "GET", path = "/v3/jobs/{job_id}/status",
    handler = show_job_status },
  {
    op = "update_notice", method = "POST",
    path = "/v3/jobs/notice/{job_id}/update",
    body = { type = "object", fields = {
      notice_type = { type = "string", required = true },
      enabled_event_type_names = { type = "array", required = true, items = { type = "string" } },
      param_config = { type = "string" },
    } },
    handler = update_notice,
  },
}

return _M
