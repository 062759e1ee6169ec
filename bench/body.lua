-- Building a 10 MB request body (core.build: validated against the schema,
-- escaped and UTF-8 checked) side by side with lua-cjson encoding the same
-- table. The sides alternate in each round and the ratio is taken within
-- the round; the median of the rounds and its spread are printed.
--
--   lua5.4 bench/body.lua [rounds]   -> a bench: line

local core = require "hwcloud.core"
local cjson = require "cjson"
local prepare = require("hwcloud.services").prepare

local rounds = tonumber(arg[1]) or 5
local clock = core.now

-- a script-like payload: ASCII lines with quotes, tabs and some UTF-8,
-- the kind of user data or template a deployment call carries
local line = '\techo "deploying région ${NODE}" >> /var/log/deploy.log\n'
local text = string.rep(line, math.ceil(10 * 1024 * 1024 / #line)):sub(1, 10 * 1024 * 1024)
local op = { method = "POST", path = "/v1/{project_id}/scripts",
             request = prepare({ type = "object", fields = {
               name = { type = "string", required = true },
               content = { type = "string", required = true } } }) }
local req = { name = "deploy", content = text }

-- the two sides must say the same thing
do
  local _, body = assert(core.build(op, req, "p"))
  assert(cjson.decode(body).content == text, "core.build and the payload differ")
end

local function time(fn)
  collectgarbage()
  local t0 = clock()
  fn()
  return clock() - t0
end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

local ratios, ours, peer = {}, {}, {}
for i = 1, rounds do
  local o = time(function() assert(core.build(op, req, "p")) end)
  local p = time(function() return cjson.encode(req) end)
  ours[i], peer[i], ratios[i] = o, p, o / p
end
local med = median(ratios)
print(("bench: body-10MB ours(core.build)=%.1fms peer(cjson.encode)=%.1fms ratio=ours/peer "
  .. "median=%.2f spread=%.2f..%.2f goal<=1 %s"):format(median(ours) * 1000, median(peer) * 1000,
  med, ratios[1], ratios[#ratios], med <= 1 and "met" or "MISSED"))
