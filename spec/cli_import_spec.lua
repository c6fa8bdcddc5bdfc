--- `helpcrunch import`, the real binary against the mock: good and bad
-- records, one report line for each; a re-run with the same report creates
-- nothing twice; lookups are batched and updates go through update_many;
-- --dry-run changes nothing; kill -9 in the middle, then a re-run: every
-- customer once.

local H = require "spec.helper"
local cli = require "spec.support.cli"
local core = require "helpcrunch.core"
local helpcrunch = require "helpcrunch"

local function write(path, lines)
  local f = assert(io.open(path, "wb"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
end

-- The report's entries by line (each line once).
local function entries(text)
  local by_line = {}
  for _, l in ipairs(cli.lines(text)) do
    local e = assert(helpcrunch.decode(l))
    assert(by_line[e.line] == nil, "line " .. e.line .. " reported twice")
    by_line[e.line] = e
  end
  return by_line
end

local function requests(mock, method, path)
  local n = 0
  for _, e in ipairs(mock:log()) do
    if e.method == method and (e.path == path or (path:sub(-1) == "*"
      and e.path:sub(1, #path - 1) == path:sub(1, -2))) then
      n = n + 1
    end
  end
  return n
end

describe("helpcrunch import #mock", function()
  local mock, client, dir
  local start, stop, each, after = cli.session({ customers = 300, seed = 4 },
    function(m, c, d) mock, client, dir = m, c, d end)
  lazy_setup(start) lazy_teardown(stop) before_each(each) after_each(after)

  -- A file of new, changed, unchanged and bad records; returns the path and
  -- what each line should come out as.
  local function mixed_file()
    local lines, want = {}, {}
    local function add(text, status)
      lines[#lines + 1] = text
      want[#lines] = status
    end
    for i = 1, 120 do
      add(core.encode { userId = "imp-" .. i, name = "Imported " .. i,
                        email = "imp" .. i .. "@example.com", customData = { plan = "pro", seats = i },
                        tags = { "imported" } }, "created")
    end
    local existing = {}
    for c in client.customers:all() do
      if c.userId then existing[#existing + 1] = c end
    end
    for i = 1, 100 do
      add(core.encode { userId = existing[i].userId, company = "Changed " .. i }, "updated")
    end
    for i = 101, 140 do
      add(core.encode { userId = existing[i].userId, name = existing[i].name }, "unchanged")
    end
    add("", nil)                                                        -- blank: no record
    add("{not json", "failed")
    add('{"userId": "bad-1", "emial": "typo@example.com"}', "failed")   -- unknown field
    add('{"userId": "bad-2", "email": "not-an-email"}', "failed")
    add('{"userId": "bad-3", "name": 5}', "failed")                     -- wrong type
    add('{"name": "no key"}', "failed")
    add('{"userId": "bad-4", "firstSeen": "yesterday"}', "failed")
    add('[1, 2]', "failed")
    add(core.encode { userId = "imp-1", company = "Second record of imp-1" }, "updated")
    local path = dir .. "/in.jsonl"
    write(path, lines)
    return path, want, #lines
  end

  it("reports every line, batches lookups and updates, and a re-run creates nothing twice", function()
    local path, want, nlines = mixed_file()
    local before = mock:count()
    mock:clear_log()
    local report = dir .. "/report.jsonl"
    local r = cli.run(mock, { "import", "--rate", "1000/1", path, "--report", report })
    assert.equal(1, r.code, r.err)                         -- some records failed
    assert.matches("created 120, updated 101, unchanged 40, failed 7", r.err)
    local got = entries(H.read(report))
    for line = 1, nlines do
      if want[line] then
        assert(got[line], "no report line for line " .. line)
        assert.equal(want[line], got[line].status, "line " .. line .. ": "
          .. tostring(got[line].error))
        if want[line] == "failed" then
          assert.is_string(got[line].error)
        else
          assert.is_number(got[line].id)
        end
      else
        assert.is_nil(got[line])
      end
    end
    assert.matches("emial", got[nlines - 6].error)
    assert.matches("not%-an%-email", got[nlines - 5].error)
    assert.equal(before + 120, mock:count())
    local c = assert(client.customers:find { userId = "imp-1" })
    assert.equal("Second record of imp-1", c.company)
    assert.equal("Imported 1", c.name)
    assert.same({ plan = "pro", seats = 1 }, c.customData)
    -- one search per 100 records (and one more where imp-1 came back), one batch per 10 updates
    assert.is_true(requests(mock, "POST", "/v1/customers/search") <= 4)
    assert.equal(120, requests(mock, "POST", "/v1/customers"))
    assert.is_true(requests(mock, "PUT", "/v1/customers/batch") <= 12)
    assert.equal(0, requests(mock, "GET", "/v1/customers/*"))

    -- the same command again: what was done is skipped, nothing is created
    mock:clear_log()
    r = cli.run(mock, { "import", "--rate", "1000/1", path, "--report", report })
    assert.equal(1, r.code, r.err)
    assert.matches("created 0, updated 0, unchanged 0, failed 7, 261 done before", r.err)
    assert.equal(before + 120, mock:count())
    assert.equal(0, requests(mock, "POST", "/v1/customers"))
    local again = entries(H.read(report))
    for line = 1, nlines do
      assert.equal(got[line] and got[line].status, again[line] and again[line].status)
    end

    -- a fresh report: every record is looked up again; none is created twice
    r = cli.run(mock, { "import", "--rate", "1000/1", path })
    assert.equal(1, r.code, r.err)
    assert.equal(before + 120, mock:count())
    local fresh = entries(r.out)
    assert.equal("unchanged", fresh[1].status)
    assert.equal(got[1].id, fresh[1].id)
  end)

  it("--dry-run reports what would happen and changes nothing", function()
    local path, want, nlines = mixed_file()
    local before = mock:count()
    mock:clear_log()
    local r = cli.run(mock, { "import", "--rate", "1000/1", path, "--dry-run" })
    assert.equal(1, r.code, r.err)
    local got = entries(r.out)
    for line = 1, nlines do
      if want[line] then
        assert.equal(want[line], got[line].status, "line " .. line)
        assert.is_true(got[line].dry_run)
      end
    end
    assert.equal(before, mock:count())
    assert.equal(0, requests(mock, "POST", "/v1/customers"))
    assert.equal(0, requests(mock, "PUT", "/v1/customers/batch"))
    assert.matches("nothing was changed", r.err)
  end)

  it("matches by email with --match email; several customers with one email fail", function()
    local a = assert(client.customers:create { name = "A", email = "twin@example.com" })
    assert(client.customers:create { name = "B", email = "twin@example.com" })
    local solo = assert(client.customers:create { name = "Solo", email = "solo@example.com" })
    local path = dir .. "/email.jsonl"
    write(path, { '{"email": "solo@example.com", "company": "Solo Ltd"}',
                  '{"email": "twin@example.com", "company": "Which one?"}',
                  '{"email": "new@example.com", "name": "New"}' })
    local r = cli.run(mock, { "import", "--rate", "1000/1", path, "--match", "email" })
    assert.equal(1, r.code, r.err)
    local got = entries(r.out)
    assert.equal("updated", got[1].status)
    assert.equal(solo.id, got[1].id)
    assert.equal("failed", got[2].status)
    assert.matches("2 customers have email twin@example.com", got[2].error)
    assert.equal("created", got[3].status)
    assert.equal("Solo Ltd", client.customers:get(solo.id).company)
    assert.is_nil(client.customers:get(a.id).company)
  end)

  it("#slow kill -9 in the middle, then the same command: every customer once", function()
    local lines = {}
    for i = 1, 60 do
      lines[i] = core.encode { userId = "kill-" .. i, name = "K" .. i }
    end
    local path, report = dir .. "/kill.jsonl", dir .. "/kill.report"
    write(path, lines)
    mock:config { delay_ms = 40 }
    local pid = cli.start(mock, { "import", "--rate", "1000/1", "-q", path, "--report", report }, dir)
    cli.until_(function()
      local f = io.open(report, "rb")
      local n = 0
      if f then for _ in f:lines() do n = n + 1 end f:close() end
      return n >= 15
    end, 60, "15 report lines")
    cli.kill9(pid)
    mock:config { delay_ms = 0 }
    local r = cli.run(mock, { "import", "--rate", "1000/1", path, "--report", report })
    assert.equal(0, r.code, r.err)
    local got = entries(H.read(report))
    for i = 1, 60 do
      assert(got[i], "no report line for line " .. i)
      local c, n = client.customers:find { userId = "kill-" .. i }
      assert(c, "kill-" .. i .. " was not created")
      assert.equal(1, n)
      assert.equal(c.id, got[i].id)
    end
  end)
end)
