-- hwcloud.emulator.admin: the /_emulator/ API that tests use to steer the
-- emulator. It needs no authentication: the emulator is for local testing
-- only and listens on 127.0.0.1.
--
--   POST /_emulator/reset    forget all state, faults, failures and counts
--   POST /_emulator/faults   {operation, count, status?, body?, headers?,
--                             delay_ms?, drop?, truncate?, malformed?}
--   GET  /_emulator/faults   the faults still pending, each with what it does:
--                            {operation, remaining, count, effect, status?,
--                             delay_ms?, drop?, truncate?, malformed?,
--                             body?, headers? (names)}
--   POST /_emulator/fail     {ids = [...]}
--   GET  /_emulator/counts   {"<service>.<operation>": n, ...}
--   GET  /_emulator/obs/parts {"<upload id>#<part number>": times received}
--   GET  /_emulator/forms    {"<service>.<operation>": the last form body it
--                            received: text fields, file parts as {filename,
--                            content_type, size, md5}}
--   POST /_emulator/identity {key_seconds?, token_seconds?, metadata_tokens?,
--                             agency?, users? = {name = password},
--                             expire_issued? = true}: the metadata service and
--                             IAM (see hwcloud.emulator.services.metadata)
--   GET  /_emulator/identity {settings, log}: the identity headers received
--   GET  /_emulator/health   {"status":"ok"}

local util = require "hwcloud.emulator.util"
local state = require "hwcloud.emulator.state"
local router = require "hwcloud.emulator.router"
local validate = require "hwcloud.emulator.validate"
local control = require "hwcloud.emulator.control"

local ngx = ngx
local type, pairs, ipairs, sort, concat, tostring =
  type, pairs, ipairs, table.sort, table.concat, tostring
local sub, format = string.sub, string.format
local json_type = validate.json_type
local send = util.send

local _M = {}

local fail, read_json = control.fail, control.read_json

-- The operation a fault is for and how many requests it meets; returns the
-- fault so far or nil, message.
local function fault_target(b)
  local op = b.operation
  if type(op) ~= "string" or (op ~= "*" and not router.operations[op]) then
    return nil, "operation must be \"*\" or a described operation (\"<service>.<operation>\", "
      .. "e.g. \"servicestage.show_job_info\", \"vpc.create_vpc\")"
  end
  local count = b.count
  if count == nil then count = 1 end
  if json_type(count) ~= "integer" or count < 1 then
    return nil, "count must be a positive integer"
  end
  -- an alias and the official name are one operation
  return { operation = op == "*" and op or router.operations[op].name, count = count }
end

-- Each step below copies one part of the description `b` into the fault
-- `f`; returns true or nil, message.
local function fault_status(b, f)
  if b.status == nil then return true end
  -- a 1xx is not a final answer: nginx cannot send one, and truncate
  -- or a body would make no sense with it
  if json_type(b.status) ~= "integer" or b.status < 200 or b.status > 599 then
    return nil, "status must be an integer final HTTP status (200-599)"
  end
  f.status = b.status
  return true
end

local function fault_delay(b, f)
  if b.delay_ms == nil then return true end
  -- not (x <= max) also refuses NaN and infinity
  if type(b.delay_ms) ~= "number" or b.delay_ms < 0 or not (b.delay_ms <= 600000) then -- luacheck: ignore 581
    return nil, "delay_ms must be a number of milliseconds from 0 to 600000"
  end
  f.delay_ms = b.delay_ms
  return true
end

local function fault_flags(b, f)
  for _, flag in pairs({ "drop", "truncate", "malformed" }) do
    local v = b[flag]
    if v ~= nil then
      if type(v) ~= "boolean" then return nil, flag .. " must be a boolean" end
      f[flag] = v or nil
    end
  end
  return true
end

local FAULT_STEPS = { fault_status, control.body_and_headers, fault_delay, fault_flags }

-- Checks a fault description; returns the fault or nil, message.
local function parse_fault(b)
  local f, why = fault_target(b)
  if not f then return nil, why end
  for _, step in ipairs(FAULT_STEPS) do
    local ok
    ok, why = step(b, f)
    if not ok then return nil, why end
  end
  if not (f.status or f.delay_ms or f.drop or f.truncate or f.malformed) then
    return nil, "a fault needs at least one of status, delay_ms, drop, truncate, malformed"
  end
  return f
end

-- The faults this API accepted, per operation, oldest first. The state
-- keeps only what is left of them: it takes a fault from the front of its
-- operation's queue when used up and drops every queue on reset, so the
-- pending ones are always the last of those accepted (see pending()).
local accepted = {}

-- What a fault does to the request it meets, in words.
local function effect(f)
  local words = {}
  if f.delay_ms then words[#words + 1] = format("waits %g ms", f.delay_ms) end
  if f.drop then
    words[#words + 1] = "drops the connection"
  elseif f.truncate then
    words[#words + 1] = format("answers %d with its body cut short, then closes", f.status or 200)
  elseif f.malformed then
    words[#words + 1] = format("answers %d with a malformed body", f.status or 200)
  elseif f.status then
    words[#words + 1] = format("answers %d%s", f.status, f.body and " with the given body" or "")
  else
    words[#words + 1] = "answers normally"
  end
  return concat(words, ", then ")
end

local function describe(f, remaining)
  local d = { operation = f.operation, count = f.count, remaining = remaining,
              effect = effect(f), status = f.status, delay_ms = f.delay_ms,
              drop = f.drop, truncate = f.truncate, malformed = f.malformed }
  if f.body then d.body = true end
  if f.headers then
    local names = {}
    for name in pairs(f.headers) do names[#names + 1] = name end
    sort(names)
    d.headers = util.array(names)
  end
  return d
end

-- The pending faults, described, by operation then in the order they
-- apply; forgets those used up or reset.
local function pending()
  local left = {}  -- operation -> list of remaining counts, in queue order
  for _, p in ipairs(state.pending_faults()) do
    local l = left[p.operation]
    if not l then l = {} left[p.operation] = l end
    l[#l + 1] = p.remaining
  end
  local ops, out = {}, {}
  for op in pairs(accepted) do ops[#ops + 1] = op end
  sort(ops)
  for _, op in ipairs(ops) do
    local list, l = accepted[op], left[op] or {}
    local keep = {}
    for i = #list - #l + 1, #list do
      if i >= 1 then keep[#keep + 1] = list[i] end
    end
    accepted[op] = #keep > 0 and keep or nil
    for i = 1, #keep do out[#out + 1] = describe(keep[i], l[i]) end
  end
  return out
end

-- Applies POST /_emulator/identity; returns nil or a message.
local function set_identity(b)
  local id = state.identity()
  for _, k in ipairs { "key_seconds", "token_seconds" } do
    if b[k] ~= nil then
      if type(b[k]) ~= "number" or b[k] < 0 then return k .. " must be a number >= 0" end
      id[k] = b[k]
    end
  end
  for _, k in ipairs { "metadata_tokens", "agency", "expire_issued" } do
    if b[k] ~= nil and type(b[k]) ~= "boolean" then return k .. " must be a boolean" end
  end
  if b.metadata_tokens ~= nil then id.metadata_tokens = b.metadata_tokens end
  if b.agency ~= nil then id.agency = b.agency end
  if b.users ~= nil then
    if type(b.users) ~= "table" then return "users must be an object {name: password}" end
    for name, password in pairs(b.users) do
      if type(password) ~= "string" then return "users." .. tostring(name) .. " must be a string" end
      id.users[name] = password
    end
  end
  if b.expire_issued then state.expire_issued(ngx.now()) end
  return nil
end

local routes = {
  ["/_emulator/identity"] = {
    POST = function()
      local b = read_json()
      if not b then return fail(400, "the body must be a JSON object") end
      local msg = set_identity(b)
      if msg then return fail(400, msg) end
      return send(200, { status = "ok" })
    end,
    GET = function()
      local id = state.identity()
      return send(200, {
        settings = { key_seconds = id.key_seconds, token_seconds = id.token_seconds,
                     metadata_tokens = id.metadata_tokens, agency = id.agency },
        log = util.array(state.identity_log()),
      })
    end,
  },
  ["/_emulator/health"] = { GET = function() return send(200, { status = "ok" }) end },
  ["/_emulator/reset"] = { POST = function()
    state.reset()
    require("hwcloud.emulator.obs").reset()
    require("hwcloud.emulator.forms").reset()
    return send(200, { status = "ok" })
  end },
  ["/_emulator/counts"] = { GET = function() return send(200, state.counts()) end },
  -- object storage: how often each part of each multipart upload arrived
  ["/_emulator/obs/parts"] = { GET = function()
    return send(200, require("hwcloud.emulator.obs").part_sends())
  end },
  -- the last multipart or urlencoded form of each operation
  ["/_emulator/forms"] = { GET = function()
    return send(200, require("hwcloud.emulator.forms").received())
  end },
  ["/_emulator/faults"] = {
    POST = function()
      local b = read_json(true)
      if not b then return fail(400, "the body must be a JSON object") end
      local f, msg = parse_fault(b)
      if not f then return fail(400, msg) end
      pending()  -- forget the used-up ones first: the list stays short
      state.add_fault(f.operation, f)
      local list = accepted[f.operation]
      if not list then list = {} accepted[f.operation] = list end
      list[#list + 1] = f
      return send(200, { status = "ok", operation = f.operation, count = f.count,
                         effect = effect(f) })
    end,
    GET = function()
      return send(200, { faults = util.array(pending()) })
    end,
  },
  ["/_emulator/fail"] = { POST = function()
    local b = read_json()
    if not b then return fail(400, "the body must be a JSON object") end
    local ids = b.ids
    local t = json_type(ids)
    if t ~= "array" and t ~= "empty" then return fail(400, "ids must be an array of strings") end
    for i = 1, #ids do
      if type(ids[i]) ~= "string" then return fail(400, "ids must be an array of strings") end
    end
    state.add_fail_ids(ids)
    return send(200, { status = "ok" })
  end },
}

-- canned answers, log, state, inventory (hwcloud.emulator.control)
for path, r in pairs(control.routes) do routes[path] = r end

function _M.handle(method, path)
  if path ~= "/_emulator/" and sub(path, -1) == "/" then path = sub(path, 1, -2) end
  local r = routes[path]
  if not r then return fail(404, "no such emulator admin API: " .. path) end
  local h = r[method]
  if not h then
    local allowed = {}
    for m in pairs(r) do allowed[#allowed + 1] = m end
    sort(allowed)
    ngx.header["Allow"] = concat(allowed, ", ")
    return fail(405, "method " .. method .. " is not allowed on " .. path)
  end
  return h()
end

return _M
