-- hwcloud.progress: what a person watching a workflow step sees.
--   "live"   one line redrawn in place (a terminal), from the start
--   "plain"  a line now and then, for logs and pipes
--   "auto"   live on a terminal, plain otherwise
--   false    nothing
--   function called with {label, done, failed, total, elapsed, finished}

local type, format, floor = type, string.format, math.floor

local _M = {}

local P = {}
P.__index = P

local MODES = { auto = true, live = true, plain = true }

-- check(mode) -> nothing when mode is one of the above (or true, meaning
-- "auto"), else a message saying what is allowed
function _M.check(mode)
  if mode == nil or mode == false or mode == true or type(mode) == "function"
     or MODES[mode] then
    return nil
  end
  return 'must be "auto", "live", "plain", false or a function'
end

-- new(mode, label, total, now, isatty, out) -> progress | nil (silent)
function _M.new(mode, label, total, now, isatty, out)
  if mode == false or mode == nil or total == 0 then return nil end
  if mode == true then mode = "auto" end
  out = out or io.stderr
  if mode == "auto" then mode = isatty(2) and "live" or "plain" end
  local self = setmetatable({
    mode = mode, label = label or "hwcloud", total = total, done = 0, failed = 0,
    now = now, start = now(), out = out, last_draw = now(), last_pct = -1,
  }, P)
  -- on a terminal the line is there from the start: a step whose first
  -- result takes minutes still shows what it is waiting for
  if mode == "live" then self:draw() end
  return self
end

-- Redraws the live line in place.
function P:draw()
  self.out:write("\r\27[K" .. self:line())
  if self.out.flush then self.out:flush() end
end

function P:line()
  return format("%s: %d/%d done, %d failed, %.1f s", self.label, self.done, self.total,
    self.failed, self.now() - self.start)
end

function P:state(finished)
  return { label = self.label, done = self.done, failed = self.failed, total = self.total,
           elapsed = self.now() - self.start, finished = finished }
end

function P:step(failed)
  self.done = self.done + 1
  if failed then self.failed = self.failed + 1 end
  local mode = self.mode
  if type(mode) == "function" then
    mode(self:state(self.done == self.total))
  elseif mode == "live" then
    local t = self.now()
    if t - self.last_draw >= 0.1 or self.done == self.total then
      self.last_draw = t
      self:draw()
    end
  else
    -- plain: at most a line a second and one per 10%, so logs stay short;
    -- finish() writes the last one
    local pct = floor(self.done * 10 / self.total)
    local t = self.now()
    if pct ~= self.last_pct and self.done < self.total and t - self.last_draw >= 1 then
      self.last_pct, self.last_draw = pct, t
      self.out:write(self:line() .. "\n")
    end
  end
end

function P:finish()
  if type(self.mode) == "function" then return end -- its last state said finished
  if self.mode == "live" then
    self.out:write("\r\27[K" .. self:line() .. "\n")
  else
    self.out:write(self:line() .. "\n")
  end
  if self.out.flush then self.out:flush() end
end

return _M
