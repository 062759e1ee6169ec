-- The C core under valgrind: signing, marshaling, validation and the
-- transport (against the emulator, with its faults) leak nothing and make
-- no invalid memory access.

local emulator = require "spec.helpers.emulator"

local function valgrind_present()
  local p = io.popen("command -v valgrind")
  local out = p:read("*a")
  p:close()
  return out ~= ""
end

-- runs cmd under valgrind with `tool_args`; returns what it printed, whether
-- it exited 0, and valgrind's report
local function under_valgrind(tool_args, cmd)
  local log = os.tmpname()
  local p = io.popen(table.concat({ "valgrind", tool_args, "--error-exitcode=99",
                                    "--log-file=" .. log, cmd, "2>&1" }, " "))
  local out = p:read("*a")
  local ok, _, code = p:close()
  local f = io.open(log)
  local report = f and f:read("*a") or ""
  if f then f:close() end
  os.remove(log)
  return out, ok, report .. "\nexit " .. tostring(code)
end

describe("the body's hash thread under valgrind", function()
  local driver = "lua5.4 spec/helpers/hash_pipe_driver.lua"

  it("leaks nothing and reads only what was written #slow", function()
    assert.is_true(valgrind_present(), "valgrind is required (make deps installs it)")
    local out, ok, report = under_valgrind("--leak-check=full --errors-for-leak-kinds=definite,indirect "
      .. "--show-leak-kinds=definite,indirect", driver)
    assert.is_truthy(out:find("hash pipe driver: done", 1, true), out .. report)
    assert.is_true(ok, report)
    assert.is_truthy(report:find("ERROR SUMMARY: 0 errors", 1, true), report)
  end)

  it("shares nothing with the writer unguarded (helgrind) #slow", function()
    assert.is_true(valgrind_present(), "valgrind is required (make deps installs it)")
    -- the suppressions: libp11-kit's own exit handlers, loaded through
    -- libcurl, destroy mutexes helgrind never saw made
    local out, ok, report = under_valgrind("--tool=helgrind "
      .. "--suppressions=spec/helpers/helgrind.supp", driver)
    assert.is_truthy(out:find("hash pipe driver: done", 1, true), out .. report)
    assert.is_true(ok, report)
    assert.is_truthy(report:find("ERROR SUMMARY: 0 errors", 1, true), report)
  end)
end)

describe("the C core under valgrind #server", function()
  local emu
  setup(function() emu = emulator.start { job_seconds = 1, inventory = require "spec.fixtures.inventory" } end)
  teardown(function() if emu then emu:stop() end end)

  it("has no memory errors and no leaks on any path", function()
    assert.is_true(valgrind_present(), "valgrind is required (make deps installs it)")
    local log = os.tmpname()
    local cmd = table.concat({
      "valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect",
      "--show-leak-kinds=definite,indirect --error-exitcode=99 --log-file=" .. log,
      "lua5.4 spec/helpers/memcheck_driver.lua", emu.url, emu.ak, emu.sk, "2>&1",
    }, " ")
    local p = io.popen(cmd)
    local out = p:read("*a")
    local ok, _, code = p:close()
    local f = io.open(log)
    local report = f and f:read("*a") or ""
    if f then f:close() end
    os.remove(log)
    assert.is_truthy(out:find("memcheck driver: done", 1, true), out .. report)
    assert.is_true(ok, "valgrind exit " .. tostring(code) .. "\n" .. report)
    assert.is_truthy(report:find("ERROR SUMMARY: 0 errors", 1, true), report)
    assert.is_falsy(report:find("definitely lost: [1-9]"), report)
    assert.is_falsy(report:find("indirectly lost: [1-9]"), report)
  end)
end)
