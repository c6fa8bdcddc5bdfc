--- The mock's HTTP/1.1 server: one process, non-blocking sockets, one `socket.select` loop.
--
-- Requests are read into a per-connection buffer and handled only once complete;
-- responses are queued as timed chunks (`{at, data, close}`), so delays, trickled
-- bodies and slow readers never block other connections. Keep-alive is the default
-- (HTTP/1.1), `Connection: close` is honoured, `Expect: 100-continue` is answered.
-- Request bodies need a Content-Length (chunked bodies get 411).
-- @module helpcrunch.mock.http

local socket = require "socket"
local json = require "helpcrunch.mock.json"

local gettime, select = socket.gettime, socket.select
local find, sub, lower, char = string.find, string.sub, string.lower, string.char
local tonumber, tostring, pairs, ipairs, min = tonumber, tostring, pairs, ipairs, math.min
local concat = table.concat

local M = {}

local MAX_HEAD = 64 * 1024
local MAX_BODY = 16 * 1024 * 1024
local READ_SIZE = 64 * 1024

--- Reason phrases of the statuses the mock sends.
M.REASONS = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [204] = "No Content", [302] = "Found",
  [400] = "Bad Request", [401] = "Unauthorized", [404] = "Not Found",
  [405] = "Method Not Allowed", [411] = "Length Required", [413] = "Payload Too Large",
  [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [502] = "Bad Gateway", [503] = "Service Unavailable",
}
local REASONS = M.REASONS

local function unescape(s)
  if find(s, "[%%+]") then
    s = s:gsub("+", " "):gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end)
  end
  return s
end
M.unescape = unescape

--- Parse a query string into a map (the last of repeated names wins).
-- @tparam string qs
-- @treturn table
function M.parse_query(qs)
  local q = {}
  if qs and qs ~= "" then
    for pair in qs:gmatch("[^&]+") do
      local k, v = pair:match("^([^=]*)=?(.*)$")
      q[unescape(k)] = unescape(v)
    end
  end
  return q
end

--- Serialize a response head.
-- @tparam integer status
-- @tparam string ctype content type
-- @tparam integer length body length (Content-Length)
-- @tparam table|nil headers extra headers `{Name = value}`
-- @tparam boolean close add `Connection: close`
-- @treturn string
function M.head(status, ctype, length, headers, close)
  local extra = ""
  if headers then
    local parts = {}
    for k, v in pairs(headers) do parts[#parts + 1] = k .. ": " .. tostring(v) .. "\r\n" end
    table.sort(parts)
    extra = concat(parts)
  end
  return "HTTP/1.1 " .. status .. " " .. (REASONS[status] or "Unknown") ..
    "\r\nContent-Type: " .. ctype .. "\r\nContent-Length: " .. length .. "\r\n" .. extra ..
    (close and "Connection: close\r\n\r\n" or "\r\n")
end
local make_head = M.head

-- Parse what the buffer holds. Returns a request, or nil (need more bytes), or
-- nil + status for a request that cannot be served (the connection then closes).
local function parse(conn)
  local buf = conn.buf
  local h = conn.pending_head
  if not h then
    local s = 1
    while sub(buf, s, s + 1) == "\r\n" do s = s + 2 end
    local e = find(buf, "\r\n\r\n", s, true)
    if not e then
      if #buf > MAX_HEAD then return nil, 431 end
      return nil
    end
    if e - s > MAX_HEAD then return nil, 431 end
    local text = sub(buf, s, e + 1)
    local method, target, version = text:match("^(%u+) (%S+) HTTP/(%d%.%d)\r\n")
    if not method then return nil, 400 end
    local headers = {}
    for name, value in text:gmatch("\n([^:\r\n]+):[ \t]*([^\r\n]*)") do
      name = lower(name)
      if find(value, "[ \t]$") then value = value:match("^(.-)[ \t]*$") end
      local old = headers[name]
      headers[name] = old and (old .. ", " .. value) or value
    end
    if headers["transfer-encoding"] then return nil, 411 end
    local length = 0
    if headers["content-length"] then
      length = tonumber(headers["content-length"]:match("^%d+$"))
      if not length then return nil, 400 end
      if length > MAX_BODY then return nil, 413 end
    end
    local connection = lower(headers.connection or "")
    local close
    if version == "1.0" then
      close = not find(connection, "keep-alive", 1, true)
    else
      close = find(connection, "close", 1, true) ~= nil
    end
    h = { method = method, target = target, headers = headers, length = length,
          start = e + 4, close = close }
    conn.pending_head = h
  end
  local stop = h.start + h.length - 1
  if #buf < stop then
    if not h.continued and lower(h.headers.expect or "") == "100-continue" then
      h.continued = true
      conn.sock:send("HTTP/1.1 100 Continue\r\n\r\n")
    end
    return nil
  end
  conn.pending_head = nil
  local body = h.length > 0 and sub(buf, h.start, stop) or ""
  conn.buf = sub(buf, stop + 1)
  local target = h.target
  local path, qs = target:match("^([^?]*)%??(.*)$")
  path = path:gsub("^%a[%w+.-]*://[^/]*", "")   -- absolute-form targets
  return {
    method = h.method, target = target, path = unescape(path), qs = qs,
    query = M.parse_query(qs), headers = h.headers, body = body, close = h.close,
  }
end
M.parse = parse

local Server = {}
Server.__index = Server

--- Create a server bound to host:port (port 0: any free port).
-- @tparam table handler object with `:dispatch(req, conn)` returning a reply
--   `{status, body, ctype, headers, delay, action, interval, step}`,
--   `:on_connect(conn)`, `:on_close(conn)`, and optionally `:background(now)` (work
--   besides requests, never blocking: returns sockets to watch for reading and for
--   writing, and the longest the loop may wait before calling it again)
-- @tparam string host
-- @tparam integer port
-- @treturn table|nil server, or nil and an error message
function M.new(handler, host, port)
  local sock, err = socket.bind(host, port, 128)
  if not sock then return nil, err end
  sock:settimeout(0)
  local _, real_port = sock:getsockname()
  return setmetatable({
    handler = handler, sock = sock, host = host, port = tonumber(real_port),
    conns = {}, recvt = { sock }, next_id = 0, running = false,
  }, Server)
end

-- The time responses are scheduled by: the handler's clock when it has one
-- (the mock's, which tests move on instead of sleeping), else the real one.
function Server:now()
  local h = self.handler
  return h.now and h.now() or gettime()
end

function Server:close_conn(conn)
  if conn.closed then return end
  conn.closed = true
  conn.sock:close()
  self.conns[conn.sock] = nil
  local recvt = self.recvt
  for i = #recvt, 1, -1 do
    if recvt[i] == conn.sock then table.remove(recvt, i) break end
  end
  self.handler:on_close(conn)
end

-- Send what is due on a connection. Returns when it must wait (time or socket).
function Server:pump(conn, now)
  while not conn.closed do
    local out = conn.out
    if out then
      local last, err, partial = conn.sock:send(out, conn.out_i)
      if last then
        conn.out = nil
      elseif err == "timeout" then
        conn.out_i = partial + 1
        return
      else
        self:close_conn(conn)
        return
      end
    end
    if conn.close_after then
      self:close_conn(conn)
      return
    end
    local q = conn.queue
    local item = q[q.head]
    if not item then
      conn.busy = false
      return
    end
    if item.at > now then return end
    q[q.head] = nil
    q.head = q.head + 1
    if item.data then
      conn.out, conn.out_i = item.data, 1
    end
    if item.close then conn.close_after = true end
  end
end

local function push(conn, at, data, close, hold)
  local q = conn.queue
  q.tail = q.tail + 1
  q[q.tail] = { at = at, data = data, close = close, hold = hold }
end

-- Turn a reply into timed chunks on the connection's queue.
function Server:schedule(conn, reply, close, now)
  local at = now + (reply.delay or 0)
  local action = reply.action
  conn.busy = true
  if action == "drop" then
    push(conn, at, nil, true)
  else
    local body = reply.body or ""
    local head = make_head(reply.status, reply.ctype or "application/json", #body,
                           reply.headers, close)
    if action == "truncate" then
      push(conn, at, head .. sub(body, 1, math.floor(#body / 2)), true)
    elseif action == "trickle" then
      local step = reply.step or 1
      local interval = reply.interval or 0.2
      push(conn, at, head, false)
      local n = 0
      for i = 1, #body, step do
        n = n + 1
        push(conn, at + n * interval, sub(body, i, i + step - 1), false)
      end
      if close then push(conn, at + n * interval, nil, true) end
    else
      push(conn, at, head .. body, close, reply.hold)
    end
  end
  self:pump(conn, now)
end

function Server:respond_error(conn, status, now)
  local body = '{"errors":[{"code":"bad_request","message":"' .. (REASONS[status] or "Bad request") .. '"}]}'
  conn.buf = ""
  self:schedule(conn, { status = status, body = body }, true, now)
  conn.eof = true
end

-- Handle every complete request in the buffer, one at a time. A request the handler
-- defers (`handler:defer(req)` seconds) waits on the connection until its time.
function Server:process(conn, now)
  while not conn.closed and not conn.busy and not conn.eof_seen do
    local req = conn.deferred
    if req then
      if conn.deferred_at > now then break end
      conn.deferred = nil
    else
      local bad
      req, bad = parse(conn)
      if not req then
        if bad then self:respond_error(conn, bad, now) end
        break
      end
      req.conn = conn
      local wait = self.handler.defer and self.handler:defer(req) or 0
      if wait > 0 then
        conn.deferred, conn.deferred_at = req, now + wait
        break
      end
    end
    local ok, reply = pcall(self.handler.dispatch, self.handler, req, conn)
    if not ok then                      -- a bug in the mock: say so, keep serving
      io.stderr:write("helpcrunch-mock: ", tostring(reply), "\n")
      reply = { status = 500, body = '{"errors":[{"code":"mock_error","message":' ..
        json.string(tostring(reply)) .. '}]}' }
    end
    self:schedule(conn, reply, req.close or reply.close, now)
    if req.close or reply.close then conn.eof_seen = true end
  end
  if conn.eof and not conn.busy and not conn.deferred and not conn.closed then
    self:close_conn(conn)
  end
end

function Server:accept()
  while true do
    local client = self.sock:accept()
    if not client then return end
    client:settimeout(0)
    client:setoption("tcp-nodelay", true)
    self.next_id = self.next_id + 1
    local conn = {
      id = self.next_id, sock = client, buf = "", busy = false,
      queue = { head = 1, tail = 0 },
    }
    self.conns[client] = conn
    self.recvt[#self.recvt + 1] = client
    self.handler:on_connect(conn)
  end
end

function Server:read(conn, now)
  local data, err, partial = conn.sock:receive(READ_SIZE)
  local chunk = data or partial
  if chunk and chunk ~= "" then
    conn.buf = conn.buf .. chunk
  end
  if err and err ~= "timeout" then
    conn.eof = true                     -- peer closed: finish what is complete, then close
  end
  self:process(conn, now)
end

--- Run one turn of the loop: wait at most `timeout` seconds for something to do.
-- @tparam number timeout seconds
function Server:step(timeout)
  local now = self:now()
  local sendt = {}
  for _, conn in pairs(self.conns) do
    if conn.deferred then
      if conn.deferred_at <= now then self:process(conn, now) end
      if conn.deferred then timeout = min(timeout, conn.deferred_at - now) end
    end
    if conn.busy then
      if not conn.out then self:pump(conn, now) end
      if conn.out then
        sendt[#sendt + 1] = conn.sock
      elseif conn.busy and not conn.closed then
        local item = conn.queue[conn.queue.head]
        if item then timeout = min(timeout, item.at - now) end
      end
      if not conn.busy and not conn.closed then self:process(conn, now) end
    end
  end
  -- Work of the handler's own (webhook deliveries): its sockets join the select.
  local recvt = self.recvt
  if self.handler.background then
    local more_r, more_w, wait = self.handler:background(now)
    if wait and wait < timeout then timeout = wait end
    if more_r and #more_r > 0 then
      local all = {}
      for i = 1, #recvt do all[i] = recvt[i] end
      for _, s in ipairs(more_r) do all[#all + 1] = s end
      recvt = all
    end
    for _, s in ipairs(more_w or {}) do sendt[#sendt + 1] = s end
  end
  if timeout < 0 then timeout = 0 end
  local readable, writable = select(recvt, sendt, timeout)
  now = self:now()
  for _, s in ipairs(writable) do
    local conn = self.conns[s]
    if conn then
      self:pump(conn, now)
      if not conn.busy and not conn.closed then self:process(conn, now) end
    end
  end
  for _, s in ipairs(readable) do
    if s == self.sock then
      self:accept()
    else
      local conn = self.conns[s]
      if conn then self:read(conn, now) end
    end
  end
end

-- Each queued response held for a release, with its connection.
function Server:each_held(fn)
  for _, conn in pairs(self.conns) do
    local q = conn.queue
    for i = q.head, q.tail do
      if q[i] and q[i].hold then fn(conn, q[i]) end
    end
  end
end

--- The number of responses held (a `hold` fault) and not yet sent.
-- @treturn integer
function Server:held()
  local n = 0
  self:each_held(function() n = n + 1 end)
  return n
end

--- Send every held response now.
-- @treturn integer how many were released
function Server:release()
  local n, now = 0, self:now()
  self:each_held(function(_, item)
    item.hold, item.at, n = nil, now, n + 1
  end)
  return n
end

--- Serve until `stop()` is called or `tick()` returns false.
-- @tparam[opt] function tick called about once a second; return false to stop
function Server:run(tick)
  self.running = true
  local last = gettime()
  while self.running do
    self:step(1)
    if tick and gettime() - last >= 1 then
      last = gettime()
      if tick() == false then break end
    end
  end
  self:close()
end

--- Stop the loop after the current turn.
function Server:stop()
  self.running = false
end

--- Close every connection and the listening socket.
function Server:close()
  for _, conn in pairs(self.conns) do
    conn.closed = true
    conn.sock:close()
  end
  self.conns, self.recvt = {}, {}
  if self.sock then self.sock:close() self.sock = nil end
end

return M
