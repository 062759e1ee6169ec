-- Loaded first by every busted run (.busted's helper), and by the child
-- Lua processes the specs start: a module of hwcloud (or of its emulator)
-- that would load from anywhere but this checkout is an error. An installed
-- rock earlier on the path would otherwise stand in for the code under test
-- and hide a missing path.

local sub = string.sub

-- package.searchpath, which Lua 5.1 lacks (LuaJIT and 5.2+ have it)
local searchpath = package.searchpath or function(name, path)
  local file = name:gsub("%.", "/")
  for template in path:gmatch("[^;]+") do
    local candidate = template:gsub("%?", file)
    local f = io.open(candidate, "rb")
    if f then
      f:close()
      return candidate
    end
  end
  return nil
end

-- absolute(path): the path from the working folder ($PWD), with "." and
-- ".." steps folded
local function absolute(path)
  if sub(path, 1, 1) ~= "/" then path = (os.getenv("PWD") or ".") .. "/" .. path end
  local parts = {}
  for step in path:gmatch("[^/]+") do
    if step == ".." then parts[#parts] = nil
    elseif step ~= "." then parts[#parts + 1] = step end
  end
  return "/" .. table.concat(parts, "/")
end

-- the checkout's root: this file is <root>/spec/helpers/checkout.lua
local here = debug.getinfo(1, "S").source
here = absolute(sub(here, 1, 1) == "@" and sub(here, 2) or here)
local root = here:match("^(.*)/spec/helpers/checkout%.lua$") or absolute(".")

local function inside(path)
  return sub(absolute(path), 1, #root + 1) == root .. "/"
end

local function guard(name)
  if name ~= "hwcloud" and sub(name, 1, 8) ~= "hwcloud." then return nil end
  local path = searchpath(name, package.path) or searchpath(name, package.cpath)
  if path and not inside(path) then
    error(("module '%s' resolves outside the checkout (%s): the code under test must be "
      .. "this checkout's (an installed rock earlier on the path hides it)"):format(name, path), 2)
  end
  return nil -- the usual searchers load it
end

local searchers = package.searchers or package.loaders
if searchers[1] ~= guard then table.insert(searchers, 1, guard) end

return { root = root, inside = inside, absolute = absolute }
