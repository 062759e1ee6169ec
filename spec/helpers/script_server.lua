-- spec/helpers/script_server.lua: a loopback HTTP server that answers each
-- route from a script, for the waiting specs: a job's poll answers walk
-- its states one request at a time, the last one repeating.
--
--   lua5.4 spec/helpers/script_server.lua PORTFILE
--
-- It binds 127.0.0.1 on a free port and writes the port to PORTFILE.
-- Control requests (never logged):
--   POST /_script/set    body {"METHOD /path[?query]": [{"status": 200,
--                        "body": {...}}, ...], ...}: adds these routes
--   POST /_script/reset  forgets every route and the log
--   GET  /_script/log    JSON {"requests": ["METHOD /path?query", ...]}
-- A request matches its path with the query first, then without; an
-- unknown route answers 404 {"error_code": "SCRIPT.404", ...}.

local socket = require "socket"
local cjson = require "cjson"

local portfile = assert(arg[1], "usage: script_server.lua PORTFILE")
local listener = assert(socket.bind("127.0.0.1", 0))
local _, port = listener:getsockname()
do
  local f = assert(io.open(portfile .. ".tmp", "w"))
  f:write(port, "\n")
  f:close()
  assert(os.rename(portfile .. ".tmp", portfile))
end

local routes, log = {}, {}

local function answer(sock, status, body)
  local text = type(body) == "string" and body or cjson.encode(body)
  sock:send(string.format("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
    .. "Content-Length: %d\r\nConnection: close\r\n\r\n%s", status, #text, text))
end

local function serve(sock)
  sock:settimeout(10)
  local line = sock:receive("*l")
  if not line then return end
  local method, target = line:match("^(%S+) (%S+)")
  local length = 0
  while true do
    local h = sock:receive("*l")
    if not h or h == "" then break end
    local n = h:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
    if n then length = tonumber(n) end
  end
  local body = length > 0 and sock:receive(length) or ""
  local path = target:match("^[^?]*")
  if path == "/_script/set" then
    for k, v in pairs(cjson.decode(body)) do routes[k] = v end
    return answer(sock, 200, { ok = true })
  elseif path == "/_script/reset" then
    routes, log = {}, {}
    return answer(sock, 200, { ok = true })
  elseif path == "/_script/log" then
    return answer(sock, 200, '{"requests":' .. (log[1] and cjson.encode(log) or "[]") .. "}")
  end
  log[#log + 1] = method .. " " .. target
  local list = routes[method .. " " .. target] or routes[method .. " " .. path]
  if not list or not list[1] then
    return answer(sock, 404, { error_code = "SCRIPT.404", error_msg = "no such resource: " .. target })
  end
  local r = list[1]
  if #list > 1 then table.remove(list, 1) end
  return answer(sock, r.status or 200, r.body or {})
end

while true do
  local sock = listener:accept()
  if sock then
    local ok, err = pcall(serve, sock)
    if not ok then io.stderr:write(tostring(err), "\n") end
    sock:close()
  end
end
