-- The emulator's CCE clusters, node pools and nodes, through the client:
-- each change a job (show_job's status.phase Initializing, Running, then
-- Success or Failed), the job id spelt as each operation's description
-- spells it, client:wait on every one of them, the cce waiters
-- (cluster_available, node_active, node_pool_synchronized, the deletions),
-- a pool scaled out and in, injected failures, 404s and 409s, resources
-- from the inventory; every answer as its description says.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local answers = require "spec.helpers.answers"

local PID = "5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

before_each(function() session.restore() end)

local function conform(op, res)
  assert(answers.conform("cce", op, res))
  return res
end

local function new_cluster(name)
  return conform("create_cluster", assert(client.cce:create_cluster {
    apiVersion = "v3", kind = "Cluster", metadata = { name = name or "prod" },
    spec = { flavor = "cce.s2.small", version = "v1.28", type = "VirtualMachine",
             hostNetwork = { vpc = "vpc-1", subnet = "subnet-1" },
             containerNetwork = { mode = "vpc-router", cidrs = { { cidr = "172.16.0.0/16" } } },
             eniNetwork = { subnets = { { subnetID = "subnet-v4-1" } } } } }))
end

-- An Available cluster's id.
local function ready_cluster(name)
  local made = new_cluster(name)
  assert(client:wait(made, FAST))
  return made.metadata.uid
end

local function new_pool(cluster_id, count, name)
  return conform("create_node_pool", assert(client.cce:create_node_pool {
    cluster_id = cluster_id, apiVersion = "v3", kind = "NodePool",
    metadata = { name = name or "workers" },
    spec = { type = "vm", initialNodeCount = count,
             nodeTemplate = { flavor = "c7.large.2", az = "cn-north-4a", os = "EulerOS 2.9",
                              rootVolume = { size = 50, volumetype = "SSD" },
                              dataVolumes = { { size = 100, volumetype = "SSD" } } } } }))
end

local function pool_of(cluster_id, pool_id)
  return conform("show_node_pool", assert(client.cce:show_node_pool {
    cluster_id = cluster_id, nodepool_id = pool_id }))
end

local function nodes_of(cluster_id)
  return conform("list_nodes", assert(client.cce:list_nodes { cluster_id = cluster_id })).items
end

local function node_phase(cluster_id, node_id)
  return conform("show_node", assert(client.cce:show_node {
    cluster_id = cluster_id, node_id = node_id })).status.phase
end

describe("emulator CCE #server", function()
  it("creates a cluster: Creating until its job ends, then Available", function()
    local made = new_cluster("prod")
    assert.are.equal("Creating", made.status.phase)
    assert.is_string(made.status.jobID)
    local id = made.metadata.uid
    local job = conform("show_job", assert(client.cce:show_job { job_id = made.status.jobID }))
    assert.truthy(job.status.phase == "Initializing" or job.status.phase == "Running",
                  job.status.phase)
    assert.are.equal("CreateCluster", job.spec.type)
    assert.are.equal(id, job.spec.resourceID)

    local done = assert(client:wait(made, FAST))
    assert.are.equal("Success", done.status.phase)
    local c = assert(client:wait_for("cce", "cluster_available", { cluster_id = id }, FAST))
    assert.are.equal("Available", conform("show_cluster", c).status.phase)
    assert.are.equal("cce.s2.small", c.spec.flavor)
    assert.are.equal("vpc-1", c.spec.hostNetwork.vpc)
    local list = conform("list_clusters", assert(client.cce:list_clusters {}))
    assert.are.equal(1, #list.items)
    assert.are.equal(1, #assert(client.cce:list_clusters { status = "Available" }).items)
    assert.are.equal(0, #assert(client.cce:list_clusters { status = "Creating" }).items)
    local _, err = client.cce:create_cluster { apiVersion = "v3", kind = "Cluster",
      metadata = { name = "prod" }, spec = c.spec }
    assert.are.equal(409, err.status)
  end)

  it("makes a node pool's nodes under one job: Build, Installing, then Active", function()
    local cid = ready_cluster()
    local pool = new_pool(cid, 2)
    local pid = pool.metadata.uid
    assert.are.equal("Synchronizing", pool.status.phase)
    assert.are.equal(2, pool.spec.initialNodeCount)
    -- CreateNodePoolStatus has no job id; NodePoolStatus (show_node_pool) has
    assert.is_nil(pool.status.jobId)
    assert.is_false(answers.has("cce", "create_node_pool", "status.jobId"))
    local job_id = pool_of(cid, pid).status.jobId
    assert.is_string(job_id)
    local nodes = nodes_of(cid)
    assert.are.equal(2, #nodes)
    for _, n in ipairs(nodes) do
      assert.truthy(n.status.phase == "Build" or n.status.phase == "Installing", n.status.phase)
      assert.are.equal(job_id, n.status.jobID)
      assert.are.equal(pid, n.metadata.annotations["kubernetes.io/node-pool.id"])
      assert.are.equal("c7.large.2", n.spec.flavor)
      assert.is_string(n.status.privateIP)
    end
    local job = conform("show_job", assert(client:wait({ service = "cce", job_id = job_id }, FAST)))
    assert.are.equal("Success", job.status.phase)
    assert.are.equal(2, #job.spec.subJobs)
    assert.are.equal("Success", job.spec.subJobs[1].status.phase)
    assert(client:wait_for("cce", "node_pool_synchronized",
                           { cluster_id = cid, nodepool_id = pid }, FAST))
    local p = pool_of(cid, pid)
    assert.are.equal("Synchronized", p.status.phase)
    assert.are.equal(2, p.status.currentNode)
    assert.are.equal("Active", node_phase(cid, nodes[1].metadata.uid))
    local pools = conform("list_node_pools", assert(client.cce:list_node_pools { cluster_id = cid }))
    assert.are.equal(1, #pools.items)
  end)

  it("scales a pool out with update_node_pool: new nodes, node_active, synchronized", function()
    local cid = ready_cluster()
    local pool = new_pool(cid, 1)
    local pid = pool.metadata.uid
    assert(client:wait_for("cce", "node_pool_synchronized",
                           { cluster_id = cid, nodepool_id = pid }, FAST))
    local before = {}
    for _, n in ipairs(nodes_of(cid)) do before[n.metadata.uid] = true end

    local upd = conform("update_node_pool", assert(client.cce:update_node_pool {
      cluster_id = cid, nodepool_id = pid, spec = { initialNodeCount = 3 } }))
    assert.are.equal(3, upd.spec.initialNodeCount)
    assert.are.equal("Synchronizing", upd.status.phase)
    -- UpdateNodePoolStatus has no job id, NodePoolStatus has
    assert.is_nil(upd.status.jobId)
    assert.is_false(answers.has("cce", "update_node_pool", "status.jobId"))
    local shown = pool_of(cid, pid)
    assert.are.equal("Synchronizing", shown.status.phase)
    assert.are.equal(2, shown.status.creatingNode)
    local _, busy = client.cce:update_node_pool { cluster_id = cid, nodepool_id = pid,
                                                  spec = { initialNodeCount = 5 } }
    assert.are.equal(409, busy.status)

    local new = {}
    for _, n in ipairs(nodes_of(cid)) do
      if not before[n.metadata.uid] then new[#new + 1] = n end
    end
    assert.are.equal(2, #new)
    for _, n in ipairs(new) do
      local active = assert(client:wait_for("cce", "node_active",
        { cluster_id = cid, node_id = n.metadata.uid }, FAST))
      assert.are.equal("Active", active.status.phase)
    end
    -- a new node's status.jobID is the scale-out's job, with a sub-job per node
    local job = conform("show_job", assert(client.cce:show_job { job_id = new[1].status.jobID }))
    assert.are.equal("Success", job.status.phase)
    assert.are.equal(2, #job.spec.subJobs)
    local sub = conform("show_job", assert(client.cce:show_job {
      job_id = job.spec.subJobs[1].metadata.uid }))
    assert.are.equal("CreateNode", sub.spec.type)
    local synced = assert(client:wait_for("cce", "node_pool_synchronized",
                                          { cluster_id = cid, nodepool_id = pid }, FAST))
    assert.are.equal(3, synced.status.currentNode)
    assert.are.equal(3, #nodes_of(cid))

    -- and in: its newest nodes go
    assert(client.cce:update_node_pool { cluster_id = cid, nodepool_id = pid,
                                         spec = { initialNodeCount = 1 } })
    assert.are.equal("Deleting", node_phase(cid, new[2].metadata.uid))
    assert.are.equal(true, assert(client:wait_for("cce", "node_deleted",
      { cluster_id = cid, node_id = new[2].metadata.uid }, FAST)))
    assert(client:wait_for("cce", "node_pool_synchronized",
                           { cluster_id = cid, nodepool_id = pid }, FAST))
    assert.are.equal(1, #nodes_of(cid))
  end)

  it("fails one node of a scale-out: the node and the pool are Error, the waits say so", function()
    local cid = ready_cluster()
    local pool = new_pool(cid, 0)
    local pid = pool.metadata.uid
    assert.is_nil(pool.status.jobId)
    assert.are.equal("Synchronized", pool.status.phase)
    assert(client.cce:update_node_pool { cluster_id = cid, nodepool_id = pid,
                                         spec = { initialNodeCount = 2 } })
    local nodes = nodes_of(cid)
    emu:fail { nodes[2].metadata.uid }
    local _, err = client:wait_for("cce", "node_pool_synchronized",
                                   { cluster_id = cid, nodepool_id = pid }, FAST)
    assert.is_table(err)
    assert.are.equal("Error", err.code)
    assert.are.equal("Active", node_phase(cid, nodes[1].metadata.uid))
    assert.are.equal("Error", node_phase(cid, nodes[2].metadata.uid))
    local _, nerr = client:wait_for("cce", "node_active",
      { cluster_id = cid, node_id = nodes[2].metadata.uid }, FAST)
    assert.is_table(nerr)
    local _, jerr = client:wait({ service = "cce", job_id = nodes[1].status.jobID }, FAST)
    assert.is_table(jerr)
    assert.truthy(tostring(jerr.message):find("injected failure", 1, true), tostring(jerr.message))
    local p = pool_of(cid, pid)
    assert.are.equal("Error", p.status.phase)
    assert.are.equal("UnexpectedError", p.status.conditions[1].type)
  end)

  it("fails a cluster's creation on POST /_emulator/fail: the job Failed, the cluster Error", function()
    local made = new_cluster("broken")
    emu:fail { made.status.jobID }
    local _, err = client:wait(made, FAST)
    assert.is_table(err)
    assert.truthy(tostring(err.message):find("Failed", 1, true), tostring(err.message))
    local _, werr = client:wait_for("cce", "cluster_available",
                                    { cluster_id = made.metadata.uid }, FAST)
    assert.are.equal("Error", werr.code)
  end)

  it("answers each job with its operation's spelling of the id, and waits on all of them", function()
    local cid = ready_cluster()
    local pool = new_pool(cid, 1)
    local pid = pool.metadata.uid
    assert(client:wait_for("cce", "node_pool_synchronized",
                           { cluster_id = cid, nodepool_id = pid }, FAST))

    -- create_node: status.jobID
    assert.is_true(answers.has("cce", "create_node", "status.jobID"))
    local node = conform("create_node", assert(client.cce:create_node { cluster_id = cid,
      apiVersion = "v3", kind = "Node", metadata = { name = "solo" },
      spec = { flavor = "c7.xlarge.2", az = "cn-north-4b",
               rootVolume = { size = 50, volumetype = "SSD" } } }))
    assert.is_string(node.status.jobID)
    assert(client:wait(node, FAST))
    assert.are.equal("Active", node_phase(cid, node.metadata.uid))

    -- add_nodes_to_node_pool: jobid (ECS servers join the pool)
    local ecs = assert(client.ecs:create_post_paid_servers { server = {
      name = "joiner", flavorRef = "c7.large.2", imageRef = "img-1", vpcid = "vpc-1",
      nics = { { subnet_id = "subnet-1" } }, root_volume = { volumetype = "SSD" } } })
    assert(client:wait(ecs, FAST))
    local added = conform("add_nodes_to_node_pool", assert(client.cce:add_nodes_to_node_pool {
      cluster_id = cid, nodepool_id = pid, apiVersion = "v3", kind = "List",
      nodeList = { { serverID = ecs.serverIds[1] } } }))
    assert.is_string(added.jobid)
    assert(client:wait(added, FAST))
    assert.are.equal(2, pool_of(cid, pid).status.currentNode)

    -- resize_cluster: jobID; the cluster is Resizing meanwhile
    local resized = conform("resize_cluster", assert(client.cce:resize_cluster {
      cluster_id = cid, flavorResize = "cce.s2.medium" }))
    assert.is_string(resized.jobID)
    assert.are.equal("Resizing", assert(client.cce:show_cluster { cluster_id = cid }).status.phase)
    assert(client:wait(resized, FAST))
    local c = assert(client:wait_for("cce", "cluster_available", { cluster_id = cid }, FAST))
    assert.are.equal("cce.s2.medium", c.spec.flavor)

    -- delete_node: status.jobID
    local del = conform("delete_node", assert(client.cce:delete_node {
      cluster_id = cid, node_id = node.metadata.uid }))
    assert.are.equal("Deleting", del.status.phase)
    assert(client:wait(del, FAST))
    local _, gone = client.cce:show_node { cluster_id = cid, node_id = node.metadata.uid }
    assert.are.equal(404, gone.status)

    -- delete_node_pool: status.jobId; its nodes go with it
    local dp = conform("delete_node_pool", assert(client.cce:delete_node_pool {
      cluster_id = cid, nodepool_id = pid }))
    assert.are.equal("Deleting", dp.status.phase)
    assert.is_string(dp.status.jobId)
    assert(client:wait(dp, FAST))
    assert.are.equal(0, #nodes_of(cid))
    local _, perr = client.cce:show_node_pool { cluster_id = cid, nodepool_id = pid }
    assert.are.equal(404, perr.status)

    -- delete_cluster: status.jobID, then cluster_deleted
    local dc = conform("delete_cluster", assert(client.cce:delete_cluster { cluster_id = cid }))
    assert.are.equal("Deleting", dc.status.phase)
    assert.are.equal(true, assert(client:wait_for("cce", "cluster_deleted",
                                                  { cluster_id = cid }, FAST)))
    assert.are.equal("Success", assert(client:wait(dc, FAST)).status.phase)
  end)

  it("answers 404 for unknown clusters, pools, nodes and jobs; 409 while busy", function()
    local _, err = client.cce:show_cluster { cluster_id = "no-such-cluster" }
    assert.are.equal(404, err.status)
    assert.is_string(err.code)
    _, err = client.cce:show_job { job_id = "no-such-job" }
    assert.are.equal(404, err.status)
    -- a wait on a job that does not exist ends at once
    local t0 = os.time()
    _, err = client:wait({ service = "cce", job_id = "no-such-job" }, FAST)
    assert.are.equal(404, err.status)
    assert.truthy(os.time() - t0 < 10)
    local made = new_cluster("busy")
    local cid = made.metadata.uid
    -- not Available yet: no pool, no second job
    _, err = client.cce:create_node_pool { cluster_id = cid, apiVersion = "v3", kind = "NodePool",
      metadata = { name = "early" }, spec = { nodeTemplate = { flavor = "c7.large.2" } } }
    assert.are.equal(409, err.status)
    _, err = client.cce:delete_cluster { cluster_id = cid }
    assert.are.equal(409, err.status)
    assert(client:wait(made, FAST))
    _, err = client.cce:show_node_pool { cluster_id = cid, nodepool_id = "nope" }
    assert.are.equal(404, err.status)
    _, err = client.cce:show_node { cluster_id = cid, node_id = "nope" }
    assert.are.equal(404, err.status)
    _, err = client.cce:list_nodes { cluster_id = "nope" }
    assert.are.equal(404, err.status)
    -- the description's checks come first
    _, err = client.cce:update_node_pool { cluster_id = cid, nodepool_id = "nope", spec = {} }
    assert.is_table(err)
    local raw = emu:raw(PID, "PUT", "/api/v3/projects/" .. PID .. "/clusters/" .. cid
      .. "/nodepools/nope", { spec = {} })
    assert.are.equal(400, raw.status)
    assert.truthy(raw.body:find("spec.initialNodeCount", 1, true), raw.body)
  end)

  it("starts from the inventory's cce section and shows it in the state", function()
    local inv = session.inventory()
    inv.cce = {
      clusters = { { id = "c-inv", name = "inv", spec = { flavor = "cce.s1.small" } } },
      node_pools = { { id = "np-inv", cluster_id = "c-inv", name = "pool",
                       spec = { nodeTemplate = { flavor = "s6.large.2" } } } },
      nodes = { { id = "n-inv-1", cluster_id = "c-inv", node_pool_id = "np-inv", name = "pool-a",
                  private_ip = "10.1.0.5" } },
    }
    assert(emu:inventory(inv))
    local c = conform("show_cluster", assert(client.cce:show_cluster { cluster_id = "c-inv" }))
    assert.are.equal("Available", c.status.phase)
    local p = pool_of("c-inv", "np-inv")
    assert.are.equal("Synchronized", p.status.phase)
    assert.are.equal(1, p.spec.initialNodeCount)
    assert.are.equal("Active", node_phase("c-inv", "n-inv-1"))
    assert(client.cce:update_node_pool { cluster_id = "c-inv", nodepool_id = "np-inv",
                                         spec = { initialNodeCount = 2 } })
    assert(client:wait_for("cce", "node_pool_synchronized",
                           { cluster_id = "c-inv", nodepool_id = "np-inv" }, FAST))
    local st = emu:admin("GET", "/_emulator/state")
    local mine = st.projects[PID].inventory.cce
    assert.are.equal(2, #mine.nodes)
    assert.are.equal("s6.large.2", mine.nodes[2].spec.flavor)
    local _, status = emu:admin("POST", "/_emulator/inventory",
                                { cce = { clusters = { { name = "no id" } } } })
    assert.are.equal(400, status)
  end)
end)
