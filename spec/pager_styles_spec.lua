-- client:pages and client:each for every paging style, against a real
-- nginx on loopback that pages each route the way that service does
-- (spec/fixtures/paging/server.lua): seven items, three a page, so every
-- walk takes three pages and must see each item once.
--
--   make && sh tools/test.sh spec/pager_styles_spec.lua

local hwcloud = require "hwcloud"
local server = require "spec.helpers.server"

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

local HTTP = [[
log_format paging '$request_method $request_uri $request_body';
server {
    listen 127.0.0.1:${port};
    access_log ${prefix}/access.log paging;
    location / { content_by_lua_file ${fixtures}/paging/server.lua; }
}
]]

describe("pager styles #server", function()
  local srv, client

  setup(function()
    srv = server.start{ name = "paging", http = HTTP }
    client = assert(hwcloud.client {
      endpoint = srv:url(""):gsub("/$", ""), ak = "PAGINGTESTAK00000001", sk = "paging-test-secret",
      project_id = PID, domain_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0", region = "cn-north-4",
      retry_base = 0.01, progress = false,
    })
  end)

  teardown(function()
    if srv then srv:stop() end
  end)

  -- the requests (target and body) the server saw for a path, in order;
  -- nginx logs a request just after its answer, so up to `want` of them
  -- are waited for a while
  local function requests(pattern, want)
    local out
    for _ = 1, 100 do
      out = {}
      local f = assert(io.open(srv.prefix .. "/access.log", "rb"))
      for line in f:lines() do
        local target = line:match("^%u+ (%S+)")
        if target and target:match(pattern) then out[#out + 1] = line end
      end
      f:close()
      if #out >= (want or 0) then break end
      require("socket").sleep(0.02)
    end
    return out
  end

  local function truncate_log()
    local f = assert(io.open(srv.prefix .. "/access.log", "wb"))
    f:close()
  end

  before_each(truncate_log)

  -- walks the pages and the items; returns the item ids and the page count
  local function walk(service, operation, req)
    local pages = 0
    for page, err in client:pages(service, operation, req) do
      assert(page, tostring(err))
      pages = pages + 1
      assert(pages < 10, "the pager did not stop")
    end
    local ids = {}
    for item, err in client:each(service, operation, req) do
      assert(item, tostring(err))
      ids[#ids + 1] = type(item) == "table" and item.id or item
      assert(#ids < 30, "the pager did not stop")
    end
    return ids, pages
  end

  local ALL = { "i1", "i2", "i3", "i4", "i5", "i6", "i7" }

  local CASES = {
    { "offset in rows (RDS)", "rds_v3", "list_instances", { limit = 3 }, "/instances" },
    { "offset as a page number (ECS list_servers_details)", "ecs_v2", "list_servers_details",
      { limit = 3 }, "/cloudservers/detail" },
    { "offset as a page number (CodeArts Build list_end_points)", "codeartsbuild_v3",
      "list_end_points", { limit = 3, project_id = PID }, "/nexus" },
    { "next_marker (FunctionGraph)", "functiongraph_v2", "list_functions",
      { maxitems = "3" }, "/fgs/functions" },
    { "page_info.next_marker (VPC v3)", "vpc_v3", "list_vpcs", { limit = 3 }, "/vpc/vpcs" },
    { "the last item's id (ECS nova)", "ecs_v2", "nova_list_servers_details", { limit = 3 },
      "/servers/detail" },
    { "a top-level next link (IMS Glance)", "ims_v2", "glance_list_images", { limit = 3 },
      "^/v2/images" },
    { "page/size (CodeArts Deploy)", "codeartsdeploy_v2", "list_deploy_tasks", { project_id = PID, page = 1, size = 3 },
      "/tasks/list" },
    { "links.next with a marker (DNS)", "dns_v2", "list_public_zones", { limit = 3 }, "/v2/zones" },
    { "page/per_page with links.next (IAM)", "iam_v3", "keystone_list_projects", { per_page = 3 },
      "/v3/projects" },
    { "limit/marker in a POST body, truncated as a string (KMS list_keys)", "kms_v2", "list_keys",
      { limit = "3" }, "/kms/list%-keys" },
    { "offset/limit in a POST body (CodeArts Pipeline list_pipelines)", "codeartspipeline_v2",
      "list_pipelines", { project_id = PID, body = { limit = 3 } }, "/pipelines/list" },
    { "a bare array and Content-Range (SWR)", "swr_v2", "list_repos_details",
      { limit = "3" }, "/manage/repos" },
    { "start_number (AS)", "as_v1", "list_scaling_groups", { limit = 3 }, "/scaling_group" },
    { "start as an alarm id, meta_data.marker (CES v1)", "ces_v1", "list_alarms", { limit = 3 },
      "/alarms" },
  }

  for _, case in ipairs(CASES) do
    local title, service, operation, req, path = case[1], case[2], case[3], case[4], case[5]
    it(title .. ": three pages, every item once", function()
      local ids, pages = walk(service, operation, req)
      assert.same(ALL, ids)
      assert.equal(3, pages)
      -- pages and each: three requests each, no page asked twice
      local seen = requests(path, 6)
      assert.equal(6, #seen)
      assert.are_not.equal(seen[1], seen[2])
      assert.are_not.equal(seen[2], seen[3])
      assert.same({ seen[1], seen[2], seen[3] }, { seen[4], seen[5], seen[6] })
    end)
  end

  it("the offset as a page number asks for pages 2 and 3, not rows", function()
    walk("ecs_v2", "list_servers_details", { limit = 3 })
    local seen = requests("/cloudservers/detail", 3)
    assert.truthy(seen[2]:match("offset=2"), seen[2])
    assert.truthy(seen[3]:match("offset=3"), seen[3])
  end)

  it("the caller's request is not changed", function()
    local req = { project_id = PID, body = { limit = 3 } }
    walk("codeartspipeline_v2", "list_pipelines", req)
    assert.same({ project_id = PID, body = { limit = 3 } }, req)
  end)

  it("a server that sends the same marker again ends with an error, not a loop", function()
    local pages, err = 0, nil
    for page, e in client:pages("vpc_v3", "list_security_groups", { limit = 3 }) do
      if not page then err = e break end
      pages = pages + 1
      assert(pages < 10, "the pager did not stop")
    end
    assert.equal(1, pages)
    assert.truthy(err)
    local msg = tostring(err.message or err)
    assert.truthy(msg:match("same page") or msg:match("marker"), msg)
  end)

  it("a server that ignores the offset ends with an error, not a loop", function()
    local items, err = 0, nil
    for item, e in client:each("smn_v2", "list_topics", { limit = 3 }) do
      if not item then err = e break end
      items = items + 1
      assert(items < 30, "the pager did not stop")
    end
    assert.equal(3, items)
    assert.truthy(err)
    assert.truthy(tostring(err.message or err):match("same page"), tostring(err.message or err))
    assert.equal(2, #requests("/notifications/topics", 2))
  end)
end)
