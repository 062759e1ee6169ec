-- The emulator's VPC and EIP, through the client: VPCs (v3 PENDING then
-- ACTIVE, v2 CREATING then OK) and subnets (UNKNOWN then ACTIVE) over
-- --job-seconds, seen by the vpc_ready and subnet_ready waiters; public
-- IPs PENDING_CREATE then DOWN (publicip_ready), bound to a port (ACTIVE,
-- publicip_bound) and unbound (DOWN), deleted (publicip_deleted);
-- failures on POST /_emulator/fail; the items in the generic state.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local answers = require "spec.helpers.answers"
local cjson = require "cjson"

local PID = "9a6b6c6d6e6f70717273747576777882"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

before_each(function() session.restore() end)

describe("emulator VPC #server", function()
  it("a v3 VPC is PENDING, then ACTIVE; vpc_ready waits for it", function()
    local made = assert(client.vpc:create_vpc { vpc = { name = "prod", cidr = "10.0.0.0/16" } })
    local id = made.vpc.id
    assert.is_string(id)
    assert.are.equal("PENDING", made.vpc.status)
    assert.are.equal("PENDING", assert(client.vpc:show_vpc { vpc_id = id }).vpc.status)
    local ready = answers.conforms("vpc", "show_vpc",
      assert(client:wait_for("vpc", "vpc_ready", { vpc_id = id }, FAST)))
    assert.are.equal("ACTIVE", ready.vpc.status)
    assert.are.equal("prod", ready.vpc.name)
    local list = assert(client.vpc:list_vpcs {})
    assert.are.equal(1, #list.vpcs)
    assert.are.equal("ACTIVE", list.vpcs[1].status)
    local up = assert(client.vpc:update_vpc { vpc_id = id, vpc = { description = "d" } })
    assert.are.equal("ACTIVE", up.vpc.status)
    assert(client.vpc:delete_vpc { vpc_id = id })
    local _, err = client.vpc:show_vpc { vpc_id = id }
    assert.are.equal(404, err.status)
  end)

  it("a v2 VPC is CREATING, then OK; a subnet UNKNOWN, then ACTIVE", function()
    local vpc = assert(client.vpc_v2:create_vpc { vpc = { name = "net", cidr = "10.1.0.0/16" } }).vpc
    assert.are.equal("CREATING", vpc.status)
    local sub = assert(client.vpc:create_subnet { subnet = { name = "web", cidr = "10.1.1.0/24",
      gateway_ip = "10.1.1.1", vpc_id = vpc.id } }).subnet
    assert.are.equal("UNKNOWN", sub.status)
    assert.are.equal(vpc.id, sub.vpc_id)
    local ready = assert(client:wait_for("vpc", "subnet_ready", { subnet_id = sub.id }, FAST))
    assert.are.equal("ACTIVE", ready.subnet.status)
    assert.are.equal("OK", assert(client.vpc_v2:show_vpc { vpc_id = vpc.id }).vpc.status)
    local subnets = assert(client.vpc:list_subnets { vpc_id = vpc.id })
    assert.are.equal(1, #subnets.subnets)
    assert.are.equal("ACTIVE", subnets.subnets[1].status)
    -- the items are the generic ones, shown in the state there
    local st = emu:state()
    assert.are.equal(1, #st.projects[PID].generic.vpc.vpcs.items)
    assert.are.equal(1, #st.projects[PID].generic.vpc.subnets.items)
  end)

  it("ends ERROR for an id on the fail list; inventory items are ready", function()
    local made = assert(client.vpc:create_vpc { vpc = { name = "bad", cidr = "10.2.0.0/16" } })
    emu:fail { made.vpc.id }
    local _, err = client:wait_for("vpc", "vpc_ready", { vpc_id = made.vpc.id }, FAST)
    assert.is_table(err)
    assert.are.equal("ERROR", assert(client.vpc:show_vpc { vpc_id = made.vpc.id }).vpc.status)

    local inv = session.inventory()
    inv.generic = { vpc = { vpcs = { { id = "vpc-inv", name = "given", cidr = "10.9.0.0/16" } } } }
    assert(emu:inventory(inv))
    assert.are.equal("ACTIVE", assert(client.vpc:show_vpc { vpc_id = "vpc-inv" }).vpc.status)
    assert.are.equal("OK", assert(client.vpc_v2:show_vpc { vpc_id = "vpc-inv" }).vpc.status)
  end)

  it("security groups and rules keep their generic state", function()
    local sg = assert(client.vpc:create_security_group { security_group = { name = "web" } })
      .security_group
    assert.is_string(sg.id)
    assert.are.equal("web", assert(client.vpc:show_security_group {
      security_group_id = sg.id }).security_group.name)
    local rule = assert(client.vpc:create_security_group_rule { security_group_rule = {
      security_group_id = sg.id, direction = "ingress", protocol = "tcp", multiport = "80" } })
    assert.is_string(rule.security_group_rule.id)
  end)
end)

describe("emulator EIP #server", function()
  local function create()
    return assert(client.eip:create_publicip { publicip = { type = "5_bgp" },
      bandwidth = { name = "bw", size = 5, share_type = "PER", charge_mode = "traffic" } })
      .publicip
  end

  it("is PENDING_CREATE, then DOWN; binds to a port (ACTIVE) and unbinds (DOWN)", function()
    local ip = create()
    assert.are.equal("PENDING_CREATE", ip.status)
    local ready = answers.conforms("eip", "show_publicip",
      assert(client:wait_for("eip", "publicip_ready", { publicip_id = ip.id }, FAST)))
    assert.are.equal("DOWN", ready.publicip.status)
    assert.are.equal("DOWN", assert(client.eip_v2:show_publicip { publicip_id = ip.id })
      .publicip.status)
    local bound = assert(client.eip_v2:update_publicip { publicip_id = ip.id,
      publicip = { port_id = "port-web-1" } })
    assert.are.equal("ACTIVE", bound.publicip.status)
    assert.are.equal("port-web-1", bound.publicip.port_id)
    local seen = assert(client:wait_for("eip", "publicip_bound", { publicip_id = ip.id }, FAST))
    assert.are.equal("ACTIVE", seen.publicip.status)
    local list = assert(client.eip_v2:list_publicips {})
    assert.are.equal(1, #list.publicips)
    assert.are.equal("ACTIVE", list.publicips[1].status)
    -- JSON null unbinds: sent past the client, as the API takes it
    local res = emu:raw(PID, "PUT", "/v1/" .. PID .. "/publicips/" .. ip.id,
                        cjson.decode('{"publicip": {"port_id": null}}'))
    assert.are.equal(200, res.status, res.body)
    assert.are.equal("DOWN", res.json.publicip.status)
    assert.are.equal("DOWN", assert(client.eip:show_publicip { publicip_id = ip.id })
      .publicip.status)
    assert(client.eip_v2:delete_publicip { publicip_id = ip.id })
    assert.are.equal(true, assert(client:wait_for("eip", "publicip_deleted",
                                                  { publicip_id = ip.id }, FAST)))
  end)

  it("ends ERROR for an id on the fail list", function()
    local ip = create()
    emu:fail { ip.id }
    local _, err = client:wait_for("eip", "publicip_ready", { publicip_id = ip.id }, FAST)
    assert.is_table(err)
  end)
end)
