-- Identity requests (the metadata service, IAM's project and domain look-ups,
-- password tokens) are calls of the one call path: the hooks see them, the
-- retry policy decides their tries, and secrets stay out of what the hooks
-- get. Then the steps of the identity state, one by one. Over the scripted
-- transport and clock of spec/helpers/pipeline.lua: no socket.
--
--   make && sh tools/test.sh spec/identity_spec.lua

package.path = "./?.lua;" .. package.path

local helper = require "spec.helpers.pipeline"
local pipeline, ENDPOINT, NONE = helper.new, helper.ENDPOINT, helper.NONE

local REGION = "cn-north-4"
local LATER = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 6 * 3600)

-- hooks that record what they are given, and a dump of it all
local function recorder()
  local seen = {}
  local function keep(kind)
    return function(info) seen[#seen + 1] = { kind = kind, info = info } end
  end
  local hooks = { on_request = keep("request"), on_response = keep("response"),
                  on_retry = keep("retry") }
  local function dump()
    local out = {}
    local function walk(v, depth)
      if depth > 6 then return end
      if type(v) == "table" then
        for k, x in pairs(v) do
          out[#out + 1] = tostring(k)
          walk(x, depth + 1)
        end
      else
        out[#out + 1] = tostring(v)
      end
    end
    walk(seen, 0)
    return table.concat(out, " ")
  end
  return seen, hooks, dump
end

local function ops(seen, kind)
  local out = {}
  for _, s in ipairs(seen) do
    if s.kind == kind then out[#out + 1] = s.info.service .. "." .. s.info.operation .. "#"
      .. tostring(s.info.attempt) end
  end
  return out
end

local function with(a, b)
  local o = {}
  for k, v in pairs(a) do o[k] = v end
  for k, v in pairs(b or {}) do o[k] = v end
  return o
end

describe("identity requests go through the call path", function()
  it("a project look-up is IAM's keystone_list_projects: hooked, and a 503 to it tried again", function()
    local seen, hooks = recorder()
    local run, tr = pipeline({
      { status = 503, body = '{"error_code":"SYS.0503","error_msg":"busy"}' },
      { status = 200, body = '{"projects":[{"id":"p-looked-up","name":"' .. REGION .. '"}]}' },
      { status = 200, body = '{"job_id":"j-1"}' },
    }, with(hooks, { project_id = NONE, region = REGION }))
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "s-1" })
    assert.is_nil(err)
    assert.equal("j-1", res.job_id)
    assert.equal(3, #tr.sends)
    assert.equal("GET", tr.sends[1].method)
    assert.equal(ENDPOINT .. "/v3/projects?name=" .. REGION, tr.sends[1].url)
    assert.equal(tr.sends[1].url, tr.sends[2].url)
    -- signed with the client's keys, and without an id header of its own
    local h = tr.headers(1)
    assert.truthy(h.authorization:find("Access=CALLSPECAK", 1, true))
    assert.is_nil(h["x-project-id"])
    assert.is_nil(h["x-domain-id"])
    -- the call then goes out with the project it found
    assert.equal("p-looked-up", tr.headers(3)["x-project-id"])
    assert.truthy(tr.sends[3].url:find("/p-looked-up/", 1, true))
    assert.same({ "iam.keystone_list_projects#1", "iam.keystone_list_projects#2",
                  "workspaceapp.reinstall_server#1" }, ops(seen, "request"))
    assert.same({ "iam.keystone_list_projects#1" }, ops(seen, "retry"))
    local responses = ops(seen, "response")
    assert.equal(3, #responses)
    assert.equal(503, seen[2].info.status)
  end)

  it("a domain look-up is IAM's keystone_list_auth_domains, under the same policy (a 429)", function()
    local seen, hooks = recorder()
    local run, tr = pipeline({
      { status = 429, headers = { ["retry-after"] = "1" } },
      { status = 200, body = '{"domains":[{"id":"d-looked-up","name":"acct"}]}' },
      { status = 200, body = '{"projects":[]}' },
    }, hooks)
    local _, err = run("iam", "keystone_list_projects", {})
    assert.is_nil(err)
    assert.equal(3, #tr.sends)
    assert.equal(ENDPOINT .. "/v3/auth/domains", tr.sends[1].url)
    assert.equal(ENDPOINT .. "/v3/auth/domains", tr.sends[2].url)
    assert.equal("d-looked-up", tr.headers(3)["x-domain-id"])
    assert.same({ "iam.keystone_list_auth_domains#1", "iam.keystone_list_auth_domains#2",
                  "iam.keystone_list_projects#1" }, ops(seen, "request"))
    assert.same({ "iam.keystone_list_auth_domains#1" }, ops(seen, "retry"))
  end)

  it("a look-up that fails for good is the call's error, named, after the policy's tries", function()
    local run, tr = pipeline({
      { status = 503 }, { status = 503 }, { status = 503 },
    }, { project_id = NONE, region = REGION, retries = 2 })
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "s-1" })
    assert.is_nil(res)
    assert.equal(3, #tr.sends)
    assert.equal(503, err.status)
    assert.equal(3, err.attempts)
    assert.truthy(err.message:find("^IAM project look%-up: "), err.message)
    -- the error names the call it failed
    assert.equal("workspaceapp", err.service)
    assert.equal("reinstall_server", err.operation)
  end)

  it("the metadata service's two operations: hooked, the token retried, no secret in the hooks", function()
    local seen, hooks, dump = recorder()
    local md = "http://md.test"
    local run, tr = pipeline({
      { status = 503 },
      { status = 200, body = "SESSION-TOKEN-0001\n" },
      { status = 502 },
      { status = 200, body = '{"credential":{"access":"HWTMPACCESS01","secret":"tmp-secret-01",'
          .. '"securitytoken":"SECURITY-TOKEN-01","expires_at":"' .. LATER .. '"}}' },
      { status = 200, body = '{"job_id":"j-2"}' },
    }, hooks, { kind = "metadata", endpoint = md, tried = {}, project_id = helper.PID })
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "s-2" })
    assert.is_nil(err)
    assert.equal("j-2", res.job_id)
    assert.equal(5, #tr.sends)
    for i = 1, 2 do
      assert.equal("PUT", tr.sends[i].method)
      assert.equal(md .. "/meta-data/latest/api/token", tr.sends[i].url)
      assert.equal("", tr.sends[i].body)
      assert.equal("21600", tr.headers(i)["x-metadata-token-ttl-seconds"])
      assert.is_nil(tr.headers(i).authorization)
      assert.is_nil(tr.headers(i)["content-type"])
    end
    for i = 3, 4 do
      assert.equal("GET", tr.sends[i].method)
      assert.equal(md .. "/openstack/latest/securitykey", tr.sends[i].url)
      assert.equal("SESSION-TOKEN-0001", tr.headers(i)["x-metadata-token"])
    end
    local h = tr.headers(5)
    assert.truthy(h.authorization:find("Access=HWTMPACCESS01", 1, true))
    assert.equal("SECURITY-TOKEN-01", h["x-security-token"])
    assert.same({ "metadata.create_token#1", "metadata.create_token#2",
                  "metadata.show_security_key#1", "metadata.show_security_key#2",
                  "workspaceapp.reinstall_server#1" }, ops(seen, "request"))
    assert.same({ "metadata.create_token#1", "metadata.show_security_key#1" }, ops(seen, "retry"))
    local all = dump()
    for _, secret in ipairs { "SESSION-TOKEN-0001", "tmp-secret-01", "SECURITY-TOKEN-01" } do
      assert.is_nil(all:find(secret, 1, true), secret)
    end
  end)

  it("a password token: not sent twice after a 503, sent again when it never left", function()
    local seen, hooks, dump = recorder()
    local creds = { ak = NONE, sk = NONE, user_name = "deployer", password = "pw-SECRET-77",
                    domain_name = "acct", region = REGION, project_id = NONE }
    local run, tr = pipeline({ { status = 503 } }, with(hooks, creds))
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "s-3" })
    assert.is_nil(res)
    assert.equal(1, #tr.sends)
    assert.equal(503, err.status)
    assert.truthy(err.message:find("^IAM password token: "), err.message)
    assert.is_true(tr.sends[1].opts.once)

    run, tr = pipeline({
      { error = "transport", message = "Couldn't connect to server", sent = false },
      { status = 201, headers = { ["x-subject-token"] = "SUBJECT-TOKEN-99" },
        body = '{"token":{"expires_at":"' .. LATER .. '","project":{"id":"p-of-token"}}}' },
      { status = 200, body = '{"job_id":"j-3"}' },
    }, with(hooks, creds))
    res, err = run("workspaceapp", "reinstall_server", { server_id = "s-3" })
    assert.is_nil(err)
    assert.equal("j-3", res.job_id)
    assert.equal(3, #tr.sends)
    assert.equal(ENDPOINT .. "/v3/auth/tokens?nocatalog=true", tr.sends[2].url)
    local body = tr.sends[2].body
    assert.truthy(body:find('"name":"' .. REGION .. '"', 1, true), body)
    assert.truthy(body:find('"password":"pw-SECRET-77"', 1, true))
    assert.is_nil(tr.headers(2).authorization)
    local h = tr.headers(3)
    assert.equal("SUBJECT-TOKEN-99", h["x-auth-token"])
    assert.equal("p-of-token", h["x-project-id"])
    assert.truthy(ops(seen, "request")[1]:find("^iam%.keystone_create_user_token_by_password#1"))
    local all = dump()
    for _, secret in ipairs { "pw-SECRET-77", "SUBJECT-TOKEN-99" } do
      assert.is_nil(all:find(secret, 1, true), secret)
    end
  end)
end)

describe("the identity state's steps", function()
  local function fn_source(calls)
    return { kind = "function", source = "constructor", fn = function()
      calls.n = calls.n + 1
      return { ak = "FNAK" .. calls.n .. "XXXX", sk = "fn-secret-" .. calls.n }
    end }
  end

  it("ensure_keys calls the function once; refresh_on a stale 401 has it called again", function()
    local calls = { n = 0 }
    local _, tr, _, env, engine = pipeline({}, nil, fn_source(calls))
    local auth = env.auth
    assert.equal(0, calls.n) -- nothing at creation
    assert.equal(0, auth:generation())
    assert.is_true(engine:call(function(e) return auth:ensure_keys(e, true) end))
    assert.is_true(engine:call(function(e) return auth:ensure_keys(e, true) end))
    assert.equal(1, calls.n)
    local gen = auth:generation()
    assert.equal(1, gen)
    local stale = { status = 401, message = "The security token must be updated." }
    assert.is_false(auth:refresh_on({ status = 401, message = "bad signature" }, gen))
    assert.is_true(auth:refresh_on(stale, gen))
    -- a second task that saw the same 401 drops nothing more
    assert.is_true(auth:refresh_on(stale, gen))
    assert.is_true(engine:call(function(e) return auth:ensure_keys(e, true) end))
    assert.equal(2, calls.n)
    assert.equal(2, auth:generation())
    assert.equal(0, #tr.sends)
    -- neither the state nor its description shows a key
    local shown = tostring(auth) .. " " .. auth:describe()
    assert.is_nil(shown:find("fn-secret", 1, true))
    for k, v in pairs(auth) do
      assert.is_nil(tostring(v):find("fn-secret", 1, true), k)
    end
  end)

  it("ensure_project: given, nothing sent; else looked up once and kept", function()
    local _, tr, _, env, engine = pipeline({
      { status = 200, body = '{"projects":[{"id":"p-1","name":"' .. REGION .. '"}]}' },
    }, { project_id = NONE, region = REGION })
    local auth = env.auth
    assert.is_nil(auth:project())
    assert.is_true(engine:call(function(e) return auth:ensure_project(e) end))
    assert.is_true(engine:call(function(e) return auth:ensure_project(e) end))
    assert.equal("p-1", auth:project())
    assert.equal(1, #tr.sends)

    _, tr, _, env, engine = pipeline({})
    assert.is_true(engine:call(function(e) return env.auth:ensure_project(e) end))
    assert.equal(helper.PID, env.auth:project())
    assert.equal(0, #tr.sends)
  end)

  it("ensure_domain: looked up once; a list with no domain is a validation error naming domain_id", function()
    local _, tr, _, env, engine = pipeline({
      { status = 200, body = '{"domains":[{"id":"d-1"}]}' },
    })
    assert.is_true(engine:call(function(e) return env.auth:ensure_domain(e) end))
    assert.is_true(engine:call(function(e) return env.auth:ensure_domain(e) end))
    assert.equal(1, #tr.sends)

    _, _, _, env, engine = pipeline({ { status = 200, body = '{"domains":[]}' } })
    local ok, err = engine:call(function(e) return env.auth:ensure_domain(e) end)
    assert.is_nil(ok)
    assert.equal("validation", err.kind)
    assert.equal("domain_id", err.field)
  end)

  it("prepare asks for the domain for a global service and the project for a regional one", function()
    local _, tr, _, env, engine = pipeline({
      { status = 200, body = '{"domains":[{"id":"d-2"}]}' },
      { status = 200, body = '{"projects":[{"id":"p-2","name":"' .. REGION .. '"}]}' },
    }, { project_id = NONE, region = REGION })
    local services = require "hwcloud.services"
    local auth = env.auth
    assert.is_true(engine:call(function(e) return auth:prepare(e, services.load("iam")) end))
    assert.equal(1, #tr.sends)
    assert.is_nil(auth:project())
    -- an identity request needs neither id
    assert.is_true(engine:call(function(e) return auth:prepare(e, services.load("rts"), true) end))
    assert.equal(1, #tr.sends)
    assert.is_true(engine:call(function(e) return auth:prepare(e, services.load("rts")) end))
    assert.equal(2, #tr.sends)
    assert.equal("p-2", auth:project())
    local lines = engine:call(function(e)
      return auth:headers(e, services.load("iam"), "GET", ENDPOINT .. "/v3/projects", nil, nil)
    end)
    local joined = table.concat(lines, "\n")
    assert.truthy(joined:find("X-Domain-Id: d-2", 1, true), joined)
    assert.is_nil(joined:find("X-Project-Id", 1, true))
  end)
end)

describe("client:request's id header", function()
  -- the index's global flag picks it, whatever the service's name
  local function sent(service)
    local client, sends = assert(require("hwcloud.client").recording {
      endpoint = ENDPOINT, ak = "CALLSPECAK", sk = "call-spec-secret", region = REGION,
      project_id = helper.PID, domain_id = "d-given", progress = false })
    local _, err = client:request { service = service, method = "GET", path = "/v1/things" }
    assert.is_nil(err)
    assert.equal(1, #sends)
    local h = {}
    for _, line in ipairs(sends[1].headers) do
      local k, v = line:match("^([^:]+): (.*)$")
      h[k:lower()] = v
    end
    assert.truthy(h.authorization:find("SignedHeaders=", 1, true))
    return h
  end

  it("is X-Domain-Id, signed, for a global service (IAM, BSS)", function()
    for _, service in ipairs { "iam", "bss" } do
      local h = sent(service)
      assert.equal("d-given", h["x-domain-id"], service)
      assert.is_nil(h["x-project-id"], service)
      assert.truthy(h.authorization:find("x-domain-id", 1, true), service)
    end
  end)

  it("is X-Project-Id, signed, for a regional service and for one the catalog lacks", function()
    for _, service in ipairs { "ecs", "notdescribed" } do
      local h = sent(service)
      assert.equal(helper.PID, h["x-project-id"], service)
      assert.is_nil(h["x-domain-id"], service)
      assert.truthy(h.authorization:find("x-project-id", 1, true), service)
    end
  end)

  it("comes from the service's flag, not its name", function()
    local auth = require "hwcloud.identity.auth"
    assert.is_false(auth.is_global { name = "iam" })
    assert.is_true(auth.is_global(require("hwcloud.generic").service("iam")))
    assert.is_false(auth.is_global(require("hwcloud.generic").service("ecs")))
    assert.is_false(auth.is_global(require("hwcloud.generic").service("notdescribed")))
  end)
end)

describe("a host without a metadata service", function()
  it("is one quick try at the address, then 'no credentials found: tried ...'", function()
    local seen, hooks = recorder()
    local run, tr = pipeline({
      { error = "transport", code = 7, sent = false,
        message = "Failed to connect to 169.254.169.254 port 80: Connection timed out" },
      { status = 200, body = "SESSION-TOKEN-0001\n" },
    }, with(hooks, { retries = 3 }), { kind = "metadata", endpoint = "http://169.254.169.254",
      tried = { "the constructor (no ak/sk)" }, project_id = helper.PID })
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "s-9" })
    assert.is_nil(res)
    assert.equal(1, #tr.sends)
    assert.is_true(tr.sends[1].opts.connect_timeout <= 1)
    assert.equal("validation", err.kind)
    local line = tostring(err)
    assert.truthy(line:find("no credentials found: tried the constructor (no ak/sk), and the ECS "
      .. "metadata service at http://169.254.169.254 (", 1, true), line)
    assert.is_nil(line:find("attempts", 1, true), line)
    assert.same({}, ops(seen, "retry"))
  end)
end)

describe("a configuration error", function()
  it("a host that does not resolve is reported once, as the configuration's", function()
    local seen, hooks = recorder()
    local run, tr = pipeline({
      { error = "transport", code = 6, sent = false,
        message = "Could not resolve host: workspace.sa-peru-9.myhuaweicloud.com" },
      { status = 200, body = '{"job_id":"j-1"}' },
    }, with(hooks, { retries = 3 }))
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "s-1" })
    assert.is_nil(res)
    assert.equal(1, #tr.sends)
    assert.is_false(err.retryable)
    local line = tostring(err)
    assert.truthy(line:find("Could not resolve host: workspace.sa-peru-9.myhuaweicloud.com "
      .. "(a configuration error: check the region and endpoint)", 1, true), line)
    assert.is_nil(line:find("attempts", 1, true), line)
    assert.same({}, ops(seen, "retry"))
  end)

  it("a host that does not resolve still fails over to the region's next endpoint", function()
    local run, tr, _, env = pipeline({
      { error = "transport", code = 6, sent = false, message = "Could not resolve host: a.test" },
      { status = 200, body = '{"job_id":"j-1"}' },
    })
    -- the failover list a region's HUAWEICLOUD_SDK_REGION_* variable gives
    env.cfg.alternates.workspaceapp = { "https://b.test" }
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "s-1" })
    assert.is_nil(err)
    assert.equal("j-1", res.job_id)
    assert.equal(2, #tr.sends)
    assert.truthy(tr.sends[2].url:find("^https://b%.test/"), tr.sends[2].url)
  end)

  it("the nginx resolver's words are the configuration's too; a refused connection is not", function()
    local retry = require "hwcloud.retry"
    assert.is_true(retry.misconfigured { error = "transport", sent = false,
      message = "failed to connect: ecs.x.test could not be resolved (3: Host not found)" })
    assert.is_true(retry.misconfigured { kind = "transport", code = "CURLE_6" })
    assert.is_false(retry.misconfigured { kind = "transport", code = "CURLE_7" })
    assert.is_false(retry.misconfigured { error = "transport", message = "connection refused" })
    assert.is_false(retry.misconfigured { kind = "http", status = 404 })
  end)
end)
