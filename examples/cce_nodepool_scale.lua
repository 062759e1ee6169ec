-- A CCE node pool scale-out: find the cluster and its node pool by name,
-- add N nodes to the pool, wait for the scale-out's job and for every new
-- node to be Active and the pool Synchronized, and print a summary. Exits 1
-- when the cluster or pool is not found, a new node failed, or the wait ran
-- out; 2 when no client could be made.
--
-- Against the bundled emulator, with a cluster "prod" whose pool "web" has
-- two nodes (examples/cce_nodepool_inventory.json):
--   bin/hwcloud-emulator --port 8080 --inventory examples/cce_nodepool_inventory.json
--   HWCLOUD_ENDPOINT=http://127.0.0.1:8080 lua5.4 examples/cce_nodepool_scale.lua prod web 2
-- Against Huawei Cloud: unset HWCLOUD_ENDPOINT and set HUAWEICLOUD_SDK_AK,
-- HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID and HUAWEICLOUD_SDK_REGION.
--
-- Arguments: CLUSTER POOL [N] (N new nodes, default 1). HWCLOUD_WAIT_TIMEOUT
-- (seconds, default 1800) bounds each wait.

local hwcloud = require "hwcloud"

local env = os.getenv
local format = string.format

local function say(fmt, ...)
  io.stdout:write(format(fmt, ...), "\n")
  io.stdout:flush() -- progress goes to stderr: keep the two in order
end

local function fail(fmt, ...)
  io.stderr:write("cce scale: ", format(fmt, ...), "\n")
  os.exit(1)
end

local cluster_name, pool_name, by = arg[1], arg[2], arg[3] or "1"
by = math.tointeger(tonumber(by))
if not cluster_name or not pool_name or not by or by < 1 then
  io.stderr:write("usage: lua5.4 examples/cce_nodepool_scale.lua CLUSTER POOL [N]\n")
  os.exit(2)
end

local endpoint = env("HWCLOUD_ENDPOINT")
local client, cerr = hwcloud.client {
  endpoint = endpoint,
  region = env("HUAWEICLOUD_SDK_REGION") or "cn-north-4",
  -- the emulator's default key pair and any project id, when aimed at it
  ak = endpoint and (env("HUAWEICLOUD_SDK_AK") or "HWCLOUDEMULATORAK001") or nil,
  sk = endpoint and (env("HUAWEICLOUD_SDK_SK") or "hwcloud-emulator-secret") or nil,
  project_id = env("HUAWEICLOUD_SDK_PROJECT_ID") or (endpoint and "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"),
  ca_file = env("HWCLOUD_CA_FILE"),
}
if not client then
  io.stderr:write("cce scale: ", tostring(cerr), "\n")
  os.exit(2)
end

local waiting = { interval = 1, max_interval = 15,
                  timeout = tonumber(env("HWCLOUD_WAIT_TIMEOUT") or "1800") or 1800 }

local function names(items)
  local list = {}
  for i, item in ipairs(items) do list[i] = item.metadata.name end
  return #list > 0 and table.concat(list, ", ") or "none"
end

-- The item of `items` named `name`, or nil.
local function named(items, name)
  for _, item in ipairs(items or {}) do
    if item.metadata.name == name then return item end
  end
  return nil
end

-- 1. The cluster, by name; it must be Available.
local function find_cluster()
  local clusters, err = client.cce:list_clusters {}
  if not clusters then fail("cannot list the clusters: %s", tostring(err)) end
  local cluster = named(clusters.items, cluster_name)
  if not cluster then
    fail("no cluster named %s (clusters: %s)", cluster_name, names(clusters.items or {}))
  end
  if cluster.status.phase ~= "Available" then
    fail("cluster %s is %s, not Available", cluster_name, tostring(cluster.status.phase))
  end
  say("cluster %s (%s): %s, %s", cluster_name, cluster.metadata.uid, cluster.status.phase,
      tostring(cluster.spec.version))
  return cluster.metadata.uid
end

-- 2. Its node pool, by name.
local function find_pool(cluster_id)
  local pools, err = client.cce:list_node_pools { cluster_id = cluster_id }
  if not pools then fail("cannot list the node pools of %s: %s", cluster_name, tostring(err)) end
  local pool = named(pools.items, pool_name)
  if not pool then
    fail("cluster %s has no node pool named %s (pools: %s)", cluster_name, pool_name,
         names(pools.items or {}))
  end
  return pool
end

-- The nodes of the pool (CCE annotates each node with its pool's id).
local function pool_nodes(cluster_id, pool_id)
  local nodes, err = client.cce:list_nodes { cluster_id = cluster_id }
  if not nodes then fail("cannot list the nodes of %s: %s", cluster_name, tostring(err)) end
  local out = {}
  for _, n in ipairs(nodes.items or {}) do
    local a = n.metadata.annotations
    if type(a) == "table" and a["kubernetes.io/node-pool.id"] == pool_id then
      out[#out + 1] = n
    end
  end
  return out
end

-- 3. Scale out to the pool's count plus `by`; returns the new nodes.
local function scale_out(cluster_id, pool)
  local pool_id = pool.metadata.uid
  local before = pool_nodes(cluster_id, pool_id)
  local had = {}
  for _, n in ipairs(before) do had[n.metadata.uid] = true end
  local count = tonumber(pool.spec.initialNodeCount) or #before
  local want = count + by
  say("node pool %s (%s): %d nodes, scaling out to %d", pool_name, pool_id, count, want)
  local updated, err = client.cce:update_node_pool {
    cluster_id = cluster_id, nodepool_id = pool_id, spec = { initialNodeCount = want },
  }
  if not updated then fail("cannot scale node pool %s: %s", pool_name, tostring(err)) end
  local new = {}
  for _, n in ipairs(pool_nodes(cluster_id, pool_id)) do
    if not had[n.metadata.uid] then new[#new + 1] = n end
  end
  if #new == 0 then fail("node pool %s shows no new node after the update", pool_name) end
  return new
end

-- 4. The job that makes the new nodes (each new node names it).
local function wait_job(new)
  local job_id = new[1].status.jobID
  if type(job_id) ~= "string" or job_id == "" then return end
  local job, err = client:wait({ service = "cce", job_id = job_id }, waiting)
  if job then
    say("scale-out job %s: %s (%d nodes)", job_id, job.status.phase, #new)
  else
    say("scale-out job %s: %s", job_id, err.code or "failed")
  end
end

-- 5. Every new node Active; returns how many are not.
local function wait_nodes(cluster_id, new)
  local failed = 0
  for _, n in ipairs(new) do
    local node, err = client:wait_for("cce", "node_active",
      { cluster_id = cluster_id, node_id = n.metadata.uid }, waiting)
    if node then
      say("  node %s %s %s", node.metadata.name, tostring(node.status.privateIP),
          node.status.phase)
    else
      failed = failed + 1
      say("  node %s %s %s", n.metadata.name, tostring(n.status.privateIP),
          err.code or err.message or tostring(err))
    end
  end
  return failed
end

local function main()
  local t0 = os.time()
  local cluster_id = find_cluster()
  local pool = find_pool(cluster_id)
  local new = scale_out(cluster_id, pool)
  wait_job(new)
  local failed = wait_nodes(cluster_id, new)
  -- 6. The pool Synchronized.
  local synced, err = client:wait_for("cce", "node_pool_synchronized",
    { cluster_id = cluster_id, nodepool_id = pool.metadata.uid }, waiting)
  if not synced then
    fail("node pool %s did not synchronize: %s (%d of %d new nodes failed)", pool_name,
         err.message or tostring(err), failed, #new)
  end
  if failed > 0 then fail("%d of %d new nodes failed", failed, #new) end
  say("node pool %s: %s, %d nodes (%d s)", pool_name, tostring(synced.status.phase),
      tonumber(synced.status.currentNode) or 0, os.time() - t0)
end

main()
client:close()
