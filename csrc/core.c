/*
 * helpcrunch.core: the C core of helpcrunch-lua. Only luaopen_helpcrunch_core
 * leaves this shared object; the Lua layer (lua/helpcrunch/) holds the policy.
 *
 *   core.new(opts)            -> client (client.c)
 *   core.decode(text)         -> value | nil, message, byte offset
 *   core.encode(value)        -> JSON text (raises on what JSON can't hold)
 *   core.now()                -> monotonic seconds
 *   core.sleep(seconds)       -> plain blocking sleep (the default wait)
 *   core.hmac_sha1(key, data) -> 40 hex digits (hmac.c, OpenSSL libcrypto)
 *   core.null                 -> stands for null inside arrays
 *   core.curl_version, core._VERSION
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "hc.h"

#if defined(__GNUC__)
#define HC_EXPORT __attribute__((visibility("default")))
#else
#define HC_EXPORT
#endif

HC_EXPORT int luaopen_helpcrunch_core(lua_State *L);

static int core_decode(lua_State *L) {
  size_t len;
  const char *s;
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_argerror(L, 1, "JSON text expected (a string)");
  s = lua_tolstring(L, 1, &len);
  return hc_decode(L, s, len, lua_upvalueindex(1), NULL);
}

static int core_encode(lua_State *L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  hc_encode(L, 1);
  return 1;
}

static int core_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

static int core_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  struct timespec ts;
  if (!(s > 0)) return 0;                  /* also NaN */
  if (s > 86400) s = 86400;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  return 0;
}

static const luaL_Reg functions[] = {
  { "new", hc_client_new },
  { "decode", core_decode },
  { "encode", core_encode },
  { "now", core_now },
  { "sleep", core_sleep },
  { "hmac_sha1", hc_hmac_sha1 },
  { NULL, NULL }
};

/* libcurl wants curl_global_init once per process before any handle. Two
 * Lua states in two threads may load the module at once, so the call is
 * made under pthread_once; its result is kept for every later load. The
 * cleanup is never called: the host may use libcurl too. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void) {
  curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

HC_EXPORT int luaopen_helpcrunch_core(lua_State *L) {
  if (pthread_once(&curl_once, curl_init_once) != 0 || curl_init_rc != CURLE_OK)
    return luaL_error(L, "helpcrunch: curl_global_init failed");
  if (!hc_keys_selfcheck())
    return luaL_error(L, "helpcrunch: key slot table out of date (tools/gen-key-slots.py)");
  lua_newtable(L);
  hc_push_key_strings(L);             /* the upvalue every decoder shares */
  hc_client_open(L);
  hc_setfuncs(L, functions, 1);
  lua_pushlightuserdata(L, HC_NULL_SENTINEL);
  lua_setfield(L, -2, "null");
  lua_pushstring(L, curl_version());
  lua_setfield(L, -2, "curl_version");
  lua_pushliteral(L, HC_VERSION);
  lua_setfield(L, -2, "_VERSION");
  return 1;
}
