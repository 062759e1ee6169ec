-- hwcloud.suggest: "did you mean" for misspelt names, the one place that
-- measures how close two names are.

local ipairs, floor, max, format = ipairs, math.floor, math.max, string.format

local _M = {}

-- Levenshtein distance, case-insensitive
function _M.distance(a, b)
  a, b = a:lower(), b:lower()
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = prev[j] + 1
      if cur[j - 1] + 1 < v then v = cur[j - 1] + 1 end
      if prev[j - 1] + cost < v then v = prev[j - 1] + cost end
      cur[j] = v
    end
    prev = cur
  end
  return prev[#b]
end

-- the closest candidate when it is close enough, else nil
function _M.closest(name, candidates)
  if #name > 64 then return nil end -- bounds the work
  local best, bestd = nil, nil
  for _, c in ipairs(candidates) do
    local d = _M.distance(name, c)
    if not bestd or d < bestd then best, bestd = c, d end
  end
  if best and bestd <= max(2, floor(#name / 3)) then return best end
  return nil
end

-- " (did you mean 'x'?)" or ""
function _M.hint(name, candidates)
  local best = _M.closest(name, candidates)
  return best and format(" (did you mean '%s'?)", best) or ""
end

return _M
