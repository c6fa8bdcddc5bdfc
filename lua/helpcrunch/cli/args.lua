--- The command line's grammar: every command, argument and flag, with its
-- help, in one place (lua-argparse: `--help` for each command, typo hints,
-- `--flag=value` and `-o FILE` forms).
-- @module helpcrunch.cli.args

-- argparse is the command's own need, not the library's: the client rock
-- does not depend on it (it depends on libcurl only), so say how to get it.
local have_argparse, argparse = pcall(require, "argparse")
if not have_argparse then
  error("helpcrunch: the command needs the argparse module: apt-get install lua-argparse "
    .. "(Debian, Ubuntu) or luarocks install argparse", 0)
end

local M = {}

local function positive_int(s)
  local n = tonumber(s)
  if n and n >= 0 and n == math.floor(n) then return math.tointeger and math.tointeger(n) or n end
  return nil, "must be an integer >= 0, got '" .. s .. "'"
end

local function filters(cmd)
  cmd:option("--where", "A filter 'FIELD OP VALUE', OP one of = != > < >= <= ~ !~ "
    .. "(e.g. 'email~gmail', 'lastSeen>=1603885746'). Repeatable: all must match "
    .. "(any with --any).")
    :argname("<filter>"):count("*")
  cmd:option("--tag", "Customers carrying this tag (repeatable: all of them; any with --any).")
    :argname("<name>"):count("*")
  cmd:flag("--any", "Match any filter instead of all of them.")
end

-- The flags of every command that talks to the API.
local function connection(cmd)
  cmd:option("--token-file", "Read the API token from the first line of this file.")
    :argname("<file>")
  cmd:option("--base-url", "The API's URL (default $HELPCRUNCH_BASE_URL, else "
    .. "https://api.helpcrunch.com/v1).")
    :argname("<url>")
  cmd:option("--rate", "Requests allowed in any window, N/SECONDS (default 120/60, the API's).")
    :argname("<n/s>")
  cmd:option("--redis", "Share the rate limit through Redis: redis://HOST[:PORT][/DB][?key=NAME] "
    .. "(password from $HELPCRUNCH_REDIS_PASSWORD).")
    :argname("<url>")
  cmd:flag("-q --quiet", "No progress and no notes on stderr (errors still).")
  return cmd
end

--- The parser.
-- @treturn table an argparse parser
-- @treturn table its commands' parsers by name
function M.parser()
  local p = argparse("helpcrunch", "Export, import and look up HelpCrunch customers.")
    :epilog("The token comes from HELPCRUNCH_API_KEY or --token-file, never from a flag "
      .. "(it would show in shell history and ps); the URL from HELPCRUNCH_BASE_URL or "
      .. "--base-url. Exit status: 0 done, 1 failed, 2 usage, 130 interrupted.\n"
      .. "Every command but mock also takes --token-file, --base-url, --rate, --redis and "
      .. "--quiet; 'helpcrunch COMMAND --help' shows its flags.")
    :command_target("command")
    :help_max_width(100)
  local export = p:command("export", "Write every customer (or those the filters select), "
    .. "one per line.")
    :epilog("With -o the output goes to FILE.part and is renamed to FILE at the end; a failed "
      .. "or interrupted export leaves FILE.part and FILE.checkpoint, and the same command with "
      .. "--resume continues it: every customer ends up in FILE exactly once.")
  export:option("--format", "jsonl (one JSON object per line) or csv (default: csv when FILE "
    .. "ends in .csv, else jsonl).")
    :choices { "jsonl", "csv" }
  filters(export)
  export:option("--sort", "Sort by firstSeen or lastSeen, FIELD[:asc|desc].")
    :argname("<field:order>")
  export:option("--max", "Export at most N customers."):argname("<n>"):convert(positive_int)
  export:option("-o --output", "Write to FILE instead of standard output."):argname("<file>")
  export:flag("--resume", "Continue the interrupted export into the same FILE.")
  export:option("--columns", "CSV columns, comma-separated, from id, userId, name, email, "
    .. "company, phone, firstSeen, lastSeen, city, regionCode, countryCode, unsubscribed, "
    .. "blocked, source, referer, lastPage, locale, createdFrom, integrationId, notes, tags, "
    .. "customData and customData.<property> (default: all but the customData.* ones).")
    :argname("<list>")

  local import = p:command("import", "Create or update customers from a file.")
    :epilog("Each record is matched by --match: a customer that has it is updated (only the "
      .. "fields that differ), one that does not is created. The report has one JSON line per "
      .. "record: {line, status (created|updated|unchanged|failed), id, error}. Run again "
      .. "with the same --report to retry what failed: what was done is skipped, and nothing "
      .. "is created twice. Exit status 1 when any record failed.")
  import:argument("file", "JSON lines (as export writes them) or CSV with a header row.")
  import:option("--format", "jsonl or csv (default: csv when FILE ends in .csv, else jsonl).")
    :choices { "jsonl", "csv" }
  import:option("--match", "The field that finds a record's customer.")
    :choices { "userId", "email" }:default("userId")
  import:flag("--dry-run", "Look everything up and report what would happen; change nothing.")
  import:option("--report", "Write the report to FILE (default: standard output); an existing "
    .. "report is taken up where it ended.")
    :argname("<file>")

  local get = p:command("get", "Print one customer as JSON.")
  get:argument("id", "HelpCrunch's numeric id."):args("?")
  get:option("--user-id", "Find the customer by your own id instead."):argname("<id>")
  get:option("--email", "Find the customer by e-mail instead (the first match)."):argname("<email>")

  local count = p:command("count", "Print how many customers there are (or match the filters).")
  filters(count)

  local tag = p:command("tag", "Add tags to a customer (or remove them).")
  tag:argument("id", "HelpCrunch's numeric id.")
  tag:argument("names", "Tag names."):args("+")
  tag:flag("--remove", "Remove these tags instead.")

  local delete = p:command("delete", "Delete a customer, for good.")
  delete:argument("id", "HelpCrunch's numeric id.")
  delete:flag("-y --yes", "Do not ask (needed when standard input is not a terminal).")

  local event = p:command("event", "Record an event of a customer.")
    :epilog("Example: helpcrunch event signup --user-id crm-1815 plan=pro seats=3")
  event:argument("name", "The event's name.")
  event:argument("data", "KEY=VALUE pairs: the event's data (numbers, true, false and null "
    .. "as JSON, anything else a string).")
    :args("*"):target("data_pairs")
  event:option("--customer", "HelpCrunch's numeric id of the customer."):argname("<id>")
  event:option("--user-id", "The customer's own id (looked up)."):argname("<id>")
  event:option("--email", "The customer's e-mail (looked up)."):argname("<email>")
  event:option("--data", "The data as a JSON object (merged with KEY=VALUE pairs)."):argname("<json>")

  local cmds = { export = export, import = import, get = get, count = count, tag = tag,
                  delete = delete, event = event }
  for _, cmd in pairs(cmds) do connection(cmd) end

  cmds.mock = p:command("mock", "Run the local HelpCrunch mock (the same as helpcrunch-mock; "
    .. "'helpcrunch mock --help' lists its flags).")
    :handle_options(false)
  cmds.mock:argument("flags"):args("*")
  return p, cmds
end

--- Parse the arguments.
-- @tparam table args
-- @treturn table|nil the options (`command` names the command)
-- @treturn string the usage message for stderr (exit status 2)
function M.parse(args)
  local p, cmds = M.parser()
  local ok, r = p:pparse(args)
  if ok then return r end
  -- The usage of the command the error is about (the first argument naming one).
  local usage = p:get_usage()
  for _, a in ipairs(args) do
    if cmds[a] then
      usage = cmds[a]:get_usage()
      break
    end
  end
  return nil, usage .. "\n\nError: " .. tostring(r) .. "\n"
end

return M
