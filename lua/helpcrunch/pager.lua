--- Iteration over every page of an offset-paged listing (customers:all,
-- search:each, and the other resources' lists).
--
-- The promise (README "Iterating"): every item present for the whole read
-- is yielded exactly once, or the iterator raises -- never a silent gap --
-- for every prefetch value, whatever order the server answers concurrent
-- requests in, and with retries.
--
-- How: pages overlap by one item. Each page is requested at the offset
-- where the last item of the previous page (the anchor) was, and a page is
-- accepted only in order and only when the anchor is in it: what follows
-- the anchor is the continuation, what precedes it was yielded before (or
-- inserted during the read). Inserts ahead of the read shift the anchor
-- further into the page; a page served out of order, retried, or shifted by
-- deletes does not hold the anchor where expected, and is re-read from a
-- corrected offset (pages already requested after it are dropped). After
-- MAX_REREADS re-reads without progress the iterator raises.
-- @module helpcrunch.pager

local errors = require "helpcrunch.errors"

local type = type

local M = {}

--- The data list and total of a list body (`{data = [...], total = N}`).
function M.data_total(body)
  if type(body) ~= "table" or type(body.data) ~= "table" then return nil end
  local total = body.total
  if type(total) ~= "number" then total = nil end
  return body.data, total
end

local function not_a_page(method, path, why)
  return errors.new {
    kind = "decode", code = "unexpected_shape", method = method, path = path,
    message = "the response is not " .. (why or "a page (no 'data' list)"),
  }
end

-- The page asked for, or the error saying why not. More items than the
-- limit asked means the request the server saw was not the one sent (it
-- happens when libcurl drops a URL's query string on a failed allocation):
-- never hand that out as the page asked for.
local function check_page(data, limit, method, path)
  if not data then return nil, not_a_page(method, path) end
  if #data > limit then
    return nil, not_a_page(method, path, "the page asked for (" .. #data .. " items for a limit of "
      .. limit .. ")")
  end
  return data
end

--- Check a decoded list body and make the page table of the API.
-- @tparam table body
-- @tparam integer offset
-- @tparam integer limit
-- @tparam string method
-- @tparam string path
-- @tparam[opt] function extract body -> data, total (default: M.data_total)
-- @treturn table|nil page `{data=, total=, offset=, limit=}`
-- @treturn table|nil the error when the body is not a page
function M.page_of(body, offset, limit, method, path, extract)
  local data, total = (extract or M.data_total)(body)
  local ok, err = check_page(data, limit, method, path)
  if not ok then return nil, err end
  return { data = data, total = total, offset = offset, limit = limit }
end

local Pager = {}
Pager.__index = Pager

-- Ids of recently yielded items are also remembered, so an item whose sort
-- key changed and moved forward is not yielded twice. Two generations of
-- GENERATION_PAGES pages each, swapped wholesale: memory stays flat.
local GENERATION_PAGES = 4

-- Re-reads in a row that find no anchor before the iterator gives up.
local MAX_REREADS = 8

-- How often (in items yielded) prefetched transfers are driven while the
-- caller works: often enough to keep bytes flowing, rarely enough to cost
-- nothing.
local DRIVE_EVERY = 16

--- New iterator.
-- @tparam table o `client`, `request(offset, limit) -> call`, `page_size`,
--   `max` (most items in all, or nil), `prefetch`, `method`, `path`,
--   `extract` (body -> data, total; total may be nil)
function M.new(o)
  -- One item of overlap needs pages of at least 2.
  local size = o.page_size < 2 and 2 or o.page_size
  local self = setmetatable({
    client = o.client, request = o.request, extract = o.extract or M.data_total,
    size = size, max = o.max, prefetch = o.prefetch, method = o.method, path = o.path,
    queue = {},          -- pages requested, in order: {call, offset, limit}
    next_offset = 0,     -- where the next page will be requested
    planned = 0,         -- items the queued pages should bring past the anchor
    anchor = nil,        -- id of the last item of the last accepted page
    last = nil,          -- that page's items (nil before the first page)
    anchor_total = nil,  -- that page's total
    total = nil, items = nil, idx = 1, count = 0,
    yielded = 0, rereads = 0, finished = false, closed = false, plain = false,
    ahead = o.prefetch,  -- pages kept requested ahead now (see next_page)
    seen = {}, seen_old = {}, pages = 0,
  }, Pager)
  if o.resume then self:restore(o.resume) end
  -- Made once (a closure per page would stop LuaJIT's trace compiler): once
  -- a page's bytes are in, ask for the next ones before decoding them.
  self.on_transfer = function()
    self:schedule(self.ahead)
    self.client:pump()
  end
  return self
end

local function ids_of(items)
  local ids = {}
  for i = 1, #items do ids[i] = type(items[i]) == "table" and items[i].id or nil end
  return ids
end

--- Where the iteration stands, to resume it later (in another process) with
-- `resume = checkpoint`: a plain table of numbers (and lists of ids) that
-- JSON can hold. Every item yielded before the checkpoint is never yielded
-- again after it; every item not yet yielded that stays in the list is.
-- @treturn table|nil `{ offset, anchor, last, done }`, or nil once the
--   iteration has ended (nothing left to resume)
function Pager:checkpoint()
  if self.closed then return nil end
  if not self.items then                -- no page taken yet: where it starts
    return self.resumed or { offset = self.next_offset }
  end
  if self.idx > self.count then         -- this page is done: the next one's start
    return { offset = self.cur_offset + self.count - 1, anchor = self.anchor,
             last = ids_of(self.items) }
  end
  local done = {}
  for i = self.from, self.idx - 1 do done[#done + 1] = type(self.items[i]) == "table" and self.items[i].id or nil end
  local prev = self.prev
  return { offset = prev.offset, anchor = prev.anchor, last = prev.last and ids_of(prev.last),
           done = done }
end

-- Take up an iteration where a checkpoint left it.
function Pager:restore(cp)
  local function bad(why)
    error("helpcrunch: resume must be a checkpoint (it:checkpoint()): " .. why, 4)
  end
  if type(cp) ~= "table" or type(cp.offset) ~= "number" or cp.offset < 0 then
    bad("no offset")
  end
  for _, k in ipairs { "last", "done" } do
    if cp[k] ~= nil and type(cp[k]) ~= "table" then bad(k .. " must be a list of ids") end
  end
  if (cp.anchor == nil) ~= (cp.last == nil) then bad("anchor and last go together") end
  self.next_offset = cp.offset
  self.resumed = cp
  if cp.anchor ~= nil then
    self.anchor = cp.anchor
    local last = {}
    for i, id in ipairs(cp.last) do last[i] = { id = id }; self.seen[id] = true end
    self.last = last
  end
  for _, id in ipairs(cp.done or {}) do self.seen[id] = true end
end

-- Keep `want` pages requested ahead, never past the known total nor past
-- what max still needs.
function Pager:schedule(want)
  while not self.finished and #self.queue < want do
    if self.total and self.next_offset >= self.total then return end
    local limit = self.size
    if self.max then
      local need = self.max - self.yielded - self.planned
      if need <= 0 then return end
      local overlap = (not self.plain and (self.last or #self.queue > 0)) and 1 or 0
      if need + overlap < limit then limit = math.max(need + overlap, 2) end
    end
    local offset = self.next_offset
    local call = self.request(offset, limit)
    local fresh = (self.plain or (self.last == nil and #self.queue == 0)) and limit or limit - 1
    self.queue[#self.queue + 1] = { call = call, offset = offset, limit = limit, brings = fresh }
    self.planned = self.planned + fresh
    -- Predict a full page: the next one starts at this one's last item.
    self.next_offset = offset + limit - (self.plain and 0 or 1)
    call:start()
  end
end

-- Drop every queued page (their offsets rested on a prediction that failed).
function Pager:drop_queue()
  for i = #self.queue, 1, -1 do
    self.queue[i].call:cancel()
    self.queue[i] = nil
  end
  self.planned = 0
end

--- Stop: cancel what is in flight. Safe twice; also `__close` on Lua 5.4.
function Pager:close()
  self.closed = true
  self:drop_queue()
  self.items, self.count = nil, 0
end
Pager.__close = Pager.close

function Pager:fail(err)
  self:close()
  error(err, 0)
end

-- Where in data the anchor is, or nil (from the front: it is usually first,
-- or a few items in when customers were created ahead of the read).
local function find(data, id)
  for i = 1, #data do
    local item = data[i]
    if type(item) == "table" and item.id == id then return i end
  end
  return nil
end

local function id_of(item)
  return type(item) == "table" and item.id or nil
end

-- When the anchor is not in data: the last item of data that was in the
-- previous page, provided the previous page's items found in data are in
-- its order, and where the anchor would be in data if it were there
-- (counting from that item). Returns nil when no such item is in data.
local function stand_in(data, last)
  local pos = {}
  for i = 1, #last do
    local id = id_of(last[i])
    if id ~= nil then pos[id] = i end
  end
  local at, prev = nil, 0
  for j = 1, #data do
    local i = pos[id_of(data[j])]
    if i then
      if i <= prev then return nil end
      prev, at = i, j
    end
  end
  if not at then return nil end
  return at, at + (#last - prev)
end

function Pager:give_up(offset)
  self:fail(errors.new {
    kind = "decode", code = "pages_shifted", method = self.method, path = self.path,
    message = "the listing changed faster than it could be read (" .. MAX_REREADS
      .. " pages in a row near offset " .. offset .. " did not continue the previous one);"
      .. " every item yielded so far was yielded once: read again, or narrow the query",
  })
end

-- The page does not continue the previous one: read again from `offset`,
-- or from an offset judged from the page.
function Pager:reread(q, data, total, offset)
  self.rereads = self.rereads + 1
  if self.rereads > MAX_REREADS then self:give_up(q.offset) end
  if not offset then
    -- Items yielded before (but none of the previous page): the page is
    -- behind the anchor (inserts pushed it on): move forward.
    local behind = false
    for i = 1, #data do
      local id = id_of(data[i])
      if id ~= nil and (self.seen[id] or self.seen_old[id]) then behind = true break end
    end
    if behind then
      offset = q.offset + #data - 1
    elseif total and self.anchor_total and total < self.anchor_total then
      -- The list shrank since the previous page: deletes pulled the anchor back.
      offset = q.offset - math.max(1, self.anchor_total - total)
    elseif self.rereads == 1 then
      -- Answered before the previous page (concurrent requests come back in
      -- any order): the same offset, asked again now, in order.
      offset = q.offset
    else
      offset = q.offset - (self.size - 1)
    end
  end
  if total and offset > total - 1 then offset = total - 1 end
  if offset < 0 then offset = 0 end
  self:drop_queue()
  self.next_offset = offset
  self.ahead = 1
end

-- Wait for the next page in order and accept it, or re-read.
-- @treturn boolean a page was accepted (items may be empty), false at the end
function Pager:next_page()
  while true do
    self:schedule(1)
    local q = table.remove(self.queue, 1)
    if not q then return false end
    -- Once a page's bytes are in, the next ones are requested before these
    -- are decoded: the network overlaps the decoding (not before the first
    -- page: until its total is known, there may be nothing more to ask).
    -- How many pages ahead (`ahead`) starts at prefetch, drops to one page at
    -- a time after a re-read (the listing is moving: concurrent pages would
    -- come back out of order) and grows back by one per page accepted.
    local body, err = q.call:wait((self.prefetch > 0 and self.last) and self.on_transfer or nil)
    if body == nil then self:fail(err) end
    local data, total = self.extract(body)
    local ok, perr = check_page(data, q.limit, self.method, self.path)
    if not ok then self:fail(perr) end
    local at = 0
    if self.last and not self.plain then
      at = find(data, self.anchor)
      if not at then
        local j, expect = stand_in(data, self.last)
        if j and expect <= #data then
          at = j                       -- the anchor is gone (deleted): j stands in
        elseif j then                  -- the page ends before the anchor: go there
          self:reread(q, data, total, q.offset + expect - 1)
        else
          self:reread(q, data, total)
        end
      end
    end
    if at then
      self:accept(q, data, total, at)
      return true
    end
  end
end

-- Take a page whose items after `at` continue the listing.
function Pager:accept(q, data, total, at)
  self.planned = self.planned - q.brings
  self.total = total
  -- The end: this page reaches the known total, or it is short and nothing
  -- follows the anchor in it (a total that over-counts cannot keep the read
  -- going), or (no total) it is short.
  local short = #data < q.limit
  local at_end = #data == 0 or (total and q.offset + #data >= total)
    or (short and (not total or at == #data))
  if at < #data or at_end then
    self.rereads = 0
  else                                 -- nothing new: inserts outran the read
    self.rereads = self.rereads + 1
    if self.rereads > MAX_REREADS then self:give_up(q.offset) end
  end
  self.prev = { offset = q.offset, anchor = self.anchor, last = self.last }
  self.cur_offset, self.from = q.offset, at + 1
  self.anchor, self.anchor_total = id_of(data[#data]), total
  self.last = data
  if self.anchor == nil and #data > 0 and not self.plain then
    -- Items without ids cannot anchor the next page: read on without
    -- overlap (nothing to check or de-duplicate by); pages already
    -- requested with overlap are asked again.
    self.plain = true
    self:drop_queue()
  end
  if at_end then
    self.finished = true
    self:drop_queue()
  elseif #self.queue == 0 then
    self.next_offset = q.offset + #data - (self.plain and 0 or 1)
  end
  self.items, self.idx, self.count = data, at + 1, #data
  self:remember()
  self:mark(at + 1)
  if self.ahead < self.prefetch then self.ahead = self.ahead + 1 end
  if not self.finished then self:schedule(self.ahead) end
end

-- A new page: every GENERATION_PAGES pages the older generation of ids goes.
function Pager:remember()
  self.pages = self.pages + 1
  if self.pages % GENERATION_PAGES == 0 then
    -- The older generation is emptied and reused: a table that keeps its
    -- size is filled again without growing (and rehashing) from nothing.
    local old = self.seen_old
    for k in pairs(old) do old[k] = nil end
    self.seen_old, self.seen = self.seen, old
  end
end

-- Go through a page's new items once, when it is taken, so that handing
-- them out costs almost nothing: which to skip (already yielded: an item
-- whose sort key moved it on), where `max` is reached, where to drive the
-- prefetched transfers next.
function Pager:mark(from)
  local data, seen, old = self.items, self.seen, self.seen_old
  local room = self.max and self.max - self.yielded or nil
  local skip, fresh, stop = nil, 0, nil
  for i = from, #data do
    local item = data[i]
    local id = type(item) == "table" and item.id or nil
    if id ~= nil and (seen[id] or old[id]) then
      skip = skip or {}
      skip[i] = true
    else
      if id ~= nil then seen[id] = true end
      fresh = fresh + 1
      if fresh == room then stop = i break end
    end
  end
  self.skip, self.stop, self.pump_at = skip, stop, from + DRIVE_EVERY
  self.yielded = self.yielded + fresh
end

-- Start the prefetched requests that could not start yet (the rate limit)
-- and drive the transfers, every DRIVE_EVERY items.
function Pager:pump_ahead()
  self.pump_at = self.pump_at + DRIVE_EVERY
  local q = self.queue
  if q[1] then
    for i = 1, #q do q[i].call:start() end
    self.client:pump()
  end
end

--- The generic-for step: the next item, or nil at the end.
function Pager:__call()
  local idx = self.idx
  while idx <= self.count do
    self.idx = idx + 1
    local skip = self.skip
    if not (skip and skip[idx]) then
      local item = self.items[idx]
      if idx == self.stop then
        self:close()                          -- max reached: nothing more is asked
      elseif idx >= self.pump_at then
        self:pump_ahead()
      end
      return item
    end
    idx = idx + 1
  end
  if self.closed or self.finished or not self:next_page() then
    self:close()
    return nil
  end
  return self:__call()
end

--- Return the four values of a generic `for`: on Lua 5.4 the fourth makes
-- `break` release the request in flight at once.
function M.iterate(o)
  local p = M.new(o)
  return p, nil, nil, p
end

return M
