-- The emulator for the whole cloud: a sample of every service version's
-- operations answers through the client (decoded, or a 404), generic REST
-- state (VPC, DNS, SMN), jobs of generic services, routing of paths several
-- services share (by Host, by the resource named), stubs by method and path.

package.path = "./?.lua;" .. package.path

local cjson = require "cjson"
local emulator = require "spec.helpers.emulator"
local services = require "hwcloud.services"
local hwcloud = require "hwcloud"

local PID = "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"

-- A value of `schema`'s type, with every required field filled.
local function fill(schema, depth, name)
  if type(schema) ~= "table" then return "x" end
  if schema.enum and schema.enum[1] ~= nil then return schema.enum[1] end
  local t = schema.type
  if t == "integer" or t == "number" then return 1 end
  if t == "boolean" then return true end
  if t == "array" then
    if depth > 4 then return {} end
    return { fill(schema.items, depth + 1) }
  end
  if t == "map" then return { k = "v" } end
  if t == "object" then
    local out = {}
    for fname, f in pairs(schema.fields or {}) do
      if f.required and depth < 6 then out[fname] = fill(f, depth + 1, fname) end
    end
    return out
  end
  if name == "project_id" then return PID end
  return "emu-" .. (name or "x")
end

-- A valid request of `op`: its required fields, by type; nil for an
-- operation that takes credentials of its own (an Authorization or token
-- header field), which a signed request cannot carry, or a Content-Type
-- header field (the client then sends two Content-Type headers and signs
-- one: left to the client's own specs).
local function request_of(op)
  local req = {}
  for fname, f in pairs((op.request and op.request.fields) or {}) do
    local lname = fname:lower()
    if f.location == "header" and (lname == "authorization" or lname:find("token")
        or lname == "content-type") then
      return nil
    end
    if f.required then req[fname] = fill(f, 1, fname) end
  end
  return req
end

-- Three operations of every service version, picked with a fixed seed.
local function sample()
  local picks, seed = {}, 20261204
  for _, name in ipairs(services.names()) do
    if name:find("_v%d+$") then
      local svc = assert(services.load(name))
      local names = {}
      for opname in pairs(svc.all) do names[#names + 1] = opname end
      table.sort(names)
      for _ = 1, math.min(3, #names) do
        seed = (seed * 1103515245 + 12345) % 2147483648
        local opname = table.remove(names, seed % #names + 1)
        picks[#picks + 1] = { field = name, op = opname }
      end
    end
  end
  return picks
end

local emu, client

lazy_setup(function()
  emu = emulator.start{ job_seconds = 1 }
  client = emu:client(PID, { retry_base = 0.01, retries = 0 })
end)

lazy_teardown(function()
  if client then client:close() end
  if emu then emu:stop() end
end)

describe("emulator: every service answers #server", function()
  it("answers a sample of every service version's operations, never 501 or 5xx", function()
    local picks = sample()
    assert.is_true(#picks > 500, #picks .. " operations sampled")
    local bad, answered, missing, unsent = {}, 0, 0, 0
    for _, p in ipairs(picks) do
      local svc = client[p.field]
      local op = services.operation(assert(services.load(p.field)), p.op)
      local req = request_of(op)
      local ok, res, err = true, nil, { kind = "validation" }
      if req then ok, res, err = pcall(svc[p.op], svc, req) end
      if not ok or (not res and err.kind == "validation") then
        -- the client did not send it (multipart, a deep required field
        -- the filler left out, a description the client refuses)
        unsent = unsent + 1
      elseif res then
        assert.is_table(res)
        answered = answered + 1
      elseif err.kind == "http" and err.status == 404 then
        missing = missing + 1
      else
        bad[#bad + 1] = p.field .. "." .. p.op .. ": " .. tostring(err)
      end
    end
    assert.are.same({}, bad)
    assert.is_true(answered > missing, answered .. " answered, " .. missing .. " 404")
    assert.is_true(#picks - unsent >= 500, unsent .. " of " .. #picks .. " not sent")
  end)
end)

-- create, list, show, update, delete, then 404
local function round_trip(create, list, show, update, delete, id_of, items_of)
  local made = assert(create())
  local id = id_of(made)
  assert.is_string(id)
  local found = false
  for _, item in ipairs(items_of(assert(list()))) do
    if id_of(item) == id then found = true end
  end
  assert.is_true(found, "the new item is in its list")
  assert.are.equal(id, id_of(assert(show(id))))
  assert(update(id))
  assert(delete(id))
  local _, err = show(id)
  assert.are.equal(404, err.status)
  for _, item in ipairs(items_of(assert(list()))) do
    assert.are_not.equal(id, id_of(item))
  end
end

describe("emulator: generic REST state #server", function()
  before_each(function() emu:reset() end)

  it("VPC: create, list, show, update, delete, then 404", function()
    round_trip(
      function() return client.vpc_v2:create_vpc{ vpc = { name = "net", cidr = "10.0.0.0/16" } } end,
      function() return client.vpc_v2:list_vpcs{} end,
      function(id) return client.vpc_v2:show_vpc{ vpc_id = id } end,
      function(id)
        local res = assert(client.vpc_v2:update_vpc{ vpc_id = id, vpc = { name = "renamed" } })
        assert.are.equal("renamed", res.vpc.name)
        assert.are.equal("renamed", assert(client.vpc_v2:show_vpc{ vpc_id = id }).vpc.name)
        return res
      end,
      function(id) return client.vpc_v2:delete_vpc{ vpc_id = id } end,
      function(x) return x.vpc and x.vpc.id or x.id end,
      function(page) return page.vpcs end)
  end)

  it("DNS: zones (public and private share POST /v2/zones, told apart by their fields)", function()
    round_trip(
      function() return client.dns:create_public_zone{ name = "example.com.", email = "a@b.c" } end,
      function() return client.dns:list_public_zones{} end,
      function(id) return client.dns:show_public_zone{ zone_id = id } end,
      function(id) return client.dns:update_public_zone{ zone_id = id, description = "d" } end,
      function(id) return client.dns:delete_public_zone{ zone_id = id } end,
      function(x) return x.id end,
      function(page) return page.zones end)
  end)

  it("SMN: topics, their id the topic URN", function()
    round_trip(
      function() return client.smn:create_topic{ name = "alerts", display_name = "Alerts" } end,
      function() return client.smn:list_topics{} end,
      function(urn) return client.smn:list_topic_details{ topic_urn = urn } end,
      function(urn) return client.smn:update_topic{ topic_urn = urn, display_name = "A2" } end,
      function(urn) return client.smn:delete_topic{ topic_urn = urn } end,
      function(x) return x.topic_urn end,
      function(page) return page.topics end)
  end)

  it("pages a list as the operation pages it, and shows the items in the state", function()
    for i = 1, 5 do
      assert(client.vpc_v2:create_vpc{ vpc = { name = "n" .. i, cidr = "10.0.0.0/16" } })
    end
    local page = assert(client.vpc_v2:list_vpcs{ limit = 2 })
    assert.are.equal(2, #page.vpcs)
    local rest = assert(client.vpc_v2:list_vpcs{ limit = 10, marker = page.vpcs[2].id })
    assert.are.equal(3, #rest.vpcs)
    assert.are.equal("n3", rest.vpcs[1].name)
    local n = 0
    for item in client:each("vpc_v2", "list_vpcs", { limit = 2 }) do
      assert.is_string(item.id)
      n = n + 1
    end
    assert.are.equal(5, n)
    local st = emu:admin("GET", "/_emulator/state")
    assert.are.equal(5, #st.projects[PID].generic.vpc.vpcs.items)
  end)

  it("starts each project from the inventory's generic items", function()
    local before = emu:admin("GET", "/_emulator/inventory")
    assert(emu:inventory{ generic = {
      vpc = { vpcs = { { id = "vpc-inv", name = "inventoried", cidr = "10.1.0.0/16" } } },
      smn = { topics = { { topic_urn = "urn:smn:x:y:inv", name = "inv" } } } } })
    local page = assert(client.vpc_v2:list_vpcs{})
    assert.are.equal(1, #page.vpcs)
    assert.are.equal("inventoried", assert(client.vpc_v2:show_vpc{ vpc_id = "vpc-inv" }).vpc.name)
    local topic = assert(client.smn:list_topic_details{ topic_urn = "urn:smn:x:y:inv" })
    assert.are.equal("urn:smn:x:y:inv", topic.topic_urn)
    -- an item without an id is refused, naming it
    local res, status = emu:admin("POST", "/_emulator/inventory",
      { generic = { vpc = { vpcs = { { name = "no id" } } } } })
    assert.are.equal(400, status)
    assert.truthy(res.error_msg:find("generic.vpc.vpcs[1]", 1, true), res.error_msg)
    assert(emu:inventory(before))
  end)
end)

-- a request signed for `host` (as the SDK signs it there), sent to the
-- emulator with that Host header
local function signed_at(host, method, path)
  local url = "http://" .. host .. path
  local h = assert(hwcloud.sign({ method = method, url = url,
    headers = { ["X-Project-Id"] = PID, ["Content-Type"] = "application/json" } },
    { ak = emu.ak, sk = emu.sk }))
  return emulator.curl(method, emu.url .. path, { headers = h })
end

describe("emulator: paths several services share #server", function()
  before_each(function() emu:reset() end)

  it("routes a job id to the service that started it (ECS, EVS, IMS)", function()
    local made = assert(client.evs:create_volume{ volume = { availability_zone = "az1",
      volume_type = "SSD", size = 10 } })
    assert.is_string(made.job_id)
    local job = assert(client.evs:show_job{ job_id = made.job_id })
    assert.are.equal(made.job_id, job.job_id)
    -- the same path from the ECS client: it names EVS's job, EVS answers
    local log = emu:admin("GET", "/_emulator/log").requests
    assert.are.equal("evs.show_job", log[#log].operation)
    job = assert(client.ecs:show_job{ job_id = made.job_id })
    assert.are.equal(made.job_id, job.job_id)
    log = emu:admin("GET", "/_emulator/log").requests
    assert.are.equal("evs.show_job", log[#log].operation)
    -- the job ends after --job-seconds
    emulator.sleep(1.2)
    assert.are.equal("SUCCESS", assert(client.evs:show_job{ job_id = made.job_id }).status)
    -- an id nobody made is a 404
    local _, err = client.ims:show_job{ job_id = "no-such-job" }
    assert.are.equal(404, err.status)
  end)

  it("fails a generic service's job on POST /_emulator/fail", function()
    local made = assert(client.evs:create_volume{ volume = { availability_zone = "az1",
      volume_type = "SSD", size = 10 } })
    emu:admin("POST", "/_emulator/fail", { ids = { made.job_id } })
    emulator.sleep(1.2)
    assert.are.equal("FAIL", assert(client.evs:show_job{ job_id = made.job_id }).status)
  end)

  it("routes a path global and regional services share by the id header (IAM's and CCE's GET /)", function()
    assert(client.iam_v3:keystone_list_versions{})
    local log = emu:admin("GET", "/_emulator/log").requests
    assert.are.equal("iam.keystone_list_versions", log[#log].operation)
    assert(client.cce:show_version{})
    log = emu:admin("GET", "/_emulator/log").requests
    assert.are.equal("cce.show_version", log[#log].operation)
  end)

  it("routes by a Host that names the service", function()
    local path = "/v1/" .. PID .. "/jobs/unknown-job"
    for _, svc in ipairs { "ecs", "evs", "ims" } do
      local res = signed_at(svc .. ".cn-north-4.myhuaweicloud.com", "GET", path)
      assert.are.equal(404, res.status, res.body)
      local log = emu:admin("GET", "/_emulator/log").requests
      assert.are.equal(svc .. ".show_job", log[#log].operation)
      assert.are.equal(svc:upper() .. ".0404", res.json.error_code)
    end
    -- a Host of a service without that path: not another service's answer
    local res = signed_at("dns.cn-north-4.myhuaweicloud.com", "GET", path)
    assert.are.equal(404, res.status)
    assert.are.equal("APIG.0101", res.json.error_code)
  end)
end)

describe("emulator: stubs by method and path #server", function()
  before_each(function() emu:reset() end)

  it("answers client:request for an API the catalog lacks", function()
    local path = "/v1/" .. PID .. "/undocumented/things"
    local ack, status = emu:admin("POST", "/_emulator/responses", {
      method = "GET", path = path, status = 200, body = { things = { "a" } }, count = 2 })
    assert.are.equal(200, status, cjson.encode(ack))
    for _ = 1, 2 do
      local res = assert(client:request{ service = "ecs", method = "GET",
        path = "/v1/{project_id}/undocumented/things" })
      assert.are.same({ "a" }, res.things)
    end
    local _, err = client:request{ service = "ecs", method = "GET",
      path = "/v1/{project_id}/undocumented/things" }
    assert.are.equal(404, err.status)
  end)

  it("refuses a stub for a described path, naming its operation", function()
    local res, status = emu:admin("POST", "/_emulator/responses", {
      method = "GET", path = "/v1/" .. PID .. "/vpcs" })
    assert.are.equal(400, status)
    assert.truthy(res.error_msg:find("already described", 1, true), res.error_msg)
    assert.truthy(res.error_msg:find("list_vpcs", 1, true), res.error_msg)
    res, status = emu:admin("POST", "/_emulator/responses", { method = "FETCH", path = "/x" })
    assert.are.equal(400, status, res.error_msg)
    res, status = emu:admin("POST", "/_emulator/responses", { method = "GET", path = "x" })
    assert.are.equal(400, status, res.error_msg)
  end)
end)
