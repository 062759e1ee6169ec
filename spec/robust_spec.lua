-- Never stuck, never led astray: the engine survives whatever raises in a
-- run, option checks refuse what would run nothing or wedge a client, URL
-- pieces (region, project id) cannot change where a signed request goes,
-- and error summaries stay linear. Unit level: the real engine over a
-- scripted transport, the real client against a closed loopback port.

local engine_mod = require "hwcloud.engine.curl"
local errors = require "hwcloud.errors"
local retry = require "hwcloud.retry"
local hwcloud = require "hwcloud"
local ngx_transport = require "hwcloud.engine.ngx"
local socket = require "socket"

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

-- A scripted transport: submit records, poll answers each pending request
-- with `answer(req)` (a completion) or raises when it says so.
local function fake_transport(answer)
  local t = { sent = {}, pending_ids = {}, closed = false }
  function t.submit(_, id, method, url, _headers, _body, opts)
    if opts and opts.raise then error("transport: bad option", 0) end
    t.sent[#t.sent + 1] = { id = id, method = method, url = url }
    t.pending_ids[#t.pending_ids + 1] = id
    return true
  end
  function t.poll(_, wait_ms)
    if t.closed then error("hwcloud.transport: closed", 0) end
    -- wait as a real transport would, so timers come due together
    if #t.pending_ids == 0 and wait_ms and wait_ms > 0 then socket.sleep(wait_ms / 1000) end
    local out = {}
    for _, id in ipairs(t.pending_ids) do out[#out + 1] = answer(id) end
    t.pending_ids = {}
    return out
  end
  function t.pending() return #t.pending_ids end
  function t.close() t.closed = true end
  return t
end

local function ok_answer(id) return { id = id, status = 200, headers = {}, body = "{}" } end

describe("the engine", function()
  it("ends a run cleanly when the transport raises, and runs the next one", function()
    local t = fake_transport(ok_answer)
    local e = engine_mod.new(t, socket.gettime)
    local ok, err = pcall(e.run, e, { function(en) return en:send { opts = { raise = true } } end })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("bad option", 1, true))
    -- not wedged: the next run works
    local r = e:run({ function(en) return en:send { method = "GET", url = "u" } end })
    assert.equal(200, r[1][1].status)
  end)

  it("resumes no sleeping task after a run has failed", function()
    local t = fake_transport(ok_answer)
    local e = engine_mod.new(t, socket.gettime)
    local fns = {
      function(en) en:sleep(0.05); error("boom", 0) end,
      function(en) en:sleep(0.05); return en:send { method = "POST", url = "second" } end,
      function(en) en:sleep(0.05); return en:send { method = "POST", url = "third" } end,
    }
    local ok = pcall(e.run, e, fns)
    assert.is_false(ok)
    assert.equal(0, #t.sent)
  end)

  it("runs every task when concurrency is NaN", function()
    local e = engine_mod.new(fake_transport(ok_answer), socket.gettime)
    local r = e:run({ function() return 1 end, function() return 2 end }, 0 / 0)
    assert.equal(1, r[1][1])
    assert.equal(2, r[2][1])
  end)
end)

describe("the client", function()
  local port
  setup(function() port = require("spec.helpers.util").closed_port() end)

  local function client(extra)
    local o = { endpoint = "http://127.0.0.1:" .. port, ak = "AK", sk = "SK", project_id = PID,
                retry_base = 0.01, progress = false }
    for k, v in pairs(extra or {}) do o[k] = v end
    return assert(hwcloud.client(o))
  end

  for _, name in ipairs { "parallel", "wait_all" } do
    for _, bad in ipairs { 0 / 0, 0, 1.5, math.huge } do
      it(name .. " refuses concurrency = " .. tostring(bad), function()
        local c = client()
        local res, err = c[name](c, {}, { concurrency = bad })
        assert.is_nil(res)
        assert.equal("validation", err.kind)
        assert.equal("opts.concurrency", err.field)
      end)
    end
  end

  it("can be closed from a callback inside a call, and used again", function()
    local c
    c = client { on_retry = function() c:close() end }
    -- connection refused: never sent, so retried, and on_retry closes
    local res, err = c.rts:list_software_deployments({})
    assert.is_nil(res)
    assert.equal("transport", err.kind)
    res, err = c.rts:list_software_deployments({}, { retries = 0 })
    assert.is_nil(res)
    assert.equal("transport", err.kind)
    c:close()
  end)

  it("per-call retries is bounded like the client option", function()
    local c = client()
    local _, err = c.rts:list_software_deployments({}, { retries = 11 })
    assert.equal("validation", err.kind)
    assert.equal("opts.retries", err.field)
  end)
end)

describe("URL pieces", function()
  local base = { endpoint = nil, ak = "AK", sk = "SK", progress = false }
  local function new(extra)
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    for k, v in pairs(extra) do o[k] = v end
    return hwcloud.client(o)
  end

  for _, region in ipairs { "cn-north-4.x@127.0.0.1:19003#", "cn-north-4/../x", "CN-NORTH-4",
                            "cn north", "cn-north-4?x" } do
    it("refuses region " .. region, function()
      local c, err = new { region = region, project_id = PID }
      assert.is_nil(c)
      assert.equal("region", err.field)
    end)
  end

  it("accepts region names", function()
    assert.is_table(new { region = "cn-north-4", project_id = PID })
    assert.is_table(new { region = "eu-west-101", project_id = PID })
  end)

  for _, pid in ipairs { ".", "..", "a/b", "../x" } do
    it("refuses project_id " .. pid, function()
      local c, err = new { region = "cn-north-4", project_id = pid }
      assert.is_nil(c)
      assert.equal("project_id", err.field)
    end)
  end

  it("the ngx transport never sends an empty or fragment target", function()
    assert.equal("/", ngx_transport.parse_url("http://127.0.0.1:1#frag").path)
    assert.equal("/", ngx_transport.parse_url("http://127.0.0.1:1/#frag").path)
    assert.equal("/?q=1", ngx_transport.parse_url("http://127.0.0.1:1?q=1").path)
    assert.equal("/v1/x", ngx_transport.parse_url("http://127.0.0.1:1/v1/x#y").path)
  end)
end)

describe("error summaries", function()
  it("summarise a page of 40 KB of '<' from a bounded prefix", function()
    -- the quadratic summary took 20 s over the whole page; only a prefix
    -- of it is read now, so what lies beyond never shows
    local e = errors.http(502, {}, nil, string.rep("<", 40 * 1024) .. " tail text", {})
    assert.equal(502, e.status)
    assert.is_nil(tostring(e.message):find("tail text", 1, true))
    local near = errors.http(502, {}, nil, string.rep("<", 10) .. " near text", {})
    assert.truthy(tostring(near.message):find("near text", 1, true), near.message)
  end)

  it("keep the text of an HTML error page", function()
    local e = errors.http(502, {}, nil, "<html><body><h1>Bad Gateway</h1></body></html>", {})
    assert.equal("Bad Gateway", e.message)
  end)
end)

describe("the retry policy", function()
  local cfg = { retries = 2, retry_base = 0.01, retry_max_delay = 1 }
  it("retries an unsafe request only when it never left, or on 429", function()
    assert.is_number(retry.decide({ kind = "transport", sent = false }, false, 1, cfg))
    assert.is_number(retry.decide({ kind = "http", status = 429 }, false, 1, cfg))
    assert.is_nil(retry.decide({ kind = "http", status = 503 }, false, 1, cfg))
    assert.is_nil(retry.decide({ kind = "transport", sent = true }, false, 1, cfg))
    assert.is_nil(retry.decide({ kind = "timeout", sent = true }, false, 1, cfg))
    assert.is_nil(retry.decide({ kind = "decode" }, false, 1, cfg))
  end)

  it("retries a safe request on 503, 502, 504, timeouts and drops", function()
    for _, s in ipairs { 502, 503, 504 } do
      assert.is_number(retry.decide({ kind = "http", status = s }, true, 1, cfg))
    end
    assert.is_number(retry.decide({ kind = "transport", sent = true }, true, 1, cfg))
    assert.is_number(retry.decide({ kind = "timeout", sent = true }, true, 1, cfg))
  end)

  it("never retries a response over max_response, 401/403, other 4xx, 500", function()
    assert.is_nil(retry.decide({ kind = "transport", sent = true, too_big = true }, true, 1, cfg))
    assert.is_nil(retry.decide({ kind = "transport", sent = true, code = "CURLE_23" }, true, 1,
      cfg))
    for _, s in ipairs { 400, 401, 403, 404, 500 } do
      assert.is_nil(retry.decide({ kind = "http", status = s }, true, 1, cfg))
    end
  end)

  it("stops after `retries` and when Retry-After is longer than retry_max_delay", function()
    assert.is_nil(retry.decide({ kind = "http", status = 429 }, true, 3, cfg))
    assert.is_nil(retry.decide({ kind = "http", status = 429, retry_after = 5 }, true, 1, cfg))
    assert.equal(0.5, retry.decide({ kind = "http", status = 429, retry_after = 0.5 }, true, 1,
      cfg))
  end)
end)
