-- What a person sees while a workflow step runs: lua/hwcloud/progress.lua
-- on its own (with a clock the spec moves and an out object that keeps what
-- is written), then through the client in a child process whose stderr is a
-- pipe, as in CI logs.
--
-- Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" \
--        LUA_CPATH="build/5.4/?.so;;" lua5.4 /usr/bin/busted spec/progress_spec.lua

package.path = "./?.lua;" .. package.path

local progress = require "hwcloud.progress"
local emulator = require "spec.helpers.emulator"
local compat = require "spec.helpers.compat"

-- A clock that only moves when told to.
local function clock()
  local t = { now = 100 }
  t.fn = function() return t.now end
  return t
end

-- An out object that keeps every write.
local function sink()
  local s = { writes = {}, flushes = 0 }
  function s:write(...)
    for i = 1, select("#", ...) do self.writes[#self.writes + 1] = select(i, ...) end
    return self
  end
  function s:flush() self.flushes = self.flushes + 1 return self end
  function s:text() return table.concat(self.writes) end
  return s
end

local function never_tty() return false end
local function always_tty() return true end

describe("progress modes", function()
  it("false (and a run of nothing) is silent", function()
    local c = clock()
    assert.is_nil(progress.new(false, "x", 5, c.fn, always_tty, sink()))
    assert.is_nil(progress.new("live", "x", 0, c.fn, always_tty, sink()))
  end)

  it("live redraws one line in place with done/total, failures and elapsed", function()
    local c, out = clock(), sink()
    local p = progress.new("live", "reinstall", 3, c.fn, always_tty, out)
    c.now = c.now + 0.5
    p:step(false)
    c.now = c.now + 0.7
    p:step(true)
    c.now = c.now + 1.0
    p:step(false)
    p:finish()
    local text = out:text()
    -- every drawing starts at the beginning of the line and clears it
    for draw in text:gmatch("\r\27%[K([^\r]*)") do
      assert.truthy(draw:match("^reinstall: %d/3 done, %d failed, %d+%.%d s\n?$"), draw)
    end
    assert.truthy(text:find("\r\27[Kreinstall: 1/3 done, 0 failed, 0.5 s", 1, true))
    assert.truthy(text:find("\r\27[Kreinstall: 2/3 done, 1 failed, 1.2 s", 1, true))
    assert.truthy(text:find("\r\27[Kreinstall: 3/3 done, 1 failed, 2.2 s\n", 1, true))
    -- the line ends once, at the end
    assert.equal(1, select(2, text:gsub("\n", "")))
    assert.equal("\n", text:sub(-1))
    assert.is_true(out.flushes >= 3)
  end)

  it("live shows the line from the start, before anything is done", function()
    local c, out = clock(), sink()
    progress.new("live", "wait", 4, c.fn, always_tty, out)
    assert.truthy(out:text():find("\r\27[Kwait: 0/4 done, 0 failed, 0.0 s", 1, true))
  end)

  it("live draws at most ten times a second, but always the last step", function()
    local c, out = clock(), sink()
    local p = progress.new("live", "many", 100, c.fn, always_tty, out)
    local before = #out.writes
    for _ = 1, 99 do
      c.now = c.now + 0.001
      p:step(false)
    end
    assert.equal(before, #out.writes)
    c.now = c.now + 0.2
    p:step(false)
    assert.truthy(out.writes[#out.writes]:find("many: 100/100 done", 1, true))
  end)

  it("plain writes whole lines, throttled, and a final line", function()
    local c, out = clock(), sink()
    local p = progress.new("plain", "deploy", 20, c.fn, never_tty, out)
    for _ = 1, 20 do
      c.now = c.now + 0.5
      p:step(false)
    end
    p:finish()
    local text = out:text()
    assert.is_nil(text:find("\r", 1, true))
    assert.is_nil(text:find("\27", 1, true))
    local lines = {}
    for line in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
    -- 10 s for 20 steps: not a line per step, but more than the last one
    assert.is_true(#lines >= 2 and #lines < 20, #lines .. " lines")
    for _, line in ipairs(lines) do
      assert.truthy(line:match("^deploy: %d+/20 done, 0 failed, %d+%.%d s$"), line)
    end
    assert.equal("deploy: 20/20 done, 0 failed, 10.0 s", lines[#lines])
  end)

  it("plain writes just the final line for a quick step", function()
    local c, out = clock(), sink()
    local p = progress.new("plain", "quick", 3, c.fn, never_tty, out)
    p:step(false)
    p:step(true)
    p:step(true)
    p:finish()
    assert.equal("quick: 3/3 done, 2 failed, 0.0 s\n", out:text())
  end)

  it("auto is live on a terminal and plain otherwise", function()
    local c = clock()
    assert.equal("live", progress.new("auto", "a", 1, c.fn, always_tty, sink()).mode)
    assert.equal("plain", progress.new("auto", "a", 1, c.fn, never_tty, sink()).mode)
  end)

  it("a function gets each state, the last one finished", function()
    local c, states = clock(), {}
    local p = progress.new(function(s) states[#states + 1] = s end, "fn", 3, c.fn, never_tty)
    c.now = c.now + 1
    p:step(false)
    c.now = c.now + 1
    p:step(true)
    p:step(false)
    p:finish()
    assert.equal(3, #states)
    assert.same({ label = "fn", done = 1, failed = 0, total = 3, elapsed = 1, finished = false },
      states[1])
    assert.same({ label = "fn", done = 2, failed = 1, total = 3, elapsed = 2, finished = false },
      states[2])
    assert.same({ label = "fn", done = 3, failed = 1, total = 3, elapsed = 2, finished = true },
      states[3])
  end)
end)

describe("progress through the client #server", function()
  local emu
  local PID = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"

  setup(function()
    emu = emulator.start { job_seconds = 1, inventory = require "spec.fixtures.inventory" }
  end)

  teardown(function()
    if emu then emu:stop() end
  end)

  -- Runs `body` (Lua, with `client` and `emu_url` set) as `lua5.4 script 2>&1`
  -- and returns its output and exit code.
  local function child(client_opts, body)
    local script = os.tmpname()
    emulator.write_file(script, table.concat({
      'package.path = "lua/?.lua;lua/?/init.lua;" .. package.path',
      'package.cpath = "' .. compat.cpath .. '/?.so;" .. package.cpath',
      'local hwcloud = require "hwcloud"',
      ("local client = assert(hwcloud.client { endpoint = %q, ak = %q, sk = %q, "
        .. "region = 'cn-north-4', project_id = %q, retry_base = 0.01 %s })")
        :format(emu.url, emu.ak, emu.sk, PID, client_opts),
      body,
      "client:close()",
    }, "\n"))
    local out, code = compat.run("cd " .. emulator.quote(emulator.root) .. " && " .. compat.lua
      .. " " .. emulator.quote(script) .. " 2>&1")
    os.remove(script)
    return out, code
  end

  before_each(function()
    emu:reset()
  end)

  local RUN = [[
local calls = {}
for i = 1, 3 do calls[i] = { "rts", "list_software_deployments", {} } end
calls[4] = { "workspaceapp", "show_job_detail", { job_id = "missing" } }
client:parallel(calls)
local jobs = {
  assert(client.workspaceapp:reinstall_server { server_id = "srv-p-1" }),
  { service = "workspaceapp", job_id = "missing" },
}
client:wait_all(jobs, { interval = 0.1, max_interval = 0.3, label = "reinstall jobs" })
]]

  it("prints plain lines to a pipe by default (progress = auto)", function()
    local out, code = child("", RUN)
    assert.equal(0, code, out)
    assert.is_nil(out:find("\r", 1, true))
    assert.is_nil(out:find("\27", 1, true))
    assert.truthy(out:find("parallel: 4/4 done, 1 failed, %d+%.%d s\n"), out)
    assert.truthy(out:find("reinstall jobs: 2/2 done, 1 failed, %d+%.%d s\n"), out)
  end)

  it("prints nothing with progress = false on the client", function()
    local out, code = child(", progress = false", RUN)
    assert.equal(0, code, out)
    assert.equal("", out)
  end)

  it("prints nothing with progress = false on the call, and calls a function", function()
    local out, code = child("", [[
local seen = {}
client:parallel({ { "rts", "list_software_deployments", {} } }, { progress = false })
client:parallel({ { "rts", "list_software_deployments", {} },
                  { "rts", "list_software_deployments", {} } },
                { progress = function(s) seen[#seen + 1] = s.done .. "/" .. s.total end })
io.stdout:write("seen ", table.concat(seen, ","), "\n")
]])
    assert.equal(0, code, out)
    assert.equal("seen 1/2,2/2\n", out)
  end)

  it("takes a function on the client too", function()
    local out, code = child(", progress = function(s) io.stdout:write(s.done, '/', s.total, ' ') end", [[
client:parallel({ { "rts", "list_software_deployments", {} } })
]])
    assert.equal(0, code, out)
    assert.equal("1/1 ", out)
  end)

  it("refuses an unknown mode on the client and on a call; true means auto", function()
    local out, code = child(", progress = true", [[
local bad, err = require("hwcloud").client { ak = "a", sk = "b", endpoint = "http://x", progress = "loud" }
io.stdout:write(tostring(bad), " ", err.field, " ", err.message, "\n")
local res, perr = client:parallel({}, { progress = 3 })
io.stdout:write(tostring(res), " ", perr.field, " ", perr.message, "\n")
]])
    assert.equal(0, code, out)
    assert.equal('nil progress must be "auto", "live", "plain", false or a function\n'
      .. 'nil opts.progress must be "auto", "live", "plain", false or a function\n', out)
  end)

  it("ends its line when a task raises (a callback's error)", function()
    local out, code = child("", [[
local ok, msg = pcall(client.wait_all, client,
  { assert(client.workspaceapp:reinstall_server { server_id = "srv-raise" }) },
  { interval = 0.1, on_progress = function() error("callback broke") end, label = "w" })
io.stdout:write(tostring(ok), " ", tostring(msg):match("callback broke") or msg, "\n")
]])
    assert.equal(0, code, out)
    assert.truthy(out:find("w: 0/1 done, 0 failed, %d+%.%d s\nfalse callback broke\n"), out)
  end)
end)
