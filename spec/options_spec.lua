-- hwcloud.options, the one rule for options tables, and every entry point
-- that takes one: the client, a call, wait, wait_all and parallel. A bad
-- option is nil, err (kind validation, the option named, the rule said,
-- a misspelt name with its suggestion) and nothing is sent: the on_request
-- hook, called for every try, never fires, and the endpoint is a closed
-- loopback port, so a call that went ahead would end as a transport error.

package.path = "./?.lua;" .. package.path

local hwcloud = require "hwcloud"
local options = require "hwcloud.options"
local helpers = require "spec.helpers.util"

describe("hwcloud.options", function()
  local set = options.declare {
    timeout = options.positive(), retries = options.between("integer", 0, 10),
    label = options.string, on_progress = options.func,
    transport = options.one_of("string", { "curl", "ngx" }),
  }

  local function refuses(opts, field, message)
    local ok, err = options.check(set, opts, { prefix = "opts.", field = "opts",
                                               service = "svc", operation = "op" })
    assert.is_nil(ok)
    assert.equal("validation", err.kind)
    assert.equal(field, err.field)
    assert.equal(message, err.message)
    assert.equal("svc", err.service)
    assert.equal("op", err.operation)
    return err
  end

  it("accepts good options and nil (an empty table)", function()
    local opts = { timeout = 2.5, retries = 3, label = "x", on_progress = print, transport = "ngx" }
    assert.equal(opts, options.check(set, opts))
    assert.same({}, options.check(set, nil))
  end)

  it("names a misspelt option with the closest known name", function()
    refuses({ timout = 1 }, "opts.timout", 'unknown field (did you mean "timeout"?)')
    refuses({ lable = "x" }, "opts.lable", 'unknown field (did you mean "label"?)')
    refuses({ zzzzzzzz = 1 }, "opts.zzzzzzzz", "unknown field")
    refuses({ [1] = true }, "opts.1", "unknown field")
  end)

  it("says the type a wrong value should have", function()
    refuses({ timeout = "1" }, "opts.timeout", "expected number, got string")
    refuses({ retries = 1.5 }, "opts.retries", "expected integer, got number 1.5")
    refuses({ label = {} }, "opts.label", "expected string, got object")
    refuses({ on_progress = "print" }, "opts.on_progress", "expected function, got string")
    refuses(5, "opts", "expected a table, got number")
  end)

  it("says the rule a value breaks", function()
    refuses({ timeout = 0 }, "opts.timeout", "must be greater than 0")
    refuses({ timeout = 0 / 0 }, "opts.timeout", "must be greater than 0")
    refuses({ timeout = math.huge }, "opts.timeout", "must be greater than 0")
    refuses({ retries = 11 }, "opts.retries", "must be between 0 and 10")
    refuses({ transport = "h3" }, "opts.transport", 'must be one of "curl", "ngx"')
  end)

  it("reports the same problem for the same table, unknown names first", function()
    for _ = 1, 20 do
      refuses({ timeout = "x", zeta = 1, alpha = 2 }, "opts.alpha", "unknown field")
    end
  end)

  it("merges sets and picks a set's options out of a table", function()
    local more = options.merge(set, options.declare { concurrency = options.count })
    assert.truthy(options.check(more, { concurrency = 2, timeout = 1 }))
    assert.same({ timeout = 1 }, options.pick(set, { concurrency = 2, timeout = 1 }))
  end)
end)

describe("options at every entry point", function()
  local port = helpers.closed_port()
  local sent = 0
  local client = assert(hwcloud.client {
    endpoint = "http://127.0.0.1:" .. port, ak = "AK", sk = "SK", project_id = "p1",
    retries = 0, progress = false, connect_timeout = 2, timeout = 5,
    on_request = function() sent = sent + 1 end,
  })
  before_each(function() sent = 0 end)

  local function refused(field, message, res, err)
    assert.is_nil(res)
    assert.equal("validation", err.kind)
    assert.equal(field, err.field)
    if message then assert.equal(message, err.message) end
    assert.equal(0, sent)
  end

  it("the client", function()
    refused("timout", 'unknown field (did you mean "timeout"?)',
      hwcloud.client { endpoint = "http://127.0.0.1:1", ak = "a", sk = "b", timout = 1 })
    refused("retries", "must be between 0 and 10",
      hwcloud.client { endpoint = "http://127.0.0.1:1", ak = "a", sk = "b", retries = 11 })
    refused("on_retry", "expected function, got string",
      hwcloud.client { endpoint = "http://127.0.0.1:1", ak = "a", sk = "b", on_retry = "x" })
  end)

  it("a call", function()
    refused("opts.retires", 'unknown field (did you mean "retries"?)',
      client.workspaceapp:show_job_detail({ job_id = "j" }, { retires = 1 }))
    refused("opts.timeout", "must be greater than 0",
      client.workspaceapp:show_job_detail({ job_id = "j" }, { timeout = -1 }))
  end)

  it("wait", function()
    local job = { service = "workspaceapp", job_id = "j" }
    refused("opts.timout", 'unknown field (did you mean "timeout"?)',
      client:wait(job, { timout = 1 }))
    refused("opts.interval", "expected a number of seconds above 0, got 0",
      client:wait(job, { interval = 0 }))
    refused("opts", "expected a table, got string", client:wait(job, "fast"))
  end)

  it("wait_all", function()
    local jobs = { { service = "workspaceapp", job_id = "j" } }
    refused("opts.timout", 'unknown field (did you mean "timeout"?)',
      client:wait_all(jobs, { timout = 1 }))
    refused("opts.concurency", 'unknown field (did you mean "concurrency"?)',
      client:wait_all(jobs, { concurency = 4 }))
    refused("opts.concurrency", "must be a whole number of 1 or more, got 0.5",
      client:wait_all(jobs, { concurrency = 0.5 }))
  end)

  it("parallel", function()
    local calls = { { "workspaceapp", "show_job_detail", { job_id = "j" } } }
    refused("opts.concurency", 'unknown field (did you mean "concurrency"?)',
      client:parallel(calls, { concurency = 4 }))
    refused("opts.progress", 'must be "auto", "live", "plain", false or a function',
      client:parallel(calls, { progress = 3 }))
    refused("opts.label", "expected string, got number", client:parallel(calls, { label = 1 }))
    -- wait's options are not parallel's
    refused("opts.interval", nil, client:parallel(calls, { interval = 1 }))
  end)

  it("lets good options through to the call (which fails on the closed port)", function()
    local res, err = client.workspaceapp:show_job_detail({ job_id = "j" }, { timeout = 2 })
    assert.is_nil(res)
    assert.equal("transport", err.kind)
    assert.equal(1, sent)
  end)
end)
