-- Malformed bodies over real HTTP: each returns nil, err of kind "decode"
-- (never a crash, never a partial value). tools/valgrind.sh runs this file
-- under memcheck too.
local H = require "spec.helper"

local SEED003 = H.read("spec/fixtures/seed003_broken.json")

describe("malformed response bodies #mock", function()
  local mock, client
  local start, stop = H.serve({ customers = 50 }, nil,
    function(m, c) mock, client = m, c end)
  setup(start)
  teardown(stop)
  before_each(function()
    mock:clear_faults()
    mock:clear_log()
  end)

  local function respond(body, opts)
    opts = opts or {}
    mock:fault { kind = "respond", status = opts.status or 200, body = body,
                 content_type = opts.content_type }
  end

  local function assert_decode_error(c, err)
    assert.is_nil(c)
    assert.is_table(err)
    assert.equals("decode", err.kind)
    assert.is_string(err.message)
    assert.is_nil(tostring(err):find("\n"))
    return err
  end

  it("seed 003's example exactly as printed (a '{' is missing) is a decode error", function()
    assert.is_truthy(SEED003:find('"value": "PotentialChurn_premium_seg1"\n},\n"property"', 1, true)
      or SEED003:find('},\n"property": "Currency"', 1, true))
    respond(SEED003)
    local err = assert_decode_error(client.customers:get(8737843))
    assert.equals(200, err.status)
    assert.equals("invalid_json", err.code)
    assert.matches("invalid JSON at byte %d+", err.message)
    assert.equals("GET", err.method)
    assert.equals("/customers/8737843", err.path)
  end)

  it("the byte offset of seed 003's error points at the broken spot", function()
    respond(SEED003)
    local _, err = client.customers:get(8737843)
    local before = SEED003:sub(1, err.offset - 1)
    assert.truthy(before:find('"PotentialChurn_premium_seg1"', 1, true))
    assert.is_nil(before:find('"Currency"', 1, true))
  end)

  it("an HTML page with status 200 is a decode error naming its content type", function()
    respond("<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>",
      { content_type = "text/html" })
    local err = assert_decode_error(client.customers:list { limit = 5 })
    assert.truthy(err.message:find("text/html", 1, true))
    assert.truthy(err.message:find("<!DOCTYPE html>", 1, true))
  end)

  it("100,000 nested '[' is a decode error, not a crash", function()
    respond(string.rep("[", 100000))
    local err = assert_decode_error(client.customers:get(4994))
    assert.truthy(err.message:find("nested too deeply", 1, true))
  end)

  it("100,000 nested objects is a decode error, not a crash", function()
    respond(string.rep('{"a":', 100000))
    assert_decode_error(client.customers:get(4994))
  end)

  it("a JSON body cut short (Content-Length agrees) is a decode error", function()
    local full = '{"total":1,"data":[{"id":4994,"name":"Serge Merge","email":"serge.merge@example.com"}]}'
    for _, cut in ipairs { 1, 10, 30, #full - 1 } do
      respond(full:sub(1, cut))
      local err = assert_decode_error(client.customers:list { limit = 1 })
      assert.matches("invalid JSON at byte %d+", err.message)
    end
  end)

  it("a body cut short of its Content-Length (connection closed) is a decode error", function()
    mock:fault { kind = "truncate", path = "/v1/customers" }
    local err = assert_decode_error(client.customers:list { limit = 100 })
    assert.equals("partial_body", err.code)
  end)

  it("an empty body is a decode error", function()
    respond("")
    local err = assert_decode_error(client.customers:get(4994))
    assert.truthy(err.message:find("empty body", 1, true))
  end)

  it("a 200 with valid JSON that is not a page is a decode error for list", function()
    respond('{"hello": "world"}')
    local err = assert_decode_error(client.customers:list {})
    assert.equals("unexpected_shape", err.code)
  end)

  it("invalid JSON from the mock's own fault is a decode error for search too", function()
    mock:fault { kind = "invalid_json", path = "/v1/customers/search" }
    assert_decode_error(client.customers:search():where("name", "~", "a"):page {})
  end)

  it("an iterator raises the decode error object", function()
    respond("{broken", { status = 200 })
    local ok, err = pcall(function()
      for _ in client.customers:all {} do end
    end)
    assert.is_false(ok)
    assert.equals("decode", err.kind)
  end)

  it("after all of these the client still works", function()
    local c = assert(client.customers:get(4994))
    assert.equals("Serge Merge", c.name)
  end)
end)
