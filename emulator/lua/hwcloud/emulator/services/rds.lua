-- Relational Database Service v3 instances: create (a job, the instance
-- BUILD until it ends, then ACTIVE, or FAILED when it failed), list (the
-- `id` filter is what the instance_available waiter reads), delete (a job;
-- the instance is gone when it ends) and ListJobInfo (GET /v3/{project_id}/
-- jobs?id=: status Running, then Completed or Failed). Jobs settle the
-- first time they are seen done; POST /_emulator/fail fails a job or the
-- work on one instance.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"

local pairs, ipairs, type, tostring, tonumber, remove, format, floor =
  pairs, ipairs, type, tostring, tonumber, table.remove, string.format, math.floor

local array, copy, iso = util.array, util.copy, util.iso8601

local _M = { name = "rds" }

local function err(status, msg) return status, errors.body("rds", status, msg) end

local function not_found(what, id)
  return err(404, "The " .. what .. " " .. tostring(id) .. " does not exist")
end

local function instances_of(store) return inventory.of(store).rds.instances end

local function jobs_of(store)
  local j = store.rds_jobs
  if not j then j = {} store.rds_jobs = j end
  return j
end

local function next_ip(store)
  local n = (store.rds_next_ip or 10) + 1
  store.rds_next_ip = n
  return format("192.168.%d.%d", 100 + floor(n / 250), n % 250 + 2)
end

-- "CreateMysqlInstance", "DeletePostgresqlInstance" ...
local function job_name(action, inst)
  local engine = type(inst.datastore) == "table" and tostring(inst.datastore.type) or "MySQL"
  return action .. engine:sub(1, 1):upper() .. engine:sub(2):lower() .. "Instance"
end

-- Settles a job the first time it is seen done (it fails when its id or
-- its instance's is on the fail list then) and leaves its instance ACTIVE
-- or FAILED (created), or gone (deleted).
local function settle(store, job, now)
  if job.settled or jobs.phase(job.created, now) ~= "done" then return end
  job.settled = true
  job.failed = state.should_fail(job.id, job.instance_id) and true or false
  local list = instances_of(store)
  local inst, i = inventory.find(list, job.instance_id)
  if not inst or inst.pending_job ~= job.id then return end
  inst.pending_job = nil
  if job.action == "Create" then
    inst.status = job.failed and "FAILED" or "ACTIVE"
    inst.updated = iso(job.created + state.config.job_seconds)
  elseif not job.failed then
    remove(list, i)
  end
end

local function settle_all(store, now)
  for _, job in pairs(jobs_of(store)) do settle(store, job, now) end
end

local function new_job(ctx, action, inst)
  local all = jobs_of(ctx.store)
  local id
  repeat id = util.uuid4() until not all[id]
  all[id] = { id = id, action = action, name = job_name(action, inst), instance_id = inst.id,
              instance_name = inst.name, created = ctx.now }
  inst.pending_job = id
  return id
end

-- What an instance record leaves out, as InstanceResponse requires it.
local DEFAULTS = {
  alias = "", type = "Single", datastore = { type = "MySQL", version = "8.0" },
  flavor_ref = "rds.mysql.n1.large.2", volume = { type = "CLOUDSSD", size = 40 },
  region = "cn-north-4", availability_zone = "cn-north-4a", vpc_id = "vpc-default",
  subnet_id = "subnet-default", security_group_id = "sg-default",
  backup_strategy = { start_time = "02:00-03:00", keep_days = 7 },
  db_user_name = "root", disk_encryption_id = "", enable_ssl = false,
  enterprise_project_id = "0", maintenance_window = "02:00-06:00",
  switch_strategy = "reliability", time_zone = "UTC",
}

local function fill(t, defaults)
  for k, d in pairs(defaults) do
    if t[k] == nil or t[k] == util.null then
      t[k] = copy(d)
    elseif type(t[k]) == "table" and type(d) == "table" then
      fill(t[k], d)
    end
  end
  return t
end

-- InstanceResponse: every field its description requires.
local function instance_view(ctx, r)
  local v = fill(copy(r), DEFAULTS)
  v.pending_job = nil
  local job = r.pending_job and jobs_of(ctx.store)[r.pending_job]
  v.status = job and job.action == "Create" and "BUILD" or r.status or "ACTIVE"
  v.port = tonumber(r.port) or (v.datastore.type == "PostgreSQL" and 5432 or 3306)
  v.volume.size = tonumber(v.volume.size) or 40
  v.backup_strategy.keep_days = tonumber(v.backup_strategy.keep_days) or 7
  if type(r.ha) == "table" then
    v.type, v.ha = "Ha", { replication_mode = r.ha.replication_mode or "semisync" }
  end
  v.datastore = { type = v.datastore.type, version = v.datastore.version }
  v.private_ips = array(copy(r.private_ips or {}))
  v.public_ips, v.related_instance, v.tags = array({}), array({}), array({})
  v.charge_info = { charge_mode = "postPaid" }
  v.created = r.created or iso(ctx.now)
  v.updated = r.updated or v.created
  v.nodes = array { { id = r.id .. "no01", name = r.name .. "_node0", role = "master",
                      status = v.status, availability_zone = v.availability_zone } }
  return v
end

-- create_instance: one instance (count above 1 is refused), BUILD until
-- its job ends; dry_run checks and answers 202 with nothing made.
local function create_instance(ctx)
  local b = ctx.body
  if b.count ~= nil and b.count ~= 1 then
    return err(400, "Invalid parameter count: the emulator creates one instance per request")
  end
  for _, r in ipairs(instances_of(ctx.store)) do
    if r.name == b.name then return err(409, "An instance named " .. b.name .. " already exists") end
  end
  if b.dry_run == true then return 202, {} end
  local r = {
    id = util.random_hex(16) .. "in01", name = b.name, datastore = copy(b.datastore),
    flavor_ref = b.flavor_ref, volume = copy(b.volume), region = b.region,
    availability_zone = b.availability_zone, vpc_id = b.vpc_id, subnet_id = b.subnet_id,
    security_group_id = b.security_group_id, port = b.port, ha = copy(b.ha),
    backup_strategy = copy(b.backup_strategy), time_zone = b.time_zone,
    enterprise_project_id = b.enterprise_project_id,
    private_ips = { b.data_vip or next_ip(ctx.store) }, created = iso(ctx.now),
  }
  local list = instances_of(ctx.store)
  list[#list + 1] = r
  local job_id = new_job(ctx, "Create", r)
  local inst = {
    id = r.id, name = r.name, status = "BUILD", datastore = copy(b.datastore),
    flavor_ref = r.flavor_ref, volume = copy(b.volume), region = r.region,
    availability_zone = r.availability_zone, vpc_id = r.vpc_id, subnet_id = r.subnet_id,
    security_group_id = r.security_group_id, port = r.port and tostring(r.port) or nil,
    ha = copy(b.ha), backup_strategy = copy(b.backup_strategy),
    charge_info = { charge_mode = "postPaid" },
  }
  return 202, { instance = inst, job_id = job_id }
end

-- list_instances: filters by id, name, type, datastore_type, vpc_id and
-- subnet_id; offset (rows) and limit (100) pages.
local function list_instances(ctx)
  settle_all(ctx.store, ctx.now)
  local args, picked = ctx.args, {}
  for _, r in ipairs(instances_of(ctx.store)) do
    local v = instance_view(ctx, r)
    if (args.id == nil or v.id == args.id) and (args.name == nil or v.name == args.name)
      and (args.type == nil or v.type == args.type)
      and (args.datastore_type == nil or v.datastore.type == args.datastore_type)
      and (args.vpc_id == nil or v.vpc_id == args.vpc_id)
      and (args.subnet_id == nil or v.subnet_id == args.subnet_id) then
      picked[#picked + 1] = v
    end
  end
  local page, why = inventory.page(picked, { offset = args.offset, limit = args.limit or 100 })
  if not page then return err(400, "Invalid parameter " .. why) end
  return 200, { instances = array(page), total_count = #picked }
end

local function delete_instance(ctx)
  settle_all(ctx.store, ctx.now)
  local id = ctx.params.instance_id
  local r = inventory.find(instances_of(ctx.store), id)
  if not r then return not_found("instance", id) end
  if r.pending_job then
    return err(409, "The instance " .. id .. " has a job still running")
  end
  return 202, { job_id = new_job(ctx, "Delete", r) }
end

-- list_job_info: the job named by the `id` query field.
local function list_job_info(ctx)
  local id = ctx.args.id
  local job = type(id) == "string" and jobs_of(ctx.store)[id]
  if not job then return not_found("job", id) end
  settle(ctx.store, job, ctx.now)
  local phase = jobs.phase(job.created, ctx.now)
  local status, ended, process = "Running", nil, phase == "waiting" and "10%" or "60%"
  if phase == "done" then
    status = job.failed and "Failed" or "Completed"
    ended, process = iso(job.created + state.config.job_seconds), "100%"
  end
  local body = {
    id = job.id, name = job.name, status = status, created = iso(job.created), ended = ended,
    process = process, instance = { id = job.instance_id, name = job.instance_name },
    entities = { resource_ids = array { job.instance_id } },
  }
  if job.failed then
    body.fail_reason = job.name .. " of " .. job.instance_name .. " failed (injected failure)"
  end
  return 200, { job = body }
end

_M.routes = {
  { op = "create_instance", method = "POST", path = "/v3/{project_id}/instances",
    full_request = true, handler = create_instance },
  { op = "list_instances", method = "GET", path = "/v3/{project_id}/instances",
    handler = list_instances },
  { op = "delete_instance", method = "DELETE", path = "/v3/{project_id}/instances/{instance_id}",
    handler = delete_instance },
  { op = "list_job_info", method = "GET", path = "/v3/{project_id}/jobs", handler = list_job_info },
}

return _M
