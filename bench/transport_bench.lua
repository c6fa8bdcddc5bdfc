--- A fast request's latency through each transport against the mock: the
-- curl transport from a plain script (this process) and the ngx transport
-- (cosockets) inside Debian's nginx, one worker. Both time
-- client.customers:get(id) from call to decoded result, over a warm
-- keep-alive connection; rounds alternate so drift hits both alike.
-- The bar: no transport more than 1.5x slower than curl.
--     luajit bench/transport_bench.lua [rounds=5] [requests per round=300]

local common = dofile("bench/common.lua")
package.path = "./?.lua;" .. package.path
local nginx = require "spec.hosts.nginx"
local json = require "helpcrunch.mock.json"
local helpcrunch = require "helpcrunch"

local ROUNDS = tonumber(arg[1]) or 5
local N = tonumber(arg[2]) or 300
local TOKEN = "bench-token-0123456789"
local BAR = 1.5

local ok, why = nginx.available()
if not ok then
  print("transport latency: skipped (" .. why .. ")")
  return
end

local mock = common.mock { customers = 100, seed = 1, token = TOKEN }
local srv = nginx.start {
  server = string.format([[
    location /bench { content_by_lua_block {
      local helpcrunch = require "helpcrunch"
      local core = require "helpcrunch.core"
      local client = helpcrunch.new { token = %q, base_url = %q, rate_limit = false }
      local id, times = tonumber(ngx.var.arg_id), {}
      assert(client.customers:get(id))             -- warm: the pooled connection
      for i = 1, tonumber(ngx.var.arg_n) do
        local t0 = core.now()
        assert(client.customers:get(id))
        times[i] = core.now() - t0
      end
      ngx.print(core.encode { transport = client.transport.name, times = times })
    } }]], TOKEN, mock.url),
}

local client = helpcrunch.new { token = TOKEN, base_url = mock.url, rate_limit = false }
local id = assert(client.customers:list { limit = 1 }).data[1].id
local core = require "helpcrunch.core"

local samples = { curl = {}, ngx = {} }
local function add(list, xs) for _, x in ipairs(xs) do list[#list + 1] = x end end

for _ = 1, ROUNDS do
  local times = {}
  assert(client.customers:get(id))
  for i = 1, N do
    local t0 = core.now()
    assert(client.customers:get(id))
    times[i] = core.now() - t0
  end
  add(samples.curl, times)
  local status, body = srv:request("/bench?n=" .. N .. "&id=" .. id, { timeout = 60 })
  assert(status == 200, "nginx: " .. tostring(status) .. " " .. tostring(body) .. srv:log():sub(-1500))
  local got = json.decode(body)
  assert(got.transport == "ngx", "nginx did not use the ngx transport")
  add(samples.ngx, got.times)
end
client:close()
srv:stop()
local sent = mock:stats().requests
mock:stop()
assert(sent >= 2 * ROUNDS * N, "the mock saw only " .. sent .. " requests")

local function pct(xs, p)
  local t = {}
  for i, x in ipairs(xs) do t[i] = x end
  table.sort(t)
  return t[math.max(1, math.ceil(#t * p))]
end

local base = common.median(samples.curl)
print(string.format("transport latency: GET /customers/{id} against the mock, %d x %d requests each, "
  .. "warm keep-alive connection (%s runs the curl side)", ROUNDS, N, common.LUA))
print(string.format("  %-38s %10s %10s %12s", "transport", "median ms", "p90 ms", "vs curl"))
local worst = 0
for _, row in ipairs {
  { "curl (plain script, curl_multi_poll)", samples.curl },
  { "ngx (cosockets inside nginx)", samples.ngx },
} do
  local m = common.median(row[2])
  local ratio = m / base
  if ratio > worst then worst = ratio end
  print(string.format("  %-38s %10.3f %10.3f %11.2fx", row[1], m * 1000, pct(row[2], 0.9) * 1000, ratio))
end
print(string.format("  bar: no transport more than %.1fx slower than curl: %s (worst %.2fx)",
  BAR, worst <= BAR and "met" or "NOT MET", worst))
