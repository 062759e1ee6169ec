-- The emulator's Workspace App state, through the client: start, stop and
-- reboot in batches (one job, a sub-job per server), the servers' vm_status
-- following their jobs, injected failures, 404s for unknown servers and
-- groups, the type enum, offset/limit pages.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"

local PID = "5a5b5c5d5e5f60616263646566676869"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

-- each test starts from the default inventory
before_each(function() session.restore() end)

local function ids(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v.job_resource_info and v.job_resource_info.resource_id or v.id end
  return out
end

-- what client:wait follows: the batch operations' results are not marked
-- as jobs by the descriptions
local function job_of(res)
  return { service = "workspaceapp", job_id = res.job_id }
end

local function vm_status(server)
  return assert(client.workspaceapp:show_server { server_id = server }).vm_status
end

describe("emulator Workspace App #server", function()
  it("stops a batch of servers: one job, a sub-job each, vm_status SHUTOFF after", function()
    local res = assert(client.workspaceapp:batch_stop_server {
      items = { "srv-web-01", "srv-web-02" }, type = "SOFT" })
    assert.is_string(res.job_id)
    local job = assert(client.workspaceapp:show_job_detail { job_id = res.job_id })
    assert.are.equal("STOP_SERVER", job.job_type)
    assert.are.equal(2, job.sub_jobs_total)
    assert.are.same({ "srv-web-01", "srv-web-02" }, ids(job.sub_jobs))
    assert.are.equal("ACTIVE", vm_status("srv-web-01"))
    local final, err = client:wait(job_of(res), FAST)
    assert.is_nil(err)
    assert.are.equal("SUCCESS", final.status)
    assert.are.equal("SUCCESS", final.sub_jobs[2].status)
    assert.are.equal("SHUTOFF", vm_status("srv-web-01"))
    assert.are.equal("SHUTOFF", vm_status("srv-web-02"))
    assert.are.equal("ACTIVE", vm_status("srv-web-03"))
  end)

  it("answers the v1 show_job for the same job: numbers for its status, a sub-job each", function()
    emu:fail { "srv-web-02" }
    local res = assert(client.workspaceapp:batch_stop_server {
      items = { "srv-web-01", "srv-web-02" }, type = "SOFT" })
    local early = assert(client.workspaceapp:show_job { job_id = res.job_id }).job
    assert.are.equal(res.job_id, early.job_id)
    assert.are.equal(1, early.job_type)
    assert.is_true(early.job_status == 2 or early.job_status == 3, tostring(early.job_status))
    assert.are.equal(2, #early.sub_jobs)
    client:wait(job_of(res), FAST)
    local done = assert(client.workspaceapp:show_job { job_id = res.job_id }).job
    assert.are.equal(0, done.job_status) -- one server failed
    assert.are.equal("WKS.00010500", done.execute_code)
    local by_status = {}
    for _, sub in ipairs(done.sub_jobs) do by_status[sub.job_status] = sub end
    assert.is_truthy(by_status[1], "a sub-job that succeeded")
    assert.are.equal("WKS.00010500", by_status[0].execute_code)
    assert.matches("srv-web-02", by_status[0].execute_message, 1, true)
    local _, err = client.workspaceapp:show_job { job_id = "999999999999999999" }
    assert.are.equal(404, err.status)
  end)

  it("starts stopped servers again and reboots them, REBOOT while the job runs", function()
    assert(client:wait(job_of(assert(client.workspaceapp:batch_stop_server {
      items = { "srv-api-01" }, type = "HARD" })), FAST))
    assert.are.equal("SHUTOFF", vm_status("srv-api-01"))
    local started = assert(client.workspaceapp:batch_start_server { items = { "srv-api-01" } })
    assert.are.equal("START_SERVER",
      assert(client.workspaceapp:show_job_detail { job_id = started.job_id }).job_type)
    assert(client:wait(job_of(started), FAST))
    assert.are.equal("ACTIVE", vm_status("srv-api-01"))
    local rebooted = assert(client.workspaceapp:batch_reboot_server {
      items = { "srv-api-01" }, type = "SOFT" })
    local during = assert(client.workspaceapp:show_server { server_id = "srv-api-01" })
    assert.are.equal("REBOOT", during.vm_status)
    assert.are.equal("rebooting", during.task_status)
    assert(client:wait(job_of(rebooted), FAST))
    assert.are.equal("ACTIVE", vm_status("srv-api-01"))
  end)

  it("fails the sub-job of a server on the fail list and leaves that server as it was", function()
    emu:fail { "srv-web-03" }
    local res = assert(client.workspaceapp:batch_stop_server {
      items = { "srv-web-02", "srv-web-03" }, type = "SOFT" })
    local final, err = client:wait(job_of(res), FAST)
    assert.is_nil(final)
    assert.are.equal("job_failed", err.kind)
    local job = err.job
    assert.are.equal("FAILED", job.status)
    assert.are.equal("SUCCESS", job.sub_jobs[1].status)
    assert.are.equal("FAILED", job.sub_jobs[2].status)
    assert.are.equal("Stopping server srv-web-03 failed (injected failure)",
                     job.sub_jobs[2].error_message)
    assert.are.equal("SHUTOFF", vm_status("srv-web-02"))
    assert.are.equal("ACTIVE", vm_status("srv-web-03"))
  end)

  it("answers 404 in Workspace's shape for unknown servers, jobs and groups", function()
    local cases = {
      { "batch_start_server", { items = { "srv-web-01", "srv-gone" } }, "srv-gone" },
      { "batch_stop_server", { items = { "srv-gone" }, type = "SOFT" }, "srv-gone" },
      { "batch_reboot_server", { items = { "srv-gone" }, type = "HARD" }, "srv-gone" },
      { "reinstall_server", { server_id = "srv-gone" }, "srv-gone" },
      { "batch_reinstall_server", { server_ids = { "srv-gone" } }, "srv-gone" },
      { "show_job_detail", { job_id = "123456789012345678" }, "123456789012345678" },
      { "show_server_group", { server_group_id = "group-gone" }, "group-gone" },
    }
    for _, c in ipairs(cases) do
      local res, err = client.workspaceapp[c[1]](client.workspaceapp, c[2])
      assert.is_nil(res, c[1])
      assert.are.equal(404, err.status, c[1])
      assert.are.equal("WKS.00010404", err.code, c[1])
      assert.is_truthy(err.message:find(c[3], 1, true), c[1])
    end
    -- nothing was started for the known server of the first batch
    assert.are.equal("ACTIVE", vm_status("srv-web-01"))
    assert.is_nil(assert(client.workspaceapp:show_server { server_id = "srv-web-01" }).task_status)
  end)

  it("takes reinstall_server on any server id when the inventory is not strict", function()
    local lax = session.inventory()
    lax.strict = false
    assert(emu:inventory(lax))
    local res = assert(client.workspaceapp:reinstall_server { server_id = "made-up" })
    assert.is_string(res.job_id)
  end)

  it("enforces the type enum and an item list, in Workspace's 400 shape", function()
    local res, err = client.workspaceapp:batch_reboot_server {
      items = { "srv-web-01" }, type = "GENTLE" }
    assert.is_nil(res)
    -- the client checks the enum before sending; the emulator does too
    assert.is_truthy(err.message:find("SOFT", 1, true))
    local raw = emu:raw(PID, "PATCH", "/v1/" .. PID .. "/app-servers/actions/batch-reboot",
                             { items = { "srv-web-01" }, type = "GENTLE" })
    assert.are.equal(400, raw.status)
    assert.are.equal("WKS.00010001", raw.json.error_code)
    assert.is_truthy(raw.json.error_msg:find("type", 1, true))
    assert.is_truthy(raw.json.error_msg:find("SOFT, HARD", 1, true))
    res, err = client.workspaceapp:batch_start_server { items = {} }
    assert.is_nil(res)
    assert.are.equal(400, err.status)
    assert.are.equal("WKS.00010001", err.code)
    assert.is_truthy(err.message:find("items", 1, true))
  end)

  it("lists and counts sub-jobs by job, type and status, with offset/limit", function()
    local stop = assert(client.workspaceapp:batch_stop_server {
      items = { "srv-web-01", "srv-web-02", "srv-web-03" }, type = "SOFT" })
    assert(client.workspaceapp:batch_start_server { items = { "srv-api-01" } })
    local page = assert(client.workspaceapp:list_sub_jobs {
      job_type = "STOP_SERVER", offset = 1, limit = 1 })
    assert.are.equal(3, page.count)
    assert.are.same({ "srv-web-02" }, ids(page.items))
    assert.are.equal(stop.job_id, page.items[1].job_id)
    page = assert(client.workspaceapp:list_sub_jobs { job_type = "START_SERVER" })
    assert.are.same({ "srv-api-01" }, ids(page.items))
    assert(client:wait(job_of(stop), FAST))
    assert.are.equal(3, assert(client.workspaceapp:count_sub_jobs {
      job_id = stop.job_id, status = "SUCCESS" }).count)
    assert.are.equal(0, assert(client.workspaceapp:count_sub_jobs {
      job_id = stop.job_id, status = "RUNNING" }).count)
  end)

  it("pages servers and server groups with offset/limit and their count", function()
    local page = assert(client.workspaceapp:list_servers { offset = 2, limit = 2 })
    assert.are.equal(5, page.count)
    assert.are.same({ "srv-web-03", "srv-api-01" }, ids(page.items))
    page = assert(client.workspaceapp:list_servers { offset = 4, limit = 10 })
    assert.are.same({ "srv-api-02" }, ids(page.items))
    page = assert(client.workspaceapp:list_servers { offset = 9 })
    assert.are.same({}, ids(page.items))
    page = assert(client.workspaceapp:list_server_groups { offset = 1, limit = 1 })
    assert.are.equal(2, page.count)
    assert.are.same({ "group-api" }, ids(page.items))
    local g = assert(client.workspaceapp:show_server_group { server_group_id = "group-web" })
    assert.are.equal(3, g.app_server_count)
  end)
end)
