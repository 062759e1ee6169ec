-- luacheck: the Lua of hwcloud, its specs, examples and benchmarks.
std = "max"
read_globals = {
  "jit",
  -- handlers set the response status and headers through ngx
  ngx = { other_fields = true, fields = {
    status = { read_only = false },
    header = { read_only = false, other_fields = true },
  } },
}
ignore = { "212/self" }   -- methods need not use self
max_line_length = 120
-- scratch trees the specs and benchmarks make (copies of this one)
exclude_files = { "spec/.work/**", "bench/.work/**", "build/**" }

-- nginx disables coroutine.create in some phases; its originals stay as
-- coroutine._create etc., which the engine uses when present
files["lua/hwcloud/engine.lua"] = { ignore = { "143" } }
files["spec"] = { std = "max+busted" }
-- wrk's script API is a global table the script fills in
files["bench/wrk.lua"] = { globals = { "wrk" } }
