-- hwcloud.journal on its own (no server): the file's lines, a torn last
-- line, corrupt and foreign files, the lock, the canonical key, masked
-- secrets, and what a journaled task does for each state of its entry.
-- spec/journal_spec.lua kills real rollouts against the emulator.
--
-- Run: make && sh tools/test.sh spec/journal_file_spec.lua

package.path = "./?.lua;" .. package.path

local journal = require "hwcloud.journal"
local core = require "hwcloud.core"
local util = require "spec.helpers.util"
local cjson = require "cjson"

local WORK = "spec/.work/journal_file"

describe("hwcloud.journal", function()
  setup(function() assert(util.sh("rm -rf " .. WORK .. " && mkdir -p " .. WORK)) end)

  local n = 0
  local function fresh(text)
    n = n + 1
    local path = ("%s/j-%d"):format(WORK, n)
    os.remove(path)
    if text then util.write_file(path, text) end
    return path
  end

  local HEADER = '{"hwcloud_journal":1,"at":"2026-12-04T00:00:00Z"}\n'
  local function rec(t)
    local r = { at = "2026-12-04T00:00:01Z", fan = "parallel" }
    for k, v in pairs(t) do r[k] = v end
    return cjson.encode(r) .. "\n"
  end

  describe("encode and key_of", function()
    it("writes one text per request: sorted keys, integers as integers", function()
      local a = journal.key_of("rts", "create", { b = 1, a = { y = 2.5, x = { 3, 4 } }, c = "q\"\n" })
      local b = journal.key_of("rts", "create", { c = "q\"\n", a = { x = { 3, 4 }, y = 2.5 }, b = 1 })
      assert.equal(a, b)
      assert.equal('rts.create {"a":{"x":[3,4],"y":2.5},"b":1,"c":"q\\"\\n"}', a)
      assert.equal('{"n":9007199254740991}', journal.encode { n = 9007199254740991 })
    end)

    it("masks secret-named fields of answers, and only when asked", function()
      local v = { job_id = "j", credential = { secret = "S", access = "A" },
                  ["X-Subject-Token"] = "T" }
      local masked = journal.encode(v, true)
      assert.is_nil(masked:find('"S"', 1, true))
      assert.is_nil(masked:find('"T"', 1, true))
      assert.truthy(masked:find('"access":"A"', 1, true))
      assert.truthy(journal.encode(v):find('"T"', 1, true))
    end)
  end)

  describe("read", function()
    it("takes the last sent and answer record of each entry, per fan-out", function()
      local entries, lines = journal.read(HEADER
        .. rec { event = "open" }
        .. rec { event = "sent", key = "k" }
        .. rec { event = "answered", key = "k", result = { job_id = "1" } }
        .. rec { event = "sent", key = "k", fan = "wait" })
      assert.equal(5, lines)
      assert.equal("1", entries.parallel.k.answer.result.job_id)
      assert.equal(3, entries.parallel.k.sent_line)
      assert.is_nil(entries.wait.k.answer)
    end)

    it("skips a last line cut short, and a cut line a torn record names", function()
      local cut = '{"at":"2026-12-04T00:00:02Z","event":"answ'
      local entries, lines, torn = journal.read(HEADER .. rec { event = "sent", key = "k" } .. cut)
      assert.equal(3, lines)
      assert.equal(3, torn)
      assert.is_nil(entries.parallel.k.answer)
      assert.truthy(journal.read(HEADER .. cut .. '\n{"at":"x","event":"torn","line":2}\n'))
      -- a cut line in the middle with no torn record after it is corruption
      local ok, err = journal.read(HEADER .. cut .. "\n" .. rec { event = "open" })
      assert.is_nil(ok)
      assert.equal("line 2: not a journal record (not a JSON object)", err)
    end)

    it("refuses a foreign file, another version, and records that are not records", function()
      assert.equal("line 1: not an hwcloud journal (no {\"hwcloud_journal\":...} line first)",
        select(2, journal.read("hello\n")))
      assert.equal("line 1: not an hwcloud journal (no {\"hwcloud_journal\":...} line first)",
        select(2, journal.read('{"a":1}\n')))
      -- a foreign last line without a newline is not taken for a cut record
      assert.is_nil((journal.read("server-1\nserver-2")))
      assert.equal("line 1: a journal of version 9, this hwcloud reads version 1",
        select(2, journal.read('{"hwcloud_journal":9}\n')))
      assert.equal("line 2: not a journal record (event nope)",
        select(2, journal.read(HEADER .. '{"at":"x","event":"nope"}\n')))
      assert.equal("line 2: not a journal record (no fan or key)",
        select(2, journal.read(HEADER .. '{"at":"x","event":"sent"}\n')))
    end)
  end)

  describe("open", function()
    it("starts a file with its header and an open record", function()
      local path = fresh()
      local j = assert(journal.open(path, "parallel"))
      j:close()
      local text = util.read_file(path)
      assert.truthy(text:find('^{"hwcloud_journal":1,'))
      assert.truthy(text:find('\n{"at":"[^"]+","event":"open","fan":"parallel"}\n$'))
    end)

    it("ends a torn last line with a torn record, then reads cleanly", function()
      local path = fresh(HEADER .. '{"at":"2026-12-04T00:00:02Z","event":"se')
      local j = assert(journal.open(path, "parallel"))
      j:close()
      local text = util.read_file(path)
      assert.truthy(text:find('"event":"se\n{"at":"[^"]+","event":"torn","line":2}\n'), text)
      j = assert(journal.open(path, "parallel"))
      j:close()
    end)

    it("a header cut short: the file starts again", function()
      local path = fresh('{"hwcloud_jou')
      assert(journal.open(path, "parallel")):close()
      local entries, lines = journal.read(util.read_file(path))
      assert.truthy(entries)
      assert.equal(4, lines)
    end)

    it("refuses a file another run holds, a path it cannot write, a corrupt file", function()
      local path = fresh()
      local holder = assert(io.open(path, "a+"))
      assert(core.lock(holder))
      local j, err = journal.open(path, "parallel")
      assert.is_nil(j)
      assert.equal("opts.journal", err.field)
      assert.truthy(err.message:find("in use by another run", 1, true))
      holder:close()
      assert(journal.open(path, "parallel")):close()
      j, err = journal.open(WORK .. "/missing/j", "parallel")
      assert.is_nil(j)
      assert.truthy(err.message:find("cannot be opened for writing", 1, true))
      local bad = fresh(HEADER .. "{}\n")
      j, err = journal.open(bad, "parallel")
      assert.is_nil(j)
      assert.truthy(err.message:find(bad .. ": line 2:", 1, true), err.message)
      assert.equal(HEADER .. "{}\n", util.read_file(bad))
    end)
  end)

  describe("a journaled call", function()
    -- a task's engine: send() counts, and answers with nothing
    local function engine()
      local e = { sends = 0, sleeps = 0 }
      function e.send() e.sends = e.sends + 1 return { status = 200 } end
      function e.sleep() e.sleeps = e.sleeps + 1 end
      return e
    end

    local function info(key, safe)
      return { key = key, service = "workspaceapp", operation = "reinstall_server",
               method = "POST", request_json = '{"server_id":"s"}', safe = safe }
    end

    -- fn: a call's task that sends once and answers `res`
    local function call_fn(res)
      return function(e) e:send {} return res end
    end

    it("writes sent when the request leaves, and the answer after it", function()
      local path = fresh()
      local j = assert(journal.open(path, "parallel"))
      local e = engine()
      local task = j:call(1, function(eng)
        assert.equal(0, select(2, util.read_file(path):gsub('"event":"sent"', "")))
        eng:send {}
        assert.equal(1, select(2, util.read_file(path):gsub('"event":"sent"', "")))
        return { job_id = "J1" }
      end, info("k1", false))
      assert.same({ job_id = "J1" }, task(e))
      assert.equal(1, e.sends)
      j:close()
      assert.equal("J1", journal.read(util.read_file(path)).parallel.k1.answer.result.job_id)
    end)

    it("answers from the journal, or unknown_outcome, without sending", function()
      local path = fresh()
      local j = assert(journal.open(path, "parallel", true))
      j:call(1, call_fn({ job_id = "J1" }), info("done", false))(engine())
      -- the second task is cut off after its request left
      pcall(j:call(2, function(e) e:send {} error("killed") end, info("lost", false)), engine())
      j:close()
      j = assert(journal.open(path, "parallel"))
      local e = engine()
      local res = j:call(1, call_fn({ job_id = "other" }), info("done", false))(e)
      assert.equal("J1", res.job_id)
      local none, err = j:call(2, call_fn({}), info("lost", false))(e)
      assert.is_nil(none)
      assert.equal("unknown_outcome", err.kind)
      assert.equal("lost", err.key)
      assert.truthy(tostring(err):find("POST lost was sent at ", 1, true))
      assert.truthy(tostring(err):find(path .. " line ", 1, true))
      assert.equal(0, e.sends)
      -- safe to repeat: sent again
      local again = j:call(2, call_fn({ job_id = "J2" }), info("lost", true))(e)
      assert.equal("J2", again.job_id)
      assert.equal(1, e.sends)
      j:close()
    end)

    it("with journal_sync, an unsafe request leaves once its record is on the disk", function()
      local path = fresh()
      local j = assert(journal.open(path, "parallel", true))
      local e = engine()
      j:call(1, call_fn({ job_id = "J1" }), info("unsafe", false))(e)
      -- the wait that lets the other tasks of the turn write theirs first
      assert.equal(1, e.sleeps)
      assert.equal(j.lines - 1, j.on_disk) -- the answer's record is written after
      j:call(2, call_fn({ job_id = "J2" }), info("safe", true))(e)
      assert.equal(1, e.sleeps)
      j:close()
    end)

    it("sends nothing when the sent record cannot be written", function()
      local path = fresh()
      local j = assert(journal.open(path, "parallel"))
      j.fh:close()
      -- a file that takes nothing, as a full disk does (not /dev/full,
      -- whose refusal depends on the C library's buffering)
      local refused = 0
      j.fh = {
        write = function() refused = refused + 1; return nil, "No space left on device" end,
        flush = function() return nil, "No space left on device" end,
        close = function() return true end,
      }
      local e = engine()
      local c = j:call(1, function(eng) return nil, eng:send {} end, info("k", false))(e)
      assert.is_nil(c)
      assert.equal(0, e.sends)
      assert.is_true(refused >= 1)
      j:close()
    end)

    it("journal_sync needs a journal", function()
      local client = assert(require("hwcloud").client { endpoint = "http://127.0.0.1:9",
        ak = "AK", sk = "SK", project_id = "p", region = "cn-north-4", progress = false })
      local res, err = client:parallel({}, { journal_sync = true })
      assert.is_nil(res)
      assert.equal("opts.journal_sync", err.field)
    end)

    it("refuses one key given twice, naming both entries", function()
      local ok, err = journal.distinct({ { key = "a", where = "calls[1]." },
        { key = "b", where = "calls[2]." }, { key = "a", where = "calls[3]." } }, 3)
      assert.is_nil(ok)
      assert.equal("calls[3].key", err.field)
      assert.truthy(err.message:find("calls[1]", 1, true))
    end)
  end)
end)
