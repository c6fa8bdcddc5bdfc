--- A tour of helpcrunch-lua: list a page, get one customer, search, read
-- every customer, create one. Runs against the real API when
-- HELPCRUNCH_API_KEY is set, or against the bundled mock with `make demo`.
--     HELPCRUNCH_API_KEY=... lua5.4 examples/customers.lua

local helpcrunch = require "helpcrunch"

local client = helpcrunch.new {
  -- token and base_url default to HELPCRUNCH_API_KEY / HELPCRUNCH_BASE_URL
  on_request = os.getenv("HELPCRUNCH_VERBOSE") and function(e)
    io.stderr:write(string.format("  %s %s -> %s (%.3fs)\n", e.method, e.path,
      tostring(e.status or e.kind), e.seconds))
  end or nil,
}

local function show(c)
  local tags = {}
  for i, t in ipairs(c.tags or {}) do tags[i] = t.name end
  print(string.format("  #%-8d %-24s %-32s lastSeen=%-10s tags=%s", c.id, c.name or "-",
    c.email or "-", tostring(c.lastSeen or "-"), table.concat(tags, ",")))
end

-- One page, most recently seen first.
local page, err = client.customers:list { limit = 5, sort = "lastSeen", order = "desc" }
if not page then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(("%d customers in the account; the 5 seen last:"):format(page.total))
for _, c in ipairs(page.data) do show(c) end

-- One customer by HelpCrunch's id (its customData is a map, however it arrived).
local first = page.data[1]
local one = assert(client.customers:get(first.id))
print(("\ncustomer %d, %s:"):format(one.id, one.name or "?"))
for k, v in pairs(one.customData or {}) do print(("  customData[%q] = %s"):format(k, tostring(v))) end

-- A missing customer is an error value, not an exception.
local none, nerr = client.customers:get(1)
print("\nget(1): " .. tostring(none) .. ", " .. tostring(nerr))

-- Search: leads whose email contains "example".
local q = client.customers:search():where("email", "~", "example"):sort("lastSeen", "desc")
print(("\n%d customers with 'example' in their email; the first three:"):format(assert(q:count())))
for _, c in ipairs(assert(q:page { limit = 3 }).data) do show(c) end

-- Every customer, page after page (the next page is fetched while we work).
local n, with_email = 0, 0
for c in client.customers:all { sort = "firstSeen", order = "asc" } do
  n = n + 1
  if c.email then with_email = with_email + 1 end
end
print(("\nread all %d customers, %d with an email"):format(n, with_email))

-- Create one (skipped against the real API unless asked: it writes data).
if os.getenv("HELPCRUNCH_DEMO_CREATE") or os.getenv("HELPCRUNCH_BASE_URL") then
  local created, cerr = client.customers:create {
    name = "Ada Lovelace", email = "ada@example.com", userId = "crm-1815",
    customData = { plan = "pro" }, tags = { "vip", { name = "Lead", color = "#eb5a46" } },
  }
  if created then
    print(("\ncreated customer %d (%s), tags: %s, %s"):format(created.id, created.name,
      created.tags[1].name, created.tags[2].name))
  else
    print("\ncreate failed: " .. tostring(cerr))
  end
end
client:close()
