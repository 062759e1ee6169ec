-- hwcloud.cli.progress: the one line on stderr while jobs run (redrawn on
-- a terminal, a new line per change otherwise), and the options of a wait.

local ipairs, tostring = ipairs, tostring
local concat = table.concat
local format = string.format

local setup = require "hwcloud.cli.setup"
local common = require "hwcloud.cli.common"

local _M = {}

local function silent() end

-- jobs(ctx, total) -> on_progress (client:wait's), finish (ends the line)
function _M.jobs(ctx, total)
  if ctx.quiet then return silent, silent end
  local states, order, last, open = {}, {}, nil, false
  local function finish()
    if open then ctx.err("\n") end
    open = false
  end
  return function(st)
    if not states[st.id] then order[#order + 1] = st.id end
    states[st.id] = tostring(st.status or "?")
    local line
    if total == 1 then
      line = format("%s job %s: %s (%.1f s)", st.service, st.id, states[st.id], st.elapsed or 0)
    else
      local counts, names = {}, {}
      for _, id in ipairs(order) do
        local s = states[id]
        if not counts[s] then names[#names + 1] = s counts[s] = 0 end
        counts[s] = counts[s] + 1
      end
      local parts = {}
      for i, s in ipairs(names) do parts[i] = counts[s] .. " " .. s end
      line = format("%s: %d jobs: %s (%.1f s)", st.service, total, concat(parts, ", "),
        st.elapsed or 0)
    end
    local key = line:gsub("%(%d+%.%d s%)$", "")
    if ctx.err_tty then
      ctx.err("\r\27[K" .. line)
      open = true
    elseif key ~= last then
      ctx.err(line .. "\n")
    end
    last = key
  end, finish
end

-- wait_opts(ctx, on_progress) -> client:wait's options from --wait-timeout
function _M.wait_opts(ctx, on_progress)
  local t = setup.number_opt(ctx.opts, "wait-timeout")
  if t == 0 then common.usage("option --wait-timeout: expected a number of seconds above 0") end
  return { timeout = t, on_progress = on_progress }
end

return _M
