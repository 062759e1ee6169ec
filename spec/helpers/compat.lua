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

-- run(cmd) -> output, exit code of a shell command. Lua 5.1 and LuaJIT's
-- pipe close() does not give the code, so the shell prints it last.
function M.run(cmd)
  local p = io.popen("{ " .. cmd .. "\n}; printf '\\n%d' $?")
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.*)\n(%d+)$")
  return body or out, tonumber(code)
end

return M
