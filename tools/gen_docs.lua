-- tools/gen_docs.lua: what is generated from the service descriptions.
--
--   lua5.4 tools/gen_docs.lua [--check] [ROOT]
--
-- Writes, from the catalog (lua/hwcloud/services/index.lua, its overlays and
-- generated descriptions), what `make` builds and the rock installs (not
-- committed):
--   doc/api/<service>.md             an API reference per service
--   types/hwcloud/<service>.lua      LuaLS definitions (---@meta), so an
--                                    editor completes client.<svc>:<op>{...}
--   types/hwcloud/client.lua         the client: its service fields, its
--                                    methods and client.obs
--   types/hwcloud/init.lua           the module and hwcloud.client's options
-- With --check, writes nothing and exits 1 naming every stale file.
-- Output is deterministic: sorted everywhere, no dates.

local root = "."
local check = false
for _, a in ipairs(arg) do
  if a == "--check" then check = true else root = a end
end
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path

local concat, sort, format = table.concat, table.sort, string.format

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a") -- "*a": the Lua 5.1 a rock may be built for
  f:close()
  return s
end

local stale, written = {}, 0
local function emit(rel, text)
  local path = root .. "/" .. rel
  if read(path) == text then return end
  if check then
    stale[#stale + 1] = rel
    return
  end
  os.execute("mkdir -p '" .. path:match("^(.*)/[^/]*$") .. "'")
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  written = written + 1
end

local services = require "hwcloud.services"

-- the fields documented: every field of the catalog but a version field
-- that is its service's field over again (ecs_v2 when ecs is v2 alone)
local names, same_as = {}, {}
for _, n in ipairs(services.names()) do
  local e = services.entry(n)
  local base = n ~= e.service and services.entry(e.service)
  if base and #base.files == 1 and base.files[1] == e.files[1] and base.overlay == e.overlay then
    same_as[n] = e.service
  else
    names[#names + 1] = n
  end
end

-- the name of each shared model table, for references
local function model_names(svc)
  local by = {}
  for name, m in pairs(services.models(svc)) do by[m] = name end
  return by
end

local function type_text(s, models)
  if s == nil then return "any" end
  local m = models[s]
  if s.type == "array" then
    return "array of " .. type_text(s.items, models)
  elseif s.type == "map" then
    return "map of " .. type_text(s.values, models)
  elseif m then
    return s.type .. " (" .. m .. ")"
  end
  return s.type or "any"
end

local function cell(s)
  return (tostring(s):gsub("|", "\\|"):gsub("\n", " "))
end

-- field rows, dotted, each model expanded once per walk
local function rows(schema, prefix, out, models, seen, depth, top)
  local fields = schema and schema.fields
  if not fields or depth > 6 then return out end
  if seen[schema] then return out end
  seen[schema] = true
  local keys = {}
  for k in pairs(fields) do keys[#keys + 1] = k end
  sort(keys)
  for _, k in ipairs(keys) do
    local f = fields[k]
    local name = prefix .. k
    local enum = ""
    if f.enum then
      local vals = {}
      for i, v in ipairs(f.enum) do vals[i] = tostring(v) end
      enum = concat(vals, ", ")
    end
    local where = top and (f.location or "body") or ""
    if where == "whole_body" then where = "body (whole)" end
    out[#out + 1] = { name, type_text(f, models), f.required and "yes" or "", where, enum }
    local sub = f
    local suffix = "."
    if f.type == "array" then sub, suffix = f.items, "[]." end
    if f.type == "map" then sub, suffix = f.values, "{}." end
    if sub and sub.fields then rows(sub, name .. suffix, out, models, seen, depth + 1, false) end
  end
  seen[schema] = nil
  return out
end

local function sorted_ops(svc)
  local list = {}
  for n in pairs(svc.all) do list[#list + 1] = n end
  sort(list)
  return list
end

-- doc/api/<service>.md
-- a service's job kinds (poll, terminal states) and named waiters
local function jobs_and_waiters(out, svc)
  local function listed(list)
    local l = {}
    for i, v in ipairs(list) do l[i] = tostring(v) == "" and '""' or tostring(v) end
    return #l > 0 and concat(l, ", ") or "nothing"
  end
  for _, k in ipairs(svc.jobs and require("hwcloud.jobs").kinds(svc.name) or {}) do
    out[#out + 1] = format("Jobs: `client:wait(result)` polls `%s`%s; done on %s, failed on %s.",
      k.show, k.poll_service ~= svc.name and (" of " .. k.poll_service) or "",
      listed(k.states.success), listed(k.states.failure))
    out[#out + 1] = ""
  end
  local waiters = svc.waiters and require("hwcloud.jobs").waiters(svc.name) or {}
  if #waiters > 0 then
    local parts = {}
    for _, n in ipairs(waiters) do
      local w = svc.waiters[n]
      local ok = #(w.success or {}) > 0 and format("`%s` in %s", w.path, listed(w.success)) or nil
      local gone = w.gone and "a 404" or nil
      parts[#parts + 1] = format("`%s` (`%s`: %s)", n, w.operation,
        ok and gone and (ok .. ", or " .. gone) or ok or gone)
    end
    out[#out + 1] = "Waiters (`client:wait_for`): " .. concat(parts, "; ") .. "."
    out[#out + 1] = ""
  end
end

for _, name in ipairs(names) do
  local svc = services.load(name)
  local models = model_names(svc)
  local ops = sorted_ops(svc)
  local out = {
    "<!-- Generated by tools/gen_docs.lua from lua/hwcloud/services/" .. name .. ".lua"
      .. (svc.source and (" and " .. svc.source.sdk .. " at " .. svc.source.commit:sub(1, 12)) or "")
      .. ". Do not edit: run `make docs`. -->",
    "",
    "# " .. svc.title .. " — `client." .. name .. "`",
    "",
    format("%d operations. Call one as `client.%s:<operation>{ field = value, ... }`: path, query "
      .. "and header fields and the body's fields share one table, by their wire names; a body "
      .. "marked *whole* goes in the field `body`.%s", #ops, name,
      svc.global and " A global service: requests carry X-Domain-Id." or ""),
    "",
  }
  local aliases = {}
  for a in pairs(svc.aliases) do aliases[#aliases + 1] = a end
  sort(aliases)
  if #aliases > 0 then
    local parts = {}
    for _, a in ipairs(aliases) do parts[#parts + 1] = "`" .. a .. "` = `" .. svc.aliases[a] .. "`" end
    out[#out + 1] = "Aliases: " .. concat(parts, ", ") .. "."
    out[#out + 1] = ""
  end
  jobs_and_waiters(out, svc)
  out[#out + 1] = "| operation | method | path |"
  out[#out + 1] = "|---|---|---|"
  for _, n in ipairs(ops) do
    local op = svc.all[n]
    out[#out + 1] = format("| [`%s`](#%s) | %s | `%s` |", n, n, op.method, op.path)
  end
  out[#out + 1] = ""
  for _, n in ipairs(ops) do
    local op = svc.operations[n]
    out[#out + 1] = "## " .. n
    out[#out + 1] = ""
    out[#out + 1] = format("`%s %s`%s%s", op.method, op.path,
      op.content_type ~= "application/json" and (" — `" .. op.content_type .. "`") or "",
      op.job and " — starts a job (`client:wait`)" or "")
    out[#out + 1] = ""
    out[#out + 1] = "Official reference: " .. services.reference_url(svc, op)
    out[#out + 1] = ""
    local req = rows(op.request, "", {}, models, {}, 0, true)
    if #req > 0 then
      out[#out + 1] = "| request field | type | required | in | one of |"
      out[#out + 1] = "|---|---|---|---|---|"
      for _, r in ipairs(req) do
        out[#out + 1] = format("| `%s` | %s | %s | %s | %s |", cell(r[1]), cell(r[2]), r[3], r[4],
          cell(r[5]))
      end
    else
      out[#out + 1] = "No request fields."
    end
    out[#out + 1] = ""
    local res = op.response and rows(op.response, "", {}, models, {}, 4, false) or {}
    if op.response and op.response.type == "array" and op.response.items then
      res = rows(op.response.items, "[].", {}, models, {}, 4, false)
    end
    if #res > 0 then
      out[#out + 1] = "| response field | type |"
      out[#out + 1] = "|---|---|"
      for _, r in ipairs(res) do out[#out + 1] = format("| `%s` | %s |", cell(r[1]), cell(r[2])) end
    else
      out[#out + 1] = "Response: " .. type_text(op.response, models) .. "."
    end
    out[#out + 1] = ""
  end
  emit("doc/api/" .. name .. ".md", concat(out, "\n"))
end

-- types/hwcloud/<service>.lua: LuaLS definitions
local function camel(s)
  return (s:gsub("^%l", string.upper):gsub("_(%w)", function(c) return c:upper() end))
end

local function lua_type(s, models, prefix)
  if s == nil then return "any" end
  local m = models[s]
  if m and s.fields then return prefix .. m end
  local t = s.type
  if t == "string" then
    if s.enum and type(s.enum[1]) == "string" then
      local vals = {}
      for i, v in ipairs(s.enum) do vals[i] = format("%q", v) end
      return concat(vals, "|")
    end
    return "string"
  elseif t == "integer" then return "integer"
  elseif t == "number" then return "number"
  elseif t == "boolean" then return "boolean"
  elseif t == "array" then
    local inner = lua_type(s.items, models, prefix)
    if inner:find("|", 1, true) then inner = "(" .. inner .. ")" end
    return inner .. "[]"
  elseif t == "map" then return "table<string, " .. lua_type(s.values, models, prefix) .. ">"
  elseif t == "object" then return "table"
  elseif t == "file" then return "{path: string}|{data: string, filename?: string, content_type?: string}"
  end
  return "any"
end

local function field_lines(out, schema, models, prefix)
  local keys = {}
  for k in pairs(schema.fields or {}) do keys[#keys + 1] = k end
  sort(keys)
  for _, k in ipairs(keys) do
    local f = schema.fields[k]
    local key = k:match("^[%a_][%w_]*$") and k or format("[%q]", k)
    out[#out + 1] = format("---@field %s%s %s", key, f.required and "" or "?",
      lua_type(f, models, prefix))
  end
end

for _, name in ipairs(names) do
  local svc = services.load(name)
  local models = model_names(svc)
  local prefix = "hwcloud." .. name .. "."
  local ops = sorted_ops(svc)
  local out = {
    "---@meta",
    "-- luacheck: ignore 212, no max line length",
    "-- Generated by tools/gen_docs.lua from lua/hwcloud/services/" .. name .. ".lua"
      .. (svc.source and (" and " .. svc.source.sdk .. " at " .. svc.source.commit:sub(1, 12)) or "") .. ".",
    "-- Do not edit: run `make docs`. LuaLS definitions: add types/ to workspace.library.",
    "",
  }
  -- operation classes first, then the models they use
  local ordered = {}
  for _, n in ipairs(ops) do
    local op = svc.operations[n]
    local req = prefix .. camel(n) .. "Request"
    out[#out + 1] = "---@class " .. req
    field_lines(out, op.request, models, prefix)
    out[#out + 1] = ""
  end
  for m in pairs(services.models(svc)) do ordered[#ordered + 1] = m end
  sort(ordered)
  for _, m in ipairs(ordered) do
    local s = svc.models[m]
    if s.fields then
      out[#out + 1] = "---@class " .. prefix .. m
      field_lines(out, s, models, prefix)
      out[#out + 1] = ""
    end
  end
  out[#out + 1] = "---@class hwcloud." .. name
  out[#out + 1] = "local " .. name .. " = {}"
  out[#out + 1] = ""
  local all = {}
  for _, n in ipairs(ops) do all[#all + 1] = { n, n } end
  local aliases = {}
  for a in pairs(svc.aliases) do aliases[#aliases + 1] = a end
  sort(aliases)
  for _, a in ipairs(aliases) do all[#all + 1] = { a, svc.aliases[a] } end
  for _, pair in ipairs(all) do
    local n, target = pair[1], pair[2]
    local op = svc.operations[target]
    local res = lua_type(op.response, models, prefix)
    out[#out + 1] = format("---@param req %s", prefix .. camel(target) .. "Request")
    out[#out + 1] = "---@param opts? hwcloud.CallOptions"
    out[#out + 1] = format("---@return %s|nil result", res)
    out[#out + 1] = "---@return hwcloud.Error|nil err"
    out[#out + 1] = format("function %s:%s(req, opts) end", name, n)
    out[#out + 1] = ""
  end
  out[#out + 1] = "return " .. name
  out[#out + 1] = ""
  emit("types/hwcloud/" .. name .. ".lua", concat(out, "\n"))
end

-- the client's methods and client.obs, after its service fields
local function client_methods(out)
  out[#out + 1] = "---@field obs hwcloud.Obs"
  out[#out + 1] = "local Client = {}"
  out[#out + 1] = ""
  -- the methods every client has (hwcloud.client's Client), by hand: their
  -- arguments are tables the services' descriptions do not give
  for _, m in ipairs {
    { "wait", "job, opts", { "job table", "opts? table" }, "table|nil result" },
    { "wait_for", "service, waiter, req, opts",
      { "service string", "waiter string|table", "req table", "opts? table" }, "table|true|nil result" },
    { "wait_all", "jobs, opts", { "jobs table[]", "opts? table" }, "table[]|nil results" },
    { "parallel", "calls, opts", { "calls table[]", "opts? table" }, "table[]|nil results" },
    { "request", "r",
      { "r {service: string, method: string, path: string, query?: table, body?: any, headers?: table}" },
      "table|nil result" },
    { "pages", "service, operation, req, opts",
      { "service string", "operation string", "req? table", "opts? hwcloud.CallOptions" }, nil,
      "fun(): table|nil, hwcloud.Error|nil" },
    { "each", "service, operation, req, opts",
      { "service string", "operation string", "req? table", "opts? hwcloud.CallOptions" }, nil,
      "fun(): any, hwcloud.Error|nil" },
  } do
    for _, p in ipairs(m[3]) do out[#out + 1] = "---@param " .. p end
    if m[4] then
      out[#out + 1] = "---@return " .. m[4]
      out[#out + 1] = "---@return hwcloud.Error|nil err"
    else
      out[#out + 1] = "---@return " .. m[5]
    end
    out[#out + 1] = format("function Client:%s(%s) end", m[1], m[2])
    out[#out + 1] = ""
  end
  out[#out + 1] = "function Client:close() end"
  out[#out + 1] = ""
  out[#out + 1] = "---@class hwcloud.Obs"
  out[#out + 1] = "local Obs = {}"
  out[#out + 1] = ""
  for _, n in ipairs(require("hwcloud.obs").operations()) do
    out[#out + 1] = "---@param req table"
    out[#out + 1] = "---@param opts? hwcloud.CallOptions"
    out[#out + 1] = "---@return " .. (n == "create_signed_url" and "string|nil url" or "table|nil result")
    out[#out + 1] = "---@return hwcloud.Error|nil err"
    out[#out + 1] = format("function Obs:%s(req, opts) end", n)
    out[#out + 1] = ""
  end
end

do
  local out = {
    "---@meta",
    "-- Generated by tools/gen_docs.lua from the service descriptions. Do not edit: run",
    "-- `make docs`.",
    "",
    "---@class hwcloud.CallOptions",
    "---@field timeout? number",
    "---@field connect_timeout? number",
    "---@field retries? integer",
    "---@field retry_unsafe? boolean",
    "",
    "---@class hwcloud.Error",
    "---@field kind \"validation\"|\"transport\"|\"timeout\"|\"http\"|\"decode\"|\"job_failed\"|\"unknown_outcome\"",
    "---@field status? integer",
    "---@field code? string",
    "---@field message string",
    "---@field request_id? string",
    "---@field service? string",
    "---@field operation? string",
    "---@field field? string",
    "---@field retryable boolean",
    "",
    "---@class hwcloud.Client",
  }
  for _, name in ipairs(services.names()) do
    out[#out + 1] = format("---@field %s hwcloud.%s", name, same_as[name] or name)
  end
  client_methods(out)
  emit("types/hwcloud/client.lua", concat(out, "\n"))
end

-- types/hwcloud/init.lua: the module (require "hwcloud") and the options of
-- hwcloud.client, from hwcloud.config's declared options, so that
-- `local client = hwcloud.client{...}` is a hwcloud.Client
local function module_types()
  local LUA_TYPE = { string = "string", number = "number", integer = "integer", boolean = "boolean",
    object = "table", ["function"] = "function", any = "any" }
  local rules = require("hwcloud.config").OPTIONS.rules
  local keys = {}
  for k in pairs(rules) do keys[#keys + 1] = k end
  sort(keys)
  local out = {
    "---@meta hwcloud",
    "-- Generated by tools/gen_docs.lua from lua/hwcloud/config.lua's options and",
    "-- lua/hwcloud/init.lua. Do not edit: run `make docs`.",
    "",
    "---@class hwcloud.ClientOptions",
  }
  for _, k in ipairs(keys) do
    local r = rules[k]
    local t = LUA_TYPE[r.type] or "any"
    if r.one_of then
      local vals = {}
      for i, v in ipairs(r.one_of) do vals[i] = format("%q", v) end
      t = concat(vals, "|")
    end
    out[#out + 1] = format("---@field %s? %s", k, t)
  end
  for _, l in ipairs {
    "",
    "---@class hwcloud",
    "---@field version string",
    "---@field _VERSION string",
    "---@field null lightuserdata JSON null in answers",
    "local hwcloud = {}",
    "",
    "---@param opts? hwcloud.ClientOptions",
    "---@return hwcloud.Client|nil client",
    "---@return hwcloud.Error|nil err",
    "function hwcloud.client(opts) end",
    "",
    "---@param request {method: string, url: string, headers?: table<string, string>, body?: string, "
      .. "sign_algorithm?: string, sign_scope?: string}",
    "---@param credentials {ak: string, sk: string, security_token?: string}",
    "---@return table<string, string>|nil headers",
    "---@return hwcloud.Error|nil err",
    "function hwcloud.sign(request, credentials) end",
    "",
    "---@return string[] fields the client's service fields",
    "function hwcloud.services() end",
    "",
    "---@param service string",
    "---@return string[]|nil names",
    "---@return string|nil err",
    "function hwcloud.waiters(service) end",
    "",
    "return hwcloud",
    "",
  } do out[#out + 1] = l end
  emit("types/hwcloud/init.lua", concat(out, "\n"))
end
module_types()

if check then
  if #stale > 0 then
    io.stderr:write("stale generated files (run `make docs`):\n  " .. concat(stale, "\n  ") .. "\n")
    os.exit(1)
  end
  print("generated files are up to date")
else
  print(format("%d files written", written))
end
