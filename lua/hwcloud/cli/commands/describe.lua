-- hwcloud describe SERVICE OPERATION: the method, the path, where to read
-- more, and every request and response field by its dotted name.

local tostring = tostring
local concat = table.concat

local services = require "hwcloud.services"
local common = require "hwcloud.cli.common"
local fields = require "hwcloud.cli.fields"
local output = require "hwcloud.cli.output"

return function(ctx, pos)
  if #pos > 2 then common.usage("describe takes a service and an operation") end
  local svc = common.load_service(pos[1])
  local op, target = common.find_op(svc, pos[2])
  local head = svc.name .. "." .. op.name
  if target then head = head .. " (alias " .. pos[2] .. ")" end
  local text = { head, tostring(op.method) .. " " .. tostring(op.path) }
  if op.job then text[#text + 1] = "starts a job: call --wait waits for it" end
  text[#text + 1] = "reference: " .. services.reference_url(svc, op)
  local req = fields.field_lines(op.request, "", {}, {})
  text[#text + 1] = ""
  text[#text + 1] = "request:" .. (#req == 0 and " (no fields)" or "")
  if #req > 0 then text[#text + 1] = output.columns(req, "  ") end
  local res = fields.field_lines(op.response, "", {}, {})
  text[#text + 1] = ""
  text[#text + 1] = "response: " .. fields.type_name(op.response)
  if #res > 0 then text[#text + 1] = output.columns(res, "  ") end
  ctx.out(concat(text, "\n") .. "\n")
  return 0
end
