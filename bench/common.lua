-- Shared by the bench/*.lua scripts: the one request every benchmark sends
-- (Workspace reinstall_server), a client for the emulator, a clock and a
-- key=value printer that tools/bench.sh reads.

local core = require "hwcloud.core"

local _M = {}

_M.PROJECT_ID = "0123456789abcdef0123456789abcdef"
_M.SERVER_ID = "srv-bench-0001"
_M.AK = os.getenv("BENCH_AK") or "HWCLOUDEMULATORAK001"
_M.SK = os.getenv("BENCH_SK") or "hwcloud-emulator-secret"
_M.BODY = '{"update_access_agent":false}'
_M.now = core.now

function _M.path(server_id)
  return "/v1/" .. _M.PROJECT_ID .. "/app-servers/" .. (server_id or _M.SERVER_ID)
    .. "/actions/reinstall"
end

function _M.request(server_id)
  return { server_id = server_id or _M.SERVER_ID, update_access_agent = false }
end

-- A client for the emulator at `endpoint` (http://127.0.0.1:PORT).
-- Over https (the emulator's self-signed certificate) verify_tls is off.
function _M.client(endpoint)
  return assert(require("hwcloud").client {
    region = "cn-north-4", project_id = _M.PROJECT_ID, ak = _M.AK, sk = _M.SK,
    endpoint = endpoint, progress = false,
    verify_tls = endpoint:find("^https://") == nil,
  })
end

-- Runs fn(n) in batches until `seconds` have passed; returns calls, elapsed.
function _M.timed(seconds, batch, fn)
  local calls, t0 = 0, _M.now()
  local elapsed
  repeat
    fn(batch)
    calls = calls + batch
    elapsed = _M.now() - t0
  until elapsed >= seconds
  return calls, elapsed
end

function _M.emit(key, value)
  if math.type(value) == "float" then
    io.write(key, "=", string.format("%.6g", value), "\n")
  else
    io.write(key, "=", tostring(value), "\n")
  end
  io.flush()
end

function _M.arg(i, default)
  local v = arg[i]
  if v == nil or v == "" then return default end
  return tonumber(v) or v
end

return _M
