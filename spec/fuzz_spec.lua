-- The fuzzer's driver (tools/fuzz/driver.lua) on a fixed set of inputs,
-- inside the suite: its invariants (every accepted body is JSON that
-- decodes back to the request, clean paths, deterministic signing) on the
-- normal build, and every input kept in tools/fuzz/corpus/ (past crashers
-- and seeds) replayed. `make fuzz` runs the same driver under libFuzzer,
-- ASan and UBSan.
--
-- The driver switches the collector between modes, one of them collecting
-- all the time; it runs in a fresh interpreter, whose heap is its own, so
-- that mode costs what it costs the fuzzer and not a full suite's heap.

local compat = require "spec.helpers.compat"

local CHILD = [[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = CPATH .. "/?.so;" .. package.cpath
local one = dofile("tools/fuzz/driver.lua")
local mode = ...
if mode == "seeded" then
  local rng_state = 20261201
  local function byte()
    rng_state = (rng_state * 1103515245 + 12345) % 2147483648
    return rng_state % 256
  end
  for i = 1, 3000 do
    local t = {}
    for j = 1, 1 + (i % 48) do t[j] = string.char(byte()) end
    local ok, err = pcall(one, table.concat(t))
    if not ok then io.write("input ", i, ": ", tostring(err), "\n") os.exit(1) end
  end
  io.write("ok 3000\n")
else
  local p = io.popen("ls tools/fuzz/corpus 2>/dev/null")
  local n = 0
  for name in p:lines() do
    local f = assert(io.open("tools/fuzz/corpus/" .. name, "rb"))
    local data = f:read("*a")
    f:close()
    local ok, err = pcall(one, data)
    if not ok then io.write(name, ": ", tostring(err), "\n") os.exit(1) end
    n = n + 1
  end
  p:close()
  io.write("ok ", n, "\n")
end
]]

local function child(mode)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("local CPATH = " .. string.format("%q", compat.cpath) .. "\n" .. CHILD)
  f:close()
  local out, code = compat.run(compat.lua .. " " .. script .. " " .. mode .. " 2>&1")
  os.remove(script)
  return out, code
end

describe("the fuzz driver #slow", function()
  it("holds its invariants over 3000 inputs of a fixed seed", function()
    local out, code = child("seeded")
    assert.are.equal(0, code, out)
    assert.truthy(out:find("ok 3000", 1, true), out)
  end)

  it("replays the kept corpus", function()
    local out, code = child("corpus")
    assert.are.equal(0, code, out)
    local n = tonumber(out:match("ok (%d+)"))
    assert.is_true(n ~= nil and n >= 1, out)
  end)
end)
