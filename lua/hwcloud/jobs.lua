-- hwcloud.jobs: what "done" means for each kind of asynchronous work, and
-- the polling loop that waits for it. Which operations start jobs, how a
-- job is polled and which states end it are data in the services'
-- overlays (`jobs`: one kind or a list of kinds; `waiters`: named resource
-- states); nothing here knows a service by name.
--
-- A kind (overlay `jobs` entry):
--   poll       the operation that polls (of this service, or of `service`)
--   id_field   the poll request's field for the id (path or query)
--   ids        answer paths holding one id ("status.jobID"); the first found
--   batch      answer paths holding several: "job_ids" (a list of ids) or
--              { list = "items", id = "job_id", resource = "server_id",
--                error = "error_message", code = "error_code" }
--   params     poll request fields taken from the starting request (same
--              name) or else from the answer: { engine_id = "id" }
--   status     path of the state in the poll's answer; success, failure.
--              Through a list ("step_details[].step_status"): failed when
--              one item's state is a failure, done when every item's is a
--              success, else the first item's still running
--   reason     where a failed job says why: paths ("fail_reason",
--              "stages[].jobs[].message"), or a named strategy below
--   sub_jobs   path of sub-jobs whose own `sub_reason` paths say why
--   failed_count  a count in a successful answer that makes it a failure
--   resource   path of the resource a job works on (for batch outcomes)
--   operations the starters, when an answer's shape is not enough to tell
--   use        another service's kinds (prepaid orders: { use = "bss" })
--   marks      false: the kind is polled, never started, by this service
-- Older single-kind overlays (started_field, id_keys) read the same way.

local type, pairs, ipairs, tostring, tonumber, getmetatable, setmetatable, random, huge =
  type, pairs, ipairs, tostring, tonumber, getmetatable, setmetatable, math.random, math.huge
local concat, sort, format = table.concat, table.sort, string.format
local errors = require "hwcloud.errors"
local services = require "hwcloud.services"
local retry = require "hwcloud.retry"
local options = require "hwcloud.options"
local suggest = require "hwcloud.suggest"

local _M = {}

-- Field lookup that ignores case: ServiceStage documents upper-case job
-- fields while deployed services have answered in lower case.
local function ci(t, name)
  if type(t) ~= "table" then return nil end
  local v = t[name]
  if v ~= nil then return v end
  local n = tonumber(name)
  if n then return t[n] end
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

-- an id as the poll's path wants it: text, or a whole number (CSE's jobId)
local function idstr(v)
  if type(v) == "string" and v ~= "" then return v end
  if type(v) == "number" and v == v and v % 1 == 0 and v >= 0 and v < 2 ^ 53 then
    return format("%.0f", v)
  end
  return nil
end

local function set(list)
  local s = {}
  for _, v in pairs(list or {}) do s[v] = true end
  return s
end

local function split(path)
  if type(path) == "table" then return path end
  local list = {}
  for k in path:gmatch("[^.]+") do list[#list + 1] = k end
  return list
end

-- t at a list of keys (or a dotted string), case-insensitively; a key
-- "name[]" walks every element of that list, and the first element that
-- has the rest of the path answers
local function dig(t, path, from)
  path = split(path)
  for i = from or 1, #path do
    local k = path[i]
    local list_key = k:match("^(.-)%[%]$")
    if list_key then
      local list = list_key == "" and t or ci(t, list_key)
      if type(list) ~= "table" then return nil end
      for j = 1, #list do
        local v = dig(list[j], path, i + 1)
        if v ~= nil and (type(v) ~= "string" or v ~= "") and type(v) ~= "userdata" then
          return v
        end
      end
      return nil
    end
    t = ci(t, k)
  end
  return t
end
_M.dig = dig

-- the first text found at one of the paths
local function text_at(t, paths)
  for _, p in ipairs(paths) do
    local v = dig(t, p)
    if str(v) then return v end
  end
  return nil
end

local function as_list(v)
  if v == nil then return {} end
  if type(v) == "table" then return v end
  return { v }
end

-- Where a failed job says why, for overlays that name a strategy.
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

-- reason(res, kind) from paths: the job's own reason (with its code), else
-- the first failed sub-job's
local function path_reason(k)
  local paths, code_paths = k.reason_paths, k.code_paths
  return function(r)
    local why = text_at(r, paths)
    local code = text_at(r, code_paths)
    if not why and k.sub_jobs then
      local subs = dig(r, k.sub_jobs)
      if type(subs) == "table" then
        for i = 1, #subs do
          local s = subs[i]
          local st = dig(s, k.sub_status)
          if type(s) == "table" and k.failure[st] then
            why = text_at(s, k.sub_reason)
            code = text_at(s, code_paths)
            if why then break end
          end
        end
      end
    end
    if why and code and code ~= why then return code .. ": " .. why end
    return why or code
  end
end

-- a kind from an overlay entry of service `name`
-- a kind's answer paths: ids (what resolves a job; the poll's own id field
-- last, for a hand-named job), started (what marks a starter's answer: the
-- older overlays' started_field alone) and batch specs
local function id_paths(j, id_key)
  local ids, started, batch = {}, {}, {}
  for _, p in ipairs(as_list(j.ids or j.id_keys)) do ids[#ids + 1] = p end
  if j.started_field then ids[#ids + 1] = j.started_field end
  for _, p in ipairs(j.started_field and { j.started_field } or as_list(j.ids)) do
    started[#started + 1] = p
  end
  local own = false
  for _, p in ipairs(ids) do if p == id_key then own = true end end
  if not own then ids[#ids + 1] = id_key end
  for _, b in ipairs(as_list(j.batch)) do
    batch[#batch + 1] = type(b) == "string" and { ids = b } or b
  end
  return ids, started, batch
end

-- every value at a path through lists (dig's walk, each item kept)
local function dig_all(t, path, from, out)
  for i = from, #path do
    local list_key = path[i]:match("^(.-)%[%]$")
    if list_key then
      local list = list_key == "" and t or ci(t, list_key)
      if type(list) == "table" then
        for j = 1, #list do dig_all(list[j], path, i + 1, out) end
      end
      return out
    end
    t = ci(t, path[i])
  end
  if t ~= nil and type(t) ~= "userdata" then out[#out + 1] = t end
  return out
end

-- the state of a job whose status path goes through a list: a failure
-- when one item's is, a success when every item's is, else the first
-- that is neither
local function list_status(r, k)
  local all = dig_all(r, k.status_path, 1, {})
  local running
  for _, v in ipairs(all) do
    if k.failure[v] then return v end
    if not k.success[v] and running == nil then running = v end
  end
  if running ~= nil then return running end
  return all[1]
end

local DEFAULT_SUB_REASON = { "fail_reason", "error_message", "error_msg" }

-- a kind from an overlay entry of service `name`
local function kind_of(name, j, i)
  local id_key = j.id_field or "job_id"
  local ids, started, batch = id_paths(j, id_key)
  local k = {
    service = name, index = i, name = j.name or ("job" .. (i > 1 and i or "")),
    poll_service = j.service or name,
    show = j.poll, id_key = id_key,
    ids = ids, started = started, batch = batch,
    params = j.params or {},
    status_path = split(j.status or "status"),
    success = set(j.success), failure = set(j.failure),
    -- the terminal states in the overlay's order, for documentation
    states = { success = as_list(j.success), failure = as_list(j.failure) },
    sub_jobs = j.sub_jobs, sub_status = split(j.sub_status or "status"),
    sub_reason = as_list(j.sub_reason or DEFAULT_SUB_REASON),
    reason_paths = as_list(j.reason), code_paths = as_list(j.code),
    failed_count = j.failed_count,
    resource = j.resource,
    operations = j.operations and set(j.operations) or nil,
    marks = j.marks ~= false,
  }
  k.status = function(r) return dig(r, k.status_path) end
  for _, key in ipairs(k.status_path) do
    if key:find("[]", 1, true) then
      k.status = function(r) return list_status(r, k) end
      break
    end
  end
  k.reason = type(j.reason) == "string" and REASONS[j.reason] or path_reason(k)
  return k
end

local KINDS

-- the overlay's `jobs` as a list of kind specs
local function specs_of(j)
  if j == nil then return {} end
  if j[1] == nil then return { j } end
  return j
end

-- KINDS[service] -> the list of its kinds (another service's used ones
-- included), built from the descriptions on first use; nil when none
KINDS = setmetatable({}, { __index = function(kinds, name)
  if type(name) ~= "string" or not services.known(name) then return nil end
  local svc = services.load(name)
  local list = {}
  for i, j in ipairs(specs_of(svc.jobs)) do
    if j.use then
      for _, u in ipairs(kinds[j.use] or {}) do list[#list + 1] = u end
    else
      list[#list + 1] = kind_of(name, j, i)
    end
  end
  if not list[1] then list = false end
  kinds[name] = list
  return list
end })
_M.KINDS = setmetatable({}, { __index = function(_, name)
  local list = KINDS[name]
  -- a one-kind service reads as that kind (what older callers expect)
  if list and #list == 1 then return list[1] end
  return list or nil
end })

-- kinds(service) -> the list of its job kinds (each with its poll's id
-- field, id_key, and the fields it takes from a starting request, params)
-- | nil when it has none
function _M.kinds(service)
  return KINDS[service] or nil
end

-- whether a response schema has a (dotted, []-walking) path
local function has_path(schema, path)
  for _, k in ipairs(split(path)) do
    local list_key = k:match("^(.-)%[%]$")
    if list_key then
      if list_key ~= "" then
        schema = type(schema) == "table" and schema.fields and schema.fields[list_key]
      end
      schema = type(schema) == "table" and schema.items
    else
      schema = type(schema) == "table" and schema.fields and schema.fields[k]
    end
    if not schema then return false end
  end
  return true
end

-- starts(name, op) -> whether the operation of service `name` starts a job:
-- not a GET, and its answer has a kind's id (or batch) field, or the
-- kind names it. Read by hwcloud.services when it prepares an operation.
-- the kinds another service's overlay describes (`use`), read from the
-- overlay alone: marking an operation loads no other service
local function used_kinds(name)
  local e = services.entry(name)
  if not (e and e.overlay) then return {} end
  local list = {}
  for i, j in ipairs(specs_of(require("hwcloud.services." .. e.overlay).jobs)) do
    if not j.use then list[#list + 1] = kind_of(name, j, i) end
  end
  return list
end

function _M.starts(specs, name, op)
  for _, j in ipairs(specs_of(specs)) do
    local list = j.use and used_kinds(j.use) or { kind_of(name, j, 1) }
    for _, k in ipairs(list) do
      if k.marks or j.use then
        if k.operations then
          if k.operations[op.name] then return true end
        elseif op.method ~= "GET" then
          for _, p in ipairs(k.started) do
            if has_path(op.response, p) then return true end
          end
          for _, b in ipairs(k.batch) do
            local p = b.ids or (b.list .. "[]." .. b.id)
            if has_path(op.response, p) then return true end
          end
        end
      end
    end
  end
  return false
end

-- the services whose descriptions have operations that start jobs, for
-- messages (the hwcloud command's too)
local function job_services()
  local list = {}
  for _, n in ipairs(services.names()) do
    local e = services.entry(n)
    if e and e.jobs and e.jobs[1] and e.service == n then list[#list + 1] = n end
  end
  return concat(list, ", ")
end
_M.job_services = job_services

-- the operations that start jobs of `service`, for messages
local function starters(service)
  local e = services.entry(service)
  local ops = e and e.jobs or {}
  if #ops > 8 then
    return concat(ops, ", ", 1, 8) .. " and " .. (#ops - 8) .. " more"
  end
  return concat(ops, ", ")
end

-- Results of job-starting operations carry their service, operation and
-- request in a metatable, so client:wait(result) needs nothing else and
-- the table stays plain data.
function _M.mark(result, service, operation, request)
  if type(result) == "table" and getmetatable(result) == nil and KINDS[service] then
    setmetatable(result, { __hwcloud_job = service, __hwcloud_op = operation,
                           __hwcloud_request = request })
  end
  return result
end

-- the poll request of kind k for id, from the starting request and answer
local function poll_request(k, id, job, req)
  local r = { [k.id_key] = id }
  for field, from in pairs(k.params) do
    local v = req and req[field]
    if v == nil then v = job[field] end
    if v == nil then
      for _, p in ipairs(as_list(from)) do
        v = dig(job, p)
        if v ~= nil then break end
      end
    end
    if type(v) ~= "string" or v == "" then
      return nil, errors.validation("job." .. field, "is required to poll "
        .. k.poll_service .. "." .. k.show)
    end
    r[field] = v
  end
  return r
end

-- the ids of a batch spec b in job: a list of {id, resource, error}
local function batch_ids(b, job)
  if b.ids then
    local list = dig(job, b.ids)
    if type(list) ~= "table" or list[1] == nil then return nil end
    local out = {}
    for i, id in ipairs(list) do out[i] = { id = idstr(id), error = not idstr(id) and "no job id" or nil } end
    return out
  end
  local items = dig(job, b.list)
  if type(items) ~= "table" or items[1] == nil then return nil end
  local out = {}
  for i, it in ipairs(items) do
    local e = {
      id = idstr(dig(it, b.id)),
      resource = b.resource and str(dig(it, b.resource)) or nil,
    }
    if not e.id then
      local why, code = b.error and str(dig(it, b.error)), b.code and str(dig(it, b.code))
      e.error = why and code and (code .. ": " .. why) or why or code or "no job was started"
    end
    out[i] = e
  end
  return out
end

local function field_names(t)
  local names = {}
  for k in pairs(t) do if type(k) == "string" then names[#names + 1] = k end end
  sort(names)
  if #names > 6 then names = { concat(names, ", ", 1, 6) .. ", ..." } end
  return concat(names, ", ")
end

-- whether kind k may hold the job: the kind a hand-named job names, and
-- a kind that names its starters takes only their answers
local function takes(k, want, operation)
  if want ~= nil and want ~= k.name and want ~= k.poll_service then return false end
  return not (operation and k.operations and not k.operations[operation])
end

-- the plan of the first kind whose id (or batch) `job` holds: nil when
-- none does; nil, err when its poll lacks a field. `want`: a hand-named
-- job's kind (answers have a `kind` of their own); `mark`: a starter's
-- answer's metatable (its operation and request)
local function find(kinds, service, job, mark, want)
  local req = mark and (mark.__hwcloud_request or {}) or nil
  local operation = mark and mark.__hwcloud_op or nil
  -- a number is an id only in an answer whose model says so (CSE's jobId);
  -- a hand-named job gives text
  local id_of = req and idstr or str
  for _, k in ipairs(kinds) do
    if takes(k, want, operation) then
      for _, p in ipairs(k.ids) do
        local id = id_of(dig(job, p))
        if id then
          local r, err = poll_request(k, id, job, req)
          if not r then return nil, err end
          return { kind = k, service = service, jobs = { { id = id, poll = r } } }
        end
      end
      for _, b in ipairs(k.batch) do
        local list = batch_ids(b, job)
        if list then
          for _, e in ipairs(list) do
            if e.id then
              local r, err = poll_request(k, e.id, job, req)
              if not r then return nil, err end
              e.poll = r
            end
          end
          return { kind = k, service = service, jobs = list, batch = true }
        end
      end
    end
  end
  return nil
end

-- the error for a table that holds no job of `service`: the answer of
-- `operation` (marked), or a hand-named job without its id
local function not_a_job(kinds, service, job, operation)
  if operation then
    local looked = {}
    for _, k in ipairs(kinds) do
      for _, p in ipairs(k.ids) do looked[#looked + 1] = p end
      for _, b in ipairs(k.batch) do looked[#looked + 1] = b.ids or (b.list .. "[]." .. b.id) end
    end
    return errors.validation("job", format("the answer of %s.%s holds no job (looked for %s;"
      .. " it has %s); operations that start %s jobs: %s", service, operation,
      concat(looked, ", "), field_names(job), service, starters(service)), service, operation)
  end
  local k = kinds[1]
  local id = job[k.id_key]
  if id ~= nil and (type(id) ~= "string" or id == "") then
    return errors.validation("job." .. k.id_key, "is required (a non-empty string)")
  end
  return errors.validation("job." .. k.id_key, "is required: expected the result of one of "
    .. starters(service) .. ", or {service = '" .. service .. "', " .. k.id_key .. " = ...}")
end

-- the error for a table that names no service and is no job's answer
local function no_service(job)
  local fields = field_names(job)
  return errors.validation("job.service", "is required: expected the result of a "
    .. "job-starting operation or {service=..., job_id=...}, got a table"
    .. (fields ~= "" and (" with " .. fields) or " without fields")
    .. " (services with jobs: " .. job_services() .. ")")
end

-- resolve(job) -> plan | nil, err. A plan: {kind, jobs = {{id, poll,
-- resource, error}...}, batch = true|nil, service}
function _M.resolve(job)
  if type(job) ~= "table" then
    return nil, errors.validation("job", "expected the result of a job-starting operation "
      .. "or {service=..., job_id=...}, got " .. type(job))
  end
  local mt = getmetatable(job)
  local marked = type(mt) == "table" and mt.__hwcloud_job or nil
  local service = marked or job.service
  if service == nil then return nil, no_service(job) end
  local kinds = KINDS[service]
  if not kinds then
    return nil, errors.validation("job.service", "no jobs to wait for in '" .. tostring(service)
      .. "'" .. (type(service) == "string" and suggest.hint(service, services.names()) or "")
      .. " (services with jobs: " .. job_services() .. ")")
  end
  local plan, err = find(kinds, service, job, marked and mt or nil,
    not marked and type(job.kind) == "string" and job.kind or nil)
  if plan or err then return plan, err end
  return nil, not_a_job(kinds, service, job, marked and mt.__hwcloud_op or nil)
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

local function is_404(err)
  return type(err) == "table" and err.kind == "http" and err.status == 404
end

-- loop(engine, opts, now, round) -> final | nil, err
-- round(polls, start) polls once and answers true, final, err when the wait
-- has ended; false, err to stop (a poll that failed for good); nothing to
-- go on. describe() -> message, last answer for the timeout error.
local function loop(engine, opts, now, round, timeout_error)
  local oerr
  opts, oerr = options.check(OPTIONS, opts, { prefix = "opts.", field = "opts" })
  if not opts then return nil, oerr end
  local interval = opts.interval or 1
  local max_interval = opts.max_interval or 30
  if max_interval < interval then max_interval = interval end
  local timeout = opts.timeout or 1800
  local start = now()
  local deadline = start + timeout
  local delay, polls = interval, 0
  while true do
    polls = polls + 1
    local done, final, err = round(polls, start, opts.on_progress)
    if done then return final, err end
    if done == false then return nil, err end
    local left = deadline - now()
    if left <= 0 then return nil, timeout_error(timeout) end
    engine:sleep(pause(delay, interval, max_interval, left))
    delay = delay * 2
    if delay > max_interval then delay = max_interval end
  end
end

-- one job's poll: an entry {id, poll, status, result, failures} is brought
-- up to date; answers "success" | "failure" | nil (running) | false, err
local function poll_one(invoke, k, e)
  local res, err = invoke(k.poll_service, k.show, e.poll)
  if not res then
    if not is_404(err) and retry.decide(err, true, (e.failures or 0) + 1, POLL_POLICY) then
      -- the call already retried; keep polling through a passing outage
      -- (a status poll is a GET, safe to repeat; the poll's own interval
      -- is the wait)
      e.failures = (e.failures or 0) + 1
      return nil
    end
    return false, err
  end
  e.failures = 0
  e.result = res
  local st = k.status(res)
  e.status = st
  if k.resource and not e.resource then e.resource = str(dig(res, k.resource)) end
  if k.success[st] then
    local n = k.failed_count and tonumber(dig(res, k.failed_count))
    if n and n > 0 then
      e.reason = k.reason(res) or (n .. " failed")
      return "failure"
    end
    return "success"
  end
  if k.failure[st] then
    e.reason = k.reason(res)
    return "failure"
  end
  return nil
end

local function job_failed(k, e, extra)
  local why = e.reason
  local f = {
    service = k.poll_service, operation = k.show, code = e.status, job = e.result,
    message = k.poll_service .. " job " .. e.id .. " ended " .. tostring(e.status)
      .. (why and (": " .. why) or ""),
  }
  for key, v in pairs(extra or {}) do f[key] = v end
  return errors.new("job_failed", f)
end

-- err.jobs: each job's outcome {id, status, outcome, reason, resource}
local function outcomes(list)
  local out = {}
  for i, e in ipairs(list) do
    out[i] = { id = e.id, status = e.status, outcome = e.outcome or "running",
               reason = e.reason or e.error, resource = e.resource, result = e.result }
  end
  return out
end

local function wait_one(invoke, engine, plan, opts, now)
  local k, e = plan.kind, plan.jobs[1]
  return loop(engine, opts, now, function(polls, start, on_progress)
    local outcome, err = poll_one(invoke, k, e)
    if outcome == false then return false, nil, err end
    if e.result ~= nil and (outcome or not e.failures or e.failures == 0) then
      if on_progress then
        on_progress { service = k.poll_service, id = e.id, status = e.status, polls = polls,
                      elapsed = now() - start, job = e.result, done = outcome and true or nil }
      end
    end
    if outcome == "success" then return true, e.result end
    if outcome == "failure" then return true, nil, job_failed(k, e) end
  end, function(timeout)
    return errors.new("timeout", {
      service = k.poll_service, operation = k.show, job = e.result,
      message = k.poll_service .. " job " .. e.id .. " still " .. tostring(e.status or "unknown")
        .. " after " .. tostring(timeout) .. " s",
    })
  end)
end

-- a batch: every job polled each round; done when all are, failed when one
-- fails (or could not start), err.jobs naming each one's outcome
local function wait_batch(invoke, engine, plan, opts, now)
  local k, list = plan.kind, plan.jobs
  local n = #list
  local function label() return k.poll_service .. " batch of " .. n .. " jobs" end
  for _, e in ipairs(list) do
    if e.error then
      e.outcome = "failure"
      return nil, errors.new("job_failed", {
        service = k.poll_service, operation = k.show, jobs = outcomes(list),
        message = label() .. ": " .. (e.resource and (e.resource .. ": ") or "")
          .. "did not start: " .. e.error,
      })
    end
  end
  return loop(engine, opts, now, function(polls, start, on_progress)
    local done = 0
    for _, e in ipairs(list) do
      if not e.outcome then
        local outcome, err = poll_one(invoke, k, e)
        if outcome == false then
          e.outcome, e.reason = "error", tostring(err)
          err.jobs = outcomes(list)
          return false, nil, err
        end
        e.outcome = outcome or nil
        if outcome == "failure" then
          return true, nil, job_failed(k, e, {
            jobs = outcomes(list),
            message = label() .. ": job " .. e.id .. (e.resource and (" (" .. e.resource .. ")") or "")
              .. " ended " .. tostring(e.status) .. (e.reason and (": " .. e.reason) or ""),
          })
        end
      end
      if e.outcome then done = done + 1 end
    end
    if on_progress then
      on_progress { service = k.poll_service, id = label(), status = done .. "/" .. n .. " done",
                    polls = polls, elapsed = now() - start, jobs = outcomes(list),
                    done = done == n or nil }
    end
    if done == n then return true, { jobs = outcomes(list) } end
  end, function(timeout)
    local running = {}
    for _, e in ipairs(list) do if not e.outcome then running[#running + 1] = e.id end end
    return errors.new("timeout", {
      service = k.poll_service, operation = k.show, jobs = outcomes(list),
      message = label() .. ": " .. concat(running, ", ") .. " still running after "
        .. tostring(timeout) .. " s",
    })
  end)
end

-- wait(invoke, engine, job, opts, now) -> final | nil, err
-- invoke(service, operation, request) runs one operation in this task.
function _M.wait(invoke, engine, job, opts, now)
  local plan, err = _M.resolve(job)
  if not plan then return nil, err end
  if plan.batch then return wait_batch(invoke, engine, plan, opts, now) end
  return wait_one(invoke, engine, plan, opts, now)
end

-- ---------------------------------------------------------------- waiters

-- waiters(service) -> sorted names of its named waiters (a list; empty when
-- it has none) | nil, message
function _M.waiters(service)
  if not services.known(service) then
    return nil, "unknown service '" .. tostring(service) .. "'"
      .. (type(service) == "string" and suggest.hint(service, services.names()) or "")
  end
  local names = {}
  for n in pairs(services.load(service).waiters or {}) do names[#names + 1] = n end
  sort(names)
  return names
end

local WAITER_FIELDS = { operation = "string", path = "string", success = "table",
                        failure = "table", gone = "boolean", reason = "any", absent = "any" }

local WAITER_NAMES = { "operation", "path", "success", "failure", "gone", "reason", "absent" }

-- the fields of a waiter table: nil, or the error
local function check_waiter(w, service)
  for key, v in pairs(w) do
    local want = WAITER_FIELDS[key]
    if not want then
      return errors.validation("waiter." .. tostring(key), "is not a waiter field"
        .. (type(key) == "string" and suggest.hint(key, WAITER_NAMES) or ""), service)
    end
    if want ~= "any" and type(v) ~= want then
      return errors.validation("waiter." .. key, "expected a " .. want .. ", got " .. type(v),
        service)
    end
  end
  for _, key in ipairs { "operation", "path" } do
    if w[key] == nil then return errors.validation("waiter." .. key, "is required", service) end
  end
  if w.success == nil and not w.gone then
    return errors.validation("waiter.success", "is required (or gone = true)", service)
  end
end

-- waiter(service, w) -> spec | nil, err: a name or a table
local function waiter_of(service, w)
  if not services.known(service) then
    return nil, errors.validation("service", "unknown service '" .. tostring(service) .. "'"
      .. (type(service) == "string" and suggest.hint(service, services.names()) or ""))
  end
  local svc = services.load(service)
  if type(w) == "string" then
    local spec = (svc.waiters or {})[w]
    if not spec then
      local names = _M.waiters(service)
      return nil, errors.validation("waiter", format("%s has no waiter '%s'%s (%s)", service, w,
        suggest.hint(w, names), #names > 0 and ("its waiters: " .. concat(names, ", "))
          or "it has no named waiters; give a table {operation, path, success, failure, gone}"),
        service)
    end
    return spec
  end
  if type(w) ~= "table" then
    return nil, errors.validation("waiter", "expected a waiter's name or a table {operation, "
      .. "path, success, failure, gone}, got " .. type(w), service)
  end
  local err = check_waiter(w, service)
  if err then return nil, err end
  local op = services.operation(svc, w.operation)
  if not op then
    return nil, errors.validation("waiter.operation", format("%s has no operation '%s'%s",
      service, w.operation, suggest.hint(w.operation, services.operation_names(svc))), service)
  end
  return w
end

-- wait_for(invoke, engine, service, waiter, request, opts, now)
--   -> the last answer | true (gone) | nil, err
function _M.wait_for(invoke, engine, service, waiter, request, opts, now)
  local w, err = waiter_of(service, waiter)
  if not w then return nil, err end
  if request == nil then request = {} end
  if type(request) ~= "table" then
    return nil, errors.validation("request", "expected a table, got " .. type(request), service,
      w.operation)
  end
  local name = type(waiter) == "string" and waiter or (w.operation .. " " .. w.path)
  local success, failure = set(w.success), set(w.failure)
  local reason_paths = as_list(w.reason)
  local last, status, failures = nil, nil, 0
  return loop(engine, opts, now, function(polls, start, on_progress)
    local res, perr = invoke(service, w.operation, request)
    if not res then
      if is_404(perr) then
        if w.gone then
          if on_progress then
            on_progress { service = service, id = name, status = "gone", polls = polls,
                          elapsed = now() - start, done = true }
          end
          return true, true
        end
        return false, nil, perr
      end
      if retry.decide(perr, true, failures + 1, POLL_POLICY) then
        failures = failures + 1
        return nil
      end
      return false, nil, perr
    end
    failures = 0
    last = res
    status = dig(res, w.path)
    if (status == nil or type(status) == "userdata") and w.absent ~= nil then status = w.absent end
    local ended = success[status] or failure[status]
    if on_progress then
      on_progress { service = service, id = name, status = status, polls = polls,
                    elapsed = now() - start, job = res, done = ended or nil }
    end
    if success[status] then return true, res end
    if failure[status] then
      local why = text_at(res, reason_paths)
      return true, nil, errors.new("job_failed", {
        service = service, operation = w.operation, code = status, job = res,
        message = format("%s: %s is %s%s", service, name, tostring(status),
          why and (": " .. why) or ""),
      })
    end
  end, function(timeout)
    return errors.new("timeout", {
      service = service, operation = w.operation, job = last,
      message = format("%s: %s still %s after %s s", service, name,
        tostring(status or "unknown"), tostring(timeout)),
    })
  end)
end

return _M
