-- Messages for the common slips: a core built for another Lua, a dot for a
-- colon on a client method, and errors that say how many attempts were made
-- and why an unsafe request was not repeated. (An endpoint without a
-- scheme: spec/config_spec.lua.)

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local compat = require "spec.helpers.compat"
local hwcloud = require "hwcloud"

local PID = "5d2c1b0a99887766554433221100ffee"

describe("messages", function()
  it("a core built for another Lua gives one line naming the file and the fix", function()
    -- this runtime's interpreter with another runtime's build on LUA_CPATH
    local other = compat.cpath == "build/5.4" and "build/luajit" or "build/5.4"
    local out, code = compat.run(("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' %s -e "
      .. "'local h = require \"hwcloud\"; local ok, e = pcall(h.client, {}); io.write(tostring(e))' 2>&1")
      :format(other, compat.lua))
    assert.are.equal(0, code, out)
    assert.matches("^hwcloud: " .. other:gsub("%p", "%%%0") .. "/hwcloud/core.so was built for another Lua", out)
    assert.matches("make LUA=luajit", out, 1, true)
    -- and what an installed user does: the rock for this interpreter
    local rocks = rawget(_G, "jit") and "5.1" or _VERSION:match("%d+%.%d+")
    assert.matches("luarocks --lua-version=" .. rocks .. " install hwcloud", out, 1, true)
    assert.is_nil(out:find("\n", 1, true))
  end)

  it("an unknown operation points at what an installed user has, not at the checkout's files", function()
    local c = assert(hwcloud.client { endpoint = "http://127.0.0.1:9", ak = "AK", sk = "SK",
      project_id = PID, progress = false })
    local ok, err = pcall(function() return c.workspaceapp.list_server end)
    assert.is_false(ok)
    assert.matches("workspaceapp has no operation 'list_server' (did you mean 'list_servers'?) "
      .. "(`hwcloud ops workspaceapp` lists them)", err, 1, true)
    assert.is_nil(err:find("doc/", 1, true))
    c:close()
  end)

  it("client:pages and client:each suggest the nearest service or operation", function()
    local c = assert(hwcloud.client { endpoint = "http://127.0.0.1:9", ak = "AK", sk = "SK",
      region = "cn-north-4", project_id = PID, progress = false })
    local next_page = c:pages("workspaceapp", "list_server", {})
    local page, err = next_page()
    assert.is_false(page)
    assert.matches("workspaceapp has no operation 'list_server' (did you mean 'list_servers'?)",
      tostring(err), 1, true)
    local seen = 0
    for item, err2 in c:each("workspaceap", "list_servers", {}) do
      seen = seen + 1
      assert.is_false(item)
      assert.matches("unknown service 'workspaceap' (did you mean 'workspaceapp'?)", tostring(err2), 1, true)
    end
    assert.are.equal(1, seen)
    c:close()
  end)

  describe("against the emulator #server", function()
    local emu
    local session = emulator.session({ job_seconds = 1 }, nil, false)
    setup(function() emu = session.start() end)
    teardown(function() session.stop() end)
    before_each(function() emu:reset() end)

    local function new_client()
      return assert(hwcloud.client { endpoint = emu.url, ak = emu.ak, sk = emu.sk,
        region = "cn-north-4", project_id = PID, retry_base = 0.01, progress = false })
    end

    it("c.wait(job) and other methods with a dot say to use a colon", function()
      local c = new_client()
      local job = { service = "workspaceapp", job_id = "j" }
      for _, m in ipairs { "wait", "wait_all", "parallel", "request", "pages", "close" } do
        local ok, err = pcall(c[m], job)
        assert.is_false(ok)
        assert.matches("call client:" .. m .. "(...) with a colon, not a dot", err, 1, true)
      end
      -- raised at the caller's line, not inside hwcloud
      local ok, err = pcall(function() local r = c.wait(job); return r end)
      assert.is_false(ok)
      assert.matches("messages_spec.lua:%d+: hwcloud: call client:wait", err)
      c:close()
    end)

    it("tostring(err) counts the attempts of a retried call", function()
      local c = new_client()
      emu:fault { operation = "rts.list_software_deployments", count = 10, status = 503 }
      local res, err = c.rts:list_software_deployments({}, { retries = 2 })
      assert.is_nil(res)
      assert.are.equal(3, err.attempts)
      assert.matches("(after 3 attempts)", tostring(err), 1, true)
      c:close()
    end)

    it("tostring(err) says why an unsafe request was not repeated", function()
      local c = new_client()
      emu:fault { operation = "workspaceapp.reinstall_server", count = 1, status = 502 }
      local res, err = c.workspaceapp:reinstall_server { server_id = "srv-msg-01" }
      assert.is_nil(res)
      assert.are.equal(1, err.attempts)
      assert.matches("not repeated, the request may have been taken", tostring(err), 1, true)
      assert.matches("retry_unsafe = true", tostring(err), 1, true)
      -- a 4xx is no candidate for a retry: nothing to explain
      emu:fault { operation = "workspaceapp.reinstall_server", count = 1, status = 400 }
      local _, err2 = c.workspaceapp:reinstall_server { server_id = "srv-msg-01" }
      assert.is_nil(tostring(err2):find("not repeated", 1, true))
      c:close()
    end)
  end)
end)
