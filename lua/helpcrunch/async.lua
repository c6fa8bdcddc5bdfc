--- Coroutines for event-loop hosts (Neovim, luvit): `helpcrunch.async(fn,
-- done)` runs fn in a coroutine; a client made with `loop =` yields it while
-- a request or a wait is pending and resumes it from the loop.
--
-- Resuming lives here, in one place, so that a coroutine that ends (or
-- fails) after being resumed from a loop callback still reaches its `done`
-- callback, and no Lua error ever escapes into the loop. No yield crosses
-- a pcall, so it works on Lua 5.1 too.
-- @module helpcrunch.async

local M = {}

-- coroutine -> function(ok, ...) called when it ends (weak: a coroutine
-- nobody resumes any more is collected with its callback).
local finishers = setmetatable({}, { __mode = "k" })

-- Report an error that has nowhere else to go: through the host's
-- scheduler when there is one (Neovim shows errors raised in
-- vim.schedule callbacks), else on stderr. Never raises here.
local function report(err, schedule)
  if schedule then
    local ok = pcall(schedule, function() error(err, 0) end)
    if ok then return end
  end
  io.stderr:write("helpcrunch: error in a coroutine resumed by the loop: ", tostring(err), "\n")
end

local function settle(co, schedule, ok, ...)
  if coroutine.status(co) ~= "dead" then return end
  local done = finishers[co]
  finishers[co] = nil
  if done then
    local cb_ok, cb_err = pcall(done, ok, ...)
    if not cb_ok then report(cb_err, schedule) end
  elseif not ok then
    report((...), schedule)
  end
end

--- Resume a coroutine from a loop callback: never raises; an error or the
-- end of the coroutine goes to its `done` callback (or is reported).
-- @tparam thread co
-- @tparam[opt] function schedule the host's scheduler (vim.schedule), used
--   to report errors that have no `done` callback
function M.resume(co, schedule)
  settle(co, schedule, coroutine.resume(co))
end

--- The running coroutine, or nil on the main thread (5.1 to 5.4, LuaJIT).
function M.current()
  local co, main = coroutine.running()
  if co == nil or main then return nil end
  return co
end

--- Run fn in a new coroutine now; calls inside it that wait yield to the
-- loop. `done(true, results...)` or `done(false, err)` is called when fn
-- ends; without `done` an error is reported rather than lost.
-- @tparam function fn
-- @tparam[opt] function done
-- @treturn thread the coroutine
function M.run(fn, done)
  if type(fn) ~= "function" then
    error("helpcrunch.async: expected a function, got " .. type(fn), 2)
  end
  if done ~= nil and type(done) ~= "function" then
    error("helpcrunch.async: done must be a function, got " .. type(done), 2)
  end
  local co = coroutine.create(function(...) return fn(...) end)
  finishers[co] = done or false
  settle(co, nil, coroutine.resume(co))
  return co
end


return M
