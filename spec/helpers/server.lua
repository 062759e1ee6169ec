-- spec/helpers/server.lua: runs a real nginx (with its Lua module) on
-- loopback for the specs, in a throw-away prefix under spec/.work/.
--
--   local server = require "spec.helpers.server"
--   local srv = server.start{ name = "transport", http = text, tls = true }
--   srv.port, srv.tls_port, srv.cert, srv:url("/echo"), srv:tls_url("/echo")
--   srv:stop()
--
-- `http` is the content of the http{} block. These placeholders are filled
-- in: ${port}, ${tls_port}, ${prefix}, ${cert}, ${key}, ${fixtures}
-- (spec/fixtures). With tls = true a self-signed certificate for 127.0.0.1
-- and localhost is made with the openssl CLI. The prefix is removed on
-- stop (and on a failed start) unless HWCLOUD_KEEP_WORK is set.
--
-- With `conf` instead of `http`, the text is a whole nginx.conf (main
-- context: env directives, lua_package_path of its own) and is used as is
-- after the same filling, plus ${root} (the checkout), ${load_modules} (the
-- load_module lines Debian enables) and ${user} ("user root;" when run as
-- root, else empty). It must write its pid to ${prefix}/nginx.pid.

local util = require "spec.helpers.util"

local M = {}

local sh, read, write, capture, quote, sleep =
  util.sh, util.read_file, util.write_file, util.capture, util.quote, util.sleep

-- The load_module lines Debian enables, with their relative paths made
-- absolute: nginx resolves them against -p, which is our temporary prefix.
local function load_modules()
  local out = {}
  local p = io.popen("cat /etc/nginx/modules-enabled/*.conf 2>/dev/null")
  local text = p and p:read("*a") or ""
  if p then p:close() end
  for path in text:gmatch("load_module%s+([^;%s]+)%s*;") do
    if path:sub(1, 1) ~= "/" then path = "/usr/share/nginx/" .. path end
    out[#out + 1] = "load_module " .. path .. ";"
  end
  return table.concat(out, "\n")
end

local function make_cert(prefix)
  local cert, key = prefix .. "/cert.pem", prefix .. "/key.pem"
  local cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
    .. " -nodes -days 2 -subj /CN=127.0.0.1"
    .. " -addext subjectAltName=IP:127.0.0.1,DNS:localhost"
    .. " -keyout " .. quote(key) .. " -out " .. quote(cert) .. " >/dev/null 2>&1"
  assert(sh(cmd), "openssl could not make a test certificate")
  return cert, key
end

local function fill(text, vars)
  return (text:gsub("%${([%w_]+)}", function(k)
    local v = vars[k]
    if v == nil then error("server: no value for ${" .. k .. "}", 0) end
    return tostring(v)
  end))
end

local function config(prefix, http, vars, as_root)
  return table.concat({
    load_modules(),
    as_root and "user root;" or "",
    "worker_processes 1;",
    "pid " .. prefix .. "/nginx.pid;",
    "error_log " .. prefix .. "/error.log info;",
    "events { worker_connections 1024; }",
    "http {",
    "  access_log off;",
    '  lua_package_path "' .. prefix .. '/?.lua;;";',
    "  client_body_temp_path " .. prefix .. "/tmp_body;",
    "  proxy_temp_path " .. prefix .. "/tmp_proxy;",
    "  fastcgi_temp_path " .. prefix .. "/tmp_fastcgi;",
    "  uwsgi_temp_path " .. prefix .. "/tmp_uwsgi;",
    "  scgi_temp_path " .. prefix .. "/tmp_scgi;",
    fill(http, vars),
    "}",
    "",
  }, "\n")
end

-- true once something accepts TCP connections on the port (any answer)
local function accepting(port)
  return sh("curl -s -o /dev/null -m 1 http://127.0.0.1:" .. port .. "/ 2>/dev/null")
end

local Server = {}
Server.__index = Server

function Server:url(path) return "http://127.0.0.1:" .. self.port .. (path or "/") end

function Server:tls_url(path, host)
  return "https://" .. (host or "127.0.0.1") .. ":" .. self.tls_port .. (path or "/")
end

function Server:log() return read(self.prefix .. "/error.log") or "" end

-- Fast shutdown of the master (workers follow), then wait until it is gone.
function Server:stop()
  if not self.pid then return end
  local pid = self.pid
  self.pid = nil
  sh("kill -TERM " .. pid .. " 2>/dev/null")
  for _ = 1, 200 do
    if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end
    sleep(0.025)
  end
  if sh("kill -0 " .. pid .. " 2>/dev/null") then sh("kill -KILL " .. pid) end
  util.rmdir(self.prefix)
end

function M.start(opts)
  opts = opts or {}
  local root = util.abs(util.root)
  -- tmpdir seeds math.random (distinct ports across concurrent runs too)
  local prefix = util.tmpdir(opts.name or "nginx")
  local vars = { prefix = prefix, fixtures = root .. "/spec/fixtures", root = root }
  for k, v in pairs(opts.vars or {}) do vars[k] = v end
  if opts.tls then vars.cert, vars.key = make_cert(prefix) end
  local as_root = capture("id -u") == "0"
  if opts.conf then
    vars.load_modules = load_modules()
    vars.user = as_root and "user root;" or ""
  end

  for _ = 1, 20 do
    vars.port = math.random(20000, 59999)
    vars.tls_port = vars.port + 1
    write(prefix .. "/nginx.conf", opts.conf and fill(opts.conf, vars)
      or config(prefix, opts.http or "", vars, as_root))
    os.remove(prefix .. "/error.log")
    -- daemon mode: nginx returns once the config is loaded and the ports
    -- are bound, with a failure status when a port was taken
    local cmd = "nginx -q -p " .. quote(prefix) .. " -c " .. quote(prefix .. "/nginx.conf")
      .. " -e " .. quote(prefix .. "/error.log") .. " >/dev/null 2>&1"
    if sh(cmd) then
      local pid
      for _ = 1, 200 do
        pid = tonumber(read(prefix .. "/nginx.pid") or "")
        if pid and accepting(vars.port) then break end
        sleep(0.025)
      end
      assert(pid, "nginx started but wrote no pid file:\n" .. (read(prefix .. "/error.log") or ""))
      return setmetatable({
        pid = pid, prefix = prefix, port = vars.port, tls_port = vars.tls_port,
        cert = vars.cert, key = vars.key,
      }, Server)
    end
    local log = read(prefix .. "/error.log") or ""
    if not log:find("Address already in use", 1, true) then
      util.rmdir(prefix)
      error("nginx did not start:\n" .. log, 0)
    end
  end
  util.rmdir(prefix)
  error("nginx: no free port pair found", 0)
end

return M
