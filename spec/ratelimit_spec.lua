-- The rate-limit stores' algorithms in virtual time (issue 14): memory,
-- shdict (over an in-process dict with the shared dict's semantics; the
-- real one runs in spec/hosts) and redis (a real redis-server, the script
-- given the virtual time through the `clock` option). Several sharers, each
-- with its own store object on the same backend, take in turn; the starts
-- must never put more than `requests` into any `per` seconds, a full burst
-- must pass at once, the pace must reach the limit, and a hold must hold.
local H = require "spec.helper"
local ratelimit = require "helpcrunch.ratelimit"
local fakedict = require "spec.support.shdict"
local redis_server = require "spec.support.redis"

local MARGIN = ratelimit.MARGIN
local T0 = 1000

-- Run `sharers` takers for `duration` virtual seconds. Each asks again
-- after the wait it was told, or `gap` after a start (its request's time).
-- `between(i, clock)` may act before each take. Returns the start times in
-- order and the stores.
local function simulate(make, o)
  local clock = H.clock(T0)
  local stores, next_at = {}, {}
  for i = 1, o.sharers do
    stores[i] = make(clock.now, i)
    next_at[i] = T0
  end
  local starts = {}
  while true do
    local i = 1
    for j = 2, o.sharers do if next_at[j] < next_at[i] then i = j end end
    if next_at[i] > T0 + o.duration then break end
    clock.t = next_at[i]
    if o.between then o.between(i, clock) end
    local wait, err = stores[i]:take(o.requests, o.per, clock.t)
    assert(wait, err)
    assert(wait >= 0)
    if wait == 0 then
      starts[#starts + 1] = clock.t
      next_at[i] = clock.t + (o.gap or 0.001)
    else
      next_at[i] = clock.t + wait
    end
  end
  return starts, stores, clock
end

-- Never more than `requests` starts in any `per` seconds.
local function assert_window(starts, requests, per)
  for i = requests + 1, #starts do
    local span = starts[i] - starts[i - requests]
    assert(span >= per - 1e-6, ("starts %d and %d only %.6f s apart (per = %g)")
      :format(i - requests, i, span, per))
  end
end

-- The bars every store meets. `backend()` makes a fresh backend (a dict, a
-- Redis key) and returns `make(now, i)`: a store on it for sharer i.
local function algorithm_bars(backend)
  it("never more than requests in any per seconds; a full burst; >= 95 % of the limit", function()
    local requests, per, duration = 10, 2, 19
    local starts = simulate(backend(), { sharers = 4, requests = requests, per = per,
                                         duration = duration })
    assert_window(starts, requests, per)
    assert.is_true(starts[requests] - starts[1] < 0.01, "the first 10 go at once")
    -- The most a limiter can allow in [T0, T0 + duration]:
    local most = requests * (math.floor(duration / per) + 1)
    assert.is_true(#starts <= most)
    assert.is_true(#starts >= 0.95 * most, ("%d of at most %d"):format(#starts, most))
  end)

  it("a lone sharer waits exactly until the oldest start leaves the window", function()
    local clock = H.clock(T0)
    local s = backend()(clock.now, 1)
    for _ = 1, 3 do assert.equals(0, s:take(3, 5, clock.t)) end
    clock.t = T0 + 1
    local wait = s:take(3, 5, clock.t)
    assert.is_true(math.abs(wait - (4 + MARGIN)) < 1e-5, tostring(wait))
    clock.t = T0 + 5 + MARGIN
    assert.equals(0, s:take(3, 5, clock.t))
  end)

  it("a hold stops every sharer until it ends; a shorter one does not shorten it", function()
    local make = backend()
    local held_at
    local starts = simulate(make, {
      sharers = 3, requests = 100, per = 1, duration = 12, gap = 0.25,
      between = function(i, clock)
        if not held_at and clock.t >= T0 + 2 then
          held_at = clock.t
          assert.is_true(make(clock.now, i):hold(5, clock.t))
          assert.is_true(make(clock.now, i):hold(1, clock.t))
        end
      end,
    })
    local before, after = 0, 0
    for _, t in ipairs(starts) do
      assert.is_false(t > held_at and t < held_at + 5 - 1e-6, "a start during the hold")
      if t < held_at then before = before + 1 else after = after + 1 end
    end
    assert.is_true(before > 0 and after > 0)
  end)
end

describe("ratelimit.memory in virtual time #unit", function()
  algorithm_bars(function()
    local shared = ratelimit.memory()     -- one object: the way to share within a process
    return function() return shared end
  end)
end)

describe("ratelimit.shdict in virtual time #unit", function()
  local dict
  local function make(now) return ratelimit.shdict(dict, { clock = now }) end

  algorithm_bars(function()
    local d
    return function(now)
      d = d or fakedict.new(now)
      return ratelimit.shdict(d, { clock = now })
    end
  end)

  it("interleaved takes: the starts of all workers together keep the window", function()
    local rng = H.rng(7)
    local requests, per = 5, 1
    local clock = H.clock(T0)
    dict = fakedict.new(clock.now)
    local workers = {}
    for i = 1, 3 do workers[i] = make(clock.now) end
    local starts, races = {}, 0
    for _ = 1, 400 do
      clock.t = clock.t + rng(100) / 1000          -- 1..100 ms between attempts
      local a, b = workers[rng(3)], workers[rng(3)]
      -- b takes in the middle of a's take: before its first dict operation of
      -- a kind drawn (most often the claim itself)
      local target = ({ "read", "write", "write", "incr" })[rng(4)]
      local function arm()
        dict.before = function(op, key)
          local kind = op == "get" and "read" or op == "incr" and "incr" or "write"
          if kind ~= target then return arm() end
          if kind == "write" and key:match(":%d+$") then races = races + 1 end
          if b:take(requests, per, clock.t) == 0 then starts[#starts + 1] = clock.t end
        end
      end
      arm()
      if a:take(requests, per, clock.t) == 0 then starts[#starts + 1] = clock.t end
      dict.before = nil
    end
    table.sort(starts)
    assert.is_true(#starts > 80 and races > 20, #starts .. " starts, " .. races .. " races")
    assert_window(starts, requests, per)
  end)

  it("a hint left behind (a lost incr) costs steps, never a start too many", function()
    local clock = H.clock(T0)
    dict = fakedict.new(clock.now)
    local s = make(clock.now)
    for _ = 1, 4 do assert.equals(0, s:take(4, 1, clock.t)) end
    dict.data["helpcrunch:seq"].value = 1           -- three claims the hint missed
    assert.is_true(s:take(4, 1, clock.t) > 0)
    clock.t = T0 + 1 + MARGIN
    assert.equals(0, s:take(4, 1, clock.t))
    assert.is_true(s:take(4, 1, clock.t) == 0)
    assert.is_true(dict:live("helpcrunch:6") ~= nil)   -- claimed after walking past 2..5
  end)

  it("keys expire: the dict holds about one window of starts", function()
    local clock = H.clock(T0)
    dict = fakedict.new(clock.now)
    local s = make(clock.now)
    for _ = 1, 2000 do
      local wait = s:take(10, 1, clock.t)
      clock.t = clock.t + (wait > 0 and wait or 0.01)
    end
    assert.is_true(dict:count() <= 2 * 10 + 2, tostring(dict:count()))
  end)

  it("a full dict is a store failure, not a start", function()
    local clock = H.clock(T0)
    dict = fakedict.new(clock.now, 3)
    local s = make(clock.now)
    assert.equals(0, s:take(10, 1, clock.t))
    assert.equals(0, s:take(10, 1, clock.t))
    local wait, err = s:take(10, 1, clock.t)
    assert.is_nil(wait)
    assert.matches("shared dict", err)
  end)

  it("raises on a missing dict or bad options, naming the fix", function()
    local clock = H.clock(T0)
    assert.has_error(function() ratelimit.shdict(nil, { clock = clock.now }) end,
      "helpcrunch.ratelimit.shdict: expects a shared dict, ngx.shared.NAME (declare it in "
      .. "nginx.conf's http block: lua_shared_dict NAME 1m), got nil")
    local d = fakedict.new(clock.now)
    assert.has_error(function() ratelimit.shdict(d) end,
      "helpcrunch.ratelimit.shdict: outside nginx a clock option is needed")
    assert.has_error(function() ratelimit.shdict(d, { clock = clock.now, margin = -1 }) end)
    assert.has_error(function() ratelimit.shdict(d, { clock = clock.now, key = "" }) end)
    assert.has_error(function() ratelimit.shdict(d, { clock = clock.now, bogus = 1 }) end)
  end)
end)

describe("ratelimit.redis in virtual time #redis #mock", function()
  local srv, n = nil, 0
  setup(function() srv = redis_server.start() end)
  teardown(function() if srv then srv:stop() end end)

  local function fresh_key()
    n = n + 1
    return "virtual-" .. n .. "-" .. os.time()
  end

  algorithm_bars(function()
    local key = fresh_key()
    return function(now) return ratelimit.redis { port = srv.port, key = key, clock = now } end
  end)

  it("keys carry a TTL: nothing stays after the window", function()
    local clock = H.clock(T0)
    local key = fresh_key()
    local s = ratelimit.redis { port = srv.port, key = key, clock = clock.now }
    assert.equals(0, s:take(5, 2, clock.t))
    assert(s:hold(3, clock.t))
    local link = assert(require("helpcrunch.ratelimit.resp").luasocket("127.0.0.1", srv.port, 1))
    for _, k in ipairs { "{" .. key .. "}:log", "{" .. key .. "}:hold" } do
      local ttl = link:call("PTTL", k)
      assert.is_true(ttl > 0 and ttl <= 4000, k .. " " .. tostring(ttl))
    end
    link:close()
  end)
end)

describe("ratelimit store options #unit", function()
  it("redis: bad options raise before any connection, a password never shown", function()
    local function raises(opts, pattern)
      local ok, err = pcall(ratelimit.redis, opts)
      assert.is_false(ok)
      assert.matches(pattern, err)
      return err
    end
    raises({ port = "6379" }, "option 'port' must be an integer from 1 to 65535")
    raises({ port = 0 }, "port")
    raises({ db = -1 }, "option 'db'")
    raises({ timeout = 0 }, "option 'timeout'")
    raises({ host = "" }, "option 'host'")
    raises({ hots = "x" }, "unknown option \"hots\"")
    raises("x", "options must be a table")
    local err = raises({ password = { "hunter2-secret" } }, "option 'password' must be a string")
    assert.is_nil(err:find("hunter2", 1, true))
  end)

  it("redis: the password is in `secrets` and in no field a dump would show", function()
    local s = ratelimit.redis { password = "hunter2-secret", port = 6390 }
    assert.same({ ["hunter2-secret"] = "<password>" }, s.secrets)
    local function walk(t, seen)
      seen = seen or {}
      if seen[t] then return end
      seen[t] = true
      for k, v in pairs(t) do
        for _, x in ipairs { k, v } do
          if type(x) == "string" then assert.is_nil(x:find("hunter2", 1, true), x) end
          if type(x) == "table" then walk(x, seen) end
        end
      end
    end
    walk(s)
    assert.is_nil(ratelimit.redis {}.secrets)
  end)
end)
