-- One limit shared by the workers of a real nginx (issue 14): 2 workers,
-- each running light threads that call the mock under its strict limiter,
-- through a `shdict` store (and through a `redis` store, which takes the
-- cosocket path). Load comes from timers started in every worker, so both
-- workers send whatever way nginx spreads connections.
--
-- The calls use the ngx transport (cosockets) where the checkout has it,
-- else the curl transport with `sleep = ngx.sleep`, which waits by yielding
-- to nginx (no worker is blocked while the limiter holds a call).
local H = require "spec.helper"
local nginx = require "spec.hosts.nginx"
local redis_server = require "spec.support.redis"
local json = require "helpcrunch.mock.json"

local N, S = 10, 1                 -- the mock's limit and the clients'
local THREADS, CALLS = 4, 5        -- per worker: 2 x 4 x 5 = 40 calls, 4 windows

-- The Lua run in every worker: wait for /go, then THREADS light threads
-- make CALLS calls each; results counted in ngx.shared.results.
local WORKER = [[
local mock_url, token, store_kind, redis_port, n, s, threads, calls = %q, %q, %q, %d, %d, %g, %d, %d
local results = ngx.shared.results
-- Where cosockets are not allowed a Redis store fails cleanly.
if store_kind == "redis" then
  local store = require("helpcrunch.ratelimit").redis { port = redis_port, key = "init" }
  local wait, err = store:take(n, s)
  results:set("init_worker_take", tostring(wait) .. " " .. tostring(err))
end
local function one_thread(store)
  local helpcrunch = require "helpcrunch"
  -- The ngx transport where it exists, else curl waiting in ngx.sleep.
  local has_ngx = pcall(require, "helpcrunch.transport.ngx")
  results:set("transport", has_ngx and "ngx" or "curl")
  local client = helpcrunch.new { token = token, base_url = mock_url,
    transport = has_ngx and "ngx" or "curl", sleep = not has_ngx and ngx.sleep or nil,
    max_retries = 0, rate_limit = { requests = n, per = s, store = store } }
  for _ = 1, calls do
    local page, err = client.customers:list { limit = 1 }
    local key = page and "ok" or ("err " .. err.kind .. " " .. tostring(err.code) .. " "
      .. tostring(err.message))
    results:incr(key, 1, 0)
    results:incr("worker " .. ngx.worker.id(), 1, 0)
  end
  client:close()
end
ngx.timer.at(0, function()
  while not results:get("go") do ngx.sleep(0.01) end
  local ratelimit = require "helpcrunch.ratelimit"
  local store = store_kind == "shdict" and ratelimit.shdict(ngx.shared.helpcrunch)
    or store_kind == "redis" and ratelimit.redis { port = redis_port, key = "nginx-shared" }
    or ratelimit.memory()                    -- one per worker: not shared
  local ts = {}
  for i = 1, threads do ts[i] = ngx.thread.spawn(one_thread, store) end
  for i = 1, threads do
    local ok, err = ngx.thread.wait(ts[i])
    if not ok then results:incr("raised " .. tostring(err), 1, 0) end
  end
  results:incr("done", 1, 0)
  results:set("resty.redis", package.loaded["resty.redis"] ~= nil)
end)
]]

local SERVER = [[
location = /go { content_by_lua_block { ngx.shared.results:set("go", true) ngx.say("go") } }
location = /results {
  content_by_lua_block {
    local d, out = ngx.shared.results, {}
    for _, k in ipairs(d:get_keys(0)) do out[#out + 1] = { k, d:get(k) } end
    ngx.say(require("helpcrunch.mock.json").encode(out))
  }
}
]]

-- Run the load in nginx; the results as { [key] = value }.
local function run(store_kind, redis_port)
  local mock = H.mock { customers = 20, rate_limit = N .. "/" .. S }
  finally(function() mock:stop() end)
  local main = ""
  local resty = os.getenv("HELPCRUNCH_RESTY_REDIS")   -- a lua-resty-redis lib/ to try
  local init = ""
  if resty then
    main = "env HELPCRUNCH_RESTY_REDIS;"
    init = [[init_by_lua_block {
      package.path = os.getenv("HELPCRUNCH_RESTY_REDIS") .. "/?.lua;" .. package.path }]]
  end
  local srv = nginx.start {
    workers = 2, main = main,
    http = "lua_shared_dict helpcrunch 1m; lua_shared_dict results 1m;\n" .. init
      .. "\ninit_worker_by_lua_block {\n" .. WORKER:format(mock.url, H.TOKEN, store_kind,
        redis_port or 0, N, S, THREADS, CALLS) .. "\n}",
    server = SERVER,
  }
  finally(function() srv:stop() end)
  assert.equals(200, (srv:request("/go")))
  local results
  for _ = 1, 3000 do                      -- until both workers are done (at most 30 s)
    local status, body = srv:request("/results")
    assert.equals(200, status, body)
    results = {}
    for _, kv in ipairs(json.decode(body)) do results[kv[1]] = kv[2] end
    if (results.done or 0) >= 2 then break end
    require("socket").sleep(0.01)
  end
  assert.equals(2, results.done, srv:log())
  print("\n    transport: " .. tostring(results.transport))
  return results, mock:log(), srv
end

local function assert_shared(results, log)
  local total = 2 * THREADS * CALLS
  local shown = json.encode(results)
  assert.equals(total, results.ok, shown)
  assert.equals(THREADS * CALLS, results["worker 0"], shown)
  assert.equals(THREADS * CALLS, results["worker 1"], shown)
  assert.equals(total, #log)
  for _, e in ipairs(log) do assert.equals(200, e.status) end
end

describe("#host nginx: one limit for 2 workers", function()
  it("through ngx.shared (shdict): zero 429s under concurrent load", function()
    local results, log = run("shdict")
    assert_shared(results, log)
  end)

  it("through Redis over cosockets: zero 429s; no cosocket in init_worker is a clean failure",
    function()
      local srv = redis_server.start()
      finally(function() srv:stop() end)
      local results, log = run("redis", srv.port)
      assert_shared(results, log)
      assert.matches("^nil redis 127%.0%.0%.1:%d+: .*init_worker", results.init_worker_take)
      if os.getenv("HELPCRUNCH_RESTY_REDIS") then assert.is_true(results["resty.redis"]) end
    end)

  it("each worker with its own memory() store: the server refuses some (429)", function()
    local results, log = run("memory")
    local refused = 0
    for _, e in ipairs(log) do if e.status == 429 then refused = refused + 1 end end
    assert.is_true(refused > 0, "no 429: the test could not tell shared from not")
    local rate_limited = 0
    for k, v in pairs(results) do
      if k:match("^err rate_limited") then rate_limited = rate_limited + v end
    end
    assert.equals(refused, rate_limited)
    assert.equals(2 * THREADS * CALLS, results.ok + rate_limited)
  end)
end)
