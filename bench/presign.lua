-- Prints the headers of one reinstall_server request to the emulator, signed
-- by hwcloud now (X-Sdk-Date stays valid 15 minutes), one "Name: value" a
-- line: the same header set a hwcloud client sends. Used to replay the
-- request with curl and wrk.
--   lua5.4 bench/presign.lua ENDPOINT
local hwcloud = require "hwcloud"
local core = require "hwcloud.core"
local B = require "bench.common"

local endpoint = assert(arg[1], "usage: presign.lua ENDPOINT")
local headers = assert(hwcloud.sign({
  method = "POST", url = endpoint .. B.path(), body = B.BODY,
  headers = { ["Content-Type"] = "application/json", ["X-Project-Id"] = B.PROJECT_ID },
}, { ak = B.AK, sk = B.SK }))
headers["User-Agent"] = "hwcloud/" .. core.version .. " (" .. _VERSION .. ")"
headers["Accept"] = "application/json"
local names = {}
for k in pairs(headers) do names[#names + 1] = k end
table.sort(names)
for _, k in ipairs(names) do io.write(k, ": ", headers[k], "\n") end
