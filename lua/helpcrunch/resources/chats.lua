--- `client.chats`: get, list, all, search, create, and the chat actions
-- (status, assignee, department, snooze, read flags).
-- Arguments are checked before any request (errors raise); request failures
-- return `nil, err`; iterators raise. Chats come normalised
-- (helpcrunch.normalize: integer timestamps, one status spelling). The
-- actions are PUTs on fixed paths with the chat id in the body
-- (`PUT /chats/status` with `{id, status}`), as the API documents; like
-- every write they are retried only when the server cannot have acted.
-- @module helpcrunch.resources.chats

local core = require "helpcrunch.core"
local util = require "helpcrunch.util"
local search = require "helpcrunch.search"
local normalize = require "helpcrunch.normalize"
local base = require "helpcrunch.resources.base"

local M = {}

local NULL = core.null
local EXAMPLE = 5215752

local Chats = {}
Chats.__index = Chats

--- @local
function M.new(client)
  return setmetatable({ client = client }, Chats)
end

local R = base.resource {
  name = "chats", noun = "chat", example = EXAMPLE, path = "/chats", prefix = "chats.",
  sorts = { "createdAt", "lastCustomerMessageAt", "lastMessageAt", "closedAt" },
  extract = normalize.extractor(normalize.chat), item = normalize.chat,
}
M.check_sort, M.check_order = R.check_sort, R.check_order

--- One chat by its id.
-- @param id integer or string of digits
-- @treturn table|nil the chat
-- @treturn table the error
function Chats:get(id)
  util.check_self(self, Chats, "client.chats:get", 2)
  local chat, err = R:get(self.client, "chats:get", id, 2)
  return chat, err
end

--- One page of chats.
-- @tparam[opt] table params `offset` (0), `limit` (1..100, the client's
--   page_size), `sort` ("createdAt" | "lastCustomerMessageAt" |
--   "lastMessageAt" | "closedAt", or the full "chats." names), `order`
-- @treturn table|nil page `{data=, total=, offset=, limit=}` (total from
--   `meta.total`, else `total`, else nil)
-- @treturn table the error
function Chats:list(params)
  util.check_self(self, Chats, "client.chats:list", 2)
  local page, err = R:list(self.client, "chats:list", params, 2)
  return page, err
end

--- Every chat, across pages: `for chat in client.chats:all{} do`.
-- @tparam[opt] table params `sort`, `order`, `max`, `page_size`, `prefetch`
function Chats:all(params)
  util.check_self(self, Chats, "client.chats:all", 2)
  local a, b, c, d = R:all(self.client, "chats:all", params, 2)
  return a, b, c, d
end

-- The searchable fields and their types (API-REFERENCE.md §3.4); the dotted
-- ones are short names too ("customer.email" is "chats.customer.email").
local FIELDS = {
  assignee = "integer", agents = "integer", department = "integer", customer = "integer",
  createdAt = "date", updatedAt = "date", closedAt = "date",
  status = "string", rating = "string",
  ["customer.email"] = "string", ["customer.userId"] = "string",
  ["customer.tagsData"] = "array",
}

local SEARCH = {
  name = "chats", path = "/chats/search", prefix = "chats.", fields = FIELDS,
  tags_field = "customer.tagsData", check_sort = R.check_sort, check_order = R.check_order,
  extract = R.extract,
}

--- A search query builder (see helpcrunch.search): `:tagged` matches the
-- chat's customer's tags.
function Chats:search()
  util.check_self(self, Chats, "client.chats:search", 2)
  return search.new(self.client, SEARCH)
end

-- ---- writes ---------------------------------------------------------------------

local CREATE = {
  customer = base.id_rule("customer", 8738438), application = base.id_rule("application", 3838),
  assignee = base.id_rule("agent", 4188), department = base.id_rule("department", 233048),
}

-- Send a write and normalise the chat it answers with.
local function send(client, method, path, body)
  local chat, err = client:call(method, path, { body = body }):wait()
  if chat == nil then return nil, err end
  return normalize.chat(chat)
end

--- Create a chat (201; the API advises posting a message to it next).
-- @tparam table fields `customer` (id, required), `application` (id of the
--   channel: most API revisions require it, see client.applications),
--   `assignee` (agent id), `department` (id)
-- @treturn table|nil the chat
-- @treturn table the error (`code = "outcome_unknown"` when the create may
--   or may not have happened: it is then never retried)
function Chats:create(fields)
  util.check_self(self, Chats, "client.chats:create", 2)
  local body = base.body("chats:create", fields, CREATE, 2, { required = { "customer" } })
  return send(self.client, "POST", "/chats", body)
end

local function chat_id(fname, id)
  local n = base.body_id(fname, "id", id, "chat", EXAMPLE, 3)
  return n
end

-- The states a status change may set (not "empty": a chat without messages).
local SETTABLE = { "new", "opened", "pending", "on hold", "no communication", "closed" }
local IS_SETTABLE = {}
for _, s in ipairs(SETTABLE) do IS_SETTABLE[s] = true end

--- Change a chat's status.
-- @param id the chat's id
-- @tparam string status "new", "opened" ("open"), "pending", "on hold"
--   ("onhold", "on-hold"), "no communication" or "closed", in any case; sent
--   in the canonical spelling
-- @treturn table|nil the chat
-- @treturn table the error
function Chats:set_status(id, status)
  util.check_self(self, Chats, "client.chats:set_status", 2)
  local body = { id = chat_id("chats:set_status", id) }
  local s = normalize.status(status)
  if not IS_SETTABLE[s] then
    error("chats:set_status: status must be one of \"" .. table.concat(SETTABLE, "\", \"")
      .. "\" (spellings like \"on-hold\" or \"open\" are accepted), got "
      .. util.describe(status), 2)
  end
  body.status = s
  return send(self.client, "PUT", "/chats/status", body)
end

-- An id or nil/helpcrunch.null (sent as null).
local function id_or_null(fname, name, v, noun, example)
  if v == nil or v == NULL then return NULL end
  local n = base.body_id(fname, name, v, noun, example, 3)
  return n
end

--- Assign a chat to an agent, or unassign it (agent_id nil).
-- @param id the chat's id
-- @param agent_id an agent's id, or nil (or helpcrunch.null) to unassign
function Chats:assign(id, agent_id)
  util.check_self(self, Chats, "client.chats:assign", 2)
  local fname = "chats:assign"
  return send(self.client, "PUT", "/chats/assignee", {
    id = chat_id(fname, id), assignee = id_or_null(fname, "agent_id", agent_id, "agent", 4188),
  })
end

--- Move a chat to a department.
-- @param id the chat's id
-- @param department_id the department's id (required)
function Chats:set_department(id, department_id)
  util.check_self(self, Chats, "client.chats:set_department", 2)
  local fname = "chats:set_department"
  return send(self.client, "PUT", "/chats/department", {
    id = chat_id(fname, id),
    department = base.body_id(fname, "department_id", department_id, "department", 233048, 2),
  })
end

--- Snooze a chat until a time, or unsnooze it (until nil).
-- @param id the chat's id
-- @param until_ a UNIX timestamp (integer or string of digits; sent as a
--   string, as the current pages do), or nil (or helpcrunch.null)
function Chats:snooze(id, until_)
  util.check_self(self, Chats, "client.chats:snooze", 2)
  local fname = "chats:snooze"
  local body = { id = chat_id(fname, id) }
  if until_ == nil or until_ == NULL then
    body.snoozedUntil = NULL
  else
    body.snoozedUntil = base.RULES.date(fname, "until", until_, 2)
  end
  return send(self.client, "PUT", "/chats/snooze", body)
end

local READ_PARAMS = { by = true, read = true }
local READ_PATH = { agent = "/chats/readByAgent", customer = "/chats/readByCustomer" }

--- Set a chat's read flag for the agents or for the customer.
-- @param id the chat's id
-- @tparam[opt] table opts `by` ("agent", the default, or "customer"),
--   `read` (true, the default, or false)
function Chats:mark_read(id, opts)
  util.check_self(self, Chats, "client.chats:mark_read", 2)
  local fname = "chats:mark_read"
  local body = { id = chat_id(fname, id) }
  opts = util.check_params(fname, opts, READ_PARAMS, 2)
  local path = READ_PATH[opts.by == nil and "agent" or opts.by]
  if not path then
    error(fname .. ": by must be \"agent\" or \"customer\", got " .. util.describe(opts.by), 2)
  end
  body.read = opts.read == nil or base.RULES.boolean(fname, "read", opts.read, 2)
  return send(self.client, "PUT", path, body)
end

return M
