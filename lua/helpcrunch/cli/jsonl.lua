--- JSON lines: one customer per line, exactly the normalised customer table
-- (keys sorted, integers as integers, `customData` an object even when
-- empty). A string that is not valid UTF-8 (JSON cannot hold it) is written
-- with U+FFFD in place of each bad byte, and said so once on stderr.
-- @module helpcrunch.cli.jsonl

local core = require "helpcrunch.core"
local helpcrunch = require "helpcrunch"

local M = {}

local OBJECT = { __jsontype = "object" }

-- Length of the valid UTF-8 sequence at i, or nil.
local function sequence(s, i)
  local b = s:byte(i)
  if b < 0x80 then return 1 end
  local len, lo, hi
  if b >= 0xC2 and b <= 0xDF then len, lo, hi = 2, 0x80, 0xBF
  elseif b == 0xE0 then len, lo, hi = 3, 0xA0, 0xBF
  elseif b == 0xED then len, lo, hi = 3, 0x80, 0x9F
  elseif b >= 0xE1 and b <= 0xEF then len, lo, hi = 3, 0x80, 0xBF
  elseif b == 0xF0 then len, lo, hi = 4, 0x90, 0xBF
  elseif b >= 0xF1 and b <= 0xF3 then len, lo, hi = 4, 0x80, 0xBF
  elseif b == 0xF4 then len, lo, hi = 4, 0x80, 0x8F
  else return nil end
  local c = s:byte(i + 1)
  if not c or c < lo or c > hi then return nil end
  for j = 2, len - 1 do
    c = s:byte(i + j)
    if not c or c < 0x80 or c > 0xBF then return nil end
  end
  return len
end

--- A string with every byte that is not part of valid UTF-8 replaced by U+FFFD.
-- @tparam string s
-- @treturn string
function M.repair(s)
  local out, i = {}, 1
  while i <= #s do
    local len = sequence(s, i)
    if len then
      out[#out + 1] = s:sub(i, i + len - 1)
      i = i + len
    else
      out[#out + 1] = "\239\191\189"
      i = i + 1
    end
  end
  return table.concat(out)
end

-- A copy for the encoder: empty maps that are objects stay objects, strings repaired.
local function prepare(v, repair, key)
  if type(v) == "string" then return repair and M.repair(v) or v end
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do
    t[repair and type(k) == "string" and M.repair(k) or k] = prepare(x, repair, k)
  end
  if key == "customData" or key == "location" or key == "device" then setmetatable(t, OBJECT) end
  return t
end

local warned = false

--- A customer as one line of JSON, "\n" included.
-- @tparam table c
-- @treturn string
function M.line(c)
  local ok, s = pcall(core.encode, prepare(c))
  if not ok then
    if not warned then
      warned = true
      io.stderr:write("helpcrunch: customer ", tostring(c.id), " has text that is not UTF-8;"
        .. " bad bytes are written as U+FFFD (this is said once)\n")
    end
    s = core.encode(prepare(c, true))
  end
  return s .. "\n"
end

--- Fields a customer's JSON line carries, for a write: `location` becomes the
-- flat `city`, `regionCode`, `countryCode`; what HelpCrunch assigns (`id`,
-- `device`, `createdAt`) is dropped. Other unknown keys stay, so the write's
-- own check names them.
-- @tparam string text one line
-- @treturn table|nil fields
-- @treturn string why not
function M.fields(text)
  local v, err = helpcrunch.decode(text)
  if v == nil then return nil, "not JSON: " .. tostring(err and err.message or err) end
  if type(v) ~= "table" or (next(v) ~= nil and v[1] ~= nil) then
    return nil, "not a JSON object"
  end
  local fields = {}
  for k, x in pairs(v) do
    if k == "location" then
      if type(x) == "table" then
        for _, name in ipairs { "city", "regionCode", "countryCode" } do
          if x[name] ~= nil and v[name] == nil then fields[name] = x[name] end
        end
      end
    elseif k ~= "id" and k ~= "device" and k ~= "createdAt" then
      fields[k] = x
    end
  end
  return fields
end

return M
