-- The call pipeline (hwcloud.call) over a scripted transport and clock
-- (spec/helpers/fake_transport.lua): build, sign, send, decode and the
-- retry loop with the client's real configuration, auth and C core, and
-- no socket. Backoffs are read off the scripted clock, so they take no
-- time.
--
--   make && sh tools/test.sh spec/call_spec.lua

package.path = "./?.lua;" .. package.path

local core = require "hwcloud.core"
local config = require "hwcloud.config"
local auth = require "hwcloud.auth"
local call = require "hwcloud.call"
local services = require "hwcloud.services"
local engine_mod = require "hwcloud.engine"
local fake = require "spec.helpers.fake_transport"

local PID = "0123456789abcdef0123456789abcdef"
local ENDPOINT = "http://api.test"

-- pipeline(answers[, client_opts]) -> run(service, operation, req[, opts]), tr, clock
local function pipeline(answers, extra)
  local o = { endpoint = ENDPOINT, ak = "CALLSPECAK", sk = "call-spec-secret", project_id = PID,
              retry_base = 0.1, retry_max_delay = 5, progress = false }
  for k, v in pairs(extra or {}) do o[k] = v end
  local cfg = assert(config.new(o))
  local creds = cfg.credentials
  cfg.credentials = nil
  local tr, clock = fake.new { answers = answers, latency = 0.01 }
  local env = {
    cfg = cfg, user_agent = "hwcloud-spec",
    auth = auth.new(creds, { cfg = cfg, user_agent = "hwcloud-spec", sign = core.sign,
                             iam_endpoint = function() return config.iam_endpoint(cfg) end }),
    build = core.build, conform = core.conform, json_decode = require("cjson.safe").decode,
    now = clock.now,
  }
  env.endpoint = function(svc) return config.endpoint(cfg, svc) end
  local engine = engine_mod.new(tr, clock.now)
  local function run(service, opname, req, opts)
    local svc = services.load(service)
    local op = assert(services.operation(svc, opname))
    return engine:call(function(e) return call.invoke(env, e, svc, op, req, opts or {}) end)
  end
  return run, tr, clock
end

describe("the call pipeline", function()
  it("builds, signs and sends the request, and decodes the answer by the schema", function()
    local run, tr = pipeline {
      { status = 200, headers = { ["x-request-id"] = "r1" },
        body = '{"spec":{"ingress":{"port":8080.0}},"metadata":{"name":"w"}}' },
    }
    local res, err = run("asm", "create_workshop", {
      mesh_id = "m 1", metadata = { name = "w" },
      spec = { primaryCluster = "c", ingress = { elbId = "e", elbIp = "192.0.2.1", port = 8080 } },
    })
    assert.is_nil(err)
    assert.equal("w", res.metadata.name)
    assert.equal(8080, res.spec.ingress.port)
    -- the schema says integer: lua-cjson's float becomes one
    if math.type then assert.equal("integer", math.type(res.spec.ingress.port)) end
    assert.equal(1, #tr.sends)
    local s = tr.sends[1]
    assert.equal("POST", s.method)
    assert.equal(ENDPOINT .. "/v2/meshes/m%201/workshops", s.url)
    assert.truthy(s.body:find('"primaryCluster":"c"', 1, true))
    local h = tr.headers(1)
    assert.truthy(h.authorization:find("^SDK%-HMAC%-SHA256 Access=CALLSPECAK, SignedHeaders="))
    assert.is_nil(h.authorization:find("call-spec-secret", 1, true))
    assert.truthy(h["x-sdk-date"])
    assert.equal("application/json", h["content-type"])
    -- not safe to repeat: the transport must not resend it on its own
    assert.is_true(s.opts.once)
  end)

  it("sends nothing for a request the schema refuses", function()
    local run, tr = pipeline {}
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "" })
    assert.is_nil(res)
    assert.equal("validation", err.kind)
    assert.equal("server_id", err.field)
    assert.equal(0, #tr.sends)
  end)

  it("tries a GET again after a 503, after at least half the backoff", function()
    local run, tr, clock = pipeline { { status = 503, body = '{"error_code":"X","error_msg":"busy"}' },
                                     { status = 200, body = '{"status":"SUCCESS","id":"j"}' } }
    local res, err = run("workspaceapp", "show_job_detail", { job_id = "j" })
    assert.is_nil(err)
    assert.equal("SUCCESS", res.status)
    assert.equal(2, #tr.sends)
    assert.is_false(tr.sends[1].opts.once)
    -- equal jitter: the first delay is between base/2 and base
    assert.is_true(tr.sends[2].at - tr.sends[1].at >= 0.05 + 0.01)
    assert.is_true(clock.t >= 0.07)
  end)

  it("does not send a POST again after a 503 (it may have been taken)", function()
    local run, tr = pipeline { { status = 503, body = "" } }
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "s1" })
    assert.is_nil(res)
    assert.equal("http", err.kind)
    assert.equal(503, err.status)
    assert.equal(1, err.attempts)
    assert.equal(1, #tr.sends)
  end)

  it("tries a POST again when it provably never left, and after a 429's Retry-After", function()
    local run, tr = pipeline {
      { error = "transport", message = "connection refused", code = 7, sent = false },
      { status = 429, headers = { ["retry-after"] = "2" }, body = "" },
      { status = 200, body = '{"job_id":"j1"}' },
    }
    local res, err = run("workspaceapp", "reinstall_server", { server_id = "s1" })
    assert.is_nil(err)
    assert.equal("j1", res.job_id)
    assert.equal(3, #tr.sends)
    assert.is_true(tr.sends[3].at - tr.sends[2].at >= 2)
    -- each try is signed afresh
    assert.truthy(tr.headers(3).authorization)
  end)

  it("stops after retries + 1 tries and says how many were made", function()
    local answers = {}
    for i = 1, 5 do answers[i] = { status = 502, body = "<html>bad gateway</html>" } end
    local run, tr = pipeline(answers, { retries = 2 })
    local res, err = run("workspaceapp", "show_job_detail", { job_id = "j" })
    assert.is_nil(res)
    assert.equal(502, err.status)
    assert.equal(3, err.attempts)
    assert.equal(3, #tr.sends)
    assert.truthy(tostring(err):find("after 3 attempts", 1, true))
  end)

  it("per-call options override the client's", function()
    local run, tr = pipeline({ { status = 503 }, { status = 503 } }, { retries = 5 })
    local _, err = run("workspaceapp", "show_job_detail", { job_id = "j" },
                       { retries = 0, timeout = 3 })
    assert.equal(1, err.attempts)
    assert.equal(1, #tr.sends)
    assert.equal(3, tr.sends[1].opts.timeout)
  end)

  it("answers a 200 that is not JSON with a decode error, and a redirect with an http one", function()
    local run = pipeline({ { status = 200, body = "<html>" } }, { retries = 0 })
    local _, err = run("workspaceapp", "show_job_detail", { job_id = "j" })
    assert.equal("decode", err.kind)
    run = pipeline({ { status = 302, headers = { location = "http://elsewhere/" } } })
    _, err = run("workspaceapp", "show_job_detail", { job_id = "j" })
    assert.equal("http", err.kind)
    assert.truthy(err.message:find("unexpected redirect (http://elsewhere/)", 1, true))
  end)
end)
