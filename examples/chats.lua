--- Chats, messages and the team: find a customer's open chats, post a private note to
-- each, close them.
--     HELPCRUNCH_API_KEY=... lua5.4 examples/chats.lua [customer e-mail]   (or `make demo`)

local helpcrunch = require "helpcrunch"
local client = helpcrunch.new {}

local email = arg and arg[1] or "serge.merge@example.com"

-- The customer, and an agent to write the note (the first admin, else the first agent).
local customer = assert(client.customers:search():where("email", "=", email):first())
local agent
for a in client.agents:all {} do
  if not agent or (a.role == "admin" and agent.role ~= "admin") then agent = a end
end
print(("customer #%d %s; notes by %s (%s)"):format(customer.id, customer.name or "?",
  agent.name, agent.role))

-- Their open chats: "open", "opened" and the rest are one status to the client.
local open = client.chats:search()
  :where("customer", "=", customer.id)
  :where("status", "=", "opened")
  :sort("createdAt", "asc")
for chat in open:each() do
  local note = assert(client.messages:send {
    chat = chat.id, private = true, agent = agent.id,
    text = "Closed by examples/chats.lua: no reply needed.",
  })
  local closed = assert(client.chats:set_status(chat.id, "closed"))
  print(("  chat #%d (opened %s, last message %q): note #%d, now %s at %s"):format(
    chat.id, os.date("!%Y-%m-%d", chat.createdAt), chat.lastMessageText or "",
    note.id, closed.status, os.date("!%Y-%m-%d %H:%M", closed.closedAt)))
end
print(("%d open chats left for %s"):format(assert(open:count()), email))

-- The newest messages of the first chat, newest first.
local first = client.chats:search():where("customer", "=", customer.id):sort("createdAt"):first()
if first then
  for m in client.messages:all(first.id, { max = 3 }) do
    print(("  #%d %-8s %-7s %s"):format(m.id, m.from, m.type, m.text or ""))
  end
end
client:close()
