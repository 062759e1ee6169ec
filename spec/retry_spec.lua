-- The retry policy of every hwcloud call (lua/hwcloud/call.lua), proven
-- against the bundled emulator: each fault it can inject, on an operation
-- that is safe to repeat (GET, or a PUT marked idempotent) and on one that
-- is not (a POST action), with the emulator's request counts showing exactly
-- how many tries reached it.
--
-- Run: make && LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" \
--        LUA_CPATH="build/5.4/?.so;;" lua5.4 /usr/bin/busted spec/retry_spec.lua

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local hwcloud = require "hwcloud"
local call = require "hwcloud.call"
local core = require "hwcloud.core"

local PID = "5d2c1b0a99887766554433221100ffee"

local GET_OP = "rts.list_software_deployments"
local POST_OP = "workspaceapp.reinstall_server"

describe("retries #server", function()
  local emu
  local session = emulator.session({ job_seconds = 1, inventory = require "spec.fixtures.inventory" }, nil, false)
  setup(function() emu = session.start() end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  -- A new client for each test: a fresh connection pool, so one test's
  -- kept-alive connections never change another's counts.
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

  local function post(c, opts, server)
    return c.workspaceapp:reinstall_server({ server_id = server or "srv-retry-01" }, opts)
  end

  describe("429 (throttled before any backend) and 503", function()
    for _, status in ipairs { 429, 503 } do
      it(status .. " is retried for a GET", function()
        local c = new_client()
        emu:fault { operation = GET_OP, count = 2, status = status }
        local res, err = get(c)
        assert.is_nil(err)
        assert.is_table(res)
        assert.equal(3, count(GET_OP))
        c:close()
      end)
    end

    it("429 is retried for a POST action", function()
      local c = new_client()
      emu:fault { operation = POST_OP, count = 2, status = 429 }
      local res, err = post(c)
      assert.is_nil(err)
      assert.is_string(res.job_id)
      assert.equal(3, count(POST_OP))
      c:close()
    end)

    -- a 503 may come from a backend that had already acted on the request
    it("503 is not retried for a POST action", function()
      local c = new_client()
      emu:fault { operation = POST_OP, count = 2, status = 503 }
      local res, err = post(c)
      assert.is_nil(res)
      assert.equal(503, err.status)
      assert.is_false(err.retryable)
      assert.equal(1, err.attempts)
      assert.equal(1, count(POST_OP))
      c:close()
    end)

    it("503 is retried for a POST when the caller sets retry_unsafe", function()
      local c = new_client { retry_unsafe = true }
      emu:fault { operation = POST_OP, count = 2, status = 503 }
      assert(post(c))
      assert.equal(3, count(POST_OP))
      c:close()
    end)

    it("stops after `retries` more tries and says how many were made", function()
      local c = new_client()
      emu:fault { operation = POST_OP, count = 10, status = 429 }
      local res, err = post(c)
      assert.is_nil(res)
      assert.equal("http", err.kind)
      assert.equal(429, err.status)
      assert.is_true(err.retryable)
      assert.equal(3, err.attempts) -- the default retries = 2
      assert.equal(3, count(POST_OP))
      c:close()
    end)

    it("tells on_retry about each try that will be made again", function()
      local seen = {}
      local c = new_client { on_retry = function(info) seen[#seen + 1] = info end }
      emu:fault { operation = POST_OP, count = 2, status = 429 }
      assert(post(c))
      assert.equal(2, #seen)
      for i, info in ipairs(seen) do
        assert.equal("workspaceapp", info.service)
        assert.equal("reinstall_server", info.operation)
        assert.equal(i, info.attempt)
        assert.equal(429, info.err.status)
        assert.is_true(info.delay >= 0)
      end
      c:close()
      local bad, err = hwcloud.client { endpoint = emu.url, ak = emu.ak, sk = emu.sk,
                                        on_retry = "log" }
      assert.is_nil(bad)
      assert.equal("on_retry", err.field)
    end)
  end)

  describe("502 and 504 (the request may have been acted on)", function()
    for _, status in ipairs { 502, 504 } do
      it(status .. " is retried for a GET", function()
        local c = new_client()
        emu:fault { operation = GET_OP, count = 1, status = status }
        local res, err = get(c)
        assert.is_nil(err)
        assert.is_table(res)
        assert.equal(2, count(GET_OP))
        c:close()
      end)

      it(status .. " is not retried for a POST action", function()
        local c = new_client()
        emu:fault { operation = POST_OP, count = 1, status = status }
        local res, err = post(c)
        assert.is_nil(res)
        assert.equal("http", err.kind)
        assert.equal(status, err.status)
        assert.is_false(err.retryable)
        assert.equal(1, err.attempts)
        assert.equal(1, count(POST_OP))
        c:close()
      end)

      it(status .. " is retried for a POST when the client sets retry_unsafe", function()
        local c = new_client { retry_unsafe = true }
        emu:fault { operation = POST_OP, count = 1, status = status }
        local res, err = post(c)
        assert.is_nil(err)
        assert.is_string(res.job_id)
        assert.equal(2, count(POST_OP))
        c:close()
      end)

      it(status .. " is retried for a POST when the call sets retry_unsafe", function()
        local c = new_client()
        emu:fault { operation = POST_OP, count = 1, status = status }
        local res, err = post(c, { retry_unsafe = true })
        assert.is_nil(err)
        assert.is_string(res.job_id)
        assert.equal(2, count(POST_OP))
        c:close()
      end)
    end

    it("a call's retry_unsafe = false wins over the client's true", function()
      local c = new_client { retry_unsafe = true }
      emu:fault { operation = POST_OP, count = 1, status = 502 }
      local res, err = post(c, { retry_unsafe = false })
      assert.is_nil(res)
      assert.equal(502, err.status)
      assert.equal(1, count(POST_OP))
      c:close()
    end)

    it("a PUT the schema marks idempotent is retried; a DELETE is not", function()
      local c = new_client()
      local made = assert(c.rts:create_software_deployment {
        config_id = "cfg-retry", server_id = "srv-retry-put", status = "IN_PROGRESS",
      })
      local id = made.software_deployment.id
      emu:fault { operation = "rts.update_software_deployment", count = 1, status = 502 }
      local res, err = c.rts:update_software_deployment { deployment_id = id,
                                                          status_reason = "retried" }
      assert.is_nil(err)
      assert.equal(id, res.software_deployment.id)
      assert.equal(2, count("rts.update_software_deployment"))

      emu:fault { operation = "rts.delete_software_deployment", count = 1, status = 504 }
      res, err = c.rts:delete_software_deployment { deployment_id = id }
      assert.is_nil(res)
      assert.equal(504, err.status)
      assert.equal(1, count("rts.delete_software_deployment"))
      c:close()
    end)
  end)

  describe("a connection closed with no response (drop)", function()
    it("is retried for a GET", function()
      local c = new_client()
      emu:fault { operation = GET_OP, count = 1, drop = true }
      local res, err = get(c)
      assert.is_nil(err)
      assert.is_table(res)
      assert.equal(2, count(GET_OP))
      c:close()
    end)

    it("is not retried for a POST action", function()
      local c = new_client()
      emu:fault { operation = POST_OP, count = 1, drop = true }
      local res, err = post(c)
      assert.is_nil(res)
      assert.equal("transport", err.kind)
      assert.is_true(err.sent)
      assert.is_false(err.retryable)
      assert.equal(1, err.attempts)
      assert.equal(1, count(POST_OP))
      c:close()
    end)

    it("is not retried for a POST sent on a kept-alive connection either", function()
      -- libcurl quietly sends a request again when a reused connection
      -- closes before any answer; for a POST action that would be a second
      -- reinstall, so the transport must not reuse a connection for it
      local c = new_client()
      assert(get(c))
      assert(post(c, nil, "srv-warm"))
      emu:reset()
      emu:fault { operation = POST_OP, count = 1, drop = true }
      local res, err = post(c)
      assert.is_nil(res)
      assert.equal("transport", err.kind)
      assert.equal(1, err.attempts)
      assert.equal(1, count(POST_OP))
      c:close()
    end)

    it("is retried for a POST when the caller sets retry_unsafe", function()
      local c = new_client()
      emu:fault { operation = POST_OP, count = 1, drop = true }
      local res, err = post(c, { retry_unsafe = true })
      assert.is_nil(err)
      assert.is_string(res.job_id)
      assert.equal(2, count(POST_OP))
      c:close()
    end)
  end)

  describe("a response cut short (truncate)", function()
    it("is retried for a GET", function()
      local c = new_client()
      emu:fault { operation = GET_OP, count = 1, truncate = true }
      local res, err = get(c)
      assert.is_nil(err)
      assert.is_table(res)
      assert.equal(2, count(GET_OP))
      c:close()
    end)

    it("is not retried for a POST action", function()
      local c = new_client()
      emu:fault { operation = POST_OP, count = 1, truncate = true }
      local res, err = post(c)
      assert.is_nil(res)
      assert.equal("transport", err.kind)
      assert.is_false(err.retryable)
      assert.equal(1, err.attempts)
      assert.equal(1, count(POST_OP))
      c:close()
    end)
  end)

  describe("a body that is not JSON (malformed)", function()
    it("is retried for a GET", function()
      local c = new_client()
      emu:fault { operation = GET_OP, count = 1, malformed = true }
      local res, err = get(c)
      assert.is_nil(err)
      assert.is_table(res)
      assert.equal(2, count(GET_OP))
      c:close()
    end)

    it("is not retried for a POST action", function()
      local c = new_client()
      emu:fault { operation = POST_OP, count = 1, malformed = true }
      local res, err = post(c)
      assert.is_nil(res)
      assert.equal("decode", err.kind)
      assert.equal(200, err.status)
      assert.is_false(err.retryable)
      assert.equal(1, err.attempts)
      assert.equal(1, count(POST_OP))
      c:close()
    end)
  end)

  describe("a request that timed out", function()
    it("is retried for a GET", function()
      local c = new_client()
      emu:fault { operation = GET_OP, count = 1, delay_ms = 1500 }
      local res, err = get(c, { timeout = 0.3 })
      assert.is_nil(err)
      assert.is_table(res)
      assert.equal(2, count(GET_OP))
      c:close()
    end)

    it("is not retried for a POST action", function()
      local c = new_client()
      emu:fault { operation = POST_OP, count = 1, delay_ms = 1500 }
      local res, err = post(c, { timeout = 0.3 })
      assert.is_nil(res)
      assert.equal("timeout", err.kind)
      assert.is_false(err.retryable)
      assert.equal(1, err.attempts)
      assert.equal(1, count(POST_OP))
      c:close()
    end)
  end)

  describe("a connection refused before anything was sent", function()
    -- a local port with nothing listening: curl itself says so (exit 7)
    local function closed_port()
      for _ = 1, 20 do
        local port = math.random(61000, 64999)
        local r = emulator.curl("GET", "http://127.0.0.1:" .. port .. "/", { timeout = 2 })
        if r.curl_exit == 7 then return port end
      end
      error("no closed local port found")
    end

    it("is retried even for a POST action, and the error counts the tries", function()
      local c = new_client { endpoint = "http://127.0.0.1:" .. closed_port() }
      local res, err = post(c)
      assert.is_nil(res)
      assert.equal("transport", err.kind)
      assert.is_false(err.sent)
      assert.is_true(err.retryable)
      assert.equal(3, err.attempts)
      c:close()
    end)

    it("is tried once with retries = 0", function()
      local c = new_client { endpoint = "http://127.0.0.1:" .. closed_port(), retries = 0 }
      local res, err = post(c)
      assert.is_nil(res)
      assert.equal("transport", err.kind)
      assert.equal(1, err.attempts)
      c:close()
    end)
  end)

  describe("401 and 403", function()
    for _, status in ipairs { 401, 403 } do
      it(status .. " is never retried, not even for a GET with retry_unsafe", function()
        local c = new_client { retry_unsafe = true, retries = 5 }
        emu:fault { operation = GET_OP, count = 3, status = status }
        local res, err = get(c)
        assert.is_nil(res)
        assert.equal("http", err.kind)
        assert.equal(status, err.status)
        assert.is_false(err.retryable)
        assert.equal(1, err.attempts)
        assert.equal(1, count(GET_OP))
        c:close()
      end)
    end

    it("other 4xx and 500 are not retried either", function()
      local c = new_client()
      emu:fault { operation = GET_OP, count = 1, status = 400 }
      emu:fault { operation = POST_OP, count = 1, status = 500 }
      local _, err = get(c)
      assert.equal(400, err.status)
      assert.equal(1, count(GET_OP))
      _, err = post(c)
      assert.equal(500, err.status)
      assert.equal(1, count(POST_OP))
      c:close()
    end)
  end)

  describe("Retry-After", function()
    it("is waited for before the next try", function()
      local c = new_client()
      emu:fault { operation = POST_OP, count = 1, status = 429,
                  headers = { ["Retry-After"] = "1" } }
      local t0 = core.now()
      local res, err = post(c)
      local elapsed = core.now() - t0
      assert.is_nil(err)
      assert.is_string(res.job_id)
      assert.equal(2, count(POST_OP))
      assert.is_true(elapsed >= 0.95, "waited only " .. elapsed .. " s")
      c:close()
    end)

    it("longer than retry_max_delay is not waited for: the error comes back", function()
      local c = new_client { retry_max_delay = 2 }
      emu:fault { operation = GET_OP, count = 1, status = 503,
                  headers = { ["Retry-After"] = "120" } }
      local res, err = get(c)
      assert.is_nil(res)
      assert.equal(503, err.status)
      assert.equal(1, err.attempts)
      assert.equal(1, count(GET_OP))
      c:close()
    end)
  end)

  describe("how many tries", function()
    it("retries = 0 on the client means one try", function()
      local c = new_client { retries = 0 }
      emu:fault { operation = GET_OP, count = 1, status = 503 }
      local res, err = get(c)
      assert.is_nil(res)
      assert.equal(503, err.status)
      assert.equal(1, err.attempts)
      assert.equal(1, count(GET_OP))
      c:close()
    end)

    it("a call's retries overrides the client's, up and down", function()
      local c = new_client { retries = 0 }
      emu:fault { operation = GET_OP, count = 3, status = 503 }
      local res, err = get(c, { retries = 3 })
      assert.is_nil(err)
      assert.is_table(res)
      assert.equal(4, count(GET_OP))

      emu:reset()
      local c2 = new_client { retries = 4 }
      emu:fault { operation = GET_OP, count = 3, status = 503 }
      res, err = get(c2, { retries = 0 })
      assert.is_nil(res)
      assert.equal(1, err.attempts)
      assert.equal(1, count(GET_OP))
      c:close()
      c2:close()
    end)

    it("a bad retries option is a validation error, nothing is sent", function()
      local c = new_client()
      local res, err = get(c, { retries = "many" })
      assert.is_nil(res)
      assert.equal("validation", err.kind)
      assert.equal("opts.retries", err.field)
      assert.equal(0, count(GET_OP))
      c:close()
    end)
  end)

  describe("backoff", function()
    it("is exponential, capped, with equal jitter", function()
      for attempt = 1, 12 do
        local step = math.min(0.2 * 2 ^ (attempt - 1), 5)
        for _ = 1, 50 do
          local d = call.backoff(0.2, 5, attempt)
          assert.is_true(d >= step / 2 and d <= step,
            ("attempt %d: %g not in [%g, %g]"):format(attempt, d, step / 2, step))
        end
      end
    end)
  end)
end)
