--- Churn: customers inserted or deleted while a client pages.
-- With `--churn N`, after each successful list or search page, N customers are
-- inserted that sort before every existing customer in the order that request used,
-- so the next page at `offset + limit` repeats the last N customers of this one.
-- `--churn-delete M`: after each such page, M of the customers before the page's end
-- (already served) are deleted, so the rest shift back and the next page at
-- `offset + limit` would skip M customers.
-- @module helpcrunch.mock.churn

local json = require "helpcrunch.mock.json"
local data = require "helpcrunch.mock.data"

local null = json.null
local floor = math.floor

local M = {}

local FIELD_OF = { first = "firstSeen", last = "lastSeen" }

--- Insert the configured number of customers ahead of the order just served.
-- New customers get ids above the maximum, except for an id-ascending list, where they
-- take ids just below the smallest (stopping at 1). Sorted by a timestamp ascending, the
-- field is set below the smallest one; descending, to null (nulls come first there).
-- @tparam table mock (uses `config.churn`, `store`, `churn_rng`, `now`)
-- @tparam string key "id", "first" or "last"
-- @tparam string dir "asc" or "desc"
-- @tparam table|nil template for search: a record that matched (copied), else generated
-- @tparam[opt] table list the ordered records the page was cut from
-- @tparam[opt] integer served how many of them the page reached (offset + #data)
function M.after_page(mock, key, dir, template, list, served)
  M.delete_served(mock, list, served)
  local n = mock.config.churn
  if n <= 0 then return end
  local st = mock.store
  local entries = {}
  local base
  if key ~= "id" and dir == "asc" then
    local first = st:ordered(key, "asc")[1]
    base = first and first[key] or 1000000000
  end
  for k = 1, n do
    local id
    if key == "id" and dir == "asc" then
      id = (st.min_id or 2) - k
      if id < 1 then break end
    else
      id = st.max_id + k
    end
    local e
    if template then
      e = { customer = data.copy(template.c), cd_order = template.cd_order,
            cd_list = template.cd_list }
      e.customer.id = id
    else
      e = data.generate(mock.churn_rng, id)
    end
    e.created = floor(mock.now())
    local field = FIELD_OF[key]
    if field then
      e.customer[field] = dir == "asc" and floor(base - k) or null
    end
    entries[#entries + 1] = e
  end
  if #entries > 0 then st:insert_first(entries, key, dir) end
end

--- Delete `churn_delete` customers among the first `served` records of the list a page
-- was cut from, chosen by the churn generator. The six seed customers are kept.
function M.delete_served(mock, list, served)
  local n = mock.config.churn_delete or 0
  if n <= 0 or not list or not served or served < 1 then return end
  local victims = {}
  for _ = 1, n * 4 do
    if #victims >= n then break end
    local rec = list[mock.churn_rng:int(1, math.min(served, #list))]
    if rec and rec.id >= 1000 and not victims[rec.id] then
      victims[rec.id] = true
      victims[#victims + 1] = rec.id
    end
  end
  for _, id in ipairs(victims) do mock.store:remove(id) end
end

return M
