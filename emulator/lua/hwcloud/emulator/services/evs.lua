-- Elastic Volume Service: volumes created (count of them, one job), listed,
-- shown, updated and deleted (a job), and the jobs (ShowJob, the path ECS
-- and IMS share: a job id is answered by the service that made it). A
-- volume is creating until its job ends, then available (error when the
-- job failed); deleting until its delete job ends, then gone
-- (error_deleting when it failed). ECS's attach_server_volume and
-- detach_server_volume move it to in-use and back (see attach below).

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local inventory = require "hwcloud.emulator.inventory"
local shapes = require "hwcloud.emulator.shapes"
local cloudjobs = require "hwcloud.emulator.cloudjobs"

local type, ipairs, tostring, tonumber, remove, format = type, ipairs, tostring, tonumber,
  table.remove, string.format

local _M = { name = "evs" }

local JOBS = "evs_jobs"

-- Per action: the job type, the volume's status while it runs, after it
-- (false: gone) and when it failed.
local ACTIONS = {
  create = { job_type = "createVolume", during = "creating", final = "available",
             failed = "error" },
  delete = { job_type = "deleteVolume", during = "deleting", final = false,
             failed = "error_deleting" },
}

local function bad(msg)
  return 400, errors.body("evs", 400, msg, "EVS.2001")
end

local function not_found(id)
  return 404, errors.body("evs", 404, "The volume " .. tostring(id) .. " does not exist",
                          "EVS.0404")
end

local function volumes_of(store)
  return inventory.of(store).evs.volumes
end

local function apply(store)
  return function(job, id, failed)
    local list = volumes_of(store)
    local v, i = inventory.find(list, id)
    if not v or v._job ~= job.id then return end
    v._job = nil
    local a = ACTIONS[job.action]
    if failed then
      v.status = a.failed
    elseif a.final == false then
      remove(list, i)
    else
      v.status = a.final
      v.updated_at = util.iso8601(job.created)
    end
  end
end

local function settle(store, now)
  cloudjobs.settle_all(store, JOBS, now, apply(store))
end

local function view(v)
  local out = shapes.view(shapes.schema("evs", "show_volume", "volume"), v)
  out.status = v.status or "available"
  out.attachments = util.array(v.attachments or {})
  return out
end

local function find(ctx, id)
  settle(ctx.store, ctx.now)
  return inventory.find(volumes_of(ctx.store), id)
end

-- The broken rule of a create_volume body's volume, or nil.
local function volume_error(o, count)
  if not count or count < 1 or count > 100 or count % 1 ~= 0 then
    return "Invalid parameter volume.count: must be a whole number from 1 to 100"
  end
  if o.size ~= nil and (type(o.size) ~= "number" or o.size < 1 or o.size > 32768) then
    return "Invalid parameter volume.size: must be from 1 to 32768 (GiB)"
  end
  if o.size == nil and not o.imageRef and not o.snapshot_id and not o.backup_id then
    return "Invalid parameter volume.size: is required without a source"
  end
  return nil
end

local function str(v, default)
  if type(v) == "string" then return v end
  return default
end

-- The record of volume `i` of `count` a create makes.
local function new_volume(ctx, o, i, count)
  local now = util.iso8601(ctx.now)
  local name = str(o.name, "volume")
  return {
    id = util.uuid4(), name = count == 1 and name or format("%s-%04d", name, i),
    size = o.size or 40, volume_type = o.volume_type, availability_zone = o.availability_zone,
    description = str(o.description, ""), multiattach = o.multiattach == true,
    bootable = o.imageRef and "true" or "false",
    metadata = type(o.metadata) == "table" and o.metadata or {},
    status = "creating", attachments = {}, created_at = now, updated_at = now,
    ["os-vol-tenant-attr:tenant_id"] = ctx.project_id,
  }
end

-- create_volume: `count` volumes (names get -0001, -0002... when more
-- than one), creating until the job ends.
local function create_volume(ctx)
  local o = ctx.body.volume
  local count = o.count == nil and 1 or tonumber(o.count)
  local why = volume_error(o, count)
  if why then return bad(why) end
  local ids, list = {}, volumes_of(ctx.store)
  for i = 1, count do
    local v = new_volume(ctx, o, i, count)
    list[#list + 1] = v
    ids[i] = v.id
  end
  local job = cloudjobs.new(ctx.store, JOBS, { job_type = ACTIONS.create.job_type,
                                               action = "create" }, ids, ctx.now)
  for _, id in ipairs(ids) do inventory.find(list, id)._job = job end
  return 202, { job_id = job, volume_ids = ids }
end

local function show_volume(ctx)
  local v = find(ctx, ctx.params.volume_id)
  if not v then return not_found(ctx.params.volume_id) end
  return 200, { volume = view(v) }
end

local function update_volume(ctx)
  local v = find(ctx, ctx.params.volume_id)
  if not v then return not_found(ctx.params.volume_id) end
  local o = ctx.body.volume
  if type(o) == "table" then
    if type(o.name) == "string" then v.name = o.name end
    if type(o.description) == "string" then v.description = o.description end
    if type(o.metadata) == "table" then v.metadata = o.metadata end
  end
  v.updated_at = util.iso8601(ctx.now)
  return 200, view(v)
end

local function delete_volume(ctx)
  local id = ctx.params.volume_id
  local v = find(ctx, id)
  if not v then return not_found(id) end
  if v._job then
    return 409, errors.body("evs", 409, "The volume " .. id .. " has a job still running",
                            "EVS.2002")
  end
  if v.status == "in-use" or (v.attachments and v.attachments[1]) then
    return 400, errors.body("evs", 400, "The volume " .. id .. " is attached to a server",
                            "EVS.2003")
  end
  local job = cloudjobs.new(ctx.store, JOBS, { job_type = ACTIONS.delete.job_type,
                                               action = "delete" }, { id }, ctx.now)
  v._job, v.status = job, "deleting"
  return 202, { job_id = job }
end

-- list_volumes: filtered by name, status, availability_zone, id (any
-- plain field), marker/limit pages; count is every match.
local function list_volumes(ctx)
  settle(ctx.store, ctx.now)
  local views = {}
  for i, v in ipairs(volumes_of(ctx.store)) do views[i] = view(v) end
  local page, info, total = shapes.page(views, ctx.args)
  if not page then return bad(info) end
  return 200, { count = total, volumes = page }
end

local function show_job(ctx)
  local id = ctx.params.job_id
  local job = cloudjobs.of(ctx.store, JOBS)[id]
  if not job then
    return 404, errors.body("evs", 404, "The job " .. tostring(id) .. " does not exist")
  end
  settle(ctx.store, ctx.now)
  local a = ACTIONS[job.action]
  local first = inventory.find(volumes_of(ctx.store), job.ids[1]) or {}
  local entities = { volume_id = job.ids[1], name = first.name, size = first.size,
                     volume_type = first.volume_type }
  if #job.ids > 1 then
    local subs = {}
    local all = cloudjobs.answer(job, ctx.now, nil, function() return "" end)
    for i, vid in ipairs(job.ids) do
      local failed = job.failed_ids and job.failed_ids[vid]
      subs[i] = { job_id = job.id .. "-" .. i, job_type = a.job_type,
                  status = all.status == "FAIL" and (failed and "FAIL" or "SUCCESS") or all.status,
                  begin_time = all.begin_time, end_time = all.end_time or "",
                  error_code = failed and "EVS.0000" or "", fail_reason = failed and
                    (a.job_type .. " of volume " .. vid .. " failed (injected failure)") or "",
                  entities = { volume_id = vid } }
    end
    entities = { sub_jobs = subs }
  end
  job.error_code = "EVS.0000"
  return 200, cloudjobs.answer(job, ctx.now, entities, function(vid)
    return a.job_type .. " of volume " .. vid .. " failed (injected failure)"
  end)
end

-- For ECS's attach and detach: the volume `id` of the project, settled,
-- or nil.
function _M.volume(store, id, now)
  settle(store, now)
  return inventory.find(volumes_of(store), id)
end

-- Whether volume `v` is attached to server `server_id`.
function _M.attached_to(v, server_id)
  for _, a in ipairs(v.attachments or {}) do
    if a.server_id == server_id then return true end
  end
  return false
end

-- An ECS attach or detach job (job.volume_id, job.detach) has started.
function _M.attach_started(store, job)
  local v = inventory.find(volumes_of(store), job.volume_id)
  if v then v.status = job.detach and "detaching" or "attaching" end
end

-- An ECS attach or detach job has ended: the volume is in-use on the
-- server (with an attachment), or available again; a failed job leaves
-- it as it was before.
function _M.attach_settled(store, job, server_id, failed)
  local v = inventory.find(volumes_of(store), job.volume_id)
  if not v then return end
  local attach = not job.detach
  if failed then attach = not attach end
  local keep = {}
  for _, a in ipairs(v.attachments or {}) do
    if a.server_id ~= server_id then keep[#keep + 1] = a end
  end
  if attach then
    keep[#keep + 1] = { id = v.id, volume_id = v.id, server_id = server_id,
                        attachment_id = util.uuid4(), host_name = "",
                        device = job.device or "/dev/vdb",
                        attached_at = util.iso8601(job.created) }
  end
  v.attachments = keep
  v.status = keep[1] and "in-use" or "available"
end

_M.routes = {
  { op = "create_volume", method = "POST", path = "/v2.1/{project_id}/cloudvolumes",
    full_request = true, handler = create_volume },
  { op = "list_volumes", method = "GET", path = "/v2/{project_id}/cloudvolumes/detail",
    handler = list_volumes },
  { op = "show_volume", method = "GET", path = "/v2/{project_id}/cloudvolumes/{volume_id}",
    handler = show_volume },
  { op = "update_volume", method = "PUT", path = "/v2/{project_id}/cloudvolumes/{volume_id}",
    full_request = true, handler = update_volume },
  { op = "delete_volume", method = "DELETE", path = "/v2/{project_id}/cloudvolumes/{volume_id}",
    handler = delete_volume },
  { op = "show_job", method = "GET", path = "/v1/{project_id}/jobs/{job_id}",
    handler = show_job },
}

return _M
