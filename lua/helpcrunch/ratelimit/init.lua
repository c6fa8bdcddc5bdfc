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

--- Seconds every store keeps between the oldest start of a full window and
-- the next start (a window is `per + MARGIN`): requests reach the server a
-- little after they start, and this much arrival jitter never puts
-- `requests + 1` of them into the server's window. The shared stores take
-- a `margin` option for sharers whose paths to the API differ more.
M.MARGIN = 0.02

--- This client only (the default): a sliding log in this process.
function M.memory()
  return require("helpcrunch.ratelimit.memory").new()
end

--- Every worker of one nginx: the log in a lua_shared_dict.
-- @param dict `ngx.shared.NAME`
-- @tparam[opt] table opts `key` (prefix of its keys, default "helpcrunch"),
--   `margin` (seconds), `clock` (a function returning seconds; default nginx's)
function M.shdict(dict, opts)
  return require("helpcrunch.ratelimit.shdict").new(dict, opts)
end

--- Every process on every machine: the log in Redis.
-- @tparam table opts `host`, `port`, `password`, `username`, `db`, `key`,
--   `timeout`, `margin`, `clock` (see helpcrunch.ratelimit.redis)
function M.redis(opts)
  return require("helpcrunch.ratelimit.redis").new(opts)
end

return M
