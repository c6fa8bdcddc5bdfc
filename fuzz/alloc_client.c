/*
 * Allocation failure in the client (tools/alloc-client.sh): a create / get /
 * list / all / close cycle against the mock, through the Lua layer and the C
 * core, with the k-th allocation made to fail, for every k, in two modes
 * (every allocation from the k-th on; only the k-th). Lua's allocations and
 * libcurl's (curl_global_init_mem) share one counter, so a failure can land
 * in the core, in libcurl or in Lua. Each run must end in the cycle's normal
 * result (every value checked), a Lua memory error, or an error object that
 * libcurl reported (its own allocation failed: kind transport); never a
 * wrong value, a crash, a double free (ASan) or a leak (lua_close gives back
 * every byte; LeakSanitizer at exit for libcurl's).
 *
 *   alloc_client URL          the sweep (URL: the mock's /v1 base);
 *                             ALLOC_FROM=k starts at k, ALLOC_TRACE=1 prints
 *                             where each refused libcurl allocation was
 *   alloc_client --threads    two threads load the module at once (the
 *                             curl_global_init guard), 50 times
 *
 * Everything here is test code: statics and aborts are fine.
 */
#include "harness.h"

#include <lualib.h>
#include <pthread.h>
#include <execinfo.h>

int luaopen_helpcrunch_core(lua_State *L);

/* ---- one counter for Lua and libcurl ------------------------------------- */

static alloc_state *live;            /* the run in progress (NULL: never fail) */
static int curl_refused;             /* the refused allocation was libcurl's */

static int curl_should_fail(void) {
  alloc_state *a = live;
  if (a == NULL) return 0;
  a->count++;
  if (a->fail_at > 0 && a->count >= a->fail_at &&
      (a->fail_count == 0 || a->count < a->fail_at + a->fail_count)) {
    a->failed = 1;
    curl_refused = 1;
    if (getenv("ALLOC_TRACE")) {          /* where libcurl allocated, to debug a finding */
      void *bt[30];
      int n = backtrace(bt, 30);
      fprintf(stderr, "libcurl's allocation %ld refused\n", a->count);
      backtrace_symbols_fd(bt, n, 2);
    }
    return 1;
  }
  return 0;
}

static void *c_malloc(size_t n) { return curl_should_fail() ? NULL : malloc(n); }
static void *c_calloc(size_t n, size_t s) { return curl_should_fail() ? NULL : calloc(n, s); }
static void *c_realloc(void *p, size_t n) { return curl_should_fail() ? NULL : realloc(p, n); }
static char *c_strdup(const char *s) { return curl_should_fail() ? NULL : strdup(s); }
static void c_free(void *p) { free(p); }

/* ---- the cycle ----------------------------------------------------------- */

/* Loaded before counting starts: the modules, then `cycle` is called with
 * failures armed. It returns "ok" (every value checked), or raises. */
/* Loaded before counting starts: the modules, then `cycle` is called with
 * failures armed. It returns "ok" (every value checked), or "error:" and the
 * error object's code (a request failed), or raises. */
static const char *const CYCLE =
  "package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path\n"
  "local hc = require 'helpcrunch'\n"
  "require 'helpcrunch.client'; require 'helpcrunch.pipeline'; require 'helpcrunch.pager'\n"
  "require 'helpcrunch.transport.curl'; require 'helpcrunch.resources.customers'\n"
  "require 'helpcrunch.search'; require 'helpcrunch.ratelimit.memory'\n"
  "local url = ...\n"
  "return function()\n"
  "  local client = hc.new { token = 'alloc-token-0123456789', base_url = url,\n"
  "                          rate_limit = false, max_retries = 0 }\n"
  "  local function run()\n"
  "    local c = assert(client.customers:create { name = 'Alloc', tags = { 'vip' },\n"
  "                                                customData = { plan = 'pro' } })\n"
  "    assert(c.name == 'Alloc' and c.tags[1].name == 'vip' and c.customData.plan == 'pro',\n"
  "           'a wrong customer came back')\n"
  "    local g = assert(client.customers:get(4994))\n"
  "    assert(g.id == 4994 and g.name == 'Serge Merge', 'a wrong get')\n"
  "    local p = assert(client.customers:list { limit = 5 })\n"
  "    assert(#p.data == 5 and p.total >= 20, 'a wrong page: ' .. #p.data .. ' items')\n"
  "    local n, seen = 0, {}\n"
  "    for x in client.customers:all { max = 30, page_size = 10 } do\n"
  "      assert(not seen[x.id], 'a customer twice') seen[x.id] = true n = n + 1\n"
  "    end\n"
  "    assert(n == 30, 'the iterator yielded ' .. n)\n"
  "  end\n"
  "  local ok, err = pcall(run)\n"
  "  client:close()\n"
  "  if ok then return 'ok' end\n"
  "  if hc.is_error(err) then return 'error:' .. tostring(err.code) .. ': ' .. tostring(err) end\n"
  "  error(err, 0)\n"
  "end\n";

static long runs, normal, memory_errors, curl_errors;

static int is_memory_message(lua_State *L) {
  const char *m = lua_tostring(L, -1);
  return m && (strstr(m, "not enough memory") || strstr(m, "cannot grow the Lua stack"));
}

/* One run with failures armed at k (mode 1: every allocation from k on;
 * mode 2: only k). Returns whether any allocation was refused. */
static int cycle_with_failure(const char *url, int mode, long k) {
  alloc_state a = { 0, 0, 0, 0, 0 };
  lua_State *L = lua_newstate(counting_alloc, &a);
  int status, refused;
  if (L == NULL) abort();
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_helpcrunch_core);
  lua_setfield(L, -2, "helpcrunch.core");
  lua_pop(L, 1);
  live = &a;
  CHECK(luaL_loadstring(L, CYCLE) == LUA_OK, "cycle: %s", lua_tostring(L, -1));
  lua_pushstring(L, url);
  CHECK(lua_pcall(L, 1, 1, 0) == LUA_OK, "loading: %s", lua_tostring(L, -1));
  a.count = 0;                        /* count from here: the cycle itself */
  a.fail_at = k;
  a.fail_count = mode - 1;
  curl_refused = 0;
  status = lua_pcall(L, 0, 1, 0);
  refused = a.failed;
  a.fail_at = 0;
  runs++;
  if (status == LUA_OK && strcmp(lua_tostring(L, -1), "ok") == 0) {
    normal++;
  } else if (status == LUA_OK) {
    /* A request failed: only ever because libcurl's own allocation failed
     * (it reports that as a failed transfer, or, in one place, drops the
     * URL's query string, which the client then catches as a page that is
     * not the one asked for). Never when nothing, or only Lua, was refused. */
    CHECK(refused && curl_refused, "mode %d k=%ld: %s", mode, k, lua_tostring(L, -1));
    curl_errors++;
  } else {
    CHECK(refused && is_memory_message(L), "mode %d k=%ld: not a memory error: %s", mode, k,
          lua_tostring(L, -1));
    memory_errors++;
  }
  lua_close(L);
  live = NULL;
  CHECK(a.in_use == 0, "mode %d k=%ld: %zu bytes of Lua memory leaked", mode, k, a.in_use);
  return refused;
}

/* ---- two threads load the module at once -------------------------------- */

static void *load_in_thread(void *arg) {
  lua_State *L = luaL_newstate();
  (void)arg;
  lua_pushcfunction(L, luaopen_helpcrunch_core);
  CHECK(lua_pcall(L, 0, 1, 0) == LUA_OK, "luaopen in a thread: %s", lua_tostring(L, -1));
  lua_getfield(L, -1, "curl_version");
  CHECK(lua_isstring(L, -1), "no curl_version");
  lua_close(L);
  return NULL;
}

int main(int argc, char **argv) {
  long k;
  int mode;
  if (argc == 2 && strcmp(argv[1], "--threads") == 0) {
    int i;
    for (i = 0; i < 50; i++) {
      pthread_t a, b;
      pthread_create(&a, NULL, load_in_thread, NULL);
      pthread_create(&b, NULL, load_in_thread, NULL);
      pthread_join(a, NULL);
      pthread_join(b, NULL);
    }
    curl_global_cleanup();
    printf("alloc-client: 100 loads in 50 pairs of threads\n");
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: alloc_client URL | --threads\n");
    return 2;
  }
  /* libcurl's allocations go through the counter too; the module's own
   * curl_global_init then only adds to libcurl's reference count. */
  CHECK(curl_global_init_mem(CURL_GLOBAL_DEFAULT, c_malloc, c_free, c_realloc, c_strdup,
                             c_calloc) == CURLE_OK, "curl_global_init_mem");
  for (mode = 1; mode <= 2; mode++) {
    long before = runs;
    /* ALLOC_FROM=k starts both sweeps at k (to look at one finding again) */
    for (k = getenv("ALLOC_FROM") ? atol(getenv("ALLOC_FROM")) : 1;
         cycle_with_failure(argv[1], mode, k); k++) {}
    printf("  mode %d (%s): %ld runs\n", mode, mode == 1 ? "every allocation from k on" : "only k",
           runs - before);
  }
  curl_global_cleanup();
  curl_global_cleanup();
  printf("alloc-client: %ld runs: %ld normal, %ld memory errors, %ld libcurl-reported\n", runs,
         normal, memory_errors, curl_errors);
  return 0;
}
