-- Configuration: what hwcloud.client accepts, where the settings come from
-- (constructor > environment > profile file, credentials as one group), and
-- which endpoint each service resolves to.
--
-- os.getenv cannot be changed from Lua, so the environment and profile cases
-- run small Lua 5.4 child processes under `env -i` that print, as JSON,
-- what they resolved or what a call against the emulator gave.
--
-- Run: LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/5.4/?.so;;" \
--        lua5.4 /usr/bin/busted spec/config_spec.lua

package.path = "./?.lua;" .. package.path

local cjson = require "cjson"
local hwcloud = require "hwcloud"
local config = require "hwcloud.config"
local compat = require "spec.helpers.compat"
local services = require "hwcloud.services"
local core = require "hwcloud.core"
local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"

local q = emulator.quote
local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
local WORK = emulator.work .. "/config"

-- The child: resolves the configuration for HWTEST_OPTS (JSON) and, when
-- HWTEST_CALL is set, makes one call with a client built from the same
-- options.
local CHILD = [[
local cjson = require "cjson"
local config = require "hwcloud.config"
local services = require "hwcloud.services"
local opts = cjson.decode(os.getenv("HWTEST_OPTS") or "{}")
local out = {}
local cfg, err = config.new(opts, require "hwcloud.core")
if not cfg then
  out.err = { kind = err.kind, field = err.field, message = err.message }
else
  local cr = cfg.credentials
  out.region, out.project_id = cfg.region, cfg.project_id
  out.ak, out.sk, out.security_token, out.token = cr.ak, cr.sk, cr.security_token, cr.token
  out.endpoints = {}
  for _, name in ipairs { "asm", "codeartsbuild", "iam", "rts", "servicestage", "servicestage_v2",
                          "workspaceapp", "ecs", "bss" } do
    out.endpoints[name] = config.endpoint(cfg, services.load(name)) or false
  end
end
if os.getenv("HWTEST_CALL") then
  local client, cerr = require("hwcloud").client(opts)
  if not client then
    out.call = tostring(cerr)
  else
    local res, e = client.workspaceapp:reinstall_server{ server_id = "s-child" }
    out.call = res and "ok" or tostring(e)
  end
end
io.write(cjson.encode(out))
]]

local abs = util.abs
local HOME = abs(WORK .. "/home")

-- child(vars, opts, call) -> decoded output. vars: environment variables
-- (the child sees only these, PATH, HOME and the Lua paths).
local function child(vars, opts, call)
  local parts = { util.clean_env(HOME), q("HWTEST_OPTS=" .. cjson.encode(opts or {})) }
  if call then parts[#parts + 1] = "HWTEST_CALL=1" end
  for k, v in pairs(vars or {}) do parts[#parts + 1] = q(k .. "=" .. v) end
  parts[#parts + 1] = compat.lua .. " -e " .. q(CHILD) .. " 2>&1"
  local p = io.popen(table.concat(parts, " "))
  local out = p:read("*a")
  p:close()
  local ok, res = pcall(cjson.decode, out)
  assert(ok and type(res) == "table", "child failed: " .. out)
  return res
end

local function write(path, text) return util.write_file(path, text, true) end

-- the emulator, started by the first test that needs one (those are
-- tagged #server: the fast tier runs the rest without it)
local emu

local function emulator_up()
  if not emu then
    emu = emulator.start{ ak = "CONFIGSPECAK00000001", sk = "config-spec-secret",
                           inventory = require "spec.fixtures.inventory" }
  end
  emu:reset()
  return emu
end

setup(function()
  os.execute("rm -rf " .. q(WORK) .. " && mkdir -p " .. q(HOME))
end)

teardown(function()
  if emu then emu:stop() end
end)

describe("config: constructor options", function()
  local function refuses(opts, field, message)
    local client, err = hwcloud.client(opts)
    assert.is_nil(client)
    assert.is_table(err)
    assert.are.equal("validation", err.kind)
    assert.are.equal(field, err.field)
    if message then assert.are.equal(message, err.message) end
    assert.is_nil(tostring(err):find("\n", 1, true))
    return err
  end

  local function with(extra)
    local o = { ak = "AK", sk = "SK" }
    for k, v in pairs(extra) do o[k] = v end
    return o
  end

  it("rejects an unknown option with a did-you-mean hint", function()
    refuses(with { regoin = "cn-north-4" }, "regoin", 'unknown field (did you mean "region"?)')
    refuses(with { verfy_tls = false }, "verfy_tls", 'unknown field (did you mean "verify_tls"?)')
  end)

  it("rejects options of the wrong type", function()
    refuses("cn-north-4", "options", "expected a table of options")
    refuses(with { timeout = "30" }, "timeout", "expected number, got string")
    refuses(with { verify_tls = "no" }, "verify_tls", "expected boolean, got string")
    refuses(with { ak = 42 }, "ak", "expected string, got number")
    refuses(with { max_response = 1.5 }, "max_response", "expected integer, got number 1.5")
    refuses(with { endpoints = "http://x" }, "endpoints", "expected object, got string")
    refuses(with { endpoints = { servicestage = 5 } }, "endpoints.servicestage",
      "expected string, got number")
  end)

  it("refuses two sources of credentials given together, naming the options", function()
    local err = refuses({ ak = "AK", sk = "SK", token = "TOK" }, "token")
    assert.is_truthy(err.message:find("ak, sk and token given together", 1, true), err.message)
    err = refuses({ token = "TOK", user_name = "u", password = "p", domain_name = "d" }, "user_name")
    assert.is_truthy(err.message:find("token, user_name, password and domain_name", 1, true))
    refuses({ ak = "AK", sk = "SK", credentials = function() end }, "credentials")
    -- the SK and the token are named, never shown
    assert.is_nil(tostring(refuses({ ak = "AK", sk = "s3cret", token = "t0ken" }, "token"))
      :find("s3cret", 1, true))
    -- temporary keys are one source: ak, sk and security_token
    assert.is_table(hwcloud.client{ ak = "AK", sk = "SK", security_token = "STS" })
  end)

  it("reports a configuration error without a count of attempts", function()
    -- an identity error met at a later try (after two 503s) is still the
    -- configuration's, not the network's
    local e = require("hwcloud.errors").validation("credentials", "no credentials found")
    e.attempts = 3
    assert.is_nil(tostring(e):find("attempt", 1, true), tostring(e))
  end)

  it("takes sign_algorithm SDK-HMAC-SHA256 or SDK-HMAC-SM3, and refuses others naming the option", function()
    for _, alg in ipairs({ "SDK-HMAC-SHA256", "SDK-HMAC-SM3" }) do
      assert(hwcloud.client(with { region = "cn-north-4", project_id = "p", sign_algorithm = alg }))
    end
    refuses(with { sign_algorithm = "SDK-HMAC-MD5" }, "sign_algorithm",
      'must be one of "SDK-HMAC-SHA256", "SDK-HMAC-SM3"')
    -- the derived signing is the service's, not a client choice
    refuses(with { sign_algorithm = "V11-HMAC-SHA256" }, "sign_algorithm")
    refuses(with { sign_algorithm = 3 }, "sign_algorithm", "expected string, got number")
  end)

  it("rejects timeouts that are not positive", function()
    refuses(with { timeout = 0 }, "timeout", "must be greater than 0")
    refuses(with { timeout = -1 }, "timeout", "must be greater than 0")
    refuses(with { connect_timeout = 0 }, "connect_timeout", "must be greater than 0")
  end)

  it("rejects a ca_file that cannot be read", function()
    local err = refuses(with { ca_file = WORK .. "/no-such-ca.pem" }, "ca_file")
    assert.is_truthy(err.message:find("no-such-ca.pem", 1, true))
    refuses(with { ca_file = WORK }, "ca_file")   -- a directory
  end)

  it("rejects an endpoint that is not an http(s) URL with a host", function()
    refuses(with { endpoint = "ftp://example.com" }, "endpoint",
      "must be an http:// or https:// URL")
    refuses(with { endpoint = "https://" }, "endpoint")
    refuses(with { endpoint = "https:///v1" }, "endpoint")
    refuses(with { endpoint = "http://exa mple.com" }, "endpoint")
    refuses(with { endpoint = "not a url" }, "endpoint")
    refuses(with { endpoint = "https://example.com:port" }, "endpoint")
    refuses(with { endpoints = { asm = "https://as m.example" } }, "endpoints.asm")
    refuses(with { endpoints = { servicestag = "https://x" } }, "endpoints.servicestag")
    -- a bare host name is refused, not assumed to mean https; the message
    -- does not repeat the value (a proxy URL may carry a password)
    local err = refuses(with { endpoint = "example.com:8443" }, "endpoint",
      "must start with http:// or https://")
    assert.is_nil(err.message:find("example.com", 1, true))
    err = refuses(with { proxy = "user:s3cret@proxy:3128" }, "proxy",
      "must start with http:// or https://")
    assert.is_nil(tostring(err):find("s3cret", 1, true))
    assert.is_table(hwcloud.client(with { endpoint = "http://[::1]:8080/" }))
  end)

  it("requires an AK with its SK; with no source at all, the first call names each one tried", function()
    -- no credentials anywhere: the client is made (the metadata service is
    -- only asked at the first call), and that call says what was tried
    local none = child({ HWCLOUD_METADATA_ENDPOINT = "http://127.0.0.1:1" }, {}, true)
    assert.is_nil(none.err)
    assert.is_truthy(none.call:find("validation: field 'credentials': no credentials found: "
      .. "tried the constructor", 1, true), none.call)
    for _, what in ipairs { "the environment", "the profile file",
                            "the ECS metadata service at http://127.0.0.1:1" } do
      assert.is_truthy(none.call:find(what, 1, true), none.call)
    end
    assert.are.equal("sk", child({}, { ak = "AK" }).err.field)
    assert.are.equal("ak", child({}, { sk = "SK" }).err.field)
    assert.are.equal("TOK", child({}, { token = "TOK" }).token)
  end)
end)

describe("config: environment and profile file", function()
  local ENV = {
    HUAWEICLOUD_SDK_AK = "ENVAK", HUAWEICLOUD_SDK_SK = "env-sk",
    HUAWEICLOUD_SDK_PROJECT_ID = "env-project", HUAWEICLOUD_SDK_REGION = "ap-southeast-1",
    HUAWEICLOUD_SDK_SECURITY_TOKEN = "env-sts",
  }
  local function plus(t, extra)
    local o = {}
    for k, v in pairs(t) do o[k] = v end
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end
  local profile
  setup(function()
    profile = write(WORK .. "/profile.ini", table.concat({
      "# credentials of the official SDKs", "[other]", "ak = NOTTHISONE", "sk = nope",
      "[basic]", "ak = PROFILEAK", "sk = profile-sk", "project_id = profile-project",
      "security_token = profile-sts", "" }, "\n"))
  end)

  it("reads HUAWEICLOUD_SDK_AK, _SK, _SECURITY_TOKEN, _PROJECT_ID and _REGION", function()
    local r = child(ENV, {})
    assert.are.equal("ENVAK", r.ak)
    assert.are.equal("env-sk", r.sk)
    assert.are.equal("env-sts", r.security_token)
    assert.are.equal("env-project", r.project_id)
    assert.are.equal("ap-southeast-1", r.region)
    assert.are.equal("https://servicestage.ap-southeast-1.myhuaweicloud.com",
      r.endpoints.servicestage)
  end)

  it("lets the constructor win over the environment", function()
    local r = child(ENV, { ak = "CTORAK", sk = "ctor-sk", project_id = "ctor-project",
                           region = "cn-north-4" })
    assert.are.equal("CTORAK", r.ak)
    assert.are.equal("ctor-sk", r.sk)
    assert.are.equal("ctor-project", r.project_id)
    assert.are.equal("cn-north-4", r.region)
  end)

  it("takes credentials as a group: never an AK from one source and an SK from another", function()
    -- the constructor's AK alone is not completed by the environment's SK
    local r = child(ENV, { ak = "CTORAK" })
    assert.are.equal("sk", r.err.field)
    -- nor does the environment's security token join the constructor's pair
    r = child(ENV, { ak = "CTORAK", sk = "ctor-sk" })
    assert.is_nil(r.security_token)
    -- the environment's AK alone is not completed by the profile's SK
    r = child({ HUAWEICLOUD_SDK_AK = "ENVAK", HUAWEICLOUD_SDK_CREDENTIALS_FILE = profile }, {})
    assert.are.equal("sk", r.err.field)
    -- a token in the constructor replaces AK/SK from anywhere
    r = child(plus(ENV, { HUAWEICLOUD_SDK_CREDENTIALS_FILE = profile }), { token = "TOK" })
    assert.are.equal("TOK", r.token)
    assert.is_nil(r.ak)
    assert.is_nil(r.sk)
  end)

  it("reads the [basic] section of the profile file named by HUAWEICLOUD_SDK_CREDENTIALS_FILE", function()
    local r = child({ HUAWEICLOUD_SDK_CREDENTIALS_FILE = profile }, {})
    assert.are.equal("PROFILEAK", r.ak)
    assert.are.equal("profile-sk", r.sk)
    assert.are.equal("profile-sts", r.security_token)
    assert.are.equal("profile-project", r.project_id)
  end)

  it("reads ~/.huaweicloud/credentials by default", function()
    write(HOME .. "/.huaweicloud/credentials", "[basic]\nak=HOMEAK\nsk=home-sk\n")
    local r = child({}, {})
    os.remove(HOME .. "/.huaweicloud/credentials")
    assert.are.equal("HOMEAK", r.ak)
    assert.are.equal("home-sk", r.sk)
  end)

  it("lets the environment win over the profile file", function()
    local r = child(plus(ENV, { HUAWEICLOUD_SDK_CREDENTIALS_FILE = profile }), {})
    assert.are.equal("ENVAK", r.ak)
    assert.are.equal("env-sk", r.sk)
    assert.are.equal("env-sts", r.security_token)
    assert.are.equal("env-project", r.project_id)
  end)

  it("signs with credentials from the environment, end to end #server", function()
    emulator_up()
    local vars = {
      HUAWEICLOUD_SDK_AK = emu.ak, HUAWEICLOUD_SDK_SK = emu.sk,
      HUAWEICLOUD_SDK_PROJECT_ID = PID, HUAWEICLOUD_SDK_REGION = "cn-north-4",
      HUAWEICLOUD_SDK_REGION_WORKSPACEAPP_CN_NORTH_4 = emu.url,
    }
    -- no constructor options at all
    assert.are.equal("ok", child(vars, {}, true).call)
    -- a wrong SK in the environment loses to the right pair in the
    -- constructor (with its own project id: the environment's goes only
    -- with the environment's keys)
    local wrong = plus(vars, { HUAWEICLOUD_SDK_SK = "wrong" })
    assert.is_truthy(child(wrong, {}, true).call:find("http 401 APIG.0301", 1, true))
    assert.are.equal("ok", child(wrong, { ak = emu.ak, sk = emu.sk, project_id = PID }, true).call)
    assert.are.same({ ["workspaceapp.reinstall_server"] = 3 }, emu:counts())
  end)

  it("signs with credentials from the profile file, end to end #server", function()
    emulator_up()
    local file = write(WORK .. "/emulator.ini",
      "[basic]\nak = " .. emu.ak .. "\nsk = " .. emu.sk .. "\nproject_id = " .. PID .. "\n")
    local r = child({ HUAWEICLOUD_SDK_CREDENTIALS_FILE = file }, { endpoint = emu.url }, true)
    assert.are.equal("ok", r.call)
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1 }, emu:counts())
  end)
end)

describe("config: endpoints", function()
  local function endpoints(opts)
    local o = { ak = "AK", sk = "SK" }
    for k, v in pairs(opts) do o[k] = v end
    local cfg = assert(config.new(o, core))
    local out = {}
    for _, name in ipairs { "asm", "codeartsbuild", "iam", "rts", "servicestage", "servicestage_v2",
                            "workspaceapp" } do
      out[name] = config.endpoint(cfg, services.load(name))
    end
    return out
  end

  it("defaults to https://<host>.<region>.myhuaweicloud.com per service", function()
    assert.are.same({
      servicestage = "https://servicestage.cn-north-4.myhuaweicloud.com",
      servicestage_v2 = "https://servicestage.cn-north-4.myhuaweicloud.com",
      codeartsbuild = "https://cloudbuild-ext.cn-north-4.myhuaweicloud.com",
      asm = "https://asm.cn-north-4.myhuaweicloud.com",
      rts = "https://rts.cn-north-4.myhuaweicloud.com",
      workspaceapp = "https://appstream.cn-north-4.myhuaweicloud.com",
      iam = "https://iam.cn-north-4.myhuaweicloud.com",
    }, endpoints { region = "cn-north-4" })
  end)

  it("serves workspaceapp from appstream in cn-* regions and from workspace elsewhere", function()
    assert.are.equal("https://appstream.cn-east-3.myhuaweicloud.com",
      endpoints({ region = "cn-east-3" }).workspaceapp)
    assert.are.equal("https://workspace.ap-southeast-1.myhuaweicloud.com",
      endpoints({ region = "ap-southeast-1" }).workspaceapp)
  end)

  it("uses one endpoint for every service, and endpoints.<svc> over it", function()
    local e = endpoints { region = "cn-north-4", endpoint = "http://127.0.0.1:9/",
                          endpoints = { asm = "https://asm.example.test" } }
    assert.are.equal("https://asm.example.test", e.asm)
    assert.are.equal("http://127.0.0.1:9", e.servicestage)
    assert.are.equal("http://127.0.0.1:9", e.iam)
  end)

  it("needs a region only when no endpoint is given", function()
    local cfg = assert(config.new({ ak = "AK", sk = "SK" }, core))
    local url, err = config.endpoint(cfg, services.load("rts"))
    assert.is_nil(url)
    assert.are.equal("validation", err.kind)
    assert.are.equal("region", err.field)
    local client = assert(hwcloud.client{ ak = "AK", sk = "SK", project_id = PID })
    local res, cerr = client.rts:list_software_deployments{}
    assert.is_nil(res)
    assert.are.equal("validation", cerr.kind)
    assert.are.equal("region", cerr.field)
    assert.are.equal("rts", cerr.service)
    assert.are.equal("list_software_deployments", cerr.operation)
  end)

  it("takes HUAWEICLOUD_SDK_REGION_<SERVICE>_<REGION> over the default, not over the constructor", function()
    local vars = { HUAWEICLOUD_SDK_AK = "A", HUAWEICLOUD_SDK_SK = "S",
                   HUAWEICLOUD_SDK_REGION = "cn-north-4",
                   HUAWEICLOUD_SDK_REGION_SERVICESTAGE_CN_NORTH_4 = "https://ss.private.example" }
    local r = child(vars, {})
    assert.are.equal("https://ss.private.example", r.endpoints.servicestage)
    assert.are.equal("https://rts.cn-north-4.myhuaweicloud.com", r.endpoints.rts)
    r = child(vars, { region = "ap-southeast-1" })
    assert.are.equal("https://servicestage.ap-southeast-1.myhuaweicloud.com",
      r.endpoints.servicestage)
    r = child(vars, { endpoint = "http://one.example" })
    assert.are.equal("http://one.example", r.endpoints.servicestage)
  end)

  it("takes the host of each region from the official region data", function()
    local vars = { HUAWEICLOUD_SDK_AK = "A", HUAWEICLOUD_SDK_SK = "S" }
    -- Workspace is `workspace` in cn-east-5 and cn-north-11, `appstream` in cn-north-4
    local r = child(vars, { region = "cn-east-5" })
    assert.are.equal("https://workspace.cn-east-5.myhuaweicloud.com", r.endpoints.workspaceapp)
    r = child(vars, { region = "cn-north-11" })
    assert.are.equal("https://workspace.cn-north-11.myhuaweicloud.com", r.endpoints.workspaceapp)
    r = child(vars, { region = "cn-north-4" })
    assert.are.equal("https://appstream.cn-north-4.myhuaweicloud.com", r.endpoints.workspaceapp)
    -- IAM in eu-west-101 has its own domain
    r = child(vars, { region = "eu-west-101" })
    assert.are.equal("https://iam.eu-west-101.myhuaweicloud.eu", r.endpoints.iam)
    -- a region other services have but this one's data does not list: the host rule
    r = child(vars, { region = "sa-peru-1" })
    assert.are.equal("https://servicestage.sa-peru-1.myhuaweicloud.com", r.endpoints.servicestage)
    -- a global service's host names no region
    assert.are.equal("https://bss.myhuaweicloud.com", r.endpoints.bss)
    -- a region no service has: refused (nil, err with the nearest region)
    r = child(vars, { region = "xx-test-9" })
    assert.is_false(r.endpoints.servicestage)
    assert.is_false(r.endpoints.ecs)
  end)

  it("reads regions.yaml (HUAWEICLOUD_SDK_REGIONS_FILE) below the environment, above the data", function()
    local path = WORK .. "/regions.yaml"
    emulator.write_file(path, table.concat({
      "# private cloud",
      "SERVICESTAGE:",
      "  - id: cn-north-4",
      "    endpoint: https://ss.regions-file.example",
      "workspaceapp:",
      "  - id: cn-north-4",
      "    endpoints:",
      "      - https://ws-a.regions-file.example",
      "      - https://ws-b.regions-file.example",
      "",
    }, "\n"))
    local vars = { HUAWEICLOUD_SDK_AK = "A", HUAWEICLOUD_SDK_SK = "S",
                   HUAWEICLOUD_SDK_REGIONS_FILE = abs(path) }
    local r = child(vars, { region = "cn-north-4" })
    assert.are.equal("https://ss.regions-file.example", r.endpoints.servicestage)
    assert.are.equal("https://ws-a.regions-file.example", r.endpoints.workspaceapp)
    assert.are.equal("https://cloudbuild-ext.cn-north-4.myhuaweicloud.com", r.endpoints.codeartsbuild)
    vars.HUAWEICLOUD_SDK_REGION_SERVICESTAGE_CN_NORTH_4 = "https://ss.env.example"
    r = child(vars, { region = "cn-north-4" })
    assert.are.equal("https://ss.env.example", r.endpoints.servicestage)
  end)

  it("fails over along a comma-separated endpoint list when one is not reached #server", function()
    emulator_up()
    local vars = { HUAWEICLOUD_SDK_AK = emu.ak, HUAWEICLOUD_SDK_SK = emu.sk,
                   HUAWEICLOUD_SDK_PROJECT_ID = PID, HUAWEICLOUD_SDK_REGION = "cn-north-4",
                   HUAWEICLOUD_SDK_REGION_WORKSPACEAPP_CN_NORTH_4 = "http://127.0.0.1:1, " .. emu.url }
    local r = child(vars, { retry_base = 0.01 }, true)
    assert.are.equal("http://127.0.0.1:1", r.endpoints.workspaceapp)
    assert.are.equal("ok", r.call)
  end)
end)
