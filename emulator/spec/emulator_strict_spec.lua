-- The emulator's default: an id its inventory does not have is a 404 in the
-- service's own shape, for the operations that once took any id too
-- (reinstall_server, deliver_addon_job, create_software_deployment,
-- the workshops' mesh, update_notice); an inventory that leaves `strict`
-- out is strict as well, and `"strict": false` still opts out.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"

local PID = "6a6b6c6d6e6f70717273747576777879"

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)
before_each(function() session.restore() end)

-- asserts a 404 whose code and message the client read from the service's
-- own error body
local function is_404(res, err, code, id, what)
  assert.is_nil(res, what)
  assert.are.equal("http", err.kind, what)
  assert.are.equal(404, err.status, what)
  assert.are.equal(code, err.code, what)
  assert.is_truthy(err.message:find(id, 1, true), what .. ": " .. err.message)
end

local WORKSHOP = {
  description = "d", metadata = { name = "w1" },
  spec = { primaryCluster = "cce-prod-01",
           ingress = { elbId = "elb-1", elbIp = "192.0.2.10", port = 8443 } },
}

describe("emulator: unknown ids by default #server", function()
  it("has a strict default inventory", function()
    assert.is_true(session.inventory().strict)
  end)

  it("404s reinstall_server of an unknown server in Workspace's shape", function()
    local res, err = client.workspaceapp:reinstall_server { server_id = "srv-made-up" }
    is_404(res, err, "WKS.00010404", "srv-made-up", "reinstall_server")
    assert.is_truthy(client.workspaceapp:reinstall_server { server_id = "srv-web-01" })
  end)

  it("404s deliver_addon_job of an unknown environment or add-on in ServiceStage's shape", function()
    local sv = client.servicestage
    local res, err = sv:deliver_addon_job {
      environment_id = "env-made-up", addon_id = "addon-gateway", action = "redeploy" }
    is_404(res, err, "SVCSTG.00100404", "env-made-up", "unknown environment")
    res, err = sv:deliver_addon_job {
      environment_id = "env-prod-01", addon_id = "addon-made-up", action = "redeploy" }
    is_404(res, err, "SVCSTG.00100404", "addon-made-up", "unknown add-on")
    -- an add-on of another environment is not one of this one's
    res, err = sv:deliver_addon_job {
      environment_id = "env-prod-01", addon_id = "addon-test-gateway", action = "redeploy" }
    is_404(res, err, "SVCSTG.00100404", "addon-test-gateway", "add-on of another environment")
    assert.is_truthy(sv:deliver_addon_job {
      environment_id = "env-prod-01", addon_id = "addon-gateway", action = "redeploy" })
  end)

  it("404s create_software_deployment of an unknown config or server in RTS's shape", function()
    local rts = client.rts
    local res, err = rts:create_software_deployment {
      config_id = "cfg-made-up", server_id = "srv-web-01", status = "IN_PROGRESS" }
    is_404(res, err, "NotFound", "cfg-made-up", "unknown config")
    local made = assert(rts:create_software_config { name = "app", group = "script",
                                                     config = "echo hi" })
    local config_id = made.software_config.id
    res, err = rts:create_software_deployment {
      config_id = config_id, server_id = "srv-made-up", status = "IN_PROGRESS" }
    is_404(res, err, "NotFound", "srv-made-up", "unknown server")
    -- neither refusal made a deployment
    assert.are.equal(0, #assert(rts:list_software_deployments {}).software_deployments)
    local dep = assert(rts:create_software_deployment {
      config_id = config_id, server_id = "srv-web-01", status = "IN_PROGRESS" })
    assert.are.equal("srv-web-01", dep.software_deployment.server_id)
  end)

  it("404s create_workshop and list_workshops on an unknown mesh in ASM's shape", function()
    local req = { mesh_id = "mesh-made-up" }
    for k, v in pairs(WORKSHOP) do req[k] = v end
    local res, err = client.asm:create_workshop(req)
    is_404(res, err, "ASM.01010002", "mesh-made-up", "create_workshop")
    res, err = client.asm:list_workshops { mesh_id = "mesh-made-up" }
    is_404(res, err, "ASM.01010002", "mesh-made-up", "list_workshops")
    req.mesh_id = "mesh-prod-01"
    assert.is_truthy(client.asm:create_workshop(req))
    assert.is_truthy(client.asm:list_workshops { mesh_id = "mesh-prod-01" })
  end)

  it("404s update_notice of an unknown build job in CodeArts Build's shape", function()
    local notice = { notice_type = "MAIL", enabled_event_type_names = { "build_fail" } }
    notice.job_id = "0123456789abcdef0123456789abcdef"
    local res, err = client.codeartsbuild:update_notice(notice)
    is_404(res, err, "CB.00060404", notice.job_id, "update_notice")
    notice.job_id = "48c66c6002964721be537cdc6ce0297b"
    assert.is_truthy(client.codeartsbuild:update_notice(notice))
  end)

  it("is strict for an inventory that leaves strict out", function()
    assert(emu:inventory { workspace = { servers = { { id = "only-one" } } } })
    local res, err = client.workspaceapp:reinstall_server { server_id = "srv-web-01" }
    is_404(res, err, "WKS.00010404", "srv-web-01", "reinstall_server")
    assert.is_truthy(client.workspaceapp:reinstall_server { server_id = "only-one" })
    assert.is_true(emu:admin("GET", "/_emulator/inventory").strict)
  end)

  it("takes any id again with \"strict\": false, the opt-out for scripts with made-up ids", function()
    assert(emu:inventory { strict = false })
    assert.is_truthy(client.workspaceapp:reinstall_server { server_id = "srv-made-up" })
    assert.is_truthy(client.asm:list_workshops { mesh_id = "mesh-made-up" })
    assert.is_truthy(client.codeartsbuild:update_notice {
      job_id = "0123456789abcdef0123456789abcdef", notice_type = "MAIL",
      enabled_event_type_names = { "build_fail" } })
  end)
end)
