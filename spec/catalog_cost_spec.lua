-- No path loads every service: listing, completion, suggestions and error
-- messages read the catalog (lua/hwcloud/services/index.lua) alone, and a
-- service's description loads only when that service is named. Each path
-- runs in a fresh interpreter (spec/helpers/loaded_after.lua), which then
-- lists the generated descriptions it loaded.

local util = require "spec.helpers.util"

local function loaded_after(mode, ...)
  local words = {}
  for i, a in ipairs { ... } do words[i] = util.quote(a) end
  local ok, out = util.run("cd " .. util.quote(util.root) .. " && " .. util.clean_env(util.root)
    .. " lua5.4 spec/helpers/loaded_after.lua " .. mode .. " " .. table.concat(words, " "))
  assert(ok, out)
  local list = {}
  for f in out:gmatch("[^\n]+") do list[#list + 1] = f end
  return list
end

describe("the catalog's cost", function()
  it("listing services, completing and the help load no service description", function()
    assert.are.same({}, loaded_after("cli", "ops"))
    assert.are.same({}, loaded_after("cli", "--help"))
    assert.are.same({}, loaded_after("cli", "completion", "--words", ""))
    assert.are.same({}, loaded_after("cli", "completion", "--words", "call", ""))
    assert.are.same({}, loaded_after("cli", "completion", "--words", "call", "ec"))
    assert.are.same({}, loaded_after("lua", "assert(#hwcloud.services() > 200)"))
  end)

  it("an unknown service is suggested from the catalog alone", function()
    assert.are.same({}, loaded_after("cli", "ops", "ecz"))
    assert.are.same({}, loaded_after("cli", "describe", "hsz", "list_hosts"))
    assert.are.same({}, loaded_after("lua", [[
      local ok = pcall(function() return c.ecz end)
      local _, err = c:request { service = "nosuch", method = "GET", path = "/x" }
      assert(err and tostring(err):find("nosuch", 1, true))]]))
  end)

  it("a plain client loads what making it needs, the rest on first use", function()
    -- the call path, jobs and waiters, pages, the journal, the generic
    -- request, progress and OBS load when first used (issue 22: the cost of
    -- require plus client is the C core's and little more)
    assert.are.same({ "hwcloud", "hwcloud.client", "hwcloud.config", "hwcloud.core",
      "hwcloud.engine", "hwcloud.errors", "hwcloud.identity.auth", "hwcloud.identity.credentials",
      "hwcloud.options", "hwcloud.retry", "hwcloud.services", "hwcloud.suggest" },
      loaded_after("modules", ""))
    -- each loads when its part is first used, and answers as before
    local function set(list)
      local has = {}
      for _, m in ipairs(list) do has[m] = true end
      return has
    end
    local has = set(loaded_after("modules", [[
      local r, err = c:wait({})
      assert(r == nil and tostring(err):find("job.service", 1, true))
      local page, perr = c:pages("nosuch", "list_x", {})()
      assert(not page and tostring(perr):find("nosuch", 1, true))]]))
    assert.is_true(has["hwcloud.jobs"])
    assert.is_true(has["hwcloud.pager"])
    assert.is_nil(has["hwcloud.journal"])
    assert.is_nil(has["hwcloud.generic"])
    has = set(loaded_after("modules", [[
      local _, err = c:request { service = "nosuch", method = "GET", path = "/x" }
      assert(err and tostring(err):find("nosuch", 1, true))]]))
    assert.is_true(has["hwcloud.generic"])
    assert.is_nil(has["hwcloud.jobs"])
    assert.is_nil(has["hwcloud.journal"])
  end)

  it("a named service loads its own versions and nothing else", function()
    assert.are.same({ "ecs_v2" }, loaded_after("cli", "describe", "ecs_v2", "list_serverz"))
    assert.are.same({ "ecs_v2" },
      loaded_after("cli", "completion", "--words", "call", "ecs_v2", "list_"))
    local hss = loaded_after("lua", "local _ = c.hss.list_anti_virus_host")
    for _, f in ipairs(hss) do assert.truthy(f:find("^hss_v%d+"), f) end
    assert.is_true(#hss >= 1 and #hss <= 4)
  end)

  it("an operation made ready reads the models only answers use when its answer schema is read", function()
    -- HSS's companion of answer models (hss_v5_responses, 358 KB) is not
    -- read to make an operation ready, only when an answer needs its schema
    local function responses(list)
      local n = 0
      for _, f in ipairs(list) do if f:find("_responses$") then n = n + 1 end end
      return n
    end
    local ready = loaded_after("lua", [[
      local op = require("hwcloud.services").operation(require("hwcloud.services").load("hss"),
        "list_anti_virus_host")
      assert(op and op.request and op.ready)]])
    assert.is_true(#ready >= 1)
    assert.are.equal(0, responses(ready))
    local read = loaded_after("lua", [[
      local op = require("hwcloud.services").operation(require("hwcloud.services").load("hss"),
        "list_anti_virus_host")
      assert(op.response.fields.data_list.items.fields.host_id.type == "string")]])
    assert.is_true(responses(read) >= 1)
  end)
end)
