-- Workspace application servers: listing, reinstall, start, stop and reboot,
-- and the jobs (with one sub-job per server) that follow them. A server's
-- vm_status moves to the action's end state when its sub-job succeeds; it
-- is worked out whenever the server or the job is read.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"

local null = util.null
local pairs, ipairs, type, tostring, sort = pairs, ipairs, type, tostring, table.sort

local _M = { name = "workspaceapp" }

local status_of = { waiting = "WAITING", running = "RUNNING" }

-- Per action: the job type, the vm_status and task_status while it runs,
-- and the vm_status it leaves.
local ACTIONS = {
  reinstall = { verb = "Reinstalling", job_type = "REINSTALL_OS", vm = "REBUILD",
                task = "rebuilding", final = "ACTIVE" },
  start = { verb = "Starting", job_type = "START_SERVER", task = "powering-on",
            final = "ACTIVE" },
  stop = { verb = "Stopping", job_type = "STOP_SERVER", task = "powering-off",
           final = "SHUTOFF" },
  reboot = { verb = "Rebooting", job_type = "REBOOT_SERVER", vm = "REBOOT",
             task = "rebooting", final = "ACTIVE" },
}

local function not_found(what, id)
  return 404, errors.body("workspaceapp", 404, "The " .. what .. " " .. id .. " does not exist",
                          "WKS.00010404")
end

local function bad(msg)
  return 400, errors.body("workspaceapp", 400, msg, "WKS.00010001")
end

-- Settles a job the first time it is seen done: each sub-job fails when its
-- server, its own id or the job's id is on the fail list at that moment;
-- the servers of the sub-jobs that succeeded take the action's end state.
local function settle(store, job, now)
  if job.settled or jobs.phase(job.created, now) ~= "done" then return end
  job.settled = true
  local servers = inventory.of(store).workspace.servers
  local final = ACTIONS[job.action].final
  for _, sub in ipairs(job.subs) do
    sub.failed = state.should_fail(job.id, sub.id, sub.server_id) and true or false
    local s = inventory.find(servers, sub.server_id)
    if s and s.pending_job == job.id then
      s.pending_job = nil
      if not sub.failed then s.vm_status = final end
    end
  end
end

-- Settles the job still pending on a server, if any.
local function settle_server(store, server, now)
  local id = server.pending_job
  local job = id and store.workspace_jobs[id]
  if job then settle(store, job, now) end
end

-- Lists `list` filtered by the query fields in `filters` (query name ->
-- item field), a page of offset/limit.
local function listing(ctx, list, filters)
  local args, picked = ctx.args, {}
  for i = 1, #list do
    local item, ok = list[i], true
    for q, field in pairs(filters) do
      if args[q] ~= nil and tostring(item[field]) ~= tostring(args[q]) then ok = false end
    end
    if ok then picked[#picked + 1] = item end
  end
  local page, err = inventory.page(picked, args)
  if not page then return bad(err) end
  return 200, { items = util.array(page), count = #picked }
end

local function group_of(inv, server)
  return inventory.find(inv.workspace.server_groups, server.server_group_id)
end

local function server_view(ctx, inv, server)
  settle_server(ctx.store, server, ctx.now)
  local v = util.copy(server)
  v.pending_job = nil
  local g = group_of(inv, server)
  v.server_group_name = g and g.name or null
  v.vm_status = server.vm_status or "ACTIVE"
  local job = server.pending_job and ctx.store.workspace_jobs[server.pending_job]
  if job then
    local a = ACTIONS[job.action]
    v.vm_status = a.vm or v.vm_status
    v.task_status = a.task
    v.job_status = status_of[jobs.phase(job.created, ctx.now)] or "RUNNING"
  end
  return v
end

local function list_servers(ctx)
  local inv = inventory.of(ctx.store)
  local list = {}
  for i, s in ipairs(inv.workspace.servers) do list[i] = server_view(ctx, inv, s) end
  return listing(ctx, list, { server_id = "id", server_name = "name",
                              server_group_id = "server_group_id",
                              machine_name = "machine_name" })
end

local function show_server(ctx)
  local inv = inventory.of(ctx.store)
  local s = inventory.find(inv.workspace.servers, ctx.params.server_id)
  if not s then return not_found("server", ctx.params.server_id) end
  return 200, server_view(ctx, inv, s)
end

local function group_view(inv, g)
  local v = util.copy(g)
  local n = 0
  for _, s in ipairs(inv.workspace.servers) do
    if s.server_group_id == g.id then n = n + 1 end
  end
  v.app_server_count = n
  return v
end

local function list_server_groups(ctx)
  local inv = inventory.of(ctx.store)
  local list = {}
  for i, g in ipairs(inv.workspace.server_groups) do list[i] = group_view(inv, g) end
  return listing(ctx, list, { server_group_id = "id", server_group_name = "name",
                              app_type = "app_type" })
end

local function show_server_group(ctx)
  local inv = inventory.of(ctx.store)
  local g = inventory.find(inv.workspace.server_groups, ctx.params.server_group_id)
  if not g then return not_found("server group", ctx.params.server_group_id) end
  return 200, group_view(inv, g)
end

-- A job of `action` over the servers `ids`, one
-- sub-job each; each server's pending job is this one from now on.
local function new_job(ctx, action, ids)
  local p = ctx.store
  local servers = inventory.of(p).workspace.servers
  local id
  repeat id = util.digits(18) until not p.workspace_jobs[id]
  local subs = {}
  for i = 1, #ids do
    subs[i] = { id = util.digits(18), server_id = ids[i] }
    local s = inventory.find(servers, ids[i])
    if s then s.pending_job = id end
  end
  p.workspace_jobs[id] = {
    id = id, action = action, subs = subs, created = ctx.now, project_id = ctx.project_id,
    update_access_agent = ctx.body.update_access_agent == true,
  }
  return id
end

-- The first id of `ids` that is not a server of the inventory, if any.
local function unknown_server(ctx, ids)
  local servers = inventory.of(ctx.store).workspace.servers
  for i = 1, #ids do
    if not inventory.find(servers, ids[i]) then return tostring(ids[i]) end
  end
  return nil
end

local function reinstall_server(ctx)
  local id = ctx.params.server_id
  if inventory.strict(ctx.store) and unknown_server(ctx, { id }) then
    return not_found("server", id)
  end
  return 200, { job_id = new_job(ctx, "reinstall", { id }) }
end

-- Every server of the list must be in the inventory; each gets its own job.
local function batch_reinstall_server(ctx)
  local ids = ctx.body.server_ids
  if type(ids) ~= "table" or #ids == 0 then return bad("Invalid parameter server_ids: is required") end
  local missing = unknown_server(ctx, ids)
  if missing then return not_found("server", missing) end
  local items = {}
  for i = 1, #ids do
    items[i] = { server_id = ids[i], job_id = new_job(ctx, "reinstall", { ids[i] }) }
  end
  return 200, { items = items }
end

-- batch_start_server, batch_stop_server, batch_reboot_server: one job for
-- the list, a sub-job per server.
local function batch_action(action)
  return function(ctx)
    local ids = ctx.body.items
    if #ids == 0 then return bad("Invalid parameter items: must not be empty") end
    local missing = unknown_server(ctx, ids)
    if missing then return not_found("server", missing) end
    return 200, { job_id = new_job(ctx, action, ids) }
  end
end

-- A job's sub-jobs as the API shows them, and whether any failed.
local function sub_views(ctx, job)
  settle(ctx.store, job, ctx.now)
  local phase = jobs.phase(job.created, ctx.now)
  local a = ACTIONS[job.action]
  local begin_time = util.iso8601(job.created)
  local end_time = phase == "done" and util.iso8601(job.created + state.config.job_seconds)
                   or null
  local subs, any_failed = {}, false
  for i, sub in ipairs(job.subs) do
    local status, error_code, error_message = status_of[phase], null, null
    if phase == "done" then
      if sub.failed then
        any_failed = true
        status, error_code = "FAILED", "WKS.00010500"
        error_message = a.verb .. " server " .. sub.server_id .. " failed (injected failure)"
      else
        status = "SUCCESS"
      end
    end
    subs[i] = {
      id = sub.id, job_id = job.id, project_id = job.project_id, job_type = a.job_type,
      begin_time = begin_time, end_time = end_time, status = status,
      error_code = error_code, error_message = error_message,
      job_resource_info = { resource_id = sub.server_id, resource_name = sub.server_id },
    }
  end
  return subs, any_failed, phase, begin_time, end_time
end

local function show_job(ctx)
  local id = ctx.params.job_id
  local job = ctx.store.workspace_jobs[id]
  if not job then return not_found("job", id) end
  local subs, any_failed, phase, begin_time, end_time = sub_views(ctx, job)
  local status = status_of[phase]
  if phase == "done" then status = any_failed and "FAILED" or "SUCCESS" end
  return 200, {
    id = job.id, job_type = ACTIONS[job.action].job_type, begin_time = begin_time,
    end_time = end_time, status = status, sub_jobs_total = #subs, sub_jobs = subs,
  }
end

-- The v1 ShowJob shape of the same job: job_type is always 1 and
-- job_status a number (0 failed, 1 succeeded, 2 running, 3 initialising).
local V1_STATUS = { WAITING = 3, RUNNING = 2, SUCCESS = 1, FAILED = 0 }

local function v1_job(id, status, begin_time, end_time, code, message)
  return { job_id = id, job_type = 1, job_status = V1_STATUS[status] or 2,
           begin_time = begin_time, end_time = end_time,
           execute_code = code, execute_message = message }
end

-- the v2 view of the job (show_job), told in v1's shape
local function show_job_v1(ctx)
  local code, v2 = show_job(ctx)
  if code ~= 200 then return code, v2 end
  local out = v1_job(v2.id, v2.status, v2.begin_time, v2.end_time,
                     v2.status == "FAILED" and "WKS.00010500" or null, null)
  out.sub_jobs = {}
  for i, sub in ipairs(v2.sub_jobs) do
    out.sub_jobs[i] = v1_job(sub.id, sub.status, sub.begin_time, sub.end_time,
                             sub.error_code, sub.error_message)
  end
  return 200, { job = out }
end

-- Every sub-job of the project that fits the query's job_id, job_type and
-- status, oldest job first.
local function matching_subs(ctx)
  local args, list = ctx.args, {}
  for _, job in pairs(ctx.store.workspace_jobs) do list[#list + 1] = job end
  sort(list, function(x, y)
    if x.created ~= y.created then return x.created < y.created end
    return x.id < y.id
  end)
  local out = {}
  for _, job in ipairs(list) do
    if args.job_id == nil or args.job_id == job.id then
      for _, v in ipairs((sub_views(ctx, job))) do
        if (args.job_type == nil or args.job_type == v.job_type)
          and (args.status == nil or args.status == v.status) then
          out[#out + 1] = v
        end
      end
    end
  end
  return out
end

local function list_sub_jobs(ctx)
  return listing(ctx, matching_subs(ctx), {})
end

local function count_sub_jobs(ctx)
  return 200, { count = #matching_subs(ctx) }
end

local items_body = { type = "object", fields = {
  items = { type = "array", required = true, items = { type = "string" } },
} }
local typed_items_body = { type = "object", fields = {
  items = { type = "array", required = true, items = { type = "string" } },
  type = { type = "string", required = true, enum = { "SOFT", "HARD" } },
} }

_M.routes = {
  {
    op = "reinstall_server", method = "POST",
    path = "/v1/{project_id}/app-servers/{server_id}/actions/reinstall",
    body = { type = "object", fields = {
      update_access_agent = { type = "boolean" },
    } },
    handler = reinstall_server,
  },
  { op = "list_servers", method = "GET", path = "/v1/{project_id}/app-servers",
    handler = list_servers },
  { op = "show_server", method = "GET", path = "/v1/{project_id}/app-servers/{server_id}",
    handler = show_server },
  { op = "list_server_groups", method = "GET", path = "/v1/{project_id}/app-server-groups",
    handler = list_server_groups },
  { op = "show_server_group", method = "GET",
    path = "/v1/{project_id}/app-server-groups/{server_group_id}", handler = show_server_group },
  {
    op = "batch_reinstall_server", method = "POST",
    path = "/v1/{project_id}/app-servers/actions/batch-reinstall",
    body = { type = "object", fields = {
      server_ids = { type = "array", required = true, items = { type = "string" } },
      update_access_agent = { type = "boolean" },
    } },
    handler = batch_reinstall_server,
  },
  { op = "batch_start_server", method = "PATCH",
    path = "/v1/{project_id}/app-servers/actions/batch-start", body = items_body,
    handler = batch_action("start") },
  { op = "batch_stop_server", method = "PATCH",
    path = "/v1/{project_id}/app-servers/actions/batch-stop", body = typed_items_body,
    handler = batch_action("stop") },
  { op = "batch_reboot_server", method = "PATCH",
    path = "/v1/{project_id}/app-servers/actions/batch-reboot", body = typed_items_body,
    handler = batch_action("reboot") },
  { op = "list_sub_jobs", method = "GET", path = "/v1/{project_id}/app-server-sub-jobs",
    handler = list_sub_jobs },
  { op = "count_sub_jobs", method = "GET", path = "/v1/{project_id}/app-server-sub-jobs/actions/count",
    handler = count_sub_jobs },
  {
    op = "show_job_detail", method = "GET",
    path = "/v2/{project_id}/job/{job_id}",
    handler = show_job,
  },
  { op = "show_job", method = "GET", path = "/v1/{project_id}/job/{job_id}", handler = show_job_v1 },
}

return _M
