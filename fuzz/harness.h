/*
 * Shared by the fuzz targets and the allocation-failure harness: a Lua 5.4
 * state whose allocator counts (and can refuse), the decoder and encoder
 * called under lua_pcall, and the independent oracles:
 *
 * - rfc_validate: a strict RFC 8259 validator, written from the grammar and
 *   nothing else, that also measures the nesting depth. The decoder must
 *   accept exactly the texts it accepts (up to HC_MAX_DEPTH, and refusing
 *   lone surrogate escapes, the documented limits);
 * - model_push: a naive reference decoder that builds the value the README
 *   promises (numbers by strtod_l in the "C" locale, duplicate keys set in
 *   order, the customer normalisation restated from the README);
 * - same_value: deep equality, numbers by subtype and bits (-0.0 is not 0);
 * - utf8_valid: well-formed UTF-8 (RFC 3629: no overlongs, surrogates or
 *   code points past U+10FFFF), what the encoder must refuse otherwise.
 *
 * Everything here is test code: statics and aborts are fine.
 */
#ifndef HC_FUZZ_HARNESS_H
#define HC_FUZZ_HARNESS_H

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>

#include "../csrc/hc.h"

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "\nFUZZ ORACLE FAILED (%s:%d): %s\n  ", __FILE__,      \
              __LINE__, #cond);                                                \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* ---- well-formed UTF-8 (RFC 3629) ---------------------------------------- */

static inline int utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i], lo = 0x80, hi = 0xBF;
    size_t k, j;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xC2 && c <= 0xDF) k = 1;
    else if (c >= 0xE0 && c <= 0xEF) { k = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if (n - i - 1 < k) return 0;
    if (s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (j = 2; j <= k; j++)
      if ((s[i + j] & 0xC0) != 0x80) return 0;
    i += k + 1;
  }
  return 1;
}

/* ---- a counting allocator that can be told to fail ----------------------- */

typedef struct alloc_state {
  size_t in_use;        /* bytes currently allocated */
  long count;           /* allocations (and growing reallocations) so far */
  long fail_at;         /* refuse the allocation numbered fail_at (0: never) ... */
  long fail_count;      /* ... and the next fail_count - 1 (0: all from fail_at on) */
  int failed;           /* an allocation was refused */
} alloc_state;

static inline void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  alloc_state *a = (alloc_state *)ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    a->in_use -= old;
    return NULL;
  }
  if (nsize > old) {                      /* only growth can fail */
    a->count++;
    if (a->fail_at > 0 && a->count >= a->fail_at &&
        (a->fail_count == 0 || a->count < a->fail_at + a->fail_count)) {
      a->failed = 1;
      return NULL;
    }
  }
  {
    void *np = realloc(ptr, nsize);
    if (np == NULL) return NULL;
    a->in_use = a->in_use - old + nsize;
    return np;
  }
}

/* ---- calling the decoder and the encoder under pcall ---------------------- */

/* decode_cf(lightuserdata text, integer len, lightuserdata hints|nil):
 * the interned keys and then hc_decode's results. */
static inline int decode_cf(lua_State *L) {
  const char *s = (const char *)lua_touserdata(L, 1);
  size_t len = (size_t)lua_tointeger(L, 2);
  hc_decode_hints *hints = (hc_decode_hints *)lua_touserdata(L, 3);
  int keys;
  lua_settop(L, 0);
  hc_push_key_strings(L);
  keys = lua_gettop(L);
  return hc_decode(L, s, len, keys, hints);
}

/* Push decode's results: status (LUA_OK or an error) and 1 or 3 values, or
 * the error message. Returns the status; *nres the number of results. */
static inline int run_decode(lua_State *L, const char *s, size_t len, hc_decode_hints *hints, int *nres) {
  int top = lua_gettop(L), status;
  lua_pushcfunction(L, decode_cf);
  lua_pushlightuserdata(L, (void *)s);
  lua_pushinteger(L, (lua_Integer)len);
  if (hints) lua_pushlightuserdata(L, hints);
  else lua_pushnil(L);
  status = lua_pcall(L, 3, LUA_MULTRET, 0);
  *nres = lua_gettop(L) - top;
  return status;
}

static inline int encode_cf(lua_State *L) {
  lua_settop(L, 1);
  hc_encode(L, 1);
  return 1;
}

/* Encode the value at idx under pcall: pushes the text or the error. */
static inline int run_encode(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_pushcfunction(L, encode_cf);
  lua_pushvalue(L, idx);
  return lua_pcall(L, 1, 1, 0);
}

/* A memory error: Lua's own, or the decoder's "cannot grow the Lua stack". */
static inline int is_memory_error(lua_State *L, int status) {
  if (status == LUA_ERRMEM) return 1;
  if (status == LUA_ERRRUN && lua_type(L, -1) == LUA_TSTRING &&
      strstr(lua_tostring(L, -1), "cannot grow the Lua stack") != NULL)
    return 1;
  return 0;
}

/* ---- a strict RFC 8259 validator ------------------------------------------ */

typedef struct rfc {
  const unsigned char *s, *p, *end;
  int depth, maxdepth;
} rfc;

static inline void rfc_ws(rfc *v) {
  while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r')) v->p++;
}

static inline int rfc_hex4(rfc *v, unsigned *out) {
  unsigned x = 0;
  int i;
  for (i = 0; i < 4; i++) {
    int c;
    if (v->p >= v->end) return 0;
    c = *v->p;
    if (c >= '0' && c <= '9') x = x * 16 + (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') x = x * 16 + (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') x = x * 16 + (unsigned)(c - 'A' + 10);
    else return 0;
    v->p++;
  }
  *out = x;
  return 1;
}

static inline int rfc_string(rfc *v) {
  v->p++;                                   /* the opening quote */
  for (;;) {
    unsigned c;
    if (v->p >= v->end) return 0;
    c = *v->p;
    if (c == '"') { v->p++; return 1; }
    if (c < 0x20) return 0;
    if (c != '\\') { v->p++; continue; }    /* bytes >= 0x80: not validated (documented) */
    v->p++;
    if (v->p >= v->end) return 0;
    switch (*v->p) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        v->p++;
        break;
      case 'u': {
        unsigned cp, lo;
        v->p++;
        if (!rfc_hex4(v, &cp)) return 0;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return 0;            /* limit: lone low surrogate */
        if (cp >= 0xD800 && cp <= 0xDBFF) {                    /* limit: needs its low half */
          if (v->end - v->p < 2 || v->p[0] != '\\' || v->p[1] != 'u') return 0;
          v->p += 2;
          if (!rfc_hex4(v, &lo) || lo < 0xDC00 || lo > 0xDFFF) return 0;
        }
        break;
      }
      default:
        return 0;
    }
  }
}

static inline int rfc_digits(rfc *v) {
  const unsigned char *start = v->p;
  while (v->p < v->end && *v->p >= '0' && *v->p <= '9') v->p++;
  return v->p > start;
}

static inline int rfc_number(rfc *v) {
  if (*v->p == '-') v->p++;
  if (v->p >= v->end) return 0;
  if (*v->p == '0') v->p++;
  else if (*v->p >= '1' && *v->p <= '9') rfc_digits(v);
  else return 0;
  if (v->p < v->end && *v->p == '.') {
    v->p++;
    if (!rfc_digits(v)) return 0;
  }
  if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
    v->p++;
    if (v->p < v->end && (*v->p == '+' || *v->p == '-')) v->p++;
    if (!rfc_digits(v)) return 0;
  }
  return 1;
}

static inline int rfc_value(rfc *v);

static inline int rfc_literal(rfc *v, const char *word) {
  size_t n = strlen(word), i;
  for (i = 0; i < n; i++) {
    if (v->p >= v->end || *v->p != (unsigned char)word[i]) return 0;
    v->p++;
  }
  return 1;
}

static inline int rfc_container(rfc *v, int object) {
  int close = object ? '}' : ']';
  v->p++;
  if (++v->depth > v->maxdepth) v->maxdepth = v->depth;
  rfc_ws(v);
  if (v->p < v->end && *v->p == close) { v->p++; v->depth--; return 1; }
  for (;;) {
    if (object) {
      if (v->p >= v->end || *v->p != '"' || !rfc_string(v)) return 0;
      rfc_ws(v);
      if (v->p >= v->end || *v->p != ':') return 0;
      v->p++;
      rfc_ws(v);
    }
    if (!rfc_value(v)) return 0;
    rfc_ws(v);
    if (v->p >= v->end) return 0;
    if (*v->p == ',') { v->p++; rfc_ws(v); continue; }
    if (*v->p == close) { v->p++; v->depth--; return 1; }
    return 0;
  }
}

static inline int rfc_value(rfc *v) {
  if (v->p >= v->end) return 0;
  switch (*v->p) {
    case '{': return rfc_container(v, 1);
    case '[': return rfc_container(v, 0);
    case '"': return rfc_string(v);
    case 't': return rfc_literal(v, "true");
    case 'f': return rfc_literal(v, "false");
    case 'n': return rfc_literal(v, "null");
    default:
      if (*v->p == '-' || (*v->p >= '0' && *v->p <= '9')) return rfc_number(v);
      return 0;
  }
}

/* 1 when s[0..n) is one JSON text; else 0 and *where the 0-based offset at
 * which the text stopped being a prefix of one. *maxdepth: the nesting. */
static inline int rfc_validate(const char *s, size_t n, size_t *where, int *maxdepth) {
  rfc v;
  int ok;
  v.s = v.p = (const unsigned char *)s;
  v.end = v.s + n;
  v.depth = v.maxdepth = 0;
  rfc_ws(&v);
  ok = rfc_value(&v);
  if (ok) {
    rfc_ws(&v);
    ok = v.p == v.end;
  }
  *where = (size_t)(v.p - v.s);
  *maxdepth = v.maxdepth;
  return ok;
}

/* ---- the reference model: the value the README promises ------------------- */

static inline locale_t c_locale(void) {
  static locale_t c = (locale_t)0;
  if (c == (locale_t)0) c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  return c;
}

enum { M_ROOT, M_CUSTOMER, M_OTHER };

typedef struct model {
  lua_State *L;
  const unsigned char *p;   /* the text is valid: no bounds checks needed but the end */
} model;

static inline void m_ws(model *m) {
  while (*m->p == ' ' || *m->p == '\t' || *m->p == '\n' || *m->p == '\r') m->p++;
}

static inline unsigned m_hex4(const unsigned char *p) {
  unsigned x = 0;
  int i;
  for (i = 0; i < 4; i++) {
    int c = p[i];
    x = x * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return x;
}

/* The string at m->p (its quote), decoded, pushed. */
static inline void m_string(model *m) {
  luaL_Buffer b;
  luaL_buffinit(m->L, &b);
  m->p++;
  while (*m->p != '"') {
    if (*m->p != '\\') { luaL_addchar(&b, (char)*m->p++); continue; }
    m->p++;
    switch (*m->p++) {
      case '"': luaL_addchar(&b, '"'); break;
      case '\\': luaL_addchar(&b, '\\'); break;
      case '/': luaL_addchar(&b, '/'); break;
      case 'b': luaL_addchar(&b, '\b'); break;
      case 'f': luaL_addchar(&b, '\f'); break;
      case 'n': luaL_addchar(&b, '\n'); break;
      case 'r': luaL_addchar(&b, '\r'); break;
      case 't': luaL_addchar(&b, '\t'); break;
      default: {                             /* 'u' */
        unsigned cp = m_hex4(m->p);
        m->p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (m_hex4(m->p + 2) - 0xDC00);
          m->p += 6;
        }
        if (cp < 0x80) {
          luaL_addchar(&b, (char)cp);
        } else if (cp < 0x800) {
          luaL_addchar(&b, (char)(0xC0 | (cp >> 6)));
          luaL_addchar(&b, (char)(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          luaL_addchar(&b, (char)(0xE0 | (cp >> 12)));
          luaL_addchar(&b, (char)(0x80 | ((cp >> 6) & 0x3F)));
          luaL_addchar(&b, (char)(0x80 | (cp & 0x3F)));
        } else {
          luaL_addchar(&b, (char)(0xF0 | (cp >> 18)));
          luaL_addchar(&b, (char)(0x80 | ((cp >> 12) & 0x3F)));
          luaL_addchar(&b, (char)(0x80 | ((cp >> 6) & 0x3F)));
          luaL_addchar(&b, (char)(0x80 | (cp & 0x3F)));
        }
      }
    }
  }
  m->p++;
  luaL_pushresult(&b);
}

/* An integer text within int64, by the digits (not by the parser under test). */
static inline int m_int64(const char *t, size_t n, long long *out) {
  __int128 v = 0;
  size_t i = 0;
  int neg = 0;
  if (i < n && t[i] == '-') { neg = 1; i++; }
  if (i == n) return 0;
  for (; i < n; i++) {
    if (t[i] < '0' || t[i] > '9') return 0;
    v = v * 10 + (t[i] - '0');
    if (v > (__int128)INT64_MAX + 1) return 0;
  }
  if (neg) v = -v;
  if (v > INT64_MAX || v < INT64_MIN) return 0;
  *out = (long long)v;
  return 1;
}

static inline void m_number(model *m) {
  const unsigned char *s = m->p;
  char buf[4096], *copy = buf;
  size_t n;
  int integral = 1;
  long long iv;
  if (*m->p == '-') m->p++;
  while ((*m->p >= '0' && *m->p <= '9') || *m->p == '.' || *m->p == 'e' || *m->p == 'E' ||
         *m->p == '+' || *m->p == '-') {
    if (*m->p == '.' || *m->p == 'e' || *m->p == 'E') integral = 0;
    m->p++;
  }
  n = (size_t)(m->p - s);
  if (n + 1 > sizeof buf) copy = (char *)malloc(n + 1);
  memcpy(copy, s, n);
  copy[n] = '\0';
  if (integral && strcmp(copy, "-0") != 0 && m_int64(copy, n, &iv)) {
    lua_pushinteger(m->L, (lua_Integer)iv);
  } else {
    lua_pushnumber(m->L, strtod_l(copy, NULL, c_locale()));   /* correctly rounded, "C" */
  }
  if (copy != buf) free(copy);
}

static inline int m_value(model *m, int ctx);   /* pushes the value; 0 for null (pushes nothing) */

static inline int key_is(lua_State *L, int idx, const char *name) {
  size_t n;
  const char *k = lua_tolstring(L, idx, &n);
  return n == strlen(name) && memcmp(k, name, n) == 0;
}

/* customData as a list: a map when every element is a table whose
 * "property" is a string (each element's value under it, in order). */
static inline void m_customdata_list(lua_State *L) {
  int list = lua_gettop(L);
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, list);
  for (i = 1; i <= n; i++) {
    int ok;
    lua_rawgeti(L, list, i);
    ok = lua_istable(L, -1);
    if (ok) {
      lua_pushliteral(L, "property");
      lua_rawget(L, -2);
      ok = lua_type(L, -1) == LUA_TSTRING;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (!ok) return;
  }
  lua_newtable(L);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    lua_pushliteral(L, "property");
    lua_rawget(L, -2);
    lua_pushliteral(L, "value");
    lua_rawget(L, -3);
    lua_rawset(L, -4);
    lua_pop(L, 1);
  }
  lua_replace(L, list);
}

static inline void m_object(model *m, int ctx) {
  lua_State *L = m->L;
  int t;
  luaL_checkstack(L, 8, NULL);
  lua_newtable(L);
  t = lua_gettop(L);
  m->p++;
  m_ws(m);
  if (*m->p == '}') { m->p++; return; }
  for (;;) {
    int k, have;
    m_string(m);
    k = lua_gettop(L);
    m_ws(m);
    m->p++;                                   /* ':' */
    m_ws(m);
    if (ctx != M_OTHER && *m->p == '"' && (key_is(L, k, "firstSeen") || key_is(L, k, "lastSeen"))) {
      size_t n;
      const char *sv;
      long long iv;
      m_string(m);
      sv = lua_tolstring(L, -1, &n);
      /* digits with an optional '-' (leading zeros allowed) within int64 */
      if (n > 0 && m_int64(sv, n, &iv) && !(n == 1 && sv[0] == '-')) {
        lua_pop(L, 1);
        lua_pushinteger(L, (lua_Integer)iv);
      }
      have = 1;
    } else if (ctx != M_OTHER && (key_is(L, k, "customData") || key_is(L, k, "tags")) &&
               *m->p == 'n') {
      m->p += 4;
      lua_newtable(L);                        /* null customData/tags: {} */
      have = 1;
    } else if (ctx != M_OTHER && key_is(L, k, "customData") && *m->p == '[') {
      have = m_value(m, M_OTHER);
      m_customdata_list(L);
    } else if (ctx == M_ROOT && key_is(L, k, "data") && *m->p == '[') {
      have = m_value(m, M_ROOT);              /* a list whose elements are customers */
    } else {
      have = m_value(m, M_OTHER);
    }
    if (!have) lua_pushnil(L);                /* null: the key is absent (last wins) */
    lua_rawset(L, t);
    m_ws(m);
    if (*m->p == ',') { m->p++; m_ws(m); continue; }
    m->p++;                                   /* '}' */
    return;
  }
}

static inline void m_array(model *m, int ctx) {
  lua_State *L = m->L;
  int t;
  lua_Integer i = 0;
  luaL_checkstack(L, 8, NULL);
  lua_newtable(L);
  t = lua_gettop(L);
  m->p++;
  m_ws(m);
  if (*m->p == ']') { m->p++; return; }
  for (;;) {
    /* elements of the root list (or of the root's data) are customers */
    if (!m_value(m, ctx == M_ROOT ? M_CUSTOMER : M_OTHER)) lua_pushlightuserdata(L, NULL);
    lua_rawseti(L, t, ++i);
    m_ws(m);
    if (*m->p == ',') { m->p++; m_ws(m); continue; }
    m->p++;
    return;
  }
}

static inline int m_value(model *m, int ctx) {
  switch (*m->p) {
    case '{': m_object(m, ctx); return 1;
    case '[': m_array(m, ctx); return 1;
    case '"': m_string(m); return 1;
    case 't': m->p += 4; lua_pushboolean(m->L, 1); return 1;
    case 'f': m->p += 5; lua_pushboolean(m->L, 0); return 1;
    case 'n': m->p += 4; return 0;
    default: m_number(m); return 1;
  }
}

/* Push the value a valid text s[0..n) must decode to (the root null is the
 * null sentinel). The text must be NUL-terminated past n (see copy_text). */
static inline void model_push(lua_State *L, const char *s) {
  model m;
  m.L = L;
  m.p = (const unsigned char *)s;
  luaL_checkstack(L, 8, NULL);
  m_ws(&m);
  if (!m_value(&m, M_ROOT)) lua_pushlightuserdata(L, NULL);
}

/* ---- deep equality --------------------------------------------------------- */

/* loose: an integral float up to 2^53 equals the integer of its value (the
 * encoder writes 3.0 as 3). */
static inline int same_value(lua_State *L, int a, int b, int loose, int depth) {
  int t;
  a = lua_absindex(L, a);
  b = lua_absindex(L, b);
  t = lua_type(L, a);
  if (t != lua_type(L, b)) return 0;
  switch (t) {
    case LUA_TNUMBER: {
      int ia = lua_isinteger(L, a), ib = lua_isinteger(L, b);
      if (ia && ib) return lua_tointeger(L, a) == lua_tointeger(L, b);
      if (!ia && !ib) {
        double x = lua_tonumber(L, a), y = lua_tonumber(L, b);
        return memcmp(&x, &y, sizeof x) == 0;
      }
      if (loose) {
        double f = ia ? lua_tonumber(L, b) : lua_tonumber(L, a);
        lua_Integer i = ia ? lua_tointeger(L, a) : lua_tointeger(L, b);
        return f == floor(f) && fabs(f) <= 9007199254740992.0 && !(f == 0 && signbit(f)) &&
               (lua_Integer)f == i;
      }
      return 0;
    }
    case LUA_TSTRING: {
      size_t na, nb;
      const char *sa = lua_tolstring(L, a, &na), *sb = lua_tolstring(L, b, &nb);
      return na == nb && memcmp(sa, sb, na) == 0;
    }
    case LUA_TBOOLEAN: return lua_toboolean(L, a) == lua_toboolean(L, b);
    case LUA_TLIGHTUSERDATA: return lua_touserdata(L, a) == lua_touserdata(L, b);
    case LUA_TNIL: return 1;
    case LUA_TTABLE: {
      long na = 0, nb = 0;
      if (depth > 600) return 0;
      luaL_checkstack(L, 6, NULL);
      lua_pushnil(L);
      while (lua_next(L, a)) {
        int ok;
        na++;
        lua_pushvalue(L, -2);
        lua_rawget(L, b);
        ok = !lua_isnil(L, -1) && same_value(L, -2, -1, loose, depth + 1);
        lua_pop(L, 2);
        if (!ok) { lua_pop(L, 1); return 0; }
      }
      lua_pushnil(L);
      while (lua_next(L, b)) { nb++; lua_pop(L, 1); }
      return na == nb;
    }
    default:
      return lua_rawequal(L, a, b);
  }
}

/* A short printable form of a value, for failure reports. */
static inline void show_value(lua_State *L, int idx, FILE *f, int depth) {
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 4, NULL);
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) fprintf(f, "%lld", (long long)lua_tointeger(L, idx));
      else fprintf(f, "%.17gf", lua_tonumber(L, idx));
      break;
    case LUA_TSTRING: fprintf(f, "\"%s\"", lua_tostring(L, idx)); break;
    case LUA_TBOOLEAN: fprintf(f, lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TLIGHTUSERDATA: fprintf(f, "null"); break;
    case LUA_TTABLE:
      if (depth > 6) { fprintf(f, "{...}"); break; }
      fprintf(f, "{");
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        show_value(L, -2, f, depth + 1);
        fprintf(f, "=");
        show_value(L, -1, f, depth + 1);
        fprintf(f, ",");
        lua_pop(L, 1);
      }
      fprintf(f, "}");
      break;
    default: fprintf(f, "<%s>", luaL_typename(L, idx));
  }
}

#endif
