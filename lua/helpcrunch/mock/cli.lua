--- The command line of `helpcrunch-mock`: its flags, their help, and the entry point.
-- @module helpcrunch.mock.cli

local ipairs, tostring, tonumber, pcall = ipairs, tostring, tonumber, pcall
local concat = table.concat

local M = {}

--- Flags of `helpcrunch-mock`: {flag, option, argument, help}.
M.FLAGS = {
  { "--host", "host", "ADDR", "address to bind (default 127.0.0.1: loopback only)" },
  { "--port", "port", "N", "port to bind; 0 (default) picks a free one, printed on the first line" },
  { "--customers", "customers", "N", "customers to generate, the seed pages' six included (default 250)" },
  { "--chats", "chats", "N", "chats to generate for the customers (default: as many, at most 200)" },
  { "--seed", "seed", "K", "seed of the data, fault and churn generators (default 1)" },
  { "--token", "token", "T", "accept only this bearer token (default: any non-empty token)" },
  { "--rate-limit", "rate_limit", "N/SECONDS", "sliding-window limit, e.g. 120/60 (default: off)" },
  { "--retry-after", "retry_after", "SECONDS|none",
    "Retry-After of 429s: fixed seconds, or none (default: seconds until a slot frees)" },
  { "--fault-rate", "fault_rate", "P", "chance (0..1) that a /v1 request gets a random fault (default 0)" },
  { "--faults", "faults", "KIND,KIND",
    "kinds --fault-rate picks among: 500,502,429,drop,truncate,invalid_json (default all)" },
  { "--churn", "churn", "N",
    "after each list/search page, insert N customers (chats, messages) sorting first (default 0)" },
  { "--churn-delete", "churn_delete", "N",
    "after each list/search page, delete N of the customers already served (default 0)" },
  { "--jitter-ms", "jitter_ms", "J",
    "handle each /v1 request after a random 0..J ms: concurrent requests in any order (default 0)" },
  { "--delay-ms", "delay_ms", "D", "delay every /v1 response by D milliseconds (default 0)" },
  { "--data", "data", "FILE.json", "serve the customers of this JSON array instead of generated ones" },
  { "--log", "log", "FILE", "append one JSON line per /v1 request to FILE (truncated at start)" },
  { "--log-max", "log_max", "N",
    "entries kept for GET /_mock/log (default 100000; past it the oldest half is dropped)" },
  { "--exit-with-parent", "exit_with_parent", nil, "exit when the parent process goes away (Linux; used by spawn)" },
  { "--help", "help", nil, "show this help" },
}

--- The `--help` text.
-- @treturn string
function M.usage()
  local lines = {
    "usage: helpcrunch-mock [options]",
    "",
    "A local, stateful HelpCrunch customers API for tests. The first line on stdout is",
    "'listening on http://HOST:PORT/v1'. Stop it with SIGINT (clean exit) or SIGTERM",
    "(the process ends at once; it leaves no files or children behind).",
    "",
    "options:",
  }
  for _, f in ipairs(M.FLAGS) do
    local left = "  " .. f[1] .. (f[3] and (" " .. f[3]) or "")
    lines[#lines + 1] = left .. string.rep(" ", math.max(1, 30 - #left)) .. f[4]
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "admin endpoints (no auth, not rate-limited, not logged):"
  lines[#lines + 1] = "  GET /_mock/stats, GET|DELETE /_mock/log, POST /_mock/reset, GET|POST /_mock/config,"
  lines[#lines + 1] = "  GET|POST|DELETE /_mock/fault, GET /_mock/customers/{id}, GET /_mock/chats/{id},"
  lines[#lines + 1] = "  GET /_mock/count"
  return concat(lines, "\n") .. "\n"
end

local NUMERIC = { port = true, customers = true, chats = true, seed = true, fault_rate = true,
                  churn = true, churn_delete = true, jitter_ms = true, delay_ms = true,
                  log_max = true }

--- Parse command-line arguments.
-- @tparam table args list of strings
-- @treturn table|nil options, or nil and a message
function M.parse_args(args)
  local by_flag = {}
  for _, f in ipairs(M.FLAGS) do by_flag[f[1]] = f end
  local o = {}
  local i = 1
  while i <= #args do
    local a = args[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    local f = by_flag[name]
    if not f then return nil, "unknown option: " .. a end
    if f[3] then
      local v = inline
      if v == nil then
        i = i + 1
        v = args[i]
      end
      if v == nil then return nil, name .. " needs a value (" .. f[3] .. ")" end
      if NUMERIC[f[2]] then
        local n = tonumber(v)
        if not n or n < 0 then return nil, name .. " needs a number >= 0, got " .. v end
        v = n
      end
      o[f[2]] = v
    else
      o[f[2]] = true
    end
    i = i + 1
  end
  if o.fault_rate and o.fault_rate > 1 then return nil, "--fault-rate must be between 0 and 1" end
  return o
end

--- Entry point of `bin/helpcrunch-mock`.
-- @tparam table args command-line arguments
-- @treturn integer exit status
function M.main(args)
  local o, err = M.parse_args(args or {})
  if not o then
    io.stderr:write("helpcrunch-mock: ", err, "\n", "try --help\n")
    return 2
  end
  if o.help then
    io.stdout:write(M.usage())
    return 0
  end
  local mock
  mock, err = require("helpcrunch.mock").new(o)
  if not mock then
    io.stderr:write("helpcrunch-mock: ", tostring(err), "\n")
    return 2
  end
  local url
  url, err = mock:listen()
  if not url then
    io.stderr:write("helpcrunch-mock: cannot listen on ", tostring(o.host or "127.0.0.1"),
                    ":", tostring(o.port or 0), ": ", tostring(err), "\n")
    return 1
  end
  -- The announcement is inside the protected call too: a SIGINT that comes
  -- as soon as the line is read must end the mock as cleanly as a later one.
  local ok, rerr = pcall(function()
    io.stdout:write("listening on ", url, "\n")
    io.stdout:flush()
    mock:run()
  end)
  if mock.server then mock.server:close() end
  mock.log:close()
  if not ok then
    if tostring(rerr):find("interrupted", 1, true) then return 0 end
    io.stderr:write("helpcrunch-mock: ", tostring(rerr), "\n")
    return 1
  end
  return 0
end

return M
