-- The emulator's ELB v3, through the client: load balancers PENDING_CREATE
-- then ACTIVE (the named waiters see it), listeners, pools, health
-- monitors and members created, listed by marker pages, shown, updated and
-- deleted; members' operating_status following the pool's monitor and the
-- ECS server at their address; answers carrying every field the
-- descriptions require; 404s, 409s and injected failures; resources from
-- the inventory and in the state.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local answers = require "spec.helpers.answers"

local PID = "7a6b6c6d6e6f70717273747576777880"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

before_each(function() session.restore() end)

-- Asserts that `res` is what operation `op`'s description answers.
local function conforms(op, res)
  return answers.conforms("elb", op, res)
end

local function new_lb(name)
  return assert(client.elb:create_load_balancer { loadbalancer = {
    name = name or "web", availability_zone_list = { "az1" },
    vip_subnet_cidr_id = "subnet-1", vpc_id = "vpc-1" } }).loadbalancer
end

local function new_pool(lb_id, extra)
  local p = { loadbalancer_id = lb_id, lb_algorithm = "ROUND_ROBIN", protocol = "HTTP" }
  for k, v in pairs(extra or {}) do p[k] = v end
  return assert(client.elb:create_pool { pool = p }).pool
end

local function new_monitor(pool_id)
  return assert(client.elb:create_health_monitor { healthmonitor = { pool_id = pool_id,
    type = "HTTP", delay = 5, timeout = 3, max_retries = 3, url_path = "/health" } })
    .healthmonitor
end

local function server(name)
  local made = assert(client.ecs:create_post_paid_servers { server = {
    name = name, flavorRef = "s6.small.1", imageRef = "img-1", vpcid = "vpc-1",
    nics = { { subnet_id = "subnet-1" } }, root_volume = { volumetype = "SSD" } } })
  local id = made.serverIds[1]
  local ip = assert(client.ecs:show_server { server_id = id }).server.addresses["vpc-1"][1].addr
  return made, id, ip
end

describe("emulator ELB load balancers #server", function()
  it("creates one PENDING_CREATE, ACTIVE after --job-seconds; load_balancer_active sees it", function()
    local res = assert(client.elb:create_load_balancer { loadbalancer = {
      name = "web", availability_zone_list = { "az1" }, vip_subnet_cidr_id = "subnet-1",
      vpc_id = "vpc-1" } })
    conforms("create_load_balancer", res)
    local lb = res.loadbalancer
    assert.are.equal(res.loadbalancer_id, lb.id)
    assert.are.equal("PENDING_CREATE", lb.provisioning_status)
    assert.are.equal("web", lb.name)
    assert.are.same({ "az1" }, lb.availability_zone_list)
    assert.is_string(lb.vip_address)
    assert.are_not.equal("", lb.vip_address)
    local shown = conforms("show_load_balancer",
      assert(client.elb:show_load_balancer { loadbalancer_id = lb.id }))
    assert.are.equal("PENDING_CREATE", shown.loadbalancer.provisioning_status)
    local active = assert(client:wait_for("elb", "load_balancer_active",
                                          { loadbalancer_id = lb.id }, FAST))
    assert.are.equal("ACTIVE", active.loadbalancer.provisioning_status)
    assert.are.equal("ONLINE", active.loadbalancer.operating_status)
  end)

  it("lists by marker pages with page_info, filters by name, updates and deletes", function()
    local ids = {}
    for i = 1, 3 do ids[i] = new_lb("lb-" .. i).id end
    local all = conforms("list_load_balancers", assert(client.elb:list_load_balancers {}))
    assert.are.equal(3, #all.loadbalancers)
    local first = assert(client.elb:list_load_balancers { limit = 2 })
    assert.are.equal(2, #first.loadbalancers)
    assert.are.equal(2, first.page_info.current_count)
    assert.are.equal(ids[2], first.page_info.next_marker)
    local rest = assert(client.elb:list_load_balancers { limit = 2, marker = ids[2] })
    assert.are.equal(1, #rest.loadbalancers)
    assert.are.equal(ids[3], rest.loadbalancers[1].id)
    assert.is_nil(rest.page_info.next_marker)
    local seen = {}
    for lb in client:each("elb", "list_load_balancers", { limit = 1 }) do seen[#seen + 1] = lb.id end
    assert.are.same(ids, seen)
    local named = assert(client.elb:list_load_balancers { name = { "lb-2" } })
    assert.are.equal(1, #named.loadbalancers)
    assert.are.equal(ids[2], named.loadbalancers[1].id)

    local up = conforms("update_load_balancer", assert(client.elb:update_load_balancer {
      loadbalancer_id = ids[1], loadbalancer = { name = "renamed", description = "d" } }))
    assert.are.equal("renamed", up.loadbalancer.name)
    assert.are.equal(ids[1], up.loadbalancer.id)
    assert(client.elb:delete_load_balancer { loadbalancer_id = ids[1] })
    assert.are.equal(true, assert(client:wait_for("elb", "load_balancer_deleted",
                                                  { loadbalancer_id = ids[1] }, FAST)))
    local _, err = client.elb:show_load_balancer { loadbalancer_id = ids[1] }
    assert.are.equal(404, err.status)
    assert.are.equal("ELB.8904", err.code)
    assert.are.equal(2, #assert(client.elb:list_load_balancers {}).loadbalancers)
  end)

  it("ends ERROR when its id is on the fail list: the waiter says so", function()
    local lb = new_lb()
    emu:fail { lb.id }
    local _, err = client:wait_for("elb", "load_balancer_active", { loadbalancer_id = lb.id }, FAST)
    assert.is_table(err)
    assert.are.equal("ERROR", assert(client.elb:show_load_balancer {
      loadbalancer_id = lb.id }).loadbalancer.provisioning_status)
  end)

  it("refuses a request the description refuses, and deletes nothing still in use", function()
    local _, err = client.elb:create_load_balancer { loadbalancer = { name = "no az" } }
    assert.is_table(err)
    local lb = new_lb()
    local pool = new_pool(lb.id)
    _, err = client.elb:delete_load_balancer { loadbalancer_id = lb.id }
    assert.are.equal(409, err.status)
    assert(client.elb:delete_pool { pool_id = pool.id })
    assert(client.elb:delete_load_balancer { loadbalancer_id = lb.id })
  end)
end)

describe("emulator ELB listeners, pools and health monitors #server", function()
  it("links a listener, its pool and the pool's monitor both ways", function()
    local lb = new_lb()
    local l = conforms("create_listener", assert(client.elb:create_listener { listener = {
      loadbalancer_id = lb.id, protocol = "HTTP", protocol_port = 80, name = "http" } }))
      .listener
    assert.are.same({ { id = lb.id } }, l.loadbalancers)
    assert.are.equal("", l.default_pool_id)
    -- a second listener on the same port is refused
    local _, err = client.elb:create_listener { listener = {
      loadbalancer_id = lb.id, protocol = "HTTP", protocol_port = 80 } }
    assert.are.equal(409, err.status)

    local pool = conforms("create_pool", assert(client.elb:create_pool { pool = {
      listener_id = l.id, lb_algorithm = "ROUND_ROBIN", protocol = "HTTP" } })).pool
    assert.are.same({ { id = lb.id } }, pool.loadbalancers)
    assert.are.same({ { id = l.id } }, pool.listeners)
    assert.are.equal("", pool.healthmonitor_id)
    -- the listener sends to it now, the load balancer lists both
    assert.are.equal(pool.id, assert(client.elb:show_listener { listener_id = l.id })
      .listener.default_pool_id)
    local shown = assert(client.elb:show_load_balancer { loadbalancer_id = lb.id }).loadbalancer
    assert.are.same({ { id = l.id } }, shown.listeners)
    assert.are.same({ { id = pool.id } }, shown.pools)

    local h = conforms("create_health_monitor", assert(client.elb:create_health_monitor {
      healthmonitor = { pool_id = pool.id, type = "HTTP", delay = 5, timeout = 3,
                        max_retries = 3, url_path = "/health" } })).healthmonitor
    assert.are.same({ { id = pool.id } }, h.pools)
    assert.are.equal("/health", h.url_path)
    assert.are.equal(h.id, conforms("show_pool", assert(client.elb:show_pool {
      pool_id = pool.id })).pool.healthmonitor_id)
    _, err = client.elb:create_health_monitor { healthmonitor = { pool_id = pool.id,
      type = "TCP", delay = 5, timeout = 3, max_retries = 3 } }
    assert.are.equal(409, err.status)
    assert.are.equal(10, conforms("update_health_monitor", assert(
      client.elb:update_health_monitor { healthmonitor_id = h.id,
                                         healthmonitor = { delay = 10 } })).healthmonitor.delay)
    conforms("show_health_monitor", assert(client.elb:show_health_monitor {
      healthmonitor_id = h.id }))
    assert.are.equal(1, #conforms("list_health_monitors",
      assert(client.elb:list_health_monitors {})).healthmonitors)
    assert.are.equal("LEAST_CONNECTIONS", conforms("update_pool", assert(client.elb:update_pool {
      pool_id = pool.id, pool = { lb_algorithm = "LEAST_CONNECTIONS" } })).pool.lb_algorithm)
    assert.are.equal(1, #conforms("list_pools", assert(client.elb:list_pools {})).pools)
    assert.are.equal(0, #assert(client.elb:list_listeners { loadbalancer_id = { "other" } })
      .listeners)
    assert.are.equal(1, #conforms("list_listeners", assert(client.elb:list_listeners {
      loadbalancer_id = { lb.id } })).listeners)
    assert.are.equal("h2", conforms("update_listener", assert(client.elb:update_listener {
      listener_id = l.id, listener = { name = "h2" } })).listener.name)

    -- a pool with a monitor is not deleted; the order of a teardown works
    _, err = client.elb:delete_pool { pool_id = pool.id }
    assert.are.equal(409, err.status)
    assert(client.elb:delete_health_monitor { healthmonitor_id = h.id })
    assert(client.elb:delete_pool { pool_id = pool.id })
    assert.are.equal("", assert(client.elb:show_listener { listener_id = l.id })
      .listener.default_pool_id)
    assert(client.elb:delete_listener { listener_id = l.id })
    assert(client.elb:delete_load_balancer { loadbalancer_id = lb.id })
    for _, call in ipairs {
      { "show_listener", { listener_id = l.id } }, { "show_pool", { pool_id = pool.id } },
      { "show_health_monitor", { healthmonitor_id = h.id } } } do
      local _, e = client.elb[call[1]](client.elb, call[2])
      assert.are.equal(404, e.status, call[1])
    end
  end)

  it("answers 404 for what the request names and does not exist", function()
    local _, err = client.elb:create_listener { listener = { loadbalancer_id = "no-lb",
      protocol = "HTTP", protocol_port = 80 } }
    assert.are.equal(404, err.status)
    _, err = client.elb:create_pool { pool = { loadbalancer_id = "no-lb",
      lb_algorithm = "ROUND_ROBIN", protocol = "HTTP" } }
    assert.are.equal(404, err.status)
    _, err = client.elb:create_health_monitor { healthmonitor = { pool_id = "no-pool",
      type = "HTTP", delay = 5, timeout = 3, max_retries = 3 } }
    assert.are.equal(404, err.status)
    _, err = client.elb:create_member { pool_id = "no-pool", member = { address = "10.0.0.1",
      protocol_port = 80 } }
    assert.are.equal(404, err.status)
    _, err = client.elb:list_members { pool_id = "no-pool" }
    assert.are.equal(404, err.status)
  end)
end)

describe("emulator ELB members #server", function()
  it("report UNKNOWN, NO_MONITOR, OFFLINE and ONLINE as the service does", function()
    local lone = new_pool(nil, { type = "instance", vpc_id = "vpc-1" })
    local made, id, ip = server("web")
    local m0 = assert(client.elb:create_member { pool_id = lone.id, member = {
      address = ip, protocol_port = 80 } }).member
    assert.are.equal("UNKNOWN", m0.operating_status)

    local lb = new_lb()
    local l = assert(client.elb:create_listener { listener = { loadbalancer_id = lb.id,
      protocol = "HTTP", protocol_port = 80 } }).listener
    local pool = new_pool(nil, { listener_id = l.id })
    local res = conforms("create_member", assert(client.elb:create_member { pool_id = pool.id,
      member = { address = ip, protocol_port = 8080, subnet_cidr_id = "subnet-1", name = "m" } }))
    local m = res.member
    assert.are.equal("NO_MONITOR", m.operating_status)
    assert.are.same({ { listener_id = l.id, operating_status = "NO_MONITOR" } }, m.status)
    new_monitor(pool.id)
    -- the server is still BUILD: not healthy yet
    local shown = conforms("show_member", assert(client.elb:show_member { pool_id = pool.id,
      member_id = m.id }))
    assert.are.equal("OFFLINE", shown.member.operating_status)
    assert(client:wait(made, FAST))
    local healthy = assert(client:wait_for("elb", "member_healthy",
                                           { pool_id = pool.id, member_id = m.id }, FAST))
    assert.are.equal("ONLINE", healthy.member.operating_status)
    assert.are.equal("ONLINE", healthy.member.status[1].operating_status)
    -- disabled: OFFLINE
    local up = conforms("update_member", assert(client.elb:update_member { pool_id = pool.id,
      member_id = m.id, member = { admin_state_up = false, weight = 5 } }))
    assert.are.equal("OFFLINE", up.member.operating_status)
    assert.are.equal(5, up.member.weight)
    assert(client.elb:update_member { pool_id = pool.id, member_id = m.id,
                                      member = { admin_state_up = true } })
    -- its server stopped: OFFLINE
    assert(client:wait(assert(client.ecs:batch_stop_servers { ["os-stop"] = {
      servers = { { id = id } } } }), FAST))
    assert.are.equal("OFFLINE", assert(client.elb:show_member { pool_id = pool.id,
      member_id = m.id }).member.operating_status)
    -- the same address and port twice in a pool is refused
    local _, err = client.elb:create_member { pool_id = pool.id, member = { address = ip,
      protocol_port = 8080 } }
    assert.are.equal(409, err.status)
    -- a member is shown under its own pool only
    _, err = client.elb:show_member { pool_id = lone.id, member_id = m.id }
    assert.are.equal(404, err.status)
  end)

  it("lists a pool's members by pages and filters, and deletes them", function()
    local lb = new_lb()
    local pool = new_pool(lb.id)
    local ids = {}
    for i = 1, 3 do
      ids[i] = assert(client.elb:create_member { pool_id = pool.id, member = {
        address = "192.0.2." .. i, protocol_port = 80 } }).member.id
    end
    local page = conforms("list_members", assert(client.elb:list_members {
      pool_id = pool.id, limit = 2 }))
    assert.are.equal(2, #page.members)
    assert.are.equal(ids[2], page.page_info.next_marker)
    local n = 0
    for _ in client:each("elb", "list_members", { pool_id = pool.id, limit = 1 }) do n = n + 1 end
    assert.are.equal(3, n)
    local one = assert(client.elb:list_members { pool_id = pool.id, address = { "192.0.2.2" } })
    assert.are.equal(1, #one.members)
    assert.are.equal(ids[2], one.members[1].id)
    assert.are.same({ { id = ids[1] }, { id = ids[2] }, { id = ids[3] } },
      assert(client.elb:show_pool { pool_id = pool.id }).pool.members)
    local _, err = client.elb:delete_pool { pool_id = pool.id }
    assert.are.equal(409, err.status)
    for _, id in ipairs(ids) do
      assert(client.elb:delete_member { pool_id = pool.id, member_id = id })
    end
    _, err = client.elb:delete_member { pool_id = pool.id, member_id = ids[1] }
    assert.are.equal(404, err.status)
    assert.are.equal(0, #assert(client.elb:list_members { pool_id = pool.id }).members)
    assert(client.elb:delete_pool { pool_id = pool.id })
  end)
end)

describe("emulator ELB inventory and state #server", function()
  it("starts from the inventory's elb section and shows it in the state", function()
    local inv = session.inventory()
    inv.ecs = { servers = { { id = "srv-blue-1", name = "blue-1", status = "ACTIVE",
      addresses = { ["vpc-1"] = { { addr = "10.0.0.21", version = "4" } } } } } }
    inv.elb = {
      loadbalancers = { { id = "lb-inv", name = "prod", provisioning_status = "ACTIVE",
                          vip_address = "10.0.0.2" } },
      listeners = { { id = "lsn-inv", loadbalancer_id = "lb-inv", protocol = "HTTP",
                      protocol_port = 80, default_pool_id = "pool-inv" } },
      pools = { { id = "pool-inv", loadbalancer_id = "lb-inv", lb_algorithm = "ROUND_ROBIN",
                  protocol = "HTTP" } },
      healthmonitors = { { id = "hm-inv", pool_id = "pool-inv", type = "HTTP", delay = 5,
                           timeout = 3, max_retries = 3 } },
      members = { { id = "mem-inv", pool_id = "pool-inv", address = "10.0.0.21",
                    protocol_port = 80, weight = 1 } },
    }
    assert(emu:inventory(inv))
    local lb = conforms("show_load_balancer", assert(client.elb:show_load_balancer {
      loadbalancer_id = "lb-inv" })).loadbalancer
    assert.are.equal("ACTIVE", lb.provisioning_status)
    assert.are.same({ { id = "lsn-inv" } }, lb.listeners)
    local m = conforms("show_member", assert(client.elb:show_member { pool_id = "pool-inv",
      member_id = "mem-inv" })).member
    assert.are.equal("ONLINE", m.operating_status)
    assert.are.equal("hm-inv", assert(client.elb:show_pool { pool_id = "pool-inv" })
      .pool.healthmonitor_id)
    local made = new_lb("second")
    local st = emu:state()
    local elb = st.projects[PID].inventory.elb
    assert.are.equal(2, #elb.loadbalancers)
    assert.are.equal(made.id, elb.loadbalancers[2].id)
    assert.are.equal("mem-inv", elb.members[1].id)
    -- a broken section is refused, naming it
    local body, status = emu:admin("POST", "/_emulator/inventory",
      { elb = { pools = { { name = "no id" } } } })
    assert.are.equal(400, status)
    assert.truthy(body.error_msg:find("elb.pools[1].id", 1, true), body.error_msg)
  end)
end)

describe("emulator ELB jobs #server", function()
  it("batch_delete_loadbalancers: PENDING_DELETE until its job ends, then gone", function()
    local a, b = new_lb("a"), new_lb("b")
    local res = assert(client.elb:batch_delete_loadbalancers { loadbalancer_ids = { a.id, b.id } })
    conforms("batch_delete_loadbalancers", res)
    assert.is_string(res.job_id)
    assert.are.equal("PENDING_DELETE", assert(client.elb:show_load_balancer {
      loadbalancer_id = a.id }).loadbalancer.provisioning_status)
    local job = conforms("show_job", assert(client.elb:show_job { job_id = res.job_id }))
    assert.truthy(job.job.status == "INIT" or job.job.status == "RUNNING", job.job.status)
    local done = assert(client:wait(res, FAST))
    assert.are.equal("SUCCESS", done.job.status)
    assert.are.equal(2, #done.job.sub_jobs)
    for _, id in ipairs { a.id, b.id } do
      local _, err = client.elb:show_load_balancer { loadbalancer_id = id }
      assert.are.equal(404, err.status)
    end
    local _, err = client.elb:show_job { job_id = "no-such-job" }
    assert.are.equal(404, err.status)
  end)

  it("a failed batch delete leaves the load balancers; one with a listener is refused", function()
    local lb = new_lb()
    assert(client:wait_for("elb", "load_balancer_active", { loadbalancer_id = lb.id }, FAST))
    local res = assert(client.elb:batch_delete_loadbalancers { loadbalancer_ids = { lb.id } })
    emu:fail { res.job_id }
    local _, err = client:wait(res, FAST)
    assert.is_table(err)
    assert.truthy(tostring(err.message):find("injected failure", 1, true), tostring(err.message))
    assert.are.equal("ACTIVE", assert(client.elb:show_load_balancer {
      loadbalancer_id = lb.id }).loadbalancer.provisioning_status)
    assert(client.elb:create_listener { listener = { loadbalancer_id = lb.id, protocol = "TCP",
      protocol_port = 443 } })
    _, err = client.elb:batch_delete_loadbalancers { loadbalancer_ids = { lb.id } }
    assert.are.equal(409, err.status)
    _, err = client.elb:batch_delete_loadbalancers { loadbalancer_ids = { "no-lb" } }
    assert.are.equal(404, err.status)
  end)
end)
