-- Every operation of the seed services' descriptions reaches the emulator
-- and is routed to itself: none falls through to the API Gateway's 404.
-- Operations without a stateful handler answer generically (see
-- emulator_cloud_spec for the whole catalog) unless a canned answer was
-- registered. Requests go with the curl CLI and an IAM token.

package.path = "./?.lua;" .. package.path

local cjson = require "cjson"
local emulator = require "spec.helpers.emulator"
local services = require "hwcloud.services"

local curl = emulator.curl

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

local emu, token

local function call(method, path, body, extra)
  local h = { ["X-Auth-Token"] = token, ["Content-Type"] = "application/json" }
  for k, v in pairs(extra or {}) do h[k] = v end
  return curl(method, emu.url .. path, { headers = h, body = body })
end

-- The path of `op` with dummy values for its parameters (an enum's first
-- value: a path another service shares goes to the one the request fits).
local function dummy_path(op)
  local fields = op.request and op.request.fields or {}
  return (op.path:gsub("{([^}]+)}", function(name)
    if name == "project_id" then return PID end
    local f = fields[name]
    if f and f.enum and f.enum[1] ~= nil then return tostring(f.enum[1]) end
    return "dummy-" .. name:gsub("_", "-")
  end))
end

-- The required query fields of `op` with dummy values, as a client sends
-- them ("" when none): a path several operations share (RDS's and CodeArts
-- Build's GET /v3/{project_id}/jobs) goes to the one the request fits.
local function dummy_query(op)
  local parts = {}
  for name, f in pairs(op.request and op.request.fields or {}) do
    if f.location == "query" and f.required then
      local v = f.enum and f.enum[1] ~= nil and tostring(f.enum[1])
        or ((f.type == "integer" or f.type == "number") and "1") or "dummy"
      parts[#parts + 1] = name .. "=" .. v
    end
  end
  table.sort(parts)
  return #parts > 0 and ("?" .. table.concat(parts, "&")) or ""
end

-- method and path template with parameter names erased
local function shape(op)
  return op.method .. " " .. op.path:gsub("{[^}]+}", "{}")
end

lazy_setup(function()
  emu = emulator.start{ job_seconds = 1 }
  token = emu:token(PID)
  assert.is_string(token)
end)

lazy_teardown(function()
  if emu then emu:stop() end
end)

-- Every described operation as { name = "svc.op", op = op }, and the
-- names of the operations of each shape (method and path template).
local SEED = { "asm", "codeartsbuild", "iam", "rts", "servicestage", "servicestage_v2", "workspaceapp" }

local function described_ops()
  local by_shape, ops = {}, {}
  for _, sname in ipairs(SEED) do
    local svc = assert(services.load(sname))
    for _, opname in ipairs(services.operation_names(svc)) do
      local op = svc.all[opname]
      if op then
        local full = sname .. "." .. opname
        ops[#ops + 1] = { name = full, op = op, global = svc.global }
        local k = shape(op)
        by_shape[k] = by_shape[k] or {}
        by_shape[k][full] = true
      end
    end
  end
  return ops, by_shape
end

-- An answer no route of the emulator gives: the gateway's 404, a 405, no
-- answer, or a server error.
local function unrouted(res)
  return res.status == 404 and type(res.json) == "table" and res.json.error_code == "APIG.0101"
    or res.status == 405 or res.status == 0 or res.status >= 500
end

-- Whether the logged operation `got` is one of `peers` (or the emulator's
-- own handler for one of them, in `own`).
local function reached_peer(got, peers, own)
  for peer in pairs(peers) do
    if got == peer or got == own[peer] then return true end
  end
  return false
end

describe("emulator: routes from the service descriptions #server", function()
  it("routes every described operation to itself (or its twin of the same path)", function()
    local ops, by_shape = described_ops()
    local total = 0
    local bad = {}
    for _, o in ipairs(ops) do
      total = total + 1
      local body = o.op.method ~= "GET" and o.op.method ~= "DELETE" and "{}" or nil
      -- the id header a client sends says which kind of service it means
      -- where a path is shared (IAM's and CCE's GET /)
      local ids = o.global and { ["X-Domain-Id"] = "dummy-domain" } or { ["X-Project-Id"] = PID }
      local res = call(o.op.method, dummy_path(o.op) .. dummy_query(o.op), body, ids)
      if unrouted(res) then
        bad[#bad + 1] = o.name .. " -> " .. res.status .. " " .. res.body
      end
    end
    assert.are.same({}, bad)
    -- the request log says which operation each request reached
    local log = emu:admin("GET", "/_emulator/log").requests
    assert.is_true(#log >= total)
    local wrong = {}
    local first = #log - total
    -- the emulator's own handlers for operations it knows under the alias
    local own = { ["servicestage.show_job_info"] = "servicestage.show_job",
                  ["iam.keystone_create_user_token_by_password"] = "iam.create_token" }
    for i, o in ipairs(ops) do
      local got = log[first + i].operation
      -- operations of one method and path (IAM's token requests) share a route
      if not reached_peer(got, by_shape[shape(o.op)], own) then
        wrong[#wrong + 1] = o.name .. " reached " .. tostring(got)
      end
    end
    assert.are.same({}, wrong)
    assert.is_true(total > 500, "only " .. total .. " operations described")
  end)

  it("routes the whole catalog: the first operation of every service field is reached", function()
    local index = require "hwcloud.services.index"
    local bad, n = {}, 0
    -- the first request no emulated service routes loads the rest of the
    -- catalog (a second or two): given time of its own
    local warm = curl("GET", emu.url .. "/v1/" .. PID .. "/cloudservers/detail",
      { headers = { ["X-Auth-Token"] = token }, timeout = 120 })
    assert.are.equal(200, warm.status)
    for _, name in ipairs(index.names) do
      local e = index.fields[name]
      if name == e.service and #e.files > 0 then
        local svc = assert(services.load(name))
        local opname = services.operation_names(svc)[1]
        local op = svc.all[opname]
        local body = op.method ~= "GET" and op.method ~= "DELETE" and "{}" or nil
        local res = call(op.method, dummy_path(op), body)
        n = n + 1
        if unrouted(res) then bad[#bad + 1] = name .. "." .. opname .. " -> " .. res.status end
      end
    end
    assert.are.same({}, bad)
    assert.is_true(n > 180, n .. " services")
    -- ECS, beyond the stateful services: checked, then answered generically
    local res = call("GET", "/v1/" .. PID .. "/cloudservers/detail?limit=x")
    assert.are.equal(400, res.status)
    assert.is_truthy(res.json.error_msg:find("limit: expected integer", 1, true))
    res = call("GET", "/v1/" .. PID .. "/cloudservers/detail?limit=2")
    assert.are.equal(200, res.status)
    assert.is_table(res.json.servers, res.body)
  end)

  it("answers an operation without a handler from its response description", function()
    local res = call("POST", "/v1/" .. PID .. "/app-servers/actions/batch-change-image",
      cjson.encode({ server_ids = { "a" }, image_id = "i", image_type = "gold",
                     os_type = "Windows" }))
    assert.are.equal(200, res.status)
    assert.is_table(res.json)
    res = call("GET", "/v3/" .. PID .. "/cas/applications/dummy/configuration")
    assert.are.equal(200, res.status)
    assert.is_table(res.json)
  end)

  it("checks required fields, types and enums from the descriptions", function()
    local path = "/v1/" .. PID .. "/app-servers/actions/batch-change-image"
    local res = call("POST", path, "{}")
    assert.are.equal(400, res.status)
    assert.are.equal("WKS.00010001", res.json.error_code)
    assert.is_truthy(res.json.error_msg:find("image_id: is required", 1, true))
    res = call("POST", path, cjson.encode({ server_ids = "a", image_id = "i",
      image_type = "gold", os_type = "Windows" }))
    assert.are.equal(400, res.status)
    assert.is_truthy(res.json.error_msg:find("server_ids: expected array", 1, true))
    res = call("GET", "/v3/" .. PID .. "/cas/environments?limit=many")
    assert.are.equal(400, res.status)
    assert.is_truthy(res.json.error_msg:find("limit: expected integer", 1, true))
    res = call("POST", "/v1/" .. PID .. "/app-servers/actions/batch-change-image",
      "not json")
    assert.are.equal(400, res.status)
  end)

  it("serves a canned answer `count` times, under an alias or the official name", function()
    local path = "/v1/" .. PID .. "/app-servers/actions/batch-change-image"
    local body = cjson.encode({ server_ids = { "a" }, image_id = "i", image_type = "gold",
                                os_type = "Windows" })
    local ack, status = emu:admin("POST", "/_emulator/responses", {
      operation = "workspaceapp.batch_change_server_image", status = 202,
      body = { job_id = "canned-1" }, headers = { ["X-Canned"] = "yes" }, count = 2 })
    assert.are.equal(200, status, cjson.encode(ack))
    for _ = 1, 2 do
      local res = call("POST", path, body)
      assert.are.equal(202, res.status)
      assert.are.equal("canned-1", res.json.job_id)
      assert.are.equal("yes", res.headers["x-canned"])
    end
    local after = call("POST", path, body)
    assert.are.equal(200, after.status)
    assert.are_not.equal("canned-1", after.json.job_id)
    -- checks still come first
    emu:admin("POST", "/_emulator/responses", {
      operation = "workspaceapp.batch_change_server_image", body = {} })
    assert.are.equal(400, call("POST", path, "{}").status)
    local _, bad = emu:admin("POST", "/_emulator/responses", { operation = "nope.nothing" })
    assert.are.equal(400, bad)
    _, bad = emu:admin("POST", "/_emulator/responses", {
      operation = "workspaceapp.batch_change_server_image", count = 0 })
    assert.are.equal(400, bad)
  end)

  it("counts and faults an alias under either name", function()
    emu:reset()
    token = emu:token(PID)
    emu:fault{ operation = "servicestage.show_job_info", status = 503 }
    local res = call("GET", "/v3/" .. PID .. "/cas/jobs/JOBx")
    assert.are.equal(503, res.status)
    res = call("GET", "/v3/" .. PID .. "/cas/jobs/JOBx")
    assert.are.equal(404, res.status)
    assert.are.equal(2, emu:counts()["servicestage.show_job"])
    for _, name in ipairs { "servicestage.show_job", "servicestage.show_job_info" } do
      local one = emu:admin("GET", "/_emulator/counts?operation=" .. name)
      assert.are.same({ operation = "servicestage.show_job", count = 2 }, one)
    end
    local _, status = emu:admin("GET", "/_emulator/counts?operation=servicestage.nothing")
    assert.are.equal(400, status)
  end)
end)
