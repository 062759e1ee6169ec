-- The emulator in one step: `bin/hwcloud-emulator --env` prints what a
-- script needs (as shell lines to source), and a script given only those
-- variables, with nothing else in its environment, talks to the emulator:
-- keys, project id and the metadata service included, nothing sent elsewhere.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"

local q = util.quote

-- start(args) -> { out = path of the sourced file, pid = , stop = function }
local function start(dir, args)
  local out, pid = dir .. "/env.sh", dir .. "/pid"
  assert(util.sh("cd " .. q(emulator.root) .. " && { bin/hwcloud-emulator --port 0 --env "
    .. (args or "") .. " >" .. q(out) .. " 2>" .. q(dir .. "/err") .. " & echo $! >" .. q(pid) .. "; }"))
  local text
  -- up to a minute: a busy machine can stretch nginx's start
  for _ = 1, 1200 do
    text = util.read_file(out) or ""
    if text:find("export HUAWEICLOUD_SDK_REGION", 1, true) then break end
    util.sleep(0.05)
  end
  util.sleep(0.1) -- the lines after it (HWCLOUD_CA_FILE)
  text = util.read_file(out) or ""
  local handle = { out = out, text = text, pid = util.read_file(pid):match("%d+") }
  function handle.stop() util.sh("kill " .. handle.pid .. " 2>/dev/null; true") end
  return handle
end

describe("hwcloud-emulator --env #server", function()
  local dir
  before_each(function() dir = util.tmpdir("emulator-env") end)
  after_each(function() util.rmdir(dir) end)

  -- runs `cmd` with the printed file sourced, and nothing else set but
  -- PATH, an empty HOME and the checkout's Lua paths
  local function with_env(file, cmd)
    assert(util.sh("mkdir -p " .. q(dir .. "/home")))
    return util.run("cd " .. q(emulator.root) .. " && " .. util.clean_env(dir .. "/home")
      .. " sh -c " .. q(". " .. q(file) .. " && " .. cmd))
  end

  it("prints sourceable export lines; a script with only them calls the emulator", function()
    local emu = start(dir)
    finally(emu.stop)
    local text = emu.text
    local url = text:match("export HWCLOUD_ENDPOINT='(http://127%.0%.0%.1:%d+)'")
    assert.truthy(url, text)
    assert.truthy(text:find("# listening on " .. url, 1, true), text)
    for _, line in ipairs {
      "export HUAWEICLOUD_SDK_AK='" .. emulator.DEFAULT_AK .. "'",
      "export HUAWEICLOUD_SDK_SK='" .. emulator.DEFAULT_SK .. "'",
      "export HUAWEICLOUD_SDK_PROJECT_ID='", "export HUAWEICLOUD_SDK_REGION='cn-north-4'" } do
      assert.truthy(text:find(line, 1, true), text)
    end
    assert.is_nil(text:find("HWCLOUD_CA_FILE", 1, true))
    local ok, out = with_env(emu.out, "lua5.4 -e " .. q([[
      local hwcloud = require "hwcloud"
      local client = assert(hwcloud.client{})
      local r = assert(client.workspaceapp:list_servers{ limit = 100 })
      print("servers " .. #r.items)]]))
    assert(ok, out)
    assert.truthy(out:match("servers [1-9]"), out)
    -- and the command, the same way
    ok, out = with_env(emu.out, "bin/hwcloud call workspaceapp list_servers limit=1")
    assert(ok, out)
    assert.truthy(out:find('"items"', 1, true), out)
  end)

  it("with no keys in the environment, takes the emulator's metadata keys", function()
    local emu = start(dir)
    finally(emu.stop)
    local ok, out = with_env(emu.out, "unset HUAWEICLOUD_SDK_AK HUAWEICLOUD_SDK_SK && lua5.4 -e "
      .. q([[
      local hwcloud = require "hwcloud"
      local client = assert(hwcloud.client{ retries = 0 })
      local r, err = client.workspaceapp:list_servers{ limit = 1 }
      print(r and "ok" or tostring(err))]]))
    assert(ok, out)
    assert.are.equal("ok", (out:gsub("%s+$", "")))
    local url = emu.text:match("HWCLOUD_ENDPOINT='([^']+)'")
    local counts = emulator.curl("GET", url .. "/_emulator/counts").json
    assert.are.equal(1, counts["metadata.get_security_key"])
  end)

  it("with --tls, names the certificate as HWCLOUD_CA_FILE", function()
    local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
    assert(util.sh("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1"
      .. " -addext subjectAltName=IP:127.0.0.1 -keyout " .. q(key) .. " -out " .. q(cert)
      .. " >/dev/null 2>&1"))
    local emu = start(dir, "--tls " .. q(cert) .. " " .. q(key))
    finally(emu.stop)
    assert.truthy(emu.text:find("export HWCLOUD_ENDPOINT='https://127.0.0.1:", 1, true), emu.text)
    local ca = emu.text:match("export HWCLOUD_CA_FILE='([^']+)'")
    assert.truthy(ca, emu.text)
    assert.are.equal(util.read_file(cert), util.read_file(ca))
    local ok, out = with_env(emu.out,
      'curl -fsS --cacert "$HWCLOUD_CA_FILE" "$HWCLOUD_ENDPOINT/_emulator/health"')
    assert(ok, out)
    assert.truthy(out:find('"ok"', 1, true), out)
  end)
end)
