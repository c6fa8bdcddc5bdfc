--- Where a client's rate limit lives (DESIGN.md "Shared rate limits").
--
--     rate_limit = { requests = 120, per = 60, store = helpcrunch.ratelimit.memory() }
--
-- A store keeps the sliding log of request starts and any hold a 429 asked
-- for, and takes a start atomically, so everyone sharing the store shares
-- the limit. The interface every store has:
--
--     store:take(requests, per, now) -> 0          a start was recorded
--                                    -> seconds    wait this long, then ask again
--                                    -> nil, msg   the store cannot be reached
--     store:hold(seconds, now)       -> true | nil, msg
--                                    nobody sharing it starts before now + seconds
--     store.secrets                  optional { [secret] = "<label>" }: scrubbed from
--                                    every error and event (a password)
--
-- `now` is the client's clock (injectable); stores shared between
-- processes use their own (the Redis server's, nginx's).
-- @module helpcrunch.ratelimit

local M = {}

--- This client only (the default): a sliding log in this process.
function M.memory()
  return require("helpcrunch.ratelimit.memory").new()
end

return M
