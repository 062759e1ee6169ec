-- tools/sync_modules.lua: writes the Lua module list of every rockspec from
-- the tree (lua/**/*.lua), so a module added or a service generated needs no
-- hand edit. `--check` writes nothing and exits 1 when a list is stale.
--   lua5.4 tools/sync_modules.lua [--check]

local check = arg[1] == "--check"
local p = assert(io.popen("find lua -name '*.lua' | LC_ALL=C sort"))
local lines = {}
for path in p:lines() do
  local mod = path:sub(5, -5):gsub("/", "."):gsub("%.init$", "")
  lines[#lines + 1] = ('    ["%s"] = "%s",'):format(mod, path)
end
p:close()
local block = table.concat(lines, "\n")

local stale = false
local r = assert(io.popen("ls *.rockspec"))
for spec in r:lines() do
  local f = assert(io.open(spec, "rb"))
  local text = f:read("a")
  f:close()
  -- every `["mod"] = "lua/..."` line is the list: replaced where it starts
  local out, placed = {}, false
  for line in (text .. "\n"):gmatch("(.-)\n") do
    if line:match('^    %["[%w._]+"%] = "lua/[^"]+",$') then
      if not placed then
        out[#out + 1] = block
        placed = true
      end
    else
      out[#out + 1] = line
    end
  end
  assert(placed, spec .. ": no Lua module list")
  local new = table.concat(out, "\n")
  if text:sub(-1) == "\n" and new:sub(-1) ~= "\n" then new = new .. "\n" end
  new = new:gsub("\n\n$", "\n")
  if new ~= text then
    stale = true
    if check then
      io.stderr:write(spec .. ": module list is stale (run lua5.4 tools/sync_modules.lua)\n")
    else
      local fh = assert(io.open(spec, "wb"))
      fh:write(new)
      fh:close()
      print("updated " .. spec)
    end
  end
end
r:close()
if check and stale then os.exit(1) end
