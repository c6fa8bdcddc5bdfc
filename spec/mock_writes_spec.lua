-- helpcrunch-mock: the write endpoints by themselves, over raw HTTP (LuaSocket):
-- PATCH/PUT/DELETE /customers/{id}, PUT/DELETE /customers/{id}/tags,
-- PUT /customers/batch, POST /events, and the webhook admin endpoints.

local json = require "helpcrunch.mock.json"
local spawn = require "helpcrunch.mock.spawn"

local null = json.null

local function api(m, method, path, body, token)
  local status, text, headers = m:request(method, "/v1" .. path, body,
    { Authorization = "Bearer " .. (token or "t") })
  return status, json.decode(text), text, headers
end

local function codes(body)
  local out = {}
  for i, e in ipairs(body.errors) do out[i] = e.code end
  return out
end

local function messages(body)
  local out = {}
  for i, e in ipairs(body.errors) do out[i] = e.message end
  return out
end

describe("helpcrunch-mock writes #mock", function()
  local m
  lazy_setup(function() m = spawn.start { customers = 60, seed = 9 } end)
  lazy_teardown(function() m:stop() end)
  before_each(function() m:reset() end)

  local function create(body)
    local status, c = api(m, "POST", "/customers", body)
    assert.are.equal(201, status)
    return c
  end

  describe("PATCH /customers/{id}", function()
    it("changes only the fields sent; null clears; location flat in, nested out", function()
      local c = create { name = "P", email = "p@example.com", phone = "+1", source = "s",
                         customData = { { property = "plan", value = "free" },
                                        { property = "seats", value = 2 } } }
      local status, u = api(m, "PATCH", "/customers/" .. c.id, {
        phone = "+380501112233", source = null, city = "Kyiv", countryCode = "UA",
        customData = { { property = "plan", value = "pro" } } })
      assert.are.equal(200, status)
      assert.are.equal("+380501112233", u.phone)
      assert.are.equal(null, u.source)
      assert.are.equal("p@example.com", u.email)
      assert.are.same({ regionCode = null, countryCode = "UA", city = "Kyiv" }, u.location)
      assert.are.same({ plan = "pro", seats = 2 }, u.customData)     -- a map, merged
      local _, got = api(m, "GET", "/customers/" .. c.id)
      assert.are.same(u, got)
    end)

    it("a null customData value removes that property; a tags list replaces the tags", function()
      local c = create { tags = { "a", "b" }, customData = { { property = "x", value = 1 },
                                                             { property = "y", value = 2 } } }
      local _, u = api(m, "PATCH", "/customers/" .. c.id, {
        customData = { { property = "x", value = null } }, tags = { { name = "c" } } })
      assert.are.same({ y = 2 }, u.customData)
      assert.are.same({ { name = "c", color = "#c377e0" } }, u.tags)
    end)

    it("is visible to list order and search", function()
      local c = create { name = "Sortable" }
      api(m, "PATCH", "/customers/" .. c.id, { lastSeen = "5", email = "moved@example.com" })
      local _, page = api(m, "GET", "/customers?sort=customers.lastSeen&order=asc&limit=1")
      assert.are.equal(c.id, page.data[1].id)
      local _, found = api(m, "POST", "/customers/search",
        { filter = { { field = "customers.email", operator = "=", value = "moved@example.com" } } })
      assert.are.equal(1, found.total)
    end)

    it("validates every field present: one prefixed entry each", function()
      local status, body = api(m, "PATCH", "/customers/4994", {
        name = 5, firstSeen = "yesterday", unsubscribed = "yes", city = 7,
        notes = string.rep("n", 256), customData = { { property = "", value = 1 } },
        tags = { { name = "" } } })
      assert.are.equal(400, status)
      assert.are.same({ "invalid_request", "name", "notes", "firstSeen", "unsubscribed", "city",
                        "tags[0].name", "customData[0].property" }, codes(body))
      assert.are.same({ "Invalid request", "This value should be of type string.",
        "This value is too long. It should have 255 characters or less.",
        "This value should be of type numeric.", "This value should be of type bool.",
        "This value should be of type string.", "This value should not be blank.",
        "This value should not be blank." }, messages(body))
      local _, got = api(m, "GET", "/customers/4994")
      assert.are_not.equal(5, got.name)                             -- nothing applied
    end)

    it("a body that is not a JSON object: 400 body", function()
      local status, body = api(m, "PATCH", "/customers/4994", "{not json")
      assert.are.equal(400, status)
      assert.are.same({ "invalid_request", "body" }, codes(body))
      status, body = api(m, "PATCH", "/customers/4994", "[1,2]")
      assert.are.equal(400, status)
      assert.are.equal("This value should be of type object.", body.errors[2].message)
    end)

    it("a userId another customer has: 400 invalid_userId_value", function()
      create { userId = "owner" }
      local c = create { userId = "other" }
      local status, body = api(m, "PATCH", "/customers/" .. c.id, { userId = "owner" })
      assert.are.equal(400, status)
      assert.are.same({ "invalid_request", "invalid_userId_value" }, codes(body))
      status = api(m, "PATCH", "/customers/" .. c.id, { userId = "other" })   -- its own: fine
      assert.are.equal(200, status)
    end)

    it("an unknown or non-numeric id: prefixed 404 entity_not_found", function()
      for _, id in ipairs { "999999", "abc" } do
        local status, body = api(m, "PATCH", "/customers/" .. id, { name = "x" })
        assert.are.equal(404, status)
        assert.are.same({ "invalid_request", "entity_not_found" }, codes(body))
        assert.are.equal("Customer not found", body.errors[2].message)
      end
    end)

    it("401 and 429 in the prefixed dialect", function()
      local guarded = spawn.start { customers = 5, token = "right", rate_limit = "1/60" }
      finally(function() guarded:stop() end)
      local status, body = api(guarded, "PATCH", "/customers/4994", { name = "x" }, "wrong")
      assert.are.equal(401, status)
      assert.are.same({ "invalid_request", "unauthorized" }, codes(body))
      status = api(guarded, "DELETE", "/customers/4994", nil, "right")
      assert.are.equal(200, status)
      status, body = api(guarded, "PUT", "/customers/batch", { { customer = 265555, name = "x" } }, "right")
      assert.are.equal(429, status)                                 -- the writes count
      assert.are.same({ "invalid_request", "too_many_requests" }, codes(body))
    end)
  end)

  describe("PUT /customers/{id}", function()
    it("clears every writable field missing from the body", function()
      local c = create { name = "Full", email = "f@example.com", userId = "full", phone = "+1",
                         firstSeen = "1600000000", unsubscribed = true, city = "Lviv",
                         tags = { "vip" }, customData = { { property = "plan", value = "pro" } } }
      local status, r = api(m, "PUT", "/customers/" .. c.id, { name = "Only name" })
      assert.are.equal(200, status)
      assert.are.equal("Only name", r.name)
      for _, k in ipairs { "email", "userId", "phone", "firstSeen", "lastSeen" } do
        assert.are.equal(null, r[k], k)
      end
      assert.are.equal(false, r.unsubscribed)
      assert.are.same({ regionCode = null, countryCode = null, city = null }, r.location)
      assert.are.same({}, r.tags)
      assert.are.same({}, r.customData)
      assert.are.equal(c.id, r.id)                                 -- the id stays
    end)
  end)

  describe("DELETE /customers/{id}", function()
    it("answers the JSON string \"Ok\"; the customer is gone and pages shift", function()
      local _, before = api(m, "GET", "/customers?limit=3")
      local victim = before.data[2].id
      local status, ok, text, headers = api(m, "DELETE", "/customers/" .. victim)
      assert.are.equal(200, status)
      assert.are.equal('"Ok"', text)
      assert.are.equal("Ok", ok)
      assert.matches("^application/json", headers["content-type"])
      assert.are.equal(404, (api(m, "GET", "/customers/" .. victim)))
      local _, after = api(m, "GET", "/customers?limit=2")
      assert.are.equal(before.total - 1, after.total)
      assert.are.equal(before.data[3].id, after.data[2].id)
      local status2, body = api(m, "DELETE", "/customers/" .. victim)
      assert.are.equal(404, status2)
      assert.are.same({ "invalid_request", "entity_not_found" }, codes(body))
      assert.is_nil(m:customer(victim))
    end)

    it("never gives a deleted id again", function()
      local c = create { name = "last" }
      api(m, "DELETE", "/customers/" .. c.id)
      assert.are.equal(c.id + 1, create({ name = "next" }).id)
    end)
  end)

  describe("/customers/{id}/tags", function()
    it("PUT appends what the customer does not carry, with the account's colours", function()
      local c = create { tags = { { name = "keep", color = "#111" } } }
      local status, u = api(m, "PUT", "/customers/" .. c.id .. "/tags", { tags = {
        { name = "keep", color = "#999" }, { name = "Paid" }, { name = "brand-new" },
        { name = "mine", color = "#cсс" } } })
      assert.are.equal(200, status)
      assert.are.same({ { name = "keep", color = "#111" }, { name = "Paid", color = "#61bd4f" },
                        { name = "brand-new", color = "#c377e0" }, { name = "mine", color = "#cсс" } },
        u.tags)
      local _, found = api(m, "POST", "/customers/search", { filter = {
        { field = "customers.tagsData", operator = "=", value = { { name = "brand-new" }, { name = "mine" } } } } })
      assert.are.equal(1, found.total)
      assert.are.equal(c.id, found.data[1].id)
    end)

    it("DELETE removes by name; an absent name is a no-op", function()
      local c = create { tags = { "a", "b" } }
      local status, u = api(m, "DELETE", "/customers/" .. c.id .. "/tags",
        { tags = { { name = "a" }, { name = "nope" } } })
      assert.are.equal(200, status)
      assert.are.same({ { name = "b", color = "#c377e0" } }, u.tags)
      status, u = api(m, "DELETE", "/customers/" .. c.id .. "/tags", { tags = { { name = "b" } } })
      assert.are.equal(200, status)
      assert.are.same({}, u.tags)
    end)

    it("a missing or empty tags list, or an empty name: 400; unknown id: 404", function()
      for _, body in ipairs { {}, { tags = {} }, { tags = "vip" } } do
        local status, b = api(m, "PUT", "/customers/4994/tags", body)
        assert.are.equal(400, status)
        assert.are.same({ "invalid_request", "tags" }, codes(b))
      end
      local status, b = api(m, "DELETE", "/customers/4994/tags", { tags = { { name = "" } } })
      assert.are.equal(400, status)
      assert.are.same({ "invalid_request", "tags[0].name" }, codes(b))
      assert.are.equal(404, (api(m, "PUT", "/customers/999999/tags", { tags = { { name = "x" } } })))
    end)
  end)

  describe("PUT /customers/batch", function()
    it("applies every item like PATCH and answers the customers in order", function()
      local status, list = api(m, "PUT", "/customers/batch", {
        { customer = 265580, company = "OWL", city = "London" },
        { customer = "4994", phone = "+13195942443" } })
      assert.are.equal(200, status)
      assert.are.equal(2, #list)
      assert.are.equal(265580, list[1].id)
      assert.are.equal("OWL", list[1].company)
      assert.are.equal("London", list[1].location.city)
      assert.are.equal(4994, list[2].id)
      assert.are.equal("+13195942443", list[2].phone)
      assert.are_not.equal(null, list[2].name)                       -- kept (PATCH)
    end)

    it("refuses the whole batch: size, shape, fields (400), an unknown id (404)", function()
      local function refused(body, status, want)
        local s, b = api(m, "PUT", "/customers/batch", body)
        assert.are.equal(status, s)
        assert.are.same(want, codes(b))
      end
      refused(json.array({}), 400, { "invalid_request", "validation_error" })
      local eleven = {}
      for i = 1, 11 do eleven[i] = { customer = 4994, phone = tostring(i) } end
      refused(eleven, 400, { "invalid_request", "validation_error" })
      refused({ customer = 4994 }, 400, { "invalid_request", "body" })
      refused({ { customer = 4994, phone = 5 }, { phone = "1" }, { customer = "x" }, 7 }, 400,
        { "invalid_request", "[0].phone", "[1].customer", "[2].customer", "[3]" })
      refused({ { customer = 4994, phone = "+1" }, { customer = 999999, phone = "+2" } }, 404,
        { "invalid_request", "entity_not_found" })
      local _, got = api(m, "GET", "/customers/4994")
      assert.are_not.equal("+1", got.phone)                          -- all or nothing
    end)

    it("a userId clash, also between two items: 400 invalid_userId_value", function()
      create { userId = "held" }
      local status, b = api(m, "PUT", "/customers/batch", { { customer = 4994, userId = "held" } })
      assert.are.equal(400, status)
      assert.are.same({ "invalid_request", "invalid_userId_value" }, codes(b))
      status = api(m, "PUT", "/customers/batch",
        { { customer = 4994, userId = "twin" }, { customer = 265555, userId = "twin" } })
      assert.are.equal(400, status)
    end)
  end)

  describe("POST /events", function()
    it("records the event: 200 with id, name, data and createdAt as digits", function()
      local status, e = api(m, "POST", "/events",
        { name = "Button Click", data = { button = "Start trial", clicks = 2 }, customer = 4994 })
      assert.are.equal(200, status)
      assert.is_number(e.id)
      assert.are.equal("Button Click", e.name)
      assert.are.same({ button = "Start trial", clicks = 2 }, e.data)
      assert.matches("^%d+$", e.createdAt)
      api(m, "POST", "/events", { name = "x", data = { a = 1 }, customer = "265555" })
      local events = m:events()
      assert.are.equal(2, #events)
      assert.are.equal(4994, events[1].customer)
      assert.are.equal(265555, events[2].customer)
    end)

    it("validates name, customer and data; 404 for an unknown customer", function()
      local status, b = api(m, "POST", "/events", { name = "", customer = "abc", data = {} })
      assert.are.equal(400, status)
      assert.are.same({ "invalid_request", "name", "customer", "data" }, codes(b))
      assert.are.equal("data value is invalid", b.errors[4].message)
      status, b = api(m, "POST", "/events", { name = "x", data = { a = { nested = 1 } } })
      assert.are.equal(400, status)
      assert.are.same({ "invalid_request", "customer", "data.a" }, codes(b))
      status, b = api(m, "POST", "/events", { name = "x", customer = 999999, data = { a = 1 } })
      assert.are.equal(404, status)
      assert.are.same({ "invalid_request", "entity_not_found" }, codes(b))
      assert.are.equal(0, #m:events())
    end)
  end)

  describe("routes, faults and the log", function()
    it("answers 405 with Allow on a known path's other method", function()
      local status, _, _, headers = api(m, "POST", "/customers/4994", { name = "x" })
      assert.are.equal(405, status)
      assert.are.equal("GET, PATCH, PUT, DELETE", headers.allow)
      status, _, _, headers = api(m, "GET", "/customers/4994/tags")
      assert.are.equal(405, status)
      assert.are.equal("PUT, DELETE", headers.allow)
    end)

    it("a drop acts first (the write happened); a 500 answers without acting", function()
      m:fault { kind = "drop", method = "PATCH" }
      local conn = m:connect()
      local res, err = conn:request("PATCH", "/v1/customers/4994", { token = "t", body = { phone = "+1" } })
      conn:close()
      assert.is_nil(res)
      assert.are.equal("closed", err)
      assert.are.equal("+1", m:customer(4994).phone)
      m:fault { kind = "500", method = "DELETE" }
      assert.are.equal(500, (api(m, "DELETE", "/customers/4994")))
      assert.is_not_nil(m:customer(4994))
      local log = m:log()
      assert.are.equal("drop", log[1].fault)
      assert.are.equal(200, log[1].status)                          -- what it would have sent
    end)
  end)

  describe("webhook admin", function()
    it("checks the receiver: url, secret, events, numbers", function()
      local function bad(body, want)
        local status, text = m:request("POST", "/_mock/webhooks", body)
        assert.are.equal(400, status)
        assert.truthy(json.decode(text).error:find(want, 1, true), text)
      end
      bad({ secret = "s" }, "url must be a string")
      bad({ url = "https://example.com/h", secret = "s" }, "no TLS")
      bad({ url = "ftp://x/y", secret = "s" }, "http://host")
      bad({ url = "http://127.0.0.1:9/h" }, "secret")
      bad({ url = "http://127.0.0.1:9/h", secret = "" }, "secret")
      bad({ url = "http://127.0.0.1:9/h", secret = "s", events = { "customer.updated" } },
        "unknown event customer.updated")
      bad({ url = "http://127.0.0.1:9/h", secret = "s", max_attempts = 0 }, "max_attempts")
      local view = m:webhooks()
      assert.are.equal(null, view.url)
    end)

    it("shows the receiver but never the secret; DELETE and reset stop it", function()
      local view = m:webhooks { url = "http://127.0.0.1:9/h", secret = "very-secret",
                                events = { "customer.new" }, retry_ms = 10 }
      assert.are.equal("http://127.0.0.1:9/h", view.url)
      assert.are.same({ "customer.new" }, view.events)
      assert.are.equal(10, view.retry_ms)
      local _, text = m:request("GET", "/_mock/webhooks")
      assert.falsy(text:find("very-secret", 1, true))
      assert.are.equal(null, m:webhooks(false).url)
      m:webhooks { url = "http://127.0.0.1:9/h", secret = "s" }
      m:reset()
      assert.are.equal(null, m:webhooks().url)
    end)

    it("POST /_mock/webhooks/send needs a receiver and a known event", function()
      local status = m:request("POST", "/_mock/webhooks/send", { event = "chat.new", eventData = { chat_id = 1 } })
      assert.are.equal(400, status)
      m:webhooks { url = "http://127.0.0.1:9/h", secret = "s", max_attempts = 1 }
      status = m:request("POST", "/_mock/webhooks/send", { event = "chat.created", eventData = {} })
      assert.are.equal(400, status)
      local text
      status, text = m:request("POST", "/_mock/webhooks/send", { event = "chat.new", eventData = { chat_id = 1 } })
      assert.are.equal(200, status)
      assert.matches('^{"id":"%x+%-%x+%-4%x+%-[89ab]%x+%-%x+"}$', text)
    end)
  end)
end)
