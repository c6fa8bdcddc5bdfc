--- `/v1/customers`: list, get, search, create, update (PATCH), replace (PUT), delete,
-- tags (add, remove) and batch. Every write fires the customer webhooks of §6.3
-- (`helpcrunch.mock.webhooks`); fields are read by `helpcrunch.mock.customer_input`.
--
-- Handlers take the mock (see `helpcrunch.mock`), the request
-- `{ method, path, query = {name = value}, headers = {lower-name = value}, body }` and
-- the path's `{segments}`, and return a reply (see `helpcrunch.mock.replies`).
-- @module helpcrunch.mock.endpoints.customers

local json = require "helpcrunch.mock.json"
local store = require "helpcrunch.mock.store"
local search = require "helpcrunch.mock.search"
local replies = require "helpcrunch.mock.replies"
local input = require "helpcrunch.mock.customer_input"
local webhooks = require "helpcrunch.mock.webhooks"

local null, array = json.null, json.array
local type, tonumber, ipairs = type, tonumber, ipairs
local floor = math.floor
local encoded = store.encoded

local dialect_of = replies.dialect_of
local NOT_FOUND = { { "entity_not_found", "Customer not found" } }

local M = {}

local function list(mock, req)
  local offset, limit, key, dir, errs = replies.list_params(req.query, search.SORTS)
  if #errs > 0 then return dialect_of(mock, req).bad_request(errs) end
  local recs = mock.store:ordered(key, dir)
  local res = { status = 200, body = replies.page(recs, offset, limit, #recs, encoded) }
  mock:after_page(key, dir, nil, recs, math.min(#recs, offset + limit))
  return res
end

local function get(mock, req, id)
  local rec = id:find("^%d+$") and mock.store:get(tonumber(id))
  if not rec then return dialect_of(mock, req).reply(404, NOT_FOUND) end
  return { status = 200, body = encoded(rec, true) }
end

local function run_search(mock, req)
  local d = dialect_of(mock, req)
  local body, bad = replies.json_object(req, d)
  if not body then return bad end
  local q, errs = search.compile(body)
  if not q then return d.bad_request(errs) end
  local recs = mock:search(q)
  local res = { status = 200, body = replies.page(recs, q.offset, q.limit, #recs, encoded) }
  mock:after_page(q.key, q.dir, recs[q.offset + 1] or recs[1], recs,
    math.min(#recs, q.offset + q.limit))
  return res
end

-- ---- writes ----------------------------------------------------------------------

local TAKEN = { "invalid_userId_value", "This userId is already taken." }

local function emit(mock, c, names)
  for _, name in ipairs(names) do webhooks.emit(mock, name, input.short(c)) end
end

local function create(mock, req)
  local d = dialect_of(mock, req)
  local body, bad = replies.json_object(req, d)
  if not body then return bad end
  local e, errs = input.new_customer(mock, body, mock.now())
  if not e then return d.bad_request(errs) end
  local uid = e.customer.userId
  if type(uid) == "string" and mock.store:find_user(uid) then
    return d.bad_request({ TAKEN })
  end
  e.customer.id = mock.store.max_id + 1
  local rec = mock.store:add(e)
  emit(mock, rec.c, { "customer.new" })
  return { status = 201, body = encoded(rec) }
end

local function find(mock, id)
  return id:find("^%d+$") and mock.store:get(tonumber(id)) or nil
end

-- A write to /customers/{id}: the record, the request's JSON object and the
-- endpoint's dialect; or nil and the reply (404, or 400 for a body that is
-- not a JSON object).
local function target(mock, req, id)
  local d = dialect_of(mock, req)
  local rec = find(mock, id)
  if not rec then return nil, d.reply(404, NOT_FOUND) end
  local body, bad = replies.json_object(req, d)
  if not body then return nil, bad end
  return rec, body, d
end

-- Apply checked changes to a record, fire its webhooks; returns the record.
local function change(mock, rec, ch, mode)
  local before = input.snapshot(rec.c)
  input.apply(rec, ch, mode)
  mock.store:touch(rec)
  emit(mock, rec.c, input.events(before, rec.c))
  return rec
end

-- PATCH (mode "patch") or PUT ("put") /customers/{id}.
local function update(mode)
  return function(mock, req, id)
    local rec, body, d = target(mock, req, id)
    if not rec then return body end               -- the 404, or the 400 of a bad body
    local errs = {}
    local ch = input.read(mock, body, errs)
    if #errs > 0 then return d.bad_request(errs) end
    if input.userid_taken(mock, ch, rec) then return d.bad_request({ TAKEN }) end
    return { status = 200, body = encoded(change(mock, rec, ch, mode)) }
  end
end

local function delete(mock, req, id)
  local rec = find(mock, id)
  if not rec then return dialect_of(mock, req).reply(404, NOT_FOUND) end
  mock.store:remove(rec.id)
  emit(mock, rec.c, { "customer.deleted" })
  return { status = 200, body = '"Ok"' }
end

-- PUT (add) or DELETE (remove) /customers/{id}/tags with {"tags": [...]}.
local function tags(add)
  return function(mock, req, id)
    local rec, body, d = target(mock, req, id)
    if not rec then return body end               -- the 404, or the 400 of a bad body
    if not search.is_list(body.tags) or #body.tags == 0 then
      return d.bad_request({ { "tags", search.MSG.blank } })
    end
    local errs = {}
    local given = input.read_tags(mock, body.tags, errs)
    if #errs > 0 then return d.bad_request(errs) end
    local wanted = {}
    for _, t in ipairs(given) do wanted[t.name] = true end
    local old, new = rec.c.tags, array({})
    for _, t in ipairs(type(old) == "table" and old or {}) do
      local name = type(t) == "table" and t.name or nil
      if add then
        new[#new + 1] = t                               -- carried already: kept as it is
        if name then wanted[name] = false end
      elseif not (name and wanted[name]) then
        new[#new + 1] = t
      end
    end
    if add then
      for _, t in ipairs(given) do
        if wanted[t.name] then
          new[#new + 1] = t
          wanted[t.name] = false
        end
      end
    end
    return { status = 200, body = encoded(change(mock, rec, { set = {}, location = {}, tags = new },
                                                 "patch")) }
  end
end

local MAX_BATCH = 10

-- PUT /customers/batch: a list of 1..10 {"customer": id, ...fields}, applied like
-- PATCH, all or nothing: any bad item is a 400 and any unknown id a 404 for the whole
-- request; 200 is the list of updated customers in request order.
local function batch(mock, req)
  local d = dialect_of(mock, req)
  local items = req.body ~= "" and json.decode(req.body) or nil
  if type(items) ~= "table" or not search.is_list(items) then
    return d.bad_request({ { "body", "This value should be of type array." } })
  end
  if #items == 0 or #items > MAX_BATCH then
    return d.bad_request({ { "validation_error",
      "The batch must hold from 1 to " .. MAX_BATCH .. " customers." } })
  end
  local errs, plans = {}, {}
  for i, item in ipairs(items) do
    local at = "[" .. (i - 1) .. "]"
    local cid = type(item) == "table" and item.customer
    if type(item) ~= "table" or (search.is_list(item) and next(item) ~= nil) then
      errs[#errs + 1] = { at, "This value should be of type object." }
    elseif cid == nil or cid == null then
      errs[#errs + 1] = { at .. ".customer", search.MSG.blank }
    elseif not ((type(cid) == "number" and cid == floor(cid) and cid >= 1) or
                (type(cid) == "string" and cid:find("^%d+$"))) then
      errs[#errs + 1] = { at .. ".customer", search.MSG.numeric }
    else
      plans[i] = { id = tonumber(cid), ch = input.read(mock, item, errs, at .. ".") }
    end
  end
  if #errs > 0 then return d.bad_request(errs) end
  local claimed = {}
  for _, p in ipairs(plans) do
    p.rec = mock.store:get(p.id)
    if not p.rec then return d.reply(404, NOT_FOUND) end
    local uid = p.ch.set.userId
    if input.userid_taken(mock, p.ch, p.rec) or (type(uid) == "string" and claimed[uid] and
       claimed[uid] ~= p.rec) then
      return d.bad_request({ TAKEN })
    end
    if type(uid) == "string" then claimed[uid] = p.rec end
  end
  local out = {}
  for i, p in ipairs(plans) do out[i] = encoded(change(mock, p.rec, p.ch, "patch")) end
  return { status = 200, body = "[" .. table.concat(out, ",") .. "]" }
end

--- The routes, in matching order (the literal /search and /batch before /{id}).
M.routes = {
  { method = "GET", path = "/v1/customers", handler = list, dialect = "get",
    name = "customers.list" },
  { method = "POST", path = "/v1/customers", handler = create, dialect = "post",
    name = "customers.create" },
  { method = "POST", path = "/v1/customers/search", handler = run_search, dialect = "post",
    name = "customers.search" },
  { method = "PUT", path = "/v1/customers/batch", handler = batch, dialect = "post",
    name = "customers.batch" },
  { method = "GET", path = "/v1/customers/{id}", handler = get, dialect = "get",
    name = "customers.get" },
  { method = "PATCH", path = "/v1/customers/{id}", handler = update("patch"), dialect = "post",
    name = "customers.update" },
  { method = "PUT", path = "/v1/customers/{id}", handler = update("put"), dialect = "post",
    name = "customers.replace" },
  { method = "DELETE", path = "/v1/customers/{id}", handler = delete, dialect = "post",
    name = "customers.delete" },
  { method = "PUT", path = "/v1/customers/{id}/tags", handler = tags(true), dialect = "post",
    name = "customers.add_tags" },
  { method = "DELETE", path = "/v1/customers/{id}/tags", handler = tags(false),
    dialect = "post", name = "customers.remove_tags" },
}

return M
