-- hwcloud inside nginx: the client in a real nginx with its Lua module
-- (LuaJIT, the C core from build/luajit), against real emulators, driven
-- over HTTP from here (Lua 5.4). The handlers are spec/fixtures/ngx/.
--
-- Run from the repository root:
--   make && make LUA=luajit && LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" \
--     LUA_CPATH="build/5.4/?.so;;" lua5.4 /usr/bin/busted spec/ngx_spec.lua

local emulator = require "spec.helpers.emulator"
local server = require "spec.helpers.server"
local hwcloud = require "hwcloud"
local cjson = require "cjson"
local socket = require "socket"

local type, pairs, ipairs, tostring, tonumber, assert =
  type, pairs, ipairs, tostring, tonumber, assert
local format, concat = string.format, table.concat
local now = socket.gettime
local q, read_file, sleep = emulator.quote, emulator.read_file, emulator.sleep

local PID = "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function capture(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("*a")
  p:close()
  return s
end

-- A self-signed certificate for 127.0.0.1. Its only name is the address,
-- in the CN and as an IP SAN: libcurl matches the IP SAN, nginx's host
-- check (X509_check_host) falls back to the CN when there is no DNS SAN.
local function make_cert(dir, name)
  local cert, key = dir .. "/" .. name .. ".pem", dir .. "/" .. name .. ".key"
  assert(sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    .. " -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
    .. " -keyout " .. q(key) .. " -out " .. q(cert) .. " >/dev/null 2>&1"),
    "openssl could not make a test certificate")
  return { cert = cert, key = key }
end

-- Deep shape of a decoded JSON value: tables become tables of shapes,
-- scalars their type name (null is "null"), so two answers with different
-- ids and times compare equal when they are built alike.
local function shape(v)
  if v == cjson.null or v == nil then return "null" end
  if type(v) ~= "table" then return type(v) end
  local out = {}
  for k, x in pairs(v) do out[k] = shape(x) end
  return out
end

-- A value as it looks after a trip through JSON, the way the nginx
-- handlers send results back.
local function as_json(v)
  return cjson.decode(cjson.encode(v))
end

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return c
end

local function workshop(name)
  return {
    mesh_id = "mesh-ngx", description = "canary", metadata = { name = name },
    spec = { primaryCluster = "cce-1",
             ingress = { elbId = "elb-1", elbIp = "10.0.0.8", port = 8080,
                         imageAddress = "swr.example/demo:1" } },
  }
end

local function password_auth()
  return { identity = { methods = { "password" },
                        password = { user = { name = "u", password = "p",
                                              domain = { name = "d" } } } },
           scope = { project = { id = PID } } }
end

-- Every operation of every service, in an order where each can use what
-- the earlier ones made. run(service, operation, request) -> result, err.
-- Returns the list of {name, result, err}.
local function every_operation(run, tag)
  local out = {}
  local function step(service, operation, request)
    local res, err = run(service, operation, request)
    out[#out + 1] = { name = service .. "." .. operation, result = res, err = err }
    return res, err
  end
  local token = step("iam", "create_token", { auth = password_auth() })
  assert(token and token.subject_token, "no IAM token")
  local job = step("servicestage", "deliver_addon_job",
    { environment_id = "env-" .. tag, addon_id = "addon-" .. tag, action = "redeploy" })
  step("servicestage", "show_job", { job_id = job.job_id })
  step("codeartsbuild", "update_notice", {
    job_id = "48c66c6002964721be537cdc6ce0297b", notice_type = "MAIL",
    enabled_event_type_names = { "buildJobFail", "buildJobSuccess" }, param_config = "{}" })
  step("asm", "create_workshop", workshop("ws-" .. tag))
  step("asm", "list_workshops", { mesh_id = "mesh-ngx-" .. tag })
  local created = step("rts", "create_software_deployment", {
    config_id = "cfg-" .. tag, server_id = "srv-" .. tag, action = "CREATE",
    status = "IN_PROGRESS", status_reason = "Deploy data available",
    stack_user_project_id = PID, input_values = { version = "1.2" } })
  local id = created.software_deployment.id
  step("rts", "show_software_deployment", { deployment_id = id })
  step("rts", "update_software_deployment", {
    deployment_id = id, status = "COMPLETE", status_reason = "done",
    output_values = { result = "ok" } })
  step("rts", "list_software_deployments", { server_id = "srv-" .. tag })
  step("rts", "delete_software_deployment", { deployment_id = id })
  local started = step("workspaceapp", "reinstall_server",
    { server_id = "srv-" .. tag, update_access_agent = false })
  step("workspaceapp", "show_job_detail", { job_id = started.job_id })
  return out
end

describe("hwcloud inside nginx #server", function()
  local work, certs, emu, slow300, slow500, tls_emu, untrusted, srv, native

  setup(function()
    -- absolute: nginx resolves relative paths against its prefix
    work = capture("pwd"):gsub("%s+$", "") .. "/spec/.work/ngx-certs-" .. math.random(1e8)
    assert(sh("mkdir -p " .. q(work)))
    certs = { good = make_cert(work, "trusted"), bad = make_cert(work, "untrusted") }
    emu = emulator.start{ job_seconds = 1, inventory = require "spec.fixtures.inventory" }
    slow300 = emulator.start{ latency_ms = 300, inventory = require "spec.fixtures.inventory" }
    slow500 = emulator.start{ latency_ms = 500, inventory = require "spec.fixtures.inventory" }
    tls_emu = emulator.start{ tls = certs.good, inventory = require "spec.fixtures.inventory" }
    untrusted = emulator.start{ tls = certs.bad, inventory = require "spec.fixtures.inventory" }
    srv = server.start{
      name = "ngx",
      conf = read_file("spec/fixtures/ngx/nginx.conf"),
      vars = {
        ak = emu.ak, sk = emu.sk, project_id = PID,
        plain = emu.url, slow300 = slow300.url, slow500 = slow500.url,
        tls = tls_emu.url, untrusted = untrusted.url,
        trusted_cert = certs.good.cert,
      },
    }
    native = assert(hwcloud.client{ endpoint = emu.url, ak = emu.ak, sk = emu.sk,
                                    project_id = PID, retries = 0 })
  end)

  teardown(function()
    if native then native:close() end
    if srv then srv:stop() end
    for _, e in ipairs { emu, slow300, slow500, tls_emu, untrusted } do
      if e then e:stop() end
    end
    if work and not os.getenv("HWCLOUD_KEEP_WORK") then sh("rm -rf " .. q(work)) end
  end)

  before_each(function()
    for _, e in ipairs { emu, slow300, slow500, tls_emu, untrusted } do e:reset() end
  end)

  -- GET a handler; returns the decoded JSON answer (and the raw response).
  local function get(path, timeout)
    local r = emulator.curl("GET", srv:url(path), { timeout = timeout or 20 })
    assert(r.json, "no JSON from " .. path .. " (" .. r.status .. "): " .. r.body
      .. "\n" .. srv:log():sub(-2000))
    return r.json, r
  end

  -- One operation inside nginx through /op.
  local function op(service, operation, request, extra)
    local body = { service = service, operation = operation, request = request }
    for k, v in pairs(extra or {}) do body[k] = v end
    local r = emulator.curl("POST", srv:url("/op"), {
      body = cjson.encode(body), headers = { ["Content-Type"] = "application/json" },
      timeout = 30,
    })
    assert(r.status == 200 and r.json, "the /op handler failed (" .. r.status .. "): "
      .. r.body .. "\n" .. srv:log():sub(-2000))
    local doc = r.json
    local res = doc.result ~= cjson.null and doc.result or nil
    local err = doc.err ~= cjson.null and doc.err or nil
    return res, err, doc
  end

  it("runs every operation in a content handler, shaped as under Lua 5.4", function()
    local engines = {}
    local inside = every_operation(function(service, operation, request)
      local res, err, doc = op(service, operation, request)
      engines[#engines + 1] = doc.engine
      return res, err
    end, "ngx")
    local outside = every_operation(function(service, operation, request)
      local svc = native[service]
      return svc[operation](svc, request)
    end, "lua")

    assert.are.equal(13, #inside)
    assert.are.equal(#outside, #inside)
    for i, step in ipairs(inside) do
      assert.is_nil(step.err, step.name .. ": " .. (step.err and step.err.text or ""))
      assert.is_nil(outside[i].err, step.name .. ": " .. tostring(outside[i].err))
      assert.are.equal("ngx", engines[i], step.name)
      assert.are.same(shape(as_json(outside[i].result)), shape(step.result), step.name)
    end
    -- a few values, beyond the shapes
    local by = {}
    for _, s in ipairs(inside) do by[s.name] = s.result end
    assert.is_true(#by["iam.create_token"].subject_token > 20)
    assert.are.equal("canary", by["asm.create_workshop"].description)
    assert.are.equal(8080, by["asm.create_workshop"].spec.ingress.port)
    assert.are.equal("success", by["codeartsbuild.update_notice"].status)
    assert.are.equal("COMPLETE", by["rts.update_software_deployment"].software_deployment.status)
    assert.are.equal(1, #by["rts.list_software_deployments"].software_deployments)
    assert.are.equal("REINSTALL_OS", by["workspaceapp.show_job_detail"].job_type)
    assert.are.equal("srv-ngx", by["workspaceapp.show_job_detail"].sub_jobs[1].job_resource_info.resource_id)
    -- each operation reached the emulator once from each side
    local counts = emu:counts()
    for _, s in ipairs(inside) do
      assert.are.equal(2, counts[s.name], s.name)
    end
  end)

  it("keeps connections to the emulator alive between requests", function()
    local _, err, first = op("workspaceapp", "reinstall_server", { server_id = "ka-1" })
    assert.is_nil(err)
    local _, err2, second = op("workspaceapp", "reinstall_server", { server_id = "ka-2" })
    assert.is_nil(err2)
    assert.are.equal(1, second.requests)
    -- the second request found the first one's connection in the pool
    assert.are.equal(0, second.connects)
    assert.is_true(first.connects <= 1)
  end)

  it("sends a body of megabytes through the cosocket (held by the core, sent as a string)", function()
    local script = string.rep('\techo "déploiement ${NODE}" >> /var/log/d.log\n', 25000)
    local made, err = op("rts", "create_software_config", { name = "big", group = "script",
                                                           config = script })
    assert.is_nil(err)
    local shown, err2 = op("rts", "show_software_config", { config_id = made.software_config.id })
    assert.is_nil(err2)
    assert.are.equal(script, shown.software_config.config)
  end)

  it("returns validation errors as nil, err inside nginx too, sending nothing", function()
    local cases = {
      { "servicestage", "deliver_addon_job", { environment_id = "e", addon_id = "a" } },
      { "servicestage", "deliver_addon_job",
        { environment_id = "e", addon_id = "a", action = 5 } },
      { "workspaceapp", "reinstall_server", { server_id = "" } },
      { "asm", "create_workshop", (function()
          local w = workshop("bad")
          w.spec.ingress.elbIP = w.spec.ingress.elbIp
          w.spec.ingress.elbIp = nil
          return w
        end)() },
      { "codeartsbuild", "update_notice",
        { job_id = "j", notice_type = "MAIL", enabled_event_type_names = { "a", 3 } } },
    }
    for _, c in ipairs(cases) do
      local res, err = op(c[1], c[2], c[3])
      assert.is_nil(res)
      assert.are.equal("validation", err.kind)
      local svc = native[c[1]]
      local nres, nerr = svc[c[2]](svc, copy(c[3]))
      assert.is_nil(nres)
      assert.are.equal(nerr.field, err.field)
      assert.are.equal(nerr.message, err.message)
      assert.are.equal(tostring(nerr), err.text)
    end
    local _, err = op("asm", "list_workshops", { mesh_id = "m", extra = 1 })
    assert.are.equal("extra", err.field)
    assert.are.same({}, emu:counts())
  end)

  it("returns the emulator's HTTP errors with the same fields as under Lua 5.4", function()
    local res, err = op("workspaceapp", "show_job_detail", { job_id = "no-such-job" })
    local _, nerr = native.workspaceapp:show_job_detail{ job_id = "no-such-job" }
    assert.is_nil(res)
    for _, k in ipairs { "kind", "status", "code", "message", "service", "operation",
                         "retryable" } do
      assert.are.equal(nerr[k], err[k], k)
    end
    assert.are.equal(404, err.status)
    assert.is_string(err.request_id)
  end)

  it("goes through an HTTP proxy with credentials", function()
    local proxy = "http://user:pa%3Ass@127.0.0.1:" .. srv.tls_port
    local res, err, doc = op("workspaceapp", "reinstall_server", { server_id = "via-proxy" },
      { client = { proxy = proxy } })
    assert.is_nil(err, err and err.text)
    assert.are.equal("ngx", doc.engine)
    assert.is_string(res.job_id)
    assert.are.equal(1, emu:counts()["workspaceapp.reinstall_server"])
    local _, err2 = op("workspaceapp", "reinstall_server", { server_id = "via-proxy" },
      { client = { proxy = "http://user:wrong@127.0.0.1:" .. srv.tls_port } })
    assert.are.equal("http", err2.kind)
    assert.are.equal(407, err2.status)
    assert.is_nil(err2.text:find("wrong", 1, true))
    assert.are.equal(1, emu:counts()["workspaceapp.reinstall_server"])
  end)

  it("turns faults into the same errors and retries as libcurl does", function()
    local cases = {
      { fault = { status = 503 }, client = { retries = 1, retry_base = 0.01 } },
      { fault = { drop = true } },
      { fault = { drop = true }, op = "show_job_detail" },
      { fault = { truncate = true } },
      { fault = { malformed = true } },
      { fault = { delay_ms = 1500 }, client = { timeout = 0.5 } },
      { fault = { status = 502, body = "<html>bad gateway</html>" } },
    }
    for _, c in ipairs(cases) do
      local opname = c.op or "reinstall_server"
      local req = opname == "show_job_detail" and { job_id = "no-job" } or { server_id = "f-1" }
      local copts = { retries = 0 }
      for k, v in pairs(c.client or {}) do copts[k] = v end
      local seen = {}
      for _, side in ipairs { "lua", "ngx" } do
        local run
        if side == "lua" then
          local o = { endpoint = emu.url, ak = emu.ak, sk = emu.sk, project_id = PID }
          for k, v in pairs(copts) do o[k] = v end
          local client = assert(hwcloud.client(o))
          run = function()
            local res, err = client.workspaceapp[opname](client.workspaceapp, copy(req))
            return res, err and { kind = err.kind, status = err.status, sent = err.sent,
                                  retryable = err.retryable, attempts = err.attempts }
          end
        else
          run = function()
            local res, err = op("workspaceapp", opname, req, { client = copts })
            return res, err and { kind = err.kind, status = err.status, sent = err.sent,
                                  retryable = err.retryable, attempts = err.attempts }
          end
        end
        run() -- a pooled connection for the fault to meet
        emu:reset()
        local spec = { operation = "workspaceapp." .. opname, count = 1 }
        for k, v in pairs(c.fault) do spec[k] = v end
        emu:fault(spec)
        local res, err = run()
        seen[side] = { ok = res ~= nil, err = err or "none", counts = emu:counts() }
      end
      assert.are.same(seen.lua, seen.ngx, cjson.encode(c.fault))
    end
  end)

  it("uses the ngx engine in content and timer phases, libcurl when forced or without cosockets",
    function()
      assert.are.same({ engine = "ngx", phase = "content", ok = true }, get("/engine"))
      assert.are.same({ engine = "ngx", phase = "content", ok = true },
        get("/engine?transport=ngx"))
      assert.are.same({ engine = "curl", phase = "content", ok = true }, get("/curl"))
      assert.are.same({ engine = "ngx", phase = "timer", ok = true }, get("/timer"))
      assert.are.same({ engine = "curl", phase = "set", ok = true }, get("/set"))
      assert.are.equal(5, emu:counts()["workspaceapp.show_job_detail"])
    end)

  it("resumes client:parallel from a journal, a file of the worker", function()
    local J = work .. "/ngx.journal"
    local first = get("/parallel?n=4&journal=" .. J)
    assert.are.equal(4, #first.results)
    for _, r in ipairs(first.results) do
      assert.are.equal(cjson.null, r.err)
      assert.is_false(r.replayed)
    end
    local again = get("/parallel?n=4&journal=" .. J)
    assert.are.equal(0, again.requests)
    for i, r in ipairs(again.results) do
      assert.is_true(r.replayed)
      assert.are.equal(first.results[i].result.job_id, r.result.job_id)
    end
    assert.are.equal(4, emu:counts()["workspaceapp.reinstall_server"])
    -- a reinstall recorded as sent, with no answer: not sent again
    local f = assert(io.open(J, "ab"))
    f:write('{"at":"2026-12-04T00:00:00Z","event":"sent","fan":"parallel","key":'
      .. '"workspaceapp.reinstall_server {\\"server_id\\":\\"par-5\\",'
      .. '\\"update_access_agent\\":false}","method":"POST"}\n')
    f:close()
    local third = get("/parallel?n=6&journal=" .. J)
    assert.are.equal("unknown_outcome", third.results[5].err.kind)
    assert.are.equal(cjson.null, third.results[6].err)
    assert.are.equal(1, third.requests)
    assert.are.equal(5, emu:counts()["workspaceapp.reinstall_server"])
  end)

  it("runs client:parallel on light threads: 10 calls at 300 ms are all in flight at once",
    function()
      local doc = get("/parallel?target=slow300&n=10")
      assert.are.equal("ngx", doc.engine)
      assert.are.equal(10, doc.requests)
      assert.are.equal(10, #doc.results)
      -- every call had been sent before the first answer came back (one
      -- after another, at most one would be in flight)
      assert.are.equal(10, doc.most_in_flight)
      assert.is_true(doc.elapsed >= 0.29, "faster than the latency: " .. doc.elapsed .. " s")
      -- results come back in the order of the calls
      local checker = assert(hwcloud.client{ endpoint = slow300.url, ak = emu.ak, sk = emu.sk,
                                             project_id = PID })
      local shows = {}
      for i, r in ipairs(doc.results) do
        assert.are.equal(cjson.null, r.err)
        shows[i] = { "workspaceapp", "show_job_detail", { job_id = r.result.job_id } }
      end
      for i, r in ipairs(checker:parallel(shows, { progress = false })) do
        assert.is_nil(r.err)
        assert.are.equal("par-" .. i, r.result.sub_jobs[1].job_resource_info.resource_id)
      end
      checker:close()
      assert.are.equal(10, slow300:counts()["workspaceapp.reinstall_server"])
    end)

  -- a 429 never wedges the client (issue 29, H and M; spec/throttle_spec.lua
  -- over libcurl): upper bounds far above the goal
  it("a Retry-After past retry_max_delay fails that call only: the next is not held", function()
    local copts = { retry_max_delay = 20, user_agent = "throttle-h" }
    emu:fault { operation = "workspaceapp.reinstall_server", count = 1, status = 429,
                headers = { ["Retry-After"] = "100000" } }
    local _, err, doc = op("workspaceapp", "reinstall_server", { server_id = "f-1" },
                          { client = copts })
    assert.are.equal("ngx", doc.engine)
    assert.are.equal(429, err.status)
    assert.is_true(doc.elapsed < 10, "the 429 took " .. doc.elapsed .. " s")
    local res, err2, doc2 = op("workspaceapp", "reinstall_server", { server_id = "f-1" },
                               { client = copts })
    assert.are.equal(cjson.null, err2 or cjson.null)
    assert.is_string(res.job_id)
    assert.is_true(doc2.elapsed < 10, "the next call waited " .. doc2.elapsed .. " s")
  end)

  it("a pause past a call's timeout ends the call at its timeout, nothing sent", function()
    local copts = { retry_max_delay = 60, user_agent = "throttle-t" }
    emu:fault { operation = "workspaceapp.reinstall_server", count = 1, status = 429,
                headers = { ["Retry-After"] = "30" } }
    local _, err = op("workspaceapp", "reinstall_server", { server_id = "f-1" },
                      { client = copts })
    assert.are.equal(429, err.status)
    local res, err2, doc = op("workspaceapp", "reinstall_server", { server_id = "f-1" },
                              { client = copts, opts = { timeout = 1 } })
    assert.is_nil(res)
    assert.are.equal("timeout", err2.kind)
    assert.is_false(err2.sent)
    assert.is_true(doc.elapsed < 10, "waited " .. doc.elapsed .. " s for a 30 s pause")
    assert.are.equal(1, emu:counts()["workspaceapp.reinstall_server"])
  end)

  it("lets the tries of a fan-out overlap under 429 with Retry-After and a rate", function()
    emu:fault { operation = "workspaceapp.reinstall_server", count = 1000, status = 429,
                headers = { ["Retry-After"] = "1" } }
    local doc = get("/parallel?n=10&rate=50&retries=2&retry_base=0.01", 60)
    assert.are.equal("ngx", doc.engine)
    for i = 1, 10 do
      assert.are.equal(429, doc.results[i].err.status)
      assert.are.equal(3, doc.results[i].err.attempts)
    end
    assert.are.equal(30, emu:counts()["workspaceapp.reinstall_server"])
    assert.is_true(doc.elapsed < 12, "10 calls x 3 tries took " .. doc.elapsed .. " s")
  end)

  it("client:wait polls with ngx.sleep: the worker keeps answering meanwhile", function()
    local out, rc = work .. "/wait.json", work .. "/wait.rc"
    os.remove(out)
    os.remove(rc)
    assert(sh(format("(curl -s -m 20 -o %s %s; echo $? > %s) >/dev/null 2>&1 &",
      q(out), q(srv:url("/wait?interval=0.2")), q(rc))))
    -- the one worker is inside client:wait for about a second: it must still
    -- answer pings at once
    sleep(0.15)
    local pings = 0
    local t0 = now()
    while now() - t0 < 0.6 do
      local r = emulator.curl("GET", srv:url("/ping"), { timeout = 5 })
      assert.are.equal("pong", r.body)
      -- counted only while the wait is still going on
      if not read_file(rc) then pings = pings + 1 end
    end
    assert.is_true(pings >= 3)
    local deadline = now() + 20
    while not (read_file(rc) or ""):match("%d") do
      assert(now() < deadline, "the /wait request did not finish")
      sleep(0.05)
    end
    local doc = cjson.decode(read_file(out))
    assert.are.equal(cjson.null, doc.err)
    assert.are.equal("SUCCEEDED", doc.final.job.EXECUTION_STATUS)
    assert.are.equal("SUCCEEDED", doc.states[#doc.states])
    assert.is_true(#doc.states >= 3)
    assert.is_true(doc.elapsed >= 0.5)
    -- it polled, sleeping in between, rather than spinning
    local polls = emu:counts()["servicestage.show_job"]
    assert.are.equal(#doc.states, polls)
    assert.is_true(polls <= 10)
  end)

  it("speaks https to an emulator whose certificate lua_ssl_trusted_certificate trusts",
    function()
      local res, err, doc = op("workspaceapp", "reinstall_server", { server_id = "tls-1" },
        { target = "tls" })
      assert.is_nil(err, err and err.text)
      assert.are.equal("ngx", doc.engine)
      assert.is_string(res.job_id)
      local res2, err2 = op("workspaceapp", "show_job_detail", { job_id = res.job_id },
        { target = "tls" })
      assert.is_nil(err2)
      assert.are.equal("tls-1", res2.sub_jobs[1].job_resource_info.resource_id)
      assert.are.equal(1, tls_emu:counts()["workspaceapp.reinstall_server"])
    end)

  it("refuses an emulator whose certificate nginx does not trust", function()
    local res, err, doc = op("workspaceapp", "reinstall_server", { server_id = "tls-2" },
      { target = "untrusted" })
    assert.is_nil(res)
    assert.are.equal("ngx", doc.engine)
    assert.are.equal("transport", err.kind)
    assert.is_false(err.sent)
    assert.is_truthy(err.message:find("TLS handshake", 1, true), err.message)
    assert.is_truthy(err.message:find("certificate", 1, true), err.message)
    assert.are.same({}, untrusted:counts())
    -- verify_tls = false is the explicit way in
    local res2, err2 = op("workspaceapp", "reinstall_server", { server_id = "tls-2" },
      { target = "untrusted", client = { verify_tls = false } })
    assert.is_nil(err2, err2 and err2.text)
    assert.is_string(res2.job_id)
  end)

  -- 20 curl transfers at once against one nginx worker
  local function burst(n, transport)
    local args = { "curl", "-s", "--parallel", "--parallel-immediate", "--parallel-max",
                   tostring(n), "-m", "30", "-w", q("%{http_code}\\n") }
    for i = 1, n do
      args[#args + 1] = "-o /dev/null"
      args[#args + 1] = q(srv:url(format("/redeploy?target=slow500&server_id=burst-%d%s", i,
        transport and ("&transport=" .. transport) or "")))
    end
    local t0 = now()
    local text = capture(concat(args, " ") .. " 2>/dev/null")
    local took = now() - t0
    local codes = {}
    for code in text:gmatch("%d+") do codes[#codes + 1] = tonumber(code) end
    return took, codes
  end

  it("does not block the worker: 20 concurrent requests at 500 ms take about one latency",
    function()
      -- warm up: the worker has its client and a connection pool
      get("/redeploy?target=slow500&server_id=warm")
      slow500:reset()
      get("/flight")
      local took, codes = burst(20)
      assert.are.equal(20, #codes)
      for _, c in ipairs(codes) do assert.are.equal(200, c) end
      assert.are.equal(20, slow500:counts()["workspaceapp.reinstall_server"])
      print(format("\n  ngx: 20 requests at 500 ms latency took %.2f s", took))
      -- the one worker had the calls in flight together; blocked, it would
      -- have had one at a time (as the next test shows with libcurl)
      assert.is_true(get("/flight").most_in_flight >= 10)
      assert.is_true(took >= 0.5)
    end)

  it("would notice blocking: with libcurl forced the same worker serves one at a time",
    function()
      get("/redeploy?target=slow500&server_id=warm&transport=curl")
      get("/flight")
      local took, codes = burst(4, "curl")
      for _, c in ipairs(codes) do assert.are.equal(200, c) end
      assert.are.equal(1, get("/flight").most_in_flight)
      print(format("\n  curl forced: 4 requests at 500 ms latency took %.2f s", took))
      assert.is_true(took >= 1.8, "4 blocking requests took only " .. took .. " s")
    end)
  it("runs the Lua layer under plain LuaJIT too (libcurl engine)", function()
    local script = work .. "/luajit_check.lua"
    emulator.write_file(script, [[
      local hwcloud = require "hwcloud"
      local c = assert(hwcloud.client{ endpoint = arg[1], ak = arg[2], sk = arg[3],
                                       project_id = "p-jit", progress = false })
      local job = assert(c.servicestage:deliver_addon_job{
        environment_id = "e", addon_id = "a", action = "redeploy" })
      local rs = c:parallel({ { "workspaceapp", "reinstall_server", { server_id = "s1" } },
                              { "asm", "list_workshops", { mesh_id = "m" } } })
      assert(rs[1].result.job_id and rs[2].result and not rs[2].err)
      local final = assert(c:wait(job, { interval = 0.2 }))
      local _, err = c.asm:create_workshop{ mesh_id = "m" }
      io.write(_VERSION, " ", final.job.EXECUTION_STATUS, " ", err.kind, " ", err.field)
    ]])
    local out = capture("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/luajit/?.so;;' "
      .. "luajit " .. q(script) .. " " .. q(emu.url) .. " " .. q(emu.ak) .. " " .. q(emu.sk)
      .. " 2>&1")
    assert.are.equal("Lua 5.1 SUCCEEDED validation metadata", out)
  end)
end)

describe("examples/nginx.conf #server", function()
  local emu, native, prefix, srv_url

  -- The example's own start lines (its header, "From the checkout:"), run
  -- from the checkout as written, with the scratch folder as the prefix
  -- and, as the one change, a free port instead of 8081 (port.conf).
  local function header_commands()
    local text = read_file("examples/nginx.conf")
    local block = assert(text:match("From the checkout:\n#\n(.-)\n#\n"), "no start lines")
    local cmds = {}
    for line in block:gmatch("[^\n]+") do cmds[#cmds + 1] = assert(line:match("^#   (.+)$"), line) end
    return cmds
  end

  setup(function()
    emu = emulator.start{ job_seconds = 1 }
    prefix = capture("pwd"):gsub("%s+$", "") .. "/spec/.work/ngx-example-" .. math.random(1e8)
    local port = require("spec.helpers.util").closed_port()
    local cmds = header_commands()
    assert.are.equal(4, #cmds)
    local start = cmds[4]
    local tail = 'nginx -g "user $(id -un);" -p /tmp/hwcloud-nginx -c hwcloud/examples/nginx.conf'
    assert.are.equal(tail, start:sub(-#tail))
    -- the example, with only its port changed
    local conf = read_file("examples/nginx.conf")
    local changed, n = conf:gsub("listen 8081;", "listen 127.0.0.1:" .. port .. ";")
    assert.are.equal(1, n)
    start = start:gsub("hwcloud/examples/nginx%.conf$", "port.conf")
    cmds[4] = start
    local script = {}
    for i, c in ipairs(cmds) do
      script[#script + 1] = (c:gsub("/tmp/hwcloud%-nginx", prefix))
      if i == 3 then script[#script + 1] = "cat > " .. q(prefix .. "/port.conf") .. " <<'EOF'\n"
        .. changed .. "\nEOF" end
    end
    -- what the handler reads: the emulator's variables (HWCLOUD_ENDPOINT
    -- alone would do: the emulator hands out metadata keys too)
    local vars = "export HWCLOUD_ENDPOINT=" .. q(emu.url) .. " HUAWEICLOUD_SDK_AK=" .. q(emu.ak)
      .. " HUAWEICLOUD_SDK_SK=" .. q(emu.sk) .. " HUAWEICLOUD_SDK_PROJECT_ID=" .. PID
      .. " HUAWEICLOUD_SDK_REGION=cn-north-4"
    local out = capture("cd " .. q(emulator.root) .. " && " .. vars .. " && set -e && "
      .. table.concat(script, "\n") .. "\n echo started 2>&1")
    assert.truthy(out:find("started", 1, true), out)
    native = assert(hwcloud.client{ endpoint = emu.url, ak = emu.ak, sk = emu.sk,
                                    project_id = PID })
    -- nginx is a daemon now; wait for its port (up to a minute on a busy
    -- machine)
    local url = "http://127.0.0.1:" .. port
    for _ = 1, 1200 do
      if emulator.curl("GET", url .. "/", { timeout = 1 }).status > 0 then break end
      sleep(0.05)
    end
    srv_url = function(path) return url .. path end
  end)

  teardown(function()
    if native then native:close() end
    if prefix then
      sh("nginx -p " .. q(prefix) .. " -c port.conf -s quit 2>/dev/null")
      sleep(0.3)
      if not os.getenv("HWCLOUD_KEEP_WORK") then sh("rm -rf " .. q(prefix)) end
    end
    if emu then emu:stop() end
  end)

  before_each(function() emu:reset() end)

  local function post(query)
    return emulator.curl("POST", srv_url("/redeploy" .. query), { timeout = 20 })
  end

  it("POST /redeploy starts a ServiceStage redeploy and answers its job id", function()
    local r = post("?environment_id=env-prod-01&addon_id=addon-gateway")
    assert.are.equal(200, r.status, r.body .. (read_file(prefix .. "/logs/error.log") or ""):sub(-1500))
    assert.is_truthy(r.headers["content-type"]:find("application/json", 1, true))
    assert.is_string(r.json.job_id)
    local job = assert(native.servicestage:show_job{ job_id = r.json.job_id })
    assert.are.equal("env-prod-01", job.job.ENVIRONMENT_ID)
    assert.are.equal("addon-gateway", job.job.SOURCE_ID)
    -- the client made for the first request serves the next ones
    local r2 = post("?environment_id=env-prod-01&addon_id=addon-logging")
    assert.are.equal(200, r2.status)
    assert.are_not.equal(r.json.job_id, r2.json.job_id)
    assert.are.equal(2, emu:counts()["servicestage.deliver_addon_job"])
  end)

  it("answers 4xx and 5xx with a JSON error", function()
    local r = post("?environment_id=env-prod-01")
    assert.are.equal(400, r.status)
    assert.are.equal("addon_id", r.json.error.field)
    assert.is_string(r.json.error.message)

    r = emulator.curl("GET", srv_url("/redeploy?environment_id=e&addon_id=a"))
    assert.are.equal(405, r.status)
    assert.is_string(r.json.error.message)

    emu:fault{ operation = "servicestage.deliver_addon_job", count = 1, status = 404,
               body = { error_code = "SVCSTG.00100404", error_msg = "add-on not found" } }
    r = post("?environment_id=env-prod-01&addon_id=gone")
    assert.are.equal(404, r.status)
    assert.are.equal("SVCSTG.00100404", r.json.error.code)
    assert.are.equal("add-on not found", r.json.error.message)

    emu:fault{ operation = "servicestage.deliver_addon_job", count = 1, status = 403,
               body = { error_code = "APIGW.0301", error_msg = "Incorrect IAM authentication" } }
    r = post("?environment_id=env-1&addon_id=a")
    assert.are.equal(502, r.status)
    assert.are.equal("http", r.json.error.kind)
    assert.are.equal(403, r.json.error.status)
    assert.is_nil(r.body:find(emu.sk, 1, true))
    assert.are.equal(0, emu:counts()["servicestage.show_job"] or 0)
  end)
end)
