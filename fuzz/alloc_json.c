/*
 * Allocation failure in the JSON code (tools/alloc-json.sh): for each input,
 * the k-th allocation the call makes fails, for every k, in three modes:
 * every allocation from the k-th on fails; only the k-th (Lua 5.4 retries it
 * after an emergency collection); the k-th and the retry, then the rest
 * succeed (so a failed lua_checkstack is seen, and what the code does next).
 * Each outcome must be the normal result or
 * a memory error (never a wrong value, never a "nested too deeply"), and
 * lua_close must give back every byte. Built with ASan and UBSan.
 *
 *   alloc_json FILE...       decode each file (JSON bodies)
 *   alloc_json --encode      encode built-in representative bodies
 */
#include "harness.h"

#include <lualib.h>

static long runs, memory_errors, normal;

/* Decode text with allocations failing per (mode, k), then again without
 * failures in the same state: a normal outcome must equal that one. Returns
 * whether any allocation was refused (0 once k is past them all). */
static int decode_with_failure(const char *name, const char *text, size_t len, int mode, long k) {
  alloc_state a = { 0, 0, 0, 0, 0 };
  lua_State *L = lua_newstate(counting_alloc, &a);
  int status, nres, nref, base, reached;
  hc_decode_hints hints = { 3 }, ref_hints = { 3 };
  if (L == NULL) abort();
  luaL_checkstack(L, 20, NULL);
  base = lua_gettop(L);
  a.count = 0;
  a.fail_at = k;
  a.fail_count = mode - 1;                   /* 0: all from k; 1: only k; 2: k and k + 1 */
  status = run_decode(L, text, len, &hints, &nres);
  reached = a.failed;
  a.fail_at = 0;
  runs++;
  if (status == LUA_OK) {
    int ref = lua_gettop(L) + 1;
    normal++;
    CHECK(run_decode(L, text, len, &ref_hints, &nref) == LUA_OK, "%s: the reference raised", name);
    CHECK(nres == nref, "%s mode %d k=%ld: %d results, want %d", name, mode, k, nres, nref);
    if (nres == 1) {
      CHECK(same_value(L, base + 1, ref, 0, 0), "%s mode %d k=%ld: a different value", name, mode, k);
    } else {
      CHECK(strcmp(lua_tostring(L, base + 2), lua_tostring(L, ref + 1)) == 0,
            "%s mode %d k=%ld: error %s, want %s", name, mode, k, lua_tostring(L, base + 2),
            lua_tostring(L, ref + 1));
      CHECK(lua_tointeger(L, base + 3) == lua_tointeger(L, ref + 2), "%s: offset differs", name);
    }
  } else {
    CHECK(is_memory_error(L, status), "%s mode %d k=%ld: not a memory error: %s", name, mode, k,
          lua_tostring(L, -1));
    memory_errors++;
  }
  lua_close(L);
  CHECK(a.in_use == 0, "%s mode %d k=%ld: %zu bytes leaked", name, mode, k, a.in_use);
  return reached;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char *)malloc((size_t)n + 1);
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
  fclose(f);
  buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

static void sweep_decode(const char *name, const char *text, size_t len) {
  long k, before = runs, errors = memory_errors;
  int mode;
  for (mode = 1; mode <= 3; mode++)
    for (k = 1; decode_with_failure(name, text, len, mode, k); k++) {}
  printf("  %-30s %6ld runs, %6ld memory errors\n", name, runs - before, memory_errors - errors);
}

/* ---- the encoder ---------------------------------------------------------- */

static const char *const bodies[] = {
  ("return { name = 'Ada', email = 'ada@example.com', userId = 'crm-1815', firstSeen = '1603885746',"
   "  customData = { { property = 'plan', value = 'pro' }, { property = 'n', value = 15.99 } },"
   "  tags = { { name = 'vip', color = '#ff0000' }, { name = 'Lead' } }, unsubscribed = false }"),
  ("return { filter = { { field = 'customers.email', operator = '~', value = 'gmail' },"
   "  { field = 'customers.lastSeen', operator = '>=', value = 1603885746 } }, comparison = 'AND',"
   "  sort = 'customers.lastSeen', order = 'desc', limit = 100, offset = 0 }"),
  ("local t = {} for i = 1, 300 do t[i] = { i, i + 0.5, ('k'):rep(i % 40), -0.0, 2^60, 1e300 } end"
   " return t"),
  ("local t = {} for i = 1, 200 do t['key' .. i] = ('\\226\\130\\172'):rep(i) .. '\\n\"\\\\' end"
   " return t"),
  "local t = { 1 } t[2] = t return t",                       /* a cycle: raises */
  "local x = {} return { a = x, b = x }",                     /* shared: raises */
  "return { 'ok', '\\255' }",                                /* invalid UTF-8: raises */
};

static int build_body(lua_State *L) {
  const char *code = (const char *)lua_touserdata(L, 1);
  luaL_openlibs(L);
  if (luaL_loadstring(L, code) != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  return 1;
}

static void sweep_encode(int which) {
  long k, before = runs;
  int mode;
  char ref_text[1 << 16];
  size_t ref_len = 0;
  int ref_ok;
  {
    alloc_state a = { 0, 0, 0, 0, 0 };
    lua_State *L = lua_newstate(counting_alloc, &a);
    lua_pushcfunction(L, build_body);
    lua_pushlightuserdata(L, (void *)bodies[which]);
    CHECK(lua_pcall(L, 1, 1, 0) == LUA_OK, "body %d: %s", which, lua_tostring(L, -1));
    ref_ok = run_encode(L, -1) == LUA_OK;
    if (ref_ok) {
      const char *t = lua_tolstring(L, -1, &ref_len);
      CHECK(ref_len < sizeof ref_text, "body too long");
      memcpy(ref_text, t, ref_len);
    } else {
      const char *t = lua_tolstring(L, -1, &ref_len);
      memcpy(ref_text, t, ref_len < sizeof ref_text ? ref_len : sizeof ref_text - 1);
    }
    lua_close(L);
  }
  for (mode = 1; mode <= 3; mode++) {
    for (k = 1;; k++) {
      alloc_state a = { 0, 0, 0, 0, 0 };
      lua_State *L = lua_newstate(counting_alloc, &a);
      int status, reached;
      lua_pushcfunction(L, build_body);
      lua_pushlightuserdata(L, (void *)bodies[which]);
      CHECK(lua_pcall(L, 1, 1, 0) == LUA_OK, "body %d", which);
      a.count = 0;
      a.fail_at = k;
      a.fail_count = mode - 1;
      status = run_encode(L, -1);
      reached = a.failed;
      a.fail_at = 0;
      runs++;
      if (status == LUA_OK) {
        size_t n;
        const char *t = lua_tolstring(L, -1, &n);
        normal++;
        CHECK(ref_ok && n == ref_len && memcmp(t, ref_text, n) == 0, "body %d mode %d k=%ld: other text",
              which, mode, k);
      } else if (status == LUA_ERRMEM) {
        memory_errors++;
      } else {
        size_t n;
        const char *t = lua_tolstring(L, -1, &n);
        normal++;
        CHECK(!ref_ok && n == ref_len && memcmp(t, ref_text, n) == 0,
              "body %d mode %d k=%ld: raised %s", which, mode, k, t);
      }
      lua_close(L);
      CHECK(a.in_use == 0, "body %d mode %d k=%ld: %zu bytes leaked", which, mode, k, a.in_use);
      if (!reached) break;
    }
  }
  printf("  encode body %d %21s %6ld runs (%s)\n", which, "", runs - before, ref_ok ? "a text" : "raises");
}

int main(int argc, char **argv) {
  int i;
  if (argc > 1 && strcmp(argv[1], "--encode") == 0) {
    for (i = 0; i < (int)(sizeof bodies / sizeof bodies[0]); i++) sweep_encode(i);
  } else {
    for (i = 1; i < argc; i++) {
      size_t len;
      char *text = read_file(argv[i], &len);
      const char *name = strrchr(argv[i], '/');
      sweep_decode(name ? name + 1 : argv[i], text, len);
      free(text);
    }
  }
  printf("alloc-json: %ld runs: %ld normal results, %ld memory errors, no wrong value, no leak\n",
         runs, normal, memory_errors);
  return 0;
}
