-- hwcloud.emulator.jobs: the life of an emulated asynchronous job. A job is
-- waiting for the first third of --job-seconds, then running, then ends; its
-- phase is computed from its creation time whenever it is read.

local state = require "hwcloud.emulator.state"

local _M = {}

-- "waiting", "running" or "done" for a job created at `created` (seconds).
function _M.phase(created, now)
  local total = state.config.job_seconds
  local elapsed = now - created
  if elapsed >= total then return "done" end
  if elapsed < total / 3 then return "waiting" end
  return "running"
end

-- Settles the outcome of a job the first time it is seen done: FAILED when
-- any of its ids is on the fail list at that moment. Returns true if failed.
function _M.settle(job, a, b, c, d)
  if job.failed == nil then
    job.failed = state.should_fail(a, b, c, d) and true or false
  end
  return job.failed
end

return _M
