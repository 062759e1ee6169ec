-- The C core's shared primitives: the one URL parser (core.parse_url, also
-- the signer's), the one "did you mean" measure (core.closest, also the
-- marshaller's and hwcloud.suggest's), and the one version.

local core = require "hwcloud.core"
local suggest = require "hwcloud.suggest"

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

describe("core.closest", function()
  it("gives the nearest name (case-insensitive) when it is close enough", function()
    assert.are.equal("region", core.closest("Regoin", { "project_id", "region" }))
    assert.is_nil(core.closest("zzzzzz", { "region" }))
    assert.is_nil(core.closest(string.rep("a", 65), { string.rep("a", 65) }))
  end)

  it("takes a limit and gives the distance", function()
    local best, d = core.closest("kitten", { "sitting" }, math.huge)
    assert.are.equal("sitting", best)
    assert.are.equal(3, d)
    assert.is_nil(core.closest("kitten", { "sitting" }, 2))
  end)

  it("is what hwcloud.suggest measures with", function()
    assert.are.equal(3, suggest.distance("kitten", "sitting"))
    assert.are.equal(0, suggest.distance("ABC", "abc"))
    assert.are.equal("endpoint", suggest.closest("endpiont", { "region", "endpoint" }))
    assert.are.equal(" (did you mean 'endpoint'?)", suggest.hint("endpiont", { "endpoint" }))
    assert.are.equal("", suggest.hint("zzzz", { "endpoint" }))
  end)
end)

describe("the version", function()
  it("is the same in the C core, the Lua module, the rockspec and the changelog", function()
    local env = {}
    -- one release rockspec, named after the version it declares
    local rockspec = require("spec.helpers.util").capture("ls hwcloud-[0-9]*.rockspec")
    assert.is_nil(rockspec:find("\n"), "more than one release rockspec: " .. rockspec)
    assert(loadfile(rockspec, "t", env))()
    assert.are.equal(core.version, env.version:match("^(.-)%-%d+$"))
    assert.are.equal("hwcloud-" .. env.version .. ".rockspec", rockspec)
    assert.are.equal(core.version, require("hwcloud").version)
    assert.are.equal("hwcloud " .. core.version, require("hwcloud")._VERSION)
    local f = io.open("CHANGELOG.md", "r")
    if f then
      local text = f:read("a")
      f:close()
      local latest = text:match("\n##%s*%[?v?(%d+%.%d+%.%d+)")
      assert.are.equal(core.version, latest)
    end
    -- the emulator's own version line
    local ef = assert(io.open("emulator/lua/hwcloud/emulator/init.lua", "r"))
    local emu = ef:read("*a")
    ef:close()
    assert.are.equal(core.version, emu:match('_VERSION = "([^"]+)"'))
    -- and the emulator's release rockspec
    local rs = require("spec.helpers.util").capture("ls emulator/hwcloud-emulator-[0-9]*.rockspec")
    assert.are.equal("emulator/hwcloud-emulator-" .. core.version .. "-1.rockspec", rs)
  end)
end)
