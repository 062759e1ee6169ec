-- Reinstall every server of one Workspace server group: find the group by
-- name, list its servers, reinstall them with one batch call, wait for all
-- the jobs and print a summary. Exit status 1 when a server failed.
--
--   lua5.4 examples/reinstall_group.lua [GROUP_NAME]     (default: web)
--
-- Runs against the bundled emulator by default (HWCLOUD_ENDPOINT, its
-- default key pair, any project id). Against Huawei Cloud: unset
-- HWCLOUD_ENDPOINT and set HUAWEICLOUD_SDK_AK, _SK, _PROJECT_ID, _REGION.

local hwcloud = require "hwcloud"

local env = os.getenv
local endpoint = env("HWCLOUD_ENDPOINT")
local client = assert(hwcloud.client {
  endpoint = endpoint,
  region = env("HUAWEICLOUD_SDK_REGION") or "cn-north-4",
  ak = endpoint and (env("HUAWEICLOUD_SDK_AK") or "HWCLOUDEMULATORAK001") or nil,
  sk = endpoint and (env("HUAWEICLOUD_SDK_SK") or "hwcloud-emulator-secret") or nil,
  project_id = env("HUAWEICLOUD_SDK_PROJECT_ID") or (endpoint and "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"),
})

local function fail(fmt, ...)
  io.stderr:write(string.format(fmt, ...), "\n")
  os.exit(1)
end

local name = arg[1] or "web"

-- 1. The group, by name: list_server_groups pages with offset/limit.
local group
for g, err in client:each("workspaceapp", "list_server_groups", { limit = 50 }) do
  if not g then fail("listing server groups: %s", tostring(err)) end
  if g.name == name then group = g break end
end
if not group then fail("no server group named %q", name) end

-- 2. Its servers (list_servers filters by group).
local ids = {}
for s, err in client:each("workspaceapp", "list_servers",
                          { server_group_id = group.id, limit = 50 }) do
  if not s then fail("listing the servers of %s: %s", group.id, tostring(err)) end
  ids[#ids + 1] = s.id
end
print(string.format("group %s (%s): %d servers", name, group.id, #ids))
if #ids == 0 then os.exit(0) end

-- 3. One batch call; each server that started gets a job.
local res, err = client.workspaceapp:batch_reinstall_server {
  server_ids = ids, update_access_agent = false,
}
if not res then fail("batch reinstall not started: %s", tostring(err)) end
local jobs, job_server, failed = {}, {}, {}
for _, item in ipairs(res.items or {}) do
  if item.job_id then
    jobs[#jobs + 1] = { service = "workspaceapp", job_id = item.job_id }
    job_server[#jobs] = item.server_id
  else
    failed[#failed + 1] = tostring(item.server_id) .. ": not started: "
      .. tostring(item.error_message)
  end
end

-- 4. Wait for all; results come back in the order of `jobs`.
local ok = 0
for i, r in ipairs(client:wait_all(jobs, { interval = 0.5, max_interval = 5, timeout = 1800,
                                           label = "reinstall " .. name })) do
  if r.err then
    failed[#failed + 1] = job_server[i] .. ": " .. tostring(r.err.message or r.err)
  else
    ok = ok + 1
  end
end

print(string.format("reinstalled %d/%d servers", ok, #ids))
for _, line in ipairs(failed) do print("  ! " .. line) end
client:close()
os.exit(#failed == 0 and 0 or 1)
