-- What hwcloud sends for an operation is what the official SDK sends for the
-- same request. spec/fixtures/wire/ holds, for every service version of the
-- catalog that the official Python SDK has, a request per operation with a
-- value in every field and what the SDK put on the wire for it
-- (tools/capture_wire.py). Each request is sent again through hwcloud's own
-- call path (a recording client: validation, marshalling, signing, the
-- headers of call.lua) and the two compared: method, path, query, JSON
-- body, Content-Type, X-Project-Id / X-Domain-Id and the header fields.
--
-- `make check` compares a sample (the seed services and the most used
-- others); `make test` every service version (the rest are tagged #slow).
-- The differences kept on purpose are in DIFFERENT below, each with its
-- reason, and in spec/fixtures/wire/README.md; an entry that no longer
-- differs fails too, so the list stays true.

local wire = require "spec.helpers.wire"
local services = require "hwcloud.services"
local util = require "spec.helpers.util"

local SAMPLE = {
  asm_v1 = true, codeartsbuild_v3 = true, iam_v3 = true, iam_v5 = true, servicestage_v2 = true,
  servicestage_v3 = true, workspaceapp_v1 = true,
  ecs_v2 = true, elb_v3 = true, cce_v3 = true, vpc_v2 = true, vpc_v3 = true,
}

-- "<service>_<version>.<operation>" -> why hwcloud's wire differs
local AAD = "the SDK signs AAD for a domain, fills no {project_id} and sends it literally"
local TRUE = "a boolean header field: the Python SDK sends Python's True, hwcloud true (as Go)"
local TABLE = "a table in a query or path parameter: the SDK sends its print-out, hwcloud refuses it"
local DIFFERENT = {
  ["aad_v1.add_black_white_ip_list"] = AAD,
  ["aad_v1.create_domain"] = AAD,
  ["aad_v1.delete_black_white_ip_list"] = AAD,
  ["aad_v1.list_source_ips"] = AAD,
  ["aad_v1.modify_domain_web_switch"] = AAD,
  ["aad_v1.set_cert_for_domain"] = AAD,
  ["eihealth_v1.batch_cancel_job"] = TRUE,
  ["eihealth_v1.delete_project"] = TRUE,
  ["eihealth_v1.show_data"] = TRUE,
  ["eihealth_v1.show_workflow"] = TRUE,
  ["functiongraph_v2.show_workflow_execution"] = TRUE,
  ["geip_v3.disassociate_instance"] = TRUE,
  ["versatile_v1.run_agent"] = TRUE,
  ["versatile_v1.run_workflow"] = TRUE,
  ["cc_v3.list_central_network_policies"] = TABLE,
  ["config_v1.list_resources"] = TABLE,
  ["rc_v1.list_resources"] = TABLE,
  ["rms_v1.list_resources"] = TABLE,
  ["rds_v3.list_off_site_instances"] = TABLE,
  ["octopus_v2.delete_sim_extensions"] = TABLE,
  ["iam_v3.keystone_create_user_token_by_password"] =
    "hwcloud asks for a password token without AK/SK credentials, so without X-Domain-Id",
}

-- the operations README.md lists as not compared (not JSON), from its list
local function readme_excluded()
  local text = assert(util.read_file(util.root .. "/spec/fixtures/wire/README.md"))
  local list = {}
  local section = text:match("\n## Not compared: not JSON\n(.*)$") or ""
  for key in section:gmatch("\n%- `([%w_]+%.[%w_]+)`") do list[key] = true end
  return list
end

describe("on the wire, as the official Python SDK", function()
  local names = wire.names()
  local excluded_all, seen_all = {}, 0

  it("has a fixture for every service version of the catalog the Python SDK has", function()
    assert.is_true(#names > 200, #names .. " fixtures")
    for _, n in ipairs(names) do assert.is_true(services.known(n), n) end
  end)

  for _, name in ipairs(names) do
    local tag = SAMPLE[name] and "" or " #slow"
    it(name .. ": every operation described under its name, the wire the same" .. tag, function()
      local res = wire.compare(name)
      seen_all = seen_all + 1
      if res.head.not_captured then
        -- nothing the SDK sends with AK/SK; the service is still described
        assert.is_true(services.load(name) ~= nil)
        return
      end
      assert.are.same({}, res.missing)
      local diffs, documented = {}, {}
      for _, d in ipairs(res.diffs) do
        local key = d:match("^([^:]+):")
        if DIFFERENT[key] then documented[key] = true else diffs[#diffs + 1] = d end
      end
      assert.are.same({}, diffs)
      for key in pairs(DIFFERENT) do
        if key:match("^([^.]+)") == name then assert.is_true(documented[key], key .. " no longer differs") end
      end
      assert.is_true(res.checked > 0 or next(res.excluded) ~= nil)
      for op, why in pairs(res.excluded) do excluded_all[name .. "." .. op] = why end
    end)
  end

  it("the operations not compared (not JSON) are the ones README.md lists #slow", function()
    -- every fixture was compared above (make test runs them all)
    assert.equal(#names, seen_all)
    local listed = readme_excluded()
    local missing, stale = {}, {}
    for k in pairs(excluded_all) do if not listed[k] then missing[#missing + 1] = k end end
    for k in pairs(listed) do if not excluded_all[k] then stale[#stale + 1] = k end end
    table.sort(missing)
    table.sort(stale)
    assert.are.same({ {}, {} }, { missing, stale })
  end)
end)
