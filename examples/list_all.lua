-- Paginated listings: client:pages hands over each page as the service
-- answered it, client:each each item across the pages. Both follow the
-- operation's own paging (offset/limit here, marker/limit or page/page_size
-- elsewhere) and end after the last page; a failure comes once as
-- `false, err`.
--
--   lua5.4 examples/list_all.lua [PAGE_SIZE]     (default: 2)
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

local size = math.floor(tonumber(arg[1]) or 2)

-- Every app server, a page at a time.
local n, total = 0, 0
for page, err in client:pages("workspaceapp", "list_servers", { limit = size }) do
  if not page then
    io.stderr:write("list_servers: ", tostring(err), "\n")
    os.exit(1)
  end
  n = n + 1
  local names = {}
  for _, s in ipairs(page.items or {}) do names[#names + 1] = s.name end
  total = total + #names
  print(string.format("page %d: %s", n, table.concat(names, ", ")))
end
print(string.format("%d servers in %d pages", total, n))

-- Every server group, item by item.
local groups = 0
for g, err in client:each("workspaceapp", "list_server_groups", { limit = size }) do
  if not g then
    io.stderr:write("list_server_groups: ", tostring(err), "\n")
    os.exit(1)
  end
  groups = groups + 1
  print(string.format("group %s: %s", g.id, tostring(g.name)))
end
print(string.format("%d server groups", groups))
client:close()
