-- hwcloud.journal: makes a fan-out resumable (client:parallel and
-- client:wait_all with opts.journal = PATH).
--
-- The journal is a plain text file, one JSON object a line, only ever
-- appended to. Each entry of a fan-out has a key (calls[i].key, else its
-- service, operation and request; a job's service and id for wait_all),
-- and the fan-out its name (opts.label, else "parallel" or "wait"), so one
-- file can serve a parallel and the wait_all after it. An entry gets a
-- record before its request leaves ("sent", or "waiting") and one when its
-- answer is in ("answered" or "failed"); each record is handed to the
-- kernel (write + flush) before the task goes on, so it survives the
-- process being killed, and with journal_sync the "sent" record of a
-- request that is not safe to repeat is also fsynced before it leaves.
--
-- A run started again with the same journal, per entry:
--   answered before          -> its recorded result (or error), nothing sent
--   sent, no answer, safe    -> sent again (GET/HEAD, idempotent, retry_unsafe)
--   sent, no answer, unsafe  -> nil, err kind "unknown_outcome", nothing sent
--   never sent               -> sent
-- A wait is always safe to repeat (it only polls): only its end (the final
-- job, or job_failed) counts as an answer.
--
-- Torn last line: a record cut short by a kill has no newline. Opening
-- ends it with one and appends a "torn" record naming it; a line that does
-- not parse is accepted only when such a record follows it. Anything else
-- that does not parse is a corrupt file: nil, err naming the line.
--
-- No secret is written: requests are the caller's own fields (kept), and
-- results and errors are written with the values of secret-named fields
-- (tokens, secrets, passwords) masked. No header is ever written.

local type, pairs, ipairs, tostring, setmetatable, pcall, select =
  type, pairs, ipairs, tostring, setmetatable, pcall, select
local concat, sort = table.concat, table.sort
local format, lower = string.format, string.lower
local open, date, time = io.open, os.date, os.time

local core = require "hwcloud.core"
local errors = require "hwcloud.errors"
local jobs = require "hwcloud.jobs"
local null = require("cjson").null
local json = require "hwcloud.json"
local quote = json.quote

local _M = {}

local VERSION = 1
local HEADER_PREFIX = '{"hwcloud_journal":'

------------------------------------------------------------------ JSON

-- Field names whose values are never written (results and errors only).
local SECRET = {}
for _, k in ipairs { "token", "x-subject-token", "x-auth-token", "subject_token",
                     "auth_token", "access_token", "refresh_token", "id_token",
                     "securitytoken", "security_token", "x-security-token", "secret",
                     "secret_key", "sk", "password", "authorization", "signature" } do
  SECRET[k] = true
end

-- JSON with sorted keys (so a request has one text: the default key),
-- floats with 17 digits; mask: secret-named fields of objects written as
-- "***".
local function secret(k, v) return SECRET[lower(k)] and v ~= null end
local PLAIN, MASKED = { exact = true }, { exact = true, mask = secret, masked = "***" }

local function to_json(v, mask)
  return json.encode(v, mask and MASKED or PLAIN)
end
_M.encode = to_json

-- key_of(service, operation, request) -> the default key of a call
function _M.key_of(service, operation, request)
  return service .. "." .. operation .. " " .. to_json(request or {})
end

------------------------------------------------------------------ the file

local Journal = {}
Journal.__index = Journal

-- the time of a record, UTC to the second (made once a second)
local last_time, last_text
local function now_text()
  local t = time()
  if t ~= last_time then last_time, last_text = t, date("!%Y-%m-%dT%H:%M:%SZ", t) end
  return last_text
end

local function bad(path, message)
  return nil, errors.validation("opts.journal", path .. ": " .. message)
end

-- write(j, text[, sync]) -> true | nil, err: one record, handed to the
-- kernel (and to the disk with sync) before the caller goes on
function Journal:write(text, sync)
  local fh = self.fh
  local ok, werr = fh:write(text, "\n")
  if ok then ok, werr = fh:flush() end
  if ok and sync then ok, werr = core.fsync(fh) end
  if not ok then
    return bad(self.path, "cannot be written: " .. tostring(werr))
  end
  self.lines = self.lines + 1
  return true
end

local ERROR_FIELDS = { "kind", "status", "code", "message", "request_id", "service",
                       "operation", "field", "retryable", "attempts", "sent", "unsafe", "job",
                       "jobs", "retry_after" }

local function error_record(err)
  if type(err) ~= "table" then return { kind = "transport", message = tostring(err) } end
  local r = {}
  for _, k in ipairs(ERROR_FIELDS) do r[k] = err[k] end
  return r
end

-- put(j, event, qkey, tail[, sync]) -> true | nil, err: a record made
-- as text: its time first (what a cut line is known by), the event, the
-- fan-out, the key (quoted: qkey), then `tail`, more fields as JSON
-- (',"name":value...')
function Journal:put(event, qkey, tail, sync)
  return self:write('{"at":"' .. now_text() .. '","event":"' .. event .. '","fan":' .. self.qfan
    .. (qkey and (',"key":' .. qkey) or "") .. (tail or "") .. "}", sync)
end

-- synced(j, eng, line) -> true | nil, err: once the journal is on the
-- disk up to `line`. The tasks of one turn of the engine's loop share one
-- fsync: the first waits a moment (the others write their records
-- meanwhile), then syncs everything written so far.
local GROUP_WAIT = 0.0005
function Journal:synced(eng, line)
  if (self.on_disk or 0) >= line then return true end
  eng:sleep(GROUP_WAIT)
  if (self.on_disk or 0) >= line then return true end
  local upto = self.lines
  local ok, err = core.fsync(self.fh)
  if not ok then return bad(self.path, "cannot be synced: " .. tostring(err)) end
  if upto > (self.on_disk or 0) then self.on_disk = upto end
  return true
end

-- the tail of an answer's record: the result, or the error
local function answer_tail(res, err)
  if res ~= nil then return ',"result":' .. to_json(res, true) end
  return ',"error":' .. to_json(error_record(err), true)
end

local EVENTS = { open = true, sent = true, waiting = true, answered = true, failed = true,
                 torn = true }

-- entry(j, fan, key) -> the entry's state, made on first use
local function entry(entries, fan, key)
  local byfan = entries[fan]
  if not byfan then
    byfan = {}
    entries[fan] = byfan
  end
  local e = byfan[key]
  if not e then
    e = {}
    byfan[key] = e
  end
  return e
end

-- whether line i can be the start of a record cut short: the beginning
-- of a header (line 1) or of a record (which starts with its time)
local RECORD_START = '{"at":"'
local function starts(line, prefix)
  return prefix:sub(1, #line) == line or line:sub(1, #prefix) == prefix
end
local function looks_cut(line, i)
  return starts(line, RECORD_START) or (i == 1 and starts(line, HEADER_PREFIX))
end

-- split(text) -> lines, docs (each line decoded, or nil), torn: the last
-- line's number when it has no newline (negative when it still parses:
-- only its newline is missing)
local function split(text)
  local lines, docs = {}, {}
  for line in text:gmatch("([^\n]*)\n") do
    lines[#lines + 1] = line
    docs[#lines] = core.decode(line)
  end
  local tail, torn = text:match("([^\n]+)$"), nil
  if tail then
    lines[#lines + 1] = tail
    docs[#lines] = core.decode(tail)
    torn = type(docs[#lines]) == "table" and -#lines or #lines
  end
  return lines, docs, torn
end

local NOT_JOURNAL = "not an hwcloud journal (no " .. HEADER_PREFIX .. "...} line first)"

-- header_problem(doc) -> message | nil
local function header_problem(doc)
  if type(doc) ~= "table" or doc.hwcloud_journal == nil then return NOT_JOURNAL end
  if doc.hwcloud_journal ~= VERSION then
    return "a journal of version " .. tostring(doc.hwcloud_journal)
      .. ", this hwcloud reads version " .. VERSION
  end
end

-- take(entries, doc, i) -> message | nil: record doc (line i) applied to
-- the entries' state
local function take(entries, doc, i)
  if type(doc) ~= "table" then return "not a journal record (not a JSON object)" end
  local ev = doc.event
  if not EVENTS[ev] then return "not a journal record (event " .. tostring(ev) .. ")" end
  if ev == "open" or ev == "torn" then return nil end
  if type(doc.fan) ~= "string" or type(doc.key) ~= "string" then
    return "not a journal record (no fan or key)"
  end
  local e = entry(entries, doc.fan, doc.key)
  if ev == "sent" or ev == "waiting" then
    e.sent, e.sent_line = doc, i
  elseif ev == "failed" and type(doc.error) ~= "table" then
    return "not a journal record (failed without an error)"
  else
    e.answer, e.answer_line = doc, i
  end
end

-- read(text) -> entries, lines, torn, has_header | nil, message
function _M.read(text)
  local lines, docs, torn = split(text)
  local entries, header = {}, nil
  for i, line in ipairs(lines) do
    local doc, after = docs[i], docs[i + 1]
    local cut = doc == nil and looks_cut(line, i) and (i == torn
      or (type(after) == "table" and after.event == "torn" and after.line == i))
    -- a record cut short by a kill, and the note that says so, are skipped
    if not (cut or (type(doc) == "table" and doc.event == "torn")) then
      local problem
      if header == nil then
        problem = header_problem(doc)
        header = doc
      else
        problem = take(entries, doc, i)
      end
      if problem then return nil, "line " .. i .. ": " .. problem end
    end
  end
  return entries, #lines, torn, header ~= nil
end
local read = _M.read

-- open(path, fan, sync) -> journal | nil, err: locked (another live run
-- holding it: err), read, its torn tail ended, an "open" record written.
function _M.open(path, fan, sync)
  local fh, oerr = open(path, "a+")
  if not fh then
    oerr = tostring(oerr)
    if oerr:sub(1, #path + 2) == path .. ": " then oerr = oerr:sub(#path + 3) end
    return bad(path, "cannot be opened for writing: " .. oerr)
  end
  local locked, lerr, why = core.lock(fh)
  if not locked then
    fh:close()
    if why == "busy" then return bad(path, "is in use by another run (locked)") end
    return bad(path, "cannot be locked: " .. tostring(lerr))
  end
  fh:seek("set", 0)
  local text = fh:read("*a") or ""
  local j = setmetatable({ fh = fh, path = path, fan = fan, qfan = quote(fan), sync = sync,
                           lines = 0, replayed = {} }, Journal)
  local entries, count, torn, has_header = read(text)
  if not entries then
    fh:close()
    return bad(path, count)
  end
  j.entries, j.lines = entries, count
  local ok, werr = true, nil
  if torn and torn < 0 then
    ok, werr = fh:write("\n")
    if not ok then werr = select(2, bad(path, "cannot be written: " .. tostring(werr))) end
  elseif torn then
    -- one write: the newline and the record that says the line was cut
    ok, werr = j:write('\n{"at":"' .. now_text() .. '","event":"torn","line":' .. torn .. "}")
  end
  if ok and not has_header then
    ok, werr = j:write(HEADER_PREFIX .. VERSION .. ',"at":"' .. now_text()
      .. '","about":"hwcloud fan-out journal: one JSON record a line, appended only"}')
  end
  if ok then ok, werr = j:put("open", nil, nil, sync) end
  if not ok then
    fh:close()
    return nil, werr
  end
  return j
end

function Journal:close()
  if self.fh then
    self.fh:close()
    self.fh = nil
  end
end

------------------------------------------------------------------ entries

local function restore_error(r)
  local fields = {}
  for k, v in pairs(r) do if k ~= "kind" then fields[k] = v end end
  fields.replayed = true
  local ok, e = pcall(errors.new, r.kind, fields)
  if ok then return e end
  return errors.new("transport", fields)
end

-- distinct(list, n) -> true | nil, err: refuses a key given twice.
-- list[i] = {key=, where=} for the entries to journal (holes: entries
-- that fail before sending anything).
function _M.distinct(list, n)
  local seen = {}
  for i = 1, n do
    local e = list[i]
    if e then
      local first = seen[e.key]
      if first then
        return nil, errors.validation(e.where .. "key", format(
          "the same key as %s (%s): each entry of a journaled run needs its own key",
          list[first].where:sub(1, -2), e.key))
      end
      seen[e.key] = i
    end
  end
  return true
end

-- plan(j, list, n): notes the journal's keys of this fan-out that this
-- run does not ask for (j.unasked, reported by finish)
function Journal:plan(list, n)
  local asked = {}
  for i = 1, n do
    if list[i] then asked[list[i].key] = true end
  end
  local unasked = {}
  for key in pairs(self.entries[self.fan] or {}) do
    if not asked[key] then unasked[#unasked + 1] = key end
  end
  sort(unasked)
  self.unasked = unasked
end

-- entry(i, c, svc, op, req, safe) -> info | nil, err: calls[i]'s entry
-- (its key: c.key, a non-empty string, else the default)
function _M.entry(i, c, svc, op, req, safe)
  local key = type(c) == "table" and c.key or nil
  local where = format("calls[%d].", i)
  local request_json = to_json(req or {})
  if key == nil then
    key = svc.name .. "." .. op.name .. " " .. request_json
  elseif type(key) ~= "string" or key == "" then
    return nil, errors.validation(where .. "key", "expected a non-empty string, got "
      .. (type(key) == "string" and "an empty one" or type(key)), svc.name, op.name)
  end
  return { key = key, where = where, service = svc.name, operation = op.name,
           method = op.method, request_json = request_json, safe = safe, job = op.job,
           -- a replayed job's poll may need the request's fields (pipeline_id)
           request = op.job and req or nil }
end

-- job_entry(i, job) -> info | nil (a job that names none: its wait fails
-- before polling, with nothing to journal). Key: the job's service and id.
function _M.job_entry(i, job)
  local plan = jobs.resolve(job)
  if not plan then return nil end
  -- a batch: its ids together (a job that did not start has none)
  local ids = {}
  for k, e in ipairs(plan.jobs) do ids[k] = e.id or "-" end
  local id = concat(ids, ",")
  return { key = plan.service .. " " .. id, where = format("jobs[%d].", i),
           service = plan.service, job_id = id }
end

local function unknown_outcome(j, e, info)
  local s = e.sent
  return errors.new("unknown_outcome", {
    service = info.service, operation = info.operation, key = info.key,
    sent_at = s.at, journal = j.path, line = e.sent_line, request = s.request,
    message = format("%s %s was sent at %s (%s line %d) and no answer was recorded: the "
      .. "cloud may have acted on it; not sent again, since it is not safe to repeat "
      .. "(retry_unsafe = true sends it again)", tostring(s.method or info.method),
      info.key, tostring(s.at), j.path, e.sent_line or 0),
  })
end

-- watched(eng, before) -> an engine that runs before() -> true | nil, err
-- when the task's first request is about to leave (after the request was
-- built and checked and the rate limit let it go; identity look-ups the
-- call needs come first, so they count), and not again once it succeeded.
-- When before fails, nothing is sent: the try fails as never sent.
local function watched(eng, before)
  local pending = true
  local proxy = {}
  function proxy.send(_, req)
    if pending then
      local ok, err = before(eng)
      if not ok then
        return { error = "transport", message = tostring(err.message), sent = false }
      end
      pending = false
    end
    return eng:send(req)
  end
  return _M.proxy(eng, proxy)
end

-- proxy(target, own) -> own, with target's every other field: a method
-- called on it runs on target (the watched engine; `hwcloud run
-- --journal`'s client, whose parallel and wait_all name the journal)
function _M.proxy(target, own)
  return setmetatable(own, { __index = function(_, k)
    local v = target[k]
    if type(v) ~= "function" then return v end
    return function(self, ...)
      if self == own then self = target end
      return v(self, ...)
    end
  end, __tostring = function() return tostring(target) end })
end

-- call(j, i, fn, info) -> a task: the journaled form of the call's task
-- fn. info: key, service, operation, method, request, safe, job (the
-- kind to mark a recorded result with).
function Journal:call(i, fn, info)
  local key = info.key
  local e = (self.entries[self.fan] or {})[key]
  local qkey = quote(key)
  local function sent(eng)
    local ok, err = self:put("sent", qkey, format(',"service":%s,"operation":%s,"method":%s,'
      .. '"safe":%s,"request":%s', quote(info.service), quote(info.operation),
      quote(info.method), info.safe and "true" or "false",
      info.request_json or to_json(info.request or {})))
    if ok and self.sync and not info.safe then ok, err = self:synced(eng, self.lines) end
    return ok, err
  end
  return function(eng)
    if e and e.answer then
      self.replayed[i] = true
      local a = e.answer
      if a.event == "failed" then return nil, restore_error(a.error) end
      local res = a.result
      if info.job then jobs.mark(res, info.job, info.operation, info.request) end
      return res
    end
    if e and e.sent and not info.safe then return nil, unknown_outcome(self, e, info) end
    local res, err = fn(watched(eng, sent))
    self:put(res ~= nil and "answered" or "failed", qkey, answer_tail(res, err))
    -- a record that cannot be written after the answer: the answer still
    -- comes back (a later run will not know it: unsafe, unknown_outcome)
    return res, err
  end
end

-- wait(j, i, fn, info) -> a task: the journaled form of a wait. info: key,
-- service, job_id. Only the job's end is an answer.
function Journal:wait(i, fn, info)
  local e = (self.entries[self.fan] or {})[info.key]
  return function(eng)
    if e and e.answer then
      self.replayed[i] = true
      local a = e.answer
      if a.event == "failed" then return nil, restore_error(a.error) end
      return a.result
    end
    local qkey = quote(info.key)
    local ok, werr = self:put("waiting", qkey, ',"service":' .. quote(info.service)
      .. ',"job_id":' .. quote(info.job_id))
    if not ok then return nil, werr end
    local res, err = fn(eng)
    if res ~= nil or (type(err) == "table" and err.kind == "job_failed") then
      self:put(res ~= nil and "answered" or "failed", qkey, answer_tail(res, err))
    end
    return res, err
  end
end

-- finish(j, results) -> results, with `replayed = true` on the entries
-- that came from the journal, and results.warnings / results.unasked
-- when the journal holds entries this run did not ask for.
function Journal:finish(results)
  for i in pairs(self.replayed) do
    if results[i] then results[i].replayed = true end
  end
  local unasked = self.unasked or {}
  if #unasked > 0 then
    results.unasked = unasked
    local shown = {}
    for i = 1, #unasked > 5 and 5 or #unasked do shown[i] = unasked[i] end
    results.warnings = { format("journal %s: %d entr%s of %s recorded by an earlier run "
      .. "%s not asked for by this one (left as they are): %s%s", self.path, #unasked,
      #unasked == 1 and "y" or "ies", self.fan, #unasked == 1 and "is" or "are",
      concat(shown, "; "), #unasked > 5 and "; ..." or "") }
  end
  return results
end

_M.Journal = Journal
return _M
