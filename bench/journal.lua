-- client:parallel with a journal against the same fan-out without one:
-- CALLS reinstall_server calls at CONCURRENCY, in RUNS rounds; each round
-- times the plain fan-out, one with a fresh journal, and one with a fresh
-- journal and journal_sync = true (every reinstall's record fsynced before
-- it leaves), in turn, so a round's sides meet the same machine.
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
  B.emit("plain_s_" .. i, fan {})
  B.emit("journal_s_" .. i, fan { journal = j })
  B.emit("sync_s_" .. i, fan { journal = s, journal_sync = true })
  os.remove(j)
  os.remove(s)
end
B.emit("failed", failed)
