--- client.chats against the bundled mock: get, list, all, search, create and the
-- actions; normalisation of what comes back; what goes on the wire (the mock's log).

local H = require "spec.helper"
local helpcrunch = require "helpcrunch"

local function chat_count(mock)
  local _, text = mock:request("GET", "/_mock/count")
  return require("helpcrunch.mock.json").decode(text).chats
end

describe("client.chats #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 250, seed = 1 }, nil,
    function(m, c) mock, client = m, c end)
  lazy_setup(start)
  lazy_teardown(stop)
  before_each(function() mock:reset() end)

  describe("get", function()
    it("returns the chat with integer timestamps from every form and one status spelling",
      function()
        local c = assert(client.chats:get(5215261))          -- "frac" timestamps
        assert.equal(5215261, c.id)
        assert.equal(1594139100, c.createdAt)               -- "1594139100.913"
        H.assert_integer(c.createdAt, "createdAt")
        H.assert_integer(c.lastMessageAt, "lastMessageAt")
        assert.equal("opened", c.status)
        assert.is_nil(c.statusRaw)                          -- it came as "opened"
        assert.is_nil(c.closedAt)                           -- null: absent
        assert.is_nil(c.rating)
        assert.same({ id = 4994, name = "Serge Merge", email = "serge.merge@example.com",
                      userId = "example_261" }, c.customer)
        assert.equal("Olena Kovalenko", c.assignee.name)
        assert.same({ id = 233046, name = "Support" }, c.department)
        local s = assert(client.chats:get("5215264"))        -- "string" timestamps
        assert.equal(1598000000, s.createdAt)
        H.assert_integer(s.createdAt, "createdAt")
        local i = assert(client.chats:get(5215263))          -- integers
        assert.equal(1596000000, i.createdAt)
        H.assert_integer(i.closedAt, "closedAt")
      end)

    it("reads every status spelling as one, keeping the original in statusRaw", function()
      local want = {
        [5215262] = { "opened", "open" }, [5215264] = { "on hold" },
        [5215265] = { "on hold", "onhold" }, [5215266] = { "on hold", "on-hold" },
        [5215267] = { "new" }, [5215268] = { "closed" }, [5215269] = { "no communication" },
        [5215270] = { "empty" }, [5215752] = { "pending" },
      }
      for id, w in pairs(want) do
        local c = assert(client.chats:get(id))
        assert.equal(w[1], c.status, id)
        assert.equal(w[2], c.statusRaw, id)
      end
    end)

    it("makes agents a list when the API sends one object, and rating perfect great", function()
      local c = assert(client.chats:get(5215264))
      assert.equal(1, #c.agents)
      assert.equal(4190, c.agents[1].id)
      local r = assert(client.chats:get(5215268))
      assert.equal("great", r.rating)
      assert.equal("perfect", r.ratingRaw)
    end)

    it("returns nil, err for an unknown chat", function()
      local c, err = client.chats:get(1)
      assert.is_nil(c)
      assert.equal("not_found", err.kind)
      assert.equal("chat_not_found", err.code)
      assert.equal(404, err.status)
    end)

    it("reads the newer prefixed 404 the same way", function()
      mock:config { dialects = { ["chats.get"] = "post" } }
      local _, err = client.chats:get(1)
      assert.equal("not_found", err.kind)
      assert.equal("not_found", err.code)
      assert.equal("invalid_request", err.errors[1].code)
    end)

    it("raises on a bad id before any request", function()
      for _, bad in ipairs({ 0, -3, 1.5, "abc", "1/../x", "", {}, true }) do
        assert.has_error(function() client.chats:get(bad) end)
      end
      local ok, msg = pcall(function() local c = client.chats:get("12a") return c end)
      assert.is_false(ok)
      assert.matches("chats:get: id must be a positive integer %(HelpCrunch's numeric chat id",
        msg)
      assert.matches("chats_spec", msg)          -- the caller's line
      assert.has_error(function() client.chats.get(5215261) end,
        "client.chats:get: call it as a method, with a colon (client.chats:get(...))")
      assert.same({}, H.requests(mock))
    end)
  end)

  describe("list and all", function()
    it("reads the total from meta.total, the top level, or nowhere", function()
      local p = assert(client.chats:list { limit = 5 })
      assert.equal(5, #p.data)
      assert.equal(200, p.total)
      mock:config { pages = { ["chats.list"] = { total = "top" } } }
      assert.equal(200, assert(client.chats:list { limit = 5 }).total)
      mock:config { pages = { ["chats.list"] = { total = "none" } } }
      local n = assert(client.chats:list { limit = 5 })
      assert.is_nil(n.total)
      assert.equal(5, #n.data)
    end)

    it("sends offset, limit, the full sort name and the order", function()
      assert(client.chats:list { offset = 3, limit = 7, sort = "lastMessageAt", order = "DESC" })
      assert(client.chats:list { sort = "chats.closedAt" })
      local log = H.sent(mock, "/chats")
      assert.same({ offset = "3", limit = "7", sort = "chats.lastMessageAt", order = "desc" },
        log[1].query)
      assert.same({ offset = "0", limit = "100", sort = "chats.closedAt" }, log[2].query)
    end)

    it("sorts as asked", function()
      local p = assert(client.chats:list { sort = "createdAt", order = "asc", limit = 100 })
      for i = 2, #p.data do assert.is_true(p.data[i - 1].createdAt <= p.data[i].createdAt) end
    end)

    it("raises on bad parameters before any request", function()
      local cases = {
        { { limit = 500 }, "chats:list: limit must be an integer from 1 to 100, got 500" },
        { { sort = "name" }, 'chats:list: sort must be "createdAt", "lastCustomerMessageAt", '
          .. '"lastMessageAt" or "closedAt" (or the full "chats.createdAt"/' },
        { { order = "up" }, 'chats:list: order must be "asc" or "desc"' },
        { { offset = -1 }, "chats:list: offset must be an integer at least 0" },
        { { filter = {} }, "chats:list: unknown parameter \"filter\"" },
        { "x", "chats:list: expected a table of parameters" },
      }
      for _, c in ipairs(cases) do
        local ok, msg = pcall(client.chats.list, client.chats, c[1])
        assert.is_false(ok)
        assert.is_truthy(msg:find(c[2], 1, true), msg)
      end
      assert.has_error(function() client.chats:all { max = -1 } end)
      assert.has_error(function() client.chats:all { prefetch = 9 } end)
      assert.same({}, H.requests(mock))
    end)

    it("yields every chat once, whatever the page size, and stops at max", function()
      for _, size in ipairs({ 1, 7, 100 }) do
        local seen, n = {}, 0
        for c in client.chats:all { page_size = size, prefetch = 2 } do
          assert.is_nil(seen[c.id])
          seen[c.id], n = true, n + 1
          H.assert_integer(c.createdAt)
        end
        assert.equal(200, n)
      end
      local n = 0
      for _ in client.chats:all { max = 30, page_size = 20 } do n = n + 1 end
      assert.equal(30, n)
    end)

    it("stops on a short page when the endpoint sends no total", function()
      mock:config { pages = { ["chats.list"] = { total = "none" } } }
      mock:clear_log()
      local n = 0
      for _ in client.chats:all { page_size = 50, prefetch = 0 } do n = n + 1 end
      assert.equal(200, n)
      -- pages overlap by one: offsets 0, 49, 98, 147, 196 (that one is short)
      assert.equal(5, #H.sent(mock, "/chats"))
      mock:clear_log()
      n = 0
      for _ in client.chats:all { page_size = 50, prefetch = 1 } do n = n + 1 end
      assert.equal(200, n)
      -- without a total the end is known only from the short page: one prefetch past it
      assert.equal(6, #H.sent(mock, "/chats"))
    end)

    it("yields every chat present for the whole read exactly once under inserts", function()
      for _, o in ipairs({ {}, { sort = "createdAt" }, { sort = "lastMessageAt", order = "desc" },
                           { order = "asc" } }) do
        mock:reset()
        local before = {}
        for c in client.chats:all {} do before[c.id] = true end
        mock:config { churn = 3 }
        local seen = {}
        local params = { page_size = 20, prefetch = 1, sort = o.sort, order = o.order }
        for c in client.chats:all(params) do
          assert.is_nil(seen[c.id], "chat " .. c.id .. " yielded twice")
          seen[c.id] = true
        end
        for id in pairs(before) do assert.is_true(seen[id], "chat " .. id .. " missed") end
        assert.is_true(chat_count(mock) >= 200 + 3 * 10)      -- inserts did happen
        mock:config { churn = 0 }
      end
    end)
  end)

  describe("search", function()
    -- The ids of every chat (read with all{}) for which keep(chat) is true, sorted.
    local function expected(keep)
      local ids = {}
      for c in client.chats:all {} do if keep(c) then ids[#ids + 1] = c.id end end
      table.sort(ids)
      return ids
    end
    local function found(q)
      local ids = {}
      for c in q:each() do ids[#ids + 1] = c.id end
      table.sort(ids)
      return ids
    end

    it("finds a customer's chats by any status spelling", function()
      local base = client.chats:search():where("customer", "=", 4994)
      local all = expected(function(c) return c.customer.id == 4994 end)
      assert.is_true(#all >= 3)
      assert.equal(#all, base:count())
      assert.same(all, found(base))
      local open = expected(function(c) return c.customer.id == 4994 and c.status == "opened" end)
      assert.is_true(#open >= 2)                       -- 5215261 "opened", 5215262 "open"
      for _, spelling in ipairs({ "opened", "open", "Opened", "2" }) do
        assert.same(open, found(base:where("status", "=", spelling)))
      end
      local held = client.chats:search():where("status", "=", "on-hold")
      for c in held:each() do assert.equal("on hold", c.status) end
      assert.is_true(held:count() >= 3)
    end)

    it("takes dotted and full field names, and tagged() is the customer's tags", function()
      local a = client.chats:search():where("customer.email", "=", "serge.merge@example.com")
      local b = client.chats:search():where("chats.customer.email", "=", "serge.merge@example.com")
      assert.same(a:body(), b:body())
      assert.equal("chats.customer.email", a:body().filter[1].field)
      local serge = expected(function(c) return c.customer.id == 4994 end)
      assert.same(serge, found(a))
      local t = client.chats:search():tagged("Lead", "Paid")
      assert.same({ { field = "chats.customer.tagsData", operator = "=",
                      value = { { name = "Lead" }, { name = "Paid" } } } }, t:body().filter)
      local n = 0
      for c in t:each() do
        n = n + 1
        local tags = {}
        for _, tag in ipairs(assert(client.customers:get(c.customer.id)).tags) do
          tags[tag.name] = true
        end
        assert.is_true(tags.Lead and tags.Paid, "chat " .. c.id)
      end
      assert.is_true(n >= 3)                     -- Serge Merge's chats at least
      local u = client.chats:search():where("customer.userId", "=", "example_261")
      assert.same(serge, found(u))
      local agents = client.chats:search():where("agents", "=", 4190)
      assert.same(expected(function(c)
        for _, ag in ipairs(c.agents) do if ag.id == 4190 then return true end end
      end), found(agents))
    end)

    it("checks fields, operators and values against the chat field table", function()
      local q = client.chats:search()
      local function msg(f) local ok, m = pcall(f) assert.is_false(ok) return m end
      assert.matches('unknown field "email" %(fields: agents, assignee, closedAt, createdAt, '
        .. "customer, customer.email, customer.tagsData, customer.userId, department, rating, "
        .. "status, updatedAt%)", msg(function() return q:where("email", "=", "x") end))
      assert.matches("operator '~' does not apply to chats.assignee, an integer field",
        msg(function() return q:where("assignee", "~", 1) end))
      assert.matches("operator '<' does not apply to chats.status, a string field",
        msg(function() return q:where("status", "<", "closed") end))
      assert.matches("chats.createdAt is a date field; its value must be a UNIX timestamp",
        msg(function() return q:where("createdAt", ">", "yesterday") end))
      assert.matches("chats.customer is an integer field",
        msg(function() return q:where("customer", "=", "4994") end))
      assert.matches("operator '!=' does not apply to chats.customer.tagsData",
        msg(function() return q:where("customer.tagsData", "!=", "Lead") end))
      assert.matches('sort must be "createdAt"',
        msg(function() return q:sort("customer") end))
      local body = q:where("createdAt", ">=", "1600000000"):where("agents", "=", 4188)
        :sort("lastCustomerMessageAt", "DESC"):body()
      assert.same({ { field = "chats.createdAt", operator = ">=", value = 1600000000 },
                    { field = "chats.agents", operator = "=", value = 4188 } }, body.filter)
      assert.equal("chats.lastCustomerMessageAt", body.sort)
      assert.equal("desc", body.order)
      assert.same({}, H.requests(mock))
    end)

    it("reads search totals from meta.total or the top level", function()
      local q = client.chats:search():where("status", "=", "closed")
      local n = assert(q:count())
      local m = 0
      for c in q:each { page_size = 9 } do
        m = m + 1
        assert.equal("closed", c.status)
      end
      assert.equal(n, m)
      mock:config { pages = { ["chats.search"] = { total = "top" } } }
      assert.equal(n, q:count())
    end)

    it("yields every match exactly once under inserts", function()
      local q = client.chats:search():where("createdAt", ">", 1500000000):sort("createdAt")
      local before = {}
      for c in q:each() do before[c.id] = true end
      mock:config { churn = 2 }
      local seen = {}
      for c in q:each { page_size = 15 } do
        assert.is_nil(seen[c.id])
        seen[c.id] = true
      end
      for id in pairs(before) do assert.is_true(seen[id]) end
    end)
  end)

  describe("create", function()
    it("creates an empty chat (201) and sends integers", function()
      local c = assert(client.chats:create { customer = "4994", application = 3838,
                                             assignee = 4188, department = 233047 })
      assert.equal("empty", c.status)
      assert.equal(4994, c.customer.id)
      assert.equal(4188, c.assignee.id)
      assert.same({}, c.agents)
      H.assert_integer(c.createdAt)
      assert.same({ customer = 4994, application = 3838, assignee = 4188, department = 233047 },
        H.sent(mock, "/chats")[1].body)
      assert.equal(c.id, assert(client.chats:get(c.id)).id)
    end)

    it("raises on unknown fields, a missing customer or a bad id", function()
      local function msg(f) local ok, m = pcall(f) assert.is_false(ok) return m end
      assert.matches('chats:create: unknown field "custmer" %(fields: application, assignee, '
        .. "customer, department%)", msg(function() client.chats:create { custmer = 1 } end))
      assert.matches("chats:create: customer is required",
        msg(function() client.chats:create { application = 3838 } end))
      assert.matches("chats:create: assignee must be a positive integer %(HelpCrunch's "
        .. "numeric agent id", msg(function()
          client.chats:create { customer = 4994, assignee = "Olena" } end))
      assert.matches("expected a table of fields", msg(function() client.chats:create() end))
      assert.same({}, H.requests(mock))
    end)

    it("returns the server's validation and not-found errors", function()
      local _, err = client.chats:create { customer = 4994 }
      assert.equal("validation", err.kind)
      assert.equal("application", err.code)
      _, err = client.chats:create { customer = 1, application = 3838 }
      assert.equal("not_found", err.kind)
      assert.equal("entity_not_found", err.code)
      _, err = client.chats:create { customer = 4994, application = 3838, assignee = 1 }
      assert.equal("invalid_chat_value", err.code)
      assert.equal("assignee value is invalid", err.message)
    end)
  end)

  describe("actions", function()
    it("set_status sends the chat id in the body and one spelling for each", function()
      local cases = { open = "opened", Opened = "opened", ["on-hold"] = "on hold",
                      onhold = "on hold", ["ON HOLD"] = "on hold", pending = "pending",
                      ["no_communication"] = "no communication", new = "new", closed = "closed" }
      for spelling, want in pairs(cases) do
        mock:clear_log()
        local c = assert(client.chats:set_status(5215752, spelling))
        assert.equal(want, c.status)
        assert.same({ id = 5215752, status = want }, H.sent(mock, "/chats/status")[1].body)
        assert.equal("PUT", H.sent(mock, "/chats/status")[1].method)
        assert.equal(want, assert(client.chats:get(5215752)).status)
      end
    end)

    it("closing shows in get, list and search", function()
      local q = client.chats:search():where("customer", "=", 4994):where("status", "=", "closed")
      local n = q:count()
      local c = assert(client.chats:set_status(5215261, "closed"))
      H.assert_integer(c.closedAt)
      assert.equal("agent", c.closedBy)
      assert.equal(n + 1, q:count())
      local found
      for x in client.chats:all {} do if x.id == 5215261 then found = x end end
      assert.equal("closed", found.status)
    end)

    it("set_status raises on a state that cannot be set", function()
      for _, bad in ipairs({ "empty", "3", "resolved", 5, nil }) do
        local ok, msg = pcall(client.chats.set_status, client.chats, 5215752, bad)
        assert.is_false(ok)
        assert.matches('chats:set_status: status must be one of "new", "opened", "pending", '
          .. '"on hold", "no communication", "closed"', msg)
      end
      assert.has_error(function() client.chats:set_status("x", "closed") end)
      assert.same({}, H.requests(mock))
    end)

    it("assign and unassign, set_department, snooze and unsnooze, mark_read", function()
      local c = assert(client.chats:assign(5215262, "4201"))
      assert.equal(4201, c.assignee.id)
      c = assert(client.chats:assign(5215262, nil))
      assert.is_nil(c.assignee)
      c = assert(client.chats:assign(5215262, helpcrunch.null))
      assert.is_nil(c.assignee)
      local bodies = H.sent(mock, "/chats/assignee")
      assert.same({ id = 5215262, assignee = 4201 }, bodies[1].body)
      assert.matches('"assignee":null', bodies[2].raw_body)
      c = assert(client.chats:set_department(5215262, 233048))
      assert.same({ id = 233048, name = "Billing" }, c.department)
      c = assert(client.chats:snooze(5215262, 1603864800))   -- echoed "1603864800.000"
      assert.equal(1603864800, c.snoozedUntil)
      H.assert_integer(c.snoozedUntil)
      assert.same({ id = 5215262, snoozedUntil = "1603864800" }, H.sent(mock, "/chats/snooze")[1].body)
      c = assert(client.chats:snooze(5215262))
      assert.is_nil(c.snoozedUntil)
      c = assert(client.chats:mark_read(5215262, { by = "customer", read = false }))
      assert.is_false(c.readByCustomer)
      c = assert(client.chats:mark_read(5215262))
      assert.is_true(c.readByAgent)
      assert.same({ id = 5215262, read = true }, H.sent(mock, "/chats/readByAgent")[1].body)
    end)

    it("raises on bad action arguments before any request", function()
      local function msg(f) local ok, m = pcall(f) assert.is_false(ok) return m end
      assert.matches("chats:assign: agent_id must be a positive integer",
        msg(function() client.chats:assign(5215262, "Olena") end))
      assert.matches("chats:set_department: department_id must be a positive integer",
        msg(function() client.chats:set_department(5215262) end))
      assert.matches("chats:snooze: until must be a UNIX timestamp",
        msg(function() client.chats:snooze(5215262, "tomorrow") end))
      assert.matches('chats:mark_read: by must be "agent" or "customer"',
        msg(function() client.chats:mark_read(5215262, { by = "bot" }) end))
      assert.matches("chats:mark_read: read must be true or false",
        msg(function() client.chats:mark_read(5215262, { read = "yes" }) end))
      assert.matches('chats:mark_read: unknown parameter "reed"',
        msg(function() client.chats:mark_read(5215262, { reed = true }) end))
      assert.matches("chats:assign: id must be a positive integer",
        msg(function() client.chats:assign(nil, 4188) end))
      assert.same({}, H.requests(mock))
    end)

    it("returns the server's errors: not found in both action dialects, invalid values", function()
      local _, err = client.chats:set_status(1, "closed")
      assert.equal("not_found", err.kind)
      assert.equal("chat_not_found", err.code)
      assert.equal("invalid_request", err.errors[1].code)
      _, err = client.chats:mark_read(77, { by = "customer" })
      assert.equal("not_fount", err.code)
      assert.equal('Chat for ID "77" was not found', err.message)
      _, err = client.chats:assign(5215262, 99)
      assert.equal("validation", err.kind)
      assert.equal("assignee value is invalid", err.message)
      _, err = client.chats:set_department(5215262, 99)
      assert.equal("department value is invalid", err.message)
    end)
  end)

  it("every programmer error names the caller's line", function()
    local calls = {
      function() local x = client.chats:list { limit = 0 } return x end,
      function() local x = client.chats:all { sort = "x" } return x end,
      function() local x = client.chats:create { customer = 4994, bogus = 1 } return x end,
      function() local x = client.chats:set_status(5215752, "done") return x end,
      function() local x = client.chats:set_status("x", "closed") return x end,
      function() local x = client.chats:assign(5215752, {}) return x end,
      function() local x = client.chats:set_department(5215752, 0) return x end,
      function() local x = client.chats:snooze(5215752, "soon") return x end,
      function() local x = client.chats:mark_read(5215752, { by = 1 }) return x end,
      function() local x = client.chats:search():where("x", "=", 1) return x end,
      function() local x = client.messages:list("x") return x end,
      function() local x = client.messages:all(5215261, { sort = "createdAt" }) return x end,
      function() local x = client.messages:send { chat = 5215261 } return x end,
      function() local x = client.messages:send { chat = 5215261, text = "n", private = true }
        return x end,
      function() local x = client.agents:list { limit = 101 } return x end,
      function() local x = client.departments:all { max = "all" } return x end,
    }
    for i, f in ipairs(calls) do
      local ok, msg = pcall(f)
      assert.is_false(ok, "call " .. i)
      assert.matches("^spec/chats_spec%.lua:%d+: ", msg, "call " .. i)
    end
    assert.same({}, H.requests(mock))
  end)

  it("examples/chats.lua closes a customer's open chats with a private note", function()
    local open = client.chats:search():where("customer", "=", 4994):where("status", "=", "open")
    local ids = {}
    for c in open:each() do ids[#ids + 1] = c.id end
    assert.is_true(#ids >= 2)
    local build = H.LUA == "luajit" and "luajit" or "lua5.4"
    local cmd = ("HELPCRUNCH_BASE_URL=%s HELPCRUNCH_API_KEY=demo-token "
      .. "LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/%s/?.so;;' %s examples/chats.lua"
      .. " 2>&1; echo \"exit $?\""):format(mock.url, build, H.LUA)
    local p = assert(io.popen(cmd))
    local out = p:read("*a")
    p:close()
    assert.matches("exit 0\n$", out)
    assert.matches("customer #4994 Serge Merge; notes by Alex %(admin%)", out)
    assert.matches("0 open chats left for serge.merge@example.com", out)
    for _, id in ipairs(ids) do
      assert.matches("chat #" .. id .. " %(opened [%d-]+, last message .-%): note #%d+, now closed",
        out)
      local c = assert(client.chats:get(id))
      assert.equal("closed", c.status)
      local newest = assert(client.messages:list(id, { limit = 1 })).data[1]
      assert.equal("private", newest.type)
      assert.equal(2533, newest.agent.id)
    end
    assert.equal(0, open:count())
  end)

  describe("writes and the pipeline", function()
    local retrying
    before_each(function()
      retrying = H.client(mock, { max_retries = 3, clock = H.clock() })
    end)
    after_each(function() retrying:close() end)

    it("an action answered 500 is not retried: outcome_unknown", function()
      mock:fault { kind = "500", method = "PUT", path = "/v1/chats/status" }
      local c, err = retrying.chats:set_status(5215752, "closed")
      assert.is_nil(c)
      assert.equal("outcome_unknown", err.code)
      assert.equal(1, err.attempts)
      assert.equal(1, #H.sent(mock, "/chats/status"))
    end)

    it("an action refused with 429 is retried (the server did not act)", function()
      mock:fault { kind = "429", method = "PUT", path = "/v1/chats/assignee" }
      local c = assert(retrying.chats:assign(5215752, 4188))
      assert.equal(4188, c.assignee.id)
      assert.equal(2, #H.sent(mock, "/chats/assignee"))
    end)

    it("a create whose connection drops is not repeated", function()
      local before = chat_count(mock)
      mock:fault { kind = "drop", method = "POST", path = "/v1/chats" }
      local c, err = retrying.chats:create { customer = 4994, application = 3838 }
      assert.is_nil(c)
      assert.equal("outcome_unknown", err.code)
      assert.equal(before + 1, chat_count(mock))             -- it did act, once
    end)

    it("a GET answered 502 is retried", function()
      mock:fault { kind = "502", method = "GET", path = "/v1/chats/5215261" }
      assert(retrying.chats:get(5215261))
    end)
  end)
end)
