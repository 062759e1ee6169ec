-- The error model: every failure of a call is `nil, err`, with err.kind one
-- of validation, transport, timeout, http, decode, job_failed; code and
-- message are read from whichever error shape the service uses; retryable
-- says whether another try can help; secrets never show up anywhere.
--
-- Run: LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/5.4/?.so;;" \
--        lua5.4 /usr/bin/busted spec/errors_spec.lua

package.path = "./?.lua;" .. package.path

local hwcloud = require "hwcloud"
local emulator = require "spec.helpers.emulator"

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
local AK = "ERRSPECAK00000000001"
local SK = "errspec-SECRET-sk-7f3a9c"
local STS = "errspec-STS-token-5b1c"

local HTML_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
  .. "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
  .. "</body>\r\n</html>\r\n" .. ("<!-- padding -->\r\n"):rep(40)

local emu, client

local function new_client(extra)
  return emu:client(PID, extra)
end

-- the checks every error must pass
local function is_error(err, kind, svc, op)
  assert.is_table(err)
  assert.are.equal(kind, err.kind)
  assert.are.equal(svc, err.service)
  assert.are.equal(op, err.operation)
  assert.is_boolean(err.retryable)
  assert.is_string(err.message)
  assert.is_true(#err.message > 0)
  local line = tostring(err)
  assert.is_nil(line:find("[\r\n]"), line)
  assert.is_truthy(line:find("^hwcloud: " .. svc .. "%." .. op .. ": " .. kind), line)
  return line
end

local session = emulator.session({ job_seconds = 1, ak = AK, sk = SK,
                                   inventory = require "spec.fixtures.inventory" }, PID)
lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)
before_each(function() emu:reset() end)

describe("errors: each service's error shape #server", function()
  it("servicestage {error_code, error_msg}", function()
    emu:fault{ operation = "servicestage.deliver_addon_job", status = 400,
               body = { error_code = "SVCSTG.00100400", error_msg = "Invalid action" } }
    local res, err = client.servicestage:deliver_addon_job{
      environment_id = "e", addon_id = "a", action = "redeploy" }
    assert.is_nil(res)
    local line = is_error(err, "http", "servicestage", "deliver_addon_job")
    assert.are.equal(400, err.status)
    assert.are.equal("SVCSTG.00100400", err.code)
    assert.are.equal("Invalid action", err.message)
    assert.is_false(err.retryable)
    assert.is_truthy(line:find("http 400 SVCSTG.00100400: Invalid action", 1, true), line)
    assert.are.same({ ["servicestage.deliver_addon_job"] = 1 }, emu:counts())
  end)

  it("servicestage: a real 404 for an unknown job", function()
    local _, err = client.servicestage:show_job{ job_id = "JOBnope" }
    is_error(err, "http", "servicestage", "show_job")
    assert.are.equal(404, err.status)
    assert.are.equal("SVCSTG.00100404", err.code)
    assert.is_truthy(err.message:find("JOBnope", 1, true))
    assert.is_false(err.retryable)
  end)

  it("asm {errorCode, errorMsg}, and a real 409 for a duplicate workshop", function()
    emu:fault{ operation = "asm.list_workshops", status = 404,
               body = { errorCode = "ASM.01010002", errorMsg = "The mesh does not exist" } }
    local _, err = client.asm:list_workshops{ mesh_id = "m" }
    is_error(err, "http", "asm", "list_workshops")
    assert.are.equal(404, err.status)
    assert.are.equal("ASM.01010002", err.code)
    assert.are.equal("The mesh does not exist", err.message)

    local ws = { mesh_id = "m", metadata = { name = "w" }, spec = { primaryCluster = "c",
                 ingress = { elbId = "e", elbIp = "10.0.0.1", port = 80 } } }
    assert(client.asm:create_workshop(ws))
    local res
    res, err = client.asm:create_workshop(ws)
    assert.is_nil(res)
    is_error(err, "http", "asm", "create_workshop")
    assert.are.equal(409, err.status)
    assert.are.equal("ASM.01010003", err.code)
    assert.is_truthy(err.message:find("w", 1, true))
    assert.is_false(err.retryable)
  end)

  it("codeartsbuild {error_code, error_msg} on a 4xx", function()
    emu:fault{ operation = "codeartsbuild.update_notice", status = 404,
               body = { error_code = "CB.00060404", error_msg = "The job does not exist" } }
    local _, err = client.codeartsbuild:update_notice{
      job_id = "j", notice_type = "MAIL", enabled_event_type_names = { "a" } }
    is_error(err, "http", "codeartsbuild", "update_notice")
    assert.are.equal(404, err.status)
    assert.are.equal("CB.00060404", err.code)
    assert.are.equal("The job does not exist", err.message)
  end)

  it("codeartsbuild: a 200 whose status is \"fail\" is an error, with its error object", function()
    emu:fault{ operation = "codeartsbuild.update_notice", status = 200,
               body = { result = hwcloud.null, status = "fail",
                        error = { error_code = "CB.00060001",
                                  error_msg = "The notice type is not supported" } } }
    local res, err = client.codeartsbuild:update_notice{
      job_id = "j", notice_type = "SMS", enabled_event_type_names = { "a" } }
    assert.is_nil(res)
    is_error(err, "http", "codeartsbuild", "update_notice")
    assert.are.equal(200, err.status)
    assert.are.equal("CB.00060001", err.code)
    assert.are.equal("The notice type is not supported", err.message)
    assert.is_false(err.retryable)
    assert.are.same({ ["codeartsbuild.update_notice"] = 1 }, emu:counts())
  end)

  it("codeartsbuild: a 200 \"fail\" whose error is plain text", function()
    emu:fault{ operation = "codeartsbuild.update_notice", status = 200,
               body = { result = hwcloud.null, status = "fail", error = "no such build task" } }
    local _, err = client.codeartsbuild:update_notice{
      job_id = "j", notice_type = "MAIL", enabled_event_type_names = { "a" } }
    is_error(err, "http", "codeartsbuild", "update_notice")
    assert.are.equal("no such build task", err.message)
  end)

  it("rts in Heat's shape: the detail of error.message, the type as code", function()
    emu:fault{ operation = "rts.create_software_deployment", status = 400, body = {
      code = 400, title = "Bad Request",
      explanation = "The server could not comply with the request since it is either "
        .. "malformed or otherwise incorrect.",
      error = { message = "Property server_id not assigned", type = "StackValidationFailed",
                traceback = hwcloud.null } } }
    local _, err = client.rts:create_software_deployment{ config_id = "c", server_id = "s" }
    is_error(err, "http", "rts", "create_software_deployment")
    assert.are.equal(400, err.status)
    assert.are.equal("StackValidationFailed", err.code)
    assert.are.equal("Property server_id not assigned", err.message)
  end)

  it("rts: a real 404 in Heat's shape", function()
    local _, err = client.rts:show_software_deployment{ deployment_id = "no-such-id" }
    is_error(err, "http", "rts", "show_software_deployment")
    assert.are.equal(404, err.status)
    assert.is_string(err.code)
    assert.is_truthy(err.message:find("no-such-id", 1, true))
  end)

  -- a 503 may come from a backend that had already acted: not for a POST
  it("workspaceapp {error_code, error_msg}: a 503 to a reinstall is not retried", function()
    emu:fault{ operation = "workspaceapp.reinstall_server", status = 503,
               body = { error_code = "WKS.00010503", error_msg = "Service busy" } }
    local _, err = client.workspaceapp:reinstall_server({ server_id = "s" }, { retries = 0 })
    is_error(err, "http", "workspaceapp", "reinstall_server")
    assert.are.equal(503, err.status)
    assert.are.equal("WKS.00010503", err.code)
    assert.are.equal("Service busy", err.message)
    assert.is_false(err.retryable)
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1 }, emu:counts())
  end)

  it("iam in Keystone's shape {error: {code, message, title}}", function()
    emu:fault{ operation = "iam.create_token", status = 401, body = { error = {
      code = 401, message = "The username or password is wrong.", title = "Unauthorized" } } }
    local _, err = client.iam:create_token{ auth = { identity = { methods = { "password" },
      password = { user = { name = "u", password = "wrong", domain = { name = "d" } } } },
      scope = { project = { name = "cn-north-4" } } } }
    is_error(err, "http", "iam", "create_token")
    assert.are.equal(401, err.status)
    assert.are.equal("The username or password is wrong.", err.message)
    assert.is_false(err.retryable)
  end)

  it("takes request_id from the X-Request-Id header", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", status = 404,
               headers = { ["X-Request-Id"] = "rid-0123456789abcdef" },
               body = { error_code = "WKS.00010404", error_msg = "gone" } }
    local _, err = client.workspaceapp:show_job_detail{ job_id = "1" }
    assert.are.equal("rid-0123456789abcdef", err.request_id)
    assert.is_truthy(tostring(err):find("(request id rid-0123456789abcdef)", 1, true))
  end)
end)

describe("errors: bodies that are not what they should be #server", function()
  it("a non-JSON (HTML) 502 is a clean http error with a short message", function()
    emu:fault{ operation = "workspaceapp.reinstall_server", status = 502, body = HTML_502 }
    local _, err = client.workspaceapp:reinstall_server{ server_id = "s" }
    local line = is_error(err, "http", "workspaceapp", "reinstall_server")
    assert.are.equal(502, err.status)
    assert.is_nil(err.code)
    assert.is_truthy(err.message:find("502 Bad Gateway", 1, true))
    assert.is_nil(err.message:find("[<>]"))
    assert.is_true(#err.message <= 200)
    assert.is_true(#line < 300)
    -- a POST that may have been taken is not repeated
    assert.is_false(err.retryable)
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1 }, emu:counts())
  end)

  it("a 502 on a GET is retryable, and is retried", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", status = 502, body = HTML_502, count = 3 }
    local _, err = client.workspaceapp:show_job_detail({ job_id = "1" }, { retries = 2 })
    is_error(err, "http", "workspaceapp", "show_job_detail")
    assert.are.equal(502, err.status)
    assert.is_true(err.retryable)
    assert.are.equal(3, err.attempts)
    assert.are.same({ ["workspaceapp.show_job_detail"] = 3 }, emu:counts())
  end)

  it("a malformed 200 body is kind decode", function()
    emu:fault{ operation = "workspaceapp.reinstall_server", malformed = true }
    local res, err = client.workspaceapp:reinstall_server{ server_id = "s" }
    assert.is_nil(res)
    is_error(err, "decode", "workspaceapp", "reinstall_server")
    assert.are.equal(200, err.status)
    assert.is_string(err.request_id)
    assert.is_false(err.retryable)
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1 }, emu:counts())
  end)
end)

describe("errors: the network #server", function()
  it("connection refused is kind transport, and retryable (nothing was sent)", function()
    local closed = new_client{ endpoint = "http://127.0.0.1:1" }
    local res, err = closed.workspaceapp:reinstall_server({ server_id = "s" }, { retries = 0 })
    assert.is_nil(res)
    is_error(err, "transport", "workspaceapp", "reinstall_server")
    assert.is_nil(err.status)
    assert.is_true(err.retryable)
    closed:close()
  end)

  it("no answer within the client's timeout is kind timeout", function()
    local quick = new_client{ timeout = 0.5 }
    emu:fault{ operation = "workspaceapp.reinstall_server", delay_ms = 1500 }
    local res, err = quick.workspaceapp:reinstall_server{ server_id = "s" }
    assert.is_nil(res)
    is_error(err, "timeout", "workspaceapp", "reinstall_server")
    assert.is_nil(err.status)
    -- the POST may have been taken: not repeated
    assert.is_false(err.retryable)
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1 }, emu:counts())
    quick:close()
  end)

  it("a per-call timeout overrides the client's", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", delay_ms = 1500 }
    local _, err = client.workspaceapp:show_job_detail({ job_id = "1" }, { timeout = 0.5, retries = 0 })
    is_error(err, "timeout", "workspaceapp", "show_job_detail")
    assert.is_true(err.retryable)
  end)
end)

describe("errors: secrets never appear #server", function()
  -- every string reachable from v through pairs (keys and values) and
  -- metatables, recursively
  local function strings(v, out, seen)
    out, seen = out or {}, seen or {}
    local t = type(v)
    if t == "string" then
      out[#out + 1] = v
      return out
    end
    if (t ~= "table" and t ~= "userdata") or seen[v] then return out end
    seen[v] = true
    if t == "table" then
      for k, x in next, v do
        strings(k, out, seen)
        strings(x, out, seen)
      end
    end
    local mt = getmetatable(v)
    if mt ~= nil then strings(mt, out, seen) end
    return out
  end

  local function assert_clean(what, v, secrets)
    local list = strings(v)
    if type(v) ~= "string" then list[#list + 1] = tostring(v) end
    for _, s in ipairs(list) do
      for _, secret in ipairs(secrets) do
        assert.is_nil(s:find(secret, 1, true), what .. " shows a secret: " .. s)
      end
    end
  end

  it("in the client, its errors of every kind and everything they reach", function()
    local token = assert(client.iam:create_token{ auth = { identity = {
      methods = { "password" }, password = { user = { name = "u", password = "p",
                                                      domain = { name = "d" } } } },
      scope = { project = { id = PID } } } }).subject_token
    -- a signature header's value, not the word: service descriptions name
    -- models such as AddAppGroupAuthorizationResponse
    local secrets = { SK, STS, token, "SDK-HMAC-SHA256 Access=" }

    local signed = new_client{ security_token = STS }
    local by_token = assert(hwcloud.client{ endpoint = emu.url, token = token, project_id = PID })
    local wrong = new_client{ sk = SK .. "-wrong", security_token = STS }
    local refused = new_client{ endpoint = "http://127.0.0.1:1", security_token = STS }
    local quick = new_client{ timeout = 0.5, security_token = STS }

    -- use every client once so that lazily made parts exist
    assert(signed.workspaceapp:reinstall_server{ server_id = "s" })
    assert(by_token.workspaceapp:reinstall_server{ server_id = "s" })

    local errs = {}
    local function keep(kind, res, err)
      assert.is_nil(res)
      assert.are.equal(kind, err.kind)
      errs[#errs + 1] = err
    end
    for _, c in ipairs { signed, by_token } do
      keep("validation", c.workspaceapp:show_job_detail{})
      keep("validation", c.workspaceapp:show_job_detail({ job_id = "1" }, { tmeout = 1 }))
      keep("http", c.workspaceapp:show_job_detail{ job_id = "1" })
      emu:fault{ operation = "workspaceapp.reinstall_server", status = 502, body = HTML_502 }
      keep("http", c.workspaceapp:reinstall_server{ server_id = "s" })
      emu:fault{ operation = "workspaceapp.reinstall_server", malformed = true }
      keep("decode", c.workspaceapp:reinstall_server{ server_id = "s" })
      emu:fault{ operation = "codeartsbuild.update_notice", status = 200, body = {
        status = "fail", result = hwcloud.null, error = { error_code = "CB.1", error_msg = "x" } } }
      keep("http", c.codeartsbuild:update_notice{ job_id = "j", notice_type = "MAIL",
                                                  enabled_event_type_names = { "a" } })
    end
    keep("http", wrong.workspaceapp:show_job_detail{ job_id = "1" })
    keep("transport", refused.workspaceapp:show_job_detail({ job_id = "1" }, { retries = 0 }))
    emu:fault{ operation = "workspaceapp.reinstall_server", delay_ms = 1500 }
    keep("timeout", quick.workspaceapp:reinstall_server{ server_id = "s" })
    emu:fail { "server-doomed" }
    local job = assert(signed.workspaceapp:reinstall_server{ server_id = "server-doomed" })
    keep("job_failed", signed:wait(job, { interval = 0.25 }))
    keep("validation", hwcloud.client{ ak = AK, sk = SK, security_token = STS, regoin = "x" })
    keep("validation", hwcloud.client{ token = token, timeout = 0 })

    for i, err in ipairs(errs) do assert_clean("error " .. i .. " (" .. err.kind .. ")", err, secrets) end
    for name, c in pairs { signed = signed, by_token = by_token, wrong = wrong,
                           refused = refused, quick = quick } do
      assert_clean("client " .. name, c, secrets)
      assert_clean("tostring(client " .. name .. ")", tostring(c), secrets)
      c:close()
    end
  end)
end)
