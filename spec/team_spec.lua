--- client.agents, client.departments, client.applications, client.organization against
-- the bundled mock; and helpcrunch.normalize, the rules every conversation object goes
-- through (timestamps, status spellings, totals).

local H = require "spec.helper"
local normalize = require "helpcrunch.normalize"

describe("the team #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 50, seed = 1 }, nil,
    function(m, c) mock, client = m, c end)
  lazy_setup(start)
  lazy_teardown(stop)
  before_each(function() mock:reset() end)

  it("agents:all yields every agent, roles as the API spells them", function()
    local roles = {}
    for a in client.agents:all {} do roles[a.id] = a.role end
    assert.same({ [2533] = "admin", [4188] = "agent", [4190] = "agentChatOnly",
                  [4201] = "superviser", [4215] = "agent" }, roles)
  end)

  it("agents:list reads meta.total, and pages", function()
    local p = assert(client.agents:list { offset = 1, limit = 2 })
    assert.equal(5, p.total)
    assert.same({ 4188, 4190 }, { p.data[1].id, p.data[2].id })
    assert.same({ offset = "1", limit = "2" }, H.sent(mock, "/agents")[1].query)
    local n = 0
    for _ in client.agents:all { page_size = 2 } do n = n + 1 end
    assert.equal(5, n)
  end)

  it("agents and departments without a total (older revisions): a short page ends", function()
    mock:config { pages = { ["agents.list"] = { total = "none" },
                            ["departments.list"] = { total = "none" } } }
    assert.is_nil(assert(client.agents:list {}).total)
    for _, size in ipairs({ 2, 3, 5, 100 }) do
      local n = 0
      for _ in client.agents:all { page_size = size } do n = n + 1 end
      assert.equal(5, n, "page_size " .. size)
    end
    local d = 0
    for _ in client.departments:all { page_size = 2 } do d = d + 1 end
    assert.equal(3, d)
  end)

  it("agents:all is not fooled by a total larger than the list (an API example has one)",
    function()
      mock:config { pages = { ["agents.list"] = { total = "over" },
                              ["departments.list"] = { total = "over" } } }
      assert.equal(6, assert(client.agents:list {}).total)   -- the page says what it got
      mock:clear_log()
      for _, size in ipairs({ 2, 4, 100 }) do
        local n = 0
        for _ in client.agents:all { page_size = size, prefetch = 0 } do n = n + 1 end
        assert.equal(5, n, "page_size " .. size)
      end
      -- pages overlap by one; the first short page ends the read:
      -- size 2 at offsets 0 1 2 3 4 (that one holds only the 5th), size 4 at 0 3, size 100 at 0
      assert.equal(5 + 2 + 1, #H.sent(mock, "/agents"))
      local d = 0
      for _ in client.departments:all { page_size = 2 } do d = d + 1 end
      assert.equal(3, d)
    end)

  it("departments:all yields each department with its agents", function()
    local deps = {}
    for dep in client.departments:all {} do deps[dep.name] = dep end
    assert.equal(233046, deps.Support.id)
    assert.equal(3, #deps.Support.agents)
    assert.equal("superviser", deps.Billing.agents[1].role)
    assert.equal(3, assert(client.departments:list {}).total)
  end)

  it("applications:list and :all read the unpaged list", function()
    local p = assert(client.applications:list())
    assert.equal(3, #p.data)
    assert.is_nil(p.total)
    local names = {}
    for app in client.applications:all() do names[#names + 1] = app.name end
    assert.same({ "Website", "iOS", "Telegram" }, names)
    assert.equal(2, #H.sent(mock, "/applications"))          -- one request each
    assert.is_nil(H.sent(mock, "/applications")[1].query.offset)
  end)

  it("organization:get unwraps data", function()
    assert.same({ id = 542335, domain = "acme", teamOnline = true, chatEnabled = true },
      assert(client.organization:get()))
  end)

  it("raises on bad parameters; failures return nil, err (iterators raise)", function()
    local function msg(f) local ok, m = pcall(f) assert.is_false(ok) return m end
    assert.matches('agents:list: unknown parameter "sort" %(valid: limit, offset%)',
      msg(function() client.agents:list { sort = "name" } end))
    assert.matches('departments:all: unknown parameter "offset"',
      msg(function() client.departments:all { offset = 3 } end))
    assert.matches("client.organization:get: call it as a method",
      msg(function() client.organization.get() end))
    mock:fault { kind = "500", method = "GET", path = "/v1/organization" }
    local org, err = client.organization:get()
    assert.is_nil(org)
    assert.equal("server", err.kind)
    mock:fault { kind = "429", method = "GET", path = "/v1/agents" }
    local ok, e = pcall(function() for _ in client.agents:all {} do end end)
    assert.is_false(ok)
    assert.equal("rate_limited", e.kind)
    assert.equal("too_many_requests", e.code)
    mock:fault { kind = "500", method = "GET", path = "/v1/applications" }
    ok, e = pcall(function() return client.applications:all() end)
    assert.is_false(ok)
    assert.equal("server", e.kind)
  end)

  it("answers 401 in each route's dialect", function()
    local m2 = H.mock { customers = 10, token = H.TOKEN }
    finally(function() m2:stop() end)
    local c2 = H.client(m2, { token = "wrong-token-0123456789" })
    finally(function() c2:close() end)
    local _, err = c2.agents:list {}
    assert.equal("auth", err.kind)
    assert.equal("invalid_token", err.code)
    assert.equal(1, #err.errors)
    _, err = c2.organization:get()
    assert.equal("unauthorized", err.code)
    assert.equal("invalid_request", err.errors[1].code)
  end)
end)

describe("helpcrunch.normalize #unit", function()
  it("makes integer seconds of every timestamp form (the fraction is dropped)", function()
    for _, c in ipairs({
      { 1593108596, 1593108596 }, { "1603885746", 1603885746 },
      { "1594139170.913", 1594139170 }, { "1603864800.000", 1603864800 },
      { 1594139170.913, 1594139170 }, { " 1603885746 ", 1603885746 }, { "-5.5", -6 },
    }) do
      local v = normalize.timestamp(c[1])
      assert.equal(c[2], v, tostring(c[1]))
      H.assert_integer(v)
    end
    for _, keep in ipairs({ "2020-09-01 00:40:00", "soon", "", "1e9", "0x10", true }) do
      assert.equal(keep, normalize.timestamp(keep))
    end
  end)

  it("spells every status one way and keeps the original when it differs", function()
    local cases = {
      new = "new", opened = "opened", open = "opened", Open = "opened", pending = "pending",
      ["on hold"] = "on hold", onhold = "on hold", ["on-hold"] = "on hold",
      ["On_Hold"] = "on hold", ["no communication"] = "no communication",
      ["no-communication"] = "no communication", closed = "closed", empty = "empty",
    }
    for given, want in pairs(cases) do
      local chat = normalize.chat { id = 1, status = given }
      assert.equal(want, chat.status, given)
      assert.equal(given ~= want and given or nil, chat.statusRaw, given)
    end
    local odd = normalize.chat { id = 1, status = "3" }         -- numeric codes: unreliable
    assert.equal("3", odd.status)
    assert.is_nil(odd.statusRaw)
  end)

  it("normalises nested objects and is idempotent", function()
    local chat = {
      id = 1, createdAt = "1597758468", closedAt = "1607542030.713", rating = "Perfect",
      agents = { id = 4188, name = "Olena" },
      customer = { id = 7, firstSeen = "1588927354",
                   customData = { { property = "Plan", value = "Pro" } } },
      assignee = { id = 4188 }, department = { id = 1, name = "Support" },
    }
    normalize.chat(chat)
    local once = require("helpcrunch.mock.json").encode(chat)
    normalize.chat(chat)
    assert.equal(once, require("helpcrunch.mock.json").encode(chat))
    assert.equal(1597758468, chat.createdAt)
    assert.equal(1607542030, chat.closedAt)
    assert.equal("great", chat.rating)
    assert.equal("Perfect", chat.ratingRaw)
    assert.same({ { id = 4188, name = "Olena" } }, chat.agents)
    assert.equal(1588927354, chat.customer.firstSeen)
    assert.same({ Plan = "Pro" }, chat.customer.customData)
    local m = normalize.message { id = 2, createdAt = "1594139170.913", updatedAt = "1594291329",
                                  agent = { id = 1 } }
    assert.equal(1594139170, m.createdAt)
    assert.equal(1594291329, m.updatedAt)
  end)

  it("reads totals from meta.total, else total, else none; lists from data or messages", function()
    local x = normalize.extractor(normalize.message)
    local d, t = x { data = { { id = 1, createdAt = "5.5" } }, meta = { total = 9 }, total = 3 }
    assert.equal(9, t)
    assert.equal(5, d[1].createdAt)
    d, t = x { messages = { { id = 1 } }, total = 4 }
    assert.equal(4, t)
    assert.equal(1, #d)
    d, t = x { data = { { id = 1 } }, meta = {} }
    assert.is_nil(t)
    assert.equal(1, #d)
    d = x { data = { { { id = 1 }, { id = 2 } }, { { id = 3 } } } }     -- a list of lists
    assert.same({ 1, 2, 3 }, { d[1].id, d[2].id, d[3].id })
    assert.is_nil(x { total = 3 })
    assert.is_nil(x "Ok")
  end)
end)
