-- hwcloud obs cp / obs ls against the emulator.
local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"
local q = emulator.quote

local PID = "0123456789abcdef0123456789abcdef"

describe("hwcloud obs #server", function()
  local emu, dir
  setup(function()
    emu = emulator.start{}
    dir = util.tmpdir("obs-cli")
  end)
  teardown(function()
    emu:stop()
    util.rmdir(dir)
  end)
  before_each(function() emu:reset() end)

  local function hw(args)
    local errfile = os.tmpname()
    local cmd = table.concat({ "cd " .. q(emulator.root) .. " && env",
      "-u HUAWEICLOUD_SDK_SECURITY_TOKEN -u HUAWEICLOUD_SDK_REGION -u LUA_PATH -u LUA_CPATH",
      "HUAWEICLOUD_SDK_AK=" .. q(emu.ak), "HUAWEICLOUD_SDK_SK=" .. q(emu.sk),
      "HUAWEICLOUD_SDK_PROJECT_ID=" .. PID, "HWCLOUD_ENDPOINT=" .. q(emu.url),
      "HUAWEICLOUD_SDK_CREDENTIALS_FILE=/nonexistent",
      "bin/hwcloud " .. args .. " 2>" .. q(errfile) .. " </dev/null" }, " ")
    local p = io.popen(cmd)
    local out = p:read("*a")
    local _, _, code = p:close()
    local err = emulator.read_file(errfile) or ""
    os.remove(errfile)
    return out, err, code
  end

  it("copies a file up and back, and lists keys and prefixes", function()
    local out, err, code = hw("obs mb obs://pkgs")
    assert.equal(0, code, err)
    assert.equal("make_bucket: obs://pkgs\n", out)
    local src = dir .. "/app.zip"
    util.write_file(src, ("zip-bytes"):rep(1000))
    out, err, code = hw("obs cp " .. q(src) .. " obs://pkgs/release/1.0/")
    assert.equal(0, code, err)
    assert.truthy(out:find("upload: .* %-> obs://pkgs/release/1%.0/app%.zip %(9000 bytes%)"), out)
    local _
    _, err, code = hw("obs cp obs://pkgs/release/1.0/app.zip " .. q(dir .. "/back.zip"))
    assert.equal(0, code, err)
    assert.equal(util.read_file(src), util.read_file(dir .. "/back.zip"))
    out, err, code = hw("obs ls obs://pkgs/")
    assert.equal(0, code, err)
    assert.truthy(out:find("PRE%s+release/"), out)
    out, err, code = hw("obs ls obs://pkgs/release/1.0/")
    assert.equal(0, code, err)
    assert.truthy(out:find("9000%s+%S+%s+release/1%.0/app%.zip"), out)
    out, err, code = hw("obs ls")
    assert.equal(0, code, err)
    assert.truthy(out:find("pkgs", 1, true), out)
  end)

  it("fails with the cloud's code, or a usage error", function()
    local _, err, code = hw("obs cp obs://nobucket/k " .. q(dir .. "/x"))
    assert.equal(1, code)
    assert.truthy(err:find("NoSuchBucket", 1, true), err)
    _, err, code = hw("obs cp a b")
    assert.equal(2, code)
    assert.truthy(err:find("obs://BUCKET/KEY", 1, true), err)
    _, _, code = hw("obs mv a b")
    assert.equal(2, code)
    _, err, code = hw("obs cp /nonexistent/file obs://pkgs/k")
    assert.equal(2, code)
    assert.truthy(err:find("/nonexistent/file", 1, true), err)
  end)
end)
