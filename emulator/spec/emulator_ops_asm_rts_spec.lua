-- The emulator's ASM and RTS state, through the client: the inventory's
-- mesh (list, show), workshops only in known meshes, software deployments
-- tied to the project's configs and servers (create, list by server, show,
-- update, delete), their end over --job-seconds, failures and 404s.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"

local PID = "8a8b8c8d8e8f90919293949596979899"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

-- each test starts from the default inventory
before_each(function() session.restore() end)

local WORKSHOP = { metadata = { name = "bookinfo" },
                   spec = { primaryCluster = "cce-prod-01", ingress = {
                     elbId = "elb-1", elbIp = "192.0.2.10", port = 80 } } }

describe("emulator ASM #server", function()
  it("lists and shows the inventory's mesh, 404s an unknown one in ASM's shape", function()
    local list = assert(client.asm:list_meshes {})
    assert.are.equal(1, #list.items)
    local m = list.items[1]
    assert.are.equal("mesh-prod-01", m.metadata.uid)
    assert.are.equal("prod-mesh", m.metadata.name)
    assert.are.equal("InCluster", m.spec.type)
    assert.are.equal("cce-prod-01", m.spec.extendParams.clusters[1].clusterID)
    local shown = assert(client.asm:show_mesh { mesh_id = "mesh-prod-01" })
    assert.are.equal("Running", shown.status.phase)
    local res, err = client.asm:show_mesh { mesh_id = "mesh-gone" }
    assert.is_nil(res)
    assert.are.equal(404, err.status)
    assert.are.equal("ASM.01010002", err.code)
  end)

  it("keeps workshops in the known mesh only, refusing a name twice", function()
    local ws = { mesh_id = "mesh-prod-01" }
    for k, v in pairs(WORKSHOP) do ws[k] = v end
    assert(client.asm:create_workshop(ws))
    local res, err = client.asm:create_workshop(ws)
    assert.is_nil(res)
    assert.are.equal(409, err.status)
    local list = assert(client.asm:list_workshops { mesh_id = "mesh-prod-01" })
    assert.are.equal(1, #list)
    assert.are.equal("bookinfo", list[1].workshop.metadata.name)
    ws.mesh_id = "mesh-gone"
    res, err = client.asm:create_workshop(ws)
    assert.is_nil(res)
    assert.are.equal(404, err.status)
    res, err = client.asm:list_workshops { mesh_id = "mesh-gone" }
    assert.is_nil(res)
    assert.are.equal(404, err.status)
  end)
end)

describe("emulator RTS software deployments #server", function()
  local function config(name)
    return assert(client.rts:create_software_config { name = name, group = "script",
                                                      config = "echo " .. name })
      .software_config.id
  end

  it("takes a config of megabytes as it was written", function()
    -- over 1 MB: escaped, signed and sent whole; the emulator checks the
    -- signature and keeps it
    local script = string.rep('\techo "déploiement ${NODE}" >> /var/log/d.log\n', 40000)
    for round = 1, 2 do -- twice: the builder's buffer from the first is not kept
      local made = assert(client.rts:create_software_config { name = "big-" .. round,
        group = "script", config = script .. round })
      local shown = assert(client.rts:show_software_config { config_id = made.software_config.id })
      assert.are.equal(script .. round, shown.software_config.config)
    end
  end)

  it("creates deployments of a config, lists them by server, follows one to COMPLETE", function()
    local cfg = config("install")
    local started = assert(client.rts:create_software_deployment {
      config_id = cfg, server_id = "srv-web-01", action = "CREATE" })
    local a = started.software_deployment
    assert(client.rts:create_software_deployment {
      config_id = cfg, server_id = "srv-web-02", action = "CREATE" })
    assert.are.equal("IN_PROGRESS", a.status)
    assert.are.equal(2, #assert(client.rts:list_software_deployments {}).software_deployments)
    local mine = assert(client.rts:list_software_deployments { server_id = "srv-web-01" })
    assert.are.equal(1, #mine.software_deployments)
    assert.are.equal(a.id, mine.software_deployments[1].id)
    local final, err = client:wait(started, FAST)
    assert.is_nil(err)
    assert.are.equal("COMPLETE", final.software_deployment.status)
  end)

  it("ends a deployment FAILED for a server on the fail list", function()
    emu:fail { "srv-api-02" }
    local started = assert(client.rts:create_software_deployment {
      config_id = config("bad"), server_id = "srv-api-02" })
    local final, err = client:wait(started, FAST)
    assert.is_nil(final)
    assert.are.equal("job_failed", err.kind)
  end)

  it("updates and deletes a deployment; unknown deployments and configs are 404", function()
    local cfg = config("update")
    local d = assert(client.rts:create_software_deployment {
      config_id = cfg, server_id = "srv-web-01", status = "COMPLETE" }).software_deployment
    local other = config("other")
    local up = assert(client.rts:update_software_deployment {
      deployment_id = d.id, config_id = other, status = "COMPLETE",
      status_reason = "moved" }).software_deployment
    assert.are.equal(other, up.config_id)
    local res, err = client.rts:update_software_deployment {
      deployment_id = d.id, config_id = "cfg-gone" }
    assert.is_nil(res)
    assert.are.equal(404, err.status)
    assert.is_truthy(err.message:find("cfg-gone", 1, true))
    res, err = client.rts:create_software_deployment { config_id = "cfg-gone",
                                                       server_id = "srv-web-01" }
    assert.is_nil(res)
    assert.are.equal(404, err.status)
    res, err = client.rts:create_software_deployment { config_id = cfg, server_id = "srv-gone" }
    assert.is_nil(res)
    assert.are.equal(404, err.status)
    assert.is_truthy(err.message:find("srv-gone", 1, true))
    assert(client.rts:delete_software_deployment { deployment_id = d.id })
    for _, op in ipairs { "show_software_deployment", "delete_software_deployment" } do
      res, err = client.rts[op](client.rts, { deployment_id = d.id })
      assert.is_nil(res, op)
      assert.are.equal(404, err.status, op)
      assert.is_truthy(err.message:find(d.id, 1, true), op)
    end
    assert.are.equal(0, #assert(client.rts:list_software_deployments {}).software_deployments)
  end)

  it("takes a deployment of any config id when the inventory is not strict", function()
    local lax = session.inventory()
    lax.strict = false
    assert(emu:inventory(lax))
    local d = assert(client.rts:create_software_deployment {
      config_id = "cfg-anything", server_id = "anywhere" })
    assert.is_string(d.software_deployment.id)
  end)
end)
