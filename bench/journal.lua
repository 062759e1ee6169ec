-- client:parallel with a journal against the same fan-out without one:
-- CALLS reinstall_server calls at CONCURRENCY, in RUNS rounds; each round
-- times the plain fan-out, one with a fresh journal, and one with a fresh
-- journal and journal_sync = true (every reinstall's record fsynced before
-- it leaves), so a round's sides meet the same machine. Each fan-out starts
-- from a reset emulator (its jobs pile up otherwise), and the order turns
-- round by round, so neither side always comes first.
--   lua5.4 bench/journal.lua ENDPOINT CALLS CONCURRENCY RUNS DIR
--       -> plain_s_<i>=..., journal_s_<i>=..., sync_s_<i>=... (seconds),
--          failed=...
local B = require "bench.common"

local endpoint = arg[1]
local n, conc, runs = B.arg(2, 1000), B.arg(3, 64), B.arg(4, 3)
local dir = assert(arg[5], "a folder for the journals")
local client = B.client(endpoint)

local calls = {}
for i = 1, n do
  calls[i] = { "workspaceapp", "reinstall_server", B.request(string.format("srv-%05d", i)) }
end

local failed = 0
local function fan(opts)
  opts.concurrency, opts.progress = conc, false
  assert(os.execute("curl -fsS -k -o /dev/null -X POST " .. endpoint .. "/_emulator/reset"))
  local t0 = B.now()
  local results = assert(client:parallel(calls, opts))
  local elapsed = B.now() - t0
  for i = 1, n do
    if results[i].err or results[i].replayed then failed = failed + 1 end
  end
  return elapsed
end

fan {}
for i = 1, runs do
  local j, s = dir .. "/bench-" .. i .. ".journal", dir .. "/bench-sync-" .. i .. ".journal"
  os.remove(j)
  os.remove(s)
  local sides = {
    function() B.emit("plain_s_" .. i, fan {}) end,
    function() B.emit("journal_s_" .. i, fan { journal = j }) end,
    function() B.emit("sync_s_" .. i, fan { journal = s, journal_sync = true }) end,
  }
  for k = 0, 2 do sides[(i + k) % 3 + 1]() end
  os.remove(j)
  os.remove(s)
end
B.emit("failed", failed)
