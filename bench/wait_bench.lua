--- What an idle wait costs: wake-ups (voluntary context switches) and CPU time
-- of the calling process while one request waits 2 s for the mock's answer,
-- for each way the client waits: a plain script (curl_multi_poll), the `sleep`
-- fallback (backing off to 50 ms naps), a luv loop, and Neovim's loop
-- (nvim --headless). The bar: <= 50 wake-ups and <= 0.05 s of CPU in 2 s.
-- Also the baseline: the same process sleeping 2 s doing nothing.
--
--     lua5.4 bench/wait_bench.lua [SECONDS]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local build = (type(jit) == "table") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
package.cpath = "build/" .. build .. "/?.so;" .. package.cpath

local spawn = require "helpcrunch.mock.spawn"
local helpcrunch = require "helpcrunch"
local core = require "helpcrunch.core"

local SECONDS = tonumber(arg[1]) or 2
local TOKEN = "bench-token-0123456789"

-- This process's voluntary context switches and CPU seconds (user + system).
local function usage()
  local f = assert(io.open("/proc/self/status"))
  local vol = tonumber(f:read("*a"):match("voluntary_ctxt_switches:%s*(%d+)"))
  f:close()
  f = assert(io.open("/proc/self/stat"))
  local stat = f:read("*a")
  f:close()
  local fields = {}
  for x in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = x end
  local ticks = tonumber(fields[12]) + tonumber(fields[13])   -- utime, stime (fields 14, 15)
  return vol, ticks / 100                                      -- USER_HZ = 100 on Linux
end

local function measure(fn)
  local v0, c0 = usage()
  local t0 = core.now()
  fn()
  local v1, c1 = usage()
  return v1 - v0, c1 - c0, core.now() - t0
end

local mock = spawn.start { customers = 20, quiet = true, lua = "lua5.4" }
local delayed = function() mock:fault { kind = "delay", delay_ms = SECONDS * 1000 } end
local rows = {}
local function row(name, wakeups, cpu, wall)
  rows[#rows + 1] = { name, wakeups, cpu, wall }
end

row("baseline: core.sleep", measure(function() core.sleep(SECONDS) end))

do
  local c = helpcrunch.new { token = TOKEN, base_url = mock.url, rate_limit = false }
  assert(c.customers:get(4994))                    -- connect first: only the wait is measured
  delayed()
  row("script (curl_multi_poll)", measure(function() assert(c.customers:get(4994)) end))
  c:close()
end

do
  local c = helpcrunch.new { token = TOKEN, base_url = mock.url, rate_limit = false,
                             sleep = core.sleep }
  assert(c.customers:get(4994))
  delayed()
  row("sleep fallback (1..50 ms naps)", measure(function() assert(c.customers:get(4994)) end))
  c:close()
end

local ok_uv, uv = pcall(require, "luv")
if ok_uv then
  local c = helpcrunch.new { token = TOKEN, base_url = mock.url, rate_limit = false, loop = uv }
  local function get()
    local done
    helpcrunch.async(function() assert(c.customers:get(4994)) end,
      function(ok, err) assert(ok, err) done = true end)
    while not done do uv.run("once") end
  end
  get()
  delayed()
  row("luv loop (socket_action)", measure(get))
  c:close()
  uv.run("nowait")
end

-- Neovim: the same measure taken inside nvim --headless, on its own loop.
local NVIM = [[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/luajit/?.so;" .. package.cpath
local function usage()
  local f = io.open("/proc/self/status") local s = f:read("*a") f:close()
  local vol = tonumber(s:match("voluntary_ctxt_switches:%%s*(%%d+)"))
  f = io.open("/proc/self/stat") local st = f:read("*a") f:close()
  local t = {} for x in st:match("%%) (.*)$"):gmatch("%%S+") do t[#t + 1] = x end
  return vol, (tonumber(t[12]) + tonumber(t[13])) / 100
end
local hcn = require "helpcrunch.nvim"
local client = hcn.new { token = %q, base_url = %q, rate_limit = false }
local out = io.open(%q, "w")
hcn.async(function()
  assert(client.customers:get(4994))
  vim.fn.system({ "curl", "-s", "-X", "POST", %q, "-d", %q })
  local v0, c0 = usage()
  local t0 = vim.loop.hrtime()
  assert(client.customers:get(4994))
  local v1, c1 = usage()
  out:write(v1 - v0, " ", c1 - c0, " ", (vim.loop.hrtime() - t0) / 1e9, "\n")
  out:close()
  client:close()
  vim.cmd("qa!")
end)
]]
if os.execute("command -v nvim >/dev/null 2>&1") then
  local out, script = os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(NVIM:format(TOKEN, mock.url, out, mock.base .. "/_mock/fault",
    ('{"kind":"delay","delay_ms":%d}'):format(SECONDS * 1000)))
  f:close()
  os.execute("timeout 60 nvim --headless -u NONE -i NONE -c 'luafile " .. script .. "' </dev/null >/dev/null 2>&1")
  local r = io.open(out):read("*a")
  local v, c, w = r:match("(%S+) (%S+) (%S+)")
  if v then row("Neovim (vim.loop, helpcrunch.nvim)", tonumber(v), tonumber(c), tonumber(w)) end
  os.remove(out)
  os.remove(script)
end

mock:stop()
print(("an idle wait of %g s, interpreter %s"):format(SECONDS, build))
print(("  %-36s %9s %9s %8s   bar: <= %d wake-ups, <= %.2f s CPU"):format(
  "wait", "wake-ups", "CPU s", "wall s", 25 * SECONDS, 0.025 * SECONDS))
local fail = false
for _, r in ipairs(rows) do
  local over = not r[1]:find("baseline") and (r[2] > 25 * SECONDS or r[3] > 0.025 * SECONDS)
  fail = fail or over
  print(("  %-36s %9d %9.3f %8.3f %s"):format(r[1], r[2], r[3], r[4], over and "OVER" or ""))
end
os.exit(fail and 1 or 0)
