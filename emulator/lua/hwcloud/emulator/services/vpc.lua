-- Virtual Private Cloud: VPCs (v3 and v2) and subnets keep the generic
-- REST state (hwcloud.emulator.generic: create, list, show, update,
-- delete; the inventory's generic.vpc seeds them), with the status the
-- service reports moving over --job-seconds (hwcloud.emulator.lifecycle):
-- a v3 VPC PENDING then ACTIVE, a v2 VPC CREATING then OK, a subnet
-- UNKNOWN then ACTIVE; ERROR when its id was on the fail list. Security
-- groups and their rules have no status: they stay generic.

local lifecycle = require "hwcloud.emulator.lifecycle"

local _M = { name = "vpc" }

local V3 = { pending = "PENDING", ready = "ACTIVE", failed = "ERROR" }
local V2 = { pending = "CREATING", ready = "OK", failed = "ERROR" }
local SUBNET = { pending = "UNKNOWN", ready = "ACTIVE", failed = "ERROR" }

-- A route of `field` (nil: vpc) answered by its catalog entry's generic
-- handler, the items' status following `states`.
local function route(field, op, method, path, states, wrapper, list)
  local spec = { entry = (field or "vpc") .. "." .. op, wrapper = wrapper, list = list,
                 create = method == "POST", pending = states.pending, ready = states.ready,
                 failed = states.failed }
  return { op = op, field = field, method = method, path = path, full_request = true,
           handler = lifecycle.handler(spec) }
end

_M.routes = {
  route(nil, "create_vpc", "POST", "/v3/{project_id}/vpc/vpcs", V3, "vpc"),
  route(nil, "list_vpcs", "GET", "/v3/{project_id}/vpc/vpcs", V3, nil, "vpcs"),
  route(nil, "show_vpc", "GET", "/v3/{project_id}/vpc/vpcs/{vpc_id}", V3, "vpc"),
  route(nil, "update_vpc", "PUT", "/v3/{project_id}/vpc/vpcs/{vpc_id}", V3, "vpc"),
  route("vpc_v2", "create_vpc", "POST", "/v1/{project_id}/vpcs", V2, "vpc"),
  route("vpc_v2", "list_vpcs", "GET", "/v1/{project_id}/vpcs", V2, nil, "vpcs"),
  route("vpc_v2", "show_vpc", "GET", "/v1/{project_id}/vpcs/{vpc_id}", V2, "vpc"),
  route("vpc_v2", "update_vpc", "PUT", "/v1/{project_id}/vpcs/{vpc_id}", V2, "vpc"),
  route(nil, "create_subnet", "POST", "/v1/{project_id}/subnets", SUBNET, "subnet"),
  route(nil, "list_subnets", "GET", "/v1/{project_id}/subnets", SUBNET, nil, "subnets"),
  route(nil, "show_subnet", "GET", "/v1/{project_id}/subnets/{subnet_id}", SUBNET, "subnet"),
  route(nil, "update_subnet", "PUT", "/v1/{project_id}/vpcs/{vpc_id}/subnets/{subnet_id}",
        SUBNET, "subnet"),
}

return _M
