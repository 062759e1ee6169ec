-- IAM: project-scoped tokens (POST /v3/auth/tokens). Any user name and
-- password are accepted, as is an AK/SK-signed request with the emulator's
-- key pair. The token is returned in the X-Subject-Token header.

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local state = require "hwcloud.emulator.state"
local crypto = require "hwcloud.emulator.crypto"

local type, sub = type, string.sub

local _M = { name = "iam" }

local TOKEN_SECONDS = 24 * 3600

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
    project_id = sub(crypto.sha256_hex("project:" .. project_name), 1, 32)
  end
  if type(project_name) ~= "string" then project_name = project_id end

  local now = ctx.now
  local expires = now + TOKEN_SECONDS
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

_M.routes = {
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
