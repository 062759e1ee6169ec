-- The two handlers of bench/ngx/bench_ngx.lua under plain LuaJIT, over a
-- scripted ngx API whose socket answers every request at once with the
-- emulator's reinstall_server answer: what each handler's Lua and C cost,
-- without nginx, the kernel or the emulator (which both sides share).
-- tools/bench.sh runs it under callgrind (instructions do not move with the
-- machine's load) for the ngx-handler-instructions line.
--   luajit bench/ngx/scripted.lua hwcloud|bare WARM CALLS
local root = assert(os.getenv("BENCH_ROOT"), "BENCH_ROOT is not set")
package.path = root .. "/?.lua;" .. root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;"
  .. root .. "/bench/ngx/?.lua;" .. package.path
package.cpath = root .. "/build/luajit/?.so;" .. package.cpath

local BODY = '{"job_id":"881955675801021643"}'
local ANSWER = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 02 Dec 2026 02:50:12 GMT\r\n"
  .. "Content-Type: application/json\r\nContent-Length: " .. #BODY .. "\r\n"
  .. "Connection: keep-alive\r\nX-Request-Id: 0123456789abcdef0123456789abcdef\r\n\r\n" .. BODY

-- a kept-alive connection that reads whatever is asked of the answer
local Sock = {}
Sock.__index = Sock
function Sock.settimeouts() end
function Sock:connect() self.pos = 1 return 1 end
function Sock.getreusedtimes() return 1 end
function Sock.send(_, s) return #s end
function Sock:receiveany()
  local p = self.pos
  self.pos = #ANSWER + 1
  return ANSWER:sub(p)
end
function Sock:receive(pat)
  if pat == "*l" then
    local e = ANSWER:find("\r\n", self.pos, true)
    local line = ANSWER:sub(self.pos, e - 1)
    self.pos = e + 2
    return line
  end
  local s = ANSWER:sub(self.pos, self.pos + pat - 1)
  self.pos = self.pos + pat
  return s
end
function Sock.setkeepalive() return 1 end
function Sock.close() return 1 end

local function same(s) return s end
rawset(_G, "ngx", {
  socket = { tcp = function() return setmetatable({ pos = 1 }, Sock) end },
  now = function() return 1000.0 end, update_time = function() end,
  get_phase = function() return "content" end, print = function() end, log = function() end,
  sleep = function() end, encode_base64 = same, unescape_uri = same, WARN = 5, thread = {},
})
local getenv = os.getenv
os.getenv = function(k) -- luacheck: ignore 122
  if k == "BENCH_EMULATOR" then return "http://127.0.0.1:1" end
  return getenv(k)
end

local which, warm, calls = arg[1], tonumber(arg[2]) or 2000, tonumber(arg[3]) or 10000
local handler = assert(require("bench_ngx")[which], "usage: scripted.lua hwcloud|bare WARM CALLS")
for _ = 1, warm + calls do handler() end
