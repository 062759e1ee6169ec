-- Elastic Load Balance v3 members: create, list, show and delete, a
-- member's operating_status worked out whenever it is read: ONLINE while
-- its address belongs to an ACTIVE ECS server of the project, OFFLINE
-- otherwise (or when admin_state_up is false). Load balancers and pools
-- are answered generically.

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local inventory = require "hwcloud.emulator.inventory"
local ecs = require "hwcloud.emulator.services.ecs"

local type, ipairs, tostring, remove = type, ipairs, tostring, table.remove

local _M = { name = "elb" }

local function bad(msg)
  return 400, errors.body("elb", 400, msg, "ELB.8902")
end

local function not_found(id)
  return 404, errors.body("elb", 404, "Member " .. tostring(id) .. " could not be found.",
                          "ELB.8904")
end

-- pool id -> its members, in creation order
local function members_of(ctx)
  local all = ctx.store.elb_members
  if not all then all = {} ctx.store.elb_members = all end
  local list = all[ctx.params.pool_id]
  if not list then list = {} all[ctx.params.pool_id] = list end
  return list
end

local function view(ctx, m)
  local v = util.copy(m)
  local online = m.admin_state_up ~= false
    and ecs.status_of_address(ctx.store, m.address, ctx.now) == "ACTIVE"
  v.operating_status = online and "ONLINE" or "OFFLINE"
  return v
end

local function create_member(ctx)
  local m = ctx.body.member
  if type(m) ~= "table" then return bad("Invalid parameter member: is required") end
  if type(m.address) ~= "string" or m.address == "" then
    return bad("Invalid parameter member.address: is required")
  end
  local port = m.protocol_port
  if port ~= nil and (type(port) ~= "number" or port < 1 or port > 65535 or port % 1 ~= 0) then
    return bad("Invalid parameter member.protocol_port: must be a whole number from 1 to 65535")
  end
  local rec = {
    id = util.uuid4(), name = type(m.name) == "string" and m.name or "",
    address = m.address, protocol_port = port, weight = m.weight or 1,
    subnet_cidr_id = m.subnet_cidr_id or util.null,
    admin_state_up = m.admin_state_up ~= false, pool_id = ctx.params.pool_id,
    project_id = ctx.project_id, provisioning_status = "ACTIVE",
    ip_version = m.address:find(":", 1, true) and "v6" or "v4",
    created_at = util.iso8601(ctx.now), updated_at = util.iso8601(ctx.now),
  }
  local list = members_of(ctx)
  list[#list + 1] = rec
  return 201, { member = view(ctx, rec), request_id = ctx.request_id }
end

local function show_member(ctx)
  local m = inventory.find(members_of(ctx), ctx.params.member_id)
  if not m then return not_found(ctx.params.member_id) end
  return 200, { member = view(ctx, m), request_id = ctx.request_id }
end

local function delete_member(ctx)
  local list = members_of(ctx)
  local _, i = inventory.find(list, ctx.params.member_id)
  if not i then return not_found(ctx.params.member_id) end
  remove(list, i)
  return 204, nil
end

-- list_members: marker/limit pages; filters by address and
-- operating_status.
local function list_members(ctx)
  local args, picked = ctx.args, {}
  for _, m in ipairs(members_of(ctx)) do
    local v = view(ctx, m)
    if (args.address == nil or tostring(args.address) == v.address)
      and (args.operating_status == nil or tostring(args.operating_status) == v.operating_status) then
      picked[#picked + 1] = v
    end
  end
  local page, err = inventory.page(picked, args, { marker = true })
  if not page then return bad(err) end
  return 200, { members = util.array(page), request_id = ctx.request_id,
                page_info = { current_page_count = #page } }
end

_M.routes = {
  { op = "create_member", method = "POST", path = "/v3/{project_id}/elb/pools/{pool_id}/members",
    body = { type = "object" }, handler = create_member },
  { op = "list_members", method = "GET", path = "/v3/{project_id}/elb/pools/{pool_id}/members",
    handler = list_members },
  { op = "show_member", method = "GET",
    path = "/v3/{project_id}/elb/pools/{pool_id}/members/{member_id}", handler = show_member },
  { op = "delete_member", method = "DELETE",
    path = "/v3/{project_id}/elb/pools/{pool_id}/members/{member_id}", handler = delete_member },
}

return _M
