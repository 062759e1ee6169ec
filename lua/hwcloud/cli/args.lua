-- hwcloud.cli.args: the command line, parsed by argparse (lua-argparse)
-- from one table of commands and options, which completion reads too.
--
--   parse(args) -> { command = name, positional = { ... }, opts = { name = value } }
--
-- Options may stand anywhere (before the command too); `--` ends them;
-- for `run`, every word after the script is the script's own. Problems
-- are raised as usage errors (exit 2) in hwcloud's words.

local ipairs, pairs, type = ipairs, pairs, type
local concat, sort = table.concat, table.sort

local argparse = require "argparse"
local common = require "hwcloud.cli.common"
local usage, suggest = common.usage, common.suggest

local _M = {}

_M.COMMANDS = { "ops", "describe", "call", "wait", "wait-for", "request", "endpoints", "run",
                "obs", "completion" }
local IS_COMMAND = {}
for _, c in ipairs(_M.COMMANDS) do IS_COMMAND[c] = true end
_M.IS_COMMAND = IS_COMMAND

local function set(...)
  local s = {}
  for _, k in ipairs { ... } do s[k] = true end
  return s
end

-- name -> { arg = its value's name (none: a flag), multi = may repeat,
-- commands = where allowed (none: every command), help = a few words }
local OPTS = {
  region = { arg = "REGION", help = "region" },
  endpoint = { arg = "URL", help = "one base URL for every service" },
  profile = { arg = "NAME", help = "a section of the credentials file" },
  ["project-id"] = { arg = "ID", help = "project id" },
  timeout = { arg = "SECONDS", help = "per request" },
  retries = { arg = "N", help = "tries after the first" },
  ["ca-file"] = { arg = "PATH", help = "CA certificates to trust" },
  quiet = { help = "no progress on stderr" },
  help = { help = "this help, or a command's" },
  version = { help = "the version of hwcloud" },
  json = { arg = "JSON", commands = set("call", "request", "wait-for"),
           help = "the request as JSON, or @FILE" },
  wait = { commands = set("call"), help = "wait for the job it starts" },
  ["wait-timeout"] = { arg = "SECONDS", commands = set("call", "wait", "wait-for"),
                       help = "seconds to wait" },
  all = { commands = set("call"), help = "follow every page" },
  ["dry-run"] = { commands = set("call", "request"), help = "print the request, send nothing" },
  journal = { arg = "PATH", commands = set("call", "run"), help = "record and resume in PATH" },
  service = { arg = "SERVICE", commands = set("request"), help = "the service to reach" },
  -- request: the URL's k=v, repeated; call, wait, wait-for: the selector
  query = { arg = "PATH", commands = set("request", "call", "wait", "wait-for"),
            multi = set("request"), help = "select from the answer (request: k=v)" },
  output = { arg = "FORMAT", commands = set("call", "wait", "wait-for", "request"),
             help = "json, table or tsv" },
  ["no-checksum"] = { commands = set("obs"), help = "cp: no MD5 check against the ETag" },
}
_M.OPTIONS = OPTS

-- whether command takes the option called name
function _M.takes(command, name)
  local spec = OPTS[name]
  return spec ~= nil and (not spec.commands or command == nil or spec.commands[command] == true)
end

-- the options command takes, "--name" sorted
function _M.option_names(command)
  local names = {}
  for k in pairs(OPTS) do
    if _M.takes(command, k) then names[#names + 1] = "--" .. k end
  end
  sort(names)
  return names
end

local function add_option(p, name, spec, command)
  local o
  if spec.arg then
    o = p:option("--" .. name, spec.help):argname(spec.arg)
    if spec.multi and spec.multi[command] then o:count("*") else o:overwrite(false) end
  else
    o = p:flag(name == "help" and "-h --help" or "--" .. name, spec.help):overwrite(false)
  end
  o:target(name)
end

local SUMMARY = {
  ops = "the services, or a service's operations",
  describe = "an operation's method, path and fields",
  call = "call an operation, print its answer",
  wait = "wait for jobs to end",
  ["wait-for"] = "wait for a resource to reach a state",
  request = "a request to any path of a service",
  endpoints = "the URL each service is reached at",
  run = "run a workflow script with a ready client",
  obs = "object storage: cp, ls, mb",
  completion = "print the completion script of a shell",
}

-- the parser: the global options on the top, each command's own on it
function _M.parser()
  local p = argparse(common.PROG, "Huawei Cloud operations from the shell")
    :add_help(false):require_command(false):command_target("command")
  local names = {}
  for k in pairs(OPTS) do names[#names + 1] = k end
  sort(names)
  for _, k in ipairs(names) do
    if not OPTS[k].commands then add_option(p, k, OPTS[k]) end
  end
  for _, c in ipairs(_M.COMMANDS) do
    local cmd = p:command(c, SUMMARY[c]):add_help(false)
    cmd:argument("words"):args("*")
    for _, k in ipairs(names) do
      local spec = OPTS[k]
      if spec.commands and spec.commands[c] then add_option(cmd, k, spec, c) end
    end
  end
  p:command("help"):add_help(false):hidden(true):argument("words"):args("*")
  return p
end

-- the value's index after an option word at i, or i (a flag, --name=value)
local function skip_value(args, i)
  local name = args[i]:match("^%-%-([^=]+)$")
  local spec = name and OPTS[name]
  if spec and spec.arg then return i + 1 end
  return i
end

-- the index of the first word that is no option nor an option's value,
-- from i on
local function first_word(args, i)
  while i <= #args do
    local a = args[i]
    if a == "--" then return i + 1 <= #args and i + 1 or nil end
    if a:sub(1, 1) ~= "-" or a == "-" then return i end
    i = skip_value(args, i) + 1
  end
  return nil
end

-- argparse's message in hwcloud's words
local function translate(msg, command)
  msg = msg:match("^[^\n]*")
  local name = msg:match("^unknown option '%-%-?([^']+)'$")
  if name then
    if OPTS[name] and command then usage("option --%s does not apply to %s", name, command) end
    if OPTS[name] then
      local list = {}
      for _, c in ipairs(_M.COMMANDS) do
        if _M.takes(c, name) then list[#list + 1] = c end
      end
      usage("option --%s goes with a command: %s", name, concat(list, ", "))
    end
    usage("unknown option '%s'%s", msg:match("'(.-)'"), suggest(msg:match("'(.-)'"),
      _M.option_names(command)))
  end
  name = msg:match("^unknown command '([^']+)'$")
  if name then usage("unknown command '%s'%s", name, suggest(name, _M.COMMANDS)) end
  name = msg:match("^option '%-%-([^']+)' requires an argument$")
  if name then usage("option --%s needs a value", name) end
  name = msg:match("^option '%-%-([^']+)' must be used at most 1 time$")
  if name then usage("option --%s given twice", name) end
  name = msg:match("^option '%-%-([^']+)' does not take arguments$")
  if name then usage("option --%s takes no value", name) end
  usage("%s", msg)
end

local parser

-- parse(args) -> { command, positional, opts }
function _M.parse(args)
  -- the command first, so an option before it is checked against it
  local words = {}
  local at = first_word(args, 1)
  local command = at and args[at]
  if at then
    words[1] = command
    for i = 1, #args do if i ~= at then words[#words + 1] = args[i] end end
  else
    for i = 1, #args do words[i] = args[i] end
  end
  -- run SCRIPT ARGS: the script's words are not parsed
  local script_args = {}
  if command == "run" then
    local s = first_word(words, 2)
    if s then
      for i = s + 1, #words do script_args[#script_args + 1] = words[i] end
      for i = #words, s + 1, -1 do words[i] = nil end
    end
  end
  parser = parser or _M.parser()
  local ok, res = parser:pparse(words)
  if not ok then
    translate(res, IS_COMMAND[command] and command or nil)
  end
  local r = { command = res.command, positional = res.words or {}, opts = {} }
  for k in pairs(OPTS) do
    local v = res[k]
    if v ~= nil and not (type(v) == "table" and #v == 0) then r.opts[k] = v end
  end
  for _, a in ipairs(script_args) do r.positional[#r.positional + 1] = a end
  return r
end

return _M
