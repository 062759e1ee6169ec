-- client:parallel fan-out: CALLS reinstall_server calls at CONCURRENCY
-- against an emulator answering each after --latency-ms. One warm-up
-- fan-out of CONCURRENCY calls, then RUNS timed fan-outs.
--   lua5.4 bench/fanout.lua ENDPOINT CALLS CONCURRENCY RUNS
--       -> fanout_s_<i>=... (seconds, one per run), failed=...
local B = require "bench.common"

local endpoint = arg[1]
local n, conc, runs = B.arg(2, 1000), B.arg(3, 64), B.arg(4, 3)
local client = B.client(endpoint)

local function fan(count)
  local calls = {}
  for i = 1, count do
    calls[i] = { "workspaceapp", "reinstall_server", B.request(string.format("srv-%05d", i)) }
  end
  local t0 = B.now()
  local results = client:parallel(calls, { concurrency = conc, progress = false })
  local elapsed = B.now() - t0
  local failed = 0
  for i = 1, count do
    if results[i].err then failed = failed + 1 end
  end
  return elapsed, failed
end

fan(conc)
local failed = 0
for i = 1, runs do
  local s, f = fan(n)
  failed = failed + f
  B.emit("fanout_s_" .. i, s)
end
B.emit("failed", failed)
