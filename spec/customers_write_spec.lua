--- The customer writes over real HTTP against the bundled mock: update, replace,
-- delete, add_tags, remove_tags, update_many, find, upsert (and create's field
-- rules). For each: success, every programmer error (raised before any request),
-- not found, what only the server can judge, and the retry rule for writes.
-- The mock's request log (mock:log()) and admin view (mock:customer(id)) are
-- the witnesses.

local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local NULL = require("helpcrunch.mock.json").null

local SEED_IDS = { 265555, 265580, 4994, 7831682, 8737843, 542335 }

describe("customer writes #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 40, seed = 3 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)
  before_each(function() mock:reset() end)

  local function requests(method, path)
    local n = 0
    for _, e in ipairs(mock:log()) do
      if e.method == method and e.path == path then n = n + 1 end
    end
    return n
  end

  local function last_request() local log = mock:log() return log[#log] end

  local function raises(fn, ...) return H.raises_unsent(mock, fn, ...) end

  local function new_customer(fields)
    fields = fields or {}
    fields.name = fields.name or "Spec Person"
    local c = assert(client.customers:create(fields))
    mock:clear_log()
    return c
  end

  describe("update (PATCH)", function()
    it("changes only the given fields and returns the customer", function()
      local c = new_customer { userId = "u-1", email = "a@example.com", phone = "+1",
                               company = "Old Co", customData = { plan = "free", seats = 1 } }
      local u, err = client.customers:update(c.id, { company = "New Co", city = "Kyiv",
        countryCode = "UA", customData = { plan = "pro" }, firstSeen = 1700000000 })
      assert.is_nil(err)
      local req = last_request()
      assert.equal("PATCH", req.method)
      assert.equal("/v1/customers/" .. c.id, req.path)
      assert.same({ company = "New Co", city = "Kyiv", countryCode = "UA",
                    customData = { { property = "plan", value = "pro" } },
                    firstSeen = "1700000000" }, req.body)
      assert.equal("New Co", u.company)
      assert.equal("+1", u.phone)                                   -- kept
      assert.equal("a@example.com", u.email)
      assert.same({ regionCode = nil, countryCode = "UA", city = "Kyiv" }, u.location)
      assert.same({ plan = "pro", seats = 1 }, u.customData)        -- merged by property
      assert.equal(1700000000, u.firstSeen)
      assert.same(u, assert(client.customers:get(c.id)))            -- visible to get
    end)

    it("sends helpcrunch.null as JSON null, which clears the field", function()
      local c = new_customer { phone = "+1", notes = "n" }
      local u = assert(client.customers:update(c.id, { phone = helpcrunch.null, notes = "kept?" }))
      assert.truthy(last_request().raw_body:find('"phone":null', 1, true))
      assert.is_nil(u.phone)
      assert.equal(NULL, mock:customer(c.id).phone)
      assert.equal("kept?", u.notes)
    end)

    it("is visible to list, sorts and search at once", function()
      local c = new_customer { email = "before@example.com" }
      assert(client.customers:update(c.id, { email = "after@example.com", lastSeen = 1 }))
      assert.equal(c.id, client.customers:search():where("email", "=", "after@example.com"):first().id)
      assert.equal(0, client.customers:search():where("email", "=", "before@example.com"):count())
      local page = assert(client.customers:list { sort = "lastSeen", order = "asc", limit = 1 })
      assert.equal(c.id, page.data[1].id)
    end)

    it("a userId another customer has: validation invalid_userId_value", function()
      new_customer { userId = "taken" }
      local c = new_customer { userId = "mine" }
      local u, err = client.customers:update(c.id, { userId = "taken" })
      assert.is_nil(u)
      assert.equal("validation", err.kind)
      assert.equal(400, err.status)
      assert.equal("invalid_userId_value", err.code)
      assert.equal("mine", mock:customer(c.id).userId)
    end)

    it("an unknown id: not_found, entity_not_found", function()
      local u, err = client.customers:update(999999, { name = "x" })
      assert.is_nil(u)
      assert.equal("not_found", err.kind)
      assert.equal(404, err.status)
      assert.equal("entity_not_found", err.code)
      assert.equal("PATCH", err.method)
    end)
  end)

  describe("replace (PUT)", function()
    it("clears every field it is not given", function()
      local c = new_customer { userId = "r-1", email = "r@example.com", phone = "+1",
                               city = "Lviv", tags = { "vip" }, customData = { plan = "pro" } }
      local r = assert(client.customers:replace(c.id, { name = "Replaced", email = "r@example.com" }))
      assert.equal("PUT", last_request().method)
      assert.equal("Replaced", r.name)
      assert.equal("r@example.com", r.email)
      assert.is_nil(r.phone)
      assert.is_nil(r.userId)
      assert.is_nil(r.location.city)
      assert.same({}, r.tags)
      assert.same({}, r.customData)
      assert.same(r, assert(client.customers:get(c.id)))
    end)

    it("an unknown id: not_found", function()
      local r, err = client.customers:replace(999999, { name = "x" })
      assert.is_nil(r)
      assert.equal("not_found", err.kind)
      assert.equal("PUT", err.method)
    end)
  end)

  describe("delete", function()
    it("returns true, and the customer is gone from get, list and search", function()
      local before = assert(client.customers:list { limit = 3 })
      local victim = before.data[2]
      assert.is_true(client.customers:delete(victim.id))
      local c, err = client.customers:get(victim.id)
      assert.is_nil(c)
      assert.equal("not_found", err.kind)
      local after = assert(client.customers:list { limit = 2 })
      assert.equal(before.total - 1, after.total)
      assert.equal(before.data[3].id, after.data[2].id)            -- the page shifted up
      assert.equal(0, client.customers:search():where("id", "=", victim.id):count())
    end)

    it("an unknown id: not_found with the API's code (the 404 body is still read)", function()
      local ok, err = client.customers:delete(999999)
      assert.is_nil(ok)
      assert.equal("not_found", err.kind)
      assert.equal("entity_not_found", err.code)
      assert.equal("Customer not found", err.message)
      assert.equal("DELETE", err.method)
    end)

    it("takes any 2xx as the result, whatever the body", function()
      for _, body in ipairs { "Ok", "", '"Ok"', '{"ok":true}', "null" } do
        mock:fault { kind = "respond", status = 200, body = body, method = "DELETE" }
        assert.is_true(client.customers:delete(4994), body)
      end
    end)
  end)

  describe("add_tags and remove_tags", function()
    it("add keeps the other tags, sends {name, color}, and tagsData searches see it", function()
      local c = new_customer { tags = { "old" } }
      assert.is_true(client.customers:add_tags(c.id, { "spec-lead", { name = "spec-red", color = "#f00" } }))
      local req = last_request()
      assert.equal("PUT", req.method)
      assert.equal("/v1/customers/" .. c.id .. "/tags", req.path)
      assert.same({ tags = { { name = "spec-lead" }, { name = "spec-red", color = "#f00" } } }, req.body)
      assert.same({ { name = "old", color = "#c377e0" }, { name = "spec-lead", color = "#c377e0" },
                    { name = "spec-red", color = "#f00" } }, client.customers:get(c.id).tags)
      assert.equal(c.id, client.customers:search():tagged("spec-lead", "spec-red"):first().id)
    end)

    it("remove sends names only (a DELETE with a body) and ignores an absent tag", function()
      local c = new_customer { tags = { "a", { name = "b", color = "#123" } } }
      assert.is_true(client.customers:remove_tags(c.id, { { name = "b", color = "#999" }, "zzz" }))
      local req = last_request()
      assert.equal("DELETE", req.method)
      assert.same({ tags = { { name = "b" }, { name = "zzz" } } }, req.body)
      assert.same({ { name = "a", color = "#c377e0" } }, client.customers:get(c.id).tags)
      assert.equal(0, client.customers:search():tagged("b"):where("id", "=", c.id):count())
    end)

    it("an unknown id: not_found", function()
      for _, f in ipairs { "add_tags", "remove_tags" } do
        local ok, err = client.customers[f](client.customers, 999999, { "x" })
        assert.is_nil(ok)
        assert.equal("not_found", err.kind, f)
        assert.equal("entity_not_found", err.code, f)
      end
    end)
  end)

  describe("update_many", function()
    it("sends batches of 10 and returns one customer per input, in order", function()
      local seed, list = {}, {}
      for i, id in ipairs(SEED_IDS) do
        seed[id] = true
        list[i] = { id = id }
      end
      for _, c in ipairs(assert(client.customers:list { order = "asc", limit = 40 }).data) do
        if not seed[c.id] and #list < 23 then list[#list + 1] = { id = c.id } end
      end
      for i = 1, 23 do list[i].company = "Batch " .. i end
      mock:clear_log()
      local results = client.customers:update_many(list)
      assert.equal(23, #results)
      for i = 1, 23 do
        assert.is_false(helpcrunch.is_error(results[i]), tostring(results[i]))
        assert.equal(list[i].id, results[i].id)
        assert.equal("Batch " .. i, results[i].company)
        assert.equal("Batch " .. i, mock:customer(list[i].id).company)
      end
      local sizes = {}
      for _, e in ipairs(mock:log()) do
        assert.equal("PUT", e.method)
        assert.equal("/v1/customers/batch", e.path)
        sizes[#sizes + 1] = #e.body
      end
      assert.same({ 10, 10, 3 }, sizes)
      assert.same({ customer = SEED_IDS[1], company = "Batch 1" }, mock:log()[1].body[1])
    end)

    it("mixed good and bad items: the good ones apply, each bad one gets its error", function()
      local taken = new_customer { userId = "taken-id" }
      local a, b = new_customer(), new_customer()
      local results = client.customers:update_many {
        { id = a.id, phone = "+100" },
        { id = 999999, phone = "+200" },                 -- no such customer: 404 for a batch
        { id = b.id, userId = "taken-id" },              -- only the server knows: 400
        { id = 4994, phone = "+400" },
        { id = 888888, phone = "+500" },
      }
      assert.equal(5, #results)
      assert.equal("+100", results[1].phone)
      assert.equal("not_found", results[2].kind)
      assert.equal("entity_not_found", results[2].code)
      assert.equal("validation", results[3].kind)
      assert.equal("invalid_userId_value", results[3].code)
      assert.equal("+400", results[4].phone)
      assert.equal("not_found", results[5].kind)
      assert.equal("+100", mock:customer(a.id).phone)
      assert.equal("+400", mock:customer(4994).phone)
      assert.equal(NULL, mock:customer(b.id).userId)
      assert.equal("taken-id", mock:customer(taken.id).userId)
    end)

    it("updates like PATCH: fields not given are kept", function()
      local c = new_customer { email = "keep@example.com", phone = "+1" }
      local results = client.customers:update_many { { id = c.id, phone = "+2" } }
      assert.equal("+2", results[1].phone)
      assert.equal("keep@example.com", results[1].email)
    end)

    it("a chunk that failed for another reason: every item of it carries that error", function()
      mock:fault { kind = "500", method = "PUT", path = "/v1/customers/batch" }
      local results = client.customers:update_many { { id = 4994, phone = "+1" }, { id = 265555, phone = "+2" } }
      for i = 1, 2 do
        assert.is_true(helpcrunch.is_error(results[i]))
        assert.equal("outcome_unknown", results[i].code)
        assert.equal("server", results[i].kind)
      end
      assert.equal(1, requests("PUT", "/v1/customers/batch"))     -- not split, not retried
    end)

    it("an empty list sends nothing", function()
      assert.same({}, client.customers:update_many {})
      assert.equal(0, #mock:log())
    end)
  end)

  describe("find", function()
    it("by userId: exact, the customer and how many matched", function()
      local c = new_customer { userId = "crm-1" }
      new_customer { userId = "crm-10" }
      local found, n = client.customers:find { userId = "crm-1" }
      assert.equal(c.id, found.id)
      assert.equal(1, n)
      local req = last_request()
      assert.same({ { field = "customers.userId", operator = "=", value = "crm-1" } }, req.body.filter)
      assert.equal(1, req.body.limit)
    end)

    it("by email: the first match, and the total when several share it", function()
      new_customer { email = "shared@example.com" }
      new_customer { email = "shared@example.com" }
      local found, n = client.customers:find { email = "shared@example.com" }
      assert.equal("shared@example.com", found.email)
      assert.equal(2, n)
    end)

    it("none: nil alone, also for a search answering 404 Customer not found", function()
      local found, n = client.customers:find { userId = "nobody" }
      assert.is_nil(found)
      assert.is_nil(n)
      mock:fault { kind = "respond", status = 404, method = "POST", path = "/v1/customers/search",
        body = '{"errors":[{"code":"entity_not_found","message":"Customer not found"}]}' }
      found, n = client.customers:find { userId = "nobody" }
      assert.is_nil(found)
      assert.is_nil(n)
    end)

    it("a failure: nil, err", function()
      mock:fault { kind = "500", method = "POST" }
      local found, err = client.customers:find { email = "x@example.com" }
      assert.is_nil(found)
      assert.equal("server", err.kind)
    end)
  end)

  describe("upsert", function()
    it("creates when no customer has the userId: customer, true", function()
      local before = mock:count()
      local c, created = client.customers:upsert { userId = "up-1", name = "Up", customData = { plan = "pro" } }
      assert.is_true(created)
      assert.equal("up-1", c.userId)
      assert.equal(before + 1, mock:count())
      assert.equal(1, requests("POST", "/v1/customers/search"))
      assert.equal(1, requests("POST", "/v1/customers"))
    end)

    it("updates only the given fields when one has it: customer, false", function()
      local c = new_customer { userId = "up-2", email = "keep@example.com", phone = "+1" }
      local u, created = client.customers:upsert { userId = "up-2", phone = "+2" }
      assert.is_false(created)
      assert.equal(c.id, u.id)
      assert.equal("+2", u.phone)
      assert.equal("keep@example.com", u.email)
      local req = last_request()
      assert.equal("PATCH", req.method)
      assert.same({ phone = "+2" }, req.body)
      assert.equal(0, requests("POST", "/v1/customers"))            -- no create
    end)

    it("sends no update when userId is the only field", function()
      local c = new_customer { userId = "up-3" }
      local u, created = client.customers:upsert { userId = "up-3" }
      assert.is_false(created)
      assert.equal(c.id, u.id)
      assert.equal(1, #mock:log())                                 -- the search only
    end)

    it("a create lost to a race (invalid_userId_value): finds the winner and updates it", function()
      local winner = new_customer { userId = "up-race", phone = "+1" }
      -- The first search misses it, as if the winner were created just after.
      mock:fault { kind = "respond", status = 200, method = "POST", path = "/v1/customers/search",
        body = '{"total":0,"data":[]}' }
      local u, created = client.customers:upsert { userId = "up-race", phone = "+2" }
      assert.is_false(created)
      assert.equal(winner.id, u.id)
      assert.equal("+2", u.phone)
      local seq = {}
      for _, e in ipairs(mock:log()) do seq[#seq + 1] = e.method .. " " .. e.path .. " " .. e.status end
      assert.same({ "POST /v1/customers/search 200", "POST /v1/customers 400",
                    "POST /v1/customers/search 200", "PATCH /v1/customers/" .. winner.id .. " 200" }, seq)
    end)
  end)

  describe("the retry rule for writes", function()
    -- Each write: its name, its HTTP method, the call (with a client, on a fresh
    -- customer) and what shows it applied.
    local CASES = {
      { "update", "PATCH", function(cl, c) return cl.customers:update(c.id, { phone = "+9" }) end,
        function(c) return mock:customer(c.id).phone == "+9" end },
      { "replace", "PUT", function(cl, c) return cl.customers:replace(c.id, { name = "R" }) end,
        function(c) return mock:customer(c.id).name == "R" end },
      { "add_tags", "PUT", function(cl, c) return cl.customers:add_tags(c.id, { "t1" }) end,
        function(c) return #mock:customer(c.id).tags == 2 end },
      { "remove_tags", "DELETE", function(cl, c) return cl.customers:remove_tags(c.id, { "t0" }) end,
        function(c) return #mock:customer(c.id).tags == 0 end },
      { "update_many", "PUT", function(cl, c)
          local r = cl.customers:update_many { { id = c.id, phone = "+8" } }
          if helpcrunch.is_error(r[1]) then return nil, r[1] end
          return r[1]
        end, function(c) return mock:customer(c.id).phone == "+8" end },
      { "delete", "DELETE", function(cl, c) return cl.customers:delete(c.id) end,
        function(c) return mock:customer(c.id) == nil end },
    }

    it("a dropped response: outcome_unknown, applied once, never sent again", function()
      local retrying = H.client(mock, { max_retries = 3 })
      for _, case in ipairs(CASES) do
        local name, method, call, applied = case[1], case[2], case[3], case[4]
        local c = new_customer { tags = { "t0" } }
        mock:fault { kind = "drop", method = method }
        local ok, err = call(retrying, c)
        assert.is_nil(ok, name)
        assert.equal("outcome_unknown", err.code, name)
        assert.equal(1, #mock:log(), name .. ": sent again")
        assert.is_true(applied(c), name .. ": the mock did act")
      end
      retrying:close()
    end)

    it("a 5xx: outcome_unknown, not retried", function()
      local c = new_customer()
      local retrying = H.client(mock, { max_retries = 3 })
      mock:fault { kind = "500", method = "PATCH" }
      local u, err = retrying.customers:update(c.id, { phone = "+7" })
      retrying:close()
      assert.is_nil(u)
      assert.equal("outcome_unknown", err.code)
      assert.equal("server", err.kind)
      assert.equal(1, #mock:log())
    end)

    it("a 429 (the server did not act): retried, applied once", function()
      local retrying = H.client(mock, { max_retries = 2, clock = H.clock() })
      for _, case in ipairs(CASES) do
        local name, method, call, applied = case[1], case[2], case[3], case[4]
        local c = new_customer { tags = { "t0" } }
        mock:fault { kind = "429", method = method, retry_after = 1 }
        local ok, err = call(retrying, c)
        assert.is_nil(err, name)
        assert.truthy(ok, name)
        assert.equal(2, #mock:log(), name)
        assert.equal(429, mock:log()[1].status, name)
        assert.is_true(applied(c), name)
      end
      retrying:close()
    end)
  end)

  describe("programmer errors raise before any request", function()
    before_each(function() mock:clear_log() end)

    it("an invalid id, for every call that takes one", function()
      for _, f in ipairs { "update", "replace", "delete", "add_tags", "remove_tags" } do
        for _, bad in ipairs { 0, -1, 1.5, "abc", "1/../2", {} } do
          raises(function() client.customers[f](client.customers, bad, { name = "x" }) end,
            "customers:" .. f, "id", "positive integer")
        end
      end
    end)

    it("an unknown field names the valid ones, in every write", function()
      local msg = raises(function() client.customers:update(4994, { emial = "x@example.com" }) end,
        "customers:update", 'unknown field "emial"', "valid:", "email", "userId", "countryCode")
      assert.matches("^spec/customers_write_spec%.lua:%d+: ", msg)     -- points at the caller
      raises(function() client.customers:replace(4994, { nmae = "x" }) end, "customers:replace", '"nmae"')
      raises(function() client.customers:create { emial = "x" } end, "customers:create", '"emial"')
      raises(function() client.customers:upsert { userId = "u", emial = "x" } end, "customers:upsert", '"emial"')
      raises(function() client.customers:update_many { { id = 1, phone = "1" }, { id = 2, emial = "x" } } end,
        "customers:update_many", "list[2].", '"emial"')
      raises(function() client.customers:update(4994, { location = { city = "Kyiv" } }) end,
        "location is sent flat", "city")
      raises(function() client.customers:update(4994, { id = 5 }) end, "id", "userId")
    end)

    it("wrong types", function()
      local u = function(fields) return function() client.customers:update(4994, fields) end end
      raises(u { name = 5 }, "customers:update: name must be a string", "got 5")
      raises(u { email = true }, "email must be a string")
      raises(u { firstSeen = "yesterday" }, "firstSeen", "UNIX timestamp", '"yesterday"')
      raises(u { lastSeen = 1.5 }, "lastSeen", "UNIX timestamp")
      raises(u { unsubscribed = "yes" }, "unsubscribed must be a boolean", '"yes"')
      raises(u { blocked = 1 }, "blocked must be a boolean")
      raises(u { city = 5 }, "city must be a string")
      raises(u { customData = "plan=pro" }, "customData must be a table")
      raises(u { customData = { plan = { nested = true } } }, "customData.plan", "string, number, boolean")
      raises(u { customData = { [""] = 1 } }, "property names must be non-empty strings")
      raises(u { tags = "vip" }, "tags must be a list")
      raises(u { tags = { vip = true } }, "tags must be a list")
      raises(u { tags = { 5 } }, "tags[1] must be a name")
      raises(u { tags = { { name = "x", color = 5 } } }, "tags[1].color")
      raises(u { [1] = "x" }, "field names must be strings")
    end)

    it("empty tag names, empty fields, text past 255 characters", function()
      raises(function() client.customers:update(4994, { tags = { "" } }) end, "tags[1] has an empty name")
      raises(function() client.customers:add_tags(4994, { "ok", { name = "" } }) end,
        "customers:add_tags: tags[2] has an empty name")
      raises(function() client.customers:add_tags(4994, {}) end, "tags is empty")
      raises(function() client.customers:remove_tags(4994, "vip") end, "tags must be a list")
      raises(function() client.customers:update(4994, {}) end, "fields is empty")
      raises(function() client.customers:replace(4994, {}) end, "fields is empty")
      raises(function() client.customers:update(4994, "name=x") end, "fields must be a table")
      raises(function() client.customers:update(4994, { notes = string.rep("é", 256) }) end,
        "notes has 256 characters", "at most 255")
      raises(function() client.customers:update(4994, { customData = { bio = string.rep("x", 300) } }) end,
        "customData.bio has 300 characters")
      assert(client.customers:update(4994, { notes = string.rep("é", 255) }))   -- 255 is fine
    end)

    it("update_many: the list and its items", function()
      local um = function(list) return function() client.customers:update_many(list) end end
      raises(um "x", "customers:update_many: list must be a list")
      raises(um { 5 }, "list[1] must be a table")
      raises(um { { phone = "1" } }, "list[1].id must be a positive integer")
      raises(um { { id = "x", phone = "1" } }, "list[1].id")
      raises(um { { id = 4994 } }, "list[1] names no field to change besides id")
      raises(um { { id = 4994, phone = "1" }, [3] = { id = 1, phone = "2" } }, "keys 1..n")
    end)

    it("find and upsert", function()
      raises(function() client.customers:find "crm-1" end, "customers:find", "userId", "email")
      raises(function() client.customers:find {} end, "customers:find")
      raises(function() client.customers:find { id = 5 } end, 'unknown key "id"')
      raises(function() client.customers:find { userId = "a", email = "b" } end, "not both")
      raises(function() client.customers:find { userId = "" } end, "non-empty string")
      raises(function() client.customers:find { email = 5 } end, "non-empty string")
      raises(function() client.customers:upsert { name = "no key" } end, "customers:upsert", "userId", "required")
      raises(function() client.customers:upsert { userId = helpcrunch.null } end, "userId", "required")
    end)

    it("garbage anywhere: a clear error or nil, err, never a raw Lua error", function()
      local cyclic = {}
      cyclic.self = cyclic
      local GARBAGE = { false, true, 0, -1, 0 / 0, math.huge, 2 ^ 60, "", "\0", "x\255y",
        string.rep("9", 40), {}, { {} }, cyclic, print, coroutine.create(function() end), io.stdout,
        helpcrunch.null, { name = cyclic }, { tags = { cyclic } }, { customData = cyclic },
        { customData = { a = cyclic } }, { [true] = 1 }, { 1, 2, 3 } }
      local CALLS = {
        function(g) return client.customers:update(g, { name = "x" }) end,
        function(g) return client.customers:update(4994, g) end,
        function(g) return client.customers:update(4994, { name = g }) end,
        function(g) return client.customers:update(4994, { firstSeen = g }) end,
        function(g) return client.customers:update(4994, { tags = { g } }) end,
        function(g) return client.customers:update(4994, { customData = { k = g } }) end,
        function(g) return client.customers:replace(4994, g) end,
        function(g) return client.customers:delete(g) end,
        function(g) return client.customers:add_tags(4994, g) end,
        function(g) return client.customers:remove_tags(4994, { g }) end,
        function(g) return client.customers:update_many(g) end,
        function(g) return client.customers:update_many { g } end,
        function(g) return client.customers:update_many { { id = g, name = "x" } } end,
        function(g) return client.customers:find(g) end,
        function(g) return client.customers:find { email = g } end,
        function(g) return client.customers:upsert(g) end,
        function(g) return client.customers:upsert { userId = g } end,
        function(g) return client.events:track(g) end,
        function(g) return client.events:track { customer = g, name = "x", data = { a = 1 } } end,
        function(g) return client.events:track { customer = 4994, name = g, data = { a = 1 } } end,
        function(g) return client.events:track { customer = 4994, name = "x", data = g } end,
        function(g) return client.events:track { customer = 4994, name = "x", data = { a = g } } end,
      }
      for c, call in ipairs(CALLS) do
        for gi, g in ipairs(GARBAGE) do
          local ok, a, b = pcall(call, g)
          local where = "call " .. c .. ", garbage " .. gi
          if ok then
            assert.truthy(a ~= nil or b == nil or helpcrunch.is_error(b), where)   -- find: nil
          else
            local msg = tostring(a)
            assert.truthy(msg:find("customers:", 1, true) or msg:find("events:track", 1, true)
              or msg:find("helpcrunch", 1, true), where .. ": " .. msg)
            assert.falsy(msg:find("attempt to", 1, true), where .. ": " .. msg)
          end
        end
      end
    end)

    it("a dot instead of a colon", function()
      for _, f in ipairs { "update", "replace", "delete", "add_tags", "remove_tags", "update_many",
                           "find", "upsert" } do
        raises(function() client.customers[f](4994, {}) end, "client.customers:" .. f, "colon")
      end
    end)
  end)
end)
