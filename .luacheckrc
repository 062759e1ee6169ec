-- luacheck: the Lua of hwcloud, its specs, examples and benchmarks.
-- One standard per folder: `max` (whatever Lua 5.1-5.4 or LuaJIT has) for
-- the library, the tools and the benchmarks; `ngx_lua` for the code that
-- runs inside nginx (the cosocket transport, the emulator, the example
-- handler, the nginx fixtures); busted's on top for the specs.
std = "max"
ignore = { "212/self" }   -- methods need not use self
max_line_length = 120
-- a function past 20 paths is split, or listed below with its reason
max_cyclomatic_complexity = 20
-- scratch trees the specs and benchmarks make (copies of this one)
exclude_files = { "spec/.work/**", "bench/.work/**", "build/**",
  -- generated data (20 MB): tools/check_services.lua validates it instead
  "lua/hwcloud/services/gen/**", "lua/hwcloud/services/index.lua",
  -- built by make docs, not committed
  "types/**" }

-- nginx disables coroutine.create in some phases; its originals stay as
-- coroutine._create etc., which the engine uses when present
files["lua/hwcloud/engine/curl.lua"] = { ignore = { "143" } }
-- the client looks for ngx to pick the cosocket engine inside nginx
files["lua/hwcloud/client.lua"] = { read_globals = { "ngx" } }
files["lua/hwcloud/transport"] = { std = "ngx_lua" }
files["lua/hwcloud/engine/ngx.lua"] = { std = "ngx_lua" }
files["emulator/lua/hwcloud/emulator"] = { std = "ngx_lua" }
-- the helper for users' tests runs in a plain Lua, not in nginx
files["emulator/lua/hwcloud/emulator/testing.lua"] = { std = "max" }
files["examples/openresty_handler.lua"] = { std = "ngx_lua" }
files["bench/ngx"] = { std = "ngx_lua" }
files["spec"] = { std = "max+busted" }
files["emulator/spec"] = { std = "max+busted" }
-- a busted test of a user's script, as the README offers it
files["examples/test_with_emulator.lua"] = { std = "max+busted" }
files["spec/fixtures"] = { std = "ngx_lua" }
-- wrk's script API is a global table the script fills in
files["bench/wrk.lua"] = { globals = { "wrk" } }

-- Past the complexity limit today, each with its reason (lower a number
-- when its function is split; remove the line when the file is clean).
local function complex(path, n)
  files[path] = files[path] or {}
  files[path].max_cyclomatic_complexity = n
end
-- scripts that read top to bottom as the steps they show or check
complex("examples/deploy_workflow.lua", 58)
complex("examples/fleet_rollout.lua", 24)
complex("examples/reinstall_group.lua", 28)
complex("examples/build_and_wait.lua", 22)
complex("tools/gen_docs.lua", 47)
complex("tools/gen_catalog.lua", 48)
complex("tools/check_services.lua", 31)
complex("tools/fuzz/driver.lua", 23)
-- test servers and table-driven specs: one branch per case they serve
complex("spec/helpers/hostile_server.lua", 24)
complex("spec/helpers/server.lua", 21)
complex("spec/wire_spec.lua", 26)
