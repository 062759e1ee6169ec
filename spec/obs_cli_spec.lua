-- hwcloud obs cp / obs ls against the emulator.
local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"
local q = emulator.quote

local PID = "0123456789abcdef0123456789abcdef"

describe("hwcloud obs #server", function()
  local emu, dir
  setup(function()
    dir = util.tmpdir("obs-cli")
    -- objects over 1 MiB are files here, where a spec can damage one
    emu = emulator.start{ obs_dir = dir }
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

  it("cp checks the MD5 against the ETag, unless --no-checksum", function()
    local _, err, code = hw("obs mb obs://pkgs")
    assert.equal(0, code, err)
    local src, dst = dir .. "/pkg.bin", dir .. "/got.bin"
    local data = ("0123456789abcdef"):rep(2 * 65536) -- 2 MiB: stored as a file
    util.write_file(src, data)
    local before = util.capture("ls " .. q(dir))
    _, err, code = hw("obs cp " .. q(src) .. " obs://pkgs/pkg")
    assert.equal(0, code, err)
    local stored
    for name in util.capture("ls " .. q(dir)):gmatch("object%-[%d%-]+") do
      if not before:find(name, 1, true) then stored = dir .. "/" .. name end
    end
    assert.is_string(stored)
    assert.equal(data, util.read_file(stored))
    -- one byte changed at rest: the size and the ETag stay as they were
    local f = assert(io.open(stored, "r+b"))
    f:seek("set", 1000000)
    f:write("X")
    f:close()
    local bad = data:sub(1, 1000000) .. "X" .. data:sub(1000002)

    _, err, code = hw("obs cp obs://pkgs/pkg " .. q(dst))
    assert.equal(1, code, err)
    assert.truthy(err:find("do not match", 1, true), err)
    local out
    out, err, code = hw("obs cp --no-checksum obs://pkgs/pkg " .. q(dst))
    assert.equal(0, code, err)
    assert.truthy(out:find("download: obs://pkgs/pkg", 1, true), out)
    assert.equal(bad, util.read_file(dst))
    -- after the words too; an upload without the check arrives whole
    _, err, code = hw("obs cp " .. q(src) .. " obs://pkgs/again --no-checksum")
    assert.equal(0, code, err)
    _, err, code = hw("obs cp obs://pkgs/again " .. q(dst))
    assert.equal(0, code, err)
    assert.equal(data, util.read_file(dst))
    -- only cp takes it
    _, err, code = hw("obs ls obs://pkgs --no-checksum")
    assert.equal(2, code)
    assert.truthy(err:find("--no-checksum goes with obs cp", 1, true), err)
    _, err, code = hw("call ecs list_servers_details --no-checksum")
    assert.equal(2, code)
    assert.truthy(err:find("--no-checksum", 1, true), err)
    os.remove(src) os.remove(dst)
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
