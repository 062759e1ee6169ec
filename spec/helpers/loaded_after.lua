-- A child of spec/catalog_cost_spec.lua: runs one path of the library or
-- the CLI in a fresh interpreter, then prints the service descriptions it
-- loaded (the generated files, one a line).
--
--   lua5.4 spec/helpers/loaded_after.lua cli ARG...   hwcloud.cli.main(ARG...)
--   lua5.4 spec/helpers/loaded_after.lua lua CODE     CODE, with `hwcloud` and a client `c`
--   lua5.4 spec/helpers/loaded_after.lua modules CODE as lua, then every hwcloud module
--                                                     loaded (not only the descriptions)

local mode = arg[1]
local rest = {}
for i = 2, #arg do rest[#rest + 1] = arg[i] end
local sink = { write = function() end }
if mode == "cli" then
  require("hwcloud.cli").main(rest, { stdout = sink, stderr = sink, getenv = function() return nil end,
                                      isatty = function() return false end })
else
  local hwcloud = require "hwcloud"
  local c = assert(hwcloud.client { region = "cn-north-4", ak = "a", sk = "b", project_id = "p",
                                    endpoint = "http://127.0.0.1:9" })
  assert(load(rest[1], "=path", "t", setmetatable({ hwcloud = hwcloud, c = c }, { __index = _G })))()
end
local list = {}
for k in pairs(package.loaded) do
  local f = mode == "modules" and k:match("^hwcloud%.?.*$") or k:match("^hwcloud%.services%.gen%.(.+)$")
  if f then list[#list + 1] = f end
end
table.sort(list)
io.write(table.concat(list, "\n"), "\n")
