--- The in-process rate-limit store: a sliding log, never more than
-- `requests` starts in any `per` seconds, that still allows a full burst.
-- The log is a ring of the last `requests` start times; a new start waits
-- until the oldest of them is `per` seconds old. A client of its own by
-- default; give one store to several clients to share it in a process.
-- @module helpcrunch.ratelimit.memory

local MARGIN = require("helpcrunch.ratelimit").MARGIN

local M = {}

local Store = {}
Store.__index = Store

function M.new()
  return setmetatable({ log = {}, head = 1, count = 0, size = nil, held_until = -math.huge },
    Store)
end

--- See helpcrunch.ratelimit: 0 when a start was recorded, else seconds to wait.
function Store:take(requests, per, now)
  if self.size ~= requests then              -- first use, or another limit: start over
    self.log, self.head, self.count, self.size = {}, 1, 0, requests
  end
  local hold = self.held_until - now
  if hold > 0 then return hold end
  if self.count < requests then
    self.log[(self.head - 1 + self.count) % requests + 1] = now
    self.count = self.count + 1
    return 0
  end
  local wait = self.log[self.head] + per + MARGIN - now
  if wait > 0 then return wait end
  self.log[self.head] = now                    -- the oldest leaves, the newest enters
  self.head = self.head % requests + 1
  return 0
end

--- See helpcrunch.ratelimit: nobody starts before now + seconds.
function Store:hold(seconds, now)
  if now + seconds > self.held_until then self.held_until = now + seconds end
  return true
end

return M
