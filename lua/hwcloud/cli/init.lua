-- hwcloud.cli: the `hwcloud` command (bin/hwcloud) as a module, so that its
-- parsing, typing and printing can be tested and reused.
--
--   local code = require("hwcloud.cli").main(arg)   -- 0, 1 or 2
--
-- main(args, sys) reads nothing global but through `sys` (stdout, stderr,
-- getenv, isatty, new_client); every output goes through one writer that
-- masks the configured secrets, whatever printed them. The parts:
--   args      the command line (argparse)     help      the help texts
--   fields    key=value typed by description  output    JSON, table, tsv, --query
--   setup     client options, --profile       dryrun    --dry-run's recording client
--   progress  the job line on stderr          complete  shell completion
--   commands/<name>   one file per command

local pcall, tostring, require = pcall, tostring, require

local common = require "hwcloud.cli.common"
local args = require "hwcloud.cli.args"
local help = require "hwcloud.cli.help"
local output = require "hwcloud.cli.output"
local setup = require "hwcloud.cli.setup"

local _M = {}

-- the commands that make a client (and check its options first)
local NEEDS_CLIENT = { call = true, wait = true, ["wait-for"] = true, request = true, run = true,
                       obs = true, endpoints = true }

-- a command's function: commands/<name> ("wait-for": commands/wait_for)
local function command(name)
  return require("hwcloud.cli.commands." .. name:gsub("%-", "_"))
end

-- kept for callers of the single-file module
_M.OPTIONS = args.OPTIONS
_M.parse = args.parse
_M.encode = output.encode
_M.typed = require("hwcloud.cli.fields").typed
_M.assign = require("hwcloud.cli.fields").assign
_M.request_of = require("hwcloud.cli.fields").request_of
_M.field_lines = require("hwcloud.cli.fields").field_lines
function _M.complete(words) return require("hwcloud.cli.complete").complete(words) end

-- the client's configuration checked once, before the command runs: a bad
-- option or missing credentials is exit 2 before anything else, and the
-- secrets are known to the writers -> nil | exit status
local function prepare_client(ctx, r, sys, secrets)
  local getenv = sys.getenv or os.getenv
  local copts = setup.client_options(r.opts, getenv)
  local cfg, cerr = setup.config(copts, r.opts)
  if not cfg then
    ctx.err(tostring(cerr) .. "\n")
    return 2
  end
  setup.secrets(cfg, secrets)
  ctx.cfg, ctx.copts = cfg, copts
  local new_client = sys.new_client or require("hwcloud").client
  ctx.client_factory = function()
    if not ctx.client then
      local c, err = new_client(copts)
      if not c then common.usage("%s", tostring(err)) end
      ctx.client = c
    end
    return ctx.client
  end
  return nil
end

local function run(ctx, raw, sys, secrets)
  local r = args.parse(raw)
  ctx.opts = r.opts
  -- call, wait, wait-for: --query PATH selects from the answer (request:
  -- the URL's k=v parameters)
  if r.command ~= "request" then ctx.select = r.opts.query end
  ctx.quiet = r.opts.quiet
  if r.opts.help or r.command == "help" then
    ctx.out(help.text(r.command == "help" and r.positional[1] or r.command))
    return 0
  end
  if r.opts.version then
    ctx.out(common.PROG .. " " .. require("hwcloud.core").version .. "\n")
    return 0
  end
  if not r.command then
    ctx.err(help.text())
    return 2
  end
  local isatty = sys.isatty or require("hwcloud.core").isatty
  ctx.indent = isatty(1)
  ctx.err_tty = isatty(2)
  if NEEDS_CLIENT[r.command] then
    local code = prepare_client(ctx, r, sys, secrets)
    if code then return code end
  end
  return command(r.command)(ctx, r.positional)
end

-- main(args, sys) -> exit status. sys (all optional): stdout, stderr,
-- getenv, isatty(fd), new_client(opts) (default hwcloud.client).
function _M.main(raw, sys)
  sys = sys or {}
  local secrets = {}
  local ctx = { err = output.writer(sys.stderr or io.stderr, secrets),
                out = output.writer(sys.stdout or io.stdout, secrets) }

  -- the completion scripts' word list: no option parsing
  if raw[1] == "completion" and raw[2] == "--words" then
    return command("completion")(ctx, {}, common.rest(raw, 2))
  end

  local ok, code = pcall(run, ctx, raw, sys, secrets)
  if ctx.client and ctx.client.close then ctx.client:close() end
  if ok then return code end
  if common.is_usage(code) then
    ctx.err(common.PROG .. ": " .. code.message .. "\n")
    return 2
  end
  ctx.err(common.PROG .. ": internal error: " .. tostring(code) .. "\n")
  return 1
end

return _M
