--- `helpcrunch export`: every customer (or a search's), one per line, as
-- JSON lines or CSV, to a file (through a resumable part file) or stdout.
-- @module helpcrunch.cli.export

local filters = require "helpcrunch.cli.filters"
local columns = require "helpcrunch.cli.columns"
local csv = require "helpcrunch.cli.csv"
local jsonl = require "helpcrunch.cli.jsonl"
local partfile = require "helpcrunch.cli.partfile"
local progress = require "helpcrunch.cli.progress"
local sys = require "helpcrunch.cli.sys"

local M = {}

--- Customers between two checkpoints: one page's worth.
M.CHECKPOINT_EVERY = 100

-- Standard output as a sink: no part file, nothing to resume.
local function stdout_sink()
  io.stdout:setvbuf("full")
  return {
    written = 0,
    write = function(_, s)
      local ok, err = io.stdout:write(s)
      if not ok then error("stdout: " .. tostring(err), 0) end
    end,
    checkpoint = function() end,
    finish = function() io.stdout:flush() end,
    close = function() io.stdout:flush() end,
  }
end

--- Run the export.
-- @tparam table o the parsed flags
-- @tparam table ctx `client`, `ui` (progress slot), `fail(msg, code)`,
--   `say(msg)`, `tty`, `quiet`
-- @treturn integer exit status
function M.run(o, ctx)
  local client = ctx.client
  local format = o.format or (o.output and o.output:lower():match("%.csv$") and "csv") or "jsonl"
  local cols, err
  if format == "csv" then
    cols, err = columns.parse(o.columns)
    if not cols then return ctx.fail("--columns: " .. err, 2) end
  elseif o.columns then
    return ctx.fail("--columns is for --format csv (JSON lines hold whole customers)", 2)
  end
  if o.resume and not o.output then
    return ctx.fail("--resume needs -o FILE (standard output cannot be resumed)", 2)
  end
  local query, qerr = filters.query(client, o)
  if query == nil then return ctx.fail(qerr, 2) end
  local params = {}
  if not query then
    params, err = filters.all_params(client, o.sort)
    if not params then return ctx.fail(err, 2) end
  end

  local p = progress.new { label = "export", tty = ctx.tty, quiet = ctx.quiet }
  ctx.ui.progress = p
  local total, cerr = filters.count(client, query, o.max)
  if total == nil then
    p:abort()
    return ctx.fail(tostring(cerr), 1)
  end
  p:set_total(total)

  local settings = { format = format, where = o.where or {}, tag = o.tag or {},
                     any = o.any == true, sort = o.sort, max = o.max, columns = o.columns }
  local sink
  if o.output then
    local usage
    sink, err, usage = partfile.open(o.output, settings, o.resume)
    if not sink then
      p:abort()
      return ctx.fail(err, usage and 2 or 1)
    end
    if sink.done_before then
      p:abort()
      ctx.say("export: " .. o.output .. " is already complete")
      return 0
    end
    if sink.resumed then
      ctx.say("export: resuming " .. sink.part .. " after " .. sink.written .. " customers")
    end
  else
    sink = stdout_sink()
  end
  if format == "csv" and not sink.resumed then sink:write(csv.record(columns.header(cols))) end
  local line = format == "csv" and function(c) return csv.record(columns.cells(c, cols)) end
    or jsonl.line

  p:resume_at(sink.written)
  local written = sink.written
  local left = o.max and o.max - written
  local ok, ierr = pcall(function()
    if sink.complete or (left and left <= 0) then return end
    local it = filters.iterate(client, query, { sort = params.sort, order = params.order,
                                                max = left, resume = sink.cursor })
    for c in it do
      sink:write(line(c))
      written = written + 1
      sink.written = written
      p:add(1)
      if written % M.CHECKPOINT_EVERY == 0 then sink:checkpoint(it:checkpoint(), written) end
    end
  end)
  if ok then
    ok, ierr = pcall(sink.finish, sink)
  end
  if not ok then
    p:abort()
    sink:close()
    local where = o.output and ("\n  " .. written .. " customers are in " .. sink.part
      .. "; run the same command with --resume to continue") or ""
    if sys.interrupted(ierr) then return ctx.fail("interrupted" .. where, 130) end
    return ctx.fail(tostring(ierr) .. where, 1)
  end
  p:finish(o.output and (" to " .. o.output) or nil)
  return 0
end

return M
