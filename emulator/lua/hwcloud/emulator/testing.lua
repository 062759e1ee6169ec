-- hwcloud.emulator.testing: the emulator for your own tests. Starts
-- hwcloud-emulator, steers it through its admin API and stops it, from
-- busted or a plain script, on Lua 5.1 to 5.4 and LuaJIT. It talks to the
-- emulator with the curl command line, so it needs neither the client's C
-- core nor nginx's Lua.
--
--   local testing = require "hwcloud.emulator.testing"
--   local emu = assert(testing.start{ job_seconds = 1 })
--   emu:fault{ operation = "workspaceapp.show_job", status = 503 }
--   local out, code = emu:run("lua5.4 my_deploy.lua")   -- with emu:env() set
--   emu:stop()
--
-- Every function returns nil, message on failure. An emulator whose handle
-- is dropped, or whose script raises before emu:stop(), is stopped by the
-- collector, at the latest when the interpreter exits.

local cjson = require "cjson"

local format, concat, sort = string.format, table.concat, table.sort
local tostring, tonumber, type, pairs, ipairs, setmetatable, getmetatable, pcall =
  tostring, tonumber, type, pairs, ipairs, setmetatable, getmetatable, pcall
local floor = math.floor
local io_open, io_popen, os_execute, os_remove, os_tmpname, getenv =
  io.open, io.popen, os.execute, os.remove, os.tmpname, os.getenv

local _M = {}

_M.DEFAULT_AK = "HWCLOUDEMULATORAK001"
_M.DEFAULT_SK = "hwcloud-emulator-secret"
-- the project id emu:env() gives a script (any id works with the emulator)
_M.DEFAULT_PROJECT_ID = "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
_M.quote = q

-- read("*a"): the form every Lua version takes
local function read_file(path)
  local f = io_open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
_M.read_file = read_file

local function write_file(path, data)
  local f, err = io_open(path, "wb")
  if not f then return nil, err end
  f:write(data)
  f:close()
  return true
end
_M.write_file = write_file

local function sleep(seconds)
  os_execute("sleep " .. format("%.3f", seconds))
end
_M.sleep = sleep

-- run(cmd) -> output, exit code. Lua 5.1's pipe close() gives no code, so
-- the shell prints it last.
local function run(cmd)
  local p = io_popen("{ " .. cmd .. "\n}; printf '\\n%d' $?")
  if not p then return "", 127 end
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.*)\n(%d+)$")
  return body or out, tonumber(code)
end
_M.run = run

-- The last lines of a text, for error messages.
local function tail(text, lines)
  local all = {}
  for line in (text or ""):gmatch("[^\n]+") do all[#all + 1] = line end
  local from = #all - (lines or 15) + 1
  if from < 1 then from = 1 end
  return concat(all, "\n", from, #all)
end

-- Parses the last header block of a `curl -D` dump.
local function parse_headers(dump)
  local headers = {}
  if not dump then return headers end
  local last = dump
  for block in dump:gmatch("(HTTP/[^\r\n]*\r?\n.-\r?\n)\r?\n") do last = block end
  for name, value in last:gmatch("([%w%-]+):[ \t]*([^\r\n]*)") do
    headers[name:lower()] = value
  end
  return headers
end

-- cjson gives every number as a float on Lua 5.3 and 5.4: whole ones
-- become integers again, so counts print as 2, not 2.0 (5.1 and LuaJIT
-- have one number type and no math.tointeger)
local tointeger = math.tointeger
local function whole_numbers(v)
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = whole_numbers(x) end
  elseif tointeger and type(v) == "number" then
    return tointeger(v) or v
  end
  return v
end

-- One HTTP request with the curl CLI. opts: headers (map), body (string),
-- timeout (seconds). Returns { status, headers, body, json, time,
-- curl_exit } (status 0 when no response arrived).
function _M.curl(method, url, opts)
  opts = opts or {}
  local hfile, bfile, dfile = os_tmpname(), os_tmpname(), nil
  local args = { "curl", "-sS", "-k", "-X", q(method), "-D", q(hfile), "-o", q(bfile),
                 "-w", q("%{http_code} %{time_total}"), "-m", tostring(opts.timeout or 10),
                 "-H", q("Expect:") }
  for name, value in pairs(opts.headers or {}) do
    args[#args + 1] = "-H"
    args[#args + 1] = q(name .. ": " .. value)
  end
  if opts.body ~= nil then
    dfile = os_tmpname()
    write_file(dfile, opts.body)
    args[#args + 1] = "--data-binary"
    args[#args + 1] = q("@" .. dfile)
  end
  args[#args + 1] = q(url)
  local out, code = run(concat(args, " ") .. " 2>/dev/null")
  local status, time = out:match("^(%d+) ([%d%.]+)")
  local res = {
    status = tonumber(status) or 0,
    time = tonumber(time) or 0,
    curl_exit = code or 0,
    headers = parse_headers(read_file(hfile)),
    body = read_file(bfile) or "",
  }
  local ok, decoded = pcall(cjson.decode, res.body)
  if ok then res.json = whole_numbers(decoded) end
  os_remove(hfile)
  os_remove(bfile)
  if dfile then os_remove(dfile) end
  return res
end

local function exists(path)
  local f = io_open(path, "rb")
  if f then f:close() return true end
  return false
end

-- Where this module's Lua code is (the folder holding hwcloud/), or nil.
local function lua_root()
  local src = debug.getinfo(1, "S").source
  return src:match("^@(.*)/hwcloud/emulator/testing%.lua$")
end

-- The launcher: opts.bin, $HWCLOUD_EMULATOR_BIN, the one of this package
-- (emulator/bin next to emulator/lua), the one of the LuaRocks tree this
-- module is installed in (share/lua/5.x -> bin), else hwcloud-emulator on
-- PATH.
local function find_bin(bin)
  if bin then return bin end
  local env = getenv("HWCLOUD_EMULATOR_BIN")
  if env and env ~= "" then return env end
  local root = lua_root()
  if root then
    for _, candidate in ipairs { root .. "/../bin/hwcloud-emulator",
                                 root .. "/../../../bin/hwcloud-emulator" } do
      if exists(candidate) then return candidate end
    end
  end
  local found = run("command -v hwcloud-emulator 2>/dev/null")
  found = found:match("^%s*(.-)%s*$")
  if found ~= "" then return found end
  return nil
end

local function bad(field, rule)
  return nil, "testing.start: " .. field .. " " .. rule
end

local function is_number(v, min)
  return type(v) == "number" and v >= min and v < math.huge
end

-- Checks start's options; returns true or nil, message.
local function check_opts(o)
  if o.port ~= nil and not (is_number(o.port, 0) and o.port <= 65535 and floor(o.port) == o.port) then
    return bad("port", "must be an integer from 0 to 65535 (0: a free one)")
  end
  for _, k in ipairs { "job_seconds", "latency_ms", "start_timeout" } do
    if o[k] ~= nil and not is_number(o[k], 0) then return bad(k, "must be a number >= 0") end
  end
  for _, k in ipairs { "ak", "sk", "bin", "nginx", "work_dir" } do
    if o[k] ~= nil and (type(o[k]) ~= "string" or o[k] == "") then
      return bad(k, "must be a non-empty string")
    end
  end
  if o.inventory ~= nil and type(o.inventory) ~= "string" and type(o.inventory) ~= "table" then
    return bad("inventory", "must be a file name or a table")
  end
  if o.tls ~= nil and (type(o.tls) ~= "table" or type(o.tls.cert) ~= "string"
                       or type(o.tls.key) ~= "string") then
    return bad("tls", "must be { cert = PEM file, key = PEM file }")
  end
  return true
end

local Emulator = {}
Emulator.__index = Emulator
_M.Emulator = Emulator

-- The launcher's command line: its environment and its arguments.
local function command_line(bin, o, port)
  local args = { q(bin), "--port", tostring(port) }
  if o.job_seconds then args[#args + 1] = "--job-seconds " .. q(o.job_seconds) end
  if o.latency_ms then args[#args + 1] = "--latency-ms " .. q(o.latency_ms) end
  if o.ak then args[#args + 1] = "--ak " .. q(o.ak) end
  if o.sk then args[#args + 1] = "--sk " .. q(o.sk) end
  if o.tls then args[#args + 1] = "--tls " .. q(o.tls.cert) .. " " .. q(o.tls.key) end
  if o.inventory_file then args[#args + 1] = "--inventory " .. q(o.inventory_file) end
  if o.obs_dir then args[#args + 1] = "--obs-dir " .. q(o.obs_dir) end
  -- the launcher looks for its Lua code (and the client's service
  -- descriptions) on the Lua path when it is not in a checkout
  local root = lua_root()
  local env = { "LUA_PATH=" .. q((root and (root .. "/?.lua;" .. root .. "/?/init.lua;") or "")
    .. package.path .. ";;") }
  if o.nginx then env[#env + 1] = "HWCLOUD_EMULATOR_NGINX=" .. q(o.nginx) end
  return concat(env, " "), concat(args, " ")
end

-- Waits for the launcher in `dir` to print its URL; returns url, pid or
-- nil, kind, message (kind: "busy", "exited", "timeout").
local function wait_listening(dir, timeout)
  local waited = 0
  while true do
    local url = (read_file(dir .. "/out") or ""):match("listening on (%S+)")
    local pid = (read_file(dir .. "/pid") or ""):match("%d+")
    if url and pid then return url, pid end
    if exists(dir .. "/rc") and (read_file(dir .. "/rc") or ""):match("%d") then
      local err = read_file(dir .. "/err") or ""
      if err:find("Address already in use", 1, true) then return nil, "busy", err end
      return nil, "exited", err
    end
    if waited >= timeout then
      if pid then os_execute("kill -TERM " .. pid .. " 2>/dev/null") end
      return nil, "timeout", read_file(dir .. "/err") or ""
    end
    sleep(0.025)
    waited = waited + 0.025
  end
end

-- Starts the launcher in the background; returns url, pid or nil, kind,
-- message (kind: "busy", "exited", "timeout").
local function launch(bin, o, dir, port)
  local env, args = command_line(bin, o, port)
  -- a subshell runs it, records its pid and, at the end, its exit status
  os_execute(format("( %s %s >%s 2>%s </dev/null & echo $! >%s; wait $!; echo $? >%s ) "
    .. ">/dev/null 2>&1 &", env, args, q(dir .. "/out"),
    q(dir .. "/err"), q(dir .. "/pid"), q(dir .. "/rc")))
  return wait_listening(dir, o.start_timeout or 15)
end

-- The inventory the launcher reads: a table is written to `dir` first.
-- Returns true or nil, message.
local function inventory_file(o, dir)
  if type(o.inventory) == "table" then
    o.inventory_file = dir .. "/inventory.json"
    local wrote, werr = write_file(o.inventory_file, cjson.encode(o.inventory))
    if not wrote then return nil, "testing.start: inventory: " .. tostring(werr) end
  elseif o.inventory then
    o.inventory_file = o.inventory
  end
  return true
end

-- Why a start failed, for start's message. Returns the message and
-- whether another port may be tried (only when the port was taken).
local function start_failure(kind, err, o, port)
  if kind == "busy" then
    return format("port %s is busy (another process listens on it): %s", port, tail(err, 5)), true
  elseif kind == "timeout" then
    return format("testing.start: the emulator did not start within %g s; its stderr:\n%s",
      o.start_timeout or 15, tail(err))
  end
  return "testing.start: the emulator exited at start:\n" .. tail(err)
end

-- A script that raises between start and emu:stop() must not leave its
-- emulator running: a handle no longer referenced is stopped by the
-- collector, at the latest when the interpreter closes (lua and luajit
-- close it after an uncaught error too). Lua 5.2+ finalizes the handle
-- itself (Emulator.__gc); 5.1 and LuaJIT, whose tables have no __gc, a
-- userdata the handle holds.
local newproxy = newproxy -- luacheck: ignore (5.1 and LuaJIT only)
local function guard(emu)
  if newproxy then
    local p = newproxy(true)
    getmetatable(p).__gc = function() Emulator.__gc(emu) end
    emu._guard = p
  end
  return emu
end

-- One start in a fresh folder under `parent`: the handle, or nil, message
-- and whether to try again.
local function start_once(bin, o, parent, port)
  local dir = run("mktemp -d " .. q(parent .. "/hwcloud-emulator.XXXXXX") .. " 2>/dev/null")
  dir = dir:match("^%s*(.-)%s*$")
  if dir == "" then return nil, "testing.start: cannot create a folder under " .. parent end
  local wrote, werr = inventory_file(o, dir)
  if not wrote then return nil, werr end
  local url, pid_or_kind, err = launch(bin, o, dir, port)
  if url then
    return guard(setmetatable({
      url = url, port = tonumber(url:match(":(%d+)$")), pid = pid_or_kind, dir = dir,
      ak = o.ak or _M.DEFAULT_AK, sk = o.sk or _M.DEFAULT_SK,
      project_id = _M.DEFAULT_PROJECT_ID, ca_file = o.tls and o.tls.cert, keep = o.keep,
    }, Emulator))
  end
  if not o.keep then run("rm -rf " .. q(dir)) end
  return nil, start_failure(pid_or_kind, err, o, port)
end

-- start{ port = 0, job_seconds =, latency_ms =, inventory = file or table,
--        tls = { cert =, key = }, ak =, sk =, nginx = binary, bin = launcher,
--        work_dir = folder for its files, start_timeout = 15, keep = false }
-- -> emulator handle, or nil, message
function _M.start(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local okay, why = check_opts(o)
  if not okay then return nil, why end
  local bin = find_bin(o.bin)
  if not bin then
    return nil, "testing.start: hwcloud-emulator not found (install the hwcloud-emulator rock, "
      .. "or set bin or HWCLOUD_EMULATOR_BIN)"
  end
  local parent = o.work_dir or getenv("TMPDIR") or "/tmp"
  run("mkdir -p " .. q(parent))
  local port = o.port or 0
  -- --port 0 picks a port that is free now; another process may take it
  -- before nginx binds it, so that case is tried again
  local attempts = port == 0 and 5 or 1
  local last
  for _ = 1, attempts do
    local emu, msg, again = start_once(bin, o, parent, port)
    if emu then return emu end
    if not again then return nil, msg end
    last = msg
  end
  return nil, "testing.start: " .. last
end

-- The admin API: method, path (under /_emulator/), body (a table, sent as
-- JSON) -> decoded body, status.
function Emulator:admin(method, path, body)
  local res = _M.curl(method, self.url .. path, {
    headers = { ["Content-Type"] = "application/json" },
    body = body ~= nil and cjson.encode(body) or nil,
  })
  return res.json, res.status
end

-- An admin call that must answer 200: its body or nil, message.
local function call(self, method, path, body)
  local json, status = self:admin(method, path, body)
  if status == 200 and json ~= nil then return json end
  local msg = type(json) == "table" and json.error_msg
  if status == 0 then msg = "no answer (is the emulator running?)" end
  return nil, format("%s %s: %s %s", method, path, status, tostring(msg or "unexpected answer"))
end

function Emulator:reset() return call(self, "POST", "/_emulator/reset") end

-- fault{ operation = "<service>.<operation>" or "*", count = 1, status =,
--        body =, headers =, delay_ms =, drop =, truncate =, malformed = }
function Emulator:fault(spec) return call(self, "POST", "/_emulator/faults", spec) end

-- The pending faults, each with what it does (effect) and how many are left.
function Emulator:faults()
  local body, err = call(self, "GET", "/_emulator/faults")
  if not body then return nil, err end
  return body.faults
end

-- respond{ operation =, status =, body =, headers =, count = }: a canned
-- answer for an operation the emulator does not emulate (or does).
function Emulator:respond(spec) return call(self, "POST", "/_emulator/responses", spec) end

-- The canned answers not used up yet.
function Emulator:responses()
  local body, err = call(self, "GET", "/_emulator/responses")
  if not body then return nil, err end
  return body.responses
end

-- fail{ "id", ... } or fail{ ids = { ... } }: jobs and deployments made
-- for these ids end FAILED.
function Emulator:fail(ids)
  if type(ids) == "table" and ids.ids then ids = ids.ids end
  return call(self, "POST", "/_emulator/fail", { ids = ids })
end

-- {"<service>.<operation>" = n} of the requests received; with an
-- operation, that one's count (a number).
function Emulator:counts(operation)
  if operation == nil then return call(self, "GET", "/_emulator/counts") end
  local body, err = call(self, "GET", "/_emulator/counts?operation=" .. operation)
  if not body then return nil, err end
  return body.count
end

-- The requests received, oldest first.
function Emulator:log()
  local body, err = call(self, "GET", "/_emulator/log")
  if not body then return nil, err end
  return body.requests
end

-- Every project's resources, the counts and the inventory.
function Emulator:state() return call(self, "GET", "/_emulator/state") end

-- Replaces the inventory every project starts from (and forgets projects).
function Emulator:inventory(inv) return call(self, "POST", "/_emulator/inventory", inv) end

-- The environment a script needs to use this emulator with the hwcloud
-- client (or its `hwcloud` command).
function Emulator:env()
  local env = {
    HWCLOUD_ENDPOINT = self.url,
    HUAWEICLOUD_SDK_AK = self.ak,
    HUAWEICLOUD_SDK_SK = self.sk,
    HUAWEICLOUD_SDK_PROJECT_ID = self.project_id,
    HUAWEICLOUD_SDK_REGION = "cn-north-4",
  }
  if self.ca_file then env.HWCLOUD_CA_FILE = self.ca_file end
  return env
end

-- Runs a shell command with env() set (plus `extra` variables); returns
-- its output (stdout and stderr) and exit code.
function Emulator:run(cmd, extra)
  local env, names = self:env(), {}
  for k, v in pairs(extra or {}) do env[k] = v end
  for k in pairs(env) do names[#names + 1] = k end
  sort(names)
  local parts = {}
  for _, k in ipairs(names) do parts[#parts + 1] = k .. "=" .. q(env[k]) end
  return run("env " .. concat(parts, " ") .. " sh -c " .. q(cmd) .. " 2>&1")
end

-- What the emulator wrote to stderr so far.
function Emulator:stderr()
  return read_file(self.dir .. "/err") or ""
end

-- Sends SIGTERM and waits until the emulator is gone; returns its exit
-- status (0 after a clean stop) or nil, message.
function Emulator:stop()
  if self.exit_status ~= nil then return self.exit_status end
  os_execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  for _ = 1, 300 do
    local rc = read_file(self.dir .. "/rc")
    if rc and rc:match("%d") then
      self.exit_status = tonumber(rc:match("%d+"))
      if not self.keep then run("rm -rf " .. q(self.dir)) end
      return self.exit_status
    end
    sleep(0.05)
  end
  os_execute("kill -KILL " .. self.pid .. " 2>/dev/null")
  return nil, "the emulator did not stop within 15 s of SIGTERM (killed)"
end

-- the collector's stop (see guard): errors have nowhere to go from here
function Emulator.__gc(self)
  if self.exit_status == nil and self.pid then pcall(Emulator.stop, self) end
end

return _M
