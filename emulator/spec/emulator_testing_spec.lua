-- hwcloud.emulator.testing, the helper module for users' own tests: a
-- plain script drives it under each Lua the machine has, its errors say
-- what went wrong, and emu:env() points the hwcloud client at it.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local testing = require "hwcloud.emulator.testing"

local q, run = testing.quote, testing.run
local work = emulator.work
-- absolute: the plain script runs from another folder
local root = emulator.root
if root:sub(1, 1) ~= "/" then root = run("pwd"):gsub("%s+$", "") .. "/" .. root end

-- the module's own folder only: it needs neither the client nor busted
local CHILD_PATH = "LUA_PATH=" .. q(root .. "/emulator/lua/?.lua;" .. root .. "/emulator/lua/?/init.lua;;")

local function have(lua)
  local _, code = run("command -v " .. lua .. " >/dev/null")
  return code == 0
end

describe("hwcloud.emulator.testing from a plain script #server", function()
  local want = table.concat({
    "url\ttrue",
    "faults\t1\tworkspaceapp.show_job_detail\t2\tanswers 503",
    "status\t503",
    "remaining\t1",
    "count\t1",
    "log\t1",
    "inventory\tplain-job",
    "responses\t1",
    "env\ttrue\tHWCLOUDEMULATORAK001\thwcloud-emulator-secret",
    "run\ttrue\t0",
    "refused\tnil\ttrue",
    "reset\t0",
    "stop\t0",
    "gone\t0",
  }, "\n")

  for _, lua in ipairs { "lua5.1", "lua5.3", "lua5.4", "luajit" } do
    it("starts it, sets a fault, sees it and stops it under " .. lua, function()
      if lua ~= "lua5.1" and lua ~= "lua5.4" and not have(lua) then
        return pending(lua .. " is not installed")
      end
      -- from another folder: the module finds the launcher by itself
      local out, code = run("cd /tmp && " .. CHILD_PATH .. " " .. lua .. " "
        .. q(root .. "/spec/fixtures/testing/plain.lua") .. " 2>&1")
      assert.are.equal(0, code, out)
      assert.are.equal(want, (out:gsub("\n$", "")))
    end)
  end
end)

describe("hwcloud.emulator.testing when the script fails #server", function()
  for _, lua in ipairs { "lua5.1", "lua5.4", "luajit" } do
    it("stops the emulator of a script that raised before emu:stop(), under " .. lua, function()
      local out, code = run("cd /tmp && " .. CHILD_PATH .. " " .. lua .. " "
        .. q(root .. "/spec/fixtures/testing/raises.lua") .. " 2>&1")
      assert.are_not.equal(0, code, out)
      assert.matches("the script fails before emu:stop%(%)", out)
      local pid, dir = out:match("pid\t(%d+)"), out:match("dir\t([^\n]+)")
      assert.truthy(pid, out)
      -- gone when the interpreter is: its finalizer waited for the exit
      local _, alive = run("kill -0 " .. pid .. " 2>/dev/null")
      assert.are_not.equal(0, alive, "the emulator " .. pid .. " outlived its script")
      local _, there = run("test -e " .. q(dir))
      assert.are_not.equal(0, there, "its folder is left: " .. dir)
    end)
  end
end)

describe("hwcloud.emulator.testing's errors", function()
  it("refuses bad options, naming the option and the rule", function()
    local emu, err = testing.start { port = 70000 }
    assert.is_nil(emu)
    assert.are.equal("testing.start: port must be an integer from 0 to 65535 (0: a free one)", err)
    emu, err = testing.start { job_seconds = -1 }
    assert.is_nil(emu)
    assert.are.equal("testing.start: job_seconds must be a number >= 0", err)
    emu, err = testing.start { tls = { cert = "c.pem" } }
    assert.is_nil(emu)
    assert.matches("tls must be { cert = PEM file, key = PEM file }", err, 1, true)
  end)

  it("says when nginx is missing", function()
    local emu, err = testing.start { bin = emulator.bin, work_dir = work, nginx = "/nonexistent/nginx" }
    assert.is_nil(emu)
    assert.matches("the emulator exited at start", err, 1, true)
    assert.matches("nginx not found: /nonexistent/nginx", err, 1, true)
  end)

  it("says when the port is busy, with the emulator's stderr #server", function()
    local first = emulator.start {}
    local emu, err = testing.start { bin = emulator.bin, work_dir = work, port = first.port }
    first:stop()
    assert.is_nil(emu)
    assert.matches("testing.start: port " .. first.port .. " is busy", err, 1, true)
    assert.matches("Address already in use", err, 1, true)
  end)

  it("gives up after start_timeout, showing the emulator's stderr", function()
    -- an nginx with the Lua module built in that never listens
    local dir = work .. "/testing-slow-" .. math.random(1e6)
    assert(run("mkdir -p " .. q(dir)))
    emulator.write_file(dir .. "/nginx", "#!/bin/sh\n"
      .. "if [ \"$1\" = -V ]; then echo 'nginx version: openresty/1.21.4.1' >&2;"
      .. " echo 'configure arguments: --add-module=../ngx_lua-0.10.21' >&2; exit 0; fi\n"
      .. "echo $$ >" .. q(dir .. "/nginx.pid") .. "\necho 'slow nginx here' >&2\nexec sleep 30\n")
    run("chmod +x " .. q(dir .. "/nginx"))
    local emu, err = testing.start { bin = emulator.bin, work_dir = dir, nginx = dir .. "/nginx",
                                     start_timeout = 1 }
    assert.is_nil(emu)
    assert.matches("testing.start: the emulator did not start within 1 s; its stderr:", err, 1, true)
    -- the launcher, stopped, stops its nginx too
    local pid = emulator.read_file(dir .. "/nginx.pid"):match("%d+")
    local alive
    for _ = 1, 100 do
      alive = select(2, run("kill -0 " .. pid .. " 2>/dev/null")) == 0
      if not alive then break end
      testing.sleep(0.05)
    end
    assert.is_false(alive, "the slow nginx still runs")
    run("rm -rf " .. q(dir))
  end)
end)

describe("emu:env() #server", function()
  it("points the hwcloud client at the emulator, whose canned answer it gets", function()
    local emu = emulator.start {}
    assert(emu:respond { operation = "rts.list_software_deployments", status = 200,
                         body = { software_deployments = { { id = "canned-1" } } } })
    local out, code = emu:run("cd " .. q(root)
      .. " && LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;' lua5.4 -e '"
      .. "local c = assert(require(\"hwcloud\").client{ progress = false })\n"
      .. "local r = assert(c.rts:list_software_deployments{})\n"
      .. "io.write(r.software_deployments[1].id)'")
    emu:stop()
    assert.are.equal(0, code, out)
    assert.are.equal("canned-1", out)
  end)
end)

-- examples/test_with_emulator.lua, a busted test, runs as its header says in
-- spec/examples_spec.lua.
