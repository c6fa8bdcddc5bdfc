--- Every customers endpoint over real HTTP against the bundled mock:
-- get, list, all (basics), search (one page) and create; plus what the
-- client puts on the wire (headers, bodies, keep-alive).
-- The mock's request log (mock:log()) is the witness of what was sent.

local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local NULL = require("helpcrunch.mock.json").null

local IS_54 = math.type ~= nil

local function as_integer(s)
  local n = tonumber(s)
  if math.tointeger then return math.tointeger(n) end
  return n
end

-- The customer the client should hand out for a customer the mock stores
-- (nulls absent, string timestamps as integers; customData is a map there;
-- README: a null customData or tags becomes {}).
local function normalise(v, key)
  if v == NULL then
    if key == "customData" or key == "tags" then return {} end
    return nil
  end
  if type(v) ~= "table" then
    if (key == "firstSeen" or key == "lastSeen") and type(v) == "string" then
      return as_integer(v)
    end
    return v
  end
  local out = {}
  for k, x in pairs(v) do out[k] = normalise(x, k) end
  return out
end

-- Non-nil values of `field` are ordered by `dir`; nils come last (asc) or
-- first (desc), the mock's documented order.
local function assert_sorted(list, field, dir)
  local seen_value, seen_nil = false, false
  local prev
  for i, c in ipairs(list) do
    local v = c[field]
    if v == nil then
      seen_nil = true
      assert.is_false(dir == "desc" and seen_value,
        "null " .. field .. " after a value in desc order at #" .. i)
    else
      assert.is_false(dir == "asc" and seen_nil,
        "value " .. field .. " after a null in asc order at #" .. i)
      if prev ~= nil then
        if dir == "asc" then
          assert.is_true(prev <= v, field .. " not ascending at #" .. i)
        else
          assert.is_true(prev >= v, field .. " not descending at #" .. i)
        end
      end
      prev, seen_value = v, true
    end
  end
end

local UA_WIN_81 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
  .. "Chrome/81.0.4044.129 Safari/537.36"

-- The seed pages' customers exactly as a Lua user must see them.
local SEEDS = {
  [265555] = {
    id = 265555, name = "test", email = "test@test.com", userId = "test123abc_1",
    company = "test123abc", lastSeen = 1588603952,
    location = { regionCode = "CA", countryCode = "US", city = "Los Angeles" },
    device = { id = 28874635, ip = "192.168.1.1", timezone = "America/Los Angeles",
               platform = "desktop", userAgent = UA_WIN_81 },
    unsubscribed = false, blocked = false, source = "https://helpcrunch.com/",
    referer = "https://google.com/", locale = "en",
    lastPage = "https://helpcrunch.com/zendesk-alternative.html",
    tags = { { name = "direct", color = "#0079bf" } },
    customData = { Currency = "USD", ["Next payment date"] = "2020-09-01 00:40:00",
                   ["Billing info added"] = true, ["Number of payments"] = 35,
                   ["Subscription status"] = "active" },
  },
  [265580] = {
    id = 265580, name = "Lana Del Red", email = "lana.red@example.com",
    location = {}, unsubscribed = false, blocked = false,
    tags = { { name = "direct", color = "#0079bf" } },
    customData = { ["Tried Something"] = false },
  },
  [4994] = {
    id = 4994, name = "Serge Merge", email = "serge.merge@example.com", userId = "example_261",
    company = "example", location = {}, unsubscribed = false, blocked = false,
    tags = { { name = "Lead", color = "#eb5a46" }, { name = "Feature Request", color = "#0079bf" },
             { name = "Paid", color = "#61bd4f" } },
    customData = { Plan = "Premium", Currency = "EUR", ["Became payer at"] = "2020-09-13 00:00:00",
                   ["Next payment date"] = "2020-10-13 00:40:00", ["Billing info added"] = true,
                   ["Number of payments"] = 1, ["Subscription status"] = "suspended" },
  },
  [7831682] = {
    id = 7831682, name = "Vlad Darkula", email = "vlad.dark@transylmania.com",
    userId = "transylmania_6996", company = "transylmania",
    firstSeen = 1593068924, lastSeen = 1593093642,
    location = { regionCode = "40", countryCode = "RO", city = "Cluj-Napoca" },
    device = { id = 28889690, ip = "192.168.1.2", timezone = "Europe/Kiev", platform = "desktop",
               userAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_4) AppleWebKit/537.36 "
                 .. "(KHTML, like Gecko) Chrome/83.0.4103.97 Safari/537.36" },
    unsubscribed = true, blocked = true, source = "https://www.blood.co.uk/", locale = "ro",
    lastPage = "https://www.blood.co.uk/who-can-give-blood/getting-an-appointment-to-give-blood/",
    tags = {},
    customData = { Plan = "Enterprise (Unlimited) $9999/mo", segment = "PotentialChurn_premium_seg1",
                   Currency = "USD", ["Emails sent"] = 621,
                   ["Next payment date"] = "2020-09-01 00:40:00", ["Billing info added"] = true,
                   ["Number of payments"] = 35, ["Subscription status"] = "active" },
  },
  [8737843] = {
    id = 8737843, name = "Cindy Mindy", email = "cindy.mindy@example.com",
    userId = "example_6268", company = "example", firstSeen = 1588927354, lastSeen = 1591627673,
    location = { regionCode = "CA", countryCode = "US", city = "San Francisco" },
    device = { id = 28883192, ip = "192.168.1.1", timezone = "America/Los Angeles",
               platform = "desktop",
               userAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_1) AppleWebKit/537.36 "
                 .. "(KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36" },
    unsubscribed = false, blocked = false,
    source = "http://helpcrunch.com/blog/best-live-chat-software/",
    referer = "https://www.google.com/", locale = "en",
    lastPage = "https://example.helpcrunch.com/v2/chats",
    tags = { { name = "lead", color = "#00c2e0" } },
    customData = { Role = "admin", Plan = "Enterprise (Unlimited) $9999/mo",
                   segment = "PotentialChurn_premium_seg1", Currency = "USD", ["Emails sent"] = 621,
                   ["Trial end date"] = "2017-07-24 14:30:00",
                   ["Became payer at"] = "2017-09-13 00:00:00",
                   ["Registered date"] = "2017-07-10 14:30:00",
                   ["Next payment date"] = "2020-09-01 00:40:00", ["Billing info added"] = true,
                   ["Number of payments"] = 35, ["Subscription status"] = "active" },
  },
  [542335] = {
    id = 542335, name = "John Doe", email = "[email protected]", userId = "user_1234567890",
    company = "Example Inc.", phone = "+10233456781",
    firstSeen = 1603885746, lastSeen = 1603885746,
    location = { regionCode = "Kyyivs'ka Oblast", countryCode = "UA", city = "Kyiv" },
    device = { id = 542335, ip = "192.168.1.1", timezone = "Europe/Kiev", platform = "desktop",
               userAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                 .. "(KHTML, like Gecko) Chrome/86.0.4240.111 Safari/537.36" },
    unsubscribed = false, blocked = false, source = "https://example.com",
    referer = "https://example.com", lastPage = "https://example.com", locale = "uk",
    createdFrom = "telegram", integrationId = "465847687", notes = "Lorem ipsum",
    tags = { { name = "vip", color = "#ff0000" } },
    customData = { subscription_status = "active", number_of_payments = 15,
                   last_paid_amount = 15.99, last_payment_date = 1603885746,
                   last_invoice_url = "https://example.com/invoice.html",
                   last_payment_was_successful = true },
  },
}

-- Fields of the customer object the client knows (API-REFERENCE.md).
local KNOWN = {}
for _, k in ipairs { "id", "name", "email", "userId", "company", "phone", "firstSeen",
  "lastSeen", "location", "device", "unsubscribed", "blocked", "source", "referer", "lastPage",
  "locale", "createdFrom", "integrationId", "notes", "tags", "customData" } do
  KNOWN[k] = true
end

describe("customers over HTTP #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 300, seed = 7 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)

  before_each(function()
    mock:clear_log()
  end)

  -- The single /v1 request the last call made.
  local function last_request()
    local log = mock:log()
    assert.is_true(#log >= 1, "the mock logged no request")
    return log[#log], log
  end

  describe("customers:get", function()
    for _, id in ipairs { 265555, 265580, 4994, 7831682, 8737843, 542335 } do
      it("returns seed customer " .. id .. " with exactly the seed page's values", function()
        local c, err = client.customers:get(id)
        assert.is_nil(err)
        assert.same(SEEDS[id], c)
      end)
    end

    it("sends GET /v1/customers/{id} with no query and no body", function()
      assert.truthy(client.customers:get(265555))
      local req, log = last_request()
      assert.equal(1, #log)
      assert.equal("GET", req.method)
      assert.equal("/v1/customers/265555", req.path)
      assert.same({}, req.query)
      assert.equal("", req.raw_body)
      assert.equal(200, req.status)
    end)

    it("accepts the id as a string of digits", function()
      local c = assert(client.customers:get("4994"))
      assert.equal(4994, c.id)
      assert.equal("/v1/customers/4994", last_request().path)
    end)

    it("gives integer ids, timestamps and integral numbers (Lua integers on 5.3+)", function()
      local c = assert(client.customers:get(7831682))
      H.assert_integer(c.id, "id")
      H.assert_integer(c.firstSeen, "firstSeen")
      H.assert_integer(c.lastSeen, "lastSeen")
      H.assert_integer(c.device.id, "device.id")
      H.assert_integer(c.customData["Emails sent"], "customData number")
      local john = assert(client.customers:get(542335))
      assert.equal(15.99, john.customData.last_paid_amount)
      if IS_54 then assert.equal("float", math.type(john.customData.last_paid_amount)) end
    end)

    it("turns string timestamps into integers (542335 arrives with \"1603885746\")", function()
      local raw = mock:customer(542335)
      assert.equal("1603885746", raw.firstSeen)      -- the premise: the mock sends strings
      local c = assert(client.customers:get(542335))
      assert.equal(1603885746, c.firstSeen)
      assert.equal(1603885746, c.lastSeen)
      H.assert_integer(c.firstSeen, "firstSeen")
      H.assert_integer(c.lastSeen, "lastSeen")
    end)

    it("leaves JSON nulls absent and gives location/device as tables or nil", function()
      local c = assert(client.customers:get(265580))
      for _, k in ipairs { "userId", "company", "phone", "firstSeen", "lastSeen", "device",
                           "source", "referer", "locale", "notes", "lastPage" } do
        assert.is_nil(c[k], k .. " should be absent")
      end
      assert.same({}, c.location)
      local full = assert(client.customers:get(265555))
      assert.is_table(full.location)
      assert.is_table(full.device)
      assert.is_nil(full.firstSeen)
      assert.is_nil(full.customData.segment)
    end)

    it("gives customData as a map when the mock sent the {property, value} list (8737843)",
      function()
        local status, body = mock:request("GET", "/v1/customers/8737843", nil,
          { Authorization = "Bearer " .. H.TOKEN })
        assert.equal(200, status)
        assert.truthy(body:find('"customData":[{"property":"Role"', 1, true),
          "premise: the mock sends customData of 8737843 as a list on GET one")
        local c = assert(client.customers:get(8737843))
        assert.is_nil(c.customData[1])
        assert.equal("admin", c.customData.Role)
        local n = 0
        for _ in pairs(c.customData) do n = n + 1 end
        assert.equal(12, n)
      end)

    it("gives the same customer through get and list, whatever form customData came in",
      function()
        local page = assert(client.customers:list { limit = 100 })
        local compared = 0
        for i = 1, #page.data, 5 do
          local listed = page.data[i]
          local got = assert(client.customers:get(listed.id))
          assert.same(listed, got)
          compared = compared + 1
        end
        assert.is_true(compared >= 20)
      end)

    it("matches the mock's stored customers after normalisation (generated data)", function()
      local page = assert(client.customers:list { offset = 120, limit = 25 })
      assert.equal(25, #page.data)
      for _, c in ipairs(page.data) do
        assert.same(normalise(mock:customer(c.id)), c)
      end
      -- customer 5865 of this dataset has customData null: README says {} then
      assert.equal(NULL, mock:customer(5865).customData)
      assert.same({}, assert(client.customers:get(5865)).customData)
    end)

    it("keeps fields the client does not know", function()
      local unknown
      for c in client.customers:all {} do
        for k, v in pairs(c) do
          if not KNOWN[k] then unknown = { id = c.id, key = k, value = v } break end
        end
        if unknown then break end
      end
      assert.truthy(unknown, "the seed-7 dataset has customers with extra fields")
      local c = assert(client.customers:get(unknown.id))
      assert.equal(unknown.value, c[unknown.key])
      assert.equal(mock:customer(unknown.id)[unknown.key], c[unknown.key])
    end)
  end)

  describe("customers:list", function()
    it("returns a page table {data, total, offset, limit}", function()
      local page, err = client.customers:list { offset = 10, limit = 15 }
      assert.is_nil(err)
      local keys = {}
      for k in pairs(page) do keys[#keys + 1] = k end
      table.sort(keys)
      assert.same({ "data", "limit", "offset", "total" }, keys)
      assert.equal(15, #page.data)
      assert.equal(10, page.offset)
      assert.equal(15, page.limit)
      assert.equal(mock:count(), page.total)
      assert.equal(300, page.total)
      H.assert_integer(page.total, "total")
    end)

    it("sends offset=0 and limit=page_size by default, and no sort or order", function()
      local page = assert(client.customers:list())
      assert.equal(100, #page.data)
      local req = last_request()
      assert.equal("GET", req.method)
      assert.equal("/v1/customers", req.path)
      assert.same({ offset = "0", limit = "100" }, req.query)
    end)

    it("uses the client's page_size as the default limit", function()
      local small = H.client(mock, { page_size = 7 })
      local page = assert(small.customers:list {})
      assert.equal(7, #page.data)
      assert.equal(7, page.limit)
      assert.equal("7", last_request().query.limit)
      small:close()
    end)

    it("sends sort=customers.lastSeen&order=desc for sort=\"lastSeen\", order=\"desc\"",
      function()
        local page = assert(client.customers:list { sort = "lastSeen", order = "desc", limit = 50 })
        assert.same({ offset = "0", limit = "50", sort = "customers.lastSeen", order = "desc" },
          last_request().query)
        assert_sorted(page.data, "lastSeen", "desc")
      end)

    it("takes the full sort name customers.firstSeen as it is", function()
      local page = assert(client.customers:list { sort = "customers.firstSeen", order = "asc" })
      local q = last_request().query
      assert.equal("customers.firstSeen", q.sort)
      assert.equal("asc", q.order)
      assert_sorted(page.data, "firstSeen", "asc")
      local short = assert(client.customers:list { sort = "firstSeen", order = "asc" })
      assert.same(page.data, short.data)
    end)

    it("accepts order in any case and sends it lower-case", function()
      local upper = assert(client.customers:list { sort = "lastSeen", order = "DESC", limit = 20 })
      assert.equal("desc", last_request().query.order)
      local mixed = assert(client.customers:list { sort = "lastSeen", order = "Desc", limit = 20 })
      assert.equal("desc", last_request().query.order)
      local lower = assert(client.customers:list { sort = "lastSeen", order = "desc", limit = 20 })
      assert.same(lower.data, upper.data)
      assert.same(lower.data, mixed.data)
      assert(client.customers:list { sort = "lastSeen", order = "ASC", limit = 1 })
      assert.equal("asc", last_request().query.order)
    end)

    it("pages by offset: consecutive pages join into one longer page", function()
      local a = assert(client.customers:list { offset = 0, limit = 10 })
      local b = assert(client.customers:list { offset = 10, limit = 10 })
      local both = assert(client.customers:list { offset = 0, limit = 20 })
      local joined = {}
      for _, c in ipairs(a.data) do joined[#joined + 1] = c end
      for _, c in ipairs(b.data) do joined[#joined + 1] = c end
      assert.same(both.data, joined)
      local log = mock:log()
      assert.equal("10", log[2].query.offset)
      assert.is_true(a.data[1].id ~= b.data[1].id)
    end)

    it("returns a short last page and an empty page past the total", function()
      local last = assert(client.customers:list { offset = 295, limit = 10 })
      assert.equal(5, #last.data)
      assert.equal(300, last.total)
      local past = assert(client.customers:list { offset = 400, limit = 10 })
      assert.same({}, past.data)
      assert.equal(300, past.total)
      assert.equal(400, past.offset)
    end)
  end)

  describe("customers:all", function()
    it("yields every customer once: count equals the mock's total", function()
      local seen, n = {}, 0
      for c in client.customers:all {} do
        assert.is_nil(seen[c.id], "duplicate id " .. tostring(c.id))
        seen[c.id] = true
        n = n + 1
      end
      assert.equal(mock:count(), n)
      for _, id in ipairs { 265555, 265580, 4994, 7831682, 8737843, 542335 } do
        assert.is_true(seen[id], "seed customer " .. id .. " missing")
      end
    end)

    it("respects the order across pages", function()
      local list = {}
      for c in client.customers:all { sort = "lastSeen", order = "asc", page_size = 40 } do
        list[#list + 1] = c
      end
      assert.equal(300, #list)
      assert_sorted(list, "lastSeen", "asc")
    end)

    it("carries page_size, sort and order to every page and stops at the total", function()
      local n = 0
      for _ in client.customers:all { sort = "firstSeen", order = "DESC", page_size = 50 } do
        n = n + 1
      end
      assert.equal(300, n)
      local log = mock:log()
      assert.equal(7, #log)                    -- 50, then 49 new a page (one of overlap)
      local offsets = {}
      for i, req in ipairs(log) do
        assert.same({ offset = req.query.offset, limit = "50", sort = "customers.firstSeen",
                      order = "desc" }, req.query, "page " .. i)
        offsets[#offsets + 1] = tonumber(req.query.offset)
      end
      table.sort(offsets)
      assert.same({ 0, 49, 98, 147, 196, 245, 294 }, offsets)
    end)

    it("stops at max without asking for pages it does not need", function()
      local n = 0
      for _ in client.customers:all { max = 30, page_size = 10 } do n = n + 1 end
      assert.equal(30, n)
      local log = mock:log()
      assert.equal(4, #log)                    -- 10, then 9 new a page: 10 + 9 + 9 + 2
      for _, req in ipairs(log) do
        assert.is_true(tonumber(req.query.offset) < 30)
      end
    end)
  end)

  describe("search", function()
    -- Every customer, read once through the already-tested list, for expectations.
    local everyone
    local function all_customers()
      if not everyone then
        everyone = {}
        for c in client.customers:all {} do everyone[#everyone + 1] = c end
      end
      return everyone
    end

    local function has_tag(c, name)
      for _, t in ipairs(c.tags or {}) do
        if t.name == name then return true end
      end
      return false
    end

    it(":body() gives the JSON body as a table", function()
      local q = client.customers:search()
        :where("email", "~", "gmail")
        :where("customers.lastSeen", ">=", 1603885746)
        :tagged("Lead", "Paid")
        :any()
        :sort("lastSeen", "desc")
      assert.same({
        comparison = "OR",
        filter = {
          { field = "customers.email", operator = "~", value = "gmail" },
          { field = "customers.lastSeen", operator = ">=", value = 1603885746 },
          { field = "customers.tagsData", operator = "=", value = { { name = "Lead" }, { name = "Paid" } } },
        },
        sort = "customers.lastSeen", order = "desc", offset = 0, limit = 100,
      }, q:body())
      assert.equal(0, #mock:log(), ":body() sends nothing")
    end)

    it(":page{} POSTs exactly the body :body() describes, with its offset and limit", function()
      local q = client.customers:search():where("email", "~", "gmail"):sort("firstSeen", "DESC")
      local page = assert(q:page { offset = 5, limit = 7 })
      local req, log = last_request()
      assert.equal(1, #log)
      assert.equal("POST", req.method)
      assert.equal("/v1/customers/search", req.path)
      local want = q:body()
      want.offset, want.limit = 5, 7
      assert.same(want, req.body)
      assert.same({
        comparison = "AND",
        filter = { { field = "customers.email", operator = "~", value = "gmail" } },
        sort = "customers.firstSeen", order = "desc", offset = 5, limit = 7,
      }, req.body)
      assert.equal(5, page.offset)
      assert.equal(7, page.limit)
      assert.equal(7, #page.data)
    end)

    it("an empty query: AND, the filter sent as [], everyone found", function()
      assert.same({ comparison = "AND", filter = {}, offset = 0, limit = 100 },
        client.customers:search():body())
      local page = assert(client.customers:search():page { limit = 3 })
      assert.truthy(last_request().raw_body:find('"filter":[]', 1, true))
      assert.equal(300, page.total)
    end)

    it(":where with ~ finds exactly the customers whose email contains the text", function()
      local want = 0
      for _, c in ipairs(all_customers()) do
        if c.email and c.email:lower():find("gmail", 1, true) then want = want + 1 end
      end
      assert.is_true(want > 0)
      local page = assert(client.customers:search():where("email", "~", "gmail"):page { limit = 100 })
      assert.equal(want, page.total)
      for _, c in ipairs(page.data) do
        assert.truthy(c.email:lower():find("gmail", 1, true))
      end
    end)

    it("takes short and full field names alike", function()
      local short = client.customers:search():where("userId", "=", "example_261")
      local full = client.customers:search():where("customers.userId", "=", "example_261")
      assert.same(short:body(), full:body())
      local c = assert(full:first())
      assert.equal(4994, c.id)
    end)

    it("sends a date given as a string of digits as an integer", function()
      local q = client.customers:search():where("lastSeen", ">=", "1603885746")
      assert(q:page { limit = 1 })
      local raw = last_request().raw_body
      assert.truthy(raw:find('"value":1603885746', 1, true), raw)
      H.assert_integer(q:body().filter[1].value, "date value")
    end)

    it(":tagged finds the customers carrying all the tags", function()
      local want = {}
      for _, c in ipairs(all_customers()) do
        if has_tag(c, "Lead") and has_tag(c, "Paid") then want[#want + 1] = c.id end
      end
      local q = client.customers:search():tagged("Lead", "Paid")
      local page = assert(q:page { limit = 100 })
      assert.same({ field = "customers.tagsData", operator = "=",
                    value = { { name = "Lead" }, { name = "Paid" } } }, last_request().body.filter[1])
      assert.equal(#want, page.total)
      local found4994 = false
      for _, c in ipairs(page.data) do
        assert.is_true(has_tag(c, "Lead") and has_tag(c, "Paid"))
        if c.id == 4994 then found4994 = true end
      end
      assert.is_true(found4994)
    end)

    it(":any() sends OR and matches either filter", function()
      local gmail = assert(client.customers:search():where("email", "~", "gmail"):count())
      local q = client.customers:search():where("email", "~", "gmail"):where("id", "=", 4994):any()
      local page = assert(q:page { limit = 100 })
      assert.equal("OR", last_request().body.comparison)
      assert.equal(gmail + 1, page.total)
      local every = assert(client.customers:search():where("email", "~", "gmail")
        :where("id", "=", 4994):count())
      assert.equal(0, every)
    end)

    it(":first() asks for one customer and returns it, or nil when none matches", function()
      local c = assert(client.customers:search():where("email", "=", "lana.red@example.com"):first())
      assert.equal(265580, c.id)
      assert.equal(1, last_request().body.limit)
      local none, err = client.customers:search():where("email", "=", "nobody@nowhere.invalid"):first()
      assert.is_nil(none)
      assert.is_nil(err)
    end)

    it(":count() returns the server's total from a limit=1 request", function()
      local n = client.customers:search():tagged("vip"):count()
      local req, log = last_request()
      assert.equal(1, #log)
      assert.equal(1, req.body.limit)
      local want = 0
      for _, c in ipairs(all_customers()) do
        if has_tag(c, "vip") then want = want + 1 end
      end
      assert.equal(want, n)
      H.assert_integer(n, "count")
    end)

    it(":page{} pages through results without overlap", function()
      local q = client.customers:search():where("lastSeen", ">", 0):sort("lastSeen", "asc")
      local a = assert(q:page { offset = 0, limit = 10 })
      local b = assert(q:page { offset = 10, limit = 10 })
      local both = assert(q:page { offset = 0, limit = 20 })
      for i = 1, 10 do
        assert.equal(both.data[i].id, a.data[i].id)
        assert.equal(both.data[10 + i].id, b.data[i].id)
      end
      assert.equal(a.total, b.total)
      assert_sorted(both.data, "lastSeen", "asc")
    end)
  end)

  describe("customers:create", function()
    after_each(function()
      mock:reset()                 -- forget what the test created
    end)

    it("POSTs the fields and returns the created customer (201)", function()
      local before = mock:count()
      local c, err = client.customers:create {
        name = "Ada Lovelace", email = "ada@example.com", userId = "spec_ada",
        company = "Analytical", phone = "+441234", locale = "en", notes = "first programmer",
        source = "https://example.com",
      }
      assert.is_nil(err)
      local req = last_request()
      assert.equal("POST", req.method)
      assert.equal("/v1/customers", req.path)
      assert.equal(201, req.status)
      assert.same({ name = "Ada Lovelace", email = "ada@example.com", userId = "spec_ada",
                    company = "Analytical", phone = "+441234", locale = "en",
                    notes = "first programmer", source = "https://example.com" }, req.body)
      H.assert_integer(c.id, "id")
      assert.equal("Ada Lovelace", c.name)
      assert.equal("spec_ada", c.userId)
      assert.equal(before + 1, mock:count())
      assert.equal("Ada Lovelace", mock:customer(c.id).name)
    end)

    it("sends customData as a {property, value} list sorted by property", function()
      local c = assert(client.customers:create {
        name = "cd", customData = { plan = "pro", Currency = "USD", number_of_payments = 15,
                                    active = true, amount = 15.99 },
      })
      assert.same({
        { property = "Currency", value = "USD" }, { property = "active", value = true },
        { property = "amount", value = 15.99 }, { property = "number_of_payments", value = 15 },
        { property = "plan", value = "pro" },
      }, last_request().body.customData)
      assert.same({ plan = "pro", Currency = "USD", number_of_payments = 15, active = true,
                    amount = 15.99 }, c.customData)
    end)

    it("sends tags as {name, color}; a new tag without colour gets #c377e0", function()
      local c = assert(client.customers:create {
        name = "tags", tags = { "spec-new-tag", { name = "spec-red", color = "#ff0000" } },
      })
      assert.same({ { name = "spec-new-tag" }, { name = "spec-red", color = "#ff0000" } },
        last_request().body.tags)
      assert.same({ { name = "spec-new-tag", color = "#c377e0" },
                    { name = "spec-red", color = "#ff0000" } }, c.tags)
    end)

    it("sends dates as strings of digits and reads them back as integers", function()
      local c = assert(client.customers:create { name = "dates", firstSeen = 1603885746,
                                                 lastSeen = "1603885800" })
      local req = last_request()
      assert.equal("1603885746", req.body.firstSeen)
      assert.equal("1603885800", req.body.lastSeen)
      assert.truthy(req.raw_body:find('"firstSeen":"1603885746"', 1, true))
      assert.equal(1603885746, c.firstSeen)
      assert.equal(1603885800, c.lastSeen)
      H.assert_integer(c.firstSeen, "firstSeen")
    end)

    it("makes the customer readable by get, listed and searchable", function()
      local c = assert(client.customers:create { name = "Findable", userId = "spec_find_me",
                                                 email = "find.me@example.org" })
      local got = assert(client.customers:get(c.id))
      assert.same(c, got)
      local page = assert(client.customers:list { limit = 1 })
      assert.equal(301, page.total)
      assert.equal(c.id, page.data[1].id)           -- newest id first by default
      local found = assert(client.customers:search():where("userId", "=", "spec_find_me"):first())
      assert.equal(c.id, found.id)
      assert.equal(1, client.customers:search():where("email", "~", "find.me@"):count())
    end)

    it("keeps integers of any size integers in the request body", function()
      local cd
      if IS_54 then
        cd = { big = math.maxinteger, above53 = 9007199254740993, neg = -42, ts = 1603885746 }
      else
        cd = { big = 2 ^ 53, e15 = 1e15, neg = -42, ts = 1603885746 }
      end
      assert(client.customers:create { name = "ints", customData = cd })
      local raw = last_request().raw_body
      if IS_54 then
        assert.truthy(raw:find('"value":9223372036854775807', 1, true), raw)
        assert.truthy(raw:find('"value":9007199254740993', 1, true), raw)
      else
        assert.truthy(raw:find('"value":9007199254740992', 1, true), raw)
        assert.truthy(raw:find('"value":1000000000000000', 1, true), raw)
      end
      assert.truthy(raw:find('"value":-42', 1, true), raw)
      assert.truthy(raw:find('"value":1603885746', 1, true), raw)
      assert.falsy(raw:find("e+", 1, true), raw)
      assert.falsy(raw:find("%d%.0[,}]"), raw)
    end)

    it("sends an empty customData as []", function()
      assert(client.customers:create { name = "empty", customData = {} })
      local raw = last_request().raw_body
      assert.truthy(raw:find('"customData":[]', 1, true), raw)
    end)

    it("escapes quotes, backslashes, newlines and control characters; keeps UTF-8", function()
      local name = 'Bob "Tables" \\ Drop\nline 2\ttab\1\31 Zoë 🦊 李'
      local c = assert(client.customers:create { name = name, notes = "\r\n" })
      local req = last_request()
      assert.equal(name, req.body.name)             -- the mock decoded it back exactly
      assert.equal("\r\n", req.body.notes)
      local raw = req.raw_body
      assert.truthy(raw:find('\\"Tables\\"', 1, true), raw)
      assert.truthy(raw:find('\\\\ Drop', 1, true), raw)
      assert.truthy(raw:find('\\n', 1, true), raw)
      assert.truthy(raw:find('\\t', 1, true), raw)
      assert.truthy(raw:lower():find('\\u0001', 1, true), raw)
      assert.falsy(raw:find("[%z\1-\31]"), "raw control bytes in the JSON body")
      assert.equal(name, c.name)
    end)

    it("raises a clear error for invalid UTF-8 and sends nothing", function()
      for _, bad in ipairs { "bad \255\254 name", "cut \226\130" } do
        local ok, err = pcall(client.customers.create, client.customers, { name = bad })
        assert.is_false(ok)
        assert.matches("UTF%-8", tostring(err))
        assert.matches("name", tostring(err))
      end
      assert.equal(0, #mock:log())
      assert.equal(300, mock:count())
    end)
  end)

  describe("HTTP", function()
    it("sends the bearer token, accept: application/json, gzip and deflate", function()
      assert(client.customers:list { limit = 1 })
      local req = last_request()
      assert.equal("ok", req.auth)                  -- the mock checked the bearer token
      assert.equal("<redacted>", req.headers.authorization)
      local h = req.headers
      assert.equal("application/json", h.accept)
      local enc = h["accept-encoding"]:lower()
      assert.truthy(enc:find("gzip", 1, true), enc)
      assert.truthy(enc:find("deflate", 1, true), enc)
      assert.is_nil(h["content-type"])
    end)

    it("names helpcrunch-lua, its version, libcurl and Lua in the user-agent", function()
      assert(client.customers:get(4994))
      local ua = last_request().headers["user-agent"]
      assert.truthy(ua:find("helpcrunch-lua/" .. helpcrunch._VERSION, 1, true), ua)
      assert.equal("0.1.0", helpcrunch._VERSION)
      assert.truthy(ua:find("libcurl/%d"), ua)
      local lua = (type(jit) == "table" and jit.version) or _VERSION
      assert.truthy(ua:find(lua, 1, true), ua)
    end)

    it("sends content-type: application/json with a body on POST", function()
      assert(client.customers:search():where("id", "=", 4994):page { limit = 1 })
      local req = last_request()
      assert.matches("^application/json", req.headers["content-type"])
      assert.equal(tostring(#req.raw_body), req.headers["content-length"])
    end)

    it("keeps the connection alive: 20 sequential GETs use one connection", function()
      local fresh = H.client(mock)
      local before = mock:stats().connections
      local ids = { 265555, 265580, 4994, 7831682, 8737843 }
      for i = 1, 20 do
        assert(fresh.customers:get(ids[i % 5 + 1]))
      end
      local log = mock:log()
      assert.equal(20, #log)
      for i = 2, 20 do
        assert.equal(log[1].conn, log[i].conn, "request " .. i .. " used another connection")
      end
      assert.equal(before + 1, mock:stats().connections)
      fresh:close()
    end)

    it("reuses the connection across list and search requests", function()
      local fresh = H.client(mock)
      assert(fresh.customers:list { limit = 2 })
      assert(fresh.customers:search():where("id", "=", 4994):page { limit = 1 })
      assert(fresh.customers:get(4994))
      assert(fresh.customers:search():tagged("vip"):count())
      local log = mock:log()
      assert.equal(4, #log)
      for i = 2, 4 do assert.equal(log[1].conn, log[i].conn) end
      fresh:close()
    end)
  end)
end)
