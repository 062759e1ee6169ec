-- hwcloud.identity.auth: a client's identity at run time, and the headers
-- that authenticate its requests.
--
-- The source (hwcloud.identity.credentials) is chosen when the client is
-- made, with no I/O. What that source needs at run time is fetched at the
-- first call that needs it, in named steps of one state object:
--   ensure_keys     keys or a token good for a while: refresh() fetches them
--                   (fetch_metadata_keys, fetch_function_keys,
--                   fetch_password_token) when they are missing or ageing
--   ensure_project  the project id of a regional call (given, from the
--                   password token, or IAM's keystone_list_projects)
--   ensure_domain   the domain id of a global call signed with keys (given,
--                   or IAM's keystone_list_auth_domains)
--   prepare         the steps a call needs, before its first try
--   headers         one try's signed header lines
--   refresh_on      a 401 to stale keys or a stale token drops them
-- Every identity request (the metadata service's two operations,
-- hwcloud.identity.metadata; IAM's project, domain and password-token
-- operations) is a call of hwcloud.call, like any other: the same engine,
-- retry policy, rate limits and hooks. A fetch in flight is shared: other
-- tasks of the client wait for it instead of fetching again.
--
-- Secrets (keys, tokens, the password, the credentials function) are kept
-- in a table private to this module, keyed by the state: no table a user
-- can reach, print or dump holds them, and no error does.

local type, ipairs, tostring, pcall, error, setmetatable, require, select, rawget =
  type, ipairs, tostring, pcall, error, setmetatable, require, select, rawget
local co_create, co_resume, co_status = coroutine.create, coroutine.resume, coroutine.status
local wall = os.time
local errors = require "hwcloud.errors"
local credentials = require "hwcloud.identity.credentials"
-- the call path loads with the first request (a client is made without it)
local call = setmetatable({}, { __index = function(t, k)
  local m = require "hwcloud.call"
  setmetatable(t, { __index = m })
  return m[k]
end })
local core_sign = require("hwcloud.core").sign

local _M = {}

-- Temporary keys are refreshed when less than this is left (as the
-- official SDKs do for metadata and federated keys).
local MARGIN = 40 * 60
local METADATA_TIMEOUT = 3
local METADATA_CONNECT = 1
local METADATA_TTL = 21600
local AGENCY_MISSING = "Please configure Cloud Service Agency first"
-- while one task fetches, the others poll at this interval, up to the
-- client's timeout
local WAIT_STEP = 0.005
-- the secrets (keys, tokens) a client remembers to mask
local HELD_MOST = 64
-- inside nginx a credentials function may use cosockets (which yield
-- through nginx's own coroutines); elsewhere nothing may yield to the
-- engine's loop but the engine itself
local IN_NGINX = type(rawget(_G, "ngx")) == "table" and rawget(_G, "ngx").get_phase ~= nil
-- pcall can be yielded across from Lua 5.2 on, and in LuaJIT
local YIELDING_PCALL = _VERSION ~= "Lua 5.1" or rawget(_G, "jit") ~= nil

-- state -> {keys, token, held, password, fn, metadata_token}
-- keys: {ak, sk, security_token, expires, margin}; token: {value, expires, margin}
local vault = setmetatable({}, { __mode = "k" })

-- Errors raised by the identity requests themselves: a refresh does not
-- help them.
local identity_errors = setmetatable({}, { __mode = "k" })

-- A 401 that says the keys or the token are no longer good.
local function says_stale(err)
  if type(err) ~= "table" or err.status ~= 401 or identity_errors[err] then return false end
  local m = (tostring(err.message or "") .. " " .. tostring(err.code or "")):lower()
  return m:find("must be updated", 1, true) ~= nil or m:find("expired", 1, true) ~= nil
end

-- A service signed for a domain, not a project: flagged in its
-- description, and IAM until the descriptions carry the flag.
-- whether the URL's host is a public endpoint of the cloud, as the SDKs'
-- derived-auth predicate tells: a lower-case label, optionally a region
-- label (cn-north-4), then .huaweicloud., .myhuaweicloud. or .myhwclouds.
-- and com or cn. Elsewhere (an instance's own host, an address) a service
-- with a derived-auth name signs V11-HMAC-SHA256.
local function public_host(url)
  local host = url:match("^%a[%w+.-]*://([^/?#]*)") or ""
  local rest = host:match("^%l[%l%d-]+(.*)$")
  if not rest then return false end
  local function tail(s)
    s = s:match("^%.(.*)$")
    if not s then return false end
    for _, w in ipairs({ "huaweicloud", "myhuaweicloud", "myhwclouds" }) do
      local after = s:sub(1, #w) == w and s:sub(#w + 2)
      if after and #s > #w and (after:sub(1, 3) == "com" or after:sub(1, 2) == "cn") then
        return true
      end
    end
    return false
  end
  local after_region = rest:match("^%.%l%l+%-%l+%-%d%d?(.*)$")
  return tail(rest) or (after_region ~= nil and tail(after_region))
end
_M.public_host = public_host

local function is_global(svc)
  return svc.global == true
end
_M.is_global = is_global

local function nonempty_string(v)
  return type(v) == "string" and v ~= "" and not v:find("[%c]")
end

-- The refresh margin of keys or a token valid until `expires`: 40 minutes,
-- or half the life of one issued for less than 80.
local function margin_for(expires, fixed)
  if not expires then return 0 end
  if fixed then return MARGIN end
  local life = expires - wall()
  if life < 2 * MARGIN then return life / 2 end
  return MARGIN
end

local function fresh(v)
  return v ~= nil and (v.expires == nil or v.expires - wall() > v.margin)
end

------------------------------------------------------------ secrets, errors

-- Every secret this client has held, current and earlier: masked in the
-- text of its identity errors (a credentials function's own error may
-- quote a key it returned before). The newest HELD_MOST are kept.
local function hold(self, ...)
  local held = vault[self].held
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "string" and v ~= "" then
      for j = 1, #held do if held[j] == v then v = nil break end end
      if v then
        if #held >= HELD_MOST then table.remove(held, 1) end
        held[#held + 1] = v
      end
    end
  end
end

-- mask(self, text) -> text with every held secret as ****, or nil when it
-- holds one too short to mask without masking everything
local function mask(self, text)
  local held = vault[self].held
  for i = 1, #held do
    local v = held[i]
    local a, b = text:find(v, 1, true)
    if a and #v < 4 then return nil end
    while a do
      text = text:sub(1, a - 1) .. "****" .. text:sub(b + 1)
      a, b = text:find(v, a + 4, true)
    end
  end
  return text
end

local function fail(self, e, what)
  if what then e.message = what .. ": " .. tostring(e.message) end
  if type(e.message) == "string" then
    e.message = mask(self, e.message) or (what or "identity") .. ": (the message held a secret)"
  end
  identity_errors[e] = true
  return nil, e
end

local function invalid(self, field, message)
  return fail(self, errors.validation(field, message))
end

----------------------------------------------------------------- the state

local State = {}
State.__index = State

-- new(group, env) -> state. group: the source from
-- hwcloud.identity.credentials; env: the client's private parts, as
-- hwcloud.call takes them (cfg, user_agent, endpoint(), conform, ...), whose
-- `auth` this state becomes.
function _M.new(group, env)
  local kind = group.kind
  local keyed = kind ~= "token" and kind ~= "password"
  local ua = "User-Agent: " .. env.user_agent
  local accept = "Accept: application/json"
  local self = setmetatable({
    env = env, cfg = env.cfg, kind = kind, keyed = keyed, mode = keyed and "aksk" or "token",
    region = env.cfg.region, project_id = group.project_id, domain_id = group.domain_id,
    -- where the metadata service is; what the sources before it lacked
    metadata_endpoint = group.endpoint, tried = group.tried,
    user_name = group.user_name, domain_name = group.domain_name,
    serial = 0, -- changes whenever credentials are fetched anew
    busy = {},
    ua = ua, accept = accept,
    -- the lines every signed request starts with (core.sign copies them)
    common = { ua, accept },
  }, State)
  local v = { held = {}, password = group.password, fn = group.fn }
  if kind == "aksk" then
    v.keys = { ak = group.ak, sk = group.sk, security_token = group.security_token }
  elseif kind == "token" then
    v.token = { value = group.token }
  end
  vault[self] = v
  hold(self, group.ak, group.sk, group.security_token, group.token, group.password)
  return self
end

-- One identity request through the call path: svc's operation `opname`
-- with `req`; opts: the endpoint, and the call's options. -> the decoded
-- answer | nil, err (named by `what`, masked).
local function identity_call(self, engine, what, svc, opname, req, opts)
  local op = svc.operations[opname]
  local res, err = call.invoke(self.env, engine, svc, op, req, opts)
  if res == nil then return fail(self, err, what) end
  return res
end

local function iam()
  return require("hwcloud.services").load("iam")
end

local function iam_base(self)
  local base, err = require("hwcloud.config").iam_endpoint(self.cfg)
  if not base then return fail(self, err) end
  return base
end

-- Runs fetch() unless another task is already at it; then waits for
-- that one and looks again.
local function shared(self, engine, what, ready, fetch)
  local busy, waited, limit = self.busy, 0, self.cfg.timeout
  while busy[what] and waited < limit do
    engine:sleep(WAIT_STEP)
    waited = waited + WAIT_STEP
  end
  if ready(self) then return true end
  busy[what] = true
  -- fetch waits on the engine (yields): Lua 5.1's pcall cannot be
  -- yielded across, so there a raise leaves `busy` set (others then wait
  -- up to the timeout) rather than breaking every fetch
  local ok, r, e
  if YIELDING_PCALL then
    ok, r, e = pcall(fetch, self, engine)
  else
    ok, r, e = true, fetch(self, engine)
  end
  busy[what] = nil
  if not ok then error(r, 0) end
  return r, e
end

---------------------------------------------------- source: metadata service

local function metadata()
  return require "hwcloud.identity.metadata"
end

-- a probe: off an ECS host nothing answers the address, so a try that
-- never reached it ends the look-up at once, after a short connect
local function metadata_opts(self)
  local ct = self.cfg.connect_timeout
  return { endpoint = self.metadata_endpoint, timeout = METADATA_TIMEOUT, probe = true,
           connect_timeout = ct < METADATA_CONNECT and ct or METADATA_CONNECT }
end

-- the session token: a string, false when the service has none (404/405),
-- or nil, err
local function metadata_session(self, engine)
  local r, e = identity_call(self, engine, "ECS metadata token", metadata(), "create_token",
    { ["X-Metadata-Token-Ttl-Seconds"] = METADATA_TTL }, metadata_opts(self))
  if not r then
    -- 404/405: this metadata service has no session tokens; go on without
    if e.status == 404 or e.status == 405 then return false end
    return nil, e
  end
  local t = r.body:match("^%s*(.-)%s*$")
  if t == "" or t:find("[%c]") then return false end
  hold(self, t)
  return t
end

local function no_source(self, why)
  local tried = self.tried or {}
  local list = ""
  for i = 1, #tried do list = list .. tried[i] .. ", " end
  return invalid(self, "credentials", "no credentials found: tried " .. list
    .. "and the ECS metadata service at " .. self.metadata_endpoint .. " (" .. why .. ")")
end

local function says_agency_missing(e)
  return e.status == 401 and tostring(e.message):find(AGENCY_MISSING, 1, true) ~= nil
end

-- the security key's failure: one that means "no credentials here" names
-- every source tried; another is the service's
local function metadata_failure(self, e)
  if e.kind == "transport" or e.kind == "timeout" then
    return no_source(self, (tostring(e.message):gsub("^[^:]*: ", "")))
  end
  if e.status == 404 then return no_source(self, "HTTP 404: not an ECS instance, or no agency") end
  if says_agency_missing(e) then return no_source(self, "HTTP 401: " .. AGENCY_MISSING) end
  -- any other refusal is one more source that had no keys, named with
  -- the others (a 403 alone would hide the chain)
  if e.kind == "http" then
    return no_source(self, "HTTP " .. tostring(e.status) .. " for the security key")
  end
  return no_source(self, "HTTP " .. tostring(e.status or 200)
    .. ": the answer has no credential {access, secret, securitytoken}")
end

local function take_metadata_keys(self, doc)
  local cr = type(doc) == "table" and doc.credential
  if type(cr) ~= "table" or not nonempty_string(cr.access) or not nonempty_string(cr.secret)
      or not nonempty_string(cr.securitytoken) then
    return no_source(self, "HTTP 200: the answer has no credential {access, secret, securitytoken}")
  end
  local expires = credentials.parse_time(cr.expires_at)
  hold(self, cr.access, cr.secret, cr.securitytoken)
  vault[self].keys = { ak = cr.access, sk = cr.secret, security_token = cr.securitytoken,
                       expires = expires, margin = margin_for(expires, true) }
  self.serial = self.serial + 1
  return true
end

local function security_key(self, engine)
  local t = vault[self].metadata_token
  return identity_call(self, engine, "ECS metadata security key", metadata(), "show_security_key",
    { ["X-Metadata-Token"] = t or nil }, metadata_opts(self))
end

-- fetch_metadata_keys(engine) -> true | nil, err: the session token (once,
-- then kept), then the instance agency's temporary keys.
function State:fetch_metadata_keys(engine)
  local v = vault[self]
  if v.metadata_token == nil then
    local t, e = metadata_session(self, engine)
    if t == nil then
      if e.kind == "transport" or e.kind == "timeout" then
        return no_source(self, (tostring(e.message):gsub("^[^:]*: ", "")))
      end
      return no_source(self, "HTTP " .. tostring(e.status) .. " for a session token")
    end
    v.metadata_token = t
  end
  local doc, e = security_key(self, engine)
  -- an expired session token: ask for a new one, once (a missing agency
  -- is not that)
  if not doc and e.status == 401 and v.metadata_token and not says_agency_missing(e) then
    local t, terr = metadata_session(self, engine)
    if t == nil then return nil, terr end
    v.metadata_token = t
    doc, e = security_key(self, engine)
  end
  if not doc then return metadata_failure(self, e) end
  return take_metadata_keys(self, doc)
end

------------------------------------------------- source: credentials function

-- the credentials function's answer: pcall, or (outside nginx) a
-- coroutine of its own, so that a yield inside it is its error and does
-- not reach the engine's loop
local function call_function(fn)
  if IN_NGINX then return pcall(fn) end
  local co = co_create(fn)
  local ok, r = co_resume(co)
  if ok and co_status(co) ~= "dead" then
    return false, "it yielded (a coroutine.yield inside it, or a call that waits on one): "
      .. "it must return its keys without yielding"
  end
  return ok, r
end

local function function_expiry(self, at)
  local expires = credentials.parse_time(at)
  -- (expires ~= expires: NaN)
  if not expires or expires ~= expires then
    return invalid(self, "credentials.expires_at", "must be seconds since the epoch or an "
      .. "ISO-8601 UTC time (2026-12-01T10:00:00Z)")
  end
  if expires <= wall() then
    return invalid(self, "credentials.expires_at", "has passed: the function returned keys "
      .. "that expired " .. tostring(wall() - expires) .. " s ago")
  end
  return expires
end

-- fetch_function_keys() -> true | nil, err: the credentials function called
-- (again), its answer checked.
function State:fetch_function_keys()
  local ok, r = call_function(vault[self].fn)
  if not ok then
    -- masked first, then cut: a cut secret would no longer be found
    local m = mask(self, tostring(r)) or "(the message held a secret)"
    if #m > 200 then m = m:sub(1, 197) .. "..." end
    return invalid(self, "credentials", "the credentials function failed: " .. m)
  end
  if type(r) ~= "table" then
    return invalid(self, "credentials", "the function must return a table {ak, sk, "
      .. "security_token?, expires_at?}, got " .. type(r))
  end
  for _, k in ipairs { "ak", "sk" } do
    if not nonempty_string(r[k]) then
      return invalid(self, "credentials." .. k,
        "must be a non-empty string without control characters")
    end
  end
  if r.security_token ~= nil and not nonempty_string(r.security_token) then
    return invalid(self, "credentials.security_token",
      "must be a non-empty string without control characters")
  end
  hold(self, r.ak, r.sk, r.security_token)
  local expires, e
  if r.expires_at ~= nil then
    expires, e = function_expiry(self, r.expires_at)
    if not expires then return nil, e end
  end
  vault[self].keys = { ak = r.ak, sk = r.sk, security_token = r.security_token,
                       expires = expires, margin = margin_for(expires) }
  self.serial = self.serial + 1
  return true
end

----------------------------------------------------- source: password token

-- fetch_password_token(engine) -> true | nil, err: IAM's
-- keystone_create_user_token_by_password, scoped to the project (its id,
-- else the region's name); the token's project is the client's.
function State:fetch_password_token(engine)
  local base, berr = iam_base(self)
  if not base then return nil, berr end
  local scope
  if self.project_id then
    scope = { project = { id = self.project_id } }
  elseif self.region then
    scope = { project = { name = self.region } }
  else
    return invalid(self, "region", "is required for a password token (or set project_id)")
  end
  local what = "IAM password token"
  local doc, e = identity_call(self, engine, what, iam(), "keystone_create_user_token_by_password",
    { nocatalog = "true", auth = {
        identity = { methods = { "password" }, password = { user = {
          name = self.user_name, password = vault[self].password,
          domain = { name = self.domain_name } } } },
        scope = scope } },
    { endpoint = base })
  if not doc then return nil, e end
  local value, t = doc["X-Subject-Token"], doc.token
  if not nonempty_string(value) or type(t) ~= "table" then
    return fail(self, errors.decode("no X-Subject-Token header or token object in the answer"),
      what)
  end
  local expires = credentials.parse_time(t.expires_at)
  hold(self, value)
  vault[self].token = { value = value, expires = expires, margin = margin_for(expires) }
  self.serial = self.serial + 1
  -- the token is scoped to its project: that is the client's project
  if type(t.project) == "table" and nonempty_string(t.project.id) then
    self.project_id = self.project_id or t.project.id
  end
  return true
end

------------------------------------------------------------- the steps

local function current(self)
  local v = vault[self]
  if self.keyed then return v.keys end
  return v.token
end

local function credentials_ready(self)
  return fresh(current(self))
end

local function fetch_credentials(self, engine)
  local kind = self.kind
  if kind == "metadata" then return self:fetch_metadata_keys(engine) end
  if kind == "function" then return self:fetch_function_keys() end
  return self:fetch_password_token(engine)
end

-- refresh(engine) -> true | nil, err: the credentials fetched anew, once
-- for all the tasks that ask at the same time.
function State:refresh(engine)
  return shared(self, engine, "credentials", credentials_ready, fetch_credentials)
end

-- ensure_keys(engine, strict) -> true | nil, err: keys or a token good for
-- a while (strict: before a call), or not expired yet (between its tries).
function State:ensure_keys(engine, strict)
  local kind = self.kind
  if kind == "aksk" or kind == "token" then return true end
  local old = current(self)
  if fresh(old) then return true end
  if not strict and old and old.expires > wall() then return true end
  local ok, e = self:refresh(engine)
  if ok then return true end
  -- a failed refresh of what still works for a while is no failure yet
  if old and old.expires and old.expires > wall() + 60 then
    if self.keyed then vault[self].keys = old else vault[self].token = old end
    return true
  end
  return nil, e
end

local function lookup(self, engine, what, opname, req)
  local base, berr = iam_base(self)
  if not base then return nil, berr end
  local doc, e = identity_call(self, engine, what, iam(), opname, req,
    { endpoint = base, identity = true })
  if not doc then return nil, e end
  if type(doc) ~= "table" then
    return fail(self, errors.decode("the answer is not a JSON object"), what)
  end
  return doc
end

local function project_known(self) return self.project_id ~= nil end
local function domain_known(self) return self.domain_id ~= nil end

local function discover_project(self, engine)
  local region = self.region
  if not region then
    return invalid(self, "project_id", "is required: set project_id, or region to look it up")
  end
  local doc, e = lookup(self, engine, "IAM project look-up", "keystone_list_projects",
    { name = region })
  if not doc then return nil, e end
  local list = type(doc.projects) == "table" and doc.projects or {}
  local found
  for i = 1, #list do
    local p = list[i]
    if type(p) == "table" and p.name == region and nonempty_string(p.id) then found = p.id end
  end
  if not found and #list == 1 and type(list[1]) == "table" and nonempty_string(list[1].id) then
    found = list[1].id
  end
  if not found then
    return invalid(self, "project_id", "IAM lists no project named " .. region
      .. " for these credentials: set project_id")
  end
  self.project_id = found
  return true
end

local function discover_domain(self, engine)
  local doc, e = lookup(self, engine, "IAM domain look-up", "keystone_list_auth_domains", {})
  if not doc then return nil, e end
  local list = type(doc.domains) == "table" and doc.domains or {}
  local first = list[1]
  if type(first) ~= "table" or not nonempty_string(first.id) then
    return invalid(self, "domain_id", "IAM lists no domain for these credentials: set domain_id")
  end
  self.domain_id = first.id
  return true
end

-- ensure_project(engine) -> true | nil, err: the project id, given or
-- looked up once (GET {iam}/v3/projects?name=<region>).
function State:ensure_project(engine)
  if self.project_id then return true end
  return shared(self, engine, "project", project_known, discover_project)
end

-- ensure_domain(engine) -> true | nil, err: the domain id, given or looked
-- up once (GET {iam}/v3/auth/domains).
function State:ensure_domain(engine)
  if self.domain_id then return true end
  return shared(self, engine, "domain", domain_known, discover_domain)
end

------------------------------------------------------------- interface

-- The project id known so far (given, from a token, or looked up).
function State:project()
  return self.project_id
end

-- prepare(engine, svc, identity) -> true | nil, err: credentials, and the
-- project id (regional services) or domain id (global ones with keys).
-- identity: an identity request, which needs neither id.
function State:prepare(engine, svc, identity)
  -- (an identity request is part of a call that has just made them ready)
  local ok, e = self:ensure_keys(engine, not identity)
  if not ok or identity then return ok, e end
  if is_global(svc) then
    if self.keyed then return self:ensure_domain(engine) end
    return true
  end
  return self:ensure_project(engine)
end

-- headers(engine, svc, method, url, content_type, body, identity, unsigned)
-- -> list | nil, err: the transport's "Name: value" list for one try of a
-- call; identity: no X-Project-Id/X-Domain-Id; unsigned: the body is not
-- hashed (X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD, as the official SDKs
-- sign a body that is not JSON).
-- (xname, xvalue: the one id header as two values: no table for it, and
-- no pairs loop, which LuaJIT 2.1 does not compile, on every call)
function State:headers(engine, svc, method, url, content_type, body, identity, unsigned)
  local ok, e = self:ensure_keys(engine)
  if not ok then return nil, e end
  local xname, xvalue
  if identity then -- luacheck: ignore 542
  elseif is_global(svc) then
    if self.keyed and self.domain_id then xname, xvalue = "X-Domain-Id", self.domain_id end
  elseif self.project_id then
    xname, xvalue = "X-Project-Id", self.project_id
  end
  local v = vault[self]
  if self.keyed then
    local k = v.keys
    local h = {}
    if content_type then h["Content-Type"] = content_type end
    if xname then h[xname] = xvalue end
    if k.security_token then h["X-Security-Token"] = k.security_token end
    if unsigned then
      h[self.cfg.sign_algorithm == "SDK-HMAC-SM3" and "X-Sdk-Content-Sm3" or "X-Sdk-Content-Sha256"] =
        "UNSIGNED-PAYLOAD"
    end
    -- the client's algorithm (nil: SDK-HMAC-SHA256), but V11 for a service
    -- the SDKs sign derived when it goes to an instance's own host
    local alg, scope = self.cfg.sign_algorithm, nil
    if svc and svc.derived_auth_service_name and not public_host(url) then
      if not self.region then
        return nil, errors.validation("region", "is required to sign " .. tostring(svc.name)
          .. " requests to an instance's own host (V11-HMAC-SHA256)")
      end
      alg, scope = "V11-HMAC-SHA256", self.region .. "/" .. svc.derived_auth_service_name
    end
    local lines, field, message = core_sign(method, url, h, body, k.ak, k.sk, nil, self.common,
                                            nil, alg, scope)
    if not lines then return nil, errors.validation(field, message) end
    return lines
  end
  local list = { "X-Auth-Token: " .. v.token.value, self.ua, self.accept }
  if content_type then list[#list + 1] = "Content-Type: " .. content_type end
  if xname then list[#list + 1] = xname .. ": " .. xvalue end
  return list
end

-- with_keys(engine, fn) -> fn(keys): signs with the keys (fetched when
-- temporary) without handing them out; object storage signs its own way
-- (hwcloud.obs.sign). Keys only: a token cannot sign.
function State:with_keys(engine, fn)
  if not self.keyed then
    return nil, errors.validation("credentials", "object storage (OBS) needs an AK/SK "
      .. "(permanent or temporary), not a token")
  end
  local ok, e = self:ensure_keys(engine)
  if not ok then return nil, e end
  return fn(vault[self].keys)
end

-- unauthenticated requests (IAM password tokens, the metadata service)
-- still name the client
function State:plain(content_type)
  local list = { self.ua, self.accept }
  if content_type then list[#list + 1] = "Content-Type: " .. content_type end
  return list
end

-- generation() -> n: changes whenever credentials are fetched anew.
function State:generation()
  return self.serial
end

-- refresh_on(err, gen) -> true when err is a 401 that fetching the
-- credentials again may cure; they are then fetched at the next call
-- (once, however many tasks saw the 401 with generation `gen`).
function State:refresh_on(err, gen)
  local kind = self.kind
  if kind == "aksk" or kind == "token" or not says_stale(err) then return false end
  if gen == self.serial then
    if self.keyed then vault[self].keys = nil else vault[self].token = nil end
  end
  return true
end

function State:describe()
  if self.kind == "aksk" then return "aksk(" .. vault[self].keys.ak:sub(1, 4) .. "****)" end
  return self.kind
end

-- (a state printed shows no secret: they are not in it)
State.__tostring = function(self) return "hwcloud identity (" .. self:describe() .. ")" end

return _M
