-- helpcrunch-mock by itself, over HTTP (LuaSocket), no project client involved:
-- command line, HTTP behaviour, auth, list, get, data set, admin endpoints, log.
-- Run: busted --lua=lua5.4 --lpath='lua/?.lua;lua/?/init.lua' spec/mock_spec.lua

local socket = require "socket"
local json = require "helpcrunch.mock.json"
local spawn = require "helpcrunch.mock.spawn"

local LUA = spawn.default_lua()
local BIN = "bin/helpcrunch-mock"

-- GET/POST against /v1 with a bearer token; returns status, decoded body, headers, text.
local function api(m, method, path, body, token)
  local headers = {}
  if token ~= false then headers.Authorization = "Bearer " .. (token or "t") end
  local status, text, h = m:request(method, "/v1" .. path, body, headers)
  return status, json.decode(text), h, text
end

-- Running (a zombie, exited but not yet reaped by its parent, does not count).
local alive = require("spec.support.sys").alive

local function wait_dead(pid, seconds)
  local deadline = socket.gettime() + seconds
  while socket.gettime() < deadline do
    if not alive(pid) then return true end
    socket.sleep(0.05)
  end
  return not alive(pid)
end

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("exit=(%d+)%s*$"))
  return out:gsub("exit=%d+%s*$", ""), code
end

local function all_pages(m, query, token)
  local out, offset, total = {}, 0
  repeat
    local status, page = api(m, "GET", "/customers?limit=100&offset=" .. offset .. (query or ""), nil, token)
    assert.are.equal(200, status)
    total = page.total
    for _, c in ipairs(page.data) do out[#out + 1] = c end
    offset = offset + 100
  until offset >= total
  return out, total
end

describe("helpcrunch-mock command line #mock #slow", function()
  it("documents every flag in --help", function()
    local out, code = run(LUA .. " " .. BIN .. " --help")
    assert.are.equal(0, code)
    for _, flag in ipairs({ "--host", "--port", "--customers", "--seed", "--token", "--rate-limit",
                            "--retry-after", "--fault-rate", "--faults", "--churn", "--delay-ms",
                            "--data", "--log", "--help" }) do
      assert.truthy(out:find("\n  " .. flag:gsub("%-", "%%-") .. "[ =]"), "missing " .. flag)
    end
  end)

  it("refuses an unknown option or a bad value with status 2", function()
    local out, code = run(LUA .. " " .. BIN .. " --bogus")
    assert.are.equal(2, code)
    assert.truthy(out:find("unknown option: --bogus", 1, true))
    out, code = run(LUA .. " " .. BIN .. " --rate-limit lots")
    assert.are.equal(2, code)
    assert.truthy(out:find("N/SECONDS", 1, true))
    out, code = run(LUA .. " " .. BIN .. " --faults 500,teapot")
    assert.are.equal(2, code)
    assert.truthy(out:find("teapot", 1, true))
  end)

  it("prints 'listening on' with the real port and binds loopback", function()
    local m = spawn.start { customers = 10 }
    finally(function() m:stop() end)
    assert.truthy(m.url:match("^http://127%.0%.0%.1:%d+/v1$"))
    assert.is_true(m.port > 0)
    local s = assert(socket.connect("127.0.0.1", m.port))
    s:close()
  end)

  it("stops on SIGTERM and leaves no process behind", function()
    local m = spawn.start { customers = 10 }
    local pid = m.pid
    assert.is_true(alive(pid))
    m:stop()
    m:stop()                            -- idempotent
    assert.is_true(wait_dead(pid, 3))
    assert.is_nil(socket.connect("127.0.0.1", m.port))
  end)

  it("exits cleanly on SIGINT", function()
    local m = spawn.start { customers = 10 }
    finally(function() m:stop() end)
    os.execute("kill -INT " .. m.pid)
    assert.is_true(wait_dead(m.pid, 3))
  end)

  it("--exit-with-parent: exits when the process that started it goes away", function()
    local p = io.popen("sh -c '" .. LUA .. " " .. BIN ..
      " --port 0 --customers 5 --exit-with-parent >/dev/null & echo $!; sleep 0.5'")
    local pid = tonumber(p:read("*l"))
    p:close()                           -- waits for sh: the mock is now an orphan
    assert.is_number(pid)
    assert.is_true(wait_dead(pid, 4))
  end)

  it("spawn.start raises a clear error when the mock cannot start", function()
    local ok, err = pcall(spawn.start, { data = "/nonexistent/customers.json", quiet = true })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("did not start", 1, true))
  end)
end)

describe("helpcrunch-mock HTTP #mock #slow", function()
  local m
  lazy_setup(function() m = spawn.start { customers = 250, seed = 3 } end)
  lazy_teardown(function() m:stop() end)
  before_each(function() m:reset() end)

  it("keeps a connection alive across requests", function()
    local c = m:connect()
    finally(function() c:close() end)
    for i = 1, 3 do
      local res = assert(c:request("GET", "/v1/customers?limit=" .. i, { token = "t" }))
      assert.are.equal(200, res.status)
      assert.are.equal(i, #json.decode(res.body).data)
    end
    local stats = m:stats()
    assert.are.equal(3, stats.requests)
    assert.are.equal(1, stats.connections)
    assert.are.equal(1, stats.open)
    local log = m:log()
    assert.are.equal(3, #log)
    assert.are.equal(log[1].conn, log[3].conn)
  end)

  it("sends Content-Type and an exact Content-Length", function()
    local c = m:connect()
    finally(function() c:close() end)
    local res = assert(c:request("GET", "/v1/customers/265555", { token = "t" }))
    assert.are.equal("application/json", res.headers["content-type"])
    assert.are.equal(#res.body, tonumber(res.headers["content-length"]))
    assert.are.equal(265555, json.decode(res.body).id)
  end)

  it("closes after a response when asked with Connection: close", function()
    local c = m:connect(2)
    finally(function() c:close() end)
    local res = assert(c:request("GET", "/v1/customers?limit=1",
                                 { token = "t", headers = { Connection = "close" } }))
    assert.are.equal(200, res.status)
    assert.are.equal("close", res.headers.connection)
    local line, err = c.sock:receive("*l")
    assert.is_nil(line)
    assert.are.equal("closed", err)
  end)

  it("answers Expect: 100-continue before the body is sent", function()
    local c = m:connect(2)
    finally(function() c:close() end)
    local body = json.encode({ name = "Expecting" })
    assert(c.sock:send("POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n" ..
      "Content-Type: application/json\r\nContent-Length: " .. #body ..
      "\r\nExpect: 100-continue\r\n\r\n"))
    assert.are.equal("HTTP/1.1 100 Continue", c.sock:receive("*l"))
    assert.are.equal("", c.sock:receive("*l"))
    assert(c.sock:send(body))
    local res = assert(c:receive())
    assert.are.equal(201, res.status)
    assert.are.equal("Expecting", json.decode(res.body).name)
  end)

  it("answers pipelined requests in order", function()
    local c = m:connect()
    finally(function() c:close() end)
    local req = "GET /v1/customers/%d HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n"
    assert(c.sock:send(req:format(4994) .. req:format(265580) .. req:format(1)))
    assert.are.equal(4994, json.decode(assert(c:receive()).body).id)
    assert.are.equal(265580, json.decode(assert(c:receive()).body).id)
    assert.are.equal(404, assert(c:receive()).status)
  end)

  it("serves at least 8 connections at once, and a slow client blocks nobody", function()
    local slow = m:connect()
    finally(function() slow:close() end)
    assert(slow.sock:send("GET /v1/customers HTTP/1.1\r\nHost: x\r\nAuthor"))  -- half a request
    local conns = {}
    for i = 1, 10 do conns[i] = m:connect(2) end
    finally(function() for _, c in ipairs(conns) do c:close() end end)
    for i = 1, 10 do assert(conns[i]:send("GET", "/v1/customers?limit=1&offset=" .. i, { token = "t" })) end
    for i = 10, 1, -1 do
      local res = assert(conns[i]:receive())
      assert.are.equal(200, res.status)
    end
    local stats = m:stats()
    assert.are.equal(10, stats.connections)
    assert.are.equal(10, stats.open)
    assert(slow.sock:send("ization: Bearer t\r\n\r\n"))        -- the rest of it
    assert.are.equal(200, assert(slow:receive()).status)
  end)

  it("answers an unknown path with 404 and a known path's wrong method with 405, in JSON", function()
    local status, body, headers = api(m, "GET", "/nowhere")
    assert.are.equal(404, status)
    assert.are.equal("not_found", body.errors[1].code)
    assert.are.equal("application/json", headers["content-type"])
    status, body, headers = api(m, "DELETE", "/customers")
    assert.are.equal(405, status)
    assert.are.equal("method_not_allowed", body.errors[1].code)
    assert.are.equal("GET, POST", headers.allow)
  end)

  it("survives garbage: random bytes, bad JSON bodies, odd values", function()
    local rng = require("helpcrunch.mock.prng").new(42)
    for _ = 1, 30 do
      local c = m:connect(0.2)
      local bytes = {}
      for i = 1, rng:int(1, 300) do bytes[i] = string.char(rng:int(0, 255)) end
      c.sock:send(table.concat(bytes) .. (rng:chance(0.5) and "\r\n\r\n" or ""))
      c.sock:receive("*a")
      c:close()
    end
    local bodies = { "[", "{\"filter\":[{}]}", string.rep("[", 5000),
                     '{"filter":[{"field":1,"operator":[],"value":{}}]}',
                     '{"limit":1e400}', '{"offset":"1","limit":"2","sort":null,"order":null}', "null",
                     '{"comparison":{},"filter":[null,1,"x",[]]}' }
    for _, b in ipairs(bodies) do
      local status = api(m, "POST", "/customers/search", b)
      assert.is_true(status == 200 or status == 400, b:sub(1, 40))
      status = api(m, "POST", "/customers", b)
      assert.is_true(status == 201 or status == 400, b:sub(1, 40))
    end
    assert.are.equal(200, (api(m, "GET", "/customers?limit=1&offset=99999999999999999999")))
  end)

  it("answers a malformed request line with 400 and closes", function()
    local c = m:connect(2)
    finally(function() c:close() end)
    assert(c.sock:send("HELLO\r\n\r\n"))
    local res = assert(c:receive())
    assert.are.equal(400, res.status)
    assert.is_nil(c.sock:receive("*l"))
  end)
end)

describe("helpcrunch-mock auth #mock", function()
  local open, locked
  lazy_setup(function()
    open = spawn.start { customers = 20 }
    locked = spawn.start { customers = 20, token = "s3cret" }
  end)
  lazy_teardown(function()
    open:stop()
    locked:stop()
  end)

  it("accepts any non-empty bearer token without --token", function()
    assert.are.equal(200, (api(open, "GET", "/customers", nil, "anything")))
    assert.are.equal(200, (api(open, "POST", "/customers/search", {}, "x")))
  end)

  it("answers a missing token with 401 in the GET shape and logs 'missing'", function()
    open:clear_log()
    local status, body = api(open, "GET", "/customers", nil, false)
    assert.are.equal(401, status)
    assert.are.same({ errors = { { code = "invalid_token", message = "Invalid token" } } }, body)
    status, body = api(open, "GET", "/customers/4994", nil, false)
    assert.are.equal(401, status)
    assert.are.equal("invalid_token", body.errors[1].code)
    assert.are.equal("missing", open:log()[1].auth)
  end)

  it("answers 401 in the search/create shape, leading with invalid_request", function()
    for _, path in ipairs({ "/customers/search", "/customers" }) do
      local status, body = api(open, "POST", path, {}, false)
      assert.are.equal(401, status)
      assert.are.same({ errors = {
        { code = "invalid_request", message = "Invalid request" },
        { code = "unauthorized", message = "Unauthorized" },
      } }, body)
    end
  end)

  it("with --token accepts only that token", function()
    locked:clear_log()
    assert.are.equal(200, (api(locked, "GET", "/customers/4994", nil, "s3cret")))
    assert.are.equal(401, (api(locked, "GET", "/customers/4994", nil, "wrong")))
    local status = locked:request("GET", "/v1/customers", nil, { Authorization = "Basic czNjcmV0" })
    assert.are.equal(401, status)
    status = locked:request("GET", "/v1/customers", nil, { Authorization = "Bearer " })
    assert.are.equal(401, status)
    local log = locked:log()
    assert.are.same({ "ok", "invalid", "invalid", "invalid" },
      { log[1].auth, log[2].auth, log[3].auth, log[4].auth })
  end)

  it("never logs the token", function()
    locked:clear_log()
    api(locked, "GET", "/customers", nil, "s3cret")
    local entry = locked:log()[1]
    assert.are.equal("<redacted>", entry.headers.authorization)
    local _, text = locked:request("GET", "/_mock/log")
    assert.is_nil(text:find("s3cret", 1, true))
  end)
end)

describe("helpcrunch-mock GET /customers #mock", function()
  local m
  lazy_setup(function() m = spawn.start { customers = 250, seed = 5 } end)
  lazy_teardown(function() m:stop() end)

  it("pages with offset/limit: default limit 100, every customer exactly once", function()
    local status, page = api(m, "GET", "/customers")
    assert.are.equal(200, status)
    assert.are.equal(250, page.total)
    assert.are.equal(100, #page.data)
    local all = all_pages(m)
    assert.are.equal(250, #all)
    local seen = {}
    for _, c in ipairs(all) do
      assert.is_nil(seen[c.id])
      seen[c.id] = true
    end
    local _, last = api(m, "GET", "/customers?offset=240&limit=100")
    assert.are.equal(10, #last.data)
    local _, beyond = api(m, "GET", "/customers?offset=1000")
    assert.are.equal(0, #beyond.data)
    assert.are.equal(250, beyond.total)
  end)

  it("lists id descending when no sort is given", function()
    local all = all_pages(m)
    for i = 2, #all do assert.is_true(all[i - 1].id > all[i].id) end
    local asc = all_pages(m, "&order=asc")
    for i = 2, #asc do assert.is_true(asc[i - 1].id < asc[i].id) end
  end)

  local function key(c, field)
    local v = c[field]
    if v == json.null or v == nil then return nil end
    return tonumber(v)
  end

  for _, field in ipairs({ "firstSeen", "lastSeen" }) do
    it("sorts by customers." .. field .. ": numbers and numeric strings alike, nulls last, ties by id", function()
      local asc = all_pages(m, "&sort=customers." .. field .. "&order=asc")
      local kinds = {}
      for i, c in ipairs(asc) do
        kinds[type(c[field]) == "userdata" and "null" or type(c[field])] = true
        if i > 1 then
          local a, b, p = key(asc[i - 1], field), key(c, field), asc[i - 1]
          if a == nil then
            assert.is_nil(b, "a null before a value")
            assert.is_true(p.id < c.id)
          elseif b ~= nil then
            assert.is_true(a < b or (a == b and p.id < c.id), "order broken at " .. i)
          end
        end
      end
      assert.are.same({ null = true, number = true, string = true }, kinds)
      -- the default order is asc, any case is accepted, desc is the exact reverse
      local default = all_pages(m, "&sort=customers." .. field)
      local desc = all_pages(m, "&sort=customers." .. field .. "&order=DESC")
      assert.are.equal(#asc, #desc)
      for i = 1, #asc do
        assert.are.equal(asc[i].id, default[i].id)
        assert.are.equal(asc[i].id, desc[#desc + 1 - i].id)
      end
    end)
  end

  it("reports every bad parameter, one validation_error each", function()
    local status, body = api(m, "GET", "/customers?limit=500&sort=customers.name&order=up")
    assert.are.equal(400, status)
    assert.are.same({ errors = {
      { code = "validation_error", message = "limit value is invalid" },
      { code = "validation_error", message = "sort value is invalid" },
      { code = "validation_error", message = "order value is invalid" },
    } }, body)
    for _, q in ipairs({ "limit=0", "limit=101", "limit=abc", "limit=", "offset=-1", "offset=x" }) do
      status, body = api(m, "GET", "/customers?" .. q)
      assert.are.equal(400, status, q)
      assert.are.equal(1, #body.errors, q)
      assert.truthy(body.errors[1].message:find("value is invalid", 1, true), q)
    end
    assert.are.equal(200, (api(m, "GET", "/customers?limit=100&offset=0&order=Asc")))
  end)

  it("sends 'total' and 'data' in either order, like the real pages", function()
    local _, _, _, first = api(m, "GET", "/customers?limit=10&offset=0")
    local _, _, _, second = api(m, "GET", "/customers?limit=10&offset=10")
    assert.truthy(first:find('^{"total":250,"data":%['))
    assert.truthy(second:find('^{"data":%[.*%],"total":250}$'))
  end)
end)

describe("helpcrunch-mock GET /customers/{id} and the data set #mock", function()
  local m
  lazy_setup(function() m = spawn.start { customers = 300, seed = 1 } end)
  lazy_teardown(function() m:stop() end)

  it("serves the seed pages' customers with their exact values", function()
    local _, c = api(m, "GET", "/customers/265555")
    assert.are.equal("test", c.name)
    assert.are.equal("test@test.com", c.email)
    assert.are.equal(json.null, c.firstSeen)
    assert.are.equal(1588603952, c.lastSeen)
    assert.are.same({ regionCode = "CA", countryCode = "US", city = "Los Angeles" }, c.location)
    assert.are.equal(28874635, c.device.id)
    assert.are.same({ { name = "direct", color = "#0079bf" } }, c.tags)
    assert.are.equal(35, c.customData["Number of payments"])
    assert.is_nil(c.createdFrom)              -- absent on that page, not null

    _, c = api(m, "GET", "/customers/542335")
    assert.are.equal("1603885746", c.firstSeen)        -- a string, as on the page
    assert.are.equal("telegram", c.createdFrom)
    assert.are.equal("465847687", c.integrationId)
    assert.are.equal(15.99, c.customData.last_paid_amount)
    assert.are.equal(1603885746, c.customData.last_payment_date)

    _, c = api(m, "GET", "/customers/4994")
    assert.are.same({ "Lead", "Feature Request", "Paid" },
      { c.tags[1].name, c.tags[2].name, c.tags[3].name })
    assert.are.equal(json.null, c.customData.segment)

    _, c = api(m, "GET", "/customers/7831682")
    assert.are.same({}, c.tags)
    assert.is_true(c.blocked)
    _, c = api(m, "GET", "/customers/265580")
    assert.are.equal(json.null, c.device)
    assert.is_false(c.customData["Tried Something"])
  end)

  it("sends 8737843's customData as a {property, value} list, in the page's order", function()
    local _, _, _, text = api(m, "GET", "/customers/8737843")
    local c = json.decode(text)
    assert.are.equal(12, #c.customData)
    assert.are.same({ property = "Role", value = "admin" }, c.customData[1])
    assert.are.same({ property = "Subscription status", value = "active" }, c.customData[12])
    assert.truthy(text:find('"customData":[{"property":"Role","value":"admin"}', 1, true))
    -- but as an object in lists
    local _, page = api(m, "GET", "/customers?limit=100")
    for _, x in ipairs(page.data) do
      if x.id == 8737843 then
        assert.are.equal("admin", x.customData.Role)
      end
    end
  end)

  it("answers 404 entity_not_found for an unknown or non-numeric id", function()
    for _, id in ipairs({ "1", "99999999", "abc", "12x", "search" }) do
      local status, body = api(m, "GET", "/customers/" .. id)
      assert.are.equal(404, status, id)
      assert.are.same({ errors = { { code = "entity_not_found", message = "Customer not found" } } }, body)
    end
  end)

  it("generates the quirks: string/integer/null timestamps, unicode, extras, list customData", function()
    local all = all_pages(m)
    assert.are.equal(300, #all)
    local seen = { string = 0, number = 0, null = 0, unicode = 0, extra = 0, nocd = 0 }
    local known = {}
    for _, k in ipairs(require("helpcrunch.mock.store").FIELD_ORDER) do known[k] = true end
    local cd_ids = {}
    for _, c in ipairs(all) do
      local t = c.firstSeen == json.null and "null" or type(c.firstSeen)
      seen[t] = seen[t] + 1
      if type(c.name) == "string" and c.name:find("[\128-\255]") then seen.unicode = seen.unicode + 1 end
      for k in pairs(c) do
        if not known[k] then seen.extra = seen.extra + 1 break end
      end
      if type(c.customData) == "table" and next(c.customData) then cd_ids[#cd_ids + 1] = c.id end
      if c.customData == json.null then seen.nocd = seen.nocd + 1 end
    end
    for k, n in pairs(seen) do assert.is_true(n > 5, k .. ": " .. n) end
    local lists = 0
    for _, id in ipairs(cd_ids) do
      local _, c = api(m, "GET", "/customers/" .. id)
      if c.customData[1] and c.customData[1].property then lists = lists + 1 end
    end
    assert.is_true(lists > 10 and lists < #cd_ids / 2, "list-form customData: " .. lists)
  end)

  it("writes ids and timestamps as integers", function()
    local _, _, _, text = api(m, "GET", "/customers?limit=100")
    assert.is_nil(text:find('"id":%d+%.%d'))
    assert.is_nil(text:find('"id":[%d.]+e%+'))
    assert.is_nil(text:find('"lastSeen":%d+%.'))
    assert.truthy(text:find('"id":8737843,', 1, true))
  end)

  it("is deterministic: same seed, same bytes; another seed, other data", function()
    local a = spawn.start { customers = 300, seed = 1 }
    local b = spawn.start { customers = 300, seed = 2 }
    finally(function()
      a:stop()
      b:stop()
    end)
    local q = "/customers?limit=100&offset=100&sort=customers.lastSeen"
    local _, _, _, mine = api(m, "GET", q)
    local _, _, _, same = api(a, "GET", q)
    local _, _, _, other = api(b, "GET", q)
    assert.are.equal(mine, same)
    assert.are_not.equal(mine, other)
  end)

  it("generates the same data under lua5.4 and luajit", function()
    local a = spawn.start { customers = 400, seed = 9, lua = "lua5.4" }
    local b = spawn.start { customers = 400, seed = 9, lua = "luajit" }
    finally(function()
      a:stop()
      b:stop()
    end)
    for _, q in ipairs({ "/customers?limit=100&offset=300", "/customers?sort=customers.firstSeen",
                         "/customers/8737843" }) do
      local _, _, _, x = api(a, "GET", q)
      local _, _, _, y = api(b, "GET", q)
      assert.are.equal(x, y, q)
    end
  end)

  it("--data serves the customers of a JSON file, big ids as integers", function()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "w"))
    f:write('[{"id": 123456789012345, "name": "Big", "firstSeen": 1603885746,' ..
            ' "customData": [{"property": "b", "value": 2}, {"property": "a", "value": "x"}]},' ..
            ' {"id": 7, "name": "Small", "customData": {"Plan": "Free"}, "shoeSize": 44}]')
    f:close()
    local d = spawn.start { data = path }
    finally(function() d:stop() end)
    local _, page, _, text = api(d, "GET", "/customers")
    assert.are.equal(2, page.total)
    assert.truthy(text:find('"id":123456789012345,', 1, true))
    assert.are.same({ b = 2, a = "x" }, page.data[1].customData)
    assert.are.equal(44, page.data[2].shoeSize)
    local _, one = api(d, "GET", "/customers/123456789012345")
    assert.are.same({ { property = "b", value = 2 }, { property = "a", value = "x" } }, one.customData)
    assert.are.equal(2, d:count())
  end)
end)

describe("helpcrunch-mock admin endpoints and log #mock", function()
  local m, logfile
  lazy_setup(function()
    logfile = os.tmpname()
    m = spawn.start { customers = 50, log = logfile }
  end)
  lazy_teardown(function()
    m:stop()
    os.remove(logfile)
  end)

  it("logs each /v1 request with every field, and not the admin ones", function()
    m:reset()
    api(m, "GET", "/customers?limit=2&sort=customers.lastSeen")
    api(m, "POST", "/customers/search", { filter = {}, limit = 1 })
    m:stats()
    local log = m:log()
    assert.are.equal(2, #log)
    local e = log[1]
    assert.are.equal("GET", e.method)
    assert.are.equal("/v1/customers", e.path)
    assert.are.same({ limit = "2", sort = "customers.lastSeen" }, e.query)
    assert.are.equal(200, e.status)
    assert.are.equal("ok", e.auth)
    assert.are.equal(json.null, e.fault)
    assert.are.equal(json.null, e.body)
    assert.are.equal("", e.raw_body)
    assert.is_number(e.conn)
    assert.is_true(math.abs(e.t - socket.gettime()) < 60)
    assert.are.equal("<redacted>", e.headers.authorization)
    assert.are.same({ filter = {}, limit = 1 }, log[2].body)
    assert.are.equal('{"filter":{},"limit":1}', log[2].raw_body)
  end)

  it("writes the same entries as JSON lines to --log FILE", function()
    m:reset()
    api(m, "GET", "/customers/4994")
    api(m, "GET", "/customers/1")
    local lines = {}
    for line in io.lines(logfile) do lines[#lines + 1] = json.decode(line) end
    assert.is_true(#lines >= 2)
    assert.are.equal("/v1/customers/4994", lines[#lines - 1].path)
    assert.are.equal(404, lines[#lines].status)
    assert.are.equal("<redacted>", lines[#lines].headers.authorization)
  end)

  it("clears the log on DELETE /_mock/log", function()
    api(m, "GET", "/customers")
    assert.is_true(#m:log() > 0)
    m:clear_log()
    assert.are.equal(0, #m:log())
  end)

  it("counts requests and connections, and resets data and counters", function()
    m:reset()
    assert.are.same({ requests = 0, connections = 0, open = 0, log_dropped = 0 }, m:stats())
    local status, created = api(m, "POST", "/customers", { name = "Temp" })
    assert.are.equal(201, status)
    assert.are.equal(51, m:count())
    assert.are.equal("Temp", m:customer(created.id).name)
    local stats = m:stats()
    assert.are.equal(1, stats.requests)
    assert.are.equal(1, stats.connections)
    local reset = m:reset()
    assert.are.equal(50, reset.customers)
    assert.are.equal(50, m:count())
    assert.is_nil(m:customer(created.id))
    assert.are.equal(0, m:stats().requests)
  end)

  it("shows a stored customer raw, and 404 for an unknown one", function()
    local c = m:customer(8737843)
    assert.are.equal("Cindy Mindy", c.name)
    assert.are.equal("admin", c.customData.Role)      -- stored as a map
    assert.is_nil(m:customer(2))
    local status = m:request("GET", "/_mock/nothing")
    assert.are.equal(404, status)
  end)

  it("reads and changes the configuration", function()
    local cfg = m:config()
    assert.are.same({ fault_rate = 0, delay_ms = 0, churn = 0, rate_limit = false,
                      churn_delete = 0, jitter_ms = 0, retry_after = json.null,
                      pages = {}, dialects = {},
                      faults = { "500", "502", "429", "drop", "truncate", "invalid_json" } }, cfg)
    cfg = m:config { rate_limit = "10/2", retry_after = "none", faults = { "502" }, churn = 1 }
    assert.are.equal("10/2", cfg.rate_limit)
    assert.are.equal("none", cfg.retry_after)
    assert.are.same({ "502" }, cfg.faults)
    local status, text = m:request("POST", "/_mock/config", { fault_rate = 3 })
    assert.are.equal(400, status)
    assert.truthy(text:find("fault_rate", 1, true))
    m:reset()
    assert.are.equal(false, m:config().rate_limit)
  end)
end)
