-- Run a CodeArts Build job and wait for it: find the job by name, start a
-- build (run_job), poll show_job_status until the build stops running, then
-- read the build's outcome from the job list. Exit status 1 when the job is
-- not found, the build fails or it is still running at the deadline.
--
--   lua5.4 examples/build_and_wait.lua [JOB_NAME]     (default: build-web)
--
-- show_job_status only says whether a build is running (`result`), not how
-- it ended, so there is no job kind for client:wait here: a small poll loop
-- with a deadline (HWCLOUD_BUILD_TIMEOUT seconds, default 600), then
-- `last_build_status` from the list.
--
-- Runs against the bundled emulator by default (HWCLOUD_ENDPOINT). Against
-- Huawei Cloud: unset HWCLOUD_ENDPOINT, set HUAWEICLOUD_SDK_AK, _SK,
-- _PROJECT_ID, _REGION, and HWCLOUD_BUILD_PROJECT to the CodeArts project
-- id the jobs belong to.

local hwcloud = require "hwcloud"

local env = os.getenv
local endpoint = env("HWCLOUD_ENDPOINT")
local project_id = env("HUAWEICLOUD_SDK_PROJECT_ID") or (endpoint and "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f")
local client = assert(hwcloud.client {
  endpoint = endpoint,
  region = env("HUAWEICLOUD_SDK_REGION") or "cn-north-4",
  ak = endpoint and (env("HUAWEICLOUD_SDK_AK") or "HWCLOUDEMULATORAK001") or nil,
  sk = endpoint and (env("HUAWEICLOUD_SDK_SK") or "hwcloud-emulator-secret") or nil,
  project_id = project_id,
})

local function fail(fmt, ...)
  io.stderr:write(string.format(fmt, ...), "\n")
  os.exit(1)
end

local name = arg[1] or "build-web"
local build_project = env("HWCLOUD_BUILD_PROJECT") or project_id
local timeout = tonumber(env("HWCLOUD_BUILD_TIMEOUT")) or 600

-- The job by name; this list pages by page_index (from 1) and page_size.
local function find_job()
  for j, err in client:each("codeartsbuild", "show_job_list_by_project_id",
                            { project_id = build_project, page_index = 1, page_size = 50 }) do
    if not j then return nil, err end
    if j.job_name == name then return j end
  end
  return nil, "no build job named \"" .. name .. "\""
end

local job, err = find_job()
if not job then fail("%s", tostring(err)) end

local run
run, err = client.codeartsbuild:run_job { job_id = job.id }
if not run then fail("build of %s not started: %s", name, tostring(err)) end
print(string.format("build %s #%s started", name, tostring(run.actual_build_number)))

-- Poll until the build stops running, backing off up to 10 s a poll; the
-- deadline counts the time spent waiting between polls.
local waited, delay = 0, 0.5
while true do
  local st, serr = client.codeartsbuild:show_job_status { job_id = job.id }
  if not st then fail("status of %s: %s", name, tostring(serr)) end
  if st.result == false then break end
  if waited >= timeout then
    fail("build %s #%s still running after %s s", name, tostring(run.actual_build_number),
         tostring(timeout))
  end
  local d = math.min(delay, timeout - waited)
  os.execute(string.format("sleep %.3f", d)) -- a plain script: nothing else to run meanwhile
  waited, delay = waited + d, math.min(delay * 2, 10)
end

job, err = find_job()
if not job then fail("%s", tostring(err)) end
local outcome = tostring(job.last_build_status)
print(string.format("build %s #%s finished: %s", name, tostring(run.actual_build_number), outcome))
client:close()
os.exit(outcome == "success" and 0 or 1)
