-- IAM: project-scoped tokens (POST /v3/auth/tokens), and the look-ups a
-- client makes when it was given no project or domain id:
-- GET /v3/projects?name=<region> and GET /v3/auth/domains.
--
-- A user registered through POST /_emulator/identity {users = {name =
-- password}} must give that password (else 401 in IAM's error shape); any
-- other user name is accepted with any password, as is an AK/SK-signed
-- request. The token is returned in the X-Subject-Token header.

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local crypto = require "hwcloud.emulator.crypto"

local type, sub, match = type, string.sub, string.match

local _M = { name = "iam" }

-- The project of a region name is always the same id; so is the domain of
-- the emulator's one account.
local function project_id_of(name)
  return sub(crypto.sha256_hex("project:" .. name), 1, 32)
end
_M.project_id_of = project_id_of
_M.DOMAIN_ID = sub(crypto.sha256_hex("domain:emulator-account"), 1, 32)

local function has(list, value)
  for i = 1, #list do if list[i] == value then return true end end
  return false
end

local function bad(msg)
  return 400, errors.body("iam", 400, msg)
end

local function create_token(ctx)
  local auth = ctx.body.auth
  local identity = auth.identity
  local methods = identity.methods
  local user_name = "emulator-user"

  if not ctx.signed then
    if not has(methods, "password") then
      return 401, errors.body("iam", 401,
        "The request you have made requires authentication: use the password method "
        .. "or sign the request with AK/SK")
    end
    local password = identity.password
    local user = type(password) == "table" and password.user
    if type(user) ~= "table" then return bad("auth.identity.password.user is required") end
    if type(user.name) ~= "string" and type(user.id) ~= "string" then
      return bad("auth.identity.password.user.name is required")
    end
    if type(user.password) ~= "string" then
      return bad("auth.identity.password.user.password is required")
    end
    user_name = user.name or user.id
    local want = state.identity().users[user_name]
    if want ~= nil and want ~= user.password then
      return 401, errors.body("iam", 401, "The username or password is wrong.")
    end
  end

  local scope = auth.scope
  local project = type(scope) == "table" and scope.project
  if type(project) ~= "table" or (type(project.id) ~= "string" and type(project.name) ~= "string") then
    return bad("auth.scope.project.id or auth.scope.project.name is required "
               .. "(the emulator issues project-scoped tokens)")
  end
  local project_id = project.id
  local project_name = project.name
  if type(project_id) ~= "string" then
    -- The same project name always maps to the same id.
    project_id = project_id_of(project_name)
  end
  if type(project_name) ~= "string" then project_name = project_id end

  local now = ctx.now
  local expires = now + state.identity().token_seconds
  local token = "MIIE" .. crypto.random_hex(48)
  state.add_token(token, { project_id = project_id, project_name = project_name,
                           expires = expires, user = user_name })
  local domain = { id = sub(crypto.sha256_hex("domain:" .. user_name), 1, 32),
                   name = "emulator-domain" }
  return 201, {
    token = {
      expires_at = util.iso8601_micro(expires),
      issued_at = util.iso8601_micro(now),
      methods = util.array(util.copy(methods)),
      project = { id = project_id, name = project_name, domain = domain },
      user = { id = sub(crypto.sha256_hex("user:" .. user_name), 1, 32), name = user_name,
               domain = domain },
      roles = util.array({}),
      catalog = util.array({}),
    },
  }, { ["X-Subject-Token"] = token }
end

-- Region-like names have a project; others none.
local function list_projects(ctx)
  local name = ctx.args.name
  if type(name) == "table" then name = name[1] end
  local names = { "cn-north-4", "cn-east-3", "ap-southeast-1" }
  if type(name) == "string" then
    names = match(name, "^%l%l%-%l+%-%d+$") and { name } or {}
  end
  local list = {}
  for i = 1, #names do
    list[i] = { id = project_id_of(names[i]), name = names[i], domain_id = _M.DOMAIN_ID,
                enabled = true, is_domain = false, parent_id = _M.DOMAIN_ID, description = "" }
  end
  return 200, { projects = util.array(list), links = { self = "/v3/projects" } }
end

local function list_auth_domains()
  return 200, { domains = { { id = _M.DOMAIN_ID, name = "emulator-domain", enabled = true,
                              description = "" } },
                links = { self = "/v3/auth/domains" } }
end

_M.routes = {
  { op = "keystone_list_projects", method = "GET", path = "/v3/projects", auth = "global",
    handler = list_projects },
  { op = "keystone_list_auth_domains", method = "GET", path = "/v3/auth/domains",
    auth = "global", handler = list_auth_domains },
  {
    op = "create_token", method = "POST",
    path = "/v3/auth/tokens",
    auth = "iam",
    body = { type = "object", fields = {
      auth = { type = "object", required = true, fields = {
        identity = { type = "object", required = true, fields = {
          methods = { type = "array", required = true, items = { type = "string" } },
        } },
        scope = { type = "object" },
      } },
    } },
    handler = create_token,
  },
}

return _M
