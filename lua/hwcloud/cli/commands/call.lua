-- hwcloud call SERVICE OPERATION [field=value ...]: one described call,
-- its answer printed; --wait for the job it starts, --all for every page,
-- --dry-run for the request it would send, --journal to resume.

local pairs, ipairs, rawequal, setmetatable = pairs, ipairs, rawequal, setmetatable

local json = require "hwcloud.json"
local pager = require "hwcloud.pager"
local common = require "hwcloud.cli.common"
local fields = require "hwcloud.cli.fields"
local output = require "hwcloud.cli.output"
local progress = require "hwcloud.cli.progress"
local dryrun = require "hwcloud.cli.dryrun"

local usage, fail = common.usage, common.fail

-- --wait needs an operation that starts a job, --all one that pages
local function check_opts(opts, svc, op)
  if opts.wait and not op.job then
    usage("%s.%s does not start a job: --wait needs one that does", svc.name, op.name)
  end
  if opts.all then
    if opts.wait then usage("--all and --wait do not go together") end
    if opts.journal then usage("--journal and --all do not go together") end
    if not pager.style_of(op) then
      usage("%s.%s has no pages to follow (no offset, marker or page field)", svc.name, op.name)
    end
  end
end

-- The pages through the client's own page walker -> list | nil, err
local function all_pages(client, svc, op, req)
  local list = {}
  for page, err in client:pages(svc.name, op.name, req) do
    if not page then return nil, err end
    list[#list + 1] = page
  end
  return list
end

-- The pages as one answer: the first page with its list (the one the
-- library's pager takes for the items) holding the items of every page.
local function merge_pages(op, list)
  local first = list[1]
  if first == nil then return setmetatable({}, json.array_mt) end
  local items = pager.items_of(op, first)
  local key
  if rawequal(items, first) then
    key = false
  else
    for k, v in pairs(first) do
      if rawequal(v, items) then key = k end
    end
    if key == nil then return first end
  end
  local all = setmetatable({}, json.array_mt)
  for _, page in ipairs(list) do
    for _, it in ipairs(pager.items_of(op, page) or {}) do all[#all + 1] = it end
  end
  if key == false then return all end
  local merged = {}
  for k, v in pairs(first) do merged[k] = v end
  merged[key] = all
  return merged
end

-- --journal: the call as a fan-out of one through the journal -> result |
-- nil, err
local function journaled_call(ctx, client, svc, op, req)
  local r, err = client:parallel({ { svc.name, op.name, req } },
    { journal = ctx.opts.journal, progress = false })
  if not r then return nil, err end
  -- (r.unasked: the journal's other calls; one journal may hold many)
  if r[1].replayed and not ctx.quiet then
    ctx.err(common.PROG .. ": the answer recorded in " .. ctx.opts.journal .. " (not sent again)\n")
  end
  return r[1].result, r[1].err
end

-- the job res started, with one progress line; prints the final job
local function wait_started(ctx, client, res)
  local on_progress, finish = progress.jobs(ctx, 1)
  local o = progress.wait_opts(ctx, on_progress)
  local final, werr
  if ctx.opts.journal then
    o.journal, o.progress = ctx.opts.journal, false
    local r, jerr = client:wait_all({ res }, o)
    if r then final, werr = r[1].result, r[1].err else werr = jerr end
  else
    final, werr = client:wait(res, o)
  end
  finish()
  if final == nil then
    if werr.job then output.answer(ctx, werr.job) end
    return fail(ctx, werr)
  end
  output.answer(ctx, final)
  return 0
end

return function(ctx, pos)
  local svc = common.load_service(pos[1])
  local op = common.find_op(svc, pos[2])
  local opts = ctx.opts
  local req = fields.request_of(op, common.rest(pos, 3),
    opts.json and common.read_json_arg(opts.json) or nil)
  check_opts(opts, svc, op)
  if opts["dry-run"] then
    return dryrun.run(ctx, function(client)
      local proxy = client[svc.name]
      return proxy[op.name](proxy, req)
    end)
  end
  local client = ctx.client_factory()
  if opts.all then
    local list, err = all_pages(client, svc, op, req)
    if not list then return fail(ctx, err) end
    output.answer(ctx, merge_pages(op, list), op.response)
    return 0
  end
  local res, err
  if opts.journal then
    res, err = journaled_call(ctx, client, svc, op, req)
  else
    local proxy = client[svc.name]
    res, err = proxy[op.name](proxy, req)
  end
  if res == nil then return fail(ctx, err) end
  if not opts.wait then
    output.answer(ctx, res, op.response)
    return 0
  end
  return wait_started(ctx, client, res)
end
