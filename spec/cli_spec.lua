--- The `helpcrunch` binary: --help for every command, exit statuses (0 done,
-- 1 failed, 2 usage), the token (from the environment or --token-file, never
-- printed), get, count, tag, delete, event, mock, --rate and --redis.

local H = require "spec.helper"
local cli = require "spec.support.cli"
local helpcrunch = require "helpcrunch"
local socket = require "socket"

local COMMANDS = { "export", "import", "get", "count", "tag", "delete", "event" }

describe("helpcrunch (usage) #unit", function()
  it("prints help for the command and every subcommand, exit 0", function()
    local r = cli.run(nil, { "--help" })
    assert.equal(0, r.code)
    for _, c in ipairs(COMMANDS) do assert.matches("\n   " .. c .. " ", r.out) end
    assert.matches("HELPCRUNCH_API_KEY", r.out)
    for _, c in ipairs(COMMANDS) do
      r = cli.run(nil, { c, "--help" })
      assert.equal(0, r.code, c)
      assert.matches("^Usage: helpcrunch " .. c, r.out)
      assert.matches("%-%-token%-file", r.out)
      assert.matches("%-%-rate", r.out)
    end
    r = cli.run(nil, { "mock", "--help" })
    assert.equal(0, r.code)
    assert.matches("usage: helpcrunch%-mock", r.out)
  end)

  local USAGE = {
    { {}, "command" },
    { { "exprt" }, "Did you mean 'export'" },
    { { "export", "--format", "xml" }, "argument for option '%-%-format'" },
    { { "export", "--bogus" }, "unknown option '%-%-bogus'" },
    { { "export", "--max", "lots" }, "must be an integer >= 0" },
    { { "export", "--where", "emial~x" }, "unknown field \"emial\"" },
    { { "export", "--where", "email" }, "'FIELD OP VALUE'" },
    { { "export", "--where", "lastSeen~x" }, "does not apply to customers.lastSeen" },
    { { "export", "--sort", "name" }, "sort must be \"firstSeen\" or \"lastSeen\"" },
    { { "export", "--resume" }, "%-%-resume needs %-o FILE" },
    { { "export", "--columns", "id" }, "%-%-columns is for %-%-format csv" },
    { { "export", "--format", "csv", "--columns", "id,emial" }, "unknown column \"emial\"" },
    { { "export", "--rate", "fast" }, "%-%-rate must be N/SECONDS" },
    { { "export", "--redis", "http://x" }, "%-%-redis must look like redis://" },
    { { "count", "--any" }, "%-%-any needs %-%-where or %-%-tag" },
    { { "get" }, "give one of: ID, %-%-user%-id, %-%-email" },
    { { "get", "abc" }, "numeric customer id" },
    { { "tag", "5" }, "missing argument 'names'" },
    { { "delete", "5" }, "pass %-%-yes" },
    { { "event", "signup", "--customer", "5" }, "give the event's data" },
    { { "event", "signup", "plan=pro" }, "give one of: %-%-customer" },
    { { "event", "signup", "--customer", "5", "--data", "[1]" }, "must be a JSON object" },
  }
  for _, case in ipairs(USAGE) do
    it("exits 2 on: helpcrunch " .. table.concat(case[1], " "), function()
      local r = cli.run({ url = "http://127.0.0.1:9/v1" }, case[1])
      assert.equal(2, r.code, r.err)
      assert.matches(case[2], r.err)
      assert.equal("", r.out)
    end)
  end

  it("needs a token: HELPCRUNCH_API_KEY or --token-file, never a flag", function()
    local r = cli.run(nil, { "count" }, { env = { HELPCRUNCH_API_KEY = false } })
    assert.equal(2, r.code)
    assert.matches("no API token: set HELPCRUNCH_API_KEY or pass %-%-token%-file", r.err)
    r = cli.run(nil, { "count", "--token", "x" })
    assert.equal(2, r.code)
    assert.matches("unknown option '%-%-token'", r.err)
    r = cli.run(nil, { "count", "--token-file", "/nonexistent/token" })
    assert.equal(2, r.code)
    assert.matches("cannot read", r.err)
  end)
end)

describe("helpcrunch (commands) #mock", function()
  local mock, client, dir
  local start, stop, each, after = cli.session({ customers = 40, seed = 6, token = H.TOKEN },
    function(m, c, d) mock, client, dir = m, c, d end)
  lazy_setup(start) lazy_teardown(stop) before_each(each) after_each(after)

  it("reads the token from --token-file and never prints one", function()
    local path = dir .. "/token"
    local f = assert(io.open(path, "wb"))
    f:write("  ", H.TOKEN, "  \n")
    f:close()
    local r = cli.run(mock, { "count", "--token-file", path }, { env = { HELPCRUNCH_API_KEY = false } })
    assert.equal(0, r.code, r.err)
    assert.equal("40\n", r.out)
    -- a token the server refuses: exit 1, and the token is nowhere in the output
    local wrong = "wrong-token-abcdefghijklmnop"
    for _, args in ipairs { { "count" }, { "export" }, { "get", "1" }, { "delete", "--yes", "1" } } do
      r = cli.run(mock, args, { env = { HELPCRUNCH_API_KEY = wrong } })
      assert.equal(1, r.code, r.err)
      assert.matches("401", r.err)
      assert.is_nil(r.err:find(wrong, 1, true))
      assert.is_nil(r.out:find(wrong, 1, true))
      assert.is_nil(r.err:find(wrong:sub(1, 12), 1, true))
    end
  end)

  it("get ID | --user-id | --email prints the customer as JSON; a missing one exits 1", function()
    local first = client.customers:list { limit = 1 }.data[1]
    local r = cli.run(mock, { "get", tostring(first.id) })
    assert.equal(0, r.code, r.err)
    assert.same(first, assert(helpcrunch.decode(r.out)))
    local c = assert(client.customers:create { name = "Ada", userId = "crm-1815", email = "ada@example.com" })
    r = cli.run(mock, { "get", "--user-id", "crm-1815" })
    assert.equal(0, r.code, r.err)
    assert.equal(c.id, helpcrunch.decode(r.out).id)
    r = cli.run(mock, { "get", "--email", "ada@example.com" })
    assert.equal(c.id, helpcrunch.decode(r.out).id)
    r = cli.run(mock, { "get", "999999999" })
    assert.equal(1, r.code)
    assert.matches("404", r.err)
    r = cli.run(mock, { "get", "--user-id", "nobody" })
    assert.equal(1, r.code)
    assert.matches("no customer has userId nobody", r.err)
  end)

  it("count prints how many customers there are, or match the filters", function()
    local r = cli.run(mock, { "count" })
    assert.equal(0, r.code, r.err)
    assert.equal(tostring(mock:count()) .. "\n", r.out)
    local want = client.customers:search():where("email", "~", "example"):count()
    r = cli.run(mock, { "count", "--where", "email ~ example" })
    assert.equal(want .. "\n", r.out)
    want = client.customers:search():any():where("id", "=", 542335):tagged_any("lead", "vip"):count()
    r = cli.run(mock, { "count", "--any", "--where", "id=542335", "--tag", "lead", "--tag", "vip" })
    assert.equal(0, r.code, r.err)
    assert.equal(want .. "\n", r.out)
  end)

  it("tag adds and --remove removes tags", function()
    local c = assert(client.customers:create { name = "Tagged" })
    local r = cli.run(mock, { "tag", tostring(c.id), "Lead", "VIP" })
    assert.equal(0, r.code, r.err)
    local names = {}
    for _, t in ipairs(client.customers:get(c.id).tags) do names[#names + 1] = t.name end
    table.sort(names)
    assert.same({ "Lead", "VIP" }, names)
    r = cli.run(mock, { "tag", "--remove", tostring(c.id), "Lead" })
    assert.equal(0, r.code, r.err)
    assert.equal("VIP", client.customers:get(c.id).tags[1].name)
    r = cli.run(mock, { "tag", "999999999", "x" })
    assert.equal(1, r.code)
  end)

  it("delete asks (refuses without a terminal), --yes deletes", function()
    local c = assert(client.customers:create { name = "Doomed" })
    local r = cli.run(mock, { "delete", tostring(c.id) }, { stdin = "y\n" })
    assert.equal(2, r.code)
    assert(client.customers:get(c.id))                 -- still there
    r = cli.run(mock, { "delete", "--yes", tostring(c.id) })
    assert.equal(0, r.code, r.err)
    local gone, err = client.customers:get(c.id)
    assert.is_nil(gone)
    assert.equal("not_found", err.kind)
    r = cli.run(mock, { "delete", "--yes", tostring(c.id) })
    assert.equal(1, r.code)
  end)

  it("event records an event with KEY=VALUE data and --data", function()
    local c = assert(client.customers:create { name = "Eve", userId = "crm-eve" })
    local r = cli.run(mock, { "event", "signup", "--user-id", "crm-eve", "plan=pro", "seats=3",
                              "trial=true", "--data", '{"source": "cli"}' })
    assert.equal(0, r.code, r.err)
    local events = mock:events()
    local e = events[#events]
    assert.equal("signup", e.name)
    assert.equal(c.id, e.customer)
    assert.same({ plan = "pro", seats = 3, trial = true, source = "cli" }, e.data)
    r = cli.run(mock, { "event", "signup", "--user-id", "nobody", "a=1" })
    assert.equal(1, r.code)
    assert.matches("Customer not found", r.err)
  end)

  it("mock runs the mock", function()
    local pid = cli.start(nil, { "mock", "--customers", "3", "--port", "0" }, dir)
    finally(function() os.execute("kill " .. pid .. " 2>/dev/null") end)
    local url
    cli.until_(function()
      local f = io.open(dir .. "/bg.out", "rb")
      url = f and f:read("*a"):match("listening on (%S+)\n")
      if f then f:close() end
      return url ~= nil
    end, 30, "the mock")
    local c2 = helpcrunch.new { token = "t", base_url = url, rate_limit = false }
    assert.equal(3, c2.customers:list { limit = 1 }.total)
    c2:close()
  end)
end)

describe("helpcrunch --redis #mock #redis", function()
  local ok_redis, redis = pcall(require, "spec.support.redis")
  local srv, mock
  lazy_setup(function()
    if not ok_redis then return end
    srv = redis.start { password = "s3cret-redis-pass" }
    mock = H.mock { customers = 250, seed = 7 }
  end)
  lazy_teardown(function()
    if mock then mock:stop() end
    if srv then srv:stop() end
  end)

  local function zcard(key)
    local s = assert(socket.connect("127.0.0.1", srv.port))
    s:send("*2\r\n$4\r\nAUTH\r\n$17\r\ns3cret-redis-pass\r\n")
    assert(s:receive("*l"))
    local k = "{" .. key .. "}:log"
    s:send("*2\r\n$5\r\nZCARD\r\n$" .. #k .. "\r\n" .. k .. "\r\n")
    local n = tonumber(assert(s:receive("*l")):match("^:(%d+)"))
    s:close()
    return n
  end

  it("shares the limit through Redis; the password never shows", function()
    if not ok_redis then pending("needs redis-server") return end
    local url = "redis://127.0.0.1:" .. srv.port .. "/0?key=cli-spec"
    local r = cli.run(mock, { "export", "-q", "--redis", url, "--rate", "100/60" },
      { env = { HELPCRUNCH_REDIS_PASSWORD = "s3cret-redis-pass" } })
    assert.equal(0, r.code, r.err)
    assert.equal(250, #cli.lines(r.out))
    assert.equal(4, zcard("cli-spec"))                   -- the count and three pages
    r = cli.run(mock, { "export", "--redis", "redis://127.0.0.1:" .. redis.free_port() .. "/0",
                        "--rate", "100/60" },
      { env = { HELPCRUNCH_REDIS_PASSWORD = "s3cret-redis-pass" } })
    assert.equal(1, r.code)
    assert.matches("ratelimit_store", r.err)
    assert.is_nil(r.err:find("s3cret", 1, true))
  end)
end)
