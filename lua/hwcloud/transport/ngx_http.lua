-- hwcloud.transport.ngx_http: the HTTP/1.1 client of the ngx engine, over
-- nginx cosockets, in the steps of one exchange: open (connect, proxy
-- tunnel, TLS handshake with verification and SNI), write the request, read
-- the head (core.parse_head), read the body (by length, chunked, or until
-- the close), then keep the connection alive or close it.
--
-- What an endpoint needs on every request (pool name, Host line, proxy
-- lines) is built once per endpoint by endpoint(); an exchange only adds
-- what belongs to the request. Every step returns its value, or nil and a
-- completion shaped like the C core's ({error, message, sent}), with the
-- socket already closed.

local ngx = ngx
local tonumber, tostring, setmetatable, pcall = tonumber, tostring, setmetatable, pcall
local retry = require "hwcloud.retry"
local core_parse_head = require("hwcloud.core").parse_head
local core_hasher = require("hwcloud.core").hasher
local concat = table.concat
-- LuaJIT's preallocating constructor, where there is one
local ok_new, new_tab = pcall(require, "table.new")
if not ok_new then new_tab = function() return {} end end
local lower, find, sub, format, match, byte =
  string.lower, string.find, string.sub, string.format, string.match, string.byte

local _M = {
  -- exchanges made in this Lua VM (one per nginx worker); the specs read it
  -- to see which engine served a call (sends: calls of engine:send, counted
  -- by the engine; requests: requests written; connects: new connections)
  stats = { sends = 0, requests = 0, connects = 0 },
}
local stats = _M.stats

-- Limits on what a server may send before the body: a header block is at
-- most MAX_HEADER_BYTES over at most MAX_HEADER_LINES lines (libcurl's own
-- bound is of the same order).
local MAX_HEADER_BYTES = 256 * 1024
local MAX_HEADER_LINES = 500
local MAX_STATUS_LINE = 8192
local MAX_INTERIM = 10
local READ_SIZE = 65536
local SEND_PIECE = 65536
-- a streamed file makes a piece of garbage per 64 KiB: the collector is
-- stepped this often so the heap does not grow with the file
local GC_EVERY = 1024 * 1024

local function fail(kind, message, sent)
  return { error = kind, message = message, sent = sent }
end
_M.fail = fail

local function classify(err)
  return (err == "timeout") and "timeout" or "transport"
end

-- endpoint(cfg, u) -> what every request to `u` (scheme, host, port,
-- authority, from the engine's parse of the URL) shares under `cfg`.
function _M.endpoint(cfg, u)
  local proxy = cfg.proxy_url
  local ep = {
    scheme = u.scheme, host = u.host, port = u.port, authority = u.authority,
    tls = u.scheme == "https",
    pool = format("hwcloud:%s:%s:%s:%s:%s", u.scheme, u.host, tostring(u.port),
      cfg.verify_tls and "v" or "n", proxy and proxy.authority or ""),
    host_line = "Host: " .. u.authority .. "\r\n",
    target_prefix = "", extra_lines = "",
  }
  ep.connect_opts = { pool = ep.pool }
  if proxy then
    ep.connect_host, ep.connect_port, ep.where = proxy.host, proxy.port, proxy.authority
  else
    ep.connect_host, ep.connect_port, ep.where = u.host, u.port, u.authority
  end
  if proxy and ep.tls then
    local hp = u.host .. ":" .. u.port
    if find(u.host, ":", 1, true) then hp = "[" .. u.host .. "]:" .. u.port end
    local req = { "CONNECT ", hp, " HTTP/1.1\r\nHost: ", hp, "\r\n" }
    if cfg.proxy_auth then
      req[#req + 1] = "Proxy-Authorization: Basic " .. cfg.proxy_auth .. "\r\n"
    end
    req[#req + 1] = "\r\n"
    ep.tunnel = concat(req)
  elseif proxy then
    -- absolute form towards a plain HTTP proxy, without any user info
    ep.target_prefix = u.scheme .. "://" .. u.authority
    if cfg.proxy_auth then
      ep.extra_lines = "Proxy-Authorization: Basic " .. cfg.proxy_auth .. "\r\n"
    end
  end
  return ep
end

-- ---- a reader with a deadline ----------------------------------------------

-- A buffered reader (and writer) over a cosocket that honours a deadline. A
-- cosocket's timeout only bounds one idle wait, so a server sending a byte a
-- second would hold a plain receive() for ever; here every read is
-- receiveany(), which returns what has arrived, and the deadline is checked
-- before each. ngx.now() is fresh after every wait of the event loop, so
-- the clock is read without ngx.update_time(), and the timeouts are set
-- again only when time has moved since they were last set.
local Reader = {}
Reader.__index = Reader

local function reader(sock, deadline, armed_at)
  return setmetatable({ sock = sock, deadline = deadline, armed_at = armed_at,
                        buf = "", pos = 1 }, Reader)
end

-- Gives the socket what is left before the deadline; false when nothing is.
function Reader:arm()
  local now = ngx.now()
  local left = (self.deadline - now) * 1000
  if left < 1 then return false end
  if now ~= self.armed_at then
    self.sock:settimeouts(left, left, left)
    self.armed_at = now
  end
  return true
end

-- receiveany within the deadline: data | nil, "timeout" / the socket's error
function Reader:receive(want)
  if not self:arm() then return nil, "timeout" end
  return self.sock:receiveany(want)
end

-- Reads more into the buffer. Returns true, or nil and an error.
function Reader:fill()
  local data, err = self:receive(READ_SIZE)
  if not data then return nil, err end
  if self.pos > #self.buf then
    -- all read: the new data is the buffer, no copy
    self.buf, self.pos = data, 1
    return true
  end
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
      local j = i - 1
      if byte(self.buf, j) == 13 and j >= self.pos then j = j - 1 end
      local l = sub(self.buf, self.pos, j)
      self.pos = i + 1
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
    local want = n - got
    if want > READ_SIZE then want = READ_SIZE end
    local data, err = self:receive(want)
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

-- Exactly n bytes handed to sink(data) piece by piece (a download going to
-- a file): true | nil, error ("write" when the sink refused).
function Reader:stream(n, sink)
  local have = #self.buf - self.pos + 1
  if have > 0 then
    local take = have < n and have or n
    if not sink(sub(self.buf, self.pos, self.pos + take - 1)) then return nil, "write" end
    self.pos = self.pos + take
    n = n - take
  end
  while n > 0 do
    local want = n > READ_SIZE and READ_SIZE or n
    local data, err = self:receive(want)
    if not data then return nil, err end
    if #data > n then
      self.buf, self.pos = sub(data, n + 1), 1
      data = sub(data, 1, n)
    end
    if not sink(data) then return nil, "write" end
    n = n - #data
  end
  return true
end

-- Everything up to the server's close, stopping past `cap` bytes.
function Reader:rest(cap)
  local parts, got = { sub(self.buf, self.pos) }, #self.buf - self.pos + 1
  self.buf, self.pos = "", 1
  if got > cap then return nil, "cap" end
  while true do
    local data, err = self:receive(READ_SIZE)
    if not data then
      if err == "closed" then return concat(parts) end
      return nil, err
    end
    got = got + #data
    if got > cap then return nil, "cap" end
    parts[#parts + 1] = data
  end
end

-- Whether unread bytes are left: bytes beyond an answer belong to nothing
-- asked for.
function Reader:leftover()
  return self.pos <= #self.buf
end

-- Sends `wire` in pieces with the deadline checked before each: a server
-- that reads a byte at a time would otherwise hold one large send for ever.
-- Returns nil, or the index of the piece that failed and why.
function Reader:send(wire)
  for i = 1, #wire, SEND_PIECE do
    if not self:arm() then return i, "timeout" end
    local piece = wire
    if #wire > SEND_PIECE then piece = sub(wire, i, i + SEND_PIECE - 1) end
    local _, err = self.sock:send(piece)
    if err then return i, err end
  end
  return nil
end

-- ---- the response head -------------------------------------------------------

-- parse_head(text, init) -> status, version, headers, next | nil (no empty
-- line yet) | false, message: the one parser of a head (core.parse_head),
-- with this client's limits
local function parse_head(text, init)
  return core_parse_head(text, init, MAX_STATUS_LINE, MAX_HEADER_BYTES, MAX_HEADER_LINES)
end

-- The head's lines read one at a time, within the limits, then parsed at
-- once: for a head that did not come in one read (a slow or hostile
-- server), without copying the buffer again for every read.
-- status, version, headers | nil, err, stage ("status" or "headers")
local function gather_head(r)
  local first, err = r:line(MAX_STATUS_LINE)
  if not first then return nil, err, "status" end
  -- a bad status line is told at once, not after the headers
  if parse_head(first .. "\r\n\r\n", 1) == false then return nil, "bad status line", "status" end
  local lines, bytes = { first }, 0
  while true do
    local line, lerr = r:line(MAX_HEADER_BYTES - bytes)
    if not line then
      if lerr == "line too long" then lerr = "response headers too large" end
      return nil, lerr, "headers"
    end
    if line == "" then break end
    bytes = bytes + #line + 2
    if #lines > MAX_HEADER_LINES then return nil, "too many response header lines", "headers" end
    if bytes > MAX_HEADER_BYTES then return nil, "response headers too large", "headers" end
    lines[#lines + 1] = line
  end
  lines[#lines + 1] = "\r\n"
  local status, version, headers = parse_head(concat(lines, "\r\n"), 1)
  if not status then return nil, version or "bad head", "headers" end
  return status, version, headers
end

-- Reads one head: status, version, headers | nil, err, stage. The usual
-- answer's head is whole in the first read and parsed where it lies.
local function read_one_head(r)
  if r.pos > #r.buf then
    local ok, err = r:fill()
    if not ok then return nil, err, "status" end
  end
  local status, version, headers, nextpos = parse_head(r.buf, r.pos)
  if status then
    r.pos = nextpos
    return status, version, headers
  end
  if status == false then
    return nil, version, version == "bad status line" and "status" or "headers"
  end
  return gather_head(r)
end

local function is_digit(b)
  return b ~= nil and b >= 48 and b <= 57
end

-- A non-empty run of digits, as a number; nil otherwise.
local function digits(s)
  local n = #s
  if n == 0 then return nil end
  for i = 1, n do
    if not is_digit(byte(s, i)) then return nil end
  end
  return tonumber(s)
end

-- ---- the steps of an exchange ------------------------------------------------

-- Asks an HTTP proxy for a tunnel to the endpoint on a new connection.
local function tunnel(sock, cfg, ep)
  local pr = reader(sock, ngx.now() + cfg.connect_timeout, nil)
  local failed, serr = pr:send(ep.tunnel)
  if failed then return nil, fail(classify(serr), "proxy: " .. serr, false) end
  local code, herr = read_one_head(pr)
  if not code then return nil, fail(classify(herr), "proxy: " .. tostring(herr), false) end
  if code < 200 or code > 299 then
    return nil, fail("transport", "proxy refused the tunnel: " .. code, false)
  end
  return true
end

-- The TLS handshake, verifying the certificate and its name (SNI: the host).
local function handshake(sock, cfg, ep)
  -- reused_session must stay nil: `false` makes some lua-resty-core
  -- releases skip the certificate host check. Those releases also
  -- raise ("assertion failed!") instead of returning an error when
  -- the check fails on a handshake that completed at once, so the
  -- call is protected and a raise counts as a failed verification.
  local pok, sess, herr = pcall(sock.sslhandshake, sock, nil, ep.host, cfg.verify_tls)
  if not pok then
    herr = "certificate verification failed (" .. tostring(sess) .. ")"
    sess = nil
  end
  if not sess then
    return nil, fail(classify(herr), "TLS handshake with " .. ep.authority .. ": "
      .. tostring(herr), false)
  end
  return true
end

-- Opens (or reuses) a connection: sock, reused | nil, completion. The
-- timeouts are set here once: the connect's, and the exchange's for what
-- follows (see Reader:arm).
local function open(cfg, ep, ms)
  local sock = ngx.socket.tcp()
  sock:settimeouts(cfg.connect_timeout * 1000, ms, ms)
  local ok, err = sock:connect(ep.connect_host, ep.connect_port, ep.connect_opts)
  if not ok then
    return nil, fail(classify(err), "connect to " .. ep.where .. ": " .. tostring(err), false)
  end
  if (sock:getreusedtimes() or 0) > 0 then return sock, true end
  stats.connects = stats.connects + 1
  -- the tunnel and the handshake are bounded by connect_timeout
  if ep.tunnel or ep.tls then
    local cms = cfg.connect_timeout * 1000
    sock:settimeouts(cms, cms, cms)
  end
  local done, f = true, nil
  if ep.tunnel then done, f = tunnel(sock, cfg, ep) end
  if done and ep.tls then done, f = handshake(sock, cfg, ep) end
  if not done then
    sock:close()
    return nil, f
  end
  return sock, false
end

local function has_body(req)
  local m = req.method
  return req.body ~= nil or m == "POST" or m == "PUT" or m == "PATCH"
end

-- The request's bytes: request line, the caller's headers, what the
-- endpoint adds, Content-Length, the body.
local function request_bytes(ep, req, target)
  local headers = req.headers
  local lines = new_tab(2 * #headers + 10, 0)
  lines[1], lines[2], lines[3], lines[4], lines[5] =
    req.method, " ", ep.target_prefix, target, " HTTP/1.1\r\n"
  local n, has_host = 5, false
  for i = 1, #headers do
    local h = headers[i]
    local b = byte(h, 1)
    if (b == 72 or b == 104) and lower(sub(h, 1, 5)) == "host:" then has_host = true end
    lines[n + 1], lines[n + 2] = h, "\r\n"
    n = n + 2
  end
  if not has_host then n = n + 1; lines[n] = ep.host_line end
  n = n + 1; lines[n] = ep.extra_lines
  local body = req.body or ""
  if req.upload then
    -- the body follows from the file (write_request)
    n = n + 1; lines[n] = format("Content-Length: %.0f\r\n", req.upload.length)
    body = ""
  elseif has_body(req) then n = n + 1; lines[n] = "Content-Length: " .. #body .. "\r\n" end
  lines[n + 1], lines[n + 2] = "\r\n", body
  return concat(lines)
end

-- A body in pieces (opts.upload_pieces: strings and {path, offset,
-- length} spans of files: a file or a part of one, a multipart form) after
-- the head: each file read a piece at a time as it is sent, hashed as it
-- goes when asked. -> nil | 2, err (past the head) | "read", why
local function send_pieces(r, up)
  local pieces = up.pieces
  for i = 1, #pieces do
    local p = pieces[i]
    if type(p) == "string" then
      if up.md5 then up.md5:update(p) end
      local failed, err = r:send(p)
      if failed then return 2, err end
    else
      local f, oerr = io.open(p.path, "rb")
      if not f then return "read", oerr end
      f:seek("set", p.offset or 0)
      local left = p.length
      while left > 0 do
        local piece = f:read(left > SEND_PIECE and SEND_PIECE or left)
        if not piece then
          f:close()
          return "read", p.path .. " ended early"
        end
        if up.md5 then up.md5:update(piece) end
        left = left - #piece
        up.since = up.since + #piece
        if up.since >= GC_EVERY then
          up.since = 0
          collectgarbage("step", 0)
        end
        local failed, err = r:send(piece)
        if failed then
          f:close()
          return 2, err
        end
      end
      f:close()
    end
  end
  return nil
end

-- Writes the request: true | nil, completion (or {retry_fresh = true} when
-- a pooled connection was found dead before any byte went out).
local function write_request(r, ep, req, target, reused, cfg)
  stats.requests = stats.requests + 1
  local failed, err = r:send(request_bytes(ep, req, target))
  if not failed and req.upload then
    failed, err = send_pieces(r, req.upload)
    if failed == "read" then
      return nil, fail("transport", "cannot read the file: " .. tostring(err), true)
    end
  end
  if not failed then return true end
  if err == "timeout" then
    if failed == 1 then return nil, fail("timeout", "timed out before sending", false) end
    return nil, fail("timeout", "send: timed out after " .. cfg.timeout .. " s", true)
  end
  -- a stale pooled connection: try again on another one
  if failed == 1 and reused and retry.resend_fresh(req.opts, false) then
    return nil, { retry_fresh = true }
  end
  return nil, fail(classify(err), "send: " .. err, true)
end

-- Why no status line came: a completion.
local function no_answer(r, ep, req, err, first, reused, cfg)
  if err == "timeout" then
    return fail("timeout", "no answer within " .. cfg.timeout .. " s", true)
  end
  -- a pooled connection the server had already closed: nothing came
  -- back, so a request without a body is sent again on a fresh
  -- connection, unless it must go out only once (`once`, as with the
  -- curl transport); one with a body may have been acted on, so it
  -- fails as sent and the retry policy decides
  if reused and err == "closed" and first and r.pos == 1 and r.buf == ""
     and req.body == nil and retry.resend_fresh(req.opts, true) then
    return { retry_fresh = true }
  end
  if err == "closed" then
    return fail("transport", "empty reply from " .. ep.authority .. " (connection closed)", true)
  end
  return fail(classify(err), "no answer from " .. ep.authority .. ": " .. tostring(err), true)
end

-- Reads status and headers, skipping 1xx interim answers (100 Continue,
-- 103 Early Hints): status, version, headers | nil, completion.
local function read_head(r, ep, req, reused, cfg)
  for interim = 1, MAX_INTERIM do
    local status, version, headers = read_one_head(r)
    if not status then
      if headers == "headers" then
        return nil, fail(classify(version), "headers: " .. tostring(version), true)
      elseif version == "bad status line" then
        return nil, fail("transport", "bad status line from " .. ep.authority, true)
      end
      return nil, no_answer(r, ep, req, version, interim == 1, reused, cfg)
    end
    if status >= 200 or status == 101 then return status, version, headers end
  end
  return nil, fail("transport", "too many interim answers from " .. ep.authority, true)
end

-- Whether the server lets the connection be used again.
local function keeps_alive(version, headers)
  local conn = headers.connection
  if version == "1.0" then
    return conn ~= nil and find(lower(conn), "keep-alive", 1, true) ~= nil
  end
  return conn == nil or find(lower(conn), "close", 1, true) == nil
end

-- Reads a chunked body, stopping past `cap` bytes. Every malformed piece
-- is an error returned, never raised.
local function read_chunked(r, cap, sink)
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
    if total > cap and not sink then return nil, "cap" end
    if sink then
      local ok, derr = r:stream(size, sink)
      if not ok then return nil, derr end
    else
      local data, derr = r:bytes(size)
      if not data then return nil, derr end
      parts[#parts + 1] = data
    end
    local crlf, cerr = r:line(2) -- CRLF after each chunk
    if not crlf then return nil, cerr end
    if crlf ~= "" then return nil, "bad chunk end" end
  end
end

-- Reads the body as the headers frame it: body, to_close | nil, error
-- ("cap" past the response cap; "bad length" for a bad Content-Length).
local function frame_body(r, headers, cap, sink)
  local te = headers["transfer-encoding"]
  if te and find(lower(te), "chunked", 1, true) then return read_chunked(r, cap, sink) end
  local cl = headers["content-length"]
  if cl then
    local n = digits(cl)
    if not n then return nil, "bad length" end
    if sink then
      local ok, err = r:stream(n, sink)
      if not ok then return nil, err end
      return ""
    end
    if n > cap then return nil, "cap" end
    if n == 0 then return "" end
    return r:bytes(n)
  end
  if sink then
    -- to the close, piece by piece into the file
    local rest = sub(r.buf, r.pos)
    r.buf, r.pos = "", 1
    if rest ~= "" and not sink(rest) then return nil, "write" end
    while true do
      local data, err = r:receive(READ_SIZE)
      if not data then
        if err == "closed" then return "", true end
        return nil, err
      end
      if not sink(data) then return nil, "write" end
    end
  end
  -- read to the close, but never past the cap
  local data, err = r:rest(cap)
  return data, err or true
end

-- Reads the body when the answer has one: body, keep | nil, completion.
local function read_body(r, ep, req, status, headers, keep, cfg, sink)
  if req.method == "HEAD" or status == 204 or status == 304 or status == 101 then
    return "", keep
  end
  local data, err = frame_body(r, headers, cfg.max_response, sink)
  if data then
    if err == true then keep = false end
    return data, keep
  end
  if err == "cap" then
    local f = fail("transport", format("response larger than max_response (%.0f bytes)",
      cfg.max_response), true)
    f.too_big = true -- as in the curl transport: never worth a retry
    return nil, f
  end
  if err == "write" then
    return nil, fail("transport", "cannot write the file: " .. tostring(sink and sink.why), true)
  end
  if err == "bad length" then
    return nil, fail("transport", "bad Content-Length from " .. ep.authority, true)
  end
  return nil, fail(classify(err), "body: " .. tostring(err), true)
end

-- Puts the connection back in its pool, or closes it.
local function keep_alive(sock, r, keep, status, cfg)
  if keep and status ~= 101 and not r:leftover() then
    sock:setkeepalive(cfg.keepalive_ms, cfg.pool_size)
  else
    sock:close()
  end
end

-- exchange(cfg, ep, req, target) -> a completion shaped like the C core's,
-- or {retry_fresh = true} when a pooled connection turned out to be dead
-- before any answer came back. The clock is read once here (the engine
-- updated it when the request started).
-- The files of a streamed transfer (opts.upload_pieces, opts.download_file),
-- as the C core takes them: looked at or opened before anything is sent;
-- hashed only with opts.file_md5. Returns true, upload, sink | false, completion.
local function open_files(req)
  local o = req.opts
  if not o then return true end
  local up, sink
  if o.upload_pieces then
    -- a body in pieces: every file looked at before anything is sent
    local length, pieces = 0, o.upload_pieces
    for i = 1, #pieces do
      local p = pieces[i]
      if type(p) == "string" then
        length = length + #p
      else
        local f, err = io.open(p.path, "rb")
        if not f then return false, fail("transport", "cannot read " .. tostring(err), false) end
        local size = f:seek("end")
        f:close()
        if not size or (p.offset or 0) + p.length > size then
          return false, fail("transport", "cannot read " .. p.path .. ": shorter than the "
            .. "length given", false)
        end
        length = length + p.length
      end
    end
    up = { pieces = pieces, length = length, md5 = o.file_md5 and core_hasher("md5") or nil,
           since = 0 }
  end
  if o.download_file then
    local path = o.download_file
    local md5 = o.file_md5 and core_hasher("md5") or nil
    local state = { bytes = 0, md5 = md5, since = 0 }
    sink = setmetatable(state, { __call = function(self, data)
      if not self.f then
        -- at an offset: a part of a file several transfers write
        local f, err = io.open(path, o.download_offset and "r+b" or "wb")
        if not f then self.why = err return false end
        if o.download_offset then f:seek("set", o.download_offset) end
        self.f = f
      end
      local ok, err = self.f:write(data)
      if not ok then self.why = err return false end
      if self.md5 then self.md5:update(data) end
      self.bytes = self.bytes + #data
      self.since = self.since + #data
      if self.since >= GC_EVERY then
        self.since = 0
        collectgarbage("step", 0)
      end
      return true
    end })
  end
  return true, up, sink
end

local function hex(s)
  return (s:gsub(".", function(c) return format("%02x", byte(c)) end))
end

function _M.exchange(cfg, ep, req, target)
  local ok, up, sink = open_files(req)
  if not ok then return up end
  req.upload = up
  local c = _M.exchange_open(cfg, ep, req, target, sink)
  req.upload = nil
  if up and up.md5 and c.status then c.file_md5 = hex(up.md5:final()) end
  if sink then
    if sink.f then
      local closed, cerr = sink.f:close()
      if not closed then c.file_error = tostring(cerr) end
    elseif c.status and c.status < 300 and req.method ~= "HEAD" and not req.opts.download_offset then
      -- an empty object: its file still exists afterwards
      local f = io.open(req.opts.download_file, "wb")
      if f then f:close() end
    end
    if c.status and c.status < 300 then
      c.file_bytes = sink.bytes
      if sink.md5 then c.file_md5 = hex(sink.md5:final()) end
    end
  end
  return c
end

function _M.exchange_open(cfg, ep, req, target, sink)
  local ms = cfg.timeout * 1000
  local start = ngx.now()
  local sock, reused = open(cfg, ep, ms)
  if not sock then return reused end
  local now = ngx.now()
  -- the timeouts open() set hold when no time passed in it
  local held = now == start and (reused or not (ep.tunnel or ep.tls))
  local r = reader(sock, now + cfg.timeout, held and now or nil)
  local ok, f = write_request(r, ep, req, target, reused, cfg)
  if not ok then
    sock:close()
    return f
  end
  local status, version, headers = read_head(r, ep, req, reused, cfg)
  if not status then
    sock:close()
    return version
  end
  -- only a success goes to the file; an error's body is read to memory
  local to_file = sink and status >= 200 and status < 300 and sink or nil
  local body, keep = read_body(r, ep, req, status, headers, keeps_alive(version, headers), cfg,
    to_file)
  if not body then
    sock:close()
    return keep
  end
  keep_alive(sock, r, keep, status, cfg)
  return { status = status, headers = headers, body = body }
end

return _M
