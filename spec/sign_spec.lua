-- core.sign: SDK-HMAC-SHA256 request signing, checked against the signing
-- vectors (the signing guide's published example and requests signed by the
-- official SDK core), plus the rules the vectors do not reach.
local core = require "hwcloud.core"

local V = require "spec.helpers.vectors"
local vector_url, load_vectors = V.url, V.load

-- core.sign's "Name: value" lines as a map (as hwcloud.sign makes it), or
-- nil, field, message
local function sign(method, url, headers, body, ak, sk)
  local lines, field, message = core.sign(method, url, headers, body, ak, sk)
  if not lines then return nil, field, message end
  local map = {}
  for _, line in ipairs(lines) do
    local name, value = line:match("^([^:]*): (.*)$")
    assert.is_nil(map[name], "one line per header")
    map[name] = value
  end
  return map
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function signature(h)
  return h.Authorization:match("Signature=(%x+)$")
end

local AK, SK = "HPUAEXAMPLEAK00000001", "ExampleSecretKey0000000000000000000000001"
local DATE = "20260115T083000Z"

-- signs a GET with fixed date and returns the signature
local function sig_of(url, headers, body)
  local h = headers or {}
  if h["X-Sdk-Date"] == nil then h["X-Sdk-Date"] = DATE end
  return signature(sign("GET", url, h, body, AK, SK))
end

local vectors = load_vectors()

describe("core.sign against the signing vectors", function()
  it("has vectors to check", function()
    assert.is_true(#vectors >= 20)
  end)

  for _, v in ipairs(vectors) do
    it("reproduces vector " .. tostring(v.id), function()
      local input = copy(v.headers_in)
      local out = sign(v.method, vector_url(v), input, v.body, v.ak, v.sk)

      assert.are.equal(v.authorization, out.Authorization)
      assert.are.equal(v.signed_headers, out.Authorization:match("SignedHeaders=([^,]+),"))

      -- inputs are kept, and the caller's table is not touched
      for k, val in pairs(v.headers_in) do
        assert.are.equal(val, out[k])
        assert.are.equal(val, input[k])
      end
      assert.is_nil(input.Authorization)

      -- Host is added from the URL (with the port when it names one)
      local expected_host = v.headers_out and v.headers_out.host
        or v.endpoint:match("^%a+://([^/]+)")
      assert.are.equal(expected_host, out.Host)

      -- nothing else is added: inputs + Host + Authorization
      local n_in, n_out = 0, 0
      for _ in pairs(v.headers_in) do n_in = n_in + 1 end
      for _ in pairs(out) do n_out = n_out + 1 end
      assert.are.equal(n_in + 2, n_out)
    end)
  end
end)

describe("core.sign's lines", function()
  -- the lines of a map, sorted, for comparing
  local function lines_of(map)
    local out = {}
    for k, v in pairs(map) do out[#out + 1] = k .. ": " .. v end
    table.sort(out)
    return out
  end

  it("gives every vector's headers as lines, after the prefix's, in a new list", function()
    for _, v in ipairs(vectors) do
      local list = { "User-Agent: spec", "Accept: application/json" }
      local out = core.sign(v.method, vector_url(v), copy(v.headers_in), v.body, v.ak, v.sk, nil, list)
      assert.are_not.equal(list, out)
      assert.are.same({ "User-Agent: spec", "Accept: application/json" }, list)
      assert.are.equal("User-Agent: spec", out[1])
      assert.are.equal("Accept: application/json", out[2])
      local rest = {}
      for i = 3, #out do rest[#rest + 1] = out[i] end
      table.sort(rest)
      local map = sign(v.method, vector_url(v), copy(v.headers_in), v.body, v.ak, v.sk)
      assert.are.same(lines_of(map), rest)
      assert.truthy(table.concat(rest, "\n"):find("Authorization: " .. v.authorization, 1, true))
    end
  end)

  it("adds the date it made, and gives nil, field, message on bad input", function()
    local out = core.sign("GET", "https://example.com/v1/x", {}, nil, AK, SK, nil, {})
    local date
    for _, l in ipairs(out) do date = date or l:match("^X%-Sdk%-Date: (%d+T%d+Z)$") end
    assert.truthy(date)
    assert.are.equal(3, #out) -- Host, X-Sdk-Date, Authorization
    -- a line longer than the signer puts together on its stack
    local long = string.rep("v", 400)
    out = core.sign("GET", "https://example.com/v1/x", { ["X-Long"] = long }, nil, AK, SK, nil, {})
    local found
    for _, l in ipairs(out) do found = found or l == "X-Long: " .. long end
    assert.is_true(found)
    assert.has_error(function() core.sign("GET", "https://example.com/", {}, nil, AK, SK, nil, "x") end)
    local ok, field = core.sign("GET", "not a url", {}, nil, AK, SK, nil, {})
    assert.is_nil(ok)
    assert.are.equal("url", field)
    local msg
    ok, field, msg = core.sign("GET", "https://example.com/", { a = "1", A = "2" }, nil, AK, SK, nil, {})
    assert.is_nil(ok)
    assert.are.equal("headers", field)
    assert.matches("header '[aA]' given twice", msg)
  end)

  it("gives, checked, the values of Authorization and of the Host and X-Sdk-Date it added", function()
    assert.are.equal(1, select("#", core.sign("GET", "https://example.com:8443/x", {}, nil, AK, SK)))
    local auth, date, host = core.sign("GET", "https://example.com:8443/x", { ["X-Sdk-Date"] = DATE },
                                       nil, AK, SK, nil, nil, true)
    local out = core.sign("GET", "https://example.com:8443/x", { ["X-Sdk-Date"] = DATE }, nil, AK, SK)
    assert.are.equal("Authorization: " .. auth, out[#out])
    assert.is_nil(date)
    assert.are.equal("example.com:8443", host)
    local _, date2, host2 = core.sign("GET", "https://example.com:8443/x", { Host = "h" }, nil, AK, SK,
                                      nil, nil, true)
    assert.truthy(date2:match("^%d+T%d+Z$"))
    assert.is_nil(host2)
  end)

  it("with a security token, sends it once in place of the caller's X-Security-Token", function()
    local out = core.sign("GET", "https://example.com/", { ["X-Security-Token"] = "old", ["X-Sdk-Date"] = DATE },
                          nil, AK, SK, "tok", {})
    local tokens = {}
    for _, l in ipairs(out) do tokens[#tokens + 1] = l:match("^X%-Security%-Token: (.*)$") end
    assert.are.same({ "tok" }, tokens)
  end)
end)

describe("core.sign", function()
  local v1
  setup(function()
    for _, v in ipairs(vectors) do
      if v.id == 1 then v1 = v end
    end
  end)

  it("generates X-Sdk-Date (UTC now) when absent and signs with it", function()
    local before = os.time()
    local out = sign("GET", "https://example.com/v1/x", {}, nil, AK, SK)
    local after = os.time()
    local date = out["X-Sdk-Date"]
    assert.is_string(date)
    assert.is_truthy(date:match("^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$"))
    local near = false
    for t = before - 3, after + 3 do
      if os.date("!%Y%m%dT%H%M%SZ", t) == date then near = true end
    end
    assert.is_true(near, "date " .. date .. " is not within a few seconds of now")
    assert.is_truthy(out.Authorization:find("SignedHeaders=host;x-sdk-date,", 1, true))
    -- the same date given explicitly gives the same signature
    local again = sign("GET", "https://example.com/v1/x", { ["X-Sdk-Date"] = date }, nil, AK, SK)
    assert.are.equal(out.Authorization, again.Authorization)
  end)

  it("uses X-Sdk-Date given in any case and does not add another", function()
    local out = sign("GET", "https://example.com/", { ["x-sdk-date"] = DATE }, nil, AK, SK)
    assert.is_nil(out["X-Sdk-Date"])
    assert.are.equal(DATE, out["x-sdk-date"])
    assert.are.equal(sig_of("https://example.com/"), signature(out))
  end)

  it("keeps a host header given in the input and signs its value", function()
    local out = sign("GET", "https://10.0.0.1:8443/v1/x",
      { hOsT = "api.example.com", ["X-Sdk-Date"] = DATE }, nil, AK, SK)
    assert.are.equal("api.example.com", out.hOsT)
    assert.is_nil(out.Host)
    local same = sign("GET", "https://api.example.com/v1/x", { ["X-Sdk-Date"] = DATE }, nil, AK, SK)
    assert.are.equal(signature(same), signature(out))
  end)

  it("takes Host from the URL without userinfo, with the port only when named", function()
    local h = { ["X-Sdk-Date"] = DATE }
    assert.are.equal("example.com", sign("GET", "https://u:p@example.com/x", h, nil, AK, SK).Host)
    assert.are.equal("example.com", sign("GET", "https://example.com?a=1", h, nil, AK, SK).Host)
    assert.are.equal("example.com:8080", sign("GET", "http://example.com:8080", h, nil, AK, SK).Host)
    assert.are.equal("[::1]:8443", sign("GET", "https://[::1]:8443/x", h, nil, AK, SK).Host)
  end)

  it("gives a different signature when one byte of the body changes", function()
    local a = sign(v1.method, vector_url(v1), copy(v1.headers_in), v1.body, v1.ak, v1.sk)
    local body = v1.body:sub(1, -3) .. "X" .. v1.body:sub(-1)
    assert.are.equal(#v1.body, #body)
    local b = sign(v1.method, vector_url(v1), copy(v1.headers_in), body, v1.ak, v1.sk)
    assert.are_not.equal(signature(a), signature(b))
  end)

  it("treats a nil body as empty", function()
    assert.are.equal(sig_of("https://example.com/x", nil, ""), sig_of("https://example.com/x", nil, nil))
  end)

  it("uses X-Sdk-Content-Sha256 in place of the body hash", function()
    local h = { ["x-sdk-content-sha256"] = "UNSIGNED-PAYLOAD" }
    local a = sig_of("https://example.com/x", copy(h), "one body")
    local b = sig_of("https://example.com/x", copy(h), "another body")
    assert.are.equal(a, b)
  end)

  it("signs trimmed header values and lower-cased names", function()
    assert.are.equal(sig_of("https://example.com/x", { ["Content-Type"] = "application/json" }),
      sig_of("https://example.com/x", { ["content-type"] = " \tapplication/json  " }))
  end)

  it("canonicalises the path: segments decoded once, re-encoded, trailing slash", function()
    local base = "https://example.com"
    assert.are.equal(sig_of(base .. "/v1/aA"), sig_of(base .. "/v1/a%41"))
    assert.are.equal(sig_of(base .. "/v1/a%20b"), sig_of(base .. "/v1/a b"))
    assert.are.equal(sig_of(base .. "/v1/x"), sig_of(base .. "/v1/x/"))
    assert.are.equal(sig_of(base), sig_of(base .. "/"))
    assert.are_not.equal(sig_of(base .. "/v1/a/b"), sig_of(base .. "/v1/a%2Fb"))
    assert.are_not.equal(sig_of(base .. "/v1/a%2520"), sig_of(base .. "/v1/a%20"))
    assert.are_not.equal(sig_of(base .. "/a//b"), sig_of(base .. "/a/b"))
  end)

  it("canonicalises the query: decoded, sorted by raw key then value, re-encoded", function()
    local base = "https://example.com/v1/x"
    assert.are.equal(sig_of(base .. "?a=1&b=2"), sig_of(base .. "?b=2&a=1"))
    assert.are.equal(sig_of(base .. "?t=z&t=a"), sig_of(base .. "?t=a&t=z"))
    assert.are.equal(sig_of(base .. "?c="), sig_of(base .. "?c"))
    assert.are.equal(sig_of(base .. "?a=1"), sig_of(base .. "?a=1#frag"))
    assert.are.equal(sig_of(base), sig_of(base .. "?"))
    assert.are.equal(sig_of(base .. "?q=a%2Bb"), sig_of(base .. "?q=a+b"))
    assert.are_not.equal(sig_of(base .. "?q=a%20b"), sig_of(base .. "?q=a+b"))
    assert.are.equal(sig_of(base .. "?n=x%20y"), sig_of(base .. "?n=x y"))
  end)

  it("handles many headers, many parameters and a long path", function()
    local headers, query = { ["X-Sdk-Date"] = DATE }, {}
    for i = 1, 100 do
      headers[string.format("X-H-%03d", i)] = "v" .. i
      query[#query + 1] = string.format("p%03d=%%41%d", 101 - i, i)
    end
    local url = "https://example.com/" .. string.rep("seg%20", 20000) .. "?" .. table.concat(query, "&")
    local a = sign("GET", url, headers, nil, AK, SK)
    assert.is_truthy(a.Authorization:find("SignedHeaders=host;x-h-001;x-h-002;", 1, true))
    -- same request again (buffers reused or re-grown) gives the same signature
    assert.are.equal(a.Authorization, sign("GET", url, headers, nil, AK, SK).Authorization)
    headers["X-H-050"] = "changed"
    assert.are_not.equal(a.Authorization, sign("GET", url, headers, nil, AK, SK).Authorization)
  end)

  it("rejects a URL without scheme://host, without revealing the SK", function()
    local secret = "TOP-SECRET-SK-VALUE-0123456789"
    for _, url in ipairs({ "example.com/v1/x", "https:///v1/x", "://example.com/", "https://", "/v1/x" }) do
      local ok, field, err = core.sign("GET", url, {}, nil, AK, secret)
      assert.is_nil(ok, url)
      assert.are.equal("url", field)
      assert.is_truthy(tostring(err):find("URL", 1, true), err)
      assert.is_falsy(tostring(err):find(secret, 1, true))
    end
  end)

  it("rejects wrong argument types, naming the field, without revealing the SK", function()
    local secret = "TOP-SECRET-SK-VALUE-0123456789"
    local url = "https://example.com/"
    local cases = {
      { "headers", "GET", url, "not a table", nil, AK, secret },
      { "headers", "GET", url, { ["X-Count"] = 3 }, nil, AK, secret },
      { "headers", "GET", url, { [1] = "x" }, nil, AK, secret },
      { "headers", "GET", url, { ["X-A"] = "1", ["x-a"] = "2" }, nil, AK, secret },
      { "body", "GET", url, {}, {}, AK, secret },
      { "ak", "GET", url, {}, nil, nil, secret },
      { "sk", "GET", url, {}, nil, AK, nil },
      { "method", nil, url, {}, nil, AK, secret },
    }
    for i, args in ipairs(cases) do
      local ok, field, err = core.sign((table.unpack or unpack)(args, 2, 7))
      assert.is_nil(ok, "case " .. i)
      assert.are.equal(args[1], field, "case " .. i)
      assert.is_string(err)
      assert.is_falsy(tostring(err):find(secret, 1, true))
    end
  end)

  it("names the offending header in a type error; the public form signs numbers", function()
    local ok, field, err = core.sign("GET", "https://example.com/", { ["X-Count"] = 3 }, nil, AK, SK)
    assert.is_nil(ok)
    assert.are.equal("headers", field)
    assert.is_truthy(err:find("X-Count", 1, true))
    local auth = core.sign("get", "https://example.com/", { ["X-Count"] = 3, ["X-Sdk-Date"] = DATE },
                           nil, AK, SK, nil, nil, true)
    local h = sign("GET", "https://example.com/", { ["X-Count"] = "3", ["X-Sdk-Date"] = DATE }, nil, AK, SK)
    assert.are.equal(h.Authorization, auth)
  end)
end)

describe("core.sign's other algorithms against the official signers' vectors", function()
  -- the first line of each file names the SDK commit that made it
  local function load(path)
    local cjson, list, first = require "cjson", {}, true
    for line in io.lines(path) do
      if not first and line:match("%S") then list[#list + 1] = cjson.decode(line) end
      first = false
    end
    return list
  end
  local sets = { load("spec/fixtures/vectors/sm3.jsonl"), load("spec/fixtures/vectors/derived.jsonl") }

  it("has vectors of both", function()
    assert.is_true(#sets[1] >= 5 and #sets[2] >= 3)
  end)

  for _, set in ipairs(sets) do
    for _, v in ipairs(set) do
      it("reproduces " .. v.id .. " (" .. v.algorithm .. ")", function()
        local scope = v.region and (v.region .. "/" .. v.service)
        local url = vector_url(v):gsub(" ", "%%20")
        local auth = core.sign(v.method, url, v.headers_in, v.body, v.ak, v.sk,
                               v.headers_in["X-Security-Token"], nil, true, v.algorithm, scope)
        assert.are.equal(v.authorization, auth)
        -- the list form ends in the same Authorization line
        local lines = core.sign(v.method, url, v.headers_in, v.body, v.ak, v.sk,
                                v.headers_in["X-Security-Token"], nil, nil, v.algorithm, scope)
        assert.are.equal("Authorization: " .. v.authorization, lines[#lines])
      end)
    end
  end

  it("uses X-Sdk-Content-Sm3 in place of the body hash under SM3 only", function()
    local h = { ["X-Sdk-Date"] = "20260115T083000Z" }
    local plain = core.sign("PUT", "https://h/", h, "body", "AK", "SK", nil, nil, true, "SDK-HMAC-SM3")
    h["X-Sdk-Content-Sm3"] = "UNSIGNED-PAYLOAD"
    local a1 = core.sign("PUT", "https://h/", h, "body", "AK", "SK", nil, nil, true, "SDK-HMAC-SM3")
    local a2 = core.sign("PUT", "https://h/", h, "other", "AK", "SK", nil, nil, true, "SDK-HMAC-SM3")
    assert.are.equal(a1, a2)
    assert.are_not.equal(plain:match("Signature=(%x+)"), a1:match("Signature=(%x+)"))
    local s1 = core.sign("PUT", "https://h/", h, "body", "AK", "SK", nil, nil, true)
    local s2 = core.sign("PUT", "https://h/", h, "other", "AK", "SK", nil, nil, true)
    assert.are_not.equal(s1, s2)
  end)

  it("refuses an unknown algorithm and a derived signature without its scope", function()
    local h = { ["X-Sdk-Date"] = "20260115T083000Z" }
    local ok, field, msg = core.sign("GET", "https://h/", h, nil, "AK", "SECRETSK", nil, nil, true, "SDK-HMAC-MD5")
    assert.is_nil(ok)
    assert.are.equal("sign_algorithm", field)
    assert.is_truthy(msg:find("SDK-HMAC-SM3", 1, true))
    assert.is_nil(core.sign("GET", "https://h/", h, nil, "AK", "SK", nil, nil, true, 3))
    assert.is_nil(core.sign("GET", "https://h/", h, nil, "AK", "SK", nil, nil, true, "SDK-HMAC-SM3\0"))
    for _, scope in ipairs({ false, "", "cn north/iotdm", string.rep("r", 201) }) do
      ok, field, msg = core.sign("GET", "https://h/", h, nil, "AK", "SECRETSK", nil, nil, true,
                                 "V11-HMAC-SHA256", scope or nil)
      assert.is_nil(ok)
      assert.are.equal("sign_scope", field)
      assert.is_falsy(msg:find("SECRETSK", 1, true))
    end
  end)
end)
