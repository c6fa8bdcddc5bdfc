--- The admin endpoints under `/_mock/`: no auth, no rate limit, not logged, no faults,
-- no delay. They read and change the mock's state for tests.
-- @module helpcrunch.mock.admin

local json = require "helpcrunch.mock.json"
local store = require "helpcrunch.mock.store"
local config = require "helpcrunch.mock.config"
local faults = require "helpcrunch.mock.faults"
local ratewindow = require "helpcrunch.mock.ratewindow"
local webhooks = require "helpcrunch.mock.webhooks"

local encode = json.encode
local type, tonumber, ipairs, pairs = type, tonumber, ipairs, pairs

local M = {}

local function reply_json(status, value)
  return { status = status, body = type(value) == "string" and value or encode(value) }
end

local function admin_error(msg)
  return reply_json(400, { error = msg })
end

local function stats(mock)
  local open = 0
  for conn in pairs(mock.conns) do
    if conn.counted then open = open + 1 end
  end
  return reply_json(200, { requests = mock.stats.requests,
                           connections = mock.stats.connections, open = open,
                           log_dropped = mock.log.dropped })
end

local function set_config(mock, req)
  local body = req.body ~= "" and json.decode(req.body) or {}
  if type(body) ~= "table" then return admin_error("body must be a JSON object") end
  local err, rate_changed = config.apply(mock.config, body)
  if err then return admin_error(err) end
  if rate_changed then mock.window = ratewindow.new() end
  return reply_json(200, config.view(mock.config))
end

local function queue_fault(mock, req)
  local body = json.decode(req.body)
  if type(body) ~= "table" then return admin_error("body must be a JSON object") end
  local f, err = faults.from_body(body)
  if not f then return admin_error(err) end
  mock.queue[#mock.queue + 1] = f
  return reply_json(200, { queued = #mock.queue })
end

-- "METHOD path" -> handler(mock, req)
local ROUTES = {
  ["GET /_mock/stats"] = stats,
  ["GET /_mock/log"] = function(mock) return reply_json(200, mock.log:json()) end,
  ["DELETE /_mock/log"] = function(mock)
    mock.log:clear()
    return reply_json(200, { ok = true })
  end,
  ["POST /_mock/reset"] = function(mock)
    mock:reset()
    return reply_json(200, { ok = true, customers = mock.store:count() })
  end,
  ["GET /_mock/events"] = function(mock) return reply_json(200, json.array(mock.events)) end,
  ["GET /_mock/count"] = function(mock)
    local chats, messages = mock.conv:count()
    return reply_json(200, { customers = mock.store:count(), chats = chats, messages = messages })
  end,
  ["GET /_mock/config"] = function(mock) return reply_json(200, config.view(mock.config)) end,
  ["POST /_mock/config"] = set_config,
  ["POST /_mock/fault"] = queue_fault,
  ["DELETE /_mock/fault"] = function(mock)
    mock.queue = {}
    return reply_json(200, { queued = 0 })
  end,
  ["POST /_mock/clock"] = function(mock, req)
    local body = req.body ~= "" and json.decode(req.body) or {}
    local s = type(body) == "table" and tonumber(body.advance)
    if not s or s < 0 then return admin_error("advance must be a number of seconds >= 0") end
    mock:advance(s)
    return reply_json(200, { now = mock.now() })
  end,
  ["GET /_mock/held"] = function(mock)
    return reply_json(200, { held = mock.server:held() })
  end,
  ["POST /_mock/release"] = function(mock)
    return reply_json(200, { released = mock.server:release() })
  end,
  ["GET /_mock/fault"] = function(mock)
    local list = json.array({})
    for i, f in ipairs(mock.queue) do list[i] = f end
    return reply_json(200, list)
  end,
}

for route, handler in pairs(webhooks.ADMIN) do ROUTES[route] = handler end

--- Answer a `/_mock/*` request.
-- @tparam table mock
-- @tparam table req
-- @treturn table reply
function M.handle(mock, req)
  local handler = ROUTES[req.method .. " " .. req.path]
  if handler then return handler(mock, req) end
  local id = req.path:match("^/_mock/customers/(%d+)$")
  if id and req.method == "GET" then
    local rec = mock.store:get(tonumber(id))
    if not rec then return reply_json(404, { error = "no such customer" }) end
    return reply_json(200, store.raw(rec))
  end
  id = req.path:match("^/_mock/chats/(%d+)$")
  if id and req.method == "GET" then
    local chat = mock.conv:get(tonumber(id))
    if not chat then return reply_json(404, { error = "no such chat" }) end
    local view = mock.conv:chat_view(chat)
    view.status_canonical = chat.status
    view.messages = #mock.conv.messages[chat.id]
    return reply_json(200, view)
  end
  return reply_json(404, { error = "unknown admin endpoint" })
end

return M
