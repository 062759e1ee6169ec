-- FunctionGraph (v2): functions (create, list by marker and maxitems, show
-- and update config and code, delete), their published versions and
-- aliases, and workflow executions. Function calls are synchronous, as
-- the service's are; a workflow execution is running for --job-seconds,
-- then success (fail for ids on POST /_emulator/fail's list, cancel when
-- terminated first).
--
-- A function is named by its URN, urn:fss:<region>:<project>:function:
-- <package>:<name>, which is its inventory `id`; a qualifier after it
-- (":latest", ":<version>", ":<alias>") names one of its versions.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"
local generic = require "hwcloud.emulator.generic"

local type, pairs, ipairs, tostring, tonumber, remove, sort, concat =
  type, pairs, ipairs, tostring, tonumber, table.remove, table.sort, table.concat
local format, match, gmatch, floor, os_date = string.format, string.match, string.gmatch,
  math.floor, os.date

local _M = { name = "functiongraph" }

local function fail(status, msg)
  return status, errors.body("functiongraph", status, msg)
end

local function functions_of(store)
  return inventory.of(store).functiongraph.functions
end

local function str(v, default)
  if type(v) == "string" then return v end
  return default
end

-- The base URN and the qualifier of a function URN (nil when it is none).
local function split_urn(urn)
  if type(urn) ~= "string" then return nil end
  local parts = {}
  for p in gmatch(urn, "[^:]+") do parts[#parts + 1] = p end
  if #parts < 7 or #parts > 8 or parts[1] ~= "urn" or parts[2] ~= "fss"
    or parts[5] ~= "function" then
    return nil
  end
  return concat(parts, ":", 1, 7), parts[8]
end

local function name_of(f)
  return str(f.func_name, match(f.id, "([^:]+)$"))
end

local function package_of(f)
  return str(f.package, match(f.id, "^urn:fss:[^:]*:[^:]*:function:([^:]+):") or "default")
end

local function find_version(f, v)
  for i, rec in ipairs(type(f.versions) == "table" and f.versions or {}) do
    if rec.version == v then return rec, i end
  end
  return nil
end

local function find_alias(f, name)
  for i, a in ipairs(type(f.aliases) == "table" and f.aliases or {}) do
    if a.name == name then return a, i end
  end
  return nil
end

-- The function a path's URN names, its qualifier, and the version it
-- resolves to (a version record; nil for latest). nil, status, message
-- when there is none.
local function lookup(ctx, urn)
  local base, qualifier = split_urn(urn)
  if not base then
    return nil, 400, "Invalid parameter function_urn: " .. tostring(urn)
      .. " is not a function URN (urn:fss:<region>:<project>:function:<package>:<name>)"
  end
  local f = inventory.find(functions_of(ctx.store), base)
  if not f then return nil, 404, "The function " .. base .. " does not exist" end
  -- an inventory's function may leave these out
  if type(f.versions) ~= "table" then f.versions = {} end
  if type(f.aliases) ~= "table" then f.aliases = {} end
  if qualifier == nil or qualifier == "latest" then return f, qualifier end
  local v = find_version(f, qualifier)
  if v then return f, qualifier, v end
  local a = find_alias(f, qualifier)
  if a then
    if a.version == "latest" then return f, qualifier end
    v = find_version(f, a.version)
    if v then return f, qualifier, v end
  end
  return nil, 404, "The function " .. base .. " has no version or alias " .. qualifier
end

local function code_size(f)
  local code = type(f.func_code) == "table" and f.func_code.file
  return tonumber(f.code_size) or (type(code) == "string" and #code or 0)
end

-- The fields of a function (or of a published version: its snapshot).
local function config_of(f, v)
  local c = v and type(v.snapshot) == "table" and v.snapshot or f
  local memory = tonumber(c.memory_size) or 128
  local version = v and v.version or "latest"
  local digest = str(c.digest, "")
  local out = {
    func_urn = f.id .. ":" .. version, func_name = name_of(f), func_id = str(f.func_id, ""),
    package = package_of(f), runtime = str(c.runtime, "Python3.9"),
    handler = str(c.handler, "index.handler"), memory_size = memory, cpu = floor(memory * 300 / 128),
    timeout = tonumber(c.timeout) or 3, code_type = str(c.code_type, "inline"),
    code_filename = str(c.code_filename, ""), code_url = str(c.code_url, ""),
    code_size = code_size(c), digest = digest, version = version,
    image_name = version .. "-" .. digest:sub(1, 12), domain_id = "emulator",
    namespace = match(f.id, "^urn:fss:[^:]*:([^:]*):") or "", project_name = "emulator",
    last_modified = str(c.last_modified, ""), description = str(c.description, ""),
    user_data = str(c.user_data, ""), xrole = str(c.xrole, ""), app_xrole = str(c.app_xrole, ""),
    initializer_handler = str(c.initializer_handler, ""),
    initializer_timeout = tonumber(c.initializer_timeout) or 0,
    enterprise_project_id = str(c.enterprise_project_id, "0"), type = str(c.type, "v2"),
  }
  if v then out.version_description = str(v.description, "") end
  return out
end

local function code_of(f, v)
  local c = v and type(v.snapshot) == "table" and v.snapshot or f
  local code = type(c.func_code) == "table" and c.func_code or {}
  return {
    func_urn = f.id .. ":" .. (v and v.version or "latest"), func_name = name_of(f),
    runtime = str(c.runtime, "Python3.9"), code_type = str(c.code_type, "inline"),
    code_filename = str(c.code_filename, ""), code_url = str(c.code_url, ""),
    code_size = code_size(c), digest = str(c.digest, ""), domain_id = "emulator",
    last_modified = str(c.last_modified, ""),
    func_code = { file = str(code.file, ""), link = str(code.link, "") },
    depend_version_list = util.array(type(c.depend_version_list) == "table"
                                     and c.depend_version_list or {}),
  }
end

local function now_text(ctx) return util.iso8601(ctx.now) end

local function new_digest() return util.random_hex(32) end

-- Fields a create or a config update takes into the function.
local CONFIG = { "runtime", "handler", "memory_size", "timeout", "description", "user_data",
                 "encrypted_user_data", "xrole", "app_xrole", "initializer_handler",
                 "initializer_timeout", "enterprise_project_id", "type", "func_vpc",
                 "log_config", "enable_dynamic_memory", "enable_lts_log", "domain_names",
                 "pre_stop_handler", "pre_stop_timeout", "gpu_memory", "gpu_type",
                 "custom_image", "mount_config", "network_controller", "is_stateful_function" }
local CODE = { "code_type", "code_filename", "code_url", "func_code", "depend_version_list",
               "code_encrypt_kms_key_id" }

local function take(into, from, names)
  for _, k in ipairs(names) do
    if from[k] ~= nil then into[k] = util.copy(from[k]) end
  end
end

local function create_function(ctx)
  local b = ctx.body
  if not match(b.func_name, "^[A-Za-z][A-Za-z0-9_-]*$") or #b.func_name > 60 then
    return fail(400, "Invalid parameter func_name: 1 to 60 letters, digits, _ and -,"
      .. " starting with a letter")
  end
  local package = str(b.package, "default")
  local urn = format("urn:fss:emulator:%s:function:%s:%s", ctx.project_id, package, b.func_name)
  local list = functions_of(ctx.store)
  if inventory.find(list, urn) then return fail(409, "The function " .. urn .. " already exists") end
  local f = { id = urn, func_id = util.uuid4(), func_name = b.func_name, package = package,
              created = now_text(ctx), last_modified = now_text(ctx), digest = new_digest(),
              versions = {}, aliases = {} }
  take(f, b, CONFIG)
  take(f, b, CODE)
  list[#list + 1] = f
  return 200, config_of(f)
end

-- A page of rows by marker (the row to start from, "0" first) and
-- maxitems (400 at most): the page, next_marker (the count once past the
-- end) and the count.
local function marker_page(rows, args)
  local from = args.marker == nil and 0 or tonumber(args.marker)
  local max = args.maxitems == nil and 400 or tonumber(args.maxitems)
  if not from or from < 0 or from % 1 ~= 0 then
    return nil, "Invalid parameter marker: must be a whole number from 0"
  end
  if not max or max < 1 or max > 400 or max % 1 ~= 0 then
    return nil, "Invalid parameter maxitems: must be a whole number from 1 to 400"
  end
  local page = {}
  for i = from + 1, #rows do
    if #page >= max then break end
    page[#page + 1] = rows[i]
  end
  local next_marker = from + #page
  if next_marker > #rows then next_marker = #rows end
  return page, next_marker
end

local function list_functions(ctx)
  local a, rows = ctx.args, {}
  for _, f in ipairs(functions_of(ctx.store)) do
    if (a.func_name == nil or a.func_name == "" or name_of(f):find(tostring(a.func_name), 1, true))
      and (a.package_name == nil or a.package_name == "" or package_of(f) == a.package_name) then
      rows[#rows + 1] = config_of(f)
    end
  end
  local page, next_marker = marker_page(rows, a)
  if not page then return fail(400, next_marker) end
  return 200, { functions = util.array(page), next_marker = next_marker, count = #rows }
end

-- the function the path's function_urn names (see lookup)
local function found(ctx)
  return lookup(ctx, ctx.params.function_urn)
end

local function show_config(ctx)
  local f, q, v = found(ctx)
  if not f then return fail(q, v) end
  return 200, config_of(f, v)
end

local function show_code(ctx)
  local f, q, v = found(ctx)
  if not f then return fail(q, v) end
  return 200, code_of(f, v)
end

local function only_latest(q)
  if q ~= nil and q ~= "latest" then
    return 400, errors.body("functiongraph", 400, "Only the latest version of a function"
      .. " can be changed, not " .. q)
  end
  return nil
end

local function update_code(ctx)
  local f, q, v = found(ctx)
  if not f then return fail(q, v) end
  local status, body = only_latest(q)
  if status then return status, body end
  take(f, ctx.body, CODE)
  f.code_size = nil
  f.digest, f.last_modified = new_digest(), now_text(ctx)
  return 200, code_of(f)
end

local function update_config(ctx)
  local f, q, v = found(ctx)
  if not f then return fail(q, v) end
  local status, body = only_latest(q)
  if status then return status, body end
  if ctx.body.func_name ~= name_of(f) then
    return fail(400, "Invalid parameter func_name: must be the function's name, "
      .. name_of(f) .. " (a function is not renamed)")
  end
  take(f, ctx.body, CONFIG)
  f.last_modified = now_text(ctx)
  return 200, config_of(f)
end

-- Deletes the function (its URN, or :latest) or one published version.
local function delete_function(ctx)
  local f, q, v = found(ctx)
  if not f then return fail(q, v) end
  if v then
    if q ~= v.version then return fail(400, "An alias is deleted with delete_version_alias") end
    for _, a in ipairs(f.aliases or {}) do
      if a.version == v.version then
        return fail(409, "The version " .. v.version .. " is used by the alias " .. a.name)
      end
    end
    local _, i = find_version(f, v.version)
    remove(f.versions, i)
    return 204, nil
  end
  local _, i = inventory.find(functions_of(ctx.store), f.id)
  remove(functions_of(ctx.store), i)
  return 204, nil
end

-- Versions ------------------------------------------------------------------

local function snapshot(f)
  local s = {}
  for k, x in pairs(f) do
    if k ~= "versions" and k ~= "aliases" and k ~= "id" then s[k] = util.copy(x) end
  end
  return s
end

local function create_version(ctx)
  local f, q, v = found(ctx)
  if not f then return fail(q, v) end
  local status, body = only_latest(q)
  if status then return status, body end
  local b = ctx.body
  if b.digest ~= nil and b.digest ~= "" and b.digest ~= f.digest then
    return fail(400, "Invalid parameter digest: the code changed since (its digest is "
      .. tostring(f.digest) .. ")")
  end
  local name = str(b.version, "")
  if name == "" then name = "v" .. os_date("!%Y%m%d-%H%M%S", floor(ctx.now)) end
  if name == "latest" or not match(name, "^[A-Za-z0-9][A-Za-z0-9._-]*$") or #name > 42 then
    return fail(400, "Invalid parameter version: 1 to 42 letters, digits, ., _ and -,"
      .. " not latest")
  end
  f.versions = f.versions or {}
  if find_version(f, name) then return fail(409, "The version " .. name .. " already exists") end
  local rec = { version = name, description = str(b.description, ""), snapshot = snapshot(f),
                created = now_text(ctx) }
  rec.snapshot.last_modified = now_text(ctx)
  f.versions[#f.versions + 1] = rec
  return 200, config_of(f, rec)
end

local function list_versions(ctx)
  local f, q, v = found(ctx)
  if not f then return fail(q, v) end
  local rows = { config_of(f) }
  for _, rec in ipairs(f.versions or {}) do rows[#rows + 1] = config_of(f, rec) end
  local page, next_marker = marker_page(rows, ctx.args)
  if not page then return fail(400, next_marker) end
  return 200, { versions = util.array(page), next_marker = next_marker, count = #rows }
end

-- Aliases -------------------------------------------------------------------

local function alias_view(f, a)
  local out = { name = a.name, version = a.version, description = str(a.description, ""),
                last_modified = str(a.last_modified, ""), alias_urn = f.id .. ":" .. a.name }
  if type(a.additional_version_weights) == "table" then
    out.additional_version_weights = a.additional_version_weights
  end
  if type(a.additional_version_strategy) == "table" then
    out.additional_version_strategy = a.additional_version_strategy
  end
  return out
end

-- The rule a version (and the weights' versions) of f breaks, or nil.
local function version_error(f, version, weights)
  if version ~= "latest" and not find_version(f, version) then
    return 404, "The function " .. f.id .. " has no version " .. tostring(version)
  end
  if type(weights) == "table" then
    for k, w in pairs(weights) do
      if k ~= "latest" and not find_version(f, k) then
        return 404, "The function " .. f.id .. " has no version " .. tostring(k)
      end
      if type(w) ~= "number" or w < 0 or w > 100 then
        return 400, "Invalid parameter additional_version_weights." .. tostring(k)
          .. ": must be a weight from 0 to 100"
      end
    end
  end
  return nil
end

local function set_alias(a, b, ctx)
  a.version = b.version
  if b.description ~= nil then a.description = str(b.description, "") end
  if b.additional_version_weights ~= nil then
    a.additional_version_weights = util.copy(b.additional_version_weights)
  end
  if b.additional_version_strategy ~= nil then
    a.additional_version_strategy = util.copy(b.additional_version_strategy)
  end
  a.last_modified = now_text(ctx)
end

local function create_alias(ctx)
  local f, q, v = found(ctx)
  if not f then return fail(q, v) end
  local b = ctx.body
  if not match(b.name, "^[A-Za-z][A-Za-z0-9_-]*$") or #b.name > 63 or b.name == "latest" then
    return fail(400, "Invalid parameter name: 1 to 63 letters, digits, _ and -, starting with"
      .. " a letter, not latest")
  end
  if find_version(f, b.name) then
    return fail(409, "The name " .. b.name .. " is a version of the function")
  end
  f.aliases = f.aliases or {}
  if find_alias(f, b.name) then return fail(409, "The alias " .. b.name .. " already exists") end
  local status, why = version_error(f, b.version, b.additional_version_weights)
  if status then return fail(status, why) end
  local a = { name = b.name }
  set_alias(a, b, ctx)
  f.aliases[#f.aliases + 1] = a
  return 200, alias_view(f, a)
end

local function with_alias(ctx)
  local f, q, v = found(ctx)
  if not f then return nil, fail(q, v) end
  local a, i = find_alias(f, ctx.params.alias_name)
  if not a then
    return nil, fail(404, "The function " .. f.id .. " has no alias "
      .. tostring(ctx.params.alias_name))
  end
  return f, a, i
end

local function list_aliases(ctx)
  local f, q, v = found(ctx)
  if not f then return fail(q, v) end
  local out = {}
  for i, a in ipairs(f.aliases or {}) do out[i] = alias_view(f, a) end
  return 200, util.array(out)
end

local function show_alias(ctx)
  local f, a, body = with_alias(ctx)
  if not f then return a, body end
  return 200, alias_view(f, a)
end

local function update_alias(ctx)
  local f, a, body = with_alias(ctx)
  if not f then return a, body end
  local status, why = version_error(f, ctx.body.version, ctx.body.additional_version_weights)
  if status then return fail(status, why) end
  set_alias(a, ctx.body, ctx)
  return 200, alias_view(f, a)
end

local function delete_alias(ctx)
  local f, a, i = with_alias(ctx)
  if not f then return a, i end
  remove(f.aliases, i)
  return 204, nil
end

-- Workflow executions -------------------------------------------------------

local function executions_of(store)
  local e = store.functiongraph_executions
  if not e then e = {} store.functiongraph_executions = e end
  return e
end

local function status_of(ctx, e)
  if e.canceled then return "cancel" end
  if jobs.phase(e.created, ctx.now) ~= "done" then return "running" end
  return jobs.settle(e, e.id, e.workflow_id) and "fail" or "success"
end

local function millis(t) return floor(t * 1000) end

local function execution_view(ctx, e)
  local status = status_of(ctx, e)
  local ended = status ~= "running"
  local end_at = e.canceled or (e.created + state.config.job_seconds)
  local urn = format("urn:fss:emulator:%s:workflow:%s", ctx.project_id, e.workflow_id)
  local node = { execution_id = e.id, node_id = "start", node_name = "start", executions = {
    { status = status, begin_time = millis(e.created), end_time = ended and millis(end_at) or 0,
      request_id = e.id, input = e.input,
      error_message = status == "fail" and "the execution failed (injected failure)" or "" } } }
  return {
    execution_id = e.id, workflow_id = e.workflow_id, workflow_urn = urn, status = status,
    begin_time = util.iso8601(e.created), end_time = ended and util.iso8601(end_at) or "",
    last_update_time = util.iso8601(ended and end_at or ctx.now), created_by = "emulator",
    input = e.input, headers = e.headers, output = ended and status == "success" and e.input or {},
    node_execution_details = { node },
  }
end

local function workflow_error(ctx)
  local id = ctx.params.workflow_id
  if generic.item(ctx.project_id, "functiongraph", "workflows", id)
    or not inventory.strict(ctx.store) then
    return nil
  end
  return 404, errors.body("functiongraph", 404, "The workflow " .. tostring(id) .. " does not exist")
end

local function start_execution(ctx)
  local status, body = workflow_error(ctx)
  if status then return status, body end
  local id = util.uuid4()
  executions_of(ctx.store)[id] = { id = id, workflow_id = ctx.params.workflow_id,
                                   created = ctx.now, input = util.copy(ctx.body.input),
                                   headers = util.copy(ctx.body.headers) }
  return 200, { execution_id = id }
end

local function find_execution(ctx)
  local e = executions_of(ctx.store)[ctx.params.execution_id]
  if not e or e.workflow_id ~= ctx.params.workflow_id then return nil end
  return e
end

local function show_execution(ctx)
  local e = find_execution(ctx)
  if not e then
    return fail(404, "The execution " .. tostring(ctx.params.execution_id) .. " does not exist")
  end
  return 200, execution_view(ctx, e)
end

local function list_executions(ctx)
  local status, body = workflow_error(ctx)
  if status then return status, body end
  local rows = {}
  for _, e in pairs(executions_of(ctx.store)) do
    if e.workflow_id == ctx.params.workflow_id then
      local v = execution_view(ctx, e)
      if ctx.args.status == nil or v.status == ctx.args.status then
        v.node_execution_details, v.input, v.output, v.headers = nil, nil, nil, nil
        rows[#rows + 1] = v
      end
    end
  end
  sort(rows, function(a, b)
    if a.begin_time ~= b.begin_time then return a.begin_time > b.begin_time end
    return a.execution_id < b.execution_id
  end)
  local page, err = inventory.page(rows, ctx.args)
  if not page then return fail(400, "Invalid parameter " .. err) end
  return 200, { executions = util.array(page) }
end

local function stop_execution(ctx)
  local e = find_execution(ctx)
  if not e then
    return fail(404, "The execution " .. tostring(ctx.params.execution_id) .. " does not exist")
  end
  if status_of(ctx, e) ~= "running" then
    return fail(409, "The execution " .. e.id .. " has already ended")
  end
  e.canceled = ctx.now
  return 200, {}
end

local F = "/v2/{project_id}/fgs/functions"
local W = "/v2/{project_id}/fgs/workflows/{workflow_id}/executions"

_M.routes = {
  { op = "create_function", method = "POST", path = F, full_request = true,
    handler = create_function },
  { op = "list_functions", method = "GET", path = F, handler = list_functions },
  { op = "show_function_config", method = "GET", path = F .. "/{function_urn}/config",
    handler = show_config },
  { op = "show_function_code", method = "GET", path = F .. "/{function_urn}/code",
    handler = show_code },
  { op = "update_function_code", method = "PUT", path = F .. "/{function_urn}/code",
    full_request = true, handler = update_code },
  { op = "update_function_config", method = "PUT", path = F .. "/{function_urn}/config",
    full_request = true, handler = update_config },
  { op = "delete_function", method = "DELETE", path = F .. "/{function_urn}",
    handler = delete_function },
  { op = "create_function_version", method = "POST", path = F .. "/{function_urn}/versions",
    full_request = true, handler = create_version },
  { op = "list_function_versions", method = "GET", path = F .. "/{function_urn}/versions",
    handler = list_versions },
  { op = "create_version_alias", method = "POST", path = F .. "/{function_urn}/aliases",
    full_request = true, handler = create_alias },
  { op = "list_version_aliases", method = "GET", path = F .. "/{function_urn}/aliases",
    handler = list_aliases },
  { op = "show_version_alias", method = "GET", path = F .. "/{function_urn}/aliases/{alias_name}",
    handler = show_alias },
  { op = "update_version_alias", method = "PUT",
    path = F .. "/{function_urn}/aliases/{alias_name}", full_request = true,
    handler = update_alias },
  { op = "delete_version_alias", method = "DELETE",
    path = F .. "/{function_urn}/aliases/{alias_name}", handler = delete_alias },
  { op = "start_workflow_execution", method = "POST", path = W, full_request = true,
    handler = start_execution },
  { op = "list_workflow_executions", method = "GET", path = W, handler = list_executions },
  { op = "show_workflow_execution", method = "GET", path = W .. "/{execution_id}",
    handler = show_execution },
  { op = "stop_work_flow", method = "POST", path = W .. "/{execution_id}/terminate",
    handler = stop_execution },
}

return _M
