-- Elastic Cloud Servers: create, list, show, batch start/stop/reboot and
-- delete, each change a job (ShowJob, a sub-job per server). A server is
-- BUILD until its create job ends, then ACTIVE (ERROR when the job failed);
-- stop leaves it SHUTOFF, start ACTIVE, reboot REBOOT then ACTIVE; delete
-- removes it when its job ends. A job is settled the first time it is seen
-- done (read, or its server read), so state follows --job-seconds.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"
local evs = require "hwcloud.emulator.services.evs"

local null = util.null
local pairs, ipairs, type, tostring, tonumber, format, find, remove, floor =
  pairs, ipairs, type, tostring, tonumber, string.format, string.find, table.remove, math.floor

local _M = { name = "ecs" }

-- Per action: the job type, its sub-jobs' type, the status a server shows
-- while the job runs (nil: unchanged), its task_state then, and the status
-- it leaves on success (false: the server is gone).
local ACTIONS = {
  create = { job_type = "createServer", sub_type = "createSingleServer", during = "BUILD",
             task = "spawning", final = "ACTIVE", failed = "ERROR" },
  start = { job_type = "batchStartServers", sub_type = "startServer", task = "powering-on",
            final = "ACTIVE" },
  stop = { job_type = "batchStopServers", sub_type = "stopServer", task = "powering-off",
           final = "SHUTOFF" },
  reboot = { job_type = "batchRebootServers", sub_type = "rebootServer", during = "REBOOT",
             task = "rebooting", final = "ACTIVE" },
  delete = { job_type = "deleteServers", sub_type = "deleteServer", task = "deleting",
             final = false },
  -- the server's status stays; its EVS volume moves (see volume_settled)
  attach = { job_type = "attachVolume", sub_type = "attachVolume", task = "attaching_volume" },
  detach = { job_type = "detachVolume", sub_type = "detachVolume", task = "detaching_volume" },
}

local PHASE_STATUS = { waiting = "INIT", running = "RUNNING" }

local function bad(msg)
  return 400, errors.body("ecs", 400, msg, "Ecs.0005")
end

local function server_not_found(id)
  return 404, errors.body("ecs", 404, "The server " .. tostring(id) .. " does not exist",
                          "Ecs.0114")
end

local function servers_of(store)
  return inventory.of(store).ecs.servers
end

local function jobs_of(store)
  local j = store.ecs_jobs
  if not j then j = {} store.ecs_jobs = j end
  return j
end

-- Settles a job the first time it is seen done: a sub-job fails when its
-- id, its server or the job is on the fail list then; its server takes the
-- action's end state (or goes, for a delete that succeeded).
local function settle(store, job, now)
  if job.settled or jobs.phase(job.created, now) ~= "done" then return end
  job.settled = true
  local a = ACTIONS[job.action]
  local servers = servers_of(store)
  for _, sub in ipairs(job.subs) do
    sub.failed = state.should_fail(job.id, sub.id, sub.server_id, job.volume_id) and true or false
    local s, i = inventory.find(servers, sub.server_id)
    if s and s.pending_job == job.id then
      s.pending_job = nil
      if sub.failed then
        if a.failed then s.status = a.failed end
      elseif a.final == false then
        remove(servers, i)
      elseif a.final then
        s.status = a.final
        s.updated = util.iso8601(job.created + state.config.job_seconds)
      end
    end
    if job.volume_id then evs.attach_settled(store, job, sub.server_id, sub.failed) end
  end
end

local function settle_server(store, server, now)
  local job = server.pending_job and jobs_of(store)[server.pending_job]
  if job then settle(store, job, now) end
end

-- Settles every job that may have ended, so lists show what is left.
local function settle_all(store, now)
  for _, job in pairs(jobs_of(store)) do settle(store, job, now) end
end

local function server_view(ctx, s)
  local v = util.copy(s)
  v.pending_job = nil
  v.status = s.status or "ACTIVE"
  v["OS-EXT-STS:task_state"] = null
  v["OS-EXT-STS:vm_state"] = v.status == "SHUTOFF" and "stopped" or "active"
  local job = s.pending_job and jobs_of(ctx.store)[s.pending_job]
  if job then
    local a = ACTIONS[job.action]
    v.status = a.during or v.status
    v["OS-EXT-STS:task_state"] = a.task
    if a.during == "BUILD" then v["OS-EXT-STS:vm_state"] = "building" end
  end
  v.tenant_id = v.tenant_id or ctx.project_id
  v.addresses = v.addresses or {}
  v.metadata = v.metadata or {}
  v.tags = v.tags or {}
  return v
end

local function find_server(ctx, id)
  local s = inventory.find(servers_of(ctx.store), id)
  if not s then return nil end
  settle_server(ctx.store, s, ctx.now)
  -- a delete that ended took it out of the list
  return inventory.find(servers_of(ctx.store), id)
end

-- The status of the server that has address `ip` now (its job settled
-- when it ended), or nil when no server has it: what ELB members follow.
function _M.status_of_address(store, ip, now)
  settle_all(store, now)
  for _, s in ipairs(servers_of(store)) do
    for _, list in pairs(s.addresses or {}) do
      for _, a in ipairs(list) do
        if a.addr == ip then
          local job = s.pending_job and jobs_of(store)[s.pending_job]
          return job and ACTIONS[job.action].during or s.status or "ACTIVE"
        end
      end
    end
  end
  return nil
end

local function show_server(ctx)
  local s = find_server(ctx, ctx.params.server_id)
  if not s then return server_not_found(ctx.params.server_id) end
  return 200, { server = server_view(ctx, s) }
end

local function has_ip(v, ip)
  for _, list in pairs(v.addresses) do
    for _, a in ipairs(list) do if a.addr == ip then return true end end
  end
  return false
end

-- list_servers_details: filtered by name (a part of it), status,
-- server_id, flavor and ip; offset is a page number (from 1) of `limit`
-- servers (25 when left out), or marker/limit after a server's id.
local function list_servers(ctx)
  settle_all(ctx.store, ctx.now)
  local args, picked = ctx.args, {}
  for _, s in ipairs(servers_of(ctx.store)) do
    local v = server_view(ctx, s)
    if (args.name == nil or find(v.name or "", tostring(args.name), 1, true))
      and (args.status == nil or v.status == args.status)
      and (args.server_id == nil or v.id == args.server_id)
      and (args.flavor == nil or (v.flavor and v.flavor.id) == args.flavor)
      and (args.ip == nil or has_ip(v, args.ip))
      and (args.ip_eq == nil or has_ip(v, args.ip_eq)) then
      picked[#picked + 1] = v
    end
  end
  local q = { offset = args.offset, limit = args.limit or 25, marker = args.marker }
  local page, err = inventory.page(picked, q, { page = "offset", page_size = "limit",
                                                marker = true })
  if not page then return bad(err) end
  return 200, { count = #picked, servers = util.array(page) }
end

-- A job of `action` over the servers `ids`, one sub-job each; each server's
-- pending job is this one from now on.
local function new_job(ctx, action, ids)
  local all = jobs_of(ctx.store)
  local id
  repeat id = "ff80808" .. util.random_hex(13) until not all[id]
  local subs = {}
  for i = 1, #ids do
    subs[i] = { id = "ff80808" .. util.random_hex(13), server_id = ids[i] }
    local s = inventory.find(servers_of(ctx.store), ids[i])
    if s then s.pending_job = id end
  end
  all[id] = { id = id, action = action, subs = subs, created = ctx.now }
  return id
end

local function next_ip(store)
  local n = (store.ecs_next_ip or 10) + 1
  store.ecs_next_ip = n
  return format("192.168.%d.%d", floor(n / 250), n % 250 + 2)
end

-- The broken rule of a create body's server, or nil.
local function create_error(srv)
  if type(srv) ~= "table" then return "Invalid parameter server: is required" end
  if type(srv.name) ~= "string" or srv.name == "" then
    return "Invalid parameter server.name: is required"
  end
  if type(srv.flavorRef) ~= "string" or srv.flavorRef == "" then
    return "Invalid parameter server.flavorRef: is required"
  end
  local count = srv.count == nil and 1 or tonumber(srv.count)
  if not count or count < 1 or count > 500 or count % 1 ~= 0 then
    return "Invalid parameter server.count: must be a whole number from 1 to 500"
  end
  return nil
end

local function str(v, default)
  return type(v) == "string" and v or default
end

-- The record of server `i` of `count` a create makes.
local function new_server(ctx, srv, i, count)
  local nic = type(srv.nics) == "table" and srv.nics[1] or {}
  local ip = count == 1 and str(nic.ip_address) or next_ip(ctx.store)
  local created = util.iso8601(ctx.now)
  return {
    id = util.uuid4(), name = count == 1 and srv.name or format("%s-%04d", srv.name, i),
    status = "ACTIVE",
    flavor = { id = srv.flavorRef, name = srv.flavorRef },
    image = { id = str(srv.imageRef, "") },
    addresses = { [str(srv.vpcid, "vpc-default")] = { { addr = ip, version = "4",
      ["OS-EXT-IPS:type"] = "fixed", ["OS-EXT-IPS:port_id"] = util.uuid4() } } },
    created = created, updated = created,
    ["OS-EXT-AZ:availability_zone"] = str(srv.availability_zone, "az1"),
    metadata = type(srv.metadata) == "table" and srv.metadata or {},
  }
end

-- create_servers (v1.1) and create_post_paid_servers (v1): `count`
-- servers (names get -0001, -0002... when more than one), BUILD until the
-- job ends.
local function create_servers(ctx)
  local srv = ctx.body.server
  local why = create_error(srv)
  if why then return bad(why) end
  if ctx.body.dry_run == true then return 202, {} end
  local count = srv.count == nil and 1 or tonumber(srv.count)
  local ids, servers = {}, servers_of(ctx.store)
  for i = 1, count do
    local s = new_server(ctx, srv, i, count)
    servers[#servers + 1] = s
    ids[i] = s.id
  end
  return 200, { job_id = new_job(ctx, "create", ids), serverIds = ids }
end

-- The ids of a [{id}] list, or nil and the broken rule; every server must
-- exist and have no job still running.
local function server_ids(ctx, list, where)
  if type(list) ~= "table" or #list == 0 then
    return nil, 400, "Invalid parameter " .. where .. ": must be a non-empty array"
  end
  local ids = {}
  for i, item in ipairs(list) do
    if type(item) ~= "table" or type(item.id) ~= "string" then
      return nil, 400, "Invalid parameter " .. where .. "[" .. i .. "].id: is required"
    end
    local s = find_server(ctx, item.id)
    if not s then return nil, 404, item.id end
    if s.pending_job then
      return nil, 409, "The server " .. item.id .. " has a job still running"
    end
    ids[i] = item.id
  end
  return ids
end

local function act(ctx, action, list, where)
  local ids, status, msg = server_ids(ctx, list, where)
  if not ids then
    if status == 404 then return server_not_found(msg) end
    if status == 409 then return 409, errors.body("ecs", 409, msg, "Ecs.0025") end
    return bad(msg)
  end
  return 200, { job_id = new_job(ctx, action, ids) }
end

-- batch_start_servers, batch_stop_servers and batch_reboot_servers share
-- one path: the body's one key says which.
local function server_action(ctx)
  local b = ctx.body
  if type(b["os-start"]) == "table" then
    return act(ctx, "start", b["os-start"].servers, "os-start.servers")
  elseif type(b["os-stop"]) == "table" then
    return act(ctx, "stop", b["os-stop"].servers, "os-stop.servers")
  elseif type(b.reboot) == "table" then
    return act(ctx, "reboot", b.reboot.servers, "reboot.servers")
  end
  return bad("Invalid parameter: the body needs one of os-start, os-stop or reboot")
end

local function delete_servers(ctx)
  return act(ctx, "delete", ctx.body.servers, "servers")
end

-- attach_server_volume: the volume (available, in the project) becomes
-- attaching, then in-use on this server when the job ends.
local function attach_volume(ctx)
  local o = ctx.body.volumeAttachment
  local v = evs.volume(ctx.store, o.volumeId, ctx.now)
  if not v then
    return 404, errors.body("ecs", 404, "The volume " .. tostring(o.volumeId) .. " does not exist",
                            "Ecs.0060")
  end
  if v.status ~= "available" then
    return 409, errors.body("ecs", 409, "The volume " .. o.volumeId .. " is " .. tostring(v.status)
                            .. ", not available", "Ecs.0061")
  end
  local status, body = act(ctx, "attach", { { id = ctx.params.server_id } }, "server_id")
  if status ~= 200 then return status, body end
  local job = jobs_of(ctx.store)[body.job_id]
  job.volume_id, job.device = o.volumeId, type(o.device) == "string" and o.device or nil
  evs.attach_started(ctx.store, job, ctx.params.server_id)
  return 200, body
end

-- detach_server_volume: a volume attached to this server becomes
-- detaching, then available when the job ends.
local function detach_volume(ctx)
  local v = evs.volume(ctx.store, ctx.params.volume_id, ctx.now)
  if not v or not evs.attached_to(v, ctx.params.server_id) then
    return 404, errors.body("ecs", 404, "The volume " .. tostring(ctx.params.volume_id)
                            .. " is not attached to server " .. tostring(ctx.params.server_id),
                            "Ecs.0060")
  end
  local status, body = act(ctx, "detach", { { id = ctx.params.server_id } }, "server_id")
  if status ~= 200 then return status, body end
  local job = jobs_of(ctx.store)[body.job_id]
  job.volume_id, job.detach = ctx.params.volume_id, true
  evs.attach_started(ctx.store, job, ctx.params.server_id)
  return 200, body
end

local function show_job(ctx)
  local id = ctx.params.job_id
  local job = jobs_of(ctx.store)[id]
  if not job then
    return 404, errors.body("ecs", 404, "The job " .. tostring(id) .. " does not exist")
  end
  settle(ctx.store, job, ctx.now)
  local a = ACTIONS[job.action]
  local phase = jobs.phase(job.created, ctx.now)
  local begin_time = util.iso8601(job.created)
  local end_time = phase == "done" and util.iso8601(job.created + state.config.job_seconds)
                   or null
  local subs, reason = {}, null
  for i, sub in ipairs(job.subs) do
    local status, code, why = PHASE_STATUS[phase], null, null
    if phase == "done" then
      status = sub.failed and "FAIL" or "SUCCESS"
      if sub.failed then
        code = "Ecs.0000"
        why = a.sub_type .. " of server " .. sub.server_id .. " failed (injected failure)"
        if reason == null then reason = why end
      end
    end
    subs[i] = { job_id = sub.id, job_type = a.sub_type, status = status,
                begin_time = begin_time, end_time = end_time, error_code = code,
                fail_reason = why, entities = { server_id = sub.server_id } }
  end
  local status = PHASE_STATUS[phase]
  if phase == "done" then status = reason == null and "SUCCESS" or "FAIL" end
  return 200, {
    job_id = job.id, job_type = a.job_type, status = status, begin_time = begin_time,
    end_time = end_time, error_code = reason == null and null or "Ecs.0000",
    fail_reason = reason, entities = { sub_jobs_total = #subs, sub_jobs = util.array(subs) },
  }
end

-- the three actions' bodies differ: any object, told apart by its key
local ANY = { type = "object" }

_M.routes = {
  { op = "create_servers", method = "POST", path = "/v1.1/{project_id}/cloudservers",
    full_request = true, handler = create_servers },
  { op = "create_post_paid_servers", method = "POST", path = "/v1/{project_id}/cloudservers",
    full_request = true, handler = create_servers },
  { op = "list_servers_details", method = "GET", path = "/v1/{project_id}/cloudservers/detail",
    handler = list_servers },
  { op = "show_server", method = "GET", path = "/v1/{project_id}/cloudservers/{server_id}",
    handler = show_server },
  { op = "batch_start_servers", method = "POST", path = "/v1/{project_id}/cloudservers/action",
    body = ANY, handler = server_action },
  { op = "delete_servers", method = "POST", path = "/v1/{project_id}/cloudservers/delete",
    full_request = true, handler = delete_servers },
  { op = "show_job", method = "GET", path = "/v1/{project_id}/jobs/{job_id}",
    handler = show_job },
  { op = "attach_server_volume", method = "POST",
    path = "/v1/{project_id}/cloudservers/{server_id}/attachvolume", full_request = true,
    handler = attach_volume },
  { op = "detach_server_volume", method = "DELETE",
    path = "/v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}",
    handler = detach_volume },
}

return _M
