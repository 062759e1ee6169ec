-- spec/helpers/fake_transport.lua: a scripted transport and clock for
-- unit specs of the engine and the call pipeline (no socket, no server).
--
--   local fake = require "spec.helpers.fake_transport"
--   local tr, clock = fake.new { answers = { {status = 503}, {status = 200, body = "{}"} },
--                                latency = 0.01 }
--   local engine = require("hwcloud.engine.curl").new(tr, clock.now)
--
-- Every submitted request is recorded in tr.sends ({at, id, method, url,
-- headers, body, opts}) and completes `latency` seconds later with the next
-- answer of the script (200 with an empty body once it runs out). An
-- answer is a completion without its id: {status, headers, body} or
-- {error = "transport"|"timeout", message, sent}. The clock moves only when
-- the engine polls (to the next completion, or by the poll's wait, at
-- least 1 ms), so sleeps and backoffs take no real time and can be read
-- off clock.t.

local M = {}

function M.new(opts)
  opts = opts or {}
  local latency = opts.latency or 0
  local answers = opts.answers or {}
  local clock = { t = 0 }
  local tr = { polls = {}, sends = {}, inflight = {} }
  function clock.now() return clock.t end

  function tr.submit(_, id, method, url, headers, body, ropts)
    local n = #tr.sends + 1
    tr.sends[n] = { at = clock.t, id = id, method = method, url = url, headers = headers,
                    body = body, opts = ropts }
    local a = answers[n] or { status = 200, body = "" }
    local c = { id = id }
    for k, v in pairs(a) do c[k] = v end
    if c.status and not c.headers then c.headers = {} end
    tr.inflight[#tr.inflight + 1] = { due = clock.t + latency, completion = c }
    return true
  end

  function tr.pending() return #tr.inflight end

  function tr.poll(_, ms)
    tr.polls[#tr.polls + 1] = ms
    local soonest
    for _, r in ipairs(tr.inflight) do
      if not soonest or r.due < soonest then soonest = r.due end
    end
    -- a poll takes time even when it waits for nothing (a timer less than
    -- half a millisecond away is polled with 0 ms)
    local limit = clock.t + (ms > 0 and ms / 1000 or 0.001)
    if soonest and soonest <= limit then
      if soonest > clock.t then clock.t = soonest end
    else
      clock.t = limit
      return {}
    end
    local done, keep = {}, {}
    for _, r in ipairs(tr.inflight) do
      if r.due <= clock.t then done[#done + 1] = r.completion else keep[#keep + 1] = r end
    end
    tr.inflight = keep
    return done
  end

  -- the headers of send n as a map, names lower-cased
  function tr.headers(n)
    local out = {}
    for _, line in ipairs(tr.sends[n].headers or {}) do
      local k, v = line:match("^([^:]+):%s*(.*)$")
      if k then out[k:lower()] = v end
    end
    return out
  end

  return tr, clock
end

return M
