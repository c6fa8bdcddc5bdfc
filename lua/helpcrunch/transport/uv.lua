--- Drive the C engine from a libuv loop (vim.uv / vim.loop / luv): curl's
-- sockets are watched with uv poll handles and its timer with one uv
-- timer, both calling curl_multi_socket_action (client:socket_action); a
-- coroutine waiting for a request yields and is resumed from the loop when
-- the request is done. Nothing fires while nothing happens: no polling.
--
-- Every handle is closed exactly once (on curl's REMOVE, when a wait ends,
-- or by close()), and no Lua error escapes into a loop callback.
-- @module helpcrunch.transport.uv

local async = require "helpcrunch.async"
local util = require "helpcrunch.util"

local M = {}

local Driver = {}
Driver.__index = Driver

--- @tparam userdata engine a helpcrunch.core client made with events = true
-- @tparam table uv the loop module (vim.uv, vim.loop, require "luv")
-- @tparam[opt] function schedule resume coroutines through it (vim.schedule)
function M.new(engine, uv, schedule)
  return setmetatable({
    engine = engine, uv = uv, schedule = schedule,
    polls = {},          -- fd -> poll handle
    timer = nil,         -- curl's one timer
    waiting = {},        -- request -> coroutine waiting for it
    sleepers = {},       -- timer -> coroutine sleeping on it
    closed = false,
  }, Driver)
end

local function close_handle(h)
  if h and not h:is_closing() then h:close() end
end

-- Resume a coroutine from a loop callback (through schedule when given, so
-- the code after each call may use the host's API).
function Driver:wake(co)
  if self.schedule then
    self.schedule(function() async.resume(co, self.schedule) end)
  else
    async.resume(co)
  end
end

-- Resume whoever waits for a request that is now done.
function Driver:wake_finished()
  local ready
  for req, co in pairs(self.waiting) do
    if req:done() then
      ready = ready or {}
      ready[#ready + 1] = co
      self.waiting[req] = nil
    end
  end
  if ready then for i = 1, #ready do self:wake(ready[i]) end end
end

-- Apply what curl asked for since the last look: start, change or stop
-- poll handles, (re)arm the timer.
function Driver:apply()
  local socks, timer_ms = self.engine:changes()
  if socks then
    for i = 1, #socks, 2 do
      local fd, what = socks[i], socks[i + 1]
      local p = self.polls[fd]
      if what == "remove" then
        if p then
          p:stop()
          close_handle(p)
          self.polls[fd] = nil
        end
      elseif what ~= "none" then
        if not p then
          p = self.uv.new_socket_poll(fd)
          self.polls[fd] = p
        end
        p:start(what, function(err, events)
          self:event(fd, events or "", err)
        end)
      end
    end
  end
  if timer_ms then
    if not self.timer then self.timer = self.uv.new_timer() end
    self.timer:stop()
    if timer_ms >= 0 then
      self.timer:start(timer_ms, 0, function() self:event(nil) end)
    end
  end
end

-- A socket is ready (fd) or curl's timer fired (fd nil): drive curl, apply
-- its new wishes, resume finished waiters. Runs inside a loop callback, so
-- nothing may raise out of it.
function Driver:event(fd, events, err)
  if self.closed then return end
  local ok, e = pcall(function()
    if fd then
      self.engine:socket_action(fd, events:find("r", 1, true), events:find("w", 1, true), err)
    else
      self.engine:socket_action()
    end
    self:apply()
    self:wake_finished()
  end)
  if not ok then
    io.stderr:write("helpcrunch: in the loop callback: ", tostring(e), "\n")
  end
end

--- Raise (a programmer error, at the user's line) unless running inside a
-- coroutine.
function Driver.check_context()
  if not async.current() then
    error("helpcrunch: this client runs on an event loop (loop = ...), so its calls must "
      .. "be made inside a coroutine: wrap them in helpcrunch.async(function() ... end)",
      util.user_level())
  end
end

--- A request was started: let curl tell what to watch.
function Driver:started()
  self:apply()
end

--- Yield the running coroutine until req is done.
function Driver:wait(req)
  self.check_context()
  local co = async.current()
  self:apply()
  while not req:done() do
    if self.closed then error("helpcrunch: the client was closed", 0) end
    self.waiting[req] = co
    coroutine.yield()
  end
  self.waiting[req] = nil
end

--- Yield the running coroutine for `seconds`, on a uv timer.
function Driver:sleep(seconds)
  self.check_context()
  local co = async.current()
  local t = self.uv.new_timer()
  local fired = false
  self.sleepers[t] = co
  t:start(math.max(0, math.floor(seconds * 1000 + 0.5)), 0, function()
    fired = true
    self.sleepers[t] = nil
    close_handle(t)
    self:wake(co)
  end)
  while not fired do
    if self.closed then error("helpcrunch: the client was closed", 0) end
    coroutine.yield()
  end
end

--- Close every handle; coroutines still waiting are resumed and see an
-- error ("the client was closed"). Safe twice.
function Driver:close()
  if self.closed then return end
  self.closed = true
  for fd, p in pairs(self.polls) do
    p:stop()
    close_handle(p)
    self.polls[fd] = nil
  end
  if self.timer then
    self.timer:stop()
    close_handle(self.timer)
    self.timer = nil
  end
  local wake = {}
  for req, co in pairs(self.waiting) do
    wake[#wake + 1] = co
    self.waiting[req] = nil
  end
  for t, co in pairs(self.sleepers) do
    t:stop()
    close_handle(t)
    wake[#wake + 1] = co
    self.sleepers[t] = nil
  end
  for i = 1, #wake do self:wake(wake[i]) end
end

return M
