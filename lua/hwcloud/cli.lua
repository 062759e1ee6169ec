-- hwcloud.cli: the `hwcloud` command (bin/hwcloud) as a module, so that its
-- parsing, typing and printing can be tested and reused.
--
--   local code = require("hwcloud.cli").main(arg)   -- 0, 1 or 2
--
-- main(args, sys) reads nothing global but through `sys` (stdout, stderr,
-- getenv, isatty, client); every output goes through one writer that masks
-- the configured secrets, whatever printed them.

local type, pairs, ipairs, tostring, tonumber, pcall, error, require, setmetatable, getmetatable =
  type, pairs, ipairs, tostring, tonumber, pcall, error, require, setmetatable, getmetatable
local concat, sort = table.concat, table.sort
local format, rep = string.format, string.rep
local tointeger = math.tointeger

local errors = require "hwcloud.errors"
local services = require "hwcloud.services"

local _M = {}

local PROG = "hwcloud"

-- Usage and validation problems travel as this, caught in main (exit 2).
local Usage = {}
Usage.__index = Usage
Usage.__tostring = function(u) return u.message end

local function usage(fmt, ...)
  error(setmetatable({ message = format(fmt, ...) }, Usage), 0)
end

------------------------------------------------------------------ help

local GLOBAL_HELP = [[
Options (every command):
  --region REGION       region (default: HUAWEICLOUD_SDK_REGION)
  --endpoint URL        one base URL for every service (default: HWCLOUD_ENDPOINT)
  --profile NAME        a [NAME] section of ~/.huaweicloud/credentials
                        (HUAWEICLOUD_SDK_CREDENTIALS_FILE names another file)
  --project-id ID       project id (default: HUAWEICLOUD_SDK_PROJECT_ID)
  --timeout SECONDS     per request (default 30)
  --retries N           tries after the first for a failed request (default 2)
  --ca-file PATH        CA certificates to trust (default: HWCLOUD_CA_FILE)
  --quiet               no progress on stderr
  -h, --help            this help, or a command's
  --version             the version of hwcloud
Credentials, the first source that has them:
  1. --profile NAME (its ak, sk, security_token, project_id, region);
  2. the environment: HUAWEICLOUD_SDK_AK, _SK[, _SECURITY_TOKEN, _PROJECT_ID,
     _DOMAIN_ID];
  3. the credentials file's [basic] (or [global]) section;
  4. the ECS metadata service (the instance agency's temporary keys).
Exit status: 0 success, 1 the cloud or the network refused, 2 usage or validation.]]

local HELP = {
  main = [=[
usage: hwcloud COMMAND [ARGS] [OPTIONS]

Commands:
  ops [SERVICE]                       the services, or a service's operations
  describe SERVICE OPERATION          an operation's method, path and fields
  call SERVICE OPERATION [field=value ...] [--json JSON|@FILE]
       [--wait] [--all] [--dry-run] [--journal PATH]
                                      call an operation, print its answer as JSON
  wait SERVICE JOB_ID ... [field=value ...]
                                      wait for jobs to end
  wait-for SERVICE WAITER [field=value ...]
                                      wait for a resource to reach a state
  request METHOD PATH --service S [--query k=v ...] [--json JSON|@FILE] [--dry-run]
                                      a request to any path of a service
  endpoints SERVICE ...               the URL each service is reached at
  run SCRIPT.lua [ARGS ...]           run a workflow script with a ready client
  obs cp SRC DST | obs ls [obs://BUCKET[/PREFIX]] | obs mb obs://BUCKET
                                      copy files to and from object storage, list it
  completion bash                     print the bash completion script

`hwcloud COMMAND --help` says more about each.]=],
  ops = [=[
usage: hwcloud ops [SERVICE]

Without SERVICE: the services, one a line. With SERVICE: its operations, one
a line, with method and path; aliases as "alias -> operation".]=],
  describe = [=[
usage: hwcloud describe SERVICE OPERATION

The method, the path and every request and response field, by the dotted name
`call` takes (spec.ingress.port), with its type, `required`, where it goes
(path, query, header, body) and its allowed values.]=],
  call = [=[
usage: hwcloud call SERVICE OPERATION [field=value ...] [--json JSON|@FILE]
                    [--wait [--wait-timeout S]] [--all] [--dry-run] [--journal PATH]

Fields are typed from the operation's description:
  update_access_agent=false   a boolean (true or false)
  limit=10                    an integer; number fields take 1.5
  spec.ingress.port=80        a field of a nested object
  names=a names=b             an array: repeat the field, one element each
  input_values:='{"k":1}'     `:=` takes the value as JSON, whatever the type
Anything else is a string. --json gives the request as one JSON object (or
@FILE to read it from a file); field=value pairs are set on top of it.
The request is validated before it is sent, with the library's errors.

  --wait          when the operation starts a job, wait for it to end (progress
                  on stderr) and print the job's final state
  --wait-timeout  seconds to wait (default 1800)
  --all           follow the pages of a list operation and print every item
  --dry-run       print the request (method, URL, headers, body) with the
                  signature and secrets masked, and send nothing
  --query PATH    print only this part of the answer: `job_id`, `items[].id`
                  (every element), `items[0].name` (one element, from 0)
  --output FMT    json (default), table (columns with a header) or tsv
  --journal PATH  record the call (and its --wait) in the journal PATH: run
                  again after a crash, an answered call is not sent again and
                  one sent without a recorded answer is not repeated when it
                  is not safe to (see client:parallel's journal)]=],
  wait = [=[
usage: hwcloud wait SERVICE JOB_ID ... [field=value ...] [--wait-timeout S]

Waits for jobs of SERVICE to end (any service with jobs: ecs, cce, rds, elb,
...; the id is the one its job-starting operations answer), with one
progress line on stderr; prints {"<id>": final job, ...}. field=value pairs
give what the service's poll needs besides the id (cse engine_id=...,
codeartspipeline pipeline_id=..., codeartsdeploy task_id=...).
Exit 0 when every job succeeded, 1 when one failed or timed out.]=],
  ["wait-for"] = [=[
usage: hwcloud wait-for SERVICE WAITER [field=value ...] [--json JSON|@FILE]
                        [--wait-timeout S]

Polls the resource the fields name until it is in the WAITER's state, with
one progress line on stderr, and prints its last answer (true when a waiter
that accepts a deleted resource found it gone). Fields are typed as `call`
types them, from the waiter's operation. Without WAITER: lists SERVICE's
waiters (ecs: server_active, server_shutoff, server_deleted).
Exit 0 when the state was reached, 1 when it failed or timed out.]=],
  request = [=[
usage: hwcloud request METHOD PATH --service SERVICE [--query k=v ...]
                       [--json JSON|@FILE] [--dry-run]

Sends a signed request to PATH of SERVICE's endpoint ({project_id} in PATH is
the project id) and prints the answer as JSON.]=],
  endpoints = [=[
usage: hwcloud endpoints SERVICE ...

Prints the URL each SERVICE is reached at with these options (--region,
--endpoint): the catalog's host for the region, or for a service the catalog
lacks the host made from its name, as `hwcloud request` uses it.]=],
  run = [=[
usage: hwcloud run [--journal PATH] SCRIPT.lua [ARGS ...]

Runs SCRIPT.lua with a client made from the same options. The script gets
the client and its arguments as its varargs, with no global:

  local client, server_id = ...
  local job = assert(client.workspaceapp:reinstall_server{ server_id = server_id })
  assert(client:wait(job))

(`arg` is set as lua5.4 sets it.) A script that raises exits 1; one that
returns an integer exits with it; otherwise 0. Options go before SCRIPT.
--journal PATH: the script's client:parallel and client:wait_all calls use
the journal PATH unless they name their own, so the script run again after a
crash resumes where it was (each fan-out keyed apart by its label).]=],
  obs = [=[
usage: hwcloud obs cp FILE obs://BUCKET/KEY      upload (in parts when large)
       hwcloud obs cp obs://BUCKET/KEY FILE      download
       hwcloud obs ls [obs://BUCKET[/PREFIX]]    the buckets, or a bucket's keys
       hwcloud obs mb obs://BUCKET               make a bucket

Files stream from and to disk; a file over 64 MiB goes up, and an object
over 16 MiB comes down, in parts of 16 MiB, four at a time, with progress
on stderr. ls prints one line per key (size, date, key) and
one per common prefix ("PRE prefix/"), as far as the next "/".]=],
  completion = [=[
usage: hwcloud completion bash

Prints the bash completion script (services, operations, fields, options):
  eval "$(hwcloud completion bash)"               # in ~/.bashrc, or
  hwcloud completion bash > ~/.local/share/bash-completion/completions/hwcloud]=],
}

------------------------------------------------------------------ options

-- name -> { arg = takes a value, multi = may repeat, commands = where allowed }
local OPTS = {
  region = { arg = true }, endpoint = { arg = true }, profile = { arg = true },
  ["project-id"] = { arg = true }, timeout = { arg = true }, retries = { arg = true },
  ["ca-file"] = { arg = true }, quiet = {}, help = {}, version = {},
  json = { arg = true, commands = { call = true, request = true, ["wait-for"] = true } },
  wait = { commands = { call = true } },
  ["wait-timeout"] = { arg = true, commands = { call = true, wait = true, ["wait-for"] = true } },
  all = { commands = { call = true } },
  ["dry-run"] = { commands = { call = true, request = true } },
  journal = { arg = true, commands = { call = true, run = true } },
  service = { arg = true, commands = { request = true } },
  -- request: the URL's k=v; call and wait: the field selector
  query = { arg = true, multi = true,
            commands = { request = true, call = true, wait = true, ["wait-for"] = true } },
  output = { arg = true, commands = { call = true, wait = true, ["wait-for"] = true, request = true } },
}
_M.OPTIONS = OPTS

local COMMANDS = { "ops", "describe", "call", "wait", "wait-for", "request", "endpoints", "run",
                   "obs", "completion" }
-- the commands that make a client (and check its options first)
local NEEDS_CLIENT = { call = true, wait = true, ["wait-for"] = true, request = true, run = true,
                       obs = true, endpoints = true }
local IS_COMMAND = {}
for _, c in ipairs(COMMANDS) do IS_COMMAND[c] = true end

-- " (did you mean 'x'?)" or "": the library's one rule for suggestions
local suggest = require("hwcloud.suggest").hint

local function unknown_option(a)
  local names = {}
  for k in pairs(OPTS) do names[#names + 1] = "--" .. k end
  sort(names)
  usage("unknown option '%s'%s", a, suggest(a, names))
end

local function store_option(opts, name, spec, value)
  if spec.multi then
    local list = opts[name] or {}
    list[#list + 1] = value
    opts[name] = list
  elseif opts[name] ~= nil then
    usage("option --%s given twice", name)
  else
    opts[name] = value
  end
end

-- the option at args[i] (--name, --name=value or --name value) into r.opts;
-- -> the index of its last word
local function parse_option(r, args, i)
  local a = args[i]
  local name, value = a:match("^%-%-([^=]+)=(.*)$")
  if not name then name = a:match("^%-%-(.+)$") end
  local spec = name and OPTS[name]
  if not spec then unknown_option(a) end
  if spec.arg then
    if value == nil then
      i = i + 1
      value = args[i]
      if value == nil then usage("option --%s needs a value", name) end
    end
  elseif value ~= nil then
    usage("option --%s takes no value", name)
  else
    value = true
  end
  store_option(r.opts, name, spec, value)
  return i
end

-- parse(args) -> { command, positional = {...}, opts = {...} }.
-- Options may come anywhere; `--` ends them; for `run`, everything after the
-- script belongs to the script.
local function parse(args)
  local r = { positional = {}, opts = {} }
  local i, n = 1, #args
  local only_positional = false
  while i <= n do
    local a = args[i]
    if only_positional or a == "-" or a:sub(1, 1) ~= "-" then
      local p = r.positional
      if not r.command then
        r.command = a
      else
        p[#p + 1] = a
      end
      if r.command == "run" and #p >= 1 then
        -- the script's own arguments, options included
        for j = i + 1, n do p[#p + 1] = args[j] end
        break
      end
    elseif a == "--" then
      only_positional = true
    elseif a == "-h" then
      r.opts.help = true
    else
      i = parse_option(r, args, i)
    end
    i = i + 1
  end
  return r
end
_M.parse = parse

------------------------------------------------------------------ JSON

local null = require("cjson").null
local json_decode = require("hwcloud.core").decode

-- the metatable of an array this command built (an empty one prints as [])
local ARRAY = {}

local function is_array(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  if n == 0 then return false end
  for k = 1, n do
    if t[k] == nil then return false end
  end
  return true
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
              ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESC[c] or format("\\u%04x", c:byte())
  end) .. '"'
end

local function number(v)
  if tointeger(v) and math.type(v) == "integer" then return format("%d", v) end
  if v ~= v or v == math.huge or v == -math.huge then return "null" end
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return format("%d", tointeger(v)) end
  local s = format("%.14g", v)
  if tonumber(s) ~= v then s = format("%.17g", v) end
  return s
end

-- The schema node under `key` of `schema`, to tell an empty array from an
-- empty object (a decoded [] and {} are both an empty table).
local function sub(schema, key)
  if type(schema) ~= "table" then return nil end
  if schema.type == "array" then return schema.items end
  if schema.fields and type(key) == "string" then return schema.fields[key] end
  if schema.type == "map" then return schema.values end
  return nil
end

-- an empty table: [] when the schema says array or this command built it
-- as one, else {}
local function empty_json(v, schema)
  if getmetatable(v) == ARRAY then return "[]" end
  return (type(schema) == "table" and schema.type == "array") and "[]" or "{}"
end

-- encode(value, indent, schema) -> JSON text; keys sorted, so output is stable.
local function encode(v, indent, schema, depth, seen)
  depth = depth or 0
  local t = type(v)
  if v == null or v == nil then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then return number(v) end
  if t == "string" then return quote(v) end
  if t ~= "table" then return quote(tostring(v)) end
  seen = seen or {}
  if seen[v] then return '"(cycle)"' end
  seen[v] = true
  local nl, pad, pad_in, colon = "", "", "", ":"
  if indent then
    nl, pad, pad_in, colon = "\n", rep("  ", depth), rep("  ", depth + 1), ": "
  end
  local out
  if next(v) == nil then
    out = empty_json(v, schema)
  elseif is_array(v) then
    local parts = {}
    for i = 1, #v do parts[i] = pad_in .. encode(v[i], indent, sub(schema, i), depth + 1, seen) end
    out = "[" .. nl .. concat(parts, "," .. nl) .. nl .. pad .. "]"
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do
      local val = v[k]
      if val == nil then val = v[tonumber(k)] end
      parts[i] = pad_in .. quote(k) .. colon .. encode(val, indent, sub(schema, k), depth + 1, seen)
    end
    out = "{" .. nl .. concat(parts, "," .. nl) .. nl .. pad .. "}"
  end
  seen[v] = nil
  return out
end
_M.encode = encode

-- Reads --json: inline text, or @FILE.
local function read_json_arg(text, what)
  what = what or "--json"
  if text:sub(1, 1) == "@" then
    local path = text:sub(2)
    local f, ferr = io.open(path, "rb")
    if not f then usage("%s: cannot read %s: %s", what, path, tostring(ferr)) end
    text = f:read("a")
    f:close()
  end
  local v, derr = json_decode(text)
  if v == nil then usage("%s: not valid JSON: %s", what, tostring(derr)) end
  if type(v) ~= "table" or (next(v) ~= nil and is_array(v)) then
    usage("%s: expected a JSON object", what)
  end
  return v
end

------------------------------------------------------------------ services

local function load_service(name)
  local svc = name and services.load(name)
  if not svc then
    if name == nil then usage("a service is needed (hwcloud ops lists them)") end
    local why = services.excluded(name)
    if why then usage("service '%s' is not in the catalog: %s (hwcloud request reaches it)", name, why) end
    usage("unknown service '%s'%s", name, suggest(name, services.names()))
  end
  return svc
end

local function operation_names(svc)
  local names = {}
  for n in pairs(svc.all) do names[#names + 1] = n end
  for n in pairs(svc.aliases or {}) do names[#names + 1] = n end
  sort(names)
  return names
end

-- The operation called `name` in svc, through its aliases too.
local function find_op(svc, name)
  if name == nil then usage("an operation of %s is needed (hwcloud ops %s lists them)",
    svc.name, svc.name) end
  local target = svc.aliases and svc.aliases[name]
  local op = target and svc.operations[target]
  if op then return op, target end
  op = svc.operations[name]
  if op then return op end
  usage("%s has no operation '%s'%s", svc.name, name, suggest(name, operation_names(svc)))
end

------------------------------------------------------------------ typing

-- value(node, raw) -> the Lua value of `raw` for a field of schema `node`.
-- A string that does not fit the type is kept as is: the library's
-- validation then names the field and the rule.
local function typed(node, raw)
  local t = type(node) == "table" and node.type or nil
  if t == "boolean" then
    if raw == "true" then return true end
    if raw == "false" then return false end
  elseif t == "integer" then
    if raw:match("^[+-]?%d+$") then
      local v = tointeger(tonumber(raw))
      if v then return v end
    end
  elseif t == "number" then
    -- decimal only: not 0x10, inf or nan
    local v = tonumber(raw)
    if v and not raw:find("[xXnN]") then return v end
  elseif t == "any" or t == "map" or (t == "object" and not node.fields) then
    -- free-form: JSON when it reads as JSON, else text
    local v = json_decode(raw)
    if v ~= nil and raw:match("^%s*[%[{\"%d%-tfn]") then return v end
  end
  return raw
end
_M.typed = typed

local function child(node, key)
  if type(node) ~= "table" then return nil end
  if node.fields then return node.fields[key] end
  if node.type == "map" then return node.values end
  return nil
end

-- "a.b.c" -> { "a", "b", "c" }
local function segments(key)
  local segs = {}
  for seg in (key .. "."):gmatch("([^.]*)%.") do
    if seg == "" then usage("field '%s': empty name between dots", key) end
    segs[#segs + 1] = seg
  end
  return segs
end

-- down to the table that holds the last segment (made on the way);
-- -> the schema node and the table of the last segment's parent
local function walk(req, schema, key, segs)
  local node, t = schema, req
  for i = 1, #segs - 1 do
    node = child(node, segs[i])
    if type(node) == "table" and node.type == "array" then
      usage("field '%s': '%s' is an array of objects; give it with --json or %s:=[...]",
        key, concat(segs, ".", 1, i), concat(segs, ".", 1, i))
    end
    local nxt = t[segs[i]]
    if nxt == nil then
      nxt = {}
      t[segs[i]] = nxt
    elseif type(nxt) ~= "table" then
      usage("field '%s': '%s' is already set to a value", key, concat(segs, ".", 1, i))
    end
    t = nxt
  end
  return node, t
end

-- assign(req, schema, "a.b.c=v" | "a.b:=json", given): `given` holds the
-- keys set so far on the command line, which may override --json but not
-- each other (but for arrays, where a repeat adds an element).
local function assign(req, schema, pair, given)
  given = given or {}
  local key, raw = pair:match("^([^=]-):=(.*)$")
  local as_json = key ~= nil
  if not key then key, raw = pair:match("^([^=]+)=(.*)$") end
  if not key or key == "" then
    usage("expected field=value, got '%s'", pair)
  end
  local segs = segments(key)
  local node, t = walk(req, schema, key, segs)
  local last = segs[#segs]
  node = child(node, last)
  local value
  if as_json then
    local v, derr = json_decode(raw)
    if v == nil then usage("field '%s': not valid JSON after ':=': %s", key, tostring(derr)) end
    value = v
  end
  if not as_json and type(node) == "table" and node.type == "array" then
    -- repeated field=value: one element each
    local list = t[last]
    if not given[key] or type(list) ~= "table" then
      list = {}
      t[last] = list
    end
    given[key] = true
    list[#list + 1] = typed(node.items, raw)
    return
  end
  if given[key] then
    usage("field '%s' is set twice (repeat a field only for arrays)", key)
  end
  given[key] = true
  if value == nil then value = typed(node, raw) end
  t[last] = value
end
_M.assign = assign

-- request_of(op, pairs, json) -> the flat request table
local function request_of(op, list, json)
  local req, given = json or {}, {}
  for _, p in ipairs(list) do assign(req, op.request, p, given) end
  return req
end
_M.request_of = request_of

------------------------------------------------------------------ describe

local LOC = { path = "path", query = "query", header = "header", whole_body = "whole body" }

local function type_name(node)
  if type(node) ~= "table" then return "any" end
  local t = node.type or "any"
  if t == "array" then return "array of " .. type_name(node.items) end
  if t == "map" then return "map of " .. type_name(node.values) end
  if t == "object" and not node.fields then return "object (free-form)" end
  return t
end

-- through arrays and maps to the object whose fields are listed, the
-- prefix growing "[]" or ".*" each; -> nil when there is none
local function fields_holder(node, prefix)
  local container = node
  while container.type == "array" or container.type == "map" do
    local inner = container.type == "array" and container.items or container.values
    if type(inner) ~= "table" then return nil end
    prefix = prefix .. (container.type == "array" and "[]" or ".*")
    container = inner
  end
  if not container.fields then return nil end
  return container, prefix
end

-- "  required  query  one of: a, b" or ""
local function field_notes(f)
  if type(f) ~= "table" then return "" end
  local extra = {}
  if f.required then extra[#extra + 1] = "required" end
  if f.location and LOC[f.location] then extra[#extra + 1] = LOC[f.location] end
  local e = f.enum or (f.type == "array" and type(f.items) == "table" and f.items.enum)
  if e then
    local vals = {}
    for i, v in ipairs(e) do vals[i] = tostring(v) end
    extra[#extra + 1] = "one of: " .. concat(vals, ", ")
  end
  return #extra > 0 and ("  " .. concat(extra, "  ")) or ""
end

-- Lines "name  type  required  location  enum" for every field under node,
-- by dotted name; `stack` holds the nodes being printed, so a recursive
-- model is printed once and then named.
local function field_lines(node, prefix, lines, stack)
  if type(node) ~= "table" then return lines end
  local container
  container, prefix = fields_holder(node, prefix)
  if not container then return lines end
  if stack[container] then
    lines[#lines + 1] = { prefix .. ".…", "(recursive: as " .. stack[container] .. ")" }
    return lines
  end
  stack[container] = prefix ~= "" and prefix or "the top"
  local names = {}
  for k in pairs(container.fields) do names[#names + 1] = k end
  sort(names)
  for _, k in ipairs(names) do
    local f = container.fields[k]
    local name = prefix == "" and k or (prefix .. "." .. k)
    lines[#lines + 1] = { name, type_name(f) .. field_notes(f) }
    field_lines(f, name, lines, stack)
  end
  stack[container] = nil
  return lines
end
_M.field_lines = field_lines

local function table_text(lines, indent)
  local w = 0
  for _, l in ipairs(lines) do if #l[1] > w then w = #l[1] end end
  local out = {}
  for i, l in ipairs(lines) do out[i] = indent .. l[1] .. rep(" ", w - #l[1] + 2) .. l[2] end
  return concat(out, "\n")
end

------------------------------------------------------------------ output

-- A writer that masks every configured secret in whatever it writes.
local function writer(fh, secrets)
  return function(s)
    for _, sec in ipairs(secrets) do
      local pattern = sec:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
      -- a secret of a few characters is masked where it stands alone, not
      -- inside every word that holds those letters ("SDK-HMAC-SHA256")
      if #sec < 4 then pattern = "%f[%w]" .. pattern .. "%f[%W]" end
      s = s:gsub(pattern, "****")
    end
    fh:write(s)
    if fh.flush then fh:flush() end
  end
end

------------------------------------------------------------------ context

-- The section `name` of the official SDKs' credentials file.
local function read_profile(getenv, name)
  local path = getenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE")
  if not path or path == "" then
    local home = getenv("HOME")
    path = (home or "") .. "/.huaweicloud/credentials"
  end
  local f = io.open(path, "r")
  if not f then usage("--profile %s: cannot read %s", name, path) end
  -- (a folder opens, and fails to read)
  local data = f:read("*a")
  f:close()
  if not data then usage("--profile %s: cannot read %s", name, path) end
  if data:sub(1, 3) == "\239\187\191" then data = data:sub(4) end -- a UTF-8 BOM
  local want, current, found = name:lower(), nil, nil
  for line in data:gmatch("[^\n]+") do
    line = line:gsub("^%s+", ""):gsub("%s+$", "")
    local sec = line:match("^%[(.-)%]$")
    if sec then
      current = sec:lower() == want
      if current then found = found or {} end
    elseif current and not line:match("^[#;]") then
      local k, v = line:match("^([^=]-)%s*=%s*(.*)$")
      if k and v ~= "" then found[k:lower()] = v end
    end
  end
  if not found then usage("--profile %s: no [%s] section in %s", name, name, path) end
  if not found.ak or not found.sk then
    usage("--profile %s: the section needs ak and sk", name)
  end
  return found
end

local function number_opt(opts, name, integer)
  local v = opts[name]
  if v == nil then return nil end
  local n = tonumber(v)
  if integer then n = n and tointeger(n) end
  if not n or n < 0 then
    usage("option --%s: expected %s, got '%s'", name,
      integer and "a whole number >= 0" or "a number of seconds", v)
  end
  return n
end

-- client options from the command line, the environment and the profile
local function client_options(opts, getenv)
  local o = {
    region = opts.region,
    endpoint = opts.endpoint or getenv("HWCLOUD_ENDPOINT"),
    -- (which of the two the endpoint came from, for its errors)
    endpoint_from = opts.endpoint and "endpoint" or "HWCLOUD_ENDPOINT",
    project_id = opts["project-id"],
    -- (without it, hwcloud.client reads HWCLOUD_CA_FILE)
    ca_file = opts["ca-file"],
    timeout = number_opt(opts, "timeout"),
    retries = number_opt(opts, "retries", true),
    progress = false,
  }
  if o.endpoint == "" then o.endpoint = nil end
  if opts.profile then
    local p = read_profile(getenv, opts.profile)
    o.ak, o.sk, o.security_token = p.ak, p.sk, p.security_token
    o.project_id = o.project_id or p.project_id
    o.region = o.region or p.region
  end
  return o
end

-- the client's configuration, checked; a bad endpoint named where it came
-- from (--endpoint or HWCLOUD_ENDPOINT)
local function new_config(copts, core)
  local from = copts.endpoint_from
  copts.endpoint_from = nil
  local cfg, cerr = require("hwcloud.config").new(copts, core)
  if not cfg and errors.is(cerr) and cerr.field == "endpoint" then cerr.field = from end
  return cfg, cerr
end

local function exit_for(err)
  if errors.is(err) and err.kind == "validation" then return 2 end
  return 1
end

------------------------------------------------------------------ commands

local C = {}

function C.ops(ctx, pos)
  if #pos > 1 then usage("ops takes at most one service") end
  if #pos == 0 then
    ctx.out(concat(services.names(), "\n") .. "\n")
    return 0
  end
  local svc = load_service(pos[1])
  local lines = {}
  local names = {}
  for n in pairs(svc.all) do names[#names + 1] = n end
  sort(names)
  for _, n in ipairs(names) do
    local op = svc.operations[n]
    lines[#lines + 1] = { n, tostring(op.method) .. " " .. tostring(op.path) }
  end
  local aliases = {}
  for a in pairs(svc.aliases or {}) do aliases[#aliases + 1] = a end
  sort(aliases)
  for _, a in ipairs(aliases) do
    lines[#lines + 1] = { a, "-> " .. tostring(svc.aliases[a]) }
  end
  ctx.out(table_text(lines, "") .. "\n")
  return 0
end

function C.describe(ctx, pos)
  if #pos > 2 then usage("describe takes a service and an operation") end
  local svc = load_service(pos[1])
  local op, target = find_op(svc, pos[2])
  local head = svc.name .. "." .. op.name
  if target then head = head .. " (alias " .. pos[2] .. ")" end
  local text = { head, tostring(op.method) .. " " .. tostring(op.path) }
  if op.job then text[#text + 1] = "starts a job: call --wait waits for it" end
  text[#text + 1] = "reference: " .. services.reference_url(svc, op)
  local req = field_lines(op.request, "", {}, {})
  text[#text + 1] = ""
  text[#text + 1] = "request:" .. (#req == 0 and " (no fields)" or "")
  if #req > 0 then text[#text + 1] = table_text(req, "  ") end
  local res = field_lines(op.response, "", {}, {})
  text[#text + 1] = ""
  text[#text + 1] = "response: " .. type_name(op.response)
  if #res > 0 then text[#text + 1] = table_text(res, "  ") end
  ctx.out(concat(text, "\n") .. "\n")
  return 0
end

-- obs cp / obs ls: object storage from the shell (hwcloud.obs).
local function obs_url(s)
  local bucket, key = s:match("^obs://([^/]+)/?(.*)$")
  return bucket, key
end

local PART_THRESHOLD = 64 * 1024 * 1024

local function obs_failed(ctx, err)
  ctx.err(tostring(err) .. "\n")
  return exit_for(err)
end

-- long transfers show their parts as fan-outs do, unless --quiet
local function obs_progress(ctx)
  if ctx.quiet then return false end
  return ctx.err_tty and "live" or "plain"
end

local function obs_upload(ctx, client, file, bucket, key)
  if key == "" or key:sub(-1) == "/" then key = key .. (file:match("([^/]+)$") or file) end
  local info = require("hwcloud.core").file_info(file)
  local res, err
  if info and info.size > PART_THRESHOLD then
    res, err = client.obs:upload_file({ bucket = bucket, key = key, file = file,
      part_size = 16 * 1024 * 1024, concurrency = 4 },
      { progress = obs_progress(ctx) })
  else
    res, err = client.obs:put_object{ bucket = bucket, key = key, file = file }
  end
  if not res then return obs_failed(ctx, err) end
  ctx.out(format("upload: %s -> obs://%s/%s (%.0f bytes)\n", file, bucket, key,
    info and info.size or 0))
  return 0
end

local function obs_cp(ctx, client, a, b)
  local sb, sk = obs_url(a)
  local db, dk = obs_url(b)
  if db and not sb then return obs_upload(ctx, client, a, db, dk) end
  if not sb or db then
    usage("obs cp: one of the two must be obs://BUCKET/KEY and the other a file")
  end
  if sk == "" then usage("obs cp: %s names no key", a) end
  local res, err = client.obs:download_file({ bucket = sb, key = sk, file = b,
    part_size = 16 * 1024 * 1024, concurrency = 4 }, { progress = obs_progress(ctx) })
  if not res then return obs_failed(ctx, err) end
  ctx.out(format("download: %s -> %s (%.0f bytes)\n", a, b, res.size or 0))
  return 0
end

local function obs_ls(ctx, client, a)
  if not a then
    local res, err = client.obs:list_buckets{}
    if not res then return obs_failed(ctx, err) end
    for _, bk in ipairs(res.buckets) do
      ctx.out(format("%s  %s\n", tostring(bk.creation_date), bk.name))
    end
    return 0
  end
  local bucket, prefix = obs_url(a)
  if not bucket then usage("obs ls: expected obs://BUCKET[/PREFIX], got '%s'", a) end
  for page, err in client:pages("obs", "list_objects", { bucket = bucket,
      prefix = prefix ~= "" and prefix or nil, delimiter = "/" }) do
    if not page then return obs_failed(ctx, err) end
    for _, p in ipairs(page.common_prefixes) do ctx.out(format("%12s  %24s  %s\n", "PRE", "", p)) end
    for _, o in ipairs(page.contents) do
      ctx.out(format("%12.0f  %24s  %s\n", o.size or 0, tostring(o.last_modified), o.key))
    end
  end
  return 0
end

function C.obs(ctx, pos)
  local what, a, b = pos[1], pos[2], pos[3]
  if what == "cp" then
    if not a or not b or pos[4] then usage("obs cp takes a source and a destination") end
    return obs_cp(ctx, ctx.client_factory(), a, b)
  elseif what == "ls" then
    if b then usage("obs ls takes at most one obs://BUCKET[/PREFIX]") end
    return obs_ls(ctx, ctx.client_factory(), a)
  elseif what == "mb" then
    local bucket, rest = obs_url(a or "")
    if not bucket or rest ~= "" or b then usage("obs mb takes one obs://BUCKET") end
    local res, err = ctx.client_factory().obs:create_bucket{ bucket = bucket }
    if not res then return obs_failed(ctx, err) end
    ctx.out("make_bucket: obs://" .. bucket .. "\n")
    return 0
  end
  usage("obs: expected cp, ls or mb%s", what and suggest(what, { "cp", "ls", "mb" }) or "")
end

local SECRET_KEY = { "password", "secret", "token", "credential" }

-- A copy of a request body with secret-looking fields masked; `hit.any`
-- says whether one was.
local function mask_body(v, hit, depth)
  depth = depth or 0
  if type(v) ~= "table" or depth > 32 then return v end
  local out = {}
  for k, x in pairs(v) do
    local masked = false
    if type(k) == "string" and type(x) == "string" then
      local lk = k:lower()
      for _, s in ipairs(SECRET_KEY) do
        if lk:find(s, 1, true) or lk == "sk" then masked = true break end
      end
    end
    if masked then hit.any = true end
    out[k] = masked and "****" or mask_body(x, hit, depth + 1)
  end
  return out
end

-- A client like the real one whose transport records each request instead
-- of sending it: a dry run goes through the library's whole call path.
local function recording_client(ctx)
  local c, sends = require("hwcloud.client").recording(ctx.copts)
  if not c then usage("%s", tostring(c == nil and sends or "")) end
  return c, sends
end

-- Prints the request `sends` recorded last: method, URL, headers (as the
-- transport sends them, secrets masked), body.
local function print_sent(ctx, sends)
  local s = sends[#sends]
  local loggable = require("hwcloud.call").loggable_header
  local lines, have = {}, {}
  for _, line in ipairs(s.headers or {}) do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then
      lines[#lines + 1] = k .. ": " .. loggable(k, v)
      have[k:lower()] = true
    end
  end
  -- what libcurl adds to every request
  if not have.host then lines[#lines + 1] = "Host: " .. (s.url:match("^%a+://([^/?#]+)") or "") end
  if not have["user-agent"] then lines[#lines + 1] = "User-Agent: " .. s.user_agent end
  sort(lines)
  local text = { s.method .. " " .. s.url }
  for _, l in ipairs(lines) do text[#text + 1] = l end
  local body = s.body
  if body and body ~= "" then
    -- the body as sent, unless a field of it had to be masked
    local doc, hit = json_decode(body), {}
    local masked = type(doc) == "table" and mask_body(doc, hit)
    text[#text + 1] = ""
    text[#text + 1] = hit.any and encode(masked, false) or body
  end
  ctx.out(concat(text, "\n") .. "\n")
end

-- --query PATH: a small path syntax over the answer. Segments split by
-- ".": `name` a field, `name[]` every element of an array field (the rest
-- of the path applies to each), `name[N]` element N (from 0); `[]` alone
-- or first: the answer itself is the array. -> value | nil
local function query_tokens(path)
  local toks = {}
  for seg in path:gmatch("[^.]+") do
    local name, rest = seg:match("^([^%[]*)(.*)$")
    if name ~= "" then toks[#toks + 1] = { key = name } end
    for inner in rest:gmatch("%[([^%]]*)%]") do
      if inner == "" then toks[#toks + 1] = { each = true }
      elseif inner:match("^%d+$") then toks[#toks + 1] = { index = tonumber(inner) + 1 }
      else usage("--query %s: [%s] must be [] or [N]", path, inner) end
    end
    if rest:gsub("%[[^%]]*%]", "") ~= "" then usage("--query %s: cannot read '%s'", path, seg) end
  end
  if #toks == 0 then usage("--query: an empty path") end
  return toks
end

local function select_path(v, toks, i)
  i = i or 1
  local t = toks[i]
  if t == nil or v == nil or v == null then return v end
  if type(v) ~= "table" then return nil end
  if t.key then return select_path(v[t.key], toks, i + 1) end
  if t.index then return select_path(v[t.index], toks, i + 1) end
  local out = setmetatable({}, ARRAY)
  for _, el in ipairs(v) do
    local r = select_path(el, toks, i + 1)
    if r ~= nil then out[#out + 1] = r end
  end
  return out
end

-- a scalar as a table cell
local function cell(v)
  if v == nil or v == null then return "" end
  if type(v) == "table" then return encode(v, false) end
  return (tostring(type(v) == "number" and number(v) or v):gsub("[\t\n]", " "))
end

-- rows of a value for table and tsv: an array of objects is one row each
-- (columns: their keys, sorted); an array of scalars one row each; an
-- object one row of key and value per field. -> header, rows
local function rows_of(v)
  if type(v) ~= "table" then return nil, { { cell(v) } } end
  if is_array(v) or getmetatable(v) == ARRAY then
    local keys, seen, objects = {}, {}, true
    for _, el in ipairs(v) do
      if type(el) ~= "table" or is_array(el) then objects = false break end
      for k in pairs(el) do
        if not seen[k] then seen[k] = true keys[#keys + 1] = tostring(k) end
      end
    end
    local rows = {}
    if objects and #keys > 0 then
      sort(keys)
      for i, el in ipairs(v) do
        local r = {}
        for j, k in ipairs(keys) do r[j] = cell(el[k]) end
        rows[i] = r
      end
      return keys, rows
    end
    for i, el in ipairs(v) do rows[i] = { cell(el) } end
    return nil, rows
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  sort(keys)
  local rows = {}
  for i, k in ipairs(keys) do rows[i] = { k, cell(v[k]) } end
  return nil, rows
end

local function table_out(header, rows)
  local all = {}
  if header then all[1] = header end
  for _, r in ipairs(rows) do all[#all + 1] = r end
  local width = {}
  for _, r in ipairs(all) do
    for j, c in ipairs(r) do width[j] = math.max(width[j] or 0, #c) end
  end
  local lines = {}
  for i, r in ipairs(all) do
    local parts = {}
    for j, c in ipairs(r) do parts[j] = j < #r and c .. rep(" ", width[j] - #c) or c end
    lines[#lines + 1] = concat(parts, "  ")
    if header and i == 1 then
      local dash = {}
      for j = 1, #r do dash[j] = rep("-", width[j]) end
      lines[#lines + 1] = concat(dash, "  ")
    end
  end
  return lines
end

local OUTPUTS = { json = true, table = true, tsv = true }

-- The answer as --query and --output ask (JSON by default).
local function print_json(ctx, v, schema)
  local opts = ctx.opts or {}
  if ctx.select then
    v = select_path(v, query_tokens(ctx.select))
    schema = nil
    if v == nil then v = null end
  end
  local out = opts.output or "json"
  if not OUTPUTS[out] then usage("--output: expected json, table or tsv, got '%s'", out) end
  if out == "json" then
    ctx.out(encode(v, ctx.indent, schema) .. "\n")
    return
  end
  local header, rows = rows_of(v)
  local lines
  if out == "tsv" then
    lines = {}
    for i, r in ipairs(rows) do lines[i] = concat(r, "\t") end
  else
    lines = table_out(header, rows)
  end
  if #lines > 0 then ctx.out(concat(lines, "\n") .. "\n") end
end

-- One progress line for jobs: redrawn on a terminal, a new line per change
-- otherwise. Returns the on_progress callback and a function that ends the
-- line.
local function job_progress(ctx, total)
  if ctx.quiet then return function() end, function() end end
  local states, order, last, open = {}, {}, nil, false
  local function finish()
    if open then ctx.err("\n") end
    open = false
  end
  return function(st)
    if not states[st.id] then order[#order + 1] = st.id end
    states[st.id] = tostring(st.status or "?")
    local line
    if total == 1 then
      line = format("%s job %s: %s (%.1f s)", st.service, st.id, states[st.id], st.elapsed or 0)
    else
      local counts, names = {}, {}
      for _, id in ipairs(order) do
        local s = states[id]
        if not counts[s] then names[#names + 1] = s counts[s] = 0 end
        counts[s] = counts[s] + 1
      end
      local parts = {}
      for i, s in ipairs(names) do parts[i] = counts[s] .. " " .. s end
      line = format("%s: %d jobs: %s (%.1f s)", st.service, total, concat(parts, ", "),
        st.elapsed or 0)
    end
    local key = line:gsub("%(%d+%.%d s%)$", "")
    if ctx.err_tty then
      ctx.err("\r\27[K" .. line)
      open = true
    elseif key ~= last then
      ctx.err(line .. "\n")
    end
    last = key
  end, finish
end

local function wait_opts(ctx, on_progress)
  local t = number_opt(ctx.opts, "wait-timeout")
  if t == 0 then usage("option --wait-timeout: expected a number of seconds above 0") end
  return { timeout = t, on_progress = on_progress }
end

-- client.name when the client has that method: a client raises on names
-- it does not know (they may be services), so ask with pcall.
local function method_of(client, name)
  local ok, m = pcall(function() return client[name] end)
  return ok and type(m) == "function" and m or nil
end

-- The error's one line (it names hwcloud already).
local function fail(ctx, err)
  ctx.err(tostring(err) .. "\n")
  return exit_for(err)
end

-- The list of items in a page: the response itself when it is an array,
-- else its one array field (by the schema, else by the value).
local function items_key(schema, page)
  if type(page) ~= "table" then return nil end
  if is_array(page) then return false end
  local found
  if type(schema) == "table" and schema.fields then
    for k, f in pairs(schema.fields) do
      if type(f) == "table" and f.type == "array" then
        if found then return nil end
        found = k
      end
    end
    return found
  end
  for k, v in pairs(page) do
    if type(v) == "table" and is_array(v) then
      if found then return nil end
      found = k
    end
  end
  return found
end

-- the pages through the client's own page walker
local function library_pages(client, svc, op, req)
  local list = {}
  local f, s, c = client:pages(svc.name, op.name, req)
  while true do
    -- the walker yields false, err when a page fails, nil at the end
    local page, err = f(s, c)
    if not page then
      if err then return nil, err end
      return list
    end
    list[#list + 1] = page
    c = page
  end
end

-- pages(ctx, svc, op, req) -> list of pages | nil, err: the client's own
-- page walker (hwcloud.pager), so --all follows pages as client:pages does
local function all_pages(ctx, svc, op, req)
  return library_pages(ctx.client, svc, op, req)
end

-- The pages as one answer: the first page with its items list holding the
-- items of every page.
local function merge_pages(op, list)
  if #list == 0 then return {} end
  local first = list[1]
  local key = items_key(op.response, first)
  if key == nil then return first end
  local all = setmetatable({}, ARRAY)
  for _, page in ipairs(list) do
    local items = key == false and page or page[key] or {}
    for _, it in ipairs(items) do all[#all + 1] = it end
  end
  if key == false then return all end
  local merged = {}
  for k, v in pairs(first) do merged[k] = v end
  merged[key] = all
  return merged
end

-- --wait needs an operation that starts a job, --all one that pages
local function check_call_opts(opts, svc, op)
  if opts.wait and not op.job then
    usage("%s.%s does not start a job: --wait needs one that does", svc.name, op.name)
  end
  if opts.all then
    if opts.wait then usage("--all and --wait do not go together") end
    if not require("hwcloud.pager").style_of(op) then
      usage("%s.%s has no pages to follow (no offset, marker or page field)", svc.name, op.name)
    end
  end
end

-- --dry-run: the call through the library's call path, recorded instead
-- of sent, and printed
local function call_dry_run(ctx, svc, op, req)
  local client, sends = recording_client(ctx)
  local proxy = client[svc.name]
  local res, err = proxy[op.name](proxy, req)
  if res == nil then return fail(ctx, err) end
  print_sent(ctx, sends)
  return 0
end

-- --journal: the call as a fan-out of one through the journal -> result |
-- nil, err
local function journaled_call(ctx, client, svc, op, req)
  if ctx.opts.all then usage("--journal and --all do not go together") end
  local r, err = client:parallel({ { svc.name, op.name, req } },
    { journal = ctx.opts.journal, progress = false })
  if not r then return nil, err end
  -- (r.unasked: the journal's other calls; one journal may hold many)
  if r[1].replayed and not ctx.quiet then
    ctx.err(PROG .. ": the answer recorded in " .. ctx.opts.journal .. " (not sent again)\n")
  end
  return r[1].result, r[1].err
end

-- the job res started, with one progress line; prints the final job
local function wait_started(ctx, client, res)
  local on_progress, finish = job_progress(ctx, 1)
  local final, werr
  if ctx.opts.journal then
    local o = wait_opts(ctx, on_progress)
    o.journal, o.progress = ctx.opts.journal, false
    local r, jerr = client:wait_all({ res }, o)
    if r then final, werr = r[1].result, r[1].err else werr = jerr end
  else
    final, werr = client:wait(res, wait_opts(ctx, on_progress))
  end
  finish()
  if final == nil then
    if werr.job then print_json(ctx, werr.job) end
    return fail(ctx, werr)
  end
  print_json(ctx, final)
  return 0
end

function C.call(ctx, pos)
  local svc = load_service(pos[1])
  local op = find_op(svc, pos[2])
  local opts = ctx.opts
  local json = opts.json and read_json_arg(opts.json) or nil
  local fields = {}
  for i = 3, #pos do fields[#fields + 1] = pos[i] end
  local req = request_of(op, fields, json)
  check_call_opts(opts, svc, op)
  if opts["dry-run"] then return call_dry_run(ctx, svc, op, req) end
  local client = ctx.client_factory()
  if opts.all then
    local list, err = all_pages(ctx, svc, op, req)
    if not list then return fail(ctx, err) end
    print_json(ctx, merge_pages(op, list), op.response)
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
    print_json(ctx, res, op.response)
    return 0
  end
  return wait_started(ctx, client, res)
end

-- the services that have jobs, for messages
local function job_services()
  local list = {}
  for _, n in ipairs(services.names()) do
    local e = services.entry(n)
    if e and e.jobs and e.service == n and e.jobs[1] then list[#list + 1] = n end
  end
  return concat(list, ", ")
end

function C.wait(ctx, pos)
  local name = pos[1]
  local svc = load_service(name)
  local kinds = require("hwcloud.jobs").kinds(svc.name)
  if not kinds then
    usage("%s has no jobs to wait for (%s)", svc.name, job_services())
  end
  -- JOB_ID ... then field=value pairs for every job (a poll's other fields)
  local ids, extra = {}, {}
  for i = 2, #pos do
    local k, v = pos[i]:match("^([%w_]+)=(.*)$")
    if k then extra[k] = v else ids[#ids + 1] = pos[i] end
  end
  if #ids == 0 then usage("wait needs at least one job id") end
  local list = {}
  for i, id in ipairs(ids) do
    local job = { service = svc.name, [kinds[1].id_key] = id }
    for k, v in pairs(extra) do job[k] = v end
    list[i] = job
  end
  pos = { pos[1] }
  for i, id in ipairs(ids) do pos[i + 1] = id end
  local on_progress, finish = job_progress(ctx, #list)
  local o = wait_opts(ctx, on_progress)
  o.progress = false
  local results = ctx.client_factory():wait_all(list, o)
  finish()
  local out, code = {}, 0
  for i, r in ipairs(results) do
    local id = pos[i + 1]
    local res, err = r.result or r[1], r.err or r[2]
    if res then
      out[id] = res
    else
      out[id] = err.job or null
      ctx.err(tostring(err) .. "\n")
      local c = exit_for(err)
      if c > code then code = c end
    end
  end
  print_json(ctx, out)
  return code
end

-- wait-for SERVICE WAITER field=value ...: a named waiter's resource polled
-- to its state; without WAITER, the service's waiters
C["wait-for"] = function(ctx, pos)
  local svc = load_service(pos[1])
  local jobs = require "hwcloud.jobs"
  local names = jobs.waiters(svc.name)
  if not pos[2] then
    for _, n in ipairs(names) do ctx.out(n .. "\n") end
    return 0
  end
  local spec = (svc.waiters or {})[pos[2]]
  if not spec then
    usage("%s has no waiter '%s'%s (%s)", svc.name, pos[2], suggest(pos[2], names),
      #names > 0 and ("its waiters: " .. concat(names, ", ")) or "it has no named waiters")
  end
  local op = find_op(svc, spec.operation)
  local fields = {}
  for i = 3, #pos do fields[#fields + 1] = pos[i] end
  local req = request_of(op, fields, ctx.opts.json and read_json_arg(ctx.opts.json) or nil)
  local on_progress, finish = job_progress(ctx, 1)
  local final, err = ctx.client_factory():wait_for(svc.name, pos[2], req,
    wait_opts(ctx, on_progress))
  finish()
  if final == nil then
    if err.job then print_json(ctx, err.job) end
    return fail(ctx, err)
  end
  print_json(ctx, final, final ~= true and op.response or nil)
  return 0
end

-- METHOD and PATH; -> the method in upper case
local function request_target(pos)
  local method, path = pos[1], pos[2]
  if not method or not path or #pos > 2 then usage("request takes METHOD and PATH") end
  method = method:upper()
  if not method:match("^%u+$") then usage("request: '%s' is not an HTTP method", pos[1]) end
  if path:sub(1, 1) ~= "/" then usage("request: PATH must start with '/'") end
  return method, path
end

-- --query k=v ...: a repeated key is an array
local function query_of(list)
  local query = {}
  for _, q in ipairs(list or {}) do
    local k, v = q:match("^([^=]+)=(.*)$")
    if not k then usage("--query: expected k=v, got '%s'", q) end
    local cur = query[k]
    if cur == nil then query[k] = v
    elseif type(cur) == "table" then cur[#cur + 1] = v
    else query[k] = { cur, v } end
  end
  return query
end

local function request_dry_run(ctx, svc, method, path, query, body)
  local client, sends = recording_client(ctx)
  local res, err = client:request { service = svc.name, method = method, path = path,
                                    query = next(query) and query or nil, body = body }
  if res == nil then return fail(ctx, err) end
  print_sent(ctx, sends)
  return 0
end

function C.request(ctx, pos)
  local method, path = request_target(pos)
  local opts = ctx.opts
  if not opts.service then usage("request needs --service SERVICE") end
  -- a service the catalog lacks is reached by its name (the library's
  -- host rule) or the endpoint given
  local svc = require("hwcloud.generic").service(opts.service)
  local query = query_of(opts.query)
  local body = opts.json and read_json_arg(opts.json) or nil
  if opts["dry-run"] then return request_dry_run(ctx, svc, method, path, query, body) end
  local client = ctx.client_factory()
  if not method_of(client, "request") then
    usage("request: this hwcloud library has no client:request yet")
  end
  local res, err = client:request { service = svc.name, method = method, path = path,
                                    query = next(query) and query or nil, body = body }
  if res == nil then return fail(ctx, err) end
  print_json(ctx, res)
  return 0
end

-- endpoints SERVICE ...: the URL each service is reached at with these
-- options (region, endpoint), in the catalog or not
function C.endpoints(ctx, pos)
  if #pos == 0 then usage("endpoints needs at least one service") end
  local generic = require "hwcloud.generic"
  for _, name in ipairs(pos) do
    if not name:match("^[a-z][a-z0-9_-]*$") then
      usage("endpoints: '%s' is not a service name ([a-z0-9_-])", name)
    end
    local url, alt = require("hwcloud.config").endpoint(ctx.cfg, generic.service(name))
    if not url then return fail(ctx, alt) end
    local line = { name, url }
    for _, a in ipairs(type(alt) == "table" and alt or {}) do line[#line + 1] = a end
    ctx.out(concat(line, "  ") .. "\n")
  end
  return 0
end

-- run --journal: the script's client, whose parallel and wait_all use the
-- journal unless given their own; every other method goes to the client
local function with_journal(client, path)
  local function fill(opts)
    if type(opts) ~= "table" and opts ~= nil then return opts end -- the library says why
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    if o.journal == nil then o.journal = path end
    return o
  end
  local wrapped = {}
  function wrapped.parallel(_, calls, opts) return client:parallel(calls, fill(opts)) end
  function wrapped.wait_all(_, list, opts) return client:wait_all(list, fill(opts)) end
  return setmetatable(wrapped, { __index = function(_, k)
    local v = client[k]
    if type(v) ~= "function" then return v end
    return function(self, ...)
      if self == wrapped then self = client end
      return v(self, ...)
    end
  end, __tostring = function() return tostring(client) end })
end

function C.run(ctx, pos)
  local script = pos[1]
  if not script then usage("run needs a script") end
  local chunk, lerr = loadfile(script)
  if not chunk then usage("run: %s", tostring(lerr)) end
  local client = ctx.client_factory()
  if ctx.opts.journal then client = with_journal(client, ctx.opts.journal) end
  local args = { [0] = script }
  for i = 2, #pos do args[i - 1] = pos[i] end
  -- as the lua5.4 command sets it for a script
  _G.arg = args
  local res = table.pack(xpcall(chunk, debug.traceback, client, table.unpack(args, 1, #args)))
  if not res[1] then
    ctx.err(PROG .. ": " .. script .. ": " .. tostring(res[2]) .. "\n")
    return 1
  end
  local code = res[2]
  -- an exit status is taken mod 256: 256 would read as success
  if math.type(code) == "integer" then
    if code >= 0 and code <= 255 then return code end
    return 1
  end
  return 0
end

------------------------------------------------------------------ completion

-- adds the words of list that start with cur to out (each with suffix)
local function add_matching(out, cur, list, suffix)
  for _, w in ipairs(list) do
    if w:sub(1, #cur) == cur then out[#out + 1] = w .. (suffix or "") end
  end
end

-- the positional words before the last one: options and their values out
local function positional_words(words)
  local pos = {}
  for i = 1, #words - 1 do
    local w = words[i]
    if w:sub(1, 1) == "-" then
      local spec = OPTS[w:match("^%-%-([^=]+)") or ""]
      if spec and spec.arg and not w:find("=", 1, true) then words[i + 1] = "-" end
    else
      pos[#pos + 1] = w
    end
  end
  return pos
end

-- "key=": the values of an enum or a boolean field
local function complete_value(out, cur, op, key)
  local node = op.request
  for seg in key:gmatch("[^.]+") do node = child(node, seg) end
  if type(node) == "table" and node.type == "array" then node = node.items end
  if type(node) == "table" then
    local vals = node.enum or (node.type == "boolean" and { "true", "false" }) or {}
    local list = {}
    for i, v in ipairs(vals) do list[i] = key .. "=" .. tostring(v) end
    add_matching(out, cur, list)
  end
end

-- a nested object's name ends in "." (its fields come next), the others in "="
local function complete_field(out, cur, op)
  for _, l in ipairs(field_lines(op.request, "", {}, {})) do
    local name = l[1]
    if not name:find("[%[%*…]") and name:sub(1, #cur) == cur then
      local nested = l[2]:match("^object") and not l[2]:find("free-form", 1, true)
      out[#out + 1] = name .. (nested and "." or "=")
    end
  end
end

-- call SERVICE OPERATION ...: a field, or a field's value
local function complete_call(out, cur, svc, opname)
  local ok, op = pcall(find_op, svc, opname)
  if not ok then return end
  local key = cur:match("^([^=]*)=")
  if key then
    complete_value(out, cur, op, key)
  else
    complete_field(out, cur, op)
  end
end

-- the word after the command: a service, then an operation, then fields
local function complete_positional(out, cur, pos)
  local cmd = pos[1]
  if not cmd then add_matching(out, cur, COMMANDS) return end
  if cmd == "completion" and #pos == 1 then add_matching(out, cur, { "bash" }) return end
  if not (cmd == "ops" or cmd == "describe" or cmd == "call" or cmd == "wait"
    or cmd == "wait-for") then return end
  if #pos == 1 then add_matching(out, cur, services.names()) return end
  if cmd == "ops" or cmd == "wait" then return end
  if cmd == "wait-for" then
    if #pos == 2 then add_matching(out, cur, require("hwcloud.jobs").waiters(pos[2]) or {}) end
    return
  end
  local svc = services.load(pos[2])
  if not svc then return end
  if #pos == 2 then add_matching(out, cur, operation_names(svc)) return end
  if cmd ~= "call" or #pos < 3 then return end
  complete_call(out, cur, svc, pos[3])
end

-- complete(words) -> candidates for the last word, given the words before
-- it (without the command name itself). Used by the bash script.
function _M.complete(words)
  local cur = words[#words] or ""
  local prev = words[#words - 1]
  local out = {}
  if cur:sub(1, 2) == "--" then
    -- only the options the command takes (every option before one is named)
    local copy = {}
    for i = 1, #words do copy[i] = words[i] end
    local command = positional_words(copy)[1]
    if command and not IS_COMMAND[command] then command = nil end
    local names = {}
    for k, spec in pairs(OPTS) do
      if not (command and spec.commands and not spec.commands[command]) then
        names[#names + 1] = "--" .. k
      end
    end
    sort(names)
    add_matching(out, cur, names)
    return out
  end
  if prev and prev:sub(1, 2) == "--" and OPTS[prev:sub(3)] and OPTS[prev:sub(3)].arg then
    if prev == "--service" then add_matching(out, cur, services.names()) end
    if prev == "--output" then add_matching(out, cur, { "json", "table", "tsv" }) end
    return out
  end
  complete_positional(out, cur, positional_words(words))
  return out
end

local BASH = [=[
# bash completion for hwcloud: commands, options, services, operations,
# fields (spec.ingress.port=) and the values of enum and boolean fields.
# Load it with:  eval "$(hwcloud completion bash)"
_hwcloud() {
  # the words as typed, split on blanks only (bash would also split at "=")
  local line=${COMP_LINE:0:COMP_POINT}
  local -a words
  read -ra words <<<"$line"
  [[ $line == *[[:blank:]] ]] && words+=("")
  local cur=${words[${#words[@]}-1]}
  local IFS=$'\n'
  local list
  list=$("${words[0]}" completion --words "${words[@]:1}" 2>/dev/null) || return 0
  COMPREPLY=($(compgen -W "$list" -- "$cur"))
  # bash replaces only the part of the word after its last "=" or ":"
  local cut=${cur%"${cur##*[=:]}"}
  if [[ -n $cut ]]; then
    local i
    for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$cut"}; done
  fi
  if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[=.] ]]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -F _hwcloud hwcloud
]=]
_M.BASH_COMPLETION = BASH

function C.completion(ctx, pos, raw)
  if raw[1] == "--words" then
    local words = {}
    for i = 2, #raw do words[#words + 1] = raw[i] end
    if #words == 0 then words[1] = "" end
    local list = _M.complete(words)
    if #list > 0 then ctx.out(concat(list, "\n") .. "\n") end
    return 0
  end
  if pos[1] ~= "bash" or #pos > 1 then usage("completion takes one argument: bash") end
  ctx.out(BASH)
  return 0
end

------------------------------------------------------------------ main

-- call and wait: --query PATH selects from the answer (request: the URL's
-- k=v parameters)
local function selector(r)
  local q = r.opts.query
  if not q or r.command == "request" then return nil end
  if #q > 1 then usage("option --query given twice") end
  return q[1]
end

local function help_text(cmd)
  return (HELP[cmd] or HELP.main) .. "\n\n" .. GLOBAL_HELP .. "\n"
end

-- main(args, sys) -> exit status. sys (all optional): stdout, stderr,
-- getenv, isatty(fd), new_client(opts) (default hwcloud.client).
function _M.main(args, sys)
  sys = sys or {}
  local stdout, stderr = sys.stdout or io.stdout, sys.stderr or io.stderr
  local getenv = sys.getenv or os.getenv
  local secrets = {}
  local ctx = { err = writer(stderr, secrets), out = writer(stdout, secrets) }

  -- the hidden word list of the completion script: no option parsing
  if args[1] == "completion" and args[2] == "--words" then
    local raw = {}
    for i = 2, #args do raw[#raw + 1] = args[i] end
    return C.completion(ctx, {}, raw)
  end

  local ok, code = pcall(function()
    local r = parse(args)
    ctx.opts = r.opts
    ctx.select = selector(r)
    ctx.quiet = r.opts.quiet
    if r.opts.help or r.command == "help" then
      local cmd = r.command == "help" and r.positional[1] or r.command
      ctx.out(help_text(cmd))
      return 0
    end
    if r.opts.version then
      ctx.out(PROG .. " " .. require("hwcloud.core").version .. "\n")
      return 0
    end
    if not r.command then
      ctx.err(help_text())
      return 2
    end
    if not IS_COMMAND[r.command] then
      usage("unknown command '%s'%s", r.command, suggest(r.command, COMMANDS))
    end
    for name in pairs(r.opts) do
      local allowed = OPTS[name].commands
      if allowed and not allowed[r.command] then
        usage("option --%s does not apply to %s", name, r.command)
      end
    end
    local core = require "hwcloud.core"
    local isatty = sys.isatty or core.isatty
    ctx.indent = isatty(1)
    ctx.err_tty = isatty(2)
    if NEEDS_CLIENT[r.command] then
      local copts = client_options(r.opts, getenv)
      -- checked here once: a bad option or missing credentials is exit 2
      -- before anything else, and the secrets are known to the writers
      local cfg, cerr = new_config(copts, core)
      if not cfg then
        ctx.err(tostring(cerr) .. "\n")
        return 2
      end
      for _, k in ipairs { "sk", "security_token", "token" } do
        local v = cfg.credentials[k]
        if type(v) == "string" and v ~= "" then secrets[#secrets + 1] = v end
      end
      ctx.cfg, ctx.copts = cfg, copts
      local new_client = sys.new_client or require("hwcloud").client
      ctx.client_factory = function()
        if not ctx.client then
          local c, err = new_client(copts)
          if not c then usage("%s", tostring(err)) end
          ctx.client = c
        end
        return ctx.client
      end
    end
    return C[r.command](ctx, r.positional, r.opts)
  end)
  if ctx.client and ctx.client.close then ctx.client:close() end
  if ok then return code end
  if getmetatable(code) == Usage then
    ctx.err(PROG .. ": " .. code.message .. "\n")
    return 2
  end
  ctx.err(PROG .. ": internal error: " .. tostring(code) .. "\n")
  return 1
end

return _M
