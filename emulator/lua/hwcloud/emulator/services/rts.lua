-- RTS: software deployments (Heat compatible). A deployment created or set
-- IN_PROGRESS becomes COMPLETE (or FAILED, for ids on the fail list) after
-- --job-seconds. A deployment created without a status starts IN_PROGRESS; an
-- update that sets a status stops (or, with IN_PROGRESS, restarts) that clock.

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"

local null, copy = util.null, util.copy
local type, remove, ipairs = type, table.remove, ipairs

local _M = { name = "rts" }

local STATUSES = { "COMPLETE", "IN_PROGRESS", "FAILED" }

local function present(v) return v ~= nil and v ~= null end

-- Moves an IN_PROGRESS deployment on when its time has come.
local function advance(dep, now)
  if dep.status ~= "IN_PROGRESS" or not dep.progress_from then return end
  local done_at = dep.progress_from + state.config.job_seconds
  if now < done_at then return end
  dep.progress_from = nil
  dep.updated = done_at
  if state.should_fail(dep.server_id, dep.config_id, dep.id) then
    dep.status = "FAILED"
    dep.status_reason = "deploy_status_code : Deployment exited with non-zero status code: 1"
    dep.output_values = { deploy_status_code = 1, deploy_stdout = "",
                          deploy_stderr = "injected failure" }
  else
    dep.status = "COMPLETE"
    dep.status_reason = "Outputs received"
    dep.output_values = { deploy_status_code = 0, deploy_stdout = "", deploy_stderr = "" }
  end
end

local function view(dep)
  return {
    id = dep.id,
    action = dep.action,
    config_id = dep.config_id,
    server_id = dep.server_id,
    creation_time = util.iso8601(dep.created),
    updated_time = dep.updated and util.iso8601(dep.updated) or null,
    input_values = dep.input_values,
    output_values = dep.output_values,
    status = dep.status,
    status_reason = dep.status_reason,
  }
end

local function not_found(id)
  return 404, errors.body("rts", 404, "The Software Deployment (" .. id .. ") could not be found.",
                          "NotFound")
end

local function lookup(ctx)
  local id = ctx.params.deployment_id
  local dep = ctx.store.deployments[id]
  if not dep then return nil, id end
  advance(dep, ctx.now)
  return dep
end

local config_not_found

-- In a strict inventory (see hwcloud.emulator.inventory) a deployment's
-- config must be one of the project's software configs,
local function unknown_config(ctx, id)
  return inventory.strict(ctx.store)
    and not inventory.find(inventory.of(ctx.store).rts.software_configs, id)
end

-- and its server one of the inventory's servers (the Workspace servers the
-- deployment work runs on)
local function unknown_server(ctx, id)
  return inventory.strict(ctx.store)
    and not inventory.find(inventory.of(ctx.store).workspace.servers, id)
end

local function create(ctx)
  local b, store = ctx.body, ctx.store
  if unknown_config(ctx, b.config_id) then return config_not_found(b.config_id) end
  if unknown_server(ctx, b.server_id) then
    return 404, errors.body("rts", 404, "The server (" .. b.server_id .. ") could not be found.",
                            "NotFound")
  end
  local id
  repeat id = util.uuid4() until not store.deployments[id]
  local status = present(b.status) and b.status or "IN_PROGRESS"
  local dep = {
    id = id,
    action = present(b.action) and b.action or "CREATE",
    config_id = b.config_id,
    server_id = b.server_id,
    stack_user_project_id = present(b.stack_user_project_id) and b.stack_user_project_id or null,
    input_values = present(b.input_values) and copy(b.input_values) or {},
    output_values = null,
    status = status,
    status_reason = present(b.status_reason) and b.status_reason or "",
    created = ctx.now,
    progress_from = status == "IN_PROGRESS" and ctx.now or nil,
  }
  store.deployments[id] = dep
  store.deployment_list[#store.deployment_list + 1] = dep
  return 200, { software_deployment = view(dep) }
end

local function show(ctx)
  local dep, id = lookup(ctx)
  if not dep then return not_found(id) end
  return 200, { software_deployment = view(dep) }
end

local function update(ctx)
  local dep, id = lookup(ctx)
  if not dep then return not_found(id) end
  local b = ctx.body
  if present(b.config_id) and unknown_config(ctx, b.config_id) then
    return config_not_found(b.config_id)
  end
  if present(b.action) then dep.action = b.action end
  if present(b.config_id) then dep.config_id = b.config_id end
  if present(b.input_values) then dep.input_values = copy(b.input_values) end
  if present(b.output_values) then dep.output_values = copy(b.output_values) end
  if present(b.status_reason) then dep.status_reason = b.status_reason end
  if present(b.status) then
    dep.status = b.status
    dep.progress_from = b.status == "IN_PROGRESS" and ctx.now or nil
  end
  dep.updated = ctx.now
  return 200, { software_deployment = view(dep) }
end

local function delete(ctx)
  local dep, id = lookup(ctx)
  if not dep then return not_found(id) end
  local store = ctx.store
  store.deployments[dep.id] = nil
  local list = store.deployment_list
  for i = 1, #list do
    if list[i] == dep then remove(list, i) break end
  end
  return 204, nil
end

local function list(ctx)
  local server_id = ctx.args.server_id
  if type(server_id) == "table" then server_id = server_id[1] end
  local out, all = {}, ctx.store.deployment_list
  for i = 1, #all do
    local dep = all[i]
    if not server_id or server_id == true or dep.server_id == server_id then
      advance(dep, ctx.now)
      out[#out + 1] = view(dep)
    end
  end
  return 200, { software_deployments = util.array(out) }
end

-- Software configs: kept in the project's inventory (rts.software_configs).
local function configs(ctx) return inventory.of(ctx.store).rts.software_configs end

function config_not_found(id)
  return 404, errors.body("rts", 404, "The Software Config (" .. id .. ") could not be found.",
                          "NotFound")
end

local function create_config(ctx)
  local b, cfgs = ctx.body, configs(ctx)
  local id
  repeat id = util.uuid4() until not inventory.find(cfgs, id)
  local c = {
    id = id, name = b.name,
    group = present(b.group) and b.group or "Heat::Ungrouped",
    config = present(b.config) and b.config or "",
    options = present(b.options) and copy(b.options) or {},
    inputs = present(b.inputs) and copy(b.inputs) or util.EMPTY_ARRAY,
    outputs = present(b.outputs) and copy(b.outputs) or util.EMPTY_ARRAY,
    creation_time = util.iso8601(ctx.now),
  }
  cfgs[#cfgs + 1] = c
  return 200, { software_config = c }
end

local function list_configs(ctx)
  local page, err = inventory.page(configs(ctx), ctx.args, { marker = true })
  if not page then return 400, errors.body("rts", 400, err) end
  local out = {}
  for i, c in ipairs(page) do
    out[i] = { id = c.id, name = c.name, group = c.group, creation_time = c.creation_time }
  end
  return 200, { software_configs = util.array(out) }
end

local function show_config(ctx)
  local c = inventory.find(configs(ctx), ctx.params.config_id)
  if not c then return config_not_found(ctx.params.config_id) end
  return 200, { software_config = c }
end

local function delete_config(ctx)
  local cfgs = configs(ctx)
  local _, i = inventory.find(cfgs, ctx.params.config_id)
  if not i then return config_not_found(ctx.params.config_id) end
  remove(cfgs, i)
  return 204, nil
end

local create_body = { type = "object", fields = {
  config_id = { type = "string", required = true },
  server_id = { type = "string", required = true },
  action = { type = "string" },
  input_values = { type = "object" },
  stack_user_project_id = { type = "string" },
  status = { type = "string", enum = STATUSES },
  status_reason = { type = "string" },
} }

local update_body = { type = "object", fields = {
  config_id = { type = "string" },
  action = { type = "string" },
  input_values = { type = "object" },
  output_values = { type = "object" },
  status = { type = "string", enum = STATUSES },
  status_reason = { type = "string" },
} }

_M.routes = {
  { op = "create_software_config", method = "POST", path = "/v1/{project_id}/software_configs",
    body = { type = "object", fields = {
      name = { type = "string", required = true }, group = { type = "string" },
      config = { type = "string" }, options = { type = "object" },
      inputs = { type = "array" }, outputs = { type = "array" },
    } }, handler = create_config },
  { op = "list_software_configs", method = "GET", path = "/v1/{project_id}/software_configs",
    handler = list_configs },
  { op = "show_software_config", method = "GET",
    path = "/v1/{project_id}/software_configs/{config_id}", handler = show_config },
  { op = "delete_software_config", method = "DELETE",
    path = "/v1/{project_id}/software_configs/{config_id}", handler = delete_config },
  { op = "create_software_deployment", method = "POST",
    path = "/v1/{project_id}/software_deployments", body = create_body, handler = create },
  { op = "list_software_deployments", method = "GET",
    path = "/v1/{project_id}/software_deployments", handler = list },
  { op = "show_software_deployment", method = "GET",
    path = "/v1/{project_id}/software_deployments/{deployment_id}", handler = show },
  { op = "update_software_deployment", method = "PUT",
    path = "/v1/{project_id}/software_deployments/{deployment_id}", body = update_body,
    handler = update },
  { op = "delete_software_deployment", method = "DELETE",
    path = "/v1/{project_id}/software_deployments/{deployment_id}", handler = delete },
}

return _M
