-- hwcloud.cli.setup: the client a command uses, from the command line,
-- the environment and --profile (a section of the official SDKs'
-- credentials file, read by the library's own reader).

local type, ipairs, tonumber = type, ipairs, tonumber
local tointeger = math.tointeger

local errors = require "hwcloud.errors"
local credentials = require "hwcloud.identity.credentials"
local common = require "hwcloud.cli.common"
local usage = common.usage
local nonempty = credentials.nonempty

local _M = {}

-- The section `name` of the credentials file, which must hold ak and sk.
local function read_profile(getenv, name)
  local path = credentials.profile_path(getenv) or "~/.huaweicloud/credentials"
  local sections, err = credentials.read_sections(path)
  if not sections then usage("--profile %s: cannot read %s%s", name, path, err and (": " .. err) or "") end
  local found = sections[name:lower()]
  if not found then usage("--profile %s: no [%s] section in %s", name, name, path) end
  if not nonempty(found.ak) or not nonempty(found.sk) then
    usage("--profile %s: the section needs ak and sk", name)
  end
  return found
end

function _M.number_opt(opts, name, integer)
  local v = opts[name]
  if v == nil then return nil end
  local n = tonumber(v)
  if integer then n = n and tointeger(n) end
  if not n or n < 0 then
    usage("option --%s: expected %s, got '%s'", name,
      integer and "a whole number >= 0" or "a number of seconds", v)
  end
  return n
end
local number_opt = _M.number_opt

-- client options from the command line, the environment and the profile
function _M.client_options(opts, getenv)
  local o = {
    region = opts.region,
    endpoint = nonempty(opts.endpoint or getenv("HWCLOUD_ENDPOINT")),
    project_id = opts["project-id"],
    -- (without it, hwcloud.client reads HWCLOUD_CA_FILE)
    ca_file = opts["ca-file"],
    timeout = number_opt(opts, "timeout"),
    retries = number_opt(opts, "retries", true),
    progress = false,
  }
  if opts.profile then
    local p = read_profile(getenv, opts.profile)
    o.ak, o.sk, o.security_token = p.ak, p.sk, nonempty(p.security_token)
    o.project_id = o.project_id or nonempty(p.project_id)
    o.region = o.region or nonempty(p.region)
  end
  return o
end

-- config(copts, opts) -> the client's configuration, checked | nil, err;
-- a bad endpoint named where it came from (--endpoint or HWCLOUD_ENDPOINT)
function _M.config(copts, opts)
  local cfg, cerr = require("hwcloud.config").new(copts)
  if not cfg and errors.is(cerr) and cerr.field == "endpoint" and not opts.endpoint then
    cerr.field = "HWCLOUD_ENDPOINT"
  end
  return cfg, cerr
end

-- the secrets of a configuration, for the writers to mask
function _M.secrets(cfg, list)
  for _, k in ipairs { "sk", "security_token", "token" } do
    local v = cfg.credentials[k]
    if type(v) == "string" and v ~= "" then list[#list + 1] = v end
  end
  return list
end

return _M
