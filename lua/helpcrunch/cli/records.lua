--- The records of an import file, one by one, each with the line it starts
-- on: JSON lines (one customer object per line, as export writes them) or
-- CSV with a header row (the export's columns). Blank lines hold no record.
-- @module helpcrunch.cli.records

local csv = require "helpcrunch.cli.csv"
local columns = require "helpcrunch.cli.columns"
local jsonl = require "helpcrunch.cli.jsonl"

local M = {}

--- The records of a file.
--     for line, fields, err in assert(records.open(path, "csv")) do ... end
-- @tparam string path
-- @tparam string format "jsonl" or "csv"
-- @treturn function|nil iterator of `line, fields` (or `line, nil, error`
--   for a record that cannot be read)
-- @treturn string why the file cannot be read at all (missing, bad header)
function M.open(path, format)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  if format == "jsonl" then
    local n = 0
    return function()
      while true do
        local l = f:read("*l")
        if l == nil then f:close() return nil end
        n = n + 1
        if n == 1 and l:sub(1, 3) == "\239\187\191" then l = l:sub(4) end
        if l:find("%S") then
          local fields, ferr = jsonl.fields(l)
          return n, fields, ferr
        end
      end
    end
  end
  local next_record = csv.records(f)
  local hline, header, herr = next_record()
  if not hline then f:close() return nil, path .. " is empty (a CSV file starts with a header row)" end
  if not header then f:close() return nil, path .. ": the header row: " .. herr end
  local read, rerr = columns.reader(header)
  if not read then f:close() return nil, path .. ": " .. rerr end
  return function()
    local line, cells, cerr = next_record()
    if line == nil then f:close() return nil end
    if not cells then return line, nil, cerr end
    local fields, ferr = read(cells)
    return line, fields, ferr
  end
end

return M
