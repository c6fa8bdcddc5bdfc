--- The mock's customer store: records, orders, cached JSON.
--
-- A record wraps one stored customer:
-- `{ id, c = customer, cd_order, cd_list, created, first, last, json, json1 }`
-- where `first`/`last` are `firstSeen`/`lastSeen` as numbers (nil when null or not a
-- number), `json` is the customer encoded for lists and search results (customData as
-- an object) and `json1` the encoding for `GET /customers/{id}` (customData as a
-- `{property, value}` list when `cd_list`). Both are built on first use and dropped
-- when the record changes.
--
-- Orders: ascending sorts by the key with null last, ties by id ascending; descending is
-- the exact reverse (null first, ties by id descending). Sorted arrays are cached per
-- order until the store changes.
-- @module helpcrunch.mock.store

local json = require "helpcrunch.mock.json"
local data = require "helpcrunch.mock.data"

local null, array_mt = json.null, json.array_mt
local encode, encode_string = json.encode, json.string
local type, tonumber, pairs, ipairs = type, tonumber, pairs, ipairs
local concat, sort, move = table.concat, table.sort, table.move
local setmetatable = setmetatable

local M = {}

local FIELD_ORDER = {
  "id", "name", "email", "userId", "company", "phone", "firstSeen", "lastSeen", "location",
  "device", "unsubscribed", "blocked", "source", "referer", "lastPage", "locale",
  "createdFrom", "integrationId", "notes", "tags", "customData",
}
local KNOWN = {}
for _, k in ipairs(FIELD_ORDER) do KNOWN[k] = true end
M.FIELD_ORDER = FIELD_ORDER

--- A timestamp value as a number: integers as they are, numeric strings converted,
-- anything else (null, dates as text) nil.
-- @param v
-- @treturn number|nil
function M.timestamp(v)
  local t = type(v)
  if t == "number" then return v end
  if t == "string" and v:find("^%-?%d+$") then return tonumber(v) end
  return nil
end
local timestamp = M.timestamp

-- Customer encoding. This runs once per customer and change (the result is cached),
-- but a 100,000-customer mock encodes every customer on the first full read, so it
-- writes into one buffer per customer with precomputed key prefixes instead of going
-- through the generic encoder.

local function sorted_keys(t, skip)
  local keys = {}
  for k in pairs(t) do
    if not (skip and skip[k]) then keys[#keys + 1] = tostring(k) end
  end
  sort(keys)
  return keys
end

local function leaf(v)
  local tv = type(v)
  if tv == "string" then return encode_string(v) end
  if tv == "number" then return json.number(v) end
  if tv == "boolean" then return v and "true" or "false" end
  return encode(v)
end

-- An object whose usual keys come in a known order; any other keys follow, sorted.
local function layout(order)
  local l = { keys = order, set = {}, first = {}, next = {} }
  for _, k in ipairs(order) do
    l.set[k] = true
    l.first[k] = "{" .. encode_string(k) .. ":"
    l.next[k] = "," .. encode_string(k) .. ":"
  end
  return l
end

-- Close an object whose `present` known keys (`known` set) are written:
-- first any other keys of t, sorted, then the brace. Returns the new n.
local function put_rest(buf, n, t, known, first, present)
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  if count > present then
    for _, k in ipairs(sorted_keys(t, known)) do
      n = n + 1
      buf[n] = (first and "{" or ",") .. encode_string(k) .. ":"
      first = false
      n = n + 1
      buf[n] = encode(t[k])
    end
  end
  n = n + 1
  buf[n] = first and "{}" or "}"
  return n
end

local function put_object(buf, n, t, l)
  local first, present = true, 0
  for _, k in ipairs(l.keys) do
    local v = t[k]
    if v ~= nil then
      present = present + 1
      n = n + 1
      buf[n] = first and l.first[k] or l.next[k]
      first = false
      n = n + 1
      buf[n] = leaf(v)
    end
  end
  return put_rest(buf, n, t, l.set, first, present)
end

local CUSTOMER = layout(FIELD_ORDER)
local SUB = {
  location = layout({ "regionCode", "countryCode", "city" }),
  device = layout({ "id", "ip", "timezone", "platform", "userAgent" }),
}
local TAG = layout({ "name", "color" })

local function custom_keys(rec, cd)
  local order = rec.cd_order
  if order then
    local count = 0
    for _ in pairs(cd) do count = count + 1 end
    if count == #order then
      local ok = true
      for i = 1, #order do
        if cd[order[i]] == nil then ok = false break end
      end
      if ok then return order end
    end
    local keys, seen = {}, {}
    for _, k in ipairs(order) do
      if cd[k] ~= nil and not seen[k] then
        keys[#keys + 1] = k
        seen[k] = true
      end
    end
    for _, k in ipairs(sorted_keys(cd, seen)) do keys[#keys + 1] = k end
    return keys
  end
  return sorted_keys(cd)
end

local function put_custom(buf, n, rec, cd, as_list)
  local keys = custom_keys(rec, cd)
  if #keys == 0 then
    n = n + 1
    buf[n] = as_list and "[]" or "{}"
    return n
  end
  for i, k in ipairs(keys) do
    n = n + 1
    if as_list then
      buf[n] = (i == 1 and '[{"property":' or ',{"property":') .. encode_string(k) .. ',"value":'
      n = n + 1
      buf[n] = leaf(cd[k])
      n = n + 1
      buf[n] = "}"
    else
      buf[n] = (i == 1 and "{" or ",") .. encode_string(k) .. ":"
      n = n + 1
      buf[n] = leaf(cd[k])
    end
  end
  n = n + 1
  buf[n] = as_list and "]" or "}"
  return n
end

local function put_tags(buf, n, tags)
  n = n + 1
  buf[n] = "["
  for i = 1, #tags do
    if i > 1 then
      n = n + 1
      buf[n] = ","
    end
    local t = tags[i]
    if type(t) == "table" then
      n = put_object(buf, n, t, TAG)
    else
      n = n + 1
      buf[n] = encode(t)
    end
  end
  n = n + 1
  buf[n] = "]"
  return n
end

local function encode_customer(rec, single)
  local c = rec.c
  local buf, n, first, present = {}, 0, true, 0
  local l = CUSTOMER
  for _, k in ipairs(FIELD_ORDER) do
    local v = c[k]
    if v ~= nil then
      present = present + 1
      n = n + 1
      buf[n] = first and l.first[k] or l.next[k]
      first = false
      if type(v) ~= "table" then
        n = n + 1
        buf[n] = leaf(v)
      elseif k == "customData" then
        n = put_custom(buf, n, rec, v, single and rec.cd_list)
      elseif k == "tags" then
        n = put_tags(buf, n, v)
      elseif SUB[k] then
        n = put_object(buf, n, v, SUB[k])
      else
        n = n + 1
        buf[n] = encode(v)
      end
    end
  end
  n = put_rest(buf, n, c, KNOWN, first, present)
  return concat(buf, "", 1, n)
end

--- Turn a customer as found in a `--data` file into a store entry.
-- `customData` given as a `{property, value}` list becomes a map (order kept) and
-- marks the customer for the list form on `GET /customers/{id}`.
-- @tparam table c decoded customer (must have a positive integer `id`)
-- @return entry, or nil and a message
function M.entry(c)
  if type(c) ~= "table" then return nil, "a customer must be an object" end
  local id = c.id
  if type(id) ~= "number" or id < 1 or id ~= math.floor(id) then
    return nil, "a customer needs a positive integer id"
  end
  c.id = math.tointeger and math.tointeger(id) or id
  local e = { customer = c, cd_list = false }
  local cd = c.customData
  if type(cd) == "table" and cd[1] ~= nil and type(cd[1]) == "table" and cd[1].property ~= nil then
    local map, order = {}, {}
    for i, p in ipairs(cd) do
      map[tostring(p.property)] = p.value == nil and null or p.value
      order[i] = tostring(p.property)
    end
    c.customData, e.cd_order, e.cd_list = map, order, true
  end
  if type(c.tags) == "table" then setmetatable(c.tags, array_mt) end
  e.created = timestamp(c.createdAt) or timestamp(c.firstSeen) or timestamp(c.lastSeen) or 0
  return e
end

local Store = {}
Store.__index = Store

--- Create a store.
-- @tparam table entries list of entries (see `helpcrunch.mock.data`)
-- @treturn table store
function M.new(entries)
  local self = setmetatable({
    recs = {}, by_id = {}, max_id = 0, min_id = nil, version = 0,
    orders = {}, tags = {},
  }, Store)
  for _, e in ipairs(entries) do
    self:add(e)
  end
  return self
end

--- Add an entry (replacing any customer with the same id).
-- @tparam table e entry
-- @treturn table the record
function Store:add(e)
  local c = e.customer
  local id = c.id
  local rec = {
    id = id, c = c, cd_order = e.cd_order, cd_list = e.cd_list or false,
    created = e.created or 0,
    first = timestamp(c.firstSeen), last = timestamp(c.lastSeen),
  }
  local old = self.by_id[id]
  if old then
    for i, r in ipairs(self.recs) do
      if r == old then self.recs[i] = rec break end
    end
  else
    self.recs[#self.recs + 1] = rec
  end
  self.by_id[id] = rec
  if id > self.max_id then self.max_id = id end
  if not self.min_id or id < self.min_id then self.min_id = id end
  self:remember_tags(c.tags)
  self.version = self.version + 1
  self.orders = {}
  return rec
end

--- Keep the colour of each tag the account has not seen yet (the first one wins).
-- @tparam table|nil tags list of `{name, color}`
function Store:remember_tags(tags)
  if type(tags) ~= "table" then return end
  for _, t in ipairs(tags) do
    if type(t) == "table" and type(t.name) == "string" and not self.tags[t.name] then
      self.tags[t.name] = t.color
    end
  end
end

--- After a record's customer was changed in place: its sort keys are read again, its
-- cached JSON dropped, its tags remembered, and every order and search sorted anew.
-- @tparam table rec
function Store:touch(rec)
  local c = rec.c
  rec.first, rec.last = timestamp(c.firstSeen), timestamp(c.lastSeen)
  rec.json, rec.json1 = nil, nil
  self:remember_tags(c.tags)
  self.version = self.version + 1
  self.orders = {}
end

--- Remove the customer with this id (a no-op when there is none).
-- @tparam integer id
-- @treturn table|nil the removed record
function Store:remove(id)
  local rec = self.by_id[id]
  if not rec then return nil end
  self.by_id[id] = nil
  for i = #self.recs, 1, -1 do
    if self.recs[i] == rec then table.remove(self.recs, i) break end
  end
  self.version = self.version + 1
  self.orders = {}
  return rec
end

--- The record with this id, or nil.
-- @tparam integer id
-- @treturn table|nil
function Store:get(id)
  return self.by_id[id]
end

--- Number of customers.
-- @treturn integer
function Store:count()
  return #self.recs
end

--- The first record with this userId, or nil.
-- @tparam string user_id
-- @treturn table|nil
function Store:find_user(user_id)
  for _, r in ipairs(self.recs) do
    if r.c.userId == user_id then return r end
  end
end

--- The colour a tag already has in the account, or nil.
-- @tparam string name
-- @treturn string|nil
function Store:tag_color(name)
  return self.tags[name]
end

-- field: "id" | "first" | "last" (record keys)
local function less_asc(key)
  return function(a, b)
    local x, y = a[key], b[key]
    if x == y then return a.id < b.id end
    if x == nil then return false end
    if y == nil then return true end
    return x < y
  end
end
local LESS = {
  id = { asc = function(a, b) return a.id < b.id end, desc = function(a, b) return a.id > b.id end },
}
for _, key in ipairs({ "first", "last" }) do
  local asc = less_asc(key)
  LESS[key] = { asc = asc, desc = function(a, b) return asc(b, a) end }
end
M.LESS = LESS

--- All records in an order (a cached array: do not modify).
-- @tparam string key "id", "first" (firstSeen) or "last" (lastSeen)
-- @tparam string dir "asc" or "desc"
-- @treturn table array of records
function Store:ordered(key, dir)
  local name = key .. ":" .. dir
  local list = self.orders[name]
  if not list then
    list = move(self.recs, 1, #self.recs, 1, {})
    sort(list, LESS[key][dir])
    self.orders[name] = list
  end
  return list
end

--- Insert entries known to sort before every existing record in one order, and keep
-- that order's cache by prepending rather than sorting again.
-- @tparam table entries the new entries, each sorting before the previous one
-- @tparam string key
-- @tparam string dir
function Store:insert_first(entries, key, dir)
  local old = self:ordered(key, dir)
  local recs = {}
  for i, e in ipairs(entries) do recs[i] = self:add(e) end
  local list, n = {}, #recs
  for i = 1, n do list[i] = recs[n + 1 - i] end
  move(old, 1, #old, n + 1, list)
  self.orders[key .. ":" .. dir] = list
end

--- The record encoded as JSON (cached).
-- @tparam table rec
-- @tparam boolean single true for `GET /customers/{id}` (customData list form when marked)
-- @treturn string
function M.encoded(rec, single)
  if single and rec.cd_list then
    local s = rec.json1
    if not s then s = encode_customer(rec, true) rec.json1 = s end
    return s
  end
  local s = rec.json
  if not s then s = encode_customer(rec, false) rec.json = s end
  return s
end

--- Encode every customer now, so the first full read is as fast as the next ones.
function Store:warm()
  for _, rec in ipairs(self.recs) do
    M.encoded(rec, false)
    if rec.cd_list then M.encoded(rec, true) end
  end
end

--- A deep copy of the stored customer (what `GET /_mock/customers/{id}` shows).
-- @tparam table rec
-- @treturn table
function M.raw(rec)
  return data.copy(rec.c)
end

return M
