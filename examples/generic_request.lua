-- The generic call, client:request{...}: any Huawei Cloud API by method and
-- path, signed with the client's credentials and sent to that service's
-- endpoint, with the same errors and retries as a described operation, but
-- no validation (hwcloud knows nothing of its fields).
--
--   lua5.4 examples/generic_request.lua [SERVICE METHOD PATH [name=value ...]]
--
-- For example, ECS's server list by its path:
--   lua5.4 examples/generic_request.lua ecs GET '/v1/{project_id}/cloudservers/detail' limit=10
-- The bundled emulator answers every operation hwcloud describes (ECS's
-- list from its generic state); for a path no service publishes it answers
-- as API Gateway does (404 APIG.0101), which this script prints as the
-- error, exit status 1. The default is Workspace's server list, called here
-- as if undescribed: the same generic call.
--
-- Runs against the bundled emulator by default (HWCLOUD_ENDPOINT). Against
-- Huawei Cloud: unset HWCLOUD_ENDPOINT and set HUAWEICLOUD_SDK_AK, _SK,
-- _PROJECT_ID, _REGION.

local hwcloud = require "hwcloud"

local env = os.getenv
local endpoint = env("HWCLOUD_ENDPOINT")
local client = assert(hwcloud.client {
  endpoint = endpoint,
  region = env("HUAWEICLOUD_SDK_REGION") or "cn-north-4",
  ak = endpoint and (env("HUAWEICLOUD_SDK_AK") or "HWCLOUDEMULATORAK001") or nil,
  sk = endpoint and (env("HUAWEICLOUD_SDK_SK") or "hwcloud-emulator-secret") or nil,
  project_id = env("HUAWEICLOUD_SDK_PROJECT_ID") or (endpoint and "0b7d4b9c1f2e4d6a8e3f5a7c9d1b3e5f"),
})

local service, method, path = arg[1], arg[2], arg[3]
local query = {}
if not service then
  service, method, path, query = "workspaceapp", "GET", "/v1/{project_id}/app-servers", { limit = 2 }
end
for i = 4, #arg do
  local k, v = arg[i]:match("^([^=]+)=(.*)$")
  if not k then
    io.stderr:write("expected name=value for the query, got ", arg[i], "\n")
    os.exit(2)
  end
  query[k] = v
end

local res, err = client:request { service = service, method = method, path = path, query = query }
if not res then
  -- one line: kind, status, the service's code and message, the request id
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end

-- the answer's top-level fields: arrays by their length, the rest as is
local names = {}
for k in pairs(res) do names[#names + 1] = tostring(k) end
table.sort(names)
print(string.format("%s %s %s: %d fields", method, service, path, #names))
for _, k in ipairs(names) do
  local v = res[k]
  if type(v) == "table" then
    print(string.format("  %s: %d items", k, #v))
  elseif type(v) == "number" then
    -- no schema, so no integer type: JSON numbers decode as floats
    print(string.format("  %s: %.14g", k, v))
  else
    print(string.format("  %s: %s", k, tostring(v)))
  end
end
client:close()
