-- Loaded first by `make check` (the fast tier, .busted's `check` task):
-- there, starting the emulator or an nginx fixture is a mistake in the
-- spec's tags, so it fails at once and says which tag the spec lacks.
-- Describes (or tests) that need a server are tagged #server, slow ones
-- (builds, valgrind) #slow; the fast tier leaves both to `make test`.

package.path = "./?.lua;" .. package.path
require "spec.helpers.checkout"

local function refuse()
  error("this spec starts a server but is not tagged #server: add #server to its describe "
    .. "(or test) name, so that `make check` leaves it to `make test`", 2)
end

require("spec.helpers.emulator").start = refuse
require("spec.helpers.server").start = refuse
