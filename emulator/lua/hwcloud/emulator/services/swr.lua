-- Software Repository for Containers (v2): namespaces and their
-- repositories (the shared edition's /v2/manage API: create, list, show,
-- update, delete; a repository's tags), and enterprise instances with
-- their jobs. The shared edition answers its lists as bare arrays with a
-- Content-Range header ("<first>-<last>/<total>", offset and limit in
-- rows); instances are Creating until their create job ends (ShowInstanceJob:
-- Initializing, Running, then Success or Failed), then Running
-- (Unavailable when the job failed).
--
-- Namespaces and repositories are named, not numbered, by the calls: their
-- inventory `id` is the namespace's name and "<namespace>/<repository>";
-- the numeric ids the answers carry are handed out as they are first shown.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"

local type, pairs, ipairs, tostring, tonumber, remove, sort, format, find, match, floor =
  type, pairs, ipairs, tostring, tonumber, table.remove, table.sort, string.format, string.find,
  string.match, math.floor

local _M = { name = "swr" }

local function fail(status, msg)
  return status, errors.body("swr", status, msg)
end

-- The project's SWR resources; a repository the inventory gave by its id
-- alone ("shop/web") takes its namespace and name from it.
local function section(store)
  local s = inventory.of(store).swr
  for _, r in ipairs(s.repositories) do
    if type(r.namespace) ~= "string" or type(r.name) ~= "string" then
      r.namespace, r.name = match(r.id, "^([^/]*)/(.*)$")
      r.namespace, r.name = r.namespace or "", r.name or r.id
    end
  end
  return s
end

-- A number for a record's `id` field, handed out at its first showing.
local function number_of(store, rec)
  if type(rec.number) ~= "number" then
    local n = (store.swr_next_number or 1000) + 1
    store.swr_next_number = n
    rec.number = n
  end
  return rec.number
end

-- Names: lower-case letters, digits and single separators (._-), starting
-- with a letter and ending with a letter or digit, as SWR takes them.
local function name_error(field, v, max)
  if type(v) ~= "string" or v == "" then return field .. ": is required" end
  if #v > max then return format("%s: must be at most %d characters", field, max) end
  if not match(v, "^[a-z][a-z0-9._-]*$") or find(v, "[._-][._-]") or not match(v, "[a-z0-9]$") then
    return field .. ": must be lower-case letters, digits and single separators (. _ -),"
      .. " starting with a letter and ending with a letter or digit"
  end
  return nil
end

-- Namespaces ---------------------------------------------------------------

local function namespace_view(ctx, ns)
  return { id = number_of(ctx.store, ns), name = ns.id,
           creator_name = type(ns.creator_name) == "string" and ns.creator_name or "emulator",
           auth = type(ns.auth) == "number" and ns.auth or 7 }
end

local function create_namespace(ctx)
  local name = ctx.body.namespace
  local why = name_error("namespace", name, 64)
  if why then return fail(400, "Invalid parameter " .. why) end
  local list = section(ctx.store).namespaces
  if inventory.find(list, name) then
    return fail(409, "The namespace " .. name .. " already exists")
  end
  list[#list + 1] = { id = name, creator_name = "emulator", auth = 7,
                      created = util.iso8601(ctx.now) }
  return 201, {}
end

local function find_namespace(ctx, name)
  return inventory.find(section(ctx.store).namespaces, name)
end

local function show_namespace(ctx)
  local ns = find_namespace(ctx, ctx.params.namespace)
  if not ns then return fail(404, "The namespace " .. tostring(ctx.params.namespace) .. " does not exist") end
  return 200, namespace_view(ctx, ns)
end

-- filter "namespace::NAME" (or the namespace query) keeps names that hold it
local function list_namespaces(ctx)
  local want = ctx.args.namespace
  local filter = type(ctx.args.filter) == "string" and match(ctx.args.filter, "namespace::([^|]*)")
  want = filter or want
  local out = {}
  for _, ns in ipairs(section(ctx.store).namespaces) do
    if type(want) ~= "string" or want == "" or find(ns.id, want, 1, true) then
      out[#out + 1] = namespace_view(ctx, ns)
    end
  end
  return 200, { namespaces = util.array(out) }
end

local function repos_of(ctx, namespace)
  local out = {}
  for _, r in ipairs(section(ctx.store).repositories) do
    if r.namespace == namespace then out[#out + 1] = r end
  end
  return out
end

local function delete_namespace(ctx)
  local name = ctx.params.namespace
  local ns, i = find_namespace(ctx, name)
  if not ns then return fail(404, "The namespace " .. tostring(name) .. " does not exist") end
  if #repos_of(ctx, name) > 0 then
    return fail(409, "The namespace " .. name .. " still has repositories")
  end
  remove(section(ctx.store).namespaces, i)
  return 204, nil
end

-- Repositories -------------------------------------------------------------

local CATEGORY = "other"

local function repo_key(namespace, repo) return tostring(namespace) .. "/" .. tostring(repo) end

local function find_repo(ctx)
  local p = ctx.params
  return inventory.find(section(ctx.store).repositories, repo_key(p.namespace, p.repository))
end

local function repo_not_found(ctx)
  return fail(404, "The repository " .. repo_key(ctx.params.namespace, ctx.params.repository)
    .. " does not exist")
end

-- A repository's tags as names ("1.0.0"), from strings or {Tag = ...}.
local function tag_names(r)
  local out = {}
  for _, t in ipairs(type(r.tags) == "table" and r.tags or {}) do
    local name = type(t) == "string" and t or (type(t) == "table" and (t.Tag or t.tag or t.name))
    if type(name) == "string" then out[#out + 1] = name end
  end
  return out
end

local function str(v, default)
  if type(v) == "string" then return v end
  return default
end

local function repo_path(r)
  return "swr.emulator.local/" .. r.namespace .. "/" .. r.name
end

-- ShowReposResp (list_repos_details): every field required.
local function repo_row(r)
  local tags = tag_names(r)
  return {
    name = r.name, category = str(r.category, CATEGORY), description = str(r.description, ""),
    size = tonumber(r.size) or 0, is_public = r.is_public == true, num_images = #tags,
    num_download = tonumber(r.num_download) or 0, url = "", path = repo_path(r),
    internal_path = repo_path(r), created_at = str(r.created, ""),
    updated_at = str(r.updated, str(r.created, "")), domain_name = "emulator",
    namespace = r.namespace, tags = util.array(tags), status = false,
    total_range = 0, logo = "",
  }
end

local function repo_view(ctx, r)
  local ns = find_namespace(ctx, r.namespace)
  return {
    id = number_of(ctx.store, r), ns_id = ns and number_of(ctx.store, ns) or 0, name = r.name,
    category = str(r.category, CATEGORY), description = str(r.description, ""),
    creator_id = "emulator", creator_name = "emulator", size = tonumber(r.size) or 0,
    is_public = r.is_public == true, num_images = #tag_names(r),
    num_download = tonumber(r.num_download) or 0, url = "", path = repo_path(r),
    internal_path = repo_path(r), created = str(r.created, ""),
    updated = str(r.updated, str(r.created, "")), domain_id = "emulator", priority = 0,
  }
end

local function create_repo(ctx)
  local ns_name, b = ctx.params.namespace, ctx.body
  if not find_namespace(ctx, ns_name) then
    return fail(404, "The namespace " .. tostring(ns_name) .. " does not exist")
  end
  local why = name_error("repository", b.repository, 128)
  if why then return fail(400, "Invalid parameter " .. why) end
  local list = section(ctx.store).repositories
  local key = repo_key(ns_name, b.repository)
  if inventory.find(list, key) then
    return fail(409, "The repository " .. key .. " already exists")
  end
  local now = util.iso8601(ctx.now)
  list[#list + 1] = { id = key, namespace = ns_name, name = b.repository,
                      is_public = b.is_public == true, category = str(b.category, CATEGORY),
                      description = str(b.description, ""), created = now, updated = now,
                      tags = {} }
  return 201, {}
end

local function show_repo(ctx)
  local r = find_repo(ctx)
  if not r then return repo_not_found(ctx) end
  return 200, repo_view(ctx, r)
end

local function update_repo(ctx)
  local r = find_repo(ctx)
  if not r then return repo_not_found(ctx) end
  local b = ctx.body
  r.is_public = b.is_public == true
  if type(b.category) == "string" then r.category = b.category end
  if type(b.description) == "string" then r.description = b.description end
  r.updated = util.iso8601(ctx.now)
  return 201, {}
end

local function delete_repo(ctx)
  local r, i = find_repo(ctx)
  if not r then return repo_not_found(ctx) end
  remove(section(ctx.store).repositories, i)
  return 204, nil
end

-- A page of a bare-array list: offset and limit in rows (strings in the
-- query), the Content-Range header saying which rows of how many.
local function range_page(rows, args)
  local offset = args.offset == nil and 0 or tonumber(args.offset)
  local limit = args.limit == nil and #rows or tonumber(args.limit)
  if not offset or offset < 0 or offset % 1 ~= 0 then
    return nil, "Invalid parameter offset: must be a whole number from 0"
  end
  if not limit or limit < 1 or limit % 1 ~= 0 then
    if #rows == 0 and args.limit == nil then limit = 0
    else return nil, "Invalid parameter limit: must be a whole number from 1" end
  end
  local out = {}
  for i = offset + 1, #rows do
    if #out >= limit then break end
    out[#out + 1] = rows[i]
  end
  local last = #out > 0 and offset + #out - 1 or offset
  return out, { ["Content-Range"] = format("%d-%d/%d", floor(offset), floor(last), #rows) }
end

-- list_repos_details: namespace and name (a part of it) and category
-- filters, or filter "namespace::NS|name::N|category::C".
local function list_repos(ctx)
  local a = ctx.args
  local f = type(a.filter) == "string" and a.filter or ""
  local ns = match(f, "namespace::([^|]*)") or a.namespace
  local name = match(f, "name::([^|]*)") or a.name
  local category = match(f, "category::([^|]*)") or a.category
  local rows = {}
  for _, r in ipairs(section(ctx.store).repositories) do
    if (type(ns) ~= "string" or ns == "" or r.namespace == ns)
      and (type(name) ~= "string" or name == "" or find(r.name, name, 1, true))
      and (type(category) ~= "string" or category == "" or str(r.category, CATEGORY) == category) then
      rows[#rows + 1] = repo_row(r)
    end
  end
  local page, headers = range_page(rows, a)
  if not page then return fail(400, headers) end
  return 200, util.array(page), headers
end

local function list_tags(ctx)
  local r = find_repo(ctx)
  if not r then return repo_not_found(ctx) end
  local want = ctx.args.tag
  local rows = {}
  for i, name in ipairs(tag_names(r)) do
    if type(want) ~= "string" or want == "" or find(name, want, 1, true) then
      local p = repo_path(r) .. ":" .. name
      rows[#rows + 1] = {
        id = i, repo_id = number_of(ctx.store, r), Tag = name, image_id = "",
        manifest = "", digest = "", schema = 2, path = p, internal_path = p, size = 0,
        is_trusted = false, created = str(r.created, ""), updated = str(r.updated, ""),
        deleted = "", domain_id = "emulator", tag_type = 0, scanned = false,
      }
    end
  end
  local page, headers = range_page(rows, ctx.args)
  if not page then return fail(400, headers) end
  return 200, util.array(page), headers
end

-- Enterprise instances and their jobs -------------------------------------

local function jobs_of(store)
  local j = store.swr_jobs
  if not j then j = {} store.swr_jobs = j end
  return j
end

-- The job's status now; its instance takes its end state the first time
-- the job is seen done.
local function job_status(ctx, job)
  local phase = jobs.phase(job.created, ctx.now)
  if phase == "waiting" then return "Initializing" end
  if phase == "running" then return "Running" end
  if job.failed == nil then
    job.failed = state.should_fail(job.id, job.instance_id) and true or false
    local inst = inventory.find(section(ctx.store).instances, job.instance_id)
    if inst and inst.pending_job == job.id then
      inst.pending_job = nil
      inst.status = job.failed and "Unavailable" or "Running"
      inst.updated_at = util.iso8601(job.created + state.config.job_seconds)
    end
  end
  return job.failed and "Failed" or "Success"
end

local function job_view(ctx, job)
  local status = job_status(ctx, job)
  local ended = status == "Success" or status == "Failed"
  return {
    id = job.id, instance_id = job.instance_id, resource_id = job.instance_id,
    resource_name = job.instance_name, type = "CreateInstance", status = status,
    reason = status == "Failed" and ("creating instance " .. job.instance_name
      .. " failed (injected failure)") or "",
    created_at = util.iso8601(job.created),
    updated_at = util.iso8601(ended and job.created + state.config.job_seconds or ctx.now),
  }
end

local INSTANCE_FIELDS = { "name", "description", "spec", "charge_mode", "vpc_id", "subnet_id",
                          "enterprise_project_id", "obs_bucket_name" }

local function instance_view(ctx, inst)
  local job = inst.pending_job and jobs_of(ctx.store)[inst.pending_job]
  if job then job_status(ctx, job) end
  local v = util.copy(inst)
  v.pending_job = nil
  v.status = inst.pending_job and "Creating" or str(inst.status, "Running")
  for _, k in ipairs(INSTANCE_FIELDS) do v[k] = str(v[k], "") end
  v.project_id = ctx.project_id
  v.created_at, v.updated_at = str(v.created_at, ""), str(v.updated_at, str(v.created_at, ""))
  v.version = str(v.version, "v2")
  v.access_address = str(v.access_address, "")
  v.user_def_obs = v.obs_bucket_name ~= ""
  return v
end

local function create_instance(ctx)
  local b = ctx.body
  if type(b.name) ~= "string" or not match(b.name, "^[a-z][a-z0-9-]*[a-z0-9]$") or #b.name > 64 then
    return fail(400, "Invalid parameter name: 3 to 64 lower-case letters, digits and hyphens,"
      .. " starting with a letter")
  end
  local list = section(ctx.store).instances
  for _, i in ipairs(list) do
    if i.name == b.name then return fail(409, "The instance name " .. b.name .. " is in use") end
  end
  local id = util.uuid4()
  local job_id = util.uuid4()
  local inst = { id = id, pending_job = job_id, created_at = util.iso8601(ctx.now) }
  for _, k in ipairs(INSTANCE_FIELDS) do inst[k] = b[k] end
  list[#list + 1] = inst
  jobs_of(ctx.store)[job_id] = { id = job_id, instance_id = id, instance_name = b.name,
                                 created = ctx.now }
  return 201, { instance_id = id, job_id = job_id }
end

local function find_instance(ctx)
  return inventory.find(section(ctx.store).instances, ctx.params.instance_id)
end

local function instance_not_found(ctx)
  return fail(404, "The instance " .. tostring(ctx.params.instance_id) .. " does not exist")
end

local function show_instance(ctx)
  local inst = find_instance(ctx)
  if not inst then return instance_not_found(ctx) end
  return 200, instance_view(ctx, inst)
end

local function offset_page(list, args)
  local page, err = inventory.page(list, args)
  if not page then return nil, "Invalid parameter " .. err end
  return page
end

local function list_instances(ctx)
  local rows = {}
  for _, inst in ipairs(section(ctx.store).instances) do
    local v = instance_view(ctx, inst)
    if (ctx.args.status == nil or v.status == ctx.args.status)
      and (ctx.args.enterprise_project_id == nil
           or v.enterprise_project_id == ctx.args.enterprise_project_id) then
      rows[#rows + 1] = v
    end
  end
  local page, err = offset_page(rows, ctx.args)
  if not page then return fail(400, err) end
  return 200, { instances = util.array(page), total = #rows }
end

local function delete_instance(ctx)
  local inst, i = find_instance(ctx)
  if not inst then return instance_not_found(ctx) end
  local job = inst.pending_job and jobs_of(ctx.store)[inst.pending_job]
  if job and jobs.phase(job.created, ctx.now) ~= "done" then
    return fail(409, "The instance " .. inst.id .. " is still being created")
  end
  remove(section(ctx.store).instances, i)
  return 200, {}
end

local function show_job(ctx)
  local job = jobs_of(ctx.store)[ctx.params.job_id]
  if not job then return fail(404, "The job " .. tostring(ctx.params.job_id) .. " does not exist") end
  return 200, job_view(ctx, job)
end

local function list_jobs(ctx)
  local rows = {}
  for _, job in pairs(jobs_of(ctx.store)) do
    local v = job_view(ctx, job)
    if ctx.args.status == nil or v.status == ctx.args.status then rows[#rows + 1] = v end
  end
  sort(rows, function(a, b)
    if a.created_at ~= b.created_at then return a.created_at < b.created_at end
    return a.id < b.id
  end)
  local page, err = offset_page(rows, ctx.args)
  if not page then return fail(400, err) end
  return 200, { jobs = util.array(page), total = #rows }
end

_M.routes = {
  { op = "create_namespace", method = "POST", path = "/v2/manage/namespaces",
    full_request = true, handler = create_namespace },
  { op = "list_namespaces", method = "GET", path = "/v2/manage/namespaces",
    handler = list_namespaces },
  { op = "show_namespace", method = "GET", path = "/v2/manage/namespaces/{namespace}",
    handler = show_namespace },
  { op = "delete_namespaces", method = "DELETE", path = "/v2/manage/namespaces/{namespace}",
    handler = delete_namespace },
  { op = "create_repo", method = "POST", path = "/v2/manage/namespaces/{namespace}/repos",
    full_request = true, handler = create_repo },
  { op = "list_repos_details", method = "GET", path = "/v2/manage/repos", handler = list_repos },
  { op = "show_repository", method = "GET",
    path = "/v2/manage/namespaces/{namespace}/repos/{repository}", handler = show_repo },
  { op = "update_repo", method = "PATCH",
    path = "/v2/manage/namespaces/{namespace}/repos/{repository}", full_request = true,
    handler = update_repo },
  { op = "delete_repo", method = "DELETE",
    path = "/v2/manage/namespaces/{namespace}/repos/{repository}", handler = delete_repo },
  { op = "list_repository_tags", method = "GET",
    path = "/v2/manage/namespaces/{namespace}/repos/{repository}/tags", handler = list_tags },
  { op = "create_instance", method = "POST", path = "/v2/{project_id}/instances",
    full_request = true, handler = create_instance },
  { op = "list_instance", method = "GET", path = "/v2/{project_id}/instances",
    handler = list_instances },
  { op = "show_instance", method = "GET", path = "/v2/{project_id}/instances/{instance_id}",
    handler = show_instance },
  { op = "delete_instance", method = "DELETE", path = "/v2/{project_id}/instances/{instance_id}",
    handler = delete_instance },
  { op = "show_instance_job", method = "GET", path = "/v2/{project_id}/jobs/{job_id}",
    handler = show_job },
  { op = "list_instance_jobs", method = "GET", path = "/v2/{project_id}/jobs",
    handler = list_jobs },
}

return _M
