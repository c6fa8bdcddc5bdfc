--- One HTTP/1.1 exchange over an OpenResty cosocket, for transport/ngx.lua:
-- the request the C core would send (same headers), the response read
-- within a deadline (status line, headers, a Content-Length, chunked or
-- read-to-close body, max_body enforced), and every failure named as
-- csrc/errors.c names libcurl's ("timeout", "empty_reply", "partial_body",
-- "too_large", "bad_reply", ...), so errors.lua decides kinds for both
-- transports in its one table.
--
-- Bodies are not compressed: no Accept-Encoding is sent, so a server sends
-- identity (RFC 9110 12.5.3), and a compressed body is refused as
-- "bad_content_encoding" rather than misread.
-- @module helpcrunch.transport.ngx_http

local M = {}

local concat, floor, tonumber = table.concat, math.floor, tonumber
local find, lower, match, sub = string.find, string.lower, string.match, string.sub

-- Most header lines a response may have (a defence, not a limit a real
-- server meets).
local MAX_HEADER_LINES = 200
-- Most bytes asked of the socket in one read of a body.
local READ_SIZE = 65536

--- The request writer: the token stays inside its closure (never in a field
-- a dump of the transport would show).
-- @tparam string token
-- @tparam string user_agent
-- @treturn function(method, target, authority, body) -> request bytes
function M.writer(token, user_agent)
  local fixed = "Accept: application/json\r\nAuthorization: Bearer " .. token
    .. "\r\nUser-Agent: " .. user_agent .. "\r\n"
  return function(method, target, authority, body)
    if method == "GET" then
      return method .. " " .. target .. " HTTP/1.1\r\nHost: " .. authority .. "\r\n" .. fixed
        .. "\r\n"
    end
    -- A body is sent whole with its length: no Expect: 100-continue wait.
    body = body or ""
    return method .. " " .. target .. " HTTP/1.1\r\nHost: " .. authority .. "\r\n" .. fixed
      .. "Content-Type: application/json\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
  end
end

-- ---- reading within the deadline ---------------------------------------------

-- The exchange's state: `sock`, `deadline`, `now`, `timeout` (seconds, for
-- messages), and what has been learned so far (`res`).
local Ex = {}
Ex.__index = Ex

-- Give the next socket operation what is left of the deadline.
function Ex:arm()
  local left = self.deadline - self.now()
  if left <= 0 then return false end
  self.sock:settimeout(left < 0.001 and 1 or floor(left * 1000))
  return true
end

function Ex:fail(failure, message)
  local res = self.res
  res.failure, res.message, res.keepalive = failure, message, false
  return res
end

function Ex:timed_out(what)
  return self:fail("timeout", "no " .. what .. " within the timeout of "
    .. self.timeout .. " s")
end

-- A socket error while reading `what`: a failure name and a message.
function Ex:read_error(err, what, got_any)
  if err == "timeout" then return self:timed_out(what) end
  if err == "closed" then
    if not self.res.status and not got_any then
      return self:fail("empty_reply", "the server closed the connection without a response")
    end
    if self.res.status then
      return self:fail("partial_body", "the connection closed before the end of the "
        .. what .. " (" .. self.res.bytes .. " body bytes received)")
    end
    return self:fail("bad_reply", "the connection closed in the middle of the status line")
  end
  return self:fail("recv_error", "reading the " .. what .. ": " .. tostring(err))
end

function Ex:line(what)
  if not self:arm() then return nil, self:timed_out(what) end
  local line, err, partial = self.sock:receive("*l")
  if not line then return nil, self:read_error(err, what, partial and partial ~= "") end
  return line
end

-- Read up to `n` bytes (any that arrive), within the deadline.
function Ex:some(n, what)
  if not self:arm() then return nil, self:timed_out(what) end
  local data, err = self.sock:receiveany(n)
  if not data then return nil, err end
  return data
end

function Ex:too_large()
  return self:fail("too_large", "the response body is larger than max_response_bytes ("
    .. self.max_body .. " bytes)")
end

-- ---- the parts of a response ---------------------------------------------------

-- Status line (skipping 1xx interim responses) and headers into res.
function Ex:head()
  local res = self.res
  for _ = 1, 5 do
    local line, ferr = self:line("response")
    if not line then return ferr end
    local major, minor, status = match(line, "^HTTP/(%d)%.(%d) (%d%d%d)")
    if not major then
      return self:fail("bad_reply", "not an HTTP/1.x status line: " .. sub(line, 1, 40))
    end
    res.status = tonumber(status)
    local h = {}
    for _ = 1, MAX_HEADER_LINES do
      line, ferr = self:line("response headers")
      if not line then return ferr end
      if line == "" then break end
      local name, value = match(line, "^([^:]+):[ \t]*(.-)[ \t]*$")
      if name then h[lower(name)] = value end
    end
    if line ~= "" then return self:fail("bad_reply", "more than " .. MAX_HEADER_LINES
      .. " header lines") end
    if res.status >= 200 or res.status == 101 then
      local connection = lower(h.connection or "")
      if major == "1" and minor == "0" then
        res.keepalive = find(connection, "keep-alive", 1, true) ~= nil
      else
        res.keepalive = find(connection, "close", 1, true) == nil
      end
      res.retry_after, res.location, res.content_type =
        h["retry-after"], h.location, h["content-type"]
      return nil, h
    end
  end
  return self:fail("bad_reply", "too many interim (1xx) responses")
end

-- A body of known length.
function Ex:sized(length, parts)
  local got = 0
  while got < length do
    local data, err = self:some(length - got < READ_SIZE and length - got or READ_SIZE, "body")
    if not data then return self:read_error(err, "body", true) end
    got = got + #data
    self.res.bytes = self.res.bytes + #data
    parts[#parts + 1] = data
  end
end

-- A chunked body (RFC 9112 7.1); trailers are read and ignored.
function Ex:chunked(parts)
  local total = 0
  while true do
    local line, ferr = self:line("body")
    if not line then return ferr end
    local size = tonumber(match(line, "^%s*(%x+)%s*[;]?") or "", 16)
    if not size then return self:fail("bad_reply", "a bad chunk size line in the body") end
    if size == 0 then break end
    total = total + size
    if total > self.max_body then return self:too_large() end
    ferr = self:sized(size, parts)
    if ferr then return ferr end
    line, ferr = self:line("body")
    if not line then return ferr end
    if line ~= "" then return self:fail("bad_reply", "a chunk longer than its size") end
  end
  for _ = 1, MAX_HEADER_LINES do
    local line, ferr = self:line("body")
    if not line then return ferr end
    if line == "" then return end
  end
  return self:fail("bad_reply", "too many trailer lines")
end

-- A body that ends when the server closes the connection.
function Ex:to_close(parts)
  local total = 0
  self.res.keepalive = false
  while true do
    local data, err = self:some(READ_SIZE, "body")
    if not data then
      if err == "closed" then return end
      return self:read_error(err, "body", true)
    end
    total = total + #data
    if total > self.max_body then return self:too_large() end
    self.res.bytes = total
    parts[#parts + 1] = data
  end
end

function Ex:body(h, method)
  local res = self.res
  local status = res.status
  if method == "HEAD" or status == 204 or status == 304 or status < 200 then return "" end
  local coding = h["content-encoding"]
  if coding and lower(coding) ~= "identity" then
    return nil, self:fail("bad_content_encoding", "the server sent a body encoded as '"
      .. coding .. "', which was not asked for")
  end
  local parts, ferr = {}
  local te = h["transfer-encoding"]
  if te then
    if lower(te) ~= "chunked" then
      return nil, self:fail("bad_content_encoding", "unsupported Transfer-Encoding: " .. te)
    end
    ferr = self:chunked(parts)
  elseif h["content-length"] then
    local length = tonumber(match(h["content-length"], "^%d+$"))
    if not length then return nil, self:fail("bad_reply", "a bad Content-Length") end
    if length > self.max_body then return nil, self:too_large() end
    ferr = self:sized(length, parts)
  else
    ferr = self:to_close(parts)
  end
  if ferr then return nil, ferr end
  return concat(parts)
end

--- Send a request and read its response.
-- @tparam table sock a connected cosocket
-- @tparam string method
-- @tparam string request the bytes (from the writer)
-- @tparam table o `deadline` and `now` (seconds, one clock), `timeout`
--   (seconds, for messages), `max_body`
-- @treturn table `status`, `sent`, `bytes`, `retry_after`, `location`,
--   `content_type`, `keepalive` (the connection may be reused), and `body`;
--   or `failure`, `message` (and `nothing`: not a byte of response came)
function M.exchange(sock, method, request, o)
  local ex = setmetatable({ sock = sock, deadline = o.deadline, now = o.now,
    timeout = o.timeout, max_body = o.max_body,
    res = { sent = false, bytes = 0, keepalive = false } }, Ex)
  local res = ex.res
  if not ex:arm() then return ex:timed_out("connection") end
  local ok, err = sock:send(request)
  if not ok then
    res.nothing = true
    if err == "timeout" then return ex:timed_out("send") end
    return ex:fail("send_error", "sending the request: " .. tostring(err))
  end
  res.sent = true
  local ferr, h = ex:head()
  if ferr then
    res.nothing = res.status == nil and res.failure ~= "bad_reply"
    return ferr
  end
  local body
  body, ferr = ex:body(h, method)
  if ferr then return ferr end
  res.body = body
  return res
end

return M
