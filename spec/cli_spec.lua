-- The hwcloud command, run as a person runs it: a child process aimed at the
-- bundled emulator, with the credentials in its environment. Checks exit
-- statuses (0 done, 1 refused by the cloud or the network, 2 usage or
-- validation), what stdout and stderr say, and, through the emulator's
-- counts, what was sent.

package.path = "./?.lua;" .. package.path

local cjson = require "cjson"
local emulator = require "spec.helpers.emulator"
local compat = require "spec.helpers.compat"

local q = emulator.quote
local PID = "3f2a1c0e9b8d4e6f8a7b6c5d4e3f2a1b"
local SECURITY_TOKEN = "cli-spec-security-token-7f3e9a"

describe("the hwcloud command #server", function()
  local emu
  local session = emulator.session({ job_seconds = 0.5, inventory = require "spec.fixtures.inventory" },
                                  nil, false)
  setup(function() emu = session.start() end)
  teardown(function() session.stop() end)
  before_each(function() emu:reset() end)

  -- Runs bin/hwcloud with `args` (a shell word list) and the emulator's
  -- credentials in the environment (`vars` adds or, with false, removes).
  -- Returns stdout, stderr, exit status.
  local function hw(args, vars)
    local env = {
      HUAWEICLOUD_SDK_AK = emu.ak, HUAWEICLOUD_SDK_SK = emu.sk,
      HUAWEICLOUD_SDK_PROJECT_ID = PID, HWCLOUD_ENDPOINT = emu.url,
      HUAWEICLOUD_SDK_CREDENTIALS_FILE = "/nonexistent",
    }
    for k, v in pairs(vars or {}) do env[k] = v or nil end
    local errfile = os.tmpname()
    local parts = { "cd " .. q(emulator.root) .. " && env",
                    "-u HUAWEICLOUD_SDK_AK -u HUAWEICLOUD_SDK_SK -u HUAWEICLOUD_SDK_PROJECT_ID",
                    "-u HUAWEICLOUD_SDK_SECURITY_TOKEN -u HUAWEICLOUD_SDK_REGION -u HWCLOUD_ENDPOINT",
                    "-u LUA_PATH -u LUA_CPATH", "LUA_INIT=" .. q(compat.lua_init) }
    for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. q(v) end
    parts[#parts + 1] = "bin/hwcloud " .. args .. " 2>" .. q(errfile) .. " </dev/null"
    local p = io.popen(table.concat(parts, " "))
    local out = p:read("*a")
    local _, _, code = p:close()
    local err = emulator.read_file(errfile) or ""
    os.remove(errfile)
    return out, err, code
  end

  local function json(out)
    local ok, v = pcall(cjson.decode, out)
    assert(ok, "not JSON: " .. out)
    return v
  end

  local function count(name)
    return emu:counts()[name] or 0
  end

  local function sent_nothing()
    assert.are.same({}, emu:counts())
  end

  local WORKSHOP = "mesh_id=m1 metadata.name=w1 spec.primaryCluster=c1 spec.ingress.elbId=elb1 "
    .. "spec.ingress.elbIp=192.0.2.10 spec.ingress.port=80"

  describe("ops and describe", function()
    it("ops lists the services, ops SERVICE its operations with method and path", function()
      local out, err, code = hw("ops")
      assert.equal(0, code, err)
      for _, s in ipairs { "asm", "codeartsbuild", "iam", "rts", "servicestage", "workspaceapp" } do
        assert.truthy(out:find("\n" .. s .. "\n", 1, true) or out:find("^" .. s .. "\n"), out)
      end
      out, err, code = hw("ops asm")
      assert.equal(0, code, err)
      assert.truthy(out:find("create_workshop%s+POST /v2/meshes/{mesh_id}/workshops"), out)
      assert.truthy(out:find("list_workshops%s+GET /v2/meshes/{mesh_id}/workshops"), out)
    end)

    it("describe gives method, path and every field with type, required, place and enum", function()
      local out, err, code = hw("describe asm create_workshop")
      assert.equal(0, code, err)
      assert.truthy(out:find("POST /v2/meshes/{mesh_id}/workshops", 1, true), out)
      assert.truthy(out:find("mesh_id%s+string%s+required%s+path"), out)
      assert.truthy(out:find("spec.ingress.port%s+integer%s+required"), out)
      assert.truthy(out:find("spec.ingress.imageAddress%s+string\n"), out)
      assert.truthy(out:find("response: object", 1, true), out)
      assert.truthy(out:find("metadata.uid%s+string"), out)
      out = hw("describe rts create_software_deployment")
      assert.truthy(out:find("status%s+string%s+one of: COMPLETE, IN_PROGRESS, FAILED"), out)
      out = hw("describe servicestage show_job")
      assert.truthy(out:find("show_job_info (alias show_job)", 1, true), out)
      assert.truthy(out:find("limit%s+string%s+query"), out)
      assert.truthy(out:find("tasks%[%]%.task_status%s+string"), out)
      out = hw("describe workspaceapp list_servers")
      assert.truthy(out:find("limit%s+integer%s+query"), out)
    end)

    it("describe and the API reference link each operation to its official page", function()
      local explorer = "https://console.huaweicloud.com/apiexplorer/#/openapi/"
      local out, err, code = hw("describe workspaceapp list_servers")
      assert.equal(0, code, err)
      assert.truthy(out:find("\nreference: " .. explorer .. "WORKSPACEAPP/doc?api=ListServers\n", 1, true), out)
      -- by an alias: the page of the operation it names
      out = hw("describe servicestage show_job")
      assert.truthy(out:find(explorer .. "SERVICESTAGE/doc?api=ShowJobInfo\n", 1, true), out)
      -- the SDK's own name, acronyms kept (not AddClientIdToOidcProviderV5)
      out = hw("describe iam add_client_id_to_oidc_provider_v5")
      assert.truthy(out:find(explorer .. "IAM/doc?api=AddClientIDToOIDCProviderV5\n", 1, true), out)
      local api = emulator.read_file(emulator.root .. "/doc/api/iam.md")
      assert.truthy(api:find("## keystone_list_projects\n\n[^#]-" .. (explorer .. "IAM/doc?api=KeystoneListProjects")
        :gsub("%p", "%%%0")), "no reference link in doc/api/iam.md")
    end)

    it("describe prints a recursive model once and names it, and ops lists aliases", function()
      local cli = require "hwcloud.cli"
      local node = { type = "object", fields = { name = { type = "string" } } }
      node.fields.children = { type = "array", items = node }
      local lines = cli.field_lines({ type = "object", fields = { tree = node } }, "", {}, {})
      local text = {}
      for i, l in ipairs(lines) do text[i] = l[1] .. " " .. l[2] end
      assert.are.same({ "tree object", "tree.children array of object",
                        "tree.children[].… (recursive: as tree)", "tree.name string" }, text)
      local svc = require("hwcloud.services").load("servicestage")
      local saved = svc.aliases
      svc.aliases = { show_job_alias = "show_job_info" }
      local buf = {}
      local sink = { write = function(_, s) buf[#buf + 1] = s end }
      local ok, code = pcall(cli.main, { "ops", "servicestage" }, { stdout = sink, stderr = sink })
      local code2 = ok and cli.main({ "describe", "servicestage", "show_job_alias" },
        { stdout = sink, stderr = sink })
      svc.aliases = saved
      assert.is_true(ok, tostring(code))
      assert.equal(0, code)
      assert.equal(0, code2)
      local out = table.concat(buf)
      assert.truthy(out:find("show_job_alias%s+%-> show_job_info"), out)
      assert.truthy(out:find("servicestage.show_job_info (alias show_job_alias)", 1, true), out)
    end)
  end)

  describe("call", function()
    it("types values from the description: booleans, integers, nested objects", function()
      local out, err, code = hw("call workspaceapp reinstall_server server_id=srv-1 "
        .. "update_access_agent=false --dry-run")
      assert.equal(0, code, err)
      assert.truthy(out:find('\n{"update_access_agent":false}\n', 1, true), out)
      out, err, code = hw("call workspaceapp list_servers limit=10 server_name=007 --dry-run")
      assert.equal(0, code, err)
      assert.truthy(out:find("?limit=10&server_name=007", 1, true), out)
      out, err, code = hw("call asm create_workshop " .. WORKSHOP)
      assert.equal(0, code, err)
      local w = json(out)
      assert.equal(80, w.spec.ingress.port)
      assert.equal("w1", w.metadata.name)
      assert.equal("c1", w.spec.primaryCluster)
      assert.equal(1, count("asm.create_workshop"))
    end)

    it("takes an array as a repeated field, and any JSON value after :=", function()
      local out, err, code = hw("call codeartsbuild update_notice job_id=j1 notice_type=mail "
        .. "enabled_event_type_names=build_success enabled_event_type_names=build_fail --dry-run")
      assert.equal(0, code, err)
      assert.truthy(out:find('"enabled_event_type_names":["build_success","build_fail"]', 1, true), out)
      out, err, code = hw("call rts create_software_deployment config_id=c1 server_id=s1 "
        .. [[input_values:='{"replicas":3}' status=IN_PROGRESS]])
      assert.equal(0, code, err)
      assert.equal(3, json(out).software_deployment.input_values.replicas)
    end)

    it("reads the request from --json, inline or @file; fields given after it win", function()
      local file = os.tmpname()
      emulator.write_file(file, cjson.encode { mesh_id = "m1", metadata = { name = "from-file" },
        spec = { primaryCluster = "c1", ingress = { elbId = "e", elbIp = "192.0.2.1", port = 8080 } } })
      local out, err, code = hw("call asm create_workshop --json @" .. q(file) .. " mesh_id=m2")
      os.remove(file)
      assert.equal(0, code, err)
      local w = json(out)
      assert.equal("from-file", w.metadata.name)
      assert.equal(8080, w.spec.ingress.port)
      out, err, code = hw("call asm list_workshops --json '{\"mesh_id\":\"m2\"}'")
      assert.equal(0, code, err)
      assert.equal("from-file", json(out)[1].workshop.metadata.name)
      err, code = select(2, hw("call asm list_workshops --json '{\"mesh_id\":'"))
      assert.equal(2, code)
      assert.truthy(err:find("--json: not valid JSON", 1, true), err)
      err, code = select(2, hw("call asm list_workshops --json @/nonexistent/x.json"))
      assert.equal(2, code)
      assert.truthy(err:find("cannot read /nonexistent/x.json", 1, true), err)
    end)

    it("validates before sending, with the library's errors: exit 2, nothing sent", function()
      local _, err, code = hw("call asm create_workshop mesh_id=m1 metadata.name=w1 "
        .. "spec.primaryCluster=c1 spec.ingress.elbId=e spec.ingress.elbIp=i spec.ingress.port=eighty")
      assert.equal(2, code)
      assert.equal("hwcloud: asm.create_workshop: validation: field 'spec.ingress.port': "
        .. "expected integer, got string\n", err)
      _, err, code = hw("call workspaceapp reinstall_server server_id=s1 update_access_agent=yes")
      assert.equal(2, code)
      assert.truthy(err:find("field 'update_access_agent': expected boolean, got string", 1, true), err)
      _, err, code = hw("call workspaceapp reinstall_server")
      assert.equal(2, code)
      assert.truthy(err:find("field 'server_id': is required", 1, true), err)
      _, err, code = hw("call workspaceapp reinstall_server server_id=s1 update_acces_agent=true")
      assert.equal(2, code)
      assert.truthy(err:find("update_acces_agent", 1, true) and err:find("did you mean", 1, true), err)
      _, err, code = hw("call rts create_software_deployment config_id=c server_id=s status=DONE")
      assert.equal(2, code)
      assert.truthy(err:find("field 'status'", 1, true), err)
      sent_nothing()
    end)

    it("prints the cloud's refusal in one line with the request id: exit 1", function()
      assert.equal(0, select(3, hw("call asm create_workshop " .. WORKSHOP)))
      local out, err, code = hw("call asm create_workshop " .. WORKSHOP)
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:match("^hwcloud: asm.create_workshop: http 409 ASM.01010003: .- %(request id %x+%)\n$"),
        err)
      out, err, code = hw("call asm list_workshops mesh_id=m1 --retries 0",
        { HWCLOUD_ENDPOINT = "http://127.0.0.1:1" })
      assert.equal(1, code)
      assert.equal("", out)
      assert.truthy(err:find("^hwcloud: asm.list_workshops: transport"), err)
    end)

    it("--wait waits for the job it started, progress on stderr, exit 0", function()
      local out, err, code = hw("call servicestage deliver_addon_job environment_id=e addon_id=a1 "
        .. "action=redeploy --wait")
      assert.equal(0, code, err)
      local job = json(out)
      assert.equal("SUCCEEDED", job.job.EXECUTION_STATUS)
      assert.truthy(err:find("servicestage job JOB[%w-]+: SUCCEEDED %(%d+%.%d s%)\n"), err)
      assert.is_nil(err:find("\r", 1, true))
      assert.is_true(count("servicestage.show_job") >= 1)
      out, err, code = hw("call workspaceapp reinstall_server server_id=srv-q --wait --quiet")
      assert.equal(0, code, err)
      assert.equal("", err)
      assert.equal("SUCCESS", json(out).status)
    end)

    it("--wait on a job that fails: the job on stdout, its reason on stderr, exit 1", function()
      emu:fail { "srv-bad" }
      local out, err, code = hw("call workspaceapp reinstall_server server_id=srv-bad --wait")
      assert.equal(1, code, err)
      assert.equal("FAILED", json(out).status)
      assert.truthy(err:find("workspaceapp job %d+: FAILED"), err)
      assert.truthy(err:find("hwcloud: workspaceapp.show_job_detail: job_failed FAILED: workspaceapp job %d+ "
        .. "ended FAILED: WKS.00010500: Reinstalling server srv%-bad failed"), err)
    end)

    it("--wait on an operation that starts no job is a usage error", function()
      local _, err, code = hw("call asm list_workshops mesh_id=m1 --wait")
      assert.equal(2, code)
      assert.truthy(err:find("does not start a job", 1, true), err)
      sent_nothing()
    end)

    it("--all follows the pages and prints each item once", function()
      -- the emulator's inventory has more servers than one page of 2
      local out, err, code = hw("call workspaceapp list_servers --all limit=2")
      assert.equal(0, code, err)
      local list = json(out).items
      assert.is_true(#list > 2, out)
      local ids, n = {}, 0
      for _, d in ipairs(list) do
        if not ids[d.id] then n = n + 1 end
        ids[d.id] = true
      end
      assert.equal(#list, n)
      assert.is_true(count("workspaceapp.list_servers") >= 2)
      local _, err2, code2 = hw("call asm list_workshops mesh_id=m1 --all")
      assert.equal(2, code2)
      assert.truthy(err2:find("has no pages to follow", 1, true), err2)
    end)

    it("--all stops at a page that fails and exits with its error", function()
      emu:fault { operation = "workspaceapp.list_servers", status = 400, count = 1,
                  body = { error_code = "WKS.0001", error_msg = "bad page" } }
      local out, err, code = hw("call workspaceapp list_servers --all limit=2")
      assert.are_not.equal(0, code, out)
      assert.truthy(err:find("WKS.0001", 1, true), err)
      assert.equal("", out)
    end)

    it("--dry-run prints the signed request with the signature masked and sends nothing", function()
      local out, err, code = hw("call workspaceapp reinstall_server server_id=srv-1 "
        .. "update_access_agent=true --dry-run")
      assert.equal(0, code, err)
      local lines = {}
      for l in out:gmatch("[^\n]*") do lines[#lines + 1] = l end
      assert.equal("POST " .. emu.url .. "/v1/" .. PID .. "/app-servers/srv-1/actions/reinstall", lines[1])
      assert.truthy(out:find("\nAuthorization: SDK%-HMAC%-SHA256 Access=" .. emu.ak .. ", SignedHeaders="
        .. "content%-type;host;x%-project%-id;x%-sdk%-date, Signature=%*%*%*%*\n"), out)
      assert.truthy(out:find("\nContent-Type: application/json\n", 1, true), out)
      assert.truthy(out:find("\nX-Project-Id: " .. PID .. "\n", 1, true), out)
      assert.truthy(out:find("\nX%-Sdk%-Date: %d+T%d+Z\n"), out)
      assert.is_nil(out:find(("%x"):rep(64)), out)
      sent_nothing()
    end)

    -- the dry run's text: method, URL, headers (names lower-cased), body
    local function dry_request(out)
      local method, url, rest = out:match("^(%u+) (%S+)\n(.*)$")
      assert(method, out)
      local headers, body = {}, nil
      local head, tail = rest:match("^(.-)\n\n(.*)\n$")
      if head then body = tail else head = rest end
      for line in head:gmatch("[^\n]+") do
        local k, v = line:match("^([^:]+): (.*)$")
        headers[k:lower()] = v
      end
      return { method = method, url = url, headers = headers, body = body }
    end

    -- runs `args` with --dry-run, then for real, and compares the dry run
    -- with what the emulator received
    local function same_as_sent(args, vars)
      local out, err, code = hw(args .. " --dry-run", vars)
      assert.equal(0, code, err)
      sent_nothing()
      local dry = dry_request(out)
      out, err, code = hw(args, vars)
      assert.equal(0, code, err)
      local log = emu:log()
      assert.equal(1, #log)
      local real = log[1]
      assert.equal(real.method, dry.method)
      assert.equal(emu.url .. real.path .. (real.query ~= "" and "?" .. real.query or ""), dry.url)
      assert.equal(real.body ~= cjson.null and real.body or nil, dry.body)
      local signed = real.headers.authorization:match("SignedHeaders=([^,]+)")
      assert.truthy(signed, real.headers.authorization)
      -- every signed header, and the rest of what was shown, as it was sent
      for name in signed:gmatch("[^;]+") do
        assert.truthy(dry.headers[name], name .. " missing from the dry run:\n" .. out)
      end
      for name, v in pairs(dry.headers) do
        if name == "x-sdk-date" then
          assert.truthy(real.headers[name]:match("^%d+T%d+Z$"), real.headers[name])
        else
          assert.equal(real.headers[name], v, name)
        end
      end
      return dry, real
    end

    it("--dry-run shows the request the call sends: a regional service", function()
      local dry = same_as_sent("call workspaceapp list_servers limit=10")
      assert.equal(PID, dry.headers["x-project-id"])
      assert.equal("application/json", dry.headers["content-type"])
      assert.truthy(dry.headers["user-agent"]:find("^hwcloud/"))
      assert.truthy(dry.headers.authorization:find("^SDK%-HMAC%-SHA256 Access=" .. emu.ak
        .. ", SignedHeaders=[%w;-]+, Signature=%*%*%*%*$"), dry.headers.authorization)
      emu:reset()
      same_as_sent("call workspaceapp reinstall_server server_id=srv-1 update_access_agent=true")
    end)

    it("--dry-run shows the request the call sends: a global service", function()
      -- the emulator's account: its domain id is the sha256 of this name
      local util = require "spec.helpers.util"
      local domain = util.capture("printf %s domain:emulator-account | sha256sum"):sub(1, 32)
      local dry = same_as_sent("call iam keystone_list_projects",
        { HUAWEICLOUD_SDK_DOMAIN_ID = domain })
      assert.equal(domain, dry.headers["x-domain-id"])
      assert.is_nil(dry.headers["x-project-id"])
    end)
  end)

  describe("wait", function()
    local function start(server)
      local out, err, code = hw("call workspaceapp reinstall_server server_id=" .. server)
      assert.equal(0, code, err)
      return json(out).job_id
    end

    it("waits for every job: exit 0 when all succeed", function()
      local a, b = start("srv-a"), start("srv-b")
      local out, err, code = hw("wait workspaceapp " .. a .. " " .. b)
      assert.equal(0, code, err)
      local res = json(out)
      assert.equal("SUCCESS", res[a].status)
      assert.equal("SUCCESS", res[b].status)
      assert.truthy(err:find("workspaceapp: 2 jobs: 2 SUCCESS", 1, true), err)
    end)

    it("exits 1 when one fails, saying which", function()
      emu:fail { "srv-x" }
      local a, b = start("srv-ok"), start("srv-x")
      local out, err, code = hw("wait workspaceapp " .. a .. " " .. b)
      assert.equal(1, code, err)
      local res = json(out)
      assert.equal("SUCCESS", res[a].status)
      assert.equal("FAILED", res[b].status)
      assert.truthy(err:find("workspaceapp job " .. b .. " ended FAILED", 1, true), err)
      err, code = select(2, hw("wait asm x"))
      assert.equal(2, code)
      assert.truthy(err:find("asm has no jobs to wait for", 1, true), err)
      code = select(3, hw("wait workspaceapp"))
      assert.equal(2, code)
    end)
  end)

  describe("request", function()
    it("reaches a service the catalog lacks, and endpoints names where each one is", function()
      local out, err, code = hw("request GET /v1/{project_id}/things --service nosuchsvc --dry-run")
      assert.equal(0, code, err)
      assert.truthy(out:find("^GET " .. emu.url:gsub("%p", "%%%0") .. "/v1/" .. PID .. "/things\n"), out)
      out, err, code = hw("endpoints ecs nosuchsvc workspaceapp", { HWCLOUD_ENDPOINT = false,
        HUAWEICLOUD_SDK_REGION = "cn-north-4" })
      assert.equal(0, code, err)
      assert.equal("ecs  https://ecs.cn-north-4.myhuaweicloud.com\n"
        .. "nosuchsvc  https://nosuchsvc.cn-north-4.myhuaweicloud.com\n"
        .. "workspaceapp  https://appstream.cn-north-4.myhuaweicloud.com\n", out)
      out, err, code = hw("endpoints nosuchsvc")
      assert.equal(0, code, err)
      assert.equal("nosuchsvc  " .. emu.url .. "\n", out)
      err, code = select(2, hw("endpoints Bad"))
      assert.equal(2, code)
      assert.truthy(err:find("'Bad' is not a service name", 1, true), err)
      sent_nothing()
    end)

    it("--dry-run signs the generic request and sends nothing", function()
      local out, err, code = hw("request get /v1/{project_id}/software_deployments --service rts "
        .. "--query server_id=s1 --query limit=5 --dry-run")
      assert.equal(0, code, err)
      assert.truthy(out:find("^GET " .. emu.url:gsub("%p", "%%%0") .. "/v1/" .. PID
        .. "/software_deployments%?limit=5&server_id=s1\n"), out)
      assert.truthy(out:find("Signature=****", 1, true), out)
      sent_nothing()
      local _, err2, code2 = hw("request GET /x")
      assert.equal(2, code2)
      assert.truthy(err2:find("--service", 1, true), err2)
    end)

    local client = require("hwcloud").client { endpoint = "http://127.0.0.1:1", ak = "a", sk = "b" }
    local has_request = pcall(function() return client.request end)
    local check = has_request and it or pending
    check("sends the generic request with the client's signature", function()
      assert.equal(0, select(3, hw("call rts create_software_deployment config_id=c1 server_id=s1")))
      local out, err, code = hw("request GET /v1/{project_id}/software_deployments --service rts")
      assert.equal(0, code, err)
      assert.equal(1, #json(out).software_deployments)
    end)
  end)

  describe("run", function()
    it("runs a script with a ready client and its arguments as varargs, and its exit status", function()
      local file = os.tmpname()
      emulator.write_file(file, [[
        local client, server, status = ...
        assert(_G.client == nil, "no global client")
        local job = assert(client.workspaceapp:reinstall_server{ server_id = server })
        local final = assert(client:wait(job, { interval = 0.1 }))
        print(server, final.status, arg[1], #arg)
        return tonumber(status)
      ]])
      local out, err, code = hw("run " .. q(file) .. " srv-run 3")
      assert.equal(3, code, err)
      assert.equal("srv-run\tSUCCESS\tsrv-run\t2\n", out)
      emulator.write_file(file, "error('the script gave up')")
      err, code = select(2, hw("run " .. q(file)))
      os.remove(file)
      assert.equal(1, code)
      assert.truthy(err:find("the script gave up", 1, true), err)
      -- an exit status is taken mod 256: every non-zero integer exits non-zero
      for _, status in ipairs { 256, 512, -256 } do
        emulator.write_file(file, "return " .. status)
        err, code = select(2, hw("run " .. q(file)))
        assert.equal(1, code, status .. ": " .. err)
      end
      emulator.write_file(file, "return 0")
      assert.equal(0, select(3, hw("run " .. q(file))))
      os.remove(file)
      err, code = select(2, hw("run /nonexistent/script.lua"))
      assert.equal(2, code)
      assert.truthy(err:find("/nonexistent/script.lua", 1, true), err)
    end)
  end)

  describe("usage", function()
    it("--version prints the version; help names every source of credentials", function()
      local out, err, code = hw("--version")
      assert.equal(0, code, err)
      assert.equal("hwcloud " .. require("hwcloud.core").version .. "\n", out)
      out = hw("help")
      for _, source in ipairs { "--profile", "HUAWEICLOUD_SDK_AK", "[basic]", "metadata service" } do
        assert.truthy(out:find(source, 1, true), source .. " not in:\n" .. out)
      end
    end)

    it("names a bad HWCLOUD_ENDPOINT as that variable, a bad --endpoint as the option", function()
      local _, err, code = hw("call workspaceapp list_servers --dry-run", { HWCLOUD_ENDPOINT = "emu:1" })
      assert.equal(2, code)
      assert.truthy(err:find("field 'HWCLOUD_ENDPOINT'", 1, true), err)
      _, err, code = hw("call workspaceapp list_servers --dry-run --endpoint emu:1")
      assert.equal(2, code)
      assert.truthy(err:find("field 'endpoint'", 1, true), err)
    end)

    it("exits 2 with one line on stderr for every kind of bad command line", function()
      local cases = {
        { "", "usage: hwcloud COMMAND" },
        { "cal asm", "unknown command 'cal' (did you mean 'call'?)" },
        { "call asm list_workshops --wiat", "unknown option '--wiat' (did you mean '--wait'?)" },
        { "call asm list_workshops --region", "option --region needs a value" },
        { "ops --dry-run", "option --dry-run does not apply to ops" },
        { "call asmm list_workshops", "unknown service 'asmm' (did you mean 'asm'?)" },
        { "call asm list_workshop", "asm has no operation 'list_workshop' (did you mean 'list_workshops'?)" },
        { "call asm list_workshops mesh_id", "expected field=value, got 'mesh_id'" },
        { "call asm list_workshops mesh_id=a mesh_id=b", "field 'mesh_id' is set twice" },
        { "call asm list_workshops mesh_id=a --timeout soon", "option --timeout: expected a number" },
        { "call asm list_workshops mesh_id=a --wait --wait", "option --wait given twice" },
        { "describe asm", "an operation of asm is needed" },
      }
      for _, c in ipairs(cases) do
        local out, err, code = hw(c[1])
        assert.equal(2, code, c[1] .. ": " .. err)
        assert.equal("", out, c[1])
        assert.truthy(err:find(c[2], 1, true), c[1] .. ": " .. err)
      end
      -- no credentials anywhere: the chain ends at a metadata service that
      -- is not there, and the error names every source tried
      local _, err, code = hw("call asm list_workshops mesh_id=m1",
        { HUAWEICLOUD_SDK_AK = false, HUAWEICLOUD_SDK_SK = false, HOME = "/nonexistent",
          HWCLOUD_METADATA_ENDPOINT = "http://127.0.0.1:9" })
      assert.equal(2, code)
      assert.truthy(err:find("field 'credentials': no credentials found", 1, true), err)
      sent_nothing()
    end)

    it("--help works everywhere and says how each command is used", function()
      for _, c in ipairs { "", "ops", "describe", "call", "wait", "request", "run", "completion" } do
        local out, err, code = hw(c .. " --help")
        assert.equal(0, code, err)
        assert.truthy(out:find("usage: hwcloud " .. (c == "" and "COMMAND" or c), 1, true), c .. ": " .. out)
        assert.truthy(out:find("--endpoint URL", 1, true), out)
      end
      local out, _, code = hw("call asm create_workshop -h")
      assert.equal(0, code)
      assert.truthy(out:find("spec.ingress.port=80", 1, true), out)
      sent_nothing()
    end)
  end)

  describe("secrets", function()
    it("a short secret is masked where it stands, not inside every word", function()
      local out, err, code = hw("call asm list_workshops mesh_id=S --dry-run", { HUAWEICLOUD_SDK_SK = "S" })
      assert.equal(0, code, err)
      assert.truthy(out:find("/v2/meshes/****/workshops", 1, true), out)
      assert.truthy(out:find("\nAuthorization: SDK%-HMAC%-SHA256 Access=" .. emu.ak
        .. ", SignedHeaders=[%w;-]+, Signature=%*%*%*%*\n"), out)
      assert.truthy(out:find("\nX-Sdk-Date: ", 1, true), out)
    end)

    it("never appear in any output: dry runs, answers, errors, profiles", function()
      local creds = os.tmpname()
      emulator.write_file(creds, ("[basic]\nak = nope\nsk = nope-secret\n\n[emu]\nak = %s\nsk = %s\n"
        .. "security_token = %s\nproject_id = %s\n"):format(emu.ak, emu.sk, SECURITY_TOKEN, PID))
      local vars = { HUAWEICLOUD_SDK_AK = false, HUAWEICLOUD_SDK_SK = false,
                     HUAWEICLOUD_SDK_PROJECT_ID = false, HUAWEICLOUD_SDK_CREDENTIALS_FILE = creds }
      emu:fault { operation = "asm.list_workshops", count = 1, status = 500,
                  body = { errorCode = "ASM.0500", errorMsg = "echo " .. emu.sk } }
      local runs = {
        "call workspaceapp reinstall_server server_id=s1 --dry-run --profile emu",
        "call iam create_token --json " .. q(cjson.encode { auth = { identity = {
          methods = { "password" }, password = { user = { name = "u", password = "hunter2-pass",
          domain = { name = "d" } } } }, scope = { project = { name = "cn-north-4" } } } })
          .. " --dry-run --profile emu",
        "call asm list_workshops mesh_id=" .. q(emu.sk) .. " --profile emu --retries 0",
        "call workspaceapp reinstall_server server_id=s1 --wait --profile emu",
        "call asm list_workshops mesh_id=" .. q(SECURITY_TOKEN) .. " --dry-run --profile emu",
      }
      local all = {}
      for _, r in ipairs(runs) do
        local out, err, code = hw(r, vars)
        assert.is_true(code == 0 or code == 1, r .. ": " .. err)
        all[#all + 1] = out .. err
      end
      local text = table.concat(all, "\n")
      assert.truthy(text:find("X-Security-Token: ****", 1, true), text)
      -- a secret given as a value is masked where it shows
      assert.truthy(text:find("/v2/meshes/****/workshops", 1, true), text)
      assert.truthy(text:find('"password":"****"', 1, true), text)
      assert.truthy(text:find("http 500 ASM.0500", 1, true), text)
      assert.truthy(text:find('"status":"SUCCESS"', 1, true), text)
      for _, secret in ipairs { emu.sk, SECURITY_TOKEN, "hunter2-pass", "nope-secret" } do
        assert.is_nil(text:find(secret, 1, true), secret .. " printed:\n" .. text)
      end
      local _, err, code = hw("call asm list_workshops mesh_id=m1 --profile missing", vars)
      assert.equal(2, code)
      os.remove(creds)
      assert.truthy(err:find("no [missing] section", 1, true), err)
    end)
  end)

  describe("output and completion", function()
    it("--query selects from the answer, --output prints it as json, table or tsv", function()
      local out, err, code = hw("call workspaceapp list_servers")
      assert.equal(0, code, err)
      local all = json(out)
      assert.truthy(#all.items > 1, out)
      local ids = {}
      for i, it in ipairs(all.items) do ids[i] = it.id end
      out, err, code = hw("call workspaceapp list_servers --query 'items[].id'")
      assert.equal(0, code, err)
      assert.are.same(ids, json(out))
      out = hw("call workspaceapp list_servers --query count")
      assert.equal(string.format("%d\n", all.count), out)
      out = hw("call workspaceapp list_servers --query 'items[0].id'")
      assert.equal('"' .. ids[1] .. '"\n', out)
      -- an empty list is a list
      out, err, code = hw("call workspaceapp list_servers --query 'items[].no_such_field'")
      assert.equal(0, code, err)
      assert.equal("[]\n", out)
      out = hw("call workspaceapp list_servers --query 'items[].id' --output tsv")
      assert.equal(table.concat(ids, "\n") .. "\n", out)
      out = hw("call workspaceapp list_servers --query 'items[]' --output tsv")
      local first = select(2, out:gsub("\t", ""))
      assert.truthy(first > 0, out)
      out, err, code = hw("call workspaceapp list_servers --query items --output table")
      assert.equal(0, code, err)
      local lines = {}
      for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.equal(#ids + 2, #lines, out)
      assert.truthy(lines[1]:find("^id%s+machine_name%s"), lines[1])
      assert.truthy(lines[2]:find("^%-+  %-+"), lines[2])
      err, code = select(2, hw("call workspaceapp list_servers --output xml"))
      assert.equal(2, code)
      assert.truthy(err:find("--output: expected json, table or tsv", 1, true), err)
      err, code = select(2, hw("call workspaceapp list_servers --query 'items[x]'"))
      assert.equal(2, code)
      assert.truthy(err:find("must be [] or [N]", 1, true), err)
    end)

    it("prints an empty list as [] where no schema says it is one", function()
      -- request: the answer has no description
      local out, err, code = hw("request GET /v1/{project_id}/software_deployments --service rts")
      assert.equal(0, code, err)
      assert.equal('{"software_deployments":[]}\n', out)
      -- --query leaves the operation's schema behind
      out, err, code = hw("call rts list_software_deployments --query software_deployments")
      assert.equal(0, code, err)
      assert.equal("[]\n", out)
      out, err, code = hw("call rts list_software_deployments --output table")
      assert.equal(0, code, err)
      assert.equal("software_deployments  []\n", out)
    end)

    it("indents JSON on a terminal and keeps it on one line otherwise", function()
      local cli = require "hwcloud.cli"
      local v = { b = { 1, 2 }, a = "x", e = {} }
      assert.equal('{"a":"x","b":[1,2],"e":{}}', cli.encode(v))
      assert.equal('{\n  "a": "x",\n  "b": [\n    1,\n    2\n  ],\n  "e": []\n}',
        cli.encode(v, true, { type = "object", fields = { e = { type = "array" } } }))
      assert.equal(0, select(3, hw("call asm create_workshop " .. WORKSHOP)))
      local creds = os.tmpname()
      emulator.write_file(creds, ("[emu]\nak = %s\nsk = %s\n"):format(emu.ak, emu.sk))
      local buf = {}
      local sink = { write = function(_, s) buf[#buf + 1] = s end }
      local code = cli.main({ "call", "asm", "list_workshops", "mesh_id=m1", "--profile", "emu",
                              "--project-id", PID }, {
        stdout = sink, stderr = sink, isatty = function() return true end,
        getenv = function(k)
          return ({ HUAWEICLOUD_SDK_CREDENTIALS_FILE = creds, HWCLOUD_ENDPOINT = emu.url })[k]
        end,
      })
      os.remove(creds)
      local out = table.concat(buf)
      assert.equal(0, code, out)
      assert.truthy(out:find('^%[\n  {\n    "workshop": {\n      "description": null,\n'), out)
    end)

    it("completes only the options the command takes", function()
      local function words(line)
        local out = hw("completion --words " .. line)
        local set = {}
        for w in out:gmatch("[^\n]+") do set[w] = true end
        return set
      end
      local ops = words("ops --")
      assert.truthy(ops["--region"])
      for _, o in ipairs { "--dry-run", "--json", "--wait", "--all", "--journal", "--service" } do
        assert.is_nil(ops[o], o .. " offered to ops")
      end
      local call = words("call workspaceapp list_servers --")
      for _, o in ipairs { "--dry-run", "--json", "--all", "--query", "--output", "--region" } do
        assert.truthy(call[o], o .. " not offered to call")
      end
      assert.is_nil(call["--service"])
      assert.truthy(words("request GET /x --service")["--service"])
      assert.are.same({ json = true, table = true, tsv = true }, words("call --output ''"))
    end)

    it("completes commands, operations, fields and enum values in bash", function()
      local out = hw("completion bash")
      assert.equal(emulator.read_file(emulator.root .. "/contrib/hwcloud.bash"), out)
      local script = os.tmpname()
      emulator.write_file(script, out .. [[
        t() { COMP_LINE=$1; COMP_POINT=${#1}; _hwcloud; printf '%s,' "${COMPREPLY[@]}"; echo; }
        t 'hwcloud des'
        t 'hwcloud call asm create_w'
        t 'hwcloud call asm create_workshop spec.ingress.e'
        t 'hwcloud call rts create_software_deployment status=IN'
        t 'hwcloud call --reg'
      ]])
      local p = io.popen("cd " .. q(emulator.root) .. " && PATH=\"$PWD/bin:$PATH\" bash "
        .. q(script) .. " 2>&1")
      local res = p:read("*a")
      p:close()
      os.remove(script)
      assert.equal("describe,\ncreate_workshop,\nspec.ingress.elbId=,spec.ingress.elbIp=,\n"
        .. "IN_PROGRESS,\n--region,\n", res)
    end)
  end)
end)
