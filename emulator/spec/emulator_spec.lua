-- The bundled emulator, checked from the outside over HTTP: requests are
-- signed by the official Huawei Cloud Node.js SDK core (spec/fixtures/node_sign.js)
-- or sent with the curl CLI, never with the hwcloud client.
--
-- Run: LUA_PATH="lua/?.lua;lua/?/init.lua;;" lua5.4 /usr/bin/busted emulator/spec/emulator_spec.lua

package.path = "./?.lua;" .. package.path

local cjson = require "cjson"
local emulator = require "spec.helpers.emulator"

local curl, q, sleep = emulator.curl, emulator.quote, emulator.sleep
local root, work = emulator.root, emulator.work

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
local OTHER_PID = "ffffffffffffffffffffffffffffffff"
local SDK_VERSION = "3.1.211"
local NODE_DIR = work .. "/node"
local NODE_SDK = NODE_DIR .. "/node_modules"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true
end

-- Installs the official SDK core once into spec/.work/node (gitignored).
local function ensure_node_sdk()
  local pkg = NODE_SDK .. "/@huaweicloud/huaweicloud-sdk-core/package.json"
  local text = emulator.read_file(pkg)
  if text and text:find('"version": "' .. SDK_VERSION .. '"', 1, true) then return end
  assert(sh("mkdir -p " .. q(NODE_DIR) .. " && npm install --silent --no-audit --no-fund --prefix "
    .. q(NODE_DIR) .. " @huaweicloud/huaweicloud-sdk-core@" .. SDK_VERSION .. " >/dev/null 2>&1"),
    "npm install of @huaweicloud/huaweicloud-sdk-core failed")
end

-- A self-signed certificate for 127.0.0.1, made with the openssl CLI.
local function ensure_cert()
  local dir = work .. "/tls"
  local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
  if emulator.read_file(cert) and emulator.read_file(key) then return cert, key end
  assert(sh("mkdir -p " .. q(dir) .. " && openssl req -x509 -newkey rsa:2048 -nodes -days 30"
    .. " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
    .. " -keyout " .. q(key) .. " -out " .. q(cert) .. " >/dev/null 2>&1"),
    "openssl could not make a certificate")
  return cert, key
end

-- Signs `t` with the Node SDK and sends it to `emu`. t: method, path, query,
-- body (table) | raw_body (string), headers, project_id (false: none), ak,
-- sk, sdk_date, tamper, sign (false: unsigned).
local function node(emu, t)
  local desc = {
    url = emu.url .. t.path,
    method = t.method,
    query = t.query,
    headers = t.headers or { ["Content-Type"] = "application/json" },
    body = t.body,
    raw_body = t.raw_body,
    ak = t.ak or emu.ak,
    sk = t.sk or emu.sk,
    sdk_date = t.sdk_date,
    tamper = t.tamper,
    sign = t.sign,
  }
  if t.project_id ~= false then desc.project_id = t.project_id or PID end
  local input = os.tmpname()
  emulator.write_file(input, cjson.encode(desc))
  local p = io.popen("HWCLOUD_NODE_SDK=" .. q(NODE_SDK) .. " node "
    .. q(root .. "/spec/fixtures/node_sign.js") .. " < " .. q(input) .. " 2>&1")
  local out = p:read("*a")
  p:close()
  os.remove(input)
  local ok, res = pcall(cjson.decode, out)
  assert(ok and type(res) == "table", "node_sign.js failed: " .. out)
  local jok, json = pcall(cjson.decode, res.body)
  if jok then res.json = json end
  return res
end

local function password_token(emu, scope)
  local res = curl("POST", emu.url .. "/v3/auth/tokens", {
    headers = { ["Content-Type"] = "application/json;charset=utf8" },
    body = cjson.encode({ auth = {
      identity = { methods = { "password" }, password = { user = {
        name = "deployer", password = "anything", domain = { name = "acme" } } } },
      scope = scope or { project = { id = PID } },
    } }),
  })
  return res.headers["x-subject-token"], res
end

local function with_token(token, extra)
  local h = { ["X-Auth-Token"] = token, ["Content-Type"] = "application/json" }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local function is_apig_auth_error(res, status)
  assert.are.equal(status or 401, res.status)
  assert.is_table(res.json)
  assert.are.equal(res.json.error_code, (status or 401) == 401 and "APIG.0301" or "APIG.0302")
  assert.is_string(res.json.error_msg)
  assert.are.equal(res.headers["x-request-id"], res.json.request_id)
end

local emu, token

lazy_setup(function()
  ensure_node_sdk()
  -- jobs take 6 s: their first state lasts 2 s, long enough to be seen
  -- first even when a poll is slow on a busy machine
  emu = emulator.start{ job_seconds = 6, inventory = require "spec.fixtures.inventory" }
  token = password_token(emu)
  assert.is_string(token)
end)

lazy_teardown(function()
  if emu then emu:stop() end
end)

describe("emulator: AK/SK requests signed by the official Node.js SDK #server", function()
  before_each(function() emu:reset() end)

  it("accepts every operation with the documented response shapes", function()
    -- IAM token, signed with AK/SK
    local res = node(emu, { method = "POST", path = "/v3/auth/tokens", project_id = false,
      body = { auth = { identity = { methods = { "hw_ak_sk" } },
                        scope = { project = { name = "cn-north-4" } } } } })
    assert.are.equal(201, res.status)
    assert.is_truthy(res.headers["x-subject-token"])
    assert.are.equal("cn-north-4", res.json.token.project.name)

    -- ServiceStage
    res = node(emu, { method = "POST", body = { action = "redeploy" },
      path = "/v3/" .. PID .. "/cas/environments/env-1/addons/addon-1/action" })
    assert.are.equal(200, res.status)
    local job_id = res.json.job_id
    assert.is_truthy(job_id:match("^JOB%x+%-%x+%-4%x+%-%x+%-%x+$"))
    res = node(emu, { method = "GET", path = "/v3/" .. PID .. "/cas/jobs/" .. job_id })
    assert.are.equal(200, res.status)
    assert.are.equal(job_id, res.json.job.JOB_ID)
    assert.are.equal("DAILY_OPERATION", res.json.job.JOB_TYPE)
    assert.are.equal("SUBMITTED", res.json.job.EXECUTION_STATUS)
    assert.are.equal(1, res.json.task_count)
    assert.are.equal(1, #res.json.tasks)

    -- CodeArts Build (no project in the path: X-Project-Id carries it)
    res = node(emu, { method = "POST", path = "/v3/jobs/notice/48c66c6002964721be537cdc6ce0297b/update",
      body = { notice_type = "MAIL", enabled_event_type_names = { "buildJobFail", "buildJobSuccess" },
               param_config = "{}" } })
    assert.are.equal(200, res.status)
    assert.are.same({ job_id = "48c66c6002964721be537cdc6ce0297b" }, res.json.result)
    assert.are.equal(cjson.null, res.json.error)
    assert.are.equal("success", res.json.status)

    -- ASM
    local workshop = { description = "demo", metadata = { name = "ws-1" },
      spec = { primaryCluster = "cce-1", ingress = { elbId = "elb-1", elbIp = "10.0.0.8",
               port = 8080, imageAddress = "swr.example/demo:1" } } }
    res = node(emu, { method = "POST", path = "/v2/meshes/mesh-1/workshops", body = workshop })
    assert.are.equal(200, res.status)
    assert.are.equal("demo", res.json.description)
    assert.are.equal("ws-1", res.json.metadata.name)
    assert.is_string(res.json.metadata.uid)
    assert.is_truthy(res.json.metadata.creationTimestamp:match("^%d+%-%d+%-%d+T%d+:%d+:%d+Z$"))
    assert.are.same(workshop.spec, res.json.spec)
    assert.is_string(res.json.status.updateTime)
    res = node(emu, { method = "GET", path = "/v2/meshes/mesh-1/workshops" })
    assert.are.equal(200, res.status)
    assert.are.equal(1, #res.json)
    assert.are.equal("ws-1", res.json[1].workshop.metadata.name)

    -- RTS
    res = node(emu, { method = "POST", path = "/v1/" .. PID .. "/software_deployments",
      body = { config_id = "cfg-1", server_id = "srv-1", action = "CREATE", status = "IN_PROGRESS",
               status_reason = "Deploy data available", stack_user_project_id = PID,
               input_values = { version = "1.2" } } })
    assert.are.equal(200, res.status)
    local dep = res.json.software_deployment
    for _, field in ipairs{ "id", "action", "config_id", "creation_time", "updated_time",
                            "input_values", "output_values", "server_id", "status", "status_reason" } do
      assert.is_not_nil(dep[field], field)
    end
    assert.are.equal("IN_PROGRESS", dep.status)
    assert.are.same({ version = "1.2" }, dep.input_values)
    local dep_path = "/v1/" .. PID .. "/software_deployments/" .. dep.id
    res = node(emu, { method = "GET", path = dep_path })
    assert.are.equal(200, res.status)
    assert.are.equal(dep.id, res.json.software_deployment.id)
    res = node(emu, { method = "PUT", path = dep_path,
      body = { status = "COMPLETE", status_reason = "done", output_values = { result = "ok" } } })
    assert.are.equal(200, res.status)
    assert.are.equal("COMPLETE", res.json.software_deployment.status)
    assert.are.same({ result = "ok" }, res.json.software_deployment.output_values)
    res = node(emu, { method = "GET", path = "/v1/" .. PID .. "/software_deployments",
      query = { server_id = "srv-1" } })
    assert.are.equal(200, res.status)
    assert.are.equal(1, #res.json.software_deployments)
    res = node(emu, { method = "GET", path = "/v1/" .. PID .. "/software_deployments",
      query = { server_id = "other server" } })
    assert.are.equal(200, res.status)
    assert.are.equal('{"software_deployments":[]}', res.body)
    res = node(emu, { method = "DELETE", path = dep_path })
    assert.are.equal(204, res.status)
    assert.are.equal("", res.body)
    res = node(emu, { method = "GET", path = dep_path })
    assert.are.equal(404, res.status)

    -- Workspace
    res = node(emu, { method = "POST", body = { update_access_agent = false },
      path = "/v1/" .. PID .. "/app-servers/25b1dd14-0c84-4558-aa57-03a6c54b8e75/actions/reinstall" })
    assert.are.equal(200, res.status)
    assert.is_truthy(res.json.job_id:match("^%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d$"))
    res = node(emu, { method = "GET", path = "/v2/" .. PID .. "/job/" .. res.json.job_id })
    assert.are.equal(200, res.status)
    assert.are.equal("REINSTALL_OS", res.json.job_type)
    assert.are.equal("WAITING", res.json.status)
    assert.are.equal(1, res.json.sub_jobs_total)
    assert.are.equal("25b1dd14-0c84-4558-aa57-03a6c54b8e75",
                     res.json.sub_jobs[1].job_resource_info.resource_id)
  end)

  it("marks every answer with X-Request-Id and Content-Type: application/json", function()
    local res = node(emu, { method = "GET", path = "/v2/" .. PID .. "/job/123" })
    assert.are.equal(404, res.status)
    assert.is_truthy(res.headers["x-request-id"]:match("^%x+$"))
    assert.are.equal("application/json", res.headers["content-type"])
  end)

  it("checks query parameters, encoded path segments and a signed body of raw bytes", function()
    local res = node(emu, { method = "GET", path = "/v1/" .. PID .. "/software_deployments",
      query = { server_id = { "b ~x", "a/é" }, ["z*"] = "", limit = "10" } })
    assert.are.equal(200, res.status)
    -- characters the canonical URI must encode (the SDK sends them as they are)
    res = node(emu, { method = "GET", path = "/v2/" .. PID .. "/job/a:b@c!$*+,;=&" })
    assert.are.equal(404, res.status)   -- signed fine, the job just does not exist
    assert.are.equal("WKS.00010404", res.json.error_code)
    res = node(emu, { method = "POST", raw_body = '{"action": "restart"}',
      path = "/v3/" .. PID .. "/cas/environments/e/addons/a/action" })
    assert.are.equal(200, res.status)
    -- ServiceStage's documented content type makes the SDK send UNSIGNED-PAYLOAD
    res = node(emu, { method = "POST", body = { action = "restart" },
      headers = { ["Content-Type"] = "application/json;charset=utf8" },
      path = "/v3/" .. PID .. "/cas/environments/e/addons/a/action" })
    assert.are.equal(200, res.status)
  end)
end)

describe("emulator: rejected signatures #server", function()
  local path = "/v3/" .. PID .. "/cas/environments/env-1/addons/addon-1/action"
  local base = { method = "POST", path = path, body = { action = "redeploy" } }

  local function variant(extra)
    local t = {}
    for k, v in pairs(base) do t[k] = v end
    for k, v in pairs(extra) do t[k] = v end
    return t
  end

  it("accepts the untouched request", function()
    assert.are.equal(200, node(emu, variant{}).status)
  end)

  it("rejects one byte of the body changed after signing", function()
    is_apig_auth_error(node(emu, variant{ tamper = { body = '{"action":"redeplox"}' } }))
  end)

  it("rejects one byte of the path changed after signing", function()
    is_apig_auth_error(node(emu, variant{
      tamper = { path = "/v3/" .. PID .. "/cas/environments/env-2/addons/addon-1/action" } }))
  end)

  it("rejects a signed header changed after signing", function()
    is_apig_auth_error(node(emu, variant{
      tamper = { headers = { ["Content-Type"] = "application/jsoN" } } }))
    is_apig_auth_error(node(emu, variant{ tamper = { headers = { ["X-Sdk-Date"] = "20200101T000000Z" } } }))
  end)

  it("rejects a signed header that is missing", function()
    local res = node(emu, variant{ tamper = { remove_headers = { "content-type" } } })
    is_apig_auth_error(res)
    assert.is_truthy(res.json.error_msg:find("content-type", 1, true))
  end)

  it("rejects an unknown AK and a wrong SK", function()
    is_apig_auth_error(node(emu, variant{ ak = "SOMEOTHERAK000000000" }))
    is_apig_auth_error(node(emu, variant{ sk = "not-the-secret" }))
  end)

  it("rejects a stale X-Sdk-Date even when correctly signed", function()
    local stale = os.date("!%Y%m%dT%H%M%SZ", os.time() - 16 * 60)
    local res = node(emu, variant{ sdk_date = stale })
    is_apig_auth_error(res)
    assert.is_truthy(res.json.error_msg:find("15 minutes", 1, true))
    local recent = os.date("!%Y%m%dT%H%M%SZ", os.time() - 5 * 60)
    assert.are.equal(200, node(emu, variant{ sdk_date = recent }).status)
  end)

  it("requires X-Project-Id and that it matches the project in the path", function()
    is_apig_auth_error(node(emu, variant{ project_id = false }))
    local res = node(emu, variant{ project_id = OTHER_PID })
    is_apig_auth_error(res, 403)
    assert.is_truthy(res.json.error_msg:find(OTHER_PID, 1, true))
    -- no project in the path: any X-Project-Id, but one is needed
    local notice = { method = "POST", path = "/v3/jobs/notice/j1/update",
                     body = { notice_type = "MAIL", enabled_event_type_names = { "x" } } }
    assert.are.equal(200, node(emu, notice).status)
    notice.project_id = false
    is_apig_auth_error(node(emu, notice))
  end)

  it("rejects a request with no credentials at all", function()
    is_apig_auth_error(node(emu, variant{ sign = false }))
  end)
end)

describe("emulator: IAM tokens #server", function()
  before_each(function() emu:reset() token = password_token(emu) end)

  it("issues a 24 h project-scoped token in X-Subject-Token", function()
    local tok, res = password_token(emu)
    assert.are.equal(201, res.status)
    assert.is_truthy(#tok > 20)
    local t = res.json.token
    assert.is_truthy(t.expires_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%dZ$"))
    assert.is_truthy(t.issued_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%dZ$"))
    assert.is_true(t.expires_at > t.issued_at)
    assert.are.same({ "password" }, t.methods)
    assert.are.equal(PID, t.project.id)
  end)

  it("accepts its tokens instead of a signature, scoped to their project", function()
    local res = curl("POST", emu.url .. "/v1/" .. PID .. "/app-servers/s-1/actions/reinstall",
      { headers = with_token(token), body = '{"update_access_agent":true}' })
    assert.are.equal(200, res.status)
    res = curl("GET", emu.url .. "/v2/" .. PID .. "/job/" .. res.json.job_id,
      { headers = with_token(token) })
    assert.are.equal(200, res.status)
    -- same token, another project in the path
    res = curl("GET", emu.url .. "/v2/" .. OTHER_PID .. "/job/1", { headers = with_token(token) })
    is_apig_auth_error(res, 403)
  end)

  it("maps a project name scope to a stable project id", function()
    local a = password_token(emu, { project = { name = "cn-north-4" } })
    local _, res = password_token(emu, { project = { name = "cn-north-4" } })
    assert.is_string(a)
    assert.are.equal("cn-north-4", res.json.token.project.name)
    assert.is_truthy(res.json.token.project.id:match("^%x+$"))
    local _, again = password_token(emu, { project = { name = "cn-north-4" } })
    assert.are.equal(res.json.token.project.id, again.json.token.project.id)
  end)

  it("rejects tokens it did not issue", function()
    is_apig_auth_error(curl("GET", emu.url .. "/v2/" .. PID .. "/job/1",
      { headers = with_token("MIIEforgedtoken") }))
  end)

  it("answers bad token requests in the Keystone error shape", function()
    local res = curl("POST", emu.url .. "/v3/auth/tokens", { body = "{not json" })
    assert.are.equal(400, res.status)
    assert.are.equal(400, res.json.error.code)
    assert.is_string(res.json.error.message)
    res = curl("POST", emu.url .. "/v3/auth/tokens", { body = cjson.encode({ auth = {
      identity = { methods = { "password" }, password = { user = { name = "u", password = "p" } } } } }) })
    assert.are.equal(400, res.status)
    assert.is_truthy(res.json.error.message:find("scope", 1, true))
    res = node(emu, { method = "POST", path = "/v3/auth/tokens", project_id = false, sk = "wrong",
      body = { auth = { identity = { methods = { "hw_ak_sk" } }, scope = { project = { id = PID } } } } })
    is_apig_auth_error(res)
  end)
end)

describe("emulator: documented errors #server", function()
  before_each(function() emu:reset() token = password_token(emu) end)

  local function call(method, path, body)
    return curl(method, emu.url .. path, { headers = with_token(token), body = body })
  end

  it("ServiceStage: 400 and 404 as {error_code, error_msg}", function()
    local path = "/v3/" .. PID .. "/cas/environments/e/addons/a/action"
    for _, body in ipairs{ "not json", "[1,2]", "{}", '{"action": 5}' } do
      local res = call("POST", path, body)
      assert.are.equal(400, res.status, body)
      assert.are.equal("SVCSTG.00100400", res.json.error_code)
      assert.is_string(res.json.error_msg)
    end
    assert.is_truthy(call("POST", path, "{}").json.error_msg:find("action", 1, true))
    local res = call("GET", "/v3/" .. PID .. "/cas/jobs/JOBnope")
    assert.are.equal(404, res.status)
    assert.are.equal("SVCSTG.00100404", res.json.error_code)
  end)

  it("CodeArts Build: 400 as {error_code: CB.*, error_msg}", function()
    local path = "/v3/jobs/notice/j1/update"
    for _, body in ipairs{ "{", '{"enabled_event_type_names":["a"]}',
                           '{"notice_type":"MAIL","enabled_event_type_names":"a"}',
                           '{"notice_type":"MAIL","enabled_event_type_names":["a",3]}',
                           '{"notice_type":"MAIL","enabled_event_type_names":["a"],"param_config":{}}' } do
      local res = call("POST", path, body)
      assert.are.equal(400, res.status, body)
      assert.are.equal("CB.00060200", res.json.error_code, body)
    end
    assert.is_truthy(call("POST", path, '{"notice_type":"MAIL","enabled_event_type_names":["a",3]}')
      .json.error_msg:find("enabled_event_type_names[2]", 1, true))
  end)

  it("ASM: 400 as {errorCode, errorMsg} down to nested fields, 409 on a duplicate name", function()
    local path = "/v2/meshes/m1/workshops"
    local good = { metadata = { name = "w" }, spec = { primaryCluster = "c",
                   ingress = { elbId = "e", elbIp = "1.2.3.4", port = 80 } } }
    local cases = {
      { body = "nope", field = "JSON" },
      { body = '{"spec":{}}', field = "metadata" },
      { body = cjson.encode({ metadata = { name = "w" }, spec = { primaryCluster = "c" } }),
        field = "spec.ingress" },
      { body = cjson.encode({ metadata = { name = "w" }, spec = { primaryCluster = "c",
        ingress = { elbId = "e", elbIp = "1.2.3.4", port = "80" } } }), field = "spec.ingress.port" },
      { body = cjson.encode({ metadata = { name = "w" }, spec = { primaryCluster = "c",
        ingress = { elbId = "e", elbIp = "1.2.3.4", port = 80.5 } } }), field = "spec.ingress.port" },
    }
    for _, c in ipairs(cases) do
      local res = call("POST", path, c.body)
      assert.are.equal(400, res.status, c.body)
      assert.are.equal("ASM.01010001", res.json.errorCode)
      assert.is_truthy(res.json.errorMsg:find(c.field, 1, true), res.json.errorMsg)
    end
    assert.are.equal(200, call("POST", path, cjson.encode(good)).status)
    local res = call("POST", path, cjson.encode(good))
    assert.are.equal(409, res.status)
    assert.are.equal("ASM.01010003", res.json.errorCode)
    res = call("GET", path)
    assert.are.equal(1, #res.json)
    assert.are.equal("[]", call("GET", "/v2/meshes/empty-mesh/workshops").body)
  end)

  it("RTS: 400 and 404 in the Heat error shape", function()
    local path = "/v1/" .. PID .. "/software_deployments"
    for _, body in ipairs{ "]", '{"config_id":"c"}', '{"config_id":"c","server_id":1}',
                           '{"config_id":"c","server_id":"s","status":"DONE"}',
                           '{"config_id":"c","server_id":"s","input_values":"x"}' } do
      local res = call("POST", path, body)
      assert.are.equal(400, res.status, body)
      assert.are.equal(400, res.json.code)
      assert.are.equal("Bad Request", res.json.title)
      assert.is_string(res.json.explanation)
      assert.are.equal("ValidationError", res.json.error.type)
      assert.is_string(res.json.error.message)
      assert.are.equal(cjson.null, res.json.error.traceback)
    end
    for _, method in ipairs{ "GET", "PUT", "DELETE" } do
      local res = call(method, path .. "/no-such-id", method == "PUT" and "{}" or nil)
      assert.are.equal(404, res.status, method)
      assert.are.equal(404, res.json.code)
      assert.is_string(res.json.error.message)
    end
  end)

  it("Workspace: 400 and 404 as {error_code: WKS.*, error_msg}", function()
    local path = "/v1/" .. PID .. "/app-servers/s1/actions/reinstall"
    for _, body in ipairs{ "x", '{"update_access_agent":"yes"}' } do
      local res = call("POST", path, body)
      assert.are.equal(400, res.status)
      assert.are.equal("WKS.00010001", res.json.error_code)
    end
    local res = call("GET", "/v2/" .. PID .. "/job/575945548515770368")
    assert.are.equal(404, res.status)
    assert.are.equal("WKS.00010404", res.json.error_code)
  end)

  it("answers 405 for a known path with another method, 404 for an unknown API", function()
    local res = call("DELETE", "/v2/" .. PID .. "/job/1")
    assert.are.equal(405, res.status)
    assert.are.equal("WKS.00010405", res.json.error_code)
    assert.are.equal("GET", res.headers["allow"])
    res = call("PUT", "/v2/meshes/m/workshops", "{}")
    assert.are.equal(405, res.status)
    assert.is_string(res.json.errorCode)
    res = call("PATCH", "/v1/" .. PID .. "/software_deployments/x", "{}")
    assert.are.equal(405, res.status)
    assert.are.equal(405, res.json.code)
    res = call("PATCH", "/v3/auth/tokens", "{}")
    assert.are.equal(405, res.status)
    res = call("GET", "/v9/nothing/here")
    assert.are.equal(404, res.status)
    assert.are.equal("APIG.0101", res.json.error_code)
  end)
end)

describe("emulator: jobs over --job-seconds 6 #server", function()
  before_each(function() emu:reset() token = password_token(emu) end)

  local function call(method, path, body)
    return curl(method, emu.url .. path, { headers = with_token(token), body = body })
  end

  local function watch(path, pick)
    local seen, order = {}, {}
    for _ = 1, 80 do
      local st = pick(call("GET", path).json)
      if not seen[st] then seen[st] = true order[#order + 1] = st end
      if st ~= "SUBMITTED" and st ~= "WAITING" and st ~= "RUNNING" and st ~= "IN_PROGRESS" then
        break
      end
      sleep(0.1)
    end
    return order
  end

  it("moves a ServiceStage job SUBMITTED -> RUNNING -> SUCCEEDED", function()
    local id = call("POST", "/v3/" .. PID .. "/cas/environments/e/addons/a1/action",
      '{"action":"restart"}').json.job_id
    assert.are.same({ "SUBMITTED", "RUNNING", "SUCCEEDED" },
      watch("/v3/" .. PID .. "/cas/jobs/" .. id, function(j) return j.job.EXECUTION_STATUS end))
  end)

  it("moves a Workspace job WAITING -> RUNNING -> SUCCESS", function()
    local id = call("POST", "/v1/" .. PID .. "/app-servers/s1/actions/reinstall", "{}").json.job_id
    assert.are.same({ "WAITING", "RUNNING", "SUCCESS" },
      watch("/v2/" .. PID .. "/job/" .. id, function(j) return j.status end))
    local j = call("GET", "/v2/" .. PID .. "/job/" .. id).json
    assert.are.equal("SUCCESS", j.sub_jobs[1].status)
    assert.is_string(j.end_time)
  end)

  it("moves an RTS deployment IN_PROGRESS -> COMPLETE", function()
    local dep = call("POST", "/v1/" .. PID .. "/software_deployments",
      '{"config_id":"c1","server_id":"s1","status":"IN_PROGRESS"}').json.software_deployment
    assert.are.same({ "IN_PROGRESS", "COMPLETE" },
      watch("/v1/" .. PID .. "/software_deployments/" .. dep.id,
            function(j) return j.software_deployment.status end))
  end)

  it("ends FAILED for ids on the fail list", function()
    emu:fail{ "addon-bad", "server-bad", "config-bad" }
    local ss = call("POST", "/v3/" .. PID .. "/cas/environments/e/addons/addon-bad/action",
      '{"action":"restart"}').json.job_id
    local ws = call("POST", "/v1/" .. PID .. "/app-servers/server-bad/actions/reinstall", "{}").json.job_id
    local dep = call("POST", "/v1/" .. PID .. "/software_deployments",
      '{"config_id":"config-bad","server_id":"s9"}').json.software_deployment.id
    local ok_ws = call("POST", "/v1/" .. PID .. "/app-servers/server-ok/actions/reinstall", "{}").json.job_id
    -- a job id can be put on the list once it is known
    local late = call("POST", "/v3/" .. PID .. "/cas/environments/e/addons/addon-ok/action",
      '{"action":"restart"}').json.job_id
    emu:fail{ late }
    sleep(6.3)
    assert.are.equal("FAILED", call("GET", "/v3/" .. PID .. "/cas/jobs/" .. ss).json.job.EXECUTION_STATUS)
    assert.are.equal("FAILED", call("GET", "/v3/" .. PID .. "/cas/jobs/" .. late).json.job.EXECUTION_STATUS)
    local j = call("GET", "/v2/" .. PID .. "/job/" .. ws).json
    assert.are.equal("FAILED", j.status)
    assert.are.equal("FAILED", j.sub_jobs[1].status)
    assert.is_string(j.sub_jobs[1].error_code)
    assert.are.equal("SUCCESS", call("GET", "/v2/" .. PID .. "/job/" .. ok_ws).json.status)
    local d = call("GET", "/v1/" .. PID .. "/software_deployments/" .. dep).json.software_deployment
    assert.are.equal("FAILED", d.status)
  end)

  it("keeps each project's jobs to itself", function()
    local other = password_token(emu, { project = { id = OTHER_PID } })
    local id = call("POST", "/v1/" .. PID .. "/app-servers/s1/actions/reinstall", "{}").json.job_id
    local res = curl("GET", emu.url .. "/v2/" .. OTHER_PID .. "/job/" .. id,
      { headers = with_token(other) })
    assert.are.equal(404, res.status)
  end)
end)

describe("emulator: faults #server", function()
  local path
  before_each(function()
    emu:reset()
    token = password_token(emu)
    path = "/v2/" .. PID .. "/job/1"
  end)

  local function get()
    return curl("GET", emu.url .. path, { headers = with_token(token) })
  end

  it("answers a status with body and headers for the next `count` requests", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", count = 2, status = 503,
               headers = { ["Retry-After"] = "3" },
               body = { error_code = "WKS.00010503", error_msg = "busy" } }
    for _ = 1, 2 do
      local res = get()
      assert.are.equal(503, res.status)
      assert.are.equal("3", res.headers["retry-after"])
      assert.are.same({ error_code = "WKS.00010503", error_msg = "busy" }, res.json)
    end
    assert.are.equal(404, get().status)
  end)

  it("gives a default body in the service's error shape", function()
    emu:fault{ operation = "asm.list_workshops", status = 500 }
    local res = curl("GET", emu.url .. "/v2/meshes/m/workshops", { headers = with_token(token) })
    assert.are.equal(500, res.status)
    assert.is_string(res.json.errorCode)
  end)

  it("applies before authentication", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", status = 429 }
    local res = curl("GET", emu.url .. path)
    assert.are.equal(429, res.status)
  end)

  it("delays the answer by delay_ms", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", delay_ms = 400 }
    local res = get()
    assert.are.equal(404, res.status)
    assert.is_true(res.time >= 0.4)
    assert.is_true(get().time < 0.3)
  end)

  it("drops the connection without a response", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", drop = true }
    local res = get()
    assert.are.equal(0, res.status)
    assert.are.equal(52, res.curl_exit)     -- empty reply from server
    assert.are.equal(404, get().status)
  end)

  it("truncates the body below its Content-Length", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", truncate = true }
    local res = get()
    assert.are.equal(18, res.curl_exit)     -- partial file
    assert.is_true(#res.body < tonumber(res.headers["content-length"]))
  end)

  it("sends a malformed (non-JSON) 200 body", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", malformed = true }
    local res = get()
    assert.are.equal(200, res.status)
    assert.is_nil(res.json)
    assert.is_false(pcall(cjson.decode, res.body))
  end)

  it("matches every operation with \"*\", after operation-specific faults", function()
    emu:fault{ operation = "*", count = 2, status = 502 }
    emu:fault{ operation = "workspaceapp.show_job_detail", status = 504 }
    assert.are.equal(504, get().status)
    assert.are.equal(502, get().status)
    assert.are.equal(502, curl("GET", emu.url .. "/v2/meshes/m/workshops").status)
    assert.are.equal(404, get().status)
  end)

  it("rejects malformed fault descriptions", function()
    local _, status = emu:admin("POST", "/_emulator/faults", { operation = "nope.op", status = 500 })
    assert.are.equal(400, status)
    _, status = emu:admin("POST", "/_emulator/faults", { operation = "*" })
    assert.are.equal(400, status)
    _, status = emu:admin("POST", "/_emulator/faults", { operation = "*", status = 500, count = 0 })
    assert.are.equal(400, status)
  end)
end)

describe("emulator: counts, reset and health #server", function()
  it("counts every request per operation, faults and failed auth included", function()
    emu:reset()
    assert.are.same({}, emu:counts())
    emu:fault{ operation = "rts.list_software_deployments", status = 500 }
    curl("GET", emu.url .. "/v1/" .. PID .. "/software_deployments")                -- fault
    curl("GET", emu.url .. "/v1/" .. PID .. "/software_deployments")                -- 401
    curl("GET", emu.url .. "/v1/" .. PID .. "/software_deployments", { headers = with_token(token) })
    password_token(emu)
    curl("GET", emu.url .. "/no/where/at/all/a/b/c/d/e/f/g/h/i/j")                 -- not an operation
    assert.are.same({ ["rts.list_software_deployments"] = 3, ["iam.create_token"] = 1 }, emu:counts())
  end)

  it("forgets state, faults, failures, tokens and counts on reset", function()
    local tok = password_token(emu)
    local id = curl("POST", emu.url .. "/v1/" .. PID .. "/app-servers/s/actions/reinstall",
      { headers = with_token(tok), body = "{}" }).json.job_id
    emu:fault{ operation = "workspaceapp.show_job_detail", status = 500, count = 5 }
    emu:fail{ "s" }
    emu:reset()
    assert.are.same({}, emu:counts())
    local res = curl("GET", emu.url .. "/v2/" .. PID .. "/job/" .. id, { headers = with_token(tok) })
    assert.are.equal(401, res.status)     -- no fault any more, and the token is gone
    tok = password_token(emu)
    res = curl("GET", emu.url .. "/v2/" .. PID .. "/job/" .. id, { headers = with_token(tok) })
    assert.are.equal(404, res.status)
  end)

  it("reports health and rejects unknown admin calls", function()
    assert.are.same({ status = "ok" }, emu:health())
    local _, status = emu:admin("GET", "/_emulator/nothing")
    assert.are.equal(404, status)
    _, status = emu:admin("GET", "/_emulator/reset")
    assert.are.equal(405, status)
  end)
end)

describe("emulator: process #server", function()
  it("waits --latency-ms before answering operations", function()
    local slow = emulator.start{ latency_ms = 300 }
    local ok, err = pcall(function()
      local tok = password_token(slow)
      local res = curl("GET", slow.url .. "/v2/" .. PID .. "/job/1", { headers = with_token(tok) })
      assert.are.equal(404, res.status)
      assert.is_true(res.time >= 0.3)
    end)
    assert.are.equal(0, slow:stop())
    assert(ok, err)
  end)

  it("serves HTTPS with --tls, signed requests included", function()
    local cert, key = ensure_cert()
    local secure = emulator.start{ tls = { cert = cert, key = key }, ak = "MYAK", sk = "my-secret",
                                    inventory = require "spec.fixtures.inventory" }
    local ok, err = pcall(function()
      assert.is_truthy(secure.url:match("^https://127%.0%.0%.1:%d+$"))
      local res = curl("GET", secure.url .. "/_emulator/health")
      assert.are.equal(200, res.status)
      res = node(secure, { method = "POST", body = { action = "redeploy" },
        path = "/v3/" .. PID .. "/cas/environments/e/addons/a/action" })
      assert.are.equal(200, res.status)
      res = node(secure, { method = "POST", body = { action = "redeploy" }, ak = emulator.DEFAULT_AK,
        sk = emulator.DEFAULT_SK, path = "/v3/" .. PID .. "/cas/environments/e/addons/a/action" })
      assert.are.equal(401, res.status)
    end)
    assert.are.equal(0, secure:stop())
    assert(ok, err)
  end)

  it("stops on SIGTERM with exit status 0", function()
    local e = emulator.start{}
    assert.are.equal(0, e:stop())
    assert.are.equal(0, curl("GET", e.url .. "/_emulator/health", { timeout = 2 }).status)
  end)

  it("fails fast with nginx's error when the port is taken", function()
    local p = io.popen("cd " .. q(root) .. " && start=$(date +%s%N); bin/hwcloud-emulator --port "
      .. emu.port .. " 2>&1; echo \"rc=$? ms=$(( ($(date +%s%N) - start) / 1000000 ))\"")
    local out = p:read("*a")
    p:close()
    local rc, ms = out:match("rc=(%d+) ms=(%d+)")
    assert.are_not.equal("0", rc)
    assert.is_true(tonumber(ms) < 3000, out)
    assert.is_truthy(out:find("Address already in use", 1, true), out)
    assert.is_falsy(out:find("listening on", 1, true))
  end)

  it("prints usage with --help", function()
    local p = io.popen(q(root .. "/bin/hwcloud-emulator") .. " --help")
    local out = p:read("*a")
    p:close()
    assert.is_truthy(out:find("--port PORT", 1, true))
    assert.is_truthy(out:find("--job-seconds", 1, true))
  end)
end)
