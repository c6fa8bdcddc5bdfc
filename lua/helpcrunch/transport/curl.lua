--- The curl transport: the C engine (helpcrunch.core, libcurl multi with
-- keep-alive) and the way the host waits for it:
--
-- - a plain script blocks in curl_multi_poll on the sockets themselves;
-- - a libuv host (`loop =`) yields the calling coroutine and is driven by
--   the loop (transport/uv.lua);
-- - any other host that gave `sleep` waits in its sleeps, with a backoff
--   from 1 ms to 50 ms (never a fixed tight poll).
--
-- The transport interface (transport/ngx.lua has the same):
--
--     t:start(method, url, body, fresh) -> handle   never waits
--     t:wait(handle)                               until it is done
--     t:collect(handle, decode) -> facts           and release it
--     t:cancel(handle)                             abort, release
--     t:pump()                                     progress transfers, never waits
--     t:sleep(seconds), t.now() -> seconds         the host's way of waiting
--     t:check_context()                            raise a programmer error when
--                                                  calls cannot work here
--     t:unusable() -> nil | failure, message       a failure every call returns
--     t:close()
--
-- facts: `status`, `seconds`, `sent`, `bytes`, `retry_after`, `location`,
-- `content_type`; `failure` (a name: "couldnt_connect", "timeout", ...) and
-- `message` when nothing usable arrived; else `body` (decoded), or
-- `decode_error`/`decode_at`/`raw`, or `raw` when decode is false.
-- @module helpcrunch.transport.curl

local core = require "helpcrunch.core"

local M = {}

local Transport = {}
Transport.__index = Transport

-- The sleep-fallback wait: first nap and the longest one (seconds).
local NAP_FIRST, NAP_MAX = 0.001, 0.05

--- @tparam table o `token`, `user_agent`, `timeout`, `connect_timeout`,
--   `verify_tls`, `ca_file`, `proxy`, `max_body`, `loop`, `schedule`, `sleep`
function M.new(o)
  local engine = core.new {
    token = o.token, user_agent = o.user_agent, timeout = o.timeout,
    connect_timeout = o.connect_timeout, verify_tls = o.verify_tls, ca_file = o.ca_file,
    proxy = o.proxy, max_body = o.max_body, events = o.loop ~= nil,
  }
  local self = setmetatable({ engine = engine, host_sleep = o.sleep }, Transport)
  if o.loop then
    self.driver = require("helpcrunch.transport.uv").new(engine, o.loop, o.schedule)
  end
  return self
end

Transport.now = core.now

function Transport:check_context()
  if self.driver then self.driver.check_context() end
end

function Transport.unusable()
  return nil
end

function Transport:start(method, url, body, fresh)
  local req = self.engine:start(method, url, body, fresh)
  if self.driver then self.driver:started() end
  return req
end

function Transport:pump()
  if not self.driver then self.engine:step() end   -- a loop drives itself
end

function Transport:wait(req)
  if req:done() then return end
  if self.driver then return self.driver:wait(req) end
  if not self.host_sleep then return self.engine:wait(req) end
  -- Any other host: its own sleep, backing off while nothing arrives, but
  -- never past the moment curl itself needs to run (its timeouts).
  local nap = NAP_FIRST
  local _, due = self.engine:step()
  while not req:done() do
    self.host_sleep(due < nap and due or nap)
    if nap < NAP_MAX then nap = nap * 2 > NAP_MAX and NAP_MAX or nap * 2 end
    _, due = self.engine:step()
  end
end

function Transport:collect(req, decode)
  local facts = self.engine:collect(req, decode)
  req:close()
  return facts
end

function Transport.cancel(_, req)
  req:close()
end

function Transport:sleep(seconds)
  if seconds <= 0 then return end
  if self.driver then return self.driver:sleep(seconds) end
  if self.host_sleep then return self.host_sleep(seconds) end
  core.sleep(seconds)
end

--- Requests started and not yet collected (for tests and diagnostics).
function Transport:pending()
  return self.engine:pending()
end

function Transport:close()
  if self.driver then self.driver:close() end
  self.engine:close()
end

return M
