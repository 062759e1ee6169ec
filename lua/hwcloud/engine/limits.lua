-- hwcloud.engine.limits: what both engines share above the transport,
-- per endpoint and per client: the rate limit and the pauses after a 429.
-- call.lua asks gate() before each try and pause() after a 429; an engine
-- only lends its sleep, so the rule is written once for libcurl and for
-- cosockets alike.

local _M = {}

-- Rate limits, per endpoint and shared by every task of a client (both
-- engines): `limits` is the client's table, `now` its clock. A token bucket
-- of one token sends at most `rate` requests a second, evenly spaced: each
-- send reserves the next free slot, so concurrent tasks queue instead of
-- all waking at once. A pause (after a 429) holds every send to that
-- endpoint that asks while it lasts, not only the task that met it; a task
-- that already holds a slot keeps it, so the tries of a fan-out overlap
-- instead of going one per pause. A wait never passes the caller's
-- deadline: gate answers nil instead, at once.
function _M.limits()
  return { next_at = {}, paused = {} }
end

-- gate(limits, engine, now, key, rate, deadline) -> true | nil, until: waits
-- (engine:sleep) until a send to `key` may go out; nil, and the time the
-- wait would end, when that is past `deadline` (nothing is reserved then).
function _M.gate(limits, engine, now, key, rate, deadline)
  while true do
    local t = now()
    local until_t = limits.paused[key]
    if until_t and until_t > t then
      if deadline and until_t > deadline then return nil, until_t end
      engine:sleep(until_t - t)
    else
      if not rate then return true end
      local at = limits.next_at[key]
      if at == nil or at < t then at = t end
      if deadline and at > deadline then return nil, at end
      limits.next_at[key] = at + 1 / rate
      if at > t then engine:sleep(at - t) end
      return true
    end
  end
end

-- pause(limits, now, key, seconds, cap): no send to `key` asks before
-- now + seconds; never longer than `cap` seconds.
function _M.pause(limits, now, key, seconds, cap)
  if not (seconds and seconds > 0) then return end
  if cap and seconds > cap then seconds = cap end
  local until_t = now() + seconds
  local p = limits.paused[key]
  if p == nil or p < until_t then limits.paused[key] = until_t end
end

return _M
