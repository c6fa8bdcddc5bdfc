-- Retries, rate limiting, timeouts and the token's safety, against the mock.
-- Waits are checked in virtual time (the client's `clock` option): no spec
-- sleeps to prove a wait or measures one; the real-time pace against a real
-- limiter is a benchmark (bench/pace_bench.lua).
local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local core = require "helpcrunch.core"
local errors = require "helpcrunch.errors"

local function posts(mock)
  local n = 0
  for _, e in ipairs(mock:log()) do
    if e.method == "POST" and e.path == "/v1/customers" then n = n + 1 end
  end
  return n
end

-- The limiter in virtual time: a store that records the virtual time of every
-- start it grants, around the client's own memory store.
local function recording_store()
  local inner = helpcrunch.ratelimit.memory()
  local store = { starts = {} }
  function store.take(_, requests, per, now)
    local d = inner:take(requests, per, now)
    if d == 0 then store.starts[#store.starts + 1] = now end
    return d
  end
  function store.hold(_, seconds, now) return inner:hold(seconds, now) end
  return store
end

-- The most starts in any window of `per` seconds.
local function busiest_window(starts, per)
  local most = 0
  for i = 1, #starts do
    local n = 0
    for j = i, #starts do
      if starts[j] - starts[i] < per then n = n + 1 end
    end
    if n > most then most = n end
  end
  return most
end

describe("rate limiter (virtual time) #mock", function()
  local mock
  setup(function() mock = H.mock { customers = 300 } end)
  teardown(function() mock:stop() end)
  before_each(function() mock:clear_log() end)

  it("40 requests at 10 per 2 s: never 11 in any 2 s, and the 40th starts at 6 s", function()
    local clock, store = H.clock(0), recording_store()
    local client = H.client(mock, { clock = clock, max_retries = 0,
      rate_limit = { requests = 10, per = 2, store = store } })
    for _ = 1, 40 do assert(client.customers:list { limit = 1 }) end
    assert.equals(40, #store.starts)
    assert.equals(10, busiest_window(store.starts, 2))
    -- a full burst, then each next start as soon as the oldest leaves the window
    -- (plus the 20 ms margin for arrival jitter): 0, 2.02, 4.04, 6.06
    assert.near(6.06, store.starts[40], 1e-9)
    assert.near(0, store.starts[10], 1e-9)
    assert.equals(40, #mock:log())
  end)

  it("is shared by every request of a client, iterator pages included", function()
    local clock, store = H.clock(0), recording_store()
    local client = H.client(mock, { clock = clock,
      rate_limit = { requests = 2, per = 0.5, store = store } })
    local n = 0
    for _ in client.customers:all { page_size = 100, prefetch = 2 } do n = n + 1 end
    assert(client.customers:get(4994))
    assert.equals(300, n)
    assert.equals(#mock:log(), #store.starts)          -- every request went through it
    assert.equals(2, busiest_window(store.starts, 0.5))
    assert.is_true(clock.t >= 0.5, "the 3rd request waited for the window")
  end)

  it("rate_limit = false: no store, no wait", function()
    local clock = H.clock(0)
    local client = H.client(mock, { rate_limit = false, clock = clock })
    for _ = 1, 30 do assert(client.customers:list { limit = 1 }) end
    assert.same({}, clock.naps)
  end)

  it("unknown keys in rate_limit raise, like unknown options", function()
    -- issue 10: { request = 100 } (a typo) was silently accepted
    for _, bad in ipairs { { request = 100 }, { requests = 10, period = 60 } } do
      local ok, msg = pcall(helpcrunch.new, { token = H.TOKEN, rate_limit = bad })
      assert.is_false(ok)
      assert.truthy(tostring(msg):find("unknown option rate_limit.", 1, true), msg)
    end
    local ok, msg = pcall(helpcrunch.new, { token = H.TOKEN, rate_limit = { store = {} } })
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("store", 1, true))
  end)
end)

describe("retries #mock #slow", function()
  local mock
  setup(function() mock = H.mock { customers = 200 } end)
  teardown(function() mock:stop() end)
  before_each(function()
    mock:reset()
    mock:clear_log()
  end)

  it("retries a GET after 5xx and reports every attempt to on_request", function()
    local events = {}
    local client = H.client(mock, { max_retries = 3, on_request = function(e)
      events[#events + 1] = e end })
    mock:fault { kind = "500", count = 1, path = "/v1/customers/4994" }
    mock:fault { kind = "502", count = 1, path = "/v1/customers/4994" }
    local c = assert(client.customers:get(4994))
    assert.equals("Serge Merge", c.name)
    assert.equals(3, #mock:log())
    assert.equals(3, #events)
    assert.same({ 500, 502, 200 }, { events[1].status, events[2].status, events[3].status })
    assert.same({ true, true, false }, { events[1].retry, events[2].retry, events[3].retry })
    assert.same({ 1, 2, 3 }, { events[1].attempt, events[2].attempt, events[3].attempt })
    assert.equals("server", events[1].kind)
    assert.equals("/customers/4994", events[1].path)
    assert.is_true(events[1].seconds >= 0)
  end)

  it("gives up after max_retries and counts the attempts", function()
    local client = H.client(mock, { max_retries = 2 })
    mock:fault { kind = "500", count = 5 }
    local c, err = client.customers:get(4994)
    assert.is_nil(c)
    assert.equals("server", err.kind)
    assert.equals(3, err.attempts)
    assert.equals(3, #mock:log())
    assert.truthy(tostring(err):find("after 3 attempts", 1, true))
  end)

  it("retries a search (idempotent) after a broken body", function()
    local client = H.client(mock, { max_retries = 2 })
    mock:fault { kind = "invalid_json", path = "/v1/customers/search" }
    local page = assert(client.customers:search():where("id", "=", 4994):page {})
    assert.equals(1, page.total)
    assert.equals(2, #mock:log())
  end)

  it("never retries a 4xx other than 429", function()
    local client = H.client(mock, { max_retries = 3 })
    local c, err = client.customers:get(5)
    assert.is_nil(c)
    assert.equals("not_found", err.kind)
    assert.equals(1, #mock:log())
  end)

  it("honours Retry-After: 2 (the next attempt waits 2 s of the client's clock)", function()
    local clock = H.clock()
    local client = H.client(mock, { max_retries = 1, clock = clock })
    mock:fault { kind = "429", retry_after = 2, path = "/v1/customers/4994" }
    assert(client.customers:get(4994))
    local log = mock:log()
    assert.equals(2, #log)
    assert.equals(429, log[1].status)
    assert.same({ 2 }, clock.naps)
  end)

  it("a 429 it will not retry returns at once; the next call waits Retry-After through the "
    .. "limiter", function()
    local clock = H.clock()
    local client = H.client(mock, { max_retries = 0, clock = clock,
                                    rate_limit = { requests = 100, per = 1 } })
    mock:fault { kind = "429", retry_after = 2, path = "/v1/customers/4994" }
    local c, err = client.customers:get(4994)
    assert.is_nil(c)
    assert.equals("rate_limited", err.kind)
    assert.equals(2, err.retry_after)
    assert.same({}, clock.naps)                         -- no wait for what it will not retry
    assert(client.customers:list { limit = 1 })        -- the next request holds off 2 s
    assert.equals(1, #clock.naps)
    assert.is_true(clock.naps[1] >= 1.99 and clock.naps[1] <= 2, tostring(clock.naps[1]))
    -- without a limiter there is nothing to hold: the next call goes at once
    -- (issue 10: the whole client was held up to 60 s for a 429 it never retried)
    local free = H.client(mock, { max_retries = 0, clock = H.clock(), rate_limit = false })
    mock:fault { kind = "429", retry_after = 30, path = "/v1/customers/4994" }
    assert.is_nil((free.customers:get(4994)))
    assert(free.customers:list { limit = 1 })
    assert.same({}, free.clock.naps)
  end)

  it("a write answered 2xx with a body it cannot read: kind decode, the status, 'applied'", function()
    -- issue 10: reported as outcome_unknown, though the customer exists
    local client = H.client(mock, { max_retries = 3 })
    mock:fault { kind = "invalid_json", method = "POST", path = "/v1/customers" }
    local c, err = client.customers:create { name = "Made" }
    assert.is_nil(c)
    assert.equals("decode", err.kind)
    assert.equals("invalid_json", err.code)
    assert.equals(201, err.status)
    assert.truthy(err.message:find("applied", 1, true))
    assert.equals(1, #mock:log())                      -- not retried
  end)

  it("reads Retry-After as seconds or as an HTTP date, and caps the wait at 60 s", function()
    assert.equals(2, errors.parse_retry_after("2"))
    assert.equals(0, errors.parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 10))
    assert.equals(5, errors.parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 5))
    assert.is_nil(errors.parse_retry_after("soon"))
    local clock = H.clock()
    local client = H.client(mock, { max_retries = 1, clock = clock })
    mock:fault { kind = "429", retry_after = 3600, path = "/v1/customers/4994" }
    assert(client.customers:get(4994))
    assert.same({ 60 }, clock.naps)
  end)

  it("backs off min(0.5*2^(n-1), 8) s x U(0.5, 1)", function()
    local clock = H.clock()
    local client = H.client(mock, { max_retries = 7, clock = clock })
    mock:fault { kind = "500", count = 7, path = "/v1/customers/4994" }
    assert(client.customers:get(4994))
    assert.equals(7, #clock.naps)
    for n, cap in ipairs { 0.5, 1, 2, 4, 8, 8, 8 } do
      local d = clock.naps[n]
      assert.is_true(d >= cap * 0.5 and d <= cap, ("retry %d waited %.3f"):format(n, d))
    end
  end)
end)

describe("an export through faults #mock #slow", function()
  it("returns every one of 2,000 customers exactly once at --fault-rate 0.15", function()
    -- pages of 25: enough requests (about 90) for every fault kind to occur
    local mock = H.mock { customers = 2000, seed = 22, fault_rate = 0.15 }
    finally(function() mock:stop() end)
    local client = H.client(mock, { max_retries = 6 })
    local ids, n = {}, 0
    for c in client.customers:all { sort = "firstSeen", order = "asc", page_size = 25 } do
      assert.is_nil(ids[c.id])
      ids[c.id] = true
      n = n + 1
    end
    assert.equals(2000, n)
    local kinds = {}
    for _, e in ipairs(mock:log()) do
      if type(e.fault) == "string" then kinds[e.fault] = true end
    end
    for _, k in ipairs { "500", "502", "429", "drop", "truncate", "invalid_json" } do
      assert.is_true(kinds[k], "no " .. k .. " fault was injected")
    end
  end)

  it("raises instead of returning fewer with max_retries = 0", function()
    local mock = H.mock { customers = 2000, seed = 21, fault_rate = 0.15 }
    finally(function() mock:stop() end)
    local client = H.client(mock, { max_retries = 0 })
    local n = 0
    local ok, err = pcall(function()
      for _ in client.customers:all {} do n = n + 1 end
    end)
    assert.is_false(ok)
    assert.is_true(helpcrunch.is_error(err))
    assert.is_true(n < 2000)
  end)
end)

describe("creates are never duplicated #mock #slow", function()
  local mock
  setup(function() mock = H.mock { customers = 20 } end)
  teardown(function() mock:stop() end)
  before_each(function()
    mock:reset()
    mock:clear_log()
  end)

  it("a dropped response is not retried and reports outcome_unknown", function()
    local client = H.client(mock, { max_retries = 3 })
    local before = mock:count()
    mock:fault { kind = "drop", method = "POST", path = "/v1/customers" }
    local c, err = client.customers:create { name = "Once", userId = "once-1" }
    assert.is_nil(c)
    assert.equals("outcome_unknown", err.code)
    assert.equals(1, err.attempts)
    assert.equals(1, posts(mock))
    assert.equals(before + 1, mock:count())          -- the server did act, once
    assert.truthy(tostring(err):find("may or may not", 1, true))
  end)

  it("a 429 is retried and creates exactly one customer", function()
    local client = H.client(mock, { max_retries = 3 })
    local before = mock:count()
    mock:fault { kind = "429", retry_after = 1, method = "POST", path = "/v1/customers" }
    local c = assert(client.customers:create { name = "Twice?", userId = "once-2" })
    assert.equals("Twice?", c.name)
    assert.equals(2, posts(mock))
    assert.equals(before + 1, mock:count())
  end)

  it("a timeout is not retried and reports outcome_unknown", function()
    local client = H.client(mock, { max_retries = 3, timeout = 0.5 })
    mock:fault { kind = "delay", delay_ms = 1500, method = "POST", path = "/v1/customers" }
    local c, err = client.customers:create { name = "Slow" }
    assert.is_nil(c)
    assert.equals("outcome_unknown", err.code)
    assert.equals("timeout", err.kind)
    assert.equals(1, posts(mock))
  end)

  it("a 500 is not retried and reports outcome_unknown", function()
    local client = H.client(mock, { max_retries = 3 })
    mock:fault { kind = "500", method = "POST", path = "/v1/customers" }
    local c, err = client.customers:create { name = "Boom" }
    assert.is_nil(c)
    assert.equals("outcome_unknown", err.code)
    assert.equals(1, posts(mock))
  end)

  it("a refused connection is retried (nothing was sent) and is not outcome_unknown", function()
    local closed = H.mock {}
    local url = closed.url
    closed:stop()                                    -- nothing listens there now
    local clock = H.clock()
    local client = helpcrunch.new { token = H.TOKEN, base_url = url, rate_limit = false,
      max_retries = 2, clock = clock }              -- backoff in virtual time
    local c, err = client.customers:create { name = "Nobody" }
    assert.is_nil(c)
    assert.equals("transport", err.kind)
    assert.equals("couldnt_connect", err.code)
    assert.equals(3, err.attempts)
    assert.equals(2, #clock.naps)
  end)
end)

describe("timeouts #mock #slow", function()
  it("a slow trickle of bytes cannot hold a request past timeout", function()
    local mock = H.mock { customers = 100 }
    finally(function() mock:stop() end)
    local client = H.client(mock, { timeout = 1, max_retries = 0 })
    -- 100 customers a byte every 100 ms would take hours: the request ends only
    -- because the timeout covers the whole attempt, not just silence
    mock:fault { kind = "trickle", interval_ms = 100, bytes = 1 }
    local page, err = client.customers:list { limit = 100 }
    assert.is_nil(page)
    assert.equals("timeout", err.kind)
    assert.equals("timeout", err.code)
  end)

  it("with a sleep function the client waits through it, backing off from 1 ms to 50 ms", function()
    local mock = H.mock { customers = 10 }
    finally(function() mock:stop() end)
    local naps = {}
    local client = H.client(mock, { sleep = function(s)
      naps[#naps + 1] = s
      core.sleep(s)
    end })
    mock:fault { kind = "delay", delay_ms = 300 }
    assert(client.customers:get(4994))
    assert.is_true(#naps >= 3, "the host loop got control " .. #naps .. " times")
    assert.is_true(naps[1] <= 0.001)
    for i = 2, #naps do assert.is_true(naps[i] <= 0.05, "nap " .. i .. ": " .. naps[i]) end
    -- a 300 ms wait costs a few dozen wake-ups, not one every 5 ms
    assert.is_true(#naps <= 20, #naps .. " wake-ups")
  end)
end)

describe("the token's safety #mock", function()
  it("a redirect to another local server: that server receives nothing", function()
    local a, b = H.mock {}, H.mock {}
    finally(function() a:stop(); b:stop() end)
    local client = H.client(a, { max_retries = 3 })
    a:fault { kind = "redirect", location = b.url .. "/customers/4994" }
    local c, err = client.customers:get(4994)
    assert.is_nil(c)
    assert.equals("transport", err.kind)
    assert.equals("redirect", err.code)
    assert.equals(302, err.status)
    assert.equals(1, #a:log())                      -- not retried either
    assert.equals(0, b:stats().requests)
    assert.equals(0, #b:log())
  end)

  it("plain http to a non-loopback host is refused before any connection", function()
    for _, url in ipairs { "http://api.example.invalid/v1", "http://10.1.2.3/v1",
                           "http://192.168.1.1:8080/v1" } do
      local ok, msg = pcall(helpcrunch.new, { token = H.TOKEN, base_url = url })
      assert.is_false(ok)
      assert.truthy(msg:find("https", 1, true), msg)
      assert.is_nil(msg:find(H.TOKEN, 1, true))
    end
  end)

  it("http is allowed to loopback hosts and, when asked, elsewhere", function()
    assert.is_table(helpcrunch.new { token = H.TOKEN, base_url = "http://localhost:1/v1" })
    assert.is_table(helpcrunch.new { token = H.TOKEN, base_url = "http://[::1]:1/v1" })
    assert.is_table(helpcrunch.new { token = H.TOKEN, base_url = "http://127.5.6.7:1/v1" })
    assert.is_table(helpcrunch.new { token = H.TOKEN, base_url = "http://api.example.invalid/v1",
      allow_insecure_http = true })
  end)

  it("refuses credentials in base_url and schemes other than http(s)", function()
    assert.has_error(function()
      helpcrunch.new { token = H.TOKEN, base_url = "https://user:pw@api.helpcrunch.com/v1" }
    end)
    assert.has_error(function() helpcrunch.new { token = H.TOKEN, base_url = "ftp://h/v1" } end)
    assert.has_error(function() helpcrunch.new { token = H.TOKEN, base_url = "file:///etc" } end)
  end)

  it("TLS verification cannot be turned off by accident", function()
    for _, v in ipairs { "false", 0, "no" } do
      local ok, msg = pcall(helpcrunch.new, { token = H.TOKEN, verify_tls = v })
      assert.is_false(ok)
      assert.truthy(msg:find("verify_tls", 1, true))
    end
  end)

  it("never appears in an error, tostring(err) or an on_request event", function()
    local mock = H.mock {}
    finally(function() mock:stop() end)
    local seen = {}
    local client = H.client(mock, { max_retries = 1, on_request = function(e)
      for k, v in pairs(e) do seen[#seen + 1] = tostring(k) .. "=" .. tostring(v) end
    end })
    -- a server that echoes the token back in its error message
    mock:fault { kind = "respond", status = 400, body = '{"errors":[{"code":"bad","message":'
      .. '"token ' .. H.TOKEN .. ' is odd"}]}' }
    local _, e1 = client.customers:get(4994)
    mock:fault { kind = "500", count = 2 }
    local _, e2 = client.customers:get(4994)
    local _, e3 = client.customers:get(5)
    mock:fault { kind = "redirect", location = "http://127.0.0.1:9/?t=" .. H.TOKEN }
    local _, e4 = client.customers:get(4994)
    for _, err in ipairs { e1, e2, e3, e4 } do
      seen[#seen + 1] = tostring(err)
      for k, v in pairs(err) do seen[#seen + 1] = tostring(k) .. "=" .. tostring(v) end
    end
    assert.is_true(#seen > 20)
    for _, s in ipairs(seen) do
      assert.is_nil(s:find(H.TOKEN, 1, true), "token in: " .. s)
    end
    assert.truthy(tostring(e1):find("<token>", 1, true))
  end)

  it("is sent only in the Authorization header (the mock checks it)", function()
    local mock = H.mock { token = H.TOKEN }
    finally(function() mock:stop() end)
    local client = H.client(mock)
    assert(client.customers:get(4994))
    local e = mock:log()[1]
    assert.equals("ok", e.auth)
    assert.is_nil(e.target:find(H.TOKEN, 1, true))
    for k, v in pairs(e.headers) do
      if k ~= "authorization" then assert.is_nil(tostring(v):find(H.TOKEN, 1, true)) end
    end
  end)
end)
