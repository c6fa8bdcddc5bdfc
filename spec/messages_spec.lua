--- client.messages against the bundled mock: a chat's messages (newest first, across
-- pages, under inserts, with the total wherever the endpoint puts it) and sending.

local H = require "spec.helper"
local json = require "helpcrunch.mock.json"

local CHAT = 5215261            -- the messages page's chat: 250 messages in the mock

describe("client.messages #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 250, seed = 1 }, nil,
    function(m, c) mock, client = m, c end)
  lazy_setup(start)
  lazy_teardown(stop)
  before_each(function() mock:reset() end)

  describe("list and all", function()
    it("lists newest first with integer timestamps and the top-level total", function()
      local p = assert(client.messages:list(CHAT, { limit = 10 }))
      assert.equal(10, #p.data)
      assert.equal(250, p.total)
      for i, m in ipairs(p.data) do
        H.assert_integer(m.createdAt, "createdAt")
        H.assert_integer(m.updatedAt, "updatedAt")
        assert.equal(CHAT, m.chat)
        if i > 1 then assert.is_true(p.data[i - 1].createdAt >= m.createdAt) end
      end
      assert.same({ offset = "0", limit = "10" }, H.sent(mock, "/chats/" .. CHAT .. "/messages")[1].query)
    end)

    it("reads the page's example message as a Lua user must see it", function()
      local oldest
      for m in client.messages:all(CHAT) do oldest = m end    -- the last yielded is the oldest
      assert.same({ id = 9577571, chat = CHAT, from = "customer", type = "message",
                    text = "Hi there", read = true, edited = false,
                    createdAt = 1594139170, updatedAt = 1594291329 }, oldest)   -- ".913" floored
    end)

    it("keeps a system message from agent with no agent", function()
      local tech = {}
      for m in client.messages:all(CHAT) do
        if m.type == "tech" then tech[#tech + 1] = m end
      end
      assert.is_true(#tech >= 1)
      for _, m in ipairs(tech) do
        assert.equal("agent", m.from)
        assert.is_nil(m.agent)
      end
    end)

    it("reads the list under data or messages, the total at the top, in meta or absent", function()
      for _, shape in ipairs({ { key = "messages" }, { total = "meta" }, { total = "none" },
                               { key = "messages", total = "none" } }) do
        mock:config { pages = { ["messages.list"] = shape } }
        local p = assert(client.messages:list(CHAT, { offset = 5, limit = 20 }))
        assert.equal(20, #p.data)
        assert.equal(shape.total ~= "none" and 250 or nil, p.total)
        local n, seen = 0, {}
        for m in client.messages:all(CHAT, { page_size = 33 }) do
          assert.is_nil(seen[m.id])
          seen[m.id], n = true, n + 1
        end
        assert.equal(250, n)
      end
    end)

    it("yields every message present for the whole read exactly once while new ones arrive",
      function()
        local before = {}
        for m in client.messages:all(CHAT) do before[m.id] = true end
        mock:config { churn = 4 }
        local seen, n = {}, 0
        for m in client.messages:all(CHAT, { page_size = 25, prefetch = 2 }) do
          assert.is_nil(seen[m.id], "message " .. m.id .. " twice")
          seen[m.id], n = true, n + 1
        end
        for id in pairs(before) do assert.is_true(seen[id], "message " .. id .. " missed") end
        assert.is_true(n >= 250)
        local _, text = mock:request("GET", "/_mock/chats/" .. CHAT)
        assert.is_true(json.decode(text).messages >= 250 + 4 * 10)   -- ten pages, 4 new each
      end)

    it("stops at max and reads a chat without messages", function()
      local n = 0
      for _ in client.messages:all(CHAT, { max = 42, page_size = 10 }) do n = n + 1 end
      assert.equal(42, n)
      local p = assert(client.messages:list(5215270))
      assert.same({}, p.data)
      assert.equal(0, p.total)
      for _ in client.messages:all(5215270) do error("no message expected") end
    end)

    it("returns not_found for an unknown chat; raises on bad arguments", function()
      local p, err = client.messages:list(1)
      assert.is_nil(p)
      assert.equal("not_found", err.kind)
      assert.equal("chat_not_found", err.code)
      assert.has_error(function() for _ in client.messages:all(1) do end end)
      local function msg(f) local ok, m = pcall(f) assert.is_false(ok) return m end
      assert.matches("messages:list: chat_id must be a positive integer %(HelpCrunch's numeric "
        .. "chat id", msg(function() client.messages:list("abc") end))
      assert.matches('messages:list: unknown parameter "sort"',
        msg(function() client.messages:list(CHAT, { sort = "createdAt" }) end))
      assert.matches("messages:all: page_size must be an integer from 1 to 100",
        msg(function() client.messages:all(CHAT, { page_size = 0 }) end))
      assert.matches("messages:all: chat_id must be a positive integer",
        msg(function() client.messages:all() end))
    end)
  end)

  describe("send", function()
    it("posts a reply as an agent and updates the chat", function()
      local m = assert(client.messages:send { chat = "5215262", text = "Hello!", agent = 4188 })
      assert.equal("agent", m.from)
      assert.equal("message", m.type)
      assert.equal("Olena Kovalenko", m.agent.name)
      H.assert_integer(m.createdAt)
      assert.same({ chat = 5215262, text = "Hello!", agent = 4188, type = "message" },
        H.sent(mock, "/messages")[1].body)
      local chat = assert(client.chats:get(5215262))
      assert.equal("Hello!", chat.lastMessageText)
      assert.equal(m.id, chat.lastMessageId)
      assert.equal(m.id, assert(client.messages:list(5215262, { limit = 1 })).data[1].id)
    end)

    it("posts a private note and a customer's message", function()
      local note = assert(client.messages:send { chat = CHAT, text = "Lead synced",
                                                 private = true, agent = 4201 })
      assert.equal("private", note.type)
      assert.equal("superviser", note.agent.role)              -- the API's spelling, kept
      local c = assert(client.messages:send { chat = CHAT, text = "Still there?" })
      assert.equal("customer", c.from)
      assert.is_nil(c.agent)
      local bodies = H.sent(mock, "/messages")
      assert.same({ chat = CHAT, text = "Lead synced", agent = 4201, type = "private" },
        bodies[1].body)
      assert.same({ chat = CHAT, text = "Still there?", type = "message" }, bodies[2].body)
    end)

    it("sends markdownText; the API stores it as the text", function()
      local m = assert(client.messages:send { chat = CHAT, text = "Lead synced", agent = 4188,
                                              markdownText = "**Lead** synced" })
      assert.equal("**Lead** synced", m.text)
      assert.is_nil(m.markdownText)
    end)

    it("raises on bad fields before any request", function()
      local function msg(f) local ok, m = pcall(f) assert.is_false(ok) return m end
      assert.matches("messages:send: text is required",
        msg(function() client.messages:send { chat = CHAT } end))
      assert.matches("messages:send: chat is required",
        msg(function() client.messages:send { text = "x" } end))
      assert.matches("messages:send: text must be a non%-empty string",
        msg(function() client.messages:send { chat = CHAT, text = "" } end))
      assert.matches('messages:send: unknown field "txt" %(fields: agent, chat, markdownText, '
        .. "private, text%)", msg(function() client.messages:send { chat = CHAT, txt = "x" } end))
      assert.matches("messages:send: a private note is written by an agent",
        msg(function() client.messages:send { chat = CHAT, text = "x", private = true } end))
      assert.matches("messages:send: private must be true or false",
        msg(function() client.messages:send { chat = CHAT, text = "x", private = "yes" } end))
      assert.matches("messages:send: agent must be a positive integer %(HelpCrunch's numeric "
        .. "agent id", msg(function() client.messages:send { chat = CHAT, text = "x", agent = 1.5 } end))
      assert.same({}, H.requests(mock))
    end)

    it("returns the server's errors for an unknown chat or agent", function()
      local m, err = client.messages:send { chat = 1, text = "x" }
      assert.is_nil(m)
      assert.equal("not_found", err.kind)
      assert.equal("chat_not_found", err.code)
      assert.equal("Chat is missing", err.message)
      m, err = client.messages:send { chat = CHAT, text = "x", agent = 1 }
      assert.is_nil(m)
      assert.equal("entity_not_found", err.code)
      assert.equal("Agent not found", err.message)
    end)

    it("is not retried once it may have been applied", function()
      local retrying = H.client(mock, { max_retries = 3, clock = H.clock() })
      finally(function() retrying:close() end)
      mock:fault { kind = "500", method = "POST", path = "/v1/messages" }
      local m, err = retrying.messages:send { chat = CHAT, text = "once", agent = 4188 }
      assert.is_nil(m)
      assert.equal("outcome_unknown", err.code)
      assert.equal(1, #H.sent(mock, "/messages"))
      mock:fault { kind = "drop", method = "POST", path = "/v1/messages" }
      m, err = retrying.messages:send { chat = CHAT, text = "once", agent = 4188 }
      assert.is_nil(m)
      assert.equal("outcome_unknown", err.code)
      local _, text = mock:request("GET", "/_mock/chats/" .. CHAT)
      assert.equal(251, json.decode(text).messages)          -- the dropped one was applied, once
    end)
  end)
end)
