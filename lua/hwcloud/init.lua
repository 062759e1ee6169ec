-- hwcloud: Huawei Cloud deployment APIs from Lua.
--
--   local hwcloud = require "hwcloud"
--   local client = assert(hwcloud.client{ region = "cn-north-4", ... })
--   local job = assert(client.workspaceapp:reinstall_server{ server_id = id })
--   assert(client:wait(job))
--
-- Requiring hwcloud does no I/O and reads no environment: that happens when
-- a client is made. The C core loads on first use.

local type, require, pairs, ipairs, tostring, setmetatable =
  type, require, pairs, ipairs, tostring, setmetatable

local _M = {
  _VERSION = "hwcloud 0.1.0",
  version = "0.1.0",
}

-- JSON null in responses (and, in free-form request values, null to send)
_M.null = require("cjson").null

function _M.client(opts)
  return require("hwcloud.client").new(opts)
end

-- sign(request, credentials) -> headers | nil, err
-- request = {method, url, headers?, body?}; credentials = {ak, sk,
-- security_token?}. Returns a new headers table with Host, X-Sdk-Date (kept
-- if given), Authorization and, with a security token, X-Security-Token.
function _M.sign(req, creds)
  local errors = require "hwcloud.errors"
  if type(req) ~= "table" then return nil, errors.validation("request", "expected a table") end
  if type(creds) ~= "table" then
    return nil, errors.validation("credentials", "expected a table")
  end
  if type(req.method) ~= "string" or req.method == "" then
    return nil, errors.validation("method", "expected a non-empty string")
  end
  -- scheme://[user@]host[:port][/path][?query]: the host must not be empty,
  -- and nothing in the URL may break the request line
  local url = req.url
  local authority = type(url) == "string" and url:match("^[%a][%w+.-]*://([^/?#]*)")
  if not authority or not authority:gsub("^[^@]*@", ""):match("^[^:]") then
    return nil, errors.validation("url", "expected an absolute URL with a host")
  end
  if url:find("[%s%c]") then
    return nil, errors.validation("url", "must not contain spaces or control characters")
  end
  if req.headers ~= nil and type(req.headers) ~= "table" then
    return nil, errors.validation("headers", "expected a table")
  end
  if req.body ~= nil and type(req.body) ~= "string" then
    return nil, errors.validation("body", "expected a string")
  end
  for _, k in ipairs { "ak", "sk" } do
    if type(creds[k]) ~= "string" or creds[k] == "" then
      return nil, errors.validation(k, "is required")
    end
    if creds[k]:find("%c") then
      return nil, errors.validation(k, "must not contain control characters")
    end
  end
  local headers = {}
  for k, v in pairs(req.headers or {}) do
    if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number") then
      return nil, errors.validation("headers", "names and values must be strings")
    end
    if k:find("[%c%s:]") or k == "" or tostring(v):find("[\r\n%z]") then
      return nil, errors.validation("headers", "bad header name or value for '" .. k .. "'")
    end
    headers[k] = tostring(v)
  end
  if creds.security_token ~= nil then
    if type(creds.security_token) ~= "string" then
      return nil, errors.validation("security_token", "expected a string")
    end
    if creds.security_token:find("%c") then
      return nil, errors.validation("security_token", "must not contain control characters")
    end
    headers["X-Security-Token"] = creds.security_token
  end
  return require("hwcloud.core").sign(req.method:upper(), req.url, headers, req.body,
    creds.ak, creds.sk)
end

_M.errors = setmetatable({}, { __index = function(_, k) return require("hwcloud.errors")[k] end })

return _M
