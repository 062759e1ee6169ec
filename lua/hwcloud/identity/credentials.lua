-- hwcloud.identity.credentials: the source chain of the client's identity, decided
-- when a client is made and without any I/O.
--
-- Sources, first wins, each taken as one group (keys with their own project
-- id, domain id and IAM endpoint; a project id of one source never goes with
-- the keys of another):
--   1. the constructor: `token`, or `user_name`/`password`/`domain_name`, or
--      a `credentials` function, or `ak`/`sk`[/`security_token`];
--   2. the environment: HUAWEICLOUD_SDK_AK, _SK, _SECURITY_TOKEN,
--      _PROJECT_ID, _DOMAIN_ID;
--   3. the profile file ($HUAWEICLOUD_SDK_CREDENTIALS_FILE or
--      ~/.huaweicloud/credentials, section [basic] or [global]);
--   4. the ECS metadata service (the instance agency's temporary keys),
--      fetched at the first call that needs them.
-- The constructor's project_id and domain_id, being explicit, go with
-- whichever source gives the keys.

local type, ipairs, tonumber = type, ipairs, tonumber
local open, floor = io.open, math.floor
local errors = require "hwcloud.errors"

local _M = {}

_M.DEFAULT_METADATA = "http://169.254.169.254"

local function nonempty(v)
  if v == nil or v == "" then return nil end
  return v
end
_M.nonempty = nonempty

-- Minimal INI reader for the official SDKs' credentials file: every
-- section by its lower-cased name, keys lower-cased. nil when there is no
-- file; nil, message when it cannot be read (a folder); a UTF-8 BOM (as
-- some editors write) is skipped.
function _M.read_sections(path)
  local f = open(path, "r")
  if not f then return nil end
  local data, rerr = f:read("*a")
  f:close()
  if not data then return nil, "cannot be read: " .. tostring(rerr) end
  if data:sub(1, 3) == "\239\187\191" then data = data:sub(4) end
  local sections, current = {}, nil
  for line in data:gmatch("[^\n]+") do
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
  return sections
end

-- The profile the chain reads: [basic], else [global].
function _M.read_profile(path)
  local sections, err = _M.read_sections(path)
  if not sections then return nil, err end
  return sections.basic or sections.global
end

function _M.profile_path(getenv)
  local p = nonempty(getenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE"))
  if p then return p end
  local home = nonempty(getenv("HOME"))
  return home and (home .. "/.huaweicloud/credentials") or nil
end

local function bad(field, message)
  return nil, errors.validation(field, message)
end

-- An AK/SK group: both or neither. `names` says what each is called in
-- that source.
local function pair(source, ak, sk, stoken, names)
  if not ak then
    return bad("ak", "is required with " .. names.sk .. " (" .. source .. ")")
  end
  if not sk then
    return bad("sk", "is required with " .. names.ak .. " (" .. source .. ")")
  end
  return { kind = "aksk", source = source, ak = ak, sk = sk, security_token = stoken }
end

local CTOR = { ak = "ak", sk = "sk" }
local ENV = { ak = "HUAWEICLOUD_SDK_AK", sk = "HUAWEICLOUD_SDK_SK" }
local PROFILE = { ak = "ak", sk = "sk" }

-- The constructor's options name at most one source: keys with a token (or
-- a password, or a function) would otherwise have one silently win.
local SOURCES = {
  { "ak", "sk", "security_token" }, { "token" },
  { "user_name", "password", "domain_name" }, { "credentials" },
}
local function conflict(o)
  local given, groups, second = {}, 0, nil
  for _, names in ipairs(SOURCES) do
    local first = #given + 1
    for _, k in ipairs(names) do
      if o[k] ~= nil and o[k] ~= "" then given[#given + 1] = k end
    end
    if given[first] then
      groups = groups + 1
      if groups == 2 then second = given[first] end
    end
  end
  if groups < 2 then return nil end
  return bad(second, table.concat(given, ", ", 1, #given - 1) .. " and " .. given[#given]
    .. " given together: each names a source of credentials; give one of ak/sk[/security_token], "
    .. "token, user_name/password/domain_name, credentials")
end

-- From the constructor's options, or nil when they name no credentials.
local function from_constructor(opts)
  local o = opts
  local _, cerr = conflict(o)
  if cerr then return nil, cerr end
  if nonempty(o.token) then return { kind = "token", source = "constructor", token = o.token } end
  if o.user_name or o.password or o.domain_name then
    for _, k in ipairs { "user_name", "password", "domain_name" } do
      if not nonempty(o[k]) then
        return bad(k, "is required with user_name, password and domain_name (a password token)")
      end
    end
    return { kind = "password", source = "constructor", user_name = o.user_name,
             password = o.password, domain_name = o.domain_name }
  end
  if o.credentials ~= nil then
    if type(o.credentials) ~= "function" then
      return bad("credentials", "expected a function returning {ak, sk, security_token?, "
        .. "expires_at?}, got " .. type(o.credentials))
    end
    return { kind = "function", source = "constructor", fn = o.credentials }
  end
  if nonempty(o.ak) or nonempty(o.sk) then
    return pair("constructor", nonempty(o.ak), nonempty(o.sk), nonempty(o.security_token), CTOR)
  end
  return nil
end

-- select(opts, getenv) -> group, tried | nil, err
-- tried lists what each source lacked, for the error at the first call when
-- the metadata service has nothing either.
function _M.select(opts, getenv)
  local function env(name) return nonempty(getenv("HUAWEICLOUD_SDK_" .. name)) end
  local tried = {}
  local g, err = from_constructor(opts)
  if err then return nil, err end
  if g then return g end
  tried[#tried + 1] = "the constructor (no ak/sk, token, user_name/password or credentials)"

  local eak, esk = env("AK"), env("SK")
  if eak or esk then
    g, err = pair("environment", eak, esk, env("SECURITY_TOKEN"), ENV)
    if not g then return nil, err end
    g.project_id, g.domain_id = env("PROJECT_ID"), env("DOMAIN_ID")
    return g
  end
  tried[#tried + 1] = "the environment (no HUAWEICLOUD_SDK_AK/_SK)"

  local path = _M.profile_path(getenv)
  local p, perr
  if path then p, perr = _M.read_profile(path) end
  if perr then
    local field = nonempty(getenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE"))
      and "HUAWEICLOUD_SDK_CREDENTIALS_FILE" or "credentials file"
    return bad(field, perr .. " (" .. path .. ")")
  end
  if p and (nonempty(p.ak) or nonempty(p.sk)) then
    g, err = pair("profile", nonempty(p.ak), nonempty(p.sk), nonempty(p.security_token), PROFILE)
    if not g then
      err.message = err.message .. " in " .. path
      return nil, err
    end
    g.project_id, g.domain_id = nonempty(p.project_id), nonempty(p.domain_id)
    g.iam_endpoint = nonempty(p.iam_endpoint)
    return g
  end
  if not path then
    tried[#tried + 1] = "the profile file (no HOME nor HUAWEICLOUD_SDK_CREDENTIALS_FILE)"
  elseif not p then
    tried[#tried + 1] = "the profile file (" .. path .. ": none, or no [basic] section)"
  else
    tried[#tried + 1] = "the profile file (" .. path .. ": no ak/sk)"
  end

  return { kind = "metadata", source = "metadata", tried = tried }
end

-- The region of the profile file, when the environment and the
-- constructor name none.
function _M.profile_region(getenv)
  local path = _M.profile_path(getenv)
  local p = path and (_M.read_profile(path))
  return p and nonempty(p.region) or nil
end

-- Days since 1970-01-01 of a proleptic Gregorian date (no time zone: the
-- clock strings here are UTC, and os.time would read them as local time).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor((y >= 0 and y or y - 399) / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- parse_time(v) -> seconds since the epoch | nil. v: a number (already
-- seconds) or an ISO-8601 UTC string, "2026-12-01T10:00:00Z",
-- "...T10:00:00.701000Z" or with "+00:00".
function _M.parse_time(v)
  if type(v) == "number" then return v end
  if type(v) ~= "string" then return nil end
  local y, mo, d, h, mi, s, rest = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  rest = rest:gsub("^%.%d+", "")
  local offset = 0
  if rest ~= "Z" and rest ~= "" then
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1)
  end
  local days = days_from_civil(tonumber(y), tonumber(mo), tonumber(d))
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s) - offset
end

return _M
