--- `/v1/chats/{id}/messages` (newest first) and `POST /v1/messages` (API-REFERENCE.md §4).
-- @module helpcrunch.mock.endpoints.messages

local json = require "helpcrunch.mock.json"
local search = require "helpcrunch.mock.search"
local replies = require "helpcrunch.mock.replies"
local chats = require "helpcrunch.mock.endpoints.chats"

local null = json.null
local type, tonumber, floor = type, tonumber, math.floor
local int_id = chats.int_id

local M = {}

local MSG = search.MSG

local function list(mock, req, id)
  local d = replies.dialect_of(mock, req)
  local conv = mock.conv
  local chat = id:find("^%d+$") and conv:get(tonumber(id))
  if not chat then
    if d.lead then return d.reply(404, { { "not_found", "Chat not found" } }) end
    return d.reply(404, { { "chat_not_found", "Chat not found" } })
  end
  local offset, limit, _, _, errs = replies.list_params(req.query, nil)
  if #errs > 0 then return d.bad_request(errs) end
  local body = replies.shaped_page(mock, req, { total = "top", key = "data" },
    conv:messages_newest_first(chat), offset, limit,
    function(m) return conv:encode_message(m) end)
  if mock.config.churn > 0 then conv:churn_messages(mock.config.churn, chat) end
  return { status = 200, body = body }
end

local TYPES = { message = true, private = true }

-- The chat's fields that follow from a new message.
local function after_message(chat, m, now)
  if m.type ~= "private" then
    chat.lastMessageAt, chat.lastMessageText, chat.lastMessageId = now, m.text, m.id
  end
  if m.from == "customer" then
    chat.lastCustomerMessageAt, chat.readByAgent = now, false
    if chat.status == "empty" then chat.status, chat.spelling = "new", "new" end
  else
    local known = false
    for _, a in ipairs(chat.agents) do if a == m.agent then known = true end end
    if not known then chat.agents[#chat.agents + 1] = m.agent end
    chat.lastCommunicatedAgentId = m.agent
    if m.type ~= "private" then
      chat.readByCustomer = false
      if chat.status == "empty" or chat.status == "new" then
        chat.status, chat.spelling = "opened", "opened"
      end
    end
  end
  chat.updatedAt = now
end

local function create(mock, req)
  local d = replies.dialect_of(mock, req)
  local body, bad = replies.json_object(req, d)
  if not body then return bad end
  local conv = mock.conv
  local chat_id = int_id(body.chat)
  if not chat_id then return d.bad_request({ { "invalid_chat_value", "Invalid chat ID" } }) end
  local errs = {}
  local text, markdown, kind = body.text, body.markdownText, body.type
  if text == nil or text == null or text == "" then
    errs[#errs + 1] = { "text", MSG.blank }
  elseif type(text) ~= "string" then
    errs[#errs + 1] = { "text", MSG.string }
  end
  if markdown ~= nil and markdown ~= null and type(markdown) ~= "string" then
    errs[#errs + 1] = { "markdownText", MSG.string }
  end
  if kind == nil or kind == null then
    kind = "message"
  elseif kind == "email" then
    errs[#errs + 1] = { "type", "E-mail messages cannot be created." }
  elseif not TYPES[kind] then
    errs[#errs + 1] = { "type", MSG.choice }
  end
  local agent = body.agent
  if agent == null then agent = nil end
  if agent ~= nil and not int_id(agent) then errs[#errs + 1] = { "agent", MSG.numeric } end
  if kind == "private" and agent == nil then errs[#errs + 1] = { "agent", MSG.blank } end
  if #errs > 0 then return d.bad_request(errs) end
  local chat = conv:get(chat_id)
  if not chat then return d.reply(404, { { "chat_not_found", "Chat is missing" } }) end
  agent = agent and int_id(agent)
  if agent and not conv.agents[agent] then
    return d.reply(404, { { "entity_not_found", "Agent not found" } })
  end
  local t = mock.now()
  local ms = floor(t * 1000)
  conv.max_msg = conv.max_msg + 1
  local m = {
    id = conv.max_msg, chat = chat.id, from = agent and "agent" or "customer", agent = agent,
    type = kind, text = type(markdown) == "string" and markdown or text, read = false,
    edited = false, ms = ms, updated_ms = ms, form = "frac",
  }
  local msgs = conv.messages[chat.id]
  msgs[#msgs + 1] = m
  after_message(chat, m, floor(t))
  conv:changed()
  conv:message_webhook(mock, chat, m)
  return { status = 200, body = conv:encode_message(m) }
end

--- The routes.
M.routes = {
  { method = "GET", path = "/v1/chats/{id}/messages", handler = list, dialect = "get",
    name = "messages.list" },
  { method = "POST", path = "/v1/messages", handler = create, dialect = "post",
    name = "messages.create" },
}

return M
