-- The call pipeline (hwcloud.call) over a scripted transport and clock
-- (spec/helpers/fake_transport.lua): build, sign, send, decode and the
-- retry loop with the client's real configuration, auth and C core, and
-- no socket. Backoffs are read off the scripted clock, so they take no
-- time.
--
--   make && sh tools/test.sh spec/call_spec.lua

package.path = "./?.lua;" .. package.path

local helper = require "spec.helpers.pipeline"
local pipeline, ENDPOINT = helper.new, helper.ENDPOINT

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
    -- written as 8080.0, yet the schema says integer: it becomes one
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

  it("keeps an answer's integers exact, inside and outside the schema", function()
    local run = pipeline {
      { status = 200, body = '{"spec":{"ingress":{"port":8080}},"metadata":{"name":"w"},'
          .. '"extra":{"serial":9007199254740993,"ratio":0.5}}' },
    }
    local res = assert(run("asm", "create_workshop", {
      mesh_id = "m", metadata = { name = "w" },
      spec = { primaryCluster = "c", ingress = { elbId = "e", elbIp = "192.0.2.1", port = 8080 } },
    }))
    assert.equal(8080, res.spec.ingress.port)
    assert.equal(0.5, res.extra.ratio)
    if math.type then
      assert.equal("integer", math.type(res.spec.ingress.port))
      -- beyond 2^53: a float would have read ...992
      assert.equal(9007199254740993, res.extra.serial)
      assert.equal("float", math.type(res.extra.ratio))
    end
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

  it("sends the operation's content type once, signed (SWR's Content-Type is no field)", function()
    local run, tr = pipeline { { status = 200, body = '{"namespaces":[]}' } }
    -- the Go SDK described a Content-Type header field for SWR; the newer
    -- Python SDK, which the descriptions follow, has none and sends the
    -- operation's own
    local _, err = run("swr", "list_namespaces", { ["Content-Type"] = "application/json;charset=utf-8" })
    assert.are.same({ "validation", "Content-Type" }, { err.kind, err.field })
    assert(run("swr", "list_namespaces", {}))
    local n = 0
    for _, line in ipairs(tr.sends[1].headers) do
      if line:lower():find("^content%-type:") then n = n + 1 end
    end
    assert.equal(1, n)
    local h = tr.headers(1)
    assert.equal("application/json", h["content-type"])
    assert.truthy(h.authorization:find("SignedHeaders=content-type;", 1, true))
  end)

  it("sends a header field once: the ids are the credentials', a signing header the field's", function()
    local run, tr = pipeline {
      { status = 200, body = "{}" }, { status = 200, body = "{}" },
    }
    -- DataArts Studio describes X-Project-Id as a field: the official SDKs'
    -- credentials overwrite it, so the client's project id goes, once
    assert.is_nil(select(2, run("dataartsstudio", "list_catalog_tree",
      { ["X-Project-Id"] = "other", workspace = "ws-1" })))
    local lines = {}
    for _, l in ipairs(tr.sends[1].headers) do
      local k = l:match("^([^:]+):")
      lines[k:lower()] = (lines[k:lower()] or 0) + 1
    end
    assert.equal(1, lines["x-project-id"])
    assert.equal(helper.PID, tr.headers(1)["x-project-id"])
    assert.equal("ws-1", tr.headers(1).workspace)
    -- CloudRTC's own Authorization and X-Sdk-Date fields go as given, as the SDKs send them
    assert.is_nil(select(2, run("cloudrtc", "list_apps", { Authorization = "app-auth", ["X-Sdk-Date"] = "d" })))
    assert.equal("app-auth", tr.headers(2).authorization)
    assert.equal("d", tr.headers(2)["x-sdk-date"])
  end)
end)
