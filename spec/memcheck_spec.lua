-- The C core under valgrind: signing, marshaling, validation, the
-- transport (against the emulator, with its faults) and its file streams
-- (object storage up and down, a multipart form) leak nothing and make no
-- invalid memory access.

local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"

local function valgrind_present()
  local p = io.popen("command -v valgrind")
  local out = p:read("*a")
  p:close()
  return out ~= ""
end

local LEAKS = "--leak-check=full --errors-for-leak-kinds=definite,indirect "
  .. "--show-leak-kinds=definite,indirect"

-- runs cmd under valgrind with `tool_args` and asserts that it printed
-- `done` and valgrind found nothing (leaks of the kinds asked for count)
local function clean_under_valgrind(tool_args, cmd, done)
  assert.is_true(valgrind_present(), "valgrind is required (make dev-deps installs it)")
  local log = os.tmpname()
  local p = io.popen(table.concat({ "valgrind", tool_args, "--error-exitcode=99",
                                    "--log-file=" .. log, cmd, "2>&1" }, " "))
  local out = p:read("*a")
  local ok, _, code = p:close()
  local f = io.open(log)
  local report = f and f:read("*a") or ""
  if f then f:close() end
  os.remove(log)
  assert.is_truthy(out:find(done, 1, true), out .. report)
  assert.is_true(ok, "valgrind exit " .. tostring(code) .. "\n" .. report)
  assert.is_truthy(report:find("ERROR SUMMARY: 0 errors", 1, true), report)
end

describe("the C core under valgrind #server", function()
  local emu, dir
  setup(function()
    emu = emulator.start { job_seconds = 1, inventory = require "spec.fixtures.inventory" }
    dir = util.tmpdir("memcheck") -- the driver's files
  end)
  teardown(function()
    if emu then emu:stop() end
    util.rmdir(dir)
  end)

  it("has no memory errors and no leaks on any path", function()
    clean_under_valgrind(LEAKS, table.concat({ "lua5.4 spec/helpers/memcheck_driver.lua",
                                               emu.url, emu.ak, emu.sk, util.quote(dir) }, " "),
                         "memcheck driver: done")
  end)
end)
