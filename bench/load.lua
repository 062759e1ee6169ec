-- The cost of loading a service description (services.load: its file, the
-- models requests use, the overlay), side by side with decoding the same
-- data from JSON with lua-cjson (what a description kept as a data file
-- would cost), and what the first call then adds. Each measurement runs in a fresh interpreter; rounds
-- interleave the sides and the ratio is taken within each round.
--
--   lua5.4 bench/load.lua [rounds]             -> bench: lines
--   lua5.4 bench/load.lua one ours|peer NAME   -> ms=... kb=... (one child)

local mode = arg[1]

local function child(side, name)
  local cjson = require "cjson"
  collectgarbage()
  collectgarbage()
  local k0 = collectgarbage("count")
  local clock = os.clock
  local t0, t1
  if side == "ours" then
    local services = require "hwcloud.services"
    t0 = clock()
    local svc = services.load(name)
    t1 = clock()
    -- what a first call adds: its operation made ready; then what its
    -- answer schema adds when an answer needs it (resolving it reads the
    -- models only answers use)
    local first
    for n in pairs(svc.all) do first = first or n end
    local t2 = clock()
    local op = svc.operations[first]
    local t3 = clock()
    local _ = op.response
    io.write(string.format("first_ms=%.3f answer_ms=%.3f ", (t3 - t2) * 1000, (clock() - t3) * 1000))
  else
    local f = assert(io.open(os.getenv("BENCH_JSON"), "rb"))
    local text = f:read("*a")
    f:close()
    t0 = clock()
    local _ = cjson.decode(text)
    t1 = clock()
    text = nil -- luacheck: ignore 311
  end
  collectgarbage()
  collectgarbage()
  io.write(string.format("ms=%.3f kb=%.0f\n", (t1 - t0) * 1000, collectgarbage("count") - k0))
end

if mode == "one" then
  child(arg[2], arg[3])
  return
end

-- the description as JSON, for the peer: the generated data itself (the
-- field's generated files, as the catalog names them)
local function to_json(name)
  local cjson = require "cjson"
  local data = {}
  for i, file in ipairs(require("hwcloud.services").entry(name).files) do
    data[i] = dofile("lua/hwcloud/services/gen/" .. file .. ".lua")
  end
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(cjson.encode(data))
  f:close()
  return path
end

local function run(side, name, json)
  local p = io.popen(("BENCH_JSON=%s lua5.4 bench/load.lua one %s %s"):format(json, side, name))
  local out = p:read("*a")
  p:close()
  local ms, kb = out:match(" ?ms=([%d.]+) kb=(%d+)")
  return assert(tonumber(ms), out), tonumber(kb), tonumber(out:match("first_ms=([%d.]+)")),
    tonumber(out:match("answer_ms=([%d.]+)"))
end

local function median(t)
  table.sort(t)
  local n = #t
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

local rounds = tonumber(mode) or 5
-- the seeds' goal is on the load alone; the largest service's (HSS) on its
-- whole first use: the load and the first operation made ready
local GOAL = { hss = { ms = 25, kb = 8192, first = true } }
for _, name in ipairs { "workspaceapp", "iam", "codeartsbuild", "hss" } do
  local goal = GOAL[name] or { ms = 5, kb = 1024 }
  local json = to_json(name)
  local ratios, ours_ms, ours_kb, peer_ms, first, answer = {}, {}, {}, {}, {}, {}
  for _ = 1, rounds do
    local om, ok, fm, am = run("ours", name, json)
    first[#first + 1], answer[#answer + 1] = fm, am
    local pm = run("peer", name, json)
    ours_ms[#ours_ms + 1], ours_kb[#ours_kb + 1], peer_ms[#peer_ms + 1] = om, ok, pm
    ratios[#ratios + 1] = om / pm
  end
  os.remove(json)
  local r = {}
  for i, v in ipairs(ratios) do r[i] = v end
  table.sort(r)
  local med_ms, med_kb, med_first = median(ours_ms), median(ours_kb), median(first)
  local judged = med_ms + (goal.first and med_first or 0)
  print(("bench: load-%s ours=%.2fms,%dKB peer(cjson.decode)=%.2fms ratio=ours/peer median=%.2f "
    .. "spread=%.2f..%.2f goal<=%dms%s,<=%dKB %s; first operation +%.2fms; "
    .. "its answer schema, when an answer needs it, +%.2fms"):format(name, med_ms,
    med_kb, median(peer_ms), median(ratios), r[1], r[#r], goal.ms,
    goal.first and "(with the first operation)" or "", goal.kb,
    (judged <= goal.ms and med_kb <= goal.kb) and "met" or "MISSED", med_first, median(answer)))
end
