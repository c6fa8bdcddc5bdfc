--- `helpcrunch export`, the real binary against the mock: 2,000 customers in
-- both formats read back and compared by id with the mock's store; kill -9
-- in the middle, then --resume: every customer exactly once (also with churn);
-- a failed export leaves no output file and resumes; Ctrl-C exits 130.

local H = require "spec.helper"
local cli = require "spec.support.cli"
local csv = require "helpcrunch.cli.csv"
local helpcrunch = require "helpcrunch"

local N = 2000

-- The customers of a JSON-lines text, in order.
local function jsonl_customers(text)
  local out = {}
  for _, l in ipairs(cli.lines(text)) do out[#out + 1] = assert(helpcrunch.decode(l)) end
  return out
end

-- The records of a CSV file: the header and the rows as {column = cell}.
local function csv_rows(path)
  local f = assert(io.open(path, "rb"))
  local header, rows = nil, {}
  for _, fields, err in csv.records(f) do
    assert(fields, err)
    if not header then
      header = fields
    else
      local row = {}
      for i, name in ipairs(header) do row[name] = fields[i] end
      assert.equal(#header, #fields)
      rows[#rows + 1] = row
    end
  end
  f:close()
  return header, rows
end

-- Every id once, and the ids are the store's: as many as it holds, each in it.
local function assert_exactly_the_store(mock, ids, stored, at_least)
  local seen = {}
  for _, id in ipairs(ids) do
    assert(not seen[id], "customer " .. tostring(id) .. " twice")
    seen[id] = true
    assert(stored[id], "customer " .. tostring(id) .. " is not in the store")
  end
  if at_least then
    for _, id in ipairs(at_least) do assert(seen[id], "customer " .. tostring(id) .. " missing") end
  else
    assert.equal(mock:count(), #ids)
  end
end

local function ids_of(list)
  local ids = {}
  for i, c in ipairs(list) do ids[i] = c.id end
  return ids
end

describe("#slow helpcrunch export #mock", function()
  local mock, dir
  lazy_setup(function()
    mock = H.mock { customers = N, seed = 3 }
  end)
  lazy_teardown(function() if mock then mock:stop() end end)
  before_each(function()
    mock:reset()
    dir = cli.tmpdir()
  end)
  after_each(function() cli.cleanup(dir) end)

  it("writes 2,000 customers as JSON lines, each exactly the store's", function()
    local path = dir .. "/all.jsonl"
    local r = cli.run(mock, { "export", "-o", path })
    assert.equal(0, r.code, r.err)
    assert.equal("", r.out)
    local list = jsonl_customers(H.read(path))
    assert.equal(N, #list)
    local ids = ids_of(list)
    local stored = cli.stored(mock, ids)
    assert_exactly_the_store(mock, ids, stored)
    for _, c in ipairs(list) do assert.same(stored[c.id], c) end
    assert.is_false(io.open(path .. ".part") ~= nil)
    assert.is_false(io.open(path .. ".checkpoint") ~= nil)
    assert.matches("2000 customers in", r.err)

    -- the same on standard output
    local s = cli.run(mock, { "export", "--quiet" })
    assert.equal(0, s.code, s.err)
    assert.equal("", s.err)
    assert.same(ids, ids_of(jsonl_customers(s.out)))
  end)

  it("writes 2,000 customers as CSV: a header, one row each, the store's values", function()
    local path = dir .. "/all.csv"
    local r = cli.run(mock, { "export", "-o", path })
    assert.equal(0, r.code, r.err)
    local header, rows = csv_rows(path)
    assert.same({ "id", "userId", "name", "email", "company", "phone", "firstSeen", "lastSeen",
                  "city", "regionCode", "countryCode", "unsubscribed", "blocked", "source",
                  "referer", "lastPage", "locale", "createdFrom", "integrationId", "notes",
                  "tags", "customData" }, header)
    assert.equal(N, #rows)
    local ids = {}
    for i, row in ipairs(rows) do ids[i] = assert(tonumber(row.id)) end
    local stored = cli.stored(mock, ids)
    assert_exactly_the_store(mock, ids, stored)
    for i, row in ipairs(rows) do
      local c = stored[ids[i]]
      assert.equal(c.email or "", row.email)
      assert.equal(c.name or "", row.name)
      assert.equal(c.userId or "", row.userId)
      assert.equal(c.firstSeen and string.format("%d", c.firstSeen) or "", row.firstSeen)
      assert.equal(c.location and c.location.city or "", row.city)
      assert.equal(c.blocked == true and "true" or "false", row.blocked)
      local names = {}
      for j, t in ipairs(c.tags or {}) do names[j] = t.name end
      assert.equal(table.concat(names, ";"), row.tags)
      assert.same(c.customData or {}, assert(helpcrunch.decode(row.customData)))
    end
  end)

  -- Start an export slowed by the mock, wait for a checkpoint past `after`
  -- customers, and kill -9 it. Returns the checkpointed count.
  local function kill_midway(args, after)
    mock:config { delay_ms = 60 }
    local pid = cli.start(mock, args, dir)
    local ckpt = args[#args] .. ".checkpoint"
    local written
    cli.until_(function()
      local f = io.open(ckpt, "rb")
      if not f then return false end
      local cp = helpcrunch.decode(f:read("*a") or "")
      f:close()
      written = type(cp) == "table" and cp.written
      return written and written >= after
    end, 60, "a checkpoint past " .. after)
    cli.kill9(pid)
    mock:config { delay_ms = 0 }
    assert(written < N, "the export ended before it could be killed")
    assert.is_nil(io.open(args[#args], "rb"))          -- no output file yet
    return written
  end

  it("kill -9 in the middle, then --resume: every customer exactly once", function()
    local path = dir .. "/k.jsonl"
    local written = kill_midway({ "export", "-q", "-o", path }, 300)
    assert.equal(137, cli.status(dir))
    mock:clear_log()
    local r = cli.run(mock, { "export", "-o", path, "--resume" })
    assert.equal(0, r.code, r.err)
    assert.matches("resuming .- after " .. "%d+ customers", r.err)
    local list = jsonl_customers(H.read(path))
    local ids = ids_of(list)
    assert_exactly_the_store(mock, ids, cli.stored(mock, ids))
    assert.is_true(written >= 300)
    -- continued, not restarted: the resumed run read only the pages left
    -- (pages overlap by one customer: 99 new ones a page)
    local pages = 0
    for _, e in ipairs(mock:log()) do
      if e.method == "GET" and e.path == "/v1/customers" and e.query.limit ~= "1" then
        pages = pages + 1
      end
    end
    assert.is_true(pages <= math.ceil((N - written) / 99) + 1,
      "the resumed run read " .. pages .. " pages after " .. written .. " customers")
  end)

  it("kill -9 and --resume with churn on: the customers present throughout, once each", function()
    local before = {}
    do
      local r = cli.run(mock, { "export", "-q", "--format", "csv", "--columns", "id" })
      for i, l in ipairs(cli.lines(r.out)) do if i > 1 then before[#before + 1] = tonumber(l) end end
      assert.equal(N, #before)
    end
    mock:config { churn = 3 }
    local path = dir .. "/churn.csv"
    kill_midway({ "export", "-q", "-o", path }, 400)
    mock:config { churn = 3 }
    local r = cli.run(mock, { "export", "-o", path, "--resume" })
    assert.equal(0, r.code, r.err)
    local header, rows = csv_rows(path)
    assert.equal("id", header[1])
    local ids = {}
    for i, row in ipairs(rows) do ids[i] = tonumber(row.id) end
    assert.is_true(mock:count() > N)                       -- customers were inserted
    assert_exactly_the_store(mock, ids, cli.stored(mock, ids), before)
  end)

  it("a failed export leaves no output file, and --resume completes it", function()
    local path = dir .. "/f.jsonl"
    mock:config { delay_ms = 60 }
    cli.start(mock, { "export", "-q", "--rate", "1000/1", "-o", path }, dir)
    cli.until_(function() return io.open(path .. ".checkpoint", "rb") ~= nil end, 60)
    mock:fault { kind = "respond", status = 400, count = 100, method = "GET",
                 path = "/v1/customers",
                 body = '{"errors":[{"code":"validation_error","message":"offset value is invalid"}]}' }
    assert.equal(1, cli.status(dir))
    mock:clear_faults()
    mock:config { delay_ms = 0 }
    assert.is_nil(io.open(path, "rb"))
    local err = H.read(dir .. "/bg.err")
    assert.matches("offset value is invalid", err)
    assert.matches("run the same command with %-%-resume", err)
    local r = cli.run(mock, { "export", "-o", path, "--resume" })
    assert.equal(0, r.code, r.err)
    local ids = ids_of(jsonl_customers(H.read(path)))
    assert_exactly_the_store(mock, ids, cli.stored(mock, ids))
  end)

  it("Ctrl-C exits 130 and keeps what was written for --resume", function()
    local path = dir .. "/int.jsonl"
    mock:config { delay_ms = 60 }
    local pid = cli.start(mock, { "export", "-q", "-o", path }, dir)
    cli.until_(function() return io.open(path .. ".checkpoint", "rb") ~= nil end, 60)
    os.execute("kill -INT " .. pid)
    assert.equal(130, cli.status(dir))
    mock:config { delay_ms = 0 }
    assert.matches("interrupted", H.read(dir .. "/bg.err"))
    assert.is_nil(io.open(path, "rb"))
    local r = cli.run(mock, { "export", "-o", path, "--resume" })
    assert.equal(0, r.code, r.err)
    local ids = ids_of(jsonl_customers(H.read(path)))
    assert_exactly_the_store(mock, ids, cli.stored(mock, ids))
  end)
end)
