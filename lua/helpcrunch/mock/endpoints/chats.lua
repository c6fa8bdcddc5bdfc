--- `/v1/chats`: list, get, search, create, and the actions (status, assignee, department,
-- snooze, read flags) that take the chat id in the body (API-REFERENCE.md §3).
--
-- State lives in `mock.conv` (`helpcrunch.mock.chatstore`). Errors come in the route's
-- dialect (`replies.dialect_of`): `GET`s single-entry, the rest led by `invalid_request`.
-- Ids are JSON integers or strings of digits (a Node client sends `"chat":"5215261"`).
-- @module helpcrunch.mock.endpoints.chats

local json = require "helpcrunch.mock.json"
local search = require "helpcrunch.mock.search"
local replies = require "helpcrunch.mock.replies"
local chatstore = require "helpcrunch.mock.chatstore"

local null = json.null
local type, tonumber, floor = type, tonumber, math.floor

local M = {}

local MSG = search.MSG

--- A positive integer id from a JSON integer or a string of digits, else nil.
-- @param v
-- @treturn integer|nil
function M.int_id(v)
  if type(v) == "number" and v >= 1 and v == floor(v) then return v end
  if type(v) == "string" and v:find("^%d+$") and #v <= 15 then
    local n = tonumber(v)
    if n >= 1 then return n end
  end
  return nil
end
local int_id = M.int_id

local function encoder(mock)
  return function(chat) return mock.conv:encode_chat(chat) end
end

local function ok_chat(mock, chat, status)
  return { status = status or 200, body = mock.conv:encode_chat(chat) }
end

-- GET /chats/{id}'s 404: the older single-entry `chat_not_found`, or the newer prefixed
-- `not_found`, with the dialect.
local function not_found(d)
  if d.lead then return d.reply(404, { { "not_found", "Chat not found" } }) end
  return d.reply(404, { { "chat_not_found", "Chat not found" } })
end

local function list(mock, req)
  local d = replies.dialect_of(mock, req)
  local offset, limit, key, dir, errs = replies.list_params(req.query, chatstore.SORTS)
  if #errs > 0 then return d.bad_request(errs) end
  local conv = mock.conv
  local body = replies.shaped_page(mock, req, { total = "meta" }, conv:ordered(key, dir),
    offset, limit, encoder(mock))
  conv:churn_chats(mock.config.churn, key, dir, nil)
  return { status = 200, body = body }
end

local function get(mock, req, id)
  local chat = id:find("^%d+$") and mock.conv:get(tonumber(id))
  if not chat then return not_found(replies.dialect_of(mock, req)) end
  return ok_chat(mock, chat)
end

local function run_search(mock, req)
  local d = replies.dialect_of(mock, req)
  local body, bad = replies.json_object(req, d)
  if not body then return bad end
  local conv = mock.conv
  local q, errs = search.compile(body, conv:schema())
  if not q then return d.bad_request(errs) end
  local recs = search.run(conv, q)
  local res = replies.shaped_page(mock, req, { total = "meta" }, recs, q.offset, q.limit,
    encoder(mock))
  conv:churn_chats(mock.config.churn, q.key, q.dir, recs[q.offset + 1] or recs[1])
  return { status = 200, body = res }
end

-- An optional id field: absent/null -> nil; else the id, or false when malformed.
local function optional_id(v)
  if v == nil or v == null then return nil end
  return int_id(v) or false
end

local function create(mock, req)
  local d = replies.dialect_of(mock, req)
  local body, bad = replies.json_object(req, d)
  if not body then return bad end
  local conv, errs = mock.conv, {}
  local function required_id(k)
    local v = body[k]
    if v == nil or v == null or v == "" then
      errs[#errs + 1] = { k, MSG.blank }
    elseif not int_id(v) then
      errs[#errs + 1] = { k, MSG.numeric }
    end
    return int_id(v)
  end
  local customer, application = required_id("customer"), required_id("application")
  local assignee, department = optional_id(body.assignee), optional_id(body.department)
  if assignee == false then errs[#errs + 1] = { "assignee", MSG.numeric } end
  if department == false then errs[#errs + 1] = { "department", MSG.numeric } end
  if application and not conv.applications[application] then
    errs[#errs + 1] = { "application", MSG.choice }
  end
  if #errs > 0 then return d.bad_request(errs) end
  if assignee and not conv.agents[assignee] then
    return d.bad_request({ { "invalid_chat_value", "assignee value is invalid" } })
  end
  if department and not conv.departments[department] then
    return d.bad_request({ { "invalid_chat_value", "department value is invalid" } })
  end
  if not mock.store:get(customer) then
    return d.reply(404, { { "entity_not_found", "Customer not found" } })
  end
  local now = floor(mock.now())
  local chat = conv:add({
    id = conv.max_id + 1, customer = customer, status = "empty", spelling = "empty",
    createdAt = now, agents = {}, form = "int", ms = 0, createdWith = "public_api",
    applicationId = application, assignee = assignee or nil, department = department or nil,
    readByAgent = true, readByCustomer = true,
  })
  conv:chat_webhook(mock, "chat.new", chat)
  return ok_chat(mock, chat, 201)
end

-- Actions ------------------------------------------------------------------------

-- The 404 of an action: the older pages' single entry (the read pages' `not_fount`, with
-- the printf placeholder filled in), led by invalid_request in the prefixed dialect.
local function missing(code)
  return function(d, id)
    if code == "not_fount" then
      return d.reply(404, { { "not_fount", 'Chat for ID "' .. id .. '" was not found' } })
    end
    return d.reply(404, { { "chat_not_found", "Chat is missing" } })
  end
end

-- PUT /chats/<what> with `{id, ...}`: find the chat, then `apply(mock, chat, body, d)`
-- changes it (or returns an error reply); the answer is the chat.
local function action(apply, code)
  local not_there = missing(code or "chat_not_found")
  return function(mock, req)
    local d = replies.dialect_of(mock, req)
    local body, bad = replies.json_object(req, d)
    if not body then return bad end
    local id = int_id(body.id)
    if not id then return d.bad_request({ { "invalid_chat_value", "Invalid chat ID" } }) end
    local chat = mock.conv:get(id)
    if not chat then return not_there(d, id) end
    local err = apply(mock, chat, body, d)
    if err then return err end
    chat.updatedAt = floor(mock.now())
    mock.conv:changed()
    return ok_chat(mock, chat)
  end
end

local function set_status(mock, chat, body, d)
  local s = chatstore.status(body.status)
  if not s or s == "empty" then
    return d.bad_request({ { "invalid_chat_value", "status value is invalid" } })
  end
  chat.status, chat.spelling = s, s
  if s == "closed" then
    chat.closedAt, chat.closedBy = floor(mock.now()), "agent"
  else
    chat.closedAt, chat.closedBy = nil, nil
  end
  mock.conv:chat_webhook(mock, "chat.status_updated", chat)
  if s == "closed" then mock.conv:chat_webhook(mock, "chat.closed", chat) end
end

local function set_assignee(mock, chat, body, d)
  local v = body.assignee
  local agent = v ~= null and int_id(v)
  if v == nil or (v ~= null and not (agent and mock.conv.agents[agent])) then
    return d.bad_request({ { "invalid_chat_value", "assignee value is invalid" } })
  end
  chat.assignee = agent or nil
  mock.conv:chat_webhook(mock, "chat.assigned", chat)
end

local function set_department(mock, chat, body, d)
  local dep = int_id(body.department)
  if not (dep and mock.conv.departments[dep]) then
    return d.bad_request({ { "invalid_chat_value", "department value is invalid" } })
  end
  chat.department = dep
end

local function snooze(mock, chat, body, d)
  local v = body.snoozedUntil
  if v == nil then return d.bad_request({ { "snoozedUntil", MSG.blank } }) end
  if v == null then
    chat.snoozedUntil = nil
    mock.conv:chat_webhook(mock, "chat.unsnoozed", chat)
    return
  end
  local n = search.numeric(v)
  if not n or n < 0 then return d.bad_request({ { "snoozedUntil", MSG.numeric } }) end
  chat.snoozedUntil = floor(n)
  mock.conv:chat_webhook(mock, "chat.snoozed", chat)
end

local function read_flag(field)
  return function(_, chat, body, d)
    if type(body.read) ~= "boolean" then
      return d.bad_request({ { "read", "This value should be of type bool." } })
    end
    chat[field] = body.read
  end
end

local function no_counter(mock, req)
  return replies.dialect_of(mock, req).reply(404, { { "not_found", "Not found" } })
end

--- The routes, in matching order (literal paths before `/v1/chats/{id}`).
M.routes = {
  { method = "GET", path = "/v1/chats", handler = list, dialect = "get", name = "chats.list" },
  { method = "POST", path = "/v1/chats", handler = create, dialect = "post",
    name = "chats.create" },
  { method = "POST", path = "/v1/chats/search", handler = run_search, dialect = "post",
    name = "chats.search" },
  -- documented once, never worked (API-REFERENCE.md §3.2)
  { method = "GET", path = "/v1/chats/total", handler = no_counter, dialect = "post",
    name = "chats.total" },
  { method = "PUT", path = "/v1/chats/status", handler = action(set_status), dialect = "post",
    name = "chats.status" },
  { method = "PUT", path = "/v1/chats/assignee", handler = action(set_assignee),
    dialect = "post", name = "chats.assignee" },
  { method = "PUT", path = "/v1/chats/department", handler = action(set_department),
    dialect = "post", name = "chats.department" },
  { method = "PUT", path = "/v1/chats/snooze", handler = action(snooze), dialect = "post",
    name = "chats.snooze" },
  { method = "PUT", path = "/v1/chats/readByAgent",
    handler = action(read_flag("readByAgent"), "not_fount"), dialect = "post",
    name = "chats.readByAgent" },
  { method = "PUT", path = "/v1/chats/readByCustomer",
    handler = action(read_flag("readByCustomer"), "not_fount"), dialect = "post",
    name = "chats.readByCustomer" },
  -- the oldest revision's single route, kept as an alias of readByAgent
  { method = "PUT", path = "/v1/chats/read",
    handler = action(read_flag("readByAgent"), "not_fount"), dialect = "post",
    name = "chats.read" },
  { method = "GET", path = "/v1/chats/{id}", handler = get, dialect = "get",
    name = "chats.get" },
}

return M
