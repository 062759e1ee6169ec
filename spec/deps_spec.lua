-- `make deps` installs what a user needs (the library, the emulator, make
-- install), `make dev-deps` what a developer needs on top; make demo and
-- make install ask only for the first, make test and CI for the second.

package.path = "./?.lua;" .. package.path

local util = require "spec.helpers.util"

local q = util.quote

local function set(which)
  local out, code = util.capture("sh " .. q(util.root .. "/tools/deps.sh") .. " list " .. which)
  assert.equal(0, code, out)
  local s = {}
  for p in out:gmatch("%S+") do s[p] = true end
  return s
end

-- the dependency commands a make target runs (make -n: nothing is run)
local function deps_lines(target)
  local out, code = util.capture("cd " .. q(util.root) .. " && make -n " .. target .. " 2>&1")
  assert.equal(0, code, out)
  local lines = {}
  for l in out:gmatch("[^\n]+") do
    if l:find("tools/deps.sh", 1, true) then lines[#lines + 1] = l end
  end
  return lines
end

describe("make deps and make dev-deps", function()
  local DEV_ONLY = { "clang", "libclang-rt-dev", "valgrind", "wrk", "nodejs", "npm", "lua-busted",
                     "lua-check", "cppcheck", "luajit2", "lua5.1", "lua5.3" }

  it("the users' set has the library's and the emulator's packages, and no developer tool", function()
    local user = set("user")
    for _, p in ipairs { "build-essential", "pkg-config", "lua5.4", "liblua5.4-dev",
                         "libcurl4-openssl-dev", "libssl-dev", "lua-cjson", "nginx",
                         "libnginx-mod-http-lua", "curl", "luarocks" } do
      assert.is_true(user[p], p)
    end
    for _, p in ipairs(DEV_ONLY) do assert.is_nil(user[p], p) end
  end)

  it("the developers' set is the users' and the tools", function()
    local user, dev = set("user"), set("dev")
    for p in pairs(user) do assert.is_true(dev[p], p) end
    for _, p in ipairs(DEV_ONLY) do assert.is_true(dev[p], p) end
  end)

  it("make demo and make install install the users' set; make test and CI the developers'", function()
    for _, target in ipairs { "demo", "install", "deps" } do
      local lines = deps_lines(target)
      assert.equal(1, #lines, target .. ": " .. table.concat(lines, " | "))
      assert.is_nil(lines[1]:find("deps.sh dev", 1, true), target .. ": " .. lines[1])
    end
    for _, target in ipairs { "test", "dev-deps", "matrix", "bench" } do
      local lines = deps_lines(target)
      assert.equal(1, #lines, target)
      assert.truthy(lines[1]:find("tools/deps.sh dev", 1, true), target .. ": " .. lines[1])
    end
    local ci = util.read_file(util.root .. "/.ci/run")
    assert.truthy(ci:find("sh tools/deps.sh dev\n", 1, true))
    assert.is_nil(ci:find("sh tools/deps.sh\n", 1, true))
  end)
end)
