--- Progress through a pseudo-terminal (util-linux `script`): a bar redrawn
-- in place on a terminal, with done/total, the rate, the ETA, retries and
-- rate-limit waits; plain lines in a pipe; nothing with --quiet. And delete's
-- question, answered on the terminal.

local H = require "spec.helper"
local cli = require "spec.support.cli"

local have_script = os.execute("command -v script >/dev/null 2>&1")
have_script = have_script == true or have_script == 0

-- Run bin/helpcrunch on a pseudo-terminal: everything it writes to the
-- terminal, and its exit status.
local function on_terminal(mock, args, stdin, dir)
  local input = dir .. "/tty.in"
  local f = assert(io.open(input, "wb"))
  f:write(stdin or "")
  f:close()
  local p = assert(io.popen("script -q -e -c " .. cli.quote(cli.command(mock, args)) .. " /dev/null <"
    .. cli.quote(input) .. " >" .. cli.quote(dir .. "/tty.out") .. " 2>&1; echo $?"))
  local code = tonumber(p:read("*a"):match("(%d+)%s*$"))
  p:close()
  return H.read(dir .. "/tty.out"), code
end

describe("helpcrunch progress #mock #slow", function()
  local mock, client, dir
  local start, stop, each, after = cli.session({ customers = 200, seed = 8 },
    function(m, c, d) mock, client, dir = m, c, d end)
  lazy_setup(start) lazy_teardown(stop) before_each(each) after_each(after)

  it("#slow draws a bar on a terminal: done/total, rate, ETA, retries, rate-limit waits", function()
    if not have_script then pending("needs script (util-linux)") return end
    mock:config { delay_ms = 100 }
    mock:fault { kind = "502", count = 1, method = "GET", path = "/v1/customers" }
    local out, code = on_terminal(mock, { "export", "-o", dir .. "/p.jsonl", "--rate", "2/2" },
      nil, dir)
    assert.equal(0, code, out)
    assert.matches("\rexport %[[#.]+%] %d+/200 customers %(%d+%%%)", out)
    assert.matches("\27%[K", out)
    assert.matches("/s, ETA %d+:%d%d", out)
    assert.matches("waiting %d s for the rate limit", out)
    assert.matches("1 retries", out)
    assert.matches("\r\27%[Khelpcrunch export: 200 customers in [%d.]+ s %(%d+/s%) to ", out)
  end)

  it("writes plain lines when stderr is not a terminal, and nothing with --quiet", function()
    local r = cli.run(mock, { "export", "-o", dir .. "/q.jsonl", "--rate", "1000/1" })
    assert.equal(0, r.code, r.err)
    assert.is_nil(r.err:find("\r", 1, true))
    assert.is_nil(r.err:find("\27", 1, true))
    assert.matches("^helpcrunch export: 200 customers in [%d.]+ s %(%d+/s%) to .-q%.jsonl\n$", r.err)
    r = cli.run(mock, { "export", "-q", "-o", dir .. "/q2.jsonl" })
    assert.equal(0, r.code)
    assert.equal("", r.err)
    if have_script then
      local out = on_terminal(mock, { "export", "-q", "-o", dir .. "/q3.jsonl" }, nil, dir)
      assert.equal("", out)
    end
  end)

  it("delete asks on a terminal: y deletes, anything else keeps", function()
    if not have_script then pending("needs script (util-linux)") return end
    local c = assert(client.customers:create { name = "Ada", email = "ada@example.com" })
    local out, code = on_terminal(mock, { "delete", tostring(c.id) }, "n\n", dir)
    assert.equal(1, code, out)
    assert.matches("Delete customer " .. c.id .. " %(Ada <ada@example.com>%) for good%? %[y/N%]", out)
    assert.matches("not deleted", out)
    assert(client.customers:get(c.id))
    out, code = on_terminal(mock, { "delete", tostring(c.id) }, "y\n", dir)
    assert.equal(0, code, out)
    assert.is_nil(client.customers:get(c.id))
  end)
end)
