/*
 * libFuzzer target: the encoder (hc_encode) on Lua values built from the
 * input by a small stack machine (numbers from raw bits, strings that may
 * not be UTF-8, tables with holes, mixed keys, bad keys, shared tables,
 * cycles, __jsontype markers, functions), under ASan and UBSan.
 *
 * Oracles, beyond "no crash, no leak":
 * 1. it encodes exactly the values a model of the README's rules says it
 *    can (finite numbers, UTF-8 strings, tables that are lists without holes
 *    or maps of string keys, a tree of at most 64 levels); otherwise it
 *    raises "cannot encode request body: ..." naming one of the problems the
 *    model found;
 * 2. what it writes is valid JSON (the strict validator in harness.h);
 * 3. decoding it gives the value back: numbers by subtype and bits, except
 *    integral floats up to 2^53, which the encoder writes as integers, and a
 *    null map value, which the decoder drops;
 * 4. encoding that decoded value again gives the same text.
 */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
  P_NAN = 1, P_INF = 2, P_UTF8 = 4, P_CYCLE = 8, P_SHARED = 16, P_DEEP = 32,
  P_HOLES = 64, P_MIXED = 128, P_KEY = 256, P_TYPE = 512
};

static const struct { int bit; const char *text; } problems[] = {
  { P_NAN, "NaN" }, { P_INF, "infinity" }, { P_UTF8, "invalid UTF-8" }, { P_CYCLE, "a cycle" },
  { P_SHARED, "a shared table" }, { P_DEEP, "nested too deeply" }, { P_HOLES, "list has holes" },
  { P_MIXED, "mixes list items and named fields" }, { P_KEY, "neither a string nor a list index" },
  { P_TYPE, "value" }, { 0, NULL }
};

typedef struct walk {
  lua_State *L;
  int seen;        /* stack index of {table = 1 (on the path) | 2 (done)} */
  int problems;
  int marked;      /* a __jsontype marker or a null map value: text not stable */
} walk;

/* The model: every reason the encoder must refuse the value at idx. */
static void check_value(walk *w, int idx, int depth) {
  lua_State *L = w->L;
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 8, NULL);
  switch (lua_type(L, idx)) {
    case LUA_TNIL: case LUA_TBOOLEAN: return;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) != NULL) w->problems |= P_TYPE;
      return;
    case LUA_TNUMBER:
      if (!lua_isinteger(L, idx)) {
        double v = lua_tonumber(L, idx);
        if (v != v) w->problems |= P_NAN;
        else if (isinf(v)) w->problems |= P_INF;
      }
      return;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      if (!utf8_valid((const unsigned char *)s, n)) w->problems |= P_UTF8;
      return;
    }
    case LUA_TTABLE: {
      long nstr = 0, nint = 0;
      lua_Integer maxi = 0;
      int state;
      lua_pushvalue(L, idx);
      lua_rawget(L, w->seen);
      state = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
      if (state == 1) { w->problems |= P_CYCLE; return; }
      if (state == 2) { w->problems |= P_SHARED; return; }
      if (depth >= 64) { w->problems |= P_DEEP; return; }
      lua_pushvalue(L, idx);
      lua_pushinteger(L, 1);
      lua_rawset(L, w->seen);
      if (lua_getmetatable(L, idx)) { w->marked = 1; lua_pop(L, 1); }
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
          nstr++;
          check_value(w, -2, depth + 1);
          if (lua_touserdata(L, -1) == NULL && lua_type(L, -1) == LUA_TLIGHTUSERDATA) w->marked = 1;
        } else if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
                   lua_tointeger(L, -2) < 2147483647) {
          nint++;
          if (lua_tointeger(L, -2) > maxi) maxi = lua_tointeger(L, -2);
        } else {
          w->problems |= P_KEY;
        }
        check_value(w, -1, depth + 1);
        lua_pop(L, 1);
      }
      if (nstr && nint) w->problems |= P_MIXED;
      if (nint && maxi != nint) w->problems |= P_HOLES;
      lua_pushvalue(L, idx);
      lua_pushinteger(L, 2);
      lua_rawset(L, w->seen);
      return;
    }
    default:
      w->problems |= P_TYPE;
  }
}

/* The value decoding must give back: maps lose their null values. */
static void push_expected(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 8, NULL);
  if (lua_type(L, idx) == LUA_TNIL) { lua_pushlightuserdata(L, NULL); return; }
  if (lua_type(L, idx) != LUA_TTABLE) { lua_pushvalue(L, idx); return; }
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TLIGHTUSERDATA) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -2);
    push_expected(L, -2);
    lua_rawset(L, -5);
    lua_pop(L, 1);
  }
}

/* Keys the decoder normalises (firstSeen, customData, ...) are left out, so
 * that decoding gives plain values back. */
static const char *const key_set[] = {
  "a", "b", "name", "id", "email", "k\"q", "back\\slash", "\xc3\xa9", "", "line\nbreak",
  "\xf0\x9f\x98\x80", "total", "x y", "\x01", "\xff", "1", "value", "property"
};
static const char *const string_set[] = {
  "", "a", "\"", "\\", "/", "\n\r\t\b\f", "\x01\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
  "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "null", "1e5"
};

static int normalised_key(const char *s, size_t n) {
  static const char *const names[] = { "firstSeen", "lastSeen", "customData", "tags", "data", NULL };
  int i;
  for (i = 0; names[i]; i++)
    if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) return 1;
  return 0;
}

typedef struct reader { const uint8_t *p, *end; } reader;

static unsigned byte(reader *r) { return r->p < r->end ? *r->p++ : 0; }

static uint64_t bytes8(reader *r) {
  uint64_t v = 0;
  int i;
  for (i = 0; i < 8; i++) v = (v << 8) | byte(r);
  return v;
}

static int nothing(lua_State *L) { (void)L; return 0; }

/* Run the stack machine; leaves the value to encode on top. */
static void build(lua_State *L, reader *r) {
  int base = lua_gettop(L), ops = 0;
  luaL_checkstack(L, 80, NULL);
  while (r->p < r->end && ops++ < 400) {
    unsigned op = byte(r) % 16;
    int n = lua_gettop(L) - base;
    if (n >= 60 && (op < 8 || op == 11 || op == 14)) op = 8 + op % 3;  /* a full stack only combines */
    switch (op) {
      case 0: lua_pushinteger(L, (lua_Integer)bytes8(r)); break;
      case 1: {
        uint64_t bits = bytes8(r);
        double v;
        memcpy(&v, &bits, sizeof v);
        lua_pushnumber(L, v);
        break;
      }
      case 2: {                                 /* floats near the interesting places */
        static const double nice[] = { 0.0, -0.0, 0.5, 1.5, 3.0, 1e15, 9007199254740992.0,
          9007199254740994.0, 18014398509481984.0, 1e16, 1e17, 1e21, 1e300, 5e-324, 0.1, 1e-7,
          123456.789, 2.5e-5, 9223372036854775808.0, -1e308, 1.0 / 3 };
        double v = nice[byte(r) % (sizeof nice / sizeof nice[0])];
        int e = (int)(byte(r) % 16) - 8;
        lua_pushnumber(L, ldexp(v, e));
        break;
      }
      case 3: {
        size_t len = byte(r) % 24, i;
        char buf[24];
        for (i = 0; i < len; i++) buf[i] = (char)byte(r);
        lua_pushlstring(L, buf, len);
        break;
      }
      case 4: lua_pushstring(L, string_set[byte(r) % (sizeof string_set / sizeof string_set[0])]); break;
      case 5: lua_pushboolean(L, (int)(byte(r) & 1)); break;
      case 6: lua_pushlightuserdata(L, NULL); break;
      case 7: lua_newtable(L); break;
      case 8:                                   /* append: t[#t + 1] = v */
        if (n >= 2 && lua_istable(L, -2)) {
          lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        }
        break;
      case 9:                                   /* t[key] = v */
        if (n >= 2 && lua_istable(L, -2)) {
          unsigned k = byte(r);
          if (k < 200) {
            lua_pushstring(L, key_set[k % (sizeof key_set / sizeof key_set[0])]);
          } else {
            char kb[6];
            size_t kn = k % 6, i;
            for (i = 0; i < kn; i++) kb[i] = (char)byte(r);
            if (normalised_key(kb, kn)) kn = 0;
            lua_pushlstring(L, kb, kn);
          }
          lua_insert(L, -2);
          lua_rawset(L, -3);
        }
        break;
      case 10:                                  /* t[odd key] = v */
        if (n >= 2 && lua_istable(L, -2)) {
          static const double odd[] = { 0, -1, 1, 2, 3, 5, 1.5, 2147483647.0, 4294967296.0 };
          unsigned k = byte(r) % (sizeof odd / sizeof odd[0]);
          if (k == 2 || k == 3 || k == 4) lua_pushinteger(L, (lua_Integer)odd[k]);
          else lua_pushnumber(L, odd[k]);
          lua_insert(L, -2);
          lua_rawset(L, -3);
        }
        break;
      case 11: if (n >= 1) lua_pushvalue(L, -1); break;        /* the same value twice */
      case 12:                                  /* a cycle */
        if (n >= 1 && lua_istable(L, -1)) {
          lua_pushvalue(L, -1);
          lua_setfield(L, -2, "self");
        }
        break;
      case 13:                                  /* a __jsontype marker */
        if (n >= 1 && lua_istable(L, -1)) {
          static const char *const marks[] = { "object", "array", "object\0x", "objects" };
          unsigned m = byte(r) % 4;
          lua_newtable(L);
          lua_pushlstring(L, marks[m], m == 2 ? 8 : strlen(marks[m]));
          lua_setfield(L, -2, "__jsontype");
          lua_setmetatable(L, -2);
        }
        break;
      case 14:
        if (byte(r) % 8 == 0) lua_pushcfunction(L, nothing);
        else lua_pushnil(L);
        break;
      default:
        if (n >= 2) lua_rotate(L, -2, 1);
        else if (n == 1) lua_pop(L, 1);
    }
  }
  if (lua_gettop(L) == base) lua_pushnil(L);
  lua_replace(L, base + 1);
  lua_settop(L, base + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  alloc_state a = { 0, 0, 0, 0, 0 };
  lua_State *L = lua_newstate(counting_alloc, &a);
  reader r;
  walk w;
  int value, status, i;
  if (L == NULL) abort();
  r.p = data;
  r.end = data + size;
  build(L, &r);
  value = lua_gettop(L);

  lua_newtable(L);
  w.L = L;
  w.seen = lua_gettop(L);
  w.problems = 0;
  w.marked = 0;
  check_value(&w, value, 0);
  lua_pop(L, 1);

  status = run_encode(L, value);
  if (w.problems) {
    const char *msg;
    int named = 0;
    CHECK(status != LUA_OK, "encoded a value with problems 0x%x: %s", w.problems, lua_tostring(L, -1));
    msg = lua_tostring(L, -1);
    CHECK(msg && strncmp(msg, "helpcrunch: cannot encode request body: ", 40) == 0, "message: %s", msg);
    for (i = 0; problems[i].text; i++)
      if ((w.problems & problems[i].bit) && strstr(msg, problems[i].text)) named = 1;
    CHECK(named, "problems 0x%x, but: %s", w.problems, msg);
  } else {
    size_t n, where;
    int depth, nres;
    const char *text;
    CHECK(status == LUA_OK, "refused an encodable value: %s", lua_tostring(L, -1));
    text = lua_tolstring(L, -1, &n);
    CHECK(rfc_validate(text, n, &where, &depth), "invalid JSON at byte %zu: %s", where + 1, text);
    status = run_decode(L, text, n, NULL, &nres);
    CHECK(status == LUA_OK && nres == 1, "its own output refused: %s", text);
    push_expected(L, value);
    if (!same_value(L, -2, -1, 1, 0)) {
      fprintf(stderr, "text: %s\nexpected: ", text);
      show_value(L, -1, stderr, 0);
      fprintf(stderr, "\ndecoded:  ");
      show_value(L, -2, stderr, 0);
      fprintf(stderr, "\n");
      CHECK(0, "decode(encode(v)) is not v");
    }
    lua_pop(L, 1);
    if (!w.marked) {
      status = run_encode(L, -1);
      CHECK(status == LUA_OK, "re-encoding failed: %s", lua_tostring(L, -1));
      CHECK(strcmp(lua_tostring(L, -1), text) == 0, "not stable: %s then %s", text, lua_tostring(L, -1));
    }
  }
  lua_close(L);
  CHECK(a.in_use == 0, "%zu bytes leaked", a.in_use);
  return 0;
}
