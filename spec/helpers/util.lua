-- spec/helpers/util.lua: the small things many specs need, written once.
--
--   local util = require "spec.helpers.util"
--   util.root                  the checkout
--   util.quote(s)              a shell word
--   util.sh(cmd)               true when the command exited 0
--   util.capture(cmd)          its stdout (trailing white space dropped), exit code
--   util.run(cmd)              ok, stdout and stderr together, exit code
--   util.read_file(path)       contents | nil
--   util.write_file(path, data[, mkdir])  (mkdir: make the folder first)
--   util.clean_env(home)       "env -i PATH=... HOME=home LUA_PATH=... LUA_CPATH=...": a
--                              child Lua sees this checkout's modules and nothing else
--   util.abs(path)             absolute, against the current directory
--   util.tmpdir(name)          a fresh directory under spec/.work/ (util.rmdir removes it)
--   util.closed_port()         a loopback port nothing listens on (just released)
--   util.copy(v)               a deep copy of a table
--   util.sleep(seconds)

local compat = require "spec.helpers.compat"

local M = {}

-- the checkout (from this file's path; "." when run from it)
M.root = (debug.getinfo(1, "S").source:match("^@(.*)/spec/helpers/[^/]*$") or "")
if M.root == "" then M.root = "." end

function M.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
local quote = M.quote

function M.sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

-- compat.run gives the exit code on every runtime (5.1's close() does not)
function M.capture(cmd)
  local out, code = compat.run(cmd)
  return (out:gsub("%s+$", "")), code
end

function M.run(cmd)
  local out, code = compat.run("{ " .. cmd .. "\n} 2>&1")
  return code == 0, out, code
end

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.write_file(path, data, mkdir)
  if mkdir then assert(M.sh("mkdir -p " .. quote(path:match("^(.*)/[^/]*$") or "."))) end
  local f = assert(io.open(path, "wb"))
  assert(f:write(data))
  f:close()
  return path
end

function M.sleep(seconds)
  M.sh("sleep " .. seconds)
end

local cwd
function M.abs(path)
  if path:sub(1, 1) == "/" then return path end
  cwd = cwd or M.capture("pwd")
  if path == "." then return cwd end
  return cwd .. "/" .. path
end

function M.clean_env(home)
  local root = M.abs(M.root)
  local list = { "env", "-i", quote("PATH=" .. (os.getenv("PATH") or "/usr/bin:/bin")),
    quote("HOME=" .. home),
    quote("LUA_PATH=" .. root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;"),
    quote("LUA_CPATH=" .. root .. "/" .. compat.cpath .. "/?.so;;"),
    quote("LUA_INIT=" .. compat.lua_init) }
  -- under make sanitize the core is built with ASan: a child that loads it
  -- needs the run's sanitizer options (the runtime comes late there)
  for _, name in ipairs { "ASAN_OPTIONS", "UBSAN_OPTIONS" } do
    local v = os.getenv(name)
    if v then list[#list + 1] = quote(name .. "=" .. v) end
  end
  return table.concat(list, " ")
end

local seeded = false
function M.tmpdir(name)
  if not seeded then
    -- distinct names across concurrent runs: mix time and a fresh address
    math.randomseed(os.time(), tonumber(tostring({}):match("0x(%x+)") or "0", 16))
    seeded = true
  end
  local dir = M.abs(M.root .. "/spec/.work/" .. (name or "tmp") .. "-" .. math.random(1e8))
  assert(M.sh("mkdir -p " .. quote(dir)), "cannot create " .. dir)
  return dir
end

function M.rmdir(dir)
  if dir and not os.getenv("HWCLOUD_KEEP_WORK") then M.sh("rm -rf " .. quote(dir)) end
end

-- A port the kernel just gave and took back: connecting to it is refused
-- at once (unless another process binds it in between, which a spec
-- using it then notices as an unexpected answer).
function M.closed_port()
  local socket = require "socket"
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

function M.copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = M.copy(x) end
  return c
end

return M
