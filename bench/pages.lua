--- Static pages for the export benchmarks: the mock's customers, encoded
-- once by the mock's own modules (helpcrunch.mock.data and .store, the same
-- bytes the mock serves), written as one file per page that a client asks
-- for, and served as static files by Debian's nginx.
--
-- A page file `pages/O_L.json` is `{"total":N,"data":[...]}` with the
-- customers O+1..O+L of the mock's default order (id descending), for every
-- offset either client asks: 0, 100, 200, ... (a plain offset pager) and 0,
-- 99, 198, ... (this client: its pages overlap by one customer).
--
--     luajit bench/pages.lua DIR CUSTOMERS [SEED]   writes DIR/pages/, prints bytes
--
-- As a module: `pages.serve(dir)` starts nginx on a free loopback port with
-- `GET /v1/customers?offset=O&limit=L` mapped to `DIR/pages/O_L.json`
-- (anything else: 404; the Authorization header is ignored).
local M = {}

local LIMIT = 100

-- The data set as helpcrunch.mock.data makes it (data.customers: the seed
-- customers, then generated ones), one customer at a time, so that 500,000
-- customers never sit in memory as tables: each is encoded and appended to
-- `file` at once. Returns the ids and where each one's JSON is in the file.
local function generate(file, n, seed)
  local data = require "helpcrunch.mock.data"
  local store = require "helpcrunch.mock.store"
  local prng = require "helpcrunch.mock.prng"
  local ids, at, len = {}, {}, {}
  local pos, count = 0, 0
  local function put(entry)
    local json = store.encoded(store.new({ entry }).recs[1])
    count = count + 1
    ids[count], at[count], len[count] = entry.customer.id, pos, #json
    file:write(json)
    pos = pos + #json
  end
  -- The same steps as data.customers(n, seed), streamed.
  local taken = {}
  for _, e in ipairs(data.customers(math.min(n, 6), seed)) do
    taken[e.customer.id] = true
    put(e)
  end
  local rng = prng.new(seed, 1)
  local id = 1000
  for _ = count + 1, n do
    id = id + rng:int(1, 60)
    while taken[id] do id = id + 1 end
    put(data.generate(rng, id))
  end
  return ids, at, len
end

--- Write the page files of a data set of `n` customers under `dir`/pages.
-- @treturn integer bytes written in page files
-- @treturn integer files written
function M.build(dir, n, seed)
  assert(os.execute("mkdir -p '" .. dir .. "/pages'"))
  local all_path = dir .. "/customers.json"
  local all = assert(io.open(all_path, "w+b"))
  local ids, at, len = generate(all, n, seed or 3)
  -- The mock's default order: id descending.
  local order = {}
  for i = 1, n do order[i] = i end
  table.sort(order, function(a, b) return ids[a] > ids[b] end)
  local bytes, files, done = 0, 0, {}
  local function page(offset)
    if done[offset] then return end
    done[offset] = true
    local parts = {}
    for k = offset + 1, math.min(offset + LIMIT, n) do
      local i = order[k]
      all:seek("set", at[i])
      parts[#parts + 1] = all:read(len[i])
    end
    local body = '{"total":' .. n .. ',"data":[' .. table.concat(parts, ",") .. "]}"
    local f = assert(io.open(string.format("%s/pages/%d_%d.json", dir, offset, LIMIT), "wb"))
    f:write(body)
    f:close()
    bytes, files = bytes + #body, files + 1
  end
  for _, step in ipairs { LIMIT, LIMIT - 1 } do
    for offset = 0, n - 1, step do page(offset) end
  end
  if n == 0 then page(0) end
  all:close()
  os.remove(all_path)
  return bytes, files
end

--- Start nginx serving `dir`/pages (see the module comment).
-- @treturn table the server of spec.hosts.nginx (`url`, `port`, `pid`, `stop`)
function M.serve(dir)
  package.path = "./?.lua;" .. package.path
  local nginx = require "spec.hosts.nginx"
  local ok, why = nginx.available()
  if not ok then return nil, why end
  -- tcp_nopush stays off: with it (TCP_CORK around sendfile) nginx stalled a
  -- keep-alive connection for 40 ms (the delayed-ACK timer) every ~130 pages
  -- of 68 KB, a third of the export's wall time, for every keep-alive client
  -- alike and for no client that opens a connection per page. That made the
  -- server the bottleneck the bench must not have.
  return nginx.start {
    log_level = "error",
    http = [[
  sendfile on;
  tcp_nopush off;
  tcp_nodelay on;
  keepalive_requests 1000000;
  open_file_cache max=20000 inactive=60s;]],
    server = string.format([[
    location = /v1/customers {
      root %s;
      default_type application/json;
      try_files /pages/${arg_offset}_${arg_limit}.json =404;
    }]], dir),
  }
end

if arg and arg[0] and arg[0]:match("pages%.lua$") and arg[1] then
  package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
  local bytes, files = M.build(arg[1], assert(tonumber(arg[2]), "CUSTOMERS"), tonumber(arg[3]))
  print(bytes .. " " .. files)
end

return M
