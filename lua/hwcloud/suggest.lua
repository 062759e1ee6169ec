-- hwcloud.suggest: "did you mean" for misspelt names. The measure itself
-- is the C core's (core.closest), the same one the marshaller uses for
-- unknown fields, so every suggestion follows one rule.

local format, huge = string.format, math.huge

local closest_c -- the C core loads on first use

local function core_closest(...)
  if not closest_c then closest_c = require("hwcloud.core").closest end
  return closest_c(...)
end

local _M = {}

-- Levenshtein distance, case-insensitive (names up to 64 bytes; longer
-- ones are too far from anything to be a misspelling: math.huge)
function _M.distance(a, b)
  local _, d = core_closest(a, { b }, huge)
  return d or huge
end

-- the closest candidate when it is close enough (distance at most
-- max(2, #name // 3)), else nil
function _M.closest(name, candidates)
  return (core_closest(name, candidates))
end

-- " (did you mean 'x'?)" or ""
function _M.hint(name, candidates)
  local best = _M.closest(name, candidates)
  return best and format(" (did you mean '%s'?)", best) or ""
end

return _M
