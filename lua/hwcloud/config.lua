-- hwcloud.config: turns hwcloud.client{...} options into a checked
-- configuration. Settings come from the constructor, then the environment
-- (HUAWEICLOUD_SDK_*, HWCLOUD_ENDPOINT, HWCLOUD_CA_FILE), then the profile file; the
-- credentials' source chain is hwcloud.credentials. Nothing here does I/O
-- beyond reading the profile file and the CA file.

local type, pairs, ipairs, tostring, select, require =
  type, pairs, ipairs, tostring, select, require
local getenv, open = os.getenv, io.open
local errors = require "hwcloud.errors"
local services = require "hwcloud.services"
local suggest = require("hwcloud.suggest").closest
local credentials = require "hwcloud.identity.credentials"
local options = require "hwcloud.options"
local parse_url = require("hwcloud.core").parse_url

local _M = {}

local o = options
local positive, whole = o.positive, o.between

-- The options hwcloud.client accepts, with their rules (hwcloud.options:
-- unknown names get a "did you mean"); per-call options reuse these rules.
local OPTIONS = o.declare {
  region = o.string, project_id = o.string, domain_id = o.string,
  ak = o.string, sk = o.string, security_token = o.string, token = o.string,
  user_name = o.string, password = o.string, domain_name = o.string,
  metadata_endpoint = o.string, endpoint = o.string, endpoints = o.object,
  timeout = positive(), connect_timeout = positive(),
  ca_file = o.string, verify_tls = o.boolean, proxy = o.string, http2 = o.boolean,
  max_response = positive("integer"), user_agent = o.string,
  max_connections = whole("integer", 1, 100000),
  rate = o.rule("number", function(v)
    if not (v > 0) or v == math.huge then -- luacheck: ignore 581
      return "must be a number of requests per second greater than 0"
    end
  end),
  retries = whole("integer", 0, require("hwcloud.retry").MAX_RETRIES), retry_unsafe = o.boolean,
  retry_base = o.non_negative(), retry_max_delay = o.non_negative(),
  transport = o.one_of("string", { "curl", "ngx" }),
  -- the signature of the API (SDK-HMAC-SM3: the SM3 digest in place of
  -- SHA-256); the services the SDKs sign derived (IoTDA) sign V11 anyway
  sign_algorithm = o.one_of("string", { "SDK-HMAC-SHA256", "SDK-HMAC-SM3" }),
  -- object storage's signature (hwcloud.obs)
  obs_signature = o.one_of("string", { "obs", "v2", "v4" }),
  -- false: OBS transfers skip the MD5 check of their bytes against ETag
  -- and Content-MD5 (a call's `checksum` overrides it)
  obs_checksum = o.boolean,
  progress = o.rule("any", function(v) return require("hwcloud.progress").check(v) end),
  on_retry = o.func, on_request = o.func, on_response = o.func,
  -- a source object or function, checked by hwcloud.credentials
  credentials = o.any,
}
_M.OPTIONS = OPTIONS

local DEFAULTS = {
  timeout = 30, connect_timeout = 10, verify_tls = true, http2 = true,
  max_response = 64 * 1024 * 1024, retries = 2, retry_unsafe = false,
  retry_base = 0.2, retry_max_delay = 20,
}

local function invalid(field, message) return errors.validation(field, message) end
local function bad(field, message) return nil, invalid(field, message) end

local nonempty = credentials.nonempty

-- The one URL parser (C, shared with the signer and the ngx transport);
-- its messages name the rule and never the URL, as these must: a proxy URL
-- may carry a password.
local function normalise_url(field, url)
  local u, err = parse_url(url)
  if not u then
    -- no scheme is refused, not assumed: a host meant for http:// (the
    -- emulator, a proxy) would otherwise get a TLS handshake it cannot answer
    local sep = url:find("://", 1, true)
    if not sep or sep == 1 then return nil, field, "must start with http:// or https://" end
    if err:find("absolute URL", 1, true) then return nil, field, "must name a host" end
    return nil, field, (err:gsub("^url ", ""))
  end
  if u.scheme ~= "http" and u.scheme ~= "https" then
    return nil, field, "must be an http:// or https:// URL"
  end
  return (url:gsub("/+$", ""))
end

-- The region file of the official SDKs (HUAWEICLOUD_SDK_REGIONS_FILE or
-- ~/.huaweicloud/regions.yaml): service names (any case) as top-level keys,
-- each a list of {id, endpoint | endpoints: [...]}. Only that shape is read.
local function unquote(v)
  v = v:gsub("%s+#.*$", ""):gsub("^%s+", ""):gsub("%s+$", "")
  return (v:gsub('^"(.*)"$', "%1"):gsub("^'(.*)'$", "%1"))
end

-- The reader's state, st = {out, svc, item, in_list}: the services read so
-- far, the current service's list, its current item, and whether the lines
-- that follow are that item's endpoints list.

-- "- key: value" (or "- key:") starts an item of the current service
local function start_item(st, indent, rest)
  local k, v = rest:match("^([%w_]+):%s+(.*)$")
  if not k then k, v = rest:match("^([%w_]+):()$"), "" end
  if not k then return end
  local item = { indent = #indent }
  st.svc[#st.svc + 1] = item
  st.item, st.in_list = item, false
  if k == "endpoints" and v == "" then st.in_list = true
  elseif v ~= "" then item[k] = unquote(v) end
end

-- "  key: value" adds to the current item; "  endpoints:" opens its list
local function item_key(st, line)
  local k, v = line:match("^%s+([%w_]+):%s*(.*)$")
  if k == "endpoints" and v == "" then
    st.in_list = true
  elseif k and v ~= "" then
    st.item[k] = unquote(v)
    st.in_list = false
  end
end

local function regions_line(st, line)
  local top = line:match("^([%w_-]+):%s*$")
  local indent, rest = line:match("^(%s*)%-%s*(.*)$")
  local item = st.item
  if top then
    st.svc = {}
    st.out[top:lower()] = st.svc
    st.item, st.in_list = nil, false
  elseif indent and st.svc and st.in_list and item and #indent > (item.indent or 0) then
    item.endpoints = item.endpoints or {}
    item.endpoints[#item.endpoints + 1] = unquote(rest)
  elseif indent and st.svc then
    start_item(st, indent, rest)
  elseif st.svc and item then
    item_key(st, line)
  end
end

local function read_regions(path)
  local f = path and open(path, "r")
  if not f then return nil end
  local st = { out = {}, svc = nil, item = nil, in_list = false }
  for line in f:lines() do
    if not line:match("^%s*#") and line:match("%S") then regions_line(st, line) end
  end
  f:close()
  return st.out
end

local function regions_file()
  local p = nonempty(getenv("HUAWEICLOUD_SDK_REGIONS_FILE"))
  if p then return p end
  local home = nonempty(getenv("HOME"))
  return home and (home .. "/.huaweicloud/regions.yaml") or nil
end

local function split_list(v)
  local list = {}
  for item in v:gmatch("[^,]+") do
    item = item:gsub("^%s+", ""):gsub("%s+$", "")
    if item ~= "" then list[#list + 1] = item end
  end
  return list
end

-- Region part of the default host name: mainland-China regions and the
-- rest share myhuaweicloud.com; eu-west-101 has its own domain.
local function default_endpoint(svc, region)
  local host = svc.host
  -- a global host (bss.myhuaweicloud.com) names no region
  if host:find(".", 1, true) then return "https://" .. host end
  if svc.host_intl and not region:match("^cn%-") then host = svc.host_intl end
  local domain = region == "eu-west-101" and "myhuaweicloud.eu" or "myhuaweicloud.com"
  return "https://" .. host .. "." .. region .. "." .. domain
end

local function env(name) return nonempty(getenv("HUAWEICLOUD_SDK_" .. name)) end

-- The steps of new(), each -> nothing | err.

-- ids(cfg, opts, creds): region, project and domain ids, and the values
-- that travel in headers or URLs checked for what would change them
local function ids(cfg, opts, creds)
  -- the constructor's ids are explicit and go with any source's keys;
  -- otherwise only the ids of the source that gave the keys count
  creds.project_id = nonempty(opts.project_id) or creds.project_id
  creds.domain_id = nonempty(opts.domain_id) or creds.domain_id
  cfg.region = nonempty(opts.region) or env("REGION") or credentials.profile_region(getenv)
  cfg.project_id, cfg.domain_id = creds.project_id, creds.domain_id
  if creds.kind == "password" and not cfg.region and not cfg.project_id then
    return invalid("region", "is required for a password token (the token's project "
      .. "scope), or set project_id")
  end
  -- values that travel in headers: a CR or LF would let one forge headers
  for _, k in ipairs { "ak", "sk", "security_token", "token", "user_name", "domain_name" } do
    if creds[k] and creds[k]:find("[%c]") then
      return invalid(k, "must not contain control characters")
    end
  end
  for _, k in ipairs { "project_id", "domain_id", "region", "user_agent" } do
    if cfg[k] and cfg[k]:find("[%c]") then
      return invalid(k, "must not contain control characters")
    end
  end
  -- both become part of URLs: a region is pasted into the host name, a
  -- project id into the path, so neither may change their shape
  if cfg.project_id and (cfg.project_id == "." or cfg.project_id == ".."
      or cfg.project_id:find("/", 1, true)) then
    return invalid("project_id", "must not be '.' or '..' or contain '/'")
  end
  if cfg.region and not cfg.region:match("^[a-z0-9-]+$") then
    return invalid("region", "must be a region name: lower-case letters, digits and '-' "
      .. "(e.g. cn-north-4)")
  end
end

-- transport_files(cfg): the CA file (ca_file, else HWCLOUD_CA_FILE, as
-- hwcloud.emulator.testing's env() sets it for a TLS emulator) readable,
-- the proxy a URL
local function transport_files(cfg)
  local ca_field = "ca_file"
  if cfg.ca_file == nil and nonempty(getenv("HWCLOUD_CA_FILE")) then
    cfg.ca_file, ca_field = getenv("HWCLOUD_CA_FILE"), "HWCLOUD_CA_FILE"
  end
  if cfg.ca_file then
    -- opening a directory succeeds; reading it does not
    local f = open(cfg.ca_file, "r")
    local rerr
    if f then
      rerr = select(2, f:read(0))
      f:close()
    end
    if not f or rerr then return invalid(ca_field, "cannot be read: " .. cfg.ca_file) end
  end
  if cfg.proxy then
    local ok, f2, m2 = normalise_url("proxy", cfg.proxy)
    if not ok then return invalid(f2, m2) end
  end
end

-- service_endpoint(name, url) -> normalised url | nil, err: one entry of
-- the endpoints option
local function service_endpoint(name, url)
  local field = "endpoints." .. tostring(name)
  -- a service hwcloud does not describe may be named (for client:request),
  -- but not one that looks like a misspelt described one
  if type(name) ~= "string" or not name:match("^[a-z][a-z0-9_-]*$") then
    return bad(field, "must be a service name ([a-z0-9_-])")
  end
  -- obs is no described service but hwcloud.obs's own (client.obs)
  if name ~= "obs" and not services.known(name) then
    local hint = suggest(name, services.names())
    if hint then return bad(field, "unknown service (did you mean '" .. hint .. "'?)") end
  end
  if type(url) ~= "string" then return bad(field, "expected string, got " .. type(url)) end
  local u, f, m = normalise_url(field, url)
  if not u then return bad(f, m) end
  return u
end

-- endpoints(cfg, opts): per-service URL > one URL for all > env override >
-- default (the last two resolved later, by endpoint())
local function endpoints(cfg, opts)
  cfg.endpoint_for = {}
  cfg.alternates = {}
  -- HWCLOUD_ENDPOINT: a script aimed at the emulator through its
  -- environment must never reach the real cloud
  local one, one_field = opts.endpoint, "endpoint"
  if one == nil and nonempty(getenv("HWCLOUD_ENDPOINT")) then
    one, one_field = getenv("HWCLOUD_ENDPOINT"), "HWCLOUD_ENDPOINT"
  end
  cfg.endpoint = nil
  if one then
    local url, f, m = normalise_url(one_field, one)
    if not url then return invalid(f, m) end
    cfg.endpoint = url
  end
  for name, url in pairs(opts.endpoints or {}) do
    local u, err = service_endpoint(name, url)
    if not u then return err end
    cfg.endpoint_for[name] = u
  end
  cfg.endpoints = nil
end

-- identity_endpoints(cfg, opts, creds): {iam} = endpoints.iam >
-- HUAWEICLOUD_SDK_IAM_ENDPOINT (or the profile's iam_endpoint) > endpoint >
-- the region's IAM host; the metadata service's URL for metadata keys
local function identity_endpoints(cfg, opts, creds)
  local iam = cfg.endpoint_for.iam
  if not iam then
    local named, field = env("IAM_ENDPOINT"), "HUAWEICLOUD_SDK_IAM_ENDPOINT"
    if not named and creds.iam_endpoint then named, field = creds.iam_endpoint, "iam_endpoint" end
    if named then
      local u, f, m = normalise_url(field, named)
      if not u then return invalid(f, m) end
      iam = u
    end
  end
  cfg.iam_endpoint = iam
  if creds.kind == "metadata" then
    local md, field = opts.metadata_endpoint, "metadata_endpoint"
    if md == nil and nonempty(getenv("HWCLOUD_METADATA_ENDPOINT")) then
      md, field = getenv("HWCLOUD_METADATA_ENDPOINT"), "HWCLOUD_METADATA_ENDPOINT"
    end
    -- HWCLOUD_ENDPOINT aims the script at the emulator, which also plays
    -- the metadata service: the probe must not leave for the real one (on
    -- an ECS host it would fetch the host's keys and send their token on)
    if md == nil and nonempty(getenv("HWCLOUD_ENDPOINT")) then
      md, field = getenv("HWCLOUD_ENDPOINT"), "HWCLOUD_ENDPOINT"
    end
    local u, f, m = normalise_url(field, md or credentials.DEFAULT_METADATA)
    if not u then return invalid(f, m) end
    creds.endpoint = u
  elseif opts.metadata_endpoint then
    local u, f, m = normalise_url("metadata_endpoint", opts.metadata_endpoint)
    if not u then return invalid(f, m) end
  end
end

local SECRETS = { "ak", "sk", "security_token", "token", "user_name", "password", "domain_name" }

-- new(opts) -> cfg | nil, err
function _M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then return bad("options", "expected a table of options") end
  local checked, oerr = options.check(OPTIONS, opts)
  if not checked then return nil, oerr end

  local cfg = {}
  for k, v in pairs(DEFAULTS) do cfg[k] = v end
  for k, v in pairs(opts) do cfg[k] = v end

  local creds, cerr = credentials.select(opts, getenv)
  if not creds then return nil, cerr end
  local err = ids(cfg, opts, creds)
  if err then return nil, err end
  -- the credentials live in their own group (the auth closure), not in cfg
  for _, k in ipairs(SECRETS) do cfg[k] = nil end
  cfg.credentials = creds

  err = transport_files(cfg) or endpoints(cfg, opts) or identity_endpoints(cfg, opts, creds)
  if err then return nil, err end
  return cfg
end

-- iam_endpoint(cfg) -> url | nil, err: where identity requests go.
function _M.iam_endpoint(cfg)
  if cfg.iam_endpoint then return cfg.iam_endpoint end
  local url, err = _M.endpoint(cfg, services.load("iam"))
  if url then return url end
  return nil, err
end

-- region_endpoints(cfg, svc, region) -> list of URLs, where they came from
local function region_endpoints(cfg, svc, region)
  local sdk_name = svc.sdk_name or svc.name
  local var = "HUAWEICLOUD_SDK_REGION_" .. sdk_name:upper() .. "_"
    .. region:upper():gsub("-", "_")
  local from_env = nonempty(getenv(var))
  if from_env then return split_list(from_env), var end
  if cfg.regions_file == nil then cfg.regions_file = read_regions(regions_file()) or false end
  local entries = cfg.regions_file and cfg.regions_file[sdk_name:lower()]
  for _, e in ipairs(entries or {}) do
    if e.id == region then
      return e.endpoints or { e.endpoint }, "regions file: " .. sdk_name .. "." .. region
    end
  end
  local known = svc.regions and svc.regions[region]
  if known then return known, var end
  return { default_endpoint(svc, region) }, var
end

-- a region no service of the catalog has an endpoint in: nil, err (as the
-- official SDKs refuse an unknown region), with the nearest one
local function unknown_region(region)
  local list = services.regions()
  for _, r in ipairs(list) do if r == region then return nil end end
  local hint = suggest(region, list)
  return errors.validation("region", "'" .. region .. "' is a region no service has an endpoint in"
    .. (hint and (" (did you mean '" .. hint .. "'?)") or "")
    .. "; set endpoint or endpoints.<service> to reach it")
end

-- endpoint(cfg, svc) -> url, alternates | nil, err (resolved lazily: a
-- client that only talks to the emulator needs no region). In order: the
-- client's endpoints.<service>, its endpoint, then for the region
-- HUAWEICLOUD_SDK_REGION_<SERVICE>_<REGION> (a comma-separated failover
-- list), the regions file, the official region data, and the host rule.
function _M.endpoint(cfg, svc)
  local url = cfg.endpoint_for[svc.name] or cfg.endpoint
  if url then return url, cfg.alternates[svc.name] end
  local region = cfg.region
  if not region then
    return nil, errors.validation("region", "is required to reach " .. svc.name
      .. " (set region, endpoint or endpoints." .. svc.name .. ")")
  end
  local list, field = region_endpoints(cfg, svc, region)
  -- the region file or the environment may name a region the catalog lacks
  if field:match("^HUAWEICLOUD_SDK_REGION_") and not getenv(field) then
    local err = unknown_region(region)
    if err then return nil, err end
  end
  local urls = {}
  for i, u in ipairs(list) do
    local n, f, m = normalise_url(field, u)
    if not n then return nil, errors.validation(f, m) end
    urls[i] = n
  end
  if #urls == 0 then return nil, errors.validation(field, "names no endpoint") end
  url = urls[1]
  cfg.endpoint_for[svc.name] = url
  if #urls > 1 then
    local rest = {}
    for i = 2, #urls do rest[#rest + 1] = urls[i] end
    cfg.alternates[svc.name] = rest
  end
  return url, cfg.alternates[svc.name]
end

return _M
