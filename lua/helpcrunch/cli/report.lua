--- The import report: one JSON line per record, `{"line": N, "status":
-- "created"|"updated"|"unchanged"|"failed", "id": ..., "error": "..."}`
-- (`"dry_run": true` on a dry run's lines).
--
-- Written as the import goes (appended and flushed per round, so an
-- interrupted run keeps what it did), and rewritten at the end with one line
-- per record, in line order. Opening an existing report takes it up: a line
-- whose last entry is created, updated or unchanged (not a dry run's) is
-- done and is skipped; a failed one is tried again.
-- @module helpcrunch.cli.report

local core = require "helpcrunch.core"
local helpcrunch = require "helpcrunch"
local sys = require "helpcrunch.cli.sys"

local M = {}

local Report = {}
Report.__index = Report

local DONE = { created = true, updated = true, unchanged = true }

--- Open the report.
-- @tparam[opt] string path nil: standard output (nothing to take up)
-- @treturn table|nil the report
-- @treturn string the error
function M.open(path)
  local self = setmetatable({ path = path, entries = {}, counts = {} }, Report)
  if not path then
    self.out = io.stdout
    return self
  end
  local f = io.open(path, "rb")
  if f then
    local n = 0
    for l in f:lines() do
      n = n + 1
      if l:find("%S") then
        local e = helpcrunch.decode(l)
        if type(e) ~= "table" or type(e.line) ~= "number" or type(e.status) ~= "string" then
          f:close()
          return nil, path .. ":" .. n .. " is not a report line (give another --report file)"
        end
        self.entries[e.line] = e
      end
    end
    f:close()
  end
  local err
  self.out, err = io.open(path, "ab")
  if not self.out then return nil, err end
  return self
end

--- The entry of a record already done in an earlier run, or nil.
-- @tparam integer line
-- @treturn table|nil
function Report:done(line)
  local e = self.entries[line]
  if e and DONE[e.status] and not e.dry_run then return e end
  return nil
end

--- Add an entry (written at once; flushed by `flush`).
-- @tparam table e `{line, status, id, error, dry_run}`
function Report:add(e)
  self.entries[e.line] = e
  self.counts[e.status] = (self.counts[e.status] or 0) + 1
  local ok, err = self.out:write(core.encode(e), "\n")
  if not ok then error("the report: " .. tostring(err), 0) end
end

--- Flush what was added.
function Report:flush()
  self.out:flush()
end

--- How many records failed, counting the earlier runs' entries too.
-- @treturn integer
function Report:failures()
  local n = 0
  for _, e in pairs(self.entries) do
    if e.status == "failed" then n = n + 1 end
  end
  return n
end

--- Close; with `complete`, rewrite the file with one line per record, in order.
-- @tparam boolean complete
function Report:close(complete)
  if self.out == io.stdout then
    io.stdout:flush()
    return
  end
  self.out:close()
  if not complete then return end
  local lines = {}
  for line in pairs(self.entries) do lines[#lines + 1] = line end
  table.sort(lines)
  local text = {}
  for i, line in ipairs(lines) do text[i] = core.encode(self.entries[line]) .. "\n" end
  local ok, err = sys.write_atomic(self.path, table.concat(text))
  if not ok then error("the report: " .. tostring(err), 0) end
end

return M
