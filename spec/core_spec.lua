-- The C core's shared primitives: the one URL parser (core.parse_url, also
-- the signer's), base64, and the one version.

local core = require "hwcloud.core"

describe("core.parse_url", function()
  it("splits scheme, userinfo, host, port, path and query", function()
    local u = assert(core.parse_url("HTTPS://user:pw@api.example.com:8443/v1/x?a=1&b#frag"))
    assert.are.same({ scheme = "https", userinfo = "user:pw", host = "api.example.com",
                      port = 8443, path = "/v1/x", query = "a=1&b" }, u)
  end)

  it("takes a bracketed IPv6 host without its brackets, and the scheme's port", function()
    assert.are.same({ scheme = "https", host = "::1", port = 443, path = "" },
      core.parse_url("https://[::1]"))
    assert.are.same({ scheme = "http", host = "10.0.0.1", port = 80, path = "/", query = "" },
      core.parse_url("http://10.0.0.1:/?"))
  end)

  it("refuses what is not an absolute URL with a host, naming the rule", function()
    local cases = {
      ["example.com/x"] = "absolute URL", ["https://"] = "absolute URL",
      ["https:///x"] = "absolute URL", ["https://user@/x"] = "absolute URL",
      ["://h/"] = "absolute URL", ["https://h:0/"] = "invalid port",
      ["https://h:65536/"] = "invalid port", ["https://h:8x/"] = "invalid port",
      ["https://[::1/"] = "IPv6", ["https://[g::1]/"] = "IPv6",
      ["https://h/a b"] = "spaces or control", ["https://h/\r\nX: 1"] = "spaces or control",
    }
    for url, rule in pairs(cases) do
      local u, err = core.parse_url(url)
      assert.is_nil(u, url)
      assert.is_truthy(err:find(rule, 1, true), url .. ": " .. tostring(err))
    end
  end)

  it("never puts the URL (which may hold a password) in the message", function()
    local _, err = core.parse_url("https://user:SECRET@h:99999/")
    assert.is_nil(err:find("SECRET", 1, true))
  end)
end)

describe("core.base64", function()
  it("encodes the RFC 4648 vectors, padding included", function()
    local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
      fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" }
    for plain, encoded in pairs(vectors) do
      assert.are.equal(encoded, core.base64(plain))
    end
    assert.are.equal("/+8A", core.base64("\255\239\0"))
  end)

  it("encodes input longer than one 3 KB piece with the padding only at the end", function()
    for _, n in ipairs({ 3071, 3072, 3073, 6146 }) do
      local s = string.rep("\1\2\3", math.floor(n / 3) + 1):sub(1, n)
      local e = core.base64(s)
      assert.are.equal(math.floor((n + 2) / 3) * 4, #e)
      local whole = math.floor(n / 3) * 4
      assert.are.equal(string.rep("AQID", math.floor(n / 3) + 1):sub(1, whole), e:sub(1, whole))
      assert.is_nil(e:sub(1, -3):find("=", 1, true))
    end
  end)
end)

describe("core.hasher", function()
  -- the cosocket transport's MD5 of a file streamed piece by piece
  it("gives the digest of the pieces fed to it, once", function()
    for _, alg in ipairs({ "md5", "sha1", "sha256" }) do
      local h = core.hasher(alg)
      assert.are.equal(h, h:update("ab"):update(""):update("c"))
      assert.are.equal(core.digest(alg, "abc"), h:final())
      assert.has_error(function() h:final() end)
      assert.has_error(function() h:update("x") end)
    end
    assert.has_error(function() core.hasher("md4") end)
  end)
end)

describe("the version", function()
  it("is the same in the C core, the Lua module and the emulator, and says it is unreleased", function()
    local util = require "spec.helpers.util"
    assert.are.equal(core.version, require("hwcloud").version)
    assert.are.equal("hwcloud " .. core.version, require("hwcloud")._VERSION)
    -- the emulator's own version line
    local emu = assert(util.read_file("emulator/lua/hwcloud/emulator/init.lua"))
    assert.are.equal(core.version, emu:match('_VERSION = "([^"]+)"'))
    -- a checkout is the next release in the making: x.y.z-dev, above every
    -- release of the changelog, whose first section is "Unreleased"
    local next_release = core.version:match("^(%d+%.%d+%.%d+)%-dev$")
    assert.truthy(next_release, core.version)
    local text = assert(util.read_file("CHANGELOG.md"))
    assert.truthy(text:match("\n## ([^\n]+)") == "Unreleased", "CHANGELOG.md: ## Unreleased first")
    local function parts(v)
      local a, b, c = v:match("^(%d+)%.(%d+)%.(%d+)$")
      return { tonumber(a), tonumber(b), tonumber(c) }
    end
    local mine = parts(next_release)
    for released in text:gmatch("\n## v?(%d+%.%d+%.%d+)") do
      local r = parts(released)
      local above = mine[1] > r[1] or (mine[1] == r[1] and (mine[2] > r[2]
        or (mine[2] == r[2] and mine[3] > r[3])))
      assert.is_true(above, next_release .. " is not above the released " .. released)
    end
    -- no release rockspec is kept: the scm ones, versioned scm-1
    assert.are.equal("", (util.capture("ls hwcloud-[0-9]*.rockspec "
      .. "emulator/hwcloud-emulator-[0-9]*.rockspec 2>/dev/null")))
    local env = {}
    assert(loadfile("hwcloud-scm-1.rockspec", "t", env))()
    assert.are.equal("scm-1", env.version)
  end)

  it("is in the User-Agent of every request #server", function()
    local util, compat = require "spec.helpers.util", require "spec.helpers.compat"
    local socket = require "socket"
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    srv:settimeout(20)
    local child = io.popen(compat.export_lua_init .. util.clean_env("/nonexistent")
      .. " lua5.4 -e " .. util.quote("local c = assert(require('hwcloud').client{ endpoint = "
      .. "'http://127.0.0.1:" .. port .. "', ak = 'AK', sk = 'SK', project_id = 'p', retries = 0 })"
      .. " io.write(tostring(select(2, c.workspaceapp:list_servers{})))") .. " 2>&1")
    local conn = assert(srv:accept())
    conn:settimeout(10)
    local ua
    repeat
      local line = assert(conn:receive("*l"))
      ua = ua or line:match("^[Uu]ser%-[Aa]gent: (.*)$")
    until line == ""
    conn:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
      .. "Connection: close\r\n\r\n{}")
    conn:close()
    srv:close()
    child:read("*a")
    child:close()
    assert.truthy(ua, "no User-Agent")
    assert.truthy(ua:find("hwcloud/" .. core.version, 1, true), ua)
    assert.truthy(ua:find("-dev", 1, true), ua)
  end)
end)
