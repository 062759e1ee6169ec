-- hwcloud.engine.curl: runs tasks over one transport with one event loop.
--
-- A task is a function(engine) run as a coroutine. It calls engine:send(req)
-- to make a request and engine:sleep(seconds) to wait; both yield to the
-- loop, which submits requests to the transport (libcurl's multi interface
-- in the C core), polls it once for all tasks, and resumes each task when
-- its completion arrives or its timer is due. No task ever blocks the
-- others: one call is a run of one task, a fan-out a run of many. The
-- contract it keeps, with hwcloud.engine.ngx, is written in hwcloud.engine
-- (engine/init.lua); the transport underneath has submit/poll/pending/close
-- (doc/internals.md, core.transport).

local coroutine, setmetatable, error, tostring, pcall, require =
  coroutine, setmetatable, error, tostring, pcall, require
local create, resume, yield, status, running =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.status, coroutine.running
-- Inside nginx the Lua module wraps the coroutine API and disables it in
-- the phases without cosockets (init_worker, set, log), which are exactly
-- where this engine serves. Its tasks yield only to its own loop, so Lua's
-- own functions, which the module keeps as coroutine._create etc., fit.
if coroutine._create and coroutine._resume and coroutine._yield and coroutine._status then
  create, resume, yield, status =
    coroutine._create, coroutine._resume, coroutine._yield, coroutine._status
end
local floor, huge = math.floor, math.huge
local traceback = debug.traceback
local select, unpack = select, table.unpack or unpack

local _M = {}

local Engine = {}
Engine.__index = Engine

-- engine(env) -> the curl engine of a client: a core.transport with the
-- client's options, on the core's monotonic clock.
function _M.engine(env)
  local core = require "hwcloud.core"
  local cfg = env.cfg
  local t = core.transport {
    connect_timeout = cfg.connect_timeout, timeout = cfg.timeout,
    ca_file = cfg.ca_file, verify_tls = cfg.verify_tls, proxy = cfg.proxy,
    max_response = cfg.max_response, user_agent = env.user_agent, http2 = cfg.http2,
    max_connections = cfg.max_connections,
  }
  return _M.new(t, core.now)
end

-- new(transport, now) -> engine. transport has submit/poll/pending; now()
-- is a monotonic clock in seconds.
function _M.new(transport, now)
  return setmetatable({
    transport = transport, now = now,
    waiting = {},     -- request id -> task record
    timers = {},      -- array of {at, task}
    tasks = {},       -- coroutine -> true, for inside()
    next_id = 0,
    running = false,
  }, Engine)
end

-- True when the caller runs inside one of this engine's tasks.
function Engine:inside()
  local co = running()
  return co ~= nil and self.tasks[co] == true
end

-- send(req) -> completion. req = {method, url, headers, body, opts}.
function Engine:send(req)
  return yield("send", req)
end

function Engine:sleep(seconds)
  if seconds and seconds > 0 then yield("sleep", seconds) end
end

-- Resumes a task and handles what it yields next. Returns nothing; a task
-- that finishes stores its two results and calls on_done.
local function step(self, rec, ...)
  local ok, what, arg = resume(rec.co, ...)
  if not ok then
    -- a bug in hwcloud or in a user callback: not a cloud failure, so raise
    -- (after the loop has been left in a clean state by the caller)
    self.failure = traceback(rec.co, tostring(what))
    return
  end
  if status(rec.co) == "dead" then
    self.tasks[rec.co] = nil
    self.active = self.active - 1
    local res, err = what, arg
    self.results[rec.index] = { res, err, result = res, err = err }
    return
  end
  if what == "send" then
    local id = self.next_id + 1
    self.next_id = id
    local r = arg
    -- a raise from the transport (a bad option) ends the run, cleanly
    local sok, sent, msg = pcall(self.transport.submit, self.transport, id, r.method, r.url,
      r.headers, r.body, r.opts)
    if not sok then
      self.failure = tostring(sent)
      return
    end
    if not sent then
      return step(self, rec, { id = id, error = "transport", message = msg, sent = false })
    end
    self.waiting[id] = rec
  elseif what == "sleep" then
    local timers = self.timers
    timers[#timers + 1] = { at = self.now() + arg, rec = rec }
  else
    self.failure = "hwcloud.engine: a task yielded outside engine:send/sleep"
  end
end

-- Resumes the tasks whose timers are due; returns how many.
local function fire_timers(self)
  local timers, now = self.timers, self.now()
  local due, keep = {}, {}
  for i = 1, #timers do
    local t = timers[i]
    if t.at <= now then due[#due + 1] = t else keep[#keep + 1] = t end
  end
  if #due == 0 then return 0 end
  self.timers = keep
  for i = 1, #due do
    -- after a failure no task may go on (and send another request)
    if self.failure then return i end
    step(self, due[i].rec)
  end
  return #due
end

local function next_wait_ms(self)
  local soonest = huge
  for i = 1, #self.timers do
    if self.timers[i].at < soonest then soonest = self.timers[i].at end
  end
  if soonest == huge then return 1000 end
  local ms = floor((soonest - self.now()) * 1000 + 0.5)
  if ms < 0 then return 0 end
  if ms > 1000 then return 1000 end
  return ms
end

-- The loop of one run: starts tasks up to `concurrency`, fires timers,
-- polls the transport, resumes tasks. Leaves when every task is done or
-- one failed.
local function loop(self, fns, n, concurrency)
  local nexti = 1
  while true do
    while self.active < concurrency and nexti <= n and not self.failure do
      local co = create(fns[nexti])
      local rec = { co = co, index = nexti }
      nexti = nexti + 1
      self.tasks[co] = true
      self.active = self.active + 1
      step(self, rec, self)
    end
    if self.active == 0 or self.failure then return end
    -- A task a timer resumed may have ended (freeing a slot, or ending the
    -- run) or set a new timer: back to the top before waiting, or the poll
    -- below would wait for nothing.
    if fire_timers(self) == 0 then
      local done = self.transport:poll(next_wait_ms(self))
      for i = 1, #done do
        local c = done[i]
        local rec = self.waiting[c.id]
        if rec then
          self.waiting[c.id] = nil
          step(self, rec, c)
          if self.failure then return end
        end
      end
    end
  end
end

-- run(fns, concurrency) -> results, each {result, err} (also [1], [2]) in
-- the order of fns. At most `concurrency` tasks are in flight. Whatever
-- raises inside (a task, a callback, the transport), the engine is left
-- ready for the next run and the error is raised again here.
function Engine:run(fns, concurrency)
  if self.running then
    error("hwcloud: a client's calls cannot be nested outside its own tasks", 2)
  end
  local n = #fns
  concurrency = concurrency or n
  -- not (>= 1) also catches NaN, which would otherwise run nothing
  if not (concurrency >= 1) then concurrency = 1 end -- luacheck: ignore 581
  self.running, self.results, self.active, self.failure = true, {}, 0, nil
  -- the transport keeps as many connections as the run has requests in
  -- flight, so each round finds the last round's connections open
  local size = self.transport.size
  if size and n > 0 then pcall(size, self.transport, concurrency < n and concurrency or n) end
  local ok, perr = pcall(loop, self, fns, n, concurrency)
  if not ok and not self.failure then self.failure = tostring(perr) end
  local results, failure = self.results, self.failure
  self.running, self.results, self.failure = false, nil, nil
  if failure then
    -- forget the abandoned tasks; their transfers finish unseen
    self.waiting, self.timers, self.tasks = {}, {}, {}
  end
  if self.closing then
    -- client:close() was called from inside this run: done now
    self.closing = nil
    pcall(self.transport.close, self.transport)
  end
  if failure then error(failure, 0) end
  return results
end

-- True while a run is in progress.
function Engine:busy()
  return self.running
end

-- close_when_idle(): closes the transport when the current run ends (a
-- callback inside the run closing the client must not pull the transport
-- from under the loop).
function Engine:close_when_idle()
  self.closing = true
end

-- call(fn, ...) -> fn(engine, ...)'s two results, running fn as a task:
-- inline when already inside one of this engine's tasks (a callback
-- calling the client), else as a run of one. The arguments are passed on,
-- so a caller needs no closure per call.
function Engine:call(fn, ...)
  if self:inside() then return fn(self, ...) end
  local n, args = select("#", ...), { ... }
  local r = self:run({ function(e) return fn(e, unpack(args, 1, n)) end }, 1)[1]
  return r[1], r[2]
end

return _M
