-- Every operation of the services from one description each: the registry,
-- the official names and the seed aliases, the flat request table's body
-- rule, pagination over every style, and the generic call.

local hwcloud = require "hwcloud"
local services = require "hwcloud.services"
local pager = require "hwcloud.pager"
local core = require "hwcloud.core"
local emulator = require "spec.helpers.emulator"

local PID = "5e7e1b0a9c8d4f6e8a7b6c5d4e3f2a1b"

describe("the service registry", function()
  it("keeps the seed fields, with the operation counts of the official SDKs", function()
    local counts = {}
    for _, n in ipairs { "asm", "codeartsbuild", "iam", "rts", "servicestage", "servicestage_v2",
                         "workspaceapp" } do
      assert.is_true(services.known(n), n)
      local c = 0
      for _ in pairs(services.load(n).all) do c = c + 1 end
      counts[n] = c
    end
    -- the SDKs' counts (workspaceapp: the newer SDK's UploadAppIconRaw too; iam: v3 and the
    -- 84 operations of v5), plus what no SDK has: ServiceStage add-ons (3), ASM workshops (2), RTS
    assert.are.same({ workspaceapp = 174, codeartsbuild = 135, servicestage = 28,
                      servicestage_v2 = 54, asm = 6, iam = 234, rts = 9 }, counts)
  end)

  it("loads nothing at require and a service only when asked", function()
    local out = io.popen([[lua5.4 -e '
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "build/5.4/?.so;" .. package.cpath
      require "hwcloud"
      local loaded = {}
      for k in pairs(package.loaded) do if k:find("^hwcloud%.services%.") then loaded[#loaded + 1] = k end end
      local c = require("hwcloud").client{ endpoint = "http://127.0.0.1:9", ak = "a", sk = "b" }
      local _ = c.asm
      for k in pairs(package.loaded) do if k:find("^hwcloud%.services%.") then loaded[#loaded + 1] = k end end
      table.sort(loaded)
      io.write(table.concat(loaded, ","))']]):read("*a")
    assert.are.equal("hwcloud.services.asm,hwcloud.services.gen.asm_v1,hwcloud.services.index", out)
  end)

  it("links an operation to its official page by the SDK's own name, acronyms kept", function()
    local explorer = "https://console.huaweicloud.com/apiexplorer/#/openapi/"
    local iam = services.load("iam")
    assert.are.equal(explorer .. "IAM/doc?api=AddClientIDToOIDCProviderV5",
      services.reference_url(iam, iam.operations.add_client_id_to_oidc_provider_v5))
    assert.are.equal(explorer .. "IAM/doc?api=ListSAMLProvidersV5",
      services.reference_url(iam, iam.operations.list_saml_providers_v5))
    -- every generated operation records the name; only the overlays' own
    -- operations (no SDK has them: RTS) make it from the snake case name
    for name, op in pairs(iam.all) do assert.truthy(op.sdk_operation, name) end
    local rts = services.load("rts")
    assert.are.equal(explorer .. "RTS/doc?api=ListSoftwareDeployments",
      services.reference_url(rts, rts.operations.list_software_deployments))
  end)

  it("keeps the seed names as aliases of the official operations", function()
    local ss, iam = services.load("servicestage"), services.load("iam")
    assert.are.equal(services.operation(ss, "show_job_info"), services.operation(ss, "show_job"))
    assert.are.equal(services.operation(iam, "keystone_create_user_token_by_password"),
      services.operation(iam, "create_token"))
    -- workspaceapp.show_job is the official ShowJob; wait polls ShowJobDetail
    local ws = services.load("workspaceapp")
    assert.are.equal("/v1/{project_id}/job/{job_id}", ws.operations.show_job.path)
    assert.are.equal("/v2/{project_id}/job/{job_id}", ws.operations.show_job_detail.path)
    assert.are.equal("show_job_detail", ws.jobs.poll)
  end)

  it("fixes the seed schemas where the official SDKs differ", function()
    local cb = services.load("codeartsbuild").operations.update_notice
    local path, body = core.build(cb, { job_id = "j", notice_type = "MAIL",
      enabled_event_type_names = { "buildJobFail" }, send_switch = "true", use_project_notice = "false" })
    assert.are.equal("/v3/jobs/notice/j/update", path)
    assert.truthy(body:find('"send_switch":"true"', 1, true))
    assert.truthy(services.load("servicestage").operations.show_job_info.request.fields.instance_id)
    local rts = services.load("rts").operations.list_software_deployments.request.fields
    assert.is_nil(rts.limit)
    assert.is_nil(rts.marker)
    assert.are.equal("string", services.load("iam").operations.create_token.request.fields.nocatalog.type)
  end)

  it("puts a body that is not an object with fields in the field `body`", function()
    local op = services.load("codeartsbuild").operations.list_brief_record
    assert.are.equal("whole_body", op.request.fields.body.location)
    local _, body = core.build(op, { body = { "job-1", "job-2" }, limit = 10 }, "p")
    assert.are.equal('["job-1","job-2"]', body)
  end)
end)

describe("pages and each", function()
  -- a scripted list operation: `items` answers, one call per page
  local function scripted(_, answers)
    local calls = {}
    local run = function(req)
      local copy = {}
      for k, v in pairs(req) do copy[k] = v end
      calls[#calls + 1] = copy
      return answers[#calls] or { items = {} }
    end
    return run, calls
  end

  local function collect(iter)
    local out = {}
    for x, err in iter do
      assert(x, tostring(err))
      out[#out + 1] = x
    end
    return out
  end

  it("follows offset/limit until a short page", function()
    local op = services.load("workspaceapp").operations.list_servers
    assert.are.equal("offset", pager.style_of(op))
    local run, calls = scripted(op, {
      { count = 5, items = { { id = "a" }, { id = "b" } } },
      { count = 5, items = { { id = "c" }, { id = "d" } } },
      { count = 5, items = { { id = "e" } } },
    })
    local items = collect(pager.each(pager.pages(op, { limit = 2 }, run), op))
    assert.are.equal(5, #items)
    assert.are.same({ { limit = 2 }, { limit = 2, offset = 2 }, { limit = 2, offset = 4 } }, calls)
  end)

  it("follows marker/limit with the last item's id", function()
    local op = services.load("rts").operations.list_software_configs
    assert.are.equal("marker", pager.style_of(op))
    local run, calls = scripted(op, {
      { software_configs = { { id = "c1" }, { id = "c2" } } },
      { software_configs = { { id = "c3" } } },
    })
    local items = collect(pager.each(pager.pages(op, { limit = 2 }, run), op))
    assert.are.same({ "c1", "c2", "c3" }, { items[1].id, items[2].id, items[3].id })
    assert.are.same({ { limit = 2 }, { limit = 2, marker = "c2" } }, calls)
  end)

  it("follows a page number with a page size, and stops at the total", function()
    local op = { request = { fields = {
      page_index = { type = "integer", location = "query" },
      page_size = { type = "integer", location = "query" } } } }
    assert.are.equal("page", pager.style_of(op))
    local run, calls = scripted(op, {
      { total = 3, list = { 1, 2 } },
      { total = 3, list = { 3, 4 } },  -- a server that overshoots
    })
    local pages = collect(pager.pages(op, { page_size = 2 }, run))
    assert.are.equal(2, #pages)
    assert.are.same({ { page_size = 2 }, { page_size = 2, page_index = 2 } }, calls)
  end)

  it("ends with (false, err) when a call fails", function()
    local op = services.load("workspaceapp").operations.list_servers
    local e = hwcloud.errors.validation("x", "bad")
    local n, got = 0, nil
    for page, err in pager.pages(op, {}, function() return nil, e end) do
      n = n + 1
      assert.is_false(page)
      got = err
    end
    assert.are.equal(1, n)
    assert.are.equal(e, got)
  end)
end)

describe("client:pages, client:each and client:request against the emulator #server", function()
  local session = emulator.session({ job_seconds = 1, inventory = require "spec.fixtures.inventory" }, PID,
                                 { retry_base = 0.01 })
  local emu, client
  setup(function() emu, client = session.start() end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  it("pages name their error for an unknown operation", function()
    for page, err in client:pages("workspaceapp", "list_servrs", {}) do
      assert.is_false(page)
      assert.are.equal("validation", err.kind)
      assert.are.equal("operation", err.field)
    end
  end)

  it("sends a generic request signed, to the service's endpoint, with the same errors", function()
    local res = assert(client:request{ service = "workspaceapp", method = "POST",
      path = "/v1/{project_id}/app-servers/srv-generic/actions/reinstall",
      body = { update_access_agent = true } })
    assert.is_string(res.job_id)
    assert.are.equal(1, emu:counts()["workspaceapp.reinstall_server"])
    local _, err = client:request{ service = "workspaceapp", method = "GET",
      path = "/v1/{project_id}/no-such-api", query = { a = "1", b = { "x", "y" } } }
    assert.are.equal("http", err.kind)
    assert.are.equal(404, err.status)
    assert.are.equal("request", err.operation)
  end)

  it("retries a generic request by the same policy: a GET again after a 503", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", status = 503, count = 1 }
    local _, err = client:request{ service = "workspaceapp", method = "GET",
      path = "/v2/{project_id}/job/no-such-job" }
    assert.are.equal(404, err.status)
    assert.are.equal(2, err.attempts)
    assert.are.equal(2, emu:counts()["workspaceapp.show_job_detail"])
  end)

  it("refuses a bad generic request before sending, naming the field", function()
    local cases = {
      { { service = "Bad!", method = "GET", path = "/x" }, "service" },
      { { service = "ecs", method = "FETCH", path = "/x" }, "method" },
      { { service = "ecs", method = "GET", path = "x" }, "path" },
      { { service = "ecs", method = "GET", path = "/a/../b" }, "path" },
      { { service = "ecs", method = "GET", path = "/v1/{server_id}" }, "path" },
      { { service = "ecs", method = "GET", path = "/x", headers = { Authorization = "x" } },
        "headers.Authorization" },
      { { service = "ecs", method = "GET", path = "/x", query = { q = { {} } } }, "query.q[1]" },
      { { service = "ecs", method = "GET", path = "/x", bdy = {} }, "request.bdy" },
    }
    for _, c in ipairs(cases) do
      local res, err = client:request(c[1])
      assert.is_nil(res)
      assert.are.equal("validation", err.kind)
      assert.are.equal(c[2], err.field)
    end
    assert.are.same({}, emu:counts())
  end)
end)

describe("multipart operations", function()
  it("check their fields and file parts before sending (nothing listens at port 9)", function()
    local client = assert(hwcloud.client{ endpoint = "http://127.0.0.1:9", ak = "a", sk = "b",
                                          project_id = "p" })
    local res, err = client.workspaceapp:upload_app_icon{}
    assert.is_nil(res)
    assert.are.equal("validation", err.kind)
    assert.are.equal("app_group_id", err.field)
    res, err = client.workspaceapp:upload_app_icon{ app_group_id = "g", app_id = "a",
                                                    data = { path = "/nonexistent/icon.png" } }
    assert.is_nil(res)
    assert.are.equal("data", err.field)
    assert.truthy(err.message:find("/nonexistent/icon.png", 1, true), err.message)
  end)
end)

describe("validation from the description, before anything is sent", function()
  local client = assert(hwcloud.client{ endpoint = "http://127.0.0.1:9", ak = "a", sk = "b",
                                        project_id = "p" })
  local function refused(res, err, field, message)
    assert.is_nil(res)
    assert.are.equal("validation", err.kind)
    assert.are.equal(field, err.field)
    assert.truthy(err.message:find(message, 1, true), err.message)
  end

  it("enforces enums, in hand-written and generated operations alike", function()
    refused(nil, select(2, client.servicestage:deliver_addon_job{ environment_id = "e",
      addon_id = "a", action = "reboot" }), "action", 'must be one of "restart", "redeploy"')
    refused(nil, select(2, client.workspaceapp:batch_reboot_server{ items = { "s1" },
      type = "GENTLE" }), "type", 'must be one of "SOFT", "HARD"')
  end)

  it("checks nested models, arrays of models and required fields inside them", function()
    refused(nil, select(2, client.workspaceapp:batch_reinstall_server{ server_ids = { 1 } }),
      "server_ids[1]", "expected string")
    refused(nil, select(2, client.iam:create_token{ auth = { identity = { methods = { "password" },
      password = { user = { name = "u", password = "p" } } }, scope = {} } }),
      "auth.identity.password.user.domain", "is required")
  end)

  it("suggests the nearest field and the nearest operation", function()
    refused(nil, select(2, client.workspaceapp:list_servers{ server_group = "g" }),
      "server_group", 'did you mean "server_group_id"')
    local ok, msg = pcall(function() return client.workspaceapp.list_server end)
    assert.is_false(ok)
    assert.truthy(msg:find("did you mean 'list_servers'", 1, true), msg)
  end)
end)
