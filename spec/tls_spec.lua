-- TLS and response limits: the client checks the server's certificate by
-- default, trusts a CA bundle given as ca_file, skips the check only when
-- told to (verify_tls = false), and refuses responses over max_response.
--
-- Run: LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/5.4/?.so;;" \
--        lua5.4 /usr/bin/busted spec/tls_spec.lua

package.path = "./?.lua;" .. package.path

local hwcloud = require "hwcloud"
local emulator = require "spec.helpers.emulator"
local core = require "hwcloud.core"
local engine_mod = require "hwcloud.engine.curl"

local q = emulator.quote
local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

-- A self-signed certificate for 127.0.0.1, made with the openssl CLI.
local function make_cert()
  local dir = emulator.work .. "/tls-client"
  local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
  if emulator.read_file(cert) and emulator.read_file(key) then return cert, key end
  assert(os.execute("mkdir -p " .. q(dir) .. " && openssl req -x509 -newkey rsa:2048 -nodes"
    .. " -days 30 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
    .. " -keyout " .. q(key) .. " -out " .. q(cert) .. " >/dev/null 2>&1"),
    "openssl could not make a certificate")
  return cert, key
end

local emu, cert

local function new_client(extra)
  local opts = { endpoint = emu.url, ak = emu.ak, sk = emu.sk, project_id = PID }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return assert(hwcloud.client(opts))
end

lazy_setup(function()
  local key
  cert, key = make_cert()
  emu = emulator.start{ tls = { cert = cert, key = key }, inventory = require "spec.fixtures.inventory" }
  assert(emu.url:match("^https://127%.0%.0%.1:%d+$"), emu.url)
end)

lazy_teardown(function()
  if emu then emu:stop() end
end)

before_each(function() emu:reset() end)

describe("tls #server", function()
  it("rejects a certificate it cannot verify, by default", function()
    local client = new_client()
    local res, err = client.workspaceapp:reinstall_server{ server_id = "s" }
    assert.is_nil(res)
    assert.are.equal("transport", err.kind)
    assert.are.equal("workspaceapp", err.service)
    assert.are.equal("reinstall_server", err.operation)
    assert.is_truthy(err.message:lower():find("certificate", 1, true), err.message)
    assert.is_nil(err.status)
    -- trying again cannot help, so it was tried once
    assert.is_false(err.retryable)
    assert.are.equal(1, err.attempts)
    -- the handshake failed: no request reached the emulator
    assert.are.same({}, emu:counts())
    client:close()
  end)

  it("accepts the certificate given as ca_file", function()
    local client = new_client{ ca_file = cert }
    local job = assert(client.workspaceapp:reinstall_server{ server_id = "s" })
    assert(client.workspaceapp:show_job_detail{ job_id = job.job_id })
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1, ["workspaceapp.show_job_detail"] = 1 },
      emu:counts())
    client:close()
  end)

  it("accepts any certificate with verify_tls = false", function()
    local client = new_client{ verify_tls = false }
    assert(client.workspaceapp:reinstall_server{ server_id = "s" })
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1 }, emu:counts())
    client:close()
  end)
end)

-- HWCLOUD_CA_FILE (emu:env() sets it for a TLS emulator) is ca_file's
-- default, for scripts and the CLI alike; the CLI also takes --ca-file.
describe("HWCLOUD_CA_FILE #server", function()
  local hw = q(emulator.root .. "/bin/hwcloud")
  local CALL = hw .. " call workspaceapp reinstall_server server_id=tls-1"

  it("is the default ca_file of hwcloud.client and of the CLI", function()
    local out, code = emu:run(CALL)
    assert.are.equal(0, code, out)
    local script = emulator.work .. "/tls-client/ca-env.lua"
    emulator.write_file(script, [[
      local hwcloud = require "hwcloud"
      local c = assert(hwcloud.client{})
      assert(c.workspaceapp:reinstall_server{ server_id = "tls-2" })
      return 0
    ]])
    out, code = emu:run(hw .. " run " .. q(script))
    assert.are.equal(0, code, out)
    assert.are.equal(2, emu:counts()["workspaceapp.reinstall_server"])
  end)

  it("gives way to --ca-file; without either the certificate is refused", function()
    local out, code = emu:run(CALL .. " --ca-file " .. q(cert), { HWCLOUD_CA_FILE = "" })
    assert.are.equal(0, code, out)
    out, code = emu:run(CALL, { HWCLOUD_CA_FILE = "" })
    assert.are.equal(1, code, out)
    assert.is_truthy(out:lower():find("certificate", 1, true), out)
    out, code = emu:run(CALL, { HWCLOUD_CA_FILE = "/nonexistent/ca.pem" })
    assert.are.equal(2, code, out)
    assert.is_truthy(out:find("HWCLOUD_CA_FILE", 1, true), out)
    assert.are.equal(1, emu:counts()["workspaceapp.reinstall_server"])
  end)
end)

describe("http2 #server", function()
  it("speaks HTTP/2 over the emulator's TLS, and one connection carries a fan-out", function()
    local seen = {}
    local client = new_client{ verify_tls = false,
      on_response = function(info) seen[#seen + 1] = info.http_version end }
    local calls = {}
    for i = 1, 40 do calls[i] = { "workspaceapp", "reinstall_server", { server_id = "s" .. i } } end
    local results = client:parallel(calls, { concurrency = 40, progress = false })
    for i = 1, 40 do assert.is_nil(results[i][2]) end
    assert.equal(40, #seen)
    for i = 1, 40 do assert.equal("2", seen[i]) end
    client:close()
  end)

  it("reports HTTP/1.1 with http2 = false", function()
    local version
    local client = new_client{ verify_tls = false, http2 = false,
      on_response = function(info) version = info.http_version end }
    assert(client.workspaceapp:reinstall_server{ server_id = "s" })
    assert.equal("1.1", version)
    client:close()
  end)

  it("multiplexes a fan-out over few connections", function()
    local t = core.transport { verify_tls = false, timeout = 30 }
    local e = engine_mod.new(t, core.now)
    local fns = {}
    for i = 1, 200 do
      fns[i] = function(en)
        local c = en:send { method = "GET", url = emu.url .. "/_emulator/counts", headers = {} }
        return c.http_version, c.message
      end
    end
    local r = e:run(fns, 100)
    for i = 1, 200 do assert.equal("2", r[i][1], r[i][2]) end
    local opened = t:stats().connects
    t:close()
    -- multiplexed: far fewer connections than requests in flight
    assert.is_true(opened >= 1 and opened < 100, opened .. " connections")
  end)
end)

describe("max_response #server", function()
  it("turns a response larger than max_response into a transport error", function()
    local client = new_client{ verify_tls = false, max_response = 64 }
    local job = assert(client.workspaceapp:reinstall_server{ server_id = "s" })   -- small
    local res, err = client.workspaceapp:show_job_detail{ job_id = job.job_id }          -- large
    assert.is_nil(res)
    assert.are.equal("transport", err.kind)
    assert.is_truthy(err.message:find("max_response", 1, true), err.message)
    -- the same answer would be too large again: not worth another try
    assert.is_false(err.retryable)
    assert.are.same({ ["workspaceapp.reinstall_server"] = 1, ["workspaceapp.show_job_detail"] = 1 },
      emu:counts())
    client:close()
  end)
end)
