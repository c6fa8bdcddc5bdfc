--- A small customers page from helpcrunch-lua inside OpenResty:
--   GET /customers?offset=0&q=gmail   a table of customers (a page, or a search)
--   GET /customers/42                 one customer
-- The client uses cosockets by itself (transport "ngx"): a request waits
-- without holding the worker, and connections are reused from the worker's
-- keep-alive pool, whichever client made them.

local helpcrunch = require "helpcrunch"

local ngx = rawget(_G, "ngx")

local M = {}

local PAGE = 20

-- One client per worker, made on first use (token and base_url come from
-- HELPCRUNCH_API_KEY / HELPCRUNCH_BASE_URL; a client per request would do as
-- well: the connection pool belongs to the worker).
local client
local function api()
  client = client or helpcrunch.new {}
  return client
end

local function esc(v)
  return (tostring(v == nil and "" or v):gsub("[&<>\"']", {
    ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }))
end

local function layout(title, body)
  ngx.print("<!doctype html><meta charset=utf-8><title>", esc(title), "</title>",
    "<style>body{font:14px sans-serif;margin:2em}td,th{padding:2px 10px;text-align:left}</style>",
    "<h1>", esc(title), "</h1>", body)
end

-- An error page: not found stays 404, anything else is the API's fault (502).
local function failed(err)
  ngx.status = err.kind == "not_found" and 404 or 502
  layout("Error", "<p>" .. esc(tostring(err)) .. "</p><p><a href=/customers>customers</a></p>")
end

--- GET /customers: a page of customers, or a search by email (?q=).
function M.list()
  local args = ngx.req.get_uri_args()
  local offset = math.max(0, math.floor(tonumber(args.offset) or 0))
  local q = type(args.q) == "string" and args.q ~= "" and args.q or nil
  local page, err
  if q then
    page, err = api().customers:search():where("email", "~", q):page { offset = offset, limit = PAGE }
  else
    page, err = api().customers:list { offset = offset, limit = PAGE, sort = "lastSeen", order = "desc" }
  end
  if not page then return failed(err) end
  local rows = {}
  for _, c in ipairs(page.data) do
    rows[#rows + 1] = string.format("<tr><td><a href=/customers/%d>%d</a><td>%s<td>%s<td>%s",
      c.id, c.id, esc(c.name), esc(c.email), esc(c.lastSeen and os.date("!%Y-%m-%d", c.lastSeen)))
  end
  local nav = ""
  local query = q and ("&q=" .. ngx.escape_uri(q)) or ""
  local link = "<a href='/customers?offset=%d%s'>%s</a> "
  if offset > 0 then nav = link:format(math.max(0, offset - PAGE), query, "previous") end
  if offset + PAGE < (page.total or 0) then nav = nav .. link:format(offset + PAGE, query, "next") end
  layout(("Customers %d-%d of %d"):format(offset + 1, offset + #page.data, page.total or 0),
    "<form><input name=q placeholder='email contains' value='" .. esc(q) .. "'> <button>search</button></form>"
    .. "<table><tr><th>id<th>name<th>email<th>last seen" .. table.concat(rows) .. "</table><p>" .. nav)
end

--- GET /customers/ID: one customer.
function M.show(id)
  local c, err = api().customers:get(tonumber(id))
  if not c then return failed(err) end
  local rows = {}
  for _, k in ipairs { "id", "name", "email", "phone", "company", "userId", "firstSeen", "lastSeen" } do
    rows[#rows + 1] = "<tr><th>" .. k .. "<td>" .. esc(c[k])
  end
  for _, t in ipairs(c.tags or {}) do rows[#rows + 1] = "<tr><th>tag<td>" .. esc(t.name) end
  for k, v in pairs(c.customData or {}) do rows[#rows + 1] = "<tr><th>" .. esc(k) .. "<td>" .. esc(v) end
  layout(c.name or ("Customer " .. c.id), "<table>" .. table.concat(rows) .. "</table>"
    .. "<p><a href=/customers>all customers</a>")
end

--- From init_worker_by_lua: phases without cosockets cannot make requests
-- (a call there returns unsupported_phase), so start a timer that can.
function M.warm_up()
  if ngx.worker.id() ~= 0 then return end        -- one worker is enough
  ngx.timer.at(0, function(premature)
    if premature then return end
    local page, err = api().customers:list { limit = 1 }
    if page then
      ngx.log(ngx.NOTICE, "helpcrunch: ", page.total, " customers in the account")
    else
      ngx.log(ngx.ERR, tostring(err))
    end
  end)
end

return M
