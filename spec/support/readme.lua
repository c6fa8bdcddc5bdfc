--- The README's examples, for the specs that run them (spec/readme_spec.lua and
-- spec/readme_writes_spec.lua): ONE extractor of fenced blocks by section, and
-- the rules shared by both.
--     local readme = require "spec.support.readme"
--     for _, b in ipairs(readme.blocks("Events")) do ... end   -- {lang=, code=, line=}

local H = require "spec.helper"

local M = {}

--- The sections whose examples spec/readme_writes_spec.lua runs (with the
-- mock's webhooks and nginx); spec/readme_spec.lua runs every other one.
M.WRITES_SECTIONS = { "Changing customers", "Events", "Webhooks", "Webhooks from the mock" }

local function parse(text)
  local out, fence, n, path = {}, nil, 0, {}
  for line in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if fence then
      if line:match("^```%s*$") then
        fence.code = table.concat(fence.lines, "\n")
        fence.lines = nil
        out[#out + 1] = fence
        fence = nil
      else
        fence.lines[#fence.lines + 1] = line
      end
    else
      local hashes, heading = line:match("^(#+) (.-)%s*$")
      if hashes then
        for l = #hashes, #path do path[l] = nil end
        path[#hashes] = heading
      end
      local lang = line:match("^```(%w*)")
      if lang then
        local titles = {}
        for l = 1, 6 do if path[l] then titles[#titles + 1] = path[l] end end
        fence = { lang = lang, lines = {}, line = n + 1, titles = titles,
                  section = titles[#titles] }
      end
    end
  end
  return out
end

--- Every fenced block of README.md: `{lang, code, line (its first line),
-- section (the nearest heading), titles (the headings it is under)}`.
-- @treturn table
function M.all()
  return parse(H.read("README.md"))
end

--- The fenced blocks of a section (a heading and everything up to the next
-- heading of the same or a higher level, sub-sections included).
-- @tparam string title
-- @treturn table
function M.blocks(title)
  local out = {}
  for _, b in ipairs(M.all()) do
    for _, t in ipairs(b.titles) do
      if t == title then out[#out + 1] = b break end
    end
  end
  assert(#out > 0, "README has no code in section " .. title)
  return out
end

--- Is every non-blank line a signature (ends in a `-->` comment)?
-- @tparam string code
function M.is_signatures(code)
  for line in (code .. "\n"):gmatch("(.-)\n") do
    if line:match("%S") and not line:find("-->", 1, true) then return false end
  end
  return true
end

--- Compile a block so that its line numbers are README.md's.
-- @tparam table block
-- @tparam[opt] table env globals (falling back to _G)
-- @tparam[opt] string suffix code appended
-- @treturn function
function M.compile(block, env, suffix)
  local text = string.rep("\n", block.line - 1) .. block.code .. (suffix or "")
  env = env and setmetatable(env, { __index = _G })
  if setfenv and loadstring then                    -- luacheck: globals setfenv loadstring
    local f = assert(loadstring(text, "=README.md"))  -- Lua 5.1: no load(string, ..., env)
    if env then setfenv(f, env) end
    return f
  end
  return assert(load(text, "=README.md", "t", env))
end

--- Compile and run.
function M.run(block, env, suffix)
  return M.compile(block, env, suffix)()
end

return M
