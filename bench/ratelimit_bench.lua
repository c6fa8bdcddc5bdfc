-- The rate limiter's overhead per request for each store: microseconds per
-- take() that records a start (the limit set so high that none waits), and
-- that relative to the memory store in the same host. Rows for lua5.4 and
-- LuaJIT scripts (memory, redis over LuaSocket on loopback) and for nginx
-- (memory, shdict, redis over cosockets), medians of alternating rounds.
--
--   lua5.4 bench/ratelimit_bench.lua [ROUNDS]
--
-- Needs redis-server; the nginx rows need nginx with the Lua module (else
-- they are skipped, with the reason).
local common = dofile("bench/common.lua")   -- the checkout's lua/ and build, median

local ITERS = { memory = 200000, shdict = 50000, redis = 5000 }
local REQUESTS, PER = 1e9, 1

local median = common.median

-- One round of `iters` takes on `store`: microseconds per take.
local function round(store, iters, now)
  local t0 = now()
  for _ = 1, iters do assert(store:take(REQUESTS, PER, 0) == 0) end
  return (now() - t0) / iters * 1e6
end

-- Child mode: this interpreter's rows, one line per round and store.
if arg[1] == "--child" then
  local ratelimit = require "helpcrunch.ratelimit"
  local now = require("socket").gettime
  local port, rounds = tonumber(arg[2]), tonumber(arg[3])
  local redis = ratelimit.redis { port = port, key = "bench-" .. tostring(os.time()) }
  for _ = 1, rounds do
    print("memory " .. round(ratelimit.memory(), ITERS.memory, now))
    print("redis " .. round(redis, ITERS.redis, now))
  end
  return
end

local redis_server = require "spec.support.redis"
local rounds = tonumber(arg[1]) or 7
local srv = redis_server.start()
local rows = {}          -- { host, { store = {us...} } }

local function host_rows(host, lines)
  local by = {}
  for store, us in lines:gmatch("(%a+) ([%d.e+-]+)") do
    by[store] = by[store] or {}
    table.insert(by[store], tonumber(us))
  end
  rows[#rows + 1] = { host, by }
end

for _, lua in ipairs { "lua5.4", "luajit" } do
  local p = assert(io.popen(lua .. " bench/ratelimit_bench.lua --child " .. srv.port .. " "
    .. rounds))
  host_rows(lua, p:read("*a"))
  p:close()
end

local nginx_note
local ok_nginx, nginx = pcall(require, "spec.hosts.nginx")
local available, why = false, "spec/hosts/nginx.lua is missing"
if ok_nginx then available, why = nginx.available() end
if available then
  local srv_ngx = nginx.start {
    workers = 1,
    http = "lua_shared_dict helpcrunch 32m;",   -- 50000 starts live in one window
    server = ([[
      location = /bench {
        content_by_lua_block {
          local ratelimit = require "helpcrunch.ratelimit"
          local store = ngx.var.arg_store
          local iters = tonumber(ngx.var.arg_n)
          local s = store == "memory" and ratelimit.memory()
            or store == "shdict" and ratelimit.shdict(ngx.shared.helpcrunch)
            or ratelimit.redis { port = %d, key = "bench-nginx" }
          -- Each round starts from an empty dict (outside the timing): every
          -- round's starts stay in their window, and 7 rounds of 50000 would
          -- fill it.
          if store == "shdict" then ngx.shared.helpcrunch:flush_all() ngx.shared.helpcrunch:flush_expired() end
          local function now() ngx.update_time() return ngx.now() end
          local t0 = now()
          for i = 1, iters do
            local wait, err = s:take(%d, %d, 0)
            if wait ~= 0 then
              error(("take %%d of %%d: %%s %%s"):format(i, iters, tostring(wait), tostring(err)))
            end
          end
          ngx.print(store, " ", (now() - t0) / iters * 1e6, "\n")
        }
      }]]):format(srv.port, REQUESTS, PER),
  }
  local out = {}
  for _ = 1, rounds do
    for _, store in ipairs { "memory", "shdict", "redis" } do
      local status, body = srv_ngx:request("/bench?store=" .. store .. "&n=" .. ITERS[store])
      assert(status == 200, srv_ngx:log())
      out[#out + 1] = body
    end
  end
  srv_ngx:stop()
  host_rows("nginx", table.concat(out))
else
  nginx_note = "nginx rows skipped: " .. tostring(why)
end
srv:stop()

print(("rate limiter overhead per request: microseconds per take() that records a start, "
  .. "median of %d rounds (redis-server %s on loopback)"):format(rounds,
  io.popen("redis-server --version"):read("*l"):match("v=(%S+)") or "?"))
print(("  %-8s %-8s %12s %12s"):format("host", "store", "us/take", "vs memory"))
for _, row in ipairs(rows) do
  local host, by = row[1], row[2]
  local base = median(by.memory)
  for _, store in ipairs { "memory", "shdict", "redis" } do
    if by[store] then
      local m = median(by[store])
      print(("  %-8s %-8s %12.3f %11.1fx"):format(host, store, m, m / base))
    end
  end
end
if nginx_note then print("  " .. nginx_note) end
