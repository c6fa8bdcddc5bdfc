/*
 * A minimal `lua` for callgrind: runs `cghost SCRIPT ARGS...` like the stock
 * interpreter (arg table, standard libraries), but linked against the static
 * liblua5.4.a / libluajit-5.1.a, whose symbols Debian keeps (the stock
 * /usr/bin/lua5.4 and /usr/bin/luajit are stripped), so callgrind_annotate
 * can name the collector, the allocator and the table code. -Wl,-E exports
 * the Lua API to C modules (helpcrunch.core, cjson, socket). Built by
 * bench/export_callgrind.lua:
 *   cc -O2 -I/usr/include/lua5.4 bench/cghost.c -o cghost-lua5.4 \
 *      -Wl,-E /usr/lib/x86_64-linux-gnu/liblua5.4.a -lm -ldl
 */
#include <stdio.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int main(int argc, char **argv) {
  lua_State *L;
  int i;
  if (argc < 2) {
    fprintf(stderr, "usage: %s SCRIPT [ARGS...]\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  if (L == NULL) return 1;
  luaL_openlibs(L);
  lua_createtable(L, argc, 0);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);          /* arg[0] = script, arg[1].. = ARGS */
  }
  lua_setglobal(L, "arg");
  if (luaL_dofile(L, argv[1]) != 0) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  lua_close(L);
  return 0;
}
