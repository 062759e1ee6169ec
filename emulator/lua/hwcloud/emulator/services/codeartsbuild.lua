-- CodeArts Build: build jobs, their builds (run_job, stop_build_job), the
-- history of builds and its details, and notification settings.
--
-- A job's builds are the inventory's codeartsbuild.builds (the past, with a
-- fixed result) and those run_job started: running until --job-seconds have
-- passed, then "success", or "failed" when the job id or the build's record
-- id is on the fail list; stop_build_job makes a running build "aborted".

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local inventory = require "hwcloud.emulator.inventory"
local jobs = require "hwcloud.emulator.jobs"
local state = require "hwcloud.emulator.state"

local null = util.null
local ipairs, pairs, tostring, tonumber, type, sort =
  ipairs, pairs, tostring, tonumber, type, table.sort

local _M = { name = "codeartsbuild" }

local function not_found(id)
  return 404, errors.body("codeartsbuild", 404, "The build job " .. id .. " does not exist",
                          "CB.00060404")
end

local function bad(msg)
  return 400, errors.body("codeartsbuild", 400, msg)
end

local function section(ctx) return inventory.of(ctx.store).codeartsbuild end

local function build_job(ctx, id)
  return inventory.find(section(ctx).jobs, id)
end

-- The result of a build now: a past build's own, or a started one's.
local function result_of(ctx, b)
  if not b.created or b.result ~= nil then return b.result or "success" end
  if jobs.phase(b.created, ctx.now) ~= "done" then return "running" end
  b.result = state.should_fail(b.job_id, b.id) and "failed" or "success"
  b.end_time = util.iso8601(b.created + state.config.job_seconds)
  return b.result
end

-- A job's builds, newest (highest number) first.
local function builds_of(ctx, job_id)
  local out = {}
  for _, b in ipairs(section(ctx).builds) do
    if b.job_id == job_id then out[#out + 1] = b end
  end
  sort(out, function(a, b)
    return (tonumber(a.build_number) or 0) > (tonumber(b.build_number) or 0)
  end)
  return out
end

local function find_build(ctx, job_id, number)
  local n = tonumber(number)
  for _, b in ipairs(section(ctx).builds) do
    if b.job_id == job_id and tonumber(b.build_number) == n then return b end
  end
  return nil
end

-- GET /v3/{project_id}/jobs?page_index=&page_size= (pages from 1)
local function list_jobs(ctx)
  local list = section(ctx).jobs
  local page, err = inventory.page(list, ctx.args, { page = "page_index", page_size = "page_size" })
  if not page then return bad(err) end
  local out = {}
  for i, j in ipairs(page) do
    local v = util.copy(j)
    local last = builds_of(ctx, j.id)[1]
    v.last_build_status = last and result_of(ctx, last) or null
    out[i] = v
  end
  return 200, { jobs = util.array(out), total = #list }
end

local function run_job(ctx)
  local id = ctx.body.job_id
  local job = build_job(ctx, id)
  if not job then return not_found(tostring(id)) end
  local last = builds_of(ctx, id)[1]
  local number = (last and tonumber(last.build_number) or 0) + 1
  local params = {}
  for _, p in ipairs(ctx.body.parameter or {}) do
    if type(p) == "table" and p.name ~= nil then params[tostring(p.name)] = p.value end
  end
  local builds = section(ctx).builds
  builds[#builds + 1] = { id = util.uuid4(), job_id = id, build_number = number,
                          created = ctx.now, start_time = util.iso8601(ctx.now),
                          parameters = params }
  return 200, { octopus_job_name = job.job_name, actual_build_number = tostring(number),
                daily_build_number = tostring(number) }
end

-- result: true while the last build is running
local function show_job_status(ctx)
  local id = ctx.params.job_id
  if not build_job(ctx, id) then return not_found(id) end
  local last = builds_of(ctx, id)[1]
  return 200, { result = last ~= nil and result_of(ctx, last) == "running" }
end

-- GET /v3/jobs/{job_id}/history?offset=&limit=&interval= (newest first;
-- the emulator keeps every build, whatever the interval)
local function show_list_history(ctx)
  local id = ctx.params.job_id
  if not build_job(ctx, id) then return not_found(id) end
  local all = builds_of(ctx, id)
  local page, err = inventory.page(all, ctx.args)
  if not page then return bad(err) end
  local out = {}
  for i, b in ipairs(page) do
    local result = result_of(ctx, b)
    out[i] = { job_id = id, record_id = b.id, build_number = b.build_number, result = result,
               start_time = b.start_time or null, end_time = b.end_time or null }
  end
  return 200, { history_records = util.array(out), total = #all }
end

local STEPS = { "checkout", "build", "upload" }

local function show_history_details(ctx)
  local id = ctx.params.job_id
  local job = build_job(ctx, id)
  if not job then return not_found(id) end
  local b = find_build(ctx, id, ctx.params.build_number)
  if not b then
    return 404, errors.body("codeartsbuild", 404, "Build " .. tostring(ctx.params.build_number)
      .. " of the build job " .. id .. " does not exist", "CB.00060404")
  end
  local result = result_of(ctx, b)
  local steps = {}
  for i, name in ipairs(STEPS) do
    local status = result
    -- a failed build fails at its last step; the earlier ones succeeded
    if (result == "failed" or result == "aborted") and i < #STEPS then status = "success" end
    if result == "running" and i > 1 then status = "waiting" end
    steps[i] = { name = name, status = status, build_time = 1000 * i }
  end
  local params = b.parameters or {}
  return 200, { build_number = b.build_number, job_name = job.job_name,
                project_id = job.project_id or ctx.project_id or null,
                project_name = job.project_name or null,
                parameters = params,
                build_steps = steps }
end

local function stop_build_job(ctx)
  local id = ctx.params.job_id
  if not build_job(ctx, id) then return not_found(id) end
  local b = find_build(ctx, id, ctx.params.build_no)
  if not b then
    return 404, errors.body("codeartsbuild", 404, "Build " .. tostring(ctx.params.build_no)
      .. " of the build job " .. id .. " does not exist", "CB.00060404")
  end
  if result_of(ctx, b) ~= "running" then
    return 400, errors.body("codeartsbuild", 400, "Build " .. b.build_number .. " of the build job "
      .. id .. " is not running (" .. tostring(b.result) .. ")", "CB.00060200")
  end
  b.result = "aborted"
  b.end_time = util.iso8601(ctx.now)
  return 200, { result = "success", success = true }
end

-- Notices: in a strict inventory, only of its jobs (see
-- hwcloud.emulator.inventory); else of any job id.
local function update_notice(ctx)
  local job_id, body = ctx.params.job_id, ctx.body
  if inventory.strict(ctx.store) and not build_job(ctx, job_id) then return not_found(job_id) end
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

-- The events a notice can be sent for.
local EVENTS = { "build_success", "build_fail", "delete", "update_config", "close", "open" }

local function list_notice(ctx)
  local job_id = ctx.params.job_id
  local per_job = ctx.store.notices[job_id]
  if not per_job and not build_job(ctx, job_id) then return not_found(job_id) end
  local types = {}
  for t in pairs(per_job or {}) do types[#types + 1] = t end
  sort(types)
  local out = {}
  for i, t in ipairs(types) do
    local n = per_job[t]
    local enabled = {}
    for _, e in ipairs(n.enabled_event_type_names) do enabled[e] = true end
    local map = {}
    for _, e in ipairs(EVENTS) do map[e] = enabled[e] == true end
    for e in pairs(enabled) do map[e] = true end
    out[i] = { notice_type = t, enable_map = map, param_config = n.param_config or null }
  end
  return 200, { result = util.array(out), error = null, status = "success" }
end

_M.routes = {
  { op = "show_job_list_by_project_id", method = "GET", path = "/v3/{project_id}/jobs",
    handler = list_jobs },
  { op = "run_job", method = "POST", path = "/v3/jobs/build",
    body = { type = "object", fields = {
      job_id = { type = "string", required = true },
      parameter = { type = "array", items = { type = "object", fields = {
        name = { type = "string", required = true }, value = { type = "string" } } } },
    } },
    handler = run_job },
  { op = "show_job_status", method = "GET", path = "/v3/jobs/{job_id}/status",
    handler = show_job_status },
  { op = "show_list_history", method = "GET", path = "/v3/jobs/{job_id}/history",
    handler = show_list_history },
  { op = "show_history_details", method = "GET",
    path = "/v3/jobs/{job_id}/{build_number}/history-details", handler = show_history_details },
  { op = "stop_build_job", method = "POST", path = "/v3/jobs/{job_id}/{build_no}/stop",
    handler = stop_build_job },
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
  { op = "list_notice", method = "GET", path = "/v3/jobs/notice/{job_id}/query",
    handler = list_notice },
}

return _M
