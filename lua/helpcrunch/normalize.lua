--- Normalisation of the conversation objects (chats, messages, agents,
-- departments) in the C decoder's spirit, in Lua: what the core does for
-- customers (csrc/customer.c), done here for the rest, from one table per
-- object kind (field -> rule). The decoder has already made JSON null
-- absent everywhere; this module applies the rest of API-REFERENCE.md §8:
--
-- - `timestamp`: integer seconds from every form the API sends (an integer,
--   `"1603885746"`, `"1594139170.913"`, `"1603864800.000"`): the fraction is
--   dropped (floor). A string that is not a number is kept as sent.
-- - `status`: one spelling per state (`new`, `opened`, `pending`, `on hold`,
--   `no communication`, `closed`, `empty`), from any case, spaces, hyphens
--   or underscores (`onhold`, `on-hold`, `open`, `Opened`); the exact string
--   the server sent is kept in `statusRaw` when it differs. Spellings it does
--   not know (the unreliable numeric codes) are kept as sent.
-- - `rating`: `great` / `average` / `poor` (`perfect`, seen once, is
--   `great`); the original in `ratingRaw` when it differs.
-- - nested objects (`customer`, `assignee`, `agent`, `department`) and
--   lists of them (`agents`, also when the API sends one object) are
--   normalised by their own table.
-- Fields not in a table are kept as decoded. Every function changes the
-- object in place and returns it; running one twice changes nothing more.
-- @module helpcrunch.normalize

local M = {}

local floor = math.floor
local tointeger = math.tointeger

--- Integer seconds from any timestamp form, or the value unchanged.
-- @param v number or string
-- @return integer (a Lua integer on 5.3+) or v as it was
function M.timestamp(v)
  local n
  if type(v) == "number" then
    n = v
  elseif type(v) == "string" and v:match("^%s*%-?%d+%.?%d*%s*$") then
    n = tonumber(v)
  end
  if n == nil or n ~= n or n == math.huge or n == -math.huge then return v end
  n = floor(n)
  return tointeger and (tointeger(n) or n) or n
end

-- The one vocabulary of chat states: the spelling with case, spaces,
-- hyphens and underscores removed -> the canonical spelling.
local STATUS = {
  new = "new", opened = "opened", open = "opened", pending = "pending",
  onhold = "on hold", nocommunication = "no communication", closed = "closed",
  empty = "empty",
}

local RATING = { great = "great", perfect = "great", average = "average", poor = "poor" }

local function squash(s)
  return (s:lower():gsub("[%s_%-]", ""))
end

--- The canonical spelling of a chat status, or nil when it is not one.
-- @tparam string s e.g. "on-hold", "Open"
-- @treturn string|nil e.g. "on hold", "opened"
function M.status(s)
  if type(s) ~= "string" then return nil end
  return STATUS[squash(s)]
end

--- The canonical rating, or nil when it is not one.
function M.rating(s)
  if type(s) ~= "string" then return nil end
  return RATING[squash(s)]
end

-- A vocabulary rule: the canonical value, the original in `<field>Raw`.
local function vocabulary(canon)
  return function(obj, k, v)
    local c = canon(v)
    if c and c ~= v then
      obj[k .. "Raw"] = v
      obj[k] = c
    end
  end
end

local function is_list(v)
  return v[1] ~= nil or next(v) == nil
end

local TABLES -- defined below: object kind -> { field = rule }

local function normalise(obj, kind)
  if type(obj) ~= "table" then return obj end
  for k, rule in pairs(TABLES[kind]) do
    local v = obj[k]
    if v ~= nil then rule(obj, k, v) end
  end
  return obj
end

-- The rules: function(obj, field, value) changing obj[field].
local function timestamp(obj, k, v) obj[k] = M.timestamp(v) end

local function object(kind)
  return function(_, _, v) normalise(v, kind) end
end

local function list_of(kind)
  return function(obj, k, v)
    if type(v) ~= "table" then return end
    if not is_list(v) then v = { v } obj[k] = v end   -- one object instead of a list
    for i = 1, #v do normalise(v[i], kind) end
  end
end

-- customData as the {property, value} list -> a map (as the core does for
-- customers at the top level).
local function custom_data(obj, k, v)
  if type(v) ~= "table" or type(v[1]) ~= "table" or v[1].property == nil then return end
  local map = {}
  for _, p in ipairs(v) do
    if type(p) == "table" and p.property ~= nil then map[tostring(p.property)] = p.value end
  end
  obj[k] = map
end

TABLES = {
  chat = {
    createdAt = timestamp, updatedAt = timestamp, closedAt = timestamp,
    lastMessageAt = timestamp, lastCustomerMessageAt = timestamp, snoozedUntil = timestamp,
    status = vocabulary(M.status), rating = vocabulary(M.rating),
    customer = object("customer"), assignee = object("agent"),
    department = object("department"), agents = list_of("agent"),
  },
  message = {
    createdAt = timestamp, updatedAt = timestamp, agent = object("agent"),
  },
  agent = {},                     -- role kept as sent (`superviser` is the API's word)
  department = { agents = list_of("agent") },
  customer = { firstSeen = timestamp, lastSeen = timestamp, customData = custom_data },
}
M.TABLES = TABLES

--- Normalise a chat in place.
-- @tparam table chat
-- @treturn table the same chat
function M.chat(chat) return normalise(chat, "chat") end

--- Normalise a message in place.
function M.message(message) return normalise(message, "message") end

--- Normalise an agent in place.
function M.agent(agent) return normalise(agent, "agent") end

--- Normalise a department (and its agents) in place.
function M.department(department) return normalise(department, "department") end

--- The total of a list body: `meta.total`, else a top-level `total`, else nil.
-- @tparam table body
-- @treturn number|nil
function M.total(body)
  local meta = body.meta
  if type(meta) == "table" and type(meta.total) == "number" then return meta.total end
  if type(body.total) == "number" then return body.total end
  return nil
end

--- An extract function for the pager and `page_of`: the list under
-- `data` (or `messages`, which one revision of the messages list uses; a
-- list of lists is flattened), each item normalised by `item`, and the
-- total from wherever the endpoint puts it (M.total).
-- @tparam[opt] function item normaliser of one item (M.chat, ...)
-- @treturn function body -> data, total | nil
function M.extractor(item)
  return function(body)
    if type(body) ~= "table" then return nil end
    local data = body.data
    if type(data) ~= "table" then data = body.messages end
    if type(data) ~= "table" then return nil end
    if type(data[1]) == "table" and data[1].id == nil and data[1][1] ~= nil then
      local flat = {}
      for _, inner in ipairs(data) do
        if type(inner) == "table" then
          for _, x in ipairs(inner) do flat[#flat + 1] = x end
        else
          flat[#flat + 1] = inner
        end
      end
      data = flat
    end
    if item then
      for i = 1, #data do item(data[i]) end
    end
    return data, M.total(body)
  end
end

return M
