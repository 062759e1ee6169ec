-- The rockspecs install hwcloud and, apart, its emulator with Debian's
-- luarocks: every Lua module of each tree is listed in its own rockspec
-- only, and a real `luarocks make` of both into a scratch tree gives a
-- module that loads, signs, and an emulator that starts.

local emulator = require "spec.helpers.emulator"

-- the checkout's rockspecs (a release's are made from them at the release:
-- make release-rockspec)
local ROCKSPEC = "hwcloud-scm-1.rockspec"
local EMULATOR_ROCKSPEC = "emulator/hwcloud-emulator-scm-1.rockspec"

local sh = require("spec.helpers.util").run

local function load_rockspec(path)
  local env = {}
  assert(loadfile(path or ROCKSPEC, "t", env))()
  return env
end

-- Checks that the rockspec lists exactly the Lua files under dir.
local function lists_tree(path, dir, at_least)
  local spec = load_rockspec(path)
  local listed = {}
  -- the emulator's rock installs its modules without a build step
  for name, src in pairs(spec.build.modules or spec.build.install.lua) do
    if type(src) == "string" then listed[src] = name end
  end
  local _, files = sh("find " .. dir .. " -name '*.lua' | sort")
  local count = 0
  for file in files:gmatch("[^\n]+") do
    count = count + 1
    local want = file:sub(#dir + 2, -5):gsub("/", "."):gsub("%.init$", "")
    assert.are.equal(want, listed[file], file .. " is not listed as " .. want)
    listed[file] = nil
  end
  assert.is_nil(next(listed), "listed but missing: " .. tostring(next(listed)))
  assert.is_true(count > at_least)
  return spec
end

describe("the rockspec", function()
  it("lists every Lua module of the tree, and only those", function()
    local spec = lists_tree(ROCKSPEC, "lua", 20)
    for name in pairs(spec.build.modules) do
      assert.is_nil(name:match("^hwcloud%.emulator"), name .. " belongs to the emulator's rock")
    end
    assert.is_nil(spec.build.install.bin["hwcloud-emulator"])
  end)

  it("installs the completion script and every example with the rock", function()
    local conf = load_rockspec().build.install.conf
    local _, files = sh("ls contrib/* examples/*")
    local n = 0
    for file in files:gmatch("[^\n]+") do
      assert.are.equal(file, conf[file], file .. " is not installed")
      n = n + 1
    end
    for k in pairs(conf) do assert.is_true(files:find(k, 1, true) ~= nil, k .. " listed, not there") end
    assert.is_true(n > 5)
  end)

  it("of the emulator lists every module of emulator/lua, its launcher, and needs hwcloud", function()
    local spec = lists_tree(EMULATOR_ROCKSPEC, "emulator/lua", 15)
    assert.are.equal("none", spec.build.type)
    assert.are.equal("hwcloud-emulator", spec.package)
    assert.are.equal("emulator/bin/hwcloud-emulator", spec.build.install.bin["hwcloud-emulator"])
    assert.are.equal("emulator/lua/hwcloud/emulator/testing.lua", spec.build.install.lua["hwcloud.emulator.testing"])
    local needs = {}
    for _, d in ipairs(spec.dependencies) do needs[d:match("^(%S+)")] = true end
    assert.is_true(needs.hwcloud and needs["lua-cjson"])
    assert.are.equal(load_rockspec().version, spec.version)
  end)

  it("builds the C core from every file in src/", function()
    local spec = load_rockspec()
    local sources = {}
    for _, s in ipairs(spec.build.modules["hwcloud.core"].sources) do sources[s] = true end
    local _, files = sh("ls src/*.c")
    for path in files:gmatch("[^\n]+") do
      assert.is_true(sources[path] == true, path .. " missing from the rockspec")
    end
  end)

  it("installs with luarocks make into a tree that works #slow", function()
    local cwd = select(2, sh("pwd")):gsub("%s+$", "")
    local base = emulator.work:sub(1, 1) == "/" and emulator.work or (cwd .. "/" .. emulator.work)
    local work = base .. "/rock-" .. tostring(os.time()) .. "-" .. math.random(1e6)
    assert(sh("mkdir -p " .. work .. "/src " .. work .. "/tree"))
    assert(sh("cp -r lua src bin doc examples contrib emulator " .. ROCKSPEC .. " " .. work .. "/src/"))
    local inc = select(2, sh("pkg-config --variable=includedir libcurl")):gsub("%s+$", "")
    local multi = select(2, sh("dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch"))
      :gsub("%s+$", "")
    local ok, out = sh(("cd %s/src && luarocks --lua-version=5.4 make --deps-mode=none --tree=%s/tree "
      .. "CURL_INCDIR=%s CURL_LIBDIR=/usr/lib/%s %s"):format(work, work,
      inc ~= "/usr/include" and inc or ("/usr/include/" .. multi), multi, ROCKSPEC))
    assert.is_true(ok, out)
    -- the client's rock brings no emulator
    assert.is_falsy(sh(("test -e %s/tree/bin/hwcloud-emulator"):format(work)))
    assert.is_falsy(sh(("test -e %s/tree/share/lua/5.4/hwcloud/emulator"):format(work)))
    ok, out = sh(("cd %s/src && luarocks --lua-version=5.4 make --deps-mode=none --tree=%s/tree %s")
      :format(work, work, EMULATOR_ROCKSPEC))
    assert.is_true(ok, out)
    -- it installs only its own modules: none of the client's clash with it
    -- (luarocks would keep a clashing copy under a versioned name)
    local _, listing = sh(("cd %s/tree/share/lua/5.4 && find . -name '*.lua' | sort"):format(work))
    assert.is_falsy(listing:find("hwcloud_emulator", 1, true), listing)
    assert.is_truthy(listing:find("./hwcloud/emulator/admin.lua", 1, true), listing)
    -- the completion script and the examples, in the rock's folder
    local rock_dir = select(2, sh(("luarocks --lua-version=5.4 --tree=%s show --rock-dir hwcloud")
      :format(work .. "/tree"))):gsub("%s+$", "")
    for _, f in ipairs { "contrib/hwcloud.bash", "examples/deploy_workflow.lua",
                         "examples/nginx.conf", "examples/test_with_emulator.lua" } do
      assert.is_truthy(sh("test -s " .. rock_dir .. "/conf/" .. f), rock_dir .. "/conf/" .. f)
    end
    -- a fresh interpreter that sees only the installed tree (and system cjson)
    local env = ("env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_PATH='%s/tree/share/lua/5.4/?.lua;"
      .. "%s/tree/share/lua/5.4/?/init.lua;;' LUA_CPATH='%s/tree/lib/lua/5.4/?.so;;' ")
      :format(work, work, work)
    local ok2, out2 = sh(env .. [[lua5.4 -e '
      local h = require "hwcloud"
      local core = package.searchpath("hwcloud.core", package.cpath)
      assert(core:find("/tree/", 1, true), core)
      local hs = assert(h.sign({ method = "GET",
        url = "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"
          .. "?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
        headers = { ["content-type"] = "application/json", ["X-Sdk-Date"] = "20191115T033655Z" } },
        { ak = "QTWAOYTTINDUT2QVKYUC", sk = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc" }))
      io.write(hs.Authorization)']])
    assert.is_true(ok2, out2)
    assert.are.equal("SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;"
      .. "x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe", out2)
    -- the installed emulator finds its Lua code through the installed tree.
    -- --port 0 and the URL it prints: a port picked here at random may be
    -- the local end of a live connection (the ephemeral range), and taken
    local ok3, out3 = sh(env .. ("timeout 5 %s/tree/bin/hwcloud-emulator --port 0 >%s/emu.out 2>&1 & "
      .. "for i in $(seq 50); do u=$(sed -n 's/^listening on //p' %s/emu.out); "
      .. "[ -n \"$u\" ] && curl -fsS \"$u/_emulator/health\" && break; sleep 0.1; done; "
      .. "cat %s/emu.out; kill %%1; wait"):format(work, work, work, work))
    assert.is_truthy(out3:find('"status":"ok"', 1, true), out3)
    assert.is_truthy(ok3 ~= nil)
    sh("rm -rf " .. work)
  end)
end)

describe("the packaging #slow", function()
  local function load(path)
    local env = {}
    assert(loadfile(path, "t", env))()
    return env
  end

  local function same(a, b, where)
    assert.are.equal(type(a), type(b), where)
    if type(a) ~= "table" then return assert.are.equal(a, b, where) end
    for k, v in pairs(a) do same(v, b[k], where .. "." .. tostring(k)) end
    for k in pairs(b) do assert.is_not_nil(a[k], where .. "." .. tostring(k) .. " only in scm") end
  end

  -- make release-rockspec in a copy of the checkout made a release: its
  -- version set, a changelog section, a commit and its tag
  local function released_copy(version, tag)
    local work = emulator.work .. "/release-" .. tostring(os.time()) .. "-" .. math.random(1e6)
    assert(sh("mkdir -p " .. work .. " && git ls-files -z | tar --null -T - -cf - | tar -x -C " .. work))
    local cmds = {
      "cd " .. work,
      "sed -i 's/^#define HWC_VERSION .*/#define HWC_VERSION \"" .. version .. "\"/' src/hwcloud.h",
      "sed -i 's/^local VERSION = .*/local VERSION = \"" .. version .. "\"/' lua/hwcloud/init.lua",
      "sed -i 's/^local _M = { _VERSION = .*/local _M = { _VERSION = \"" .. version .. "\" }/' "
        .. "emulator/lua/hwcloud/emulator/init.lua",
      "sed -i 's/^## Unreleased$/## " .. version .. "/' CHANGELOG.md",
      "git init -q . && git add -A && git -c user.name=r -c user.email=r@example.com commit -qm release",
    }
    if tag then cmds[#cmds + 1] = "git tag v" .. version end
    assert(sh(table.concat(cmds, " && ")))
    return work
  end

  it("make release-rockspec makes the release's rockspecs from the scm ones, naming its tag", function()
    local work = released_copy("0.2.0", true)
    local ok, out = sh("cd " .. work .. " && make -s release-rockspec VERSION=0.2.0")
    assert.is_true(ok, out)
    local rel = load(work .. "/build/release/hwcloud-0.2.0-1.rockspec")
    local scm = load(ROCKSPEC)
    assert.are.equal("0.2.0-1", rel.version)
    assert.are.equal("v0.2.0", rel.source.tag)
    assert.is_nil(rel.source.branch)
    assert.are.equal(scm.source.url, rel.source.url)
    for _, k in ipairs { "build", "dependencies", "test", "description" } do same(scm[k], rel[k], k) end
    local erel = load(work .. "/build/release/hwcloud-emulator-0.2.0-1.rockspec")
    assert.are.equal("0.2.0-1", erel.version)
    assert.are.equal("v0.2.0", erel.source.tag)
    same(load(EMULATOR_ROCKSPEC).build, erel.build, "build")
    -- it says where it comes from, and luarocks takes it
    local text = emulator.read_file(work .. "/build/release/hwcloud-0.2.0-1.rockspec")
    assert.matches("^%-%- Made by make release%-rockspec VERSION=0.2.0 from hwcloud%-scm%-1.rockspec", text)
    ok, out = sh("cd " .. work .. " && luarocks --lua-version=5.4 lint build/release/hwcloud-0.2.0-1.rockspec")
    assert.is_true(ok, out)
    sh("rm -rf " .. work)
  end)

  it("make release-rockspec refuses without the tag, or for a version the checkout does not carry", function()
    local work = released_copy("0.2.0", false)
    local ok, out = sh("cd " .. work .. " && make -s release-rockspec VERSION=0.2.0")
    assert.is_false(ok)
    assert.truthy(out:find("the tag v0.2.0 does not exist", 1, true), out)
    ok, out = sh("cd " .. work .. " && git tag v0.3.0 && make -s release-rockspec VERSION=0.3.0")
    assert.is_false(ok)
    assert.truthy(out:find("src/hwcloud.h says version '0.2.0', not 0.3.0", 1, true), out)
    -- and the checkout itself is unreleased
    ok, out = sh("make -s release-rockspec VERSION=0.2.0")
    assert.is_false(ok)
    assert.truthy(out:find("-dev', not 0.2.0", 1, true), out)
    assert.is_falsy(sh("ls build/release/hwcloud-0.2.0-1.rockspec"))
    sh("rm -rf " .. work)
  end)

  it("the test section runs Debian's busted, no busted rock", function()
    local scm = load(ROCKSPEC)
    assert.is_nil(scm.test_dependencies)
    assert.are.equal("command", scm.test.type)
    assert.matches("^git%+https://", scm.source.url)
    assert.matches("^https://", scm.description.homepage)
  end)

  it("ships the license the rockspec names, and a changelog", function()
    local f = assert(io.open("LICENSE"))
    local text = f:read("*a")
    f:close()
    assert.are.equal("Apache-2.0", load(ROCKSPEC).description.license)
    assert.truthy(text:find("Apache License", 1, true) and text:find("Version 2.0, January 2004", 1, true))
    f = assert(io.open("CHANGELOG.md"))
    assert.matches("\n## Unreleased\n", f:read("*a"))
    f:close()
  end)

  it("make rock packs the checkout offline; the source rock installs into a fresh tree, with README as doc", function()
    local ok, out = sh("make -s rock")
    assert.is_true(ok, out)
    local rock = out:match("(build/rock/[^\n]+%.src%.rock)")
    assert.is_truthy(rock, out)
    local work = emulator.work .. "/srcrock-" .. tostring(os.time()) .. "-" .. math.random(1e6)
    local cwd = select(2, sh("pwd")):gsub("%s+$", "")
    if work:sub(1, 1) ~= "/" then work = cwd .. "/" .. work end
    local multi = select(2, sh("dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch"))
      :gsub("%s+$", "")
    -- no network: an unreachable proxy makes any fetch fail
    local ok2, out2 = sh(("http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 "
      .. "luarocks --lua-version=5.4 --tree=%s install --deps-mode=none %s "
      .. "CURL_INCDIR=/usr/include/%s CURL_LIBDIR=/usr/lib/%s"):format(work, rock, multi, multi))
    assert.is_true(ok2, out2)
    local doc = work .. "/lib/luarocks/rocks-5.4/hwcloud/" .. load(ROCKSPEC).version .. "/doc/"
    for _, name in ipairs { "README.md", "LICENSE", "CHANGELOG.md" } do
      assert.is_true(sh("test -s " .. doc .. name), name .. " not in the rock's doc")
    end
    local ok3, out3 = sh(("env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_PATH='%s/share/lua/5.4/?.lua;"
      .. "%s/share/lua/5.4/?/init.lua;;' LUA_CPATH='%s/lib/lua/5.4/?.so;;' lua5.4 -e "
      .. "'local h = require \"hwcloud\"; io.write(package.searchpath(\"hwcloud.core\", package.cpath))'")
      :format(work, work, work))
    assert.is_true(ok3, out3)
    assert.are.equal(work .. "/lib/lua/5.4/hwcloud/core.so", out3)
    sh("rm -rf " .. work)
  end)

  it("luarocks test passes on a clean copy of the checkout with Debian's busted", function()
    local work = emulator.work .. "/clean-" .. tostring(os.time()) .. "-" .. math.random(1e6)
    assert(sh("mkdir -p " .. work .. " && git ls-files -z | tar --null -T - -cf - | tar -x -C " .. work))
    local ok, out = sh(("cd %s && luarocks --lua-version=5.4 test %s spec/errors_spec.lua")
      :format(work, ROCKSPEC))
    assert.is_true(ok, out)
    assert.matches("\n%d+ passed, 0 failed", out)
    sh("rm -rf " .. work)
  end)
end)
