-- Static checks of the whole tree: luacheck (.luacheckrc: no accidental
-- globals, no unused values) and cppcheck on the C core.

local run = require("spec.helpers.util").run

describe("static checks #slow", function()
  it("luacheck finds nothing in the Lua code", function()
    local ok, out = run("luacheck --no-color --formatter plain .")
    assert.is_true(ok, out)
    assert.are.equal("", out)
  end)

  it("cppcheck finds nothing in the C core", function()
    local ok, out = run("cppcheck --enable=warning,performance,portability --std=c99 --quiet "
      .. "--error-exitcode=1 --suppress=missingIncludeSystem -I src src/*.c")
    assert.is_true(ok, out)
    assert.are.equal("", out)
  end)
end)
