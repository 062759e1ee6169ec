-- hwcloud wait-for SERVICE WAITER [field=value ...]: a named waiter's
-- resource polled to its state; without WAITER, the service's waiters.

local ipairs = ipairs
local concat = table.concat

local jobs = require "hwcloud.jobs"
local common = require "hwcloud.cli.common"
local fields = require "hwcloud.cli.fields"
local output = require "hwcloud.cli.output"
local progress = require "hwcloud.cli.progress"

return function(ctx, pos)
  local svc = common.load_service(pos[1])
  local names = jobs.waiters(svc.name)
  if not pos[2] then
    for _, n in ipairs(names) do ctx.out(n .. "\n") end
    return 0
  end
  local spec = (svc.waiters or {})[pos[2]]
  if not spec then
    common.usage("%s has no waiter '%s'%s (%s)", svc.name, pos[2], common.suggest(pos[2], names),
      #names > 0 and ("its waiters: " .. concat(names, ", ")) or "it has no named waiters")
  end
  local op = common.find_op(svc, spec.operation)
  local req = fields.request_of(op, common.rest(pos, 3),
    ctx.opts.json and common.read_json_arg(ctx.opts.json) or nil)
  local on_progress, finish = progress.jobs(ctx, 1)
  local final, err = ctx.client_factory():wait_for(svc.name, pos[2], req,
    progress.wait_opts(ctx, on_progress))
  finish()
  if final == nil then
    if err.job then output.answer(ctx, err.job) end
    return common.fail(ctx, err)
  end
  output.answer(ctx, final, final ~= true and op.response or nil)
  return 0
end
