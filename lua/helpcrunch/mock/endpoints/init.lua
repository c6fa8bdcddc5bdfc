--- The endpoint modules of the mock, in matching order: the one list to extend.
--
-- Each module returns `{ routes = { {method =, path =, handler =, dialect =, name =},
-- ... } }` (see `helpcrunch.mock.router`, which requires them). To add a resource:
-- write `endpoints/<resource>.lua`, add its name here, and run `make rockspec` (the
-- mock's rockspec lists every file).
-- @module helpcrunch.mock.endpoints

return {
  "helpcrunch.mock.endpoints.customers",
  "helpcrunch.mock.endpoints.events",
  "helpcrunch.mock.endpoints.chats",
  "helpcrunch.mock.endpoints.messages",
  "helpcrunch.mock.endpoints.team",
}
