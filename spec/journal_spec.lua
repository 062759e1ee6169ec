-- A journal makes a fan-out resumable (DESIGN 3e): a rollout killed with
-- SIGKILL at any point and started again with the same journal sends no
-- unsafe request twice, gets its answered entries back from the journal,
-- waits on the jobs it had started, and sends what it never sent. The
-- rollout is a real process (spec/helpers/journal_rollout.lua) against the
-- emulator, whose request log says what reached it.
--
-- Run: make && sh tools/test.sh spec/journal_spec.lua

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"
local cjson = require "cjson"
local core = require "hwcloud.core"

local PID = "5d6e7f8091a2b3c4d5e6f708192a3b4c"
local WORK = emulator.work .. "/journal"
local q = util.quote

describe("a journal #server", function()
  local emu, client
  local session = emulator.session({ job_seconds = 3, inventory = require "spec.fixtures.inventory" },
                                   PID, { region = "cn-north-4", retry_base = 0.01 })
  setup(function()
    emu, client = session.start()
    assert(util.sh("rm -rf " .. q(WORK) .. " && mkdir -p " .. q(WORK)))
  end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  local runs = 0

  -- the rollout's command line, with the emulator's environment
  local function command(args)
    runs = runs + 1
    local env = emu:env()
    env.HUAWEICLOUD_SDK_PROJECT_ID = PID
    env.LUA_PATH = "lua/?.lua;lua/?/init.lua;;"
    env.LUA_CPATH = "build/5.4/?.so;;"
    local parts = { "env" }
    for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. q(v) end
    parts[#parts + 1] = "lua5.4 spec/helpers/journal_rollout.lua"
    for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
    local out = ("%s/run-%d"):format(WORK, runs)
    return table.concat(parts, " ") .. " >" .. q(out) .. " 2>" .. q(out .. ".err"), out
  end

  local function lines_of(out)
    local list = {}
    for l in (util.read_file(out) or ""):gmatch("[^\n]+") do list[#list + 1] = cjson.decode(l) end
    return list
  end

  -- runs the rollout to its end: its lines
  local function run(args)
    local cmd, out = command(args)
    assert(util.sh(cmd), "the rollout failed: " .. tostring(util.read_file(out .. ".err")))
    local list = lines_of(out)
    assert.equal("done", list[#list].phase)
    return list
  end

  local function wait_until(what, cond)
    local deadline = core.now() + 30
    while not cond() do
      assert(core.now() < deadline, "timed out waiting for " .. what)
      util.sleep(0.02)
    end
  end

  -- starts the rollout, SIGKILLs it once `cond` holds; its lines so far
  local function run_and_kill(args, what, cond)
    local cmd, out = command(args)
    local p = assert(io.popen("exec " .. cmd .. " & echo $!"))
    local pid = assert(tonumber(p:read("*l")))
    p:close()
    wait_until(what, cond)
    assert(util.sh("kill -KILL " .. pid))
    wait_until("the rollout to be gone", function() return not util.sh("kill -0 " .. pid .. " 2>/dev/null") end)
    return lines_of(out)
  end

  -- how many lines of the journal hold every string of `pats`
  local function records(path, ...)
    local pats, n = { ... }, 0
    for l in (util.read_file(path) or ""):gmatch("[^\n]+") do
      local all = true
      for _, p in ipairs(pats) do all = all and l:find(p, 1, true) ~= nil end
      if all then n = n + 1 end
    end
    return n
  end

  -- the reinstall requests the emulator received, per server
  local function reinstalls()
    local per, total = {}, 0
    for _, r in ipairs(emu:log()) do
      local server = r.path:match("/app%-servers/([^/]+)/actions/reinstall$")
      if server then
        per[server] = (per[server] or 0) + 1
        total = total + 1
      end
    end
    return per, total
  end

  local function by(list, phase, field)
    local out = {}
    for _, l in ipairs(list) do
      if l.phase == phase then out[l[field]] = l end
    end
    return out
  end

  it("resumes a rollout killed with answers outstanding and entries never sent", function()
    local J = WORK .. "/outstanding.journal"
    -- two reinstalls held 3 s by the emulator, one slot left for the rest
    emu:fault { operation = "workspaceapp.reinstall_server", count = 2, delay_ms = 3000 }
    -- five sends a second: the killed run leaves entries it never sent
    local args = { J, "1", "10", "3", "rate=5" }
    run_and_kill(args, "four answers in the journal", function()
      return records(J, '"event":"answered"', '"fan":"parallel"') >= 4
    end)
    -- what the killed run left: answered, sent without an answer, never sent
    local text = util.read_file(J)
    local answered, unanswered, sent = {}, {}, {}
    for l in text:gmatch("[^\n]+") do
      local r = cjson.decode(l)
      if r.event == "answered" then answered[r.key] = true end
      if r.event == "sent" then sent[r.key] = true end
    end
    local n_answered, n_unanswered = 0, 0
    for k in pairs(sent) do
      if answered[k] then n_answered = n_answered + 1
      else unanswered[k] = true; n_unanswered = n_unanswered + 1 end
    end
    assert.is_true(n_answered >= 4)
    assert.is_true(n_unanswered >= 2, "the two held requests have no answer")
    assert.is_true(n_answered + n_unanswered < 10, "some entries were never sent")
    -- the held requests reach the emulator whatever happened to the client
    util.sleep(3.2)
    local _, before = reinstalls()
    local list = run(args)
    local per, total = reinstalls()
    -- no server was reinstalled twice: run 2 sent only the never-sent ones
    assert.equal(10, total)
    for n = 1, 10 do assert.equal(1, per[("fleet-%03d"):format(n)]) end
    assert.equal(10 - n_answered - n_unanswered, total - before)
    local got = by(list, "parallel", "server")
    for n = 1, 10 do
      local server = ("fleet-%03d"):format(n)
      local l, key = got[server], "reinstall " .. server
      if answered[key] then
        assert.is_true(l.replayed, server .. " came back from the journal")
        assert.is_string(l.job_id)
      elseif unanswered[key] then
        assert.equal("unknown_outcome", l.kind)
      else
        assert.is_false(l.replayed)
        assert.is_string(l.job_id)
      end
    end
    -- every job started (the replayed ones too) was waited on to its end
    local waits = by(list, "wait", "job_id")
    local n_waits = 0
    for _, w in pairs(waits) do
      n_waits = n_waits + 1
      assert.equal("SUCCESS", w.status)
    end
    assert.equal(10 - n_unanswered, n_waits)
  end)

  it("waits on the jobs a run killed during its wait had started, starting none again", function()
    local J = WORK .. "/wait.journal"
    local args = { J, "11", "16", "6" }
    run_and_kill(args, "the wait to begin", function()
      return records(J, '"event":"waiting"') >= 6
    end)
    assert.equal(0, records(J, '"event":"answered"', '"fan":"wait"'), "killed before a job ended")
    local _, total = reinstalls()
    assert.equal(6, total)
    local polls = emu:counts()["workspaceapp.show_job_detail"] or 0
    local list = run(args)
    local per
    per, total = reinstalls()
    assert.equal(6, total, "no reinstall was sent again")
    for n = 11, 16 do assert.equal(1, per[("fleet-%03d"):format(n)]) end
    local waited = emu:counts()["workspaceapp.show_job_detail"] or 0
    assert.is_true(waited > polls, "the restarted run polled the jobs")
    for _, l in ipairs(list) do
      if l.phase == "parallel" then
        assert.is_true(l.replayed)
        assert.is_string(l.job_id)
      elseif l.phase == "wait" then
        assert.equal("SUCCESS", l.status)
        assert.is_false(l.replayed)
      end
    end
    -- a third run: everything from the journal, nothing sent at all
    local third = run(args)
    assert.equal(waited, emu:counts()["workspaceapp.show_job_detail"])
    _, total = reinstalls()
    assert.equal(6, total)
    for _, l in ipairs(third) do
      if l.phase ~= "done" then assert.is_true(l.replayed) end
    end
  end)

  it("completes a rollout killed again and again, each server reinstalled at most once", function()
    local J = WORK .. "/again.journal"
    local args = { J, "45", "50", "2", "rate=6" }
    emu:fault { operation = "workspaceapp.reinstall_server", count = 1, delay_ms = 1500 }
    for _, after in ipairs { 0.4, 0.5, 0.6, 0.8 } do
      local t0 = core.now()
      run_and_kill(args, "the moment to kill", function() return core.now() - t0 >= after end)
    end
    util.sleep(1.6)
    local list = run(args)
    local per = reinstalls()
    local got, waits = by(list, "parallel", "server"), by(list, "wait", "job_id")
    for n = 45, 50 do
      local server = ("fleet-%03d"):format(n)
      local l = got[server]
      assert.is_true((per[server] or 0) <= 1, server .. " reinstalled " .. tostring(per[server]))
      if l.job_id then
        assert.equal(1, per[server])
        assert.equal("SUCCESS", waits[l.job_id].status)
      else
        assert.equal("unknown_outcome", l.kind)
      end
    end
  end)

  it("without a journal the same kill sends the reinstalls again (the control)", function()
    emu:fault { operation = "workspaceapp.reinstall_server", count = 2, delay_ms = 3000 }
    local args = { "-", "21", "26", "3" }
    run_and_kill(args, "three reinstalls at the emulator", function()
      return (emu:counts()["workspaceapp.reinstall_server"] or 0) >= 4
    end)
    util.sleep(3.2)
    run(args)
    local per, total = reinstalls()
    assert.is_true(total > 6, "reinstalls sent: " .. total)
    local twice = 0
    for _, c in pairs(per) do if c > 1 then twice = twice + 1 end end
    assert.is_true(twice >= 4, "servers reinstalled twice: " .. twice)
  end)

  it("sends again, with retry_unsafe, an entry sent without a recorded answer", function()
    local J = WORK .. "/retry_unsafe.journal"
    emu:fault { operation = "workspaceapp.reinstall_server", count = 1, delay_ms = 3000 }
    local args = { J, "27", "28", "1" }
    run_and_kill(args, "the first reinstall to be sent", function()
      return records(J, '"event":"sent"') >= 1
    end)
    util.sleep(3.2)
    args[5] = "retry_unsafe=true"
    local list = run(args)
    local per = reinstalls()
    assert.equal(2, per["fleet-027"])
    assert.equal(1, per["fleet-028"])
    for _, l in ipairs(list) do
      if l.phase == "parallel" then assert.is_string(l.job_id) end
    end
  end)

  describe("hwcloud call and run --journal", function()
    local function hwcloud(args)
      local env = emu:env()
      env.HUAWEICLOUD_SDK_PROJECT_ID = PID
      local parts = { "env" }
      for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. q(v) end
      parts[#parts + 1] = "bin/hwcloud --quiet " .. args .. " 2>&1"
      local p = assert(io.popen(table.concat(parts, " ")))
      local out = p:read("*a")
      p:close()
      return out
    end

    it("sends a call once, and its answer comes back from the journal", function()
      local J = WORK .. "/cli-call.journal"
      local cmd = "call workspaceapp reinstall_server server_id=fleet-041 --wait --journal " .. q(J)
      local first = cjson.decode(hwcloud(cmd))
      assert.equal("SUCCESS", first.status)
      local second = cjson.decode(hwcloud(cmd))
      assert.same(first, second)
      assert.equal(1, emu:counts()["workspaceapp.reinstall_server"])
      assert.equal(1, records(J, '"event":"answered"', '"fan":"wait"'))
    end)

    it("gives a run script's fan-outs the journal", function()
      local J = WORK .. "/cli-run.journal"
      local script = util.write_file(WORK .. "/rollout.lua", [[
        local client = ...
        local calls = {}
        for i = 42, 44 do
          calls[#calls + 1] = { "workspaceapp", "reinstall_server", { server_id = "fleet-0" .. i } }
        end
        local res = assert(client:parallel(calls, { progress = false }))
        local jobs, replayed = {}, 0
        for i, r in ipairs(res) do
          jobs[i] = assert(r.result)
          if r.replayed then replayed = replayed + 1 end
        end
        local done = assert(client:wait_all(jobs, { interval = 0.1, progress = false }))
        for _, d in ipairs(done) do assert(d.result.status == "SUCCESS") end
        print("replayed " .. replayed)
      ]])
      assert.equal("replayed 0\n", hwcloud("run --journal " .. q(J) .. " " .. q(script)))
      assert.equal("replayed 3\n", hwcloud("run --journal " .. q(J) .. " " .. q(script)))
      assert.equal(3, emu:counts()["workspaceapp.reinstall_server"])
      assert.equal(3, records(J, '"event":"answered"', '"fan":"wait"'))
    end)
  end)

  describe("the file", function()
    -- n deployments to servers f<first>.. of the spec inventory
    local function calls(first, n)
      local list = {}
      for i = 1, n do
        list[i] = { "rts", "create_software_deployment",
                    { config_id = "cfg-par", server_id = "f" .. (first + i - 1),
                      status = "IN_PROGRESS" } }
      end
      return list
    end

    local function count()
      return emu:counts()["rts.create_software_deployment"] or 0
    end

    it("is plain JSON lines, keyed by service, operation and request by default", function()
      local J = WORK .. "/plain.journal"
      local res = assert(client:parallel(calls(1, 3), { journal = J }))
      for i = 1, 3 do assert.is_nil(res[i].err) end
      local again = assert(client:parallel(calls(1, 3), { journal = J }))
      assert.equal(3, count())
      for i = 1, 3 do
        assert.is_true(again[i].replayed)
        assert.same(res[i].result, again[i].result)
      end
      local text = util.read_file(J)
      assert.truthy(text:find('^{"hwcloud_journal":1'))
      for l in text:gmatch("[^\n]+") do assert.is_table(cjson.decode(l)) end
      assert.equal(3, records(J, '"event":"sent"', 'rts.create_software_deployment {\\"config_id\\"'))
      assert.equal("\n", text:sub(-1))
    end)

    it("survives a torn last line", function()
      local J = WORK .. "/torn.journal"
      assert(client:parallel(calls(4, 2), { journal = J }))
      -- a record cut short by a kill: no newline
      local f = assert(io.open(J, "ab"))
      f:write('{"at":"2026-12-04T00:00:00Z","event":"sent","fan":"parallel","key":"rts.cre')
      f:close()
      local res, err = client:parallel(calls(4, 3), { journal = J })
      assert.is_nil(err)
      assert.is_true(res[1].replayed)
      assert.is_true(res[2].replayed)
      assert.is_nil(res[3].err)
      assert.equal(3, count())
      -- the cut line is noted, and the file reads cleanly from then on
      assert.equal(1, records(J, '"event":"torn"'))
      res = assert(client:parallel(calls(4, 3), { journal = J }))
      assert.is_true(res[3].replayed)
      assert.equal(3, count())
    end)

    it("refuses a corrupt or foreign file, naming the line, sending nothing", function()
      local J = WORK .. "/corrupt.journal"
      assert(client:parallel(calls(7, 1), { journal = J }))
      local text = util.read_file(J)
      local lines = select(2, text:gsub("\n", ""))
      util.write_file(J, text .. "this is not a record\n" .. '{"at":"x","event":"open"}\n')
      local res, err = client:parallel(calls(7, 2), { journal = J })
      assert.is_nil(res)
      assert.equal("validation", err.kind)
      assert.equal("opts.journal", err.field)
      assert.truthy(err.message:find("line " .. (lines + 1) .. ":", 1, true), err.message)
      local foreign = WORK .. "/servers.txt"
      util.write_file(foreign, "fleet-001\nfleet-002")
      res, err = client:parallel(calls(7, 2), { journal = foreign })
      assert.is_nil(res)
      assert.truthy(err.message:find("line 1: not an hwcloud journal", 1, true), err.message)
      assert.equal("fleet-001\nfleet-002", util.read_file(foreign))
      assert.equal(1, count())
    end)

    it("refuses a path it cannot write and a journal another run holds", function()
      local res, err = client:parallel(calls(9, 1),
        { journal = WORK .. "/no/such/dir/j" })
      assert.is_nil(res)
      assert.equal("opts.journal", err.field)
      assert.truthy(err.message:find("cannot be opened", 1, true))
      local J = WORK .. "/locked.journal"
      local holder = assert(io.open(J, "a+"))
      assert(core.lock(holder))
      res, err = client:parallel(calls(9, 1), { journal = J })
      assert.is_nil(res)
      assert.truthy(err.message:find("in use by another run", 1, true))
      holder:close()
      assert.equal(0, count())
      assert(client:parallel(calls(9, 1), { journal = J }))
      assert.equal(1, count())
    end)

    it("refuses two entries with one key, sending nothing", function()
      local list = calls(10, 3)
      list[3] = list[1]
      local res, err = client:parallel(list, { journal = WORK .. "/dup.journal" })
      assert.is_nil(res)
      assert.equal("calls[3].key", err.field)
      assert.truthy(err.message:find("calls[1]", 1, true))
      list = calls(10, 2)
      list[1].key, list[2].key = "same", "same"
      res, err = client:parallel(list, { journal = WORK .. "/dup.journal" })
      assert.is_nil(res)
      assert.equal("calls[2].key", err.field)
      assert.equal(0, count())
    end)

    it("matches a changed run by key and reports the keys it no longer asks for", function()
      local J = WORK .. "/changed.journal"
      local list = calls(13, 3)
      for i = 1, 3 do list[i].key = "deploy " .. i end
      assert(client:parallel(list, { journal = J }))
      local changed = calls(13, 4)
      for i = 1, 4 do changed[i].key = "deploy " .. (i + 1) end
      local res = assert(client:parallel(changed, { journal = J }))
      assert.is_true(res[1].replayed)
      assert.is_true(res[2].replayed)
      assert.is_nil(res[3].replayed)
      assert.same({ "deploy 1" }, res.unasked)
      assert.truthy(res.warnings[1]:find("deploy 1", 1, true))
      assert.equal(5, count())
    end)

    it("keeps a parallel and the wait_all after it apart in one file", function()
      local J = WORK .. "/shared.journal"
      local list = {}
      for i = 1, 2 do
        list[i] = { "workspaceapp", "reinstall_server", { server_id = "fleet-03" .. i } }
      end
      local res = assert(client:parallel(list, { journal = J, journal_sync = true }))
      local jobs = { res[1].result, res[2].result }
      local w = assert(client:wait_all(jobs, { journal = J, interval = 0.1, max_interval = 0.2 }))
      assert.equal("SUCCESS", w[1].result.status)
      assert.is_nil(w.unasked)
      local again = assert(client:parallel(list, { journal = J }))
      assert.is_nil(again.unasked)
      assert.is_true(again[1].replayed)
      local w2 = assert(client:wait_all({ again[1].result, again[2].result }, { journal = J }))
      assert.is_true(w2[2].replayed)
      assert.same(w[2].result, w2[2].result)
      assert.equal(2, emu:counts()["workspaceapp.reinstall_server"])
    end)

    it("holds no secret: no SK, no token, no Authorization, no signature", function()
      local J = WORK .. "/secrets.journal"
      local token = emu:token(PID)
      local tclient = assert(require("hwcloud").client { endpoint = emu.url, token = token,
        project_id = PID, region = "cn-north-4", progress = false })
      assert(tclient:parallel(calls(18, 1), { journal = J }))
      assert(client:parallel(calls(19, 1), { journal = J, label = "aksk" }))
      -- an answer that carries a token (IAM's X-Subject-Token, as a field)
      local got = assert(client:parallel({ { "iam", "keystone_create_user_token_by_password", {
        auth = { identity = { methods = { "password" }, password = { user = {
          name = "deployer", password = "x", domain = { name = "acme" } } } },
          scope = { project = { id = PID } } } } } }, { journal = J, label = "iam" }))
      local issued = got[1].result and got[1].result["X-Subject-Token"]
      local text = util.read_file(J)
      for _, secret in ipairs { emu.sk, token, "Authorization", "SDK-HMAC-SHA256", "Signature=",
                                "X-Auth-Token:", issued } do
        assert.is_nil(text:find(secret, 1, true), "the journal holds " .. secret)
      end
      if issued then assert.truthy(text:find('"X-Subject-Token":"***"', 1, true)) end
    end)
  end)
end)
