-- The emulator's ECS servers, through the client: create (a job with a
-- sub-job per server, BUILD then ACTIVE), the named waiters, stop, start,
-- reboot and delete following their jobs, list pages (offset is a page
-- number), injected failures, 404s and 409s, servers from the inventory.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"

local PID = "6a6b6c6d6e6f70717273747576777879"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

before_each(function() session.restore() end)

local function status(id)
  return assert(client.ecs:show_server { server_id = id }).server.status
end

local function create(n, name)
  return assert(client.ecs:create_post_paid_servers { server = {
    name = name or "web", flavorRef = "s6.small.1", imageRef = "img-1", vpcid = "vpc-1",
    nics = { { subnet_id = "subnet-1" } }, root_volume = { volumetype = "SSD" },
    count = n } })
end

local function refs(ids)
  local out = {}
  for i, id in ipairs(ids) do out[i] = { id = id } end
  return out
end

describe("emulator ECS #server", function()
  it("creates servers: BUILD until the job ends, then ACTIVE; the waiters see it", function()
    local made = create(2)
    assert.is_string(made.job_id)
    assert.are.equal(2, #made.serverIds)
    local ids = made.serverIds
    local s = assert(client.ecs:show_server { server_id = ids[1] }).server
    assert.are.equal("BUILD", s.status)
    assert.are.equal("web-0001", s.name)
    assert.are.equal("s6.small.1", s.flavor.id)
    assert.is_string(s.addresses["vpc-1"][1].addr)
    assert.is_string(s.created)
    local job = assert(client.ecs:show_job { job_id = made.job_id })
    assert.are.equal(2, job.entities.sub_jobs_total)
    assert.are.equal(ids[2], job.entities.sub_jobs[2].entities.server_id)
    assert.truthy(job.status == "INIT" or job.status == "RUNNING", job.status)

    local final, err = client:wait(made, FAST)
    assert.is_nil(err)
    assert.are.equal("SUCCESS", final.status)
    assert.are.equal("SUCCESS", final.entities.sub_jobs[1].status)
    local active = assert(client:wait_for("ecs", "server_active", { server_id = ids[2] }, FAST))
    assert.are.equal("ACTIVE", active.server.status)
    assert.are.equal("ACTIVE", status(ids[1]))
    -- two servers, two addresses
    local a1 = assert(client.ecs:show_server { server_id = ids[1] }).server.addresses["vpc-1"][1]
    local a2 = assert(client.ecs:show_server { server_id = ids[2] }).server.addresses["vpc-1"][1]
    assert.are_not.equal(a1.addr, a2.addr)
  end)

  it("stops, starts, reboots and deletes servers as their jobs end", function()
    local made = create(2)
    assert(client:wait(made, FAST))
    local ids = made.serverIds

    local stop = assert(client.ecs:batch_stop_servers { ["os-stop"] = {
      servers = refs(ids), type = "SOFT" } })
    assert.is_string(stop.job_id)
    -- a server whose job still runs takes no other action
    local _, busy = client.ecs:batch_start_servers { ["os-start"] = { servers = refs { ids[1] } } }
    assert.are.equal(409, busy.status)
    assert(client:wait_for("ecs", "server_shutoff", { server_id = ids[1] }, FAST))
    assert.are.equal("SHUTOFF", status(ids[2]))

    local start = assert(client.ecs:batch_start_servers { ["os-start"] = {
      servers = refs { ids[1] } } })
    assert(client:wait(start, FAST))
    assert.are.equal("ACTIVE", status(ids[1]))
    assert.are.equal("SHUTOFF", status(ids[2]))

    local reboot = assert(client.ecs:batch_reboot_servers { reboot = {
      servers = refs { ids[1] }, type = "SOFT" } })
    assert.are.equal("REBOOT", status(ids[1]))
    assert(client:wait(reboot, FAST))
    assert.are.equal("ACTIVE", status(ids[1]))

    local del = assert(client.ecs:delete_servers { servers = refs(ids) })
    assert.is_string(del.job_id)
    assert.are.equal(true, assert(client:wait_for("ecs", "server_deleted",
                                                  { server_id = ids[1] }, FAST)))
    local _, err = client.ecs:show_server { server_id = ids[2] }
    assert.are.equal(404, err.status)
    assert.are.equal(0, assert(client.ecs:list_servers_details {}).count)
  end)

  it("lists servers a page at a time: offset is a page number", function()
    local made = create(3, "api")
    assert(client:wait(made, FAST))
    local all = assert(client.ecs:list_servers_details {})
    assert.are.equal(3, all.count)
    local seen = {}
    for page = 1, 3 do
      local res = assert(client.ecs:list_servers_details { offset = page, limit = 1 })
      assert.are.equal(3, res.count)
      assert.are.equal(1, #res.servers)
      seen[#seen + 1] = res.servers[1].id
    end
    assert.are.same(made.serverIds, seen)
    local last = assert(client.ecs:list_servers_details { offset = 2, limit = 2 })
    assert.are.equal(1, #last.servers)
    assert.are.equal(made.serverIds[3], last.servers[1].id)
    -- filters
    assert.are.equal(1, assert(client.ecs:list_servers_details { name = "api-0002" }).count)
    assert.are.equal(3, assert(client.ecs:list_servers_details { status = "ACTIVE" }).count)
    assert.are.equal(0, assert(client.ecs:list_servers_details { status = "SHUTOFF" }).count)
    local _, err = client.ecs:list_servers_details { offset = 0, limit = 1 }
    assert.are.equal(400, err.status)
  end)

  it("fails a job on POST /_emulator/fail: err with the reason, the server ERROR", function()
    local made = create(1)
    emu:fail { made.job_id }
    local _, err = client:wait(made, FAST)
    assert.is_table(err)
    assert.truthy(tostring(err.message):find("injected failure", 1, true), tostring(err.message))
    assert.are.equal("ERROR", status(made.serverIds[1]))
    local job = assert(client.ecs:show_job { job_id = made.job_id })
    assert.are.equal("FAIL", job.status)
    local _, werr = client:wait_for("ecs", "server_active",
                                    { server_id = made.serverIds[1] }, FAST)
    assert.is_table(werr)
  end)

  it("fails one server's sub-job: the others still take their state", function()
    local made = create(2)
    assert(client:wait(made, FAST))
    local ids = made.serverIds
    emu:fail { ids[2] }
    local stop = assert(client.ecs:batch_stop_servers { ["os-stop"] = { servers = refs(ids) } })
    local _, err = client:wait(stop, FAST)
    assert.is_table(err)
    assert.are.equal("SHUTOFF", status(ids[1]))
    assert.are.equal("ACTIVE", status(ids[2]))
  end)

  it("answers 404 for unknown servers and jobs, 400 for a missing field", function()
    local _, err = client.ecs:show_server { server_id = "no-such-server" }
    assert.are.equal(404, err.status)
    _, err = client.ecs:batch_stop_servers { ["os-stop"] = { servers = { { id = "nope" } } } }
    assert.are.equal(404, err.status)
    _, err = client.ecs:show_job { job_id = "no-such-job" }
    assert.are.equal(404, err.status)
    _, err = client.ecs:create_post_paid_servers { server = { name = "x", imageRef = "i",
      vpcid = "v", nics = { { subnet_id = "s" } } } }
    assert.is_table(err)
  end)

  it("starts from the inventory's ecs.servers", function()
    local inv = session.inventory()
    inv.ecs = { servers = { { id = "srv-inv-1", name = "inv", status = "SHUTOFF",
      flavor = { id = "s6.large.2" }, addresses = { ["vpc-9"] = { { addr = "10.0.0.5" } } } } } }
    assert(emu:inventory(inv))
    assert.are.equal("SHUTOFF", status("srv-inv-1"))
    local res = assert(client.ecs:list_servers_details { ip = "10.0.0.5" })
    assert.are.equal(1, res.count)
    local start = assert(client.ecs:batch_start_servers { ["os-start"] = {
      servers = { { id = "srv-inv-1" } } } })
    assert(client:wait_for("ecs", "server_active", { server_id = "srv-inv-1" }, FAST))
    assert.are.equal("SUCCESS", assert(client:wait(start, FAST)).status)
  end)
end)

describe("emulator ELB members follow their ECS servers #server", function()
  local function member_status(pool, id)
    return assert(client.elb:show_member { pool_id = pool, member_id = id }).member.operating_status
  end

  it("is ONLINE while its address is an ACTIVE server's, OFFLINE otherwise", function()
    local made = create(1)
    local id = made.serverIds[1]
    local ip = assert(client.ecs:show_server { server_id = id }).server.addresses["vpc-1"][1].addr
    local lb = assert(client.elb:create_load_balancer { loadbalancer = {
      name = "web", availability_zone_list = { "az1" }, vip_subnet_cidr_id = "subnet-1" } })
    local pool = assert(client.elb:create_pool { pool = { loadbalancer_id = lb.loadbalancer.id,
      lb_algorithm = "ROUND_ROBIN", protocol = "HTTP" } }).pool.id
    assert(client.elb:create_health_monitor { healthmonitor = { pool_id = pool, type = "HTTP",
      delay = 5, timeout = 3, max_retries = 3 } })
    local m = assert(client.elb:create_member { pool_id = pool, member = {
      address = ip, protocol_port = 80, subnet_cidr_id = "subnet-1" } }).member
    local stray = assert(client.elb:create_member { pool_id = pool, member = {
      address = "192.0.2.99", protocol_port = 80 } }).member
    -- BUILD: not healthy yet
    assert.are.equal("OFFLINE", m.operating_status)
    local healthy = assert(client:wait_for("elb", "member_healthy",
                                           { pool_id = pool, member_id = m.id }, FAST))
    assert.are.equal("ONLINE", healthy.member.operating_status)
    assert.are.equal("OFFLINE", member_status(pool, stray.id))

    local list = assert(client.elb:list_members { pool_id = pool })
    assert.are.equal(2, #list.members)
    assert.are.equal(1, #assert(client.elb:list_members { pool_id = pool, limit = 1 }).members)

    local stop = assert(client.ecs:batch_stop_servers { ["os-stop"] = { servers = refs { id } } })
    assert(client:wait(stop, FAST))
    assert.are.equal("OFFLINE", member_status(pool, m.id))

    assert(client.elb:delete_member { pool_id = pool, member_id = stray.id })
    local _, err = client.elb:show_member { pool_id = pool, member_id = stray.id }
    assert.are.equal(404, err.status)
  end)
end)
