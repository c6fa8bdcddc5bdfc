/*
 * The C API floor of decoding (bench/decode_bench.lua, issue 18): the Lua
 * API calls the decoder makes to build a value, with no JSON to parse. A
 * decoded value is first recorded as a list of operations; `build` then
 * makes the same tables again exactly as hc_decode does: known keys pushed
 * from stack slots, strings with lua_pushlstring, entries on the stack and
 * each table made at its exact size, pairs set with lua_rawset. No decoder
 * built on the Lua C API can be faster than this on the same value.
 *
 *   local floor = package.loadlib("build/lua5.4/decode_floor.so", "luaopen_decode_floor")()
 *   local rec = floor.record(helpcrunch.decode(body), { "id", "name", ... })
 *   floor.build(rec)   --> a value equal to the decoded one
 *
 * Built by `make decode-floor LUA=...` (a bench helper; not part of the module).
 */
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM == 501
#define rawlen(L, i) lua_objlen((L), (i))
#define is_integer(L, i) 0
#define to_integer(L, i) 0
#else
#define rawlen(L, i) lua_rawlen((L), (i))
#define is_integer(L, i) lua_isinteger((L), (i))
#define to_integer(L, i) lua_tointeger((L), (i))
#endif

int luaopen_decode_floor(lua_State *L);

enum { OP_OBJECT, OP_ARRAY, OP_KEY, OP_STRING, OP_INTEGER, OP_NUMBER, OP_BOOLEAN, OP_NULL };

typedef struct op {
  int kind;
  int n;              /* entries of an object or array; the key slot of a known key */
  const char *s;      /* string bytes (kept alive by the recorded value) */
  size_t len;
  lua_Number num;
  lua_Integer integer;
} op;

typedef struct record {
  op *ops;
  int n, cap, nkeys;
} record;

static op *add(lua_State *L, record *r) {
  if (r->n == r->cap) {
    int cap = r->cap ? 2 * r->cap : 4096;
    op *ops = (op *)realloc(r->ops, (size_t)cap * sizeof(op));
    if (ops == NULL) luaL_error(L, "decode_floor: out of memory");
    r->ops = ops;
    r->cap = cap;
  }
  memset(&r->ops[r->n], 0, sizeof(op));
  return &r->ops[r->n++];
}

/* The slot of key s among the known keys (table at keys), or 0. */
static int key_slot(lua_State *L, int keys, const char *s, size_t len) {
  int i, n = (int)rawlen(L, keys);
  for (i = 1; i <= n; i++) {
    size_t kl;
    const char *k;
    lua_rawgeti(L, keys, i);
    k = lua_tolstring(L, -1, &kl);
    lua_pop(L, 1);
    if (kl == len && memcmp(k, s, len) == 0) return i;
  }
  return 0;
}

static void walk(lua_State *L, record *r, int idx, int keys) {
  luaL_checkstack(L, 4, NULL);
  switch (lua_type(L, idx)) {
    case LUA_TTABLE: {
      int at = r->n, n = 0, is_array = rawlen(L, idx) > 0;
      if (!is_array) {                      /* {} is an empty array too */
        lua_pushnil(L);
        if (lua_next(L, idx) == 0) is_array = 1;
        else lua_pop(L, 2);
      }
      add(L, r)->kind = is_array ? OP_ARRAY : OP_OBJECT;
      if (is_array) {
        int i, len = (int)rawlen(L, idx);
        for (i = 1; i <= len; i++) {
          lua_rawgeti(L, idx, i);
          walk(L, r, lua_gettop(L), keys);
          lua_pop(L, 1);
          n++;
        }
      } else {
        lua_pushnil(L);
        while (lua_next(L, idx)) {
          op *k = add(L, r);
          k->kind = OP_KEY;
          k->s = lua_tolstring(L, -2, &k->len);
          k->n = key_slot(L, keys, k->s, k->len);
          walk(L, r, lua_gettop(L), keys);
          lua_pop(L, 1);
          n++;
        }
      }
      r->ops[at].n = n;
      break;
    }
    case LUA_TSTRING: {
      op *o = add(L, r);
      o->kind = OP_STRING;
      o->s = lua_tolstring(L, idx, &o->len);
      break;
    }
    case LUA_TNUMBER: {
      op *o = add(L, r);
      if (is_integer(L, idx)) {
        o->kind = OP_INTEGER;
        o->integer = to_integer(L, idx);
      } else {
        o->kind = OP_NUMBER;
        o->num = lua_tonumber(L, idx);
      }
      break;
    }
    case LUA_TBOOLEAN:
      add(L, r)->kind = OP_BOOLEAN;
      r->ops[r->n - 1].n = lua_toboolean(L, idx);
      break;
    default:
      add(L, r)->kind = OP_NULL;
  }
}

static int build_value(lua_State *L, const op *ops, int at, int keybase) {
  const op *o = &ops[at++];
  switch (o->kind) {
    case OP_OBJECT:
    case OP_ARRAY: {
      int i, n = o->n, base;
      luaL_checkstack(L, 2 * n + 8, NULL);
      lua_pushnil(L);
      base = lua_gettop(L);
      for (i = 0; i < n; i++) {
        if (o->kind == OP_OBJECT) {
          const op *k = &ops[at++];
          if (k->n) lua_pushvalue(L, keybase + k->n - 1);
          else lua_pushlstring(L, k->s, k->len);
        }
        at = build_value(L, ops, at, keybase);
      }
      if (o->kind == OP_OBJECT) {
        lua_createtable(L, 0, n);
        lua_replace(L, base);
        for (i = 0; i < n; i++) lua_rawset(L, base);
      } else {
        lua_createtable(L, n, 0);
        lua_replace(L, base);
        for (i = n; i >= 1; i--) lua_rawseti(L, base, i);
      }
      return at;
    }
    case OP_STRING: lua_pushlstring(L, o->s, o->len); return at;
#if LUA_VERSION_NUM >= 503
    case OP_INTEGER: lua_pushinteger(L, o->integer); return at;
#endif
    case OP_NUMBER: lua_pushnumber(L, o->num); return at;
    case OP_BOOLEAN: lua_pushboolean(L, o->n); return at;
    default: lua_pushlightuserdata(L, NULL); return at;
  }
}

static int record_gc(lua_State *L) {
  record *r = (record *)lua_touserdata(L, 1);
  free(r->ops);
  r->ops = NULL;
  return 0;
}

/* record(value, known_keys) -> recording (holds value and keys). */
static int f_record(lua_State *L) {
  record *r;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  r = (record *)lua_newuserdata(L, sizeof(record));
  memset(r, 0, sizeof *r);
  lua_newtable(L);                          /* metatable: free the ops */
  lua_pushcfunction(L, record_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  walk(L, r, 1, 2);
  r->nkeys = (int)rawlen(L, 2);
  lua_newtable(L);                          /* keep the value (strings) and keys alive */
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, 2);
#if LUA_VERSION_NUM == 501
  lua_setfenv(L, -2);
#else
  lua_setuservalue(L, -2);
#endif
  return 1;
}

/* build(recording) -> the value, made again. */
static int f_build(lua_State *L) {
  record *r = (record *)lua_touserdata(L, 1);
  int i, keybase;
  luaL_argcheck(L, r != NULL && r->ops != NULL, 1, "a recording expected");
#if LUA_VERSION_NUM == 501
  lua_getfenv(L, 1);
#else
  lua_getuservalue(L, 1);
#endif
  lua_rawgeti(L, -1, 2);
  luaL_checkstack(L, r->nkeys + 8, NULL);
  keybase = lua_gettop(L) + 1;              /* the known keys on the stack, as the decoder has them */
  for (i = 1; i <= r->nkeys; i++) lua_rawgeti(L, keybase - 1, i);
  build_value(L, r->ops, 0, keybase);
  return 1;
}

int luaopen_decode_floor(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, f_record);
  lua_setfield(L, -2, "record");
  lua_pushcfunction(L, f_build);
  lua_setfield(L, -2, "build");
  return 1;
}
