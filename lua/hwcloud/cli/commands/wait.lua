-- hwcloud wait SERVICE JOB_ID ... [field=value ...]: waits for jobs of a
-- service to end; prints {"<id>": final job, ...}.

local ipairs, pairs, tostring = ipairs, pairs, tostring

local jobs = require "hwcloud.jobs"
local common = require "hwcloud.cli.common"
local output = require "hwcloud.cli.output"
local progress = require "hwcloud.cli.progress"

local null = require("cjson").null

return function(ctx, pos)
  local svc = common.load_service(pos[1])
  local kinds = jobs.kinds(svc.name)
  if not kinds then
    common.usage("%s has no jobs to wait for (%s)", svc.name, jobs.job_services())
  end
  -- JOB_ID ... then field=value pairs for every job (a poll's other fields)
  local ids, extra = {}, {}
  for i = 2, #pos do
    local k, v = pos[i]:match("^([%w_]+)=(.*)$")
    if k then extra[k] = v else ids[#ids + 1] = pos[i] end
  end
  if #ids == 0 then common.usage("wait needs at least one job id") end
  local list = {}
  for i, id in ipairs(ids) do
    local job = { service = svc.name, [kinds[1].id_key] = id }
    for k, v in pairs(extra) do job[k] = v end
    list[i] = job
  end
  local on_progress, finish = progress.jobs(ctx, #list)
  local o = progress.wait_opts(ctx, on_progress)
  o.progress = false
  local results = ctx.client_factory():wait_all(list, o)
  finish()
  local out, code = {}, 0
  for i, r in ipairs(results) do
    local id = ids[i]
    local res, err = r.result or r[1], r.err or r[2]
    if res then
      out[id] = res
    else
      out[id] = err.job or null
      ctx.err(tostring(err) .. "\n")
      local c = common.exit_for(err)
      if c > code then code = c end
    end
  end
  output.answer(ctx, out)
  return code
end
