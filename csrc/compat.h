/*
 * Private compatibility shims between Lua 5.1/LuaJIT 2.1 and Lua 5.3/5.4.
 *
 * Every shim is prefixed hc_ and static inline, so nothing here can clash
 * with a symbol the host exports (LuaJIT already exports luaL_setfuncs; a
 * second definition breaks OpenResty), and nothing leaves this module.
 */
#ifndef HC_COMPAT_H
#define HC_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM >= 503
#define HC_HAVE_INTEGERS 1
#else
#define HC_HAVE_INTEGERS 0
#endif

#if LUA_VERSION_NUM == 501
#define hc_rawlen(L, i) lua_objlen((L), (i))
#else
#define hc_rawlen(L, i) lua_rawlen((L), (i))
#endif

/* A uservalue that must be a table on 5.1 (function environments). */
#if LUA_VERSION_NUM == 501
#define hc_setuservalue(L, i) lua_setfenv((L), (i))
#define hc_getuservalue(L, i) lua_getfenv((L), (i))
#else
#define hc_setuservalue(L, i) lua_setuservalue((L), (i))
#define hc_getuservalue(L, i) ((void)lua_getuservalue((L), (i)))
#endif

#if LUA_VERSION_NUM >= 504
#define hc_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 1)
#else
#define hc_newuserdata(L, sz) lua_newuserdata((L), (sz))
#endif

static inline int hc_absindex(lua_State *L, int idx) {
  return (idx > 0 || idx <= LUA_REGISTRYINDEX) ? idx : lua_gettop(L) + idx + 1;
}

static inline void hc_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

static inline void *hc_testudata(lua_State *L, int idx, const char *tname) {
  void *p = lua_touserdata(L, idx);
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  luaL_getmetatable(L, tname);
  if (!lua_rawequal(L, -1, -2)) p = NULL;
  lua_pop(L, 2);
  return p;
}

/* Is the value at idx a number holding an integer Lua can represent exactly? */
static inline int hc_isinteger(lua_State *L, int idx) {
#if HC_HAVE_INTEGERS
  return lua_isinteger(L, idx);
#else
  (void)L; (void)idx;
  return 0;
#endif
}

#endif
