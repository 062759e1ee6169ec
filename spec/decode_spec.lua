-- core.decode: an answer's JSON text as Lua values. Integers stay integers
-- (exactly, to 64 bits, on Lua 5.3+), null is hwcloud.null, tables come out
-- whole across the sizes where the decoder changes how it fills them, and
-- text that is not JSON is refused with what and where, never a raise.

local core = require "hwcloud.core"
local cjson = require "cjson"
local null = require("hwcloud").null
local compat = require "spec.helpers.compat"
local it_int = compat.integers and it or pending

local decode = core.decode

-- deep equality, numbers by value
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

describe("core.decode", function()
  it("reads every kind of value, as lua-cjson does", function()
    local text = '{"s":"x","n":-12.5,"i":42,"t":true,"f":false,"z":null,'
      .. '"a":[1,"two",[3],{"four":4},null],"o":{"p":{"q":[]}},"e":{}}'
    local v, whole = decode(text)
    assert.is_true(same(cjson.decode(text), v))
    assert.equal(null, v.z)
    assert.equal(null, v.a[5])
    assert.equal(5, #v.a)
    assert.equal(0, whole)
    for _, scalar in ipairs { '"x"', "7", "-0.25", "true", "false", "null", " \t\r\n 7 \n" } do
      assert.is_true(same(cjson.decode(scalar), (decode(scalar))), scalar)
    end
  end)

  it("marks an empty array with core.empty_array_mt, the one shared marker, and nothing else", function()
    local v = decode('{"a":[],"o":{},"n":[[],{"x":[]}],"f":[1]}')
    local mt = core.empty_array_mt
    assert.is_table(mt)
    assert.equal(mt, getmetatable(v.a))
    assert.equal(mt, getmetatable(v.n[1]))
    assert.equal(mt, getmetatable(v.n[2].x))
    assert.equal(mt, getmetatable((decode("[ ]"))))
    for _, t in ipairs { v, v.o, v.n, v.n[2], v.f } do assert.is_nil(getmetatable(t)) end
    -- like lua-cjson's, it marks and does nothing else: the table stays an empty table
    assert.is_nil(next(v.a))
    assert.equal(0, #v.a)
  end)

  it_int("keeps integers as integers, exactly, and floats as floats", function()
    local v, whole = decode('[600,-7,0,-0,600.0,1e3,2.5,9007199254740993,'
      .. '9223372036854775807,-9223372036854775808,9223372036854775808,12345678901234567890]')
    assert.same({ "integer", "integer", "integer", "integer", "float", "float", "float",
                  "integer", "integer", "integer", "float", "float" },
                { math.type(v[1]), math.type(v[2]), math.type(v[3]), math.type(v[4]),
                  math.type(v[5]), math.type(v[6]), math.type(v[7]), math.type(v[8]),
                  math.type(v[9]), math.type(v[10]), math.type(v[11]), math.type(v[12]) })
    assert.equal(600, v[1])
    -- beyond 2^53, where lua-cjson's float loses the last digit
    assert.equal(9007199254740993, v[8])
    assert.are_not.equal(9007199254740993, cjson.decode("[9007199254740993]")[1])
    assert.equal(math.maxinteger, v[9])
    assert.equal(math.mininteger, v[10])
    assert.equal(2 ^ 63, v[11])
    -- 600.0 and 1e3 are whole floats (what services.conform may turn into
    -- integers); 2.5 and the two beyond 64 bits are not counted
    assert.equal(2, whole)
  end)

  it("reads numbers in every form the grammar allows", function()
    local v = decode("[0,-0.0,1.5e-3,1E+2,2e0,-3.25E-1,1e400,123456789.125]")
    assert.same({ 0, 0, 0.0015, 100, 2, -0.325, math.huge, 123456789.125 }, v)
  end)

  it("undoes every escape, joins surrogate pairs and replaces lone ones", function()
    assert.equal('"\\/\b\f\n\r\t', decode([["\"\\\/\b\f\n\r\t"]]))
    assert.equal("é€😀", decode([["\u00e9\u20AC\ud83d\ude00"]]))
    assert.equal("a\0b", decode([["a\u0000b"]]))
    -- a lone surrogate, high or low, is U+FFFD; what follows is kept
    assert.equal("\239\191\189x", decode([["\ud800x"]]))
    assert.equal("\239\191\189\239\191\189", decode([["\udc00\ud800"]]))
    assert.equal("\239\191\189A", decode([["\ud83d\u0041"]]))
    -- raw UTF-8 (and any byte from 0x20 up) goes through as sent
    assert.equal("région \255", decode('"région \255"'))
  end)

  it("reads strings whole wherever their quote or escape falls in a word", function()
    for n = 0, 40 do
      local plain = string.rep("a", n)
      assert.equal(plain, decode('"' .. plain .. '"'))
      assert.equal(plain .. '"' .. plain, decode('"' .. plain .. '\\"' .. plain .. '"'))
      assert.same({ plain, plain }, decode('["' .. plain .. '","' .. plain .. '"]'))
    end
    -- longer than any buffer the decoder starts with, escapes throughout
    local line = 'echo "deploy\t${NODE}" >> /var/log/d.log\n'
    local big = string.rep(line, 50000)
    local text = cjson.encode({ config = big })
    assert.equal(big, decode(text).config)
  end)

  it("makes arrays and objects whole at every size, and the last equal key wins", function()
    for n = 0, 100 do
      local arr, obj, parts, pairs_ = {}, {}, {}, {}
      for i = 1, n do
        arr[i] = i * 3
        obj["k" .. i] = { i }
        parts[i] = tostring(i * 3)
        pairs_[i] = '"k' .. i .. '":[' .. i .. "]"
      end
      assert.same(arr, decode("[" .. table.concat(parts, ",") .. "]"))
      assert.same(obj, decode("{" .. table.concat(pairs_, ",") .. "}"))
      local v = decode("{" .. table.concat(pairs_, ",") .. (n > 0 and "," or "")
        .. '"k1":"last"}')
      assert.equal("last", v.k1)
      if n > 1 then assert.same({ n }, v["k" .. n]) end
    end
  end)

  it("reads nesting to a depth of 1000, wide at every level, and refuses deeper", function()
    local wide = string.rep("0,", 40)
    local open, close = {}, {}
    for i = 1, 1000 do
      open[i] = (i % 2 == 1) and ('{"w":[' .. wide .. '0],"d":') or ("[" .. wide)
      close[i] = (i % 2 == 1) and "}" or "]"
    end
    local text = table.concat(open) .. "7" .. table.concat(close):reverse()
    local v = assert(decode(text))
    local depth = 0
    while type(v) == "table" do
      depth = depth + 1
      if v.d ~= nil then
        assert.equal(41, #v.w)
        v = v.d
      else
        assert.equal(41, #v)
        v = v[41]
      end
    end
    assert.equal(1000, depth)
    assert.equal(7, v)
    local nil_, err = decode(string.rep("[", 1001) .. string.rep("]", 1001))
    assert.is_nil(nil_)
    assert.equal("nested too deep at byte 1001", err)
  end)

  it("refuses text that is not JSON, naming what and where", function()
    local cases = {
      { "", "unexpected end of text at byte 1" },
      { "   ", "unexpected end of text at byte 4" },
      { "[1,]", "expected a value at byte 4" },
      { '{"a":1,}', "expected a string key at byte 8" },
      { "[1 2]", "expected ',' or ']' at byte 4" },
      { '{"a" 1}', "expected ':' at byte 6" },
      { '{"a":1 "b":2}', "expected ',' or '}' at byte 8" },
      { "{1:2}", "expected a string key at byte 2" },
      { "01", "leading zero in number at byte 2" },
      { "-01", "leading zero in number at byte 3" },
      { "1.", "unexpected end of text at byte 3" },
      { "1.x", "expected a digit after '.' at byte 3" },
      { "1e", "unexpected end of text at byte 3" },
      { "1e+x", "expected a digit in the exponent at byte 4" },
      { "-", "unexpected end of text at byte 2" },
      { "+1", "expected a value at byte 1" },
      { ".5", "expected a value at byte 1" },
      { "tru", "expected a value at byte 1" },
      { "nul", "expected a value at byte 1" },
      { "NaN", "expected a value at byte 1" },
      { "Infinity", "expected a value at byte 1" },
      { "0x10", "unexpected text after the value at byte 2" },
      { "[1] x", "unexpected text after the value at byte 5" },
      { "{} {}", "unexpected text after the value at byte 4" },
      { "// c\n1", "expected a value at byte 1" },
      { '"abc', "unexpected end of text at byte 5" },
      { '"a\\', "unexpected end of text at byte 4" },
      { '"a\tb"', "control character in string at byte 3" },
      { '"a\nb"', "control character in string at byte 3" },
      { '"a\0b"', "control character in string at byte 3" },
      { '["a\\qb"]', "invalid escape in string at byte 5" },
      { '"\\u12g4"', "expected four hex digits after \\u at byte 4" },
      { '"\\u12', "expected four hex digits after \\u at byte 4" },
      { "[1]\0", "unexpected text after the value at byte 4" },
      { "\239\187\191{}", "expected a value at byte 1" },
    }
    for _, c in ipairs(cases) do
      local v, err = decode(c[1])
      assert.is_nil(v, c[1])
      assert.equal(c[2], err, c[1])
    end
  end)

  it("raises only when it is not given a string", function()
    assert.has_error(function() decode(nil) end)
    assert.has_error(function() decode(12) end)
    assert.has_error(function() decode({}) end)
  end)

  it("agrees with lua-cjson on generated documents", function()
    local seed = 20261202
    local function rnd(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    end
    local words = { "a", "é", 'q"uote', "back\\slash", "tab\there", "line\nbreak", "", "ctl\1" }
    local function gen(depth)
      local k = rnd(depth > 4 and 5 or 7)
      if k == 0 then return words[rnd(#words) + 1] .. rnd(1000)
      elseif k == 1 then return rnd(2000000) - 1000000
      elseif k == 2 then return (rnd(2000000) - 1000000) / 64
      elseif k == 3 then return rnd(2) == 0
      elseif k == 4 then return null
      elseif k == 5 then
        local t = {}
        for i = 1, rnd(50) do t[i] = gen(depth + 1) end
        return t
      end
      local t = {}
      for _ = 1, rnd(50) do t[words[rnd(#words) + 1] .. rnd(100)] = gen(depth + 1) end
      if next(t) == nil then t.empty = "object" end
      return t
    end
    for _ = 1, 200 do
      local text = cjson.encode(gen(0))
      assert.is_true(same(cjson.decode(text), (decode(text))), text)
    end
  end)
end)
