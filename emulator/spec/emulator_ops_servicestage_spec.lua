-- The emulator's ServiceStage v3 state, through the client: applications
-- (list, show, create, delete), components (list, show, create) and their
-- actions' jobs, component records, show_job_info, failures, 404s, the
-- action enums and offset/limit pages.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"

local PID = "6a6b6c6d6e6f70717273747576777879"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

-- each test starts from the default inventory
before_each(function() session.restore() end)

local function ids(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v.id end
  return out
end

local function job_of(res)
  return { service = "servicestage", job_id = res.job_id }
end

local COMPONENT = {
  name = "worker", version = "1.0.0", replica = 1, environment_id = "env-test-01",
  runtime_stack = { name = "Docker", type = "Docker", version = "1", deploy_mode = "container" },
  source = { kind = "image", url = "swr.example/shop/worker:1.0.0" },
  refer_resources = { { id = "cce-test-01", type = "cce" } },
}

local function component_in(application_id)
  local comp = { application_id = application_id }
  for k, v in pairs(COMPONENT) do comp[k] = v end
  return comp
end

describe("emulator ServiceStage #server", function()
  it("lists applications with offset/limit and their count, shows one", function()
    local page = assert(client.servicestage:show_applications { offset = 1, limit = 1 })
    assert.are.equal(2, page.count)
    assert.are.same({ "app-tools" }, ids(page.applications))
    page = assert(client.servicestage:show_applications {})
    assert.are.same({ "app-shop", "app-tools" }, ids(page.applications))
    local app = assert(client.servicestage:show_application_info { application_id = "app-shop" })
    assert.are.equal("shop", app.name)
    assert.are.equal(2, app.component_count)
  end)

  it("creates an application, refuses its name twice, deletes it once empty", function()
    local app = assert(client.servicestage:create_application { name = "billing" })
    assert.is_string(app.id)
    assert.are.equal(3, assert(client.servicestage:show_applications {}).count)
    local res, err = client.servicestage:create_application { name = "billing" }
    assert.is_nil(res)
    assert.are.equal(409, err.status)
    local made = assert(client.servicestage:create_component(
      component_in(app.id)))
    assert(client:wait(job_of(made), FAST))
    res, err = client.servicestage:delete_application { application_id = app.id }
    assert.is_nil(res)
    assert.are.equal(400, err.status)
    assert(client.servicestage:delete_component { application_id = app.id,
                                                 component_id = made.component_id })
    assert(client.servicestage:delete_application { application_id = app.id })
    res, err = client.servicestage:show_application_info { application_id = app.id }
    assert.is_nil(res)
    assert.are.equal(404, err.status)
  end)

  it("lists components in an application and across them, with pages and filters", function()
    local page = assert(client.servicestage:show_components_in_application {
      application_id = "app-shop", limit = 1 })
    assert.are.equal(2, page.count)
    assert.are.same({ "comp-shop-web" }, ids(page.components))
    assert.are.equal("RUNNING", page.components[1].status.component_status)
    page = assert(client.servicestage:show_components { offset = 2 })
    assert.are.equal(3, page.count)
    assert.are.same({ "comp-tools-cron" }, ids(page.components))
    page = assert(client.servicestage:show_components { component_name = "api" })
    assert.are.same({ "comp-shop-api" }, ids(page.components))
    local c = assert(client.servicestage:show_component_info {
      application_id = "app-shop", component_id = "comp-shop-api" })
    assert.are.equal("shop", c.application_name)
    assert.are.equal("prod", c.environment_name)
  end)

  it("creates a component with a deploy job that show_job_info follows to RUNNING", function()
    local made = assert(client.servicestage:create_component(component_in("app-tools")))
    assert.is_string(made.component_id)
    local c = assert(client.servicestage:show_component_info {
      application_id = "app-tools", component_id = made.component_id })
    assert.are.equal("INITIALIZING", c.status.component_status)
    local final, err = client:wait(job_of(made), FAST)
    assert.is_nil(err)
    assert.are.equal("SUCCEEDED", final.job.EXECUTION_STATUS)
    assert.are.equal("COMPONENT", final.job.SOURCE_TYPE)
    c = assert(client.servicestage:show_component_info {
      application_id = "app-tools", component_id = made.component_id })
    assert.are.equal("RUNNING", c.status.component_status)
    assert.are.equal(1, c.status.available_replica)
  end)

  it("stops, scales and restarts a component; each job leaves a record", function()
    local where = { application_id = "app-shop", component_id = "comp-shop-web" }
    local function act(action, parameters)
      local r = assert(client.servicestage:update_component_action {
        application_id = where.application_id, component_id = where.component_id,
        action = action, parameters = parameters })
      assert.is_string(r.job_id)
      assert(client:wait(job_of(r), FAST))
      return assert(client.servicestage:show_component_info(where))
    end
    assert.are.equal("STOPPED", act("stop").status.component_status)
    local c = act("scale", { replica = 4 })
    assert.are.equal("RUNNING", c.status.component_status)
    assert.are.equal(4, c.status.replica)
    act("restart")
    local records = assert(client.servicestage:show_component_records {
      application_id = where.application_id, component_id = where.component_id,
      offset = 0, limit = 2 })
    assert.are.equal(3, records.count)
    assert.are.equal(2, #records.records)
    -- newest first: the restart is the one in use
    assert.are.equal("restart", records.records[1].deploy_type)
    assert.is_true(records.records[1].current_used)
    assert.are.equal("SUCCEEDED", records.records[1].status)
    assert.are.equal("scale", records.records[2].deploy_type)
    assert.is_false(records.records[2].current_used)
  end)

  it("ends a component job FAILED for ids on the fail list, the component FAILED", function()
    emu:fail { "comp-shop-api" }
    local r = assert(client.servicestage:update_component_action {
      application_id = "app-shop", component_id = "comp-shop-api", action = "restart" })
    local final, err = client:wait(job_of(r), FAST)
    assert.is_nil(final)
    assert.are.equal("job_failed", err.kind)
    local c = assert(client.servicestage:show_component_info {
      application_id = "app-shop", component_id = "comp-shop-api" })
    assert.are.equal("FAILED", c.status.component_status)
  end)

  it("answers 404 in ServiceStage's shape for unknown applications, components, add-ons", function()
    local cases = {
      { "show_application_info", { application_id = "app-gone" }, "app-gone" },
      { "show_components_in_application", { application_id = "app-gone" }, "app-gone" },
      { "show_component_info", { application_id = "app-shop", component_id = "comp-gone" },
        "comp-gone" },
      -- a component of another application is not found here
      { "show_component_info", { application_id = "app-tools", component_id = "comp-shop-web" },
        "comp-shop-web" },
      { "update_component_action", { application_id = "app-shop", component_id = "comp-gone",
                                     action = "restart" }, "comp-gone" },
      { "show_component_records", { application_id = "app-gone", component_id = "x" },
        "app-gone" },
      { "delete_application", { application_id = "app-gone" }, "app-gone" },
      { "deliver_addon_job", { environment_id = "env-gone", addon_id = "addon-gateway",
                               action = "restart" }, "env-gone" },
      { "deliver_addon_job", { environment_id = "env-test-01", addon_id = "addon-logging",
                               action = "restart" }, "addon-logging" },
      { "show_job_info", { job_id = "JOBnope" }, "JOBnope" },
    }
    for _, c in ipairs(cases) do
      local res, err = client.servicestage[c[1]](client.servicestage, c[2])
      assert.is_nil(res, c[1])
      assert.are.equal(404, err.status, c[1])
      assert.are.equal("SVCSTG.00100404", err.code, c[1])
      assert.is_truthy(err.message:find(c[3], 1, true), c[1] .. ": " .. err.message)
    end
    local res, err = client.servicestage:create_component(
      component_in("app-gone"))
    assert.is_nil(res)
    assert.are.equal(404, err.status)
  end)

  it("enforces the component and add-on action enums in ServiceStage's 400 shape", function()
    local res = emu:raw(PID, "POST", "/v3/" .. PID .. "/cas/applications/app-shop/components/"
                    .. "comp-shop-web/action", { action = "explode" })
    assert.are.equal(400, res.status)
    assert.are.equal("SVCSTG.00100400", res.json.error_code)
    assert.is_truthy(res.json.error_msg:find("action", 1, true))
    assert.is_truthy(res.json.error_msg:find("restart", 1, true))
    res = emu:raw(PID, "POST", "/v3/" .. PID .. "/cas/environments/env-prod-01/addons/addon-gateway/action",
              { action = "stop" })
    assert.are.equal(400, res.status)
    assert.are.equal("SVCSTG.00100400", res.json.error_code)
    assert.is_truthy(res.json.error_msg:find("restart, redeploy", 1, true))
    -- nothing was started
    local c = assert(client.servicestage:show_component_info {
      application_id = "app-shop", component_id = "comp-shop-web" })
    assert.are.equal("RUNNING", c.status.component_status)
  end)

  it("refuses a scale without a replica count in ServiceStage's 400 shape", function()
    local res, err = client.servicestage:update_component_action {
      application_id = "app-shop", component_id = "comp-shop-web", action = "scale" }
    assert.is_nil(res)
    assert.are.equal(400, err.status)
    assert.are.equal("SVCSTG.00100400", err.code)
    assert.is_truthy(err.message:find("replica", 1, true))
  end)
end)
