-- The client's public surface, end to end against the bundled emulator:
-- every operation of the API contract, the three ways to authenticate, and
-- the validation that happens before anything is sent.
--
-- Run: LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/5.4/?.so;;" \
--        lua5.4 /usr/bin/busted spec/client_spec.lua

package.path = "./?.lua;" .. package.path

-- core.sign with a recorder around it, in place while hwcloud's modules
-- load (they keep the function they find): which algorithm and scope each
-- request was signed with, for the signing variants below
local core = require "hwcloud.core"
local real_sign, signed_with = core.sign, {}
core.sign = function(...)
  local a = { ... }
  signed_with[#signed_with + 1] = { alg = a[10], scope = a[11] }
  return real_sign(...)
end
local hwcloud = require "hwcloud"
require "hwcloud.identity.auth"
core.sign = real_sign
local emulator = require "spec.helpers.emulator"
local compat = require "spec.helpers.compat"
local math_type = compat.math_type

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

local emu, client

local function new_client(extra)
  return emu:client(PID, extra)
end

local WORKSHOP = {
  mesh_id = "mesh-1",
  description = "canary",
  metadata = { name = "ws-1" },
  spec = { primaryCluster = "cce-1",
           ingress = { elbId = "elb-1", elbIp = "10.0.0.8", port = 8080,
                       imageAddress = "swr.example/demo:1" } },
}

local copy = require("spec.helpers.util").copy

local function password_auth()
  return { identity = { methods = { "password" },
                        password = { user = { name = "u", password = "p",
                                              domain = { name = "d" } } } },
           scope = { project = { id = PID } } }
end

local session = emulator.session({ job_seconds = 1, inventory = require "spec.fixtures.inventory" }, PID)
lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)
before_each(function() emu:reset() end)

describe("client operations #server", function()
  it("servicestage: deliver_addon_job starts a job that show_job describes", function()
    local job, err = client.servicestage:deliver_addon_job{
      environment_id = "env-1", addon_id = "addon-1", action = "redeploy" }
    assert.is_nil(err)
    assert.is_truthy(job.job_id:match("^JOB"))
    local res = assert(client.servicestage:show_job{ job_id = job.job_id })
    assert.are.equal(job.job_id, res.job.JOB_ID)
    assert.are.equal("SUBMITTED", res.job.EXECUTION_STATUS)
    assert.are.equal("integer", math_type(res.task_count))
    assert.are.equal(1, res.task_count)
    assert.are.equal(1, #res.tasks)
    -- the service answers in upper case; the timestamps are strings, as the
    -- official model has them (tasks name theirs UPDATE_AT)
    assert.is_string(res.job.CREATED_AT)
    assert.is_string(res.tasks[1].UPDATE_AT)
    assert.are.same({ ["servicestage.deliver_addon_job"] = 1, ["servicestage.show_job"] = 1 },
      emu:counts())
  end)

  it("codeartsbuild: update_notice answers result, error and status", function()
    local res = assert(client.codeartsbuild:update_notice{
      job_id = "48c66c6002964721be537cdc6ce0297b", notice_type = "MAIL",
      enabled_event_type_names = { "buildJobFail", "buildJobSuccess" }, param_config = "{}" })
    assert.are.same({ job_id = "48c66c6002964721be537cdc6ce0297b" }, res.result)
    assert.are.equal(hwcloud.null, res.error)
    assert.are.equal("success", res.status)
    assert.are.same({ ["codeartsbuild.update_notice"] = 1 }, emu:counts())
  end)

  it("asm: create_workshop and list_workshops", function()
    local ws = assert(client.asm:create_workshop(copy(WORKSHOP)))
    assert.are.equal("canary", ws.description)
    assert.are.equal("ws-1", ws.metadata.name)
    assert.is_string(ws.metadata.uid)
    assert.is_truthy(ws.metadata.creationTimestamp:match("^%d+%-%d+%-%d+T%d+:%d+:%d+Z$"))
    assert.are.equal("cce-1", ws.spec.primaryCluster)
    assert.are.equal(8080, ws.spec.ingress.port)
    assert.are.equal("integer", math_type(ws.spec.ingress.port))
    assert.is_string(ws.status.updateTime)

    local list = assert(client.asm:list_workshops{ mesh_id = "mesh-1" })
    assert.are.equal(1, #list)
    assert.are.equal("ws-1", list[1].workshop.metadata.name)
    assert.are.equal("integer", math_type(list[1].workshop.spec.ingress.port))
    local empty = assert(client.asm:list_workshops{ mesh_id = "empty-mesh" })
    assert.are.same({}, empty)
    assert.are.same({ ["asm.create_workshop"] = 1, ["asm.list_workshops"] = 2 }, emu:counts())
  end)

  it("rts: create, show, update, list and delete a software deployment", function()
    local created = assert(client.rts:create_software_deployment{
      config_id = "cfg-1", server_id = "srv-1", action = "CREATE", status = "IN_PROGRESS",
      status_reason = "Deploy data available", stack_user_project_id = PID,
      input_values = { version = "1.2" } })
    local dep = created.software_deployment
    assert.is_string(dep.id)
    assert.are.equal("IN_PROGRESS", dep.status)
    assert.are.same({ version = "1.2" }, dep.input_values)
    assert.are.equal(hwcloud.null, dep.output_values)
    assert.are.equal(hwcloud.null, dep.updated_time)

    local shown = assert(client.rts:show_software_deployment{ deployment_id = dep.id })
    assert.are.equal(dep.id, shown.software_deployment.id)

    local updated = assert(client.rts:update_software_deployment{
      deployment_id = dep.id, status = "COMPLETE", status_reason = "done",
      output_values = { result = "ok" } })
    assert.are.equal("COMPLETE", updated.software_deployment.status)
    assert.are.same({ result = "ok" }, updated.software_deployment.output_values)

    local list = assert(client.rts:list_software_deployments{ server_id = "srv-1" })
    assert.are.equal(1, #list.software_deployments)
    assert.are.equal(dep.id, list.software_deployments[1].id)
    local none = assert(client.rts:list_software_deployments{ server_id = "other server" })
    assert.are.same({}, none.software_deployments)

    local gone, err = client.rts:delete_software_deployment{ deployment_id = dep.id }
    assert.is_nil(err)
    assert.are.same({}, gone)
    local _, err2 = client.rts:show_software_deployment{ deployment_id = dep.id }
    assert.are.equal("http", err2.kind)
    assert.are.equal(404, err2.status)

    assert.are.same({
      ["rts.create_software_deployment"] = 1, ["rts.show_software_deployment"] = 2,
      ["rts.update_software_deployment"] = 1, ["rts.list_software_deployments"] = 2,
      ["rts.delete_software_deployment"] = 1,
    }, emu:counts())
  end)

  it("workspaceapp: reinstall_server starts a job that show_job describes", function()
    local server = "25b1dd14-0c84-4558-aa57-03a6c54b8e75"
    local job = assert(client.workspaceapp:reinstall_server{
      server_id = server, update_access_agent = false })
    assert.is_truthy(job.job_id:match("^%d+$"))
    local res = assert(client.workspaceapp:show_job_detail{ job_id = job.job_id })
    assert.are.equal(job.job_id, res.id)
    assert.are.equal("REINSTALL_OS", res.job_type)
    assert.are.equal("WAITING", res.status)
    assert.are.equal(hwcloud.null, res.end_time)
    assert.are.equal("integer", math_type(res.sub_jobs_total))
    assert.are.equal(1, res.sub_jobs_total)
    assert.are.equal(server, res.sub_jobs[1].job_resource_info.resource_id)
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1, ["workspaceapp.show_job_detail"] = 1 },
      emu:counts())
  end)

  it("iam: create_token returns the token body and the subject token", function()
    local res = assert(client.iam:create_token{ auth = password_auth() })
    assert.is_string(res.subject_token)
    assert.is_true(#res.subject_token > 20)
    assert.are.equal(PID, res.token.project.id)
    assert.are.same({ "password" }, res.token.methods)
    assert.is_string(res.token.expires_at)
    assert.are.same({ ["iam.create_token"] = 1 }, emu:counts())
  end)

  it("names the service and operation when either is misspelt", function()
    local ok, msg = pcall(function() return client.servicestag end)
    assert.is_false(ok)
    assert.is_truthy(msg:find("did you mean 'servicestage'", 1, true))
    ok, msg = pcall(function() return client.rts.show_software_deploymnt end)
    assert.is_false(ok)
    assert.is_truthy(msg:find("did you mean 'show_software_deployment'", 1, true))
  end)
end)

describe("client signing variants #server", function()
  -- which algorithm and scope each request was signed with (the recorder
  -- around core.sign put in place before hwcloud was loaded, above)
  local function watched(extra)
    local c = new_client(extra)
    for i = #signed_with, 1, -1 do signed_with[i] = nil end
    return c, signed_with
  end

  it("signs SDK-HMAC-SM3 when asked, and the emulator checks it", function()
    local c, seen = watched{ sign_algorithm = "SDK-HMAC-SM3" }
    local job = assert(c.workspaceapp:reinstall_server{ server_id = "s-1" })
    assert(c.workspaceapp:show_job_detail{ job_id = job.job_id })
    assert.is_true(#seen >= 2)
    for _, s in ipairs(seen) do assert.are.equal("SDK-HMAC-SM3", s.alg) end
    -- a wrong SK under SM3 is refused as under SHA-256
    local wrong = new_client{ sign_algorithm = "SDK-HMAC-SM3", sk = "not-the-secret" }
    local _, err = wrong.workspaceapp:show_job_detail{ job_id = "1" }
    assert.are.equal(401, err.status)
  end)

  it("signs IoTDA derived (V11-HMAC-SHA256, iotdm) off the public hosts", function()
    -- the SDKs need the region for the scope; the emulator is on 127.0.0.1
    local c, seen = watched{ sign_algorithm = "SDK-HMAC-SM3", region = "cn-north-4" }
    assert(emu:respond { operation = "iotda_v5.list_products", status = 200,
                         body = { products = { { product_id = "p-1" } } } })
    local res = assert(c.iotda:list_products{})
    assert.are.equal("p-1", res.products[1].product_id)
    assert.are.equal("V11-HMAC-SHA256", seen[#seen].alg)
    assert.are.equal("cn-north-4/iotdm", seen[#seen].scope)
    local _, rerr = new_client().iotda:list_products{}
    assert.are.equal("region", rerr.field)
    local wrong = new_client{ sk = "not-the-secret", region = "cn-north-4" }
    local _, werr = wrong.iotda:list_products{}
    assert.are.equal(401, werr.status)
    -- the other services keep the client's algorithm
    assert(c.workspaceapp:reinstall_server{ server_id = "s-1" })
    assert.are.equal("SDK-HMAC-SM3", seen[#seen].alg)
  end)

  it("tells the public hosts from an instance's own, as the SDKs' derived predicate", function()
    local public_host = require("hwcloud.identity.auth").public_host
    for _, u in ipairs({ "https://iotda.cn-north-4.myhuaweicloud.com/v5", "https://iam.myhuaweicloud.com",
                         "https://iotda-app.ap-southeast-1.huaweicloud.com:443/x", "http://ab.myhwclouds.cn" }) do
      assert.is_true(public_host(u), u)
    end
    for _, u in ipairs({ "https://abc123.st1.iotda-app.cn-north-4.myhuaweicloud.com/v5",
                         "https://127.0.0.1:8443/v5", "https://iotda.example.com",
                         "https://IOTDA.cn-north-4.myhuaweicloud.com" }) do
      assert.is_false(public_host(u), u)
    end
  end)

  it("refuses an unknown sign_algorithm, naming the option", function()
    local c, err = hwcloud.client{ region = "cn-north-4", ak = "AK", sk = "SK", project_id = PID,
                                   sign_algorithm = "SDK-HMAC-MD5" }
    assert.is_nil(c)
    assert.are.equal("sign_algorithm", err.field)
    assert.is_truthy(tostring(err):find("SDK-HMAC-SM3", 1, true))
  end)
end)

describe("client authentication #server", function()
  it("signs with AK/SK; the emulator checks the signature on its own", function()
    assert(client.workspaceapp:reinstall_server{ server_id = "s-1" })
  end)

  it("gives http 401 APIG.0301 for a wrong SK, and does not try again", function()
    local wrong = new_client{ sk = "not-the-secret" }
    local res, err = wrong.workspaceapp:show_job_detail{ job_id = "1" }
    assert.is_nil(res)
    assert.are.equal("http", err.kind)
    assert.are.equal(401, err.status)
    assert.are.equal("APIG.0301", err.code)
    assert.is_false(err.retryable)
    assert.are.same({ ["workspaceapp.show_job_detail"] = 1 }, emu:counts())
    -- not even a POST the caller allows to repeat
    emu:reset()
    local _, err2 = wrong.workspaceapp:reinstall_server({ server_id = "s" },
      { retries = 5, retry_unsafe = true })
    assert.are.equal(401, err2.status)
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1 }, emu:counts())
  end)

  it("accepts temporary credentials (security_token)", function()
    local temp = new_client{ security_token = "temporary-security-token-0001" }
    local job = assert(temp.workspaceapp:reinstall_server{ server_id = "s-1" })
    assert(temp.workspaceapp:show_job_detail{ job_id = job.job_id })
  end)

  it("uses an IAM token from create_token instead of signing", function()
    local t = assert(client.iam:create_token{ auth = password_auth() })
    local by_token = assert(hwcloud.client{ endpoint = emu.url, token = t.subject_token,
                                            project_id = PID })
    assert.are.equal("hwcloud.client{region=nil, project_id=" .. PID .. ", auth=token}",
      tostring(by_token))
    local job = assert(by_token.workspaceapp:reinstall_server{ server_id = "s-2" })
    local res = assert(by_token.workspaceapp:show_job_detail{ job_id = job.job_id })
    assert.are.equal("s-2", res.sub_jobs[1].job_resource_info.resource_id)
    by_token:close()
  end)

  it("gives http 401 for a token the cloud did not issue", function()
    local bogus = assert(hwcloud.client{ endpoint = emu.url, token = "MIIEnot-a-real-token",
                                         project_id = PID })
    local res, err = bogus.workspaceapp:show_job_detail{ job_id = "1" }
    assert.is_nil(res)
    assert.are.equal("http", err.kind)
    assert.are.equal(401, err.status)
    assert.are.equal("APIG.0301", err.code)
    assert.is_false(err.retryable)
    assert.are.same({ ["workspaceapp.show_job_detail"] = 1 }, emu:counts())
  end)
end)

describe("client validation: nothing is sent for a bad request #server", function()
  after_each(function()
    assert.are.same({}, emu:counts())
  end)

  -- calls client.<svc>:<op>(req, opts) and checks the validation error
  local function refuses(svc, op, req, field, message, opts)
    local res, err = client[svc][op](client[svc], req, opts)
    assert.is_nil(res)
    assert.is_table(err)
    assert.are.equal("validation", err.kind)
    assert.are.equal(field, err.field)
    if message then assert.are.equal(message, err.message) end
    assert.are.equal(svc, err.service)
    assert.are.equal(op, err.operation)
    assert.is_false(err.retryable)
    assert.is_nil(err.status)
    local line = tostring(err)
    assert.is_nil(line:find("\n", 1, true))
    assert.is_truthy(line:find(svc .. "." .. op, 1, true), line)
    assert.is_truthy(line:find(field, 1, true), line)
    return err
  end

  it("a missing mandatory field", function()
    refuses("servicestage", "deliver_addon_job", { environment_id = "e", addon_id = "a" },
      "action", "is required")
    refuses("workspaceapp", "show_job_detail", {}, "job_id", "is required")
    refuses("rts", "create_software_deployment", { config_id = "c" }, "server_id", "is required")
    refuses("iam", "create_token", {}, "auth", "is required")
    local req = copy(WORKSHOP)
    req.spec.ingress.elbIp = nil
    refuses("asm", "create_workshop", req, "spec.ingress.elbIp", "is required")
    req = copy(WORKSHOP)
    req.metadata = nil
    refuses("asm", "create_workshop", req, "metadata", "is required")
  end)

  it("a wrong type: string, integer, boolean, array of strings, object", function()
    refuses("servicestage", "deliver_addon_job",
      { environment_id = "e", addon_id = "a", action = 5 }, "action",
      "expected string, got number")
    refuses("workspaceapp", "reinstall_server", { server_id = "s", update_access_agent = "no" },
      "update_access_agent", "expected boolean, got string")
    refuses("codeartsbuild", "update_notice",
      { job_id = "j", notice_type = "MAIL", enabled_event_type_names = "buildJobFail" },
      "enabled_event_type_names", "expected array, got string")
    refuses("codeartsbuild", "update_notice",
      { job_id = "j", notice_type = "MAIL", enabled_event_type_names = { "a", 3 } },
      "enabled_event_type_names[2]", "expected string, got number")
    refuses("rts", "create_software_deployment",
      { config_id = "c", server_id = "s", input_values = "x=1" }, "input_values",
      "expected object, got string")
    local req = copy(WORKSHOP)
    req.spec.ingress = "elb-1"
    refuses("asm", "create_workshop", req, "spec.ingress", "expected object, got string")
    req = copy(WORKSHOP)
    req.spec.ingress.port = "8080"
    refuses("asm", "create_workshop", req, "spec.ingress.port", "expected integer, got string")
  end)

  it("an integer field given 1.5", function()
    local req = copy(WORKSHOP)
    req.spec.ingress.port = 1.5
    refuses("asm", "create_workshop", req, "spec.ingress.port", "expected integer, got number 1.5")
    refuses("rts", "list_software_configs", { limit = 1.5 }, "limit",
      "expected integer, got number 1.5")
  end)

  it("an unknown field, with a did-you-mean hint", function()
    refuses("workspaceapp", "reinstall_server", { server_id = "s", update_acess_agent = true },
      "update_acess_agent", 'unknown field (did you mean "update_access_agent"?)')
    local req = copy(WORKSHOP)
    req.spec.ingress.elbIP, req.spec.ingress.elbIp = req.spec.ingress.elbIp, nil
    refuses("asm", "create_workshop", req, "spec.ingress.elbIP",
      'unknown field (did you mean "elbIp"?)')
  end)

  it("an empty path parameter, '.' and '..'", function()
    refuses("workspaceapp", "show_job_detail", { job_id = "" }, "job_id", "must not be empty")
    refuses("servicestage", "deliver_addon_job",
      { environment_id = "", addon_id = "a", action = "restart" }, "environment_id",
      "must not be empty")
    refuses("workspaceapp", "show_job_detail", { job_id = "." }, "job_id", "must not be '.' or '..'")
    refuses("rts", "delete_software_deployment", { deployment_id = ".." }, "deployment_id",
      "must not be '.' or '..'")
  end)

  it("a value outside an enum", function()
    local err = refuses("rts", "create_software_deployment",
      { config_id = "c", server_id = "s", status = "DONE" }, "status")
    assert.is_truthy(err.message:find('"COMPLETE"', 1, true))
    assert.is_truthy(err.message:find('"IN_PROGRESS"', 1, true))
  end)

  it("a request that is not a table", function()
    refuses("workspaceapp", "show_job_detail", "123", "request", "expected a table, got string")
    refuses("workspaceapp", "show_job_detail", 123, "request", "expected a table, got number")
  end)

  it("bad per-call options", function()
    local req = { job_id = "1" }
    refuses("workspaceapp", "show_job_detail", req, "opts", "expected a table, got number", 5)
    refuses("workspaceapp", "show_job_detail", req, "opts.timeout", "expected number, got string",
      { timeout = "10" })
    refuses("workspaceapp", "show_job_detail", req, "opts.tmeout",
      'unknown field (did you mean "timeout"?)', { tmeout = 1 })
    refuses("workspaceapp", "show_job_detail", req, "opts.retries", "expected integer, got number 1.5",
      { retries = 1.5 })
  end)
end)

describe("client path parameters #server", function()
  it("percent-encodes hostile values so the path keeps its shape", function()
    for _, id in ipairs { "a/b?c#d", "%2F", "../x", "a b" } do
      local res, err = client.workspaceapp:show_job_detail{ job_id = id }
      assert.is_nil(res, id)
      assert.are.equal("http", err.kind, id)
      assert.are.equal(404, err.status, id)
      -- the job route answered, for exactly that id
      assert.are.equal("WKS.00010404", err.code, id)
      assert.are.equal("The job " .. id .. " does not exist", err.message, id)
    end
    assert.are.same({ ["workspaceapp.show_job_detail"] = 4 }, emu:counts())
  end)
end)
