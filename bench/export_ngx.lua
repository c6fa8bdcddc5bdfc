--- One export run inside nginx (OpenResty's Lua module), the content handler
-- of `GET /export?client=CLIENT&base=BASE_URL`, run by bench/export_bench.lua
-- in a worker of its own (a fresh nginx per run, so the peak RSS is that
-- run's). Answers "seconds customers peak_rss_mb requests cpu_seconds" like
-- bench/export_client.lua.
--
-- CLIENT:
--   helpcrunch   client.customers:all{} with transport = "ngx" (cosockets)
--   cosocket     what a user writes inside OpenResty without this module (and
--                without lua-resty-http, which Debian does not package): one
--                ngx.socket.tcp keep-alive connection, a GET loop reading
--                Content-Length bodies, cjson.decode, offset/limit until the
--                total; the connection goes back to the pool at the end.
local ffi = require "ffi"
local ngx = rawget(_G, "ngx")

pcall(ffi.cdef, [[
  struct bench_timespec { long tv_sec; long tv_nsec; };
  int clock_gettime(int clk, struct bench_timespec *ts);
]])
local ts = ffi.new("struct bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)                -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local function peak_rss_mb()
  local f = io.open("/proc/self/status")
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) / 1024
end

local LIMIT = 100
local TOKEN = "bench-token"
local which, base = ngx.var.arg_client, ngx.unescape_uri(ngx.var.arg_base or "")

local function helpcrunch_export()
  local client = require("helpcrunch").new {
    token = TOKEN, base_url = base .. "/v1", rate_limit = false, page_size = LIMIT,
    transport = "ngx",
  }
  local n, ids = 0, 0
  for c in client.customers:all {} do
    n = n + 1
    ids = ids + (c.id % 7)
  end
  return n, n <= LIMIT and 1 or math.ceil((n - LIMIT) / (LIMIT - 1)) + 1
end

local function cosocket_export()
  local cjson = require "cjson"
  local host, port = base:match("^http://([^:/]+):(%d+)")
  local sock = ngx.socket.tcp()
  sock:settimeout(10000)
  assert(sock:connect(host, tonumber(port)))
  local n, offset, ids, requests = 0, 0, 0, 0
  local total
  repeat
    assert(sock:send("GET /v1/customers?offset=" .. offset .. "&limit=" .. LIMIT
      .. " HTTP/1.1\r\nHost: " .. host .. ":" .. port .. "\r\nAuthorization: Bearer " .. TOKEN
      .. "\r\nAccept: application/json\r\n\r\n"))
    local status = assert(sock:receive("*l"))
    assert(status:match("^HTTP/1%.1 200"), status)
    local length
    while true do
      local line = assert(sock:receive("*l"))
      if line == "" then break end
      local v = line:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
      if v then length = tonumber(v) end
    end
    assert(length, "no Content-Length")
    local page = cjson.decode(assert(sock:receive(length)))
    requests = requests + 1
    total = page.total
    local data = page.data
    for i = 1, #data do ids = ids + (data[i].id % 7) end
    n = n + #data
    offset = offset + LIMIT
  until offset >= total
  sock:setkeepalive()
  return n, requests
end

local run = which == "helpcrunch" and helpcrunch_export
  or which == "cosocket" and cosocket_export
  or error("unknown client " .. tostring(which))
require(which == "helpcrunch" and "helpcrunch" or "cjson")   -- loaded before the clock
local t0, c0 = now(), os.clock()
local n, requests = run()
local dt, cpu = now() - t0, os.clock() - c0
ngx.print(string.format("%.4f %d %.1f %d %.4f\n", dt, n, peak_rss_mb(), requests, cpu))
