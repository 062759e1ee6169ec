-- hwcloud.transport.ngx: the engine hwcloud uses inside nginx, where a
-- blocking libcurl call would stall every request of the worker.
--
-- Same interface as hwcloud.engine (run, call, send, sleep, inside), but
-- tasks run on ngx.thread light threads and requests go out over
-- cosockets (HTTP/1.1, TLS through sslhandshake, keep-alive pools).
-- Validation, marshaling and signing still come from the C core.
--
-- TLS trust inside nginx comes from the `lua_ssl_trusted_certificate`
-- directive (cosockets take no per-request CA file); `verify_tls = false`
-- is honoured per client.

local ngx = ngx
local type, tonumber, tostring, concat, pairs = type, tonumber, tostring, table.concat, pairs
local lower, find, sub, format = string.lower, string.find, string.sub, string.format
local spawn, wait = ngx.thread.spawn, ngx.thread.wait

local _M = {}

-- Phases in which cosockets work (lua-nginx-module: "Cosockets Not
-- Available Everywhere"); elsewhere the client falls back to libcurl.
local COSOCKET_PHASES = {
  rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true,
}

function _M.usable()
  return COSOCKET_PHASES[ngx.get_phase()] == true
end

local function parse_url(url)
  local scheme, authority, path = url:match("^(%a[%w+.-]*)://([^/?#]+)(.*)$")
  if not scheme then return nil end
  scheme = lower(scheme)
  local host, port = authority:match("^%[(.-)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if path == "" then path = "/" end
  return { scheme = scheme, host = host, port = port, path = path, authority = authority }
end
_M.parse_url = parse_url

local function fail(kind, message, sent)
  return { error = kind, message = message, sent = sent }
end

local function classify(err)
  return (err == "timeout") and "timeout" or "transport"
end

-- Reads a chunked body, stopping past `cap` bytes.
local function read_chunked(sock, cap)
  local parts, total = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "bad chunk size" end
    if size == 0 then
      -- trailers end with an empty line
      repeat
        line, err = sock:receive("*l")
        if not line then return nil, err end
      until line == ""
      return concat(parts)
    end
    total = total + size
    if total > cap then return nil, "cap" end
    local data, derr = sock:receive(size)
    if not data then return nil, derr end
    parts[#parts + 1] = data
    local _, cerr = sock:receive(2) -- CRLF after each chunk
    if cerr then return nil, cerr end
  end
end

-- Opens (or reuses) a connection, tunnelling through an HTTP proxy for
-- https when one is configured.
local function connect(cfg, u, pool)
  local sock = ngx.socket.tcp()
  local cms = cfg.connect_timeout * 1000
  local tms = cfg.timeout * 1000
  sock:settimeouts(cms, tms, tms)
  local proxy = cfg.proxy_url
  local ok, err
  if proxy then
    ok, err = sock:connect(proxy.host, proxy.port, { pool = pool })
  else
    ok, err = sock:connect(u.host, u.port, { pool = pool })
  end
  if not ok then return nil, fail(classify(err), "connect to " .. u.authority .. ": " .. err, false) end
  if sock:getreusedtimes() == 0 then
    if proxy and u.scheme == "https" then
      local req = { "CONNECT ", u.host, ":", u.port, " HTTP/1.1\r\nHost: ", u.host, ":", u.port, "\r\n" }
      if cfg.proxy_auth then req[#req + 1] = "Proxy-Authorization: Basic " .. cfg.proxy_auth .. "\r\n" end
      req[#req + 1] = "\r\n"
      local _, serr = sock:send(concat(req))
      if serr then sock:close() return nil, fail(classify(serr), "proxy: " .. serr, false) end
      local status = sock:receive("*l")
      if not status or not status:match("^HTTP/%d%.%d 2%d%d") then
        sock:close()
        return nil, fail("transport", "proxy refused the tunnel: " .. tostring(status), false)
      end
      repeat
        local line = sock:receive("*l")
      until not line or line == ""
    end
    if u.scheme == "https" then
      local sess, herr = sock:sslhandshake(nil, u.host, cfg.verify_tls)
      if not sess then
        sock:close()
        return nil, fail(classify(herr), "TLS handshake with " .. u.authority .. ": " .. herr, false)
      end
    end
  end
  return sock
end

-- One HTTP/1.1 exchange. Returns a completion shaped like the C core's.
local function exchange(cfg, req)
  local u = parse_url(req.url)
  if not u then return fail("transport", "bad URL", false) end
  local pool = format("hwcloud:%s:%s:%d:%s", u.scheme, u.host, u.port, cfg.verify_tls and "v" or "n")
  local sock, cerr = connect(cfg, u, pool)
  if not sock then return cerr end
  local reused = sock:getreusedtimes() > 0

  local target = u.path
  if cfg.proxy_url and u.scheme == "http" then target = req.url end
  local body = req.body or ""
  local lines = { req.method, " ", target, " HTTP/1.1\r\n" }
  local has_host = false
  for i = 1, #req.headers do
    local h = req.headers[i]
    if lower(sub(h, 1, 5)) == "host:" then has_host = true end
    lines[#lines + 1] = h
    lines[#lines + 1] = "\r\n"
  end
  if not has_host then lines[#lines + 1] = "Host: " .. u.authority .. "\r\n" end
  if cfg.proxy_auth and cfg.proxy_url and u.scheme == "http" then
    lines[#lines + 1] = "Proxy-Authorization: Basic " .. cfg.proxy_auth .. "\r\n"
  end
  if req.body or req.method == "POST" or req.method == "PUT" or req.method == "PATCH" then
    lines[#lines + 1] = "Content-Length: " .. #body .. "\r\n"
  end
  lines[#lines + 1] = "\r\n"
  lines[#lines + 1] = body

  local _, serr = sock:send(concat(lines))
  if serr then
    sock:close()
    -- a stale pooled connection: try once on a fresh one
    if reused then return { retry_fresh = true } end
    return fail(classify(serr), "send: " .. serr, true)
  end
  local status_line, rerr = sock:receive("*l")
  if not status_line then
    sock:close()
    -- a pooled connection the server had already closed: nothing was
    -- read, so the request never reached a live peer
    if reused and rerr == "closed" then return { retry_fresh = true } end
    return fail(classify(rerr), "receive: " .. rerr, true)
  end
  local status = tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then
    sock:close()
    return fail("transport", "bad status line from " .. u.authority, true)
  end
  local headers = {}
  while true do
    local line, herr = sock:receive("*l")
    if not line then sock:close() return fail(classify(herr), "headers: " .. herr, true) end
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then
      name = lower(name)
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
  end
  local cap = cfg.max_response
  local data = ""
  local keep = not (headers.connection and find(lower(headers.connection), "close", 1, true))
  if req.method ~= "HEAD" and status ~= 204 and status ~= 304 and status >= 200 then
    local te = headers["transfer-encoding"]
    local err
    if te and find(lower(te), "chunked", 1, true) then
      data, err = read_chunked(sock, cap)
    elseif headers["content-length"] then
      local n = tonumber(headers["content-length"])
      if not n then sock:close() return fail("transport", "bad Content-Length", true) end
      if n > cap then
        err = "cap"
      elseif n > 0 then
        data, err = sock:receive(n)
      end
    else
      keep = false
      data, err = sock:receive("*a")
    end
    if err then
      sock:close()
      if err == "cap" then
        return fail("transport", format("response larger than max_response (%d bytes)", cap), true)
      end
      return fail(classify(err), "body: " .. err, true)
    end
  end
  if keep then
    sock:setkeepalive(cfg.keepalive_ms, cfg.pool_size)
  else
    sock:close()
  end
  return { status = status, headers = headers, body = data or "" }
end

-- engine(env) -> engine with the hwcloud.engine interface
function _M.engine(env)
  local c = env.cfg
  local cfg = {
    connect_timeout = c.connect_timeout, timeout = c.timeout, verify_tls = c.verify_tls,
    max_response = c.max_response, keepalive_ms = 60000, pool_size = 64,
  }
  if c.proxy then
    local p = parse_url(c.proxy)
    cfg.proxy_url = p
    local userinfo = c.proxy:match("^%a[%w+.-]*://([^@/]+)@")
    if userinfo then
      cfg.proxy_url = parse_url(c.proxy:gsub("//[^@/]+@", "//", 1))
      cfg.proxy_auth = ngx.encode_base64(ngx.unescape_uri(userinfo))
    end
  end

  local E = {}

  function E.inside() return false end

  function E.send(_, req)
    local o = req.opts or {}
    local rc = cfg
    if o.timeout or o.connect_timeout then
      rc = {}
      for k, v in pairs(cfg) do rc[k] = v end
      rc.timeout = o.timeout or cfg.timeout
      rc.connect_timeout = o.connect_timeout or cfg.connect_timeout
    end
    local r = exchange(rc, req)
    if r.retry_fresh then r = exchange(rc, req) end
    if r.retry_fresh then return fail("transport", "connection closed by peer", true) end
    return r
  end

  function E.sleep(_, seconds)
    if seconds and seconds > 0 then ngx.sleep(seconds) end
  end

  -- A pool of `concurrency` light threads pulling tasks in order.
  function E.run(self, fns, concurrency)
    local n = #fns
    concurrency = concurrency or n
    if concurrency > n then concurrency = n end
    local results, nexti = {}, 1
    local function worker()
      while nexti <= n do
        local i = nexti
        nexti = i + 1
        local res, err = fns[i](self)
        results[i] = { res, err, result = res, err = err }
      end
    end
    local threads = {}
    for k = 1, concurrency do threads[k] = spawn(worker) end
    for k = 1, #threads do
      local ok, err = wait(threads[k])
      if not ok then error(err, 0) end
    end
    return results
  end

  function E.call(self, fn) return fn(self) end

  return E
end

return _M
