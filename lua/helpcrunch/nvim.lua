--- Neovim shorthand: a client on Neovim's event loop.
--
--     local hc = require "helpcrunch.nvim"
--     local client = hc.new { token = os.getenv("HELPCRUNCH_API_KEY") }
--     hc.async(function()
--       local c = assert(client.customers:get(42))   -- the editor keeps running
--       vim.api.nvim_echo({ { c.name } }, false, {})  -- vim.api is safe here
--     end)
--
-- The same as `helpcrunch.new{ loop = vim.uv or vim.loop, schedule = vim.schedule }`:
-- calls made inside `async` yield while they wait and resume through
-- vim.schedule, so the code after each call may use vim.api.
-- @module helpcrunch.nvim

local helpcrunch = require "helpcrunch"

local M = {}

local function editor()
  local vim = rawget(_G, "vim")
  if type(vim) ~= "table" or type(vim.schedule) ~= "function" then
    error("helpcrunch.nvim: not running inside Neovim (no vim.schedule); elsewhere use "
      .. "helpcrunch.new{ loop = require \"luv\" }", 3)
  end
  return vim
end

--- A client on Neovim's loop; every option of helpcrunch.new is accepted
-- (`loop` and `schedule` default to Neovim's).
-- @tparam[opt] table opts
function M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("helpcrunch.nvim.new: options must be a table, got " .. type(opts), 2)
  end
  local vim = editor()
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.loop == nil then o.loop = vim.uv or vim.loop end
  if o.schedule == nil then o.schedule = vim.schedule end
  return helpcrunch.new(o)
end

--- Run fn in a coroutine (see helpcrunch.async); without `done`, an error is
-- shown with vim.notify instead of being lost.
-- @tparam function fn
-- @tparam[opt] function done `done(ok, result_or_err)`
function M.async(fn, done)
  local vim = editor()
  return helpcrunch.async(fn, done or function(ok, err)
    if not ok then
      vim.schedule(function() vim.notify(tostring(err), vim.log.levels.ERROR) end)
    end
  end)
end

return M
