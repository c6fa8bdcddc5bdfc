--- Errors: every failure a request can meet (each error body shape of the
-- API for GET and for POST, redirects, refused connections, timeouts,
-- broken bodies) comes back as `nil, err` with the documented fields; every
-- programmer error raises before any request is sent.

local H = require "spec.helper"
local helpcrunch = require "helpcrunch"
local socket = require "socket"

local function assert_no_token(v)
  H.assert_no_secret(v, H.TOKEN)
end

-- The fields every request error carries, and its one-line tostring.
-- `status` may be nil (transport errors); `attempts` defaults to 1.
local function check_error(err, kind, status, code, method, path, attempts)
  assert.is_true(helpcrunch.is_error(err), "not an error object: " .. tostring(err))
  assert.equal(kind, err.kind)
  assert.equal(status, err.status)
  assert.equal(code, err.code)
  assert.equal(method, err.method)
  assert.equal(path, err.path)
  assert.equal(attempts or 1, err.attempts)
  assert.is_string(err.message)
  assert.is_true(#err.message > 0)
  assert.is_table(err.errors)
  local s = tostring(err)
  assert.falsy(s:find("[\r\n]"), "tostring(err) must be one line: " .. s)
  local head = "helpcrunch: " .. (status and (status .. " ") or "") .. code .. ": "
  assert.equal(head, s:sub(1, #head))
  assert.truthy(s:find(err.message, 1, true), s)
  assert.truthy(s:find("(" .. method .. " " .. path .. ")", 1, true), s)
  assert_no_token(err)
  assert_no_token(s)
end

local function codes_of(err)
  local codes = {}
  for i, e in ipairs(err.errors) do codes[i] = e.code end
  return codes
end

-- A loopback port nothing listens on.
local function closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

describe("request failures #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 300, seed = 7 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)

  before_each(function()
    mock:clear_faults()
    mock:clear_log()
  end)

  describe("400", function()
    after_each(function() mock:reset() end)

    it("list validation (GET shape, no generic entry): every entry kept", function()
      -- customers:list checks limit/sort/order itself, so the bad query goes
      -- through the client's own request pipeline (client:call) instead.
      local body, err = client:call("GET", "/customers", { query = "limit=500&sort=name&order=up" }):wait()
      assert.is_nil(body)
      check_error(err, "validation", 400, "validation_error", "GET", "/customers")
      assert.same({
        { code = "validation_error", message = "limit value is invalid" },
        { code = "validation_error", message = "sort value is invalid" },
        { code = "validation_error", message = "order value is invalid" },
      }, err.errors)
      assert.equal("limit value is invalid; sort value is invalid; order value is invalid",
        err.message)
      assert.equal(1, #mock:log())
    end)

    it("search validation (POST shape): code skips the generic invalid_request", function()
      local body, err = client:call("POST", "/customers/search", { idempotent = true,
        body = { filter = { { field = "customers.nickname", operator = "=", value = "x" } } } }):wait()
      assert.is_nil(body)
      check_error(err, "validation", 400, "filter[0].field", "POST", "/customers/search")
      assert.same({ "invalid_request", "filter[0].field" }, codes_of(err))
      assert.equal("Invalid request", err.errors[1].message)
    end)

    it("create validation: code is the first specific entry, errors holds all of them", function()
      -- Sent raw: customers:create raises on these wrong types before any request.
      local c, err = client:call("POST", "/customers", {
        body = { name = "typed", integrationId = 5, unsubscribed = "yes" } }):wait()
      assert.is_nil(c)
      check_error(err, "validation", 400, "integrationId", "POST", "/customers")
      assert.same({ "invalid_request", "integrationId", "unsubscribed" }, codes_of(err))
      assert.matches("type string", err.message)
      assert.equal(300, mock:count())
    end)

    it("create with a userId already taken: invalid_userId_value", function()
      assert(client.customers:create { name = "first", userId = "spec_dup" })
      local c, err = client.customers:create { name = "second", userId = "spec_dup" }
      assert.is_nil(c)
      check_error(err, "validation", 400, "invalid_userId_value", "POST", "/customers")
      assert.equal("invalid_request", err.errors[1].code)
      assert.equal(301, mock:count())
    end)
  end)

  describe("401", function()
    local guarded, intruder

    setup(function()
      guarded = H.mock { customers = 20, seed = 7, token = "right" }
      intruder = H.client(guarded)           -- sends H.TOKEN, not "right"
    end)

    teardown(function()
      if intruder then intruder:close() end
      if guarded then guarded:stop() end
    end)

    it("GET one: invalid_token", function()
      local c, err = intruder.customers:get(4994)
      assert.is_nil(c)
      check_error(err, "auth", 401, "invalid_token", "GET", "/customers/4994")
      assert.same({ { code = "invalid_token", message = "Invalid token" } }, err.errors)
      assert.equal("helpcrunch: 401 invalid_token: Invalid token (GET /customers/4994)",
        tostring(err))
    end)

    it("GET list: invalid_token", function()
      local page, err = intruder.customers:list { limit = 5 }
      assert.is_nil(page)
      check_error(err, "auth", 401, "invalid_token", "GET", "/customers")
    end)

    it("POST search: unauthorized, the generic entry kept in errors", function()
      local page, err = intruder.customers:search():where("id", "=", 4994):page {}
      assert.is_nil(page)
      check_error(err, "auth", 401, "unauthorized", "POST", "/customers/search")
      assert.same({ { code = "invalid_request", message = "Invalid request" },
                    { code = "unauthorized", message = "Unauthorized" } }, err.errors)
      assert.equal("Unauthorized", err.message)
    end)

    it("POST create: unauthorized, and nothing is created", function()
      local c, err = intruder.customers:create { name = "nope" }
      assert.is_nil(c)
      check_error(err, "auth", 401, "unauthorized", "POST", "/customers")
      assert.same({ "invalid_request", "unauthorized" }, codes_of(err))
      assert.equal(20, guarded:count())
    end)

    it("the right token is accepted by the same mock", function()
      local ok_client = H.client(guarded, { token = "right" })
      local c, err = ok_client.customers:get(4994)
      assert.is_nil(err)
      assert.equal(4994, c.id)
      ok_client:close()
    end)
  end)

  describe("404", function()
    it("entity_not_found, with the documented one-line tostring", function()
      local c, err = client.customers:get(5)
      assert.is_nil(c)
      check_error(err, "not_found", 404, "entity_not_found", "GET", "/customers/5")
      assert.equal("Customer not found", err.message)
      assert.same({ { code = "entity_not_found", message = "Customer not found" } }, err.errors)
      assert.equal("helpcrunch: 404 entity_not_found: Customer not found (GET /customers/5)",
        tostring(err))
    end)
  end)

  describe("429", function()
    it("GET: rate_limited, too_many_requests, Retry-After parsed", function()
      mock:fault { kind = "429", retry_after = 7 }
      local c, err = client.customers:get(4994)
      assert.is_nil(c)
      check_error(err, "rate_limited", 429, "too_many_requests", "GET", "/customers/4994")
      assert.equal(7, err.retry_after)
      assert.equal("You have exceeded your requests limit", err.message)
      assert.equal(1, #err.errors)
    end)

    it("POST search: the specific code, both entries in errors", function()
      mock:fault { kind = "429", retry_after = 3 }
      local page, err = client.customers:search():tagged("vip"):page {}
      assert.is_nil(page)
      check_error(err, "rate_limited", 429, "too_many_requests", "POST", "/customers/search")
      assert.same({ "invalid_request", "too_many_requests" }, codes_of(err))
      assert.equal("Too many requests", err.message)
      assert.equal(3, err.retry_after)
    end)

    it("POST create: rate_limited, not an unknown outcome", function()
      mock:fault { kind = "429", retry_after = 2 }
      local c, err = client.customers:create { name = "later" }
      assert.is_nil(c)
      check_error(err, "rate_limited", 429, "too_many_requests", "POST", "/customers")
      assert.equal(300, mock:count())
    end)

    it("without Retry-After: retry_after is nil", function()
      mock:fault { kind = "429", retry_after = "none" }
      local _, err = client.customers:list { limit = 1 }
      check_error(err, "rate_limited", 429, "too_many_requests", "GET", "/customers")
      assert.is_nil(err.retry_after)
    end)

    it("Retry-After as an HTTP date in the past: 0 seconds", function()
      mock:fault { kind = "429", retry_after = "Sun, 06 Nov 1994 08:49:37 GMT" }
      local _, err = client.customers:get(4994)
      check_error(err, "rate_limited", 429, "too_many_requests", "GET", "/customers/4994")
      assert.equal(0, err.retry_after)
    end)
  end)

  describe("5xx", function()
    after_each(function() mock:reset() end)

    it("500 with a JSON body: kind server, the body's code", function()
      mock:fault { kind = "500" }
      local c, err = client.customers:get(4994)
      assert.is_nil(c)
      check_error(err, "server", 500, "internal_error", "GET", "/customers/4994")
      assert.equal("Internal server error", err.message)
    end)

    it("500 on create: the outcome is unknown, the server's code kept as cause_code", function()
      mock:fault { kind = "500" }
      local c, err = client.customers:create { name = "maybe" }
      assert.is_nil(c)
      check_error(err, "server", 500, "outcome_unknown", "POST", "/customers")
      assert.equal("internal_error", err.cause_code)
      assert.matches("outcome unknown", err.message)
    end)

    it("502 with an HTML body: kind server, says the body is not JSON", function()
      mock:fault { kind = "502" }
      local page, err = client.customers:list { limit = 3 }
      assert.is_nil(page)
      check_error(err, "server", 502, "http_502", "GET", "/customers")
      assert.same({}, err.errors)
      assert.matches("not JSON", err.message)
      assert.matches("502 Bad Gateway", err.message)
    end)

    it("502 on search: kind server", function()
      mock:fault { kind = "502" }
      local page, err = client.customers:search():page {}
      assert.is_nil(page)
      check_error(err, "server", 502, "http_502", "POST", "/customers/search")
    end)

    it("counts attempts across retries", function()
      local retrying = H.client(mock, { max_retries = 1 })
      mock:fault { kind = "500", count = 2 }
      local c, err = retrying.customers:get(4994)
      assert.is_nil(c)
      check_error(err, "server", 500, "internal_error", "GET", "/customers/4994", 2)
      assert.matches("after 2 attempts$", tostring(err))
      assert.equal(2, #mock:log())
      retrying:close()
    end)
  end)

  describe("transport", function()
    local elsewhere

    setup(function()
      elsewhere = H.mock { customers = 10 }
    end)

    teardown(function()
      if elsewhere then elsewhere:stop() end
    end)

    after_each(function() mock:reset() end)

    it("a redirect is not followed: kind transport, code redirect", function()
      elsewhere:clear_log()
      local target = elsewhere.url .. "/customers/4994"
      mock:fault { kind = "redirect", location = target }
      local c, err = client.customers:get(4994)
      assert.is_nil(c)
      check_error(err, "transport", 302, "redirect", "GET", "/customers/4994")
      assert.truthy(err.message:find(target, 1, true), err.message)
      assert.equal(0, #elsewhere:log())
      assert.equal(0, elsewhere:stats().requests)
    end)

    it("a redirect to a URL holding the token: the message hides it", function()
      mock:fault { kind = "redirect", location = elsewhere.url .. "/customers?key=" .. H.TOKEN }
      local _, err = client.customers:list { limit = 1 }
      check_error(err, "transport", 302, "redirect", "GET", "/customers")
      assert.truthy(err.message:find("key=<token>", 1, true), err.message)
      assert.equal(0, elsewhere:stats().requests)
    end)

    it("a refused connection: kind transport, no status", function()
      local nowhere = H.client({ url = "http://127.0.0.1:" .. closed_port() .. "/v1" })
      local c, err = nowhere.customers:get(4994)
      assert.is_nil(c)
      check_error(err, "transport", nil, "couldnt_connect", "GET", "/customers/4994")
      nowhere:close()
    end)

    it("a response slower than timeout: kind timeout", function()
      local impatient = H.client(mock, { timeout = 0.5 })
      mock:fault { kind = "delay", delay_ms = 2000 }
      local c, err = impatient.customers:get(4994)
      assert.is_nil(c)
      check_error(err, "timeout", nil, "timeout", "GET", "/customers/4994")
      impatient:close()
    end)

    it("a create that times out is not retried and reports outcome_unknown", function()
      local impatient = H.client(mock, { timeout = 0.5, max_retries = 3 })
      mock:fault { kind = "delay", delay_ms = 2000, method = "POST" }
      local c, err = impatient.customers:create { name = "slow" }
      assert.is_nil(c)
      check_error(err, "timeout", nil, "outcome_unknown", "POST", "/customers")
      assert.equal("timeout", err.cause_code)
      assert.equal(1, #mock:log())
      impatient:close()
    end)

    it("a connection dropped without a reply: kind transport", function()
      -- a fresh client: on a reused connection libcurl itself replays the GET
      local fresh = H.client(mock)
      mock:fault { kind = "drop", before = true }
      local c, err = fresh.customers:get(4994)
      assert.is_nil(c)
      check_error(err, "transport", nil, "empty_reply", "GET", "/customers/4994")
      assert.equal(1, #mock:log())
      fresh:close()
    end)

    it("a create dropped after the server acted: outcome_unknown, sent once", function()
      mock:fault { kind = "drop", method = "POST" }
      local c, err = client.customers:create { name = "acted" }
      assert.is_nil(c)
      check_error(err, "transport", nil, "outcome_unknown", "POST", "/customers")
      assert.equal("empty_reply", err.cause_code)
      assert.equal(1, #mock:log())
      assert.equal(301, mock:count())            -- why the outcome is unknown
    end)

    it("a broken JSON body: kind decode, naming the byte", function()
      mock:fault { kind = "invalid_json" }
      local c, err = client.customers:get(8737843)
      assert.is_nil(c)
      check_error(err, "decode", 200, "invalid_json", "GET", "/customers/8737843")
      assert.is_number(err.offset)
      assert.truthy(err.message:find("byte " .. err.offset, 1, true), err.message)
    end)
  end)

  it("on_request events carry method, path and status, never the token", function()
    local events = {}
    local watched = H.client(mock, { on_request = function(e) events[#events + 1] = e end })
    assert(watched.customers:get(4994))
    assert.is_nil(watched.customers:get(5))
    mock:fault { kind = "500" }
    assert.is_nil(watched.customers:list { limit = 1 })
    assert.equal(3, #events)
    assert.same({ "GET", "/customers/4994", 200 }, { events[1].method, events[1].path, events[1].status })
    assert.same({ "GET", "/customers/5", 404 }, { events[2].method, events[2].path, events[2].status })
    assert.same({ "GET", "/customers", 500 }, { events[3].method, events[3].path, events[3].status })
    assert_no_token(events)
    watched:close()
  end)
end)

describe("programmer errors raise before any request #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 30, seed = 7 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)

  before_each(function()
    mock:clear_log()
  end)

  -- fn must raise a message holding every one of `wants` (plain text), and
  -- the mock must have received nothing.
  local function raises(fn, ...)
    local msg = H.raises_unsent(mock, fn, ...)
    assert_no_token(msg)
    return msg
  end

  describe("customers:get", function()
    it("a non-numeric id, or one that would change the path", function()
      raises(function() client.customers:get("abc") end, "customers:get", "id", "positive integer", '"abc"')
      raises(function() client.customers:get({}) end, "id", "a table")
      raises(function() client.customers:get("1/../admin") end, "id", '"1/../admin"')
      raises(function() client.customers:get("5?x=1") end, "id")
    end)

    it("a negative, zero or fractional id", function()
      raises(function() client.customers:get(-5) end, "id", "positive integer", "-5")
      raises(function() client.customers:get(0) end, "id", "positive integer", "got 0")
      raises(function() client.customers:get(1.5) end, "id", "positive integer", "1.5")
    end)

    it("a missing id", function()
      raises(function() client.customers:get() end, "id", "got nil")
      raises(function() client.customers:get(nil) end, "id", "got nil")
    end)

    it("points at the caller's line", function()
      local msg = raises(function() local c = client.customers:get("x"); return c end)
      assert.matches("^spec/errors_spec%.lua:%d+: ", msg)
    end)
  end)

  describe("customers:list", function()
    it('limit 0, 101, "10" or 1.5', function()
      raises(function() client.customers:list { limit = 0 } end, "limit", "1 to 100", "got 0")
      raises(function() client.customers:list { limit = 101 } end, "limit", "1 to 100", "101")
      raises(function() client.customers:list { limit = "10" } end, "limit", '"10"')
      raises(function() client.customers:list { limit = 1.5 } end, "limit", "1.5")
    end)

    it("a negative offset", function()
      raises(function() client.customers:list { offset = -1 } end, "offset", "at least 0", "-1")
    end)

    it('sort "name" and order "up", naming the valid values', function()
      raises(function() client.customers:list { sort = "name" } end,
        "sort", "firstSeen", "lastSeen", '"name"')
      raises(function() client.customers:list { order = "up" } end, "order", "asc", "desc", '"up"')
    end)

    it("an unknown parameter, naming the valid ones", function()
      raises(function() client.customers:list { page = 2 } end,
        "unknown parameter", '"page"', "limit, offset, order, sort")
    end)
  end)

  describe("helpcrunch.new", function()
    it("a missing token names HELPCRUNCH_API_KEY", function()
      if os.getenv("HELPCRUNCH_API_KEY") ~= nil then
        pending("HELPCRUNCH_API_KEY is set in this environment")
      end
      raises(function() helpcrunch.new { base_url = mock.url } end, "token", "HELPCRUNCH_API_KEY")
      raises(function() helpcrunch.new { base_url = mock.url, token = "" } end, "HELPCRUNCH_API_KEY")
    end)

    it("a token with a newline", function()
      raises(function() helpcrunch.new { base_url = mock.url, token = "abc\ndef0123456789" } end,
        "token", "control characters")
    end)

    it("an unknown option, or options of the wrong type", function()
      raises(function() helpcrunch.new { base_url = mock.url, token = H.TOKEN, tiemout = 5 } end,
        "unknown option", "tiemout")
      raises(function() helpcrunch.new { base_url = mock.url, token = H.TOKEN, timeout = "5" } end,
        "timeout", "number", "string")
      raises(function() helpcrunch.new { base_url = mock.url, token = 5 } end, "token", "string")
      raises(function() helpcrunch.new { base_url = mock.url, token = H.TOKEN, rate_limit = true } end,
        "rate_limit")
      raises(function() helpcrunch.new("token") end, "options must be a table")
    end)

    it("page_size 0 or 101", function()
      raises(function() helpcrunch.new { base_url = mock.url, token = H.TOKEN, page_size = 0 } end,
        "page_size", "1 to 100")
      raises(function() helpcrunch.new { base_url = mock.url, token = H.TOKEN, page_size = 101 } end,
        "page_size", "1 to 100")
    end)

    it("plain http to a host that is not loopback is refused, naming https", function()
      raises(function()
        helpcrunch.new { token = H.TOKEN, base_url = "http://api.example.invalid/v1" }
      end, "https", "api.example.invalid")
    end)

    it("plain http to loopback, or with allow_insecure_http, is accepted", function()
      local a = helpcrunch.new { token = H.TOKEN, base_url = mock.url, rate_limit = false }
      local b = helpcrunch.new { token = H.TOKEN, base_url = "http://api.example.invalid/v1",
                                 allow_insecure_http = true }
      assert.is_table(a.customers)
      assert.is_table(b.customers)
      a:close()
      b:close()
      assert.equal(0, #mock:log())
    end)
  end)

  describe("search:where", function()
    local q
    before_each(function() q = client.customers:search() end)

    it("an unknown field, listing the fields", function()
      raises(function() q:where("nickname", "=", "x") end,
        "search:where", "unknown field", '"nickname"', "email", "tagsData")
    end)

    it("< on a string field names the field, its type and its operators", function()
      raises(function() q:where("email", "<", "x") end,
        "'<'", "customers.email", "string field", "= != ~ !~")
    end)

    it("~ on id names the field, its type and its operators", function()
      raises(function() q:where("id", "~", 5) end,
        "'~'", "customers.id", "integer field", "= != > < >= <=")
    end)

    it("!= on tagsData names the field, its type and its operators", function()
      raises(function() q:where("tagsData", "!=", "Lead") end,
        "'!='", "customers.tagsData", "array field", "takes: =")
    end)

    it('a date given as "18 June 2020" names the field and its type', function()
      raises(function() q:where("lastSeen", ">=", "18 June 2020") end,
        "customers.lastSeen", "date field", "UNIX timestamp", '"18 June 2020"')
      raises(function() q:where("createdAt", "<", "2020-06-18") end,
        "customers.createdAt", "date field")
    end)

    it("a value of the wrong type: the message points at the caller's line", function()
      local msg = raises(function() local r = q:where("id", "=", "abc"); return r end)
      assert.matches("^spec/errors_spec%.lua:%d+: ", msg)
    end)
  end)

  describe("customers:create", function()
    it("an id given", function()
      raises(function() client.customers:create { id = 5, name = "x" } end, "id", "userId")
    end)

    it("customData that is not a table", function()
      raises(function() client.customers:create { customData = "plan=pro" } end,
        "customData", "table", '"plan=pro"')
    end)

    it("tags of the wrong shape", function()
      raises(function() client.customers:create { tags = "vip" } end, "tags", '"vip"')
      raises(function() client.customers:create { tags = { 5 } } end, "tags[1]", "got 5")
      raises(function() client.customers:create { tags = { { name = "x", color = 5 } } } end,
        "tags[1].color")
    end)

    it("a date that is not a timestamp and a name that is not a string", function()
      raises(function() client.customers:create { firstSeen = "18 June 2020" } end,
        "firstSeen", "UNIX timestamp")
      raises(function() client.customers:create { name = 5 } end, "name", "string")
    end)
  end)

  it("a dot instead of a colon gets a message about the colon", function()
    raises(function() client.customers.get(5) end, "client.customers:get", "colon")
    raises(function() client.customers.list { limit = 5 } end, "client.customers:list", "colon")
    local q = client.customers:search()
    raises(function() q.where("email", "~", "x") end, "query:where", "colon")
  end)
end)
