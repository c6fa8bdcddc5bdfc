-- helpcrunch-mock: POST /v1/customers/search by itself, over HTTP (LuaSocket).
-- Expected results are computed here from the full customer list.

local json = require "helpcrunch.mock.json"
local spawn = require "helpcrunch.mock.spawn"

local null = json.null

local function api(m, method, path, body)
  local status, text = m:request(method, "/v1" .. path, body, { Authorization = "Bearer t" })
  return status, json.decode(text), text
end

local function search(m, body)
  return api(m, "POST", "/customers/search", body)
end

-- Every match of a search, reading all its pages.
local function search_all(m, body)
  local out, offset = {}, 0
  local total
  repeat
    local b = {}
    for k, v in pairs(body) do b[k] = v end
    b.offset, b.limit = offset, 100
    local status, page = search(m, b)
    assert.are.equal(200, status)
    total = page.total
    for _, c in ipairs(page.data) do out[#out + 1] = c end
    offset = offset + 100
  until offset >= total
  return out, total
end

local function ids(list)
  local out = {}
  for i, c in ipairs(list) do out[i] = c.id end
  table.sort(out)
  return out
end

local function value(v)
  if v == null then return nil end
  return v
end

describe("helpcrunch-mock search #mock", function()
  local m, everyone
  lazy_setup(function()
    m = spawn.start { customers = 400, seed = 11 }
    local all, offset = {}, 0
    repeat
      local _, page = api(m, "GET", "/customers?limit=100&offset=" .. offset)
      for _, c in ipairs(page.data) do all[#all + 1] = c end
      offset = offset + 100
    until offset >= page.total
    everyone = all
  end)
  lazy_teardown(function() m:stop() end)

  local function expect(filter_body, predicate)
    local want = {}
    for _, c in ipairs(everyone) do
      if predicate(c) then want[#want + 1] = c end
    end
    local got, total = search_all(m, filter_body)
    assert.are.equal(#want, total)
    assert.are.same(ids(want), ids(got))
    return got
  end

  it("returns everyone for an empty filter list, or no body at all", function()
    local _, page = search(m, { filter = {} })
    assert.are.equal(400, page.total)
    assert.are.equal(100, #page.data)
    local status, p2 = search(m, nil)
    assert.are.equal(200, status)
    assert.are.equal(400, p2.total)
  end)

  it("string '=' is exact, '!=' its opposite (null fields included)", function()
    local got = expect({ filter = { { field = "customers.email", operator = "=", value = "test@test.com" } } },
      function(c) return c.email == "test@test.com" end)
    assert.are.equal(265555, got[1].id)
    expect({ filter = { { field = "customers.company", operator = "!=", value = "example" } } },
      function(c) return value(c.company) ~= "example" end)
    expect({ filter = { { field = "customers.email", operator = "=", value = "TEST@test.com" } } },
      function() return false end)
  end)

  it("'~' contains and '!~' does not contain, case-insensitively", function()
    local got = expect({ filter = { { field = "customers.email", operator = "~", value = "GMAIL" } } },
      function(c) return type(c.email) == "string" and c.email:lower():find("gmail", 1, true) ~= nil end)
    assert.is_true(#got > 20)
    expect({ filter = { { field = "customers.email", operator = "!~", value = "gmail" } } },
      function(c) return not (type(c.email) == "string" and c.email:find("gmail", 1, true)) end)
    expect({ filter = { { field = "customers.name", operator = "~", value = "Ümit" } } },
      function(c) return type(c.name) == "string" and c.name:find("Ümit", 1, true) ~= nil end)
  end)

  it("searches location fields, userId, phone and the messenger ids", function()
    expect({ filter = { { field = "customers.countryCode", operator = "=", value = "UA" } } },
      function(c) return c.location.countryCode == "UA" end)
    expect({ filter = { { field = "customers.city", operator = "~", value = "kyiv" } } },
      function(c) return type(c.location.city) == "string" and c.location.city:lower():find("kyiv") ~= nil end)
    expect({ filter = { { field = "customers.regionCode", operator = "=", value = "CA" } } },
      function(c) return c.location.regionCode == "CA" end)
    expect({ filter = { { field = "customers.userId", operator = "~", value = "crm_1" } } },
      function(c) return type(c.userId) == "string" and c.userId:find("crm_1", 1, true) ~= nil end)
    expect({ filter = { { field = "customers.phone", operator = "~", value = "+380" } } },
      function(c) return type(c.phone) == "string" and c.phone:find("+380", 1, true) ~= nil end)
    local any = 0
    for _, f in ipairs({ "telegramId", "facebookId", "instagramId", "viberId", "whatsappId" }) do
      local got = expect({ filter = { { field = "customers." .. f, operator = "~", value = "" } } },
        function(c) return type(c[f]) == "string" end)
      any = any + #got
    end
    assert.is_true(any > 0)
  end)

  it("compares customers.id and customers.lastSeen as numbers (numeric strings too)", function()
    expect({ filter = { { field = "customers.id", operator = ">", value = 8000 } } },
      function(c) return c.id > 8000 end)
    expect({ filter = { { field = "customers.id", operator = "<=", value = "4994" } } },
      function(c) return c.id <= 4994 end)
    expect({ filter = { { field = "customers.id", operator = "=", value = 542335 } } },
      function(c) return c.id == 542335 end)
    expect({ filter = { { field = "customers.id", operator = "!=", value = 542335 } } },
      function(c) return c.id ~= 542335 end)
    local got = expect({ filter = { { field = "customers.lastSeen", operator = ">=", value = 1603885746 } } },
      function(c) return tonumber(value(c.lastSeen)) ~= nil and tonumber(c.lastSeen) >= 1603885746 end)
    local strings = 0
    for _, c in ipairs(got) do
      if type(c.lastSeen) == "string" then strings = strings + 1 end
    end
    assert.is_true(strings > 0, "string timestamps take part")
    expect({ filter = { { field = "customers.lastSeen", operator = "<", value = "1500000000" } } },
      function(c) return tonumber(value(c.lastSeen)) ~= nil and tonumber(c.lastSeen) < 1500000000 end)
  end)

  it("accepts customers.createdAt as a date", function()
    local status, page = search(m, { filter = { { field = "customers.createdAt", operator = ">", value = 0 } } })
    assert.are.equal(200, status)
    assert.is_true(page.total > 0)
    status = search(m, { filter = { { field = "customers.createdAt", operator = ">", value = "18 June 2020" } } })
    assert.are.equal(400, status)
  end)

  it("customers.tagsData matches customers carrying all listed tags", function()
    local function has(c, name)
      for _, t in ipairs(c.tags) do if t.name == name then return true end end
      return false
    end
    local got = expect({ filter = { { field = "customers.tagsData", operator = "=",
                                      value = { { name = "Lead" }, { name = "Paid" } } } } },
      function(c) return has(c, "Lead") and has(c, "Paid") end)
    local found = false
    for _, c in ipairs(got) do if c.id == 4994 then found = true end end
    assert.is_true(found)
    -- tag names are exact: "lead" (8737843) is not "Lead"
    expect({ filter = { { field = "customers.tagsData", operator = "=", value = { { name = "lead" } } } } },
      function(c) return has(c, "lead") end)
    -- "any of" is one filter per tag with OR
    expect({ comparison = "OR", filter = {
      { field = "customers.tagsData", operator = "=", value = { { name = "vip" } } },
      { field = "customers.tagsData", operator = "=", value = { { name = "trial" } } },
    } }, function(c) return has(c, "vip") or has(c, "trial") end)
  end)

  it("combines filters with AND by default and OR on request", function()
    local a = { field = "customers.countryCode", operator = "=", value = "US" }
    local b = { field = "customers.email", operator = "~", value = "gmail" }
    local function pa(c) return c.location.countryCode == "US" end
    local function pb(c) return type(c.email) == "string" and c.email:find("gmail", 1, true) ~= nil end
    local both = expect({ filter = { a, b } }, function(c) return pa(c) and pb(c) end)
    expect({ comparison = "AND", filter = { a, b } }, function(c) return pa(c) and pb(c) end)
    local either = expect({ comparison = "or", filter = { a, b } }, function(c) return pa(c) or pb(c) end)
    assert.is_true(#either > #both)
  end)

  it("sorts and pages like the list, with total = number of matches", function()
    local body = { filter = { { field = "customers.email", operator = "~", value = "@" } },
                   sort = "customers.lastSeen", order = "DESC" }
    local all, total = search_all(m, body)
    assert.are.equal(#all, total)
    for i = 2, #all do
      local a, b = tonumber(value(all[i - 1].lastSeen)), tonumber(value(all[i].lastSeen))
      if a == nil then
        if b == nil then assert.is_true(all[i - 1].id > all[i].id) end
      else
        assert.is_not_nil(b, "nulls come first in desc")
        assert.is_true(a > b or (a == b and all[i - 1].id > all[i].id))
      end
    end
    local _, page = search(m, { filter = body.filter, sort = body.sort, order = "desc", offset = 10, limit = 5 })
    assert.are.equal(5, #page.data)
    for i = 1, 5 do assert.are.equal(all[10 + i].id, page.data[i].id) end
    local _, asc = search(m, { filter = body.filter, sort = "customers.firstSeen", limit = 3 })
    local _, list = api(m, "GET", "/customers?sort=customers.firstSeen&limit=100")
    local listed = {}
    for _, c in ipairs(list.data) do
      if type(c.email) == "string" and c.email:find("@", 1, true) then listed[#listed + 1] = c.id end
    end
    assert.are.same({ listed[1], listed[2], listed[3] }, { asc.data[1].id, asc.data[2].id, asc.data[3].id })
  end)

  describe("validation", function()
    local function bad(body, ...)
      local status, res = search(m, body)
      assert.are.equal(400, status)
      local want = { { code = "invalid_request", message = "Invalid request" } }
      local extra = { ... }
      for i = 1, #extra, 2 do want[#want + 1] = { code = extra[i], message = extra[i + 1] } end
      assert.are.same({ errors = want }, res)
    end

    it("refuses a value of the wrong type", function()
      bad({ filter = { { field = "customers.lastSeen", operator = ">=", value = "18 June 2020" } } },
        "filter[0].value", "This value should be of type numeric.")
      bad({ filter = { { field = "customers.email", operator = "=", value = 5 } } },
        "filter[0].value", "This value should be of type string.")
      bad({ filter = { { field = "customers.tagsData", operator = "=", value = "Lead" } } },
        "filter[0].value", "This value should be of type array.")
      bad({ filter = { { field = "customers.tagsData", operator = "=", value = { { color = "#fff" } } } } },
        "filter[0].value[0].name", "This value should not be blank.")
      bad({ filter = { { field = "customers.id", operator = "=" } } },
        "filter[0].value", "This value should not be blank.")
    end)

    it("refuses an operator that does not fit the field's type", function()
      local msg = "This operator is not valid for the type of this field."
      bad({ filter = { { field = "customers.name", operator = ">", value = "a" } } }, "filter[0].operator", msg)
      bad({ filter = { { field = "customers.id", operator = "~", value = 1 } } }, "filter[0].operator", msg)
      bad({ filter = { { field = "customers.tagsData", operator = "!=", value = { { name = "x" } } } } },
        "filter[0].operator", msg)
      bad({ filter = { { field = "customers.lastSeen", operator = "!~", value = 1 } } }, "filter[0].operator", msg)
      bad({ filter = { { field = "customers.email", operator = "like", value = "x" } } },
        "filter[0].operator", "The value you selected is not a valid choice.")
    end)

    it("refuses blank and unknown fields, naming the filter's index", function()
      bad({ filter = { { field = "customers.email", operator = "~", value = "a" },
                       { field = "", operator = "=", value = "x" },
                       { field = "customers.shoeSize", operator = "=", value = "x" } } },
        "filter[1].field", "This value should not be blank.",
        "filter[2].field", "The value you selected is not a valid choice.")
    end)

    it("refuses bad comparison, sort, order, offset and limit", function()
      local choice = "The value you selected is not a valid choice."
      bad({ comparison = "XOR" }, "comparison", choice)
      bad({ sort = "customers.name" }, "sort", choice)
      bad({ order = "up" }, "order", choice)
      bad({ limit = 101 }, "limit", "This value should be between 1 and 100.")
      bad({ limit = 0 }, "limit", "This value should be between 1 and 100.")
      bad({ offset = -5 }, "offset", "This value should be greater than or equal to 0.")
      bad({ filter = "everything" }, "filter", "This value should be of type array.")
    end)

    it("refuses a body that is not JSON", function()
      local status, res = search(m, "{not json")
      assert.are.equal(400, status)
      assert.are.equal("invalid_request", res.errors[1].code)
      assert.are.equal("body", res.errors[2].code)
    end)
  end)
end)
