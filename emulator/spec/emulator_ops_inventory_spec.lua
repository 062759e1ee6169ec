-- The emulator's inventory sections for applications, components, build
-- history and meshes: a replacement through the admin API is what every
-- project then sees, its shape is checked (strict included), and the
-- default has what deployment work needs.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"

local PID = "9a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9"

local emu, client, default_inventory
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function()
  emu, client = session.start()
  default_inventory = emu:admin("GET", "/_emulator/inventory")
end)
lazy_teardown(function()
  if emu then emu:admin("POST", "/_emulator/inventory", default_inventory) end
  session.stop()
end)
before_each(function() emu:reset() end)

describe("emulator inventory #server", function()
  it("has applications with components, build history and a mesh by default", function()
    assert.is_true(default_inventory.strict)
    local ss = default_inventory.servicestage
    assert.is_true(#ss.applications >= 1)
    assert.is_true(#ss.components >= 1)
    assert.is_true(#default_inventory.codeartsbuild.builds >= 1)
    assert.is_true(#default_inventory.asm.meshes >= 1)
  end)

  it("serves a replacement's applications, components, builds and meshes", function()
    local _, status = emu:admin("POST", "/_emulator/inventory", {
      strict = true,
      servicestage = {
        environments = { { id = "env-x", name = "x" } },
        applications = { { id = "app-x", name = "x" } },
        components = { { id = "comp-x", application_id = "app-x", environment_id = "env-x",
                         name = "cx", version = "2.0.0", replica = 3 } },
      },
      codeartsbuild = {
        jobs = { { id = "job-x", job_name = "jx" } },
        builds = { { id = "rec-x", job_id = "job-x", build_number = 7, result = "success" } },
      },
      asm = { meshes = { { id = "mesh-x", name = "mx" } } },
    })
    assert.are.equal(200, status)
    local apps = assert(client.servicestage:show_applications {})
    assert.are.equal(1, apps.count)
    assert.are.equal(1, apps.applications[1].component_count)
    local c = assert(client.servicestage:show_component_info {
      application_id = "app-x", component_id = "comp-x" })
    assert.are.equal(3, c.status.replica)
    assert.are.equal("x", c.environment_name)
    local h = assert(client.codeartsbuild:show_list_history {
      job_id = "job-x", offset = 0, limit = 5, interval = 7 })
    assert.are.equal(7, h.history_records[1].build_number)
    local run = assert(client.codeartsbuild:run_job { job_id = "job-x" })
    assert.are.equal("8", run.actual_build_number)
    assert.are.equal("mx", assert(client.asm:show_mesh { mesh_id = "mesh-x" }).metadata.name)
    -- the sections left out are empty
    local res, err = client.workspaceapp:reinstall_server { server_id = "srv-web-01" }
    assert.is_nil(res)
    assert.are.equal(404, err.status)
    assert.are.equal(0, assert(client.workspaceapp:list_servers {}).count)
  end)

  it("refuses a strict that is not a boolean and items without ids, naming them", function()
    local body, status = emu:admin("POST", "/_emulator/inventory", { strict = "yes" })
    assert.are.equal(400, status)
    assert.is_truthy(body.error_msg:find("strict", 1, true))
    body, status = emu:admin("POST", "/_emulator/inventory",
                             { asm = { meshes = { { name = "no-id" } } } })
    assert.are.equal(400, status)
    assert.is_truthy(body.error_msg:find("asm.meshes[1].id", 1, true))
    body, status = emu:admin("POST", "/_emulator/inventory",
                             { codeartsbuild = { builds = "none" } })
    assert.are.equal(400, status)
    assert.is_truthy(body.error_msg:find("codeartsbuild.builds", 1, true))
  end)
end)
