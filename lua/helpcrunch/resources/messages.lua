--- `client.messages`: a chat's messages (newest first, as the API lists
-- them) and posting a reply or a private note.
-- Messages come normalised (helpcrunch.normalize: integer timestamps, the
-- list under `data` or `messages`). Sending is a write: retried only when
-- the server cannot have acted.
-- @module helpcrunch.resources.messages

local util = require "helpcrunch.util"
local normalize = require "helpcrunch.normalize"
local base = require "helpcrunch.resources.base"

local M = {}

local Messages = {}
Messages.__index = Messages

--- @local
function M.new(client)
  return setmetatable({ client = client }, Messages)
end

local R = base.resource {
  name = "messages", noun = "message", example = 9577571,
  extract = normalize.extractor(normalize.message), item = normalize.message,
}

local function messages_path(fname, chat_id)
  return "/chats/" .. base.path_id(fname, "chat_id", chat_id, "chat", 5215752, 3) .. "/messages"
end

--- One page of a chat's messages, newest first.
-- @param chat_id the chat's id
-- @tparam[opt] table params `offset` (0), `limit` (1..100, the client's page_size)
-- @treturn table|nil page `{data=, total=, offset=, limit=}`
-- @treturn table the error (`not_found` for an unknown chat)
function Messages:list(chat_id, params)
  util.check_self(self, Messages, "client.messages:list", 2)
  local path = messages_path("messages:list", chat_id)
  local page, err = R:list(self.client, "messages:list", params, 2, path)
  return page, err
end

--- Every message of a chat, newest first, across pages.
-- @param chat_id the chat's id
-- @tparam[opt] table params `max`, `page_size`, `prefetch`
function Messages:all(chat_id, params)
  util.check_self(self, Messages, "client.messages:all", 2)
  local path = messages_path("messages:all", chat_id)
  local a, b, c, d = R:all(self.client, "messages:all", params, 2, path)
  return a, b, c, d
end

local SEND = {
  chat = base.id_rule("chat", 5215752), text = "text", private = "boolean",
  agent = base.id_rule("agent", 4188), markdownText = "text",
}

--- Post a message to a chat: a reply (seen by the customer) or a private
-- note (seen by agents only).
-- @tparam table fields `chat` (id, required), `text` (required), `private`
--   (false: a reply; true: a private note, which needs `agent`), `agent`
--   (the agent writing; without it the message is the customer's),
--   `markdownText` (a formatted copy: the API then stores it as the text)
-- @treturn table|nil the message
-- @treturn table the error
function Messages:send(fields)
  util.check_self(self, Messages, "client.messages:send", 2)
  local fname = "messages:send"
  local body = base.body(fname, fields, SEND, 2, { required = { "chat", "text" } })
  local private = body.private
  body.private = nil
  if body.agent == base.NULL then body.agent = nil end   -- no agent: the customer writes
  if private and body.agent == nil then
    error(fname .. ": a private note is written by an agent: give agent = <agent id>", 2)
  end
  body.type = private and "private" or "message"
  local message, err = self.client:call("POST", "/messages", { body = body }):wait()
  if message == nil then return nil, err end
  return normalize.message(message)
end

return M
