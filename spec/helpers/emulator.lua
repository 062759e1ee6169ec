-- Starts bin/hwcloud-emulator for a spec and steers it through its admin API.
--
--   local emulator = require "spec.helpers.emulator"
--   local emu = emulator.start{ job_seconds = 1, latency_ms = 0, tls = { cert = c, key = k } }
--   emu.url, emu.port, emu.ak, emu.sk
--   emu:reset()  emu:fault{ operation = "workspaceapp.show_job_detail", status = 503 }
--   emu:fail{ "server-1" }  emu:counts()  emu:stop()  --> exit status of the emulator
--   emu:identity{ key_seconds = 600 }  emu:identity_log()
--
-- Everything goes through the curl command line, so these helpers do not
-- depend on the client under test.

local cjson = require "cjson"

local format, concat = string.format, table.concat
local tostring, tonumber, pairs = tostring, tonumber, pairs
local io_open, os_execute, os_remove, os_tmpname =
  io.open, os.execute, os.remove, os.tmpname

local _M = {}

local function script_root()
  local src = debug.getinfo(1, "S").source
  local dir = src:match("^@(.*)/spec/helpers/[^/]*$")
  if dir == nil or dir == "" then return "." end
  return dir
end

_M.root = script_root()
_M.bin = _M.root .. "/bin/hwcloud-emulator"
_M.work = _M.root .. "/spec/.work"
_M.DEFAULT_AK = "HWCLOUDEMULATORAK001"
_M.DEFAULT_SK = "hwcloud-emulator-secret"

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
_M.quote = q

local function read_file(path)
  local f = io_open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
_M.read_file = read_file

local function write_file(path, data)
  local f = assert(io_open(path, "wb"))
  f:write(data)
  f:close()
end
_M.write_file = write_file

local function sleep(seconds)
  os_execute("sleep " .. format("%.3f", seconds))
end
_M.sleep = sleep

local function exists(path)
  local f = io_open(path, "rb")
  if f then f:close() return true end
  return false
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

-- One HTTP request with the curl CLI. opts: headers (map), body (string),
-- timeout (seconds). Returns a table { status, headers, body, json, time,
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
  local out, code = require("spec.helpers.compat").run(concat(args, " ") .. " 2>/dev/null")
  local status, time = out:match("^(%d+) ([%d%.]+)")
  local res = {
    status = tonumber(status) or 0,
    time = tonumber(time) or 0,
    curl_exit = code or 0,
    headers = parse_headers(read_file(hfile)),
    body = read_file(bfile) or "",
  }
  local ok, decoded = pcall(cjson.decode, res.body)
  if ok then res.json = decoded end
  os_remove(hfile)
  os_remove(bfile)
  if dfile then os_remove(dfile) end
  return res
end

local Emulator = {}
Emulator.__index = Emulator

-- Calls the admin API; returns the decoded body and the status.
function Emulator:admin(method, path, body)
  local res = _M.curl(method, self.url .. path, {
    headers = { ["Content-Type"] = "application/json" },
    body = body ~= nil and cjson.encode(body) or nil,
  })
  return res.json, res.status
end

function Emulator:reset()
  return self:admin("POST", "/_emulator/reset")
end

-- fault{ operation =, count =, status =, body =, headers =, delay_ms =,
--        drop =, truncate =, malformed = }
function Emulator:fault(spec)
  local body, status = self:admin("POST", "/_emulator/faults", spec)
  assert(status == 200, "fault not accepted: " .. cjson.encode(body or {}))
  return body
end

function Emulator:fail(ids)
  local body, status = self:admin("POST", "/_emulator/fail", { ids = ids })
  assert(status == 200, "fail ids not accepted")
  return body
end

function Emulator:counts()
  return (self:admin("GET", "/_emulator/counts"))
end

-- identity{ key_seconds =, token_seconds =, metadata_tokens =, agency =,
--           users = { name = password }, expire_issued = true }
function Emulator:identity(settings)
  local body, status = self:admin("POST", "/_emulator/identity", settings)
  assert(status == 200, "identity settings not accepted: " .. cjson.encode(body or {}))
  return body
end

-- The identity headers the emulator received: a list of {operation,
-- project_id, domain_id, access_key, security_token, auth_token}.
function Emulator:identity_log()
  return (self:admin("GET", "/_emulator/identity")).log
end

function Emulator:health()
  return (self:admin("GET", "/_emulator/health"))
end

function Emulator:stderr()
  return read_file(self.dir .. "/err") or ""
end

-- Sends SIGTERM and waits until the emulator is gone. Returns its exit status.
function Emulator:stop()
  if self.exit_status ~= nil then return self.exit_status end
  os_execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  for _ = 1, 300 do
    local rc = read_file(self.dir .. "/rc")
    if rc and rc:match("%d") then
      self.exit_status = tonumber(rc:match("%d+"))
      -- its output and exit status, kept for debugging only on request
      if not os.getenv("HWCLOUD_KEEP_WORK") then os_execute("rm -rf " .. q(self.dir)) end
      return self.exit_status
    end
    sleep(0.05)
  end
  os_execute("kill -KILL " .. self.pid .. " 2>/dev/null")
  error("the emulator did not stop within 15 s of SIGTERM")
end

local function launch(port, opts, dir)
  os_execute("rm -rf " .. q(dir) .. " && mkdir -p " .. q(dir))
  local args = { q(_M.bin), "--port", tostring(port) }
  if opts.job_seconds then args[#args + 1] = "--job-seconds " .. q(opts.job_seconds) end
  if opts.latency_ms then args[#args + 1] = "--latency-ms " .. q(opts.latency_ms) end
  if opts.ak then args[#args + 1] = "--ak " .. q(opts.ak) end
  if opts.sk then args[#args + 1] = "--sk " .. q(opts.sk) end
  if opts.tls then args[#args + 1] = "--tls " .. q(opts.tls.cert) .. " " .. q(opts.tls.key) end
  -- A subshell runs the emulator, records its pid and, at the end, its exit status.
  local cmd = format("( %s >%s 2>%s </dev/null & echo $! >%s; wait $!; echo $? >%s ) "
    .. ">/dev/null 2>&1 &", concat(args, " "), q(dir .. "/out"), q(dir .. "/err"),
    q(dir .. "/pid"), q(dir .. "/rc"))
  os_execute(cmd)
  for _ = 1, 400 do
    local out = read_file(dir .. "/out") or ""
    local url = out:match("listening on (%S+)")
    if url then
      local pid
      for _ = 1, 100 do
        pid = (read_file(dir .. "/pid") or ""):match("%d+")
        if pid then break end
        sleep(0.02)
      end
      return url, pid
    end
    if exists(dir .. "/rc") then
      return nil, read_file(dir .. "/err")
    end
    sleep(0.025)
  end
  return nil, "no 'listening on' line within 10 s"
end

-- Starts an emulator on a free random high port (retrying on failure).
-- opts: job_seconds, latency_ms, ak, sk, tls = { cert =, key = }.
function _M.start(opts)
  opts = opts or {}
  local last_err
  for _ = 1, 8 do
    local port = math.random(20000, 60999)
    local dir = _M.work .. "/emulator-" .. port
    local url, pid_or_err = launch(port, opts, dir)
    if url then
      return setmetatable({
        url = url, port = port, pid = pid_or_err, dir = dir,
        ak = opts.ak or _M.DEFAULT_AK, sk = opts.sk or _M.DEFAULT_SK,
      }, Emulator)
    end
    last_err = pid_or_err
  end
  error("could not start the emulator: " .. tostring(last_err))
end

-- A client for an emulator: its endpoint and key pair, the given project,
-- no progress output; `extra` adds or overrides options.
function Emulator:client(project_id, extra)
  local opts = { endpoint = self.url, ak = self.ak, sk = self.sk, project_id = project_id,
                 progress = false }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return assert(require("hwcloud").client(opts))
end

-- A spec file's emulator and, when client_opts is not false, a client for it.
-- busted's hooks are not visible from here, so the spec wires them:
--   local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01 })
--   setup(function() emu, client = session.start() end)
--   teardown(function() session.stop() end)
--   before_each(function() emu:reset() end)
function _M.session(opts, project_id, client_opts)
  local s = {}
  function s.start()
    s.emu = _M.start(opts)
    if client_opts ~= false then s.client = s.emu:client(project_id, client_opts) end
    return s.emu, s.client
  end
  function s.stop()
    if s.client then s.client:close() end
    if s.emu then s.emu:stop() end
  end
  return s
end

return _M
