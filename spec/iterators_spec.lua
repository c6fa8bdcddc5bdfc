-- Iterators over all pages: customers:all{} and search:each(), against the
-- mock. What was requested is read from the mock's log.
local H = require "spec.helper"

-- Pages overlap by one customer (the anchor that proves the next page
-- continues this one): a full read of total items in pages of size takes
-- this many requests, and page i starts at (i - 1) * (size - 1).
local function pages_for(total, size)
  if total <= size then return 1 end
  return 1 + math.ceil((total - size) / (size - 1))
end

local function count_requests(mock, path)
  local n = 0
  for _, e in ipairs(mock:log()) do
    if not path or e.path == path then n = n + 1 end
  end
  return n
end

describe("customers:all #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 1234, seed = 11 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)
  before_each(function()
    mock:reset()
    mock:clear_log()
  end)

  it("reads 1,234 customers exactly once each in 13 requests", function()
    local ids, n = {}, 0
    for c in client.customers:all {} do
      assert.is_nil(ids[c.id], "customer " .. tostring(c.id) .. " yielded twice")
      ids[c.id] = true
      n = n + 1
    end
    assert.equals(1234, n)
    assert.equals(13, count_requests(mock, "/v1/customers"))
  end)

  it("yields in the requested order, the same as the pages list shows", function()
    local expected = {}
    for offset = 0, 1200, 100 do
      local page = assert(client.customers:list { offset = offset, limit = 100,
        sort = "lastSeen", order = "desc" })
      for _, c in ipairs(page.data) do expected[#expected + 1] = c.id end
    end
    local got = {}
    for c in client.customers:all { sort = "lastSeen", order = "desc" } do got[#got + 1] = c.id end
    assert.same(expected, got)
  end)

  it("carries sort, order and the page size to every page's request", function()
    local n = 0
    for _ in client.customers:all { sort = "customers.firstSeen", order = "ASC", page_size = 50 } do
      n = n + 1
    end
    assert.equals(1234, n)
    local log = mock:log()
    assert.equals(pages_for(1234, 50), #log)        -- 26
    for i, e in ipairs(log) do
      assert.equals("customers.firstSeen", e.query.sort)
      assert.equals("asc", e.query.order)
      assert.equals(tostring((i - 1) * 49), tostring(e.query.offset))
      assert.equals("50", tostring(e.query.limit))   -- the page size, even for the last page
    end
  end)

  it("never requests a page past total", function()
    for _ in client.customers:all { page_size = 100 } do end
    for _, e in ipairs(mock:log()) do
      assert.is_true(tonumber(e.query.offset) < 1234)
    end
  end)

  it("max = 150 yields 150 customers with at most 2 requests", function()
    local n = 0
    for _ in client.customers:all { max = 150 } do n = n + 1 end
    assert.equals(150, n)
    assert.is_true(count_requests(mock) <= 2)
    local log = mock:log()
    assert.equals("100", tostring(log[1].query.limit))
    assert.equals("51", tostring(log[2].query.limit))   -- 50 more and the anchor
  end)

  it("keeps page_size and max apart: page_size 30, max 100 is 30+30+30+13 (29 new each)", function()
    local n = 0
    for _ in client.customers:all { page_size = 30, max = 100, prefetch = 0 } do n = n + 1 end
    assert.equals(100, n)
    local limits = {}
    for i, e in ipairs(mock:log()) do limits[i] = tonumber(e.query.limit) end
    assert.same({ 30, 30, 30, 13 }, limits)
  end)

  it("max smaller than a page asks only for max", function()
    local n = 0
    for _ in client.customers:all { max = 7 } do n = n + 1 end
    assert.equals(7, n)
    local log = mock:log()
    assert.equals(1, #log)
    assert.equals("7", tostring(log[1].query.limit))
  end)

  -- A client whose rate-limit store counts the requests it starts.
  local function counted(o)
    local store = H.counting_store()
    local o2 = { rate_limit = { store = store, requests = 1000, per = 1 } }
    for k, v in pairs(o or {}) do o2[k] = v end
    return H.client(mock, o2), store
  end

  it("break after the first customer leaves at most 2 requests made", function()
    local c, store = counted()
    for _ in c.customers:all {} do break end -- luacheck: ignore 512
    assert.is_true(store.starts <= 2, store.starts .. " requests")
    c:close()
  end)

  it("releases the prefetched request on break (to-be-closed on 5.4, close() elsewhere)",
    function()
      local it = client.customers:all {}
      it()
      assert.equals(1, client.transport:pending())        -- page 2 prefetched, not yet sent
      it:close()
      assert.equals(0, client.transport:pending())
      assert.is_nil(it())                            -- closed: nothing more
      if _VERSION == "Lua 5.4" and not jit then
        -- A generic for closes its 4th value on break: the prefetch goes at once.
        local f = assert(load([[
          local client = ...
          for _ in client.customers:all {} do break end
          return client.transport:pending()
        ]]))
        assert.equals(0, f(client))
      end
    end)

  it("prefetch = 0 requests nothing ahead", function()
    local c, store = counted()
    local it = c.customers:all { prefetch = 0 }
    for _ = 1, 50 do it() end
    assert.equals(1, store.starts)
    it:close()
    c:close()
  end)

  for _, prefetch in ipairs { 1, 2, 4 } do
    it(("prefetch = %d has the next %d page(s) on the way while the caller works")
        :format(prefetch, prefetch), function()
      local c, store = counted()
      local it = c.customers:all { prefetch = prefetch }
      for _ = 1, 20 do it() end
      assert.equals(1 + prefetch, store.starts)      -- sent (perhaps answered) already
      it:close()
      assert.equals(0, c.transport:pending())
      c:close()
    end)
  end

  it("an empty account yields nothing after one request", function()
    local empty = H.mock { customers = 0 }
    local c2 = H.client(empty)
    local n = 0
    for _ in c2.customers:all {} do n = n + 1 end
    assert.equals(0, n)
    assert.equals(1, #empty:log())
    c2:close()
    empty:stop()
  end)

  it("raises the error object on a failure; customers already yielded stay yielded", function()
    local seen = 0
    local ok, err = pcall(function()
      for _ in client.customers:all { page_size = 100 } do
        seen = seen + 1
        if seen == 1 then mock:fault { kind = "500", count = 20, path = "/v1/customers" } end
      end
    end)
    assert.is_false(ok)
    assert.is_true(require("helpcrunch").is_error(err))
    assert.equals("server", err.kind)
    assert.equals(100, seen)
    mock:clear_faults()
  end)

  for _, bad in ipairs {
    { { max = -1 }, "max" }, { { page_size = 0 }, "page_size" }, { { page_size = 101 }, "page_size" },
    { { prefetch = 9 }, "prefetch" }, { { sort = "name" }, "sort" }, { { order = "up" }, "order" },
    { { limit = 10 }, "unknown parameter" }, { "x", "table" },
  } do
    it("raises on " .. tostring(bad[2]) .. " before any request", function()
      assert.has_error(function() client.customers:all(bad[1]) end)
      local ok, msg = pcall(client.customers.all, client.customers, bad[1])
      assert.is_false(ok)
      assert.truthy(tostring(msg):find(bad[2], 1, true))
      assert.equals(0, count_requests(mock))
    end)
  end
end)

describe("iteration under churn #mock", function()
  it("never yields the same customer twice while inserts shift the pages", function()
    local mock = H.mock { customers = 500, seed = 5, churn = 7 }
    local client = H.client(mock)
    local ids, n = {}, 0
    for c in client.customers:all { sort = "firstSeen", order = "desc", page_size = 50 } do
      assert.is_nil(ids[c.id], "customer " .. tostring(c.id) .. " yielded twice")
      ids[c.id] = true
      n = n + 1
    end
    assert.is_true(n >= 500)
    assert.is_true(mock:count() > 500)            -- the churn really happened
    client:close()
    mock:stop()
  end)
end)

describe("search:each #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 1234, seed = 11 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)
  before_each(function() mock:clear_log() end)

  it("a search over several pages yields the server's total, each once", function()
    local q = client.customers:search():where("email", "~", "example"):sort("lastSeen", "asc")
    local total = assert(q:count())
    assert.is_true(total > 100)
    mock:clear_log()
    local ids, n = {}, 0
    for c in q:each { page_size = 40 } do
      assert.is_nil(ids[c.id])
      assert.truthy(c.email:find("example", 1, true))
      ids[c.id] = true
      n = n + 1
    end
    assert.equals(total, n)
    local log = mock:log()
    assert.equals(pages_for(total, 40), #log)
    for i, e in ipairs(log) do                       -- the filters ride on every page
      assert.equals("POST", e.method)
      assert.equals("customers.email", e.body.filter[1].field)
      assert.equals("customers.lastSeen", e.body.sort)
      assert.equals((i - 1) * 39, e.body.offset)
    end
  end)

  it(":limit(n) caps the results of each()", function()
    local n = 0
    for _ in client.customers:search():limit(120):each() do n = n + 1 end
    assert.equals(120, n)
    assert.is_true(#mock:log() <= 2)
  end)

  it(":count() makes a single limit=1 request", function()
    local total = client.customers:search():tagged("Lead"):count()
    assert.is_true(total > 0)
    local log = mock:log()
    assert.equals(1, #log)
    assert.equals(1, log[1].body.limit)
  end)
end)

describe("checkpoint and resume #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 600, seed = 12 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)
  before_each(function() mock:reset() end)

  it("the search below matches enough customers for every case", function()
    assert.is_true(client.customers:search():where("email", "~", "e"):count() > 200)
  end)

  -- Read `first` items, checkpoint, drop the iterator; churn; resume in a
  -- "new process" (a new client) from a JSON round trip of the checkpoint.
  local function split_read(q, first, churn, page_size)
    local it = q:each { page_size = page_size }
    local ids = {}
    for _ = 1, first do ids[#ids + 1] = it().id end
    local cp = it:checkpoint()
    it:close()
    mock:config { churn = churn }
    local cjson = require "cjson"
    cp = cjson.decode(cjson.encode(cp))
    local c2 = H.client(mock)
    local q2 = c2.customers:search():where("email", "~", "e")
    for c in q2:each { page_size = page_size, resume = cp } do ids[#ids + 1] = c.id end
    mock:config { churn = 0 }
    c2:close()
    return ids
  end

  for _, case in ipairs { { 150, 0, 40 }, { 1, 3, 40 }, { 40, 5, 40 }, { 39, 5, 40 }, { 77, 9, 25 } } do
    it(("after %d items, with %d inserted ahead per page: every match once"):format(case[1], case[2]),
      function()
        local q = client.customers:search():where("email", "~", "e")
        local before = {}
        for c in q:each() do before[c.id] = true end
        local ids = split_read(q, case[1], case[2], case[3])
        local seen = {}
        for _, id in ipairs(ids) do
          assert.is_nil(seen[id], "yielded twice: " .. id)
          seen[id] = true
        end
        for id in pairs(before) do assert.is_true(seen[id], "missing: " .. id) end
      end)
  end

  it("a checkpoint is nil once the iteration ended; a bad one raises", function()
    local it = client.customers:search():where("id", "=", 4994):each()
    assert.is_table(it())
    assert.is_nil(it())
    assert.is_nil(it:checkpoint())
    assert.has_error(function()
      client.customers:search():each { resume = { anchor = 5 } }
    end)
  end)
end)

describe("a customer whose sort key changes during the read #mock", function()
  local client
  local start, stop = H.serve({ customers = 400, seed = 13 }, nil,
    function(_, c) client = c end)
  setup(start)
  teardown(stop)

  it("sorted by lastSeen (a key that moves), it is yielded once, not again at its new place",
    function()
      local order = {}
      for c in client.customers:all { sort = "lastSeen", order = "asc" } do
        order[#order + 1] = c
      end
      local it = client.customers:all { sort = "lastSeen", order = "asc", page_size = 50 }
      local seen, first = {}, {}
      for i = 1, 60 do
        local c = it()
        seen[c.id] = (seen[c.id] or 0) + 1
        first[i] = c
      end
      -- a customer already yielded visits again: its lastSeen moves it two pages ahead
      local moved = first[10]
      local ahead = order[160]
      assert(ahead.lastSeen, "a customer with a lastSeen")
      assert(client.customers:update(moved.id, { lastSeen = ahead.lastSeen }))
      for c in it do seen[c.id] = (seen[c.id] or 0) + 1 end
      assert.equals(1, seen[moved.id])
      for id, n in pairs(seen) do assert.equals(1, n, "customer " .. id) end
    end)
end)
