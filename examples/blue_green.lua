-- A blue/green rollout behind an ELB pool: the servers in the pool now are
-- blue. Create as many green servers (ECS) from the new image, wait until
-- they are ACTIVE, add them to the pool, wait until the load balancer's
-- health check finds every one ONLINE, then drain the blue members (weight
-- 0 for HWCLOUD_DRAIN_SECONDS), remove them from the pool and delete the
-- blue servers. If a green server does not come up or does not turn
-- healthy, the green members and servers are removed again and blue keeps
-- serving: the exit status is then 1.
--
-- Against the bundled emulator, with the inventory next to this file (a
-- load balancer, its listener, pool pool-app with a health monitor, and
-- two blue servers in it):
--   bin/hwcloud-emulator --port 8080 --job-seconds 1 --inventory examples/blue_green.json &
--   HWCLOUD_ENDPOINT=http://127.0.0.1:8080 HWCLOUD_POOL_ID=pool-app HWCLOUD_SUBNET_ID=subnet-app \
--     HWCLOUD_DRAIN_SECONDS=1 lua5.4 examples/blue_green.lua
-- Against Huawei Cloud: unset HWCLOUD_ENDPOINT and set HUAWEICLOUD_SDK_AK,
-- HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID and HUAWEICLOUD_SDK_REGION.
--
-- HWCLOUD_POOL_ID: the ELB v3 pool (it needs a health monitor: without one
-- members never report ONLINE). HWCLOUD_SUBNET_ID: the network id the green
-- servers' NIC joins. HWCLOUD_IMAGE_ID and HWCLOUD_FLAVOR: the green
-- servers' image and flavor (default: the first blue server's).
-- HWCLOUD_RELEASE names the green servers (app-<release>-0001, ...).
-- HWCLOUD_HEALTH_TIMEOUT (seconds, default 600) bounds the wait for health.

local hwcloud = require "hwcloud"

local env = os.getenv
local format = string.format

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
  io.stderr:write("blue/green: ", tostring(cerr), "\n")
  os.exit(2)
end

local function say(fmt, ...)
  io.stdout:write(format(fmt, ...), "\n")
  io.stdout:flush() -- progress goes to stderr: keep the two in order
end

local function die(fmt, ...)
  io.stderr:write("blue/green: ", format(fmt, ...), "\n")
  client:close()
  os.exit(1)
end

-- a variable set and not empty, else nil
local function var(name)
  local v = env(name)
  if v == "" then return nil end
  return v
end

local pool_id = var("HWCLOUD_POOL_ID")
local subnet_id = var("HWCLOUD_SUBNET_ID")
if not pool_id or not subnet_id then
  io.stderr:write("blue/green: set HWCLOUD_POOL_ID (the ELB pool) and HWCLOUD_SUBNET_ID ",
                  "(the green servers' network)\n")
  os.exit(2)
end
local release = var("HWCLOUD_RELEASE") or os.date("!%Y%m%d%H%M")
local drain = math.tointeger(tonumber(env("HWCLOUD_DRAIN_SECONDS") or "30")) or 30
local waiting = { interval = 1, max_interval = 10,
                  timeout = tonumber(env("HWCLOUD_HEALTH_TIMEOUT") or "600") or 600 }
local t0 = os.time()

-- 1. Blue: the pool's members now, and the servers at their addresses
-- ({ member =, server = } each).
local function blue_side()
  local pool, perr = client.elb:show_pool { pool_id = pool_id }
  if not pool then die("cannot read pool %s: %s", pool_id, tostring(perr)) end
  if (pool.pool.healthmonitor_id or "") == "" then
    die("pool %s has no health monitor: its members would never report ONLINE", pool_id)
  end
  local blue = {}
  for member, err in client:each("elb", "list_members", { pool_id = pool_id }) do
    if not member then die("cannot list the members of pool %s: %s", pool_id, tostring(err)) end
    local found, ferr = client.ecs:list_servers_details { ip_eq = member.address }
    if not found then die("cannot find the server at %s: %s", member.address, tostring(ferr)) end
    blue[#blue + 1] = { member = member, server = found.servers[1] }
  end
  if #blue == 0 then die("pool %s has no members: nothing to replace", pool_id) end
  if not blue[1].server then
    die("no server has the address %s of a member", blue[1].member.address)
  end
  local names = {}
  for i, b in ipairs(blue) do names[i] = b.server and b.server.name or b.member.address end
  say("1. blue: %d members (%s)", #blue, table.concat(names, ", "))
  return blue
end

-- Undoes what green has done so far, so blue keeps serving alone.
local function roll_back(members, server_ids, why)
  say("   ! %s", why)
  say("   rolling back: blue keeps serving")
  for _, m in ipairs(members) do
    client.elb:delete_member { pool_id = pool_id, member_id = m.id }
  end
  if #server_ids > 0 then
    local refs = {}
    for i, id in ipairs(server_ids) do refs[i] = { id = id } end
    local job = client.ecs:delete_servers { servers = refs, delete_volume = true }
    if job then client:wait(job, waiting) end
  end
  client:close()
  os.exit(1)
end

-- 2. Green: as many servers as blue has, like the first blue one but from
-- the new image, until ACTIVE. Returns their ids.
local function create_green(blue, vpc_id)
  local model = blue[1].server
  local made, err = client.ecs:create_post_paid_servers { server = {
    name = "app-" .. release, count = #blue,
    imageRef = var("HWCLOUD_IMAGE_ID") or (model.image and model.image.id),
    flavorRef = var("HWCLOUD_FLAVOR") or (model.flavor and model.flavor.id),
    vpcid = vpc_id, nics = { { subnet_id = subnet_id } },
    root_volume = { volumetype = "SSD" },
    availability_zone = model["OS-EXT-AZ:availability_zone"],
  } }
  if not made then die("cannot create the green servers: %s", tostring(err)) end
  local ids = made.serverIds or {}
  local _, jerr = client:wait(made, waiting)
  if jerr then roll_back({}, ids, "green servers did not come up: " .. tostring(jerr.message)) end
  return ids
end

-- 3. Green into the pool, on blue's port and subnet; then wait until the
-- health check finds each ONLINE. Returns the green members.
local function add_green(blue, green_ids, vpc_id)
  local port = blue[1].member.protocol_port
  local subnet_cidr = blue[1].member.subnet_cidr_id
  local green = {}
  for _, id in ipairs(green_ids) do
    local s, serr = client.ecs:show_server { server_id = id }
    if not s then roll_back(green, green_ids, "cannot read server " .. id .. ": " .. tostring(serr)) end
    local addr = s.server.addresses[vpc_id][1].addr
    local m, merr = client.elb:create_member { pool_id = pool_id, member = {
      address = addr, protocol_port = port, subnet_cidr_id = subnet_cidr, name = s.server.name } }
    if not m then roll_back(green, green_ids, "cannot add " .. addr .. ": " .. tostring(merr)) end
    green[#green + 1] = m.member
  end
  for i, m in ipairs(green) do
    local _, herr = client:wait_for("elb", "member_healthy",
                                    { pool_id = pool_id, member_id = m.id }, waiting)
    if herr then
      roll_back(green, green_ids, format("member %s (%s) is not healthy: %s", m.id, m.address,
                                         tostring(herr.message)))
    end
    say("   healthy: %s %s (%d/%d)", m.name, m.address, i, #green)
  end
  return green
end

-- 4. Drain blue (weight 0: no new connections, open ones finish), then
-- take it out of the pool.
local function remove_blue(blue)
  for _, b in ipairs(blue) do
    local _, err = client.elb:update_member { pool_id = pool_id, member_id = b.member.id,
                                              member = { weight = 0 } }
    if err then die("cannot drain member %s: %s", b.member.id, tostring(err)) end
  end
  if drain > 0 then os.execute(format("sleep %d", drain)) end
  for _, b in ipairs(blue) do
    local _, err = client.elb:delete_member { pool_id = pool_id, member_id = b.member.id }
    if err then die("cannot remove member %s: %s", b.member.id, tostring(err)) end
  end
end

-- 5. The blue servers go.
local function delete_blue(blue)
  local refs = {}
  for _, b in ipairs(blue) do
    if b.server then refs[#refs + 1] = { id = b.server.id } end
  end
  say("5. deleting %d blue servers", #refs)
  local del, err = client.ecs:delete_servers { servers = refs, delete_volume = true }
  if not del then die("cannot delete the blue servers: %s", tostring(err)) end
  local _, werr = client:wait(del, waiting)
  if werr then die("deleting the blue servers: %s", tostring(werr.message)) end
end

say("blue/green rollout of release %s behind pool %s", release, pool_id)
local blue = blue_side()
local vpc_id = next(blue[1].server.addresses)
say("2. creating %d green servers app-%s-*", #blue, release)
local green_ids = create_green(blue, vpc_id)
say("   green servers active: %d/%d", #green_ids, #blue)

say("3. adding the green servers to pool %s", pool_id)
local green = add_green(blue, green_ids, vpc_id)

say("4. draining %d blue members for %d s, then removing them", #blue, drain)
remove_blue(blue)
delete_blue(blue)

say("")
say("pool %s serves release %s from %d green servers (%d s); blue is gone",
    pool_id, release, #green, os.time() - t0)
client:close()
