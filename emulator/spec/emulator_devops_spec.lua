-- The emulator's delivery services, through the client: SWR namespaces,
-- repositories (bare-array pages with Content-Range) and enterprise
-- instances with their jobs; FunctionGraph functions, versions, aliases
-- and workflow executions; CodeArts Pipeline runs and CodeArts Deploy
-- tasks moving through their states over --job-seconds, waited on with
-- client:wait and client:wait_for, failed through POST /_emulator/fail;
-- each answer of the shape its description gives; the inventory's
-- sections and GET /_emulator/state.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local answers = require "spec.helpers.answers"
local cjson = require "cjson"

local PID = "6a6b6c6d6e6f70717273747576777879"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

before_each(function() session.restore() end)

-- conforms(service, operation, answer) -> answer
local conforms = answers.conforms

local function call(service, operation, req)
  local res, err = client[service][operation](client[service], req)
  assert(res, service .. "." .. operation .. ": " .. tostring(err))
  return conforms(service, operation, res)
end

local function status_of(err) return type(err) == "table" and err.status or nil end

-- SWR ------------------------------------------------------------------------

local function swr(operation, req)
  return client.swr[operation](client.swr, req)
end

describe("emulator SWR #server", function()
  it("creates, lists, shows and deletes namespaces", function()
    assert(swr("create_namespace", { namespace = "shop" }))
    assert(swr("create_namespace", { namespace = "tools" }))
    local _, dup = swr("create_namespace", { namespace = "shop" })
    assert.are.equal(409, status_of(dup))
    local _, bad = swr("create_namespace", { namespace = "Shop!" })
    assert.are.equal(400, status_of(bad))
    assert.truthy(tostring(bad.message):find("namespace", 1, true))

    local list = conforms("swr", "list_namespaces", assert(swr("list_namespaces", {})))
    assert.are.equal(2, #list.namespaces)
    local one = conforms("swr", "show_namespace", assert(swr("show_namespace", { namespace = "shop" })))
    assert.are.equal("shop", one.name)
    assert.are.equal(math.type(one.id), "integer")
    assert.are.equal(1, #assert(swr("list_namespaces", { namespace = "too" })).namespaces)

    assert(swr("create_repo", { namespace = "shop", repository = "web", is_public = false }))
    local _, busy = swr("delete_namespaces", { namespace = "shop" })
    assert.are.equal(409, status_of(busy))
    assert(swr("delete_repo", { namespace = "shop", repository = "web" }))
    assert(swr("delete_namespaces", { namespace = "shop" }))
    local _, gone = swr("show_namespace", { namespace = "shop" })
    assert.are.equal(404, status_of(gone))
  end)

  it("keeps repositories: create, show, update, delete, and pages by Content-Range", function()
    assert(swr("create_namespace", { namespace = "shop" }))
    local _, nons = swr("create_repo", { namespace = "nope", repository = "web", is_public = true })
    assert.are.equal(404, status_of(nons))
    for _, name in ipairs { "web", "api", "worker" } do
      assert(swr("create_repo", { namespace = "shop", repository = name, is_public = false,
                                  category = "app_server", description = name .. " image" }))
    end
    local _, dup = swr("create_repo", { namespace = "shop", repository = "web", is_public = true })
    assert.are.equal(409, status_of(dup))

    local repo = conforms("swr", "show_repository",
      assert(swr("show_repository", { namespace = "shop", repository = "api" })))
    assert.are.equal("api", repo.name)
    assert.are.equal(false, repo.is_public)
    assert(swr("update_repo", { namespace = "shop", repository = "api", is_public = true,
                                description = "public now" }))
    repo = assert(swr("show_repository", { namespace = "shop", repository = "api" }))
    assert.are.equal(true, repo.is_public)
    assert.are.equal("public now", repo.description)

    -- a bare array a page at a time, the header saying which rows of how many
    local first = conforms("swr", "list_repos_details",
      assert(swr("list_repos_details", { limit = "2", namespace = "shop" })))
    assert.are.equal(2, #first)
    assert.are.equal("0-1/3", first["Content-Range"])
    local names = {}
    for item, err in client:each("swr", "list_repos_details",
                                 { limit = "2" }) do
      assert(item, tostring(err))
      names[#names + 1] = item.name
    end
    assert.are.same({ "web", "api", "worker" }, names)
    assert.are.equal(1, #assert(swr("list_repos_details", { name = "work" })))

    assert(swr("delete_repo", { namespace = "shop", repository = "web" }))
    local _, gone = swr("show_repository", { namespace = "shop", repository = "web" })
    assert.are.equal(404, status_of(gone))
    assert.are.equal(2, #assert(swr("list_repos_details", {})))
  end)

  it("lists a repository's tags from the inventory, a page at a time", function()
    local inv = session.inventory()
    inv.swr = {
      namespaces = { { id = "shop" } },
      repositories = { { id = "shop/web", namespace = "shop", name = "web", is_public = true,
                         tags = { "1.0.0", "1.1.0", "latest" } },
                       -- only its id: its namespace and name come from it
                       { id = "shop/api" } },
    }
    assert(emu:inventory(inv))
    local page = conforms("swr", "list_repository_tags", assert(swr("list_repository_tags",
      { namespace = "shop", repository = "web", offset = "1", limit = "1" })))
    assert.are.equal("1.1.0", page[1].Tag)
    assert.are.equal("1-1/3", page["Content-Range"])
    local tags = {}
    for item in client:each("swr", "list_repository_tags", { namespace = "shop",
        repository = "web", limit = "2" }) do
      tags[#tags + 1] = item.Tag
    end
    assert.are.same({ "1.0.0", "1.1.0", "latest" }, tags)
    local row = assert(swr("list_repos_details", {}))[1]
    assert.are.equal(3, row.num_images)
    local api = conforms("swr", "show_repository",
                         assert(swr("show_repository", { namespace = "shop", repository = "api" })))
    assert.are.equal("api", api.name)
    assert.are.equal(0, #assert(swr("list_repository_tags", { namespace = "shop",
                                                              repository = "api" })))
    local _, err = swr("list_repository_tags", { namespace = "shop", repository = "db" })
    assert.are.equal(404, status_of(err))
  end)

  local function instance(name)
    return call("swr", "create_instance", { name = name, spec = "swr.ee.basic",
      charge_mode = "postPaid", enterprise_project_id = "0", project_id = PID,
      vpc_id = "vpc-1", subnet_id = "subnet-1" })
  end

  it("creates an enterprise instance with a job: Creating, then Running", function()
    local made = instance("ee-prod")
    assert.is_string(made.job_id)
    local shown = call("swr", "show_instance", { instance_id = made.instance_id })
    assert.are.equal("Creating", shown.status)
    local job = call("swr", "show_instance_job", { job_id = made.job_id })
    assert.truthy(job.status == "Initializing" or job.status == "Running", job.status)
    assert.are.equal(made.instance_id, job.instance_id)

    local final = assert(client:wait(made, FAST))
    assert.are.equal("Success", final.status)
    local running = assert(client:wait_for("swr", "instance_running",
                                           { instance_id = made.instance_id }, FAST))
    assert.are.equal("Running", running.status)
    local list = call("swr", "list_instance", { status = "Running" })
    assert.are.equal(1, list.total)
    assert.are.equal(1, call("swr", "list_instance_jobs", {}).total)
    assert(client.swr:delete_instance { instance_id = made.instance_id })
    local _, gone = client.swr:show_instance { instance_id = made.instance_id }
    assert.are.equal(404, status_of(gone))
  end)

  it("fails an instance's job on POST /_emulator/fail: Failed with its reason, Unavailable", function()
    local made = instance("ee-bad")
    local _, busy = client.swr:delete_instance { instance_id = made.instance_id }
    assert.are.equal(409, status_of(busy))
    emu:fail { made.instance_id }
    local _, err = client:wait(made, FAST)
    assert.is_table(err)
    assert.truthy(tostring(err.message):find("injected failure", 1, true), tostring(err.message))
    assert.are.equal("Unavailable", call("swr", "show_instance",
                                         { instance_id = made.instance_id }).status)
    local _, werr = client:wait_for("swr", "instance_running",
                                    { instance_id = made.instance_id }, FAST)
    assert.is_table(werr)
    local _, nojob = client.swr:show_instance_job { job_id = "no-such-job" }
    assert.are.equal(404, status_of(nojob))
  end)
end)

-- FunctionGraph ------------------------------------------------------------

local function fg(operation, req)
  return client.functiongraph[operation](client.functiongraph, req)
end

local function fgc(operation, req)
  return call("functiongraph", operation, req)
end

local function new_function(name, extra)
  local req = { func_name = name, package = "default", runtime = "Python3.9",
                handler = "index.handler", memory_size = 256, timeout = 30, code_type = "inline",
                func_code = { file = "cHJpbnQoImhpIik=" } }
  for k, v in pairs(extra or {}) do req[k] = v end
  return fgc("create_function", req)
end

describe("emulator FunctionGraph #server", function()
  it("creates functions, lists them by marker, shows and updates config and code", function()
    local f = new_function("hello")
    assert.truthy(f.func_urn:find(":function:default:hello:latest$"), f.func_urn)
    new_function("second")
    new_function("third", { package = "tools" })
    local _, dup = fg("create_function", { func_name = "hello", package = "default",
      runtime = "Python3.9", handler = "index.handler", memory_size = 128, timeout = 3 })
    assert.are.equal(409, status_of(dup))

    local page = fgc("list_functions", { maxitems = "2" })
    assert.are.equal(2, #page.functions)
    assert.are.equal(3, page.count)
    assert.are.equal(2, page.next_marker)
    local names = {}
    for item, err in client:each("functiongraph", "list_functions",
                                 { maxitems = "2" }) do
      assert(item, tostring(err))
      names[#names + 1] = item.func_name
    end
    assert.are.same({ "hello", "second", "third" }, names)
    assert.are.equal(1, fgc("list_functions", { package_name = "tools" }).count)

    local urn = f.func_urn
    local code = fgc("show_function_code", { function_urn = urn })
    assert.are.equal("cHJpbnQoImhpIik=", code.func_code.file)
    local updated = fgc("update_function_code", { function_urn = urn, code_type = "inline",
                                                  func_code = { file = "eA==" } })
    assert.are_not.equal(f.digest, updated.digest)
    local cfg = fgc("update_function_config", { function_urn = urn, func_name = "hello",
      runtime = "Python3.9", handler = "index.main", memory_size = 512, timeout = 60 })
    assert.are.equal(512, cfg.memory_size)
    cfg = fgc("show_function_config", { function_urn = urn })
    assert.are.equal("index.main", cfg.handler)
    assert.are.equal(60, cfg.timeout)
    local _, rename = fg("update_function_config", { function_urn = urn, func_name = "other",
      runtime = "Python3.9", handler = "index.main", memory_size = 512, timeout = 60 })
    assert.are.equal(400, status_of(rename))

    assert(fg("delete_function", { function_urn = urn }))
    local _, gone = fg("show_function_config", { function_urn = urn })
    assert.are.equal(404, status_of(gone))
    local _, bad = fg("show_function_config", { function_urn = "not-a-urn" })
    assert.are.equal(400, status_of(bad))
  end)

  it("publishes versions and points aliases at them", function()
    local f = new_function("api")
    local urn = f.func_urn
    local base = urn:gsub(":latest$", "")
    local _, stale = fg("create_function_version", { function_urn = urn, digest = "0000" })
    assert.are.equal(400, status_of(stale))
    local v1 = fgc("create_function_version", { function_urn = urn, version = "v1",
                                                description = "first" })
    assert.are.equal(base .. ":v1", v1.func_urn)
    assert.are.equal("first", v1.version_description)
    local _, dup = fg("create_function_version", { function_urn = urn, version = "v1" })
    assert.are.equal(409, status_of(dup))
    -- latest moves on; v1 keeps what it was
    fgc("update_function_config", { function_urn = urn, func_name = "api", runtime = "Python3.9",
                                    handler = "index.handler", memory_size = 1024, timeout = 30 })
    assert.are.equal(256, fgc("show_function_config", { function_urn = base .. ":v1" }).memory_size)
    local versions = fgc("list_function_versions", { function_urn = urn })
    assert.are.equal(2, versions.count)
    assert.are.same({ "latest", "v1" }, { versions.versions[1].version,
                                          versions.versions[2].version })

    local _, nov = fg("create_version_alias", { function_urn = urn, name = "prod", version = "v9" })
    assert.are.equal(404, status_of(nov))
    local alias = fgc("create_version_alias", { function_urn = urn, name = "prod", version = "v1" })
    assert.are.equal(base .. ":prod", alias.alias_urn)
    local _, adup = fg("create_version_alias", { function_urn = urn, name = "prod", version = "v1" })
    assert.are.equal(409, status_of(adup))
    local list = fgc("list_version_aliases", { function_urn = urn })
    assert.are.equal(1, #list)
    assert.are.equal("v1", list[1].version)
    -- an alias URN reads the version it points at
    assert.are.equal(256, fgc("show_function_config", { function_urn = base .. ":prod" }).memory_size)
    local _, inuse = fg("delete_function", { function_urn = base .. ":v1" })
    assert.are.equal(409, status_of(inuse))

    local moved = fgc("update_version_alias", { function_urn = urn, alias_name = "prod",
      version = "latest", additional_version_weights = { v1 = 20 } })
    assert.are.equal("latest", moved.version)
    assert.are.equal(20, fgc("show_version_alias", { function_urn = urn, alias_name = "prod" })
      .additional_version_weights.v1)
    assert(fg("delete_version_alias", { function_urn = urn, alias_name = "prod" }))
    local _, agone = fg("show_version_alias", { function_urn = urn, alias_name = "prod" })
    assert.are.equal(404, status_of(agone))
    assert(fg("delete_function", { function_urn = base .. ":v1" }))
    assert.are.equal(1, fgc("list_function_versions", { function_urn = urn }).count)
  end)

  local function workflow()
    return assert(client.functiongraph:create_workflow { name = "flow", start = "a",
      constants = {}, functions = { { name = "f", operation = "urn:fss:x" } }, retries = {},
      states = { { id = "a", name = "a", type = "End", actions = {}, ["end"] = true,
                   transition = "" } } })
  end

  it("runs workflow executions to their end; client:wait follows them", function()
    local wf = workflow()
    local ex = call("functiongraph", "start_workflow_execution",
                    { workflow_id = wf.id, input = { order = 7 } })
    local shown = call("functiongraph", "show_workflow_execution",
                       { workflow_id = wf.id, execution_id = ex.execution_id })
    assert.are.equal("running", shown.status)
    local final = assert(client:wait(ex, FAST))
    assert.are.equal("success", final.status)
    assert.are.equal(7, final.output.order)
    local list = call("functiongraph", "list_workflow_executions", { workflow_id = wf.id })
    assert.are.equal(1, #list.executions)

    local bad = call("functiongraph", "start_workflow_execution", { workflow_id = wf.id, input = {} })
    emu:fail { bad.execution_id }
    local _, err = client:wait(bad, FAST)
    assert.is_table(err)
    assert.truthy(tostring(err.message):find("injected failure", 1, true), tostring(err.message))

    local stopped = call("functiongraph", "start_workflow_execution", { workflow_id = wf.id, input = {} })
    assert(client.functiongraph:stop_work_flow { workflow_id = wf.id,
                                                 execution_id = stopped.execution_id })
    local _, cerr = client:wait(stopped, FAST)
    assert.is_table(cerr)
    assert.are.equal("cancel", call("functiongraph", "show_workflow_execution",
      { workflow_id = wf.id, execution_id = stopped.execution_id }).status)
    local _, nowf = client.functiongraph:start_workflow_execution { workflow_id = "nope", input = {} }
    assert.are.equal(404, status_of(nowf))
  end)

  it("starts from the inventory's functions", function()
    local urn = "urn:fss:cn-north-4:" .. PID .. ":function:default:legacy"
    local inv = session.inventory()
    inv.functiongraph = { functions = { { id = urn, runtime = "Node.js18.15",
      handler = "index.handler", memory_size = 128, timeout = 10,
      versions = { { version = "v7", snapshot = { runtime = "Node.js16.17", memory_size = 128 } } },
      aliases = { { name = "stable", version = "v7" } } },
      -- only its URN: the rest takes its defaults
      { id = "urn:fss:cn-north-4:" .. PID .. ":function:default:bare" } } }
    assert(emu:inventory(inv))
    local bare = "urn:fss:cn-north-4:" .. PID .. ":function:default:bare"
    assert.are.equal("bare", fgc("show_function_config", { function_urn = bare }).func_name)
    assert.are.equal(1, fgc("list_function_versions", { function_urn = bare }).count)
    local cfg = fgc("show_function_config", { function_urn = urn .. ":stable" })
    assert.are.equal("Node.js16.17", cfg.runtime)
    assert.are.equal("legacy", cfg.func_name)
    assert.are.equal(2, fgc("list_functions", {}).count)
  end)
end)

-- CodeArts Pipeline --------------------------------------------------------

local function pipeline(name)
  return assert(client.codeartspipeline:create_pipeline_new { project_id = PID, name = name,
    is_publish = false, definition = "{}" }).pipeline_id
end

describe("emulator CodeArts Pipeline #server", function()
  it("runs a pipeline: RUNNING through its stages, then COMPLETED; client:wait follows it", function()
    local id = pipeline("ship")
    local run = call("codeartspipeline", "run_pipeline", { project_id = PID, pipeline_id = id,
      description = "release 1" })
    assert.is_string(run.pipeline_run_id)
    local detail = call("codeartspipeline", "show_pipeline_run_detail",
      { project_id = PID, pipeline_id = id, pipeline_run_id = run.pipeline_run_id })
    assert.are.equal("RUNNING", detail.status)
    assert.are.equal("ship", detail.name)
    assert.are.equal(2, #detail.stages)
    assert.are.equal(1, detail.run_number)

    local final = assert(client:wait(run, FAST))
    assert.are.equal("COMPLETED", final.status)
    assert.are.equal("COMPLETED", final.stages[2].jobs[1].steps[1].status)
    assert.is_true(final.end_time >= final.start_time)

    local second = call("codeartspipeline", "run_pipeline", { project_id = PID, pipeline_id = id })
    -- without a run id: the latest run
    local latest = call("codeartspipeline", "show_pipeline_run_detail",
                        { project_id = PID, pipeline_id = id })
    assert.are.equal(second.pipeline_run_id, latest.id)
    assert.are.equal(2, latest.run_number)
    local list = call("codeartspipeline", "list_pipeline_runs", { project_id = PID,
                                                                  pipeline_id = id, limit = 1 })
    assert.are.equal(2, list.total)
    assert.are.equal(second.pipeline_run_id, list.pipeline_runs[1].pipeline_run_id)
    local done = call("codeartspipeline", "list_pipeline_runs", { project_id = PID,
      pipeline_id = id, status = { "COMPLETED" } })
    assert.are.equal(1, done.total)
  end)

  it("fails a run on POST /_emulator/fail with its step's reason; stop cancels one", function()
    local id = pipeline("ship")
    local run = call("codeartspipeline", "run_pipeline", { project_id = PID, pipeline_id = id })
    emu:fail { run.pipeline_run_id }
    local _, err = client:wait(run, FAST)
    assert.is_table(err)
    assert.truthy(tostring(err.message):find("injected failure", 1, true), tostring(err.message))
    local detail = call("codeartspipeline", "show_pipeline_run_detail",
      { project_id = PID, pipeline_id = id, pipeline_run_id = run.pipeline_run_id })
    assert.are.equal("FAILED", detail.status)

    local other = call("codeartspipeline", "run_pipeline", { project_id = PID, pipeline_id = id })
    local stop = call("codeartspipeline", "stop_pipeline_run", { project_id = PID,
      pipeline_id = id, pipeline_run_id = other.pipeline_run_id })
    assert.is_true(stop.success)
    local _, cerr = client:wait(other, FAST)
    assert.is_table(cerr)
    assert.are.equal("CANCELED", call("codeartspipeline", "show_pipeline_run_detail",
      { project_id = PID, pipeline_id = id, pipeline_run_id = other.pipeline_run_id }).status)
    local _, again = client.codeartspipeline:stop_pipeline_run { project_id = PID,
      pipeline_id = id, pipeline_run_id = other.pipeline_run_id }
    assert.are.equal(409, status_of(again))
    local _, nopipe = client.codeartspipeline:run_pipeline { project_id = PID, pipeline_id = "nope" }
    assert.are.equal(404, status_of(nopipe))
    local _, norun = client.codeartspipeline:show_pipeline_run_detail { project_id = PID,
      pipeline_id = id, pipeline_run_id = "nope" }
    assert.are.equal(404, status_of(norun))
  end)

  it("starts from the inventory's pipelines and past runs", function()
    local inv = session.inventory()
    inv.codeartspipeline = {
      pipelines = { { id = "pipe-web", name = "web" } },
      runs = { { id = "run-old", pipeline_id = "pipe-web", run_number = 4, status = "FAILED",
                 start_time = 1764489600000, end_time = 1764489700000 } },
    }
    assert(emu:inventory(inv))
    local old = call("codeartspipeline", "show_pipeline_run_detail", { project_id = PID,
      pipeline_id = "pipe-web", pipeline_run_id = "run-old" })
    assert.are.equal("FAILED", old.status)
    local run = call("codeartspipeline", "run_pipeline", { project_id = PID,
                                                           pipeline_id = "pipe-web" })
    assert.are.equal(5, assert(client:wait(run, FAST)).run_number)
  end)
end)

-- CodeArts Deploy ----------------------------------------------------------

local function task(name)
  return call("codeartsdeploy", "create_deploy_task_by_template", { project_id = PID,
    project_name = "shop", task_name = name, template_id = "tpl-1" }).task_id
end

describe("emulator CodeArts Deploy #server", function()
  it("keeps deployment tasks and applications: create, list, show, delete", function()
    local id = task("deploy-web")
    local _, dup = client.codeartsdeploy:create_deploy_task_by_template { project_id = PID,
      project_name = "shop", task_name = "deploy-web", template_id = "tpl-1" }
    assert.are.equal(409, status_of(dup))
    local app = call("codeartsdeploy", "create_app", { project_id = PID, name = "api",
      is_draft = false, create_type = "template", description = "the api" })
    assert.are.equal("success", app.status)
    local app_task = app.result.arrange_infos[1].id

    local shown = call("codeartsdeploy", "show_deploy_task_detail", { task_id = id })
    assert.are.equal("deploy-web", shown.name)
    assert.are.equal("not_executed", shown.execution_state)
    local tasks = call("codeartsdeploy", "list_deploy_tasks", { project_id = PID, page = 1,
                                                                size = 1 })
    assert.are.equal(2, tasks.total_num)
    assert.are.equal(1, #tasks.result)
    local ids = {}
    for item, err in client:each("codeartsdeploy", "list_deploy_tasks",
                                 { project_id = PID, page = 1, size = 1 }) do
      assert(item, tostring(err))
      ids[#ids + 1] = item.id
    end
    assert.are.same({ id, app_task }, ids)
    local apps = call("codeartsdeploy", "list_all_app", { project_id = PID, page = 1, size = 10 })
    assert.are.equal(2, apps.total_num)
    local detail = call("codeartsdeploy", "show_app_detail_by_id", { app_id = app.result.id })
    assert.are.equal("the api", detail.result.description)
    assert.are.equal(app_task, detail.result.arrange_infos[1].id)

    call("codeartsdeploy", "delete_application", { app_id = app.result.id })
    local _, gone = client.codeartsdeploy:show_deploy_task_detail { task_id = app_task }
    assert.are.equal(404, status_of(gone))
    assert.are.equal(id, call("codeartsdeploy", "delete_deploy_task", { task_id = id }).task_id)
    _, gone = client.codeartsdeploy:show_deploy_task_detail { task_id = id }
    assert.are.equal(404, status_of(gone))
  end)

  it("starts a deployment: running, then succeeded; client:wait follows it", function()
    local id = task("deploy-web")
    local started = call("codeartsdeploy", "start_deploy_task", { task_id = id })
    assert.is_string(started.id)
    assert.are.equal(id, started.task_id)
    local st = call("codeartsdeploy", "show_deploy_status", { task_id = id, record_id = started.id })
    assert.are.equal("running", st.result.status)
    local running = call("codeartsdeploy", "show_deploy_task_detail", { task_id = id })
    assert.truthy(running.execution_state == "pending" or running.execution_state == "running")

    local final = assert(client:wait(started, FAST))
    assert.are.equal("succeeded", final.result.status)
    local shown = call("codeartsdeploy", "show_deploy_task_detail", { task_id = id })
    assert.are.equal("succeeded", shown.execution_state)
    assert.are.equal(1, shown.release_id)
    local today = os.date("!%Y-%m-%d")
    local hist = call("codeartsdeploy", "list_deploy_task_history_by_date", { project_id = PID,
      id = id, page = 1, size = 10, start_date = today, end_date = today })
    assert.are.equal(1, hist.total_num)
    assert.are.equal(started.id, hist.result[1].execution_id)
    local apps = call("codeartsdeploy", "list_all_app", { project_id = PID, page = 1, size = 10,
                                                         states = { "succeeded" } })
    assert.are.equal(1, apps.total_num)
  end)

  it("fails a deployment on POST /_emulator/fail; a draft is not deployed; 404s", function()
    local id = task("deploy-web")
    emu:fail { id }
    local started = call("codeartsdeploy", "start_deploy_task", { task_id = id })
    local _, err = client:wait(started, FAST)
    assert.is_table(err)
    assert.truthy(tostring(err.message):find("injected failure", 1, true), tostring(err.message))
    assert.are.equal("failed", call("codeartsdeploy", "show_deploy_task_detail",
                                    { task_id = id }).execution_state)

    local draft = call("codeartsdeploy", "create_app", { project_id = PID, name = "wip",
      is_draft = true, create_type = "template" })
    local _, derr = client.codeartsdeploy:start_deploy_task {
      task_id = draft.result.arrange_infos[1].id }
    assert.are.equal(400, status_of(derr))
    local _, nostart = client.codeartsdeploy:start_deploy_task { task_id = "nope" }
    assert.are.equal(404, status_of(nostart))
    local _, norec = client.codeartsdeploy:show_deploy_status { task_id = id, record_id = "nope" }
    assert.are.equal(404, status_of(norec))
  end)

  it("starts from the inventory's tasks and past executions", function()
    local inv = session.inventory()
    inv.codeartsdeploy = {
      tasks = { { id = "task-web", name = "web", project_id = PID } },
      records = { { id = "rec-1", task_id = "task-web", number = 1, state = "failed",
                    start_time = "2026-11-30 08:00:00", end_time = "2026-11-30 08:01:00" } },
    }
    assert(emu:inventory(inv))
    local shown = call("codeartsdeploy", "show_deploy_task_detail", { task_id = "task-web" })
    assert.are.equal("failed", shown.execution_state)
    assert.are.equal("failed", call("codeartsdeploy", "show_deploy_status",
      { task_id = "task-web", record_id = "rec-1" }).result.status)
    local started = call("codeartsdeploy", "start_deploy_task", { task_id = "task-web" })
    assert(client:wait(started, FAST))
    assert.are.equal(2, call("codeartsdeploy", "show_deploy_task_detail",
                             { task_id = "task-web" }).release_id)
  end)
end)

describe("emulator delivery state #server", function()
  it("shows every kind in GET /_emulator/state and takes each inventory section", function()
    assert(swr("create_namespace", { namespace = "shop" }))
    new_function("hello")
    local id = pipeline("ship")
    call("codeartspipeline", "run_pipeline", { project_id = PID, pipeline_id = id })
    task("deploy-web")
    local st = assert(emu:state())
    local inv = st.projects[PID].inventory
    assert.are.equal("shop", inv.swr.namespaces[1].id)
    assert.are.equal("hello", inv.functiongraph.functions[1].func_name)
    assert.are.equal(id, inv.codeartspipeline.runs[1].pipeline_id)
    assert.are.equal("deploy-web", inv.codeartsdeploy.tasks[1].name)
    -- the sections as the inventory file takes them
    local shown = assert(emu:admin("GET", "/_emulator/inventory"))
    for _, s in ipairs { "swr", "functiongraph", "codeartspipeline", "codeartsdeploy" } do
      assert.is_table(shown[s], s)
    end
    local body, status = emu:admin("POST", "/_emulator/inventory",
                                   { swr = { namespaces = { { name = "no-id" } } } })
    assert.are.equal(400, status)
    assert.truthy(cjson.encode(body):find("swr.namespaces[1].id", 1, true))
  end)
end)
