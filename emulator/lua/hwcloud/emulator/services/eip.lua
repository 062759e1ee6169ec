-- Elastic IP: public IPs keep the generic REST state (hwcloud.emulator.
-- generic; v2 and v3 share its items), with the status the service
-- reports: PENDING_CREATE for --job-seconds after create_publicip, then
-- DOWN (ERROR when its id was on the fail list); update_publicip with a
-- port_id binds it (ACTIVE), with port_id null unbinds it (DOWN).
-- Batch creations and deletions answer generic jobs
-- (show_resources_job_detail).

local lifecycle = require "hwcloud.emulator.lifecycle"
local util = require "hwcloud.emulator.util"

local type = type

local _M = { name = "eip" }

local STATES = { pending = "PENDING_CREATE", ready = "DOWN", failed = "ERROR" }

-- update_publicip: a port_id binds the address, null (or "") unbinds it.
local function bind(ctx, item, rec)
  local given = type(ctx.body) == "table" and ctx.body.publicip
  if type(given) ~= "table" then return rec end
  local port = given.port_id
  if port == nil then return rec end
  rec = rec or { born = ctx.now }
  if port == util.null or port == "" then
    item.port_id = nil
    rec.phase = "DOWN"
  else
    rec.phase = "ACTIVE"
  end
  return rec
end

local function route(field, op, method, path, wrapper, list, after)
  return { op = op, field = field, method = method, path = path, full_request = true,
           handler = lifecycle.handler { entry = (field or "eip") .. "." .. op, wrapper = wrapper,
             list = list, create = method == "POST", pending = STATES.pending,
             ready = STATES.ready, failed = STATES.failed, after = after } }
end

_M.routes = {
  route(nil, "create_publicip", "POST", "/v1/{project_id}/publicips", "publicip"),
  route("eip_v2", "list_publicips", "GET", "/v1/{project_id}/publicips", nil, "publicips"),
  route("eip_v2", "show_publicip", "GET", "/v1/{project_id}/publicips/{publicip_id}",
        "publicip"),
  route("eip_v2", "update_publicip", "PUT", "/v1/{project_id}/publicips/{publicip_id}",
        "publicip", nil, bind),
  route(nil, "list_publicips", "GET", "/v3/{project_id}/eip/publicips", nil, "publicips"),
  route(nil, "show_publicip", "GET", "/v3/{project_id}/eip/publicips/{publicip_id}",
        "publicip"),
}

return _M
