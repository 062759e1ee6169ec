-- hwcloud.identity.auth: a client's identity at run time, and the headers that
-- authenticate its requests.
--
-- The source (hwcloud.credentials) is chosen when the client is made; every
-- request that source needs (ECS metadata keys, an IAM password token, the
-- project and domain look-ups) is made here at the first call that needs
-- it, through engine:send of whichever engine runs that call (libcurl, or
-- cosockets inside nginx). A fetch in flight is shared: other tasks of the
-- client wait for it instead of fetching again.
--
-- Secrets live only in this closure: no table a user can print or dump,
-- and no error, holds them.

local type, ipairs, tostring, pcall, error, setmetatable, require, select, rawget =
  type, ipairs, tostring, pcall, error, setmetatable, require, select, rawget
local co_create, co_resume, co_status = coroutine.create, coroutine.resume, coroutine.status
local wall = os.time
local errors = require "hwcloud.errors"
local credentials = require "hwcloud.identity.credentials"

local _M = {}

-- Temporary keys are refreshed when less than this is left (as the
-- official SDKs do for metadata and federated keys).
local MARGIN = 40 * 60
local METADATA_TIMEOUT = 3
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
local function is_global(svc)
  if svc.global ~= nil then return svc.global == true end
  return svc.name == "iam"
end
_M.is_global = is_global

local function encode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

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

-- new(group, d) -> auth. group: the source from hwcloud.credentials;
-- d: cfg, user_agent, sign_lines (core.sign), decode (core.decode),
-- iam_endpoint() -> url | nil, err.
function _M.new(group, d)
  local cfg, sign_lines, decode = d.cfg, d.sign_lines, d.decode
  local json_encode = require("cjson.safe").encode
  local kind = group.kind
  local ua = "User-Agent: " .. d.user_agent
  local accept = "Accept: application/json"
  -- the lines every signed request starts with (sign_lines copies them)
  local common = { ua, accept }
  local region = cfg.region
  local project_id, domain_id = group.project_id, group.domain_id

  local keys, token -- {ak, sk, security_token, expires, margin}; {value, expires, margin}
  if kind == "aksk" then
    keys = { ak = group.ak, sk = group.sk, security_token = group.security_token }
  elseif kind == "token" then
    token = { value = group.token }
  end
  local keyed = kind ~= "token" and kind ~= "password"
  local generation = 0
  local metadata_token -- nil: not asked yet; false: the service has none
  local busy = {}

  local self = { mode = keyed and "aksk" or "token" }

  -- Every secret this client has held, current and earlier: masked in the
  -- text of its identity errors (a credentials function's own error may
  -- quote a key it returned before). The newest HELD_MOST are kept.
  local held = {}
  local function hold(...)
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
  hold(group.ak, group.sk, group.security_token, group.token, group.password)
  -- mask(text) -> text with every held secret as ****, or nil when it
  -- holds one too short to mask without masking everything
  local function mask(text)
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

  local function fail(e, what)
    if what then e.message = what .. ": " .. tostring(e.message) end
    if type(e.message) == "string" then
      e.message = mask(e.message) or (what or "identity") .. ": (the message held a secret)"
    end
    identity_errors[e] = true
    return nil, e
  end

  local function invalid(field, message)
    return fail(errors.validation(field, message))
  end

  -- One identity request. Returns the completion, or nil, err when it
  -- never got an answer.
  local function exchange(engine, what, method, url, headers, body, timeout)
    timeout = timeout or cfg.timeout
    local ct = cfg.connect_timeout < timeout and cfg.connect_timeout or timeout
    local c = engine:send { method = method, url = url, headers = headers, body = body,
                            opts = { timeout = timeout, connect_timeout = ct,
                                     once = method ~= "GET" } }
    if not c.status then return fail(errors.transport(c), what) end
    return c
  end

  local function http_fail(c, what)
    local doc = decode(c.body or "")
    -- no body excerpt: an identity answer is not echoed anywhere
    local e = errors.http(c.status, c.headers, type(doc) == "table" and doc or nil, nil)
    return fail(e, what)
  end

  local function fresh(v)
    return v ~= nil and (v.expires == nil or v.expires - wall() > v.margin)
  end

  -- Runs fetch() unless another task is already at it; then waits for
  -- that one and looks again.
  local function shared(engine, what, ready, fetch)
    local waited = 0
    while busy[what] and waited < cfg.timeout do
      engine:sleep(WAIT_STEP)
      waited = waited + WAIT_STEP
    end
    if ready() then return true end
    busy[what] = true
    -- fetch waits on the engine (yields): Lua 5.1's pcall cannot be
    -- yielded across, so there a raise leaves `busy` set (others then wait
    -- up to the timeout) rather than breaking every fetch
    local ok, r, e
    if YIELDING_PCALL then ok, r, e = pcall(fetch) else ok, r, e = true, fetch() end
    busy[what] = nil
    if not ok then error(r, 0) end
    return r, e
  end

  -- (xname, xvalue: the one id header, X-Project-Id or X-Domain-Id, as two
  -- values: no table for it, and no pairs loop, which LuaJIT 2.1 does not
  -- compile, on every call)
  local function key_headers(k, method, url, content_type, body, xname, xvalue)
    local h = {}
    if content_type then h["Content-Type"] = content_type end
    if xname then h[xname] = xvalue end
    if k.security_token then h["X-Security-Token"] = k.security_token end
    local lines, field, message = sign_lines(method, url, h, body, k.ak, k.sk, nil, common)
    if not lines then return nil, errors.validation(field, message) end
    return lines
  end

  local function token_headers(value, content_type, xname, xvalue)
    local list = { "X-Auth-Token: " .. value, ua, accept }
    if content_type then list[#list + 1] = "Content-Type: " .. content_type end
    if xname then list[#list + 1] = xname .. ": " .. xvalue end
    return list
  end

  ---------------------------------------------------------------- sources

  local function metadata_base_token(engine, base)
    local c, e = exchange(engine, "ECS metadata token", "PUT",
      base .. "/meta-data/latest/api/token",
      { ua, "X-Metadata-Token-Ttl-Seconds: 21600" }, "", METADATA_TIMEOUT)
    if not c then return nil, e end
    -- 404/405: this metadata service has no session tokens; go on without
    if c.status == 404 or c.status == 405 then return false end
    if c.status >= 300 then return http_fail(c, "ECS metadata token") end
    local t = (c.body or ""):match("^%s*(.-)%s*$")
    if t == "" or t:find("[%c]") then return false end
    return t
  end

  local function no_source(base, why)
    local tried = group.tried or {}
    local list = ""
    for i = 1, #tried do list = list .. tried[i] .. ", " end
    return invalid("credentials", "no credentials found: tried " .. list
      .. "and the ECS metadata service at " .. base .. " (" .. why .. ")")
  end

  -- the security key answer: a failure that means "no credentials here"
  -- names every source tried; another failure is the service's
  local function metadata_answer(base, c, e)
    if not c then return no_source(base, (tostring(e.message):gsub("^[^:]*: ", ""))) end
    if c.status == 404 then return no_source(base, "HTTP 404: not an ECS instance, or no agency") end
    if c.status == 401 and (c.body or ""):find(AGENCY_MISSING, 1, true) then
      return no_source(base, "HTTP 401: " .. AGENCY_MISSING)
    end
    -- any other refusal is one more source that had no keys, named with
    -- the others (a 403 alone would hide the chain)
    if c.status ~= 200 then return no_source(base, "HTTP " .. c.status .. " for the security key") end
    return true
  end

  local function take_metadata_keys(c)
    local doc = decode(c.body or "")
    local cr = type(doc) == "table" and doc.credential
    if type(cr) ~= "table" or not nonempty_string(cr.access) or not nonempty_string(cr.secret)
        or not nonempty_string(cr.securitytoken) then
      return no_source(group.endpoint, "HTTP " .. c.status
        .. ": the answer has no credential {access, secret, securitytoken}")
    end
    local expires = credentials.parse_time(cr.expires_at)
    hold(cr.access, cr.secret, cr.securitytoken)
    keys = { ak = cr.access, sk = cr.secret, security_token = cr.securitytoken,
             expires = expires, margin = margin_for(expires, true) }
    generation = generation + 1
    return true
  end

  local function fetch_metadata(engine)
    local base = group.endpoint
    local function ask_token()
      local t, e = metadata_base_token(engine, base)
      if t == nil then return nil, e end
      metadata_token = t
      return true
    end
    if metadata_token == nil then
      local ok, e = ask_token()
      if not ok then
        if e.kind ~= "http" then return no_source(base, (tostring(e.message):gsub("^[^:]*: ", ""))) end
        return no_source(base, "HTTP " .. tostring(e.status) .. " for a session token")
      end
    end
    local function get()
      local h = { ua, accept }
      if metadata_token then h[#h + 1] = "X-Metadata-Token: " .. metadata_token end
      return exchange(engine, "ECS metadata", "GET", base .. "/openstack/latest/securitykey",
        h, nil, METADATA_TIMEOUT)
    end
    local c, e = get()
    -- an expired session token: ask for a new one, once (a missing agency
    -- is not that)
    if c and c.status == 401 and metadata_token and not (c.body or ""):find(AGENCY_MISSING, 1, true) then
      local ok, terr = ask_token()
      if not ok then return nil, terr end
      c, e = get()
    end
    local ok, ferr = metadata_answer(base, c, e)
    if not ok then return nil, ferr end
    return take_metadata_keys(c)
  end

  -- the credentials function's answer: pcall, or (outside nginx) a
  -- coroutine of its own, so that a yield inside it is its error and does
  -- not reach the engine's loop
  local function call_function()
    if IN_NGINX then return pcall(group.fn) end
    local co = co_create(group.fn)
    local ok, r = co_resume(co)
    if ok and co_status(co) ~= "dead" then
      return false, "it yielded (a coroutine.yield inside it, or a call that waits on one): "
        .. "it must return its keys without yielding"
    end
    return ok, r
  end

  local function fetch_function()
    local ok, r = call_function()
    if not ok then
      -- masked first, then cut: a cut secret would no longer be found
      local m = mask(tostring(r)) or "(the message held a secret)"
      if #m > 200 then m = m:sub(1, 197) .. "..." end
      return invalid("credentials", "the credentials function failed: " .. m)
    end
    if type(r) ~= "table" then
      return invalid("credentials", "the function must return a table {ak, sk, security_token?, "
        .. "expires_at?}, got " .. type(r))
    end
    for _, k in ipairs { "ak", "sk" } do
      if not nonempty_string(r[k]) then
        return invalid("credentials." .. k, "must be a non-empty string without control characters")
      end
    end
    if r.security_token ~= nil and not nonempty_string(r.security_token) then
      return invalid("credentials.security_token", "must be a non-empty string without control characters")
    end
    hold(r.ak, r.sk, r.security_token)
    local expires
    if r.expires_at ~= nil then
      expires = credentials.parse_time(r.expires_at)
      -- (expires ~= expires: NaN)
      if not expires or expires ~= expires then
        return invalid("credentials.expires_at", "must be seconds since the epoch or an "
          .. "ISO-8601 UTC time (2026-12-01T10:00:00Z)")
      end
      if expires <= wall() then
        return invalid("credentials.expires_at", "has passed: the function returned keys "
          .. "that expired " .. tostring(wall() - expires) .. " s ago")
      end
    end
    keys = { ak = r.ak, sk = r.sk, security_token = r.security_token, expires = expires,
             margin = margin_for(expires) }
    generation = generation + 1
    return true
  end

  local function fetch_password(engine)
    local base, berr = d.iam_endpoint()
    if not base then return fail(berr) end
    local scope
    if project_id then
      scope = { project = { id = project_id } }
    elseif region then
      scope = { project = { name = region } }
    else
      return invalid("region", "is required for a password token (or set project_id)")
    end
    local body = json_encode { auth = {
      identity = { methods = { "password" }, password = { user = {
        name = group.user_name, password = group.password,
        domain = { name = group.domain_name } } } },
      scope = scope,
    } }
    local what = "IAM password token"
    local c, e = exchange(engine, what, "POST", base .. "/v3/auth/tokens?nocatalog=true",
      { ua, accept, "Content-Type: application/json;charset=utf8" }, body)
    if not c then return nil, e end
    if c.status ~= 201 and c.status ~= 200 then return http_fail(c, what) end
    local value = c.headers["x-subject-token"]
    local doc = decode(c.body or "")
    local t = type(doc) == "table" and doc.token
    if not nonempty_string(value) or type(t) ~= "table" then
      return fail(errors.decode("no X-Subject-Token header or token object in the answer",
        c.status, c.headers), what)
    end
    local expires = credentials.parse_time(t.expires_at)
    hold(value)
    token = { value = value, expires = expires, margin = margin_for(expires) }
    generation = generation + 1
    -- the token is scoped to its project: that is the client's project
    if type(t.project) == "table" and nonempty_string(t.project.id) then
      project_id = project_id or t.project.id
    end
    return true
  end

  -- The refreshes, one per kind of look-up, shared by the tasks that need
  -- it at once. Their closures live here, not in the per-call functions
  -- below: a function that makes a closure (or closes over its locals)
  -- is not compiled by LuaJIT, and those run on every call.
  local function refresh_credentials(engine)
    return shared(engine, "credentials", function() return fresh(keyed and keys or token) end,
      function()
        if kind == "metadata" then return fetch_metadata(engine) end
        if kind == "function" then return fetch_function() end
        return fetch_password(engine)
      end)
  end

  -- ensure(engine, strict) -> true | nil, err: keys or a token good for a
  -- while (strict: before a call), or not expired yet (between its tries).
  local function ensure(engine, strict)
    if kind == "aksk" or kind == "token" then return true end
    local old = keyed and keys or token
    if fresh(old) then return true end
    if not strict and old and old.expires > wall() then return true end
    local ok, e = refresh_credentials(engine)
    if ok then return true end
    -- a failed refresh of what still works for a while is no failure yet
    if old and old.expires and old.expires > wall() + 60 then
      if keyed then keys = old else token = old end
      return true
    end
    return nil, e
  end

  -- Headers of an identity look-up made with the client's own credentials.
  local function lookup_headers(method, url)
    if keyed then return key_headers(keys, method, url) end
    return token_headers(token.value)
  end

  local function lookup(engine, what, path)
    local base, berr = d.iam_endpoint()
    if not base then return fail(berr) end
    local url = base .. path
    local c, e = exchange(engine, what, "GET", url, lookup_headers("GET", url))
    if not c then return nil, e end
    if c.status ~= 200 then return http_fail(c, what) end
    local doc = decode(c.body or "")
    if type(doc) ~= "table" then
      return fail(errors.decode("the answer is not a JSON object", c.status, c.headers), what)
    end
    return doc
  end

  local function discover_project(engine)
    if not region then
      return invalid("project_id", "is required: set project_id, or region to look it up")
    end
    local what = "IAM project look-up"
    local doc, e = lookup(engine, what, "/v3/projects?name=" .. encode(region))
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
      return invalid("project_id", "IAM lists no project named " .. region
        .. " for these credentials: set project_id")
    end
    project_id = found
    return true
  end

  local function discover_domain(engine)
    local what = "IAM domain look-up"
    local doc, e = lookup(engine, what, "/v3/auth/domains")
    if not doc then return nil, e end
    local list = type(doc.domains) == "table" and doc.domains or {}
    local first = list[1]
    if type(first) ~= "table" or not nonempty_string(first.id) then
      return invalid("domain_id", "IAM lists no domain for these credentials: set domain_id")
    end
    domain_id = first.id
    return true
  end

  -- the look-ups, shared by the tasks that need them at once (their
  -- closures here, for the reason refresh_credentials gives)
  local function look_up_domain(engine)
    return shared(engine, "domain", function() return domain_id ~= nil end,
      function() return discover_domain(engine) end)
  end

  local function look_up_project(engine)
    return shared(engine, "project", function() return project_id ~= nil end,
      function() return discover_project(engine) end)
  end

  ------------------------------------------------------------- interface

  -- The project id known so far (given, from a token, or looked up).
  function self.project()
    return project_id
  end

  -- prepare(engine, svc) -> true | nil, err: credentials, and the project
  -- id (regional services) or domain id (global ones with keys), fetched or
  -- looked up when not known yet.
  function self.prepare(_, engine, svc)
    local ok, e = ensure(engine, true)
    if not ok then return nil, e end
    if is_global(svc) then
      if keyed and not domain_id then return look_up_domain(engine) end
      return true
    end
    if not project_id then return look_up_project(engine) end
    return true
  end

  -- headers(engine, svc, method, url, content_type, body) -> list | nil, err
  -- The transport's "Name: value" list for one try of a call.
  function self.headers(_, engine, svc, method, url, content_type, body)
    local ok, e = ensure(engine)
    if not ok then return nil, e end
    local xname, xvalue
    if is_global(svc) then
      if keyed and domain_id then xname, xvalue = "X-Domain-Id", domain_id end
    elseif project_id then
      xname, xvalue = "X-Project-Id", project_id
    end
    if keyed then
      return key_headers(keys, method, url, content_type, body, xname, xvalue)
    end
    return token_headers(token.value, content_type, xname, xvalue)
  end

  -- with_keys(engine, fn) -> fn(keys): signs with the keys (fetched when
  -- temporary) without handing them out; object storage signs its own way
  -- (hwcloud.obs.sign). Keys only: a token cannot sign.
  function self.with_keys(_, engine, fn)
    if not keyed then
      return nil, errors.validation("credentials", "object storage (OBS) needs an AK/SK "
        .. "(permanent or temporary), not a token")
    end
    local ok, e = ensure(engine)
    if not ok then return nil, e end
    return fn(keys)
  end

  -- unauthenticated requests (IAM password tokens) still name the client
  function self.plain(_, content_type)
    local list = { ua, accept }
    if content_type then list[#list + 1] = "Content-Type: " .. content_type end
    return list
  end

  -- generation() -> n: changes whenever credentials are fetched anew.
  function self.generation()
    return generation
  end

  -- refresh_on(err, gen) -> true when err is a 401 that fetching the
  -- credentials again may cure; they are then fetched at the next call
  -- (once, however many tasks saw the 401 with generation `gen`).
  function self.refresh_on(_, err, gen)
    if kind == "aksk" or kind == "token" or not says_stale(err) then return false end
    if gen == generation then
      if keyed then keys = nil else token = nil end
    end
    return true
  end

  function self.describe()
    if kind == "aksk" then return "aksk(" .. keys.ak:sub(1, 4) .. "****)" end
    return kind
  end

  return self
end

return _M
