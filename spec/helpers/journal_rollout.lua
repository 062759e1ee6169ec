-- A fleet rollout as a script would write it, for spec/journal_spec.lua to
-- kill and start again: reinstall servers fleet-FIRST..fleet-LAST with
-- client:parallel, then client:wait_all on the jobs started, both with the
-- journal JOURNAL ("-": none). The emulator comes from the environment
-- (emu:env()). Prints one JSON line per entry, then "done".
--
--   lua5.4 spec/helpers/journal_rollout.lua JOURNAL FIRST LAST CONCURRENCY [rate=N] [retry_unsafe=true]

local hwcloud = require "hwcloud"
local cjson = require "cjson"

local path, first, last, concurrency = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
local journal = path ~= "-" and path or nil
local extra = {}
for i = 5, #arg do
  local k, v = arg[i]:match("^([%w_]+)=(.*)$")
  extra[k] = tonumber(v) or v == "true"
end
local client = assert(hwcloud.client { progress = false, retry_base = 0.01, rate = extra.rate })

local calls = {}
for n = first, last do
  local server = ("fleet-%03d"):format(n)
  calls[#calls + 1] = { service = "workspaceapp", operation = "reinstall_server",
                        request = { server_id = server }, key = "reinstall " .. server,
                        opts = extra.retry_unsafe and { retry_unsafe = true } or nil }
end

local function line(t)
  io.stdout:write(cjson.encode(t), "\n")
  io.stdout:flush()
end

local results = assert(client:parallel(calls, { concurrency = concurrency, journal = journal }))
local started = {}
for i, r in ipairs(results) do
  line { phase = "parallel", server = calls[i].request.server_id,
         job_id = r.result and r.result.job_id, kind = r.err and r.err.kind,
         replayed = r.replayed or false }
  if r.result then started[#started + 1] = r.result end
end
local waits = assert(client:wait_all(started, { journal = journal, interval = 0.1,
                                                 max_interval = 0.2, timeout = 30 }))
for i, r in ipairs(waits) do
  line { phase = "wait", job_id = started[i].job_id, status = r.result and r.result.status,
         kind = r.err and r.err.kind, replayed = r.replayed or false }
end
line { phase = "done" }
