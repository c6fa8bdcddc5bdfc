-- Neovim: the client on Neovim's own libuv loop (`loop = vim.loop` and the
-- `helpcrunch.nvim` shorthand) in `nvim --headless -u NONE`, against the mock.
-- While a request waits (held by the mock until released), the editor's 10 ms
-- timer keeps ticking; the release is sent from that timer after enough ticks,
-- so the request can only finish if the loop kept running -- a behaviour, not a
-- speed figure. Also: iterators inside async, vim.api usable after a call,
-- the programmer error outside a coroutine, and no handle left after close.
local H = require "spec.helper"

local function have_nvim()
  local rc = os.execute("command -v nvim >/dev/null 2>&1")
  return rc == true or rc == 0
end

-- The script's prelude: the checkout's modules on nvim's LuaJIT, a results file,
-- and `finish()` to write the results and quit.
local PRELUDE = [[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/luajit/?.so;" .. package.cpath
local MOCK, TOKEN, OUT = %q, %q, %q
local results = {}
local function put(k, v) results[#results + 1] = k .. "=" .. tostring(v) end
local function finish()
  local f = assert(io.open(OUT, "w"))
  f:write(table.concat(results, "\n"), "\n")
  f:close()
  vim.cmd("qa!")
end
local function release()   -- POST /_mock/release, without blocking the loop
  vim.fn.jobstart({ "curl", "-s", "-X", "POST", (MOCK:gsub("/v1$", "")) .. "/_mock/release" })
end
local uv = vim.loop
]]

-- Run a script body in nvim; return the results as a table of strings.
-- `pre`: shell text before the command (environment), `args`: nvim arguments.
local function run(mock, body, pre, args)
  local out, script = os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(PRELUDE:format(mock.url, H.TOKEN, out), body, "\n")
  f:close()
  local rc = os.execute((pre or "") .. " timeout 60 nvim --headless -u NONE -i NONE "
    .. (args or "") .. " -c 'luafile " .. script .. "' </dev/null >/dev/null 2>&1")
  local text = H.read(out)
  os.remove(out)
  os.remove(script)
  local r = {}
  for k, v in text:gmatch("([%w_]+)=([^\n]*)") do r[k] = v end
  return r, rc
end

describe("#host Neovim", function()
  if not have_nvim() then
    it("needs nvim", function() pending("nvim is not installed") end)
    return
  end
  local mock
  setup(function() mock = H.mock { customers = 300, seed = 4 } end)
  teardown(function() mock:stop() end)
  before_each(function()
    mock:reset()
    mock:clear_faults()
  end)

  it("loop = vim.loop: the editor's timer keeps ticking while a request waits", function()
    mock:fault { kind = "hold", path = "/v1/customers/4994" }
    local r = run(mock, [[
local hc = require "helpcrunch"
local client = hc.new { token = TOKEN, base_url = MOCK, loop = vim.loop, schedule = vim.schedule }
local ticks, released, done_at = 0, false, nil
local timer = uv.new_timer()
timer:start(10, 10, function()
  ticks = ticks + 1
  if ticks == 30 and not released then released = true release() end
end)
hc.async(function()
  local c, err = client.customers:get(4994)
  put("name", c and c.name or tostring(err))
  put("ticks_before_answer", ticks)
  put("api", pcall(vim.api.nvim_buf_set_lines, 0, 0, -1, false, { "ok" }))
end, function(ok, err)
  put("ok", ok) if not ok then put("err", err) end
  timer:stop() timer:close()
  client:close()
  finish()
end)
]])
    assert.equals("true", r.ok, r.err)
    assert.equals("Serge Merge", r.name)
    assert.is_true(tonumber(r.ticks_before_answer) >= 30, r.ticks_before_answer)
    assert.equals("true", r.api)                       -- resumed through vim.schedule
  end)

  it("helpcrunch.nvim: an iterator inside async reads every customer once", function()
    local r = run(mock, [[
local hcn = require "helpcrunch.nvim"
local client = hcn.new { token = TOKEN, base_url = MOCK, page_size = 40, prefetch = 2 }
hcn.async(function()
  local seen, n, dup = {}, 0, 0
  for c in client.customers:all {} do
    if seen[c.id] then dup = dup + 1 end
    seen[c.id] = true
    n = n + 1
  end
  put("n", n) put("dup", dup)
  put("count", client.customers:search():where("email", "~", "example"):count())
end, function(ok, err)
  put("ok", ok) if not ok then put("err", err) end
  client:close()
  finish()
end)
]])
    assert.equals("true", r.ok, r.err)
    assert.equals("300", r.n)
    assert.equals("0", r.dup)
    assert.is_true(tonumber(r.count) > 0)
  end)

  it("two coroutines at once: both held at the mock together, both answered", function()
    mock:fault { kind = "hold", count = 2, path = "/v1/customers/" }
    local r = run(mock, [[
local hcn = require "helpcrunch.nvim"
local client = hcn.new { token = TOKEN, base_url = MOCK }
local left = 2
local function done() left = left - 1 if left == 0 then client:close() finish() end end
for _, id in ipairs { 4994, 265555 } do
  hcn.async(function()
    local c = assert(client.customers:get(id))
    put("got_" .. id, c.id)
  end, function(ok, err) put("ok_" .. id, ok) if not ok then put("err", err) end done() end)
end
-- both requests are waiting at the same time when the release goes out
local check = uv.new_timer()
check:start(20, 20, function()
  vim.schedule(function()
    local out = vim.fn.system({ "curl", "-s", (MOCK:gsub("/v1$", "")) .. "/_mock/held" })
    if out:find('"held":%s*2') then check:stop() check:close() put("both_held", true) release() end
  end)
end)
]])
    assert.equals("true", r.both_held)
    assert.equals("true", r.ok_4994, r.err)
    assert.equals("true", r.ok_265555, r.err)
    assert.equals("4994", r.got_4994)
    assert.equals("265555", r.got_265555)
  end)

  it("a call outside a coroutine raises a programmer error naming async", function()
    local r = run(mock, [[
local client = require("helpcrunch.nvim").new { token = TOKEN, base_url = MOCK }
local ok, err = pcall(function() return client.customers:get(4994) end)
put("ok", ok)
put("has_async", tostring(err):find("helpcrunch.async", 1, true) ~= nil)
client:close()
finish()
]])
    assert.equals("false", r.ok)
    assert.equals("true", r.has_async)
    assert.equals(0, #mock:log())                      -- nothing was sent
  end)

  it("close() leaves no handle of the client's on the loop", function()
    -- (uv.walk cannot be used in Neovim 0.7: it asserts on Neovim's own
    -- handles; every handle the client makes is recorded through its loop)
    local r = run(mock, [[
local hcn = require "helpcrunch.nvim"
local made = {}
local loop = setmetatable({
  new_socket_poll = function(fd) local h = uv.new_socket_poll(fd) made[#made + 1] = h return h end,
  new_timer = function() local h = uv.new_timer() made[#made + 1] = h return h end,
}, { __index = uv })
local client = hcn.new { token = TOKEN, base_url = MOCK, page_size = 50, prefetch = 4,
                         loop = loop, rate_limit = { requests = 2, per = 0.2 } }
hcn.async(function()
  local n = 0
  for _ in client.customers:all { max = 120 } do n = n + 1 end
  put("n", n)
  local open = 0
  for _, h in ipairs(made) do if not h:is_closing() then open = open + 1 end end
  put("open_during", open)
end, function(ok, err)
  put("ok", ok) if not ok then put("err", err) end
  client:close()
  vim.defer_fn(function()
    local open = 0
    for _, h in ipairs(made) do if not h:is_closing() then open = open + 1 end end
    put("made", #made) put("open_after", open)
    finish()
  end, 50)
end)
]])
    assert.equals("true", r.ok, r.err)
    assert.equals("120", r.n)
    assert.is_true(tonumber(r.made) >= 2, r.made)       -- a poll handle and curl's timer at least
    assert.is_true(tonumber(r.open_during) >= 1)         -- the connection, kept alive
    assert.equals("0", r.open_after)
  end)

  it("the example plugin: :HelpCrunchCustomer and :HelpCrunchSearch fill scratch buffers", function()
    local r = run(mock, [[
package.path = "examples/nvim/lua/?.lua;" .. package.path
vim.cmd("runtime plugin/helpcrunch.lua")
vim.cmd("HelpCrunchCustomer 4994")
vim.wait(5000, function() return vim.api.nvim_buf_get_name(0):find("customer/4994") ~= nil end)
put("customer", vim.api.nvim_buf_get_lines(0, 0, 1, false)[1])
vim.cmd("HelpCrunchSearch merge")
vim.wait(5000, function() return vim.api.nvim_buf_get_name(0):find("search/merge") ~= nil end)
local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
put("found", #lines)
put("first", lines[1])
finish()
]], "HELPCRUNCH_BASE_URL=" .. mock.url .. " HELPCRUNCH_API_KEY=" .. H.TOKEN,
      "--cmd 'set rtp+=examples/nvim'")
    assert.equals("Serge Merge <serge.merge@example.com>", r.customer)
    assert.is_true(tonumber(r.found) >= 1)
    assert.truthy(r.first:find("Merge", 1, true), r.first)
  end)
end)
