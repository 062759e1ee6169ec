-- busted output handler: one line per spec file as it finishes, every
-- failure in full, and a last line "N passed, N failed[, N skipped]"
-- (errors count as failures) that CI reads.

local io_write, io_flush, format = io.write, io.flush, string.format

return function(options)
  local busted = require "busted"
  local handler = require("busted.outputHandlers.base")()
  local counts = { passed = 0, failed = 0, skipped = 0 }
  local file_counts

  local function describe_failure(kind, t)
    local msg = t.message
    if type(msg) ~= "string" then msg = require("pl.pretty").write(msg) end
    local where = t.element and t.element.trace
      and (t.element.trace.short_src .. ":" .. t.element.trace.currentline) or "?"
    io_write(format("\n%s: %s\n  at %s\n  %s\n", kind, t.name or "?", where,
      (msg or "nil"):gsub("\n", "\n  ")))
    if options.verbose and t.trace and t.trace.traceback then
      io_write("  " .. t.trace.traceback:gsub("\n", "\n  ") .. "\n")
    end
  end

  handler.fileStart = function(file)
    file_counts = { passed = 0, failed = 0, skipped = 0, name = file.name }
    return nil, true
  end

  handler.fileEnd = function()
    -- a file whose tests were all left out by tags (make check) says nothing
    if file_counts and file_counts.passed + file_counts.failed + file_counts.skipped > 0 then
      io_write(format("%-40s %3d passed, %d failed%s\n", file_counts.name, file_counts.passed,
        file_counts.failed, file_counts.skipped > 0 and (", " .. file_counts.skipped .. " skipped") or ""))
      io_flush()
    end
    return nil, true
  end

  handler.testEnd = function(_, _, status)
    local key
    if status == "success" then
      key = "passed"
    elseif status == "pending" then
      key = "skipped"
    else
      key = "failed"
      local list = status == "failure" and handler.failures or handler.errors
      describe_failure(status == "failure" and "FAILED" or "ERROR", list[#list])
    end
    counts[key] = counts[key] + 1
    if file_counts then file_counts[key] = file_counts[key] + 1 end
    return nil, true
  end

  -- errors outside any test (a spec file that fails to load) still fail
  handler.error = function(element, _, message)
    if element and element.descriptor ~= "it" then
      counts.failed = counts.failed + 1
      describe_failure("ERROR", { name = element.name or element.descriptor, message = message,
                                  element = element })
    end
    return nil, true
  end

  handler.suiteEnd = function()
    local line = format("%d passed, %d failed", counts.passed, counts.failed)
    if counts.skipped > 0 then line = line .. format(", %d skipped", counts.skipped) end
    io_write("\n" .. line .. "\n")
    io_flush()
    return nil, true
  end

  busted.subscribe({ "file", "start" }, handler.fileStart)
  busted.subscribe({ "file", "end" }, handler.fileEnd)
  busted.subscribe({ "test", "end" }, handler.testEnd, { predicate = handler.cancelOnPending })
  busted.subscribe({ "error" }, handler.error)
  busted.subscribe({ "failure" }, handler.error)
  busted.subscribe({ "suite", "end" }, handler.suiteEnd)
  return handler
end
