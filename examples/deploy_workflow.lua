-- A deployment workflow: upload the release package to OBS, find the
-- Workspace app servers by listing them, reinstall each server group with
-- one batch call and wait for the jobs, create a software config that
-- fetches the package (by a signed URL) and push a deployment of it to each
-- server that came back, find the ServiceStage add-on by listing and redeploy it, open
-- an ASM experience task, and switch on the CodeArts Build notices -- then
-- print a summary.
--
-- Runs against the bundled emulator by default (`make demo` starts one).
-- Against Huawei Cloud: unset HWCLOUD_ENDPOINT and set HUAWEICLOUD_SDK_AK,
-- HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID and HUAWEICLOUD_SDK_REGION,
-- plus the ids below (HWCLOUD_SERVERS, HWCLOUD_ENV_ID, HWCLOUD_BUCKET, ...).

local hwcloud = require "hwcloud"

local env = os.getenv
local function list(v, default)
  local out = {}
  for id in (v or default):gmatch("[^,%s]+") do out[#out + 1] = id end
  return out
end

local endpoint = env("HWCLOUD_ENDPOINT")
local client = assert(hwcloud.client {
  endpoint = endpoint,
  region = env("HUAWEICLOUD_SDK_REGION") or "cn-north-4",
  -- the emulator's default key pair and any project id, when aimed at it
  ak = endpoint and (env("HUAWEICLOUD_SDK_AK") or "HWCLOUDEMULATORAK001") or nil,
  sk = endpoint and (env("HUAWEICLOUD_SDK_SK") or "hwcloud-emulator-secret") or nil,
  project_id = env("HUAWEICLOUD_SDK_PROJECT_ID") or (endpoint and "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"),
  ca_file = env("HWCLOUD_CA_FILE"),
})

local function say(fmt, ...)
  io.stdout:write(string.format(fmt, ...), "\n")
  io.stdout:flush() -- progress goes to stderr: keep the two in order
end
local t0 = os.time()
local summary = {}

-- 0. The release package goes to OBS first; the deployments fetch it from
-- there. upload_package(key) -> a signed URL of it: made on the spot here
-- (a build would have produced it), uploaded in parts side by side and
-- resumable (a rerun after a crash sends only the parts OBS has not
-- acknowledged)
local function upload_package(key)
  local bucket = env("HWCLOUD_BUCKET") or "deploy-artifacts"
  local package = os.tmpname()
  local f = assert(io.open(package, "wb"))
  for i = 1, 10000 do f:write(string.format("release 2026.11 file %05d\n", i)) end
  f:close()
  local _, berr = client.obs:head_bucket { bucket = bucket }
  if berr and berr.code == "NoSuchBucket" then
    assert(client.obs:create_bucket { bucket = bucket })
  end
  local uploaded = assert(client.obs:upload_file {
    bucket = bucket, key = key, file = package, part_size = 100 * 1024, concurrency = 2,
    checkpoint = package .. ".checkpoint",
  })
  os.remove(package)
  local meta = assert(client.obs:get_object_metadata { bucket = bucket, key = key })
  say("0. uploaded the package to obs://%s/%s (%d bytes, %d parts)", bucket, key,
    meta.content_length, uploaded.parts)
  summary[#summary + 1] = string.format("package obs://%s/%s uploaded (%d bytes)", bucket, key,
    meta.content_length)
  return assert(client.obs:create_signed_url {
    method = "GET", bucket = bucket, key = key, expires = 3600,
  })
end
local package_url = upload_package("releases/2026.11/app.tar")

-- 0. Find the servers: every app server, a page at a time, by server group
-- (HWCLOUD_SERVERS names them instead).
local servers, group_servers, group_order = {}, {}, {}
local function add_server(id, group)
  servers[#servers + 1] = id
  if not group_servers[group] then
    group_servers[group] = {}
    group_order[#group_order + 1] = group
  end
  local g = group_servers[group]
  g[#g + 1] = id
end
if env("HWCLOUD_SERVERS") then
  for _, id in ipairs(list(env("HWCLOUD_SERVERS"))) do add_server(id, "given") end
else
  local offset = 0
  repeat
    local page = assert(client.workspaceapp:list_servers { offset = offset, limit = 2 })
    for _, s in ipairs(page.items or {}) do add_server(s.id, s.server_group_id or "none") end
    offset = offset + #(page.items or {})
  until #(page.items or {}) == 0 or offset >= (page.count or 0)
end

-- 1. Reinstall each server group at once; each server gets a job.
say("1. reinstalling %d app servers", #servers)
local jobs, job_server = {}, {}
for _, group in ipairs(group_order) do
  local res, rerr = client.workspaceapp:batch_reinstall_server {
    server_ids = group_servers[group], update_access_agent = true,
  }
  if not res then
    for _, id in ipairs(group_servers[group]) do
      say("   %s: not started: %s", id, tostring(rerr))
    end
  else
    for _, item in ipairs(res.items or {}) do
      if item.job_id then
        jobs[#jobs + 1] = { service = "workspaceapp", job_id = item.job_id }
        job_server[#jobs] = item.server_id
      else
        say("   %s: not started: %s", tostring(item.server_id), tostring(item.error_message))
      end
    end
  end
end

-- 2. Wait for every reinstall job; keep the servers that came back.
local finished = client:wait_all(jobs, { interval = 0.5, max_interval = 2, timeout = 300,
                                         label = "   reinstall jobs" })
local healthy, failed = {}, {}
for i, r in ipairs(finished) do
  if r.err then
    failed[#failed + 1] = job_server[i] .. " (" .. (r.err.message or r.err.kind) .. ")"
  else
    healthy[#healthy + 1] = job_server[i]
  end
end
summary[#summary + 1] = string.format("reinstalled %d/%d servers", #healthy, #servers)

-- 3. A software deployment per healthy server, then wait for them.
say("2. deploying the application config to %d servers", #healthy)
-- the software config the deployments run: given, or created here
local config_id = env("HWCLOUD_CONFIG_ID")
if not config_id then
  local made = assert(client.rts:create_software_config {
    name = "app-config-2026.11", group = "script",
    config = "#!/bin/sh\ncurl -fsSL \"$package_url\" -o /opt/app.tar && echo deploying release $release\n",
    inputs = { { name = "release", type = "String" }, { name = "package_url", type = "String" } },
  })
  config_id = made.software_config.id
  say("   created software config %s", config_id)
end
local calls = {}
for i, id in ipairs(healthy) do
  calls[i] = { "rts", "create_software_deployment", {
    config_id = config_id, server_id = id, action = "CREATE", status = "IN_PROGRESS",
    status_reason = "rolled out by deploy_workflow",
    input_values = { release = "2026.11", package_url = package_url },
  } }
end
local deployments = {}
for _, r in ipairs(client:parallel(calls, { label = "   deployments" })) do
  if r.result then deployments[#deployments + 1] = r.result end
end
local complete = 0
for _, r in ipairs(client:wait_all(deployments, { interval = 0.5, max_interval = 2,
                                                   label = "   deployments done" })) do
  if r.result then complete = complete + 1 end
end
summary[#summary + 1] = string.format("software deployments complete on %d/%d servers",
  complete, #healthy)

-- 4. Redeploy the add-on and follow its job.
say("3. redeploying the ServiceStage add-on")
-- the environment named "prod" and its add-on named "gateway", by listing
-- (HWCLOUD_ENV_ID and HWCLOUD_ADDON_ID name them instead)
local env_id, addon_id = env("HWCLOUD_ENV_ID"), env("HWCLOUD_ADDON_ID")
if not env_id then
  local envs = assert(client.servicestage:show_environments { name = "prod", limit = 10 })
  env_id = envs.environments and envs.environments[1] and envs.environments[1].id
end
if env_id and not addon_id then
  local addons = assert(client.servicestage:list_addons { environment_id = env_id })
  for _, a in ipairs(addons.addons or {}) do
    if a.name == "gateway" then addon_id = a.id end
  end
end
local addon_job, err
if env_id and addon_id then
  say("   add-on %s in environment %s", addon_id, env_id)
  addon_job, err = client.servicestage:deliver_addon_job {
    environment_id = env_id, addon_id = addon_id, action = "redeploy",
  }
else
  err = "no environment \"prod\" with an add-on \"gateway\""
end
if not addon_job then
  summary[#summary + 1] = "add-on redeploy not started: " .. tostring(err)
else
  local last
  local done, werr = client:wait(addon_job, { interval = 0.5, max_interval = 2, timeout = 300,
    on_progress = function(s)
      if s.status ~= last then
        last = s.status
        say("   job %s: %s (%.1f s)", s.id, tostring(s.status), s.elapsed)
      end
    end })
  summary[#summary + 1] = done and ("add-on redeployed (job " .. addon_job.job_id .. ")")
    or ("add-on redeploy failed: " .. tostring(werr))
end

-- 5. An ASM one-click experience task for the new release.
say("4. creating the ASM experience task")
-- the first mesh, by listing (HWCLOUD_MESH_ID names it instead)
local mesh_id = env("HWCLOUD_MESH_ID")
if not mesh_id then
  local meshes = assert(client.asm:list_meshes {})
  local first = meshes.items and meshes.items[1]
  mesh_id = first and first.metadata.uid
end
local ws, werr2 = client.asm:create_workshop {
  mesh_id = mesh_id,
  description = "release 2026.11 preview",
  metadata = { name = "preview-" .. os.date("!%Y%m%d%H%M%S") },
  spec = { primaryCluster = "cce-prod-01",
           ingress = { elbId = "elb-7c1d", elbIp = "192.0.2.10", port = 8443 } },
}
summary[#summary + 1] = ws and ("experience task " .. ws.metadata.name .. " created")
  or ("experience task failed: " .. tostring(werr2))

-- 6. Tell the team: build notices by mail for failures and successes.
say("5. updating the CodeArts Build notices")
local notice, nerr = client.codeartsbuild:update_notice {
  job_id = env("HWCLOUD_BUILD_JOB") or "48c66c6002964721be537cdc6ce0297b",
  notice_type = "MAIL",
  enabled_event_type_names = { "buildJobFail", "buildJobSuccess" },
}
summary[#summary + 1] = notice and ("build notices updated (" .. notice.status .. ")")
  or ("build notices failed: " .. tostring(nerr))

say("\nsummary (%d s):", os.time() - t0)
for _, line in ipairs(summary) do say("  - %s", line) end
for _, f in ipairs(failed) do say("  ! reinstall failed: %s", f) end
client:close()
