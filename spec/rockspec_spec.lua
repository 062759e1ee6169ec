-- The rockspec installs hwcloud with Debian's luarocks: every Lua module of
-- the tree is listed, and a real `luarocks make` into a scratch tree gives a
-- module that loads, signs, and an emulator that starts.

local emulator = require "spec.helpers.emulator"

local ROCKSPEC = "hwcloud-0.1.0-1.rockspec"

local function sh(cmd)
  local p = io.popen("{ " .. cmd .. "; } 2>&1")
  local out = p:read("*a")
  local ok = p:close()
  return ok, out
end

local function load_rockspec()
  local env = {}
  assert(loadfile(ROCKSPEC, "t", env))()
  return env
end

describe("the rockspec", function()
  it("lists every Lua module of the tree, and only those", function()
    local spec = load_rockspec()
    local listed = {}
    for name, src in pairs(spec.build.modules) do
      if type(src) == "string" then listed[src] = name end
    end
    local _, files = sh("find lua -name '*.lua' | sort")
    local count = 0
    for path in files:gmatch("[^\n]+") do
      count = count + 1
      local want = path:sub(5, -5):gsub("/", "."):gsub("%.init$", "")
      assert.are.equal(want, listed[path], path .. " is not listed as " .. want)
      listed[path] = nil
    end
    assert.is_nil(next(listed), "listed but missing: " .. tostring(next(listed)))
    assert.is_true(count > 20)
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

  it("installs with luarocks make into a tree that works", function()
    local cwd = select(2, sh("pwd")):gsub("%s+$", "")
    local base = emulator.work:sub(1, 1) == "/" and emulator.work or (cwd .. "/" .. emulator.work)
    local work = base .. "/rock-" .. tostring(os.time()) .. "-" .. math.random(1e6)
    assert(sh("mkdir -p " .. work .. "/src " .. work .. "/tree"))
    assert(sh("cp -r lua src bin doc examples " .. ROCKSPEC .. " " .. work .. "/src/"))
    local inc = select(2, sh("pkg-config --variable=includedir libcurl")):gsub("%s+$", "")
    local multi = select(2, sh("dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch"))
      :gsub("%s+$", "")
    local ok, out = sh(("cd %s/src && luarocks --lua-version=5.4 make --deps-mode=none --tree=%s/tree "
      .. "CURL_INCDIR=%s CURL_LIBDIR=/usr/lib/%s %s"):format(work, work,
      inc ~= "/usr/include" and inc or ("/usr/include/" .. multi), multi, ROCKSPEC))
    assert.is_true(ok, out)
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
    -- the installed emulator finds its Lua code through the installed tree
    local port = 20000 + math.random(30000)
    local ok3, out3 = sh(env .. ("timeout 5 %s/tree/bin/hwcloud-emulator --port %d & "
      .. "for i in $(seq 50); do curl -fsS http://127.0.0.1:%d/_emulator/health && break; sleep 0.1; done; "
      .. "kill %%1; wait"):format(work, port, port))
    assert.is_truthy(out3:find('"status":"ok"', 1, true), out3)
    assert.is_truthy(ok3 ~= nil)
    sh("rm -rf " .. work)
  end)
end)
