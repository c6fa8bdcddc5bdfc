--- The mock's conversation data: agents, departments, applications, the organization,
-- and chats with their messages, linked to the customers of the data set.
--
-- `generate(customers, seed, n)` is deterministic for `(the customers, seed, n)` and the
-- same under Lua 5.4 and LuaJIT (`helpcrunch.mock.prng`, integer arithmetic only). The
-- first chats are fixed (API-REFERENCE.md §9's checklist): one in each status spelling
-- (`opened`, `open`, `on hold`, `onhold`, `on-hold`, `new`, `pending`, `no communication`,
-- `closed`, `empty`), the messages example's chat 5215261 (250 messages, the oldest the
-- page's `"1594139170.913"` one, and a system `tech` message from `agent` with no agent),
-- the chat example 5215752, a chat whose `agents` is one object; the rest are generated.
-- A seed chat is left out when its customer is not in the data set.
--
-- Records (see `helpcrunch.mock.chatstore`): a chat is `{ id, status (canonical),
-- spelling (as served), customer (id), assignee, department, agents = {ids}, createdAt,
-- updatedAt, closedAt, lastMessageAt, lastCustomerMessageAt, snoozedUntil (seconds),
-- ms (0..999: the fraction served with "frac" timestamps), form ("int" | "string" |
-- "frac"), closedBy, rating, createdWith, applicationId, readByAgent, readByCustomer,
-- agents_object }`; a message `{ id, chat, from, agent, type, text, read, edited,
-- broadcastType, ms (createdAt in milliseconds), updated_ms, form }`.
-- @module helpcrunch.mock.conversations

local prng = require "helpcrunch.mock.prng"

local floor, min = math.floor, math.min

local M = {}

--- The agents (`superviser` is the API's own spelling).
M.AGENTS = {
  { id = 2533, name = "Alex", email = "alex@example.com", role = "admin" },
  { id = 4188, name = "Olena Kovalenko", email = "olena@example.com", role = "agent" },
  { id = 4190, name = "José García", email = "jose@example.com", role = "agentChatOnly" },
  { id = 4201, name = "Søren Jensen", email = "soren@example.com", role = "superviser" },
  { id = 4215, name = "Mei Wang", email = "mei@example.com", role = "agent" },
}

--- The departments and their agents' ids.
M.DEPARTMENTS = {
  { id = 233046, name = "Support", agents = { 2533, 4188, 4201 } },
  { id = 233047, name = "Sales", agents = { 4188, 4190, 4215 } },
  { id = 233048, name = "Billing", agents = { 4201 } },
}

--- The applications (channels).
M.APPLICATIONS = {
  { id = 3838, name = "Website", displayName = "acme.com widget", active = true, type = "widget" },
  { id = 3839, name = "iOS", displayName = "Acme for iPhone", active = true, type = "ios" },
  { id = 3840, name = "Telegram", displayName = "@acme_bot", active = false, type = "telegram" },
}

--- The organization (`GET /organization`).
M.ORGANIZATION = { id = 542335, domain = "acme", teamOnline = true, chatEnabled = true }

local CUSTOMER_TEXTS = { "Hi there", "Is anyone here?", "Thanks!", "How do I export my data?",
  "Привіт! Маю питання щодо оплати", "Can I change my plan?", "¿Hay descuento anual?",
  "The widget does not load on Safari", "Ok 👍", "Danke schön" }
local AGENT_TEXTS = { "Hello! How can I help?", "Let me check that for you.",
  "Done — anything else?", "You can export from Settings → Data.", "Дякуємо за звернення!",
  "I have forwarded this to billing." }
local NOTES = { "Lead synced", "Customer is on the annual plan", "Escalated to billing" }
local TECH = { "Chat was assigned to Olena Kovalenko", "Chat status changed to closed" }
local STATES = { "new", "opened", "opened", "pending", "on hold", "no communication",
                 "closed", "closed", "empty" }
local FORMS = { "int", "int", "string", "frac" }
local RATINGS = { "great", "great", "average", "poor" }

local function agent_ids()
  local ids = {}
  for i, a in ipairs(M.AGENTS) do ids[i] = a.id end
  return ids
end

-- Messages of a chat: `count` of them from `start` (seconds), every `step` seconds or so.
local function add_messages(out, rng, chat, count, start, next_id)
  local ids = agent_ids()
  local t = start * 1000 + rng:int(0, 999)
  for k = 1, count do
    local m = { chat = chat.id, form = "frac", edited = false, broadcastType = nil }
    m.id = next_id
    next_id = next_id + rng:int(1, 3)
    local r = rng:float()
    if r < 0.5 then
      m.from, m.type, m.text = "customer", "message", rng:pick(CUSTOMER_TEXTS)
    elseif r < 0.85 then
      m.from, m.type, m.text = "agent", "message", rng:pick(AGENT_TEXTS)
      m.agent = chat.assignee or rng:pick(ids)
    elseif r < 0.95 then
      m.from, m.type, m.text = "agent", "private", rng:pick(NOTES)
      m.agent = chat.assignee or rng:pick(ids)
    else
      m.from, m.type, m.text = "agent", "tech", rng:pick(TECH)   -- a system notice: no agent
    end
    if k == 1 and m.from == "customer" and rng:chance(0.1) then m.broadcastType = "trigger" end
    m.read = k < count or rng:chance(0.5)
    m.edited = rng:chance(0.05)
    if rng:chance(0.2) then m.form = "string" end
    m.ms = t
    m.updated_ms = m.edited and t + rng:int(1000, 90000000) or t
    out[#out + 1] = m
    t = t + rng:int(5000, 3600000)
  end
  return next_id
end

-- Fill a chat's message-derived fields from its messages (oldest first).
local function summarise(chat, msgs)
  for _, m in ipairs(msgs) do
    local s = floor(m.ms / 1000)
    if m.type ~= "private" then
      chat.lastMessageAt, chat.lastMessageText, chat.lastMessageId = s, m.text, m.id
    end
    if m.from == "customer" then chat.lastCustomerMessageAt = s end
    if m.agent then
      chat.lastCommunicatedAgentId = m.agent
      local known = false
      for _, a in ipairs(chat.agents) do if a == m.agent then known = true end end
      if not known then chat.agents[#chat.agents + 1] = m.agent end
    end
  end
  if #msgs > 0 then chat.updatedAt = floor(msgs[#msgs].ms / 1000) end
end

local function new_chat(id, customer, status, spelling, created)
  return { id = id, customer = customer, status = status, spelling = spelling or status,
           createdAt = created, updatedAt = created, agents = {}, form = "int", ms = 0,
           createdWith = "customer_message", applicationId = 3838,
           readByAgent = true, readByCustomer = true }
end

local function close(chat, rng, by)
  chat.closedAt = (chat.lastMessageAt or chat.createdAt) + rng:int(60, 86400)
  chat.closedBy = by
  chat.updatedAt = chat.closedAt
end

-- The fixed chats: {id, customer, status, spelling, created, messages, extra fields}.
local SEEDS = {
  { 5215261, 4994, "opened", "opened", 1594139100, 250,
    { assignee = 4188, department = 233046, form = "frac", ms = 913 } },
  { 5215262, 4994, "opened", "open", 1597000000, 2, { department = 233047 } },
  { 5215263, 4994, "closed", "closed", 1596000000, 3,
    { assignee = 4201, rating = "great", closed_by = "customer" } },
  { 5215264, 8737843, "on hold", "on hold", 1598000000, 2,
    { assignee = 4190, agents_object = true, form = "string" } },
  { 5215265, 8737843, "on hold", "onhold", 1598100000, 1, { form = "frac", ms = 0 } },
  { 5215266, 265555, "on hold", "on-hold", 1598200000, 1, {} },
  { 5215267, 265555, "new", "new", 1599000000, 1, { readByAgent = false } },
  { 5215268, 542335, "closed", "closed", 1599500000, 2,
    { rating = "perfect", closed_by = "agent", assignee = 2533 } },
  { 5215269, 7831682, "no communication", "no communication", 1600000000, 1, {} },
  { 5215270, 265580, "empty", "empty", 1603885746, 0,
    { createdWith = "public_api", form = "string" } },
  { 5215752, 542335, "pending", "pending", 1597758468, 2,
    { department = 233048, applicationId = 3838 } },
}

--- Generate the conversation data.
-- @tparam table customers the customer ids to link chats to, in data-set order
-- @tparam integer seed
-- @tparam integer n how many chats in all (the fixed ones included)
-- @treturn table `{ chats = {chat...}, messages = {[chat id] = {message...}} (oldest first) }`
function M.generate(customers, seed, n)
  local rng = prng.new(seed, 6)
  local present = {}
  for _, id in ipairs(customers) do present[id] = true end
  local chats, messages = {}, {}
  local next_msg = 9577571
  for _, s in ipairs(SEEDS) do
    if #chats >= n then break end
    if present[s[2]] then
      local c = new_chat(s[1], s[2], s[3], s[4], s[5])
      local x = s[7]
      for _, k in ipairs({ "assignee", "department", "form", "ms", "rating", "agents_object",
                           "createdWith", "applicationId", "readByAgent" }) do
        if x[k] ~= nil then c[k] = x[k] end
      end
      local msgs = {}
      next_msg = add_messages(msgs, rng, c, s[6], s[5] + 70, next_msg)
      if c.id == 5215261 then               -- the messages page's example, exactly
        local m = msgs[1]
        m.id, m.from, m.agent, m.type, m.text = 9577571, "customer", nil, "message", "Hi there"
        m.read, m.edited, m.broadcastType, m.ms, m.updated_ms = true, false, nil, 1594139170913,
          1594291329303
        msgs[3].from, msgs[3].agent, msgs[3].type, msgs[3].text = "agent", nil, "tech", TECH[1]
      end
      summarise(c, msgs)
      if c.id == 5215752 then
        c.form, c.lastMessageText = "string", "Thanks!"   -- the example: lastMessageAt a string
      end
      if x.closed_by then close(c, rng, x.closed_by) end
      chats[#chats + 1], messages[c.id] = c, msgs
    end
  end
  local id = 5216000
  local ids = agent_ids()
  for _ = #chats + 1, n do
    if #customers == 0 then break end
    id = id + rng:int(1, 40)
    local status = rng:pick(STATES)
    local spelling = status
    if status == "on hold" and rng:chance(0.3) then spelling = "onhold" end
    local c = new_chat(id, rng:pick(customers), status, spelling, rng:int(1590000000, 1700000000))
    c.form, c.ms = rng:pick(FORMS), rng:int(0, 999)
    if status ~= "empty" and status ~= "new" and rng:chance(0.7) then c.assignee = rng:pick(ids) end
    if rng:chance(0.6) then c.department = M.DEPARTMENTS[rng:int(1, #M.DEPARTMENTS)].id end
    c.applicationId = M.APPLICATIONS[rng:int(1, 2)].id
    local count = status == "empty" and 0 or rng:int(1, 6)
    local msgs = {}
    next_msg = add_messages(msgs, rng, c, count, c.createdAt + rng:int(1, 60), next_msg)
    summarise(c, msgs)
    if status == "closed" then
      close(c, rng, rng:chance(0.7) and "agent" or "customer")
      if rng:chance(0.5) then c.rating = rng:pick(RATINGS) end
    end
    c.readByAgent = status ~= "new" and rng:chance(0.8)
    chats[#chats + 1], messages[c.id] = c, msgs
  end
  return { chats = chats, messages = messages }
end

--- How many chats a data set of `customers` customers gets when not told.
-- @tparam integer customers
-- @treturn integer
function M.default_count(customers)
  return min(customers, 200)
end

return M
