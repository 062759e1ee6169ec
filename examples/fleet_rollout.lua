-- A fleet rollout: reinstall N Workspace app servers at once, wait for every
-- reinstall job, push the application's software deployment to the servers
-- that came back, wait for those, and report the servers that failed and
-- why. A rollout with some failed servers still ran: the exit status is 0
-- unless the rollout itself could not run (no client, or nothing answered).
--
-- Against the bundled emulator (bin/hwcloud-emulator --port 8080):
--   HWCLOUD_ENDPOINT=http://127.0.0.1:8080 lua5.4 examples/fleet_rollout.lua
-- Against Huawei Cloud: unset HWCLOUD_ENDPOINT and set HUAWEICLOUD_SDK_AK,
-- HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID and HUAWEICLOUD_SDK_REGION.
--
-- The fleet is every app server list_servers returns, at most
-- HWCLOUD_FLEET_SIZE of them (default 20), or the servers HWCLOUD_SERVERS
-- names (comma separated). The release is deployed with the software config
-- HWCLOUD_CONFIG_ID, or with one made for it. HWCLOUD_CONCURRENCY (default
-- 16) sets how many requests are in flight at once.

local hwcloud = require "hwcloud"

local env = os.getenv
local format = string.format

local endpoint = env("HWCLOUD_ENDPOINT")
local client, cerr = hwcloud.client {
  endpoint = endpoint,
  region = env("HUAWEICLOUD_SDK_REGION") or "cn-north-4",
  -- the emulator's default key pair and any project id, when aimed at it
  ak = endpoint and (env("HUAWEICLOUD_SDK_AK") or "HWCLOUDEMULATORAK001") or nil,
  sk = endpoint and (env("HUAWEICLOUD_SDK_SK") or "hwcloud-emulator-secret") or nil,
  project_id = env("HUAWEICLOUD_SDK_PROJECT_ID") or (endpoint and "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"),
  ca_file = env("HWCLOUD_CA_FILE"),
}
if not client then
  io.stderr:write("fleet rollout: ", tostring(cerr), "\n")
  os.exit(2)
end

local function say(fmt, ...)
  io.stdout:write(format(fmt, ...), "\n")
  io.stdout:flush() -- progress goes to stderr: keep the two in order
end

-- The fleet: the named servers, or the first HWCLOUD_FLEET_SIZE the
-- account has.
local function fleet()
  local servers = {}
  local named = env("HWCLOUD_SERVERS")
  if named then
    for id in named:gmatch("[^,%s]+") do servers[#servers + 1] = id end
    return servers
  end
  local n = math.tointeger(tonumber(env("HWCLOUD_FLEET_SIZE") or "20")) or 20
  for server, err in client:each("workspaceapp", "list_servers", { limit = 100 }) do
    if not server then
      io.stderr:write("fleet rollout: cannot list the servers: ", tostring(err), "\n")
      os.exit(1)
    end
    if #servers >= n then break end
    servers[#servers + 1] = server.id
  end
  return servers
end
local servers = fleet()
local concurrency = math.tointeger(tonumber(env("HWCLOUD_CONCURRENCY") or "16")) or 16
local release = env("HWCLOUD_RELEASE") or "2026.11"
local config_id = env("HWCLOUD_CONFIG_ID")
local waiting = { interval = 0.5, max_interval = 5, timeout = 1800, concurrency = concurrency }

local t0 = os.time()
local failures = {}  -- server -> "step: reason"
local function failed(server, step, err)
  failures[#failures + 1] = { server = server, step = step,
                              reason = err.message or tostring(err) }
end

-- Runs one step: for each server in `list`, start(server) gives a call; the
-- calls run at once, and servers whose call failed are reported.
-- Returns the servers that started and their results, in order.
local function fan_out(step, list, start, label)
  local calls = {}
  for i, server in ipairs(list) do calls[i] = start(server) end
  local results = client:parallel(calls, { concurrency = concurrency, label = label })
  local ok, out = {}, {}
  for i, r in ipairs(results) do
    if r.err then failed(list[i], step, r.err) else
      ok[#ok + 1] = list[i]
      out[#out + 1] = r.result
    end
  end
  return ok, out
end

-- Waits for the jobs of `list` (same order); returns the servers whose job
-- ended well.
local function wait_for(step, list, jobs, label)
  local opts = {}
  for k, v in pairs(waiting) do opts[k] = v end
  opts.label = label
  local done = {}
  for i, r in ipairs(client:wait_all(jobs, opts)) do
    if r.err then failed(list[i], step, r.err) else done[#done + 1] = list[i] end
  end
  return done
end

-- 1. Reinstall the whole fleet at once; each answer is a job.
say("fleet rollout of release %s to %d servers", release, #servers)
say("1. reinstalling %d servers (%d at a time)", #servers, concurrency)
local started, reinstall_jobs = fan_out("reinstall not started", servers, function(id)
  return { "workspaceapp", "reinstall_server", { server_id = id, update_access_agent = true } }
end, "   reinstall requests")

-- 2. Wait for every reinstall job.
say("2. waiting for %d reinstall jobs", #started)
local reinstalled = wait_for("reinstall", started, reinstall_jobs, "   reinstall jobs")

-- 3. Deploy the release to every server that came back, and wait for it.
say("3. deploying release %s to %d servers", release, #reinstalled)
-- the release's software config, made once for every server
local function release_config()
  local made, merr = client.rts:create_software_config {
    name = "release-" .. release, group = "script",
    config = "#!/bin/sh\necho deploying release $release\n",
    inputs = { { name = "release", type = "String" } },
  }
  if not made then
    io.stderr:write("fleet rollout: cannot make the software config: ", tostring(merr), "\n")
    os.exit(1)
  end
  return made.software_config.id
end
if not config_id and #reinstalled > 0 then config_id = release_config() end
local deploying, deployments = fan_out("deployment not started", reinstalled, function(id)
  return { "rts", "create_software_deployment", {
    config_id = config_id, server_id = id, action = "CREATE", status = "IN_PROGRESS",
    status_reason = "fleet rollout", input_values = { release = release },
  } }
end, "   deployment requests")
local deployed = wait_for("deployment", deploying, deployments, "   deployments")

-- 4. The report.
say("")
say("rollout report (%d s)", os.time() - t0)
say("  servers:     %d", #servers)
say("  reinstalled: %d/%d", #reinstalled, #servers)
say("  deployed:    %d/%d", #deployed, #servers)
say("  failed:      %d", #failures)
table.sort(failures, function(a, b) return a.server < b.server end)
for _, f in ipairs(failures) do
  say("  ! %s: %s: %s", f.server, f.step, f.reason)
end
if #failures == 0 then say("  every server runs release %s", release) end
client:close()

-- Nothing answered at all: the rollout did not run (wrong endpoint, no
-- credentials); say so with a failing status.
if #servers > 0 and #started == 0 then os.exit(1) end
