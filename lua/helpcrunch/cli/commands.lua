--- The short commands: get, count, tag, delete, event. Each is one or two
-- calls of the library; its checks (ids, tag names, event data) raise, and
-- what they raise is a usage error here.
-- @module helpcrunch.cli.commands

local helpcrunch = require "helpcrunch"
local filters = require "helpcrunch.cli.filters"
local jsonl = require "helpcrunch.cli.jsonl"
local sys = require "helpcrunch.cli.sys"

local M = {}

-- A library call: its result; a raised check -> nil, message, 2; a failed
-- request -> nil, err, 1.
local function call(fn, ...)
  local r = { pcall(fn, ...) }
  if not r[1] then
    if sys.interrupted(r[2]) then error(r[2], 0) end
    return nil, (tostring(r[2]):gsub("^[^:]*%.lua:%d+: ", "")), 2
  end
  if r[2] == nil and r[3] ~= nil then return nil, tostring(r[3]), 1 end
  return r[2], r[3]
end

local function id_arg(ctx, id)
  if not (type(id) == "string" and id:match("^%d+$")) then
    return nil, ctx.fail("the id must be HelpCrunch's numeric customer id, got '"
      .. tostring(id) .. "'", 2)
  end
  return id
end

--- `helpcrunch get ID | --user-id U | --email E`
function M.get(o, ctx)
  local given = (o.id and 1 or 0) + (o.user_id and 1 or 0) + (o.email and 1 or 0)
  if given ~= 1 then return ctx.fail("give one of: ID, --user-id, --email", 2) end
  local customers = ctx.client.customers
  local c, err, code
  if o.id then
    local id, status = id_arg(ctx, o.id)
    if not id then return status end
    c, err, code = call(customers.get, customers, id)
  else
    c, err, code = call(customers.find, customers,
      o.user_id and { userId = o.user_id } or { email = o.email })
    if c == nil and err == nil then
      return ctx.fail("no customer has " .. (o.user_id and "userId " .. o.user_id
        or "email " .. o.email), 1)
    end
  end
  if c == nil then return ctx.fail(err, code) end
  io.stdout:write(jsonl.line(c))
  return 0
end

--- `helpcrunch count [filters]`
function M.count(o, ctx)
  local query, err = filters.query(ctx.client, o)
  if query == nil then return ctx.fail(err, 2) end
  local n, cerr = filters.count(ctx.client, query)
  if n == nil then return ctx.fail(tostring(cerr), 1) end
  io.stdout:write(string.format("%d\n", n))
  return 0
end

--- `helpcrunch tag ID NAME... [--remove]`
function M.tag(o, ctx)
  local id, status = id_arg(ctx, o.id)
  if not id then return status end
  local customers = ctx.client.customers
  local ok, err, code = call(o.remove and customers.remove_tags or customers.add_tags,
    customers, id, o.names)
  if not ok then return ctx.fail(err, code) end
  ctx.say("tag: customer " .. id .. ": " .. (o.remove and "removed " or "added ")
    .. table.concat(o.names, ", "))
  return 0
end

--- `helpcrunch delete ID [--yes]`: asks on a terminal.
function M.delete(o, ctx)
  local id, status = id_arg(ctx, o.id)
  if not id then return status end
  local customers = ctx.client.customers
  if not o.yes then
    if not sys.isatty(0) then
      return ctx.fail("standard input is not a terminal, so nobody can confirm: pass --yes "
        .. "to delete customer " .. id .. " without asking", 2)
    end
    local c, err, code = call(customers.get, customers, id)
    if c == nil then return ctx.fail(err, code) end
    local who = table.concat({ c.name or "", c.email and ("<" .. c.email .. ">") or "" }, " ")
      :match("^%s*(.-)%s*$")
    io.stderr:write("Delete customer ", id, who ~= "" and (" (" .. who .. ")") or "",
      " for good? [y/N] ")
    io.stderr:flush()
    local answer = io.stdin:read("*l")
    if not (answer and answer:match("^%s*[yY]")) then
      return ctx.fail("not deleted", 1)
    end
  end
  local ok, err, code = call(customers.delete, customers, id)
  if not ok then return ctx.fail(err, code) end
  ctx.say("delete: customer " .. id .. " deleted")
  return 0
end

-- A KEY=VALUE value: JSON for numbers, true, false and null, else the text.
local function scalar(text)
  if text == "true" then return true elseif text == "false" then return false end
  if text == "null" then return helpcrunch.null end
  if text:match("^%-?%d") and not text:match("^%-?0%d") then
    local v = helpcrunch.decode(text)
    if type(v) == "number" then return v end
  end
  return text
end

--- `helpcrunch event NAME (--customer ID | --user-id U | --email E) [KEY=VALUE...] [--data JSON]`
function M.event(o, ctx)
  local given = (o.customer and 1 or 0) + (o.user_id and 1 or 0) + (o.email and 1 or 0)
  if given ~= 1 then return ctx.fail("give one of: --customer ID, --user-id, --email", 2) end
  local data = {}
  if o.data then
    local d = helpcrunch.decode(o.data)
    if type(d) ~= "table" or d[1] ~= nil then
      return ctx.fail("--data must be a JSON object, got " .. o.data, 2)
    end
    for k, v in pairs(d) do data[k] = v end
  end
  for _, pair in ipairs(o.data_pairs or {}) do
    local k, v = pair:match("^([^=]+)=(.*)$")
    if not k then return ctx.fail("event data must be KEY=VALUE, got '" .. pair .. "'", 2) end
    data[k] = scalar(v)
  end
  if next(data) == nil then
    return ctx.fail("give the event's data (KEY=VALUE pairs or --data): the API refuses an "
      .. "event without data", 2)
  end
  local customer = o.user_id and { userId = o.user_id } or o.email and { email = o.email }
  if o.customer then
    local id, status = id_arg(ctx, o.customer)
    if not id then return status end
    customer = id
  end
  local events = ctx.client.events
  local ok, err, code = call(events.track, events, { customer = customer, name = o.name,
                                                     data = data })
  if not ok then return ctx.fail(err, code) end
  ctx.say("event: " .. o.name .. " recorded")
  return 0
end

return M
