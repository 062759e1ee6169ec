-- Cloud Container Engine v3: clusters, node pools and nodes, each change a
-- job (ShowJob: status.phase Initializing, Running, then Success or
-- Failed; a sub-job per node). A cluster is Creating until its job ends,
-- then Available (Error when it failed), Deleting then gone; Resizing
-- while a resize runs. A node is Build, then Installing, then Active
-- (Error when its sub-job failed), Deleting then gone. A node pool is
-- Synchronizing while its nodes are made or removed, then Synchronized
-- (Error when one of them failed), Deleting then gone. Scaling a pool is
-- update_node_pool with another spec.initialNodeCount. Each operation's
-- answer spells the job id as its description does: status.jobID (cluster
-- and node answers), status.jobId (node pools), jobid
-- (add_nodes_to_node_pool), jobID (resize_cluster). Jobs settle the first
-- time they are seen done, so state follows --job-seconds; POST
-- /_emulator/fail fails a job, a sub-job, or the work on one resource.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local inventory = require "hwcloud.emulator.inventory"

local pairs, ipairs, type, tostring, tonumber, next, remove, floor, max, format, byte, sub =
  pairs, ipairs, type, tostring, tonumber, next, table.remove, math.floor, math.max,
  string.format, string.byte, string.sub

local null, array, copy, iso = util.null, util.array, util.copy, util.iso8601

local _M = { name = "cce" }

local API = "v3"

local JOB_PHASE = { waiting = "Initializing", running = "Running" }

-- Per action: the job's type, its sub-jobs' type, and the phase its
-- resources show while it runs (per job phase for nodes being made).
local ACTIONS = {
  create_cluster = { type = "CreateCluster", cluster = "Creating" },
  delete_cluster = { type = "DeleteCluster", cluster = "Deleting" },
  resize_cluster = { type = "ResizeCluster", cluster = "Resizing" },
  create_nodes = { type = "CreateNode", sub = "CreateNode", pool = "Synchronizing",
                   node = { waiting = "Build", running = "Installing" } },
  scale_up = { type = "ScaleUpNodePool", sub = "CreateNode", pool = "Synchronizing",
               node = { waiting = "Build", running = "Installing" } },
  add_nodes = { type = "AddNodesToNodePool", sub = "AddNode", pool = "Synchronizing",
                node = { waiting = "Installing", running = "Installing" } },
  delete_nodes = { type = "DeleteNode", sub = "DeleteNode", pool = "Synchronizing",
                   node = { waiting = "Deleting", running = "Deleting" } },
  scale_down = { type = "ScaleDownNodePool", sub = "DeleteNode", pool = "Synchronizing",
                 node = { waiting = "Deleting", running = "Deleting" } },
  delete_pool = { type = "DeleteNodePool", sub = "DeleteNode", pool = "Deleting",
                  node = { waiting = "Deleting", running = "Deleting" } },
}

local function err(status, msg, code)
  return status, errors.body("cce", status, msg, code or ("CCE.01" .. status .. "001"))
end

local function bad(msg) return err(400, msg) end

local function not_found(what, id)
  return err(404, "Resource not found: " .. what .. " " .. tostring(id))
end

local function busy(what, id)
  return err(409, "The " .. what .. " " .. tostring(id) .. " has a job still running")
end

local function cce_of(store) return inventory.of(store).cce end

local function jobs_of(store)
  local j = store.cce_jobs
  if not j then j = {} store.cce_jobs = j end
  return j
end

-- Fills what `t` lacks from `defaults` (objects deeply, lists as given).
local function fill(t, defaults)
  for k, v in pairs(defaults) do
    if t[k] == nil or t[k] == null then
      t[k] = copy(v)
    elseif type(t[k]) == "table" and type(v) == "table" and v[1] == nil and next(v) ~= nil then
      fill(t[k], v)
    end
  end
  return t
end

local LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"

local function suffix()
  local h, out = util.random_hex(5), {}
  for i = 1, 5 do
    local n = byte(h, i) % #LOWER + 1
    out[i] = sub(LOWER, n, n)
  end
  return table.concat(out)
end

local function next_ip(store)
  local n = (store.cce_next_ip or 10) + 1
  store.cce_next_ip = n
  return format("10.0.%d.%d", floor(n / 250), n % 250 + 2)
end

-- Jobs ---------------------------------------------------------------------

local function new_id(all)
  local id
  repeat id = util.uuid4() until not all[id]
  return id
end

-- A job of `action` on a resource; `subs` a list of { resource_id,
-- resource_name } (one sub-job each). Sub-jobs are jobs too (show_job
-- answers them).
local function new_job(ctx, action, cluster_id, resource_id, resource_name, subs, extra)
  local all = jobs_of(ctx.store)
  local id = new_id(all)
  local job = { id = id, action = action, cluster_id = cluster_id, resource_id = resource_id,
                resource_name = resource_name, created = ctx.now, subs = {} }
  all[id] = job
  for i, s in ipairs(subs or {}) do
    local sid = new_id(all)
    job.subs[i] = { id = sid, resource_id = s.resource_id, resource_name = s.resource_name }
    all[sid] = { parent = id, index = i }
  end
  for k, v in pairs(extra or {}) do job[k] = v end
  return job
end

local function cluster_items(cluster_id, list)
  local out = {}
  for _, x in ipairs(list) do
    if x.cluster_id == cluster_id then out[#out + 1] = x end
  end
  return out
end

local function remove_id(list, id)
  local _, i = inventory.find(list, id)
  if i then remove(list, i) end
end

-- What a cluster's job leaves when it ends.
local function apply_cluster(store, job)
  local cce, a = cce_of(store), job.action
  local c = inventory.find(cce.clusters, job.resource_id)
  if not c or c.pending_job ~= job.id then return end
  c.pending_job = nil
  if a == "create_cluster" then
    c.phase = job.failed and "Error" or "Available"
  elseif a == "resize_cluster" then
    c.phase = "Available"
    if not job.failed then c.spec.flavor = job.flavor end
  elseif job.failed then
    c.phase = "Error"
  else
    remove_id(cce.clusters, c.id)
    for _, p in ipairs(cluster_items(c.id, cce.node_pools)) do remove_id(cce.node_pools, p.id) end
    for _, n in ipairs(cluster_items(c.id, cce.nodes)) do remove_id(cce.nodes, n.id) end
  end
end

local REMOVES = { delete_nodes = true, scale_down = true, delete_pool = true }
local CLUSTER_JOB = { create_cluster = true, delete_cluster = true, resize_cluster = true }

-- What a job leaves when it ends.
local function apply(store, job)
  if CLUSTER_JOB[job.action] then return apply_cluster(store, job) end
  local cce = cce_of(store)
  for _, s in ipairs(job.subs) do
    local n = inventory.find(cce.nodes, s.resource_id)
    if n and n.pending_job == job.id then
      n.pending_job = nil
      if s.failed then
        n.phase = "Error"
      elseif REMOVES[job.action] then
        remove_id(cce.nodes, n.id)
      else
        n.phase = "Active"
      end
    end
  end
  local pool = job.pool_id and inventory.find(cce.node_pools, job.pool_id)
  if not pool or pool.pending_job ~= job.id then return end
  pool.pending_job = nil
  pool.failed = job.failed or nil
  if job.action == "delete_pool" and not job.failed then
    remove_id(cce.node_pools, pool.id)
    for _, n in ipairs(cce.nodes) do
      if n.node_pool_id == pool.id then n.node_pool_id = nil end
    end
  end
end

-- Settles a job the first time it is seen done: a sub-job fails when it,
-- its node or the job is on the fail list then; a job without sub-jobs
-- when it or its resource is.
local function settle(store, job, now)
  if job.settled or job.parent or jobs.phase(job.created, now) ~= "done" then return end
  job.settled = true
  local failed = false
  for _, s in ipairs(job.subs) do
    s.failed = state.should_fail(job.id, s.id, s.resource_id) and true or false
    if s.failed then failed = true end
  end
  if #job.subs == 0 or job.pool_id then
    failed = failed or state.should_fail(job.id, job.resource_id) and true or false
  end
  job.failed = failed
  apply(store, job)
end

local function settle_all(store, now)
  for _, job in pairs(jobs_of(store)) do settle(store, job, now) end
end

-- The phase a resource shows while `job_id` runs, or nil.
local function running(store, job_id, now)
  local job = job_id and jobs_of(store)[job_id]
  if not job or job.settled then return nil end
  return job, jobs.phase(job.created, now)
end

-- Views (each answer's shape is its operation's description) ----------------

local function cluster_spec(c)
  local spec = copy(c.spec or {})
  fill(spec, {
    flavor = "cce.s1.small", version = "v1.28", type = "VirtualMachine", category = "CCE",
    hostNetwork = { vpc = "vpc-default", subnet = "subnet-default" },
    containerNetwork = { mode = "overlay_l2", cidr = "172.16.0.0/16" },
    kubernetesSvcIpRange = "10.247.0.0/16", billingMode = 0,
  })
  if spec.eniNetwork == nil then spec.eniNetwork = { subnets = array({}) } end
  return spec
end

local function cluster_view(ctx, c)
  local phase, job_id = c.phase or "Available", nil
  local job = running(ctx.store, c.pending_job, ctx.now)
  if job then phase, job_id = ACTIONS[job.action].cluster, job.id end
  return {
    kind = "Cluster", apiVersion = API,
    metadata = { uid = c.id, name = c.name, creationTimestamp = c.created or iso(ctx.now),
                 updateTimestamp = c.updated or c.created or iso(ctx.now),
                 labels = c.labels or {}, annotations = {} },
    spec = cluster_spec(c),
    status = { phase = phase, jobID = job_id,
               endpoints = array { { url = "https://" .. (c.endpoint or "192.168.0.10")
                                       .. ":5443", type = "Internal" } } },
  }
end

-- The parts of a pool's node template a node's spec has the same shape of.
local NODE_FIELDS = { "flavor", "az", "os", "rootVolume", "dataVolumes", "runtime", "k8sTags",
                      "taints", "billingMode", "count" }

local NODE_DEFAULTS = { flavor = "c7.large.2", az = "cn-north-4a", os = "EulerOS 2.9",
                        rootVolume = { size = 50, volumetype = "SSD" } }

local function node_view(ctx, n)
  local spec = fill(copy(n.spec or {}), NODE_DEFAULTS)
  spec.count = nil
  local phase, job_id = n.phase or "Active", nil
  local job, jphase = running(ctx.store, n.pending_job, ctx.now)
  if job then
    phase, job_id = ACTIONS[job.action].node[jphase] or phase, job.id
  end
  local annotations = {}
  if n.node_pool_id then annotations["kubernetes.io/node-pool.id"] = n.node_pool_id end
  return {
    kind = "Node", apiVersion = API,
    metadata = { uid = n.id, name = n.name, creationTimestamp = n.created or iso(ctx.now),
                 updateTimestamp = n.updated or n.created or iso(ctx.now),
                 annotations = annotations, labels = n.labels or {} },
    spec = spec,
    status = { phase = phase, jobID = job_id, privateIP = n.private_ip or null,
               serverId = n.server_id or n.id },
  }
end

local function pool_nodes(store, pool_id)
  local out = {}
  for _, n in ipairs(cce_of(store).nodes) do
    if n.node_pool_id == pool_id then out[#out + 1] = n end
  end
  return out
end

-- `with_job`: the answer's status has jobId (NodePoolStatus and
-- DeleteNodePoolStatus do, CreateNodePoolStatus and UpdateNodePoolStatus
-- do not)
local function pool_view(ctx, p, with_job)
  local spec = copy(p.spec or {})
  spec.nodeTemplate = fill(type(spec.nodeTemplate) == "table" and spec.nodeTemplate or {},
                           NODE_DEFAULTS)
  spec.type = spec.type or "vm"
  local current, creating, deleting = 0, 0, 0
  for _, n in ipairs(pool_nodes(ctx.store, p.id)) do
    local job, jphase = running(ctx.store, n.pending_job, ctx.now)
    local during = job and ACTIONS[job.action].node[jphase]
    if during == "Deleting" then deleting = deleting + 1
    elseif during then creating = creating + 1 end
    if during ~= "Deleting" then current = current + 1 end
  end
  if spec.initialNodeCount == nil then spec.initialNodeCount = current end
  local phase, job_id = "Synchronized", nil
  local conditions = {}
  local job = running(ctx.store, p.pending_job, ctx.now)
  if job then
    phase, job_id = ACTIONS[job.action].pool, job.id
  elseif p.failed or p.phase == "Error" then
    phase = "Error"
    conditions[1] = { type = "UnexpectedError", status = "True", reason = "JobFailed",
                      message = "the last scaling job of the node pool failed" }
  elseif p.phase then
    phase = p.phase
  end
  local status = { phase = phase, currentNode = current, creatingNode = creating,
                   deletingNode = deleting, conditions = array(conditions) }
  if with_job then status.jobId = job_id end
  return {
    kind = "NodePool", apiVersion = API,
    metadata = { uid = p.id, name = p.name, creationTimestamp = p.created or iso(ctx.now),
                 updateTimestamp = p.updated or p.created or iso(ctx.now) },
    spec = spec, status = status,
  }
end

local function job_body(job, sub_job, phase, failed, reason)
  return {
    kind = "Job", apiVersion = API,
    metadata = { uid = (sub_job or job).id, creationTimestamp = iso(job.created),
                 updateTimestamp = iso(job.created) },
    spec = { type = sub_job and ACTIONS[job.action].sub or ACTIONS[job.action].type,
             clusterUID = job.cluster_id,
             resourceID = (sub_job or job).resource_id or "",
             resourceName = (sub_job or job).resource_name or "",
             subJobs = array({}), extendParam = {} },
    status = { phase = phase == "done" and (failed and "Failed" or "Success")
                       or JOB_PHASE[phase],
               reason = failed and reason or "" },
  }
end

local function job_view(ctx, job)
  local phase = jobs.phase(job.created, ctx.now)
  local subs, reason = {}, nil
  for i, s in ipairs(job.subs) do
    local why = s.failed and (ACTIONS[job.action].sub .. " of " .. tostring(s.resource_name)
                              .. " failed (injected failure)") or nil
    reason = reason or why
    subs[i] = job_body(job, s, phase, s.failed, why)
  end
  if job.failed and not reason then
    reason = ACTIONS[job.action].type .. " of " .. tostring(job.resource_name)
      .. " failed (injected failure)"
  end
  local body = job_body(job, nil, phase, job.failed, reason)
  body.spec.subJobs = array(subs)
  return body
end

-- Clusters -------------------------------------------------------------------

local function find_cluster(ctx, id)
  settle_all(ctx.store, ctx.now)
  return inventory.find(cce_of(ctx.store).clusters, id)
end

-- The cluster of the path, Available: or nil, status, body.
local function usable_cluster(ctx)
  local id = ctx.params.cluster_id
  local c = find_cluster(ctx, id)
  if not c then return nil, not_found("cluster", id) end
  if c.pending_job or (c.phase or "Available") ~= "Available" then
    local view = cluster_view(ctx, c)
    return nil, err(409, "The cluster " .. id .. " is " .. view.status.phase
                    .. ", not Available")
  end
  return c
end

local function create_cluster(ctx)
  local b = ctx.body
  local name = b.metadata.name
  if type(name) ~= "string" or not name:match("^[a-z][a-z0-9-]*$") or #name > 56 then
    return bad("Invalid parameter metadata.name: 4 to 56 of a-z, 0-9 and -, from a letter")
  end
  for _, c in ipairs(cce_of(ctx.store).clusters) do
    if c.name == name then return err(409, "A cluster named " .. name .. " already exists") end
  end
  local c = { id = util.uuid4(), name = name, spec = copy(b.spec),
              labels = type(b.metadata.labels) == "table" and copy(b.metadata.labels) or nil,
              created = iso(ctx.now), endpoint = next_ip(ctx.store) }
  local clusters = cce_of(ctx.store).clusters
  clusters[#clusters + 1] = c
  c.pending_job = new_job(ctx, "create_cluster", c.id, c.id, name).id
  return 201, cluster_view(ctx, c)
end

local function show_cluster(ctx)
  local c = find_cluster(ctx, ctx.params.cluster_id)
  if not c then return not_found("cluster", ctx.params.cluster_id) end
  return 200, cluster_view(ctx, c)
end

local function list_clusters(ctx)
  settle_all(ctx.store, ctx.now)
  local items, args = {}, ctx.args
  for _, c in ipairs(cce_of(ctx.store).clusters) do
    local v = cluster_view(ctx, c)
    if (args.status == nil or v.status.phase == args.status)
      and (args.type == nil or v.spec.type == args.type)
      and (args.version == nil or v.spec.version == args.version) then
      items[#items + 1] = v
    end
  end
  return 200, { kind = "Cluster", apiVersion = API, items = array(items) }
end

local function delete_cluster(ctx)
  local id = ctx.params.cluster_id
  local c = find_cluster(ctx, id)
  if not c then return not_found("cluster", id) end
  if c.pending_job then return busy("cluster", id) end
  c.pending_job = new_job(ctx, "delete_cluster", c.id, c.id, c.name).id
  return 200, cluster_view(ctx, c)
end

local function resize_cluster(ctx)
  local id = ctx.params.cluster_id
  local c, status, body = usable_cluster(ctx)
  if not c then return status, body end
  local flavor = ctx.body.flavorResize
  c.spec = c.spec or {}
  if flavor == cluster_spec(c).flavor then
    return bad("Invalid parameter flavorResize: the cluster " .. id .. " already has " .. flavor)
  end
  local job = new_job(ctx, "resize_cluster", c.id, c.id, c.name, nil, { flavor = flavor })
  c.pending_job = job.id
  return 201, { jobID = job.id }
end

-- Nodes ----------------------------------------------------------------------

-- `count` node records from a node spec into the cluster (and pool),
-- each under one job; returns the job.
local function make_nodes(ctx, c, pool, action, count, spec, name_of, extra)
  local nodes, subs = cce_of(ctx.store).nodes, {}
  local made = {}
  for i = 1, count do
    local nspec = {}
    for _, k in ipairs(NODE_FIELDS) do
      if spec[k] ~= nil then nspec[k] = copy(spec[k]) end
    end
    local n = { id = util.uuid4(), cluster_id = c.id, node_pool_id = pool and pool.id or nil,
                name = name_of(i), spec = nspec, private_ip = next_ip(ctx.store),
                created = iso(ctx.now) }
    if extra then extra(n, i) end
    nodes[#nodes + 1] = n
    made[i] = n
    subs[i] = { resource_id = n.id, resource_name = n.name }
  end
  local job = new_job(ctx, action, c.id, pool and pool.id or (made[1] and made[1].id),
                      pool and pool.name or (made[1] and made[1].name), subs,
                      { pool_id = pool and pool.id or nil })
  for _, n in ipairs(made) do n.pending_job = job.id end
  if pool then pool.pending_job = job.id end
  return job, made
end

-- Removes `list` (node records) under one job.
local function remove_nodes(ctx, c, pool, action, list)
  local subs = {}
  for i, n in ipairs(list) do subs[i] = { resource_id = n.id, resource_name = n.name } end
  local job = new_job(ctx, action, c.id, pool and pool.id or (list[1] and list[1].id),
                      pool and pool.name or (list[1] and list[1].name), subs,
                      { pool_id = pool and pool.id or nil })
  for _, n in ipairs(list) do n.pending_job = job.id end
  if pool then pool.pending_job = job.id end
  return job
end

local function create_node(ctx)
  local c, status, body = usable_cluster(ctx)
  if not c then return status, body end
  local spec = ctx.body.spec
  local count = spec.count == nil and 1 or tonumber(spec.count)
  if not count or count < 1 or count > 50 or count % 1 ~= 0 then
    return bad("Invalid parameter spec.count: must be a whole number from 1 to 50")
  end
  local md = type(ctx.body.metadata) == "table" and ctx.body.metadata or {}
  local base = type(md.name) == "string" and md.name ~= "" and md.name or (c.name .. "-node")
  local job, made = make_nodes(ctx, c, nil, "create_nodes", count, spec, function()
    return count == 1 and base or (base .. "-" .. suffix())
  end)
  local view = node_view(ctx, made[1])
  view.status.jobID = job.id
  return 201, view
end

local function find_node(ctx)
  local c = find_cluster(ctx, ctx.params.cluster_id)
  if not c then return nil, not_found("cluster", ctx.params.cluster_id) end
  local n = inventory.find(cce_of(ctx.store).nodes, ctx.params.node_id)
  if not n or n.cluster_id ~= c.id then return nil, not_found("node", ctx.params.node_id) end
  return n, c
end

local function show_node(ctx)
  local n, c, body = find_node(ctx)
  if not n then return c, body end
  return 200, node_view(ctx, n)
end

local function list_nodes(ctx)
  local c = find_cluster(ctx, ctx.params.cluster_id)
  if not c then return not_found("cluster", ctx.params.cluster_id) end
  local items = {}
  for _, n in ipairs(cluster_items(c.id, cce_of(ctx.store).nodes)) do
    items[#items + 1] = node_view(ctx, n)
  end
  return 200, { kind = "List", apiVersion = API, items = array(items) }
end

local function delete_node(ctx)
  local n, c, body = find_node(ctx)
  if not n then return c, body end
  if n.pending_job then return busy("node", n.id) end
  local pool = n.node_pool_id and inventory.find(cce_of(ctx.store).node_pools, n.node_pool_id)
  if pool and pool.pending_job then return busy("node pool", pool.id) end
  -- the pool shrinks with it unless told not to (a replacement is not emulated)
  if pool and ctx.args.nodepoolScaleDown ~= "NoScaleDown" then
    pool.spec = pool.spec or {}
    pool.spec.initialNodeCount = max(0, #pool_nodes(ctx.store, pool.id) - 1)
  end
  local job = remove_nodes(ctx, c, pool, "delete_nodes", { n })
  local view = node_view(ctx, n)
  view.status.jobID = job.id
  return 200, view
end

-- Node pools -------------------------------------------------------------------

local function find_pool(ctx)
  local c = find_cluster(ctx, ctx.params.cluster_id)
  if not c then return nil, not_found("cluster", ctx.params.cluster_id) end
  local p = inventory.find(cce_of(ctx.store).node_pools, ctx.params.nodepool_id)
  if not p or p.cluster_id ~= c.id then
    return nil, not_found("node pool", ctx.params.nodepool_id)
  end
  return p, c
end

local function count_of(v, where)
  if v == nil then return 0 end
  if type(v) ~= "number" or v < 0 or v > 2000 or v % 1 ~= 0 then
    return nil, bad("Invalid parameter " .. where .. ": must be a whole number from 0 to 2000")
  end
  return v
end

local function pool_node_name(pool)
  return function() return pool.name .. "-" .. suffix() end
end

local function create_node_pool(ctx)
  local c, status, body = usable_cluster(ctx)
  if not c then return status, body end
  local b = ctx.body
  local name = b.metadata.name
  if type(name) ~= "string" or name == "" then
    return bad("Invalid parameter metadata.name: is required")
  end
  for _, p in ipairs(cluster_items(c.id, cce_of(ctx.store).node_pools)) do
    if p.name == name then return err(409, "A node pool named " .. name .. " already exists") end
  end
  local count, cstatus, cbody = count_of(b.spec.initialNodeCount, "spec.initialNodeCount")
  if not count then return cstatus, cbody end
  local p = { id = name .. "-" .. suffix() .. suffix(), cluster_id = c.id, name = name,
              spec = copy(b.spec), created = iso(ctx.now) }
  p.spec.initialNodeCount = count
  local pools = cce_of(ctx.store).node_pools
  pools[#pools + 1] = p
  if count > 0 then
    make_nodes(ctx, c, p, "create_nodes", count, p.spec.nodeTemplate, pool_node_name(p))
  end
  return 201, pool_view(ctx, p, false)
end

local function show_node_pool(ctx)
  local p, c, body = find_pool(ctx)
  if not p then return c, body end
  return 200, pool_view(ctx, p, true)
end

local function list_node_pools(ctx)
  local c = find_cluster(ctx, ctx.params.cluster_id)
  if not c then return not_found("cluster", ctx.params.cluster_id) end
  local items = {}
  for _, p in ipairs(cluster_items(c.id, cce_of(ctx.store).node_pools)) do
    items[#items + 1] = pool_view(ctx, p, true)
  end
  return 200, { kind = "List", apiVersion = API, items = array(items) }
end

-- Scales pool `p` of cluster `c` to `want` nodes: new ones (Build, then
-- Installing, then Active) or its newest ones removed (Deleting, then
-- gone), under one job. Returns nil, or the refusal's status and body.
local function scale(ctx, c, p, want)
  local nodes = pool_nodes(ctx.store, p.id)
  local have = #nodes
  if want > have then
    if c.pending_job or (c.phase or "Available") ~= "Available" then
      return err(409, "The cluster " .. c.id .. " is not Available")
    end
    make_nodes(ctx, c, p, "scale_up", want - have, p.spec.nodeTemplate or {}, pool_node_name(p))
  elseif want < have then
    for _, n in ipairs(nodes) do
      if n.pending_job then return busy("node", n.id) end
    end
    local gone = {}
    for i = have, want + 1, -1 do gone[#gone + 1] = nodes[i] end
    remove_nodes(ctx, c, p, "scale_down", gone)
  end
  return nil
end

local KEPT = { "autoscaling", "taintPolicyOnExistingNodes", "labelPolicyOnExistingNodes",
               "userTagsPolicyOnExistingNodes" }

-- update_node_pool: a new name, autoscaling and the like are kept; another
-- spec.initialNodeCount (unless spec.ignoreInitialNodeCount) scales the
-- pool out or in.
local function update_node_pool(ctx)
  local p, c, body = find_pool(ctx)
  if not p then return c, body end
  if p.pending_job then return busy("node pool", p.id) end
  local b = ctx.body
  local spec = b.spec or {}
  local want, cstatus, cbody = count_of(spec.initialNodeCount, "spec.initialNodeCount")
  if not want then return cstatus, cbody end
  p.spec = p.spec or {}
  if spec.ignoreInitialNodeCount ~= true then
    local status, refusal = scale(ctx, c, p, want)
    if status then return status, refusal end
    p.spec.initialNodeCount = want
    p.failed = nil
  end
  if type(b.metadata) == "table" and type(b.metadata.name) == "string" and b.metadata.name ~= "" then
    p.name = b.metadata.name
  end
  for _, k in ipairs(KEPT) do
    if spec[k] ~= nil then p.spec[k] = copy(spec[k]) end
  end
  p.updated = iso(ctx.now)
  return 200, pool_view(ctx, p, false)
end

local function delete_node_pool(ctx)
  local p, c, body = find_pool(ctx)
  if not p then return c, body end
  if p.pending_job then return busy("node pool", p.id) end
  local nodes = pool_nodes(ctx.store, p.id)
  for _, n in ipairs(nodes) do
    if n.pending_job then return busy("node", n.id) end
  end
  remove_nodes(ctx, c, p, "delete_pool", nodes)
  return 200, pool_view(ctx, p, true)
end

-- add_nodes_to_node_pool: ECS servers of the project join the pool as
-- nodes (Installing, then Active).
local function add_nodes_to_node_pool(ctx)
  local p, c, body = find_pool(ctx)
  if not p then return c, body end
  if p.pending_job then return busy("node pool", p.id) end
  local list = ctx.body.nodeList
  local servers = inventory.of(ctx.store).ecs.servers
  local picked = {}
  for i, item in ipairs(list) do
    local s = inventory.find(servers, item.serverID)
    if not s then return not_found("server", item.serverID) end
    for _, n in ipairs(cce_of(ctx.store).nodes) do
      if n.server_id == s.id then
        return err(409, "The server " .. s.id .. " is already the node " .. n.id)
      end
    end
    picked[i] = s
  end
  if #picked == 0 then return bad("Invalid parameter nodeList: must be a non-empty array") end
  local job = make_nodes(ctx, c, p, "add_nodes", #picked, p.spec.nodeTemplate or {},
    function(i) return picked[i].name end,
    function(n, i)
      n.server_id = picked[i].id
      for _, addrs in pairs(picked[i].addresses or {}) do
        if type(addrs) == "table" and addrs[1] and addrs[1].addr then
          n.private_ip = addrs[1].addr
        end
      end
    end)
  p.spec = p.spec or {}
  p.spec.initialNodeCount = #pool_nodes(ctx.store, p.id)
  return 200, { jobid = job.id }
end

-- Jobs -------------------------------------------------------------------------

local function show_job(ctx)
  local id = ctx.params.job_id
  local all = jobs_of(ctx.store)
  local job = all[id]
  if not job then return not_found("job", id) end
  local parent = job.parent and all[job.parent]
  settle(ctx.store, parent or job, ctx.now)
  if parent then
    local s = parent.subs[job.index]
    local phase = jobs.phase(parent.created, ctx.now)
    local why = s.failed and (ACTIONS[parent.action].sub .. " of " .. tostring(s.resource_name)
                              .. " failed (injected failure)") or nil
    return 200, job_body(parent, s, phase, s.failed, why)
  end
  return 200, job_view(ctx, job)
end

local P = "/api/v3/projects/{project_id}"

_M.routes = {
  { op = "create_cluster", method = "POST", path = P .. "/clusters", full_request = true,
    handler = create_cluster },
  { op = "list_clusters", method = "GET", path = P .. "/clusters", handler = list_clusters },
  { op = "show_cluster", method = "GET", path = P .. "/clusters/{cluster_id}",
    handler = show_cluster },
  { op = "delete_cluster", method = "DELETE", path = P .. "/clusters/{cluster_id}",
    handler = delete_cluster },
  { op = "resize_cluster", method = "POST", path = P .. "/clusters/{cluster_id}/operation/resize",
    full_request = true, handler = resize_cluster },
  { op = "create_node", method = "POST", path = P .. "/clusters/{cluster_id}/nodes",
    full_request = true, handler = create_node },
  { op = "list_nodes", method = "GET", path = P .. "/clusters/{cluster_id}/nodes",
    handler = list_nodes },
  { op = "show_node", method = "GET", path = P .. "/clusters/{cluster_id}/nodes/{node_id}",
    handler = show_node },
  { op = "delete_node", method = "DELETE", path = P .. "/clusters/{cluster_id}/nodes/{node_id}",
    handler = delete_node },
  { op = "create_node_pool", method = "POST", path = P .. "/clusters/{cluster_id}/nodepools",
    full_request = true, handler = create_node_pool },
  { op = "list_node_pools", method = "GET", path = P .. "/clusters/{cluster_id}/nodepools",
    handler = list_node_pools },
  { op = "show_node_pool", method = "GET",
    path = P .. "/clusters/{cluster_id}/nodepools/{nodepool_id}", handler = show_node_pool },
  { op = "update_node_pool", method = "PUT",
    path = P .. "/clusters/{cluster_id}/nodepools/{nodepool_id}", full_request = true,
    handler = update_node_pool },
  { op = "delete_node_pool", method = "DELETE",
    path = P .. "/clusters/{cluster_id}/nodepools/{nodepool_id}", handler = delete_node_pool },
  { op = "add_nodes_to_node_pool", method = "POST",
    path = P .. "/clusters/{cluster_id}/nodepools/{nodepool_id}/nodes/add", full_request = true,
    handler = add_nodes_to_node_pool },
  { op = "show_job", method = "GET", path = P .. "/jobs/{job_id}", handler = show_job },
}

return _M
