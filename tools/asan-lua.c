/*
 * The Lua 5.4 interpreter of the ASan/UBSan pass (tools/sanitize.sh): `lua5.4 SCRIPT
 * ARGS...` with the sanitizer runtimes linked in, instead of LD_PRELOADing them into
 * Debian's uninstrumented lua5.4. Preloading works for simple runs, but a preloaded
 * ASan runtime plus libcurl's GnuTLS/p11-kit dependencies deadlocks in p11-kit's
 * destructor at exit once anything has called setlocale; it would also put every
 * child process (the mock, sh) under ASan.
 *
 * HELPCRUNCH_KEEP names a shared object (the ASan build of helpcrunch/core.so) to
 * load first with RTLD_NODELETE: lua_close's dlclose then cannot unmap it or libcurl,
 * so what LeakSanitizer reports at exit is symbolized and libcurl's global state
 * still reachable.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  return 1;
}

int main(int argc, char **argv) {
  const char *keep = getenv("HELPCRUNCH_KEEP");
  lua_State *L;
  int i, status;

  if (argc < 2) {
    fprintf(stderr, "usage: %s SCRIPT [ARGS...]\n", argv[0]);
    return 2;
  }
  if (keep && *keep && !dlopen(keep, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE)) {
    fprintf(stderr, "%s: %s\n", argv[0], dlerror());
    return 2;
  }
  L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  lua_createtable(L, argc, 1);           /* arg[0] = SCRIPT, arg[1..] = ARGS */
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  lua_pushcfunction(L, traceback);
  status = luaL_loadfile(L, argv[1]);
  if (status == LUA_OK) {
    for (i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
    status = lua_pcall(L, argc - 2, 0, 1);
  }
  if (status != LUA_OK) fprintf(stderr, "%s: %s\n", argv[0], lua_tostring(L, -1));
  lua_close(L);
  return status == LUA_OK ? 0 : 1;
}
