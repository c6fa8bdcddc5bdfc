--- A resumable output file. An export writes `FILE.part`; every so often it
-- checkpoints: the part's bytes are flushed and synced to disk, then
-- `FILE.checkpoint` is replaced atomically with where the iteration stands
-- (`it:checkpoint()`), how many bytes of the part that covers, and the
-- export's settings. At the end the part is renamed to FILE and the
-- checkpoint removed. To resume, the part is cut back to the checkpointed
-- length (whatever was written after it is written again) and the iteration
-- goes on from the checkpoint: every customer is in FILE exactly once.
-- @module helpcrunch.cli.partfile

local core = require "helpcrunch.core"
local helpcrunch = require "helpcrunch"
local sys = require "helpcrunch.cli.sys"

local M = {}

local Part = {}
Part.__index = Part

local VERSION = 1

-- The same settings always encode to the same text (keys sorted).
local function canonical(t)
  return core.encode(t)
end

-- The first setting that differs, for the message.
local function differs(a, b)
  for k in pairs(a) do
    if canonical { a[k] } ~= canonical { b[k] } then return k end
  end
  for k in pairs(b) do
    if a[k] == nil then return k end
  end
  return nil
end

local function read_checkpoint(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  local cp = helpcrunch.decode(text)
  if type(cp) ~= "table" or cp.version ~= VERSION or type(cp.bytes) ~= "number"
    or type(cp.settings) ~= "table" then
    return nil, path .. " is not a checkpoint this version can read"
  end
  return cp
end

--- Open the output of an export.
-- @tparam string target the final file
-- @tparam table settings what the export selects and how it writes (a
--   resume with other settings is refused)
-- @tparam boolean resume continue from a checkpoint when there is one
-- @treturn table|nil the part: `cursor` (nil: start), `written` (customers
--   already in it), `resumed`, `complete` (the checkpoint says the
--   iteration had ended), `:write(s)`, `:checkpoint(cursor, written)`,
--   `:finish()`, `:close()`
-- @treturn string the error (a usage error when `usage` is the third value)
-- @treturn boolean usage
function M.open(target, settings, resume)
  local self = setmetatable({
    target = target, part = target .. ".part", ckpt = target .. ".checkpoint",
    settings = settings, bytes = 0, written = 0,
  }, Part)
  local cp, err
  if resume then
    cp, err = read_checkpoint(self.ckpt)
    if err then return nil, err end
  end
  if cp and not sys.exists(self.part) then
    if sys.exists(target) and cp.complete then   -- renamed, then stopped before tidying up
      os.remove(self.ckpt)
      self.complete, self.done_before = true, true
      return self
    end
    return nil, self.ckpt .. " has no " .. self.part .. " to go with it: run without --resume"
  end
  if cp then
    local diff = differs(settings, cp.settings)
    if diff then
      return nil, "the export in " .. self.part .. " was started with other options (--" .. diff
        .. " differs): run it with the same options, or without --resume to start over", true
    end
    local ok, terr = sys.truncate(self.part, cp.bytes)
    if not ok then return nil, terr end
    self.file, err = io.open(self.part, "ab")
    if not self.file then return nil, err end
    self.bytes, self.written, self.cursor = cp.bytes, cp.written or 0, cp.cursor
    self.resumed, self.complete = true, cp.complete == true
    return self
  end
  os.remove(self.ckpt)
  self.file, err = io.open(self.part, "wb")
  if not self.file then return nil, err end
  return self
end

--- Append text.
function Part:write(s)
  local ok, err = self.file:write(s)
  if not ok then error(self.part .. ": " .. tostring(err), 0) end
  self.bytes = self.bytes + #s
end

--- Record that everything written so far is complete up to `cursor`.
-- @tparam table|nil cursor `it:checkpoint()` (nil: the iteration ended)
-- @tparam integer written customers in the part
function Part:checkpoint(cursor, written)
  local ok, err = self.file:flush()
  if not ok then error(self.part .. ": " .. tostring(err), 0) end
  local text = core.encode {
    version = VERSION, settings = self.settings, cursor = cursor, bytes = self.bytes,
    written = written, complete = cursor == nil,
  }
  ok, err = sys.write_atomic(self.ckpt, text, self.part)
  if not ok then error(self.ckpt .. ": " .. tostring(err), 0) end
end

--- The export is complete: the part becomes the target.
function Part:finish()
  self:checkpoint(nil, self.written)
  self.file:close()
  self.file = nil
  local ok, err = os.rename(self.part, self.target)
  if not ok then error("cannot rename " .. self.part .. " to " .. self.target .. ": " .. tostring(err), 0) end
  os.remove(self.ckpt)
end

--- Stop without finishing (an error, Ctrl-C): what was flushed stays for --resume.
function Part:close()
  if self.file then
    self.file:flush()
    self.file:close()
    self.file = nil
  end
end

return M
