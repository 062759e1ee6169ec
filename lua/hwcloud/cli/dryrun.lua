-- hwcloud.cli.dryrun: --dry-run. The call goes through the library's whole
-- call path on a client whose transport records each request instead of
-- sending it; the request recorded is printed: method, URL, headers as the
-- transport sends them (secrets masked), body.

local type, ipairs, tostring = type, ipairs, tostring
local concat, sort = table.concat, table.sort

local common = require "hwcloud.cli.common"
local json = require "hwcloud.json"

local _M = {}

-- A client like the real one, and the list its transport records into.
function _M.client(ctx)
  local c, sends = require("hwcloud.client").recording(ctx.copts)
  if not c then common.usage("%s", tostring(sends)) end
  return c, sends
end

-- field names whose string values a printed body masks
local SECRET_KEY = { "password", "secret", "token", "credential" }

local function secret_field(k, v)
  if type(k) ~= "string" or type(v) ~= "string" then return false end
  local lk = k:lower()
  if lk == "sk" then return true end
  for _, s in ipairs(SECRET_KEY) do
    if lk:find(s, 1, true) then return true end
  end
  return false
end

-- the body as sent, unless a field of it had to be masked
local function body_text(body)
  local doc = require("hwcloud.core").decode(body)
  if type(doc) ~= "table" then return body end
  local hit = false
  local masked = json.encode(doc, { mask = function(k, v)
    local m = secret_field(k, v)
    if m then hit = true end
    return m
  end })
  return hit and masked or body
end

-- Prints the request `sends` recorded last.
function _M.print(ctx, sends)
  local s = sends[#sends]
  local loggable = require("hwcloud.call").loggable_header
  local lines, have = {}, {}
  for _, line in ipairs(s.headers or {}) do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then
      lines[#lines + 1] = k .. ": " .. loggable(k, v)
      have[k:lower()] = true
    end
  end
  -- what libcurl adds to every request
  if not have.host then lines[#lines + 1] = "Host: " .. (s.url:match("^%a+://([^/?#]+)") or "") end
  if not have["user-agent"] then lines[#lines + 1] = "User-Agent: " .. s.user_agent end
  sort(lines)
  local text = { s.method .. " " .. s.url }
  for _, l in ipairs(lines) do text[#text + 1] = l end
  if s.body and s.body ~= "" then
    text[#text + 1] = ""
    text[#text + 1] = body_text(s.body)
  end
  ctx.out(concat(text, "\n") .. "\n")
end

-- run(ctx, send) -> exit status: send(client) makes the call on a
-- recording client; what it would have sent is printed
function _M.run(ctx, send)
  local client, sends = _M.client(ctx)
  local res, err = send(client)
  if res == nil then return common.fail(ctx, err) end
  _M.print(ctx, sends)
  return 0
end

return _M
