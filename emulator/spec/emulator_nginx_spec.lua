-- Which nginx the launcher runs and how it loads the Lua module: one with
-- it built in (OpenResty) as is, Debian's through its module snippets,
-- and a clear error when neither is there. Debian's layout is this
-- machine's; OpenResty's is played by small nginx scripts whose `-V` says
-- what a real one says, and which keep the configuration they were given.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local testing = require "hwcloud.emulator.testing"

local q, run = testing.quote, testing.run

local OPENRESTY_V = "nginx version: openresty/1.21.4.1\n"
  .. "configure arguments: --prefix=/usr/local/openresty/nginx --add-module=../ngx_lua-0.10.21"
local PLAIN_V = "nginx version: nginx/1.22.1\nconfigure arguments: --with-http_ssl_module"

describe("the launcher's nginx", function()
  local dir
  before_each(function()
    dir = emulator.work .. "/nginx-" .. math.random(1e6)
    assert(run("mkdir -p " .. q(dir .. "/bin") .. " " .. q(dir .. "/empty")))
  end)
  after_each(function() run("rm -rf " .. q(dir)) end)

  -- an nginx named `name` in dir/bin: its -V prints `v`; run, it copies
  -- its configuration to dir/<name>.conf and fails
  local function fake(name, v)
    local path = dir .. "/bin/" .. name
    emulator.write_file(path, "#!/bin/sh\n"
      .. "if [ \"$1\" = -V ]; then printf '%s\\n' " .. q(v) .. " >&2; exit 0; fi\n"
      .. "while [ $# -gt 0 ]; do [ \"$1\" = -c ] && cp \"$2\" " .. q(dir .. "/" .. name .. ".conf")
      .. "; shift; done\necho 'fake nginx: not starting' >&2\nexit 1\n")
    assert(run("chmod +x " .. q(path)))
    return path
  end

  local function launcher(env, args)
    return run(env .. " " .. q(emulator.bin) .. " " .. args .. " 2>&1")
  end

  it("runs Debian's nginx with the module snippets of /etc/nginx/modules-enabled #server", function()
    local out, code = launcher("", "--which-nginx")
    assert.are.equal(0, code, out)
    assert.matches("^/%S*nginx debian\n$", out)
    -- and a real start on it answers
    local emu = emulator.start {}
    assert.are.equal(200, emulator.curl("GET", emu.url .. "/_emulator/health").status)
    emu:stop()
  end)

  it("runs an nginx with the Lua module built in without any module lines", function()
    local path = fake("nginx", OPENRESTY_V)
    local out, code = launcher("PATH=" .. q(dir .. "/bin") .. ":$PATH", "--which-nginx")
    assert.are.equal(0, code, out)
    assert.are.equal(path .. " builtin\n", out)
    out, code = launcher("HWCLOUD_EMULATOR_NGINX=" .. q(path), "--port 0")
    assert.are_not.equal(0, code)
    assert.matches("fake nginx: not starting", out, 1, true)
    local conf = assert(emulator.read_file(dir .. "/nginx.conf"))
    assert.is_nil(conf:find("modules-enabled", 1, true), conf)
    assert.is_nil(conf:find("load_module", 1, true), conf)
    assert.is_truthy(conf:find("lua_package_path", 1, true))
  end)

  it("finds OpenResty's `openresty` on PATH when no nginx has the Lua module", function()
    local path = fake("openresty", OPENRESTY_V)
    local out, code = launcher("PATH=" .. q(dir .. "/bin") .. ":$PATH HWCLOUD_EMULATOR_NGINX_MODULES="
      .. q(dir .. "/empty"), "--which-nginx")
    assert.are.equal(0, code, out)
    assert.are.equal(path .. " builtin\n", out)
  end)

  it("gives a plain nginx the Debian snippets, which it then includes", function()
    local path = fake("nginx", PLAIN_V)
    local out, code = launcher("HWCLOUD_EMULATOR_NGINX=" .. q(path), "--which-nginx")
    assert.are.equal(0, code, out)
    assert.are.equal(path .. " debian\n", out)
    launcher("HWCLOUD_EMULATOR_NGINX=" .. q(path), "--port 0")
    local conf = assert(emulator.read_file(dir .. "/nginx.conf"))
    assert.is_truthy(conf:find("include /etc/nginx/modules-enabled/*.conf;", 1, true), conf)
  end)

  it("names what to install when no nginx has the Lua module", function()
    local path = fake("nginx", PLAIN_V)
    local out, code = launcher("HWCLOUD_EMULATOR_NGINX=" .. q(path) .. " HWCLOUD_EMULATOR_NGINX_MODULES="
      .. q(dir .. "/empty"), "--port 0")
    assert.are.equal(2, code)
    assert.are.equal("hwcloud-emulator: nginx's Lua module is not available: " .. path
      .. " has none built in and " .. dir .. "/empty loads none (Debian: apt-get install "
      .. "libnginx-mod-http-lua; or install OpenResty)\n", out)
    out, code = launcher("HWCLOUD_EMULATOR_NGINX=" .. q(dir .. "/bin/missing"), "--port 0")
    assert.are.equal(2, code)
    assert.matches("nginx not found: " .. dir .. "/bin/missing", out, 1, true)
  end)
end)
