-- hwcloud.config: turns hwcloud.client{...} options into a checked
-- configuration. Sources, first wins: the constructor, the environment
-- (HUAWEICLOUD_SDK_*), the profile file (~/.huaweicloud/credentials or
-- HUAWEICLOUD_SDK_CREDENTIALS_FILE). Credentials travel as one group: an AK
-- from one source is never paired with an SK from another.

local type, pairs, ipairs, tostring, tonumber, select, require =
  type, pairs, ipairs, tostring, tonumber, select, require
local getenv, open = os.getenv, io.open
local errors = require "hwcloud.errors"
local services = require "hwcloud.services"

local _M = {}

local S, N, B, I = { type = "string" }, { type = "number" }, { type = "boolean" },
  { type = "integer" }

-- The options hwcloud.client accepts, checked by the same C validator that
-- checks requests (types, unknown names with a "did you mean").
local OPTIONS = services.prepare { type = "object", fields = {
  region = S, project_id = S, domain_id = S,
  ak = S, sk = S, security_token = S, token = S,
  endpoint = S, endpoints = { type = "object" },
  timeout = N, connect_timeout = N,
  ca_file = S, verify_tls = B, proxy = S, http2 = B,
  max_response = I, user_agent = S,
  retries = I, retry_unsafe = B, retry_base = N, retry_max_delay = N,
  transport = { type = "string", enum = { "curl", "ngx" } },
  -- named here for "did you mean"; their values may be Lua functions,
  -- which the validator (JSON types) does not know, so they are checked
  -- below instead
  progress = { type = "any" }, on_retry = { type = "any" },
} }
local CALLBACKS = { progress = true, on_retry = true }
_M.OPTIONS = OPTIONS

local DEFAULTS = {
  timeout = 30, connect_timeout = 10, verify_tls = true, http2 = true,
  max_response = 64 * 1024 * 1024, retries = 2, retry_unsafe = false,
  retry_base = 0.2, retry_max_delay = 20,
}

local function bad(field, message)
  return nil, errors.validation(field, message)
end

local function nonempty(v)
  if v == nil or v == "" then return nil end
  return v
end

-- Minimal INI reader for the official SDKs' credentials file.
local function read_profile(path)
  local f = open(path, "r")
  if not f then return nil end
  local sections, current = {}, nil
  for line in f:lines() do
    line = line:gsub("^%s+", ""):gsub("%s+$", "")
    if line ~= "" and not line:match("^[#;]") then
      local sec = line:match("^%[(.-)%]$")
      if sec then
        current = {}
        sections[sec:lower()] = current
      elseif current then
        local k, v = line:match("^([^=]-)%s*=%s*(.*)$")
        if k then current[k:lower()] = v end
      end
    end
  end
  f:close()
  return sections.basic or sections.global
end

local function profile_path()
  local p = nonempty(getenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE"))
  if p then return p end
  local home = nonempty(getenv("HOME"))
  return home and (home .. "/.huaweicloud/credentials") or nil
end

-- Picks the first source that has credentials and takes them as a group.
local function credentials(opts, env, profile)
  if opts.token then return { token = opts.token } end
  if opts.ak or opts.sk then
    return { ak = opts.ak, sk = opts.sk, security_token = opts.security_token }
  end
  if env("AK") or env("SK") then
    return { ak = env("AK"), sk = env("SK"), security_token = env("SECURITY_TOKEN") }
  end
  local p = profile()
  if p and (nonempty(p.ak) or nonempty(p.sk)) then
    return { ak = nonempty(p.ak), sk = nonempty(p.sk),
             security_token = nonempty(p.security_token) }
  end
  return {}
end

local function normalise_url(field, url)
  if not url:match("^%a[%w+.-]*://") then url = "https://" .. url end
  local scheme = url:match("^(%a[%w+.-]*)://"):lower()
  if scheme ~= "http" and scheme ~= "https" then
    return nil, field, "must be an http:// or https:// URL"
  end
  if url:find("[%s%c]") then return nil, field, "must not contain spaces or control characters" end
  -- [user:pass@]host[:port], the host a name or a bracketed IPv6 address
  local authority = url:match("^%a[%w+.-]*://([^/?#]*)")
  local hostport = authority:match("@([^@]*)$") or authority
  local host, port = hostport:match("^(%[[%x:.]+%])(.*)$")
  if not host then host, port = hostport:match("^([%w._-]+)(.*)$") end
  if not host then return nil, field, "must name a host" end
  if port ~= "" then
    local n = tonumber(port:match("^:(%d+)$"))
    if not n or n < 1 or n > 65535 then return nil, field, "has an invalid port" end
  end
  return (url:gsub("/+$", ""))
end

-- Region part of the default host name: mainland-China regions and the
-- rest share myhuaweicloud.com; eu-west-101 has its own domain.
local function default_endpoint(svc, region)
  local host = svc.host
  if svc.host_intl and not region:match("^cn%-") then host = svc.host_intl end
  local domain = region == "eu-west-101" and "myhuaweicloud.eu" or "myhuaweicloud.com"
  return "https://" .. host .. "." .. region .. "." .. domain
end

-- new(opts) -> cfg | nil, err
function _M.new(opts, core)
  opts = opts or {}
  if type(opts) ~= "table" then return bad("options", "expected a table of options") end
  -- core.validate returns nothing when the value fits the schema
  local plain = {}
  for k, v in pairs(opts) do
    if not CALLBACKS[k] then plain[k] = v end
  end
  local bad_field, msg = core.validate(OPTIONS, plain)
  if bad_field then return bad(bad_field, msg) end

  local function env(name) return nonempty(getenv("HUAWEICLOUD_SDK_" .. name)) end
  local prof_cache = false
  local function profile()
    if prof_cache == false then
      local path = profile_path()
      prof_cache = path and read_profile(path) or nil
    end
    return prof_cache
  end

  local cfg = {}
  for k, v in pairs(DEFAULTS) do cfg[k] = v end
  for k, v in pairs(opts) do cfg[k] = v end

  cfg.region = nonempty(opts.region) or env("REGION")
  cfg.project_id = nonempty(opts.project_id) or env("PROJECT_ID")
    or (profile() and nonempty(profile().project_id))
  cfg.domain_id = nonempty(opts.domain_id) or env("DOMAIN_ID")

  local creds = credentials(opts, env, profile)
  if not creds.token then
    if not nonempty(creds.ak) then
      return bad("ak", "is required (or token): pass ak/sk, set HUAWEICLOUD_SDK_AK and "
        .. "HUAWEICLOUD_SDK_SK, or add them to ~/.huaweicloud/credentials")
    end
    if not nonempty(creds.sk) then return bad("sk", "is required with ak") end
  end
  -- values that travel in headers: a CR or LF would let one forge headers
  for _, k in ipairs { "ak", "sk", "security_token", "token" } do
    if creds[k] and creds[k]:find("[%c]") then return bad(k, "must not contain control characters") end
  end
  if cfg.project_id and cfg.project_id:find("[%c]") then
    return bad("project_id", "must not contain control characters")
  end
  -- both become part of URLs: a region is pasted into the host name, a
  -- project id into the path, so neither may change their shape
  if cfg.project_id and (cfg.project_id == "." or cfg.project_id == ".."
      or cfg.project_id:find("/", 1, true)) then
    return bad("project_id", "must not be '.' or '..' or contain '/'")
  end
  if cfg.region and not cfg.region:match("^[a-z0-9-]+$") then
    return bad("region", "must be a region name: lower-case letters, digits and '-' "
      .. "(e.g. cn-north-4)")
  end
  if cfg.user_agent and cfg.user_agent:find("[%c]") then
    return bad("user_agent", "must not contain control characters")
  end
  cfg.ak, cfg.sk, cfg.security_token, cfg.token = nil, nil, nil, nil
  cfg.credentials = creds

  if opts.on_retry ~= nil and type(opts.on_retry) ~= "function" then
    return bad("on_retry", "expected function, got " .. type(opts.on_retry))
  end
  local pbad = require("hwcloud.progress").check(opts.progress)
  if pbad then return bad("progress", pbad) end
  if cfg.timeout <= 0 then return bad("timeout", "must be greater than 0") end
  if cfg.connect_timeout <= 0 then return bad("connect_timeout", "must be greater than 0") end
  if cfg.retries < 0 or cfg.retries > 10 then return bad("retries", "must be between 0 and 10") end
  if cfg.max_response <= 0 then return bad("max_response", "must be greater than 0") end
  if cfg.retry_base < 0 then return bad("retry_base", "must not be negative") end
  if cfg.retry_max_delay < 0 then return bad("retry_max_delay", "must not be negative") end
  if cfg.ca_file then
    -- opening a directory succeeds; reading it does not
    local f = open(cfg.ca_file, "r")
    local rerr
    if f then
      rerr = select(2, f:read(0))
      f:close()
    end
    if not f or rerr then return bad("ca_file", "cannot be read: " .. cfg.ca_file) end
  end
  if cfg.proxy then
    local ok, f2, m2 = normalise_url("proxy", cfg.proxy)
    if not ok then return bad(f2, m2) end
  end

  -- endpoints: per-service URL > one URL for all > env override > default
  cfg.endpoint_for = {}
  local all
  if opts.endpoint then
    local url, f, m = normalise_url("endpoint", opts.endpoint)
    if not url then return bad(f, m) end
    all = url
  end
  local given = opts.endpoints or {}
  for name, url in pairs(given) do
    local field = "endpoints." .. tostring(name)
    if type(name) ~= "string" or not services.load(name) then
      return bad(field, "unknown service (known: " .. table.concat(services.names(), ", ") .. ")")
    end
    if type(url) ~= "string" then return bad(field, "expected string, got " .. type(url)) end
    local u, f, m = normalise_url(field, url)
    if not u then return bad(f, m) end
    cfg.endpoint_for[name] = u
  end
  cfg.endpoints = nil
  cfg.endpoint = all
  return cfg
end

-- endpoint(cfg, svc) -> url | nil, err (resolved lazily: a client that only
-- talks to the emulator needs no region).
function _M.endpoint(cfg, svc)
  local url = cfg.endpoint_for[svc.name] or cfg.endpoint
  if url then return url end
  local region = cfg.region
  if not region then
    return nil, errors.validation("region", "is required to reach " .. svc.name
      .. " (set region, endpoint or endpoints." .. svc.name .. ")")
  end
  local var = "HUAWEICLOUD_SDK_REGION_" .. svc.name:upper() .. "_"
    .. region:upper():gsub("-", "_")
  local from_env = nonempty(getenv(var))
  if from_env then
    local first = from_env:match("^%s*([^,%s]+)")
    local u, f, m = normalise_url(var, first or "")
    if not u then return nil, errors.validation(f, m) end
    url = u
  else
    url = default_endpoint(svc, region)
  end
  cfg.endpoint_for[svc.name] = url
  return url
end

return _M
