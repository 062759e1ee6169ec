-- hwcloud.engine over a scripted transport and a scripted clock: the loop
-- never waits for nothing after a timer, the rate limiter spaces sends,
-- and a pause after a 429 holds the whole fan-out to that endpoint.
--
--   make && sh tools/test.sh spec/engine_spec.lua

package.path = "./?.lua;" .. package.path

local engine_mod = require "hwcloud.engine.curl"
local limits_mod = require "hwcloud.engine.limits"
local fake = require "spec.helpers.fake_transport"

-- A transport whose every request completes `latency` seconds after it is
-- submitted, on a clock that moves only when the loop polls
-- (spec/helpers/fake_transport.lua). statuses: a list of statuses to
-- answer in turn (200 after it runs out).
local function scripted(latency, statuses)
  local answers = {}
  for i, status in ipairs(statuses or {}) do answers[i] = { status = status, body = "" } end
  return fake.new { latency = latency, answers = answers }
end

describe("engine", function()
  it("does not wait after a task that ends when its timer fires", function()
    local tr, clock = scripted(0)
    local e = engine_mod.new(tr, clock.now)
    local r = e:run({ function(en) en:sleep(0.5) return "slept" end }, 1)
    assert.equal("slept", r[1][1])
    -- one wait of 500 ms for the timer, none after it
    assert.same({ 500 }, tr.polls)
    assert.equal(0.5, clock.t)
  end)

  it("starts the next task as soon as a timer's task ends", function()
    local tr, clock = scripted(0.01)
    local e = engine_mod.new(tr, clock.now)
    local fns = {
      function(en) en:sleep(0.2) return 1 end,
      function(en) en:send { method = "GET", url = "http://h/x", headers = {} } return 2 end,
    }
    local r = e:run(fns, 1)
    assert.equal(1, r[1][1])
    assert.equal(2, r[2][1])
    -- the second task sent right when the first ended, not a second later
    assert.equal(0.2, tr.sends[1].at)
    assert.is_true(math.abs(clock.t - 0.21) < 1e-9, "ended at " .. clock.t)
  end)

  it("spaces the sends of a fan-out by 1/rate", function()
    local tr, clock = scripted(0.001)
    local e = engine_mod.new(tr, clock.now)
    local limits = limits_mod.limits()
    local fns = {}
    for i = 1, 5 do
      fns[i] = function(en)
        limits_mod.gate(limits, en, clock.now, "http://h", 10)
        return en:send { method = "GET", url = "http://h/" .. i, headers = {} }.status
      end
    end
    local r = e:run(fns, 5)
    for i = 1, 5 do assert.equal(200, r[i][1]) end
    assert.equal(5, #tr.sends)
    for i = 2, 5 do
      local gap = tr.sends[i].at - tr.sends[i - 1].at
      assert.is_true(gap >= 0.1 - 1e-9, "gap " .. gap .. " before send " .. i)
    end
    assert.equal(0, tr.sends[1].at)
  end)

  it("keeps separate endpoints' buckets apart", function()
    local tr, clock = scripted(0.001)
    local e = engine_mod.new(tr, clock.now)
    local limits = limits_mod.limits()
    local fns = {}
    for i = 1, 2 do
      fns[i] = function(en)
        limits_mod.gate(limits, en, clock.now, "http://h" .. i, 1)
        return en:send { method = "GET", url = "http://h" .. i, headers = {} }.status
      end
    end
    e:run(fns, 2)
    assert.equal(0, tr.sends[1].at)
    assert.equal(0, tr.sends[2].at)
  end)

  it("holds every task of the fan-out after a 429, not only the one that met it", function()
    local tr, clock = scripted(0.05, { 429 })
    local e = engine_mod.new(tr, clock.now)
    local limits = limits_mod.limits()
    local fns = {}
    -- the first task meets the 429 and pauses the endpoint for 2 s; the
    -- others start just after it and must not send before the pause ends
    fns[1] = function(en)
      limits_mod.gate(limits, en, clock.now, "http://h", nil)
      local c = en:send { method = "GET", url = "http://h/1", headers = {} }
      if c.status == 429 then limits_mod.pause(limits, clock.now, "http://h", 2) end
      return c.status
    end
    for i = 2, 4 do
      fns[i] = function(en)
        en:sleep(0.1) -- after the 429 arrived at 0.05
        limits_mod.gate(limits, en, clock.now, "http://h", nil)
        return en:send { method = "GET", url = "http://h/" .. i, headers = {} }.status
      end
    end
    local r = e:run(fns, 4)
    assert.equal(429, r[1][1])
    for i = 2, 4 do assert.equal(200, r[i][1]) end
    assert.equal(4, #tr.sends)
    for i = 2, 4 do
      assert.is_true(tr.sends[i].at >= 2.05 - 1e-9, "send " .. i .. " at " .. tr.sends[i].at)
    end
    -- another endpoint is not held
    assert.is_nil(limits.paused["http://other"])
  end)

  it("lets a task that holds a rate slot go out although a pause began meanwhile", function()
    local tr, clock = scripted(0.01, { 429 })
    local e = engine_mod.new(tr, clock.now)
    local limits = limits_mod.limits()
    local fns = {}
    for i = 1, 4 do
      fns[i] = function(en)
        limits_mod.gate(limits, en, clock.now, "http://h", 10)
        local c = en:send { method = "GET", url = "http://h/" .. i, headers = {} }
        if c.status == 429 then limits_mod.pause(limits, clock.now, "http://h", 5, 20) end
        return c.status
      end
    end
    e:run(fns, 4)
    -- slots at 0, 0.1, 0.2, 0.3: the 429 at 0.01 holds none of them
    for i = 1, 4 do
      assert.is_true(tr.sends[i].at < 0.31, "send " .. i .. " at " .. tr.sends[i].at)
    end
    -- a task asking after the pause began waits for its end
    local r = e:run({ function(en)
      return limits_mod.gate(limits, en, clock.now, "http://h", 10) and clock.now()
    end }, 1)
    assert.is_true(r[1][1] >= 5.01 - 1e-9, "went at " .. tostring(r[1][1]))
  end)

  it("answers nil at once, reserving nothing, when the wait would pass the deadline", function()
    local tr, clock = scripted(0)
    local e = engine_mod.new(tr, clock.now)
    local limits = limits_mod.limits()
    limits_mod.pause(limits, clock.now, "http://h", 100000, 20)
    -- the pause is capped at 20 s
    assert.equal(20, limits.paused["http://h"] - clock.now())
    local r = e:run({ function(en)
      local ok, until_t = limits_mod.gate(limits, en, clock.now, "http://h", nil, clock.now() + 1)
      return { ok = ok, until_t = until_t, at = clock.now() }
    end }, 1)
    assert.is_nil(r[1][1].ok)
    assert.equal(20, r[1][1].until_t)
    assert.equal(0, r[1][1].at)
    -- a rate slot too far: nothing is reserved for the refused task
    limits = limits_mod.limits()
    r = e:run({ function(en)
      assert.is_true(limits_mod.gate(limits, en, clock.now, "http://h", 0.1, nil))
      local ok = limits_mod.gate(limits, en, clock.now, "http://h", 0.1, clock.now() + 1)
      return { ok = ok, next_at = limits.next_at["http://h"] - clock.now() }
    end }, 1)
    assert.is_nil(r[1][1].ok)
    assert.equal(10, r[1][1].next_at)
  end)
end)
