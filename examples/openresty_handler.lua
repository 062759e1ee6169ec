-- An HTTP endpoint, inside nginx/OpenResty, that redeploys a ServiceStage
-- add-on and answers the job id:
--
--   POST /redeploy?environment_id=<id>&addon_id=<id>
--   200 {"job_id": "JOB..."}
--   400/404/405/502/504 {"error": {"message": ..., ...}}
--
-- examples/nginx.conf wires it up:
--   location = /redeploy { content_by_lua_block { require("openresty_handler").redeploy() } }
--
-- The handler runs in nginx's content phase, where hwcloud sends over
-- cosockets (non-blocking, keep-alive pools) instead of libcurl: a worker
-- waiting for Huawei Cloud keeps serving other requests meanwhile.
--
-- Credentials come from the environment: HUAWEICLOUD_SDK_AK,
-- HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID and HUAWEICLOUD_SDK_REGION
-- (and HWCLOUD_ENDPOINT to aim at the bundled emulator). nginx clears the
-- environment of its workers: a variable is visible to Lua only when an
-- `env NAME;` directive in the main context of nginx.conf names it.

local ngx = ngx
local type, tostring, require, ipairs = type, tostring, require, ipairs
local getenv = os.getenv

local hwcloud = require "hwcloud"
local json = require("cjson.safe").new()

local _M = {}

-- One client per worker, made by the first request and reused by the
-- next ones (this module is loaded once per worker Lua VM). Making it does
-- no I/O: it only reads the environment.
local client, client_err

local function get_client()
  if client then return client end
  if client_err then return nil, client_err end
  local endpoint = getenv("HWCLOUD_ENDPOINT")
  local c, err = hwcloud.client {
    endpoint = (endpoint ~= "" and endpoint) or nil, -- default: from the region
    timeout = 30, connect_timeout = 5,
  }
  if not c then
    -- a configuration error does not fix itself: remember it
    client_err = err
    return nil, err
  end
  client = c
  return client
end

-- Sends a JSON answer and ends the request.
local function answer(status, doc)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Cache-Control"] = "no-store"
  ngx.print(json.encode(doc) or '{"error":{"message":"cannot encode the answer"}}')
  return ngx.exit(status)
end

-- The caller's status for a hwcloud error: the caller's own mistakes are
-- 4xx, the cloud's refusals and failures 502, no answer in time 504.
local function status_for(err)
  if err.kind == "validation" then return 400 end
  if err.kind == "timeout" then return 504 end
  if err.kind == "http" then
    if err.status == 404 then return 404 end -- no such environment or add-on
    if err.status == 429 then return 429 end -- throttled: the caller may retry
  end
  return 502 -- 401/403 (our credentials), 5xx, transport, decode
end

local function fail(err)
  -- the error carries no secret (no key, token or signature): safe to show
  local doc = {
    kind = err.kind, status = err.status, code = err.code, field = err.field,
    message = err.message or tostring(err), request_id = err.request_id,
  }
  ngx.log(ngx.WARN, "redeploy failed: ", tostring(err))
  local status = status_for(err)
  if status == 429 then ngx.header["Retry-After"] = "5" end
  return answer(status, { error = doc })
end

function _M.redeploy()
  if ngx.req.get_method() ~= "POST" then
    ngx.header["Allow"] = "POST"
    return answer(405, { error = { message = "use POST" } })
  end
  local args = ngx.req.get_uri_args(10)
  for _, name in ipairs { "environment_id", "addon_id" } do
    local v = args[name]
    if type(v) ~= "string" or v == "" then
      return answer(400, { error = { field = name, message = name .. " is required" } })
    end
  end

  local c, cerr = get_client()
  if not c then return fail(cerr) end

  local job, err = c.servicestage:deliver_addon_job {
    environment_id = args.environment_id,
    addon_id = args.addon_id,
    action = "redeploy",
  }
  if not job then return fail(err) end
  return answer(200, { job_id = job.job_id })
end

return _M
