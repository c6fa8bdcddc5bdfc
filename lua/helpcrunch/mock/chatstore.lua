--- The mock's conversation state: chats, their messages, the team, and how they are
-- served (encoding, orders, search fields, churn, webhooks).
--
-- Chats and messages are the records of `helpcrunch.mock.conversations`. A chat's
-- `customer` is a customer id of the customers store; it is served as
-- `{id, name, email, userId}` read from that store at the time of the request (the last
-- known values if the customer was deleted). Timestamps are kept as numbers and served
-- in the chat's `form` (`int` 1597758468, `string` "1597758468", `frac`
-- "1597758468.913"), like the API's mix (API-REFERENCE.md §8); messages as fractional
-- strings ("1594139170.913") or, for some, strings of whole seconds.
-- @module helpcrunch.mock.chatstore

local json = require "helpcrunch.mock.json"
local conversations = require "helpcrunch.mock.conversations"
local prng = require "helpcrunch.mock.prng"
local webhooks = require "helpcrunch.mock.webhooks"

local null, array = json.null, json.array
local type, ipairs, pairs, tonumber = type, ipairs, pairs, tonumber
local floor, format = math.floor, string.format
local sort, move = table.sort, table.move

local M = {}

local Store = {}
Store.__index = Store


local function by_id(list)
  local t = {}
  for _, x in ipairs(list) do t[x.id] = x end
  return t
end

--- Build the state of a mock from its customers store.
-- @tparam table customers the customers store (`helpcrunch.mock.store`)
-- @tparam integer seed
-- @tparam[opt] integer n chats in all (default `conversations.default_count`)
-- @treturn table the store
function M.new(customers, seed, n)
  local ids = {}
  for i, rec in ipairs(customers.recs) do ids[i] = rec.id end
  n = n or conversations.default_count(#ids)
  local d = conversations.generate(ids, seed, n)
  local self = setmetatable({
    customers = customers, recs = {}, by_id = {}, messages = {}, orders = {}, version = 0,
    max_id = 0, min_id = nil, max_msg = 0, snapshots = {},
    agents = by_id(conversations.AGENTS), departments = by_id(conversations.DEPARTMENTS),
    applications = by_id(conversations.APPLICATIONS),
    churn_rng = prng.new(seed, 7),
  }, Store)
  for _, c in ipairs(d.chats) do self:add(c, d.messages[c.id]) end
  return self
end

--- Add a chat (and its messages, oldest first).
-- @tparam table chat record
-- @tparam[opt] table msgs
-- @treturn table the chat
function Store:add(chat, msgs)
  self.recs[#self.recs + 1] = chat
  self.by_id[chat.id] = chat
  msgs = msgs or {}
  self.messages[chat.id] = msgs
  for _, m in ipairs(msgs) do
    if m.id > self.max_msg then self.max_msg = m.id end
  end
  if chat.id > self.max_id then self.max_id = chat.id end
  if not self.min_id or chat.id < self.min_id then self.min_id = chat.id end
  self:snapshot(chat.customer)
  self:changed()
  return chat
end

--- Something changed: cached orders go.
function Store:changed()
  self.version = self.version + 1
  self.orders = {}
end

--- Remember a customer's short form, for when it is deleted later.
function Store:snapshot(id)
  local rec = self.customers:get(id)
  if rec then
    local c = rec.c
    self.snapshots[id] = { id = id, name = c.name, email = c.email, userId = c.userId }
  end
end

--- The chat with this id, or nil.
function Store:get(id) return self.by_id[id] end

--- Number of chats; number of messages.
function Store:count()
  local n = 0
  for _, list in pairs(self.messages) do n = n + #list end
  return #self.recs, n
end

-- Orders -------------------------------------------------------------------------

local LESS = {}
local function less_asc(key)
  return function(a, b)
    local x, y = a[key], b[key]
    if x == y then return a.id < b.id end
    if x == nil then return false end
    if y == nil then return true end
    return x < y
  end
end
for _, key in ipairs({ "id", "createdAt", "updatedAt", "closedAt", "lastMessageAt",
                       "lastCustomerMessageAt" }) do
  local asc = less_asc(key)
  LESS[key] = { asc = asc, desc = function(a, b) return asc(b, a) end }
end

--- Every chat in an order (ascending: nulls last, ties by id; descending: the reverse).
-- A cached array: do not modify.
-- @tparam string key "id" or a timestamp field
-- @tparam string dir "asc" | "desc"
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

--- A chat's messages, newest first (createdAt descending, ties by id descending).
function Store:messages_newest_first(chat)
  local msgs = self.messages[chat.id]
  local out = move(msgs, 1, #msgs, 1, {})
  sort(out, function(a, b)
    if a.ms == b.ms then return a.id > b.id end
    return a.ms > b.ms
  end)
  return out
end

-- Encoding ---------------------------------------------------------------------

local function stamp(seconds, form, ms)
  if seconds == nil then return null end
  if form == "string" then return format("%d", seconds) end
  if form == "frac" then return format("%d.%03d", seconds, ms or 0) end
  return seconds
end

local function ms_stamp(ms, form)
  local s = floor(ms / 1000)
  if form == "string" then return format("%d", s) end
  return format("%d.%03d", s, ms - s * 1000)
end

local function or_null(v)
  if v == nil then return null end
  return v
end

--- An agent as chats and messages show it, or null.
function Store:agent_view(id)
  local a = id and self.agents[id]
  if not a then return null end
  return { id = a.id, name = a.name, email = a.email, role = a.role }
end

--- A department as chats show it, or null.
function Store:department_view(id)
  local d = id and self.departments[id]
  if not d then return null end
  return { id = d.id, name = d.name }
end

--- A chat's customer in short form.
function Store:customer_view(id)
  local rec = self.customers:get(id)
  local c = rec and rec.c or self.snapshots[id] or { id = id }
  return { id = id, name = or_null(c.name), email = or_null(c.email), userId = or_null(c.userId) }
end

--- A chat as the REST API serves it.
-- @tparam table chat
-- @treturn table for `json.encode`
function Store:chat_view(chat)
  local f, ms = chat.form, chat.ms
  local agents = array({})
  for i, id in ipairs(chat.agents) do agents[i] = self:agent_view(id) end
  local agents_out = agents
  if chat.agents_object and #agents == 1 then agents_out = agents[1] end
  return {
    id = chat.id, status = chat.spelling, closedBy = or_null(chat.closedBy),
    rating = or_null(chat.rating), createdAt = stamp(chat.createdAt, f, ms),
    updatedAt = stamp(chat.updatedAt, f, ms), closedAt = stamp(chat.closedAt, f, ms),
    lastMessageAt = stamp(chat.lastMessageAt, f, ms),
    lastCustomerMessageAt = stamp(chat.lastCustomerMessageAt, f, ms),
    snoozedUntil = chat.snoozedUntil and format("%d.000", chat.snoozedUntil) or null,
    createdWith = or_null(chat.createdWith), lastMessageText = or_null(chat.lastMessageText),
    lastMessageId = or_null(chat.lastMessageId), applicationId = or_null(chat.applicationId),
    lastCommunicatedAgentId = or_null(chat.lastCommunicatedAgentId),
    readByAgent = chat.readByAgent, readByCustomer = chat.readByCustomer,
    agents = agents_out, customer = self:customer_view(chat.customer),
    assignee = self:agent_view(chat.assignee), department = self:department_view(chat.department),
  }
end

--- A chat encoded as JSON.
function Store:encode_chat(chat)
  return json.encode(self:chat_view(chat))
end

--- A message as the REST API serves it.
function Store:message_view(m)
  return {
    id = m.id, chat = m.chat, from = m.from, agent = self:agent_view(m.agent), type = m.type,
    text = or_null(m.text), read = m.read, edited = m.edited,
    broadcastType = or_null(m.broadcastType), createdAt = ms_stamp(m.ms, m.form),
    updatedAt = m.updated_ms and ms_stamp(m.updated_ms, m.form) or null,
  }
end

--- A message encoded as JSON.
function Store:encode_message(m)
  return json.encode(self:message_view(m))
end

-- Vocabulary and search ------------------------------------------------------------

-- Chat states by their spelling without case, spaces, hyphens or underscores (the
-- client has the same table in helpcrunch.normalize; the mock is a rock of its own).
local STATUS = {
  new = "new", opened = "opened", open = "opened", pending = "pending",
  onhold = "on hold", nocommunication = "no communication", closed = "closed", empty = "empty",
}
-- The numeric codes the search page filters on ("3", "5"), as one exporter maps them.
local STATUS_CODES = { "new", "opened", "pending", "on hold", "closed", "no communication",
                       "empty" }
local RATINGS = { great = "great", perfect = "great", average = "average", poor = "poor" }

--- The canonical spelling of a chat status (any spelling the API uses), or nil.
-- @param v
-- @tparam[opt] boolean codes also numeric codes ("1".."7")
-- @treturn string|nil
function M.status(v, codes)
  if type(v) == "number" or (type(v) == "string" and v:find("^%d+$")) then
    return codes and STATUS_CODES[tonumber(v)] or nil
  end
  if type(v) ~= "string" then return nil end
  return STATUS[(v:lower():gsub("[%s_%-]", ""))]
end

local function squash_rating(v)
  if type(v) ~= "string" then return v end
  return RATINGS[v:lower()] or v
end

--- Sort names of chat lists and search -> record keys (full and short names).
M.SORTS = {}
for _, k in ipairs({ "createdAt", "lastCustomerMessageAt", "lastMessageAt", "closedAt" }) do
  M.SORTS["chats." .. k], M.SORTS[k] = k, k
end

--- What `POST /chats/search` searches (see `helpcrunch.mock.search`): the fields of
-- API-REFERENCE.md §3.4, read from this store.
-- @treturn table `{fields, sorts}`
function Store:schema()
  if self.search_schema then return self.search_schema end
  local customers = self.customers
  local function field(name) return function(chat) return chat[name] end end
  local function of_customer(name)
    return function(chat)
      local rec = customers:get(chat.customer)
      local v = rec and rec.c[name]
      if v == null then return nil end
      return v
    end
  end
  self.search_schema = { sorts = M.SORTS, fields = {
    ["chats.assignee"] = { type = "integer", get = field("assignee") },
    ["chats.agents"] = { type = "integer", get = field("agents") },
    ["chats.createdAt"] = { type = "date", get = field("createdAt") },
    ["chats.updatedAt"] = { type = "date", get = field("updatedAt") },
    ["chats.closedAt"] = { type = "date", get = field("closedAt") },
    ["chats.department"] = { type = "integer", get = field("department") },
    ["chats.status"] = { type = "string", get = field("status"),
                         norm = function(v) return M.status(v, true) or v end },
    ["chats.rating"] = { type = "string", get = field("rating"), norm = squash_rating },
    ["chats.customer"] = { type = "integer", get = field("customer") },
    ["chats.customer.email"] = { type = "string", get = of_customer("email") },
    ["chats.customer.userId"] = { type = "string", get = of_customer("userId") },
    ["chats.customer.tagsData"] = { type = "array", get = of_customer("tags") },
  } }
  return self.search_schema
end

-- Webhooks ----------------------------------------------------------------------

--- A chat in webhook form (API-REFERENCE.md §6.4): `chat_id`, agent ids, timestamps as
-- fractional strings.
function Store:chat_event(chat)
  local v = self:chat_view(chat)
  local ids = array({})
  for i, id in ipairs(chat.agents) do ids[i] = id end
  local function frac(s) return s and format("%d.%03d", s, chat.ms) or null end
  return {
    chat_id = chat.id, customer = v.customer, communicatedAgents = ids, status = chat.spelling,
    closedBy = v.closedBy, closedAt = frac(chat.closedAt), rating = v.rating,
    createdAt = frac(chat.createdAt), snoozedUntil = frac(chat.snoozedUntil),
    applicationId = v.applicationId, department = v.department, assignee = v.assignee,
  }
end

--- Send a chat event (`chat.new`, `chat.status_updated`, ...) when webhooks are set up
-- (`helpcrunch.mock.webhooks` signs and delivers it).
function Store:chat_webhook(mock, event, chat)
  webhooks.emit(mock, event, self:chat_event(chat))
end

--- Send a message event for a new message.
function Store:message_webhook(mock, chat, m)
  local event
  if m.type == "private" then event = "message.private"
  elseif m.from == "agent" then event = "message.chat.agent"
  else event = "message.chat.customer" end
  local v = self:message_view(m)
  webhooks.emit(mock, event, {
    chat_id = chat.id, agent = v.agent, customer = self:customer_view(chat.customer),
    message = { id = m.id, applicationId = or_null(chat.applicationId),
                broadcastType = v.broadcastType, edited = m.edited, read = m.read,
                text = v.text, createdAt = format("%d.%03d", floor(m.ms / 1000), m.ms % 1000),
                updatedAt = format("%d.%03d", floor(m.ms / 1000), m.ms % 1000) },
  })
end

-- Churn -----------------------------------------------------------------------------

--- After a successful chats list or search page: `n` chats that sort before every chat
-- in the order served (ids above the maximum, or for id ascending below the minimum;
-- a timestamp sort key below the smallest (asc) or above the largest (desc)). For a
-- search they copy `template` (a chat that matched), else they are new chats of the first
-- customer.
-- @tparam integer n
-- @tparam string key
-- @tparam string dir
-- @tparam[opt] table template
function Store:churn_chats(n, key, dir, template)
  if n <= 0 or #self.recs == 0 then return end
  local list = self:ordered(key, "asc")
  local lo, hi
  for _, c in ipairs(list) do
    local v = c[key]
    if v ~= nil then
      lo = lo or v
      hi = v
    end
  end
  local proto = template or self.recs[1]
  for k = 1, n do
    local id
    if key == "id" and dir == "asc" then
      id = (self.min_id or 2) - 1
      if id < 1 then break end
    else
      id = self.max_id + 1
    end
    local c = {}
    for f, v in pairs(proto) do c[f] = v end
    c.id, c.agents = id, move(proto.agents, 1, #proto.agents, 1, {})
    if key ~= "id" then
      if dir == "asc" then c[key] = (lo or 1600000000) - k else c[key] = (hi or 1600000000) + k end
    end
    self:add(c, {})
  end
end

--- After a successful messages page: `n` new messages in that chat (they come first, as
-- the newest), written alternately by the customer and an agent.
function Store:churn_messages(n, chat)
  local msgs = self.messages[chat.id]
  local last = 0
  for _, m in ipairs(msgs) do if m.ms > last then last = m.ms end end
  for k = 1, n do
    local agent = k % 2 == 0 and chat.assignee or nil
    self.max_msg = self.max_msg + 1
    msgs[#msgs + 1] = {
      id = self.max_msg, chat = chat.id, from = agent and "agent" or "customer", agent = agent,
      type = "message", text = "churn " .. self.churn_rng:int(1, 999999), read = false,
      edited = false, ms = last + k * 1000, updated_ms = last + k * 1000, form = "frac",
    }
  end
end

return M
