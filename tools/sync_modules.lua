-- tools/sync_modules.lua: writes the Lua module list of every rockspec from
-- the tree and the catalog, so a module added or a service generated needs
-- no hand edit:
-- the client's rockspecs (./*.rockspec) list lua/**/*.lua, the emulator's
-- (emulator/*.rockspec) list emulator/lua/**/*.lua. `--check` writes
-- nothing and exits 1 when a list is stale.
--   lua5.4 tools/sync_modules.lua [--check]

local check = arg[1] == "--check"

-- The service descriptions the rock carries are the catalog's files (and
-- their companions): a generated file the index does not name is an error.
local catalog = dofile("lua/hwcloud/services/index.lua")
local described = {}
for _, e in pairs(catalog.fields) do
  for _, f in ipairs(e.files) do
    described[f], described[f .. "_responses"] = true, true
  end
end

-- The module list of the Lua files under dir (a folder ending in "lua"),
-- each line indented by indent.
local function module_block(dir, indent)
  local p = assert(io.popen("find " .. dir .. " -name '*.lua' | LC_ALL=C sort"))
  local lines = {}
  for path in p:lines() do
    local mod = path:sub(#dir + 2, -5):gsub("/", "."):gsub("%.init$", "")
    local gen = mod:match("^hwcloud%.services%.gen%.(.+)$")
    if gen and not described[gen] then
      io.stderr:write(path .. ": a description the catalog does not name (run `make catalog`)\n")
      os.exit(1)
    end
    lines[#lines + 1] = ('%s["%s"] = "%s",'):format(indent, mod, path)
  end
  p:close()
  return table.concat(lines, "\n")
end

local stale = false
local r = assert(io.popen("ls *.rockspec emulator/*.rockspec"))
for spec in r:lines() do
  local f = assert(io.open(spec, "rb"))
  local text = f:read("*a")
  f:close()
  -- every `["mod"] = "lua/..."` line is the list: replaced where it starts
  local out, placed = {}, false
  for line in (text .. "\n"):gmatch("(.-)\n") do
    local indent = line:match('^( +)%["[%w._]+"%] = "[%w/]-lua/[^"]+",$')
    if indent then
      if not placed then
        out[#out + 1] = module_block(spec:match("^emulator/") and "emulator/lua" or "lua", indent)
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
