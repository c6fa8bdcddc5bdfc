-- The paging promise under churn (README "Iterating"): every customer present for
-- the whole read is yielded exactly once, or the iterator raises -- for every
-- prefetch value the README allows (0..8), while customers are inserted ahead of
-- the read (and deleted behind it), with concurrent requests handled by the mock in
-- arbitrary order (--jitter-ms) and with injected faults (so pages are retried).
local H = require "spec.helper"
local core = require "helpcrunch.core"

-- Retries back off in virtual time: the real waits would only slow the spec.
local function instant_clock()
  return { now = core.now, sleep = function() end }
end

local function ids_of(client, it_params)
  local ids = {}
  for c in client.customers:all(it_params or {}) do ids[c.id] = true end
  return ids
end

-- Read everything while the mock churns; return the check's figures.
local function churned_read(mock, client, o)
  local before = ids_of(client, { sort = o.sort, order = o.order })
  mock:clear_log()
  mock:config { churn = o.churn, churn_delete = o.delete or 0, fault_rate = o.fault_rate or 0,
                jitter_ms = o.jitter_ms or 20 }
  local yielded, order, dup = {}, {}, {}
  local ok, err = pcall(function()
    for c in client.customers:all { prefetch = o.prefetch, page_size = 50, sort = o.sort,
                                    order = o.order } do
      if yielded[c.id] then dup[#dup + 1] = c.id end
      yielded[c.id] = true
      order[#order + 1] = c.id
    end
  end)
  local requests = #mock:log()
  mock:config { churn = 0, churn_delete = 0, fault_rate = 0, jitter_ms = 0 }
  local after = ids_of(client, { sort = o.sort, order = o.order })
  local missing = {}
  for id in pairs(before) do
    if after[id] and not yielded[id] then missing[#missing + 1] = id end
  end
  return { ok = ok, err = err, dup = dup, missing = missing, n = #order, requests = requests }
end

for _, faults in ipairs { 0, 0.1 } do
  describe("exactly once under churn" .. (faults > 0 and " and faults" or "") .. " #slow", function()
    local mock, client
    local start, stop = H.serve({ customers = 2000, seed = 5 },
      { max_retries = 8, clock = instant_clock() }, function(m, c) mock, client = m, c end)
    setup(start)
    teardown(stop)
    before_each(function() mock:reset() end)

    for _, prefetch in ipairs { 0, 1, 2, 4, 8 } do
      it(("prefetch = %d: 2,000 customers, 7 inserted ahead per page, requests in any order")
          :format(prefetch), function()
        local r = churned_read(mock, client, { prefetch = prefetch, churn = 7, fault_rate = faults })
        assert.is_true(r.ok, tostring(r.err))
        assert.same({}, r.dup)
        assert.same({}, r.missing)
        assert.is_true(r.n >= 2000, r.n .. " yielded")
        if faults > 0 then                      -- faults happened, so pages were retried
          local faulted = 0
          for _, e in ipairs(mock:log()) do if e.fault then faulted = faulted + 1 end end
          assert.is_true(faulted > 0, "no fault was injected")
        end
      end)
    end

    it("sorted by lastSeen ascending, prefetch = 4: inserts ahead in that order", function()
      local r = churned_read(mock, client, { prefetch = 4, churn = 5, sort = "lastSeen",
                                             order = "asc", fault_rate = faults })
      assert.is_true(r.ok, tostring(r.err))
      assert.same({}, r.dup)
      assert.same({}, r.missing)
    end)

    for _, prefetch in ipairs { 1, 8 } do
      it(("prefetch = %d: 6 deleted behind the read and 2 inserted ahead per page: pages "
          .. "shift back"):format(prefetch), function()
        local r = churned_read(mock, client, { prefetch = prefetch, churn = 2, delete = 6,
                                               fault_rate = faults })
        assert.is_true(r.ok, tostring(r.err))
        assert.same({}, r.dup)
        assert.same({}, r.missing)
      end)
    end
  end)
end

describe("when the listing moves faster than it can be read #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 300, seed = 6 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)

  it("raises pages_shifted instead of yielding a gap", function()
    -- 60 inserted ahead per page of 50: no page can reach the previous one's last
    -- customer, so nothing proves continuity.
    mock:config { churn = 60 }
    local n = 0
    local ok, err = pcall(function()
      for _ in client.customers:all { page_size = 50 } do n = n + 1 end
    end)
    mock:config { churn = 0 }
    assert.is_false(ok)
    assert.equals("decode", err.kind)
    assert.equals("pages_shifted", err.code)
    assert.equals(50, n)                         -- the first page, then nothing unproven
  end)
end)

describe("search:each under churn #slow #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 2000, seed = 7 },
    { max_retries = 8, clock = instant_clock() }, function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)

  for _, prefetch in ipairs { 0, 4, 8 } do
    it(("prefetch = %d: every match present throughout yielded once"):format(prefetch), function()
      local q = client.customers:search():where("email", "~", "example")
      local before = {}
      for c in q:each() do before[c.id] = true end
      mock:config { churn = 6, jitter_ms = 20, fault_rate = 0.1 }
      local seen, dup = {}, {}
      for c in q:each { prefetch = prefetch, page_size = 40 } do
        if seen[c.id] then dup[#dup + 1] = c.id end
        seen[c.id] = true
      end
      mock:config { churn = 0, jitter_ms = 0, fault_rate = 0 }
      local missing = {}
      for id in pairs(before) do if not seen[id] then missing[#missing + 1] = id end end
      assert.same({}, dup)
      assert.same({}, missing)
    end)
  end
end)
