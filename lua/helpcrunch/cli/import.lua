--- `helpcrunch import FILE`: create the customers a file holds that do not
-- exist, update those that do (matched by userId or email).
--
-- Records go in rounds of up to ROUND: one search finds every round's
-- customers at once (one `=` filter per key, OR'ed), the new ones are
-- created one by one (the API has no batch create), and the changed ones
-- updated through `update_many` (ten per request). Only the fields that
-- differ are sent; a record that changes nothing is "unchanged". A round
-- ends before a key it already holds, so a file that names a customer
-- twice applies both records in order. Every record gets one report line;
-- a bad one (not JSON, an unknown field, a value of the wrong type, an
-- invalid e-mail, no key) is reported and skipped.
-- @module helpcrunch.cli.import

local helpcrunch = require "helpcrunch"
local writable = require "helpcrunch.resources.customer_fields"
local records = require "helpcrunch.cli.records"
local report = require "helpcrunch.cli.report"
local progress = require "helpcrunch.cli.progress"
local sys = require "helpcrunch.cli.sys"

local M = {}

--- Records per round: one search (100 keys, one page) and up to ten batches.
M.ROUND = 100

local LOCATION = { city = true, regionCode = true, countryCode = true }

-- ---- checking a record ------------------------------------------------------

local function valid_email(s)
  return s:match("^[^%s@]+@[^%s@]+%.[^%s@.]+$") ~= nil and not s:find("%.%.")
end

-- fields -> nil (fine) | message
local function check(fields, match)
  local ok, err = pcall(writable.body, "import", fields)
  if not ok then return (tostring(err):gsub("^[^:]*%.lua:%d+: ", ""):gsub("^import: ", "")) end
  if fields.email ~= nil and not valid_email(fields.email) then
    return "email " .. string.format("%q", fields.email) .. " is not an e-mail address"
  end
  local key = fields[match]
  if type(key) ~= "string" or key == "" then
    return "no " .. match .. " to find the customer by (--match " .. match .. ")"
  end
  return nil
end

-- ---- comparing with the customer --------------------------------------------

local function loose_equal(a, b)
  if a == b then return true end
  if type(a) == "number" or type(b) == "number" then return tonumber(a) == tonumber(b) end
  return false
end

local function same_tags(have, want)
  local by_name = {}
  for _, t in ipairs(have or {}) do by_name[t.name] = t.color or true end
  local n = 0
  for _, t in ipairs(want) do
    local name = type(t) == "table" and t.name or t
    local color = type(t) == "table" and t.color or nil
    local had = by_name[name]
    if had == nil or (color and had ~= color) then return false end
    n = n + 1
  end
  local m = 0
  for _ in pairs(by_name) do m = m + 1 end
  return m == n
end

-- The fields of `fields` whose values differ from the customer's (customData:
-- only the differing properties), or nil when none does.
local function changes(c, fields, match)
  local out, any = {}, false
  for k, v in pairs(fields) do
    local same
    if k == match then
      same = true
    elseif LOCATION[k] then
      same = type(c.location) == "table" and c.location[k] == v
    elseif k == "firstSeen" or k == "lastSeen" then
      same = tonumber(v) == c[k]
    elseif k == "unsubscribed" or k == "blocked" then
      same = (c[k] == true) == v
    elseif k == "tags" then
      same = same_tags(c.tags, v)
    elseif k == "customData" then
      local cd, diff = type(c.customData) == "table" and c.customData or {}, nil
      for p, x in pairs(v) do
        if not loose_equal(cd[p], x) then
          diff = diff or {}
          diff[p] = x
        end
      end
      same = diff == nil
      v = diff
    else
      same = c[k] == v
    end
    if not same then out[k], any = v, true end
  end
  return any and out or nil
end

-- The customer as it will be once `fields` applied (for a later record of
-- the same key, and for a dry run).
local function applied(c, fields)
  local n = {}
  for k, v in pairs(c or {}) do n[k] = v end
  n.location = {}
  for k, v in pairs(c and c.location or {}) do n.location[k] = v end
  n.customData = {}
  for k, v in pairs(c and c.customData or {}) do n.customData[k] = v end
  for k, v in pairs(fields) do
    if LOCATION[k] then
      n.location[k] = v
    elseif k == "customData" then
      for p, x in pairs(v) do n.customData[p] = x end
    elseif k == "tags" then
      n.tags = {}
      for i, t in ipairs(v) do n.tags[i] = type(t) == "table" and t or { name = t } end
    elseif k == "firstSeen" or k == "lastSeen" then
      n[k] = tonumber(v)
    else
      n[k] = v
    end
  end
  return n
end

-- ---- one round --------------------------------------------------------------

-- Errors after which nothing else can succeed: stop, and report the rest.
local function fatal(err)
  return err.kind == "auth" or err.code == "ratelimit_store"
    or (err.kind == "transport" and err.code ~= "outcome_unknown")
end

-- key -> list of customers, for the keys (one search, every page).
local function lookup(client, match, keys)
  local q = client.customers:search():any()
  for _, k in ipairs(keys) do q = q:where(match, "=", k) end
  local found = {}
  local ok, err = pcall(function()
    for c in q:each() do
      local k = c[match]
      if k ~= nil then
        found[k] = found[k] or {}
        table.insert(found[k], c)
      end
    end
  end)
  if not ok then
    if helpcrunch.is_error(err) then return nil, err end
    error(err, 0)
  end
  return found
end

local function run_round(s, round)
  local keys, seen = {}, {}
  for _, r in ipairs(round) do
    if not s.known[r.key] and not seen[r.key] then
      seen[r.key] = true
      keys[#keys + 1] = r.key
    end
  end
  local found = {}
  if #keys > 0 then
    local err
    found, err = lookup(s.client, s.match, keys)
    if not found then
      if fatal(err) then s.fatal = err end
      for _, r in ipairs(round) do s:outcome(r, "failed", nil, tostring(err)) end
      return
    end
  end
  local updates, pending = {}, {}
  for _, r in ipairs(round) do
    if s.fatal then
      s:outcome(r, "failed", nil, "not attempted: " .. tostring(s.fatal))
    else
      local matches = s.known[r.key] or found[r.key] or {}
      if #matches > 1 then
        s:outcome(r, "failed", nil, #matches .. " customers have " .. s.match .. " " .. r.key
          .. ": import cannot tell which to update (use --match userId)")
      elseif #matches == 0 then
        s:create(r)
      else
        local c = matches[1]
        local diff = changes(c, r.fields, s.match)
        if not diff then
          s:outcome(r, "unchanged", c.id)
        elseif s.dry_run then
          s.known[r.key] = { applied(c, diff) }
          s:outcome(r, "updated", c.id)
        else
          diff.id = c.id
          updates[#updates + 1] = diff
          pending[#pending + 1] = { r = r, c = c }
        end
      end
    end
  end
  if #updates == 0 then return end
  if s.fatal then
    for _, x in ipairs(pending) do
      s:outcome(x.r, "failed", x.c.id, "not attempted: " .. tostring(s.fatal))
    end
    return
  end
  local results = s.client.customers:update_many(updates)
  for i, x in ipairs(pending) do
    local res = results[i]
    if helpcrunch.is_error(res) then
      if fatal(res) then s.fatal = res end
      s:outcome(x.r, "failed", x.c.id, tostring(res))
    else
      -- an answer that does not show the customer is {id = id}: apply the
      -- fields to what was read instead
      local only_id = next(res) == "id" and next(res, "id") == nil
      s.known[x.r.key] = { only_id and applied(x.c, updates[i]) or res }
      s:outcome(x.r, "updated", x.c.id)
    end
  end
end

-- ---- the command ------------------------------------------------------------

local State = {}
State.__index = State

function State:create(r)
  if self.dry_run then
    self.known[r.key] = { applied(nil, r.fields) }
    return self:outcome(r, "created")
  end
  local c, err = self.client.customers:create(r.fields)
  if c then
    self.known[r.key] = { c }
    return self:outcome(r, "created", c.id)
  end
  if fatal(err) then self.fatal = err end
  self:outcome(r, "failed", nil, tostring(err))
end

function State:outcome(r, status, id, err)
  self.report:add { line = r.line, status = status, id = id, error = err,
                    dry_run = self.dry_run or nil }
  self.progress:add(1)
end

local function count_records(path, format)
  local it = records.open(path, format)
  local n = 0
  if it then for _ in it do n = n + 1 end end
  return n
end

--- Run the import.
-- @tparam table o the parsed flags
-- @tparam table ctx `client`, `ui`, `fail`, `say`, `tty`, `quiet`
-- @treturn integer exit status
function M.run(o, ctx)
  local format = o.format or (o.file:lower():match("%.csv$") and "csv") or "jsonl"
  local next_record, err = records.open(o.file, format)
  if not next_record then return ctx.fail(err, 1) end
  local rep
  rep, err = report.open(o.report)
  if not rep then return ctx.fail(err, 1) end
  local p = progress.new { label = "import", unit = "records", tty = ctx.tty, quiet = ctx.quiet,
                           total = count_records(o.file, format) }
  ctx.ui.progress = p
  local s = setmetatable({ client = ctx.client, match = o.match or "userId", dry_run = o.dry_run,
                           report = rep, progress = p, known = {} }, State)
  local skipped = 0
  local ok, ierr = pcall(function()
    local round, keys = {}, {}
    local function flush()
      if #round > 0 and not s.fatal then run_round(s, round) end
      rep:flush()
      round, keys = {}, {}
    end
    for line, fields, ferr in next_record do
      if s.fatal then
        s:outcome({ line = line }, "failed", nil, "not attempted: " .. tostring(s.fatal))
      elseif rep:done(line) then
        skipped = skipped + 1
        p:add(1)
      else
        local bad = ferr or check(fields, s.match)
        if bad then
          s:outcome({ line = line }, "failed", nil, bad)
        else
          local key = fields[s.match]
          if keys[key] then flush() end
          keys[key] = true
          round[#round + 1] = { line = line, fields = fields, key = key }
          if #round >= M.ROUND then flush() end
        end
      end
    end
    flush()
  end)
  if not ok then
    p:abort()
    rep:close(false)
    local again = o.report and ("; run the same command again to continue (" .. o.report
      .. " holds what was done)") or ""
    if sys.interrupted(ierr) then return ctx.fail("interrupted" .. again, 130) end
    return ctx.fail(tostring(ierr) .. again, 1)
  end
  rep:close(true)
  local c = rep.counts
  local summary = string.format("created %d, updated %d, unchanged %d, failed %d",
    c.created or 0, c.updated or 0, c.unchanged or 0, c.failed or 0)
  if skipped > 0 then summary = summary .. ", " .. skipped .. " done before" end
  p:finish(" (" .. summary .. (o.dry_run and "; a dry run: nothing was changed" or "") .. ")")
  if s.fatal then return ctx.fail(tostring(s.fatal), 1) end
  return rep:failures() > 0 and 1 or 0
end

return M
