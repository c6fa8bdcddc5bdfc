--- Small helpers shared by the Lua layer: argument checks that raise with
-- a message naming the argument and its valid values.
-- @module helpcrunch.util

local M = {}

--- A short, safe rendering of a value for an error message.
function M.describe(v)
  local t = type(v)
  if t == "string" then
    local s = v:sub(1, 40):gsub("[%c\128-\255]", "?")
    return string.format("%q", s) .. (#v > 40 and "..." or "")
  elseif t == "number" then
    if v ~= v then return "NaN" end
    return tostring(v)
  elseif t == "boolean" or t == "nil" then
    return tostring(v)
  end
  return "a " .. t
end

--- Is v an integral number (a Lua integer, or a float holding one)?
function M.is_integral(v)
  if type(v) ~= "number" then return false end
  if math.type then
    if math.type(v) == "integer" then return true end
  end
  return v == v and v > -2 ^ 53 and v < 2 ^ 53 and v == math.floor(v)
end

--- Raise unless v is nil or an integer in [lo, hi].
-- @tparam string fname the public function, for the message
-- @tparam string name the argument
-- @param v the value
-- @tparam number lo
-- @tparam number hi
-- @tparam integer level error level as seen by the caller of check_int
function M.check_int(fname, name, v, lo, hi, level)
  if v == nil then return end
  if not M.is_integral(v) or v < lo or v > hi then
    local range = hi >= 2 ^ 40 and ("at least " .. lo) or ("from " .. lo .. " to " .. hi)
    error(fname .. ": " .. name .. " must be an integer " .. range .. ", got "
      .. M.describe(v), level + 1)
  end
end

--- Raise unless `params` is nil or a table whose keys are all in `allowed`.
function M.check_params(fname, params, allowed, level)
  if params == nil then return {} end
  if type(params) ~= "table" then
    error(fname .. ": expected a table of parameters, got " .. M.describe(params), level + 1)
  end
  for k in pairs(params) do
    if not allowed[k] then
      error(fname .. ": unknown parameter " .. M.describe(k) .. " (valid: "
        .. M.key_list(allowed) .. ")", level + 1)
    end
  end
  return params
end

--- Format an integral number as decimal digits (no ".0", no exponent).
function M.int_string(v)
  return string.format("%d", v)
end

--- The level, for error() in the function calling this one, of the first
-- caller outside this library's own modules: a programmer error detected
-- deep inside (the pipeline, a transport) then points at the user's line.
function M.user_level()
  local level = 2
  while true do
    local info = debug.getinfo(level + 1, "S")
    if not info then return level - 1 end
    local src = info.source or ""
    -- (Lua 5.1 shows a tail call as a frame of its own, with no line)
    if not (src:find("[/\\]helpcrunch[/\\][%w_/\\]*%.lua$") or src:find("^@helpcrunch[/\\]")
            or info.what == "tail" or src == "=(tail call)") then
      return level
    end
    level = level + 1
  end
end

--- Raise a programmer error at the user's line (see user_level).
function M.raise(msg)
  error(msg, M.user_level())
end

--- The keys of t, sorted, joined with ", " (for "valid: ..." messages).
function M.key_list(t)
  local names = {}
  for n in pairs(t) do names[#names + 1] = tostring(n) end
  table.sort(names)
  return table.concat(names, ", ")
end

--- Raise unless `self` is the object a method expects (catches obj.method()
-- written for obj:method()).
function M.check_self(self, mt, fname, level)
  if getmetatable(self) ~= mt then
    error(fname .. ": call it as a method, with a colon (" .. fname .. "(...))", level + 1)
  end
end

return M
