-- README.md, followed literally: every fenced ```lua and ```sh snippet runs
-- against the bundled emulator, and the spec fails when one errors. What a
-- snippet needs from an account comes from the emulator's environment
-- (HWCLOUD_ENDPOINT, its default key pair, a project id, a region), as it
-- would from a user's shell.
--
-- Lua snippets run in a child lua5.4 with, in scope, `hwcloud`, a `client`
-- made from that environment and `servers` (the ids of the emulator's
-- servers), for the snippets that continue a script. Shell snippets run
-- with `sh -e` from the checkout's root, bin/ on PATH. A line that starts
-- the emulator (its command is hwcloud-emulator) is not run: this spec's
-- emulator stands in for it, and 127.0.0.1:8080 / localhost:8080 in the
-- snippet point at it.
--
-- An HTML comment on the line before a fence steers its snippet:
--   <!-- spec: skip (why) -->          not run; the reason is required
--   <!-- spec: inventory FILE -->      FILE's resources (JSON, the shape of
--                                      POST /_emulator/inventory) are added
--                                      to the emulator's default inventory
--
-- Child processes load hwcloud from this checkout only (LUA_INIT runs
-- spec/helpers/checkout.lua first), and `luarocks` lines install into a
-- scratch tree under spec/.work, never into the system's.
--
-- Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" \
--        LUA_CPATH="build/5.4/?.so;;" lua5.4 /usr/bin/busted spec/readme_spec.lua

package.path = "./?.lua;" .. package.path

local cjson = require "cjson"
local emulator = require "spec.helpers.emulator"
local compat = require "spec.helpers.compat"

local q = emulator.quote
local root = emulator.root
local PROJECT = "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"

-- snippets(text) -> list of { lang, code, line, marker = {kind, arg} | nil }
local function snippets(text)
  local out, lines = {}, {}
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  local i = 1
  while i <= #lines do
    local lang = lines[i]:match("^```(%a+)%s*$")
    if lang then
      local start, body = i, {}
      i = i + 1
      while i <= #lines and not lines[i]:match("^```%s*$") do
        body[#body + 1] = lines[i]
        i = i + 1
      end
      if lang == "lua" or lang == "sh" then
        local s = { lang = lang, code = table.concat(body, "\n") .. "\n", line = start }
        local prev = lines[start - 1] or ""
        local m = prev:match("^%s*<!%-%-%s*spec:%s*(.-)%s*%-%->%s*$")
        if m then
          local kind, rest = m:match("^(%S+)%s*(.*)$")
          s.marker = { kind = kind, arg = rest, text = m }
        end
        out[#out + 1] = s
      end
    elseif lines[i]:match("^```") then
      -- a fence of another language (output, layout): skip to its end
      i = i + 1
      while i <= #lines and not lines[i]:match("^```%s*$") do i = i + 1 end
    end
    i = i + 1
  end
  return out
end

local README = assert(emulator.read_file(root .. "/README.md"), "README.md not found")
local SNIPPETS = snippets(README)

-- A shell snippet as run here: emulator start lines dropped, its port ours.
local function adapt_sh(code, url, tree)
  local hostport = url:match("^https?://([^/]+)")
  local out = {}
  local continued = false
  for line in code:gmatch("([^\n]*)\n") do
    local drop = continued
    if not continued then
      -- the command word, after any VAR=value prefixes
      local rest = line:gsub("^%s*", "")
      while rest:match("^[%a_][%w_]*=%S*%s+") do rest = rest:gsub("^[%a_][%w_]*=%S*%s+", "") end
      local cmd = rest:match("^(%S+)")
      drop = cmd ~= nil and cmd:match("hwcloud%-emulator$") ~= nil
    end
    continued = drop and line:match("\\%s*$") ~= nil
    if drop then
      out[#out + 1] = "# (started by the spec) " .. line
    else
      line = line:gsub("127%.0%.0%.1:8080", hostport):gsub("localhost:8080", hostport)
      -- an install goes to the spec's scratch tree, never the system's
      if tree then line = line:gsub("^(%s*luarocks)(%s)", "%1 --tree=" .. tree .. "%2") end
      out[#out + 1] = line
    end
  end
  return table.concat(out, "\n") .. "\n"
end

describe("README.md", function()
  it("has Lua and shell snippets, each marker known and each skip with its reason", function()
    local lua_n, sh_n, skips = 0, 0, 0
    for _, s in ipairs(SNIPPETS) do
      if s.lang == "lua" then lua_n = lua_n + 1 else sh_n = sh_n + 1 end
      local m = s.marker
      if m then
        local where = "README.md:" .. (s.line - 1) .. ": <!-- spec: " .. m.text .. " -->"
        if m.kind == "skip" then
          skips = skips + 1
          assert.truthy(m.arg:match("^%(%s*%S.-%)$"), where .. ": a skip gives its reason in ()")
        elseif m.kind == "inventory" then
          assert.truthy(emulator.read_file(root .. "/" .. m.arg), where .. ": no such file")
        else
          error(where .. ": unknown marker (skip, inventory)")
        end
      end
    end
    assert.truthy(lua_n >= 4, "Lua snippets: " .. lua_n)
    assert.truthy(sh_n >= 4, "shell snippets: " .. sh_n)
    -- most snippets run: the skips stay the exception
    assert.truthy(skips * 2 < lua_n + sh_n, skips .. " skipped of " .. (lua_n + sh_n))
  end)

  it("the options block names every option hwcloud.client accepts", function()
    local block
    for _, s in ipairs(SNIPPETS) do
      if s.lang == "lua" and s.code:find("hwcloud.client{", 1, true)
         and s.code:find("transport =", 1, true) then block = s.code end
    end
    assert.truthy(block, "no options block (hwcloud.client{ ... transport = ... })")
    local missing = {}
    for name in pairs(require("hwcloud.config").OPTIONS.rules) do
      if not block:find("%f[%w_]" .. name .. "%s*=") then missing[#missing + 1] = name end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("the operations table and the catalog's totals are the catalog's", function()
    local services = require "hwcloud.services"
    local index = require "hwcloud.services.index"
    local seen = 0
    for field, n in README:gmatch("\n| `([%w_]+)` |[^|\n]*| (%d+) | doc/api/") do
      local svc = assert(services.load(field), "README names an unknown service " .. field)
      local count = 0
      for _ in pairs(svc.all) do count = count + 1 end
      assert.equal(count, tonumber(n), field)
      assert.equal(index.fields[field].operations, count, field)
      seen = seen + 1
    end
    assert.is_true(seen >= 7)
    -- the totals: fields, services, service versions and their operations
    local fields, svcs, versions, ops = 0, 0, 0, 0
    for _, name in ipairs(index.names) do
      local e = index.fields[name]
      fields = fields + 1
      if name == e.service then svcs = svcs + 1 end
      if #e.files == 1 and name == e.service .. "_" .. e.versions[1] then
        versions, ops = versions + 1, ops + e.operations
      elseif #e.files == 0 then
        ops = ops + e.operations
      end
    end
    local f, s, v, o = README:match("catalog has %*%*(%d+) client fields%*%* over (%d+) services: "
      .. "%*%*(%d+) service versions%*%* of the\nofficial SDKs with %*%*(%d+) operations%*%*")
    assert.same({ fields, svcs, versions, ops }, { tonumber(f), tonumber(s), tonumber(v), tonumber(o) })
  end)
end)

describe("README.md snippets against the emulator #server", function()
  local emu, default_inventory, servers
  local work = emulator.work .. "/readme"
  local session = emulator.session({ job_seconds = 1 }, nil, false)

  setup(function()
    emu = session.start()
    os.execute("mkdir -p " .. q(work .. "/home"))
    default_inventory = assert(emu:admin("GET", "/_emulator/inventory"))
    servers = {}
    for _, s in ipairs(default_inventory.workspace.servers) do servers[#servers + 1] = s.id end
  end)
  teardown(function()
    session.stop()
    os.execute("rm -rf " .. q(work))
  end)

  -- the default inventory, plus a file's resources
  local function inventory_for(marker)
    local inv = cjson.decode(cjson.encode(default_inventory))
    if marker and marker.kind == "inventory" then
      local extra = cjson.decode((assert(emulator.read_file(root .. "/" .. marker.arg))))
      for section, lists in pairs(extra) do
        inv[section] = inv[section] or {}
        for name, list in pairs(lists) do
          local into = inv[section][name] or {}
          for _, item in ipairs(list) do into[#into + 1] = item end
          inv[section][name] = into
        end
      end
    end
    return inv
  end

  local function run(cmd)
    local parts = {
      "cd " .. q(root) .. " &&",
      "env -u HWCLOUD_SERVERS -u HUAWEICLOUD_SDK_SECURITY_TOKEN -u HUAWEICLOUD_SDK_DOMAIN_ID",
      "-u HUAWEICLOUD_SDK_CREDENTIALS_FILE -u HWCLOUD_METADATA_ENDPOINT",
      "HWCLOUD_ENDPOINT=" .. q(emu.url),
      "HUAWEICLOUD_SDK_AK=" .. q(emu.ak), "HUAWEICLOUD_SDK_SK=" .. q(emu.sk),
      "HUAWEICLOUD_SDK_PROJECT_ID=" .. PROJECT, "HUAWEICLOUD_SDK_REGION=cn-north-4",
      "HOME=" .. q(work .. "/home"),
      "PATH=" .. q(root .. "/bin:" .. (os.getenv("PATH") or "/usr/bin:/bin")),
      "LUA_PATH=" .. q(root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;"
        .. root .. "/emulator/lua/?.lua;" .. root .. "/emulator/lua/?/init.lua;;"),
      "LUA_INIT=" .. q("@" .. root .. "/spec/helpers/checkout.lua"),
      "LUA_CPATH=" .. q(root .. "/build/5.4/?.so;;"),
      "timeout 300", cmd, "2>&1",
    }
    return compat.run(table.concat(parts, " "))
  end

  local PRELUDE = [[
local hwcloud = require "hwcloud"
local client = assert(hwcloud.client{})
local servers = cjson_servers
]]

  for n, s in ipairs(SNIPPETS) do
    local title = string.format("%s snippet at README.md:%d", s.lang, s.line)
    if s.marker and s.marker.kind == "skip" then
      pending(title .. " " .. s.marker.arg)
    else
      it(title .. " runs", function()
        emu:reset()
        local _, st = emu:admin("POST", "/_emulator/inventory", inventory_for(s.marker))
        assert.equal(200, st)
        local file = string.format("%s/snippet-%d.%s", work, n, s.lang)
        local cmd
        if s.lang == "lua" then
          local list = {}
          for i, id in ipairs(servers) do list[i] = string.format("%q", id) end
          local prelude = PRELUDE:gsub("cjson_servers", "{ " .. table.concat(list, ", ") .. " }")
          -- one line of prelude, so errors give the snippet's own line + 1
          emulator.write_file(file, (prelude:gsub("\n", " ")) .. "\n" .. s.code)
          cmd = "lua5.4 " .. q(file)
        else
          emulator.write_file(file, adapt_sh(s.code, emu.url, work .. "/rocks"))
          cmd = "sh -e " .. q(file)
        end
        local out, code = run(cmd)
        assert.equal(0, code, title .. " failed (exit " .. tostring(code) .. "):\n" .. out)
      end)
    end
  end

  it("a failing snippet fails: the runner reports a Lua error and a shell error", function()
    local file = work .. "/broken.lua"
    emulator.write_file(file, "local hwcloud = require 'hwcloud'\nerror('boom')\n")
    local out, code = run("lua5.4 " .. q(file))
    assert.are_not.equal(0, code)
    assert.truthy(out:find("boom", 1, true), out)
    emulator.write_file(work .. "/broken.sh", adapt_sh("true\nfalse\necho not reached\n", emu.url))
    out, code = run("sh -e " .. q(work .. "/broken.sh"))
    assert.are_not.equal(0, code)
    assert.is_nil(out:find("not reached", 1, true), out)
  end)

  it("drops the emulator's start line and points 8080 at the spec's emulator", function()
    local sh = adapt_sh("bin/hwcloud-emulator --port 8080 [--tls CERT KEY] \\\n  --job-seconds 1\n"
      .. "X=1 emulator/bin/hwcloud-emulator --port 0 &\n"
      .. "HWCLOUD_ENDPOINT=http://127.0.0.1:8080 lua5.4 x.lua\n", "http://127.0.0.1:4242")
    assert.equal("# (started by the spec) bin/hwcloud-emulator --port 8080 [--tls CERT KEY] \\\n"
      .. "# (started by the spec)   --job-seconds 1\n"
      .. "# (started by the spec) X=1 emulator/bin/hwcloud-emulator --port 0 &\n"
      .. "HWCLOUD_ENDPOINT=http://127.0.0.1:4242 lua5.4 x.lua\n", sh)
    -- an install line goes to the scratch tree it is given
    assert.equal("luarocks --tree=/tmp/t --lua-version=5.4 make x.rockspec\n",
      adapt_sh("luarocks --lua-version=5.4 make x.rockspec\n", "http://127.0.0.1:4242", "/tmp/t"))
  end)
end)
