--- events:track over real HTTP against the bundled mock: the exact body sent,
-- the userId/email forms (resolved first), not found, validation, the retry
-- rule (an event is never recorded twice). mock:events() lists what the mock
-- recorded; mock:log() what was sent.

local H = require "spec.helper"
local helpcrunch = require "helpcrunch"

describe("events:track #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 20, seed = 5 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)
  before_each(function() mock:reset() end)

  local function raises(fn, ...) return H.raises_unsent(mock, fn, ...) end

  it("sends exactly {name, data, customer = <integer id>} and returns true", function()
    local ok, err = client.events:track { customer = 4994, name = "Button Click",
                                          data = { button = "Start trial", clicks = 2 } }
    assert.is_nil(err)
    assert.is_true(ok)
    local req = mock:log()[1]
    assert.equal("POST", req.method)
    assert.equal("/v1/events", req.path)
    assert.same({ name = "Button Click", data = { button = "Start trial", clicks = 2 },
                  customer = 4994 }, req.body)
    assert.truthy(req.raw_body:find('"customer":4994', 1, true), req.raw_body)
    local events = mock:events()
    assert.equal(1, #events)
    assert.equal(4994, events[1].customer)
    assert.same({ button = "Start trial", clicks = 2 }, events[1].data)
  end)

  it("takes the id as a string of digits, sent as an integer", function()
    assert.is_true(client.events:track { customer = "265555", name = "x", data = { a = true } })
    assert.truthy(mock:log()[1].raw_body:find('"customer":265555', 1, true))
  end)

  it("resolves {userId=} and {email=} to the id first", function()
    local c = assert(client.customers:create { name = "E", userId = "ev-1", email = "ev@example.com" })
    mock:clear_log()
    assert.is_true(client.events:track { customer = { userId = "ev-1" }, name = "signup",
                                         data = { plan = "pro" } })
    assert.is_true(client.events:track { customer = { email = "ev@example.com" }, name = "login",
                                         data = { n = 1 } })
    local log = mock:log()
    assert.equal(4, #log)
    assert.equal("/v1/customers/search", log[1].path)
    assert.same({ { field = "customers.userId", operator = "=", value = "ev-1" } }, log[1].body.filter)
    assert.same({ name = "signup", data = { plan = "pro" }, customer = c.id }, log[2].body)
    assert.same({ { field = "customers.email", operator = "=", value = "ev@example.com" } },
      log[3].body.filter)
    assert.equal(c.id, log[4].body.customer)
  end)

  it("no customer with that userId or email: not_found, and no event is sent", function()
    for _, who in ipairs { { userId = "nobody" }, { email = "nobody@example.com" } } do
      mock:clear_log()
      local ok, err = client.events:track { customer = who, name = "x", data = { a = 1 } }
      assert.is_nil(ok)
      assert.equal("not_found", err.kind)
      assert.equal("entity_not_found", err.code)
      assert.truthy(tostring(err):find("no customer has", 1, true))
      assert.equal(1, #mock:log())                          -- the search only
    end
    assert.equal(0, #mock:events())
  end)

  it("an unknown id: the server's 404", function()
    local ok, err = client.events:track { customer = 999999, name = "x", data = { a = 1 } }
    assert.is_nil(ok)
    assert.equal("not_found", err.kind)
    assert.equal(404, err.status)
    assert.equal("entity_not_found", err.code)
    assert.equal("POST", err.method)
    assert.equal("/events", err.path)
  end)

  it("a failed lookup: nil, err (the lookup's)", function()
    mock:fault { kind = "500", path = "/v1/customers/search" }
    local ok, err = client.events:track { customer = { userId = "x" }, name = "x", data = { a = 1 } }
    assert.is_nil(ok)
    assert.equal("server", err.kind)
    assert.equal("/customers/search", err.path)
  end)

  it("helpcrunch.null in data is sent as null", function()
    assert(client.events:track { customer = 4994, name = "x", data = { a = 1, b = helpcrunch.null } })
    assert.truthy(mock:log()[1].raw_body:find('"b":null', 1, true))
  end)

  it("a dropped response: outcome_unknown, recorded once, never sent again", function()
    local retrying = H.client(mock, { max_retries = 3 })
    mock:fault { kind = "drop", path = "/v1/events" }
    local ok, err = retrying.events:track { customer = 4994, name = "once", data = { a = 1 } }
    retrying:close()
    assert.is_nil(ok)
    assert.equal("outcome_unknown", err.code)
    assert.equal(1, #mock:log())
    assert.equal(1, #mock:events())
  end)

  it("a 5xx: outcome_unknown, not retried; a 429: retried, recorded once", function()
    local retrying = H.client(mock, { max_retries = 2, clock = H.clock() })
    mock:fault { kind = "502", path = "/v1/events" }
    local ok, err = retrying.events:track { customer = 4994, name = "x", data = { a = 1 } }
    assert.is_nil(ok)
    assert.equal("outcome_unknown", err.code)
    assert.equal(1, #mock:log())
    mock:clear_log()
    mock:fault { kind = "429", path = "/v1/events", retry_after = 2 }
    assert.is_true(retrying.events:track { customer = 4994, name = "y", data = { a = 1 } })
    assert.equal(2, #mock:log())
    assert.equal(1, #mock:events())
    retrying:close()
  end)

  describe("programmer errors raise before any request", function()
    local function track(args) return function() client.events:track(args) end end

    it("name", function()
      raises(track { customer = 1, data = { a = 1 } }, "events:track: name must be a non-empty string")
      raises(track { customer = 1, name = "", data = { a = 1 } }, "name")
      raises(track { customer = 1, name = 5, data = { a = 1 } }, "name", "got 5")
    end)

    it("data: a flat, non-empty map", function()
      raises(track { customer = 1, name = "x" }, "data must be a table")
      raises(track { customer = 1, name = "x", data = {} }, "data is empty")
      raises(track { customer = 1, name = "x", data = "a=1" }, "data must be a table", '"a=1"')
      raises(track { customer = 1, name = "x", data = { a = { b = 1 } } }, "data.a", "flat object")
      raises(track { customer = 1, name = "x", data = { "list" } }, "data keys must be non-empty strings")
    end)

    it("customer", function()
      raises(track { name = "x", data = { a = 1 } }, "customer must be a positive integer", "got nil")
      raises(track { customer = 0, name = "x", data = { a = 1 } }, "customer", "positive integer")
      raises(track { customer = "abc", name = "x", data = { a = 1 } }, "customer")
      raises(track { customer = { id = 5 }, name = "x", data = { a = 1 } }, "userId", "email")
      raises(track { customer = { userId = "" }, name = "x", data = { a = 1 } }, "non-empty string")
      raises(track { customer = { userId = "a", email = "b" }, name = "x", data = { a = 1 } }, "customer must be")
      raises(track { customer = {}, name = "x", data = { a = 1 } }, "customer must be")
    end)

    it("unknown parameters, no table, a dot", function()
      raises(track { customer = 1, name = "x", data = { a = 1 }, when = 5 }, 'unknown parameter "when"')
      raises(function() client.events:track "signup" end, "expected a table")
      raises(function() client.events.track { customer = 1 } end, "client.events:track", "colon")
      local msg = raises(track { customer = 1, name = "x" })
      assert.matches("^spec/events_spec%.lua:%d+: ", msg)
    end)
  end)
end)
