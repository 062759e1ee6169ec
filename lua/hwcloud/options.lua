-- hwcloud.options: the one rule for options tables (the client's, a
-- call's, wait's, wait_all's, parallel's). A set is declared once as
-- name -> rule; check() refuses unknown names with a "did you mean" from
-- hwcloud.suggest, values of the wrong type, and values a rule's check
-- refuses, as a validation error naming the option and the rule. Values
-- are never repeated in messages unless they are numbers (an option may
-- hold a secret).

local type, pairs, ipairs, tostring, select, setmetatable, assert =
  type, pairs, ipairs, tostring, select, setmetatable, assert
local sort, concat, format = table.sort, table.concat, string.format
local huge, floor = math.huge, math.floor
local errors = require "hwcloud.errors"
local closest = require("hwcloud.suggest").closest

local _M = {}

-- the names the messages use: "object" for a table, as the request
-- validator says
local TYPE_OF = { table = "object" }

local function type_name(v)
  local t = type(v)
  return TYPE_OF[t] or t
end

local function is_integer(v)
  return type(v) == "number" and v == floor(v) and v > -huge and v < huge
end

-- wrong_type(want, v) -> "expected <want>, got <what v is>"; a number
-- given for an integer says which (1.5)
local function wrong_type(want, v)
  if want == "integer" and type(v) == "number" then
    return format("expected integer, got number %s", tostring(v))
  end
  return format("expected %s, got %s", want, type_name(v))
end

local FITS = {
  string = function(v) return type(v) == "string" end,
  number = function(v) return type(v) == "number" end,
  integer = is_integer,
  boolean = function(v) return type(v) == "boolean" end,
  object = function(v) return type(v) == "table" end,
  ["function"] = function(v) return type(v) == "function" end,
  any = function() return true end,
}

-- rule(type[, check]) -> a rule: check(v) returns nothing when v is good,
-- else the rule it breaks ("must be greater than 0")
function _M.rule(t, check)
  assert(FITS[t], "unknown option type")
  return { type = t, check = check }
end
local rule = _M.rule

-- The rules options share, so one option means one thing everywhere.
-- not (v > 0) also refuses NaN
function _M.positive(t)
  return rule(t or "number", function(v)
    if not (v > 0) or v == huge then return "must be greater than 0" end -- luacheck: ignore 581
  end)
end

function _M.between(t, lo, hi)
  return rule(t, function(v)
    if not (v >= lo and v <= hi) then -- luacheck: ignore 581
      return format("must be between %s and %s", tostring(lo), tostring(hi))
    end
  end)
end

function _M.non_negative(t)
  return rule(t or "number", function(v)
    if not (v >= 0) then return "must not be negative" end -- luacheck: ignore 581
  end)
end

function _M.one_of(t, list)
  local set = {}
  local shown = {}
  for i, v in ipairs(list) do
    set[v] = true
    shown[i] = '"' .. tostring(v) .. '"'
  end
  local msg = "must be one of " .. concat(shown, ", ")
  local r = rule(t, function(v)
    if not set[v] then return msg end
  end)
  r.one_of = list -- the values, for what is generated from the rules (types)
  return r
end

-- seconds: a finite number above 0 (the waits' interval, max_interval and
-- timeout)
_M.seconds = rule("number", function(v)
  if not (v > 0) or v == huge then -- luacheck: ignore 581
    return "expected a number of seconds above 0, got " .. tostring(v)
  end
end)

-- count: a whole number of 1 or more (concurrency)
_M.count = rule("number", function(v)
  if not is_integer(v) or v < 1 then
    return "must be a whole number of 1 or more, got " .. tostring(v)
  end
end)

_M.string, _M.number, _M.integer, _M.boolean = rule("string"), rule("number"),
  rule("integer"), rule("boolean")
_M.object, _M.func, _M.any = rule("object"), rule("function"), rule("any")

local Set = {}
Set.__index = Set

-- declare{name = rule, ...} -> set (the names sorted once, for the
-- suggestions and for checking in a fixed order)
function _M.declare(rules)
  local names = {}
  for name, r in pairs(rules) do
    assert(type(r) == "table" and FITS[r.type], "option " .. tostring(name) .. ": not a rule")
    names[#names + 1] = name
  end
  sort(names)
  return setmetatable({ rules = rules, names = names }, Set)
end

-- merge(a, b, ...) -> a set with the options of every set given
function _M.merge(...)
  local rules = {}
  for i = 1, select("#", ...) do
    for name, r in pairs((select(i, ...)).rules) do rules[name] = r end
  end
  return _M.declare(rules)
end

-- problem(set, opts) -> name, message | nil: the first problem found
-- (unknown names first, in sorted order, then the declared options in
-- theirs), so the same bad table always gets the same error
local function problem(set, opts)
  local unknown
  for k in pairs(opts) do
    if set.rules[k] == nil and (unknown == nil or tostring(k) < tostring(unknown)) then
      unknown = k
    end
  end
  if unknown ~= nil then
    local best = type(unknown) == "string" and closest(unknown, set.names)
    return tostring(unknown),
      best and format('unknown field (did you mean "%s"?)', best) or "unknown field"
  end
  for _, name in ipairs(set.names) do
    local v, r = opts[name], set.rules[name]
    if v ~= nil then
      if not FITS[r.type](v) then return name, wrong_type(r.type, v) end
      local msg = r.check and r.check(v)
      if msg then return name, msg end
    end
  end
end

-- check(set, opts[, where]) -> opts | nil, err. nil opts are an empty
-- table. where: {prefix = "opts.", field = "opts", service, operation}
-- names the error's field (prefix .. option; field when opts is not a
-- table) and the call it belongs to.
function _M.check(set, opts, where)
  where = where or {}
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    return nil, errors.validation(where.field or "options",
      "expected a table, got " .. type(opts), where.service, where.operation)
  end
  local name, msg = problem(set, opts)
  if name then
    return nil, errors.validation((where.prefix or "") .. name, msg, where.service,
      where.operation)
  end
  return opts
end

-- pick(set, opts) -> a copy of opts with only the options of set (one
-- options table handed on to a part that takes some of them)
function _M.pick(set, opts)
  local out = {}
  for _, name in ipairs(set.names) do out[name] = opts[name] end
  return out
end

return _M
