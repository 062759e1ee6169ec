-- Connections sized to the work: a fan-out at concurrency N keeps up to N
-- connections open and reuses them, counted at a real nginx on loopback
-- (its access log names each request's connection), and max_connections
-- caps them.
--
--   make && sh tools/test.sh spec/connections_spec.lua

local core = require "hwcloud.core"
local engine_mod = require "hwcloud.engine.curl"
local config = require "hwcloud.config"
local server = require "spec.helpers.server"

local HTTP = [[
log_format conn '$connection $uri';
server {
    listen 127.0.0.1:${port} backlog=1024;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    access_log ${prefix}/conn.log conn;
    location /n { default_type application/json; return 200 '{}'; }
}
]]

describe("connections #server", function()
  local srv

  setup(function()
    srv = server.start{ name = "connections", http = HTTP }
  end)

  teardown(function()
    if srv then srv:stop() end
  end)

  -- distinct connections that carried a request to `path`
  local function connections(path)
    local f = assert(io.open(srv.prefix .. "/conn.log", "rb"))
    local seen, n, requests = {}, 0, 0
    for line in f:lines() do
      local conn, uri = line:match("^(%d+) (%S+)$")
      if uri == path then
        requests = requests + 1
        if not seen[conn] then seen[conn], n = true, n + 1 end
      end
    end
    f:close()
    return n, requests
  end

  local function fan_out(t, path, calls, concurrency)
    local e = engine_mod.new(t, core.now)
    local fns = {}
    for i = 1, calls do
      fns[i] = function(en)
        local c = en:send { method = "GET", url = srv:url(path), headers = {} }
        return c.status, c.message
      end
    end
    local results = e:run(fns, concurrency)
    local ok = 0
    for i = 1, calls do if results[i][1] == 200 then ok = ok + 1 end end
    return ok
  end

  it("2,000 calls at concurrency 128 open at most 128 connections", function()
    local t = core.transport { timeout = 30 }
    assert.equal(2000, fan_out(t, "/n/128", 2000, 128))
    local n, requests = connections("/n/128")
    t:close()
    assert.equal(2000, requests)
    assert.is_true(n <= 128, n .. " connections for 2000 calls at 128")
    assert.is_true(n >= 1)
  end)

  it("reports the connections it opened", function()
    local t = core.transport { timeout = 30 }
    assert.equal(300, fan_out(t, "/n/stats", 300, 100))
    local n = connections("/n/stats")
    local opened = t:stats().connects
    t:close()
    assert.equal(n, opened)
  end)

  it("keeps to max_connections", function()
    local t = core.transport { timeout = 30, max_connections = 8 }
    assert.equal(8, t:size(64))
    assert.equal(500, fan_out(t, "/n/cap", 500, 64))
    local n, requests = connections("/n/cap")
    t:close()
    assert.equal(500, requests)
    assert.is_true(n <= 8, n .. " connections with max_connections = 8")
  end)

  it("refuses a bad max_connections in the transport and the client", function()
    assert.has_error(function() core.transport { max_connections = 0 } end,
      "hwcloud.transport: option 'max_connections' must be a whole number from 1 to 100000")
    assert.has_error(function() core.transport { max_connections = "8" } end,
      "hwcloud.transport: option 'max_connections' must be a number, got string")
    local opts = { ak = "AK", sk = "SK", project_id = "p", region = "cn-north-4" }
    opts.max_connections = 0
    local cfg, err = config.new(opts, core)
    assert.is_nil(cfg)
    assert.equal("max_connections", err.field)
    assert.matches("between 1 and 100000", err.message)
    opts.max_connections = 2.5
    cfg, err = config.new(opts, core)
    assert.is_nil(cfg)
    assert.equal("max_connections", err.field)
  end)
end)
