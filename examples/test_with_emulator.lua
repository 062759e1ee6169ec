-- Testing a deployment script against the emulator, as a test of your own
-- would (plain Lua; from busted it reads the same): start the emulator,
-- make one server's reinstall fail and the API busy once, run the script
-- with the emulator's environment, check what it did, stop the emulator.
--
--   lua5.4 examples/test_with_emulator.lua [SCRIPT]   (default: examples/deploy_workflow.lua)
--
-- It needs hwcloud.emulator.testing and the hwcloud client on the Lua path
-- (from a checkout: LUA_PATH='lua/?.lua;lua/?/init.lua;emulator/lua/?.lua;
-- emulator/lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;').

local testing = require "hwcloud.emulator.testing"

local script = arg[1] or "examples/deploy_workflow.lua"

local emu = assert(testing.start { port = 0, job_seconds = 1 })
assert(emu:fail { "srv-api-02" })
assert(emu:fault { operation = "workspaceapp.list_servers", status = 503,
                   headers = { ["Retry-After"] = "0" } })

-- the script sees HWCLOUD_ENDPOINT, the key pair and a project id
local out, code = emu:run("lua5.4 " .. testing.quote(script))
-- what the script asked for, oldest first: {method, path, operation, status}
local log = assert(emu:log())
local pending = assert(emu:faults())
emu:stop()

local function check(ok, what)
  if not ok then
    io.stderr:write("FAILED: ", what, "\n", out, "\n")
    os.exit(1)
  end
  print("ok: " .. what)
end
check(code == 0, "the script exits 0")
check(out:find("! reinstall failed: srv-api-02", 1, true) ~= nil, "it names the server that failed")
local statuses = {}
for _, r in ipairs(log) do
  if r.operation == "workspaceapp.list_servers" then statuses[#statuses + 1] = r.status end
end
check(statuses[1] == 503 and statuses[2] == 200, "it retried list_servers after the 503 ("
  .. table.concat(statuses, ", ") .. ")")
check(#pending == 0, "the fault was used")
