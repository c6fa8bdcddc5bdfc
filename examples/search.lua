--- Iterating and searching: all{} with max and page_size, a reusable search
-- query refined twice, tagged/tagged_any, first and count, early break.
--     HELPCRUNCH_API_KEY=... lua5.4 examples/search.lua      (or `make demo`)

local helpcrunch = require "helpcrunch"
local client = helpcrunch.new {}

-- page_size is per request, max is in all: 50 + 50 + 20 requests' worth.
local n = 0
for _ in client.customers:all { page_size = 50, max = 120, sort = "firstSeen" } do n = n + 1 end
print(("all{ page_size = 50, max = 120 } yielded %d customers"):format(n))

-- A base query, reused: nothing is sent until page/first/count/each.
local example = client.customers:search():where("email", "~", "example")
local leads = example:tagged("Lead")
print(("%d customers with 'example' in their email, %d of them tagged Lead"):format(
  assert(example:count()), assert(leads:count())))

for c in leads:sort("lastSeen", "desc"):limit(5):each() do
  print(("  lead #%d %s, last seen %s"):format(c.id, c.name or "?", tostring(c.lastSeen)))
end

local either = client.customers:search():tagged_any("Lead", "Paid")
print(("%d customers tagged Lead or Paid"):format(assert(either:count())))

local serge = client.customers:search():where("id", "=", 4994):first()
print("first match for id 4994: " .. (serge and serge.name or "none"))

-- A programmer error raises at once, before any request.
local ok, msg = pcall(function() return example:where("email", "<", "m") end)
print("email < 'm' -> " .. tostring(ok) .. ": " .. tostring(msg):gsub("^.-search:", "search:"))

-- Stop early: the prefetched page is cancelled when the loop ends.
for c in client.customers:all {} do -- luacheck: ignore 512 (one pass on purpose)
  print("the first customer of the default order: #" .. c.id)
  break
end
client:close()
