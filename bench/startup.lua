-- The cost of `require "hwcloud"` plus `hwcloud.client{}` with the whole
-- catalog (CPU time and Lua memory, in a fresh interpreter), side by side
-- with a bare `require` of lua-cjson and the C core (libcurl and OpenSSL
-- loaded and initialised: what any binding of them costs before the first
-- request). Rounds interleave the sides; the ratio is taken within each
-- round. The resident memory the process gained is printed too, and how
-- many service descriptions were loaded (none should be).
--
--   lua5.4 bench/startup.lua [rounds]       -> bench: lines
--   lua5.4 bench/startup.lua one ours|peer  -> ms=... kb=... rss_kb=... gen=... (one child)

local mode = arg[1]

local function rss_kb()
  local f = io.open("/proc/self/status", "r")
  if not f then return 0 end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)")) or 0
end

local function child(side)
  collectgarbage()
  collectgarbage()
  local k0, r0 = collectgarbage("count"), rss_kb()
  local clock = os.clock
  local t0 = clock()
  if side == "ours" then
    local hwcloud = require "hwcloud"
    local c = assert(hwcloud.client { region = "cn-north-4", ak = "BENCHAK", sk = "bench-secret",
                                      project_id = "0123456789abcdef0123456789abcdef" })
    assert(c)
  else
    require "cjson"
    local core = require "hwcloud.core"
    -- a transport made, as a client's first call makes one
    assert(core.transport {})
  end
  local t1 = clock()
  local gen = 0
  for k in pairs(package.loaded) do
    if k:find("^hwcloud%.services%.gen%.") then gen = gen + 1 end
  end
  collectgarbage()
  collectgarbage()
  io.write(string.format("ms=%.3f kb=%.0f rss_kb=%d gen=%d\n", (t1 - t0) * 1000,
    collectgarbage("count") - k0, rss_kb() - r0, gen))
end

if mode == "one" then
  child(arg[2])
  return
end

local function run(side)
  local p = io.popen("lua5.4 bench/startup.lua one " .. side)
  local out = p:read("*a")
  p:close()
  local ms, kb, rss, gen = out:match("ms=([%d.]+) kb=(%-?%d+) rss_kb=(%-?%d+) gen=(%d+)")
  return assert(tonumber(ms), out), tonumber(kb), tonumber(rss), tonumber(gen)
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return (s[n / 2] + s[n / 2 + 1]) / 2
end

local rounds = tonumber(mode) or 5
local ours_ms, ours_kb, ours_rss, peer_ms, peer_kb, ratios, gens = {}, {}, {}, {}, {}, {}, 0
for _ = 1, rounds do
  local om, ok, orss, g = run("ours")
  local pm, pk = run("peer")
  ours_ms[#ours_ms + 1], ours_kb[#ours_kb + 1], ours_rss[#ours_rss + 1] = om, ok, orss
  peer_ms[#peer_ms + 1], peer_kb[#peer_kb + 1] = pm, pk
  ratios[#ratios + 1] = om / pm
  gens = math.max(gens, g)
end
local r = {}
for i, v in ipairs(ratios) do r[i] = v end
table.sort(r)
local ms, kb = median(ours_ms), median(ours_kb)
local names = #require("hwcloud.services").names()
print(("bench: startup-require+client ours=%.2fms,%dKB(lua),%dKB(rss) "
  .. "peer(require cjson+core)=%.2fms,%dKB(lua) ratio=ours/peer median=%.2f spread=%.2f..%.2f "
  .. "rounds=%d fields=%d descriptions-loaded=%d goal<=15ms,<=2048KB %s"):format(
  ms, kb, median(ours_rss), median(peer_ms), median(peer_kb), median(ratios), r[1], r[#r], rounds,
  names, gens, (ms <= 15 and kb <= 2048 and gens == 0) and "met" or "MISSED"))
