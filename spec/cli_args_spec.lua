-- The hwcloud command's words before anything is sent: the command line as
-- argparse reads it (options anywhere, `--`, a script's own words), every
-- problem said in hwcloud's words with exit 2, and the completion scripts
-- of bash, zsh and fish offering each command only the options it takes.
-- No server: the command runs in process, or as a child for completion.

package.path = "./?.lua;" .. package.path

local util = require "spec.helpers.util"
local cli = require "hwcloud.cli"
local args = require "hwcloud.cli.args"

local q = util.quote

-- main(words) in process -> stdout, stderr, exit status; nothing is sent:
-- no client can be made
local function run(words)
  local out, err = {}, {}
  local code = cli.main(words, {
    stdout = { write = function(_, s) out[#out + 1] = s end },
    stderr = { write = function(_, s) err[#err + 1] = s end },
    getenv = function() return nil end,
    isatty = function() return false end,
    new_client = function() error("no client in this spec") end,
  })
  return table.concat(out), table.concat(err), code
end

-- the child's completion words for a command line, as a set
local function words(line)
  local out = util.capture("cd " .. q(util.root) .. " && bin/hwcloud completion --words " .. line)
  local set = {}
  for w in out:gmatch("[^\n]+") do set[w] = true end
  return set
end

describe("the hwcloud command line", function()
  it("takes options anywhere, the command's own before the command too", function()
    local r = args.parse { "--region", "r1", "call", "asm", "--dry-run", "list_workshops", "mesh_id=m" }
    assert.equal("call", r.command)
    assert.are.same({ "asm", "list_workshops", "mesh_id=m" }, r.positional)
    assert.are.same({ region = "r1", ["dry-run"] = true }, r.opts)
    r = args.parse { "--dry-run", "--query=items[0].id", "call", "asm", "x" }
    assert.are.same({ ["dry-run"] = true, query = "items[0].id" }, r.opts)
    -- request: --query repeats (the URL's k=v); the selector of call does not
    r = args.parse { "request", "GET", "/x", "--service", "s", "--query", "a=1", "--query", "b=2" }
    assert.are.same({ "a=1", "b=2" }, r.opts.query)
  end)

  it("ends options at --, and leaves a script's words, options included, to the script", function()
    local r = args.parse { "call", "asm", "op", "--", "--not-an-option=1" }
    assert.are.same({ "asm", "op", "--not-an-option=1" }, r.positional)
    r = args.parse { "run", "--journal", "j.log", "deploy.lua", "--region", "x", "-h", "srv-1" }
    assert.equal("run", r.command)
    assert.are.same({ journal = "j.log" }, r.opts)
    assert.are.same({ "deploy.lua", "--region", "x", "-h", "srv-1" }, r.positional)
  end)

  it("says every problem in hwcloud's words, on one line, with exit 2", function()
    local cases = {
      { { "call", "asm", "x", "--wait=1" }, "option --wait takes no value" },
      { { "call", "asm", "x", "--query", "a", "--query", "b" }, "option --query given twice" },
      { { "--json", "{}", "ops" }, "option --json does not apply to ops" },
      { { "ops", "--regoin", "x" }, "unknown option '--regoin' (did you mean '--region'?)" },
      { { "--bogus" }, "unknown option '--bogus'" },
      { { "--dry-run" }, "option --dry-run goes with a command: call, request" },
      { { "call", "-x" }, "unknown option '-x'" },
      { { "ops", "--endpoint" }, "option --endpoint needs a value" },
      { { "completion", "tcsh" }, "completion takes one argument: bash, fish, zsh" },
      { { "completion", "zhs" }, "(did you mean 'zsh'?)" },
    }
    for _, c in ipairs(cases) do
      local out, err, code = run(c[1])
      local line = table.concat(c[1], " ")
      assert.equal(2, code, line .. ": " .. err)
      assert.equal("", out, line)
      assert.truthy(err:find(c[2], 1, true), line .. ": " .. err)
      assert.truthy(err:match("^hwcloud: [^\n]*\n$"), line .. ": " .. err)
    end
  end)

  it("help names each shell's completion, and every source of credentials", function()
    local out, _, code = run { "completion", "--help" }
    assert.equal(0, code)
    for _, s in ipairs { "completion bash|zsh|fish", "_hwcloud", "hwcloud.fish" } do
      assert.truthy(out:find(s, 1, true), s .. " not in:\n" .. out)
    end
    out = run { "--help" }
    for _, s in ipairs { "--profile NAME", "HUAWEICLOUD_SDK_AK", "[basic]", "metadata service",
                         "HWCLOUD_ENDPOINT" } do
      assert.truthy(out:find(s, 1, true), s .. " not in:\n" .. out)
    end
  end)
end)

describe("completion", function()
  it("offers each command only its options, options before the command too", function()
    for _, c in ipairs(args.COMMANDS) do
      local got = words(c .. " --")
      local want = args.option_names(c)
      local n = 0
      for _ in pairs(got) do n = n + 1 end
      assert.equal(#want, n, c)
      for _, o in ipairs(want) do assert.truthy(got[o], o .. " not offered to " .. c) end
    end
    assert.is_nil(words("ops --")["--json"])
    assert.truthy(words("--region r call asm op --")["--dry-run"])
    assert.is_nil(words("--region r ops --")["--dry-run"])
    -- an option's value is not taken for the command
    assert.truthy(words("--region call ops --")["--region"])
    assert.is_nil(words("--region call ops --")["--dry-run"])
    assert.are.same({ bash = true, fish = true, zsh = true }, words("completion ''"))
    assert.are.same({ cp = true, ls = true, mb = true }, words("obs ''"))
  end)

  -- argparse's script for a shell, from the child
  local function script(shell)
    local path = os.tmpname()
    assert(util.sh("cd " .. q(util.root) .. " && bin/hwcloud completion " .. shell .. " > " .. q(path)))
    return path, util.read_file(path)
  end

  it("the zsh and fish scripts list for each command exactly the options it takes", function()
    local zpath, zsh = script("zsh")
    local fpath, fish = script("fish")
    os.remove(zpath)
    os.remove(fpath)
    for _, c in ipairs(args.COMMANDS) do
      local block = zsh:match("\n    " .. c:gsub("%-", "%%-") .. "%)\n(.-)\n      ;;")
      assert.truthy(block, c)
      for k, spec in pairs(args.OPTIONS) do
        local in_zsh = block:find('"%*?%-%-' .. k:gsub("%-", "%%-") .. "%[") ~= nil
        local in_fish = fish:find("%-n '__fish_hwcloud_seen_command " .. c:gsub("%-", "%%-")
          .. "' %-l " .. k:gsub("%-", "%%-") .. "[ \n]") ~= nil
        local own = spec.commands ~= nil and spec.commands[c] == true
        assert.equal(own, in_zsh, c .. " --" .. k .. " in zsh")
        assert.equal(own, in_fish, c .. " --" .. k .. " in fish")
      end
    end
    -- the options every command takes, once, at the top
    assert.truthy(fish:find("\ncomplete %-c hwcloud %-l region %-r"))
    assert.truthy(zsh:find('\n    "%-%-region%['))
    -- services, operations and fields come from the word list
    assert.truthy(zsh:find('"*: :_hwcloud_words"', 1, true))
    assert.truthy(fish:find("hwcloud completion --words", 1, true))
  end)

  local has = function(shell) return util.sh("command -v " .. shell .. " >/dev/null 2>&1") end
  local with_fish = has("fish") and it or pending
  local with_zsh = has("zsh") and it or pending

  with_fish("fish completes commands, the command's options, operations and enum values", function()
    local path = script("fish")
    local out = util.capture("cd " .. q(util.root) .. " && PATH=\"$PWD/bin:$PATH\" fish --no-config -c "
      .. q("source " .. path .. [[; for l in 'hwcloud des' 'hwcloud call asm create_w' ]]
        .. [['hwcloud ops --d' 'hwcloud call asm list_workshops --dr' ]]
        .. [['hwcloud call rts create_software_deployment status=IN'; ]]
        .. [[echo (complete -C "$l" | string replace -r '\t.*' '' | string join ,); end]]))
    os.remove(path)
    assert.equal("describe\ncreate_workshop\n\n--dry-run\nstatus=IN_PROGRESS", out)
  end)

  with_zsh("zsh reads the script and completes operations and enum values from the word list", function()
    local path = script("zsh")
    local out = util.capture("cd " .. q(util.root) .. " && PATH=\"$PWD/bin:$PATH\" zsh -f -c "
      .. q("zsh -n " .. path .. " || exit 3; source " .. path .. " 2>/dev/null; "
        .. [[compadd() { shift 3; print -l -- "$@"; }; ]]
        .. [[words=(call asm create_w); CURRENT=3; _hwcloud_words; ]]
        .. [[words=(call rts create_software_deployment status=IN); CURRENT=4; _hwcloud_words]]))
    os.remove(path)
    assert.equal("create_workshop\nstatus=IN_PROGRESS", out)
  end)
end)
