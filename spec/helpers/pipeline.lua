-- spec/helpers/pipeline.lua: the call pipeline (hwcloud.call) with the
-- client's real configuration, auth and C core over the scripted transport
-- and clock of spec/helpers/fake_transport.lua: no socket, no server.
--
--   local run, tr, clock = require("spec.helpers.pipeline").new(answers, client_opts)
--   local res, err = run("workspaceapp", "reinstall_server", { server_id = "s" }, call_opts)
--   #tr.sends  -- the tries that went out; clock.t the time they took
-- client_opts may unset a default with M.NONE (project_id = NONE: looked
-- up); a third argument replaces the credentials' source group (a
-- {kind = "metadata", endpoint = ...} that no option gives). Two more
-- values come back: the client's private parts (env) and its engine.

local core = require "hwcloud.core"
local config = require "hwcloud.config"
local auth = require "hwcloud.identity.auth"
local call = require "hwcloud.call"
local services = require "hwcloud.services"
local engine_mod = require "hwcloud.engine.curl"
local fake = require "spec.helpers.fake_transport"

local M = {}

M.PID = "0123456789abcdef0123456789abcdef"
M.ENDPOINT = "http://api.test"
M.NONE = {}

-- new(answers[, client_opts[, group]]) -> run(service, operation, req[, opts]), tr, clock,
--   env, engine
function M.new(answers, extra, group)
  local o = { endpoint = M.ENDPOINT, ak = "CALLSPECAK", sk = "call-spec-secret", project_id = M.PID,
              retry_base = 0.1, retry_max_delay = 5, progress = false }
  for k, v in pairs(extra or {}) do
    if v == M.NONE then o[k] = nil else o[k] = v end
  end
  local cfg = assert(config.new(o))
  local creds = group or cfg.credentials
  cfg.credentials = nil
  local tr, clock = fake.new { answers = answers, latency = 0.01 }
  local env = {
    cfg = cfg, user_agent = "hwcloud-spec",
    conform = services.conform, json_decode = core.decode,
    now = clock.now,
  }
  env.endpoint = function(svc) return config.endpoint(cfg, svc) end
  env.auth = auth.new(creds, env)
  local engine = engine_mod.new(tr, clock.now)
  local function run(service, opname, req, opts)
    local svc = services.load(service)
    local op = assert(services.operation(svc, opname))
    return engine:call(function(e) return call.invoke(env, e, svc, op, req, opts or {}) end)
  end
  return run, tr, clock, env, engine
end

return M
