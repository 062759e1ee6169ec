-- hwcloud.client: the object scripts hold.
--   client.<service>:<operation>(request [, opts]) -> result | nil, err
--   client:wait(job, opts), client:wait_all(jobs, opts)
--   client:wait_for(service, waiter, request, opts)
--   client:parallel(calls, opts)
-- The client table holds no secrets: credentials live in hwcloud.identity.auth,
-- the rest of the private state in a weak table keyed by the client.

local type, pairs, ipairs, tostring, setmetatable, getmetatable, rawget, rawset, require, error =
  type, pairs, ipairs, tostring, setmetatable, getmetatable, rawget, rawset, require, error
local format = string.format

-- lazy(name): a stand-in for a module that loads it on first access. What
-- a client's making does not need (the call path, jobs and waiters, pages,
-- the journal, the generic request, progress) loads when first used, so
-- `hwcloud.client{}` costs little more than the C core
local function lazy(name)
  return setmetatable({}, { __index = function(t, k)
    local m = require(name)
    setmetatable(t, { __index = m })
    return m[k]
  end })
end

local core = require "hwcloud.core"
local errors = require "hwcloud.errors"
local services = require "hwcloud.services"
local config = require "hwcloud.config"
local auth = require "hwcloud.identity.auth"
local call = lazy "hwcloud.call"
local jobs = lazy "hwcloud.jobs"
local engine_mod = require "hwcloud.engine"
local progress = lazy "hwcloud.progress"
local generic = lazy "hwcloud.generic"
local pager = lazy "hwcloud.pager"
local options = require "hwcloud.options"
local journal = lazy "hwcloud.journal"

local _M = {}

local private = setmetatable({}, { __mode = "k" })

local Client = {}

-- private[self] of a method's self; c.wait(job) (a dot for a colon) passes
-- the job as self, which gets a message that says so
local function env_of(self, name)
  local env = private[self]
  if env == nil then
    error(format("hwcloud: call client:%s(...) with a colon, not a dot", name), 3)
  end
  return env
end
local Proxy = {}

local suggest = require("hwcloud.suggest").hint

-- Options sets (hwcloud.options): a call's are some of the client's, with
-- the same rules; parallel's and wait_all's are checked whole before
-- anything runs.
local client_rules = config.OPTIONS.rules
local CALL_OPTIONS = options.declare {
  timeout = client_rules.timeout, connect_timeout = client_rules.connect_timeout,
  retries = client_rules.retries, retry_unsafe = client_rules.retry_unsafe,
  rate = client_rules.rate,
  -- a byte-stream answer written to this file (hwcloud.call)
  output = options.string,
}
local FAN_OUT_OPTIONS = options.declare {
  concurrency = options.count, progress = client_rules.progress, label = options.string,
  journal = options.string, journal_sync = options.boolean,
}
-- wait_all's: parallel's and a wait's (made on first use: jobs loads then)
local WAIT_ALL_OPTIONS

local OPTS_AT = { prefix = "opts.", field = "opts" }

-- no options given: one shared table, read only (nothing writes a call's
-- options), rather than a new one per call
local NO_OPTS = setmetatable({}, { __newindex = function() error("read-only", 2) end })

-- a call's options; the error names the operation (set on the error, so a
-- good call allocates nothing for it)
local function check_call_opts(opts, svc, op)
  if opts == nil then return NO_OPTS end
  local o, err = options.check(CALL_OPTIONS, opts, OPTS_AT)
  if not o then err.service, err.operation = svc, op end
  return o, err
end

-- The engine for this run (hwcloud.engine: curl, or ngx inside nginx).
local engine_for = engine_mod.of

-- An operation by its name or an alias; called by an alias, errors name
-- the alias (a shallow copy: the C core reads the op with raw access).
local function find_op(svc, opname)
  local op = services.operation(svc, opname)
  if op and op.name ~= opname then
    svc.alias_ops = svc.alias_ops or {}
    local a = svc.alias_ops[opname]
    if not a then
      a = {}
      for k, v in pairs(op) do a[k] = v end
      -- (an answer schema not yet resolved resolves as the op's would)
      setmetatable(a, getmetatable(op))
      a.name = opname
      svc.alias_ops[opname] = a
    end
    op = a
  end
  return op
end

local function op_of(service, operation)
  local svc = services.known(service) and services.load(service)
  if not svc then return nil end
  return svc, type(operation) == "string" and find_op(svc, operation) or nil
end

local operation_names = services.operation_names

-- Runs one operation within the current task of `engine`.
local function invoke(env, engine, svc, op, req, opts)
  if req == nil then req = {} end
  if type(req) ~= "table" then
    return nil, errors.validation("request", "expected a table, got " .. type(req),
      svc.name, op.name)
  end
  local o, oerr = check_call_opts(opts, svc.name, op.name)
  if not o then return nil, oerr end
  -- (a 401 to stale credentials is the call path's to retry: call.lua)
  local res, err = call.invoke(env, engine, svc, op, req, o)
  if res ~= nil and op.job then jobs.mark(res, op.job, op.name, req) end
  return res, err
end

-- invoke as a task of the engine: invoke(env, engine, ...) reordered
local function invoke_task(engine, env, svc, op, req, opts)
  return invoke(env, engine, svc, op, req, opts)
end

-- Service proxies: client.workspaceapp:reinstall_server{...}
Proxy.__index = function(self, opname)
  local svc = rawget(self, "_svc")
  local op = type(opname) == "string" and find_op(svc, opname) or nil
  if not op then
    error(format("hwcloud: %s has no operation '%s'%s (`hwcloud ops %s` lists them)",
      svc.name, tostring(opname),
      type(opname) == "string" and suggest(opname, operation_names(svc)) or "", svc.name), 2)
  end
  local client = rawget(self, "_client")
  local fn = function(this, req, opts)
    if this ~= self then
      -- client.svc.op{...} instead of client.svc:op{...}
      error(format("hwcloud: call %s:%s(...) with a colon, not a dot", svc.name, opname), 2)
    end
    local env = private[client]
    local engine = engine_for(env)
    return engine:call(invoke_task, env, svc, op, req, opts)
  end
  rawset(self, opname, fn)
  return fn
end
Proxy.__tostring = function(self) return "hwcloud service " .. rawget(self, "_svc").name end

Client.__index = function(self, key)
  local m = Client[key]
  if m ~= nil then return m end
  if key == "obs" then
    -- object storage: its own XML API and signatures (hwcloud.obs)
    local o = require("hwcloud.obs").new(private[self], engine_for)
    rawset(self, key, o)
    return o
  end
  if type(key) == "string" and services.known(key) then
    local svc = services.load(key)
    if svc then
      local p = setmetatable({ _svc = svc, _client = self }, Proxy)
      rawset(self, key, p)
      return p
    end
  end
  -- a service of the official SDKs the catalog leaves out (KVS: BSON):
  -- every operation answers nil, err saying why
  local why = services.excluded(key)
  if why then
    local refuse = function()
      return nil, errors.validation("service", "'" .. key .. "' is not in hwcloud's catalog: " .. why
        .. " (client:request sends any request)", key)
    end
    local p = setmetatable({}, { __index = function() return refuse end,
      __tostring = function() return "hwcloud service " .. key .. " (not in the catalog)" end })
    rawset(self, key, p)
    return p
  end
  local names = services.names()
  for _, n in ipairs { "wait", "wait_all", "parallel", "request", "pages", "each", "close", "obs" } do
    names[#names + 1] = n
  end
  local hint = type(key) == "string" and suggest(key, names) or ""
  error(format("hwcloud: client has no service or method '%s'%s%s", tostring(key), hint,
    hint == "" and type(key) == "string" and key:match("^[%a_][%w_]*$")
      and " (a service hwcloud's catalog lacks: client:request{service = ..., method = ..., path = ...})"
      or ""), 2)
end

Client.__tostring = function(self)
  local env = private[self]
  return format("hwcloud.client{region=%s, project_id=%s, auth=%s}",
    tostring(env.cfg.region), tostring(env.auth:project()), env.auth:describe())
end

Client.__name = "hwcloud.client"

-- a job whose poll operation this version of its service lacks
local function no_poll(service, operation)
  return errors.validation("job", format("%s has no operation '%s' to poll with (wait on the "
    .. "service's field that has it)", tostring(service), tostring(operation)), service, operation)
end

-- wait(job, opts) -> final job table | nil, err
-- wait_task(env, job, opts) -> a task that polls `job` to its end
local function wait_task(env, job, opts)
  return function(e)
    return jobs.wait(function(service, operation, req)
      local svc, op = op_of(service, operation)
      if not op then return nil, no_poll(service, operation) end
      return invoke(env, e, svc, op, req)
    end, e, job, opts, env.now)
  end
end

function Client.wait(self, job, opts)
  local env = env_of(self, "wait")
  return engine_for(env):call(wait_task(env, job, opts))
end

-- wait_for(service, waiter, request, opts) -> the answer in the wanted
-- state (true when gone) | nil, err. waiter: a name from
-- hwcloud.waiters(service) or {operation, path, success, failure, gone}.
function Client.wait_for(self, service, waiter, req, opts)
  local env = env_of(self, "wait_for")
  return engine_for(env):call(function(e)
    return jobs.wait_for(function(svc_name, operation, r)
      local svc, op = op_of(svc_name, operation)
      if not op then return nil, no_poll(svc_name, operation) end
      return invoke(env, e, svc, op, r)
    end, e, service, waiter, req, opts, env.now)
  end)
end

local function label_of(opts, default)
  return (opts and opts.label) or default
end

-- Runs fns on the engine with a concurrency bound and optional progress.
local function fan_out(env, fns, opts, default_label)
  local engine = engine_for(env)
  local mode = opts.progress
  if mode == nil then mode = env.cfg.progress end
  if mode == nil then mode = "auto" end
  local p = progress.new(mode, label_of(opts, default_label), #fns, env.now, core.isatty)
  local wrapped = fns
  if p then
    wrapped = {}
    for i, fn in ipairs(fns) do
      wrapped[i] = function(e)
        local r, err = fn(e)
        p:step(err ~= nil)
        return r, err
      end
    end
  end
  if engine:inside() then
    error("hwcloud: parallel and wait_all cannot run inside another client call", 3)
  end
  -- a task that raises (a bug, or a callback's error) still ends the line
  local ok, results = pcall(engine.run, engine, wrapped, opts.concurrency or 16)
  if p then p:finish() end
  if not ok then error(results, 0) end
  return results
end

-- The task of calls[i]: the operation, or a task that answers its
-- validation error in place (not a table, unknown service or operation).
local function call_task(env, i, c)
  local function fail(field, message, service, operation)
    local e = errors.validation(format("calls[%d]%s", i, field), message, service, operation)
    return function() return nil, e end
  end
  if type(c) ~= "table" then
    return fail("", "expected a table {service, operation, request[, opts]}, got " .. type(c))
  end
  local service = c.service or c[1]
  local operation = c.operation or c[2]
  local req = c.request or c[3]
  local copts = c.opts or c[4]
  local svc, op = nil, nil
  if type(service) == "string" then svc, op = op_of(service, operation) end
  if not svc then
    return fail(".service", format("unknown service '%s'%s", tostring(service),
      type(service) == "string" and suggest(service, services.names()) or ""))
  end
  if not op then
    return fail(".operation", format("unknown operation '%s'%s", tostring(operation),
      type(operation) == "string" and suggest(operation, operation_names(svc)) or ""), service,
      type(operation) == "string" and operation or nil)
  end
  return function(e) return invoke(env, e, svc, op, req, copts) end, svc, op, req, copts
end

-- journaled(env, fns, opts, fan, entries, wrap) -> fan_out's results |
-- nil, err: with opts.journal, each task of `entries` (i -> info, see
-- hwcloud.journal) goes through the journal (wrap: Journal.call or .wait)
local function journaled(env, fns, opts, fan, entries, wrap)
  if not opts.journal then
    if opts.journal_sync then
      return nil, errors.validation("opts.journal_sync", "needs opts.journal (the file to sync)")
    end
    return fan_out(env, fns, opts, fan)
  end
  local ok, err = journal.distinct(entries, #fns)
  if not ok then return nil, err end
  local j, jerr = journal.open(opts.journal, opts.label or fan, opts.journal_sync)
  if not j then return nil, jerr end
  j:plan(entries, #fns)
  for i, info in pairs(entries) do fns[i] = wrap(j, i, fns[i], info) end
  local rok, results = pcall(fan_out, env, fns, opts, fan)
  j:close()
  if not rok then error(results, 0) end
  return j:finish(results)
end

-- parallel(calls, opts) -> list of {result, err} in the order of calls
-- | nil, err (bad opts: nothing runs).
-- A call is {service, operation, request[, opts]} or the same with names.
function Client.parallel(self, calls, opts)
  local env = env_of(self, "parallel")
  if type(calls) ~= "table" then
    error("hwcloud: parallel expects a list of calls, got " .. type(calls), 2)
  end
  local oerr
  opts, oerr = options.check(FAN_OUT_OPTIONS, opts, OPTS_AT)
  if not opts then return nil, oerr end
  local fns, entries = {}, {}
  for i, c in ipairs(calls) do
    local fn, svc, op, req, copts = call_task(env, i, c)
    fns[i] = fn
    if svc and opts.journal then
      local info, kerr = journal.entry(i, c, svc, op, req,
        call.safe_to_repeat(op, type(copts) == "table" and copts or NO_OPTS, env.cfg))
      if not info then return nil, kerr end
      entries[i] = info
    end
  end
  return journaled(env, fns, opts, "parallel", entries, journal.Journal.call)
end

-- wait_all(jobs, opts) -> list of {result, err} in the order of jobs
-- | nil, err (bad opts: nothing runs). opts: parallel's and wait's.
function Client.wait_all(self, list, opts)
  local env = env_of(self, "wait_all")
  local oerr
  if not WAIT_ALL_OPTIONS then WAIT_ALL_OPTIONS = options.merge(FAN_OUT_OPTIONS, jobs.OPTIONS) end
  opts, oerr = options.check(WAIT_ALL_OPTIONS, opts, OPTS_AT)
  if not opts then return nil, oerr end
  local wopts = options.pick(jobs.OPTIONS, opts)
  local fns, entries = {}, {}
  for i, job in ipairs(list) do
    fns[i] = wait_task(env, job, wopts)
    if opts.journal then entries[i] = journal.job_entry(i, job) end
  end
  local o = options.pick(FAN_OUT_OPTIONS, opts)
  o.concurrency = opts.concurrency or 64
  return journaled(env, fns, o, "wait", entries, journal.Journal.wait)
end

-- request{service, method, path, query, body, headers} -> result | nil, err
-- The generic call, for an API hwcloud has no description of: signed with
-- the client's credentials, sent to that service's endpoint, with the same
-- errors and retry policy as every operation.
function Client.request(self, r)
  local env = env_of(self, "request")
  local op, svc = generic.op(r)
  if not op then return nil, svc end
  local req = generic.request(r)
  return engine_for(env):call(function(e)
    local res, err = call.invoke(env, e, svc, op, req, {})
    return res, err
  end)
end

-- pages(service, operation, request[, opts]) -> iterator of page, err
-- each(service, operation, request[, opts]) -> iterator of item, err
-- over any list operation: offset/limit, marker/limit, page/page_size.
function Client.pages(self, service, operation, req, opts)
  local env = env_of(self, "pages")
  if service == "obs" and operation == "list_objects" then
    return require("hwcloud.obs").pages(self.obs, req)
  end
  local svc, op = op_of(service, operation)
  if not svc or not op then
    local why = not svc and format("unknown service '%s'%s", tostring(service),
        type(service) == "string" and suggest(service, services.names()) or "")
      or format("%s has no operation '%s'%s", tostring(service), tostring(operation),
        type(operation) == "string" and suggest(operation, operation_names(svc)) or "")
    return pager.failed(errors.validation(not svc and "service" or "operation", why))
  end
  return pager.pages(op, req, function(r)
    return engine_for(env):call(invoke_task, env, svc, op, r, opts)
  end)
end

function Client.each(self, service, operation, req, opts)
  if service == "obs" and operation == "list_objects" then
    return pager.each(Client.pages(self, service, operation, req, opts), require("hwcloud.obs").PAGER_OP)
  end
  local _, op = op_of(service, operation)
  return pager.each(Client.pages(self, service, operation, req, opts), op)
end

function Client.close(self)
  local env = env_of(self, "close")
  if env and env.transport and env.curl_engine and env.curl_engine:busy() then
    -- called from a callback inside a run: the run ends first, then the
    -- transport closes; the next call starts afresh
    env.curl_engine:close_when_idle()
    env.transport, env.curl_engine = nil, nil
    return
  end
  if env and env.transport then
    env.transport:close()
    env.transport, env.curl_engine = nil, nil
  end
end

-- new(opts) -> client | nil, err
function _M.new(opts)
  local cfg, err = config.new(opts)
  if not cfg then return nil, err end
  local runtime = type(jit) == "table" and jit.version or _VERSION
  local user_agent = "hwcloud/" .. core.version .. " (" .. runtime .. ")"
  if cfg.user_agent then user_agent = user_agent .. " " .. cfg.user_agent end
  local creds = cfg.credentials
  cfg.credentials = nil
  local env = {
    cfg = cfg,
    user_agent = user_agent,
    conform = services.conform,
    json_decode = core.decode,
    now = core.now,
  }
  env.endpoint = function(svc) return config.endpoint(cfg, svc) end
  -- the identity's requests are calls like any other, with this env
  env.auth = auth.new(creds, env)
  env.ngx_ok = engine_mod.ngx_check()
  local client = setmetatable({}, Client)
  private[client] = env
  return client
end

-- recording(opts) -> client, sends | nil, err: a client whose calls run the
-- whole pipeline (configuration, build, auth, signing) on an engine whose
-- transport records each request instead of sending it and answers 200 with
-- an empty body. sends[i] = {method, url, headers (lines), body,
-- user_agent}: what the curl transport would have sent (it adds the
-- User-Agent itself). For dry runs.
function _M.recording(opts)
  local client, err = _M.new(opts)
  if not client then return nil, err end
  local env = private[client]
  local sends, done = {}, {}
  local t = {}
  function t.submit(_, id, method, url, headers, body, o)
    -- a multipart body is sent in pieces: recorded whole
    if body == nil and o and o.upload_pieces then
      body = require("hwcloud.body").concat(o.upload_pieces)
    end
    sends[#sends + 1] = { method = method, url = url, headers = headers, body = body,
                          user_agent = env.user_agent }
    done[#done + 1] = { id = id, status = 200, headers = {}, body = "" }
    return true
  end
  function t.pending() return #done end
  function t.poll()
    local out = done
    done = {}
    return out
  end
  function t.close() end
  env.ngx_ok = nil
  env.cfg.transport = "curl"
  env.transport, env.curl_engine = t, require("hwcloud.engine.curl").new(t, core.now)
  return client, sends
end

return _M
