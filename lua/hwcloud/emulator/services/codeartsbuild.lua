-- CodeArts Build: notification settings of a build task.

local util = require "hwcloud.emulator.util"

local null = util.null

local _M = { name = "codeartsbuild" }

local function update_notice(ctx)
  local job_id, body = ctx.params.job_id, ctx.body
  local per_job = ctx.store.notices[job_id]
  if not per_job then per_job = {} ctx.store.notices[job_id] = per_job end
  per_job[body.notice_type] = {
    notice_type = body.notice_type,
    enabled_event_type_names = util.copy(body.enabled_event_type_names),
    param_config = body.param_config,
    updated = ctx.now,
  }
  return 200, { result = { job_id = job_id }, error = null, status = "success" }
end

_M.routes = {
  {
    op = "update_notice", method = "POST",
    path = "/v3/jobs/notice/{job_id}/update",
    body = { type = "object", fields = {
      notice_type = { type = "string", required = true },
      enabled_event_type_names = { type = "array", required = true, items = { type = "string" } },
      param_config = { type = "string" },
    } },
    handler = update_notice,
  },
}

return _M
