--- CSV: RFC 4180 writing and reading (helpcrunch.cli.csv), the columns
-- (helpcrunch.cli.columns), and a round trip through the real binary:
-- customers with commas, quotes, line breaks and non-ASCII exported, imported
-- into a mock without them, exported again: the same bytes.

local H = require "spec.helper"
local cli = require "spec.support.cli"
local csv = require "helpcrunch.cli.csv"
local columns = require "helpcrunch.cli.columns"
local helpcrunch = require "helpcrunch"

local function read_all(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  f = assert(io.open(path, "rb"))
  local out = {}
  for line, fields, err in csv.records(f) do out[#out + 1] = { line = line, fields = fields, err = err } end
  f:close()
  os.remove(path)
  return out
end

describe("csv (RFC 4180) #unit", function()
  it("quotes a field only when it holds a comma, a quote, CR or LF", function()
    assert.equal("plain", csv.field("plain"))
    assert.equal("é ü 日本", csv.field("é ü 日本"))
    assert.equal('"a,b"', csv.field("a,b"))
    assert.equal('"say ""hi"""', csv.field('say "hi"'))
    assert.equal('"l1\nl2"', csv.field("l1\nl2"))
    assert.equal('"cr\r"', csv.field("cr\r"))
    assert.equal('a,"b,c",,""""\r\n', csv.record { "a", "b,c", "", '"' })
  end)

  it("reads quoted fields across lines, CRLF or LF, a byte order mark, and says where records start", function()
    local got = read_all('\239\187\191h1,h2\r\n"multi\r\nline",x\n\nplain,"q ""q"""\n"a,b",\n')
    assert.same({ "h1", "h2" }, got[1].fields)
    assert.same({ "multi\r\nline", "x" }, got[2].fields)
    assert.equal(2, got[2].line)
    assert.same({ "plain", 'q "q"' }, got[3].fields)
    assert.equal(5, got[3].line)
    assert.same({ "a,b", "" }, got[4].fields)
    assert.equal(4, #got)
  end)

  it("reports a malformed record with its line and goes on", function()
    local got = read_all('a,b\n"x"y,z\nbad"quote,1\nok,2\n"open,3\n')
    assert.matches("after a closing quote", got[2].err)
    assert.equal(2, got[2].line)
    assert.matches("double quote inside an unquoted field", got[3].err)
    assert.same({ "ok", "2" }, got[4].fields)
    assert.equal(5, got[5].line)
    assert.matches("not closed", got[5].err)
  end)

  it("round-trips any text through write and read", function()
    local rng = H.rng(42)
    local alphabet = { "a", ",", '"', "\r", "\n", "\r\n", " ", "é", "日", ";", "\\" }
    for _ = 1, 200 do
      local cells = {}
      for i = 1, rng(4) do
        local s = {}
        for j = 1, rng(8) - 1 do s[j] = alphabet[rng(#alphabet)] end
        cells[i] = table.concat(s)
      end
      if #cells == 1 and cells[1] == "" then cells[1] = "x" end     -- a blank line is no record
      local got = read_all(csv.record(cells))
      assert.equal(1, #got)
      assert.same(cells, got[1].fields)
    end
  end)
end)

describe("CSV columns #unit", function()
  it("joins tag names with ; escaping ; and \\, and reads them back", function()
    local c = { id = 1, tags = { { name = "a;b" }, { name = "back\\slash" }, { name = "日本" } } }
    local cols = assert(columns.parse("id,tags"))
    local cells = columns.cells(c, cols)
    assert.same({ "1", "a\\;b;back\\\\slash;日本" }, cells)
    local read = assert(columns.reader { "id", "tags" })
    assert.same({ tags = { "a;b", "back\\slash", "日本" } }, read(cells))
  end)

  it("writes customData as one JSON object, or one column per named property", function()
    local c = { id = 7, customData = { plan = "pro", seats = 3, ratio = 0.5, on = true } }
    assert.same({ '{"on":true,"plan":"pro","ratio":0.5,"seats":3}' },
      columns.cells(c, assert(columns.parse("customData"))))
    assert.same({ "7", "pro", "3", "", "true" },
      columns.cells(c, assert(columns.parse("id,customData.plan,customData.seats,customData.none,customData.on"))))
    assert.same({ "{}" }, columns.cells({ id = 1 }, assert(columns.parse("customData"))))
    local read = assert(columns.reader { "customData.plan", "customData.seats", "customData.code" })
    assert.same({ customData = { plan = "pro", seats = 3, code = "007" } }, read { "pro", "3", "007" })
  end)

  it("refuses unknown columns, and cells of the wrong type", function()
    local cols, err = columns.parse("id,emial")
    assert.is_nil(cols)
    assert.matches('unknown column "emial"', err)
    assert.matches('unknown column "emial"', select(2, columns.reader { "id", "emial" }))
    local read = assert(columns.reader { "firstSeen", "blocked" })
    assert.matches("firstSeen must be a UNIX timestamp", select(2, read { "yesterday", "" }))
    assert.matches("blocked must be true or false", select(2, read { "", "maybe" }))
    local read3 = assert(columns.reader { "name", "email", "phone" })
    assert.matches("2 fields where the header has 3", select(2, read3 { "x", "y" }))
  end)
end)

describe("CSV through the binary #mock", function()
  local mock, client, dir
  local start, stop, each, after = cli.session({ customers = 6, seed = 5 },
    function(m, c, d) mock, client, dir = m, c, d end)
  lazy_setup(start) lazy_teardown(stop) before_each(each) after_each(after)

  local NASTY = {
    { userId = "rt-1", name = 'Zoë "The Quote" O\'Brien, Jr.', email = "zoe+csv@example.com",
      company = "Line one\nLine two", phone = "+44 20 7946 0958", firstSeen = 1603885701,
      notes = "CRLF\r\ninside, a lone \r too; and a tab\t", city = "São Paulo",
      countryCode = "BR", regionCode = "SP", tags = { "a;b", "back\\slash", "日本", "plain" },
      customData = { plan = 'pro, "max"', seats = 3, ratio = 0.5, active = true,
                     note = "multi\nline", code = "007" } },
    { userId = "rt-2", name = "Плюс, мінус", firstSeen = 1603885702, blocked = true },
    { userId = "rt-3", email = "x@example.com", firstSeen = 1603885703,
      customData = { ["key, with comma"] = "v" } },
  }
  local ARGS = { "--rate", "1000/1", "--where", "userId~rt-", "--sort", "firstSeen:asc" }

  local function export(path, extra)
    local args = { "export", "-o", path }
    for _, a in ipairs(ARGS) do args[#args + 1] = a end
    for _, a in ipairs(extra or {}) do args[#args + 1] = a end
    local r = cli.run(mock, args)
    assert.equal(0, r.code, r.err)
    return H.read(path)
  end

  it("round-trips commas, quotes, line breaks and non-ASCII: export, import, export", function()
    for _, c in ipairs(NASTY) do assert(client.customers:create(c)) end
    local names = {}
    for i = 2, #columns.STANDARD do names[#names + 1] = columns.STANDARD[i][1] end
    local cols = { "--columns", table.concat(names, ",") }          -- every column but id
    local first = export(dir .. "/a.csv", cols)
    assert.matches('"Zoë ""The Quote"" O\'Brien, Jr."', first, 1, true)
    assert.matches('"CRLF\r\ninside, a lone \r too; and a tab\t"', first, 1, true)

    mock:reset()                                  -- a store without them
    local r = cli.run(mock, { "import", "--rate", "1000/1", dir .. "/a.csv" })
    assert.equal(0, r.code, r.err)
    assert.matches("created 3, updated 0, unchanged 0, failed 0", r.err)
    assert.equal(first, export(dir .. "/b.csv", cols))

    local c = assert(client.customers:find { userId = "rt-1" })
    assert.equal(NASTY[1].notes, c.notes)
    assert.same(NASTY[1].customData, c.customData)

    -- again: every record is already there as it says
    r = cli.run(mock, { "import", "--rate", "1000/1", dir .. "/a.csv" })
    assert.equal(0, r.code, r.err)
    assert.matches("created 0, updated 0, unchanged 3, failed 0", r.err)
  end)

  it("round-trips JSON lines the same way (ids aside)", function()
    for _, c in ipairs(NASTY) do assert(client.customers:create(c)) end
    local first = export(dir .. "/a.jsonl")
    mock:reset()
    local r = cli.run(mock, { "import", "--rate", "1000/1", dir .. "/a.jsonl" })
    assert.equal(0, r.code, r.err)
    local second = export(dir .. "/b.jsonl")
    local function without_ids(text)
      local out = {}
      for _, l in ipairs(cli.lines(text)) do
        local c = assert(helpcrunch.decode(l))
        c.id = nil
        out[#out + 1] = c
      end
      return out
    end
    assert.same(without_ids(first), without_ids(second))
  end)

  it("writes customData.<property> columns that --columns names", function()
    for _, c in ipairs(NASTY) do assert(client.customers:create(c)) end
    local text = export(dir .. "/p.csv", { "--columns", "userId,customData.plan,customData.seats" })
    assert.equal('userId,customData.plan,customData.seats\r\nrt-1,"pro, ""max""",3\r\n'
      .. "rt-2,,\r\nrt-3,,\r\n", text)
  end)
end)
