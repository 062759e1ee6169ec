-- Elastic Load Balance v3: load balancers, listeners, pools, health
-- monitors and members, each created, listed (marker/limit pages with
-- page_info), shown, updated and deleted; the answers are the
-- descriptions' objects.
--
-- A load balancer is PENDING_CREATE until --job-seconds have passed since
-- its creation, then ACTIVE (ERROR when its id was on the fail list then);
-- batch_delete_loadbalancers makes them PENDING_DELETE until its job
-- (show_job) ends, then takes them away;
-- one that still has listeners or pools is not deleted (409), nor a pool
-- that still has members or a health monitor (the *_cascade operations
-- are for those).
--
-- A member's operating_status is worked out whenever it is read, as the
-- service reports it: UNKNOWN while its pool belongs to no load balancer,
-- NO_MONITOR while the pool has no health monitor (or it is disabled),
-- else ONLINE while its address belongs to an ACTIVE ECS server of the
-- project, OFFLINE otherwise (or when admin_state_up is false).

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local inventory = require "hwcloud.emulator.inventory"
local state = require "hwcloud.emulator.state"
local shapes = require "hwcloud.emulator.shapes"
local ecs = require "hwcloud.emulator.services.ecs"
local jobs = require "hwcloud.emulator.jobs"

local type, ipairs, pairs, tostring, remove, format, floor = type, ipairs, pairs, tostring,
  table.remove, string.format, math.floor

local _M = { name = "elb" }

local function bad(msg)
  return 400, errors.body("elb", 400, msg, "ELB.8902")
end

-- what the error says a kind is called
local TITLE = { loadbalancers = "Loadbalancer", listeners = "Listener", pools = "Pool",
                healthmonitors = "Healthmonitor", members = "Member" }

local function not_found(kind, id)
  return 404, errors.body("elb", 404, format("%s %s could not be found.", TITLE[kind],
                                             tostring(id)), "ELB.8904")
end

local function conflict(msg)
  return 409, errors.body("elb", 409, msg, "ELB.8907")
end

-- The project's records of a kind: the inventory's elb section.
local function list_of(ctx, kind)
  return inventory.of(ctx.store).elb[kind]
end

local settle_jobs -- (below) batch deletes that ended

local function find(ctx, kind, id)
  if kind == "loadbalancers" then settle_jobs(ctx) end
  return inventory.find(list_of(ctx, kind), id)
end

local function refs(ids)
  local out = {}
  for i, id in ipairs(ids) do out[i] = { id = id } end
  return out
end

local function ids_where(ctx, kind, pick)
  local out = {}
  for _, r in ipairs(list_of(ctx, kind)) do
    if pick(r) then out[#out + 1] = r.id end
  end
  return out
end

local function stamp(ctx)
  return util.iso8601(ctx.now)
end

local function str(v, default)
  if type(v) == "string" then return v end
  return default
end

-- Load balancers ---------------------------------------------------------

-- PENDING_CREATE until its create has had --job-seconds, then ACTIVE or
-- (on the fail list then) ERROR, settled the first time it is seen.
local function settle_lb(lb, now)
  if lb.provisioning_status ~= "PENDING_CREATE" then return end
  -- an inventory's PENDING_CREATE starts its time when first seen
  if not lb._created then lb._created = now end
  local born = lb._created
  if now - born < state.config.job_seconds then return end
  lb.provisioning_status = state.should_fail(lb.id, lb.name) and "ERROR" or "ACTIVE"
  lb.operating_status = lb.provisioning_status == "ACTIVE" and "ONLINE" or "OFFLINE"
  lb.updated_at = util.iso8601(born + state.config.job_seconds)
end

local function lb_view(ctx, lb)
  settle_lb(lb, ctx.now)
  local v = shapes.view(shapes.schema("elb", "show_load_balancer", "loadbalancer"), lb)
  v.provisioning_status = lb.provisioning_status or "ACTIVE"
  v.operating_status = lb.operating_status or "ONLINE"
  v.project_id = lb.project_id or ctx.project_id
  v.listeners = util.array(refs(ids_where(ctx, "listeners", function(l)
    return l.loadbalancer_id == lb.id end)))
  v.pools = util.array(refs(ids_where(ctx, "pools", function(p)
    return p.loadbalancer_id == lb.id end)))
  return v
end

local function create_lb(ctx)
  local o = ctx.body.loadbalancer
  local now = stamp(ctx)
  local rec = {
    id = util.uuid4(), name = str(o.name, ""), description = str(o.description, ""),
    availability_zone_list = o.availability_zone_list,
    vip_subnet_cidr_id = str(o.vip_subnet_cidr_id, ""), vpc_id = str(o.vpc_id, ""),
    vip_address = str(o.vip_address, ""),
    elb_virsubnet_ids = type(o.elb_virsubnet_ids) == "table" and o.elb_virsubnet_ids or {},
    l4_flavor_id = str(o.l4_flavor_id, ""), l7_flavor_id = str(o.l7_flavor_id, ""),
    admin_state_up = o.admin_state_up ~= false, guaranteed = o.guaranteed ~= false,
    provider = str(o.provider, "vlb"), ip_target_enable = o.ip_target_enable == true,
    tags = type(o.tags) == "table" and o.tags or {},
    enterprise_project_id = str(o.enterprise_project_id, "0"),
    elb_virsubnet_type = "ipv4", billing_info = "",
    provisioning_status = "PENDING_CREATE", operating_status = "OFFLINE",
    project_id = ctx.project_id, created_at = now, updated_at = now, _created = ctx.now,
  }
  if rec.vip_address == "" and rec.vip_subnet_cidr_id ~= "" then
    local n = #list_of(ctx, "loadbalancers") + 1
    rec.vip_address = format("192.168.%d.%d", 100 + floor(n / 250), n % 250 + 2)
  end
  local list = list_of(ctx, "loadbalancers")
  list[#list + 1] = rec
  return 201, { loadbalancer = lb_view(ctx, rec), loadbalancer_id = rec.id,
                request_id = ctx.request_id }
end

local function show_lb(ctx)
  local lb = find(ctx, "loadbalancers", ctx.params.loadbalancer_id)
  if not lb then return not_found("loadbalancers", ctx.params.loadbalancer_id) end
  return 200, { loadbalancer = lb_view(ctx, lb), request_id = ctx.request_id }
end

-- Fields an update may change: every field of the update's option that
-- the record shows, never its id.
local function merge(rec, given, ctx)
  if type(given) ~= "table" then return end
  for k, v in pairs(given) do
    if type(k) == "string" and k ~= "id" and not k:find("^_%a") then rec[k] = v end
  end
  rec.updated_at = stamp(ctx)
end

local function update_lb(ctx)
  local lb = find(ctx, "loadbalancers", ctx.params.loadbalancer_id)
  if not lb then return not_found("loadbalancers", ctx.params.loadbalancer_id) end
  merge(lb, ctx.body.loadbalancer, ctx)
  return 200, { loadbalancer = lb_view(ctx, lb), request_id = ctx.request_id }
end

local function delete_lb(ctx)
  local id = ctx.params.loadbalancer_id
  local lb, i = find(ctx, "loadbalancers", id)
  if not lb then return not_found("loadbalancers", id) end
  local v = lb_view(ctx, lb)
  if v.listeners ~= util.EMPTY_ARRAY or v.pools ~= util.EMPTY_ARRAY then
    return conflict(format("Loadbalancer %s still has listeners or pools.", id))
  end
  remove(list_of(ctx, "loadbalancers"), i)
  return 204, nil
end

local function list_view(ctx, kind, view, field)
  settle_jobs(ctx)
  local views, recs = {}, list_of(ctx, kind)
  for i, r in ipairs(recs) do views[i] = view(ctx, r) end
  local page, info = shapes.page(views, ctx.args, recs)
  if not page then return bad(info) end
  return 200, { [field] = page, page_info = info, request_id = ctx.request_id }
end

-- Listeners --------------------------------------------------------------

local function listener_view(ctx, l)
  local v = shapes.view(shapes.schema("elb", "show_listener", "listener"), l)
  v.loadbalancers = util.array(refs { l.loadbalancer_id })
  v.loadbalancer_id = nil
  v.project_id = l.project_id or ctx.project_id
  return v
end

local function port_error(port, where)
  if port ~= nil and (type(port) ~= "number" or port < 0 or port > 65535 or port % 1 ~= 0) then
    return "Invalid parameter " .. where .. ": must be a whole number from 0 to 65535"
  end
  return nil
end

local function create_listener(ctx)
  local o = ctx.body.listener
  local why = port_error(o.protocol_port, "listener.protocol_port")
  if why then return bad(why) end
  if not find(ctx, "loadbalancers", o.loadbalancer_id) then
    return not_found("loadbalancers", o.loadbalancer_id)
  end
  if o.default_pool_id and not find(ctx, "pools", o.default_pool_id) then
    return not_found("pools", o.default_pool_id)
  end
  for _, l in ipairs(list_of(ctx, "listeners")) do
    if l.loadbalancer_id == o.loadbalancer_id and o.protocol_port ~= nil
      and l.protocol_port == o.protocol_port then
      return conflict(format("Listener port %d is already in use on loadbalancer %s.",
                             o.protocol_port, o.loadbalancer_id))
    end
  end
  local now = stamp(ctx)
  local rec = {
    id = util.uuid4(), name = str(o.name, ""), description = str(o.description, ""),
    loadbalancer_id = o.loadbalancer_id, protocol = o.protocol,
    protocol_port = o.protocol_port or 0, default_pool_id = str(o.default_pool_id, ""),
    admin_state_up = o.admin_state_up ~= false, connection_limit = -1,
    http2_enable = o.http2_enable == true, keepalive_timeout = o.keepalive_timeout or 60,
    client_timeout = o.client_timeout or 60, member_timeout = o.member_timeout or 60,
    enterprise_project_id = str(o.enterprise_project_id, "0"),
    sni_container_refs = type(o.sni_container_refs) == "table" and o.sni_container_refs or {},
    tags = type(o.tags) == "table" and o.tags or {},
    project_id = ctx.project_id, created_at = now, updated_at = now,
  }
  local list = list_of(ctx, "listeners")
  list[#list + 1] = rec
  return 201, { listener = listener_view(ctx, rec), request_id = ctx.request_id }
end

local function show_listener(ctx)
  local l = find(ctx, "listeners", ctx.params.listener_id)
  if not l then return not_found("listeners", ctx.params.listener_id) end
  return 200, { listener = listener_view(ctx, l), request_id = ctx.request_id }
end

local function update_listener(ctx)
  local l = find(ctx, "listeners", ctx.params.listener_id)
  if not l then return not_found("listeners", ctx.params.listener_id) end
  local o = ctx.body.listener
  if type(o) == "table" and type(o.default_pool_id) == "string" and o.default_pool_id ~= ""
    and not find(ctx, "pools", o.default_pool_id) then
    return not_found("pools", o.default_pool_id)
  end
  merge(l, o, ctx)
  return 200, { listener = listener_view(ctx, l), request_id = ctx.request_id }
end

local function delete_listener(ctx)
  local id = ctx.params.listener_id
  local l, i = find(ctx, "listeners", id)
  if not l then return not_found("listeners", id) end
  remove(list_of(ctx, "listeners"), i)
  -- its pools stay, no longer behind it
  for _, p in ipairs(list_of(ctx, "pools")) do
    if p.listener_id == id then p.listener_id = nil end
  end
  return 204, nil
end

-- Pools ------------------------------------------------------------------

-- The listeners that send to pool `p`: the one it was made for, and those
-- whose default pool it is.
local function listeners_of(ctx, p)
  return ids_where(ctx, "listeners", function(l)
    return l.default_pool_id == p.id or p.listener_id == l.id
  end)
end

local function monitor_of(ctx, p)
  for _, h in ipairs(list_of(ctx, "healthmonitors")) do
    if h.pool_id == p.id then return h end
  end
  return nil
end

local function members_in(ctx, pool_id)
  return ids_where(ctx, "members", function(m) return m.pool_id == pool_id end)
end

local function pool_view(ctx, p)
  local v = shapes.view(shapes.schema("elb", "show_pool", "pool"), p)
  v.loadbalancer_id, v.listener_id = nil, nil
  v.loadbalancers = util.array(p.loadbalancer_id and refs { p.loadbalancer_id } or {})
  v.listeners = util.array(refs(listeners_of(ctx, p)))
  v.members = util.array(refs(members_in(ctx, p.id)))
  local h = monitor_of(ctx, p)
  v.healthmonitor_id = h and h.id or ""
  v.project_id = p.project_id or ctx.project_id
  return v
end

local function create_pool(ctx)
  local o = ctx.body.pool
  local lb_id = o.loadbalancer_id
  if o.listener_id then
    local l = find(ctx, "listeners", o.listener_id)
    if not l then return not_found("listeners", o.listener_id) end
    if lb_id and lb_id ~= l.loadbalancer_id then
      return bad("Invalid parameter pool.loadbalancer_id: the listener is on another loadbalancer")
    end
    lb_id = l.loadbalancer_id
  end
  if lb_id and not find(ctx, "loadbalancers", lb_id) then
    return not_found("loadbalancers", lb_id)
  end
  if not lb_id and not (o.type and o.vpc_id) then
    return bad("Invalid parameter pool: needs loadbalancer_id, listener_id, or type and vpc_id")
  end
  local now = stamp(ctx)
  local rec = {
    id = util.uuid4(), name = str(o.name, ""), description = str(o.description, ""),
    lb_algorithm = o.lb_algorithm, protocol = o.protocol, loadbalancer_id = lb_id,
    listener_id = o.listener_id, admin_state_up = o.admin_state_up ~= false,
    ip_version = str(o.ip_version, "v4"), type = str(o.type, ""), vpc_id = str(o.vpc_id, ""),
    session_persistence = type(o.session_persistence) == "table" and o.session_persistence or nil,
    slow_start = type(o.slow_start) == "table" and o.slow_start
      or { enable = false, duration = 30 },
    member_deletion_protection_enable = o.member_deletion_protection_enable == true,
    enterprise_project_id = str(o.enterprise_project_id, "0"),
    project_id = ctx.project_id, created_at = now, updated_at = now,
  }
  local list = list_of(ctx, "pools")
  list[#list + 1] = rec
  if o.listener_id then
    local l = find(ctx, "listeners", o.listener_id)
    if l.default_pool_id == "" or l.default_pool_id == nil then l.default_pool_id = rec.id end
  end
  return 201, { pool = pool_view(ctx, rec), request_id = ctx.request_id }
end

local function show_pool(ctx)
  local p = find(ctx, "pools", ctx.params.pool_id)
  if not p then return not_found("pools", ctx.params.pool_id) end
  return 200, { pool = pool_view(ctx, p), request_id = ctx.request_id }
end

local function update_pool(ctx)
  local p = find(ctx, "pools", ctx.params.pool_id)
  if not p then return not_found("pools", ctx.params.pool_id) end
  merge(p, ctx.body.pool, ctx)
  return 200, { pool = pool_view(ctx, p), request_id = ctx.request_id }
end

local function delete_pool(ctx)
  local id = ctx.params.pool_id
  local p, i = find(ctx, "pools", id)
  if not p then return not_found("pools", id) end
  if members_in(ctx, id)[1] or monitor_of(ctx, p) then
    return conflict(format("Pool %s still has members or a healthmonitor.", id))
  end
  remove(list_of(ctx, "pools"), i)
  for _, l in ipairs(list_of(ctx, "listeners")) do
    if l.default_pool_id == id then l.default_pool_id = "" end
  end
  return 204, nil
end

-- Health monitors --------------------------------------------------------

local function monitor_view(ctx, h)
  local v = shapes.view(shapes.schema("elb", "show_health_monitor", "healthmonitor"), h)
  v.pool_id = nil
  v.pools = util.array(refs { h.pool_id })
  v.project_id = h.project_id or ctx.project_id
  return v
end

local function create_monitor(ctx)
  local o = ctx.body.healthmonitor
  local p = find(ctx, "pools", o.pool_id)
  if not p then return not_found("pools", o.pool_id) end
  if monitor_of(ctx, p) then
    return conflict(format("Pool %s already has a healthmonitor.", o.pool_id))
  end
  local why = port_error(o.monitor_port, "healthmonitor.monitor_port")
  if why then return bad(why) end
  local now = stamp(ctx)
  local rec = {
    id = util.uuid4(), name = str(o.name, ""), pool_id = o.pool_id, type = o.type,
    delay = o.delay, timeout = o.timeout, max_retries = o.max_retries,
    max_retries_down = o.max_retries_down or 3, monitor_port = o.monitor_port or 0,
    admin_state_up = o.admin_state_up ~= false, url_path = str(o.url_path, "/"),
    http_method = str(o.http_method, "GET"), expected_codes = str(o.expected_codes, "200"),
    domain_name = str(o.domain_name, ""),
    project_id = ctx.project_id, created_at = now, updated_at = now,
  }
  local list = list_of(ctx, "healthmonitors")
  list[#list + 1] = rec
  return 201, { healthmonitor = monitor_view(ctx, rec), request_id = ctx.request_id }
end

local function show_monitor(ctx)
  local h = find(ctx, "healthmonitors", ctx.params.healthmonitor_id)
  if not h then return not_found("healthmonitors", ctx.params.healthmonitor_id) end
  return 200, { healthmonitor = monitor_view(ctx, h), request_id = ctx.request_id }
end

local function update_monitor(ctx)
  local h = find(ctx, "healthmonitors", ctx.params.healthmonitor_id)
  if not h then return not_found("healthmonitors", ctx.params.healthmonitor_id) end
  local o = ctx.body.healthmonitor
  if type(o) == "table" then o.pool_id = nil end
  merge(h, o, ctx)
  return 200, { healthmonitor = monitor_view(ctx, h), request_id = ctx.request_id }
end

local function delete_monitor(ctx)
  local _, i = find(ctx, "healthmonitors", ctx.params.healthmonitor_id)
  if not i then return not_found("healthmonitors", ctx.params.healthmonitor_id) end
  remove(list_of(ctx, "healthmonitors"), i)
  return 204, nil
end

-- Members ----------------------------------------------------------------

-- The member's health as the service reports it (see the top).
local function health(ctx, p, m)
  if not p or not p.loadbalancer_id then return "UNKNOWN" end
  local h = monitor_of(ctx, p)
  if not h or h.admin_state_up == false then return "NO_MONITOR" end
  if m.admin_state_up == false then return "OFFLINE" end
  local online = ecs.status_of_address(ctx.store, m.address, ctx.now) == "ACTIVE"
  return online and "ONLINE" or "OFFLINE"
end

local function member_view(ctx, m)
  local p = find(ctx, "pools", m.pool_id)
  local v = shapes.view(shapes.schema("elb", "show_member", "member"), m)
  v.pool_id = nil
  local status = health(ctx, p, m)
  v.operating_status = status
  local per = {}
  for i, lid in ipairs(p and listeners_of(ctx, p) or {}) do
    per[i] = { listener_id = lid, operating_status = status }
  end
  v.status = util.array(per)
  v.project_id = m.project_id or ctx.project_id
  return v
end

-- The pool the path names, or nil and its 404.
local function path_pool(ctx)
  local p = find(ctx, "pools", ctx.params.pool_id)
  if p then return p end
  return nil, not_found("pools", ctx.params.pool_id)
end

-- The broken rule of a create_member body's member, or nil.
local function member_error(m)
  if type(m) ~= "table" then return "Invalid parameter member: is required" end
  if type(m.address) ~= "string" or m.address == "" then
    return "Invalid parameter member.address: is required"
  end
  local port = m.protocol_port
  if port ~= nil and (type(port) ~= "number" or port < 1 or port > 65535 or port % 1 ~= 0) then
    return "Invalid parameter member.protocol_port: must be a whole number from 1 to 65535"
  end
  return nil
end

local function create_member(ctx)
  local m = ctx.body.member
  local why = member_error(m)
  if why then return bad(why) end
  local port = m.protocol_port
  local p, s, e = path_pool(ctx)
  if not p then return s, e end
  for _, other in ipairs(list_of(ctx, "members")) do
    if other.pool_id == p.id and other.address == m.address and other.protocol_port == port then
      return conflict(format("Member %s:%s is already in pool %s.", m.address, tostring(port),
                             p.id))
    end
  end
  local rec = {
    id = util.uuid4(), name = type(m.name) == "string" and m.name or "",
    address = m.address, protocol_port = port, weight = m.weight or 1,
    subnet_cidr_id = str(m.subnet_cidr_id),
    admin_state_up = m.admin_state_up ~= false, pool_id = p.id,
    project_id = ctx.project_id, provisioning_status = "ACTIVE",
    availability_zone = str(m.availability_zone, ""),
    member_type = m.subnet_cidr_id and "instance" or "ip",
    ip_version = m.address:find(":", 1, true) and "v6" or "v4",
    created_at = stamp(ctx), updated_at = stamp(ctx),
  }
  local list = list_of(ctx, "members")
  list[#list + 1] = rec
  return 201, { member = member_view(ctx, rec), request_id = ctx.request_id }
end

local function path_member(ctx)
  local p, s, e = path_pool(ctx)
  if not p then return nil, s, e end
  local m, i = find(ctx, "members", ctx.params.member_id)
  if not m or m.pool_id ~= p.id then return nil, not_found("members", ctx.params.member_id) end
  return m, i
end

local function show_member(ctx)
  local m, s, e = path_member(ctx)
  if not m then return s, e end
  return 200, { member = member_view(ctx, m), request_id = ctx.request_id }
end

local function update_member(ctx)
  local m, s, e = path_member(ctx)
  if not m then return s, e end
  local o = ctx.body.member
  if type(o) == "table" then o.address, o.protocol_port, o.pool_id = nil, nil, nil end
  merge(m, o, ctx)
  return 200, { member = member_view(ctx, m), request_id = ctx.request_id }
end

local function delete_member(ctx)
  local m, i, e = path_member(ctx)
  if not m then return i, e end
  remove(list_of(ctx, "members"), i)
  return 204, nil
end

-- list_members: marker/limit pages; filters by any plain field
-- (address, operating_status, ...).
local function list_members(ctx)
  local p, s, e = path_pool(ctx)
  if not p then return s, e end
  local views = {}
  for _, m in ipairs(list_of(ctx, "members")) do
    if m.pool_id == p.id then views[#views + 1] = member_view(ctx, m) end
  end
  local page, info = shapes.page(views, ctx.args)
  if not page then return bad(info) end
  return 200, { members = page, page_info = info, request_id = ctx.request_id }
end

-- Jobs ---------------------------------------------------------------------

-- The project's ELB jobs: { id, job_type, ids (its load balancers),
-- created, settled, failed }.
local function jobs_of(ctx)
  local all = ctx.store.elb_jobs
  if not all then all = {} ctx.store.elb_jobs = all end
  return all
end

-- Settles the jobs that ended: a batch delete takes its load balancers
-- away, or (failed: the job's or a load balancer's id on the fail list)
-- leaves them as they were.
settle_jobs = function(ctx)
  for _, job in pairs(jobs_of(ctx)) do
    if not job.settled and jobs.phase(job.created, ctx.now) == "done" then
      job.settled = true
      job.failed = state.should_fail(job.id) or false
      for _, id in ipairs(job.ids) do
        job.failed = job.failed or state.should_fail(id)
      end
      local list = list_of(ctx, "loadbalancers")
      for _, id in ipairs(job.ids) do
        local lb, i = inventory.find(list, id)
        if lb and job.failed then
          lb.provisioning_status = lb._was
        elseif lb then
          remove(list, i)
        end
      end
    end
  end
end

-- batch_delete_loadbalancers: every load balancer must exist and have no
-- listener; they are PENDING_DELETE until the job ends, then gone.
local function batch_delete_lbs(ctx)
  settle_jobs(ctx)
  local ids = ctx.body.loadbalancer_ids
  if type(ids) ~= "table" or not ids[1] then
    return bad("Invalid parameter loadbalancer_ids: must be a non-empty array")
  end
  for _, id in ipairs(ids) do
    local lb = find(ctx, "loadbalancers", id)
    if not lb then return not_found("loadbalancers", id) end
    if lb.provisioning_status == "PENDING_DELETE" then
      return conflict(format("Loadbalancer %s is being deleted.", id))
    end
    if ids_where(ctx, "listeners", function(l) return l.loadbalancer_id == id end)[1] then
      return conflict(format("Loadbalancer %s still has listeners.", id))
    end
  end
  local all = jobs_of(ctx)
  local job_id
  repeat job_id = util.uuid4() until not all[job_id]
  all[job_id] = { id = job_id, job_type = "batchDeleteLoadbalancers", ids = ids,
                  created = ctx.now }
  for _, id in ipairs(ids) do
    local lb = find(ctx, "loadbalancers", id)
    settle_lb(lb, ctx.now)
    lb._was, lb.provisioning_status = lb.provisioning_status, "PENDING_DELETE"
  end
  return 200, { job_id = job_id, loadbalancer_ids = ids, request_id = ctx.request_id }
end

local JOB_STATUS = { waiting = "INIT", running = "RUNNING" }

-- show_job: {job = {job_id, job_type, status, begin_time, end_time,
-- resource_id, error_code, error_msg, sub_jobs (one per load balancer)}}
local function show_job(ctx)
  settle_jobs(ctx)
  local job = jobs_of(ctx)[ctx.params.job_id]
  if not job then
    return 404, errors.body("elb", 404, "Job " .. tostring(ctx.params.job_id)
                            .. " could not be found.", "ELB.8904")
  end
  local phase = jobs.phase(job.created, ctx.now)
  local status = JOB_STATUS[phase] or (job.failed and "FAIL" or "SUCCESS")
  local begin_time = util.iso8601(job.created)
  local end_time = phase == "done" and util.iso8601(job.created + state.config.job_seconds) or ""
  local subs = {}
  for i, id in ipairs(job.ids) do
    subs[i] = { job_id = job.id .. "-" .. i, job_type = "deleteLoadbalancer", status = status,
                resource_id = id, begin_time = begin_time, end_time = end_time,
                project_id = ctx.project_id, entities = util.array({}) }
  end
  local out = { job_id = job.id, job_type = job.job_type, status = status,
                resource_id = job.ids[1], begin_time = begin_time, end_time = end_time,
                project_id = ctx.project_id, sub_jobs = subs }
  if status == "FAIL" then
    out.error_code = "ELB.9000"
    out.error_msg = "deleting loadbalancers " .. table.concat(job.ids, ", ")
      .. " failed (injected failure)"
  end
  return 200, { job = out, request_id = ctx.request_id }
end

local function lister(kind, view, field)
  return function(ctx) return list_view(ctx, kind, view, field) end
end

local V3 = "/v3/{project_id}/elb"

_M.routes = {
  { op = "create_load_balancer", method = "POST", path = V3 .. "/loadbalancers",
    full_request = true, handler = create_lb },
  { op = "list_load_balancers", method = "GET", path = V3 .. "/loadbalancers",
    handler = lister("loadbalancers", lb_view, "loadbalancers") },
  { op = "show_load_balancer", method = "GET", path = V3 .. "/loadbalancers/{loadbalancer_id}",
    handler = show_lb },
  { op = "update_load_balancer", method = "PUT", path = V3 .. "/loadbalancers/{loadbalancer_id}",
    full_request = true, handler = update_lb },
  { op = "delete_load_balancer", method = "DELETE",
    path = V3 .. "/loadbalancers/{loadbalancer_id}", handler = delete_lb },
  { op = "batch_delete_loadbalancers", method = "POST", path = V3 .. "/loadbalancers/batch-delete",
    full_request = true, handler = batch_delete_lbs },
  { op = "show_job", method = "GET", path = V3 .. "/jobs/{job_id}", handler = show_job },

  { op = "create_listener", method = "POST", path = V3 .. "/listeners",
    full_request = true, handler = create_listener },
  { op = "list_listeners", method = "GET", path = V3 .. "/listeners",
    handler = lister("listeners", listener_view, "listeners") },
  { op = "show_listener", method = "GET", path = V3 .. "/listeners/{listener_id}",
    handler = show_listener },
  { op = "update_listener", method = "PUT", path = V3 .. "/listeners/{listener_id}",
    full_request = true, handler = update_listener },
  { op = "delete_listener", method = "DELETE", path = V3 .. "/listeners/{listener_id}",
    handler = delete_listener },

  { op = "create_pool", method = "POST", path = V3 .. "/pools", full_request = true,
    handler = create_pool },
  { op = "list_pools", method = "GET", path = V3 .. "/pools",
    handler = lister("pools", pool_view, "pools") },
  { op = "show_pool", method = "GET", path = V3 .. "/pools/{pool_id}", handler = show_pool },
  { op = "update_pool", method = "PUT", path = V3 .. "/pools/{pool_id}", full_request = true,
    handler = update_pool },
  { op = "delete_pool", method = "DELETE", path = V3 .. "/pools/{pool_id}",
    handler = delete_pool },

  { op = "create_health_monitor", method = "POST", path = V3 .. "/healthmonitors",
    full_request = true, handler = create_monitor },
  { op = "list_health_monitors", method = "GET", path = V3 .. "/healthmonitors",
    handler = lister("healthmonitors", monitor_view, "healthmonitors") },
  { op = "show_health_monitor", method = "GET", path = V3 .. "/healthmonitors/{healthmonitor_id}",
    handler = show_monitor },
  { op = "update_health_monitor", method = "PUT",
    path = V3 .. "/healthmonitors/{healthmonitor_id}", full_request = true,
    handler = update_monitor },
  { op = "delete_health_monitor", method = "DELETE",
    path = V3 .. "/healthmonitors/{healthmonitor_id}", handler = delete_monitor },

  { op = "create_member", method = "POST", path = V3 .. "/pools/{pool_id}/members",
    body = { type = "object" }, handler = create_member },
  { op = "list_members", method = "GET", path = V3 .. "/pools/{pool_id}/members",
    handler = list_members },
  { op = "show_member", method = "GET", path = V3 .. "/pools/{pool_id}/members/{member_id}",
    handler = show_member },
  { op = "update_member", method = "PUT", path = V3 .. "/pools/{pool_id}/members/{member_id}",
    full_request = true, handler = update_member },
  { op = "delete_member", method = "DELETE",
    path = V3 .. "/pools/{pool_id}/members/{member_id}", handler = delete_member },
}

return _M
