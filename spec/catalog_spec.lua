-- The catalog (lua/hwcloud/services/index.lua): every field of it loads with
-- the operation count it states; a service's field merges its versions
-- (the newest winning a shared name) while <service>_v<N> is exactly
-- version N; the seed fields keep their meaning; listing loads nothing;
-- unknown regions, services and operations are refused with the nearest
-- name; global services are signed for the domain, as the index says.

local hwcloud = require "hwcloud"
local services = require "hwcloud.services"
local index = require "hwcloud.services.index"
local emulator = require "spec.helpers.emulator"
local util = require "spec.helpers.util"

local function count(svc)
  local n = 0
  for _ in pairs(svc.all) do n = n + 1 end
  return n
end

local function vnum(v) return tonumber(v:match("^v(%d+)$")) end

describe("the catalog", function()
  it("loads every field it lists, each with the operation count it states", function()
    -- in a process of its own: every description at once is 100 MB
    local ok, out = util.run([[lua5.4 -e '
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "build/5.4/?.so;" .. package.cpath
      local services = require "hwcloud.services"
      local index = require "hwcloud.services.index"
      local wrong, fields, versions = {}, 0, 0
      for _, name in ipairs(index.names) do
        local e = index.fields[name]
        local svc = assert(services.load(name))
        local n = 0
        for _ in pairs(svc.all) do n = n + 1 end
        if n ~= e.operations or svc.global ~= e.global then
          wrong[#wrong + 1] = name .. ": " .. n .. " ~= " .. e.operations
        end
        fields = fields + 1
        if name == e.service .. "_" .. (e.versions[1] or "") then versions = versions + 1 end
      end
      io.write(fields, " ", versions, " [", table.concat(wrong, ", "), "]")']])
    assert.is_true(ok, out)
    local fields, versions, wrong = out:match("^(%d+) (%d+) %[(.*)%]$")
    assert.are.equal("", wrong)
    assert.is_true(tonumber(fields) > 400, out)
    assert.is_true(tonumber(versions) >= 219, out)
    assert.are.same(index.names, hwcloud.services())
  end)

  it("merges a service's versions: the newest wins a shared name, _v<N> is exactly N", function()
    local shared = 0
    for _, name in ipairs(index.names) do
      local e = index.fields[name]
      if name == e.service and #e.files > 1 and name ~= "iam" then
        -- newest first, as the index orders them
        for i = 2, #e.versions do assert.is_true(vnum(e.versions[i - 1]) > vnum(e.versions[i]), name) end
        local merged = services.load(name)
        local total = {}
        for _, v in ipairs(e.versions) do
          local exact = services.load(name .. "_" .. v)
          assert.are.equal(v, exact.api_version)
          for op in pairs(exact.all) do total[op] = true end
        end
        for op in pairs(total) do
          local want
          for _, v in ipairs(e.versions) do
            local d = services.load(name .. "_" .. v).all[op]
            want = want or d
            if d and d ~= want then shared = shared + 1 end
          end
          assert.is_not_nil(merged.all[op], name .. "." .. op)
          assert.are.equal(want.path, merged.all[op].path, name .. "." .. op)
          assert.are.equal(want.method, merged.all[op].method, name .. "." .. op)
        end
      end
    end
    assert.is_true(shared > 50, shared .. " shared names")
    -- e.g. CCE: v5 and v3 both have operations of one name; cce_v3 keeps v3's
    local cce, v3 = services.load("cce"), services.load("cce_v3")
    assert.are.same({ "v5", "v3" }, index.fields.cce.versions)
    assert.are.equal("v5", cce.api_version)
    assert.is_truthy(v3.all.list_clusters.path:find("^/api/v3/"))
  end)

  it("keeps the seed fields' meaning", function()
    -- servicestage is v3 alone; servicestage_v2 is v2
    assert.are.same({ "v3" }, index.fields.servicestage.versions)
    local ss, ss2 = services.load("servicestage"), services.load("servicestage_v2")
    assert.is_nil(ss.all.show_job_detail)
    assert.is_not_nil(ss2.all.show_job_detail)
    assert.are.equal("show_job_info", ss.jobs.poll)
    -- iam: v3, plus what only v5 has (v3 wins a shared name)
    local iam, v3, v5 = services.load("iam"), services.load("iam_v3"), services.load("iam_v5")
    for op, d in pairs(v5.all) do
      if v3.all[op] then
        assert.are.equal(v3.all[op].path, iam.all[op].path, op)
      else
        assert.are.equal(d.path, iam.all[op].path, op)
      end
    end
    assert.are.equal(count(v3), 150)
    assert.is_not_nil(services.operation(iam, "create_token"))
    for _, n in ipairs { "workspaceapp", "codeartsbuild", "asm", "rts" } do
      assert.is_true(services.known(n), n)
    end
    -- no catalog field takes client.obs (the object-storage client)
    assert.is_nil(index.fields.obs)
  end)

  it("lists the fields without loading any service, and require + client{} load no index", function()
    local ok, out = util.run([[lua5.4 -e '
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "build/5.4/?.so;" .. package.cpath
      local function loaded()
        local l = {}
        for k in pairs(package.loaded) do if k:find("^hwcloud%.services%.") then l[#l + 1] = k end end
        table.sort(l)
        return table.concat(l, ",")
      end
      local hwcloud = require "hwcloud"
      hwcloud.client{ endpoint = "http://127.0.0.1:9", ak = "a", sk = "b" }
      io.write("[", loaded(), "]")
      local n = #hwcloud.services()
      io.write("[", loaded(), "]", n)']])
    assert.is_true(ok, out)
    assert.are.equal("[][hwcloud.services.index]" .. #index.names, out)
  end)
end)

describe("the catalog's refusals", function()
  local c = hwcloud.client{ endpoint = "http://127.0.0.1:9", ak = "a", sk = "b", project_id = "p" }

  it("names the nearest service, and points at client:request for one it lacks", function()
    local ok, err = pcall(function() return c.functiongrap end)
    assert.is_false(ok)
    assert.is_truthy(err:find("did you mean 'functiongraph'", 1, true), err)
    ok, err = pcall(function() return c.nosuchservicehere end)
    assert.is_false(ok)
    assert.is_truthy(err:find("client:request", 1, true), err)
  end)

  it("refuses a service of the SDKs it leaves out with nil, err saying why", function()
    local res, err = c.kvs:put_kv{ table_name = "t" }
    assert.is_nil(res)
    assert.are.equal("validation", err.kind)
    assert.is_truthy(err.message:find("BSON", 1, true), err.message)
    local svc, why = services.load("kvs")
    assert.is_nil(svc)
    assert.is_truthy(why:find("client:request", 1, true))
  end)

  it("names the nearest operation", function()
    local ok, err = pcall(function() return c.ecs.list_server_details end)
    assert.is_false(ok)
    assert.is_truthy(err:find("did you mean 'list_servers_details'", 1, true), err)
  end)

  it("refuses a region no service knows, with the nearest one, unless endpoint says where", function()
    local r = hwcloud.client{ ak = "a", sk = "b", region = "cn-nort-4", project_id = "p" }
    local res, err = r.ecs:list_servers_details{}
    assert.is_nil(res)
    assert.are.equal("region", err.field)
    assert.is_truthy(err.message:find("did you mean 'cn-north-4'", 1, true), err.message)
    -- a global service with a host of its own: no region in it
    local config = require "hwcloud.config"
    local cfg = assert(config.new({ ak = "a", sk = "b", region = "ap-southeast-1" }, require "hwcloud.core"))
    assert.are.equal("https://ecs.ap-southeast-1.myhuaweicloud.com", config.endpoint(cfg, services.load("ecs")))
    assert.are.equal("https://bss.myhuaweicloud.com", config.endpoint(cfg, services.load("bss")))
  end)
end)

describe("the catalog's global services against the emulator #server", function()
  local emu
  setup(function() emu = emulator.start{} end)
  teardown(function() if emu then emu:stop() end end)

  it("signs a global service the index marks (BSS) with X-Domain-Id, not X-Project-Id", function()
    assert.is_true(index.fields.bss.global)
    assert.is_false(index.fields.ecs.global)
    -- the emulator's account and project ids
    local function sha32(x) return util.capture("printf %s " .. util.quote(x) .. " | sha256sum"):sub(1, 32) end
    local DOMAIN, PROJECT = sha32("domain:emulator-account"), sha32("project:cn-north-4")
    local c = hwcloud.client{ endpoint = emu.url, ak = emu.ak, sk = emu.sk, region = "cn-north-4",
                              domain_id = DOMAIN, project_id = PROJECT }
    -- the emulator checks the signature and the id headers, then answers
    -- (generically: no handler of its own serves these)
    assert(c.bss:list_cities{ province_code = "11" })
    assert(c.ecs:list_servers_details{ limit = 1 })
    -- the emulator names an operation by the version it routes it for
    local by = {}
    for _, e in ipairs(emu:identity_log()) do by[(e.operation:gsub("^(%w+)_v%d+%.", "%1."))] = e end
    assert.are.equal(DOMAIN, by["bss.list_cities"].domain_id)
    assert.is_nil(by["bss.list_cities"].project_id)
    assert.are.equal(PROJECT, by["ecs.list_servers_details"].project_id)
    assert.is_nil(by["ecs.list_servers_details"].domain_id)
  end)
end)
