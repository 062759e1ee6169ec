-- hwcloud: Huawei Cloud deployment APIs from Lua.
--
--   local hwcloud = require "hwcloud"
--   local client = assert(hwcloud.client{ region = "cn-north-4", ... })
--   local job = assert(client.workspaceapp:reinstall_server{ server_id = id })
--   assert(client:wait(job))
--
-- Requiring hwcloud does no I/O and reads no environment: that happens when
-- a client is made. The C core loads on first use.

local type, require, setmetatable, pcall, error, tostring =
  type, require, setmetatable, pcall, error, tostring
local pairs = pairs

-- the version of src/hwcloud.h (HWC_VERSION, core.version), here too so
-- that reading it loads no C; spec/core_spec.lua checks that every copy
-- (this, the core, the emulator; a release also the changelog) agrees;
-- "-dev": unreleased code, the version the next release will have
local VERSION = "0.2.0-dev"

local _M = {
  _VERSION = "hwcloud " .. VERSION,
  version = VERSION,
}

-- JSON null in responses (and, in free-form request values, null to send)
_M.null = require("cjson").null

-- The C core, loaded once. A core.so built for another Lua (a 5.4 build
-- under LuaJIT, say) fails in the dynamic loader with "undefined symbol:
-- lua_..."; that becomes one line saying what is wrong and what to do.
local function load_core()
  local ok, core = pcall(require, "hwcloud.core")
  if ok then return core end
  local msg = tostring(core)
  if msg:find("undefined symbol: lua", 1, true) then
    local file = msg:match("from file '([^']+)'") or "hwcloud/core.so"
    local jit = rawget(_G, "jit")
    local running = jit and jit.version or _VERSION
    -- luarocks names LuaJIT's rocks tree 5.1
    local rocks = jit and "5.1" or _VERSION:match("%d+%.%d+") or "5.4"
    error("hwcloud: " .. file .. " was built for another Lua than this " .. running
      .. "; install hwcloud for it (luarocks --lua-version=" .. rocks .. " install hwcloud; "
      .. "from a checkout: make LUA=luajit, LUA=5.1, 5.3 or 5.4) or fix LUA_CPATH", 0)
  end
  error(core, 0)
end
_M.load_core = load_core

function _M.client(opts)
  load_core()
  return require("hwcloud.client").new(opts)
end

-- sign(request, credentials) -> headers | nil, err
-- request = {method, url, headers?, body?, sign_algorithm?, sign_scope?};
-- credentials = {ak, sk, security_token?}. sign_algorithm is
-- "SDK-HMAC-SHA256" (nil), "SDK-HMAC-SM3" or "V11-HMAC-SHA256", which wants
-- sign_scope = "region/service" (IoTDA's: "cn-north-4/iotdm"). Returns a new headers table with Host, X-Sdk-Date (kept
-- if given), Authorization and, with a security token, X-Security-Token.
-- The C core checks the fields (types, CR/LF and other control characters,
-- the URL's shape) while it reads them and reports bad input as
-- nil, field, message; the map and the error object are made here.
local core_sign, validation -- loaded on first use, then kept

local function invalid(field, message)
  if not validation then validation = require("hwcloud.errors").validation end
  return nil, validation(field, message)
end

function _M.sign(req, creds)
  if type(req) ~= "table" then return invalid("request", "expected a table") end
  if type(creds) ~= "table" then return invalid("credentials", "expected a table") end
  local sign = core_sign
  if not sign then
    sign = load_core().sign
    core_sign = sign
  end
  local auth, date, host = sign(req.method, req.url, req.headers, req.body,
    creds.ak, creds.sk, creds.security_token, nil, true, req.sign_algorithm, req.sign_scope)
  if not auth then return invalid(date, host) end
  -- the caller's headers as given (numbers as the core signed them), and
  -- the values of those the core added. The constructor sizes the map for
  -- the usual entries (a nil adds none).
  local h = { Host = nil, Authorization = nil, ["X-Sdk-Date"] = nil, ["Content-Type"] = nil,
              ["X-Project-Id"] = nil, ["X-Security-Token"] = nil }
  local given = req.headers
  if given then
    for k, v in pairs(given) do h[k] = type(v) == "number" and tostring(v) or v end
  end
  if host then h.Host = host end
  if date then h["X-Sdk-Date"] = date end
  if creds.security_token then h["X-Security-Token"] = creds.security_token end
  h.Authorization = auth
  return h
end

-- hwcloud.services() -> the client's service fields, sorted (from the
-- catalog: no service description is loaded)
function _M.services()
  return require("hwcloud.services").names()
end

-- hwcloud.waiters(service) -> the names of its named waiters, sorted (for
-- client:wait_for) | nil, message for an unknown service
function _M.waiters(service)
  return require("hwcloud.jobs").waiters(service)
end

_M.errors = setmetatable({}, { __index = function(_, k) return require("hwcloud.errors")[k] end })

return _M
