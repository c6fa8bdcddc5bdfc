--- Iteration over every page of a listing (customers:all, search:each).
--
-- The core knows offset/limit/total; this composes it: the next page is
-- requested before the caller has finished the current one (`prefetch`),
-- no page is requested past `total` (or past what `max` needs), every
-- parameter rides on every page, and a customer already yielded is dropped
-- when inserts shift the offsets under the iteration.
-- @module helpcrunch.pager

local errors = require "helpcrunch.errors"

local M = {}

--- Check a decoded list/search body and make the page table of the API.
-- @treturn table|nil page `{data=, total=, offset=, limit=}`
-- @treturn table|nil the error when the body is not a page
function M.page_of(body, offset, limit, method, path)
  if type(body) ~= "table" or type(body.data) ~= "table" or type(body.total) ~= "number" then
    return nil, errors.new {
      kind = "decode", code = "unexpected_shape", method = method, path = path,
      message = "the response is not a page (no 'data' list and 'total' number)",
    }
  end
  return { data = body.data, total = body.total, offset = offset, limit = limit }
end

local Pager = {}
Pager.__index = Pager

-- Ids of recently yielded customers are remembered to drop a customer that
-- inserts shifted into a later page. They live in two generations of
-- GENERATION_PAGES pages each, swapped wholesale (no per-id deletes): a
-- customer reappears only if inserts pushed it forward, and to escape the
-- window more than GENERATION_PAGES pages of customers would have to be
-- inserted ahead of it between two requests. A window, not every id, keeps
-- memory flat however long the export.
local GENERATION_PAGES = 4

-- How often (in customers yielded) the prefetched transfers are driven
-- while the caller works: often enough to keep bytes flowing, rarely enough
-- to cost nothing.
local DRIVE_EVERY = 16

--- New iterator.
-- @tparam table o `client`, `start_page(offset, limit) -> call`, `page_size`,
--   `max` (most customers in all, or nil), `prefetch`
function M.new(o)
  return setmetatable({
    client = o.client, start_page = o.start_page, page_size = o.page_size,
    max = o.max, prefetch = o.prefetch, method = o.method, path = o.path,
    queue = {}, next_offset = 0, total = nil, items = nil, idx = 1,
    yielded = 0, skipped = 0, closed = false,
    seen = {}, seen_old = {}, page_no = 0, count = 0,
  }, Pager)
end

-- Where paging stops: the server's latest total, or what `max` still needs
-- (customers dropped as duplicates don't count towards max).
function Pager:bound()
  local want = self.max and self.max + self.skipped or nil
  if self.total == nil then return want or self.page_size end
  if want and want < self.total then return want end
  return self.total
end

-- Keep `want` pages requested ahead (1 when about to wait for the next
-- page, `prefetch` while the caller works through one).
function Pager:schedule(want)
  local bound = self:bound()
  while not self.exhausted and #self.queue < want and self.next_offset < bound do
    -- Always a full page unless max needs fewer: a limit cut to the
    -- (moving) total would chase inserts with ever smaller pages.
    local limit = self.page_size
    if self.max and self.max + self.skipped - self.next_offset < limit then
      limit = self.max + self.skipped - self.next_offset
    end
    local call = self.start_page(self.next_offset, limit)
    self.queue[#self.queue + 1] = { call = call, offset = self.next_offset, limit = limit }
    self.next_offset = self.next_offset + limit
    call:start()
  end
end

--- Stop: cancel what is in flight. Safe twice; also `__close` on Lua 5.4.
function Pager:close()
  self.closed = true
  for i = #self.queue, 1, -1 do
    self.queue[i].call:cancel()
    self.queue[i] = nil
  end
  self.items, self.count = nil, 0
end
Pager.__close = Pager.close

function Pager:fail(err)
  self:close()
  error(err, 0)
end

function Pager:next_page()
  self:schedule(1)
  local q = table.remove(self.queue, 1)
  if not q then return false end
  -- Once a page's bytes are in, ask for the next one before decoding them:
  -- the server prepares page k+2 while we decode page k+1, and requests
  -- still reach it one after another, in order (two at once, on two
  -- connections, could be served out of order and skip customers when
  -- inserts shift the offsets).
  local body, err = q.call:wait(self.total and self.prefetch > 0 and function()
    self:schedule(self.prefetch)
    self.client.core:step()
  end)
  if body == nil then self:fail(err) end
  local page, perr = M.page_of(body, q.offset, q.limit, self.method, self.path)
  if not page then self:fail(perr) end
  self.total = page.total
  self.items, self.idx, self.count = page.data, 1, #page.data
  if #page.data == 0 then self.exhausted = true end   -- nothing here, nothing after
  self:remember()
  self:schedule(self.prefetch)           -- prefetch while the caller works
  return true
end

-- A new page: every GENERATION_PAGES pages the older generation of ids goes.
function Pager:remember()
  self.page_no = self.page_no + 1
  if self.page_no % GENERATION_PAGES == 0 then
    self.seen_old, self.seen = self.seen, {}
  end
end

--- The generic-for step: the next customer, or nil at the end.
function Pager:__call()
  while not self.closed do
    local idx = self.idx
    if idx <= self.count then
      local c = self.items[idx]
      self.idx = idx + 1
      local id = type(c) == "table" and c.id or nil
      if id ~= nil and (self.seen[id] or self.seen_old[id]) then
        self.skipped = self.skipped + 1
      else
        if id ~= nil then self.seen[id] = true end
        local yielded = self.yielded + 1
        self.yielded = yielded
        if self.max and yielded >= self.max then
          self:close()
        elseif yielded % DRIVE_EVERY == 0 and self.queue[1] then
          for i = 1, #self.queue do self.queue[i].call:start() end
          self.client.core:step()
        end
        return c
      end
    elseif not self:next_page() then
      self:close()
    end
  end
  return nil
end

--- Return the four values of a generic `for`: on Lua 5.4 the fourth makes
-- `break` release the request in flight at once.
function M.iterate(o)
  local p = M.new(o)
  return p, nil, nil, p
end

return M
