-- The specs load hwcloud from this checkout only: spec/helpers/checkout.lua
-- (busted's helper, and LUA_INIT of the child processes specs start) makes
-- a module that would load from elsewhere an error, so an installed rock
-- can never stand in for the code under test.

local emulator = require "spec.helpers.emulator"
local compat = require "spec.helpers.compat"
local checkout = require "spec.helpers.checkout"

local q, root = emulator.quote, emulator.root

describe("loading from the checkout", function()
  local work = emulator.work .. "/checkout"
  local elsewhere = "/tmp/hwcloud-checkout-spec-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e6))

  setup(function()
    os.execute("mkdir -p " .. q(work) .. " " .. q(elsewhere .. "/hwcloud"))
    emulator.write_file(elsewhere .. "/hwcloud/init.lua", "return { installed = true }\n")
  end)
  teardown(function() os.execute("rm -rf " .. q(work) .. " " .. q(elsewhere)) end)

  local function child(lua_path)
    return compat.run(table.concat({
      "cd " .. q(root) .. " &&",
      "LUA_PATH=" .. q(lua_path), "LUA_CPATH=" .. q(root .. "/build/5.4/?.so;;"),
      "LUA_INIT=" .. q("@" .. root .. "/spec/helpers/checkout.lua"),
      "lua5.4 -e " .. q("io.write(tostring(require('hwcloud').installed))"), "2>&1",
    }, " "))
  end

  it("this busted run has the guard", function()
    assert.equal(checkout.absolute(root), checkout.root)
    assert.is_true(checkout.inside(root .. "/bin/../lua/hwcloud/cli.lua"))
    assert.is_true(checkout.inside(root .. "/lua/hwcloud/init.lua"))
    assert.is_false(checkout.inside("/usr/local/share/lua/5.4/hwcloud/init.lua"))
    assert.is_false(checkout.inside(checkout.root .. "-old/lua/hwcloud/init.lua"))
  end)

  it("a copy of hwcloud earlier on the path is refused, by name and path", function()
    local out, code = child(elsewhere .. "/?.lua;" .. elsewhere .. "/?/init.lua;"
      .. root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;;")
    assert.are_not.equal(0, code, out)
    assert.truthy(out:find("module 'hwcloud' resolves outside the checkout", 1, true), out)
    assert.truthy(out:find(elsewhere .. "/hwcloud/init.lua", 1, true), out)
  end)

  it("the checkout's own copy loads", function()
    local out, code = child(root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;"
      .. elsewhere .. "/?.lua;" .. elsewhere .. "/?/init.lua;;")
    assert.equal(0, code, out)
    assert.equal("nil", out)
  end)
end)
