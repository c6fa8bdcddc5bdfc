-- helpcrunch-mock: rate limit, faults, delays and churn, over HTTP (LuaSocket).

local socket = require "socket"
local json = require "helpcrunch.mock.json"
local spawn = require "helpcrunch.mock.spawn"

local null = json.null
local gettime = socket.gettime

local function api(m, method, path, body)
  local status, text, headers = m:request(method, "/v1" .. path, body, { Authorization = "Bearer t" })
  return status, json.decode(text), headers, text
end

-- One request on its own raw connection: response, or nil, error, partial response.
local function raw(m, method, path, body)
  local c = m:connect(5)
  local res, err, partial = c:request(method, path, { token = "t", body = body })
  local after
  if res then                                       -- anything more than announced?
    c.sock:settimeout(0.05)
    after = c.sock:receive(1)
  end
  c:close()
  return res, err, partial, after
end

describe("helpcrunch-mock rate limit #mock", function()
  local m
  lazy_setup(function() m = spawn.start { customers = 30, rate_limit = "3/1" } end)
  lazy_teardown(function() m:stop() end)
  before_each(function() m:reset() end)

  it("answers the request over the limit with 429 in the endpoint's shape and Retry-After", function()
    for _ = 1, 3 do assert.are.equal(200, (api(m, "GET", "/customers?limit=1"))) end
    local status, body, headers = api(m, "GET", "/customers/4994")
    assert.are.equal(429, status)
    assert.are.same({ errors = { { code = "too_many_requests",
                                   message = "You have exceeded your requests limit" } } }, body)
    assert.are.equal("1", headers["retry-after"])
    status, body = api(m, "POST", "/customers/search", {})
    assert.are.equal(429, status)
    assert.are.same({ errors = { { code = "invalid_request", message = "Invalid request" },
                                 { code = "too_many_requests", message = "Too many requests" } } }, body)
    m:advance(1.05)                                   -- the mock's clock, not a sleep
    assert.are.equal(200, (api(m, "GET", "/customers?limit=1")))
  end)

  it("is a sliding window: never more than N accepted in any window, a freed slot is reused", function()
    for _ = 1, 60 do                                  -- 2.4 s of the mock's clock
      api(m, "GET", "/customers?limit=1")
      m:advance(0.04)
    end
    local accepted = {}
    for _, e in ipairs(m:log()) do
      if e.status == 200 then accepted[#accepted + 1] = e.t end
    end
    assert.is_true(#accepted >= 6, "accepted " .. #accepted)    -- the slots come back
    for i = 4, #accepted do
      assert.is_true(accepted[i] - accepted[i - 3] >= 1 - 1e-3, "4 requests within 1 s")
    end
  end)

  it("says how long until a slot frees, and does not count 401s", function()
    m:config { rate_limit = "2/3" }
    for _ = 1, 5 do
      assert.are.equal(401, (m:request("GET", "/v1/customers")))          -- no token
    end
    assert.are.equal(200, (api(m, "GET", "/customers?limit=1")))
    assert.are.equal(200, (api(m, "GET", "/customers?limit=1")))
    m:advance(1.1)
    local status, _, headers = api(m, "GET", "/customers?limit=1")
    assert.are.equal(429, status)
    assert.are.equal("2", headers["retry-after"])
    assert.are.equal(0, m:stats().requests - 8)                          -- admin calls not counted
  end)

  it("takes Retry-After from --retry-after / config: seconds, an HTTP-date, or none", function()
    m:config { rate_limit = "1/60", retry_after = 7 }
    api(m, "GET", "/customers?limit=1")
    local _, _, headers = api(m, "GET", "/customers?limit=1")
    assert.are.equal("7", headers["retry-after"])
    m:config { retry_after = "Wed, 21 Oct 2015 07:28:00 GMT" }
    _, _, headers = api(m, "GET", "/customers?limit=1")
    assert.are.equal("Wed, 21 Oct 2015 07:28:00 GMT", headers["retry-after"])
    m:config { retry_after = "none" }
    local status
    status, _, headers = api(m, "GET", "/customers?limit=1")
    assert.are.equal(429, status)
    assert.is_nil(headers["retry-after"])
    m:config { rate_limit = false }
    assert.are.equal(200, (api(m, "GET", "/customers?limit=1")))
  end)

  it("--retry-after none at startup omits the header", function()
    local n = spawn.start { customers = 5, rate_limit = "1/60", retry_after = "none" }
    finally(function() n:stop() end)
    api(n, "GET", "/customers")
    local status, _, headers = api(n, "GET", "/customers")
    assert.are.equal(429, status)
    assert.is_nil(headers["retry-after"])
  end)
end)

describe("helpcrunch-mock random faults #mock", function()
  it("--fault-rate 1 with one kind answers every request with it", function()
    local m = spawn.start { customers = 20, fault_rate = 1, faults = "500" }
    finally(function() m:stop() end)
    for _ = 1, 3 do
      local status, body = api(m, "GET", "/customers")
      assert.are.equal(500, status)
      assert.are.equal("internal_error", body.errors[1].code)
    end
    m:config { faults = { "502" } }
    local status, text, headers = m:request("GET", "/v1/customers", nil, { Authorization = "Bearer t" })
    assert.are.equal(502, status)
    assert.are.equal("text/html", headers["content-type"])
    assert.truthy(text:find("<h1>502 Bad Gateway</h1>", 1, true))
    m:config { faults = { "429" } }
    local _, _, h = api(m, "GET", "/customers")
    assert.are.equal("1", h["retry-after"])
    assert.are.equal("429", m:log()[5].fault)
  end)

  it("breaks responses: drop, truncate, invalid_json", function()
    local m = spawn.start { customers = 20, fault_rate = 1, faults = "drop" }
    finally(function() m:stop() end)
    local res, err, partial = raw(m, "GET", "/v1/customers")
    assert.is_nil(res)
    assert.are.equal("closed", err)
    assert.is_nil(partial.status)                           -- not a byte of response

    m:config { faults = { "truncate" } }
    res, err, partial = raw(m, "GET", "/v1/customers")
    assert.is_nil(res)
    assert.are.equal("closed", err)
    assert.are.equal(200, partial.status)
    assert.is_true(#partial.body > 0)
    assert.is_true(#partial.body < tonumber(partial.headers["content-length"]))

    m:config { faults = { "invalid_json" } }
    local after = select(4, raw(m, "GET", "/v1/customers?limit=3"))
    res = raw(m, "GET", "/v1/customers?limit=3")
    assert.are.equal(200, res.status)
    assert.are.equal(#res.body, tonumber(res.headers["content-length"]))
    assert.is_nil(json.decode(res.body))
    assert.is_nil(after)                                     -- nothing beyond Content-Length
  end)

  it("is deterministic for a seed, and picks among several kinds", function()
    local function faults(seed)
      local m = spawn.start { customers = 20, seed = seed, fault_rate = 0.5 }
      finally(function() m:stop() end)
      for _ = 1, 40 do pcall(m.request, m, "GET", "/v1/customers?limit=1", nil, { Authorization = "Bearer t" }) end
      local out = {}
      for i, e in ipairs(m:log()) do out[i] = e.fault == null and "-" or e.fault end
      return table.concat(out, " ")
    end
    local a, b, c = faults(5), faults(5), faults(6)
    assert.are.equal(a, b)
    assert.are_not.equal(a, c)
    local kinds = {}
    for k in a:gmatch("%S+") do kinds[k] = true end
    local n = 0
    for _ in pairs(kinds) do n = n + 1 end
    assert.is_true(n >= 4, a)                               -- "-" and at least 3 kinds
  end)
end)

describe("helpcrunch-mock queued faults #mock", function()
  local m
  lazy_setup(function() m = spawn.start { customers = 40 } end)
  lazy_teardown(function() m:stop() end)
  before_each(function() m:reset() end)

  it("drop (default): acts on the request, then closes without a response", function()
    m:fault { kind = "drop", method = "POST", path = "/v1/customers" }
    local res, err, partial = raw(m, "POST", "/v1/customers", { name = "Ghost" })
    assert.is_nil(res)
    assert.are.equal("closed", err)
    assert.is_nil(partial.status)
    assert.are.equal(41, m:count())                         -- the customer was created
    local e = m:log()[1]
    assert.are.equal("drop", e.fault)
    assert.are.equal(201, e.status)
  end)

  it("drop with before=true: closes without acting", function()
    m:fault { kind = "drop", before = true }
    local res, err = raw(m, "POST", "/v1/customers", { name = "Ghost" })
    assert.is_nil(res)
    assert.are.equal("closed", err)
    assert.are.equal(40, m:count())
    assert.are.equal(null, m:log()[1].status)
  end)

  it("applies to the next `count` requests that match method and path prefix", function()
    m:fault { kind = "500", count = 2, method = "POST", path = "/v1/customers/search" }
    assert.are.equal(200, (api(m, "GET", "/customers")))
    assert.are.equal(201, (api(m, "POST", "/customers", {})))
    assert.are.equal(500, (api(m, "POST", "/customers/search", {})))
    assert.are.equal(500, (api(m, "POST", "/customers/search", {})))
    assert.are.equal(200, (api(m, "POST", "/customers/search", {})))
  end)

  it("429 with its own Retry-After, in the endpoint's shape", function()
    m:fault { kind = "429", retry_after = 42 }
    local status, body, headers = api(m, "POST", "/customers/search", {})
    assert.are.equal(429, status)
    assert.are.equal("42", headers["retry-after"])
    assert.are.equal("invalid_request", body.errors[1].code)
    assert.are.equal("too_many_requests", body.errors[2].code)
  end)

  it("502 with an HTML body, truncate, invalid_json, redirect", function()
    m:fault { kind = "502" }
    local res = raw(m, "GET", "/v1/customers/4994")
    assert.are.equal(502, res.status)
    assert.truthy(res.body:find("<html>", 1, true))
    m:fault { kind = "truncate" }
    local _, err, partial = raw(m, "GET", "/v1/customers/4994")
    assert.are.equal("closed", err)
    assert.is_true(#partial.body < tonumber(partial.headers["content-length"]))
    m:fault { kind = "invalid_json" }
    res = raw(m, "GET", "/v1/customers/4994")
    assert.are.equal(200, res.status)
    assert.is_nil(json.decode(res.body))
    m:fault { kind = "redirect", location = "http://127.0.0.1:1/elsewhere" }
    res = raw(m, "GET", "/v1/customers/4994")
    assert.are.equal(302, res.status)
    assert.are.equal("http://127.0.0.1:1/elsewhere", res.headers.location)
    assert.are.equal(200, raw(m, "GET", "/v1/customers/4994").status)
  end)

  -- Whether a response has (fully) arrived on a raw connection, without waiting.
  local function arrived(conn)
    return #socket.select({ conn.sock }, nil, 0) > 0
  end

  it("trickle and delay hold one response without holding the others", function()
    -- a byte every 200 ms: the whole body would take minutes, so the order of
    -- events below does not depend on the machine's speed
    m:fault { kind = "trickle", path = "/v1/customers/4994", interval_ms = 200, bytes = 1 }
    local slow = m:connect(5)
    finally(function() slow:close() end)
    assert(slow:send("GET", "/v1/customers/4994", { token = "t" }))
    local fast = raw(m, "GET", "/v1/customers?limit=1")   -- another connection, answered
    assert.are.equal(200, fast.status)
    slow.sock:settimeout(0.5)
    local head = assert(slow.sock:receive("*l"))          -- the status line came at once...
    assert.truthy(head:find("200", 1, true))
    local got = {}
    repeat
      local line = slow.sock:receive("*l")
      got[#got + 1] = line
    until line == "" or line == nil
    local length = tonumber(table.concat(got, "\n"):lower():match("content%-length:%s*(%d+)"))
    local body, err, partial = slow.sock:receive(length)   -- ...the body a byte at a time
    assert.is_nil(body)
    assert.are.equal("timeout", err)
    assert.is_true(#partial < length, "not trickled")

    m:fault { kind = "delay", delay_ms = 60000 }
    local held = m:connect(5)
    finally(function() held:close() end)
    assert(held:send("GET", "/v1/customers/4994", { token = "t" }))
    assert.are.equal(200, raw(m, "GET", "/v1/customers?limit=1").status)  -- not held up
    assert.is_false(arrived(held))                            -- the delayed one still waits
  end)

  it("hold keeps a response back until POST /_mock/release, serving the others", function()
    m:fault { kind = "hold", path = "/v1/customers/4994" }
    local held = m:connect(5)
    finally(function() held:close() end)
    assert(held:send("GET", "/v1/customers/4994", { token = "t" }))
    local deadline = gettime() + 5                  -- a wait for an event, not a measure
    while m:held() == 0 and gettime() < deadline do socket.sleep(0.01) end
    assert.are.equal(1, m:held())
    assert.are.equal(200, raw(m, "GET", "/v1/customers?limit=1").status)
    assert.are.equal(0, #socket.select({ held.sock }, nil, 0), "the held response was sent")
    assert.are.equal(1, m:held())
    assert.are.equal(1, m:release())
    local res = assert(held:receive())
    assert.are.equal(4994, json.decode(res.body).id)
    assert.are.equal("hold", m:log()[1].fault)
    assert.are.equal(0, m:held())
    assert.are.equal(0, m:release())
  end)

  it("hold lets the response go by itself after delay_ms", function()
    m:fault { kind = "hold", delay_ms = 50 }
    local res = raw(m, "GET", "/v1/customers/4994")
    assert.are.equal(200, res.status)
    assert.are.equal(0, m:held())
  end)

  it("refuses an unknown kind", function()
    local status, text = m:request("POST", "/_mock/fault", { kind = "teapot" })
    assert.are.equal(400, status)
    assert.truthy(text:find("kind must be one of", 1, true))
  end)
end)

describe("helpcrunch-mock --delay-ms #mock", function()
  it("delays every response, concurrently (on the mock's clock, moved on by the test)", function()
    local m = spawn.start { customers = 10, delay_ms = 60000 }
    finally(function() m:stop() end)
    local conns = {}
    for i = 1, 4 do
      conns[i] = m:connect(5)
      finally(function() conns[i]:close() end)
      assert(conns[i]:send("GET", "/v1/customers?limit=1", { token = "t" }))
    end
    local deadline = gettime() + 5                    -- wait until all four are handled...
    while #m:log() < 4 and gettime() < deadline do socket.sleep(0.01) end
    assert.are.equal(4, #m:log())
    for i = 1, 4 do                                    -- ...none answered yet
      assert.are.equal(0, #socket.select({ conns[i].sock }, nil, 0))
    end
    m:advance(60)      -- one delay's worth: had they been served one after another,
    for i = 1, 4 do    -- only the first would be due now
      assert.are.equal(200, assert(conns[i]:receive()).status)
    end
  end)
end)

describe("helpcrunch-mock --churn #mock", function()
  local m
  lazy_setup(function() m = spawn.start { customers = 60, churn = 3 } end)
  lazy_teardown(function() m:stop() end)
  before_each(function() m:reset() end)

  local function page_ids(page)
    local out = {}
    for i, c in ipairs(page.data) do out[i] = c.id end
    return out
  end

  local function check_shift(query, body)
    local _, p1, p2
    if body then
      local b1, b2 = {}, {}
      for k, v in pairs(body) do b1[k], b2[k] = v, v end
      b1.offset, b1.limit, b2.offset, b2.limit = 0, 10, 10, 10
      _, p1 = api(m, "POST", "/customers/search", b1)
      _, p2 = api(m, "POST", "/customers/search", b2)
    else
      _, p1 = api(m, "GET", "/customers?limit=10&offset=0" .. query)
      _, p2 = api(m, "GET", "/customers?limit=10&offset=10" .. query)
    end
    local a, b = page_ids(p1), page_ids(p2)
    assert.are.same({ a[8], a[9], a[10] }, { b[1], b[2], b[3] })  -- a naive pager sees them twice
    assert.are.equal(p1.total + 3, p2.total)
    return p1, p2
  end

  it("shifts offset paging in the default order (new ids on top)", function()
    check_shift("")
    local _, first = api(m, "GET", "/customers?limit=1")
    assert.is_true(first.data[1].id > 8737843)
  end)

  it("shifts offset paging by id ascending (ids below the smallest)", function()
    check_shift("&order=asc")
    local _, first = api(m, "GET", "/customers?limit=1&order=asc")
    assert.is_true(first.data[1].id < 1000)
  end)

  for _, order in ipairs({ "asc", "desc" }) do
    for _, field in ipairs({ "firstSeen", "lastSeen" }) do
      it("shifts offset paging by " .. field .. " " .. order, function()
        local q = "&sort=customers." .. field .. "&order=" .. order
        local p1 = check_shift(q)
        local _, again = api(m, "GET", "/customers?limit=10" .. q)
        local old = {}
        for _, id in ipairs(page_ids(p1)) do old[id] = true end
        for i = 1, 6 do                                       -- 2 pages x 3 new ones
          assert.is_nil(old[again.data[i].id], "a new customer sorts first")
        end
      end)
    end
  end

  it("shifts search results too: the new customers match the filter", function()
    local p1 = check_shift(nil, { filter = { { field = "customers.email", operator = "~", value = "@" } },
                                  sort = "customers.lastSeen", order = "desc" })
    assert.are.equal(10, #p1.data)
  end)

  it("does nothing after a failed request", function()
    local before = m:count()
    api(m, "GET", "/customers?limit=1000")
    api(m, "GET", "/customers/1")
    assert.are.equal(before, m:count())
    api(m, "GET", "/customers?limit=1")
    assert.are.equal(before + 3, m:count())
  end)
end)
