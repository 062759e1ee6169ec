-- spec/helpers/hostile_server.lua: a small loopback HTTP server that
-- misbehaves on purpose, for spec/hostile_spec.lua. One process, one
-- thread, coroutines over luasocket's select, so a slow answer to one
-- connection never holds up another.
--
--   lua5.4 spec/helpers/hostile_server.lua PORTFILE
--
-- It binds 127.0.0.1 on a free port and writes the port to PORTFILE.
-- Control requests (never counted):
--   GET /_hostile/modes?m=a,b,c   the next requests get modes a, b, then c
--                                 for every later one
--   GET /_hostile/log             JSON {requests = [{mode, method, path,
--                                 body}...], sent = {bytes per mode}}
--   GET /_hostile/reset           forget the log; mode "ok"
-- Modes (what a request gets):
--   ok          200 {"ok":true}, kept alive
--   s503 s429   that status with a JSON error body, kept alive
--   http09      a body without any status line, then close
--   status2000  "HTTP/1.1 2000 OK" with a JSON body
--   takeclose   the request is read, then the connection closes without a
--               byte and the listener stops accepting for 0.6 s (any
--               reconnect is refused)
--   drip        200 with Content-Length 1000, one body byte each 0.5 s
--   driphead    one header line each 0.5 s, for ever
--   nolength    200 without Content-Length or chunking, an endless body
--   flood       200000 header lines of one name, then a small body
--   repeated    400 header lines "X-Rep: <n>", then a small body
--   longline    one header line of 4 MiB
--   badchunk    chunked, with a chunk-size line that is not hex
--   hugechunk   chunked, with a chunk size of 2^72
--   big         200 with a 2 MiB JSON body (Content-Length)
--   bigchunked  200 with a 2 MiB body, chunked

local socket = require "socket"

local portfile = assert(arg[1], "usage: hostile_server.lua PORTFILE")

local listener = assert(socket.bind("127.0.0.1", 0))
listener:settimeout(0)
local _, port = listener:getsockname()
do
  local f = assert(io.open(portfile .. ".tmp", "w"))
  f:write(port, "\n")
  f:close()
  assert(os.rename(portfile .. ".tmp", portfile))
end

local queue, last = {}, "ok"
local log, sent = {}, {}
local paused_until = 0

local function json_str(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

local function log_json()
  local parts = {}
  for i, r in ipairs(log) do
    parts[i] = string.format('{"mode":%s,"method":%s,"path":%s,"body":%s}', json_str(r.mode),
      json_str(r.method), json_str(r.path), json_str(r.body))
  end
  local s = {}
  for m, n in pairs(sent) do s[#s + 1] = json_str(m) .. ":" .. n end
  return '{"requests":[' .. table.concat(parts, ",") .. '],"sent":{' .. table.concat(s, ",")
    .. "}}"
end

local function next_mode()
  if #queue > 0 then last = table.remove(queue, 1) end
  return last
end

-- ------------------------------------------------------------ scheduler
local tasks = {} -- co -> {wait = "read"|"write"|"sleep", sock, at}

local function wait_read(sock)
  coroutine.yield("read", sock)
end
local function sleep(s)
  coroutine.yield("sleep", nil, socket.gettime() + s)
end

-- Reads a line (without CRLF) or n bytes; nil when the peer closed.
local function reader(sock)
  local buf = ""
  local r = {}
  local function fill()
    local data, err, partial = sock:receive(65536)
    data = data or partial
    if data and data ~= "" then
      buf = buf .. data
      return true
    end
    if err == "closed" then return false end
    wait_read(sock)
    return true
  end
  function r.line()
    while true do
      local i = buf:find("\n", 1, true)
      if i then
        local l = buf:sub(1, i - 1):gsub("\r$", "")
        buf = buf:sub(i + 1)
        return l
      end
      if not fill() then return nil end
    end
  end
  function r.bytes(n)
    while #buf < n do
      if not fill() then return nil end
    end
    local s = buf:sub(1, n)
    buf = buf:sub(n + 1)
    return s
  end
  return r
end

-- Sends all of s; false when the peer went away.
local function send(sock, s, mode)
  local i = 1
  while i <= #s do
    local n, err, partial = sock:send(s, i)
    local last_sent = n or partial
    if last_sent and last_sent >= i then
      sent[mode] = (sent[mode] or 0) + (last_sent - i + 1)
      i = last_sent + 1
    end
    if i <= #s then
      if err == "closed" then return false end
      coroutine.yield("write", sock)
    end
  end
  return true
end

local function answer(sock, mode, status, body, extra)
  local h = "HTTP/1.1 " .. status .. "\r\nContent-Type: application/json\r\nContent-Length: "
    .. #body .. "\r\n" .. (extra or "") .. "\r\n"
  return send(sock, h .. body, mode)
end

-- ------------------------------------------------------------- modes
local MODES = {}

function MODES.ok(sock, m) return answer(sock, m, "200 OK", '{"ok":true}') end
function MODES.s503(sock, m)
  return answer(sock, m, "503 Service Unavailable",
    '{"error_code":"SYS.0503","error_msg":"busy"}')
end
function MODES.s429(sock, m)
  return answer(sock, m, "429 Too Many Requests",
    '{"error_code":"APIGW.0308","error_msg":"throttled"}')
end
function MODES.http09(sock, m)
  send(sock, '{"no":"status line"}\n', m)
  return false
end
function MODES.status2000(sock, m)
  send(sock, 'HTTP/1.1 2000 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{"ok":true}', m)
  return false
end
function MODES.takeclose()
  paused_until = socket.gettime() + 0.6
  listener:close()
  listener = nil
  return false
end
function MODES.drip(sock, m)
  if not send(sock, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", m) then return false end
  for _ = 1, 1000 do
    sleep(0.5)
    if not send(sock, " ", m) then return false end
  end
  return false
end
function MODES.driphead(sock, m)
  if not send(sock, "HTTP/1.1 200 OK\r\n", m) then return false end
  for i = 1, 100000 do
    sleep(0.5)
    if not send(sock, "X-Drip-" .. i .. ": x\r\n", m) then return false end
  end
  return false
end
function MODES.nolength(sock, m)
  if not send(sock, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", m) then return false end
  local chunk = string.rep("x", 65536)
  for _ = 1, 4096 do -- 256 MiB at most
    if not send(sock, chunk, m) then return false end
  end
  return false
end
function MODES.flood(sock, m)
  local lines = { "HTTP/1.1 200 OK\r\n" }
  for i = 2, 200001 do lines[i] = "X-Flood: a\r\n" end
  lines[#lines + 1] = "Content-Length: 2\r\nConnection: close\r\n\r\n{}"
  send(sock, table.concat(lines), m)
  return false
end
function MODES.repeated(sock, m)
  local lines = { "HTTP/1.1 200 OK\r\n" }
  for i = 1, 400 do lines[#lines + 1] = "X-Rep: " .. i .. "\r\n" end
  lines[#lines + 1] = "Content-Length: 2\r\nConnection: close\r\n\r\n{}"
  send(sock, table.concat(lines), m)
  return false
end
function MODES.longline(sock, m)
  send(sock, "HTTP/1.1 200 OK\r\nX-Long: " .. string.rep("a", 4 * 1024 * 1024)
    .. "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", m)
  return false
end
function MODES.badchunk(sock, m)
  send(sock, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    .. "zz\r\nxx\r\n0\r\n\r\n", m)
  return false
end
function MODES.hugechunk(sock, m)
  send(sock, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    .. "1000000000000000000\r\nxx\r\n0\r\n\r\n", m)
  return false
end
local BIG = '{"pad":"' .. string.rep("y", 2 * 1024 * 1024) .. '"}'
function MODES.big(sock, m)
  answer(sock, m, "200 OK", BIG, "Connection: close\r\n")
  return false
end
function MODES.bigchunked(sock, m)
  local parts = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" }
  for i = 1, #BIG, 65536 do
    local c = BIG:sub(i, i + 65535)
    parts[#parts + 1] = string.format("%x\r\n%s\r\n", #c, c)
  end
  parts[#parts + 1] = "0\r\n\r\n"
  send(sock, table.concat(parts), m)
  return false
end

-- --------------------------------------------------------- connections
local function serve(sock)
  local r = reader(sock)
  while true do
    local line = r.line()
    if not line or line == "" then break end
    local method, path = line:match("^(%S+) (%S+)")
    local len = 0
    while true do
      local h = r.line()
      if not h then return sock:close() end
      if h == "" then break end
      local v = h:lower():match("^content%-length:%s*(%d+)")
      if v then len = tonumber(v) end
    end
    local body = len > 0 and r.bytes(len) or ""
    if not body then break end
    local keep
    if path:sub(1, 10) == "/_hostile/" then
      if path:match("^/_hostile/modes") then
        local list = path:match("[?&]m=([^&]*)") or ""
        queue = {}
        for mname in list:gmatch("[^,]+") do queue[#queue + 1] = mname end
        keep = answer(sock, "_", "200 OK", "{}")
      elseif path:match("^/_hostile/log") then
        keep = answer(sock, "_", "200 OK", log_json())
      elseif path:match("^/_hostile/reset") then
        log, sent, queue, last = {}, {}, {}, "ok"
        keep = answer(sock, "_", "200 OK", "{}")
      else
        keep = answer(sock, "_", "404 Not Found", "{}")
      end
    else
      local mode = next_mode()
      log[#log + 1] = { mode = mode, method = method or "?", path = path or "?", body = body }
      local f = MODES[mode] or MODES.ok
      keep = f(sock, mode)
    end
    if not keep then break end
  end
  sock:close()
end

local function spawn(fn, ...)
  local co = coroutine.create(fn)
  tasks[co] = { wait = "run", args = table.pack(...) }
end

local function step(co, ...)
  local ok, what, sock, at = coroutine.resume(co, ...)
  if not ok then
    io.stderr:write("hostile_server: ", tostring(what), "\n")
    tasks[co] = nil
    return
  end
  if coroutine.status(co) == "dead" then
    tasks[co] = nil
    return
  end
  tasks[co] = { wait = what, sock = sock, at = at }
end

while true do
  if not listener and socket.gettime() >= paused_until then
    listener = assert(socket.bind("127.0.0.1", port))
    listener:settimeout(0)
  end
  -- start what is new
  for co, t in pairs(tasks) do
    if t.wait == "run" then step(co, table.unpack(t.args, 1, t.args.n)) end
  end
  local rd, wr, soonest = {}, {}, socket.gettime() + 0.2
  if listener then rd[#rd + 1] = listener end
  local by_sock = {}
  for co, t in pairs(tasks) do
    if t.wait == "read" then
      rd[#rd + 1] = t.sock
      by_sock[t.sock] = co
    elseif t.wait == "write" then
      wr[#wr + 1] = t.sock
      by_sock[t.sock] = co
    elseif t.wait == "sleep" and t.at < soonest then
      soonest = t.at
    end
  end
  local wait = soonest - socket.gettime()
  if wait < 0 then wait = 0 end
  local readable, writable = socket.select(rd, wr, wait)
  for _, s in ipairs(readable) do
    if s == listener then
      local c = listener:accept()
      if c then
        c:settimeout(0)
        c:setoption("tcp-nodelay", true)
        spawn(serve, c)
      end
    elseif by_sock[s] then
      step(by_sock[s])
    end
  end
  for _, s in ipairs(writable) do
    local co = by_sock[s]
    if co and tasks[co] and tasks[co].wait == "write" then step(co) end
  end
  local now = socket.gettime()
  for co, t in pairs(tasks) do
    if t.wait == "sleep" and t.at <= now then step(co) end
  end
end
