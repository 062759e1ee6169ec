-- What the specs need to run alike on Lua 5.1, 5.3, 5.4 and LuaJIT
-- (make matrix). Files are read with read("*a"), which every version takes.

local M = {}

-- Lua 5.3+ tells integers from floats; 5.1 and LuaJIT have one number type
M.integers = math.type ~= nil

-- math.type, or on runtimes without integers the type the C core writes a
-- number as (integral numbers as integers)
M.math_type = math.type or function(x)
  if type(x) ~= "number" then return nil end
  return (x == math.floor(x) and x > -2 ^ 53 and x < 2 ^ 53) and "integer" or "float"
end

-- finalizers on tables (Lua 5.2 on)
M.table_gc = _VERSION ~= "Lua 5.1" and not rawget(_G, "jit")

-- to-be-closed variables (Lua 5.4)
M.close = _VERSION >= "Lua 5.4" and not rawget(_G, "jit")

-- The interpreter the specs run under, for the child processes they start
-- (tools/matrix.sh sets HWCLOUD_LUA).
M.lua = os.getenv("HWCLOUD_LUA") or "lua5.4"

-- The core build of that interpreter
M.cpath = os.getenv("HWCLOUD_CPATH") or "build/5.4"

-- LUA_INIT for the child Lua processes specs start: spec/helpers/checkout.lua
-- first, so a child loads hwcloud from this checkout only (an absolute
-- path: children may run in another folder)
do
  local here = debug.getinfo(1, "S").source:match("^@(.*)$") or "spec/helpers/compat.lua"
  if here:sub(1, 1) ~= "/" then here = (os.getenv("PWD") or ".") .. "/" .. here end
  M.lua_init = "@" .. here:gsub("/%./", "/"):gsub("compat%.lua$", "checkout.lua")
end

-- `export LUA_INIT=...;`: the prefix of a shell command line that starts
-- child Lua processes
M.export_lua_init = "LUA_INIT='" .. M.lua_init:gsub("'", "'\\''") .. "'; export LUA_INIT; "

-- run(cmd) -> output, exit code of a shell command. Lua 5.1 and LuaJIT's
-- pipe close() does not give the code, so the shell prints it last.
function M.run(cmd)
  local p = io.popen(M.export_lua_init .. "{ " .. cmd .. "\n}; printf '\\n%d' $?")
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.*)\n(%d+)$")
  return body or out, tonumber(code)
end

return M
