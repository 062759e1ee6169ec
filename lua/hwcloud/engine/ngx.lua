-- hwcloud.engine.ngx: the engine hwcloud uses inside nginx, where a
-- blocking libcurl call would stall every request of the worker.
--
-- The contract of hwcloud.engine (engine/init.lua: run, call, send, sleep,
-- inside, the completions), as hwcloud.engine.curl keeps it, but
-- tasks run on ngx.thread light threads and requests go out over
-- cosockets through hwcloud.transport.ngx_http (HTTP/1.1, TLS through
-- sslhandshake, keep-alive pools). Validation, marshaling and signing
-- still come from the C core.
--
-- TLS trust inside nginx comes from the `lua_ssl_trusted_certificate`
-- directive (cosockets take no per-request CA file, so the client's
-- `ca_file` is not used here); `verify_tls = false` is honoured per client.
-- Host names are resolved by nginx's `resolver` directive, not
-- /etc/hosts: without one only IP addresses can be reached.
--
-- Timeouts: `connect_timeout` bounds the TCP connect (and the TLS
-- handshake), `timeout` the whole exchange after it: every send and
-- receive gets what is left of it.

local ngx = ngx
local type, tostring, pairs, error, setmetatable, pcall, rawget =
  type, tostring, pairs, error, setmetatable, pcall, rawget
local http = require "hwcloud.transport.ngx_http"
local core_parse_url = require("hwcloud.core").parse_url
local find, sub, byte = string.find, string.sub, string.byte

local fail = http.fail

local _M = {
  -- exchanges made by this module in this Lua VM (one per nginx worker);
  -- the specs read it to see which engine served a call
  -- (sends: calls of engine:send; requests: requests written; connects:
  -- new connections)
  stats = http.stats,
}
local stats = _M.stats

-- Phases in which cosockets work (lua-nginx-module: "Cosockets Not
-- Available Everywhere"); elsewhere the client falls back to libcurl.
local COSOCKET_PHASES = {
  rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}

local function usable()
  return type(ngx) == "table" and ngx.get_phase ~= nil
    and COSOCKET_PHASES[ngx.get_phase()] == true
end
_M.usable = usable

-- Splits an absolute URL into its origin (scheme://authority) and the rest.
local function split_origin(url)
  local s = find(url, "://", 1, true)
  if not s then return nil end
  local e = find(url, "[/?#]", s + 3)
  if e then return sub(url, 1, e - 1), sub(url, e), s end
  return url, "", s
end

-- The origin-form target of what follows the origin: the fragment never
-- goes on the wire, and what is left starts with "/", even for "#x" or "?q".
local function target_of(rest)
  local h = find(rest, "#", 1, true)
  if h then rest = sub(rest, 1, h - 1) end
  if byte(rest, 1) ~= 47 then rest = "/" .. rest end
  return rest
end

-- parse_url(url) -> {scheme, host, port, path (the target), authority,
-- userinfo} | nil, message: core.parse_url, the one URL parser, plus what
-- the wire needs.
local function parse_url(url)
  local origin, rest, s = split_origin(url)
  if not origin then return nil, "url must be an absolute URL with a host" end
  local u, err = core_parse_url(origin)
  if not u then return nil, err end
  local authority = sub(origin, s + 3)
  -- user:password@ is not part of where to connect
  if u.userinfo then authority = sub(authority, #u.userinfo + 2) end
  return { scheme = u.scheme, host = u.host, port = u.port, path = target_of(rest),
           authority = authority, userinfo = u.userinfo }
end
_M.parse_url = parse_url

-- A log line once per worker for an option cosockets cannot honour.
local warned = {}
local function warn_once(what, message)
  if warned[what] then return end
  warned[what] = true
  ngx.log(ngx.WARN, "hwcloud: ", message)
end

local Engine = {}
Engine.__index = Engine

-- An engine for a place where cosockets do not work: every send fails
-- with a clear message instead of raising inside nginx.
local function unusable_message()
  if type(ngx) ~= "table" or not ngx.get_phase then
    return "transport 'ngx' needs nginx's Lua module (the ngx API); use transport = 'curl'"
  end
  return "transport 'ngx' cannot run in nginx's " .. tostring(ngx.get_phase())
    .. " phase (no cosockets there); leave transport unset to fall back to libcurl"
end

-- engine(env) -> the ngx engine of a client (hwcloud.engine's contract)
function _M.engine(env)
  local c = env.cfg
  local cfg = {
    connect_timeout = c.connect_timeout, timeout = c.timeout, verify_tls = c.verify_tls,
    max_response = c.max_response, keepalive_ms = 60000, pool_size = 64,
  }
  if c.proxy then
    -- config.lua has checked it is an http(s) URL
    cfg.proxy_url = parse_url(c.proxy)
    local userinfo = cfg.proxy_url and cfg.proxy_url.userinfo
    if userinfo and type(ngx) == "table" then
      cfg.proxy_auth = ngx.encode_base64(ngx.unescape_uri(userinfo))
    end
  end
  if c.ca_file and type(ngx) == "table" then
    warn_once("ca_file", "ca_file is not used by the ngx transport; nginx trusts the "
      .. "certificates of the lua_ssl_trusted_certificate directive")
  end
  -- endpoints: origin -> what every request there shares, made once
  return setmetatable({ cfg = cfg, endpoints = {}, last = nil }, Engine)
end

-- Light threads share nothing that needs guarding: a task never runs
-- inside another in a way the loop must know about.
function Engine.inside() return false end

-- Refuses to go on once the run this view belongs to has failed.
local function abandoned(self)
  local st = rawget(self, "run_state")
  if st and st.failure then error("hwcloud: the run was abandoned after a failure", 0) end
end

-- The endpoint of `url` (made on its first request) and the request's
-- target | nil, completion. The origin of the last request is tried first:
-- a client mostly talks to one.
local function route(self, url)
  local last = self.last
  if last then
    local n = last.n
    local b = byte(url, n + 1)
    if (b == 47 or b == 63 or b == 35 or b == nil) and sub(url, 1, n) == last.origin then
      return last.ep, target_of(sub(url, n + 1))
    end
  end
  local origin, rest = split_origin(url)
  if not origin then return nil, fail("transport", "bad URL", false) end
  local known = self.endpoints[origin]
  if not known then
    local u = parse_url(origin)
    if not u then return nil, fail("transport", "bad URL", false) end
    if u.scheme ~= "http" and u.scheme ~= "https" then
      return nil, fail("transport", "unsupported scheme " .. u.scheme, false)
    end
    known = { origin = origin, n = #origin, ep = http.endpoint(self.cfg, u) }
    self.endpoints[origin] = known
  end
  self.last = known
  return known.ep, target_of(rest)
end

-- The configuration of one request: the engine's, or a copy with the
-- call's own timeouts.
local function request_cfg(cfg, o)
  if o and ((o.timeout and o.timeout ~= cfg.timeout)
      or (o.connect_timeout and o.connect_timeout ~= cfg.connect_timeout)) then
    local rc = {}
    for k, v in pairs(cfg) do rc[k] = v end
    rc.timeout = o.timeout or cfg.timeout
    rc.connect_timeout = o.connect_timeout or cfg.connect_timeout
    return rc
  end
  return cfg
end

-- send(req) -> completion. req = {method, url, headers, body, opts}.
function Engine:send(req)
  abandoned(self)
  stats.sends = stats.sends + 1
  if not usable() then return fail("transport", unusable_message(), nil) end
  local cfg = request_cfg(self.cfg, req.opts)
  local ep, target = route(self, req.url)
  if not ep then return target end
  -- the cached clock made honest once, as the request starts
  ngx.update_time()
  -- a dead pooled connection is replaced by the next one, at most once
  -- per pooled connection and then by a fresh one
  for _ = 1, cfg.pool_size + 1 do
    local r = http.exchange(cfg, ep, req, target)
    if not r.retry_fresh then return r end
  end
  return fail("transport", "connection closed by peer", true)
end

-- sleep(seconds): ngx.sleep, which yields to nginx's event loop. Where it
-- is disabled there is nothing non-blocking to wait with: return at once.
function Engine:sleep(seconds)
  abandoned(self)
  if seconds and seconds > 0 and usable() then ngx.sleep(seconds) end
  abandoned(self)
end

-- run(fns, concurrency) -> results, each {result, err} (also [1], [2]) in
-- the order of fns: a pool of `concurrency` light threads pulling tasks in
-- order. An error raised by a task (a bug, not a cloud failure) stops the
-- others and is raised again here: once it happened, no task of the run
-- starts, sends or sleeps again (they get a view of the engine that
-- refuses), so nothing goes out after a run has failed.
function Engine:run(fns, concurrency)
  local n = #fns
  concurrency = concurrency or n
  if concurrency > n then concurrency = n end
  -- not (>= 1) also catches NaN, which would otherwise run nothing
  if not (concurrency >= 1) then concurrency = (n > 0) and 1 or 0 end -- luacheck: ignore 581
  local results, nexti = {}, 1
  local state = { failure = nil }
  local view = setmetatable({ run_state = state }, { __index = self })
  local function worker()
    while nexti <= n and not state.failure do
      local i = nexti
      nexti = i + 1
      local ok, res, err = pcall(fns[i], view)
      if not ok then
        state.failure = state.failure or res
        return
      end
      results[i] = { res, err, result = res, err = err }
    end
  end
  if concurrency == 1 then
    -- no thread needed: run in the caller's coroutine
    worker()
  else
    local spawn, wait = ngx.thread.spawn, ngx.thread.wait
    local threads = {}
    for k = 1, concurrency do threads[k] = spawn(worker) end
    for k = 1, #threads do
      local ok, err = wait(threads[k])
      if not ok and not state.failure then state.failure = err end
    end
  end
  if state.failure then error(state.failure, 0) end
  return results
end

-- call(fn, ...) -> fn(engine, ...)'s two results, in the caller's
-- coroutine (no closure per call: the hot path of a handler).
function Engine:call(fn, ...)
  return fn(self, ...)
end

return _M
