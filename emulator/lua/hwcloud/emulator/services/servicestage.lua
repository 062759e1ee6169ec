-- ServiceStage v3: environments and their add-ons, applications and their
-- components, the jobs of add-on and component actions and their progress,
-- and each component's deployment records.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local inventory = require "hwcloud.emulator.inventory"

local state = require "hwcloud.emulator.state"

local floor, tostring, ipairs, type, remove = math.floor, tostring, ipairs, type, table.remove
local null = util.null

local _M = { name = "servicestage" }

local status_of = { waiting = "SUBMITTED", running = "RUNNING" }

local not_found, environment

-- The environment and the add-on of an add-on action must exist in a strict
-- inventory (see hwcloud.emulator.inventory); any ids are taken otherwise.
local function deliver_addon_job(ctx)
  local p, body = ctx.store, ctx.body
  if inventory.strict(p) then
    local e, inv, eid = environment(ctx)
    if not e then return not_found("Environment", eid) end
    local a = inventory.find(inv.servicestage.addons, ctx.params.addon_id)
    if not a or a.environment_id ~= e.id then return not_found("Add-on", ctx.params.addon_id) end
  end
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

function not_found(what, id)
  return 404, errors.body("servicestage", 404, what .. " " .. id .. " does not exist")
end

function environment(ctx)
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

-- What a component action leaves the component as, once its job succeeds.
local AFTER = {
  deploy = "RUNNING", start = "RUNNING", restart = "RUNNING", scale = "RUNNING",
  rollback = "RUNNING", continue_deploy = "RUNNING", rollback_current = "RUNNING",
  check_gray_release = "RUNNING", modify_gray_rule = "RUNNING", stop = "STOPPED",
}
-- and what it shows while the job runs
local DURING = { deploy = "INITIALIZING", start = "STARTING", restart = "RESTARTING",
                 stop = "STOPPING" }

local function components(ctx) return inventory.of(ctx.store).servicestage.components end

-- Settles a job the first time it is seen done: FAILED when its id or the
-- ids it acts on are on the fail list; a component job then moves its
-- component and ends its deployment record.
local function settle(ctx, job)
  if job.settled ~= nil or jobs.phase(job.created, ctx.now) ~= "done" then return end
  job.settled = true
  local failed = jobs.settle(job, job.id, job.addon_id or job.component_id,
                             job.environment_id, job.application_id)
  if job.kind ~= "component" then return end
  local c = inventory.find(components(ctx), job.component_id)
  if not c then return end
  if c.last_job_id == job.id then
    c.component_status = failed and "FAILED" or AFTER[job.action] or "RUNNING"
    if not failed and job.replica then c.replica = job.replica end
    if not failed and job.version then c.version = job.version end
  end
  for _, r in ipairs(c.records or {}) do
    if r.job_id == job.id then
      r.status = failed and "FAILED" or "SUCCEEDED"
      r.end_time = util.iso8601(job.created + state.config.job_seconds)
    end
  end
end

local function show_job(ctx)
  local id = ctx.params.job_id
  local job = ctx.store.servicestage_jobs[id]
  if not job then
    return 404, errors.body("servicestage", 404, "Job " .. id .. " does not exist")
  end
  local now = ctx.now
  settle(ctx, job)
  local phase = jobs.phase(job.created, now)
  local status = status_of[phase]
  local what = job.kind == "component" and "Component" or "Add-on"
  local message = what .. " " .. job.action .. " job is " .. phase
  if phase == "done" then
    if job.failed then
      status, message = "FAILED", what .. " " .. job.action .. " failed: injected failure"
    else
      status, message = "SUCCEEDED", what .. " " .. job.action .. " succeeded"
    end
  end
  local source_type = job.kind == "component" and "COMPONENT" or "ADDON"
  -- the official model has the timestamps as strings of milliseconds
  local created_ms = tostring(floor(job.created * 1000))
  local updated_ms = tostring(floor(now * 1000))
  return 200, {
    job = {
      JOB_ID = job.id,
      JOB_NAME = (job.kind == "component" and "component-" or "addon-") .. job.action,
      JOB_TYPE = job.kind == "component" and "DEPLOY" or "DAILY_OPERATION",
      EXECUTION_STATUS = status,
      PROJECT_ID = job.project_id,
      SOURCE_ID = job.addon_id or job.component_id,
      SOURCE_TYPE = source_type,
      ENVIRONMENT_ID = job.environment_id,
      APPLICATION_ID = job.application_id,
      CREATED_AT = created_ms,
      UPDATED_AT = updated_ms,
    },
    tasks = {
      {
        TASK_ID = job.id .. "-1",
        TASK_NAME = (job.kind == "component" and "component." or "addon.") .. job.action,
        TASK_TYPE = source_type,
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

-- Applications and components.

local function applications(ctx) return inventory.of(ctx.store).servicestage.applications end

local function bad(msg)
  return 400, errors.body("servicestage", 400, msg)
end

-- A page of offset/limit with the list's count, under `key`.
local function paged(ctx, list, key)
  local page, err = inventory.page(list, ctx.args)
  if not page then return bad(err) end
  return 200, { [key] = util.array(page), count = #list }
end

local function application_view(ctx, a)
  local v = util.copy(a)
  local n = 0
  for _, c in ipairs(components(ctx)) do
    if c.application_id == a.id then n = n + 1 end
  end
  v.component_count = n
  v.project_id = ctx.project_id
  v.labels = util.array(v.labels or {})
  return v
end

local function application(ctx)
  local id = ctx.params.application_id
  local a = inventory.find(applications(ctx), id)
  if not a then return nil, not_found("Application", id) end
  return a
end

local function show_applications(ctx)
  local list = {}
  for i, a in ipairs(applications(ctx)) do list[i] = application_view(ctx, a) end
  return paged(ctx, list, "applications")
end

local function show_application_info(ctx)
  local a, status, body = application(ctx)
  if not a then return status, body end
  return 200, application_view(ctx, a)
end

local function create_application(ctx)
  local b, apps = ctx.body, applications(ctx)
  for _, a in ipairs(apps) do
    if a.name == b.name then
      return 409, errors.body("servicestage", 409, "Application " .. b.name .. " already exists",
                              "SVCSTG.00100409")
    end
  end
  local ms = floor(ctx.now * 1000)
  local a = { id = util.uuid4(), name = b.name, description = b.description or "",
              enterprise_project_id = b.enterprise_project_id or "0",
              labels = util.copy(b.labels) or {}, creator = "emulator-user",
              create_time = ms, update_time = ms }
  apps[#apps + 1] = a
  return 200, application_view(ctx, a)
end

local function delete_application(ctx)
  local a, status, body = application(ctx)
  if not a then return status, body end
  for _, c in ipairs(components(ctx)) do
    if c.application_id == a.id then
      return 400, errors.body("servicestage", 400, "Application " .. a.id
        .. " still has components: delete them first", "SVCSTG.00100400")
    end
  end
  local apps = applications(ctx)
  local _, i = inventory.find(apps, a.id)
  remove(apps, i)
  return 204, nil
end

local function component_view(ctx, c)
  local inv = inventory.of(ctx.store)
  if c.last_job_id then
    local job = ctx.store.servicestage_jobs[c.last_job_id]
    if job then settle(ctx, job) end
  end
  local v = util.copy(c)
  local a = inventory.find(inv.servicestage.applications, c.application_id)
  local e = inventory.find(inv.servicestage.environments, c.environment_id or "")
  v.application_name = a and a.name or null
  v.environment_name = e and e.name or null
  v.records, v.component_status, v.last_job_id, v.created = nil, nil, nil, nil
  local st = c.component_status or "RUNNING"
  local job = c.last_job_id and ctx.store.servicestage_jobs[c.last_job_id]
  if job and not job.settled then st = DURING[job.action] or "UPGRADING" end
  local replica = c.replica or 1
  v.status = { component_status = st, replica = replica,
               available_replica = st == "RUNNING" and replica or 0,
               last_job_id = c.last_job_id or null, creator = "emulator-user" }
  v.labels = util.array(v.labels or {})
  v.external_accesses = util.array(v.external_accesses or {})
  return v
end

local function component(ctx)
  local a, status, body = application(ctx)
  if not a then return nil, status, body end
  local id = ctx.params.component_id
  local c = inventory.find(components(ctx), id)
  if not c or c.application_id ~= a.id then return nil, not_found("Component", id) end
  return c
end

local function show_components_in_application(ctx)
  local a, status, body = application(ctx)
  if not a then return status, body end
  local list = {}
  for _, c in ipairs(components(ctx)) do
    if c.application_id == a.id then list[#list + 1] = component_view(ctx, c) end
  end
  return paged(ctx, list, "components")
end

-- GET /v3/{project_id}/cas/components: application_name and
-- component_name filter
local function show_components(ctx)
  local args, list = ctx.args, {}
  for _, c in ipairs(components(ctx)) do
    local v = component_view(ctx, c)
    if (args.application_name == nil or args.application_name == v.application_name)
      and (args.component_name == nil or args.component_name == v.name) then
      list[#list + 1] = v
    end
  end
  return paged(ctx, list, "components")
end

local function show_component_info(ctx)
  local c, status, body = component(ctx)
  if not c then return status, body end
  return 200, component_view(ctx, c)
end

-- A job acting on component `c`, and its deployment record.
local function component_job(ctx, c, action, deploy_type)
  local id = "JOB" .. util.uuid4()
  local params = type(ctx.body.parameters) == "table" and ctx.body.parameters or {}
  local job = { id = id, kind = "component", created = ctx.now, project_id = ctx.project_id,
                application_id = c.application_id, component_id = c.id,
                environment_id = c.environment_id, action = action,
                replica = params.replica, version = params.version }
  ctx.store.servicestage_jobs[id] = job
  c.last_job_id = id
  c.records = c.records or {}
  for _, r in ipairs(c.records) do r.current_used = false end
  c.records[#c.records + 1] = {
    instance_id = c.id, version = params.version or c.version, current_used = true,
    status = "RUNNING", begin_time = util.iso8601(ctx.now), end_time = null,
    deploy_type = deploy_type, description = null, job_id = id,
    jobs = { { sequence = 1, job_id = id, deploy_type = deploy_type } },
  }
  return id
end

local function create_component(ctx)
  local a, status, body = application(ctx)
  if not a then return status, body end
  local b, comps, inv = ctx.body, components(ctx), inventory.of(ctx.store)
  if b.environment_id and not inventory.find(inv.servicestage.environments, b.environment_id) then
    return not_found("Environment", b.environment_id)
  end
  for _, c in ipairs(comps) do
    if c.application_id == a.id and c.name == b.name then
      return 409, errors.body("servicestage", 409, "Component " .. b.name
        .. " already exists in application " .. a.id, "SVCSTG.00100409")
    end
  end
  local c = util.copy(b)
  c.id = util.uuid4()
  c.application_id = a.id
  c.created = ctx.now
  comps[#comps + 1] = c
  local job = component_job(ctx, c, "deploy", "deploy")
  return 200, { component_id = c.id, job_id = job }
end

local function delete_component(ctx)
  local c, status, body = component(ctx)
  if not c then return status, body end
  local comps = components(ctx)
  local _, i = inventory.find(comps, c.id)
  remove(comps, i)
  return 204, nil
end

local function update_component_action(ctx)
  local c, status, body = component(ctx)
  if not c then return status, body end
  local action = ctx.body.action
  local params = ctx.body.parameters
  if action == "scale" and (type(params) ~= "table" or type(params.replica) ~= "number") then
    return bad("Invalid parameter parameters.replica: is required for the scale action")
  end
  local job = component_job(ctx, c, action, action)
  return 200, { job_id = job, result = "success" }
end

-- newest first, offset/limit
local function show_component_records(ctx)
  local c, status, body = component(ctx)
  if not c then return status, body end
  local job = c.last_job_id and ctx.store.servicestage_jobs[c.last_job_id]
  if job then settle(ctx, job) end
  local list, records = {}, c.records or {}
  for i = #records, 1, -1 do
    local r = util.copy(records[i])
    r.job_id = nil
    list[#list + 1] = r
  end
  return paged(ctx, list, "records")
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
  { op = "show_applications", method = "GET", path = "/v3/{project_id}/cas/applications",
    handler = show_applications },
  { op = "create_application", method = "POST", path = "/v3/{project_id}/cas/applications",
    body = { type = "object", fields = {
      name = { type = "string", required = true }, description = { type = "string" },
      enterprise_project_id = { type = "string" }, labels = { type = "array" },
    } }, handler = create_application },
  { op = "show_application_info", method = "GET",
    path = "/v3/{project_id}/cas/applications/{application_id}", handler = show_application_info },
  { op = "delete_application", method = "DELETE",
    path = "/v3/{project_id}/cas/applications/{application_id}", handler = delete_application },
  { op = "show_components", method = "GET", path = "/v3/{project_id}/cas/components",
    handler = show_components },
  { op = "show_components_in_application", method = "GET",
    path = "/v3/{project_id}/cas/applications/{application_id}/components",
    handler = show_components_in_application },
  { op = "show_component_info", method = "GET",
    path = "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}",
    handler = show_component_info },
  { op = "create_component", method = "POST",
    path = "/v3/{project_id}/cas/applications/{application_id}/components",
    full_request = true, handler = create_component },
  { op = "update_component_action", method = "POST",
    path = "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}/action",
    full_request = true, handler = update_component_action },
  { op = "delete_component", method = "DELETE",
    path = "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}",
    handler = delete_component },
  { op = "show_component_records", method = "GET",
    path = "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}/records",
    handler = show_component_records },
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
