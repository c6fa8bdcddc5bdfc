--- helpcrunch.webhook: verify, parse and sign (the test vector of
-- API-REFERENCE.md §6.1, good/bad/missing/malformed signatures, a tampered
-- body, argument errors, every event kind), and the round trip: the mock sends
-- signed webhooks for its customer events to a LuaSocket receiver in this
-- process, which verifies them.

local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local socket = require "socket"

local webhook = helpcrunch.webhook
local NULL = require("helpcrunch.mock.json").null

-- API-REFERENCE.md §6.1 (computed there, not from the docs).
local VECTOR_KEY = "test-signing-key"
local VECTOR_BODY = '{"event":"chat.new","eventData":{"chat_id":5224081},"attempts":0,' ..
  '"lastAttemptAt":1638953588,"createdAt":1638953588,"id":"73499e69-285c-44c3-8431-a843ed08183d"}'
local VECTOR_SIG = "a2e9c510dd341779d14ab520d373662e245323b2"

local SECRET = "whsec-spec-0123456789"

local function envelope(event, data)
  return '{"event":"' .. event .. '","eventData":' .. data .. ',"attempts":0,' ..
    '"lastAttemptAt":1638953588,"createdAt":1638953588,"id":"73499e69-285c-44c3-8431-a843ed08183d"}'
end

describe("helpcrunch.webhook #mock", function()
  describe("verify", function()
    it("accepts the reference's test vector, in any case of hex", function()
      assert.equal(159, #VECTOR_BODY)
      assert.is_true(webhook.verify(VECTOR_BODY, VECTOR_SIG, VECTOR_KEY))
      assert.is_true(webhook.verify(VECTOR_BODY, VECTOR_SIG:upper(), VECTOR_KEY))
      assert.equal("libcrypto", webhook.implementation())
    end)

    it("refuses a tampered body: one space changes the HMAC", function()
      local spaced = "{ " .. VECTOR_BODY:sub(2)
      assert.equal("82b6a6b1ed7d1e297e94ed1095d9ee28ea161543", webhook.sign(spaced, VECTOR_KEY))
      local ok, why = webhook.verify(spaced, VECTOR_SIG, VECTOR_KEY)
      assert.is_false(ok)
      assert.matches("mismatch", why)
      ok = webhook.verify(VECTOR_BODY:gsub("5224081", "5224082"), VECTOR_SIG, VECTOR_KEY)
      assert.is_false(ok)
    end)

    it("refuses a wrong secret and a wrong signature", function()
      assert.is_false((webhook.verify(VECTOR_BODY, VECTOR_SIG, "other-key")))
      local flipped = VECTOR_SIG:sub(1, 39) .. (VECTOR_SIG:sub(40) == "2" and "3" or "2")
      local ok, why = webhook.verify(VECTOR_BODY, flipped, VECTOR_KEY)
      assert.is_false(ok)
      assert.matches("mismatch", why)
    end)

    it("a missing, empty or malformed signature is false with a reason", function()
      for _, sig in ipairs { false, "" } do
        local ok, why = webhook.verify(VECTOR_BODY, sig or nil, VECTOR_KEY)
        assert.is_false(ok)
        assert.matches("missing signature", why)
      end
      for _, sig in ipairs { VECTOR_SIG:sub(2), VECTOR_SIG .. "0", ("z"):rep(40),
                             "sha1=" .. VECTOR_SIG, " " .. VECTOR_SIG:sub(2) } do
        local ok, why = webhook.verify(VECTOR_BODY, sig, VECTOR_KEY)
        assert.is_false(ok, sig)
        assert.matches("malformed", why)
      end
    end)

    it("raises on arguments of the wrong type and on an empty secret, never showing it", function()
      local function raises(fn, want)
        local ok, err = pcall(fn)
        assert.is_false(ok)
        assert.truthy(tostring(err):find(want, 1, true), tostring(err))
        assert.falsy(tostring(err):find(VECTOR_KEY, 1, true))
        return tostring(err)
      end
      for _, f in ipairs { "verify", "parse" } do
        local name = "helpcrunch.webhook." .. f
        raises(function() webhook[f](nil, VECTOR_SIG, VECTOR_KEY) end, name .. ": raw_body must be a string")
        raises(function() webhook[f]({}, VECTOR_SIG, VECTOR_KEY) end, "raw_body")
        raises(function() webhook[f](VECTOR_BODY, VECTOR_SIG, nil) end, "secret must be a non-empty string")
        raises(function() webhook[f](VECTOR_BODY, VECTOR_SIG, "") end, "an empty string")
        raises(function() webhook[f](VECTOR_BODY, VECTOR_SIG, 42) end, "secret")
        raises(function() webhook[f](VECTOR_BODY, 42, VECTOR_KEY) end, "signature must be")
        raises(function() webhook[f](VECTOR_BODY, { VECTOR_SIG }, VECTOR_KEY) end, "signature")
      end
      raises(function() webhook.sign(VECTOR_BODY, "") end, "helpcrunch.webhook.sign: secret")
      local msg = raises(function() webhook.verify(VECTOR_BODY, 1, VECTOR_KEY) end, "signature")
      assert.matches("^spec/webhook_spec%.lua:%d+: ", msg)
    end)
  end)

  it("garbage in any argument: false/nil with a reason, or a clear error", function()
    local GARBAGE = { false, 0, 0 / 0, "", "\0", ("\255"):rep(40), ("a"):rep(40), ("A"):rep(40),
      string.rep("x", 100000), {}, print, coroutine.create(function() end), io.stdout, helpcrunch.null }
    for _, f in ipairs { "verify", "parse", "sign" } do
      for pos = 1, 3 do
        for gi, g in ipairs(GARBAGE) do
          local args = { VECTOR_BODY, VECTOR_SIG, VECTOR_KEY }
          if f == "sign" then args = { VECTOR_BODY, VECTOR_KEY } end
          if pos <= #args then
            args[pos] = g
            local ok, a, b = pcall(webhook[f], args[1], args[2], args[3])
            local where = f .. " arg " .. pos .. " garbage " .. gi
            if ok then
              assert.truthy(a == false or a == true or type(a) == "string"
                or (a == nil and helpcrunch.is_error(b)) or type(a) == "table", where)
            else
              assert.truthy(tostring(a):find("helpcrunch.webhook." .. f, 1, true), where .. ": " .. tostring(a))
            end
          end
        end
      end
    end
  end)

  describe("parse", function()
    local function parsed(body)
      local event, err = webhook.parse(body, webhook.sign(body, SECRET), SECRET)
      assert.is_nil(err)
      return event
    end

    it("each customer event: the short customer, normalised", function()
      for _, name in ipairs { "customer.new", "customer.email_updated", "customer.tags_changed",
                              "customer.unsubscribed", "customer.subscribed", "customer.blocked",
                              "customer.unblocked", "customer.deleted" } do
        local e = parsed(envelope(name, '{"id":8745474,"name":"Paul","userId":"ex_9106",' ..
          '"email":null,"unsubscribed":false,"customData":[{"property":"plan","value":"pro"}]}'))
        assert.equal(name, e.event)
        assert.equal("73499e69-285c-44c3-8431-a843ed08183d", e.id)
        assert.equal(0, e.attempts)
        assert.equal(1638953588, e.createdAt)
        assert.equal(1638953588, e.lastAttemptAt)
        assert.equal(8745474, e.eventData.id)
        assert.is_nil(e.eventData.email)                          -- null is absent
        assert.same({ plan = "pro" }, e.eventData.customData)    -- the list form made a map
        if math.type then assert.equal("integer", math.type(e.eventData.id)) end
      end
    end)

    it("chat and message events: eventData as sent, its customer normalised", function()
      for _, name in ipairs { "chat.new", "chat.status_updated", "chat.assigned", "chat.snoozed",
                              "chat.unsnoozed", "chat.closed", "chat.rated" } do
        local e = parsed(envelope(name, '{"chat_id":5224081,"status":"closed",' ..
          '"snoozedUntil":"1606155714.000","communicatedAgents":[3,4],' ..
          '"customer":{"id":8745474,"name":"Paul","customData":[{"property":"a","value":1}]}}'))
        assert.equal(name, e.event)
        assert.equal(5224081, e.eventData.chat_id)
        assert.equal("1606155714.000", e.eventData.snoozedUntil)
        assert.same({ 3, 4 }, e.eventData.communicatedAgents)
        assert.same({ a = 1 }, e.eventData.customer.customData)
      end
      for _, name in ipairs { "message.chat.customer", "message.email.customer", "message.private",
                              "message.chat.agent", "message.email.agent" } do
        local e = parsed(envelope(name, '{"chat_id":5224081,"agent":null,' ..
          '"customer":{"id":8745474,"name":"Paul","email":"paul@example.com","userId":"ex_9106"},' ..
          '"message":{"id":38488,"text":"Thanks!","createdAt":"1638953586.915"}}'))
        assert.equal(name, e.event)
        assert.equal("Thanks!", e.eventData.message.text)
        assert.is_nil(e.eventData.agent)
        assert.equal("ex_9106", e.eventData.customer.userId)
      end
    end)

    it("an eventData sent as a JSON string is decoded; escapes as PHP writes them", function()
      local e = parsed(envelope("customer.new", [["{\"id\":7,\"name\":\"Zo\\u00eb\"}"]]))
      assert.same({ id = 7, name = "Zoë" }, e.eventData)
      e = parsed(envelope("customer.new", [[{"id":7,"name":"a\/b \ud83e\udd8a"}]]))
      assert.equal("a/b 🦊", e.eventData.name)
    end)

    it("a bad signature: nil, err{kind = webhook, code = bad_signature}", function()
      local body = envelope("customer.new", '{"id":1}')
      for _, sig in ipairs { false, webhook.sign(body, "wrong"), "nothex" } do
        local e, err = webhook.parse(body, sig or nil, SECRET)
        assert.is_nil(e)
        assert.equal("webhook", err.kind)
        assert.equal("bad_signature", err.code)
        assert.is_true(helpcrunch.is_error(err))
        assert.falsy(tostring(err):find(SECRET, 1, true))
      end
      local e, err = webhook.parse(body .. " ", webhook.sign(body, SECRET), SECRET)   -- tampered
      assert.is_nil(e)
      assert.equal("bad_signature", err.code)
    end)

    it("a body that is not a JSON object: nil, err{code = not_json}", function()
      for _, body in ipairs { "Ok", "", '{"event":', '"Ok"', "[1,2]", "null", "42" } do
        local e, err = webhook.parse(body, webhook.sign(body, SECRET), SECRET)
        assert.is_nil(e, body)
        assert.equal("webhook", err.kind, body)
        assert.equal("not_json", err.code, body)
      end
    end)
  end)

  describe("round trip: the mock's signed deliveries", function()
    local mock, client, server, url
    local start, stop = H.serve({ customers = 20, seed = 11 }, nil,
      function(m, c) mock, client = m, c end)
    setup(function()
      start()
      server = assert(socket.bind("127.0.0.1", 0))
      server:settimeout(10)
      local _, port = server:getsockname()
      url = "http://127.0.0.1:" .. port .. "/hooks/helpcrunch"
    end)
    teardown(function()
      server:close()
      stop()
    end)
    before_each(function()
      mock:reset()
      mock:webhooks { url = url, secret = SECRET, retry_ms = 20 }
    end)

    -- Accept one delivery, answer `status`, return what arrived.
    local function receive(status)
      local conn = assert(server:accept(), "no webhook delivery arrived")
      conn:settimeout(10)
      local got = { headers = {} }
      got.method, got.path = assert(conn:receive("*l")):match("^(%u+) (%S+) HTTP/1%.1$")
      while true do
        local line = assert(conn:receive("*l"))
        if line == "" then break end
        local k, v = line:match("^([^:]+):%s*(.-)%s*$")
        got.headers[k:lower()] = v
      end
      got.body = assert(conn:receive(tonumber(got.headers["content-length"])))
      conn:send("HTTP/1.1 " .. (status or 200) .. " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
      conn:close()
      got.event = webhook.parse(got.body, got.headers["x-helpcrunch-signature"], SECRET)
      return got
    end

    -- Wait until the mock has logged n delivery attempts (it reads our answers
    -- asynchronously); returns them.
    local function deliveries(n)
      for _ = 1, 500 do
        local list = mock:webhooks().deliveries
        if #list >= n then return list end
        socket.sleep(0.01)
      end
      error("the mock logged fewer than " .. n .. " deliveries")
    end

    it("POSTs a signed envelope the receiver verifies", function()
      local c = assert(client.customers:create { name = "Zoë / Hook", userId = "hook-1",
                                                 customData = { site = "https://example.com/x" } })
      local got = receive(200)
      assert.equal("POST", got.method)
      assert.equal("/hooks/helpcrunch", got.path)
      assert.equal("application/json", got.headers["content-type"])
      assert.equal("application/json", got.headers.accept)
      assert.matches("^%x+$", got.headers["x-helpcrunch-signature"])
      assert.equal(40, #got.headers["x-helpcrunch-signature"])
      assert.is_true(webhook.verify(got.body, got.headers["x-helpcrunch-signature"], SECRET))
      assert.is_false((webhook.verify(got.body, got.headers["x-helpcrunch-signature"], "wrong")))
      -- written like the PHP sender: escaped slashes and \u escapes, envelope in order
      assert.truthy(got.body:find("Zo\\u00eb \\/ Hook", 1, true), got.body)
      assert.truthy(got.body:find("https:\\/\\/example.com\\/x", 1, true), got.body)
      assert.matches('^{"event":"customer%.new","eventData":{.*},"attempts":0,"lastAttemptAt":%d+,' ..
        '"createdAt":%d+,"id":"[%x%-]+"}$', got.body)
      local e = got.event
      assert.equal("customer.new", e.event)
      assert.same({ id = c.id, name = "Zoë / Hook", userId = "hook-1", unsubscribed = false,
                    customData = { site = "https://example.com/x" } }, e.eventData)
      local list = deliveries(1)
      assert.equal(200, list[1].status)
      assert.equal(e.id, list[1].id)
      assert.equal(got.body, list[1].body)
    end)

    it("sends each customer event kind the API calls fire", function()
      local c = assert(client.customers:create { name = "K", email = "k@example.com" })
      local expect = { "customer.new" }
      assert(client.customers:update(c.id, { email = "k2@example.com", unsubscribed = true }))
      expect[#expect + 1] = "customer.email_updated"
      expect[#expect + 1] = "customer.unsubscribed"
      assert(client.customers:update(c.id, { phone = "+1" }))           -- fires nothing
      assert(client.customers:replace(c.id, { name = "K", blocked = true, unsubscribed = false }))
      expect[#expect + 1] = "customer.email_updated"                     -- cleared to null
      expect[#expect + 1] = "customer.subscribed"
      expect[#expect + 1] = "customer.blocked"
      assert(client.customers:add_tags(c.id, { "hooked" }))
      expect[#expect + 1] = "customer.tags_changed"
      client.customers:update_many { { id = c.id, blocked = false } }
      expect[#expect + 1] = "customer.unblocked"
      assert(client.customers:remove_tags(c.id, { "hooked" }))         -- the last tag goes
      expect[#expect + 1] = "customer.tags_changed"
      assert(client.customers:delete(c.id))
      expect[#expect + 1] = "customer.deleted"
      local names, last
      names = {}
      for i = 1, #expect do
        local got = receive(200)
        assert.is_table(got.event, "delivery " .. i .. " did not verify")
        names[i] = got.event.event
        assert.equal(c.id, got.event.eventData.id)
        last = got.event
      end
      assert.same(expect, names)
      assert.equal("K", last.eventData.name)                            -- the customer as it was
      assert.is_nil(last.eventData.email)
      local ids = {}
      for _, d in ipairs(deliveries(#expect)) do
        assert.equal(200, d.status)
        assert.is_nil(ids[d.id], "two events with one id")
        ids[d.id] = true
      end
    end)

    it("tries again after a failure: same id, attempts counted, signed anew", function()
      mock:request("POST", "/_mock/webhooks/send", { event = "chat.new", eventData = { chat_id = 5224081 } })
      local first = receive(500)
      local second = receive(200)
      assert.equal(first.event.id, second.event.id)
      assert.equal(0, first.event.attempts)
      assert.equal(1, second.event.attempts)
      assert.equal(5224081, second.event.eventData.chat_id)
      local list = deliveries(2)
      assert.equal(500, list[1].status)
      assert.equal(0, list[1].attempt)
      assert.equal(200, list[2].status)
      assert.equal(1, list[2].attempt)
    end)

    it("gives up after max_attempts; a refused connection counts as a failure", function()
      local closed = assert(socket.bind("127.0.0.1", 0))
      local _, port = closed:getsockname()
      closed:close()                                                    -- nothing listens there
      mock:webhooks { url = "http://127.0.0.1:" .. port .. "/h", secret = SECRET,
                      max_attempts = 2, retry_ms = 10 }
      assert(client.customers:create { name = "nobody home" })
      local list = deliveries(2)
      for _, d in ipairs(list) do
        assert.equal(NULL, d.status)
        assert.matches("refused", d.error)
      end
      local view = mock:webhooks()
      assert.equal(0, view.pending)                                     -- given up
      assert.equal(2, #view.deliveries)
    end)

    it("sends only the subscribed events", function()
      mock:webhooks { url = url, secret = SECRET, events = { "customer.deleted" } }
      local c = assert(client.customers:create { name = "quiet" })
      assert(client.customers:update(c.id, { email = "q@example.com" }))
      assert(client.customers:delete(c.id))
      local got = receive(200)
      assert.equal("customer.deleted", got.event.event)
      assert.equal(1, #deliveries(1))
    end)
  end)
end)
