-- hwcloud.suggest: "did you mean" for misspelt names (options, fields of
-- a request, operations, waiters, CLI words), one rule for all of them.
-- It runs only when a name was refused, so it is plain Lua.

local type, byte, lower = type, string.byte, string.lower
local min, max, floor, huge = math.min, math.max, math.floor, math.huge
local format = string.format

-- names longer than this are too far from anything to be a misspelling
-- (and bound the work)
local MAX = 64

local _M = {}

-- Levenshtein distance, case-insensitive; math.huge past MAX bytes
function _M.distance(a, b)
  if #a > MAX or #b > MAX then return huge end
  a, b = lower(a), lower(b)
  local row = {}
  for j = 0, #b do row[j] = j end
  for i = 1, #a do
    local diag, ca = row[0], byte(a, i)
    row[0] = i
    for j = 1, #b do
      local up = row[j]
      row[j] = min(diag + (ca == byte(b, j) and 0 or 1), up + 1, row[j - 1] + 1)
      diag = up
    end
  end
  return row[#b]
end

-- the closest string of the list (the first of equals) when it is close
-- enough: a distance of at most max(2, #name // 3); else nil
function _M.closest(name, candidates)
  local best, bestd = nil, huge
  for i = 1, #candidates do
    local c = candidates[i]
    if type(c) == "string" then
      local d = _M.distance(name, c)
      if d < bestd then best, bestd = c, d end
    end
  end
  if bestd <= max(2, floor(#name / 3)) then return best end
  return nil
end

-- " (did you mean 'x'?)" or ""
function _M.hint(name, candidates)
  local best = _M.closest(name, candidates)
  return best and format(" (did you mean '%s'?)", best) or ""
end

return _M
