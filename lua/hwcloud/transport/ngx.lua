-- hwcloud.transport.ngx: the engine hwcloud uses inside nginx, where a
-- blocking libcurl call would stall every request of the worker.
--
-- Same interface as hwcloud.engine (run, call, send, sleep, inside), but
-- tasks run on ngx.thread light threads and requests go out over
-- cosockets (HTTP/1.1, TLS through sslhandshake, keep-alive pools).
-- Validation, marshaling and signing still come from the C core.
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
local type, tonumber, tostring, pairs, error, setmetatable, pcall, rawget =
  type, tonumber, tostring, pairs, error, setmetatable, pcall, rawget
local retry = require "hwcloud.retry"
local concat = table.concat
local lower, find, sub, format, match, gsub =
  string.lower, string.find, string.sub, string.format, string.match, string.gsub

local _M = {
  -- exchanges made by this module in this Lua VM (one per nginx worker);
  -- the specs read it to see which engine served a call
  -- (sends: calls of engine:send; requests: requests written; connects:
  -- new connections)
  stats = { sends = 0, requests = 0, connects = 0 },
}

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

local function parse_url(url)
  local scheme, authority, path = match(url, "^(%a[%w+.-]*)://([^/?#]+)(.*)$")
  if not scheme then return nil end
  scheme = lower(scheme)
  -- user:password@ is not part of where to connect
  authority = gsub(authority, "^.*@", "")
  local host, port = match(authority, "^%[(.-)%]:?(%d*)$")
  if not host then host, port = match(authority, "^([^:]+):?(%d*)$") end
  if not host then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  -- the fragment never goes on the wire; what is left must still be an
  -- origin-form target ("/..."), even for "#x" or "?q"
  path = gsub(path, "#.*$", "")
  if sub(path, 1, 1) ~= "/" then path = "/" .. path end
  return { scheme = scheme, host = host, port = port, path = path, authority = authority }
end
_M.parse_url = parse_url

local function fail(kind, message, sent)
  return { error = kind, message = message, sent = sent }
end

local function classify(err)
  return (err == "timeout") and "timeout" or "transport"
end

-- A monotonic-enough clock in seconds (ngx.now is cached per event loop
-- iteration; update it so deadlines are honest).
local function clock()
  ngx.update_time()
  return ngx.now()
end

-- Sets the socket's send/read timeouts to what is left before `deadline`.
-- Returns false when nothing is left.
local function remaining(sock, deadline)
  local left = (deadline - clock()) * 1000
  if left < 1 then return false end
  sock:settimeouts(left, left, left)
  return true
end

-- Limits on what a server may send before the body: a header block is at
-- most MAX_HEADER_BYTES over at most MAX_HEADER_LINES lines (libcurl's own
-- bound is of the same order).
local MAX_HEADER_BYTES = 256 * 1024
local MAX_HEADER_LINES = 500
local READ_SIZE = 65536
local SEND_PIECE = 65536

-- A buffered reader over a cosocket that honours a deadline. A cosocket's
-- timeout only bounds one idle wait, so a server sending a byte a second
-- would hold a plain receive() for ever; here every read is receiveany(),
-- which returns what has arrived, and the deadline is checked before each.
local Reader = {}
Reader.__index = Reader

local function reader(sock, deadline)
  return setmetatable({ sock = sock, deadline = deadline, buf = "", pos = 1 }, Reader)
end

-- Reads more into the buffer. Returns true, or nil and "timeout" / the
-- socket's error.
function Reader:fill(want)
  if not remaining(self.sock, self.deadline) then return nil, "timeout" end
  local data, err = self.sock:receiveany(want or READ_SIZE)
  if not data then return nil, err end
  if self.pos > 1 then
    self.buf, self.pos = sub(self.buf, self.pos), 1
  end
  self.buf = self.buf .. data
  return true
end

-- One line without its CRLF; at most `max` bytes long.
function Reader:line(max)
  local scanned = 0
  while true do
    local i = find(self.buf, "\n", self.pos + scanned, true)
    if i then
      local l = sub(self.buf, self.pos, i - 1)
      self.pos = i + 1
      if sub(l, -1) == "\r" then l = sub(l, 1, -2) end
      if #l > max then return nil, "line too long" end
      return l
    end
    scanned = #self.buf - self.pos + 1
    if scanned > max + 1 then return nil, "line too long" end
    local ok, err = self:fill()
    if not ok then return nil, err end
  end
end

-- Exactly n bytes (n within the response cap).
function Reader:bytes(n)
  local have = #self.buf - self.pos + 1
  if have >= n then
    local s = sub(self.buf, self.pos, self.pos + n - 1)
    self.pos = self.pos + n
    return s
  end
  local parts = { sub(self.buf, self.pos) }
  self.buf, self.pos = "", 1
  local got = have
  while got < n do
    if not remaining(self.sock, self.deadline) then return nil, "timeout" end
    local want = n - got
    if want > READ_SIZE then want = READ_SIZE end
    local data, err = self.sock:receiveany(want)
    if not data then return nil, err end
    parts[#parts + 1] = data
    got = got + #data
  end
  local s = concat(parts)
  if #s > n then
    self.buf = sub(s, n + 1)
    s = sub(s, 1, n)
  end
  return s
end

-- Everything up to the server's close, stopping past `cap` bytes.
function Reader:rest(cap)
  local parts, got = { sub(self.buf, self.pos) }, #self.buf - self.pos + 1
  self.buf, self.pos = "", 1
  if got > cap then return nil, "cap" end
  while true do
    if not remaining(self.sock, self.deadline) then return nil, "timeout" end
    local data, err = self.sock:receiveany(READ_SIZE)
    if not data then
      if err == "closed" then return concat(parts) end
      return nil, err
    end
    got = got + #data
    if got > cap then return nil, "cap" end
    parts[#parts + 1] = data
  end
end

-- Reads a chunked body, stopping past `cap` bytes. Every malformed piece
-- is an error returned, never raised.
local function read_chunked(r, cap)
  local parts, total = {}, 0
  while true do
    local line, err = r:line(1024)
    if not line then return nil, err end
    local hex = match(line, "^%s*(%x+)%s*[;]?")
    if not hex or #hex > 15 then return nil, "bad chunk size" end
    local size = tonumber(hex, 16)
    if not size then return nil, "bad chunk size" end
    if size == 0 then
      -- trailers end with an empty line
      local n = 0
      repeat
        line, err = r:line(MAX_HEADER_BYTES)
        if not line then return nil, err end
        n = n + 1
        if n > MAX_HEADER_LINES then return nil, "too many trailer lines" end
      until line == ""
      return concat(parts)
    end
    total = total + size
    if total > cap then return nil, "cap" end
    local data, derr = r:bytes(size)
    if not data then return nil, derr end
    parts[#parts + 1] = data
    local crlf, cerr = r:line(2) -- CRLF after each chunk
    if not crlf then return nil, cerr end
    if crlf ~= "" then return nil, "bad chunk end" end
  end
end

-- Reads a header block up to its empty line into a map of lower-case
-- names; repeated headers are joined with ", " once at the end, so the
-- work stays linear however many there are.
local function read_headers(r)
  local headers, lists = {}, nil
  local bytes, lines = 0, 0
  while true do
    local line, err = r:line(MAX_HEADER_BYTES - bytes)
    if not line then
      if err == "line too long" then return nil, "response headers too large" end
      return nil, err
    end
    if line == "" then break end
    lines = lines + 1
    bytes = bytes + #line + 2
    if lines > MAX_HEADER_LINES then return nil, "too many response header lines" end
    if bytes > MAX_HEADER_BYTES then return nil, "response headers too large" end
    local name, value = match(line, "^([^:]+):%s*(.-)%s*$")
    if name then
      name = lower(name)
      local prev = headers[name]
      if prev == nil then
        headers[name] = value
      else
        lists = lists or {}
        local l = lists[name]
        if not l then
          l = { prev }
          lists[name] = l
        end
        l[#l + 1] = value
      end
    end
  end
  if lists then
    for name, l in pairs(lists) do headers[name] = concat(l, ", ") end
  end
  return headers
end

-- Opens (or reuses) a connection, tunnelling through an HTTP proxy for
-- https when one is configured. Returns sock, reused | nil, completion.
local function connect(cfg, u, pool)
  local sock = ngx.socket.tcp()
  local cms = cfg.connect_timeout * 1000
  sock:settimeouts(cms, cms, cms)
  local proxy = cfg.proxy_url
  local ok, err
  if proxy then
    ok, err = sock:connect(proxy.host, proxy.port, { pool = pool })
  else
    ok, err = sock:connect(u.host, u.port, { pool = pool })
  end
  if not ok then
    return nil, fail(classify(err), "connect to " .. (proxy and proxy.authority or u.authority)
      .. ": " .. tostring(err), false)
  end
  local reused = (sock:getreusedtimes() or 0) > 0
  if not reused then
    _M.stats.connects = _M.stats.connects + 1
    if proxy and u.scheme == "https" then
      local hp = u.host .. ":" .. u.port
      if find(u.host, ":", 1, true) then hp = "[" .. u.host .. "]:" .. u.port end
      local req = { "CONNECT ", hp, " HTTP/1.1\r\nHost: ", hp, "\r\n" }
      if cfg.proxy_auth then
        req[#req + 1] = "Proxy-Authorization: Basic " .. cfg.proxy_auth .. "\r\n"
      end
      req[#req + 1] = "\r\n"
      local _, serr = sock:send(concat(req))
      if serr then
        sock:close()
        return nil, fail(classify(serr), "proxy: " .. serr, false)
      end
      local pr = reader(sock, clock() + cfg.connect_timeout)
      local status, rerr = pr:line(8192)
      if not status then
        sock:close()
        return nil, fail(classify(rerr), "proxy: " .. tostring(rerr), false)
      end
      if not match(status, "^HTTP/%d%.%d 2%d%d") then
        sock:close()
        return nil, fail("transport", "proxy refused the tunnel: " .. status, false)
      end
      local _, herr = read_headers(pr)
      if herr then
        sock:close()
        return nil, fail(classify(herr), "proxy: " .. tostring(herr), false)
      end
    end
    if u.scheme == "https" then
      -- reused_session must stay nil: `false` makes some lua-resty-core
      -- releases skip the certificate host check. Those releases also
      -- raise ("assertion failed!") instead of returning an error when
      -- the check fails on a handshake that completed at once, so the
      -- call is protected and a raise counts as a failed verification.
      local pok, sess, herr = pcall(sock.sslhandshake, sock, nil, u.host, cfg.verify_tls)
      if not pok then
        herr = "certificate verification failed (" .. tostring(sess) .. ")"
        sess = nil
      end
      if not sess then
        sock:close()
        return nil, fail(classify(herr), "TLS handshake with " .. u.authority .. ": "
          .. tostring(herr), false)
      end
    end
  end
  return sock, reused
end

-- One HTTP/1.1 exchange. Returns a completion shaped like the C core's, or
-- {retry_fresh = true} when a pooled connection turned out to be dead
-- before any answer came back.
local function exchange(cfg, req, u)
  local pool = format("hwcloud:%s:%s:%s:%s:%s", u.scheme, u.host, tostring(u.port),
    cfg.verify_tls and "v" or "n", cfg.proxy_url and cfg.proxy_url.authority or "")
  local sock, reused = connect(cfg, u, pool)
  if not sock then return reused end
  local deadline = clock() + cfg.timeout

  local target = u.path
  if cfg.proxy_url and u.scheme == "http" then
    -- absolute form towards a plain HTTP proxy, without any user info
    target = u.scheme .. "://" .. u.authority .. u.path
  end
  local body = req.body or ""
  local lines = { req.method, " ", target, " HTTP/1.1\r\n" }
  local has_host = false
  local headers = req.headers
  for i = 1, #headers do
    local h = headers[i]
    if lower(sub(h, 1, 5)) == "host:" then has_host = true end
    lines[#lines + 1] = h
    lines[#lines + 1] = "\r\n"
  end
  if not has_host then lines[#lines + 1] = "Host: " .. u.authority .. "\r\n" end
  if cfg.proxy_auth and cfg.proxy_url and u.scheme == "http" then
    lines[#lines + 1] = "Proxy-Authorization: Basic " .. cfg.proxy_auth .. "\r\n"
  end
  local m = req.method
  if req.body or m == "POST" or m == "PUT" or m == "PATCH" then
    lines[#lines + 1] = "Content-Length: " .. #body .. "\r\n"
  end
  lines[#lines + 1] = "\r\n"
  lines[#lines + 1] = body
  _M.stats.requests = _M.stats.requests + 1

  -- sent in pieces with the deadline checked before each: a server that
  -- reads a byte at a time would otherwise hold one large send for ever
  local wire = concat(lines)
  for i = 1, #wire, SEND_PIECE do
    if not remaining(sock, deadline) then
      sock:close()
      if i == 1 then return fail("timeout", "timed out before sending", false) end
      return fail("timeout", "send: timed out after " .. cfg.timeout .. " s", true)
    end
    local _, serr = sock:send(sub(wire, i, i + SEND_PIECE - 1))
    if serr then
      sock:close()
      -- a stale pooled connection: try again on another one
      if i == 1 and reused and retry.resend_fresh(req.opts, false) then
        return { retry_fresh = true }
      end
      return fail(classify(serr), "send: " .. serr, true)
    end
  end

  local status, version, resp_headers
  local r = reader(sock, deadline)
  local interim = 0
  repeat
    local status_line, rerr = r:line(8192)
    if not status_line then
      sock:close()
      if rerr == "timeout" then
        return fail("timeout", "no answer within " .. cfg.timeout .. " s", true)
      end
      -- a pooled connection the server had already closed: nothing came
      -- back, so a request without a body is sent again on a fresh
      -- connection, unless it must go out only once (`once`, as with the
      -- curl transport); one with a body may have been acted on, so it
      -- fails as sent and the retry policy decides
      if reused and rerr == "closed" and status == nil and r.pos == 1 and r.buf == ""
         and req.body == nil and retry.resend_fresh(req.opts, true) then
        return { retry_fresh = true }
      end
      if rerr == "closed" then
        return fail("transport", "empty reply from " .. u.authority .. " (connection closed)", true)
      end
      return fail(classify(rerr), "no answer from " .. u.authority .. ": " .. tostring(rerr), true)
    end
    -- strict: three digits and then a space or the end ("HTTP/1.1 2000"
    -- is not a 200)
    local code, rest
    version, code, rest = match(status_line, "^HTTP/(%d%.%d) ([1-9]%d%d)(.*)$")
    status = tonumber(code)
    if not status or (rest ~= "" and sub(rest, 1, 1) ~= " ") then
      sock:close()
      return fail("transport", "bad status line from " .. u.authority, true)
    end
    interim = interim + 1
    if interim > 10 then
      sock:close()
      return fail("transport", "too many interim answers from " .. u.authority, true)
    end
    local herr
    resp_headers, herr = read_headers(r)
    if not resp_headers then
      sock:close()
      return fail(classify(herr), "headers: " .. tostring(herr), true)
    end
    -- 1xx interim answers (100 Continue, 103 Early Hints) are skipped
  until status >= 200 or status == 101

  local cap = cfg.max_response
  local data = ""
  local conn = resp_headers.connection and lower(resp_headers.connection) or ""
  local keep
  if version == "1.0" then
    keep = find(conn, "keep-alive", 1, true) ~= nil
  else
    keep = find(conn, "close", 1, true) == nil
  end
  if m ~= "HEAD" and status ~= 204 and status ~= 304 and status ~= 101 then
    local te = resp_headers["transfer-encoding"]
    local err
    if te and find(lower(te), "chunked", 1, true) then
      data, err = read_chunked(r, cap)
    elseif resp_headers["content-length"] then
      local n = match(resp_headers["content-length"], "^%d+$") and tonumber(resp_headers["content-length"])
      if not n then
        sock:close()
        return fail("transport", "bad Content-Length from " .. u.authority, true)
      end
      if n > cap then
        err = "cap"
      elseif n > 0 then
        data, err = r:bytes(n)
      end
    else
      -- read to the close, but never past the cap
      keep = false
      data, err = r:rest(cap)
    end
    if err then
      sock:close()
      if err == "cap" then
        local f = fail("transport", format("response larger than max_response (%.0f bytes)",
          cap), true)
        f.too_big = true -- as in the curl transport: never worth a retry
        return f
      end
      return fail(classify(err), "body: " .. tostring(err), true)
    end
  end
  -- bytes beyond the answer belong to nothing we asked: do not reuse
  if r.pos <= #r.buf then keep = false end
  if keep and status ~= 101 then
    sock:setkeepalive(cfg.keepalive_ms, cfg.pool_size)
  else
    sock:close()
  end
  return { status = status, headers = resp_headers, body = data or "" }
end

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

-- engine(env) -> engine with the hwcloud.engine interface
function _M.engine(env)
  local c = env.cfg
  local cfg = {
    connect_timeout = c.connect_timeout, timeout = c.timeout, verify_tls = c.verify_tls,
    max_response = c.max_response, keepalive_ms = 60000, pool_size = 64,
  }
  if c.proxy then
    local proxy = c.proxy
    if not match(proxy, "^%a[%w+.-]*://") then proxy = "http://" .. proxy end
    local userinfo = match(proxy, "^%a[%w+.-]*://([^@/]+)@")
    cfg.proxy_url = parse_url(proxy)
    if userinfo and type(ngx) == "table" then
      cfg.proxy_auth = ngx.encode_base64(ngx.unescape_uri(userinfo))
    end
  end
  if c.ca_file and type(ngx) == "table" then
    warn_once("ca_file", "ca_file is not used by the ngx transport; nginx trusts the "
      .. "certificates of the lua_ssl_trusted_certificate directive")
  end
  return setmetatable({ cfg = cfg }, Engine)
end

-- Light threads share nothing that needs guarding: a task never runs
-- inside another in a way the loop must know about.
function Engine.inside() return false end

-- send(req) -> completion. req = {method, url, headers, body, opts}.
local function abandoned(self)
  local st = rawget(self, "run_state")
  if st and st.failure then error("hwcloud: the run was abandoned after a failure", 0) end
end

function Engine:send(req)
  abandoned(self)
  _M.stats.sends = _M.stats.sends + 1
  if not usable() then return fail("transport", unusable_message(), nil) end
  local cfg = self.cfg
  local o = req.opts
  if o and ((o.timeout and o.timeout ~= cfg.timeout)
      or (o.connect_timeout and o.connect_timeout ~= cfg.connect_timeout)) then
    local rc = {}
    for k, v in pairs(cfg) do rc[k] = v end
    rc.timeout = o.timeout or cfg.timeout
    rc.connect_timeout = o.connect_timeout or cfg.connect_timeout
    cfg = rc
  end
  local u = parse_url(req.url)
  if not u then return fail("transport", "bad URL", false) end
  if u.scheme ~= "http" and u.scheme ~= "https" then
    return fail("transport", "unsupported scheme " .. u.scheme, false)
  end
  -- a dead pooled connection is replaced by the next one, at most once
  -- per pooled connection and then by a fresh one
  for _ = 1, cfg.pool_size + 1 do
    local r = exchange(cfg, req, u)
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

-- call(fn) -> fn's two results, in the caller's coroutine.
function Engine:call(fn)
  return fn(self)
end

return _M
