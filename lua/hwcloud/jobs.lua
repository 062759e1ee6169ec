-- hwcloud.jobs: what "done" means for each kind of asynchronous work, and
-- the polling loop that waits for it. A service that has jobs says so in its
-- description (`jobs`: the operation that polls, the id field, where the
-- status is, the terminal states, where a failure's reason is); the reasons
-- are read by the named strategies below.

local type, pairs, ipairs, tostring, getmetatable, setmetatable, random, huge =
  type, pairs, ipairs, tostring, getmetatable, setmetatable, math.random, math.huge
local errors = require "hwcloud.errors"
local services = require "hwcloud.services"
local retry = require "hwcloud.retry"
local options = require "hwcloud.options"

local _M = {}

-- Field lookup that ignores case: ServiceStage documents upper-case job
-- fields while deployed services have answered in lower case.
local function ci(t, name)
  if type(t) ~= "table" then return nil end
  local v = t[name]
  if v ~= nil then return v end
  local lname = name:lower()
  for k, val in pairs(t) do
    if type(k) == "string" and k:lower() == lname then return val end
  end
  return nil
end
_M.ci = ci

-- A non-empty string, or nil: JSON null decodes to a truthy sentinel, so a
-- field is only a reason when it really holds text.
local function str(v)
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

local function set(list)
  local s = {}
  for _, v in pairs(list) do s[v] = true end
  return s
end

-- t at a list of keys (or a dotted string), case-insensitively
local function dig(t, path)
  if type(path) == "string" then
    local list = {}
    for k in path:gmatch("[^.]+") do list[#list + 1] = k end
    path = list
  end
  for _, k in ipairs(path) do t = ci(t, k) end
  return t
end

-- Where a failed job says why.
local REASONS = {
  -- ServiceStage: the first failed task
  tasks = function(r)
    local tasks = ci(r, "tasks")
    if type(tasks) ~= "table" then return nil end
    for i = 1, #tasks do
      local st = ci(tasks[i], "task_status")
      if st == "FAILED" then
        local m = str(ci(tasks[i], "messages"))
        return (str(ci(tasks[i], "task_name")) or ("task " .. i)) .. " failed"
          .. (m and (": " .. m) or "")
      end
    end
    return nil
  end,
  -- Workspace: the first sub-job that did not succeed and says why
  sub_jobs = function(r)
    local subs = r.sub_jobs
    if type(subs) ~= "table" then return nil end
    for i = 1, #subs do
      local s = subs[i]
      if type(s) == "table" and s.status ~= "SUCCESS" and str(s.error_message) then
        return (str(s.error_code) or tostring(s.status)) .. ": " .. s.error_message
      end
    end
    return nil
  end,
  -- RTS: the deployment's status_reason
  status_reason = function(r)
    local d = r.software_deployment
    return type(d) == "table" and str(d.status_reason) or nil
  end,
}

-- the job kinds, built from the descriptions on first use
local KINDS = setmetatable({}, { __index = function(kinds, name)
  if not services.known(name) then return nil end
  local svc = services.load(name)
  local j = svc.jobs
  if not j then return nil end
  local id_keys = j.id_keys or { j.id_field }
  local k = {
    show = j.poll, id_key = j.id_field,
    id = function(r)
      for _, key in ipairs(id_keys) do
        local v = dig(r, key)
        if v ~= nil then return v end
      end
      return nil
    end,
    status = function(r) return dig(r, j.status) end,
    success = set(j.success),
    failure = set(j.failure),
    reason = REASONS[j.reason] or function() return nil end,
  }
  kinds[name] = k
  return k
end })
_M.KINDS = KINDS

-- the services whose descriptions have jobs, for messages (the catalog
-- says which: no service is loaded)
local function job_services()
  local list = {}
  for _, n in ipairs(services.names()) do
    if services.entry(n).jobs then list[#list + 1] = n end
  end
  return table.concat(list, ", ")
end

-- Results of job-starting operations carry their kind in a metatable, so
-- client:wait(result) needs nothing else and the table stays plain data.
local MARKS = setmetatable({}, { __index = function(marks, kind)
  local m = { __hwcloud_job = kind }
  marks[kind] = m
  return m
end })

function _M.mark(result, kind)
  if type(result) == "table" and getmetatable(result) == nil and KINDS[kind] then
    setmetatable(result, MARKS[kind])
  end
  return result
end

-- resolve(job) -> kind, id | nil, err
function _M.resolve(job)
  if type(job) ~= "table" then
    return nil, errors.validation("job", "expected the result of a job-starting operation "
      .. "or {service=..., job_id=...}, got " .. type(job))
  end
  local mt = getmetatable(job)
  local kind = (mt and mt.__hwcloud_job) or job.service
  if kind == nil then
    return nil, errors.validation("job.service", "is required (" .. job_services() .. ")")
  end
  local k = KINDS[kind]
  if not k then
    return nil, errors.validation("job.service", "no jobs to wait for in '" .. tostring(kind)
      .. "' (" .. job_services() .. ")")
  end
  local id = k.id(job)
  if type(id) ~= "string" or id == "" then
    return nil, errors.validation("job." .. k.id_key, "is required")
  end
  return kind, id
end

-- wait's options: interval, max_interval and timeout are seconds
-- (numbers above 0), on_progress a function.
local OPTIONS = options.declare {
  interval = options.seconds, max_interval = options.seconds, timeout = options.seconds,
  on_progress = options.func,
}
_M.OPTIONS = OPTIONS

-- Failed polls in a row that a wait lives through.
local POLL_POLICY = { retries = 5, retry_base = 0, retry_max_delay = huge }

-- settled(kind, id, res, state, on_progress) -> true, final | true, nil, err
-- when the job has ended, else nothing (on_progress told either way)
local function settled(kind, id, res, state, on_progress)
  local k = KINDS[kind]
  local st = state.status
  state.done = k.success[st] or k.failure[st] or nil
  if on_progress then on_progress(state) end
  if k.success[st] then return true, res end
  if k.failure[st] then
    local why = k.reason(res)
    return true, nil, errors.new("job_failed", {
      service = kind, operation = k.show, code = st, job = res,
      message = kind .. " job " .. id .. " ended " .. tostring(st) .. (why and (": " .. why) or ""),
    })
  end
end

-- the next pause: the delay with a jitter of +-20% so a fleet of waits
-- does not poll in lockstep, kept within [interval, max_interval] as
-- documented, and never past the deadline
local function pause(delay, interval, max_interval, left)
  local d = delay * (0.8 + 0.4 * random())
  if d < interval then d = interval end
  if d > max_interval then d = max_interval end
  if d > left then d = left end
  return d
end

-- wait(invoke, engine, job, opts, now) -> final | nil, err
-- invoke(service, operation, request) runs one operation in this task.
function _M.wait(invoke, engine, job, opts, now)
  local kind, id = _M.resolve(job)
  if not kind then return nil, id end
  local k = KINDS[kind]
  local oerr
  opts, oerr = options.check(OPTIONS, opts, { prefix = "opts.", field = "opts" })
  if not opts then return nil, oerr end
  local interval = opts.interval or 1
  local max_interval = opts.max_interval or 30
  if max_interval < interval then max_interval = interval end
  local timeout = opts.timeout or 1800
  local start = now()
  local deadline = start + timeout
  local delay, polls, last, failures = interval, 0, nil, 0

  while true do
    local res, err = invoke(kind, k.show, { [k.id_key] = id })
    polls = polls + 1
    if res then
      failures = 0
      last = res
      local done, final, ferr = settled(kind, id, res, { service = kind, id = id,
        status = k.status(res), polls = polls, elapsed = now() - start, job = res },
        opts.on_progress)
      if done then return final, ferr end
    elseif retry.decide(err, true, failures + 1, POLL_POLICY) then
      -- the call already retried; keep polling through a passing outage
      -- (a status poll is a GET, safe to repeat; the poll's own interval
      -- is the wait)
      failures = failures + 1
    else
      return nil, err
    end
    local left = deadline - now()
    if left <= 0 then
      local st = last and k.status(last)
      return nil, errors.new("timeout", {
        service = kind, operation = k.show, job = last,
        message = kind .. " job " .. id .. " still " .. tostring(st or "unknown")
          .. " after " .. tostring(timeout) .. " s",
      })
    end
    engine:sleep(pause(delay, interval, max_interval, left))
    delay = delay * 2
    if delay > max_interval then delay = max_interval end
  end
end

return _M
