-- hwcloud.json, the library's JSON writer for what is not a request body
-- (the journal's records, the hwcloud command's output), and the decoder's
-- empty-array marker it honours: a [] read stays [] written, whether or
-- not a schema says the field is a list.

local core = require "hwcloud.core"
local json = require "hwcloud.json"
local journal = require "hwcloud.journal"

describe("hwcloud.json", function()
  it("writes a decoded empty array as [] and an empty object as {}, with no schema", function()
    local text = '{"a":[],"b":{},"c":[[],{}],"d":{"e":[]}}'
    assert.equal(text, json.encode((core.decode(text))))
    assert.equal("[]", json.encode((core.decode("[]"))))
    assert.equal("[]", json.encode((core.decode(" [ ] "))))
    assert.equal("{}", json.encode((core.decode("{}"))))
    -- the journal writes with it: a recorded empty list reads back as one
    assert.equal('{"items":[],"meta":{}}', journal.encode((core.decode('{"items":[],"meta":{}}'))))
  end)

  it("takes [] from the schema, or from json.array_mt on a table built as a list", function()
    local schema = { type = "object", fields = { list = { type = "array" }, obj = { type = "object" } } }
    assert.equal('{"list":[],"obj":{}}', json.encode({ list = {}, obj = {} }, { schema = schema }))
    assert.equal('{"list":{},"obj":{}}', json.encode({ list = {}, obj = {} }))
    assert.equal("[]", json.encode(setmetatable({}, json.array_mt)))
    assert.is_true(json.is_empty_array(setmetatable({}, json.array_mt)))
    assert.is_false(json.is_empty_array({}))
    -- a list that is not empty is one, marker or not
    assert.equal("[1,2]", json.encode(setmetatable({ 1, 2 }, json.array_mt)))
  end)

  it("sorts keys, indents on request, and writes numbers exactly or shortest", function()
    local v = { b = { 1, 2 }, a = "x\n\"", e = {} }
    assert.equal('{"a":"x\\n\\"","b":[1,2],"e":{}}', json.encode(v))
    assert.equal('{\n  "a": "x\\n\\"",\n  "b": [\n    1,\n    2\n  ],\n  "e": []\n}',
      json.encode(v, { indent = true, schema = { type = "object", fields = { e = { type = "array" } } } }))
    assert.equal("[0.1,3,-7,null,null]", json.encode({ 0.1, 3.0, -7, 0 / 0, math.huge }))
    assert.equal("[0.10000000000000001]", json.encode({ 0.1 }, { exact = true }))
  end)

  it("masks the fields the caller names, with the caller's text", function()
    local v = { user = { name = "u", password = "hunter2" }, token = "t", n = 1 }
    local function secret(k, x) return (k == "password" or k == "token") and type(x) == "string" end
    assert.equal('{"n":1,"token":"****","user":{"name":"u","password":"****"}}',
      json.encode(v, { mask = secret }))
    assert.equal('{"n":1,"token":"***","user":{"name":"u","password":"***"}}',
      json.encode(v, { mask = secret, masked = "***" }))
  end)
end)
