-- hwcloud.emulator.cloudjobs: the jobs of the services that answer
-- ShowJob at GET /v1/{project_id}/jobs/{job_id} with {job_id, job_type,
-- status INIT | RUNNING | SUCCESS | FAIL, begin_time, end_time, entities,
-- error_code, fail_reason} (EVS and IMS; ECS keeps its own, with a
-- sub-job per server). A job is INIT for the first third of
-- --job-seconds, RUNNING, then ends; it is settled (its outcome fixed and
-- its resources moved to their end state) the first time it is seen done:
-- FAIL when its id or one of its resources' ids is on the fail list then.

local util = require "hwcloud.emulator.util"
local jobs = require "hwcloud.emulator.jobs"
local state = require "hwcloud.emulator.state"

local ipairs, pairs = ipairs, pairs

local _M = {}

local PHASE = { waiting = "INIT", running = "RUNNING" }

-- The project's jobs of one service (`key`: "evs_jobs", ...).
function _M.of(store, key)
  local all = store[key]
  if not all then all = {} store[key] = all end
  return all
end

-- A new job over the resources `ids`: { job_type =, action =, ... };
-- returns its id.
function _M.new(store, key, job, ids, now)
  local all = _M.of(store, key)
  local id
  repeat id = "ff80808" .. util.random_hex(13) until not all[id]
  job.id, job.ids, job.created = id, ids, now
  all[id] = job
  return id
end

-- Fixes the job's outcome the first time it is seen done and calls
-- apply(job, id, failed) for each of its resources then.
function _M.settle(job, now, apply)
  if job.settled or jobs.phase(job.created, now) ~= "done" then return end
  job.settled = true
  job.failed_ids = {}
  -- job.also: one more id whose listing fails the whole job (a source)
  local any = state.should_fail(job.id, job.also)
  for _, rid in ipairs(job.ids) do
    local failed = any or state.should_fail(rid)
    if failed then job.failed_ids[rid] = true end
    apply(job, rid, failed and true or false)
  end
end

-- Settles every job of `key` that may have ended.
function _M.settle_all(store, key, now, apply)
  for _, job in pairs(_M.of(store, key)) do _M.settle(job, now, apply) end
end

-- True while the job has not ended.
function _M.running(job, now)
  return jobs.phase(job.created, now) ~= "done"
end

-- The ShowJob answer of `job`, its entities `entities`; `why(rid)` says
-- why the resource's part failed.
function _M.answer(job, now, entities, why)
  local phase = jobs.phase(job.created, now)
  local begin_time = util.iso8601(job.created)
  local out = { job_id = job.id, job_type = job.job_type, status = PHASE[phase],
                begin_time = begin_time, entities = entities }
  if phase == "done" then
    out.end_time = util.iso8601(job.created + state.config.job_seconds)
    out.status = "SUCCESS"
    for _, rid in ipairs(job.ids) do
      if job.failed_ids and job.failed_ids[rid] then
        out.status, out.error_code, out.fail_reason = "FAIL", job.error_code, why(rid)
        break
      end
    end
  end
  return out
end

return _M
