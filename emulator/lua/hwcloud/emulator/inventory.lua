-- hwcloud.emulator.inventory: the resources every project starts with.
-- bin/hwcloud-emulator --inventory FILE (a JSON file) or POST
-- /_emulator/inventory replaces the default; each project gets its own copy
-- on first use (and again after a reset).
--
--   { strict = true,
--     workspace = { server_groups = [{id, name, ...}],
--                   servers = [{id, name, server_group_id, status, vm_status, ...}] },
--     servicestage = { environments = [{id, name, ...}],
--                      addons = [{id, environment_id, name, addon_type, status, ...}],
--                      applications = [{id, name, description, ...}],
--                      components = [{id, application_id, environment_id, name,
--                                     version, status = {component_status, ...}, ...}] },
--     codeartsbuild = { jobs = [{id, job_name, project_id?, ...}],
--                       builds = [{id, job_id, build_number, result, start_time,
--                                  end_time, parameters?}] },
--     asm = { meshes = [{id, name, version, type, ...}] },
--     rts = { software_configs = [{id, name, group, config, ...}] },
--     ecs = { servers = [{id, name, status, flavor = {id, name},
--                         addresses = {<vpc id> = [{addr, version}]}, created, ...}] },
--     swr = { namespaces = [{id = <name>}], repositories = [{id = "<ns>/<name>",
--             namespace, name, is_public, tags = ["1.0"]}], instances = [{id, name, ...}] },
--     functiongraph = { functions = [{id = <urn without version>, func_name, package,
--                       runtime, handler, versions = [...], aliases = [...]}] },
--     codeartspipeline = { pipelines = [{id, name}], runs = [{id, pipeline_id, status}] },
--     codeartsdeploy = { tasks = [{id, name, app_id?}], records = [{id, task_id, state}] },
--     elb = { loadbalancers = [{id, name, provisioning_status, vip_address, ...}],
--             listeners = [{id, loadbalancer_id, protocol, protocol_port, default_pool_id}],
--             pools = [{id, loadbalancer_id, listener_id?, lb_algorithm, protocol}],
--             healthmonitors = [{id, pool_id, type, delay, timeout, max_retries}],
--             members = [{id, pool_id, address, protocol_port, weight?}] },
--     evs = { volumes = [{id, name, size, volume_type, status, attachments?}] },
--     ims = { images = [{id, name, status, __imagetype, min_disk, ...}] },
--     cce = { clusters = [{id, name, phase, spec = {flavor, version, ...}}],
--             node_pools = [{id, cluster_id, name, spec = {initialNodeCount,
--                                                          nodeTemplate}}],
--             nodes = [{id, cluster_id, node_pool_id, name, phase, private_ip,
--                       spec = {flavor, az, ...}}] },
--     rds = { instances = [{id, name, status, datastore = {type, version},
--                           flavor_ref, volume = {type, size}, private_ips, ...}] },
--     generic = { <service> = { <collection> = [{id, ...}] } } }
--
-- generic: the items of the services answered generically (see
-- hwcloud.emulator.generic), by the SDK's service name and the collection's
-- last path segment: { vpc = { vpcs = [{id = "vpc-1", name = "prod", cidr =
-- "10.0.0.0/16"}] }, smn = { topics = [{topic_urn = "urn:...", name = "t"}] } }.
-- An item's id is its `id`, else its one string field named *_id or *_urn.
--
-- Every call naming an id the inventory does not have answers 404, as the
-- service would. `"strict": false` (an opt-out for scripts written against
-- made-up ids) lets a few operations take any id: reinstall_server (the
-- server), deliver_addon_job (the environment and add-on),
-- create_software_deployment (the config and the server: one of the
-- Workspace servers), create_workshop and list_workshops (the mesh),
-- update_notice (the build job), run_pipeline (the pipeline) and
-- start_workflow_execution (the workflow). Left out, strict is true.

local cjson = require "cjson"

local type, pairs, ipairs, pcall, tostring, tonumber, io_open =
  type, pairs, ipairs, pcall, tostring, tonumber, io.open

local _M = {}

local function default()
  local groups = {
    { id = "group-web", name = "web", os_type = "Windows", server_group_status = true,
      app_type = "SESSION_DESKTOP_APP" },
    { id = "group-api", name = "api", os_type = "Windows", server_group_status = true,
      app_type = "SESSION_DESKTOP_APP" },
  }
  local servers = {}
  for _, s in ipairs { { "srv-web-01", "group-web" }, { "srv-web-02", "group-web" },
                       { "srv-web-03", "group-web" }, { "srv-api-01", "group-api" },
                       { "srv-api-02", "group-api" } } do
    servers[#servers + 1] = { id = s[1], name = s[1], machine_name = s[1],
                              server_group_id = s[2], status = "REGISTERED",
                              vm_status = "ACTIVE",
                              maintain_status = false, os_type = "Windows" }
  end
  return {
    strict = true,
    workspace = { server_groups = groups, servers = servers },
    servicestage = {
      environments = {
        { id = "env-prod-01", name = "prod", description = "production",
          deploy_mode = "container" },
        { id = "env-test-01", name = "test", description = "testing",
          deploy_mode = "container" },
      },
      addons = {
        { id = "addon-gateway", environment_id = "env-prod-01", name = "gateway",
          version = "1.0.0", status = "RUNNING" },
        { id = "addon-logging", environment_id = "env-prod-01", name = "logging",
          version = "1.0.0", status = "RUNNING" },
        { id = "addon-test-gateway", environment_id = "env-test-01", name = "gateway",
          version = "1.0.0", status = "RUNNING" },
      },
      applications = {
        { id = "app-shop", name = "shop", description = "the web shop" },
        { id = "app-tools", name = "tools", description = "internal tools" },
      },
      components = {
        { id = "comp-shop-web", application_id = "app-shop", environment_id = "env-prod-01",
          name = "web", version = "1.0.0", runtime_stack = { name = "Nodejs", type = "Nodejs",
          version = "18", deploy_mode = "container" }, source = { kind = "image",
          url = "swr.example/shop/web:1.0.0" }, replica = 2 },
        { id = "comp-shop-api", application_id = "app-shop", environment_id = "env-prod-01",
          name = "api", version = "1.0.0", runtime_stack = { name = "Java8", type = "Java",
          version = "8", deploy_mode = "container" }, source = { kind = "image",
          url = "swr.example/shop/api:1.0.0" }, replica = 2 },
        { id = "comp-tools-cron", application_id = "app-tools", environment_id = "env-test-01",
          name = "cron", version = "0.1.0", runtime_stack = { name = "Python3", type = "Python",
          version = "3", deploy_mode = "container" }, source = { kind = "image",
          url = "swr.example/tools/cron:0.1.0" }, replica = 1 },
      },
    },
    codeartsbuild = {
      jobs = {
        { id = "48c66c6002964721be537cdc6ce0297b", job_name = "build-web" },
        { id = "5d1e0b6c8a3f4e2b9c7d6a5f4e3d2c1b", job_name = "build-api" },
        { id = "6e2f1c7d9b4a5f3c0d8e7b6a5f4e3d2c", job_name = "build-worker" },
      },
      -- past builds of build-web: the history a job starts with
      builds = {
        { id = "rec-web-1", job_id = "48c66c6002964721be537cdc6ce0297b", build_number = 1,
          result = "success", start_time = "2026-11-30T08:00:00Z",
          end_time = "2026-11-30T08:03:10Z" },
        { id = "rec-web-2", job_id = "48c66c6002964721be537cdc6ce0297b", build_number = 2,
          result = "failed", start_time = "2026-11-30T09:00:00Z",
          end_time = "2026-11-30T09:01:42Z" },
      },
    },
    asm = {
      meshes = {
        { id = "mesh-prod-01", name = "prod-mesh", version = "1.15.5-r1", type = "InCluster",
          clusters = { "cce-prod-01" } },
      },
    },
    rts = { software_configs = {} },
    ecs = { servers = {} },
    swr = { namespaces = {}, repositories = {}, instances = {} },
    functiongraph = { functions = {} },
    codeartspipeline = { pipelines = {}, runs = {} },
    codeartsdeploy = { tasks = {}, records = {} },
    elb = { loadbalancers = {}, listeners = {}, pools = {}, healthmonitors = {}, members = {} },
    evs = { volumes = {} },
    ims = { images = {} },
    cce = { clusters = {}, node_pools = {}, nodes = {} },
    rds = { instances = {} },
  }
end

local current = default()

function _M.current() return current end

-- The id of a generic item and the field it is in, or nil.
function _M.generic_id(item)
  if type(item.id) == "string" and item.id ~= "" then return item.id, "id" end
  local found, field
  for k, v in pairs(item) do
    if type(k) == "string" and type(v) == "string" and v ~= ""
      and (k:find("_id$") or k:find("_urn$")) then
      if found then return nil end
      found, field = v, k
    end
  end
  return found, field
end

-- Checks the generic section; returns it ({} when absent) or nil, message.
function _M.check_generic(g)
  if g == nil then return {} end
  if type(g) ~= "table" then return nil, "generic must be an object" end
  for service, cols in pairs(g) do
    local where = "generic." .. tostring(service)
    if type(cols) ~= "table" then return nil, where .. " must be an object" end
    for noun, list in pairs(cols) do
      if type(list) ~= "table" then return nil, where .. "." .. tostring(noun) .. " must be an array" end
      for k = 1, #list do
        if type(list[k]) ~= "table" or not _M.generic_id(list[k]) then
          return nil, where .. "." .. tostring(noun) .. "[" .. k
            .. "] needs an id (a non-empty string id, or one *_id or *_urn field)"
        end
      end
    end
  end
  return g
end

local SECTIONS = {
  workspace = { "server_groups", "servers" },
  servicestage = { "environments", "addons", "applications", "components" },
  codeartsbuild = { "jobs", "builds" },
  asm = { "meshes" },
  rts = { "software_configs" },
  ecs = { "servers" },
  swr = { "namespaces", "repositories", "instances" },
  functiongraph = { "functions" },
  codeartspipeline = { "pipelines", "runs" },
  codeartsdeploy = { "tasks", "records" },
  elb = { "loadbalancers", "listeners", "pools", "healthmonitors", "members" },
  evs = { "volumes" },
  ims = { "images" },
  cce = { "clusters", "node_pools", "nodes" },
  rds = { "instances" },
}

-- Replaces the inventory after checking its shape; returns true or nil,
-- message naming the broken part. Sections left out are empty.
function _M.replace(inv)
  if type(inv) ~= "table" then return nil, "the inventory must be a JSON object" end
  if inv.strict ~= nil and type(inv.strict) ~= "boolean" then
    return nil, "strict must be true or false"
  end
  local new = { strict = inv.strict ~= false }
  for section, lists in pairs(SECTIONS) do
    local s = inv[section]
    if s ~= nil and type(s) ~= "table" then return nil, section .. " must be an object" end
    new[section] = {}
    for i = 1, #lists do
      local name = lists[i]
      local list = s and s[name] or {}
      if type(list) ~= "table" then return nil, section .. "." .. name .. " must be an array" end
      for k = 1, #list do
        local item = list[k]
        if type(item) ~= "table" or type(item.id) ~= "string" or item.id == "" then
          return nil, section .. "." .. name .. "[" .. k .. "].id must be a non-empty string"
        end
      end
      new[section][name] = list
    end
  end
  local generic, why = _M.check_generic(inv.generic)
  if not generic then return nil, why end
  new.generic = generic
  for section in pairs(inv) do
    if section ~= "strict" and section ~= "generic" and not SECTIONS[section] then
      return nil, "unknown inventory section: " .. section
    end
  end
  current = new
  return true
end

-- Reads a JSON inventory file; returns true or nil, message.
function _M.load_file(path)
  local f, err = io_open(path, "rb")
  if not f then return nil, "cannot read the inventory " .. path .. ": " .. err end
  local text = f:read("*a")
  f:close()
  local ok_json, inv = pcall(cjson.decode, text)
  if not ok_json then return nil, "the inventory " .. path .. " is not valid JSON: " .. tostring(inv) end
  local ok, msg = _M.replace(inv)
  if not ok then return nil, "the inventory " .. path .. ": " .. msg end
  return true
end

function _M.reset_default() current = default() end

-- A deep copy (of an inventory, or a part of one). Its own, not
-- hwcloud.emulator.util's: this module also loads outside nginx (specs'
-- fixtures), where util's crypto (LuaJIT's ffi) does not.
local function copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = copy(x) end
  return c
end
_M.copy = copy

-- A project's own copy of the inventory, made on first use.
function _M.of(store)
  local inv = store.inventory
  if not inv then
    inv = copy(current)
    store.inventory = inv
  end
  return inv
end

-- True unless the project's inventory opted out of 404s for the few
-- operations above.
function _M.strict(store) return _M.of(store).strict ~= false end

-- The item of `list` with this id, or nil.
function _M.find(list, id)
  for i = 1, #list do
    if list[i].id == id then return list[i], i end
  end
  return nil
end

-- A number argument, or nil when absent (or not a number).
local function num(args, name)
  local v = args[name]
  if v == nil then return nil end
  return tonumber(v)
end

-- Where a page starts (index from 1) for each way of paging; each returns
-- the start and the page's size when the way sets one, or nil, nil and the
-- broken rule.
local function after_marker(list, args)
  local _, i = _M.find(list, args.marker)
  if not i then return nil, nil, "marker " .. tostring(args.marker) .. " is not an id" end
  return i + 1
end

local function numbered_page(args, opts)
  local size_name = opts.page_size or "page_size"
  local size = num(args, size_name) or 10
  local page = num(args, opts.page) or (opts.page_from_zero and 0 or 1)
  if opts.page_from_zero then page = page + 1 end
  if size < 1 or page < 1 or size % 1 ~= 0 or page % 1 ~= 0 then
    return nil, nil, size_name .. " and " .. opts.page
      .. " must be whole numbers from " .. (opts.page_from_zero and "1 and 0" or "1")
  end
  return (page - 1) * size + 1, size
end

local function at_offset(args, opts)
  local name = opts.offset or "offset"
  local offset = num(args, name) or 0
  if offset < 0 or offset % 1 ~= 0 then
    return nil, nil, name .. " must be a whole number from 0"
  end
  return offset + 1
end

-- A page of `list`: offset/limit (offset from 0), page/page_size or
-- page_index/page_size (pages from 1), marker/limit (after the item whose
-- id is the marker). Returns the page and nil, or nil and the broken rule.
function _M.page(list, args, opts)
  opts = opts or {}
  local limit_name = opts.limit or "limit"
  local limit = num(args, limit_name)
  if limit and (limit < 0 or limit % 1 ~= 0) then
    return nil, limit_name .. " must be a whole number from 0"
  end
  local from, size, why
  if opts.marker and args.marker then
    from, size, why = after_marker(list, args)
  elseif opts.page then
    from, size, why = numbered_page(args, opts)
  else
    from, size, why = at_offset(args, opts)
  end
  if not from then return nil, why end
  local count = size or limit or #list
  local out = {}
  for i = from, #list do
    if #out >= count then break end
    out[#out + 1] = list[i]
  end
  return out
end

return _M
