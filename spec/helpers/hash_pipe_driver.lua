-- Builds whose large strings are hashed on the helper thread
-- (src/hash_pipe.c), for spec/memcheck_spec.lua to run under valgrind's
-- memcheck (leaks, invalid reads) and helgrind (races between the writer
-- and the thread): every way in and out of the pipe.
--   lua5.4 spec/helpers/hash_pipe_driver.lua

local core = require "hwcloud.core"
local prepare = require("hwcloud.services").prepare

local op = { method = "POST", path = "/v1/scripts", request = prepare({ type = "object", fields = {
  content = { type = "string", required = true },
  more = { type = "string" },
  count = { type = "integer" },
} }) }
local MB = 1024 * 1024

-- two large strings in one body; then text that outgrows the first room
for _, text in ipairs({ string.rep('ab"é\n', MB / 4), string.rep("\1\2", MB / 2 + 7) }) do
  local _, body, digest = assert(core.build(op, { content = text, more = text, count = 1 }))
  assert(digest == core.sha256_hex(body), "the digest is not the body's")
end
-- refused while the thread runs (bad UTF-8), and after it ran (a wrong type)
local _, field = core.build(op, { content = string.rep("a", MB + 3) .. "\255" })
assert(field == "content")
_, field = core.build(op, { content = string.rep("a", MB), count = "x" })
assert(field == "count")
-- a state dropped with its pipe made: the collector joins and frees it
local _, body, digest = assert(core.build(op, { content = string.rep("z", MB) }))
assert(digest == core.sha256_hex(body))
-- held bodies (src/body.c): released and reused, dropped unreleased (the
-- collector releases it), and one still out at exit (lua_close does)
local _, held = assert(core.build(op, { content = string.rep("h", MB) }, nil, true))
assert(#held > MB and tostring(held):sub(1, 12) == '{"content":"')
held:release()
do -- dropped unreleased
  local _, dropped = assert(core.build(op, { content = string.rep("i", MB) }, nil, true))
  assert(#dropped > MB)
end
collectgarbage()
collectgarbage()
-- a global, so it is out until lua_close
KEPT = select(2, assert(core.build(op, { content = string.rep("j", MB) }, nil, true))) -- luacheck: ignore
collectgarbage()
io.write("hash pipe driver: done\n")
