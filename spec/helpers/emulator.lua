-- Starts bin/hwcloud-emulator for a spec and steers it through its admin API:
-- a thin layer over hwcloud.emulator.testing (the users' helper), with the
-- checkout's launcher and spec/.work, and failing the spec on refusals.
--
--   local emulator = require "spec.helpers.emulator"
--   local emu = emulator.start{ job_seconds = 1, latency_ms = 0, tls = { cert = c, key = k } }
--   emu.url, emu.port, emu.ak, emu.sk
--   emu:reset()  emu:fault{ operation = "workspaceapp.show_job_detail", status = 503 }
--   emu:fail{ "server-1" }  emu:counts()  emu:stop()  --> exit status of the emulator
--   emu:identity{ key_seconds = 600 }  emu:identity_log()
--
-- Everything goes through the curl command line, so these helpers do not
-- depend on the client under test. emu:faults(), emu:respond{},
-- emu:log(), emu:state(), emu:env() and emu:run(cmd) come from
-- hwcloud.emulator.testing.

local util = require "spec.helpers.util"
local testing = require "hwcloud.emulator.testing"

local tostring, pairs, setmetatable = tostring, pairs, setmetatable

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
_M.DEFAULT_AK = testing.DEFAULT_AK
_M.DEFAULT_SK = testing.DEFAULT_SK
_M.quote = testing.quote
_M.read_file = testing.read_file
_M.sleep = testing.sleep
-- curl(method, url, opts) -> { status, headers, body, json, time, curl_exit }
_M.curl = testing.curl

function _M.write_file(path, data)
  assert(testing.write_file(path, data))
end

-- The handle of hwcloud.emulator.testing, with a spec's habits: a fault or
-- failure that is not accepted fails the spec.
local Emulator = setmetatable({}, { __index = testing.Emulator })
Emulator.__index = Emulator

-- emu:run(cmd, extra): the users' helper, with LUA_INIT set so a child
-- Lua process loads hwcloud from this checkout only
function Emulator:run(cmd, extra)
  local vars = { LUA_INIT = require("spec.helpers.compat").lua_init }
  for k, v in pairs(extra or {}) do vars[k] = v end
  return testing.Emulator.run(self, cmd, vars)
end

function Emulator:fault(spec)
  local body, err = testing.Emulator.fault(self, spec)
  return assert(body, "fault not accepted: " .. tostring(err))
end

function Emulator:fail(ids)
  local body, err = testing.Emulator.fail(self, ids)
  return assert(body, "fail ids not accepted: " .. tostring(err))
end

function Emulator:counts()
  return (self:admin("GET", "/_emulator/counts"))
end

-- identity{ key_seconds =, token_seconds =, metadata_tokens =, agency =,
--           users = { name = password }, expire_issued = true }
function Emulator:identity(settings)
  local body, status = self:admin("POST", "/_emulator/identity", settings)
  assert(status == 200, "identity settings not accepted: " .. require("cjson").encode(body or {}))
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

-- Sends SIGTERM and waits until the emulator is gone. Returns its exit status.
function Emulator:stop()
  return assert(testing.Emulator.stop(self))
end

-- Starts an emulator on a free port (--port 0, tried again when taken).
-- opts: job_seconds, latency_ms, ak, sk, tls = { cert =, key = }, inventory.
function _M.start(opts)
  local o = { bin = _M.bin, work_dir = _M.work, port = 0,
              -- its output and exit status, kept for debugging only on request
              keep = os.getenv("HWCLOUD_KEEP_WORK") ~= nil }
  for k, v in pairs(opts or {}) do o[k] = v end
  local emu, err = testing.start(o)
  if not emu then error("could not start the emulator: " .. tostring(err)) end
  return setmetatable(emu, Emulator)
end

-- An IAM password token for the project, from the emulator (it takes any
-- user and password).
function Emulator:token(project_id)
  local cjson = require "cjson"
  return _M.curl("POST", self.url .. "/v3/auth/tokens", {
    headers = { ["Content-Type"] = "application/json" },
    body = cjson.encode({ auth = {
      identity = { methods = { "password" }, password = { user = {
        name = "deployer", password = "anything", domain = { name = "acme" } } } },
      scope = { project = { id = project_id } } } }) }).headers["x-subject-token"]
end

-- A request past the client's own checks (to see what the emulator itself
-- refuses), with a password token for the project: the curl answer.
function Emulator:raw(project_id, method, path, body)
  return _M.curl(method, self.url .. path, { headers = {
    ["X-Auth-Token"] = self:token(project_id), ["Content-Type"] = "application/json",
    ["X-Project-Id"] = project_id,
  }, body = require("cjson").encode(body) })
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
--
-- s.start() also keeps the inventory the emulator started with:
-- s.inventory() is a copy of it to change, and s.restore() resets the
-- emulator and puts it back, so each test starts from the same resources:
--   before_each(session.restore)
function _M.session(opts, project_id, client_opts)
  local s, initial = {}, nil
  function s.start()
    s.emu = _M.start(opts)
    initial = s.emu:admin("GET", "/_emulator/inventory")
    if client_opts ~= false then s.client = s.emu:client(project_id, client_opts) end
    return s.emu, s.client
  end
  function s.inventory() return util.copy(initial) end
  function s.restore()
    s.emu:reset()
    assert(s.emu:inventory(initial))
  end
  function s.stop()
    if s.client then s.client:close() end
    if s.emu then s.emu:stop() end
  end
  return s
end

return _M
