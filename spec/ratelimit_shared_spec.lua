-- One limit shared by several processes through Redis (issue 14), refereed
-- by the mock's strict limiter and its log; and what happens when the store
-- cannot be reached or restarts. Each sharer is a separate interpreter
-- process (spec/support/ratelimit_worker.lua) with its own store object.
local H = require "spec.helper"
local ratelimit = require "helpcrunch.ratelimit"
local redis_server = require "spec.support.redis"

local PASSWORD = "hunter2-redis-password-0417"
local N, S = 10, 1                  -- the mock's limit and the clients': 10 per second
local SHARERS, CALLS = 4, 10        -- 40 calls: 4 windows, about 3 s when shared

-- Every string reachable from v, keys included.
local function strings(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then out[#out + 1] = v end
  if type(v) == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do
      strings(k, out, seen)
      strings(x, out, seen)
    end
  end
  return out
end

local function assert_no_secret(v, secret)
  for _, s in ipairs(strings(v)) do
    assert.is_nil(s:find(secret, 1, true), "the password leaked: " .. s)
  end
  if type(v) == "table" then assert.is_nil(tostring(v):find(secret, 1, true)) end
end

-- Run the sharers at once; their output lines, all of them.
local function run_sharers(mock, store, port, key)
  local procs = {}
  for i = 1, SHARERS do
    procs[i] = assert(io.popen(table.concat({ H.LUA, "spec/support/ratelimit_worker.lua",
      mock.url, store, port, key, CALLS, N, S }, " ") .. " 2>&1", "r"))
  end
  local lines = {}
  for _, p in ipairs(procs) do
    for line in p:lines() do lines[#lines + 1] = line end
    p:close()
  end
  return lines
end

local function count(list, pred)
  local n = 0
  for _, x in ipairs(list) do if pred(x) then n = n + 1 end end
  return n
end

describe("#slow #redis one limit shared by 4 processes #mock", function()
  local srv, mock
  setup(function()
    srv = redis_server.start()
    mock = H.mock { customers = 20, rate_limit = N .. "/" .. S }
  end)
  teardown(function()
    if mock then mock:stop() end
    if srv then srv:stop() end
  end)

  it("through Redis: zero 429s, every call succeeded, >= 90 % of the limit", function()
    mock:reset()
    local lines = run_sharers(mock, "redis", srv.port, "shared-" .. os.time())
    assert.equals(SHARERS * CALLS, count(lines, function(l) return l == "ok" end),
      table.concat(lines, "\n"))
    local log = mock:log()
    assert.equals(SHARERS * CALLS, #log)
    assert.equals(0, count(log, function(e) return e.status == 429 end))
    -- The pace, from the server's own timestamps: after the first burst of
    -- N, a perfect limiter admits N per S seconds.
    local t = {}
    for i, e in ipairs(log) do t[i] = e.t end
    table.sort(t)
    local rate = (#t - N) / (t[#t] - t[1])
    print(("\n    4 processes through Redis: %d calls in %.3f s, %.2f/s after the burst, "
      .. "%.1f %% of the limit"):format(#t, t[#t] - t[1], rate, 100 * rate / (N / S)))
    assert.is_true(rate >= 0.9 * N / S, ("%.2f/s"):format(rate))
    assert.is_true(rate <= N / S, ("%.2f/s"):format(rate))
  end)

  it("each with its own memory() store: the server refuses some (429)", function()
    mock:reset()
    local lines = run_sharers(mock, "memory", srv.port, "-")
    local refused = count(mock:log(), function(e) return e.status == 429 end)
    assert.is_true(refused > 0, "no 429: the test could not tell shared from not")
    assert.equals(refused, count(lines, function(l) return l:match("^err rate_limited") end))
  end)
end)

describe("#redis a Redis store that cannot be reached #mock", function()
  local mock
  setup(function() mock = H.mock { customers = 20 } end)
  teardown(function() mock:stop() end)
  before_each(function() mock:clear_log() end)

  local function client_for(store, events)
    return H.client(mock, { rate_limit = { requests = 100, per = 1, store = store },
      on_request = function(e) events[#events + 1] = e end })
  end

  local function assert_store_failure(client, events, secret)
    local body, err = client.customers:get(4994)
    assert.is_nil(body)
    assert.equals("transport", err.kind)
    assert.equals("ratelimit_store", err.code)
    assert.matches("nothing was sent", err.message)
    assert.equals(0, #mock:log(), "a request went out unthrottled")
    assert_no_secret(err, secret)
    assert_no_secret(events, secret)
    return err
  end

  it("nothing listening: ratelimit_store, nothing sent, no password", function()
    local events = {}
    local store = ratelimit.redis { port = redis_server.free_port(), password = PASSWORD }
    local err = assert_store_failure(client_for(store, events), events, PASSWORD)
    assert.matches("connection refused", err.message)
  end)

  it("a server that never answers: ratelimit_store after the timeout, nothing sent", function()
    local silent = assert(require("socket").bind("127.0.0.1", 0))   -- listens, never reads
    finally(function() silent:close() end)
    local _, port = silent:getsockname()
    local events = {}
    local store = ratelimit.redis { port = tonumber(port), password = PASSWORD, timeout = 0.2 }
    local err = assert_store_failure(client_for(store, events), events, PASSWORD)
    assert.matches("timeout", err.message)
  end)

  it("a wrong password: ratelimit_store, nothing sent, neither password shown", function()
    local srv = redis_server.start { password = PASSWORD }
    finally(function() srv:stop() end)
    local events = {}
    local wrong = "not-the-" .. PASSWORD
    local err = assert_store_failure(
      client_for(ratelimit.redis { port = srv.port, password = wrong }, events), events, wrong)
    assert.matches("AUTH failed", err.message)
    assert_no_secret(err, PASSWORD)
    local ok = client_for(ratelimit.redis { port = srv.port, password = PASSWORD }, events)
      .customers:get(4994)
    assert.truthy(ok)
    assert_no_secret(events, PASSWORD)
  end)

  it("Redis restarted mid-run: calls fail while it is down, then recover", function()
    local srv = redis_server.start { password = PASSWORD }
    finally(function() srv:stop() end)
    local events = {}
    local client = client_for(ratelimit.redis { port = srv.port, password = PASSWORD, db = 3 },
      events)
    assert.truthy(client.customers:get(4994))
    srv:stop()
    srv:start()
    -- the kept connection died with the old server: replaced within the take
    assert.truthy(client.customers:get(4994))
    srv:stop()
    mock:clear_log()
    assert_store_failure(client, events, PASSWORD)
    srv:start()
    assert.truthy(client.customers:get(4994))
    assert.equals(1, #mock:log())
  end)

  it("a 429 one sharer met holds back the others", function()
    local srv = redis_server.start()
    finally(function() srv:stop() end)
    local key = "held-" .. os.time()
    local a = ratelimit.redis { port = srv.port, key = key }
    local b = ratelimit.redis { port = srv.port, key = key }
    mock:fault { kind = "429", count = 1, retry_after = 30 }
    local body, err = client_for(a, {}).customers:get(4994)
    assert.is_nil(body)
    assert.equals("rate_limited", err.kind)
    local wait = assert(b:take(100, 1))
    assert.is_true(wait > 25 and wait <= 30, tostring(wait))
  end)
end)
