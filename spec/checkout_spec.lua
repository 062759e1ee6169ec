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
    assert.is_true(checkout.inside(root .. "/bin/../lua/hwcloud/cli/init.lua"))
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

describe("child processes of the specs", function()
  local util = require "spec.helpers.util"

  it("get LUA_INIT=@<checkout>/spec/helpers/checkout.lua from every helper that starts them", function()
    local want = "@" .. checkout.root .. "/spec/helpers/checkout.lua"
    assert.equal(want, compat.lua_init)
    -- compat.run (util.capture, util.run), and a child under env -i
    assert.equal(want, (util.capture("echo \"$LUA_INIT\"")))
    assert.equal(want, (util.capture(util.clean_env("/nonexistent") .. " sh -c 'echo \"$LUA_INIT\"'")))
    -- and the guard is what it runs: a copy elsewhere is refused
    local out, code = compat.run("cd /tmp && " .. util.clean_env("/nonexistent")
      .. " LUA_PATH=" .. q(root .. "/spec/fixtures/?.lua;;") .. " lua5.4 -e "
      .. q("io.write(tostring(package.searchers[1] ~= nil))"))
    assert.equal(0, code, out)
  end)
end)

-- The README's two commands, `make demo` and `make test`, with an older
-- hwcloud installed first on the Lua path: what runs is still this
-- checkout's code (the guard in LUA_INIT turns a module loaded from the old
-- tree into an error, and the old tree's modules raise if loaded anyway).
describe("make demo and make test with an older hwcloud first on the path #server #slow", function()
  local util = require "spec.helpers.util"
  local old -- a scratch tree outside the checkout, as /usr/local would be

  setup(function()
    old = util.capture("mktemp -d /tmp/hwcloud-old-rock.XXXXXX")
    local share, lib = old .. "/share/lua/5.4", old .. "/lib/lua/5.4"
    -- every module of this checkout, as an old version that refuses to run
    local _, files = util.run("cd " .. q(root) .. "/lua && find hwcloud -name '*.lua'")
    for file in files:gmatch("[^\n]+") do
      util.write_file(share .. "/" .. file, "error('the old hwcloud rock was loaded: "
        .. file .. "')\n", true)
    end
    util.write_file(share .. "/hwcloud/emulator/init.lua", "error('the old emulator was loaded')\n", true)
    util.write_file(lib .. "/hwcloud/core.so", "not a shared object: the old rock's core\n", true)
  end)
  teardown(function() if old then util.rmdir(old) end end)

  -- a shell command line with the old tree first on LUA_PATH / LUA_CPATH
  local function with_old(cmd)
    local share, lib = old .. "/share/lua/5.4", old .. "/lib/lua/5.4"
    return compat.run("cd " .. q(root) .. " && LUA_PATH=" .. q(share .. "/?.lua;" .. share
      .. "/?/init.lua;;") .. " LUA_CPATH=" .. q(lib .. "/?.so;;") .. " && export LUA_PATH LUA_CPATH && "
      .. cmd .. " 2>&1")
  end

  it("the old tree is what Lua finds first there", function()
    local out = with_old("env -u LUA_INIT lua5.4 -e 'require \"hwcloud\"'")
    assert.truthy(out:find("the old hwcloud rock was loaded", 1, true), out)
  end)

  it("bin/hwcloud and bin/hwcloud-emulator run the checkout's code", function()
    local out, code = with_old("bin/hwcloud ops")
    assert.equal(0, code, out)
    assert.truthy(out:find("workspaceapp", 1, true), out)
    out, code = with_old("timeout 120 bin/hwcloud-emulator --port 0 --env > " .. q(old .. "/emu.env")
      .. " & pid=$!; i=0; until grep -q REGION " .. q(old .. "/emu.env") .. " || [ $i -ge 600 ]; do"
      .. " sleep 0.1; i=$((i + 1)); done; . " .. q(old .. "/emu.env") .. " && bin/hwcloud call workspaceapp"
      .. " list_servers limit=1; rc=$?; kill $pid; wait $pid; (exit $rc)")
    assert.equal(0, code, out)
    assert.truthy(out:find('"items"', 1, true), out)
  end)

  it("make demo runs the checkout's workflow to its summary", function()
    local out, code = with_old("make demo")
    assert.equal(0, code, out)
    assert.truthy(out:find("! reinstall failed: srv-api-02", 1, true), out)
    assert.is_nil(out:find("old hwcloud", 1, true), out)
  end)

  it("make test's runner (tools/test.sh) runs the specs on the checkout's code", function()
    local out, code = with_old("sh tools/test.sh spec/errors_spec.lua")
    assert.equal(0, code, out)
    assert.truthy(out:find(" passed, 0 failed\n?$"), out)
  end)
end)

