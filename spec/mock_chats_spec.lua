-- helpcrunch-mock's chats, messages and team over raw HTTP (LuaSocket): routes, the seeded
-- data (deterministic, the same bytes under Lua 5.4 and LuaJIT), validation in both error
-- dialects, state changes, page shapes, churn and webhooks.

local json = require "helpcrunch.mock.json"
local spawn = require "helpcrunch.mock.spawn"
local socket = require "socket"
local H = require "spec.helper"

local null = json.null

local function api(m, method, path, body, headers)
  local h = { Authorization = "Bearer t" }
  for k, v in pairs(headers or {}) do h[k] = v end
  local status, text = m:request(method, "/v1" .. path, body, h)
  return status, json.decode(text), text
end

local function codes(body)
  local out = {}
  for i, e in ipairs(body.errors) do out[i] = e.code end
  return out
end

describe("helpcrunch-mock chats #mock", function()
  local m
  lazy_setup(function() m = spawn.start { customers = 250, seed = 1, lua = H.LUA } end)
  lazy_teardown(function() m:stop() end)
  before_each(function() m:reset() end)

  describe("routes", function()
    it("lists chats with meta.total and unknown or mis-methoded paths as documented", function()
      local status, body = api(m, "GET", "/chats?limit=3")
      assert.equal(200, status)
      assert.equal(3, #body.data)
      assert.same({ total = 200 }, body.meta)
      assert.is_nil(body.total)
      status, body = api(m, "GET", "/chats/total")          -- documented once, never worked
      assert.equal(404, status)
      assert.same({ "invalid_request", "not_found" }, codes(body))
      local _, _, headers = m:request("PUT", "/v1/chats/5215261", "{}",
        { Authorization = "Bearer t" })
      status = m:request("PUT", "/v1/chats/5215261", "{}", { Authorization = "Bearer t" })
      assert.equal(405, status)                             -- the id goes in the body
      assert.equal("GET", headers.allow)
      status, body = api(m, "GET", "/chats/nope")
      assert.equal(404, status)
      assert.same({ "chat_not_found" }, codes(body))
    end)

    it("serves the team, the applications and the wrapped organization", function()
      local status, body = api(m, "GET", "/agents")
      assert.equal(200, status)
      assert.equal(5, body.meta.total)
      local roles = {}
      for _, a in ipairs(body.data) do roles[a.role] = true end
      assert.is_true(roles.superviser)
      status, body = api(m, "GET", "/departments?limit=1&offset=1")
      assert.equal(200, status)
      assert.equal(1, #body.data)
      assert.equal("Sales", body.data[1].name)
      assert.equal(3, #body.data[1].agents)
      status, body = api(m, "GET", "/applications")
      assert.equal(200, status)
      assert.equal(3, #body.data)
      assert.is_nil(body.total)
      assert.is_nil(body.meta)
      status, body = api(m, "GET", "/organization")
      assert.equal(200, status)
      assert.same({ data = { id = 542335, domain = "acme", teamOnline = true, chatEnabled = true } },
        body)
      local s, text = m:request("GET", "/v1/agents/4188/unsubscribe", nil,
        { Authorization = "Bearer t" })
      assert.equal(200, s)
      assert.equal("Ok", text)
      status, body = api(m, "GET", "/agents/1/unsubscribe")
      assert.equal(404, status)
      assert.same({ "entity_not_found" }, codes(body))
      status, body = api(m, "GET", "/agents?limit=101")
      assert.equal(400, status)
      assert.same({ "validation_error" }, codes(body))
    end)
  end)

  describe("data", function()
    it("holds a chat in each status spelling, and the documented examples", function()
      local _, body = api(m, "GET", "/chats?limit=100")
      local _, more = api(m, "GET", "/chats?limit=100&offset=100")
      local spellings = {}
      for _, list in ipairs({ body.data, more.data }) do
        for _, c in ipairs(list) do spellings[c.status] = true end
      end
      for _, s in ipairs({ "new", "opened", "open", "pending", "on hold", "onhold", "on-hold",
                           "no communication", "closed", "empty" }) do
        assert.is_true(spellings[s], s)
      end
      local _, c = api(m, "GET", "/chats/5215752")
      assert.equal("pending", c.status)
      assert.equal("Thanks!", c.lastMessageText)
      assert.equal("string", type(c.lastMessageAt))
      assert.same({ id = 233048, name = "Billing" }, c.department)
      local _, e = api(m, "GET", "/chats/5215270")
      assert.equal("empty", e.status)
      assert.same({}, e.agents)
      assert.equal(null, e.lastMessageAt)
      local _, one = api(m, "GET", "/chats/5215264")
      assert.equal(4190, one.agents.id)                    -- one object, not a list
    end)

    it("lists messages newest first with fractional timestamps and a top-level total", function()
      local _, p = api(m, "GET", "/chats/5215261/messages?offset=249&limit=1")
      assert.equal(250, p.total)
      assert.is_nil(p.meta)
      assert.same({ id = 9577571, chat = 5215261, from = "customer", agent = null,
                    type = "message", text = "Hi there", read = true, edited = false,
                    broadcastType = null, createdAt = "1594139170.913",
                    updatedAt = "1594291329.303" }, p.data[1])
      local _, all = api(m, "GET", "/chats/5215261/messages?limit=100")
      local tech = false
      for i, msg in ipairs(all.data) do
        if i > 1 then
          assert.is_true(tonumber(all.data[i - 1].createdAt) >= tonumber(msg.createdAt))
        end
        if msg.type == "tech" then
          tech = true
          assert.equal("agent", msg.from)
          assert.equal(null, msg.agent)
        end
      end
      local _, rest = api(m, "GET", "/chats/5215261/messages?limit=100&offset=100")
      for _, msg in ipairs(rest.data) do tech = tech or msg.type == "tech" end
      assert.is_true(tech)
    end)

    it("is the same, byte for byte, for a seed under Lua 5.4 and LuaJIT", function()
      local a = spawn.start { customers = 250, seed = 9, lua = "lua5.4" }
      finally(function() a:stop() end)
      local b = spawn.start { customers = 250, seed = 9, lua = "luajit" }
      finally(function() b:stop() end)
      local c = spawn.start { customers = 250, seed = 10, lua = H.LUA }
      finally(function() c:stop() end)
      for _, path in ipairs({ "/chats?limit=100", "/chats?limit=100&offset=100",
                              "/chats?sort=chats.lastMessageAt&limit=100",
                              "/chats/5215261/messages?limit=100", "/agents", "/departments" }) do
        local _, _, ta = api(a, "GET", path)
        local _, _, tb = api(b, "GET", path)
        assert.equal(ta, tb, path)
      end
      local _, _, t9 = api(a, "GET", "/chats?limit=100&offset=100")
      local _, _, t10 = api(c, "GET", "/chats?limit=100&offset=100")
      assert.are_not.equal(t9, t10)                        -- another seed, other chats
    end)

    it("links every chat to a customer of the data set; --chats sets how many", function()
      local _, p = api(m, "GET", "/chats?limit=100")
      for _, c in ipairs(p.data) do
        assert.is_truthy(m:customer(c.customer.id), "chat " .. c.id)
      end
      local few = spawn.start { customers = 3, chats = 500, seed = 1, lua = H.LUA }
      finally(function() few:stop() end)
      local _, q = api(few, "GET", "/chats?limit=1")
      assert.equal(500, q.meta.total)
      local _, text = few:request("GET", "/_mock/count")
      assert.equal(500, json.decode(text).chats)
    end)
  end)

  describe("validation", function()
    it("answers GETs in the single-entry dialect, one entry per bad parameter", function()
      local status, body = api(m, "GET", "/chats?offset=-1&limit=500&sort=chats.name&order=up")
      assert.equal(400, status)
      assert.same({ errors = {
        { code = "validation_error", message = "offset value is invalid" },
        { code = "validation_error", message = "limit value is invalid" },
        { code = "validation_error", message = "sort value is invalid" },
        { code = "validation_error", message = "order value is invalid" } } }, body)
      status = api(m, "GET", "/chats?sort=lastCustomerMessageAt&filter[0][field]=x")
      assert.equal(200, status)                            -- unprefixed sort; filter ignored
    end)

    it("answers writes led by invalid_request", function()
      local status, body = api(m, "POST", "/chats", {})
      assert.equal(400, status)
      assert.same({ "invalid_request", "customer", "application" }, codes(body))
      status, body = api(m, "POST", "/chats/search",
        { filter = { { field = "chats.name", operator = "=", value = "x" },
                     { field = "chats.assignee", operator = "~", value = 1 },
                     { field = "chats.createdAt", operator = ">", value = "soon" } } })
      assert.equal(400, status)
      assert.same({ "invalid_request", "filter[0].field", "filter[1].operator",
                    "filter[2].value" }, codes(body))
      status, body = api(m, "PUT", "/chats/status", { status = "closed" })
      assert.equal(400, status)
      assert.same({ errors = { { code = "invalid_request", message = "Invalid request" },
                               { code = "invalid_chat_value", message = "Invalid chat ID" } } },
        body)
      for _, bad in ipairs({ "empty", "resolved", "3", 5 }) do
        status, body = api(m, "PUT", "/chats/status", { id = 5215261, status = bad })
        assert.equal(400, status)
        assert.equal("status value is invalid", body.errors[2].message)
      end
      status, body = api(m, "PUT", "/chats/assignee", { id = 5215261 })
      assert.equal(400, status)
      assert.equal("assignee value is invalid", body.errors[2].message)
      status, body = api(m, "PUT", "/chats/department", { id = 5215261, department = 5 })
      assert.equal(400, status)
      assert.equal("department value is invalid", body.errors[2].message)
      status, body = api(m, "PUT", "/chats/snooze", { id = 5215261, snoozedUntil = "soon" })
      assert.equal(400, status)
      assert.same({ "invalid_request", "snoozedUntil" }, codes(body))
      status, body = api(m, "PUT", "/chats/readByCustomer", { id = 5215261, read = "yes" })
      assert.equal(400, status)
      assert.same({ "invalid_request", "read" }, codes(body))
      status, body = api(m, "POST", "/messages", { chat = 5215261, type = "email", text = "" })
      assert.equal(400, status)
      assert.same({ "invalid_request", "text", "type" }, codes(body))
      status, body = api(m, "POST", "/messages", { chat = 5215261, text = "n", type = "private" })
      assert.equal(400, status)
      assert.same({ "invalid_request", "agent" }, codes(body))
      status, body = api(m, "POST", "/messages", { chat = "x", text = "n" })
      assert.equal(400, status)
      assert.same({ "invalid_request", "invalid_chat_value" }, codes(body))
    end)

    it("answers unknown chats per route: chat_not_found, not_fount, not_found", function()
      local status, body = api(m, "PUT", "/chats/snooze", { id = 9, snoozedUntil = null })
      assert.equal(404, status)
      assert.same({ "invalid_request", "chat_not_found" }, codes(body))
      status, body = api(m, "PUT", "/chats/read", { id = 9, read = true })
      assert.equal(404, status)
      assert.equal('Chat for ID "9" was not found', body.errors[2].message)
      status, body = api(m, "GET", "/chats/9/messages")
      assert.equal(404, status)
      assert.same({ "chat_not_found" }, codes(body))
      status, body = api(m, "POST", "/chats", { customer = 1, application = 3838 })
      assert.equal(404, status)
      assert.same({ "invalid_request", "entity_not_found" }, codes(body))
      status, body = api(m, "POST", "/messages", { chat = 5215261, text = "x", agent = 7 })
      assert.equal(404, status)
      assert.same({ "invalid_request", "entity_not_found" }, codes(body))
    end)

    it("accepts digit strings for ids and bodies sent as text/plain", function()
      local status, c = api(m, "POST", "/chats", { customer = "4994", application = "3838" })
      assert.equal(201, status)
      assert.equal("empty", c.status)
      assert.equal("public_api", c.createdWith)
      local status2, msg = api(m, "POST", "/messages",
        { chat = tostring(c.id), text = "hi", agent = "4188" }, { ["Content-Type"] = "text/plain" })
      assert.equal(200, status2)
      assert.equal("agent", msg.from)
      local _, after = api(m, "GET", "/chats/" .. c.id)
      assert.equal("opened", after.status)                 -- an agent's reply opens it
      assert.equal("hi", after.lastMessageText)
      status = api(m, "PUT", "/chats/status", { id = tostring(c.id), status = "On-Hold" })
      assert.equal(200, status)
      local _, held = api(m, "GET", "/chats/" .. c.id)
      assert.equal("on hold", held.status)                 -- every spelling in, one out
    end)

    it("switches a route's dialect and page shape on /_mock/config, and checks them", function()
      m:config { dialects = { ["chats.list"] = "post", ["chats.status"] = "get" } }
      local _, body = api(m, "GET", "/chats?limit=0")
      assert.same({ "invalid_request", "validation_error" }, codes(body))
      _, body = api(m, "PUT", "/chats/status", { id = 1, status = "closed" })
      assert.same({ "chat_not_found" }, codes(body))
      m:config { pages = { ["chats.list"] = { total = "top" },
                           ["messages.list"] = { key = "messages", total = "meta" } } }
      _, body = api(m, "GET", "/chats?limit=1")
      assert.equal(200, body.total)
      _, body = api(m, "GET", "/chats/5215261/messages?limit=1")
      assert.equal(1, #body.messages)
      assert.equal(250, body.meta.total)
      for _, bad in ipairs({ { pages = { ["chats.nope"] = { total = "top" } } },
                             { pages = { ["chats.list"] = { total = "somewhere" } } },
                             { dialects = { ["chats.list"] = "old" } } }) do
        local status, text = m:request("POST", "/_mock/config", bad)
        assert.equal(400, status, text)
      end
      m:reset()
      _, body = api(m, "GET", "/chats?limit=1")
      assert.equal(200, body.meta.total)                   -- reset restores the shapes
    end)

    it("answers 401 in each route's dialect", function()
      local locked = spawn.start { customers = 10, token = "right", lua = H.LUA }
      finally(function() locked:stop() end)
      local _, body = api(locked, "GET", "/chats")
      assert.same({ "invalid_token" }, codes(body))
      _, body = api(locked, "PUT", "/chats/status", { id = 1, status = "closed" })
      assert.same({ "invalid_request", "unauthorized" }, codes(body))
    end)
  end)

  describe("state", function()
    it("actions change what get, list and search show", function()
      local function closed_count()
        local _, p = api(m, "POST", "/chats/search",
          { filter = { { field = "chats.status", operator = "=", value = "closed" } }, limit = 1 })
        return p.meta.total
      end
      local before = closed_count()
      local status, c = api(m, "PUT", "/chats/status", { id = 5215262, status = "closed" })
      assert.equal(200, status)
      assert.equal("closed", c.status)
      assert.equal("agent", c.closedBy)
      assert.equal(before + 1, closed_count())
      local _
      _, c = api(m, "PUT", "/chats/assignee", { id = 5215262, assignee = 4215 })
      assert.equal("Mei Wang", c.assignee.name)
      _, c = api(m, "PUT", "/chats/assignee", { id = 5215262, assignee = null })
      assert.equal(null, c.assignee)
      _, c = api(m, "PUT", "/chats/snooze", { id = 5215262, snoozedUntil = "1603864800" })
      assert.equal("1603864800.000", c.snoozedUntil)
      _, c = api(m, "PUT", "/chats/readByCustomer", { id = 5215262, read = false })
      assert.is_false(c.readByCustomer)
      local _, p = api(m, "POST", "/chats/search", { filter = {
        { field = "chats.customer", operator = "=", value = 4994 },
        { field = "chats.status", operator = "=", value = "5" } } })   -- a numeric code
      local ids = {}
      for _, x in ipairs(p.data) do ids[x.id] = true end
      assert.is_true(ids[5215262])
      m:reset()
      local _, again = api(m, "GET", "/chats/5215262")
      assert.equal("open", again.status)
    end)

    it("inserts chats and messages ahead of the order served, with churn", function()
      m:config { churn = 2 }
      local _, p1 = api(m, "GET", "/chats?limit=10&sort=chats.createdAt")
      local _, p2 = api(m, "GET", "/chats?limit=10&offset=10&sort=chats.createdAt")
      assert.equal(202, p2.meta.total)
      assert.same({ p1.data[9].id, p1.data[10].id }, { p2.data[1].id, p2.data[2].id })
      local _, q1 = api(m, "GET", "/chats/5215261/messages?limit=10")
      local _, q2 = api(m, "GET", "/chats/5215261/messages?limit=10&offset=10")
      assert.equal(252, q2.total)
      assert.same({ q1.data[9].id, q1.data[10].id }, { q2.data[1].id, q2.data[2].id })
    end)
  end)

  describe("webhooks", function()
    -- The mock delivers to itself (an admin path that answers 404): every delivery is
    -- logged with its body and signature.
    local SECRET = "test-signing-key"
    local function deliveries(n)
      for _ = 1, 200 do
        local list = m:webhooks().deliveries
        if #list >= n then return list end
        socket.sleep(0.01)
      end
      return m:webhooks().deliveries
    end

    it("sends signed chat and message events for API changes", function()
      m:webhooks { url = m.base .. "/_mock/hook", secret = SECRET, max_attempts = 1 }
      api(m, "PUT", "/chats/status", { id = 5215262, status = "closed" })
      api(m, "POST", "/messages", { chat = 5215262, text = "Lead synced", type = "private",
                                    agent = 4188 })
      api(m, "PUT", "/chats/assignee", { id = 5215262, assignee = 4215 })
      api(m, "PUT", "/chats/snooze", { id = 5215262, snoozedUntil = 1603864800 })
      api(m, "POST", "/chats", { customer = 4994, application = 3838 })
      local list = deliveries(6)
      local events = {}
      for i, d in ipairs(list) do events[i] = d.event end
      assert.same({ "chat.status_updated", "chat.closed", "message.private", "chat.assigned",
                    "chat.snoozed", "chat.new" }, events)
      local webhook = require "helpcrunch.webhook"
      for _, d in ipairs(list) do
        assert.is_true(webhook.verify(d.body, d.signature, SECRET))
      end
      local closed = json.decode(list[2].body)
      assert.equal(5215262, closed.eventData.chat_id)
      assert.equal("closed", closed.eventData.status)
      assert.matches("^%d+%.%d%d%d$", closed.eventData.closedAt)
      assert.equal(4994, closed.eventData.customer.id)
      local note = json.decode(list[3].body).eventData
      assert.equal("Lead synced", note.message.text)
      assert.equal(5215262, note.chat_id)
      assert.equal("1603864800.000", json.decode(list[5].body).eventData.snoozedUntil)
    end)

    it("sends nothing when no receiver is set", function()
      api(m, "PUT", "/chats/status", { id = 5215262, status = "closed" })
      assert.same({}, m:webhooks().deliveries)
    end)
  end)

  it("shows chats and counts on the admin API", function()
    local _, text = m:request("GET", "/_mock/count")
    local n = json.decode(text)
    assert.equal(250, n.customers)
    assert.equal(200, n.chats)
    assert.is_true(n.messages > 250)
    local c = m:chat(5215265)
    assert.equal("onhold", c.status)
    assert.equal("on hold", c.status_canonical)
    assert.is_nil(m:chat(1))
  end)
end)
