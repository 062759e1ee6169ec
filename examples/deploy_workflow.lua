-- A deployment workflow: reinstall a handful of Workspace app servers, wait
-- for their jobs, push a software deployment to each server that came back,
-- redeploy a ServiceStage add-on and wait for it, open an ASM experience
-- task, and switch on the CodeArts Build notices -- then print a summary.
--
-- Runs against the bundled emulator by default (`make demo` starts one).
-- Against Huawei Cloud: unset HWCLOUD_ENDPOINT and set HUAWEICLOUD_SDK_AK,
-- HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID and HUAWEICLOUD_SDK_REGION,
-- plus the ids below (HWCLOUD_SERVERS, HWCLOUD_ENV_ID, ...).

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

local servers = list(env("HWCLOUD_SERVERS"),
  "srv-web-01,srv-web-02,srv-web-03,srv-api-01,srv-api-02")
local function say(fmt, ...)
  io.stdout:write(string.format(fmt, ...), "\n")
  io.stdout:flush() -- progress goes to stderr: keep the two in order
end
local t0 = os.time()
local summary = {}

-- 1. Reinstall every server at once; each answer is a job.
say("1. reinstalling %d app servers", #servers)
local calls = {}
for i, id in ipairs(servers) do
  calls[i] = { "workspaceapp", "reinstall_server", { server_id = id, update_access_agent = true } }
end
local started = client:parallel(calls, { concurrency = 8, label = "   reinstall" })

local jobs, job_server = {}, {}
for i, r in ipairs(started) do
  if r.err then
    say("   %s: not started: %s", servers[i], tostring(r.err))
  else
    jobs[#jobs + 1] = r.result
    job_server[#jobs] = servers[i]
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
local config_id = env("HWCLOUD_CONFIG_ID") or "8da95794-2ad9-4979-8ae5-739ce314c5cd"
calls = {}
for i, id in ipairs(healthy) do
  calls[i] = { "rts", "create_software_deployment", {
    config_id = config_id, server_id = id, action = "CREATE", status = "IN_PROGRESS",
    status_reason = "rolled out by deploy_workflow", input_values = { release = "2026.11" },
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
local addon_job, err = client.servicestage:deliver_addon_job {
  environment_id = env("HWCLOUD_ENV_ID") or "env-prod-01",
  addon_id = env("HWCLOUD_ADDON_ID") or "addon-gateway",
  action = "redeploy",
}
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
local ws, werr2 = client.asm:create_workshop {
  mesh_id = env("HWCLOUD_MESH_ID") or "mesh-3f2a",
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
