-- The emulator's RDS instances, through the client: create answers a job
-- id, list_job_info (the id in the query) walks it Running to Completed or
-- Failed, the instance is BUILD then ACTIVE (FAILED when its job failed),
-- client:wait and the instance_available waiter follow it, delete's job
-- removes it; DDS's create_instance on the same path is not taken; every
-- answer as its description says.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local answers = require "spec.helpers.answers"

local PID = "7a8b9c0d1e2f4a5b8c6d7e8f9a0b1c2d"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

before_each(function() session.restore() end)

local function conform(op, res)
  assert(answers.conform("rds", op, res))
  return res
end

local function create(name, extra)
  local req = {
    name = name or "orders-db", region = "cn-north-4", availability_zone = "cn-north-4a",
    datastore = { type = "MySQL", version = "8.0" }, flavor_ref = "rds.mysql.n1.large.2",
    volume = { type = "CLOUDSSD", size = 40 }, vpc_id = "vpc-1", subnet_id = "subnet-1",
    security_group_id = "sg-1", password = "Secret-Passw0rd",
  }
  for k, v in pairs(extra or {}) do req[k] = v end
  return conform("create_instance", assert(client.rds:create_instance(req)))
end

local function shown(id)
  local res = conform("list_instances", assert(client.rds:list_instances { id = id }))
  return res.instances[1]
end

describe("emulator RDS #server", function()
  it("creates an instance: a job, BUILD until it ends, then ACTIVE", function()
    local made = create()
    assert.is_string(made.job_id)
    assert.are.equal("BUILD", made.instance.status)
    local id = made.instance.id
    assert.are.equal("BUILD", shown(id).status)
    local job = conform("list_job_info", assert(client.rds:list_job_info { id = made.job_id }))
    assert.are.equal("Running", job.job.status)
    assert.are.equal(id, job.job.instance.id)
    assert.are.equal("CreateMysqlInstance", job.job.name)

    local done = assert(client:wait(made, FAST))
    assert.are.equal("Completed", done.job.status)
    assert.are.equal("100%", done.job.process)
    local inst = assert(client:wait_for("rds", "instance_available", { id = id }, FAST))
    assert.are.equal("ACTIVE", inst.instances[1].status)
    local v = shown(id)
    assert.are.equal("orders-db", v.name)
    assert.are.equal(3306, v.port)
    assert.are.equal("MySQL", v.datastore.type)
    assert.is_string(v.private_ips[1])
    local all = conform("list_instances", assert(client.rds:list_instances {}))
    assert.are.equal(1, all.total_count)
    local _, err = client.rds:create_instance {
      name = "orders-db", region = "cn-north-4", availability_zone = "cn-north-4a",
      datastore = { type = "MySQL", version = "8.0" }, flavor_ref = "f", volume = { type = "CLOUDSSD",
      size = 40 }, vpc_id = "v", subnet_id = "s", security_group_id = "g" }
    assert.are.equal(409, err.status)
  end)

  it("deletes an instance when its job ends; then it is gone", function()
    local made = create("tmp-db")
    assert(client:wait(made, FAST))
    local del = conform("delete_instance", assert(client.rds:delete_instance {
      instance_id = made.instance.id }))
    assert.is_string(del.job_id)
    local _, busy = client.rds:delete_instance { instance_id = made.instance.id }
    assert.are.equal(409, busy.status)
    assert.are.equal("Completed", assert(client:wait(del, FAST)).job.status)
    assert.are.equal(0, assert(client.rds:list_instances { id = made.instance.id }).total_count)
    local _, err = client.rds:delete_instance { instance_id = made.instance.id }
    assert.are.equal(404, err.status)
  end)

  it("fails a creation on POST /_emulator/fail: the job Failed with a reason, the instance FAILED", function()
    local made = create("doomed-db")
    emu:fail { made.instance.id }
    local _, err = client:wait(made, FAST)
    assert.is_table(err)
    assert.truthy(tostring(err.message):find("injected failure", 1, true), tostring(err.message))
    assert.are.equal("FAILED", shown(made.instance.id).status)
    local _, werr = client:wait_for("rds", "instance_available", { id = made.instance.id }, FAST)
    assert.are.equal("FAILED", werr.code)
  end)

  it("pages instances by offset and limit; 404 for an unknown job", function()
    for i = 1, 3 do create("db-" .. i) end
    local page = assert(client.rds:list_instances { offset = 1, limit = 1 })
    assert.are.equal(3, page.total_count)
    assert.are.equal("db-2", page.instances[1].name)
    local _, err = client.rds:list_job_info { id = "no-such-job" }
    assert.are.equal(404, err.status)
    _, err = client:wait({ service = "rds", id = "no-such-job" }, FAST)
    assert.are.equal(404, err.status)
    _, err = client.rds:create_instance { name = "x", count = 2, region = "r",
      availability_zone = "a", datastore = { type = "MySQL", version = "8.0" }, flavor_ref = "f",
      volume = { type = "CLOUDSSD", size = 40 }, vpc_id = "v", subnet_id = "s",
      security_group_id = "g" }
    assert.are.equal(400, err.status)
    assert.truthy(err.message:find("count", 1, true), err.message)
  end)

  it("leaves DDS's create_instance, on the same path, to a description it fits", function()
    local res = assert(client.dds:create_instance {
      name = "docs", region = "cn-north-4", availability_zone = "cn-north-4a",
      datastore = { type = "DDS-Community", version = "4.0", storage_engine = "wiredTiger" },
      vpc_id = "vpc-1", subnet_id = "subnet-1", security_group_id = "sg-1", mode = "ReplicaSet",
      password = "Secret-Passw0rd",
      flavor = { { type = "replica", num = "1", spec_code = "dds.mongodb.s6.large.2.repset" } } })
    assert.is_table(res)
    -- answered by a description it fits (DDM's takes it too: the first in
    -- the catalog's order answers), not by the RDS handler's 400
    assert.is_nil(emu:counts()["rds.create_instance"])
    assert.are.equal(0, assert(client.rds:list_instances {}).total_count)
  end)

  it("starts from the inventory's rds section", function()
    local inv = session.inventory()
    inv.rds = { instances = { { id = "inv-db-in01", name = "legacy", status = "ACTIVE",
                                datastore = { type = "PostgreSQL", version = "14" } } } }
    assert(emu:inventory(inv))
    local v = shown("inv-db-in01")
    assert.are.equal(5432, v.port)
    assert(client:wait_for("rds", "instance_available", { id = "inv-db-in01" }, FAST))
    local st = emu:admin("GET", "/_emulator/state")
    assert.are.equal("legacy", st.projects[PID].inventory.rds.instances[1].name)
  end)
end)
