-- hwcloud.generic: the generic call, client:request{...}, for an API hwcloud
-- has no description of. It becomes a one-off operation that runs through
-- the same pipeline as every described one (build, sign, send, decode,
-- retry), so it gets the same errors, endpoints and policy.

local type, pairs, ipairs, tostring, next = type, pairs, ipairs, tostring, next
local format = string.format
local errors = require "hwcloud.errors"
local services = require "hwcloud.services"

local _M = {}

local METHODS = { GET = true, HEAD = true, POST = true, PUT = true, PATCH = true, DELETE = true }

-- headers the client sets itself; a caller's value would break the signature
local RESERVED = {
  authorization = true, host = true, ["x-sdk-date"] = true, ["x-auth-token"] = true,
  ["x-security-token"] = true, ["x-project-id"] = true, ["x-domain-id"] = true,
  ["content-length"] = true, ["transfer-encoding"] = true, ["user-agent"] = true,
}

local function bad(field, message) return nil, errors.validation(field, message, nil, "request") end

local function is_scalar(v)
  local t = type(v)
  return t == "string" or t == "number" or t == "boolean"
end

-- a service that is not described: its host is its name
local function undescribed(name)
  return { name = name, host = name, global = false, content_type = "application/json", regions = {},
           operations = {}, aliases = {}, sdk_name = name }
end

-- service(name) -> the service a generic request goes to: the catalog's
-- (with the index's global flag, which picks X-Domain-Id or X-Project-Id),
-- or for a name it lacks a regional one whose host is that name
function _M.service(name)
  return services.known(name) and services.load(name) or undescribed(name)
end

-- The checks of op(r), each -> true | nil, err (or its value).

local function check_keys(r)
  if type(r) ~= "table" then return bad("request", "expected a table {service, method, path, ...}") end
  for k in pairs(r) do
    if not (k == "service" or k == "method" or k == "path" or k == "query" or k == "body"
            or k == "headers") then
      return bad("request." .. tostring(k), "unknown field (service, method, path, query, body, "
        .. "headers)")
    end
  end
  return true
end

local function check_path(path)
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    return bad("path", "must be a string starting with /")
  end
  if path:find("[%s%c?#]") then
    return bad("path", "must not contain spaces, control characters, ? or # (use query)")
  end
  for seg in path:gmatch("[^/]+") do
    if seg == "." or seg == ".." then return bad("path", "must not contain . or .. segments") end
  end
  local rest = path:gsub("{project_id}", "")
  if rest:find("[{}]") then
    return bad("path", "only {project_id} is filled in; put other values in the path itself")
  end
  return true
end

-- service, method and path; -> the method in upper case
local function check_target(service, method, path)
  if type(service) ~= "string" or not service:match("^[a-z][a-z0-9_-]*$") then
    return bad("service", "must be a service name such as \"ecs\" ([a-z0-9_-])")
  end
  if type(method) ~= "string" or not METHODS[method:upper()] then
    return bad("method", "must be one of GET, HEAD, POST, PUT, PATCH, DELETE")
  end
  local ok, err = check_path(path)
  if not ok then return nil, err end
  return method:upper()
end

-- one query value: a scalar, or an array of scalars
local function query_field(k, v)
  if type(v) == "table" then
    for i, item in ipairs(v) do
      if not is_scalar(item) then
        return bad(format("query.%s[%d]", k, i), "expected a string, number or boolean")
      end
    end
    if next(v) ~= nil and #v == 0 then return bad("query." .. k, "expected an array of scalars") end
    return { type = "array", location = "query" }
  elseif is_scalar(v) then
    return { type = "any", location = "query" }
  end
  return bad("query." .. k, "expected a string, number, boolean or an array of them")
end

local function query_fields(query, fields)
  if query == nil then return true end
  if type(query) ~= "table" then return bad("query", "expected a table, got " .. type(query)) end
  for k, v in pairs(query) do
    if type(k) ~= "string" or k == "" then return bad("query", "keys must be non-empty strings") end
    local f, err = query_field(k, v)
    if not f then return nil, err end
    fields[k] = f
  end
  return true
end

-- the headers as fields, but Content-Type; -> the content type
local function header_fields(headers, fields)
  local content_type = "application/json"
  if headers == nil then return content_type end
  if type(headers) ~= "table" then return bad("headers", "expected a table, got " .. type(headers)) end
  for k, v in pairs(headers) do
    if type(k) ~= "string" or not k:match("^[%w!#$%%&'*+.^_`|~-]+$") then
      return bad("headers", "names must be HTTP tokens")
    end
    local lk = k:lower()
    if RESERVED[lk] then return bad("headers." .. k, "is set by the client") end
    if type(v) ~= "string" then return bad("headers." .. k, "expected string, got " .. type(v)) end
    if lk == "content-type" then
      content_type = v
    else
      fields[k] = { type = "string", location = "header" }
    end
  end
  return content_type
end

-- a table body is a field (sent as JSON); -> true, the raw body (a string)
local function body_field(body, fields)
  if type(body) == "table" then
    fields.body = { type = "any", location = "whole_body" }
  elseif type(body) == "string" then
    return true, body
  elseif body ~= nil then
    return bad("body", "expected a table (sent as JSON) or a string, got " .. type(body))
  end
  return true, nil
end

-- op(r) -> op, svc | nil, err
function _M.op(r)
  local ok, err = check_keys(r)
  if not ok then return nil, err end
  local service, path = r.service, r.path
  local method, merr = check_target(service, r.method, path)
  if not method then return nil, merr end
  local fields = {}
  ok, err = query_fields(r.query, fields)
  if not ok then return nil, err end
  local content_type, herr = header_fields(r.headers, fields)
  if not content_type then return nil, herr end
  local raw
  ok, raw = body_field(r.body, fields)
  if not ok then return nil, raw end

  local svc = _M.service(service)
  local op = {
    name = "request", service = service, method = method, path = path, generic = true,
    content_type = content_type, raw_body = raw,
    request = services.prepare { type = "object", fields = fields },
  }
  return op, svc
end

-- request(r) -> the flat request table build() reads for that op
function _M.request(r)
  local req = {}
  for k, v in pairs(r.query or {}) do req[k] = v end
  for k, v in pairs(r.headers or {}) do
    if k:lower() ~= "content-type" then req[k] = v end
  end
  if type(r.body) == "table" then req.body = r.body end
  return req
end

return _M
