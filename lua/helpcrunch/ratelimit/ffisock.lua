--- A blocking TCP socket over LuaJIT's FFI (Linux), with the few LuaSocket
-- methods the RESP code uses: `receive("*l")`, `receive(n)`, `send(s)`,
-- `close()`, and a timeout on each. The Redis store's socket in LuaJIT
-- hosts, because LuaSocket cannot run in all of them: Neovim exports a C
-- function `socket_connect`, LuaSocket's own `socket_connect` resolves to
-- it, and LuaSocket's connect crashes Neovim. Every wait is a poll() on the
-- one descriptor, bounded by the timeout; sends never raise SIGPIPE.
-- @module helpcrunch.ratelimit.ffisock

local ffi = require "ffi"

local M = {}

-- One declaration at a time: another module may have declared one of them.
for _, decl in ipairs {
  [[struct hc_addrinfo {
      int ai_flags, ai_family, ai_socktype, ai_protocol;
      unsigned int ai_addrlen;
      void *ai_addr;
      char *ai_canonname;
      struct hc_addrinfo *ai_next;
    };]],
  "struct hc_pollfd { int fd; short events, revents; };",
  "struct hc_timespec { long sec, nsec; };",
  [[int getaddrinfo(const char *node, const char *service, const struct hc_addrinfo *hints,
                    struct hc_addrinfo **res);]],
  "void freeaddrinfo(struct hc_addrinfo *res);",
  "const char *gai_strerror(int errcode);",
  "int socket(int domain, int type, int protocol);",
  "int connect(int fd, const void *addr, unsigned int len);",
  "int getsockopt(int fd, int level, int name, void *val, unsigned int *len);",
  "int setsockopt(int fd, int level, int name, const void *val, unsigned int len);",
  "long send(int fd, const void *buf, size_t len, int flags);",
  "long recv(int fd, void *buf, size_t len, int flags);",
  "int poll(struct hc_pollfd *fds, unsigned long nfds, int timeout);",
  "int close(int fd);",
  "char *strerror(int errnum);",
  "int clock_gettime(int clk, struct hc_timespec *ts);",
} do
  pcall(ffi.cdef, decl)
end

local C = ffi.C
-- Linux (x86-64, arm64) values.
local SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC = 1, 0x800, 0x80000
local SOL_SOCKET, SO_ERROR, IPPROTO_TCP, TCP_NODELAY = 1, 4, 6, 1
local POLLIN, POLLOUT = 1, 4
local MSG_NOSIGNAL = 0x4000
local EINTR, EAGAIN, EINPROGRESS = 4, 11, 115

local ts = ffi.new("struct hc_timespec")
local function clock()
  C.clock_gettime(1, ts)                           -- CLOCK_MONOTONIC
  return tonumber(ts.sec) + tonumber(ts.nsec) * 1e-9
end

local function errstr(e)
  return ffi.string(C.strerror(e)):lower()
end

local Sock = {}
Sock.__index = Sock

-- Wait until the descriptor is ready for `events`, or the deadline.
local function wait(self, events, deadline)
  local pfd = ffi.new("struct hc_pollfd[1]")
  pfd[0].fd, pfd[0].events = self.fd, events
  while true do
    local left = deadline - clock()
    if left <= 0 then return nil, "timeout" end
    local n = C.poll(pfd, 1, math.ceil(left * 1000))
    if n > 0 then return true end
    if n < 0 and ffi.errno() ~= EINTR then return nil, errstr(ffi.errno()) end
  end
end

--- Connect to host:port (a name or an address) within `timeout` seconds.
-- @treturn table|nil the socket, or nil and a message
function M.connect(host, port, timeout)
  local deadline = clock() + timeout
  local hints = ffi.new("struct hc_addrinfo")
  hints.ai_socktype = SOCK_STREAM
  local res = ffi.new("struct hc_addrinfo *[1]")
  local rc = C.getaddrinfo(host, tostring(port), hints, res)
  if rc ~= 0 then return nil, ffi.string(C.gai_strerror(rc)):lower() end
  local ai, err = res[0], "no address"
  while ai ~= nil do
    local fd = C.socket(ai.ai_family, SOCK_STREAM + SOCK_NONBLOCK + SOCK_CLOEXEC, 0)
    if fd >= 0 then
      local self = setmetatable({ fd = fd, buf = "", timeout = timeout }, Sock)
      local ok
      if C.connect(fd, ai.ai_addr, ai.ai_addrlen) == 0 then
        ok = true
      elseif ffi.errno() == EINPROGRESS then
        ok, err = wait(self, POLLOUT, deadline)
        if ok then
          local e, len = ffi.new("int[1]"), ffi.new("unsigned int[1]", ffi.sizeof("int"))
          C.getsockopt(fd, SOL_SOCKET, SO_ERROR, e, len)
          if e[0] ~= 0 then ok, err = nil, errstr(e[0]) end
        end
      else
        err = errstr(ffi.errno())
      end
      if ok then
        C.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, ffi.new("int[1]", 1), ffi.sizeof("int"))
        C.freeaddrinfo(res[0])
        return self
      end
      C.close(fd)
    else
      err = errstr(ffi.errno())
    end
    ai = ai.ai_next
  end
  C.freeaddrinfo(res[0])
  return nil, err
end

--- Send all of `s`. @return true, or nil and a message
function Sock:send(s)
  if not self.fd then return nil, "closed" end
  local deadline, sent = clock() + self.timeout, 0
  while sent < #s do
    local n = tonumber(C.send(self.fd, ffi.cast("const char *", s) + sent, #s - sent,
      MSG_NOSIGNAL))
    if n > 0 then
      sent = sent + n
    else
      local e = ffi.errno()
      if e == EAGAIN then
        local ok, err = wait(self, POLLOUT, deadline)
        if not ok then return nil, err end
      elseif e ~= EINTR then
        return nil, e == 32 and "closed" or errstr(e)         -- EPIPE
      end
    end
  end
  return true
end

-- Read more bytes into the buffer, waiting until the deadline.
local chunk = ffi.new("char[16384]")
local function fill(self, deadline)
  while true do
    local n = tonumber(C.recv(self.fd, chunk, 16384, 0))
    if n > 0 then
      self.buf = self.buf .. ffi.string(chunk, n)
      return true
    end
    if n == 0 then return nil, "closed" end
    local e = ffi.errno()
    if e == EAGAIN then
      local ok, err = wait(self, POLLIN, deadline)
      if not ok then return nil, err end
    elseif e ~= EINTR then
      return nil, e == 104 and "closed" or errstr(e)          -- ECONNRESET
    end
  end
end

--- `"*l"`: a line without its CR LF; a number: that many bytes.
-- @return the data, or nil and a message
function Sock:receive(pattern)
  if not self.fd then return nil, "closed" end
  local deadline = clock() + self.timeout
  while true do
    if pattern == "*l" then
      local i = self.buf:find("\n", 1, true)
      if i then
        local line = self.buf:sub(1, i - 1):gsub("\r$", "")
        self.buf = self.buf:sub(i + 1)
        return line
      end
    elseif #self.buf >= pattern then
      local data = self.buf:sub(1, pattern)
      self.buf = self.buf:sub(pattern + 1)
      return data
    end
    local ok, err = fill(self, deadline)
    if not ok then return nil, err end
  end
end

function Sock:close()
  if self.fd then C.close(self.fd) end
  self.fd = nil
end

return M
