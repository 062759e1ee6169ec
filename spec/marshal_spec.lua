-- core.build (through hwcloud.marshal, which words its refusals) and
-- services.conform: how a request table becomes "path?query" and a JSON
-- body, what is refused and how the refusal names the field; and how a
-- decoded response gets its integers back.

local marshal = require "hwcloud.marshal"
local prepare = require("hwcloud.services").prepare
local conform = require("hwcloud.services").conform
local cjson = require "cjson"
local null = cjson.null
local compat = require "spec.helpers.compat"
-- tests of the integer/float distinction, which Lua 5.1 and LuaJIT do not have
local it_int = compat.integers and it or pending
-- __gc on tables: Lua 5.2 on, not 5.1 or LuaJIT
local it_gc = compat.table_gc and it or pending

local function op(method, path, fields)
  return { method = method, path = path,
           request = prepare({ type = "object", fields = fields }) }
end

local S = { type = "string" }

-- ASM create_workshop
local WORKSHOP = op("POST", "/v2/meshes/{mesh_id}/workshops", {
  mesh_id = { type = "string", required = true, location = "path" },
  description = S,
  metadata = { type = "object", required = true, fields = {
    name = { type = "string", required = true },
  } },
  spec = { type = "object", required = true, fields = {
    primaryCluster = { type = "string", required = true },
    ingress = { type = "object", required = true, fields = {
      elbId = { type = "string", required = true },
      elbIp = { type = "string", required = true },
      port = { type = "integer", required = true },
      imageAddress = S,
    } },
  } },
})

local function workshop()
  return {
    mesh_id = "mesh-1",
    metadata = { name = "demo" },
    spec = { primaryCluster = "cce-1",
             ingress = { elbId = "elb-1", elbIp = "10.0.0.1", port = 80 } },
  }
end

-- CodeArts Build update_notice
local NOTICE = op("POST", "/v3/jobs/notice/{job_id}/update", {
  job_id = { type = "string", required = true, location = "path" },
  notice_type = { type = "string", required = true },
  enabled_event_type_names = { type = "array", required = true, items = S },
  param_config = S,
})

-- RTS create_software_deployment
local DEPLOY = op("POST", "/v1/{project_id}/software_deployments", {
  config_id = { type = "string", required = true },
  server_id = { type = "string", required = true },
  action = S,
  input_values = { type = "object" },
  status = { type = "string", enum = { "COMPLETE", "IN_PROGRESS", "FAILED" } },
})

-- Workspace reinstall_server
local REINSTALL = op("POST", "/v1/{project_id}/app-servers/{server_id}/actions/reinstall", {
  server_id = { type = "string", required = true, location = "path" },
  update_access_agent = { type = "boolean" },
})

-- a listing with every kind of query parameter
local LIST = op("GET", "/v1/{project_id}/things", {
  server_id = { type = "string", location = "query" },
  limit = { type = "integer", location = "query" },
  verbose = { type = "boolean", location = "query" },
  ratio = { type = "number", location = "query" },
  tags = { type = "array", location = "query", items = S },
  filter = { type = "object", location = "body" },
})

-- one field of every type, for the type checks
local KINDS = op("POST", "/kinds", {
  s = S,
  i = { type = "integer" },
  n = { type = "number" },
  b = { type = "boolean" },
  a = { type = "array", items = { type = "integer" } },
  o = { type = "object", fields = { x = S } },
  f = { type = "object" },
  y = { type = "any" },
  list = { type = "array", items = { type = "object", fields = {
    name = { type = "string", required = true },
  } } },
})

local function build(o, req, pid)
  return marshal.build(o, req, pid)
end

-- asserts a refusal: nil, field, message
local function refuses(o, req, field, message, pid)
  local path, f, m = build(o, req, pid)
  assert.is_nil(path)
  assert.are.equal(field, f)
  assert.are.equal(message, m)
end

describe("marshal.build", function()

  describe("path", function()
    it("fills {project_id} and the path parameters", function()
      local path, body = build(REINSTALL, { server_id = "srv-1" }, "p1")
      assert.are.equal("/v1/p1/app-servers/srv-1/actions/reinstall", path)
      assert.is_nil(body)
    end)

    it("percent-encodes hostile values so they cannot change the path's shape", function()
      local cases = {
        ["../x"] = "..%2Fx",
        ["a/b?c#d"] = "a%2Fb%3Fc%23d",
        ["%2F"] = "%252F",
        ["é"] = "%C3%A9",
        ["a b+c&d=e"] = "a%20b%2Bc%26d%3De",
        ["A-Z_a.z~0"] = "A-Z_a.z~0",
      }
      for value, encoded in pairs(cases) do
        local path = build(REINSTALL, { server_id = value }, "p1")
        assert.are.equal("/v1/p1/app-servers/" .. encoded .. "/actions/reinstall", path)
      end
      local path = build(REINSTALL, { server_id = "s" }, "../p?#")
      assert.are.equal("/v1/..%2Fp%3F%23/app-servers/s/actions/reinstall", path)
    end)

    it("formats integer values in decimal", function()
      assert.are.equal("/v1/p/app-servers/42/actions/reinstall",
                       (build(REINSTALL, { server_id = 42 }, "p")))
      assert.are.equal("/v1/p/app-servers/-7/actions/reinstall",
                       (build(REINSTALL, { server_id = -7.0 }, "p")))
      local INT = op("GET", "/items/{n}", { n = { type = "integer", required = true, location = "path" } })
      assert.are.equal("/items/12", (build(INT, { n = 12 })))
      refuses(INT, { n = "12" }, "n", "expected integer, got string")
      refuses(INT, { n = 1.5 }, "n", "expected integer, got number 1.5")
    end)

    it("refuses empty, '.', '..', missing and null values", function()
      refuses(REINSTALL, { server_id = "" }, "server_id", "must not be empty", "p")
      refuses(REINSTALL, { server_id = "." }, "server_id", "must not be '.' or '..'", "p")
      refuses(REINSTALL, { server_id = ".." }, "server_id", "must not be '.' or '..'", "p")
      refuses(REINSTALL, {}, "server_id", "is required", "p")
      refuses(REINSTALL, { server_id = null }, "server_id", "is required", "p")
      refuses(REINSTALL, { server_id = true }, "server_id", "expected string, got boolean", "p")
      refuses(REINSTALL, { server_id = 1.5 }, "server_id", "expected string, got number", "p")
      refuses(REINSTALL, { server_id = "\255" }, "server_id", "must be valid UTF-8", "p")
      assert.truthy(build(REINSTALL, { server_id = "..." }, "p"))
    end)

    it("asks for project_id when the path needs one", function()
      local msg = "is required (set project_id on the client or HUAWEICLOUD_SDK_PROJECT_ID)"
      refuses(REINSTALL, { server_id = "s" }, "project_id", msg)
      refuses(REINSTALL, { server_id = "s" }, "project_id", msg, "")
      -- paths without {project_id} do not need it
      assert.are.equal("/v3/jobs/notice/j/update",
        (build(NOTICE, { job_id = "j", notice_type = "t", enabled_event_type_names = {} })))
    end)

    it("reports field errors before a missing project_id", function()
      refuses(REINSTALL, { server_id = "" }, "server_id", "must not be empty")
    end)
  end)

  describe("query", function()
    it("appends the set query fields sorted by name, encoded", function()
      local path, body = build(LIST, {
        verbose = true, limit = 20, server_id = "a b&c=d?", ratio = 0.5,
        tags = { "x", "y/z" },
      }, "p")
      assert.are.equal(
        "/v1/p/things?limit=20&ratio=0.5&server_id=a%20b%26c%3Dd%3F&tags=x&tags=y%2Fz&verbose=true",
        path)
      assert.is_nil(body)
    end)

    it("leaves out unset, null and empty-array fields", function()
      assert.are.equal("/v1/p/things", (build(LIST, {}, "p")))
      assert.are.equal("/v1/p/things?verbose=false",
        (build(LIST, { verbose = false, server_id = null, tags = {} }, "p")))
    end)

    it("writes integral floats of integer fields as integers", function()
      assert.are.equal("/v1/p/things?limit=3", (build(LIST, { limit = 3.0 }, "p")))
      assert.are.equal("/v1/p/things?ratio=1e%2B300", (build(LIST, { ratio = 1e300 }, "p")))
    end)

    it("validates query values like any other field", function()
      refuses(LIST, { limit = "10" }, "limit", "expected integer, got string", "p")
      refuses(LIST, { tags = { "a", 2 } }, "tags[2]", "expected string, got number", "p")
      refuses(LIST, { tags = "a" }, "tags", "expected array, got string", "p")
    end)

    it("sends a body on GET only when a body field is set", function()
      local path, body = build(LIST, { limit = 1, filter = { a = 1 } }, "p")
      assert.are.equal("/v1/p/things?limit=1", path)
      assert.are.equal('{"filter":{"a":1}}', body)
    end)
  end)

  describe("body", function()
    it("encodes the body fields in schema order, compact", function()
      local req = workshop()
      req.description = "first"
      req.spec.ingress.imageAddress = "swr/img:1"
      local path, body = build(WORKSHOP, req)
      assert.are.equal("/v2/meshes/mesh-1/workshops", path)
      assert.are.equal('{"description":"first","metadata":{"name":"demo"},'
        .. '"spec":{"ingress":{"elbId":"elb-1","elbIp":"10.0.0.1",'
        .. '"imageAddress":"swr/img:1","port":80},"primaryCluster":"cce-1"}}', body)
      local decoded = cjson.decode(body)
      req.mesh_id = nil -- a path field, not in the body
      assert.are.same(req, decoded)
    end)

    it("encodes arrays and the notice request exactly", function()
      local path, body = build(NOTICE, {
        job_id = "0123456789abcdef0123456789abcdef", notice_type = "EMAIL",
        enabled_event_type_names = { "build_success", "build_fail" },
      })
      assert.are.equal("/v3/jobs/notice/0123456789abcdef0123456789abcdef/update", path)
      assert.are.equal('{"enabled_event_type_names":["build_success","build_fail"],'
        .. '"notice_type":"EMAIL"}', body)
    end)

    it("writes [] for an empty array and {} for an empty free-form object", function()
      local _, body = build(NOTICE, { job_id = "j", notice_type = "t", enabled_event_type_names = {} })
      assert.are.equal('{"enabled_event_type_names":[],"notice_type":"t"}', body)
      _, body = build(DEPLOY, { config_id = "c", server_id = "s", input_values = {} }, "p")
      assert.are.equal('{"config_id":"c","input_values":{},"server_id":"s"}', body)
    end)

    it("sends no body when no body field is given, whatever the method (as the official SDKs)", function()
      assert.is_nil(select(2, build(REINSTALL, { server_id = "s" }, "p")))
      for _, m in ipairs { "GET", "HEAD", "DELETE", "PUT", "PATCH", "POST" } do
        local o = op(m, "/x/{id}", { id = { type = "string", required = true, location = "path" } })
        local path, body = build(o, { id = "1" })
        assert.are.equal("/x/1", path)
        assert.is_nil(body)
      end
    end)

    it("treats a missing request table as empty, and an operation without request schema", function()
      assert.are.equal("/v1/p/things", (build(LIST, nil, "p")))
      local bare = { method = "GET", path = "/v1/{project_id}/ping" }
      assert.are.equal("/v1/p/ping", (build(bare, {}, "p")))
      refuses(bare, { x = 1 }, "x", "unknown field", "p")
    end)

    it("escapes strings per RFC 8259 and keeps '/' and non-ASCII as is", function()
      local s = '"\\/\n\r\t\b\f\1\31\127é€😀\u{2028}'
      local _, body = build(KINDS, { s = s })
      assert.are.equal('{"s":"\\"\\\\/\\n\\r\\t\\b\\f\\u0001\\u001f\127é€😀\u{2028}"}', body)
      assert.are.equal(s, cjson.decode(body).s)
    end)

    it_int("writes integers as integers", function()
      local _, body = build(KINDS, { i = 80.0, a = { 1, -2.0, 9007199254740993 } })
      assert.are.equal('{"a":[1,-2,9007199254740993],"i":80}', body)
      _, body = build(KINDS, { i = math.mininteger })
      assert.are.equal('{"i":-9223372036854775808}', body)
    end)

    it("writes numbers that round-trip", function()
      for _, x in ipairs { 0.1, 1 / 3, -2.5, 1e300, 5e-324, 2 ^ 53 + 0.0, -0.0, 123456.789 } do
        local _, body = build(KINDS, { n = x })
        local back = tonumber(body:match('^{"n":(.*)}$'))
        assert.are.equal(x, back)
      end
      assert.are.equal('{"n":0.1}', select(2, build(KINDS, { n = 0.1 })))
      assert.are.equal('{"n":7}', select(2, build(KINDS, { n = 7 })))
      assert.are.equal('{"n":1e+300}', select(2, build(KINDS, { n = 1e300 })))
    end)

    it("writes numbers with a '.' whatever the C locale", function()
      -- a comma-decimal locale, made in a scratch folder when the system has
      -- none, and a child interpreter that switches LC_NUMERIC to it
      local dir = "spec/.work/locale"
      os.execute("mkdir -p " .. dir .. " && { [ -d " .. dir .. "/de_DE.UTF-8 ] || "
        .. "localedef -i de_DE -f UTF-8 " .. dir .. "/de_DE.UTF-8; } >/dev/null 2>&1")
      local script = os.tmpname()
      local f = assert(io.open(script, "w"))
      f:write([[
        assert(os.setlocale("de_DE.UTF-8", "numeric"), "no comma locale")
        -- (LuaJIT formats numbers itself, whatever the locale; the C core does not)
        assert(jit or string.format("%.1f", 2.5) == "2,5", "the locale does not use a comma")
        local core = require "hwcloud.core"
        local op = require("hwcloud.services").prepare { type = "object",
          fields = { n = { type = "number" } } }
        local _, body = core.build({ method = "POST", path = "/x", request = op }, { n = 2.5 })
        io.write(body)
      ]])
      f:close()
      local p = io.popen("LOCPATH=" .. dir .. " " .. compat.lua .. " " .. script .. " 2>&1")
      local out = p:read("*a")
      p:close()
      os.remove(script)
      assert.are.equal('{"n":2.5}', out)
    end)

    it("writes booleans and null", function()
      local _, body = build(KINDS, { b = false, s = null, o = null })
      assert.are.equal('{"b":false,"o":null,"s":null}', body)
    end)

    it("encodes free-form objects: nested arrays, objects and null", function()
      local _, body = build(DEPLOY, {
        config_id = "c", server_id = "s",
        input_values = { list = { 1, "two", { three = 3 }, null, {} }, flag = true, none = null },
      }, "p")
      assert.are.same({ config_id = "c", server_id = "s",
        input_values = { list = { 1, "two", { three = 3 }, null, {} }, flag = true, none = null } },
        cjson.decode(body))
      assert.truthy(body:find('"list":[1,"two",{"three":3},null,{}]', 1, true))
    end)

    it("accepts any JSON value for `any`", function()
      assert.are.equal('{"y":"x"}', select(2, build(KINDS, { y = "x" })))
      assert.are.equal('{"y":[1,[2]]}', select(2, build(KINDS, { y = { 1, { 2 } } })))
      assert.are.equal('{"y":1.5}', select(2, build(KINDS, { y = 1.5 })))
      assert.are.equal('{"y":{}}', select(2, build(KINDS, { y = {} })))
    end)

    it("fills the RTS deployment and checks its enum", function()
      local path, body = build(DEPLOY, { config_id = "c", server_id = "s", status = "IN_PROGRESS" }, "p")
      assert.are.equal("/v1/p/software_deployments", path)
      assert.are.equal('{"config_id":"c","server_id":"s","status":"IN_PROGRESS"}', body)
    end)
  end)

  describe("validation", function()
    it("requires required fields, at every level, with a dotted path", function()
      local req = workshop()
      req.metadata = nil
      refuses(WORKSHOP, req, "metadata", "is required")
      req = workshop()
      req.spec.ingress.port = nil
      refuses(WORKSHOP, req, "spec.ingress.port", "is required")
      req = workshop()
      req.spec.ingress = null
      refuses(WORKSHOP, req, "spec.ingress", "is required")
      refuses(NOTICE, { job_id = "j", notice_type = "t" }, "enabled_event_type_names", "is required")
    end)

    it("says what it expected and what it got", function()
      local req = workshop()
      req.spec.ingress.port = "80"
      refuses(WORKSHOP, req, "spec.ingress.port", "expected integer, got string")
      req.spec.ingress.port = 1.5
      refuses(WORKSHOP, req, "spec.ingress.port", "expected integer, got number 1.5")
      req.spec.ingress.port = 0 / 0
      local _, _, m = build(WORKSHOP, req)
      assert.truthy(m:match("^expected integer, got number %-?nan$"))
      req.spec.ingress.port = math.huge
      refuses(WORKSHOP, req, "spec.ingress.port", "expected integer, got number inf")
      req.spec.ingress.port = 2 ^ 63
      refuses(WORKSHOP, req, "spec.ingress.port", "expected integer, got number 9.223372036854776e+18")

      refuses(KINDS, { s = 1 }, "s", "expected string, got number")
      refuses(KINDS, { s = true }, "s", "expected string, got boolean")
      refuses(KINDS, { s = {} }, "s", "expected string, got table")
      refuses(KINDS, { s = { 1 } }, "s", "expected string, got array")
      refuses(KINDS, { s = { k = 1 } }, "s", "expected string, got object")
      refuses(KINDS, { s = print }, "s", "expected string, got function")
      refuses(KINDS, { b = "true" }, "b", "expected boolean, got string")
      refuses(KINDS, { n = "1" }, "n", "expected number, got string")
      refuses(KINDS, { o = "x" }, "o", "expected object, got string")
      refuses(KINDS, { f = 1 }, "f", "expected object, got number")
      refuses(KINDS, { a = "1" }, "a", "expected array, got string")
      refuses(KINDS, { y = print }, "y", "expected JSON value, got function")
      refuses(KINDS, { y = io.stdout }, "y", "expected JSON value, got userdata")
      refuses(KINDS, { list = { { name = "a" }, null } }, "list[2]", "expected object, got null")
    end)

    it("rejects non-finite numbers", function()
      refuses(KINDS, { n = 0 / 0 }, "n", "must be a finite number")
      refuses(KINDS, { n = math.huge }, "n", "must be a finite number")
      refuses(KINDS, { n = -math.huge }, "n", "must be a finite number")
      refuses(DEPLOY, { config_id = "c", server_id = "s", input_values = { x = { 1, math.huge } } },
              "input_values.x[2]", "must be a finite number", "p")
    end)

    it("tells arrays and objects apart", function()
      refuses(KINDS, { a = { x = 1 } }, "a", "expected array, got object")
      refuses(KINDS, { a = { 1, nil, 3 } }, "a", "expected array, got object")
      refuses(KINDS, { a = { 1, 2, x = 3 } }, "a", "expected array, got object")
      refuses(KINDS, { o = { "x" } }, "o", "expected object, got array")
      refuses(KINDS, { f = { 1, 2 } }, "f", "expected object, got array")
      refuses(WORKSHOP, { "mesh-1" }, "request", "expected object, got array")
    end)

    it("requires string keys in objects", function()
      refuses(KINDS, { o = { x = "1", [5] = 2 } }, "o", "keys must be strings")
      refuses(KINDS, { f = { [true] = 1 } }, "f", "keys must be strings")
      refuses(KINDS, { f = { 1, 2, x = 3 } }, "f", "keys must be strings")
      refuses(KINDS, { y = { [2] = "x" } }, "y", "keys must be strings")
      refuses(KINDS, { f = { ["\255"] = 1 } }, "f", "keys must be valid UTF-8")
      refuses(KINDS, { [2] = "x" }, "request", "keys must be strings")
    end)

    it("follows array elements into the field path (1-based)", function()
      refuses(NOTICE, { job_id = "j", notice_type = "t", enabled_event_type_names = { "a", 5 } },
              "enabled_event_type_names[2]", "expected string, got number")
      refuses(KINDS, { list = { { name = "a" }, { nam = "b" } } }, "list[2].nam",
              'unknown field (did you mean "name"?)')
      refuses(KINDS, { list = { { name = "a" }, {} } }, "list[2].name", "is required")
      refuses(KINDS, { a = { 1, 2, 3.5 } }, "a[3]", "expected integer, got number 3.5")
    end)

    it("requires valid UTF-8 in every string", function()
      for _, bad in ipairs { "\255", "a\128", "\192\175", "\237\160\128", "\226\130",
                             "\244\144\128\128", "\248\136\128\128\128" } do
        refuses(KINDS, { s = bad }, "s", "must be valid UTF-8")
      end
      refuses(NOTICE, { job_id = "j", notice_type = "t", enabled_event_type_names = { "\195" } },
              "enabled_event_type_names[1]", "must be valid UTF-8")
      refuses(DEPLOY, { config_id = "c", server_id = "s", input_values = { k = "\255" } },
              "input_values.k", "must be valid UTF-8", "p")
      refuses(LIST, { server_id = "\255" }, "server_id", "must be valid UTF-8", "p")
      assert.truthy(build(KINDS, { s = "\240\159\152\128\239\191\191\237\159\191\244\143\191\191" }))
    end)

    it("checks enums", function()
      refuses(DEPLOY, { config_id = "c", server_id = "s", status = "DONE" }, "status",
              'must be one of "COMPLETE", "IN_PROGRESS", "FAILED"', "p")
      refuses(DEPLOY, { config_id = "c", server_id = "s", status = "complete" }, "status",
              'must be one of "COMPLETE", "IN_PROGRESS", "FAILED"', "p")
    end)

    it("rejects unknown fields, suggesting the nearest name", function()
      local req = workshop()
      req.spec.ingress.elbip, req.spec.ingress.elbIp = req.spec.ingress.elbIp, nil
      refuses(WORKSHOP, req, "spec.ingress.elbip", 'unknown field (did you mean "elbIp"?)')
      req = workshop()
      req.metdata = req.metadata
      refuses(WORKSHOP, req, "metdata", 'unknown field (did you mean "metadata"?)')
      refuses(NOTICE, { job_id = "j", NOTICE_TYPE = "t", enabled_event_type_names = {} },
              "NOTICE_TYPE", 'unknown field (did you mean "notice_type"?)')
      refuses(NOTICE, { job_id = "j", notice_type = "t", enabled_event_type_names = {},
                        enabled_event_names = {} },
              "enabled_event_names", 'unknown field (did you mean "enabled_event_type_names"?)')
      req = workshop()
      req.zzzzzzzz = 1
      refuses(WORKSHOP, req, "zzzzzzzz", "unknown field")
      req = workshop()
      req[("x"):rep(100)] = 1
      refuses(WORKSHOP, req, ("x"):rep(100), "unknown field")
    end)

    it("reports the first error: unknown keys first, then fields in order", function()
      -- of several unknown keys, the smallest; whatever the table's history
      local req = workshop()
      for _, k in ipairs { "zeta", "beta", "alpha9", "omega" } do req[k] = 1 end
      refuses(WORKSHOP, req, "alpha9", "unknown field")
      -- a misspelling explains the missing field better than "is required"
      refuses(REINSTALL, { serverid = "s" }, "serverid", 'unknown field (did you mean "server_id"?)', "p")
      -- fields are checked in name order
      refuses(DEPLOY, { status = "DONE" }, "config_id", "is required", "p")
      refuses(DEPLOY, { config_id = 1, server_id = 2 }, "config_id", "expected string, got number", "p")
      local r = workshop()
      r.metadata.name = 5
      r.spec.ingress.port = "x"
      refuses(WORKSHOP, r, "metadata.name", "expected string, got number")
    end)

    it("refuses nesting deeper than 64, which also stops cycles", function()
      local cyc = {}
      cyc.self = cyc
      local path, field, msg = build(DEPLOY, { config_id = "c", server_id = "s", input_values = cyc }, "p")
      assert.is_nil(path)
      assert.are.equal("nested too deep", msg)
      -- the request is level 0; input_values and 64 levels below it pass
      assert.are.equal("input_values" .. (".self"):rep(64), field)

      local function chain(n)
        local t = {}
        for _ = 1, n do t = { t } end
        return t
      end
      -- input_values is level 1, chain(n) reaches level 2 + n
      assert.truthy(build(DEPLOY, { config_id = "c", server_id = "s", input_values = { x = chain(62) } }, "p"))
      assert.are.equal("nested too deep", select(3,
        build(DEPLOY, { config_id = "c", server_id = "s", input_values = { x = chain(63) } }, "p")))
      local _, f, m = build(DEPLOY, { config_id = "c", server_id = "s", input_values = { x = chain(100) } }, "p")
      assert.are.equal("nested too deep", m)
      assert.are.equal("input_values.x" .. ("[1]"):rep(63), f)
    end)

    it("refuses a request that is not a table", function()
      refuses(WORKSHOP, "mesh-1", "request", "expected object, got string")
      refuses(WORKSHOP, 5, "request", "expected object, got number")
    end)
  end)

  describe("errors", function()
    it("never half-builds: the call after a refusal is clean", function()
      local good_path, good_body = build(WORKSHOP, workshop())
      local bad = workshop()
      bad.spec.ingress.port = "x"
      assert.is_nil((build(WORKSHOP, bad)))
      local cyc = {}
      cyc[1] = cyc
      assert.is_nil((build(DEPLOY, { config_id = "c", server_id = "s", input_values = { x = cyc } }, "p")))
      local path, body = build(WORKSHOP, workshop())
      assert.are.equal(good_path, path)
      assert.are.equal(good_body, body)
    end)

    it_gc("stays correct when a finalizer calls build in the middle of a build", function()
      -- Run in a fresh interpreter: with a small heap, GC cycles end (and
      -- finalizers run) inside build's allocations within a few thousand
      -- calls; inside busted's large heap that would be left to chance.
      local script = [==[
        local core = require "hwcloud.core"
        local services = require "hwcloud.services"
        local ws = services.load("asm").operations.create_workshop
        local notice = services.load("codeartsbuild").operations.update_notice
        local in_outer, nested, inner_ok = false, 0, true
        local mt = { __gc = function()
          if in_outer then nested = nested + 1 end
          local p, b = core.build(notice, { job_id = "inner", notice_type = "t",
                                            enabled_event_type_names = { "e" } })
          inner_ok = inner_ok and p == "/v3/jobs/notice/inner/update"
            and b == '{"enabled_event_type_names":["e"],"notice_type":"t"}'
        end }
        -- a path longer than Lua's short strings, so that pushing it allocates
        local req = { mesh_id = ("m"):rep(64), metadata = { name = "n" },
          spec = { primaryCluster = "c", ingress = { elbId = "e", elbIp = "i", port = 80 } } }
        local want_path, want_body = core.build(ws, req)
        if _VERSION == "Lua 5.4" then collectgarbage("incremental") end -- the default elsewhere
        collectgarbage("setpause", 0)
        local wrong = 0
        for _ = 1, 5000 do
          setmetatable({}, mt)
          in_outer = true
          local p, b = core.build(ws, req)
          in_outer = false
          if p ~= want_path or b ~= want_body then wrong = wrong + 1 end
        end
        collectgarbage()
        io.write(string.format("nested=%d wrong=%d inner_ok=%s", nested, wrong, tostring(inner_ok)))
      ]==]
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write(script)
      f:close()
      local p = io.popen(compat.lua .. " " .. path .. " 2>&1")
      local out = p:read("*a")
      p:close()
      os.remove(path)
      local nested, wrong, ok = out:match("^nested=(%d+) wrong=(%d+) inner_ok=(%a+)$")
      assert.is_truthy(nested, out)
      assert.are.equal("0", wrong, "outer builds corrupted: " .. out)
      assert.are.equal("true", ok, "inner builds wrong: " .. out)
      assert.is_true(tonumber(nested) > 0, "no finalizer ran inside build; the test proved nothing")
    end)

    it("handles bodies larger than the kept buffer", function()
      local big = ("x"):rep(200 * 1024)
      local _, body = build(KINDS, { s = big })
      assert.are.equal(#big + 8, #body)
      local _, small = build(KINDS, { s = "x" })
      assert.are.equal('{"s":"x"}', small)
    end)

    it("raises only for the library's own misuse", function()
      assert.has_error(function() marshal.build("op", {}, "p") end)
      assert.has_error(function() marshal.build(REINSTALL, { server_id = "s" }, 12) end)
      assert.has_error(function()
        marshal.build({ method = "POST", path = "/x", request = { type = "object", fields = { a = S } } }, {})
      end, "bad argument #1 to 'build' (object schema without `order` (not prepared))")
      assert.has_error(function() marshal.build(op("POST", "/x", { a = { type = "str" } }), { a = 1 }) end)
      assert.has_error(function() marshal.build(op("POST", "/x/{b}", { a = S }), {}) end)
      assert.has_error(function()
        marshal.build({ path = "/x", request = prepare { type = "object", fields = {} } }, {})
      end)
      assert.has_error(function()
        marshal.build(op("POST", "/x", { a = { type = "string", location = "cookie" } }), { a = "1" })
      end)
    end)

    it("refuses a table for a query or path parameter described so (it has no form there)", function()
      -- generated descriptions have a few (RMS's tag map): the SDKs send a
      -- print-out of the value; this is the caller's nil, err, not a raise
      local q = op("GET", "/x", { q = { type = "object", location = "query" },
                                  m = { type = "map", location = "query", values = { type = "array", items = S } } })
      local ok, field, msg = marshal.build(q, { q = { a = 1 } })
      assert.are.same({ nil, "q", "cannot be sent in a query (only scalars and arrays of scalars can)" },
        { ok, field, msg })
      ok, field = marshal.build(q, { m = { k = { "v" } } })
      assert.are.same({ nil, "m" }, { ok, field })
      assert.are.equal("/x", (marshal.build(q, {})))
      local p = op("GET", "/x/{id}", { id = { type = "any", required = true, location = "path" } })
      assert.are.equal("/x/a%20b", (marshal.build(p, { id = "a b" })))
      assert.are.equal("/x/7", (marshal.build(p, { id = 7 })))
      ok, field = marshal.build(p, { id = { k = 1 } })
      assert.are.same({ nil, "id" }, { ok, field })
      local b = op("GET", "/x/{on}", { on = { type = "boolean", required = true, location = "path" } })
      ok, field, msg = marshal.build(b, { on = true })
      assert.are.same({ nil, "on", "cannot be sent in a path (only a string or an integer can)" },
        { ok, field, msg })
    end)
  end)
end)

describe("services.conform", function()
  local RESPONSE = prepare {
    type = "object", fields = {
      count = { type = "integer" },
      ratio = { type = "number" },
      job = { type = "object", fields = { progress = { type = "integer" }, name = S } },
      items = { type = "array", items = { type = "object", fields = { size = { type = "integer" } } } },
      codes = { type = "array", items = { type = "integer" } },
      extra = { type = "object" },
    },
  }

  it_int("turns integral floats into integers where the schema says integer", function()
    local v = cjson.decode('{"count":3,"ratio":2,"job":{"progress":50,"name":"x"},'
      .. '"items":[{"size":1},{"size":2.5},{"other":4}],"codes":[200,404],'
      .. '"extra":{"n":7},"unknown":9}')
    local out = conform(RESPONSE, v)
    assert.are.equal(v, out)
    assert.are.equal("integer", math.type(v.count))
    assert.are.equal("float", math.type(v.ratio))
    assert.are.equal("integer", math.type(v.job.progress))
    assert.are.equal("integer", math.type(v.items[1].size))
    assert.are.equal("float", math.type(v.items[2].size))
    assert.are.equal("float", math.type(v.items[3].other))
    assert.are.equal("integer", math.type(v.codes[1]))
    assert.are.equal("integer", math.type(v.codes[2]))
    assert.are.equal("float", math.type(v.extra.n))
    assert.are.equal("float", math.type(v.unknown))
    assert.are.equal(3, v.count)
  end)

  it_int("converts a bare integer and an array response", function()
    assert.are.equal("integer", math.type(conform({ type = "integer" }, 5.0)))
    assert.are.equal("float", math.type(conform({ type = "integer" }, 5.5)))
    local arr = conform(prepare { type = "array", items = { type = "integer" } }, cjson.decode("[1,2]"))
    assert.are.equal("integer", math.type(arr[2]))
  end)

  it_int("skips shapes that do not match, without raising", function()
    local v = cjson.decode('{"count":"3","job":[1],"items":{"size":1},"codes":[null,"x",1e300]}')
    assert.are.equal(v, conform(RESPONSE, v))
    assert.are.equal("3", v.count)
    assert.are.equal(null, v.codes[1])
    assert.are.equal("float", math.type(v.codes[3]))
    assert.are.equal("x", conform(RESPONSE, "x"))
    assert.is_nil(conform(RESPONSE, nil))
    assert.are.equal(null, conform(RESPONSE, null))
    assert.are.equal(v, conform(nil, v))
    assert.are.equal(v, conform({ type = "mystery" }, v))
    local cyc = { count = 1.0 }
    cyc.job = cyc
    local CYC = prepare { type = "object", fields = { count = { type = "integer" } } }
    CYC.fields.job = CYC
    conform(CYC, cyc)
    assert.are.equal("integer", math.type(cyc.count))
  end)
end)

describe("marshal.build: what generated descriptions add", function()
  it("checks header fields and leaves them out of path, query and body", function()
    local o = op("POST", "/x", { ["X-Language"] = { type = "string", location = "header" },
                                 a = S })
    local path, body = marshal.build(o, { ["X-Language"] = "en-us", a = "1" }, "p")
    assert.are.equal("/x", path)
    assert.are.equal('{"a":"1"}', body)
    local _, field, msg = marshal.build(o, { ["X-Language"] = "en\r\nX-Evil: 1" }, "p")
    assert.are.equal("X-Language", field)
    assert.are.equal("must not contain CR, LF or NUL", msg)
    _, field, msg = marshal.build(o, { ["X-Language"] = { "x" } }, "p")
    assert.are.equal("X-Language", field)
    assert.matches("expected string", msg)
  end)

  it("sends a whole_body field as the body itself", function()
    local o = op("POST", "/v1/{project_id}/batch", {
      body = { type = "array", required = true, location = "whole_body",
               items = { type = "object", fields = { id = { type = "string", required = true } } } },
    })
    local path, body = marshal.build(o, { body = { { id = "a" }, { id = "b" } } }, "p1")
    assert.are.equal("/v1/p1/batch", path)
    assert.are.equal('[{"id":"a"},{"id":"b"}]', body)
    local _, field, msg = marshal.build(o, { body = { { name = "a" } } }, "p1")
    assert.are.equal("body[1].name", field)
    assert.are.equal("unknown field", msg)
    _, field, msg = marshal.build(o, {}, "p1")
    assert.are.equal("body", field)
    assert.are.equal("is required", msg)
  end)

  it("validates maps value by value, keeping integers", function()
    local o = op("POST", "/x", { tags = { type = "map", values = { type = "integer" } } })
    local _, body = marshal.build(o, { tags = { a = 1 } }, "p")
    assert.are.equal('{"tags":{"a":1}}', body)
    _, body = marshal.build(o, { tags = {} }, "p")
    assert.are.equal('{"tags":{}}', body)
    local _, field, msg = marshal.build(o, { tags = { a = "x" } }, "p")
    assert.are.equal("tags.a", field)
    assert.are.equal("expected integer, got string", msg)
    _, field, msg = marshal.build(o, { tags = { 1, 2 } }, "p")
    assert.are.equal("tags", field)
    assert.are.equal("expected object, got array", msg)
  end)

  it("takes {project_id} from the request when the operation declares it", function()
    local o = op("GET", "/v3/{project_id}/jobs", {
      project_id = { type = "string", required = true, location = "path" },
    })
    assert.are.equal("/v3/codearts-project/jobs",
      (marshal.build(o, { project_id = "codearts-project" }, "client-project")))
    local _, field, msg = marshal.build(o, {}, "client-project")
    assert.are.equal("project_id", field)
    assert.are.equal("is required", msg)
  end)

  it("gives integers back inside maps of a response", function()
    local s = prepare { type = "object", fields = {
      counts = { type = "map", values = { type = "integer" } } } }
    local r = conform(s, { counts = { a = 1.0, b = 2.0 } })
    if math.type then
      assert.are.equal("integer", math.type(r.counts.a))
      assert.are.equal("integer", math.type(r.counts.b))
    end
    assert.are.equal(2, r.counts.b)
  end)

  describe("an operation's plan", function()
    it("is made once and gives the same request every time", function()
      local o = op("GET", "/v1/{project_id}/items/{item_id}/x", {
        item_id = { type = "string", required = true, location = "path" },
        limit = { type = "integer", location = "query" },
      })
      for _ = 1, 3 do
        assert.are.equal("/v1/p1/items/a%2Fb/x?limit=5",
          (marshal.build(o, { item_id = "a/b", limit = 5 }, "p1")))
      end
      -- the client's project is read per call, not kept in the plan
      assert.are.equal("/v1/p2/items/i/x", (marshal.build(o, { item_id = "i" }, "p2")))
      local _, field = marshal.build(o, { item_id = "i" })
      assert.are.equal("project_id", field)
    end)

    it("refuses a malformed operation every time, not only the first", function()
      local o = op("GET", "/v1/{undeclared}", {})
      for _ = 1, 2 do
        local ok, err = pcall(marshal.build, o, {}, "p")
        assert.is_false(ok)
        assert.is_truthy(tostring(err):find("does not declare", 1, true))
      end
    end)

    it("goes with its operation (the plans do not pin operations)", function()
      local function churn(n)
        for i = 1, n do
          marshal.build({ method = "GET", path = "/v1/x/" .. i .. "/{id}",
                       request = prepare({ type = "object", fields = {
                         id = { type = "string", required = true, location = "path" } } }) },
                     { id = "a" })
        end
        collectgarbage()
        collectgarbage()
        return collectgarbage("count")
      end
      -- the first round grows what is kept for good (the plan cache's own
      -- slots); a second as long must then add nothing: a pinned plan
      -- would cost some 200 bytes an operation, 4 MB a round
      churn(20000)
      local after_one = churn(20000)
      local after_two = churn(20000)
      assert.is_true(after_two < after_one + 1024, after_one .. " KB, then " .. after_two .. " KB")
    end)
  end)

  describe("large string bodies", function()
    local o = op("POST", "/v1/scripts", { content = { type = "string", required = true } })

    it("round-trip intact through the escaping, whatever the byte at each offset", function()
      -- every escape and multi-byte character at every position of a
      -- 17-byte stretch, and long clean runs between them
      local parts = {}
      for i = 0, 300 do
        parts[#parts + 1] = string.rep("a", i % 17)
        parts[#parts + 1] = ({ '"', "\\", "\n", "\t", "\1", "\31", "/", "é", "€", "𝄞", "\127" })[i % 11 + 1]
      end
      local text = table.concat(parts) .. string.rep("x", 1024 * 1024) .. table.concat(parts)
      local _, body = assert(marshal.build(o, { content = text }))
      assert.are.equal(text, cjson.decode(body).content)
      assert.is_nil(body:find("[%z\1-\31]"))
    end)

    it("write exactly the reference escapes across the writer's 4 KB chunks", function()
      -- a reference escaper, byte by byte, for every ASCII byte
      local short = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                      ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
      local function reference(t)
        return (t:gsub('[%z\1-\31"\\]', function(c)
          return short[c] or string.format("\\u%04x", c:byte())
        end))
      end
      local all = {}
      for b = 0, 127 do all[#all + 1] = string.char(b) end
      all = table.concat(all)
      -- the 128 ASCII bytes, then runs that end on each side of the chunk
      -- boundaries, with a byte to escape at every offset near them
      local parts, len = { all }, #all
      for k = 1, 3 do
        for d = -9, 9 do
          local pad = k * 4096 + d - len
          if pad > 0 then
            parts[#parts + 1] = string.rep("z", pad)
            len = len + pad
          end
          local c = string.char((k * 31 + d) % 32)
          parts[#parts + 1] = c
          len = len + 1
        end
      end
      local text = table.concat(parts)
      local _, body = assert(marshal.build(o, { content = text }))
      assert.are.equal('{"content":"' .. reference(text) .. '"}', body)
    end)

    it("refuse invalid UTF-8 wherever it sits in a long run", function()
      for _, at in ipairs({ 0, 1, 7, 8, 9, 4095, 65536 }) do
        for _, bad in ipairs({ "\255", "\192\175", "\237\160\128", "\244\144\128\128", "\226\130" }) do
          local text = string.rep("a", at) .. bad .. string.rep("b", 9)
          local _, field, msg = marshal.build(o, { content = text })
          assert.are.equal("content", field, at)
          assert.are.equal("must be valid UTF-8", msg)
          -- cut short by the end of the string
          _, field, msg = marshal.build(o, { content = string.rep("a", at) .. bad:sub(1, -2) })
          if #bad > 1 then
            assert.are.equal("content", field, at)
            assert.are.equal("must be valid UTF-8", msg, at)
          end
        end
      end
    end)

    describe("of a megabyte and more", function()
      local MB = 1024 * 1024
      local two = op("POST", "/v1/scripts", {
        name = { type = "string", required = true },
        content = { type = "string", required = true },
        extra = { type = "object", fields = {
          notes = { type = "array", items = { type = "string" } },
          size = { type = "integer" } } },
        count = { type = "integer", required = true },
      })

      it("come back as strings, with small fields between and after them", function()
        local req = { name = "n", content = string.rep('a"é\n', MB / 2), count = 3,
                      extra = { notes = { "short", string.rep("€b", MB), "end" }, size = 7 } }
        local _, body = assert(marshal.build(two, req))
        assert.are.equal("string", type(body))
        local back = cjson.decode(body)
        assert.are.equal(req.content, back.content)
        assert.are.equal(req.extra.notes[2], back.extra.notes[2])
        assert.are.equal(3, back.count)
      end)

      it("stay right when the text escapes to six times its length", function()
        local text = string.rep("\1\2\"\\", MB / 2)
        local _, body = assert(marshal.build(o, { content = text }))
        assert.are.equal(text, cjson.decode(body).content)
        assert.is_true(#body > 3 * #text)
      end)

      it("refuse bad UTF-8 anywhere, then build the next body as if nothing happened", function()
        for _, at in ipairs({ 0, 65535, 65536, MB + 5 }) do
          for _, bad in ipairs({ "\255", "\226\130", "\128\128\128\128", "\237\160\128" }) do
            local text = string.rep("a", at) .. bad .. string.rep("b", MB)
            local _, field, msg = marshal.build(o, { content = text })
            assert.are.equal("content", field, at)
            assert.are.equal("must be valid UTF-8", msg)
          end
        end
        local _, body = assert(marshal.build(o, { content = string.rep("c", MB) }))
        assert.are.equal('{"content":"' .. string.rep("c", MB) .. '"}', body)
        _, body = assert(marshal.build(o, { content = "small" }))
        assert.are.equal('{"content":"small"}', body)
      end)

      it("recover from a request refused after its large string was written", function()
        local _, field, msg = marshal.build(two, { name = "n", content = string.rep("z", 2 * MB),
                                                count = "three" })
        assert.are.equal("count", field)
        assert.truthy(msg)
        local _, body = assert(marshal.build(two, { name = "n", content = string.rep("y", 2 * MB),
                                                 count = 1 }))
        assert.are.equal(2 * MB, #cjson.decode(body).content)
      end)
    end)

    it("check and keep UTF-8 sequences that straddle the writer's chunks", function()
      for _, at in ipairs({ 4090, 4093, 4094, 4095, 4096, 8189, 8190, 8191, 8192 }) do
        for _, seq in ipairs({ "é", "€", "𝄞", "\244\143\191\191" }) do
          local text = string.rep("a", at) .. seq .. string.rep("b", 5) .. seq .. '"'
          local _, body = assert(marshal.build(o, { content = text }))
          assert.are.equal('{"content":"' .. text:sub(1, -2) .. '\\""}', body)
          local _, field, msg = marshal.build(o, { content = string.rep("a", at) .. seq:sub(1, 1)
            .. "x" .. seq:sub(2) })
          assert.are.equal("content", field, at)
          assert.are.equal("must be valid UTF-8", msg)
        end
      end
    end)
  end)
end)
