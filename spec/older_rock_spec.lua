-- The README's two commands (make demo, make test) on a machine where an
-- older hwcloud rock is installed and the user's environment finds it
-- first: `eval "$(luarocks path)"` in a shell profile puts its tree ahead
-- of everything on LUA_PATH, LUA_CPATH and PATH, and some users set the
-- versioned LUA_PATH_5_4 / LUA_CPATH_5_4 / LUA_INIT_5_4, which Lua 5.4
-- reads instead of the plain ones.
-- The older rock is a real one, installed by luarocks into a scratch tree
-- (never the system's): hwcloud 0.0.1, whose modules leave a mark when
-- they load and whose core is not a loadable library. What runs must be
-- the checkout's code: tools/demo.sh and tools/test.sh (what make demo and
-- make test run once the packages are there and the core is built) are
-- run under that environment, and the older rock must not have loaded.

local util = require "spec.helpers.util"
local q = util.quote

local OLD_VERSION = "0.0.1"

-- a module of the older rock: it writes its name to the mark file
local function old_module(name, mark)
  return ([[
local f = io.open(%q, "a")
if f then f:write(%q, "\n") f:close() end
return { _VERSION = "hwcloud %s", version = %q,
  client = function() return nil, "hwcloud %s: an older rock" end }
]]):format(mark, name, OLD_VERSION, OLD_VERSION, OLD_VERSION)
end

describe("make demo and make test with an older hwcloud rock first on the user's paths #server #slow", function()
  local root = util.abs(util.root)
  local work, tree, mark, path_lines

  setup(function()
    work = util.tmpdir("older-rock")
    tree, mark = work .. "/tree", work .. "/loaded"
    local src = work .. "/old"
    assert(util.sh("mkdir -p " .. q(src .. "/bin") .. " " .. q(work .. "/home")))
    local modules = {}
    for _, name in ipairs { "hwcloud", "hwcloud.client", "hwcloud.config", "hwcloud.services",
                            "hwcloud.errors", "hwcloud.emulator", "hwcloud.emulator.testing" } do
      local file = name:gsub("%.", "_") .. ".lua"
      util.write_file(src .. "/" .. file, old_module(name, mark))
      modules[#modules + 1] = ("    [%q] = %q,"):format(name, file)
    end
    util.write_file(src .. "/core.so", "not a shared object: the older rock's core\n")
    -- luarocks runs a rock's commands with Lua
    util.write_file(src .. "/bin/hwcloud", "print('hwcloud " .. OLD_VERSION .. " (older rock)')\n")
    util.write_file(src .. "/hwcloud-" .. OLD_VERSION .. "-1.rockspec", table.concat({
      'rockspec_format = "3.0"',
      'package = "hwcloud"',
      ('version = "%s-1"'):format(OLD_VERSION),
      'source = { url = "git+https://example.invalid/hwcloud.git", tag = "v' .. OLD_VERSION .. '" }',
      "build = {",
      '  type = "builtin",',
      "  modules = {",
      table.concat(modules, "\n"),
      "  },",
      '  install = { lib = { ["hwcloud.core"] = "core.so" }, bin = { hwcloud = "bin/hwcloud" } },',
      "}",
    }, "\n") .. "\n")
    local ok, out = util.run(("cd %s && luarocks --lua-version=5.4 --tree=%s make --deps-mode=none "
      .. "hwcloud-%s-1.rockspec"):format(q(src), q(tree), OLD_VERSION))
    assert(ok, out)
    -- a user's LUA_INIT_5_4 that preloads what the paths name
    util.write_file(work .. "/init.lua", "pcall(require, 'hwcloud')\n")
    -- what the user's shell profile would export
    ok, path_lines = util.run(("luarocks --lua-version=5.4 --tree=%s path"):format(q(tree)))
    assert(ok, path_lines)
  end)

  teardown(function() util.rmdir(work) end)

  local function marked()
    local f = io.open(mark)
    if not f then return nil end
    local s = f:read("*a")
    f:close()
    return s
  end

  -- run(cmd, versioned) -> output, ok: cmd from the checkout's root, in a
  -- user's environment (no guard of the specs), the older tree first; with
  -- versioned, its paths in LUA_PATH_5_4 and LUA_CPATH_5_4 too, and a
-- LUA_INIT_5_4 that requires hwcloud
  local function run(cmd, versioned)
    os.remove(mark)
    local extra = versioned and (' export LUA_PATH_5_4="$LUA_PATH" LUA_CPATH_5_4="$LUA_CPATH"'
      .. " LUA_INIT_5_4=" .. q("@" .. work .. "/init.lua") .. ";") or ""
    local script = ("%s\n%s cd %s && %s"):format(path_lines, extra, q(root), cmd)
    local ok, out = util.run(("env -i HOME=%s PATH=%s sh -c %s"):format(q(work .. "/home"),
      q(os.getenv("PATH") or "/usr/bin:/bin"), q(script)))
    return out, ok
  end

  for _, versioned in ipairs { false, true } do
    local how = versioned and " (LUA_PATH_5_4, LUA_CPATH_5_4 and LUA_INIT_5_4 as well)"
      or " (LUA_PATH, LUA_CPATH, PATH)"

    it("the environment does find the older rock first" .. how, function()
      local out = run([[lua5.4 -e 'io.write(require("hwcloud").version)'; echo; hwcloud]], versioned)
      assert.is_truthy(out:find(OLD_VERSION .. "\nhwcloud " .. OLD_VERSION .. " (older rock)", 1, true), out)
      assert.matches("^hwcloud\n", marked())
    end)

    it("make test's way of loading runs the checkout's code" .. how, function()
      local out, ok = run("sh tools/test.sh spec/errors_spec.lua spec/core_spec.lua", versioned)
      assert.is_true(ok, out)
      assert.matches("\n%d+ passed, 0 failed%s*$", out)
      assert.is_nil(marked(), "the older rock loaded: " .. tostring(marked()))
    end)

    it("make demo's way of loading runs the checkout's code" .. how, function()
      local out, ok = run("sh tools/demo.sh", versioned)
      assert.is_true(ok, out)
      assert.is_truthy(out:find("\nsummary (", 1, true), out)
      assert.is_truthy(out:find("software deployments complete on 4/4 servers", 1, true), out)
      assert.is_nil(marked(), "the older rock loaded: " .. tostring(marked()))
    end)
  end
end)
