-- Credentials and identity (DESIGN 3c) against the emulator's metadata
-- service and IAM: the source chain and its order, temporary keys and their
-- refresh, project and domain look-ups, password tokens, the credentials
-- function, nothing sent when a client is made, and no secret ever shown.
--
-- The environment and the profile file cannot be changed from Lua, so the
-- chain runs in Lua 5.4 child processes under `env -i`; the rest runs here
-- with constructor options only, so this process's environment is not read.

local cjson = require "cjson"
local hwcloud = require "hwcloud"
local services = require "hwcloud.services"
local compat = require "spec.helpers.compat"
local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"

local q = emulator.quote
local WORK = emulator.work .. "/credentials"
local REGION = "cn-north-4"

local capture = util.capture
local HOME = util.abs(WORK .. "/home")

-- The emulator's ids: a region's project, the account's domain.
local function sha32(s)
  return capture("printf %s " .. q(s) .. " | sha256sum"):sub(1, 32)
end
local PROJECT = sha32("project:" .. REGION)
local DOMAIN = sha32("domain:emulator-account")

-- child(vars, code) -> decoded JSON of what `code` returns. The child sees
-- only `vars`, PATH, HOME (an empty directory) and the Lua paths; `code`
-- runs with `hwcloud` and `EMU` (the emulator's URL) in scope.
local function child(vars, code)
  local parts = { util.clean_env(HOME) }
  for k, v in pairs(vars or {}) do parts[#parts + 1] = q(k .. "=" .. v) end
  local script = "local cjson = require 'cjson'; local hwcloud = require 'hwcloud';"
    .. " local EMU = " .. string.format("%q", vars.HWTEST_EMU or "") .. ";"
    .. " local out = (function() " .. code .. " end)();"
    .. " io.write(cjson.encode(out))"
  parts[#parts + 1] = compat.lua .. " -e " .. q(script) .. " 2>&1"
  local out = capture(table.concat(parts, " "))
  local ok, res = pcall(cjson.decode, out)
  assert(ok and type(res) == "table", "child failed: " .. out)
  return res
end

-- One reinstall in a child: {ok = true} or {err = "..."}.
local CALL = [[
  local c, e = hwcloud.client(OPTS)
  if not c then return { made = tostring(e) } end
  local res, err = c.workspaceapp:reinstall_server{ server_id = "s-chain" }
  return { ok = res ~= nil, err = err and tostring(err) or nil, client = tostring(c) }
]]
local function call_in_child(vars, opts)
  return child(vars, "local OPTS = cjson.decode(" .. string.format("%q", cjson.encode(opts or {}))
    .. ")" .. CALL)
end

local function write(path, text) return util.write_file(path, text, true) end

local function plus(a, b)
  local o = {}
  for k, v in pairs(a) do o[k] = v end
  for k, v in pairs(b or {}) do o[k] = v end
  return o
end

-- The identity log entries of one operation.
local function entries(emu, op)
  local out = {}
  for _, e in ipairs(emu:identity_log()) do
    if e.operation == op then out[#out + 1] = e end
  end
  return out
end

local function count(emu, op)
  return emu:counts()[op] or 0
end

-- Everything a value holds, as text: keys, values, nested tables.
local function dump(v, seen)
  seen = seen or {}
  if type(v) ~= "table" then return tostring(v) end
  if seen[v] then return "" end
  seen[v] = true
  local parts = { tostring(v) }
  for k, x in pairs(v) do parts[#parts + 1] = dump(k, seen) .. "=" .. dump(x, seen) end
  return table.concat(parts, " ")
end

local emu

lazy_setup(function()
  os.execute("rm -rf " .. q(WORK) .. " && mkdir -p " .. q(HOME))
  emu = emulator.start{ inventory = require "spec.fixtures.inventory" }
end)

lazy_teardown(function()
  if emu then emu:stop() end
  if not os.getenv("HWCLOUD_KEEP_WORK") then os.execute("rm -rf " .. q(WORK)) end
end)

before_each(function() emu:reset() end)

describe("credentials: the source chain #server", function()
  local base
  before_each(function()
    base = { HWTEST_EMU = emu.url, HWCLOUD_ENDPOINT = emu.url,
             HWCLOUD_METADATA_ENDPOINT = emu.url, HUAWEICLOUD_SDK_REGION = REGION }
  end)

  it("takes the ECS metadata service's temporary keys when nothing else has keys", function()
    local r = call_in_child(base, {})
    assert.is_true(r.ok, r.err)
    assert.are.equal(1, count(emu, "metadata.get_token"))
    assert.are.equal(1, count(emu, "metadata.get_security_key"))
    local calls = entries(emu, "workspaceapp.reinstall_server")
    assert.are.equal(1, #calls)
    assert.is_truthy(calls[1].access_key:match("^HWTMP"))
    assert.is_true(calls[1].security_token)
    -- no project id anywhere: looked up for the region, with the same keys
    assert.are.equal(PROJECT, calls[1].project_id)
    local look = entries(emu, "iam.keystone_list_projects")
    assert.are.equal(1, #look)
    assert.are.equal(calls[1].access_key, look[1].access_key)
    assert.is_nil(look[1].project_id)
  end)

  it("prefers the profile file to the metadata service, with the profile's project and region", function()
    local file = write(WORK .. "/profile.ini", "[basic]\nak = " .. emu.ak .. "\nsk = " .. emu.sk
      .. "\nproject_id = " .. PROJECT .. "\nregion = " .. REGION .. "\n")
    local vars = plus(base, { HUAWEICLOUD_SDK_CREDENTIALS_FILE = file })
    vars.HUAWEICLOUD_SDK_REGION = nil
    local r = call_in_child(vars, {})
    assert.is_true(r.ok, r.err)
    assert.is_truthy(r.client:find("region=" .. REGION, 1, true), r.client)
    assert.are.equal(0, count(emu, "metadata.get_security_key"))
    assert.are.equal(0, count(emu, "iam.keystone_list_projects"))
    local calls = entries(emu, "workspaceapp.reinstall_server")
    assert.are.equal(emu.ak, calls[1].access_key)
    assert.are.equal(PROJECT, calls[1].project_id)
  end)

  it("prefers the environment to the profile file, and never pairs one's project id with the other's keys", function()
    local file = write(WORK .. "/other.ini", "[basic]\nak = PROFILEAK\nsk = profile-sk\n"
      .. "project_id = 11111111111111111111111111111111\n")
    local vars = plus(base, { HUAWEICLOUD_SDK_CREDENTIALS_FILE = file,
                              HUAWEICLOUD_SDK_AK = emu.ak, HUAWEICLOUD_SDK_SK = emu.sk })
    local r = call_in_child(vars, {})
    assert.is_true(r.ok, r.err)
    local calls = entries(emu, "workspaceapp.reinstall_server")
    assert.are.equal(emu.ak, calls[1].access_key)
    -- the profile's project id is not the environment's: looked up instead
    assert.are.equal(PROJECT, calls[1].project_id)
    assert.are.equal(1, count(emu, "iam.keystone_list_projects"))
    assert.are.equal(0, count(emu, "metadata.get_security_key"))
  end)

  it("prefers the constructor to the environment, and HWCLOUD_ENDPOINT is the default endpoint", function()
    local vars = plus(base, { HUAWEICLOUD_SDK_AK = "ENVAK000000000000000",
                              HUAWEICLOUD_SDK_SK = "wrong", HUAWEICLOUD_SDK_PROJECT_ID = PROJECT })
    -- no endpoint option: HWCLOUD_ENDPOINT is the emulator
    local r = call_in_child(vars, { ak = emu.ak, sk = emu.sk, project_id = PROJECT })
    assert.is_true(r.ok, r.err)
    assert.are.equal(emu.ak, entries(emu, "workspaceapp.reinstall_server")[1].access_key)
    -- the environment's project id does not go with the constructor's keys
    emu:reset()
    r = call_in_child(vars, { ak = emu.ak, sk = emu.sk })
    assert.is_true(r.ok, r.err)
    assert.are.equal(1, count(emu, "iam.keystone_list_projects"))
  end)

  it("takes a credentials file that starts with a UTF-8 BOM", function()
    local file = write(WORK .. "/bom.ini", "\239\187\191[basic]\nak = " .. emu.ak
      .. "\nsk = " .. emu.sk .. "\nproject_id = " .. PROJECT .. "\n")
    local r = call_in_child(plus(base, { HUAWEICLOUD_SDK_CREDENTIALS_FILE = file }), {})
    assert.is_true(r.ok, r.err)
    assert.are.equal(emu.ak, entries(emu, "workspaceapp.reinstall_server")[1].access_key)
    assert.are.equal(0, count(emu, "metadata.get_security_key"))
  end)

  it("answers nil, err when the credentials file is a folder", function()
    local dir = WORK .. "/a-folder"
    os.execute("mkdir -p " .. q(dir))
    local r = call_in_child(plus(base, { HUAWEICLOUD_SDK_CREDENTIALS_FILE = dir }), {})
    assert.is_string(r.made, r.err)
    assert.is_truthy(r.made:find("HUAWEICLOUD_SDK_CREDENTIALS_FILE", 1, true), r.made)
    assert.is_truthy(r.made:find("cannot be read", 1, true), r.made)
    assert.are.same({}, emu:counts())
  end)

  it("ends with an error naming every source tried when the metadata service has no keys", function()
    emu:identity{ agency = false }
    local r = call_in_child(base, {})
    assert.is_false(r.ok)
    for _, what in ipairs { "no credentials found", "the constructor", "the environment",
                            "the profile file", "the ECS metadata service at " .. emu.url,
                            "Please configure Cloud Service Agency first" } do
      assert.is_truthy(r.err:find(what, 1, true), r.err)
    end
  end)
end)

describe("credentials: ECS metadata keys #server", function()
  -- the metadata service is the source only when the environment and the
  -- profile file have no keys: these cases run in children too
  local function run(vars, code)
    return child(plus({ HWTEST_EMU = emu.url, HWCLOUD_ENDPOINT = emu.url,
                        HWCLOUD_METADATA_ENDPOINT = emu.url, HUAWEICLOUD_SDK_REGION = REGION },
                      vars), code)
  end
  local THREE = [[
    local c = assert(hwcloud.client{ retries = 0 })
    local out = {}
    for i = 1, N do
      local res, err = c.workspaceapp:reinstall_server{ server_id = "s-" .. i }
      if WAIT and i == 1 then WAIT() end
      out[i] = res and "ok" or tostring(err)
    end
    return out
  ]]
  local function calls(n, extra)
    return run({}, "local N = " .. n .. "; local WAIT = " .. (extra or "nil") .. ";" .. THREE)
  end

  it("signs every call with the temporary keys and their X-Security-Token", function()
    assert.are.same({ "ok", "ok", "ok" }, calls(3))
    for _, e in ipairs(entries(emu, "workspaceapp.reinstall_server")) do
      assert.is_true(e.security_token)
      assert.is_truthy(e.access_key:match("^HWTMP"))
    end
    -- keys good for hours: fetched once
    assert.are.equal(1, count(emu, "metadata.get_security_key"))
    assert.are.equal(1, count(emu, "metadata.get_token"))
  end)

  it("fetches them again when less than 40 minutes are left", function()
    emu:identity{ key_seconds = 39 * 60 }
    assert.are.same({ "ok", "ok", "ok" }, calls(3))
    assert.are.equal(3, count(emu, "metadata.get_security_key"))
    -- the session token is kept
    assert.are.equal(1, count(emu, "metadata.get_token"))
    emu:reset()
    emu:identity{ key_seconds = 41 * 60 }
    assert.are.same({ "ok", "ok", "ok" }, calls(3))
    assert.are.equal(1, count(emu, "metadata.get_security_key"))
  end)

  it("fetches them again, once, on a 401 that says they must be updated", function()
    -- the keys expire at the emulator between the first call and the second
    local expire = "function() os.execute(" .. string.format("%q", "curl -s -o /dev/null -X POST "
      .. "-d '{\"expire_issued\":true}' " .. emu.url .. "/_emulator/identity") .. ") end"
    assert.are.same({ "ok", "ok" }, calls(2, expire))
    assert.are.equal(2, count(emu, "metadata.get_security_key"))
    local sent = entries(emu, "workspaceapp.reinstall_server")
    assert.are.equal(3, #sent)       -- ok, 401, ok with the new keys
    assert.are_not.equal(sent[2].access_key, sent[3].access_key)
  end)

  it("goes on without a session token where the metadata service has none", function()
    emu:identity{ metadata_tokens = false }
    assert.are.same({ "ok" }, calls(1))
    assert.are.equal(1, count(emu, "metadata.get_token"))
    assert.are.equal(1, count(emu, "metadata.get_security_key"))
  end)

  it("takes metadata_endpoint from the constructor, HWCLOUD_METADATA_ENDPOINT after it", function()
    local r = run({ HWCLOUD_METADATA_ENDPOINT = "http://127.0.0.1:1" }, [[
      local c = assert(hwcloud.client{ metadata_endpoint = EMU, retries = 0 })
      local res, err = c.workspaceapp:reinstall_server{ server_id = "s" }
      local d = assert(hwcloud.client{ retries = 0 })
      local _, derr = d.workspaceapp:reinstall_server{ server_id = "s" }
      return { res and "ok" or tostring(err), tostring(derr) }
    ]])
    assert.are.equal("ok", r[1])
    assert.is_truthy(r[2]:find("metadata service at http://127.0.0.1:1", 1, true), r[2])
  end)
end)

describe("credentials: the emulator in one step #server", function()
  -- HWCLOUD_ENDPOINT alone (no HWCLOUD_METADATA_ENDPOINT): the emulator
  -- plays the metadata service too, and nothing leaves for 169.254.169.254
  local function vars()
    return { HWTEST_EMU = emu.url, HWCLOUD_ENDPOINT = emu.url, HUAWEICLOUD_SDK_REGION = REGION }
  end

  it("asks HWCLOUD_ENDPOINT for the metadata keys when no metadata endpoint is set", function()
    local r = call_in_child(vars(), { retries = 0 })
    assert.is_true(r.ok, r.err)
    assert.are.equal(1, count(emu, "metadata.get_token"))
    assert.are.equal(1, count(emu, "metadata.get_security_key"))
  end)

  it("keeps an explicit metadata endpoint over HWCLOUD_ENDPOINT", function()
    local r = call_in_child(plus(vars(), { HWCLOUD_METADATA_ENDPOINT = "http://127.0.0.1:1" }),
                            { retries = 0 })
    assert.is_false(r.ok)
    assert.is_truthy(r.err:find("the ECS metadata service at http://127.0.0.1:1", 1, true), r.err)
    assert.are.equal(0, count(emu, "metadata.get_security_key"))
  end)

  -- a metadata service that refuses, or answers without keys, is one more
  -- source tried: the error still names the whole chain
  local function names_the_chain(err, why)
    for _, what in ipairs { "no credentials found: tried the constructor", "the environment",
                            "the profile file", "the ECS metadata service at " .. emu.url, why } do
      assert.is_truthy(err:find(what, 1, true), err)
    end
  end

  it("names every source tried when the metadata token is refused with 403", function()
    emu:respond { operation = "metadata.get_token", status = 403, body = { error = "Forbidden" } }
    local r = call_in_child(vars(), { retries = 0 })
    assert.is_false(r.ok)
    names_the_chain(r.err, "HTTP 403")
    assert.are.equal(0, count(emu, "workspaceapp.reinstall_server"))
  end)

  it("names every source tried when the security key is refused, or is not keys", function()
    emu:respond { operation = "metadata.get_security_key", status = 403, body = { error = "no" } }
    local r = call_in_child(vars(), { retries = 0 })
    assert.is_false(r.ok)
    names_the_chain(r.err, "HTTP 403")
    emu:reset()
    emu:respond { operation = "metadata.get_security_key", status = 200, body = { hello = "x" } }
    r = call_in_child(vars(), { retries = 0 })
    assert.is_false(r.ok)
    names_the_chain(r.err, "no credential {access, secret, securitytoken}")
  end)
end)

describe("credentials: project and domain look-ups #server", function()
  local function client(extra)
    return assert(hwcloud.client(plus({ endpoint = emu.url, ak = emu.ak, sk = emu.sk,
      region = REGION, progress = false, retries = 0 }, extra)))
  end

  -- IAM's signed look-up, as its description will have it (added here when
  -- the service descriptions do not have it yet)
  setup(function()
    local iam = services.load("iam")
    if not iam.operations.keystone_list_projects then
      iam.operations.keystone_list_projects = {
        name = "keystone_list_projects", service = "iam", method = "GET", path = "/v3/projects",
        request = services.prepare { type = "object", fields = {
          name = { type = "string", location = "query" } } },
        response = services.prepare { type = "object", fields = {
          projects = { type = "array", items = { type = "object" } } } },
      }
    end
  end)

  it("looks the project id up once per client and sends it as X-Project-Id on CodeArts Build and ASM", function()
    local c = client()
    assert(c.codeartsbuild:update_notice{ job_id = "48c66c6002964721be537cdc6ce0297b",
      notice_type = "MAIL", enabled_event_type_names = { "buildJobFail" }, param_config = "{}" })
    assert(c.asm:list_workshops{ mesh_id = "mesh-1" })
    local results = c:parallel({
      { "asm", "list_workshops", { mesh_id = "mesh-2" } },
      { "asm", "list_workshops", { mesh_id = "mesh-3" } },
      { "workspaceapp", "reinstall_server", { server_id = "s-1" } },
    }, { concurrency = 3, progress = false })
    for _, r in ipairs(results) do assert.is_nil(r.err) end
    assert.are.equal(1, count(emu, "iam.keystone_list_projects"))
    local look = entries(emu, "iam.keystone_list_projects")[1]
    assert.is_nil(look.project_id)
    for _, op in ipairs { "codeartsbuild.update_notice", "asm.list_workshops" } do
      local sent = entries(emu, op)
      assert.is_true(#sent > 0)
      for _, e in ipairs(sent) do assert.are.equal(PROJECT, e.project_id) end
    end
    assert.is_truthy(tostring(c):find("project_id=" .. PROJECT, 1, true))
    -- another client looks it up again
    assert(client().asm:list_workshops{ mesh_id = "mesh-1" })
    assert.are.equal(2, count(emu, "iam.keystone_list_projects"))
  end)

  it("uses a given project id without looking it up", function()
    assert(client{ project_id = PROJECT }.asm:list_workshops{ mesh_id = "m" })
    assert.are.equal(0, count(emu, "iam.keystone_list_projects"))
    assert.are.equal(PROJECT, entries(emu, "asm.list_workshops")[1].project_id)
  end)

  it("says so when IAM has no project for the region, or there is no region", function()
    local _, err = client{ region = "nowhere" }.asm:list_workshops{ mesh_id = "m" }
    assert.are.equal("validation", err.kind)
    assert.are.equal("project_id", err.field)
    assert.are.equal("asm", err.service)
    assert.is_truthy(err.message:find("no project named nowhere", 1, true))
    local c = assert(hwcloud.client{ endpoint = emu.url, ak = emu.ak, sk = emu.sk })
    local _, err3 = c.asm:list_workshops{ mesh_id = "m" }
    assert.are.equal("project_id", err3.field)
    assert.is_truthy(err3.message:find("region", 1, true))
    assert.are.equal(0, count(emu, "asm.list_workshops"))
  end)

  it("checks the request before any look-up goes out", function()
    local _, err = client().asm:list_workshops{}
    assert.are.equal("mesh_id", err.field)
    assert.are.same({}, emu:counts())
  end)

  it("signs IAM calls with X-Domain-Id, looked up once, and no X-Project-Id", function()
    local c = client()
    for _ = 1, 2 do
      local res = assert(c.iam:keystone_list_projects{ name = REGION })
      assert.are.equal(PROJECT, res.projects[1].id)
    end
    assert.are.equal(1, count(emu, "iam.keystone_list_auth_domains"))
    for _, e in ipairs(entries(emu, "iam.keystone_list_projects")) do
      assert.are.equal(DOMAIN, e.domain_id)
      assert.is_nil(e.project_id)
    end
    -- a given domain id is used as is
    emu:reset()
    assert(client{ domain_id = DOMAIN }.iam:keystone_list_projects{ name = REGION })
    assert.are.equal(0, count(emu, "iam.keystone_list_auth_domains"))
    assert.are.equal(DOMAIN, entries(emu, "iam.keystone_list_projects")[1].domain_id)
  end)

  it("sends the look-ups to endpoints.iam when given", function()
    local other = emulator.start{ inventory = require "spec.fixtures.inventory" }
    local ok, err = pcall(function()
      local c = client{ endpoints = { iam = other.url } }
      assert(c.asm:list_workshops{ mesh_id = "m" })
      assert.are.equal(0, count(emu, "iam.keystone_list_projects"))
      assert.are.equal(1, other:counts()["iam.keystone_list_projects"])
    end)
    other:stop()
    assert(ok, err)
  end)
end)

describe("credentials: password tokens #server", function()
  local PASSWORD = "correct horse battery staple"
  local function client(extra)
    return assert(hwcloud.client(plus({ endpoint = emu.url, user_name = "deployer",
      password = PASSWORD, domain_name = "acme", region = REGION, progress = false,
      retries = 0 }, extra)))
  end
  before_each(function() emu:identity{ users = { deployer = PASSWORD } } end)

  it("fetches a project-scoped token at the first call and sends it as X-Auth-Token", function()
    local c = client()
    assert.are.same({}, emu:counts())
    for i = 1, 3 do assert(c.workspaceapp:reinstall_server{ server_id = "s-" .. i }) end
    assert(c.asm:list_workshops{ mesh_id = "m" })
    assert.are.equal(1, count(emu, "iam.create_token"))
    -- the project id comes from the token: no look-up
    assert.are.equal(0, count(emu, "iam.keystone_list_projects"))
    for _, e in ipairs(entries(emu, "workspaceapp.reinstall_server")) do
      assert.is_true(e.auth_token)
      assert.is_nil(e.access_key)
      assert.are.equal(PROJECT, e.project_id)
    end
  end)

  it("needs a region or a project id to scope the token, and all three names", function()
    local c, err = hwcloud.client{ endpoint = emu.url, user_name = "u", password = "p",
                                   domain_name = "d" }
    assert.is_nil(c)
    assert.are.equal("region", err.field)
    c, err = hwcloud.client{ endpoint = emu.url, user_name = "u", password = "p", region = REGION }
    assert.is_nil(c)
    assert.are.equal("domain_name", err.field)
  end)

  it("answers a wrong password as a clean nil, err with no secret in it", function()
    local c = client{ password = "wrong password 123" }
    local res, err = c.workspaceapp:reinstall_server{ server_id = "s" }
    assert.is_nil(res)
    assert.are.equal("http", err.kind)
    assert.are.equal(401, err.status)
    assert.are.equal("workspaceapp", err.service)
    assert.is_truthy(tostring(err):find("IAM password token: The username or password is wrong", 1, true))
    assert.is_nil(dump(err):find("wrong password 123", 1, true))
    assert.is_nil(tostring(c):find("wrong password", 1, true))
    -- no second try of a wrong password
    assert.are.equal(1, count(emu, "iam.create_token"))
    assert.are.equal(0, count(emu, "workspaceapp.reinstall_server"))
  end)

  it("fetches a new token when the old one has expired", function()
    emu:identity{ token_seconds = 2 }
    local c = client()
    assert(c.workspaceapp:reinstall_server{ server_id = "s-1" })
    emulator.sleep(2.2)
    assert(c.workspaceapp:reinstall_server{ server_id = "s-2" })
    assert.are.equal(2, count(emu, "iam.create_token"))
    assert.are.equal(2, count(emu, "workspaceapp.reinstall_server"))
  end)

  it("fetches a new token, once, when the cloud says the token has expired", function()
    local c = client()
    assert(c.workspaceapp:reinstall_server{ server_id = "s-1" })
    emu:identity{ expire_issued = true }
    assert(c.workspaceapp:reinstall_server{ server_id = "s-2" })
    assert.are.equal(2, count(emu, "iam.create_token"))
    assert.are.equal(3, count(emu, "workspaceapp.reinstall_server"))
  end)
end)

describe("credentials: a credentials function #server", function()
  local function client(fn, extra)
    return assert(hwcloud.client(plus({ endpoint = emu.url, credentials = fn, project_id = PROJECT,
      progress = false, retries = 0 }, extra)))
  end

  -- Temporary keys straight from the emulator's metadata service.
  local function vault_keys()
    local t = emulator.curl("PUT", emu.url .. "/meta-data/latest/api/token",
      { headers = { ["X-Metadata-Token-Ttl-Seconds"] = "60" } }).body
    local r = emulator.curl("GET", emu.url .. "/openstack/latest/securitykey",
      { headers = { ["X-Metadata-Token"] = t } })
    local cr = r.json.credential
    return { ak = cr.access, sk = cr.secret, security_token = cr.securitytoken,
             expires_at = cr.expires_at }
  end

  it("is called when keys are first needed, and not again while they last", function()
    local n = 0
    local c = client(function()
      n = n + 1
      return { ak = emu.ak, sk = emu.sk, expires_at = os.time() + 3 * 3600 }
    end)
    assert.are.equal(0, n)
    for i = 1, 3 do assert(c.workspaceapp:reinstall_server{ server_id = "s-" .. i }) end
    assert.are.equal(1, n)
  end)

  it("is called again near expiry", function()
    local n = 0
    local c = client(function()
      n = n + 1
      return { ak = emu.ak, sk = emu.sk, expires_at = os.time() + 2 }
    end)
    assert(c.workspaceapp:reinstall_server{ server_id = "s-1" })
    emulator.sleep(2.1)
    assert(c.workspaceapp:reinstall_server{ server_id = "s-2" })
    assert.are.equal(2, n)
  end)

  it("is called again on a 401 that says the keys must be updated", function()
    local n = 0
    local c = client(function()
      n = n + 1
      return vault_keys()
    end)
    assert(c.workspaceapp:reinstall_server{ server_id = "s-1" })
    emu:identity{ expire_issued = true }
    assert(c.workspaceapp:reinstall_server{ server_id = "s-2" })
    assert.are.equal(2, n)
    for _, e in ipairs(entries(emu, "workspaceapp.reinstall_server")) do
      assert.is_true(e.security_token)
    end
  end)

  it("is called again on a 401 to the very first keys it returned", function()
    local stale = vault_keys()
    emu:identity{ expire_issued = true }
    local n = 0
    local c = client(function()
      n = n + 1
      if n == 1 then return stale end
      return vault_keys()
    end)
    local res, err = c.workspaceapp:reinstall_server{ server_id = "s-1" }
    assert.is_nil(err)
    assert.is_string(res.job_id)
    assert.are.equal(2, n)
    -- and for the generic call, by the same path
    n = 0
    emu:identity{ expire_issued = true }
    local g = client(function()
      n = n + 1
      if n == 1 then return stale end
      return vault_keys()
    end)
    res, err = g:request{ service = "workspaceapp", method = "POST",
      path = "/v1/{project_id}/app-servers/s-2/actions/reinstall", body = {} }
    assert.is_nil(err)
    assert.is_string(res.job_id)
    assert.are.equal(2, n)
  end)

  it("refuses keys it returns already expired, or with a NaN expiry, and sends nothing", function()
    for _, at in ipairs { os.time() - 10, 0 / 0, "2001-01-01T00:00:00Z" } do
      local n = 0
      local c = client(function()
        n = n + 1
        return { ak = emu.ak, sk = emu.sk, expires_at = at }
      end)
      local res, err = c.workspaceapp:reinstall_server{ server_id = "s" }
      assert.is_nil(res)
      assert.are.equal("credentials.expires_at", err.field)
      assert.are.equal(1, n)
    end
    assert.are.same({}, emu:counts())
  end)

  it("masks every key it has returned in its own error text", function()
    local n = 0
    local first = vault_keys()
    local c = client(function()
      n = n + 1
      if n == 1 then
        return { ak = first.ak, sk = first.sk, security_token = first.security_token,
                 expires_at = os.time() + 1 }
      end
      error("vault: lease of " .. first.sk .. " with token " .. first.security_token
        .. " for " .. first.ak .. " was revoked")
    end)
    assert(c.workspaceapp:reinstall_server{ server_id = "s-1" })
    emulator.sleep(1.1)
    local res, err = c.workspaceapp:reinstall_server{ server_id = "s-2" }
    assert.is_nil(res)
    assert.are.equal("credentials", err.field)
    for _, text in ipairs { err.message, tostring(err), dump(err) } do
      for _, secret in ipairs { first.sk, first.security_token, first.ak } do
        assert.is_nil(text:find(secret, 1, true), text)
      end
    end
    assert.is_truthy(err.message:find("was revoked", 1, true), err.message)
    assert.is_truthy(err.message:find("****", 1, true), err.message)
  end)

  it("gets a clear error, not a broken fan-out, when it yields", function()
    local c = client(function()
      coroutine.yield()
      return { ak = emu.ak, sk = emu.sk }
    end)
    local ok, results = pcall(c.parallel, c, {
      { "workspaceapp", "reinstall_server", { server_id = "s-1" } },
      { "workspaceapp", "reinstall_server", { server_id = "s-2" } },
    })
    assert.is_true(ok, tostring(results))
    for i = 1, 2 do
      assert.is_nil(results[i].result)
      assert.are.equal("credentials", results[i].err.field)
      assert.is_truthy(results[i].err.message:find("yielded", 1, true), results[i].err.message)
    end
    assert.are.same({}, emu:counts())
  end)

  it("gets a clear error for what it returns wrong, or raises", function()
    local _, err = client(function() return { ak = emu.ak } end).workspaceapp:reinstall_server{
      server_id = "s" }
    assert.are.equal("credentials.sk", err.field)
    _, err = client(function() return "keys" end).workspaceapp:reinstall_server{ server_id = "s" }
    assert.are.equal("credentials", err.field)
    _, err = client(function() error("vault sealed") end).workspaceapp:reinstall_server{
      server_id = "s" }
    assert.is_truthy(err.message:find("vault sealed", 1, true))
    _, err = client(function() return { ak = emu.ak, sk = emu.sk, expires_at = "soon" } end)
      .workspaceapp:reinstall_server{ server_id = "s" }
    assert.are.equal("credentials.expires_at", err.field)
    local bad, berr = hwcloud.client{ endpoint = emu.url, credentials = "keys" }
    assert.is_nil(bad)
    assert.are.equal("credentials", berr.field)
    assert.are.same({}, emu:counts())
  end)
end)

describe("the emulator's identity side #server", function()
  local function keys()
    local t = emulator.curl("PUT", emu.url .. "/meta-data/latest/api/token",
      { headers = { ["X-Metadata-Token-Ttl-Seconds"] = "600" } })
    assert.are.equal(200, t.status)
    local r = emulator.curl("GET", emu.url .. "/openstack/latest/securitykey",
      { headers = { ["X-Metadata-Token"] = t.body } })
    assert.are.equal(200, r.status)
    return r.json.credential
  end

  -- A signed reinstall with the given key pair; `after` adds headers once
  -- it is signed.
  local function reinstall(ak, sk, stoken, after)
    local url = emu.url .. "/v1/" .. PROJECT .. "/app-servers/s-1/actions/reinstall"
    local h = { ["Content-Type"] = "application/json", ["X-Project-Id"] = PROJECT }
    local signed = assert(hwcloud.sign({ method = "POST", url = url, headers = h, body = "{}" },
      { ak = ak, sk = sk, security_token = stoken }))
    return emulator.curl("POST", url, { headers = plus(signed, after), body = "{}" })
  end

  it("hands out temporary keys behind a session token", function()
    local r = emulator.curl("GET", emu.url .. "/openstack/latest/securitykey")
    assert.are.equal(401, r.status)
    local cr = keys()
    assert.is_string(cr.access)
    assert.is_string(cr.secret)
    assert.is_string(cr.securitytoken)
    assert.is_truthy(cr.expires_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"))
    local bad = emulator.curl("PUT", emu.url .. "/meta-data/latest/api/token",
      { headers = { ["X-Metadata-Token-Ttl-Seconds"] = "99999" } })
    assert.are.equal(400, bad.status)
  end)

  it("accepts temporary keys only with their own signed X-Security-Token, until they expire", function()
    local cr = keys()
    assert.are.equal(200, reinstall(cr.access, cr.secret, cr.securitytoken).status)
    assert.are.equal(401, reinstall(cr.access, cr.secret).status)
    assert.are.equal(401, reinstall(cr.access, cr.secret, "sts-not-the-one").status)
    -- sent, but left out of SignedHeaders
    local unsigned = reinstall(cr.access, cr.secret, nil,
      { ["X-Security-Token"] = cr.securitytoken })
    assert.are.equal(401, unsigned.status)
    assert.is_truthy(unsigned.json.error_msg:find("must be signed", 1, true))
    emu:identity{ expire_issued = true }
    local expired = reinstall(cr.access, cr.secret, cr.securitytoken)
    assert.are.equal(401, expired.status)
    assert.is_truthy(expired.json.error_msg:find("must be updated", 1, true))
  end)

  it("answers a registered user's wrong password with 401 in IAM's error shape", function()
    emu:identity{ users = { deployer = "right" } }
    local function token(password)
      return emulator.curl("POST", emu.url .. "/v3/auth/tokens", {
        headers = { ["Content-Type"] = "application/json" },
        body = cjson.encode { auth = {
          identity = { methods = { "password" }, password = { user = {
            name = "deployer", password = password, domain = { name = "acme" } } } },
          scope = { project = { name = REGION } } } } })
    end
    local wrong = token("wrong")
    assert.are.equal(401, wrong.status)
    assert.are.equal(401, wrong.json.error.code)
    assert.is_string(wrong.json.error.message)
    local right = token("right")
    assert.are.equal(201, right.status)
    assert.are.equal(PROJECT, right.json.token.project.id)
    assert.is_string(right.headers["x-subject-token"])
  end)

  it("refuses an X-Domain-Id that is not the account's", function()
    local url = emu.url .. "/v3/auth/domains"
    local function get(domain)
      local signed = assert(hwcloud.sign({ method = "GET", url = url,
        headers = { ["X-Domain-Id"] = domain } }, { ak = emu.ak, sk = emu.sk }))
      return emulator.curl("GET", url, { headers = signed })
    end
    assert.are.equal(DOMAIN, get(DOMAIN).json.domains[1].id)
    assert.are.equal(403, get("0123456789abcdef0123456789abcdef").status)
    assert.are.equal(401, emulator.curl("GET", url).status)
  end)
end)

describe("credentials: expiry times #server", function()
  local parse = require("hwcloud.identity.credentials").parse_time
  it("reads seconds, and ISO-8601 UTC times with fractions or offsets", function()
    assert.are.equal(1764583200, parse("2025-12-01T10:00:00Z"))
    assert.are.equal(1764583200, parse("2025-12-01T10:00:00.701000Z"))
    assert.are.equal(1764583200, parse("2025-12-01T12:00:00+02:00"))
    assert.are.equal(951782400, parse("2000-02-29T00:00:00Z"))
    assert.are.equal(42, parse(42))
    assert.is_nil(parse("tomorrow"))
    assert.is_nil(parse("2025-12-01T10:00:00 CET"))
  end)
end)

describe("credentials: nothing sent when a client is made, no secret shown #server", function()
  it("makes no request when a client is made, whatever its source", function()
    local called = false
    local clients = {
      hwcloud.client{ endpoint = emu.url, user_name = "u", password = "p", domain_name = "d",
                      region = REGION },
      hwcloud.client{ endpoint = emu.url, credentials = function() called = true end },
      hwcloud.client{ endpoint = emu.url, ak = emu.ak, sk = emu.sk, region = REGION },
    }
    local r = child({ HWCLOUD_ENDPOINT = emu.url, HWCLOUD_METADATA_ENDPOINT = emu.url,
                      HUAWEICLOUD_SDK_REGION = REGION },
      "local c = hwcloud.client{}; return { made = c ~= nil }")
    assert.is_true(r.made)
    for _, c in ipairs(clients) do assert.is_table(c) end
    assert.is_false(called)
    assert.are.same({}, emu:counts())
  end)

  it("keeps keys, tokens and passwords out of tostring, errors and hook arguments", function()
    local SK, STS, PASSWORD = "function-secret-key-0001", "function-security-token-0001",
      "password-never-shown-0001"
    emu:identity{ users = { deployer = PASSWORD } }
    local seen = {}
    local hook = function(info) seen[#seen + 1] = info end
    local by_fn = assert(hwcloud.client{ endpoint = emu.url, project_id = PROJECT,
      credentials = function() return { ak = "HWCLOUDFUNCAK0000001", sk = SK, security_token = STS } end,
      on_retry = hook, retries = 1, retry_base = 0.01, progress = false })
    local by_pw = assert(hwcloud.client{ endpoint = emu.url, user_name = "deployer",
      password = PASSWORD, domain_name = "acme", region = REGION, on_retry = hook, retries = 1,
      retry_base = 0.01, progress = false })
    -- 429 is retried even for a reinstall (the server did not take it)
    emu:fault{ operation = "workspaceapp.reinstall_server", status = 429, count = 3 }
    local _, e1 = by_fn.workspaceapp:reinstall_server{ server_id = "s" }   -- 429 twice
    assert.are.equal(429, e1.status)
    local _, e2 = by_fn.workspaceapp:reinstall_server{ server_id = "s" }   -- 429, an unknown AK
    assert.are.equal(401, e2.status)
    emu:fault{ operation = "workspaceapp.reinstall_server", status = 429, count = 1 }
    assert(by_pw.workspaceapp:reinstall_server{ server_id = "s" })         -- 429, then ok
    local _, e3 = by_pw.workspaceapp:reinstall_server{ server_id = "" }
    local text = dump(seen) .. tostring(by_fn) .. tostring(by_pw) .. dump(e1) .. dump(e2)
      .. dump(e3) .. tostring(e1) .. tostring(e2) .. tostring(e3)
    assert.is_true(#seen >= 2)
    for _, secret in ipairs { SK, STS, PASSWORD, "MIIE" } do
      assert.is_nil(text:find(secret, 1, true), secret)
    end
  end)
end)
