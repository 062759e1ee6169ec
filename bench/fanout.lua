-- client:parallel fan-out: CALLS reinstall_server calls at CONCURRENCY
-- against an emulator answering each after --latency-ms. One warm-up
-- fan-out of CONCURRENCY calls, then RUNS timed fan-outs.
--   lua5.4 bench/fanout.lua ENDPOINT CALLS CONCURRENCY RUNS
--       -> fanout_s_<i>=... (seconds, one per run), opens_<i>=... (TCP
--          connections the machine opened during the run, from
--          /proc/net/snmp: this process's new connections plus whatever
--          else runs on the machine), failed=...
local B = require "bench.common"

local endpoint = arg[1]
local n, conc, runs = B.arg(2, 1000), B.arg(3, 64), B.arg(4, 3)
local client = B.client(endpoint)

-- the machine's TCP ActiveOpens counter (nil where it cannot be read)
local function active_opens()
  local f = io.open("/proc/net/snmp", "r")
  if not f then return nil end
  local names, vals
  for line in f:lines() do
    if line:find("^Tcp:") then
      if not names then names = line else vals = line end
    end
  end
  f:close()
  if not names or not vals then return nil end
  local i, col = 0, nil
  for w in names:gmatch("%S+") do
    if w == "ActiveOpens" then col = i end
    i = i + 1
  end
  i = 0
  for w in vals:gmatch("%S+") do
    if i == col then return tonumber(w) end
    i = i + 1
  end
end

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
  local o0 = active_opens()
  local s, f = fan(n)
  local o1 = active_opens()
  failed = failed + f
  B.emit("fanout_s_" .. i, s)
  if o0 and o1 then B.emit("opens_" .. i, o1 - o0) end
end
B.emit("failed", failed)
