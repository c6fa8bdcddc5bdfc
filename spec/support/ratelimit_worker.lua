-- One sharer for spec/ratelimit_shared_spec.lua, run as its own process:
--   LUA spec/support/ratelimit_worker.lua URL STORE REDIS_PORT KEY CALLS REQUESTS PER
-- STORE is "redis" or "memory". Makes CALLS requests, no retries, and
-- prints one line per call: "ok" or "err KIND CODE STATUS".
local build = (type(jit) == "table") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/" .. build .. "/?.so;" .. package.cpath

local helpcrunch = require "helpcrunch"
local ratelimit = require "helpcrunch.ratelimit"

local url, kind, port, key = arg[1], arg[2], tonumber(arg[3]), arg[4]
local calls, requests, per = tonumber(arg[5]), tonumber(arg[6]), tonumber(arg[7])
local store = kind == "redis" and ratelimit.redis { port = port, key = key }
  or ratelimit.memory()
local client = helpcrunch.new { token = "test-token-0123456789abcdef", base_url = url,
  max_retries = 0, rate_limit = { requests = requests, per = per, store = store } }
for _ = 1, calls do
  local page, err = client.customers:list { limit = 1 }
  if page then
    io.write("ok\n")
  else
    io.write(("err %s %s %s\n"):format(err.kind, tostring(err.code), tostring(err.status)))
  end
  io.flush()
end
client:close()
