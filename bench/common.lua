--- Shared by the benchmarks: paths to the checkout's build, a mock server,
-- a page body fetched from it, medians and the process's peak RSS.
local M = {}

M.LUA = (type(jit) == "table") and "luajit" or "lua5.4"
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/" .. M.LUA .. "/?.so;" .. package.cpath

--- Start the mock (helpcrunch.mock.spawn options); the caller stops it.
function M.mock(opts)
  opts.quiet = true
  opts.lua = opts.lua or "luajit"     -- the fastest server we have, the same for every run
  return require("helpcrunch.mock.spawn").start(opts)
end

--- GET a URL with LuaSocket; the body.
function M.fetch(url)
  local http, ltn12 = require "socket.http", require "ltn12"
  local out = {}
  local _, code = http.request {
    url = url, sink = ltn12.sink.table(out), headers = { authorization = "Bearer bench" },
  }
  assert(code == 200, "GET " .. url .. ": " .. tostring(code))
  return table.concat(out)
end

function M.median(xs)
  local t = {}
  for i, x in ipairs(xs) do t[i] = x end
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

--- Peak resident set size of this process, in MB (VmHWM).
function M.peak_rss_mb()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  local kb = tonumber(s:match("VmHWM:%s*(%d+)"))
  return kb and kb / 1024
end

--- Wall clock seconds (LuaSocket's, sub-millisecond).
M.now = require("socket").gettime

return M
