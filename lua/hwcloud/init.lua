-- hwcloud: Huawei Cloud deployment APIs from Lua.
--
--   local hwcloud = require "hwcloud"
--   local client = assert(hwcloud.client{ region = "cn-north-4", ... })
--   local job = assert(client.workspaceapp:reinstall_server{ server_id = id })
--   assert(client:wait(job))
--
-- Requiring hwcloud does no I/O and reads no environment: that happens when
-- a client is made. The C core loads on first use.

local type, require, setmetatable = type, require, setmetatable

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
-- The C core checks the fields (types, CR/LF and other control characters,
-- the URL's shape) while it reads them and reports bad input as
-- nil, field, message; only the error object is made here.
local sign_checked, validation -- loaded on first use, then kept

local function invalid(field, message)
  if not validation then validation = require("hwcloud.errors").validation end
  return nil, validation(field, message)
end

function _M.sign(req, creds)
  if type(req) ~= "table" then return invalid("request", "expected a table") end
  if type(creds) ~= "table" then return invalid("credentials", "expected a table") end
  local sc = sign_checked
  if not sc then
    sc = require("hwcloud.core").sign_checked
    sign_checked = sc
  end
  local h, field, message = sc(req.method, req.url, req.headers, req.body,
    creds.ak, creds.sk, creds.security_token)
  if h then return h end
  return invalid(field, message)
end

_M.errors = setmetatable({}, { __index = function(_, k) return require("hwcloud.errors")[k] end })

return _M
