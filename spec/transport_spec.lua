-- core.transport: the libcurl transport, against a real nginx on loopback.
--
-- Run from the repository root:
--   make && LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/5.4/?.so;;" \
--     lua5.4 /usr/bin/busted spec/transport_spec.lua

local core = require "hwcloud.core"
local cjson = require "cjson"
local socket = require "socket"
local compat = require "spec.helpers.compat"
-- <close> is Lua 5.4 syntax, absent from 5.1, 5.3 and LuaJIT (make matrix)
local it_close = compat.close and it or pending
local server = require "spec.helpers.server"
local emulator = require "spec.helpers.emulator"

local now = socket.gettime

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Polls until nothing is pending; returns the completions by id and how
-- many times each id came back.
local function run(t, limit_s)
  local by_id, seen = {}, {}
  local deadline = now() + (limit_s or 10)
  while t:pending() > 0 do
    assert(now() < deadline, "transfers did not finish in time")
    for _, c in ipairs(t:poll(100)) do
      by_id[c.id] = c
      seen[c.id] = (seen[c.id] or 0) + 1
    end
  end
  return by_id, seen
end

-- One request, one completion.
local function request(t, method, url, headers, body, opts)
  assert(t:submit(1, method, url, headers or {}, body, opts))
  return run(t)[1]
end

-- A loopback port nothing listens on: bind, note it, close.
local function closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

describe("core.transport", function()
  local srv, t

  -- nginx starts with the first describe that needs it (each #server one
  -- asks in lazy_setup), so `make check` runs the rest without it
  local function start_server()
    srv = srv or server.start{
      name = "transport",
      http = read("spec/fixtures/transport/nginx.conf"),
      tls = true,
    }
  end

  teardown(function()
    if srv then srv:stop() end
  end)

  before_each(function()
    t = core.transport{ timeout = 10, connect_timeout = 5 }
  end)

  after_each(function()
    t:close()
  end)

  local function echo(method, headers, body, path)
    local c = request(t, method, srv:url(path or "/echo"), headers, body)
    assert.is_nil(c.error, c.message)
    assert.equal(200, c.status)
    return cjson.decode(c.body), c
  end

  describe("requests #server", function()
    lazy_setup(start_server)

    it("sends a GET with its headers in the given order", function()
      local e, c = echo("GET", { "X-First: 1", "X-Second: two words", "X-Third: 3" })
      assert.equal("GET", e.method)
      assert.equal("/echo", e.uri)
      assert.equal("two words", e.headers["x-second"])
      local a = e.raw_header:find("X-First: 1\r\n", 1, true)
      local b = e.raw_header:find("X-Second: two words\r\n", 1, true)
      local d = e.raw_header:find("X-Third: 3\r\n", 1, true)
      assert.truthy(a and b and d and a < b and b < d)
      assert.is_nil(e.headers["content-length"])
      assert.is_nil(e.headers["accept-encoding"])
      assert.equal("number", type(c.time))
    end)

    it("sends a POST body exactly, without Expect or an invented Content-Type", function()
      local body = '{"k":"v","n":[1,2,3]}'
      local e = echo("POST", { "X-A: 1" }, body)
      assert.equal("POST", e.method)
      assert.equal(body, e.body)
      assert.equal(tostring(#body), e.headers["content-length"])
      assert.is_nil(e.headers["expect"])
      assert.is_nil(e.headers["content-type"])
    end)

    it("keeps a caller's Content-Type", function()
      local e = echo("POST", { "Content-Type: application/json;charset=utf8" }, "{}")
      assert.equal("application/json;charset=utf8", e.headers["content-type"])
    end)

    it("never sends Expect, even for a large body", function()
      local body = string.rep("0123456789abcdef", 128 * 1024) -- 2 MiB
      local e = echo("PUT", {}, body)
      assert.equal(#body, #e.body)
      assert.equal(body, e.body)
      assert.is_nil(e.headers["expect"])
    end)

    it("sends binary bodies byte for byte", function()
      local body = "a\0b\r\n\255\0"
      assert.equal(body, echo("POST", {}, body).body)
    end)

    it("sends Content-Length: 0 for an empty or absent body on POST, PUT and PATCH", function()
      for _, m in ipairs{ "POST", "PUT", "PATCH" } do
        for _, body in ipairs{ "", false } do
          local e = echo(m, {}, body or nil)
          assert.equal(m, e.method)
          assert.equal("0", e.headers["content-length"])
          assert.equal("", e.body)
          assert.is_nil(e.headers["expect"])
        end
      end
    end)

    it("sends PUT, PATCH and DELETE with bodies", function()
      for _, m in ipairs{ "PUT", "PATCH", "DELETE" } do
        local e = echo(m, { "Content-Type: application/json" }, '{"m":"' .. m .. '"}')
        assert.equal(m, e.method)
        assert.equal('{"m":"' .. m .. '"}', e.body)
      end
    end)

    it("sends a DELETE without a body and without Content-Length", function()
      local e = echo("DELETE", {})
      assert.equal("DELETE", e.method)
      assert.is_nil(e.headers["content-length"])
    end)

    it("does HEAD without waiting for a body", function()
      local c = request(t, "HEAD", srv:url("/echo"), {})
      assert.is_nil(c.error, c.message)
      assert.equal(200, c.status)
      assert.equal("", c.body)
      assert.equal("application/json", c.headers["content-type"])
    end)

    it("sends any other token method", function()
      assert.equal("OPTIONS", echo("OPTIONS", {}).method)
    end)

    it("sends the path as is and an empty header as empty", function()
      local e = echo("GET", { "X-Empty:", "X-Blank:   " }, nil, "/echo/a/../b/./c?x=%2F&y=1")
      assert.equal("/echo/a/../b/./c?x=%2F&y=1", e.uri)
      assert.equal("", e.headers["x-empty"])
      assert.equal("", e.headers["x-blank"])
    end)

    it("sends the configured User-Agent, and a caller's header over it", function()
      t:close()
      t = core.transport{ user_agent = "hwcloud-test/9" }
      assert.equal("hwcloud-test/9", echo("GET", {}).headers["user-agent"])
      assert.equal("mine", echo("GET", { "User-Agent: mine" }).headers["user-agent"])
    end)

    it("rejects malformed headers and methods without echoing values", function()
      local ok, msg = t:submit(1, "GET", srv:url("/echo"),
                               { "Authorization: secret-value\r\nX-Evil: 1" }, nil)
      assert.is_nil(ok)
      assert.matches("header #1", msg)
      assert.not_matches("secret%-value", msg)
      ok, msg = t:submit(1, "GET", srv:url("/echo"), { "no colon here" }, nil)
      assert.is_nil(ok)
      assert.matches("header #1", msg)
      ok, msg = t:submit(1, "GET", srv:url("/echo"), { "X-A: 1", 42 }, nil)
      assert.is_nil(ok)
      assert.matches("header #2", msg)
      ok, msg = t:submit(1, "GET /x HTTP/1.1\r\n", srv:url("/echo"), {}, nil)
      assert.is_nil(ok)
      assert.matches("method", msg)
      assert.equal(0, t:pending())
      -- the refused submissions left the transport usable
      assert.equal("GET", echo("GET", {}).method)
    end)

    it("raises on argument type errors", function()
      assert.has_error(function() t:submit("x", "GET", srv:url("/"), {}, nil) end)
      assert.has_error(function() t:submit(1, "GET", srv:url("/"), "X-A: 1", nil) end)
      assert.has_error(function() t:submit(1, "GET", srv:url("/"), {}, 42) end)
      assert.has_error(function() t:submit(1, "GET", srv:url("/"), {}, nil, { timeout = "1" }) end)
      assert.has_error(function() t:submit(1, "GET", srv:url("/"), {}, nil, { once = 1 }) end)
    end)
  end)

  describe("responses #server", function()
    lazy_setup(start_server)

    it("returns 4xx and 5xx as completions with status, headers and body", function()
      for _, code in ipairs{ 400, 404, 429, 500, 503 } do
        local c = request(t, "GET", srv:url("/status/" .. code), {})
        assert.is_nil(c.error)
        assert.equal(code, c.status)
        assert.equal("req-" .. code, c.headers["x-request-id"])
        assert.equal("one, two", c.headers["x-multi"])
        assert.same({ error_code = "E" .. code, error_msg = "status " .. code },
                    cjson.decode(c.body))
      end
    end)

    it("caps the response body at max_response", function()
      t:close()
      t = core.transport{ max_response = 100000 }
      for _, cl in ipairs{ "1", "0" } do
        local c = request(t, "GET", srv:url("/big?bytes=300000&cl=" .. cl), {})
        assert.equal("transport", c.error)
        assert.equal("response larger than max_response (100000 bytes)", c.message)
        assert.is_true(c.sent)
        assert.is_nil(c.status)
        local ok = request(t, "GET", srv:url("/big?bytes=100000&cl=" .. cl), {})
        assert.is_nil(ok.error, ok.message)
        assert.equal(100000, #ok.body)
      end
    end)

    it("receives a multi-megabyte body intact", function()
      local c = request(t, "GET", srv:url("/big?bytes=5000000"), {})
      assert.equal(200, c.status)
      assert.equal(5000000, #c.body)
      assert.equal(string.rep("x", 5000000), c.body)
    end)
  end)

  describe("failures #server", function()
    lazy_setup(start_server)

    it("reports a connection closed without an answer as sent", function()
      local c = request(t, "POST", srv:url("/drop"), {}, "x")
      assert.equal("transport", c.error)
      assert.is_true(c.sent)
    end)

    it("times out a slow answer, per request", function()
      local c = request(t, "GET", srv:url("/slow?ms=3000"), {}, nil, { timeout = 0.3 })
      assert.equal("timeout", c.error)
      assert.equal(28, c.code) -- CURLE_OPERATION_TIMEDOUT
      -- the server would have answered after 3 s: a timeout error (28) is
      -- the transport's own deadline, not the answer's end
      assert.is_true(c.sent)
    end)

    it("times out with the transport's timeout", function()
      t:close()
      t = core.transport{ timeout = 0.3 }
      local c = request(t, "GET", srv:url("/slow?ms=3000"), {})
      assert.equal("timeout", c.error)
    end)

    it("sends through the proxy, with its credentials", function()
      -- nginx answers absolute-form requests itself: a plain-HTTP proxy
      t:close()
      t = core.transport{ proxy = "http://user:pa%3Ass@127.0.0.1:" .. srv.port }
      local c = request(t, "GET", "http://api.example.invalid/echo?q=1", {})
      assert.is_nil(c.error, c.message)
      local e = cjson.decode(c.body)
      assert.equal("api.example.invalid", e.headers["host"])
      assert.matches("^GET http://api%.example%.invalid/echo%?q=1 HTTP/1%.1\r\n", e.raw_header)
      -- base64("user:pa:ss")
      assert.equal("Basic dXNlcjpwYTpzcw==", e.headers["proxy-authorization"])
    end)

    it("keeps proxy credentials out of error messages", function()
      t:close()
      t = core.transport{ proxy = "http://user:pr0xy-s3cret@127.0.0.1:" .. closed_port() }
      local c = request(t, "GET", srv:url("/echo"), { "Authorization: tok-s3cret" })
      assert.equal("transport", c.error)
      assert.is_false(c.sent)
      assert.not_matches("s3cret", c.message)
    end)
  end)

  describe("failures without a server", function()
    it("reports a refused connection as not sent", function()
      local c = request(t, "POST", "http://127.0.0.1:" .. closed_port() .. "/", {}, "x")
      assert.equal("transport", c.error)
      assert.is_false(c.sent)
      assert.equal(7, c.code) -- CURLE_COULDNT_CONNECT
      assert.equal("string", type(c.message))
    end)

    it("rejects other protocols", function()
      local c = request(t, "GET", "file:///etc/passwd", {})
      assert.equal("transport", c.error)
      assert.is_false(c.sent)
    end)
  end)

  describe("concurrency and connections #server", function()
    lazy_setup(start_server)

    it("runs many requests at once and returns each id exactly once", function()
      local n = 50
      request(t, "GET", srv:url("/slow-flight"), {}, nil) -- counting starts afresh
      for i = 1, n do
        assert(t:submit(1000 + i, "GET", srv:url("/slow?ms=200"), {}, nil))
      end
      assert.equal(n, t:pending())
      local by_id, seen = run(t, 10)
      for i = 1, n do
        assert.equal(1, seen[1000 + i])
        assert.equal(200, by_id[1000 + i].status)
        assert.equal("slept 200", by_id[1000 + i].body)
      end
      local count = 0
      for _ in pairs(seen) do count = count + 1 end
      assert.equal(n, count)
      -- the server had many of them at once, not one after another
      local most = tonumber(request(t, "GET", srv:url("/slow-flight"), {}, nil).body)
      assert.is_true(most >= 10, "at most " .. tostring(most) .. " at once")
    end)

    it("reuses one keep-alive connection for sequential requests", function()
      local conn, last
      for i = 1, 5 do
        local e = echo("GET", {})
        conn = conn or e.connection
        assert.equal(conn, e.connection)
        if last then assert.equal(last + 1, e.connection_requests) end
        last = e.connection_requests
        assert.equal(i, i)
      end
    end)

    it("returns before wait_ms when a transfer completes", function()
      assert(t:submit(7, "GET", srv:url("/slow?ms=50"), {}, nil))
      assert(t:submit(8, "GET", srv:url("/slow?ms=1200"), {}, nil))
      local got = {}
      while #got == 0 do got = t:poll(5000) end
      assert.equal(1, #got)
      assert.equal(7, got[1].id)
      -- it returned on that completion, not at the end of wait_ms: the
      -- 1.2 s request is still in flight
      assert.equal(1, t:pending())
      local rest = run(t)
      assert.equal(200, rest[8].status)
    end)
  end)

  describe("response headers as sent by a raw server", function()
    -- one answer written byte for byte by a socket of this process, served
    -- between polls: what nginx would never send (a 1xx first, a repeated
    -- name, an obsolete folded line)
    local function answer_with(head)
      local l = assert(socket.bind("127.0.0.1", 0))
      local _, port = l:getsockname()
      l:settimeout(0)
      local tr = core.transport{ timeout = 10 }
      assert(tr:submit(1, "GET", "http://127.0.0.1:" .. port .. "/", {}, nil))
      local c, got, deadline = nil, nil, now() + 10
      while not got do
        assert(now() < deadline, "no answer in time")
        for _, x in ipairs(tr:poll(10)) do got = x end
        if not c then
          c = l:accept()
          if c then
            c:settimeout(5)
            repeat local line = assert(c:receive("*l")) until line == ""
            assert(c:send(head .. "Content-Length: 2\r\n\r\nok"))
          end
        end
      end
      if c then c:close() end
      l:close()
      tr:close()
      return got
    end

    it("keeps the final response's headers, names lower-cased, a repeated one joined", function()
      local got = answer_with("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
        .. "HTTP/1.1 200 OK\r\nX-Rep: a\r\nX-Trim:  \t padded \t \r\nx-rep: b\r\n"
        .. "X-REP: c\r\n")
      assert.are.equal(200, got.status)
      assert.are.equal("ok", got.body)
      assert.is_nil(got.headers["x-interim"])
      assert.are.equal("a, b, c", got.headers["x-rep"])
      assert.are.equal("padded", got.headers["x-trim"])
      assert.are.equal("2", got.headers["content-length"])
    end)

    it("joins an obsolete folded line to the one before with a space", function()
      local got = assert(answer_with("HTTP/1.1 200 OK\r\nX-Fold: one\r\n \t two\r\n"))
      if got.status then
        assert.are.equal("one two", got.headers["x-fold"])
      else
        -- a libcurl that refuses folded lines fails the transfer instead
        assert.are.equal("transport", got.error)
      end
    end)
  end)

  describe("polling with nothing in flight", function()
    it("polls to an empty array when nothing is done", function()
      assert.same({}, t:poll(0))
    end)

    it("sleeps about wait_ms when nothing is in flight", function()
      local t0 = now()
      assert.same({}, t:poll(200))
      local dt = now() - t0
      assert.is_true(dt >= 0.15, "slept " .. dt .. " s")
    end)
  end)

  describe("once (a request that must not be sent twice) #server", function()
    lazy_setup(start_server)

    it("sends the same bytes, and Content-Length: 0 for an empty or absent body", function()
      local body = '{"k":"v","bin":"a\0b"}'
      for _, m in ipairs{ "POST", "PUT", "PATCH", "DELETE" } do
        local c = request(t, m, srv:url("/echo"), { "X-A: 1" }, body, { once = true })
        assert.is_nil(c.error, c.message)
        local e = cjson.decode(c.body)
        assert.equal(m, e.method)
        assert.equal(body, e.body)
        assert.equal(tostring(#body), e.headers["content-length"])
        assert.is_nil(e.headers["transfer-encoding"])
        assert.is_nil(e.headers["expect"])
        assert.is_nil(e.headers["content-type"])
        local plain = cjson.decode(request(t, m, srv:url("/echo"), { "X-A: 1" }, body).body)
        assert.equal(plain.raw_header, e.raw_header)
      end
      for _, m in ipairs{ "POST", "PUT", "PATCH" } do
        for _, b in ipairs{ "", false } do
          local e = cjson.decode(request(t, m, srv:url("/echo"), {}, b or nil, { once = true }).body)
          assert.equal("0", e.headers["content-length"])
          assert.equal("", e.body)
        end
      end
      local e = cjson.decode(request(t, "DELETE", srv:url("/echo"), {}, nil, { once = true }).body)
      assert.is_nil(e.headers["content-length"])
    end)

    it("sends a large body intact", function()
      local body = string.rep("0123456789abcdef", 128 * 1024) -- 2 MiB
      local c = request(t, "POST", srv:url("/echo"), {}, body, { once = true })
      assert.equal(body, cjson.decode(c.body).body)
    end)

    it("sends a large body intact when the caller has dropped it (not copied, held)", function()
      -- built here and referenced nowhere else once submitted: the
      -- transport must hold the string itself for the whole transfer
      local function submit_fresh(id)
        local big = string.rep("fedcba9876543210", 64 * 1024) .. tostring(id) -- 1 MiB and a bit
        assert(t:submit(id, "POST", srv:url("/echo"), {}, big, { once = true }))
        return #big
      end
      local sizes = { submit_fresh(1), submit_fresh(2) }
      collectgarbage()
      collectgarbage()
      local got = {}
      for _, c in ipairs(run(t)) do got[c.id] = cjson.decode(c.body).body end
      for id = 1, 2 do
        assert.equal(sizes[id], #got[id])
        assert.equal(string.rep("fedcba9876543210", 64 * 1024) .. tostring(id), got[id])
      end
      collectgarbage()
    end)

    it("keeps one connection for sequential requests", function()
      local conn, last
      for i = 1, 20 do
        local c = request(t, "POST", srv:url("/echo"), {}, "b" .. i, { once = true })
        assert.is_nil(c.error, c.message)
        local e = cjson.decode(c.body)
        assert.equal("b" .. i, e.body)
        conn = conn or e.connection
        assert.equal(conn, e.connection)
        if last then assert.equal(last + 1, e.connection_requests) end
        last = e.connection_requests
      end
    end)

    it("keeps one HTTP/2 connection for sequential requests", function()
      t:close()
      t = core.transport{ ca_file = srv.cert }
      local conn
      for i = 1, 5 do
        local c = request(t, "POST", srv:tls_url("/echo"), {}, "h2-" .. i, { once = true })
        assert.is_nil(c.error, c.message)
        local e = cjson.decode(c.body)
        assert.equal(2, e.http_version)
        assert.equal("h2-" .. i, e.body)
        conn = conn or e.connection
        assert.equal(conn, e.connection)
      end
    end)

    describe("on a kept-alive connection the server closes without answering", function()
      -- The emulator counts every request of an operation, faults included,
      -- and applies a fault before checking the signature: unsigned requests
      -- are enough here.
      local PID = "5d2c1b0a99887766554433221100ffee"
      local POST_OP, POST_PATH = "workspaceapp.reinstall_server",
        "/v1/" .. PID .. "/app-servers/srv-once/actions/reinstall"
      local DELETE_OP, DELETE_PATH = "rts.delete_software_deployment",
        "/v1/" .. PID .. "/software_deployments/dep-once"
      local emu

      setup(function() emu = emulator.start{} end)
      teardown(function() if emu then emu:stop() end end)
      before_each(function() emu:reset() end)

      -- The connection is warmed by a first request, then the operation is
      -- dropped (up to 3 times: enough to see any resend).
      local function dropped(method, path, op, body, opts)
        local warm = request(t, "GET", emu.url .. "/_emulator/health", {})
        assert.equal(200, warm.status)
        emu:fault{ operation = op, count = 3, drop = true }
        local c = request(t, method, emu.url .. path, {}, body, opts)
        return c, emu:counts()[op]
      end

      it("is resent by libcurl itself without once (what once prevents)", function()
        local c, n = dropped("POST", POST_PATH, POST_OP, '{"update_access_agent":false}')
        assert.equal("transport", c.error)
        assert.equal(2, n)
      end)

      it("is not resent with once, and is reported as sent", function()
        local c, n = dropped("POST", POST_PATH, POST_OP, '{"update_access_agent":false}',
                             { once = true })
        assert.equal("transport", c.error)
        assert.is_true(c.sent)
        assert.equal(42, c.code) -- CURLE_ABORTED_BY_CALLBACK: the second start refused
        assert.matches("not sent again", c.message)
        assert.equal(1, n)
      end)

      it("is not resent with once when there is no body or an empty one", function()
        for _, case in ipairs{ { "DELETE", DELETE_PATH, DELETE_OP, nil },
                               { "POST", POST_PATH, POST_OP, "" } } do
          emu:reset()
          local c, n = dropped(case[1], case[2], case[3], case[4], { once = true })
          assert.equal("transport", c.error)
          assert.is_true(c.sent)
          assert.equal(42, c.code) -- CURLE_ABORTED_BY_CALLBACK: the second start refused
          assert.equal(1, n)
        end
      end)

      it("leaves the transport usable for the next request", function()
        dropped("POST", POST_PATH, POST_OP, "{}", { once = true })
        local c = request(t, "GET", emu.url .. "/_emulator/health", {}, nil, { once = true })
        assert.equal(200, c.status)
      end)
    end)
  end)

  describe("TLS #server", function()
    lazy_setup(start_server)

    it("rejects a self-signed server by default, before sending", function()
      local c = request(t, "POST", srv:tls_url("/echo"), {}, "x")
      assert.equal("transport", c.error)
      assert.is_false(c.sent)
      assert.matches("certificate", c.message)
    end)

    it("accepts the server with ca_file, over HTTP/2", function()
      t:close()
      t = core.transport{ ca_file = srv.cert }
      for _, host in ipairs{ "127.0.0.1", "localhost" } do
        local c = request(t, "POST", srv:tls_url("/echo", host), { "X-A: 1" }, "hello")
        assert.is_nil(c.error, c.message)
        local e = cjson.decode(c.body)
        assert.equal("https", e.scheme)
        assert.equal(2, e.http_version)
        assert.equal("hello", e.body)
        assert.equal("1", e.headers["x-a"])
      end
    end)

    it("speaks HTTP/1.1 over TLS when http2 is false", function()
      t:close()
      t = core.transport{ ca_file = srv.cert, http2 = false }
      local e = cjson.decode(request(t, "GET", srv:tls_url("/echo"), {}).body)
      assert.equal(1.1, e.http_version)
      assert.is_nil(e.headers["expect"])
    end)

    it("accepts any server with verify_tls = false", function()
      t:close()
      t = core.transport{ verify_tls = false }
      local c = request(t, "GET", srv:tls_url("/echo"), {})
      assert.equal(200, c.status)
    end)

    it("multiplexes concurrent requests over HTTP/2", function()
      t:close()
      t = core.transport{ ca_file = srv.cert }
      for i = 1, 20 do
        assert(t:submit(i, "GET", srv:tls_url("/echo"), {}, nil))
      end
      local by_id = run(t)
      local conns = {}
      for i = 1, 20 do
        assert.equal(200, by_id[i].status, by_id[i].message)
        conns[cjson.decode(by_id[i].body).connection] = true
      end
      local n = 0
      for _ in pairs(conns) do n = n + 1 end
      assert.equal(1, n)
    end)
  end)

  describe("lifetime #server", function()
    lazy_setup(start_server)

    it("close() aborts what is in flight and may be called again", function()
      for i = 1, 10 do
        assert(t:submit(i, "POST", srv:url("/slow?ms=2000"), {}, "body " .. i))
      end
      assert(t:poll(0))
      assert.equal(10, t:pending())
      t:close()
      assert.equal(0, t:pending())
      t:close()
      local ok, msg = t:submit(1, "GET", srv:url("/echo"), {}, nil)
      assert.is_nil(ok)
      assert.matches("closed", msg)
      assert.has_error(function() t:poll(0) end)
    end)

    it("is collected with transfers in flight", function()
      local x = core.transport{}
      for i = 1, 5 do assert(x:submit(i, "GET", srv:url("/slow?ms=2000"), {}, nil)) end
      x:poll(10)
      x = nil -- luacheck: ignore
      collectgarbage()
      collectgarbage()
    end)

    -- compiled at run time so that the file loads where <close> does not
    it_close("closes at the end of a to-be-closed scope", function()
      local probe = assert(load([[
        local core, url = ...
        local probe
        do
          local x <close> = core.transport{}
          probe = x
          assert(x:submit(1, "GET", url, {}, nil))
        end
        return probe
      ]]))(core, srv:url("/slow?ms=2000"))
      assert.matches("closed", tostring(probe))
    end)

    it("keeps working across many sequential requests (handle pool)", function()
      for i = 1, 100 do
        local e = echo(i % 2 == 0 and "GET" or "POST", { "X-I: " .. i }, i % 2 == 1 and ("b" .. i) or nil)
        assert.equal(tostring(i), e.headers["x-i"])
      end
    end)
  end)

  describe("options", function()
    it("uses defaults for an absent table", function()
      core.transport():close()
    end)

    it("names the option in type errors", function()
      local cases = {
        { { timeout = "30" }, "timeout" },
        { { connect_timeout = true }, "connect_timeout" },
        { { timeout = -1 }, "timeout" },
        { { timeout = 0 }, "timeout" },
        { { verify_tls = "no" }, "verify_tls" },
        { { http2 = 1 }, "http2" },
        { { ca_file = 1 }, "ca_file" },
        { { proxy = true }, "proxy" },
        { { user_agent = {} }, "user_agent" },
        { { max_response = "big" }, "max_response" },
        { { max_response = -5 }, "max_response" },
      }
      for _, case in ipairs(cases) do
        local ok, err = pcall(core.transport, case[1])
        assert.is_false(ok)
        assert.matches("'" .. case[2] .. "'", err, 1, true)
      end
      assert.has_error(function() core.transport("x") end)
    end)
  end)
end)
