--- The mock's data: the seed pages' example customers and a seeded generator.
--
-- `customers(n, seed)` returns `n` customer entries: first the six customers shown in
-- the API's own pages (with exactly the values printed there, quirks included), then
-- generated ones. The same `(n, seed)` gives the same customers under Lua 5.4 and
-- LuaJIT. An entry is `{ customer = table, cd_order = {property...} | nil,
-- cd_list = boolean, created = unix time }`: `cd_list` marks customers whose
-- `customData` the single-customer endpoint sends as a `{property, value}` list.
-- @module helpcrunch.mock.data

local json = require "helpcrunch.mock.json"
local prng = require "helpcrunch.mock.prng"

local null, array = json.null, json.array
local tostring = tostring

local M = {}

--- Default colour of a tag created without one.
M.DEFAULT_TAG_COLOR = "#c377e0"

-- customData written as ordered pairs, so the seed's order survives.
local function custom(pairs_list)
  local map, order = {}, {}
  for i = 1, #pairs_list do
    local p = pairs_list[i]
    map[p[1]] = p[2]
    order[i] = p[1]
  end
  return map, order
end

local function tag(name, color) return { name = name, color = color } end

local UA_WIN_81 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
  .. "Chrome/81.0.4044.129 Safari/537.36"

-- The example customers of the seed pages, in the order the pages show them.
local function seed_entries()
  local entries = {}
  local function add(c, cd, list_on_single)
    local map, order = custom(cd)
    c.customData = map
    c.tags = array(c.tags)
    entries[#entries + 1] = { customer = c, cd_order = order, cd_list = list_on_single or false }
  end
  -- seed 000 (list, Ukrainian page)
  add({
    id = 265555, name = "test", email = "test@test.com", userId = "test123abc_1",
    company = "test123abc", phone = null, firstSeen = null, lastSeen = 1588603952,
    location = { regionCode = "CA", countryCode = "US", city = "Los Angeles" },
    device = { id = 28874635, ip = "192.168.1.1", timezone = "America/Los Angeles",
               platform = "desktop", userAgent = UA_WIN_81 },
    unsubscribed = false, blocked = false, source = "https://helpcrunch.com/",
    referer = "https://google.com/", locale = "en", notes = null,
    lastPage = "https://helpcrunch.com/zendesk-alternative.html",
    tags = { tag("direct", "#0079bf") },
  }, {
    { "Currency", "USD" }, { "Next payment date", "2020-09-01 00:40:00" },
    { "Billing info added", true }, { "Number of payments", 35 },
    { "Subscription status", "active" },
  })
  add({
    id = 265580, name = "Lana Del Red", email = "lana.red@example.com", userId = null,
    company = null, phone = null, firstSeen = null, lastSeen = null,
    location = { regionCode = null, countryCode = null, city = null }, device = null,
    unsubscribed = false, blocked = false, source = null, referer = null, locale = null,
    notes = null, lastPage = null, tags = { tag("direct", "#0079bf") },
  }, { { "Tried Something", false } })
  add({
    id = 4994, name = "Serge Merge", email = "serge.merge@example.com", userId = "example_261",
    company = "example", phone = null, firstSeen = null, lastSeen = null,
    location = { regionCode = null, countryCode = null, city = null }, device = null,
    unsubscribed = false, blocked = false, source = null, referer = null, locale = null,
    notes = null, lastPage = null,
    tags = { tag("Lead", "#eb5a46"), tag("Feature Request", "#0079bf"), tag("Paid", "#61bd4f") },
  }, {
    { "Plan", "Premium" }, { "segment", null }, { "Currency", "EUR" },
    { "Became payer at", "2020-09-13 00:00:00" }, { "Next payment date", "2020-10-13 00:40:00" },
    { "Billing info added", true }, { "Number of payments", 1 },
    { "Subscription status", "suspended" },
  })
  add({
    id = 7831682, name = "Vlad Darkula", email = "vlad.dark@transylmania.com",
    userId = "transylmania_6996", company = "transylmania", phone = null,
    firstSeen = 1593068924, lastSeen = 1593093642,
    location = { regionCode = "40", countryCode = "RO", city = "Cluj-Napoca" },
    device = { id = 28889690, ip = "192.168.1.2", timezone = "Europe/Kiev", platform = "desktop",
               userAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_4) AppleWebKit/537.36 "
                 .. "(KHTML, like Gecko) Chrome/83.0.4103.97 Safari/537.36" },
    unsubscribed = true, blocked = true, source = "https://www.blood.co.uk/", referer = null,
    locale = "ro", notes = null,
    lastPage = "https://www.blood.co.uk/who-can-give-blood/getting-an-appointment-to-give-blood/",
    tags = {},
  }, {
    { "Plan", "Enterprise (Unlimited) $9999/mo" }, { "segment", "PotentialChurn_premium_seg1" },
    { "Currency", "USD" }, { "Emails sent", 621 }, { "Next payment date", "2020-09-01 00:40:00" },
    { "Billing info added", true }, { "Number of payments", 35 },
    { "Subscription status", "active" },
  })
  -- seed 003 (single customer): its customData comes as a {property, value} list
  add({
    id = 8737843, name = "Cindy Mindy", email = "cindy.mindy@example.com",
    userId = "example_6268", company = "example", phone = null,
    firstSeen = 1588927354, lastSeen = 1591627673,
    location = { regionCode = "CA", countryCode = "US", city = "San Francisco" },
    device = { id = 28883192, ip = "192.168.1.1", timezone = "America/Los Angeles",
               platform = "desktop",
               userAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_1) AppleWebKit/537.36 "
                 .. "(KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36" },
    unsubscribed = false, blocked = false,
    source = "http://helpcrunch.com/blog/best-live-chat-software/",
    referer = "https://www.google.com/", locale = "en", notes = null,
    lastPage = "https://example.helpcrunch.com/v2/chats",
    tags = { tag("lead", "#00c2e0") },
  }, {
    { "Role", "admin" }, { "Plan", "Enterprise (Unlimited) $9999/mo" },
    { "segment", "PotentialChurn_premium_seg1" }, { "Currency", "USD" }, { "Emails sent", 621 },
    { "Trial end date", "2017-07-24 14:30:00" }, { "Became payer at", "2017-09-13 00:00:00" },
    { "Registered date", "2017-07-10 14:30:00" }, { "Next payment date", "2020-09-01 00:40:00" },
    { "Billing info added", true }, { "Number of payments", 35 },
    { "Subscription status", "active" },
  }, true)
  -- seeds 001/002/004 (list, search, create): string timestamps, createdFrom, integrationId.
  -- The email is printed as "[email protected]" on those pages; kept exactly.
  add({
    id = 542335, name = "John Doe", email = "[email protected]", userId = "user_1234567890",
    company = "Example Inc.", phone = "+10233456781",
    firstSeen = "1603885746", lastSeen = "1603885746",
    location = { regionCode = "Kyyivs'ka Oblast", countryCode = "UA", city = "Kyiv" },
    device = { id = 542335, ip = "192.168.1.1", timezone = "Europe/Kiev", platform = "desktop",
               userAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
                 .. "(KHTML, like Gecko) Chrome/86.0.4240.111 Safari/537.36" },
    unsubscribed = false, blocked = false, source = "https://example.com",
    referer = "https://example.com", lastPage = "https://example.com", locale = "uk",
    createdFrom = "telegram", integrationId = "465847687", notes = "Lorem ipsum",
    tags = { tag("vip", "#ff0000") },
  }, {
    { "subscription_status", "active" }, { "number_of_payments", 15 },
    { "last_paid_amount", 15.99 }, { "last_payment_date", 1603885746 },
    { "last_invoice_url", "https://example.com/invoice.html" },
    { "last_payment_was_successful", true },
  })
  for _, e in ipairs(entries) do
    local c = e.customer
    e.created = tonumber(c.firstSeen) or tonumber(c.lastSeen) or 1500000000
  end
  return entries
end

--- The ids of the seed pages' example customers, in the order they come first.
M.SEED_IDS = { 265555, 265580, 4994, 7831682, 8737843, 542335 }

-- Pools for generated customers: {display, ascii} so emails stay ASCII.
local FIRST = {
  { "Olena", "olena" }, { "Taras", "taras" }, { "José", "jose" }, { "Zoë", "zoe" },
  { "Łukasz", "lukasz" }, { "Ümit", "umit" }, { "Søren", "soren" }, { "Ana", "ana" },
  { "Mei", "mei" }, { "李", "li" }, { "Дмитро", "dmytro" }, { "Αλέξανδρος", "alexandros" },
  { "Chloé", "chloe" }, { "Mohammed", "mohammed" }, { "Aiko", "aiko" }, { "Noah", "noah" },
  { "Emma", "emma" }, { "Liam", "liam" }, { "Fatima", "fatima" }, { "Björk", "bjork" },
  { "John", "john" }, { "Ірина", "iryna" },
}
local LAST = {
  { "Kovalenko", "kovalenko" }, { "García", "garcia" }, { "Müller", "muller" },
  { "Smith", "smith" }, { "Nowak", "nowak" }, { "Шевченко", "shevchenko" },
  { "O'Brien", "obrien" }, { "Nguyễn", "nguyen" }, { "Rossi", "rossi" },
  { "Yılmaz", "yilmaz" }, { "Dubois", "dubois" }, { "van der Berg", "vanderberg" },
  { "王", "wang" }, { "Jensen", "jensen" }, { "Silva", "silva" }, { "Doe", "doe" },
}
local ODD_NAMES = { 'Bob "Tables" \\ Drop', "🦊 Fox", "Tab\tSeparated", "Zażółć Gęślą" }
local DOMAINS = { "gmail.com", "gmail.com", "gmail.com", "example.com", "yahoo.com",
                  "outlook.com", "ukr.net", "acme.io" }
local COMPANIES = { "Acme Inc.", "Globex", "Initech", "Umbrella", "ТОВ Ромашка",
                    "Stark Industries", "example", "Müller & Söhne GmbH" }
local PLACES = {
  { "CA", "US", "Los Angeles" }, { "NY", "US", "New York" }, { "30", "UA", "Kyiv" },
  { "46", "UA", "Lviv" }, { "BE", "DE", "Berlin" }, { "IDF", "FR", "Paris" },
  { "MD", "ES", "Madrid" }, { "14", "PL", "Warszawa" }, { "13", "JP", "東京" },
  { "40", "RO", "Cluj-Napoca" }, { "ENG", "GB", "London" },
}
local TIMEZONES = { "America/Los Angeles", "America/New_York", "Europe/Kiev", "Europe/Berlin",
                    "Europe/Paris", "Asia/Tokyo" }
local AGENTS = {
  UA_WIN_81,
  "Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit/605.1.15 "
    .. "(KHTML, like Gecko) Version/14.0 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
}
local TAGS = {
  { "Lead", "#eb5a46" }, { "Paid", "#61bd4f" }, { "Feature Request", "#0079bf" },
  { "direct", "#0079bf" }, { "vip", "#ff0000" }, { "lead", "#00c2e0" },
  { "trial", "#f2d600" }, { "Клієнт", "#c377e0" }, { "churned", "#b04632" },
}
local LOCALES = { "en", "en", "uk", "de", "es", "fr", "pl", "ja" }
local SOURCES = { "https://example.com", "https://helpcrunch.com/", "https://www.google.com/",
                  "https://t.me/example_bot" }
local NOTES = { "Lorem ipsum", "Called on Monday.\nWants a demo.", "Платить щомісяця",
                "VIP — treat with care ☕" }
local PLANS = { "Basic", "Premium", "Enterprise (Unlimited) $9999/mo", "Free" }
local EXTRA_IDS = { "telegramId", "facebookId", "instagramId", "viberId", "whatsappId" }

local function timestamp(rng, lo, hi)
  local t = rng:int(lo, hi)
  if rng:chance(0.2) then return tostring(t) end   -- the API's quirk: numeric strings
  return t
end

local function date_string(rng)
  return string.format("20%02d-%02d-%02d %02d:%02d:00", rng:int(17, 24), rng:int(1, 12),
    rng:int(1, 28), rng:int(0, 23), rng:pick({ 0, 15, 30, 40 }))
end

--- Generate one customer (deterministic for a given generator state).
-- @tparam table rng a `helpcrunch.mock.prng` generator
-- @tparam integer id the customer's id
-- @treturn table entry `{customer, cd_order, cd_list, created}`
function M.generate(rng, id)
  local first, last = rng:pick(FIRST), rng:pick(LAST)
  local c = { id = id }
  local r = rng:float()
  if r < 0.05 then
    c.name = null
  elseif r < 0.07 then
    c.name = rng:pick(ODD_NAMES)
  else
    c.name = first[1] .. " " .. last[1]
  end
  if rng:chance(0.07) then
    c.email = null
  else
    c.email = first[2] .. "." .. last[2] .. (id % 1000) .. "@" .. rng:pick(DOMAINS)
  end
  c.userId = rng:chance(0.7) and ("crm_" .. id) or null
  c.company = rng:chance(0.4) and rng:pick(COMPANIES) or null
  c.phone = rng:chance(0.4) and ("+380" .. rng:int(100000000, 999999999)) or null

  local fs
  r = rng:float()
  if r < 0.1 then
    c.firstSeen = null
  elseif r < 0.15 then
    fs = 1600000000                     -- shared value: ties are broken by id
    c.firstSeen = fs
  else
    c.firstSeen = timestamp(rng, 1262304000, 1700000000)
    fs = tonumber(c.firstSeen)
  end
  if not fs and rng:chance(0.5) then
    c.lastSeen = null
  else
    local base = fs or 1400000000
    c.lastSeen = timestamp(rng, base, base + 20000000)
  end

  r = rng:float()
  if r < 0.7 then
    local p = rng:pick(PLACES)
    c.location = { regionCode = p[1], countryCode = p[2], city = p[3] }
  else
    c.location = { regionCode = null, countryCode = null, city = null }
  end
  if rng:chance(0.6) then
    c.device = { id = 28800000 + id % 100000, ip = "192.0.2." .. rng:int(1, 254),
                 timezone = rng:pick(TIMEZONES),
                 platform = rng:chance(0.7) and "desktop" or "mobile",
                 userAgent = rng:pick(AGENTS) }
  else
    c.device = null
  end
  c.unsubscribed = rng:chance(0.1)
  c.blocked = rng:chance(0.03)
  c.source = rng:chance(0.5) and rng:pick(SOURCES) or null
  c.referer = rng:chance(0.4) and rng:pick(SOURCES) or null
  c.lastPage = rng:chance(0.5) and (rng:pick(SOURCES) .. "pricing") or null
  c.locale = rng:chance(0.8) and rng:pick(LOCALES) or null
  if rng:chance(0.5) then              -- newer accounts carry these two; older ones lack them
    c.createdFrom = rng:pick({ "widget", "telegram", "api", "email", "facebook" })
    c.integrationId = rng:chance(0.5) and tostring(rng:int(100000000, 999999999)) or null
  end
  c.notes = rng:chance(0.2) and rng:pick(NOTES) or null

  local tags = array({})
  local ntags = rng:int(0, 3)
  local seen = {}
  for _ = 1, ntags do
    local t = rng:pick(TAGS)
    if not seen[t[1]] then
      seen[t[1]] = true
      tags[#tags + 1] = { name = t[1], color = t[2] }
    end
  end
  c.tags = tags

  local entry = { customer = c, cd_list = false }
  r = rng:float()
  if r < 0.08 then
    c.customData = null
  elseif r < 0.16 then
    c.customData = {}
    entry.cd_order = {}
  else
    local cd = {}
    cd[#cd + 1] = { "Plan", rng:pick(PLANS) }
    if rng:chance(0.6) then cd[#cd + 1] = { "Currency", rng:pick({ "USD", "EUR", "UAH" }) } end
    if rng:chance(0.5) then cd[#cd + 1] = { "Number of payments", rng:int(0, 60) } end
    if rng:chance(0.4) then cd[#cd + 1] = { "Next payment date", date_string(rng) } end
    if rng:chance(0.4) then cd[#cd + 1] = { "Billing info added", rng:chance(0.5) } end
    if rng:chance(0.2) then cd[#cd + 1] = { "segment", null } end
    if rng:chance(0.3) then cd[#cd + 1] = { "last_payment_date", rng:int(1500000000, 1700000000) } end
    if rng:chance(0.3) then cd[#cd + 1] = { "last_paid_amount", rng:int(100, 99999) / 100 } end
    c.customData, entry.cd_order = custom(cd)
    entry.cd_list = rng:chance(0.25)
  end
  if rng:chance(0.1) then               -- fields a client does not know about
    c[rng:pick(EXTRA_IDS)] = tostring(rng:int(10000000, 99999999))
    if rng:chance(0.5) then c.rating = rng:int(0, 50) / 10 end
    if rng:chance(0.5) then c.verified = rng:chance(0.5) end
  end
  entry.created = fs or tonumber(c.lastSeen) or (1500000000 + id)
  return entry
end

--- The dataset: the seed customers first, then generated ones, `n` in all.
-- @tparam integer n how many customers (fewer than 6 keeps only the first seeds)
-- @tparam integer seed the generator seed
-- @treturn table list of entries
function M.customers(n, seed)
  local seeds = seed_entries()
  local out = {}
  local taken = {}
  for i = 1, math.min(n, #seeds) do
    out[i] = seeds[i]
    taken[seeds[i].customer.id] = true
  end
  local rng = prng.new(seed, 1)
  local id = 1000
  for i = #out + 1, n do
    id = id + rng:int(1, 60)
    while taken[id] do id = id + 1 end
    out[i] = M.generate(rng, id)
  end
  return out
end

--- Read a customer for `--data`, churn copies and tests: a deep copy.
-- @param v any decoded JSON value
-- @return a copy (arrays keep `json.array_mt`)
function M.copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = M.copy(x) end
  return setmetatable(t, getmetatable(v))
end

return M
