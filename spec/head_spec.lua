-- core.parse_head: an HTTP/1.x response head as the cosocket transport
-- reads it. The transport's own behaviour on slow, flooding and malformed
-- servers is in hostile_spec; here are the parser's rules.

local core = require "hwcloud.core"

local function parse(text, init, limits)
  limits = limits or {}
  return core.parse_head(text, init or 1, limits.status or 8192, limits.bytes or 262144,
    limits.lines or 500)
end

describe("core.parse_head", function()
  it("gives status, version, lower-case names with trimmed values, and where the body starts",
    function()
    local text = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
      .. "X-Request-Id: \t r-1 \t\r\nETAG:\"x\"\r\n\r\n{}"
    local status, version, headers, nxt = parse(text)
    assert.are.equal(201, status)
    assert.are.equal("1.1", version)
    assert.are.same({ ["content-type"] = "application/json", ["x-request-id"] = "r-1",
                      etag = '"x"' }, headers)
    assert.are.equal("{}", text:sub(nxt))
  end)

  it("joins a repeated header's values in order, and keeps empty values", function()
    local _, _, h = parse("HTTP/1.0 200 OK\r\nVary: a\r\nX: 1\r\nvary: b\r\nVARY:c\r\nE:\r\n\r\n")
    assert.are.equal("a, b, c", h.vary)
    assert.are.equal("1", h.x)
    assert.are.equal("", h.e)
    local lines = { "HTTP/1.1 200 OK" }
    for i = 1, 400 do lines[#lines + 1] = "Set-Cookie: c" .. i end
    local _, _, many = parse(table.concat(lines, "\r\n") .. "\r\n\r\n")
    local want = {}
    for i = 1, 400 do want[i] = "c" .. i end
    assert.are.equal(table.concat(want, ", "), many["set-cookie"])
  end)

  it("takes bare LF line ends, a status without a reason, and long names", function()
    local long = string.rep("N", 100)
    local status, version, h, nxt = parse("HTTP/1.0 404\n" .. long .. ": v\nA: b\n\nrest")
    assert.are.equal(404, status)
    assert.are.equal("1.0", version)
    assert.are.equal("v", h[long:lower()])
    assert.are.equal("b", h.a)
    assert.are.equal(nxt, #("HTTP/1.0 404\n" .. long .. ": v\nA: b\n\n") + 1)
  end)

  it("ignores a line without a name, and starts where it is told", function()
    local _, _, h = parse("HTTP/1.1 200 OK\r\nno colon here\r\n: nameless\r\nA: 1\r\n\r\n")
    assert.are.same({ a = "1" }, h)
    -- a 100 Continue, then the answer, in one buffer
    local text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: 2\r\n\r\nbody"
    local s1, _, _, n1 = parse(text)
    assert.are.equal(100, s1)
    local s2, _, h2, n2 = parse(text, n1)
    assert.are.equal(200, s2)
    assert.are.equal("2", h2.a)
    assert.are.equal("body", text:sub(n2))
  end)

  it("answers nil while the empty line has not come", function()
    for _, part in ipairs { "", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nA: 1\r\n",
                            "HTTP/1.1 200 OK\r\nA: 1\r\n\r" } do
      assert.is_nil(parse(part), part)
    end
  end)

  it("refuses what is not a status line", function()
    for _, line in ipairs { "HTTP/1.1 2000 OK", "HTTP/1.1 099 x", "HTTP/1.1 20 OK", "HTTP/11 200 OK",
                            "HTTP/1.1 200OK", "http/1.1 200 OK", "ICY 200 OK", "HTTP/1.1  200 OK",
                            "{\"job_id\":\"x\"}" } do
      local ok, msg = parse(line .. "\r\n\r\n")
      assert.is_false(ok, line)
      assert.are.equal("bad status line", msg)
    end
  end)

  it("holds the limits on the status line, the head's bytes and its lines", function()
    local ok, msg = parse("HTTP/1.1 200 " .. string.rep("x", 100) .. "\r\n\r\n", 1, { status = 50 })
    assert.is_false(ok)
    assert.are.equal("bad status line", msg)
    local lines = { "HTTP/1.1 200 OK" }
    for i = 1, 11 do lines[#lines + 1] = "H" .. i .. ": v" end
    local text = table.concat(lines, "\r\n") .. "\r\n\r\n"
    assert.are.equal(200, (parse(text, 1, { lines = 11 })))
    ok, msg = parse(text, 1, { lines = 10 })
    assert.is_false(ok)
    assert.are.equal("too many response header lines", msg)
    ok, msg = parse(text, 1, { bytes = 20 })
    assert.is_false(ok)
    assert.are.equal("response headers too large", msg)
  end)

  it("raises only on misuse", function()
    assert.has_error(function() core.parse_head(nil, 1, 1, 1, 1) end)
    assert.has_error(function() core.parse_head("x", 5, 1, 1, 1) end)
    assert.has_error(function() core.parse_head("x", 0, 1, 1, 1) end)
  end)
end)
