-- helpcrunch-mock: POST /v1/customers by itself, over HTTP (LuaSocket).

local json = require "helpcrunch.mock.json"
local spawn = require "helpcrunch.mock.spawn"

local null = json.null

local function api(m, method, path, body)
  local status, text = m:request(method, "/v1" .. path, body, { Authorization = "Bearer t" })
  return status, json.decode(text), text
end

-- The request body of the API's own example (seed 004), with a real address.
local function example()
  return {
    name = "John Doe", email = "john@example.com", userId = "user_new_1",
    company = "Example Inc.", phone = "+10233456781", firstSeen = "1603885746",
    source = "https://example.com", locale = "uk", notes = "Lorem ipsum",
    tags = json.array({ { name = "vip", color = "#ff0000" } }),
    customData = json.array({
      { property = "subscription_status", value = "active" },
      { property = "number_of_payments", value = 15 },
      { property = "last_paid_amount", value = 15.99 },
      { property = "last_payment_date", value = "1603885746" },
      { property = "last_invoice_url", value = "https://example.com/invoice.html" },
      { property = "last_payment_was_successful", value = true },
    }),
  }
end

describe("helpcrunch-mock create #mock", function()
  local m
  lazy_setup(function() m = spawn.start { customers = 120, seed = 4 } end)
  lazy_teardown(function() m:stop() end)
  before_each(function() m:reset() end)

  it("answers 201 with the customer, customData as a map, dates as sent", function()
    local status, c = api(m, "POST", "/customers", example())
    assert.are.equal(201, status)
    assert.are.equal("John Doe", c.name)
    assert.are.equal("user_new_1", c.userId)
    assert.are.equal("1603885746", c.firstSeen)
    assert.are.same({ { name = "vip", color = "#ff0000" } }, c.tags)
    assert.are.same({
      subscription_status = "active", number_of_payments = 15, last_paid_amount = 15.99,
      last_payment_date = 1603885746,                  -- a date attribute: stored as an integer
      last_invoice_url = "https://example.com/invoice.html", last_payment_was_successful = true,
    }, c.customData)
    assert.are.equal(false, c.blocked)
    assert.are.equal(null, c.device)
  end)

  it("gives new ids above the current maximum", function()
    local _, a = api(m, "POST", "/customers", { name = "A" })
    local _, b = api(m, "POST", "/customers", { name = "B" })
    assert.are.equal(8737843 + 1, a.id)                  -- 8737843 is the largest seed id
    assert.are.equal(a.id + 1, b.id)
  end)

  it("colours a new tag #c377e0 and keeps the account's colour of a known one", function()
    local _, c = api(m, "POST", "/customers", { tags = { { name = "brand-new" }, { name = "Paid" },
                                                          { name = "custom", color = "rebeccapurple" } } })
    assert.are.same({ { name = "brand-new", color = "#c377e0" }, { name = "Paid", color = "#61bd4f" },
                      { name = "custom", color = "rebeccapurple" } }, c.tags)
  end)

  it("makes the new customer readable, listed first by default, counted and searchable", function()
    local _, before = api(m, "GET", "/customers?limit=1")
    local _, c = api(m, "POST", "/customers", example())
    local status, got = api(m, "GET", "/customers/" .. c.id)
    assert.are.equal(200, status)
    assert.are.equal("john@example.com", got.email)
    assert.are.equal("active", got.customData.subscription_status)   -- a map on GET one too
    local _, page = api(m, "GET", "/customers?limit=1")
    assert.are.equal(before.total + 1, page.total)
    assert.are.equal(c.id, page.data[1].id)
    local _, found = api(m, "POST", "/customers/search",
      { filter = { { field = "customers.email", operator = "=", value = "john@example.com" } } })
    assert.are.equal(1, found.total)
    assert.are.equal(c.id, found.data[1].id)
    _, found = api(m, "POST", "/customers/search",
      { filter = { { field = "customers.lastSeen", operator = "=", value = 1603885746 } } })
    assert.are.equal(c.id, found.data[1].id)
    assert.are.equal(121, m:count())
    local raw = m:customer(c.id)
    assert.are.equal("Example Inc.", raw.company)
    assert.are.equal(15, raw.customData.number_of_payments)
  end)

  it("accepts an empty body: no field is required", function()
    local status, c = api(m, "POST", "/customers", {})
    assert.are.equal(201, status)
    assert.are.equal(null, c.name)
    assert.are.same({}, c.tags)
  end)

  it("refuses a taken userId with invalid_userId_value", function()
    local status, res = api(m, "POST", "/customers", { userId = "example_261" })     -- 4994's
    assert.are.equal(400, status)
    assert.are.same({ errors = {
      { code = "invalid_request", message = "Invalid request" },
      { code = "invalid_userId_value", message = "This userId is already taken." },
    } }, res)
    assert.are.equal(120, m:count())
  end)

  it("reports each bad field after invalid_request, and stores nothing", function()
    local status, res = api(m, "POST", "/customers", {
      name = 42, firstSeen = "yesterday", tags = { { color = "#fff" } },
      customData = { { property = "x", value = string.rep("é", 256) } },
      notes = string.rep("n", 256),
    })
    assert.are.equal(400, status)
    local too_long = "This value is too long. It should have 255 characters or less."
    assert.are.same({ errors = {
      { code = "invalid_request", message = "Invalid request" },
      { code = "name", message = "This value should be of type string." },
      { code = "notes", message = too_long },
      { code = "firstSeen", message = "This value should be of type numeric." },
      { code = "tags[0].name", message = "This value should not be blank." },
      { code = "customData[0].value", message = too_long },
    } }, res)
    assert.are.equal(120, m:count())
    status = api(m, "POST", "/customers", { notes = string.rep("é", 255) })   -- characters, not bytes
    assert.are.equal(201, status)
  end)

  it("refuses a body that is not a JSON object", function()
    for _, body in ipairs({ "{oops", "[1,2]", '"text"' }) do
      local status, res = api(m, "POST", "/customers", body)
      assert.are.equal(400, status, body)
      assert.are.equal("invalid_request", res.errors[1].code)
    end
  end)
end)
