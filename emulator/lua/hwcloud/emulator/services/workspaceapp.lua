-- Workspace application servers: reinstall and the job that follows it.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"

local null = util.null
local pairs, ipairs, type, tostring = pairs, ipairs, type, tostring

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

local function not_found(what, id)
  return 404, errors.body("workspaceapp", 404, "The " .. what .. " " .. id .. " does not exist",
                          "WKS.00010404")
end

local function bad(msg)
  return 400, errors.body("workspaceapp", 400, msg, "WKS.00010001")
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

local function server_view(inv, server)
  local v = util.copy(server)
  local g = group_of(inv, server)
  v.server_group_name = g and g.name or null
  return v
end

local function list_servers(ctx)
  local inv = inventory.of(ctx.store)
  local list = {}
  for i, s in ipairs(inv.workspace.servers) do list[i] = server_view(inv, s) end
  return listing(ctx, list, { server_id = "id", server_name = "name",
                              server_group_id = "server_group_id",
                              machine_name = "machine_name" })
end

local function show_server(ctx)
  local inv = inventory.of(ctx.store)
  local s = inventory.find(inv.workspace.servers, ctx.params.server_id)
  if not s then return not_found("server", ctx.params.server_id) end
  return 200, server_view(inv, s)
end

local function list_server_groups(ctx)
  local inv = inventory.of(ctx.store)
  local list = {}
  for i, g in ipairs(inv.workspace.server_groups) do
    local v = util.copy(g)
    local n = 0
    for _, s in ipairs(inv.workspace.servers) do
      if s.server_group_id == g.id then n = n + 1 end
    end
    v.app_server_count = n
    list[i] = v
  end
  return listing(ctx, list, { server_group_id = "id", server_group_name = "name",
                              app_type = "app_type" })
end

local function new_job(ctx, server_id)
  local p = ctx.store
  local id
  repeat id = util.digits(18) until not p.workspace_jobs[id]
  p.workspace_jobs[id] = {
    id = id, sub_id = util.digits(18), created = ctx.now, project_id = ctx.project_id,
    server_id = server_id, update_access_agent = ctx.body.update_access_agent == true,
  }
  return id
end

-- Every server of the list must be in the inventory; each gets its own job.
local function batch_reinstall_server(ctx)
  local inv = inventory.of(ctx.store)
  local ids = ctx.body.server_ids
  if type(ids) ~= "table" or #ids == 0 then return bad("Invalid parameter server_ids: is required") end
  for i = 1, #ids do
    if not inventory.find(inv.workspace.servers, ids[i]) then
      return not_found("server", tostring(ids[i]))
    end
  end
  local items = {}
  for i = 1, #ids do
    items[i] = { server_id = ids[i], job_id = new_job(ctx, ids[i]) }
  end
  return 200, { items = items }
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
  { op = "list_servers", method = "GET", path = "/v1/{project_id}/app-servers",
    handler = list_servers },
  { op = "show_server", method = "GET", path = "/v1/{project_id}/app-servers/{server_id}",
    handler = show_server },
  { op = "list_server_groups", method = "GET", path = "/v1/{project_id}/app-server-groups",
    handler = list_server_groups },
  {
    op = "batch_reinstall_server", method = "POST",
    path = "/v1/{project_id}/app-servers/actions/batch-reinstall",
    body = { type = "object", fields = {
      server_ids = { type = "array", required = true, items = { type = "string" } },
      update_access_agent = { type = "boolean" },
    } },
    handler = batch_reinstall_server,
  },
  {
    op = "show_job_detail", method = "GET",
    path = "/v2/{project_id}/job/{job_id}",
    handler = show_job,
  },
}

return _M
