-- GET /_emulator/faults: the faults still pending, each saying what it does
-- and how many requests it has left, as the requests use them up.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"

local curl = emulator.curl

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

describe("emulator: GET /_emulator/faults #server", function()
  local emu
  setup(function() emu = emulator.start { job_seconds = 1 } end)
  teardown(function() emu:stop() end)
  before_each(function() emu:reset() end)

  local function faults()
    local res = curl("GET", emu.url .. "/_emulator/faults")
    assert.are.equal(200, res.status, res.body)
    return res.json.faults, res.body
  end

  -- faults apply before authentication: an unsigned request uses one up
  local function show_job_detail()
    return curl("GET", emu.url .. "/v2/" .. PID .. "/job/1").status
  end

  it("is an empty JSON array when nothing is pending", function()
    local list, raw = faults()
    assert.are.same({}, list)
    assert.matches('"faults":%[%]', raw)
  end)

  it("describes each fault: operation, what it does, how many are left", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", count = 2, status = 503,
               headers = { ["Retry-After"] = "3" }, body = { error_msg = "busy" } }
    emu:fault{ operation = "workspaceapp.show_job_detail", delay_ms = 250, drop = true }
    emu:fault{ operation = "asm.list_workshops", malformed = true }
    emu:fault{ operation = "*", count = 3, delay_ms = 100 }
    emu:fault{ operation = "rts.list_software_configs", status = 502, truncate = true }
    local list = faults()
    assert.are.equal(5, #list)
    local by = {}
    for _, f in ipairs(list) do
      by[f.operation] = by[f.operation] or {}
      table.insert(by[f.operation], f)
    end
    local busy, dropped = by["workspaceapp.show_job_detail"][1], by["workspaceapp.show_job_detail"][2]
    assert.are.same({ operation = "workspaceapp.show_job_detail", count = 2, remaining = 2,
                      status = 503, body = true, headers = { "Retry-After" },
                      effect = "answers 503 with the given body" }, busy)
    assert.are.same({ operation = "workspaceapp.show_job_detail", count = 1, remaining = 1,
                      delay_ms = 250, drop = true,
                      effect = "waits 250 ms, then drops the connection" }, dropped)
    assert.are.equal("answers 200 with a malformed body", by["asm.list_workshops"][1].effect)
    assert.is_true(by["asm.list_workshops"][1].malformed)
    assert.are.equal("waits 100 ms, then answers normally", by["*"][1].effect)
    assert.are.equal(3, by["*"][1].remaining)
    assert.are.equal("answers 502 with its body cut short, then closes",
      by["rts.list_software_configs"][1].effect)
  end)

  it("counts down as requests use a fault, and drops it when used up", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", count = 2, status = 503 }
    emu:fault{ operation = "workspaceapp.show_job_detail", status = 429 }
    assert.are.equal(503, show_job_detail())
    local list = faults()
    assert.are.equal(2, #list)
    assert.are.same({ 503, 1 }, { list[1].status, list[1].remaining })
    assert.are.same({ 429, 1 }, { list[2].status, list[2].remaining })
    assert.are.equal(503, show_job_detail())
    list = faults()
    assert.are.equal(1, #list)
    assert.are.same({ 429, 1 }, { list[1].status, list[1].remaining })
    assert.are.equal(429, show_job_detail())
    assert.are.same({}, faults())
    -- a fault set after others were used up is listed alone
    emu:fault{ operation = "workspaceapp.show_job_detail", status = 500 }
    list = faults()
    assert.are.equal(1, #list)
    assert.are.equal(500, list[1].status)
  end)

  it("forgets every fault on reset", function()
    emu:fault{ operation = "workspaceapp.show_job_detail", count = 5, status = 503 }
    emu:reset()
    assert.are.same({}, faults())
    emu:fault{ operation = "workspaceapp.show_job_detail", status = 504 }
    local list = faults()
    assert.are.equal(1, #list)
    assert.are.equal(504, list[1].status)
    assert.are.equal(504, show_job_detail())
  end)

  it("answers POST with what the new fault does", function()
    local body = emu:fault{ operation = "workspaceapp.show_job_detail", delay_ms = 10 }
    assert.are.equal("waits 10 ms, then answers normally", body.effect)
    assert.are.equal(1, body.count)
  end)
end)
