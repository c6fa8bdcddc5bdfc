--- CSV as RFC 4180 says: records end in CRLF; a field holding a comma, a
-- double quote, CR or LF is put in double quotes, a quote inside doubled.
-- The reader takes CRLF or LF, quoted fields across lines, and a UTF-8 byte
-- order mark; it reports where each record starts (its 1-based line).
-- @module helpcrunch.cli.csv

local M = {}

--- One field, quoted when it must be.
-- @tparam string s
-- @treturn string
function M.field(s)
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- One record: the fields joined, CRLF at the end.
-- @tparam table cells list of strings
-- @treturn string
function M.record(cells)
  local out = {}
  for i = 1, #cells do out[i] = M.field(cells[i]) end
  return table.concat(out, ",") .. "\r\n"
end

--- Read records from a file handle.
--     for line, fields, err in csv.records(f) do ... end
-- Yields the line the record starts on and its list of fields; for a
-- malformed record (a quote inside an unquoted field, text after a closing
-- quote, a quoted field the file ends in) `fields` is nil and `err` says
-- why, and reading goes on at the next line. Line breaks inside quoted
-- fields are kept exactly (CRLF stays CRLF).
-- @param f a file handle open for reading
-- @treturn function iterator
function M.records(f)
  local lineno, first = 0, true
  local function next_line()             -- with its line break, or nil at the end
    -- (read("*L") keeps the break, but not on Lua 5.1: read the line and
    -- tell a final line without a break by looking at the next byte)
    local l = f:read("*l")
    if l == nil then return nil end
    if f:read(0) ~= nil then
      l = l .. "\n"
    else                                 -- the last line: did it end with a break?
      local pos = f:seek()
      if pos and pos > 0 and f:seek("set", pos - 1) and f:read(1) == "\n" then l = l .. "\n" end
    end
    lineno = lineno + 1
    if first then
      first = false
      if l:sub(1, 3) == "\239\187\191" then l = l:sub(4) end
    end
    return l
  end
  -- Is l from pos on nothing but the line break?
  local function at_end(l, pos)
    local rest = l:sub(pos)
    return rest == "" or rest == "\n" or rest == "\r\n"
  end
  return function()
    local l = next_line()
    while l and at_end(l, 1) do l = next_line() end   -- blank lines hold no record
    if l == nil then return nil end
    local start = lineno
    local fields, pos = {}, 1
    while true do
      if l:sub(pos, pos) == '"' then
        -- A quoted field, maybe across lines: find the closing quote.
        local buf, i = {}, pos + 1
        while true do
          local q = l:find('"', i, true)
          if q == nil then
            buf[#buf + 1] = l:sub(i)
            l, i = next_line(), 1
            if l == nil then
              return start, nil, "a quoted field is not closed before the end of the file"
            end
          elseif l:sub(q + 1, q + 1) == '"' then
            buf[#buf + 1] = l:sub(i, q)
            i = q + 2
          else
            buf[#buf + 1] = l:sub(i, q - 1)
            pos = q + 1
            break
          end
        end
        fields[#fields + 1] = table.concat(buf)
        if l:sub(pos, pos) == "," then
          pos = pos + 1
        elseif at_end(l, pos) then
          return start, fields
        else
          return start, nil, "text after a closing quote (field " .. #fields .. ")"
        end
      else
        local stop = l:find("[,\r\n]", pos)
        while stop and l:sub(stop, stop) == "\r" and not at_end(l, stop) do
          stop = l:find("[,\r\n]", stop + 1)         -- a lone CR is data
        end
        local cell = l:sub(pos, stop and stop - 1 or nil)
        if cell:find('"', 1, true) then
          return start, nil, "a double quote inside an unquoted field (field " .. (#fields + 1)
            .. "): quote the field and double the quote"
        end
        fields[#fields + 1] = cell
        if not stop or l:sub(stop, stop) ~= "," then return start, fields end
        pos = stop + 1
      end
    end
  end
end

return M
