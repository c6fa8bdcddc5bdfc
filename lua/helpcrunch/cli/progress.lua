--- Progress on stderr. On a terminal: one line redrawn in place (at most ten
-- times a second) with a bar, done/total, the rate, the ETA, retries so
-- far and what the command is waiting for ("waiting 12 s for the rate
-- limit"). Otherwise: a plain line every `every` seconds and one at the end,
-- no control characters. `quiet`: nothing but the final line's errors (which
-- the caller prints).
-- @module helpcrunch.cli.progress

local core = require "helpcrunch.core"

local M = {}

local P = {}
P.__index = P

-- Seconds of history the rate is computed over.
local WINDOW = 10

--- New progress display.
-- @tparam table o `label` ("export"), `unit` ("customers"), `total`
--   (nil when unknown), `tty` (boolean), `quiet`, `every` (seconds between
--   plain lines, default 10), `out` (default io.stderr), `now` (clock),
--   `width` (default: the terminal's), `done` (already done: a resumed run)
function M.new(o)
  local now = o.now or core.now
  local self = setmetatable({
    label = o.label, unit = o.unit or "customers", total = o.total, tty = o.tty,
    quiet = o.quiet, every = o.every or 10, out = o.out or io.stderr, now = now,
    done = o.done or 0, start_done = o.done or 0, started = now(), drawn = 0, printed = 0,
    samples = {}, retries = 0, limited = 0, status = nil,
    width = o.width or (o.tty and require("helpcrunch.cli.sys").columns()) or 80,
  }, P)
  self.samples[1] = { self.started, self.done }
  self.printed = self.started
  return self
end

local function clock_text(s)
  s = math.floor(s + 0.5)
  local h, m = math.floor(s / 3600), math.floor(s % 3600 / 60)
  if h > 0 then return string.format("%d:%02d:%02d", h, m, s % 60) end
  return string.format("%d:%02d", m, s % 60)
end

--- Items per second over the last seconds (0 until something is done).
function P:rate()
  local t = self.now()
  local s = self.samples
  while #s > 2 and t - s[2][1] > WINDOW do table.remove(s, 1) end
  local first = s[1]
  local dt = t - first[1]
  if dt <= 0 then return 0 end
  return (self.done - first[2]) / dt
end

function P:sample()
  local t = self.now()
  local s = self.samples
  if t - s[#s][1] >= 1 then s[#s + 1] = { t, self.done } end
end

-- The text of the progress line (without the bar).
function P:text()
  local parts = {}
  if self.total then
    local pct = self.total > 0 and math.floor(100 * self.done / self.total) or 100
    parts[#parts + 1] = string.format("%d/%d %s (%d%%)", self.done, self.total, self.unit, pct)
  else
    parts[#parts + 1] = string.format("%d %s", self.done, self.unit)
  end
  local rate = self:rate()
  if rate > 0 then
    parts[#parts + 1] = string.format("%.0f/s", rate)
    if self.total and self.total > self.done then
      parts[#parts + 1] = "ETA " .. clock_text((self.total - self.done) / rate)
    end
  end
  if self.retries > 0 then parts[#parts + 1] = self.retries .. " retries" end
  if self.status then parts[#parts + 1] = self.status end
  return table.concat(parts, ", ")
end

function P:draw(force)
  if self.quiet then return end
  local t = self.now()
  if self.tty then
    if not force and t - self.drawn < 0.1 then return end
    self.drawn = t
    local text = self:text()
    local room = self.width - #self.label - #text - 6
    local bar = ""
    if self.total and self.total > 0 and room >= 10 then
      local w = math.min(room, 30)
      local fill = math.floor(w * math.min(self.done / self.total, 1))
      bar = "[" .. string.rep("#", fill) .. string.rep(".", w - fill) .. "] "
    end
    local line = self.label .. " " .. bar .. text
    if #line > self.width - 1 then line = line:sub(1, self.width - 1) end
    self.out:write("\r", line, "\27[K")
    self.out:flush()
  elseif force or t - self.printed >= self.every then
    self.printed = t
    self.out:write("helpcrunch ", self.label, ": ", self:text(), "\n")
    self.out:flush()
  end
end

--- Count items done.
-- @tparam[opt=1] integer n
function P:add(n)
  self.done = self.done + (n or 1)
  self.status = nil
  self:sample()
  self:draw()
end

--- Start counting from `n` (what an earlier run did: a resumed export).
-- @tparam integer n
function P:resume_at(n)
  self.done, self.start_done = n, n
  self.samples = { { self.now(), n } }
end

--- Set (or correct) the total.
function P:set_total(n)
  self.total = n
end

--- An `on_request` event of the client: retries and 429s show.
-- @tparam table ev
function P:event(ev)
  if ev.status == 429 then self.limited = self.limited + 1 end
  if ev.retry then
    self.retries = self.retries + 1
    if ev.status == 429 then
      self.pending = "the server answered 429: waiting %d s"
    else
      self.pending = "retry after " .. tostring(ev.status or ev.code) .. ": waiting %d s"
    end
  end
end

--- The client waits (its clock's sleep): say why and how long. Called at
-- the start of a wait and again, `continuing`, each second of it.
-- @tparam number seconds left
-- @tparam[opt] boolean continuing
function P:waiting(seconds, continuing)
  if not continuing then
    self.wait_format = self.pending or "waiting %d s for the rate limit"
    self.pending = nil
  end
  local text = string.format(self.wait_format, math.ceil(seconds))
  if self.tty then
    if seconds >= 1 or continuing then
      self.status = text
      self:draw(true)
    end
  elseif not continuing and seconds >= 5 and not self.quiet then
    self.out:write("helpcrunch ", self.label, ": ", text, "\n")
    self.out:flush()
  end
end

--- A message on its own line (the bar is redrawn below it).
-- @tparam string msg
function P:note(msg)
  if self.quiet then return end
  if self.tty then self.out:write("\r\27[K") end
  self.out:write("helpcrunch ", self.label, ": ", msg, "\n")
  if self.tty then self:draw(true) end
  self.out:flush()
end

--- The end: the bar is replaced by a summary line: how many, how long,
-- how fast, and `extra` (" to out.csv").
-- @tparam[opt] string extra
function P:finish(extra)
  if self.quiet then return end
  if self.tty then self.out:write("\r\27[K") end
  local secs = self.now() - self.started
  local n = self.done - self.start_done
  self.out:write("helpcrunch ", self.label, ": ", string.format("%d %s in %.1f s (%.0f/s)",
    self.done, self.unit, secs, secs > 0 and n / secs or 0), extra or "", "\n")
  self.out:flush()
end

--- Stop drawing (an error or Ctrl-C): leave the cursor on a clean line.
function P:abort()
  if self.quiet then return end
  if self.tty then self.out:write("\r\27[K") self.out:flush() end
end

return M
