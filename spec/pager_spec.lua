-- hwcloud.pager on the catalog's own operations, each page answered by a
-- scripted function (the walk over real HTTP per style is
-- spec/pager_styles_spec.lua): which fields page, and where a walk ends.

local pager = require "hwcloud.pager"
local services = require "hwcloud.services"

local function op(service, name)
  return assert(services.operation(assert(services.load(service)), name))
end

-- walks op with answer(request, n) -> page; returns the requests sent,
-- the page count and the error that ended the walk, if any
local function walk(o, req, answer)
  local sent, pages, err = {}, 0, nil
  local n = 0
  for page, e in pager.pages(o, req, function(r)
    n = n + 1
    local copy = {}
    for k, v in pairs(r) do
      if type(v) == "table" then
        local c = {}
        for k2, v2 in pairs(v) do c[k2] = v2 end
        v = c
      end
      copy[k] = v
    end
    sent[#sent + 1] = copy
    return answer(r, n)
  end) do
    if not page then err = e break end
    pages = pages + 1
    assert(pages < 20, "the pager did not stop")
  end
  return sent, pages, err
end

local function items(from, n)
  local t = {}
  for i = from + 1, from + n do t[#t + 1] = { id = "i" .. i } end
  return t
end

describe("pager", function()
  it("reads the paging fact: ECS list_servers_details pages by a page-number offset", function()
    local style, s = pager.style_of(op("ecs_v2", "list_servers_details"))
    assert.equal("marker", style)
    assert.same({ "offset", "page" }, { s.offset, s.unit })
    local sent = walk(op("ecs_v2", "list_servers_details"), { limit = 2 }, function(r)
      local p = r.offset or 1
      return { count = 5, servers = items((p - 1) * 2, math.min(2, 5 - (p - 1) * 2)) }
    end)
    assert.same({ nil, 2, 3 }, { sent[1].offset, sent[2].offset, sent[3].offset })
    assert.equal(3, #sent)
  end)

  it("infers paging inside a whole-body request field (CodeArts Pipeline list_pipelines)", function()
    local style, s = pager.style_of(op("codeartspipeline_v2", "list_pipelines"))
    assert.equal("offset", style)
    assert.equal("body", s.container)
    local req = { project_id = "p", body = { limit = 2 } }
    local sent = walk(op("codeartspipeline_v2", "list_pipelines"), req, function(r)
      local off = r.body.offset or 0
      return { pipelines = items(off, math.min(2, 5 - off)), total = 5 }
    end)
    assert.equal(3, #sent)
    assert.same({ 2, 4 }, { sent[2].body.offset, sent[3].body.offset })
    assert.same({ project_id = "p", body = { limit = 2 } }, req)
  end)

  it("ends where KMS says truncated \"false\", whatever next_marker says", function()
    local sent = walk(op("kms_v2", "list_keys"), { limit = "2" }, function(_, n)
      return { keys = { "k" .. n }, next_marker = "m" .. n, truncated = n < 2 and "true" or "false" }
    end)
    assert.equal(2, #sent)
    assert.equal("m1", sent[2].marker)
  end)

  it("a marker that does not move ends with an error naming the field", function()
    local _, pages, err = walk(op("vpc_v3", "list_vpcs"), { limit = 2 }, function(_, n)
      return { vpcs = items(n * 2, 2), page_info = { next_marker = "same" } }
    end)
    assert.equal(2, pages)
    assert.truthy(tostring(err.message):match("marker %(same%)"), tostring(err.message))
  end)

  it("a Content-Range end that does not move ends with an error (SWR)", function()
    local _, pages, err = walk(op("swr_v2", "list_repos_details"), { limit = "2" }, function(_, n)
      local page = items(n * 2, 2)
      page["Content-Range"] = "0-1/9"
      return page
    end)
    assert.equal(2, pages)
    assert.truthy(tostring(err.message):match("Content%-Range"), tostring(err.message))
  end)

  it("without a size asked for, a page-number walk ends at the total by the server's page size", function()
    local sent = walk(op("codeartsdeploy_v2", "list_deploy_tasks"), { project_id = "p", page = 1 },
      function(r)
        local p = r.page
        return { result = items((p - 1) * 3, math.min(3, 7 - (p - 1) * 3)), total_num = 7 }
      end)
    assert.equal(3, #sent)
    assert.same({ 1, 2, 3 }, { sent[1].page, sent[2].page, sent[3].page })
  end)

  it("an operation without paging answers one page", function()
    local o = op("cce_v3", "list_clusters")
    assert.is_nil(pager.style_of(o))
    local sent, pages = walk(o, {}, function() return { items = items(0, 3) } end)
    assert.equal(1, #sent)
    assert.equal(1, pages)
  end)
end)
