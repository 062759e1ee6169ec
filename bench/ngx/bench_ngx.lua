-- The two handlers of the ngx-handler benchmark (bench/ngx/nginx.conf):
-- one reinstall_server call to the emulator at BENCH_EMULATOR per request,
--   hwcloud(): through a hwcloud client (made once per worker), the ngx
--              engine: build, sign, cosocket exchange, decode, conform;
--   bare():    the least a handler can do for the same call: the same
--              headers signed with core.sign, a hand-written HTTP/1.1
--              request on a cosocket from the same kind of keep-alive pool
--              (64 connections, 60 s), the status line and headers read,
--              the JSON answer decoded.
-- Both answer the job id, or 502 with the reason.

local ngx = ngx
local core = require "hwcloud.core"
local cjson = require "cjson.safe"
local B = require "bench.common"

local _M = {}

local endpoint = assert(os.getenv("BENCH_EMULATOR"), "BENCH_EMULATOR is not set")
local PATH = B.path()
local URL = endpoint .. PATH
local u = assert(core.parse_url(endpoint))
local POOL = "bench-bare:" .. u.host .. ":" .. u.port
local USER_AGENT = "hwcloud/" .. core.version .. " (" .. _VERSION .. ")"

local function answer(status, text)
  ngx.status = status
  ngx.print(text)
end

local client
function _M.hwcloud()
  client = client or B.client(endpoint)
  local res, err = client.workspaceapp:reinstall_server(B.request())
  if not res then return answer(502, tostring(err)) end
  answer(200, res.job_id)
end

-- one request's bytes: the request line, the signed headers, the body
local function request_bytes()
  local headers = assert(core.sign("POST", URL, {
    ["Content-Type"] = "application/json", ["X-Project-Id"] = B.PROJECT_ID,
    ["User-Agent"] = USER_AGENT, ["Accept"] = "application/json",
  }, B.BODY, B.AK, B.SK))
  local lines = { "POST " .. PATH .. " HTTP/1.1\r\n" }
  for i = 1, #headers do lines[#lines + 1] = headers[i] .. "\r\n" end
  lines[#lines + 1] = "Content-Length: " .. #B.BODY .. "\r\n\r\n" .. B.BODY
  return table.concat(lines)
end

function _M.bare()
  local sock = ngx.socket.tcp()
  sock:settimeouts(10000, 30000, 30000)
  local ok, err = sock:connect(u.host, u.port, { pool = POOL })
  if not ok then return answer(502, "connect: " .. tostring(err)) end
  local _, serr = sock:send(request_bytes())
  if serr then return answer(502, "send: " .. serr) end
  local status_line, rerr = sock:receive("*l")
  if not status_line then return answer(502, "status: " .. tostring(rerr)) end
  local length
  while true do
    local line, herr = sock:receive("*l")
    if not line then return answer(502, "headers: " .. tostring(herr)) end
    if line == "" then break end
    if line:sub(1, 15):lower() == "content-length:" then length = tonumber(line:sub(16)) end
  end
  local body, berr = sock:receive(length or 0)
  if not body then return answer(502, "body: " .. tostring(berr)) end
  sock:setkeepalive(60000, 64)
  local doc = cjson.decode(body)
  if status_line:sub(10, 12) ~= "200" or type(doc) ~= "table" then
    return answer(502, status_line)
  end
  answer(200, doc.job_id)
end

return _M
