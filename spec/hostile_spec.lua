-- Hostile servers: spec/helpers/hostile_server.lua misbehaves on purpose
-- (no status line, a status of 2000, a connection taken and dropped, one
-- byte a second, endless bodies, header floods, broken chunking), and the
-- client must never send an unsafe request twice, never hang past its
-- timeout, never read without bound, and never raise. Each case runs
-- through both transports: libcurl (here, Lua 5.4) and the ngx transport
-- (cosockets, inside a real nginx, LuaJIT). The server's own log says what
-- it received.

local hwcloud = require "hwcloud"
local cjson = require "cjson"
local socket = require "socket"
local server = require "spec.helpers.server"
local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"

local now = socket.gettime
local q, read_file, sleep = emulator.quote, emulator.read_file, emulator.sleep

local PID = "6c1f0e2d3b4a59687766554433221100"
local AK, SK = "HOSTILETESTAK0000001", "hostile-test-secret"

local sh = util.sh

-- The peak resident size of this process (VmHWM) in KiB.
local function hwm_kb()
  local s = read_file("/proc/self/status") or ""
  return tonumber(s:match("VmHWM:%s*(%d+)")) or 0
end

local function null_to_nil(v)
  if v == cjson.null then return nil end
  return v
end

describe("hostile servers #server", function()
  local work, hostile_pid, base, ngx_srv

  setup(function()
    work = util.tmpdir("hostile")
    local portfile = work .. "/port"
    assert(sh("lua5.4 spec/helpers/hostile_server.lua " .. q(portfile) .. " 2>" .. q(work .. "/err")
      .. " & echo $! > " .. q(work .. "/pid")))
    for _ = 1, 200 do
      if read_file(portfile) then break end
      sleep(0.025)
    end
    local port = assert(tonumber(read_file(portfile)), "the hostile server did not start: "
      .. tostring(read_file(work .. "/err")))
    hostile_pid = tonumber(read_file(work .. "/pid"))
    base = "http://127.0.0.1:" .. port
    ngx_srv = server.start {
      name = "hostile",
      conf = read_file("spec/fixtures/hostile/nginx.conf"),
    }
  end)

  teardown(function()
    if ngx_srv then ngx_srv:stop() end
    if hostile_pid then sh("kill " .. hostile_pid .. " 2>/dev/null") end
    util.rmdir(work)
  end)

  local function control(path)
    local r
    for _ = 1, 40 do -- the listener may be paused (takeclose) for 0.6 s
      r = emulator.curl("GET", base .. "/_hostile/" .. path, { timeout = 10 })
      if r.status ~= 0 then break end
      sleep(0.05)
    end
    assert(r.status == 200, "hostile server control " .. path .. ": " .. tostring(r.status))
    return r.json
  end

  before_each(function() control("reset") end)

  local function received()
    return control("log").requests
  end

  local function client_opts(extra)
    local o = { endpoint = base, ak = AK, sk = SK, project_id = PID, region = "cn-north-4",
                retry_base = 0.01, progress = false }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  local OPS = {
    post = { "workspaceapp", "reinstall_server", { server_id = "srv-hostile-1" } },
    get = { "rts", "list_software_deployments", {} },
  }

  -- The two ways to run a sequence of operations: steps is a list of
  -- {op, call_opts}; each returns the results as {res, err} with the
  -- errors as plain tables, the time the last step took, and the growth of
  -- the peak memory of whatever ran the client.
  local RUN = {}

  function RUN.curl(steps, extra)
    local c = assert(hwcloud.client(client_opts(extra)))
    local out, elapsed = {}, 0
    local before = hwm_kb()
    for i, s in ipairs(steps) do
      local o = OPS[s[1]]
      local t0 = now()
      local svc = c[o[1]]
      local res, err = svc[o[2]](svc, o[3], s[2])
      elapsed = now() - t0
      local perr
      if err then
        perr = { text = tostring(err) }
        for k, v in pairs(err) do perr[k] = v end
      end
      out[i] = { res = res, err = perr }
    end
    c:close()
    return out, elapsed, hwm_kb() - before
  end

  function RUN.ngx(steps, extra)
    local out = {}
    -- several steps share one client in one handler, one after another,
    -- so a kept-alive connection is reused as it would be by a script
    local calls = {}
    for i, s in ipairs(steps) do
      local o = OPS[s[1]]
      calls[i] = { o[1], o[2], o[3], s[2] }
    end
    local body
    if #steps == 1 then
      local o = OPS[steps[1][1]]
      body = { client = client_opts(extra), service = o[1], operation = o[2], request = o[3],
               opts = steps[1][2] }
    else
      body = { client = client_opts(extra), calls = calls, sequential = true }
    end
    local r = emulator.curl("POST", ngx_srv:url("/op"), {
      body = cjson.encode(body), headers = { ["Content-Type"] = "application/json" },
      timeout = 120,
    })
    assert(r.status == 200 and r.json, "the /op handler failed (" .. tostring(r.status) .. "): "
      .. tostring(r.body) .. "\n" .. ngx_srv:log():sub(-3000))
    local doc = r.json
    assert(doc.raised == nil, "the call raised inside nginx: " .. tostring(doc.raised))
    if doc.results then
      for i, x in ipairs(doc.results) do
        out[i] = { res = null_to_nil(x.result), err = null_to_nil(x.err) }
      end
    else
      out[1] = { res = null_to_nil(doc.result), err = null_to_nil(doc.err) }
    end
    local elapsed, growth = doc.elapsed, doc.hwm_growth_kb
    return out, elapsed, growth
  end

  it("the curl transport joins a repeated header's values in order", function()
    control("modes?m=repeated")
    local core = require "hwcloud.core"
    local t = core.transport { timeout = 10 }
    assert(t:submit(1, "GET", base .. "/x", {}))
    local c
    local deadline = now() + 10
    while not c and now() < deadline do c = t:poll(100)[1] end
    t:close()
    assert.equal(200, c.status)
    local want = {}
    for i = 1, 400 do want[i] = tostring(i) end
    assert.equal(table.concat(want, ", "), c.headers["x-rep"])
  end)

  it("inside nginx, an on_retry hook that raises stops neither the run nor its tries", function()
    -- both calls meet a 503; the second one's hook raises: the raise is
    -- contained (hooks run under pcall), and both calls go again and answer
    control("modes?m=s503,s503,ok,ok")
    local body = {
      client = client_opts { retry_base = 0.6 },
      calls = { { "rts", "show_software_deployment", { deployment_id = "d-1" } },
                { "rts", "list_software_deployments", {} } },
      raise_on_retry_of = "list_software_deployments",
    }
    local r = emulator.curl("POST", ngx_srv:url("/op"), {
      body = cjson.encode(body), headers = { ["Content-Type"] = "application/json" },
      timeout = 60,
    })
    assert.equal(200, r.status)
    assert.is_nil(r.json.raised)
    assert.equal(2, #r.json.results)
    for i = 1, 2 do
      local res = r.json.results[i]
      assert.equal(cjson.null, res.err, cjson.encode(res))
      assert.is_true(res.result.ok, cjson.encode(res))
    end
    sleep(1.5) -- past any backoff: no try beyond the two retries goes out
    assert.equal(4, #received())
  end)

  for _, tr in ipairs { "curl", "ngx" } do
    local run = RUN[tr]
    local function one(op, mode, call_opts, extra)
      control("modes?m=" .. mode)
      local out, elapsed, growth = run({ { op, call_opts } }, extra)
      return out[1].res, out[1].err, elapsed, growth
    end

    describe("through the " .. tr .. " transport", function()
      describe("never sends an unsafe request twice", function()
        it("a POST answered without a status line (HTTP/0.9) counts as sent", function()
          local res, err = one("post", "http09")
          assert.is_nil(res)
          assert.is_table(err)
          assert.are_not.equal(false, err.sent)
          assert.is_false(err.retryable)
          assert.equal(1, #received())
        end)

        it("a POST answered with status 2000 fails and counts as sent", function()
          local res, err = one("post", "status2000")
          assert.is_nil(res)
          assert.is_table(err)
          assert.are_not.equal(false, err.sent)
          assert.equal(1, #received())
        end)

        it("a POST taken on a kept-alive connection that then closes is not sent again",
          function()
          -- the listener stays closed 0.6 s: the transport's own reconnect is
          -- refused; a policy retry after 1-2 s would get through
          control("modes?m=ok,takeclose,ok")
          local out = run({ { "get" }, { "post" } }, { retry_base = 2 })
          assert.is_table(out[1].res)
          assert.is_nil(out[2].res)
          local err = out[2].err
          assert.is_table(err)
          assert.are_not.equal(false, err.sent)
          assert.is_false(err.retryable)
          local got = received()
          assert.equal(2, #got)
          assert.equal("POST", got[2].method)
        end)

        it("a 503 to a POST is not tried again", function()
          local res, err = one("post", "s503")
          assert.is_nil(res)
          assert.equal(503, err.status)
          assert.is_false(err.retryable)
          assert.equal(1, #received())
        end)

        it("a 503 to a GET is tried again", function()
          local res, err = one("get", "s503,s503,ok")
          assert.is_nil(err)
          assert.is_table(res)
          assert.equal(3, #received())
        end)

        it("a 429 to a POST is tried again", function()
          local res, err = one("post", "s429,ok")
          assert.is_nil(err)
          assert.is_table(res)
          assert.equal(2, #received())
        end)
      end)

      describe("never reads without bound", function()
        for _, mode in ipairs { "big", "bigchunked", "nolength" } do
          it("a body over max_response (" .. mode .. ") fails, is not retried, stays bounded",
            function()
            local res, err, _, growth = one("get", mode, nil, { max_response = 1024 * 1024 })
            assert.is_nil(res)
            assert.is_table(err)
            assert.truthy(tostring(err.message):find("max_response", 1, true), err.text)
            assert.is_false(err.retryable)
            assert.equal(1, #received())
            -- the endless body is 256 MiB; reading it all would show here
            assert.is_true(growth < 64 * 1024, "peak memory grew by " .. growth .. " KiB")
            assert.is_true(control("log").sent[mode] < 128 * 1024 * 1024)
          end)
        end

        it("a flood of header lines fails on the header limit, without quadratic work", function()
          -- the call's own deadline is the guard: quadratic work on 200,000
          -- lines would run into it and end as a timeout instead
          local res, err = one("get", "flood", { retries = 0, timeout = 30 })
          assert.is_nil(res)
          assert.is_table(err)
          assert.equal("transport", err.kind, err.text)
          assert.truthy(tostring(err.message):find("header", 1, true), err.text)
          assert.equal(1, #received())
        end)

        it("takes 400 lines of one header name", function()
          local res, err = one("get", "repeated", { retries = 0 })
          assert.is_nil(err)
          assert.is_table(res)
        end)

        it("a header line of 4 MiB fails", function()
          local res, err = one("get", "longline", { retries = 0 })
          assert.is_nil(res)
          assert.is_table(err)
        end)
      end)

      describe("never waits past its timeout", function()
        for _, mode in ipairs { "drip", "driphead" } do
          it("a server sending a byte each 0.5 s (" .. mode .. ") meets the deadline",
            function()
            -- the drip would last 500 s; the deadline of 1 s ends the call
            -- as a timeout of the one request that went out (a transport
            -- that waited for the drip would end with an answer, or not at all)
            local res, err = one("get", mode, { timeout = 1, retries = 0 })
            assert.is_nil(res)
            assert.equal("timeout", err.kind, err.text)
            assert.are_not.equal(false, err.sent)
            assert.equal(1, #received())
            assert.is_true(control("log").sent[mode] > 0)
          end)
        end
      end)

      describe("never raises", function()
        for _, mode in ipairs { "badchunk", "hugechunk" } do
          it("a broken chunked body (" .. mode .. ") is an error, and others still run",
            function()
            control("modes?m=" .. mode .. ",ok")
            local out = run({ { "get", { retries = 0 } }, { "get", { retries = 0 } } })
            assert.is_nil(out[1].res)
            assert.is_table(out[1].err)
            assert.equal("transport", out[1].err.kind)
            assert.is_table(out[2].res)
          end)
        end

        for _, name in ipairs { "timeout", "connect_timeout" } do
          for _, v in ipairs { 0, -1 } do
            it("a per-call " .. name .. " of " .. v .. " is a validation error", function()
              local out = run({ { "get", { [name] = v } }, { "get" } })
              assert.is_nil(out[1].res)
              assert.equal("validation", out[1].err.kind)
              assert.equal("opts." .. name, out[1].err.field)
              -- nothing went out, and the client still works
              assert.is_table(out[2].res)
              assert.equal(1, #received())
            end)
          end
        end

        it("a per-call retries above 10 is a validation error", function()
          local res, err = one("get", "ok", { retries = 1000 })
          assert.is_nil(res)
          assert.equal("opts.retries", err.field)
          assert.equal(0, #received())
        end)
      end)
    end)
  end
end)
