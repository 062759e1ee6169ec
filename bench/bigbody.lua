-- 10 MB bodies over the wire, for tools/bench.sh (body-request-10mb and
-- body-response-10mb), against an emulator holding canned answers for RTS
-- create_software_config and list_software_configs (see `prepare`).
--   lua5.4 bench/bigbody.lua prepare ENDPOINT DIR
--       writes DIR/request.json (the body hwcloud sends for a 10 MB
--       software config), DIR/request.headers (its signed headers, one
--       "Name: value" a line, for curl), DIR/request.url, and
--       DIR/response.json (a 10 MB list of software configs, the canned
--       answer)
--   lua5.4 bench/bigbody.lua request ENDPOINT CALLS
--       -> request_s: seconds per create_software_config call with the
--          10 MB config (build, sign, send, answer), one client, warmed up
--   lua5.4 bench/bigbody.lua response ENDPOINT CALLS DIR
--       -> response_s: seconds per list_software_configs call receiving
--          the 10 MB answer (receive, decode, conform); cjson_s: seconds
--          for cjson.decode of the same bytes (DIR/response.json)
local B = require "bench.common"
local core = require "hwcloud.core"
local cjson = require "cjson"

local mode, endpoint = arg[1], arg[2]

-- a script-like payload: ASCII lines with quotes, tabs and some UTF-8,
-- what a software config carries
local LINE = '\techo "deploying région ${NODE}" >> /var/log/deploy.log\n'
local SIZE = 10 * 1024 * 1024
local function script(n)
  return string.rep(LINE, math.ceil(n / #LINE)):sub(1, n)
end

local function request()
  return { name = "deploy-10mb", group = "script", config = script(SIZE) }
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- about 10 MB of software configs, as a list answers them
local function listing()
  local items, size, i = {}, 0, 0
  local small = script(160)
  while size < SIZE do
    i = i + 1
    local item = {
      id = string.format("cfg-%08d", i), name = "deploy-" .. i, group = "script",
      config = small, creation_time = "2026-12-01T10:00:00Z",
      updated_time = "2026-12-01T10:00:00Z", options = { timeout = 600 },
      inputs = { { name = "NODE", type = "String", default = "node-" .. i } },
      outputs = { { name = "result", type = "String", error_output = false } },
    }
    items[i] = item
    size = size + #cjson.encode(item) + 1
  end
  return cjson.encode({ software_configs = items })
end

local function timed(calls, fn)
  fn() -- warm-up: the connection, the operation's plan
  local t0 = B.now()
  for _ = 1, calls do fn() end
  return (B.now() - t0) / calls
end

if mode == "prepare" then
  local dir = assert(arg[3], "usage: bigbody.lua prepare ENDPOINT DIR")
  local svc = require("hwcloud.services").load("rts")
  local op = svc.operations.create_software_config
  local path, body = assert(core.build(op, request(), B.PROJECT_ID))
  local url = endpoint .. path
  local headers = assert(require("hwcloud").sign({
    method = "POST", url = url, body = body,
    headers = { ["Content-Type"] = "application/json", ["X-Project-Id"] = B.PROJECT_ID },
  }, { ak = B.AK, sk = B.SK }))
  local lines = {}
  for k, v in pairs(headers) do lines[#lines + 1] = k .. ": " .. v .. "\n" end
  write(dir .. "/request.json", body)
  write(dir .. "/request.headers", table.concat(lines))
  write(dir .. "/request.url", url .. "\n")
  write(dir .. "/response.json", listing())
elseif mode == "request" then
  local client = B.client(endpoint)
  local req = request()
  B.emit("request_s", timed(tonumber(arg[3]) or 3, function()
    assert(client.rts:create_software_config(req))
  end))
elseif mode == "response" then
  local client = B.client(endpoint)
  local bytes = read(assert(arg[4], "usage: bigbody.lua response ENDPOINT CALLS DIR")
    .. "/response.json")
  local n = #cjson.decode(bytes).software_configs
  B.emit("response_s", timed(tonumber(arg[3]) or 3, function()
    local res = assert(client.rts:list_software_configs {})
    assert(#res.software_configs == n, "the answer lost configs")
  end))
  B.emit("cjson_s", timed(tonumber(arg[3]) or 3, function() cjson.decode(bytes) end))
else
  error("usage: bigbody.lua prepare|request|response ENDPOINT ...")
end
