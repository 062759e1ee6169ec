-- Waiting across the cloud: every job family's starter and poll against a
-- loopback server (spec/helpers/script_server.lua) that walks the answers
-- of the SDK response models through their states: success, failure with
-- the service's reason, batches, a job that does not exist; then the named
-- waiters and the table form. Polls stop at the end state and the starting
-- request is sent once.

package.path = "./?.lua;" .. package.path

local util = require "spec.helpers.util"
local hwcloud = require "hwcloud"
local services = require "hwcloud.services"
local cjson = require "cjson"
local http = require "socket.http"
local ltn12 = require "ltn12"

local PID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
local FAST = { interval = 0.01, max_interval = 0.02, timeout = 10 }

describe("waiting across the cloud #server", function()
  local work, pid, base, client

  local function control(path, body)
    local out = {}
    local text = body and cjson.encode(body) or ""
    local _, code = http.request {
      url = base .. path, method = "POST", sink = ltn12.sink.table(out),
      source = ltn12.source.string(text),
      headers = { ["content-length"] = #text, ["content-type"] = "application/json" },
    }
    assert(code == 200, "script server " .. path .. ": " .. tostring(code))
    return cjson.decode(table.concat(out))
  end
  local function requests()
    local body = assert(http.request(base .. "/_script/log"))
    return cjson.decode(body).requests
  end
  local function count(prefix)
    local n = 0
    for _, r in ipairs(requests()) do if r:sub(1, #prefix) == prefix then n = n + 1 end end
    return n
  end
  -- the route of an operation: its method and path with the request's
  -- path fields (and the project) filled in
  local function route(service, operation, req)
    local op = assert(services.operation(assert(services.load(service)), operation))
    local path = op.path:gsub("{([%w_]+)}", function(k)
      if k == "project_id" then return PID end
      return assert(req[k], "no " .. k)
    end)
    return op.method .. " " .. path
  end
  local function answers(list)
    local out = {}
    for i, b in ipairs(list) do out[i] = { status = 200, body = b } end
    return out
  end

  setup(function()
    work = util.tmpdir("waiters")
    local portfile = work .. "/port"
    assert(util.sh("lua5.4 spec/helpers/script_server.lua " .. util.quote(portfile) .. " 2>"
      .. util.quote(work .. "/err") .. " & echo $! > " .. util.quote(work .. "/pid")))
    for _ = 1, 200 do
      if util.read_file(portfile) then break end
      util.sleep(0.025)
    end
    local port = assert(tonumber(util.read_file(portfile)), "the script server did not start: "
      .. tostring(util.read_file(work .. "/err")))
    pid = tonumber(util.read_file(work .. "/pid"))
    base = "http://127.0.0.1:" .. port
    client = assert(hwcloud.client { endpoint = base, ak = "WAITERSTESTAK0000001",
      sk = "waiters-test-secret", project_id = PID, domain_id = "d0a1b2c3d4e5f60718293a4b5c6d7e8f",
      region = "cn-north-4", retry_base = 0.01, progress = false })
  end)
  teardown(function()
    if client then client:close() end
    if pid then util.sh("kill " .. pid .. " 2>/dev/null") end
    if work then util.rmdir(work) end
  end)
  before_each(function() control("/_script/reset") end)

  -- start(service, operation, request, answer, poll route, poll answers)
  -- -> the marked result; the script set for both
  local function start(f)
    local script = {}
    script[route(f.service, f.op, f.req)] = answers { f.answer }
    script[f.poll] = f.states and answers(f.states) or f.raw
    control("/_script/set", script)
    local svc = client[f.service]
    return assert(svc[f.op](svc, f.req))
  end

  local R, S, F = "RUNNING", "SUCCESS", "FAIL"
  local FAMILIES = {
    { name = "ECS", service = "ecs", op = "create_post_paid_servers",
      req = { server = { flavorRef = "s6.small.1", imageRef = "img", name = "web",
        nics = { { subnet_id = "sub" } }, root_volume = { volumetype = "SSD" }, vpcid = "vpc" } },
      answer = { job_id = "j-ecs", serverIds = { "srv-1" } },
      poll = "GET /v1/" .. PID .. "/jobs/j-ecs", status = function(r) return r.status end,
      run = { status = R }, ok = { status = S, entities = { server_id = "srv-1" } },
      fail = { status = F, fail_reason = "Ecs.0013 quota exceeded", error_code = "Ecs.0013" },
      reason = "Ecs.0013: Ecs.0013 quota exceeded" },
    { name = "ECS sub-jobs", service = "ecs", op = "batch_start_servers",
      req = { ["os-start"] = { servers = { { id = "srv-1" } } } },
      answer = { job_id = "j-ecs2" }, poll = "GET /v1/" .. PID .. "/jobs/j-ecs2",
      status = function(r) return r.status end, run = { status = "INIT" }, ok = { status = S },
      fail = { status = F, entities = { sub_jobs = {
        { status = S }, { status = F, fail_reason = "server srv-2 is locked" } } } },
      reason = "server srv-2 is locked" },
    { name = "EVS", service = "evs", op = "create_volume",
      req = { volume = { availability_zone = "az1", volume_type = "SSD", size = 10 } },
      answer = { job_id = "j-evs" }, poll = "GET /v1/" .. PID .. "/jobs/j-evs",
      status = function(r) return r.status end, run = { status = R }, ok = { status = S },
      fail = { status = F, fail_reason = "EVS.2024 no capacity" }, reason = "EVS.2024 no capacity" },
    { name = "IMS", service = "ims", op = "create_image",
      req = { name = "img", instance_id = "srv-1" },
      answer = { job_id = "j-ims" }, poll = "GET /v1/" .. PID .. "/jobs/j-ims",
      status = function(r) return r.status end, run = { status = R }, ok = { status = S },
      fail = { status = F, entities = { sub_jobs_result = {
        { status = F, fail_reason = "IMS.0118 image too large" } } } },
      reason = "IMS.0118 image too large" },
    { name = "CCE (status.jobID)", service = "cce", op = "create_node",
      req = { cluster_id = "c1", kind = "Node", apiVersion = "v3", spec = {
        flavor = "c7.large.2", az = "az1", rootVolume = { size = 50, volumetype = "SSD" } } },
      answer = { kind = "Node", status = { jobID = "j-cce1" } },
      poll = "GET /api/v3/projects/" .. PID .. "/jobs/j-cce1",
      status = function(r) return r.status.phase end,
      run = { status = { phase = "Running" } }, ok = { status = { phase = "Success" } },
      fail = { status = { phase = "Failed", reason = "insufficient quota for nodes" } },
      reason = "insufficient quota for nodes" },
    { name = "CCE (jobid)", service = "cce", op = "add_node",
      req = { cluster_id = "c1", kind = "List", apiVersion = "v3",
        nodeList = { { serverID = "srv-1", spec = { os = "EulerOS 2.9" } } } },
      answer = { jobid = "j-cce2" }, poll = "GET /api/v3/projects/" .. PID .. "/jobs/j-cce2",
      status = function(r) return r.status.phase end,
      run = { status = { phase = "Initializing" } }, ok = { status = { phase = "Success" } },
      fail = { spec = { subJobs = { { status = { phase = "Failed", reason = "node srv-1 busy" } } } },
               status = { phase = "Failed" } },
      reason = "node srv-1 busy" },
    { name = "CCE (jobID)", service = "cce", op = "resize_cluster",
      req = { cluster_id = "c1", flavorResize = "cce.s2.medium" },
      answer = { jobID = "j-cce3" }, poll = "GET /api/v3/projects/" .. PID .. "/jobs/j-cce3",
      status = function(r) return r.status.phase end,
      run = { status = { phase = "Running" } }, ok = { status = { phase = "Success" } },
      fail = { status = { phase = "Failed", reason = "resize refused" } }, reason = "resize refused" },
    { name = "CCE (status.jobId)", service = "cce", op = "delete_node_pool",
      req = { cluster_id = "c1", nodepool_id = "np1" },
      answer = { kind = "NodePool", status = { jobId = "j-cce4", phase = "Deleting" } },
      poll = "GET /api/v3/projects/" .. PID .. "/jobs/j-cce4",
      status = function(r) return r.status.phase end,
      run = { status = { phase = "Running" } }, ok = { status = { phase = "Success" } },
      fail = { status = { phase = "Failed", reason = "pool in use" } }, reason = "pool in use" },
    { name = "ELB v3", service = "elb", op = "batch_delete_loadbalancers",
      req = { loadbalancer_ids = { "lb1" } },
      answer = { job_id = "j-elb" }, poll = "GET /v3/" .. PID .. "/elb/jobs/j-elb",
      status = function(r) return r.job.status end,
      run = { job = { status = "RUNNING" } }, ok = { job = { status = "COMPLETE" } },
      fail = { job = { status = "ROLLBACK_FAIL", error_msg = "listener still bound" } },
      reason = "listener still bound" },
    { name = "RDS (id in the query)", service = "rds", op = "startup_instance",
      req = { instance_id = "rds1" },
      answer = { job_id = "j-rds" }, poll = "GET /v3/" .. PID .. "/jobs?id=j-rds",
      status = function(r) return r.job.status end,
      run = { job = { status = "Running" } }, ok = { job = { status = "Completed" } },
      fail = { job = { status = "Failed", fail_reason = "instance frozen" } },
      reason = "instance frozen" },
    { name = "DCS", service = "dcs", op = "change_master_standby_async",
      req = { instance_id = "dcs1" },
      answer = { job_id = "j-dcs" }, poll = "GET /v2/" .. PID .. "/jobs/j-dcs",
      status = function(r) return r.status end, run = { status = "INIT" }, ok = { status = S },
      fail = { status = F, fail_reason = "switchover refused" }, reason = "switchover refused" },
    { name = "SWR", service = "swr", op = "create_instance",
      req = { name = "reg", spec = "swr.ee.professional", vpc_id = "v", subnet_id = "s",
        charge_mode = "postPaid", project_id = PID, enterprise_project_id = "0" },
      answer = { instance_id = "swr1", job_id = "j-swr" }, poll = "GET /v2/" .. PID .. "/jobs/j-swr",
      status = function(r) return r.status end, run = { status = "Initializing" },
      ok = { status = "Success" }, fail = { status = "Failed", reason = "subnet has no free IP" },
      reason = "subnet has no free IP" },
    { name = "CSE (integer jobId, engine from the answer)", service = "cse", op = "create_engine",
      req = { name = "eng", flavor = "cse.s1.small2", payment = "1", authType = "NONE",
        vpc = "v", networkId = "n", subnetCidr = "10.0.0.0/24", specType = "CSE2" },
      answer = { id = "eng1", jobId = 7 },
      poll = "GET /v2/" .. PID .. "/enginemgr/engines/eng1/jobs/7",
      status = function(r) return r.status end, run = { status = "Executing" },
      ok = { status = "Finished" },
      fail = { status = "Error", tasks = { { status = "Error", taskName = "create vm" } } },
      reason = "create vm" },
    { name = "APIG async task", service = "apig", op = "export_api_definitions_async",
      req = { instance_id = "gw1", env_id = "env1", group_id = "g1" },
      answer = { task_id = "t-apig" },
      poll = "GET /v2/" .. PID .. "/apigw/instances/gw1/async-tasks/t-apig",
      status = function(r) return r.task_status end, run = { task_status = "processing" },
      ok = { task_status = "succeed" },
      fail = { task_status = "failed", task_result = { failure = { { error_msg = "bad swagger" } } } },
      reason = "bad swagger" },
    { name = "APIG instance progress", service = "apig", op = "add_ingress_eip_v2",
      req = { instance_id = "gw1" },
      answer = { instance_id = "gw1", job_id = "j-gw" },
      poll = "GET /v2/" .. PID .. "/apigw/instances/gw1/progress",
      status = function(r) return r.status end, run = { status = "creating", progress = 30 },
      ok = { status = "success", progress = 100 },
      fail = { status = "failed", error_code = "APIG.9999", error_msg = "no EIP quota" },
      reason = "APIG.9999: no EIP quota" },
    { name = "DNS batch task", service = "dns", op = "batch_create_public_zones_task",
      req = { zone_names = { "a.example.com." } },
      answer = { task_id = "t-dns" }, poll = "GET /v2.1/batch-operation-tasks/t-dns",
      status = function(r) return r.status end, run = { status = "PENDING" },
      ok = { status = "DONE", error_count = 0 },
      fail = { status = "DONE", error_count = 1, error_items = { { error_message = "zone exists" } } },
      reason = "zone exists" },
    -- the state of every step: running while one is, failed when one is
    { name = "DCS background task (its steps)", service = "dcs",
      op = "upgrade_instance_minor_version",
      req = { instance_id = "dcs1", engine_minor_version = "6.0.20" }, answer = { task_id = "t-dcs" },
      poll = "GET /v2/" .. PID .. "/instances/dcs1/tasks/t-dcs/progress",
      status = function(r) return r.progress end,
      run = { progress = 50, step_details = { { step_status = "FINISH" },
                                              { step_status = "EXECUTING" } } },
      ok = { progress = 100, step_details = { { step_status = "FINISH" },
                                              { step_status = "FINISH" } } },
      fail = { progress = 50, step_details = { { step_status = "FINISH" },
        { step_status = "FAILED", error_code = "DCS.4980" } } },
      reason = "DCS.4980" },
    { name = "EIP", service = "eip", op = "batch_create_publicips",
      req = { enterprise_project_id = "0", publicip_number = 2, publicip = { type = "5_bgp", ip_version = "4" },
              bandwidth = { name = "bw", size = 5, share_type = "PER" } },
      answer = { job_id = "j-eip" }, poll = "GET /v1/" .. PID .. "/jobs/j-eip",
      status = function(r) return r.status end, run = { status = R }, ok = { status = S },
      fail = { status = F, fail_reason = "EIP quota exceeded" }, reason = "EIP quota exceeded" },
    { name = "FunctionGraph workflow execution", service = "functiongraph",
      op = "start_workflow_execution", req = { workflow_id = "wf1", input = { x = 1 } },
      answer = { execution_id = "ex1" },
      poll = "GET /v2/" .. PID .. "/fgs/workflows/wf1/executions/ex1",
      status = function(r) return r.status end, run = { status = "running" },
      ok = { status = "success" },
      fail = { status = "fail", node_execution_details = { { executions = {
        { status = "fail", error_message = "function timed out" } } } } },
      reason = "function timed out" },
    { name = "CodeArts Pipeline run", service = "codeartspipeline", op = "run_pipeline",
      req = { pipeline_id = "pl1", project_id = PID }, answer = { pipeline_run_id = "run1" },
      poll = "GET /v5/" .. PID .. "/api/pipelines/pl1/pipeline-runs/detail?pipeline_run_id=run1",
      status = function(r) return r.status end, run = { status = "RUNNING" },
      ok = { status = "COMPLETED" },
      fail = { status = "FAILED", stages = { { status = "FAILED", jobs = {
        { status = "FAILED", steps = { { status = "FAILED", message = "unit tests failed" } } } } } } },
      reason = "unit tests failed" },
    { name = "CodeArts Deploy task", service = "codeartsdeploy", op = "start_deploy_task",
      req = { task_id = "dt1" }, answer = { id = "rec1", task_id = "dt1", job_name = "deploy" },
      poll = "GET /v2/tasks/dt1/state?record_id=rec1",
      status = function(r) return r.result.status end, run = { result = { status = "running" } },
      ok = { result = { status = "succeeded" } },
      fail = { result = { status = "failed", message = "host unreachable" } },
      reason = "host unreachable" },
    { name = "BSS order of a prepaid creation", service = "ecs", op = "create_servers",
      req = { server = { flavorRef = "s6.small.1", imageRef = "img", name = "db",
        nics = { { subnet_id = "sub" } }, root_volume = { volumetype = "SSD" }, vpcid = "vpc",
        extendparam = { chargingMode = "prePaid", periodType = "month", periodNum = 1 } } },
      answer = { order_id = "CS2412040001", serverIds = { "srv-9" } },
      poll = "GET /v2/orders/customer-orders/details/CS2412040001",
      status = function(r) return r.order_info.status end,
      run = { order_info = { status = 3 } }, ok = { order_info = { status = 5 } },
      fail = { order_info = { status = 4 } }, reason = nil },
  }

  for _, f in ipairs(FAMILIES) do
    describe(f.name, function()
      it("polls to success and stops there, the start sent once", function()
        f.states = { f.run, f.run, f.ok, f.ok }
        local job = start(f)
        local seen = {}
        local final, err = client:wait(job, {
          interval = FAST.interval, max_interval = FAST.max_interval, timeout = FAST.timeout,
          on_progress = function(s) seen[#seen + 1] = s.status end })
        assert.is_nil(err)
        assert.same(f.status(f.ok), f.status(final))
        assert.equal(3, count(f.poll:gsub("%?.*", "")))
        assert.equal(1, count(route(f.service, f.op, f.req)))
        assert.equal(3, #seen)
      end)

      it("fails with the service's reason", function()
        f.states = { f.run, f.fail }
        local job = start(f)
        local final, err = client:wait(job, FAST)
        assert.is_nil(final)
        assert.equal("job_failed", err.kind)
        if f.reason then assert.truthy(err.message:find(f.reason, 1, true), err.message) end
        assert.equal(2, count(f.poll:gsub("%?.*", "")))
      end)

      it("answers a job that does not exist (404) at once", function()
        f.states = nil
        f.raw = { { status = 404, body = { error_code = "X.404", error_msg = "job not found" } } }
        local job = start(f)
        local final, err = client:wait(job, FAST)
        f.raw = nil
        assert.is_nil(final)
        assert.equal(404, err.status)
        assert.equal(1, count(f.poll:gsub("%?.*", "")))
      end)
    end)
  end

  describe("batches", function()
    local reinstall = { server_ids = { "s1", "s2", "s3" } }
    local function job(id, status, extra)
      local r = { id = id, status = status }
      for k, v in pairs(extra or {}) do r[k] = v end
      return r
    end

    it("waits on a Workspace batch as a whole: done when all are", function()
      control("/_script/set", {
        [route("workspaceapp", "batch_reinstall_server", reinstall)] = answers { { items = {
          { server_id = "s1", job_id = "j1" }, { server_id = "s2", job_id = "j2" } } } },
        ["GET /v2/" .. PID .. "/job/j1"] = answers { job("j1", "RUNNING"), job("j1", "SUCCESS") },
        ["GET /v2/" .. PID .. "/job/j2"] = answers { job("j2", "RUNNING"), job("j2", "RUNNING"),
                                                     job("j2", "SUCCESS") },
      })
      local res = assert(client.workspaceapp:batch_reinstall_server(reinstall))
      local final, err = client:wait(res, FAST)
      assert.is_nil(err)
      assert.equal(2, #final.jobs)
      assert.same({ "s1", "success" }, { final.jobs[1].resource, final.jobs[1].outcome })
      assert.same({ "s2", "success" }, { final.jobs[2].resource, final.jobs[2].outcome })
      assert.equal(2, count("GET /v2/" .. PID .. "/job/j1"))
      assert.equal(3, count("GET /v2/" .. PID .. "/job/j2"))
    end)

    it("fails when one job fails, err.jobs naming each one's outcome and resource", function()
      control("/_script/set", {
        [route("workspaceapp", "batch_reinstall_server", reinstall)] = answers { { items = {
          { server_id = "s1", job_id = "j1" }, { server_id = "s2", job_id = "j2" } } } },
        ["GET /v2/" .. PID .. "/job/j1"] = answers { job("j1", "SUCCESS") },
        ["GET /v2/" .. PID .. "/job/j2"] = answers { job("j2", "RUNNING"), job("j2", "FAILED",
          { sub_jobs = { { status = "FAILED", error_code = "WKS.0042", error_message = "disk full" } } }) },
      })
      local res = assert(client.workspaceapp:batch_reinstall_server(reinstall))
      local final, err = client:wait(res, FAST)
      assert.is_nil(final)
      assert.equal("job_failed", err.kind)
      assert.truthy(err.message:find("j2 (s2) ended FAILED: WKS.0042: disk full", 1, true), err.message)
      assert.same({ "j1", "s1", "success" }, { err.jobs[1].id, err.jobs[1].resource, err.jobs[1].outcome })
      assert.same({ "j2", "s2", "failure" }, { err.jobs[2].id, err.jobs[2].resource, err.jobs[2].outcome })
      assert.equal(1, count("GET /v2/" .. PID .. "/job/j1"))
    end)

    it("fails at once for an item that started no job, naming its server", function()
      control("/_script/set", {
        [route("workspaceapp", "batch_reinstall_server", reinstall)] = answers { { items = {
          { server_id = "s1", job_id = "j1" },
          { server_id = "s3", error_code = "WKS.0001", error_message = "server is locked" } } } },
      })
      local res = assert(client.workspaceapp:batch_reinstall_server(reinstall))
      local final, err = client:wait(res, FAST)
      assert.is_nil(final)
      assert.truthy(err.message:find("s3: did not start: WKS.0001: server is locked", 1, true),
        err.message)
      assert.equal("s3", err.jobs[2].resource)
      assert.equal(0, count("GET /v2/" .. PID .. "/job/"))
    end)

    it("waits on an EIP batch delete's job_ids; one failure fails the batch", function()
      local req = { publicip_ids = { "ip1", "ip2", "ip3" } }
      control("/_script/set", {
        [route("eip", "batch_delete_public_ip", req)] = answers { { job_ids = { "a", "b", "c" } } },
        ["GET /v1/" .. PID .. "/jobs/a"] = answers { { status = "SUCCESS" } },
        ["GET /v1/" .. PID .. "/jobs/b"] = answers { { status = "RUNNING" }, { status = "FAIL",
          fail_reason = "EIP ip2 is bound", entities = { publicip_id = "ip2" } } },
        ["GET /v1/" .. PID .. "/jobs/c"] = answers { { status = "RUNNING" } },
      })
      local res = assert(client.eip:batch_delete_public_ip(req))
      local final, err = client:wait(res, FAST)
      assert.is_nil(final)
      assert.truthy(err.message:find("EIP ip2 is bound", 1, true), err.message)
      assert.same({ "success", "failure", "running" },
        { err.jobs[1].outcome, err.jobs[2].outcome, err.jobs[3].outcome })
      assert.equal("ip2", err.jobs[2].resource)
    end)
  end)

  describe("bad input", function()
    it("names what was given and which operations start jobs", function()
      control("/_script/set", { ["GET /v1/" .. PID .. "/cloudservers/srv-1"] = answers {
        { server = { id = "srv-1", status = "ACTIVE" } } } })
      local shown = assert(client.ecs:show_server { server_id = "srv-1" })
      local _, err = client:wait(shown, FAST)
      assert.equal("validation", err.kind)
      assert.truthy(err.message:find("got a table with server", 1, true), err.message)
      local _, err2 = client:wait({ service = "ecs" }, FAST)
      assert.truthy(err2.message:find("batch_start_servers", 1, true), err2.message)
    end)

    it("says a marked answer without a job holds none (a postpaid ELB creation)", function()
      local req = { loadbalancer = { vip_subnet_cidr_id = "sub", availability_zone_list = { "az1" } } }
      control("/_script/set", { [route("elb", "create_load_balancer", req)] = answers {
        { loadbalancer = { id = "lb1" }, loadbalancer_id = "lb1" } } })
      local res = assert(client.elb:create_load_balancer(req))
      local _, err = client:wait(res, FAST)
      assert.equal("validation", err.kind)
      assert.truthy(err.message:find("elb.create_load_balancer holds no job", 1, true), err.message)
      assert.truthy(err.message:find("order_id", 1, true), err.message)
    end)
  end)

  describe("client:wait_for", function()
    local WAITERS = {
      { "ecs", "server_active", { server_id = "s1" }, "GET /v1/" .. PID .. "/cloudservers/s1",
        { server = { status = "BUILD" } }, { server = { status = "ACTIVE" } },
        { server = { status = "ERROR" } } },
      { "ecs", "server_shutoff", { server_id = "s1" }, "GET /v1/" .. PID .. "/cloudservers/s1",
        { server = { status = "ACTIVE" } }, { server = { status = "SHUTOFF" } },
        { server = { status = "ERROR" } } },
      { "ecs", "server_deleted", { server_id = "s1" }, "GET /v1/" .. PID .. "/cloudservers/s1",
        { server = { status = "ACTIVE" } }, { server = { status = "DELETED" } },
        { server = { status = "ERROR" } } },
      { "elb", "load_balancer_active", { loadbalancer_id = "lb1" },
        "GET /v3/" .. PID .. "/elb/loadbalancers/lb1",
        { loadbalancer = { provisioning_status = "PENDING_CREATE" } },
        { loadbalancer = { provisioning_status = "ACTIVE" } },
        { loadbalancer = { provisioning_status = "ERROR" } } },
      { "elb", "member_healthy", { pool_id = "p1", member_id = "m1" },
        "GET /v3/" .. PID .. "/elb/pools/p1/members/m1",
        { member = { operating_status = "OFFLINE" } }, { member = { operating_status = "ONLINE" } } },
      { "cce", "cluster_available", { cluster_id = "c1" },
        "GET /api/v3/projects/" .. PID .. "/clusters/c1",
        { status = { phase = "Creating" } }, { status = { phase = "Available" } },
        { status = { phase = "Error" } } },
      { "cce", "node_active", { cluster_id = "c1", node_id = "n1" },
        "GET /api/v3/projects/" .. PID .. "/clusters/c1/nodes/n1",
        { status = { phase = "Installing" } }, { status = { phase = "Active" } },
        { status = { phase = "Abnormal" } } },
      { "cce", "node_pool_synchronized", { cluster_id = "c1", nodepool_id = "np1" },
        "GET /api/v3/projects/" .. PID .. "/clusters/c1/nodepools/np1",
        { status = { phase = "Synchronizing" } }, { status = {} },
        { status = { phase = "SoldOut" } } },
      { "rds", "instance_available", { id = "r1" }, "GET /v3/" .. PID .. "/instances",
        { instances = { { id = "r1", status = "BUILD" } } },
        { instances = { { id = "r1", status = "ACTIVE" } } },
        { instances = { { id = "r1", status = "FAILED" } } } },
      { "vpc", "vpc_ready", { vpc_id = "v1" }, "GET /v3/" .. PID .. "/vpc/vpcs/v1",
        { vpc = { status = "PENDING" } }, { vpc = { status = "ACTIVE" } }, { vpc = { status = "ERROR" } } },
      { "vpc", "subnet_ready", { subnet_id = "sn1" }, "GET /v1/" .. PID .. "/subnets/sn1",
        { subnet = { status = "UNKNOWN" } }, { subnet = { status = "ACTIVE" } },
        { subnet = { status = "ERROR" } } },
      { "eip", "publicip_ready", { publicip_id = "ip1" }, "GET /v3/" .. PID .. "/eip/publicips/ip1",
        { publicip = { status = "PENDING_CREATE" } }, { publicip = { status = "DOWN" } },
        { publicip = { status = "BIND_ERROR" } } },
      { "eip", "publicip_bound", { publicip_id = "ip1" }, "GET /v3/" .. PID .. "/eip/publicips/ip1",
        { publicip = { status = "BINDING" } }, { publicip = { status = "ACTIVE" } },
        { publicip = { status = "BIND_ERROR" } } },
      { "swr", "instance_running", { instance_id = "i1" }, "GET /v2/" .. PID .. "/instances/i1",
        { status = "Creating" }, { status = "Running" }, { status = "Unavailable" } },
    }
    for _, w in ipairs(WAITERS) do
      local service, name, req, poll, pending, good, bad = table.unpack(w)
      it(service .. " " .. name .. " polls to its state and stops there", function()
        control("/_script/set", { [poll] = answers { pending, pending, good, good } })
        local res, err = client:wait_for(service, name, req, FAST)
        assert.is_nil(err)
        assert.truthy(res)
        assert.equal(3, count(poll))
        if bad then
          control("/_script/reset")
          control("/_script/set", { [poll] = answers { pending, bad } })
          local r2, err2 = client:wait_for(service, name, req, FAST)
          assert.is_nil(r2)
          assert.equal("job_failed", err2.kind)
          assert.equal(2, count(poll))
        end
      end)
    end

    it("lists every service's waiters", function()
      assert.same({ "server_active", "server_deleted", "server_shutoff" }, hwcloud.waiters("ecs"))
      assert.same({ "load_balancer_active", "load_balancer_deleted", "member_healthy" },
        hwcloud.waiters("elb"))
      for _, s in ipairs { "cce", "rds", "vpc", "eip", "swr" } do
        assert.truthy(#hwcloud.waiters(s) > 0, s)
      end
      assert.same({}, hwcloud.waiters("kms"))
      local none, why = hwcloud.waiters("ecz")
      assert.is_nil(none)
      assert.truthy(why:find("unknown service", 1, true))
    end)

    it("takes a gone server (404) as deleted", function()
      control("/_script/set", { ["GET /v1/" .. PID .. "/cloudservers/s1"] = {
        { status = 200, body = { server = { status = "ACTIVE" } } },
        { status = 404, body = { error = { code = "Ecs.0114", message = "not found" } } } } })
      assert.equal(true, client:wait_for("ecs", "server_deleted", { server_id = "s1" }, FAST))
      assert.equal(2, count("GET /v1/" .. PID .. "/cloudservers/s1"))
    end)

    it("takes the table form, gone included, and a 404 without gone is an error", function()
      local w = { operation = "show_nat_gateway", path = "nat_gateway.status",
                  success = { "ACTIVE" }, failure = { "INACTIVE" }, gone = true }
      local poll = "GET /v2/" .. PID .. "/nat_gateways/nat1"
      control("/_script/set", { [poll] = answers { { nat_gateway = { status = "PENDING_CREATE" } },
        { nat_gateway = { status = "ACTIVE" } } } })
      local res = assert(client:wait_for("nat", w, { nat_gateway_id = "nat1" }, FAST))
      assert.equal("ACTIVE", res.nat_gateway.status)
      control("/_script/reset")
      assert.equal(true, client:wait_for("nat", w, { nat_gateway_id = "nat1" }, FAST))
      w.gone = nil
      control("/_script/reset")
      local r3, err = client:wait_for("nat", w, { nat_gateway_id = "nat1" }, FAST)
      assert.is_nil(r3)
      assert.equal(404, err.status)
      assert.equal(1, count(poll))
    end)

    it("times out with the last state", function()
      control("/_script/set", { ["GET /v1/" .. PID .. "/cloudservers/s1"] = answers {
        { server = { status = "BUILD" } } } })
      local _, err = client:wait_for("ecs", "server_active", { server_id = "s1" },
        { interval = 0.05, max_interval = 0.05, timeout = 0.3 })
      assert.equal("timeout", err.kind)
      assert.truthy(err.message:find("still BUILD", 1, true), err.message)
    end)

    it("rejects an unknown waiter with a suggestion among the service's", function()
      local _, err = client:wait_for("ecs", "server_actve", { server_id = "s1" }, FAST)
      assert.equal("validation", err.kind)
      assert.truthy(err.message:find("did you mean 'server_active'", 1, true), err.message)
      assert.truthy(err.message:find("server_shutoff", 1, true), err.message)
      local _, err2 = client:wait_for("ecs", { operation = "show_servr", path = "server.status",
        success = { "ACTIVE" } }, {}, FAST)
      assert.truthy(err2.message:find("did you mean 'show_server'", 1, true), err2.message)
      local _, err3 = client:wait_for("ecs", { operation = "show_server", path = "x", sucess = {} })
      assert.equal("waiter.sucess", err3.field)
      assert.same({}, requests())
    end)
  end)

  describe("the CLI", function()
    -- bin/hwcloud against the script server; -> stdout, stderr, exit status
    local function hw(args)
      local errfile = work .. "/cli.err"
      local cmd = "cd " .. util.quote(util.root) .. " && env -u LUA_PATH -u LUA_CPATH"
        .. " -u HUAWEICLOUD_SDK_SECURITY_TOKEN -u HUAWEICLOUD_SDK_REGION"
        .. " HUAWEICLOUD_SDK_AK=WAITERSTESTAK0000001 HUAWEICLOUD_SDK_SK=waiters-test-secret"
        .. " HUAWEICLOUD_SDK_PROJECT_ID=" .. PID .. " HWCLOUD_ENDPOINT=" .. base
        .. " HUAWEICLOUD_SDK_CREDENTIALS_FILE=/nonexistent bin/hwcloud " .. args
        .. " 2>" .. util.quote(errfile) .. " </dev/null"
      local p = io.popen(cmd)
      local out = p:read("*a")
      local _, _, code = p:close()
      return out, util.read_file(errfile) or "", code
    end

    it("wait SERVICE JOB_ID polls any service's jobs, with its poll's other fields", function()
      control("/_script/set", {
        ["GET /v1/" .. PID .. "/jobs/j-1"] = answers { { status = "RUNNING" }, { status = "SUCCESS" } },
        ["GET /v2/" .. PID .. "/enginemgr/engines/eng1/jobs/7"] = answers { { status = "Finished" } },
      })
      local out, err, code = hw("wait ecs j-1 --wait-timeout 10")
      assert.equal(0, code, err)
      assert.equal("SUCCESS", cjson.decode(out)["j-1"].status)
      out, err, code = hw("wait cse 7 engine_id=eng1")
      assert.equal(0, code, err)
      assert.equal("Finished", cjson.decode(out)["7"].status)
      local _, err2, code2 = hw("wait kms k1")
      assert.equal(2, code2)
      assert.truthy(err2:find("kms has no jobs to wait for (apig", 1, true), err2)
    end)

    it("call --wait waits on a batch operation's jobs", function()
      control("/_script/set", {
        ["POST /v2/" .. PID .. "/batchpublicips"] = answers { { job_ids = { "a", "b" } } },
        ["DELETE /v2/" .. PID .. "/batchpublicips"] = answers { { job_ids = { "a", "b" } } },
        ["GET /v1/" .. PID .. "/jobs/a"] = answers { { status = "SUCCESS" } },
        ["GET /v1/" .. PID .. "/jobs/b"] = answers { { status = "RUNNING" }, { status = "SUCCESS" } },
      })
      local out, err, code = hw("call eip batch_delete_public_ip publicip_ids=ip1 publicip_ids=ip2 --wait")
      assert.equal(0, code, err)
      local final = cjson.decode(out)
      assert.same({ "success", "success" }, { final.jobs[1].outcome, final.jobs[2].outcome })
      assert.equal(1, count("DELETE /v2/" .. PID .. "/batchpublicips"))
    end)

    it("wait-for SERVICE WAITER field=value polls a named waiter; without WAITER lists them", function()
      control("/_script/set", { ["GET /api/v3/projects/" .. PID .. "/clusters/c1/nodes/n1"] = answers {
        { status = { phase = "Installing" } }, { status = { phase = "Active" } } } })
      local out, err, code = hw("wait-for cce node_active cluster_id=c1 node_id=n1")
      assert.equal(0, code, err)
      assert.equal("Active", cjson.decode(out).status.phase)
      out = hw("wait-for ecs")
      assert.equal("server_active\nserver_deleted\nserver_shutoff\n", out)
      local _, err2, code2 = hw("wait-for ecs server_actv server_id=s1")
      assert.equal(2, code2)
      assert.truthy(err2:find("did you mean 'server_active'", 1, true), err2)
    end)
  end)

  -- an answer schema is resolved when an answer first needs it (not when
  -- the operation is made ready): a number written 3.0 where the schema
  -- says integer still becomes one, called by the name or by an alias
  it("conforms an answer by its schema, by an operation's name and by its alias", function()
    local job = { job_id = "job-1" }
    control("/_script/set", { [route("servicestage", "show_job_info", job)] = {
      { status = 200, body = '{"task_count":3.0,"job_id":"job-1"}' } } })
    for _, name in ipairs { "show_job", "show_job_info" } do
      local svc = client.servicestage
      local res = assert(svc[name](svc, job))
      assert.equal(3, res.task_count)
      if math.type then assert.equal("integer", math.type(res.task_count)) end
    end
  end)
end)
