-- The retry policy as a table (lua/hwcloud/retry.lua), run through the real
-- call pipeline over a scripted transport (spec/helpers/pipeline.lua): each
-- row is what every try meets and how many tries a request that is safe to
-- repeat (GET) and one that is not (a POST action) get with retries = 2.
-- No server and no real time: backoffs run on the scripted clock.
-- spec/retry_spec.lua proves the same policy against the emulator.
--
--   make && sh tools/test.sh spec/retry_policy_spec.lua

package.path = "./?.lua;" .. package.path

local pipeline = require("spec.helpers.pipeline").new

local SAFE = { "rts", "list_software_deployments", {} }
local UNSAFE = { "workspaceapp", "reinstall_server", { server_id = "srv-1" } }

-- what the tries meet        safe tries  unsafe tries
local POLICY = {
  { "429 Too Many Requests",      { status = 429 },                                      3, 3 },
  { "429 asking to wait 60 s",    { status = 429, headers = { ["retry-after"] = "60" } }, 1, 1 },
  { "502 Bad Gateway",            { status = 502 },                                      3, 1 },
  { "503 Service Unavailable",    { status = 503 },                                      3, 1 },
  { "504 Gateway Timeout",        { status = 504 },                                      3, 1 },
  { "500 Internal Server Error",  { status = 500 },                                      1, 1 },
  { "400 Bad Request",            { status = 400 },                                      1, 1 },
  { "401 Unauthorized",           { status = 401 },                                      1, 1 },
  { "403 Forbidden",              { status = 403 },                                      1, 1 },
  { "404 Not Found",              { status = 404 },                                      1, 1 },
  { "a connection refused (never sent)",
    { error = "transport", code = 7, message = "refused", sent = false },                3, 3 },
  { "a connection dropped after the request left",
    { error = "transport", code = 52, message = "empty reply", sent = true },            3, 1 },
  { "a timeout after the request left",
    { error = "timeout", code = 28, message = "timed out", sent = true },                3, 1 },
  { "an answer over max_response",
    { error = "transport", code = 23, message = "too big", sent = true, too_big = true }, 1, 1 },
  { "a certificate that cannot be trusted",
    { error = "transport", code = 60, message = "untrusted", sent = false },             1, 1 },
  { "a 200 whose body is not JSON", { status = 200, body = "<html>" },                   3, 1 },
}

local function answers(a, n)
  local list = {}
  for i = 1, n do list[i] = a end
  return list
end

local function tries(target, answer, client_opts, call_opts)
  local opts = { retries = 2 }
  for k, v in pairs(client_opts or {}) do opts[k] = v end
  local run, tr, clock = pipeline(answers(answer, 5), opts)
  local res, err = run(target[1], target[2], target[3], call_opts)
  return #tr.sends, res, err, clock
end

describe("the retry policy, row by row", function()
  for _, row in ipairs(POLICY) do
    local what, answer, safe_n, unsafe_n = row[1], row[2], row[3], row[4]
    it(what .. ": " .. safe_n .. " tries when safe, " .. unsafe_n .. " when not", function()
      local n, res, err = tries(SAFE, answer)
      assert.is_nil(res)
      assert.are.equal(safe_n, n, "safe")
      assert.are.equal(safe_n, err.attempts)
      n, res, err = tries(UNSAFE, answer)
      assert.is_nil(res)
      assert.are.equal(unsafe_n, n, "unsafe")
      assert.are.equal(unsafe_n, err.attempts)
    end)
  end

  it("retry_unsafe makes the unsafe rows repeat as the safe ones do", function()
    for _, row in ipairs(POLICY) do
      local n = tries(UNSAFE, row[2], { retry_unsafe = true })
      assert.are.equal(row[3], n, row[1])
    end
  end)

  it("a call's own retries override the client's", function()
    assert.are.equal(1, (tries(SAFE, { status = 503 }, nil, { retries = 0 })))
    assert.are.equal(5, (tries(SAFE, { status = 503 }, nil, { retries = 4 })))
  end)

  it("waits at least what Retry-After asks, within retry_max_delay", function()
    local n, _, _, clock = tries(SAFE, { status = 429, headers = { ["retry-after"] = "2" } })
    assert.are.equal(3, n)
    assert.is_true(clock.t >= 4, "waited only " .. clock.t .. " s")
  end)

  it("stops at the first answer that is not a failure", function()
    local run, tr = pipeline({ { status = 503 }, { status = 200, body = '{"deployments":[]}' } },
                             { retries = 2 })
    local res, err = run(SAFE[1], SAFE[2], SAFE[3])
    assert.is_nil(err)
    assert.is_table(res)
    assert.are.equal(2, #tr.sends)
  end)
end)
