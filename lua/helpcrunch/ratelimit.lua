--- A sliding-log rate limiter: never more than `requests` starts in any
-- `per` seconds, while still allowing a full burst.
-- The log is a ring of the last `requests` start times; a new start waits
-- until the oldest of them is `per` seconds old.
-- @module helpcrunch.ratelimit

local M = {}

local Limiter = {}
Limiter.__index = Limiter

-- Requests reach the server a little after they start; keep this much
-- between the oldest start and the window's end so arrival jitter never
-- puts requests+1 of them into the server's window.
local MARGIN = 0.02

--- New limiter.
-- @tparam integer requests most starts in any window
-- @tparam number per window length in seconds
-- @tparam function now monotonic clock in seconds
function M.new(requests, per, now)
  return setmetatable({
    requests = requests, per = per, now = now,
    log = {}, head = 1, count = 0,
  }, Limiter)
end

--- Seconds until a request may start (0: now).
function Limiter:delay()
  if self.count < self.requests then return 0 end
  local wait = self.log[self.head] + self.per + MARGIN - self.now()
  return wait > 0 and wait or 0
end

--- Record a start now. Call only when `delay()` is 0.
function Limiter:take()
  local now, n = self.now(), self.requests
  if self.count < n then
    self.log[(self.head - 1 + self.count) % n + 1] = now
    self.count = self.count + 1
  else
    self.log[self.head] = now           -- the oldest leaves, the newest enters
    self.head = self.head % n + 1
  end
end

return M
