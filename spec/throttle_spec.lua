-- A 429 and the rate limit never wedge a client (issue 29, H and M),
-- against the bundled emulator over libcurl (spec/ngx_spec.lua has the
-- same inside nginx): a Retry-After longer than retry_max_delay fails that
-- call only; a pause or a rate slot past a call's timeout ends the call at
-- its timeout, sending nothing; the tries of a fan-out overlap under a
-- 429 instead of going one per pause. Time limits are upper bounds far
-- above the goal: the defects took tens of seconds.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local hwcloud = require "hwcloud"
local core = require "hwcloud.core"

local PID = "5d2c1b0a99887766554433221100ffee"
local GET_OP = "rts.list_software_deployments"

describe("throttling #server", function()
  local emu
  local session = emulator.session({ inventory = require "spec.fixtures.inventory" }, nil, false)
  setup(function() emu = session.start() end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  local function new_client(extra)
    local opts = {
      endpoint = emu.url, ak = emu.ak, sk = emu.sk, region = "cn-north-4",
      project_id = PID, retry_base = 0.01, progress = false,
    }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return assert(hwcloud.client(opts))
  end

  local function count(op)
    return (emu:counts() or {})[op] or 0
  end

  local function get(c, opts)
    return c.rts:list_software_deployments({}, opts)
  end

  local function timed(fn, ...)
    local t0 = core.now()
    local a, b = fn(...)
    return core.now() - t0, a, b
  end

  it("a Retry-After past retry_max_delay fails that call only: the next is not held", function()
    local c = new_client { retry_max_delay = 20 }
    emu:fault { operation = GET_OP, count = 1, status = 429,
                headers = { ["Retry-After"] = "25" } }
    local took, res, err = timed(get, c)
    assert.is_nil(res)
    assert.equal(429, err.status)
    assert.equal(1, err.attempts)
    assert.is_true(took < 10, "the 429 took " .. took .. " s")
    took, res, err = timed(get, c)
    assert.is_nil(err)
    assert.is_table(res)
    assert.is_true(took < 10, "the next call waited " .. took .. " s")
    assert.equal(2, count(GET_OP))
    c:close()
  end)

  it("a pause past a call's timeout ends the call at its timeout, nothing sent", function()
    local c = new_client { retries = 0, retry_max_delay = 60 }
    emu:fault { operation = GET_OP, count = 1, status = 429,
                headers = { ["Retry-After"] = "30" } }
    local _, res, err = timed(get, c)
    assert.is_nil(res)
    assert.equal(429, err.status)
    local took
    took, res, err = timed(get, c, { timeout = 1 })
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.is_false(err.sent)
    assert.is_true(took < 10, "waited " .. took .. " s for a 30 s pause")
    assert.equal(1, count(GET_OP))
    c:close()
  end)

  it("a rate slot past a call's timeout ends the call at its timeout, nothing sent", function()
    local c = new_client { rate = 0.05 } -- one request each 20 s
    assert.is_table((get(c)))
    local took, res, err = timed(get, c, { timeout = 1 })
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.is_false(err.sent)
    assert.is_true(took < 10, "waited " .. took .. " s for a slot 20 s away")
    assert.equal(1, count(GET_OP))
    -- the refused call reserved nothing: a call with time enough still waits its turn
    c:close()
  end)

  it("lets the tries of a fan-out overlap under 429 with Retry-After and a rate", function()
    local c = new_client { rate = 50, retries = 2 }
    emu:fault { operation = GET_OP, count = 1000, status = 429,
                headers = { ["Retry-After"] = "1" } }
    local calls = {}
    for i = 1, 10 do calls[i] = { "rts", "list_software_deployments", {} } end
    local took, results = timed(c.parallel, c, calls)
    for i = 1, 10 do
      assert.is_nil(results[i].result)
      assert.equal(429, results[i].err.status)
      assert.equal(3, results[i].err.attempts)
    end
    assert.equal(30, count(GET_OP))
    -- about 3 s: three rounds of one second; one try per pause took 29 s
    assert.is_true(took < 12, "10 calls x 3 tries took " .. took .. " s")
    c:close()
  end)
end)
