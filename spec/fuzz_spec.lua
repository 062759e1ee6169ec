-- The fuzzer's driver (tools/fuzz/driver.lua) on a fixed set of inputs,
-- inside the suite: its invariants (every accepted body is JSON that
-- decodes back to the request, clean paths, deterministic signing) on the
-- normal build, and every input kept in tools/fuzz/corpus/ (past crashers
-- and seeds) replayed. `make fuzz` runs the same driver under libFuzzer,
-- ASan and UBSan.

local one = dofile("tools/fuzz/driver.lua")

local function corpus()
  local list = {}
  local p = io.popen("ls tools/fuzz/corpus 2>/dev/null")
  for name in p:lines() do list[#list + 1] = "tools/fuzz/corpus/" .. name end
  p:close()
  return list
end

describe("the fuzz driver", function()
  it("holds its invariants over 3000 inputs of a fixed seed", function()
    local rng_state = 20261201
    local function byte()
      rng_state = (rng_state * 1103515245 + 12345) % 2147483648
      return rng_state % 256
    end
    for i = 1, 3000 do
      local t = {}
      for j = 1, 1 + (i % 48) do t[j] = string.char(byte()) end
      local ok, err = pcall(one, table.concat(t))
      assert(ok, "input " .. i .. ": " .. tostring(err))
    end
    collectgarbage("incremental", 200, 100)
    collectgarbage("restart")
  end)

  it("replays the kept corpus", function()
    local files = corpus()
    assert.is_true(#files >= 1)
    for _, path in ipairs(files) do
      local f = assert(io.open(path, "rb"))
      local data = f:read("a")
      f:close()
      local ok, err = pcall(one, data)
      assert(ok, path .. ": " .. tostring(err))
    end
    collectgarbage("restart")
  end)
end)
