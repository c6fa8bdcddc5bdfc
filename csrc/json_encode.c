/*
 * JSON encoding of request bodies, exactly:
 * - integers stay integers at any size Lua holds (no 1.2345678901235e+16);
 *   integral floats up to 2^53 are written as integers too, -0.0 as -0;
 * - other floats in the shortest of 15..17 digits that reads back to the
 *   same double, with an exponent beyond 2^53 so they read back as floats
 *   (json_number.c; nothing depends on the locale); NaN and infinities are
 *   refused. On LuaJIT, whose numbers are all doubles, an integral number
 *   below 2^63 is written as the integer it is;
 * - an empty table is [] (mark one with a metatable {__jsontype="object"}
 *   for {}), a list must have no holes, a map only string keys;
 * - strings must be valid UTF-8 and are escaped as JSON requires;
 * - object keys are written sorted, so the same table is the same body;
 * - a body is a tree: a table met twice raises, as a cycle when it contains
 *   itself, else as a shared table (expanding it again could make a small
 *   value exponentially large).
 * Errors raise a message that names the field ("body.customData.plan").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"

#define MAX_ENCODE_DEPTH 64

typedef struct path {
  const struct path *up;
  const char *key;     /* a map key, or NULL for a list index */
  size_t keylen;
  lua_Integer index;
} path;

typedef struct enc {
  lua_State *L;
  int slot;            /* stack index of the buffer userdata */
  int seen;            /* stack index of {table = VISITING | DONE} */
  char *buf;
  size_t len, cap;
} enc;

static void grow(enc *e, size_t extra) {
  if (e->len + extra > e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 512;
    char *nb;
    while (cap < e->len + extra) cap *= 2;
    nb = (char *)lua_newuserdata(e->L, cap);
    if (e->len) memcpy(nb, e->buf, e->len);
    lua_replace(e->L, e->slot);
    e->buf = nb;
    e->cap = cap;
  }
}

static void put(enc *e, const char *s, size_t n) {
  grow(e, n);
  memcpy(e->buf + e->len, s, n);
  e->len += n;
}

static void putc_(enc *e, char c) {
  grow(e, 1);
  e->buf[e->len++] = c;
}

/* Raise "cannot encode request body: <what> at body.a.b[2]". */
static int enc_error(enc *e, const path *at, const char *what) {
  lua_State *L = e->L;
  const path *chain[MAX_ENCODE_DEPTH + 2];
  int n = 0, i;
  luaL_Buffer b;
  hc_need_stack(L, 4, e->slot);           /* the buffer's own slots */
  for (; at != NULL && n < MAX_ENCODE_DEPTH + 2; at = at->up) chain[n++] = at;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "helpcrunch: cannot encode request body: ");
  luaL_addstring(&b, what);
  luaL_addstring(&b, " at body");
  for (i = n - 1; i >= 0; i--) {
    if (chain[i]->key) {
      luaL_addchar(&b, '.');
      luaL_addlstring(&b, chain[i]->key, chain[i]->keylen > 64 ? 64 : chain[i]->keylen);
    } else {
      char num[24];
      luaL_addchar(&b, '[');
      luaL_addlstring(&b, num, hc_format_integer(num, (long long)chain[i]->index));
      luaL_addchar(&b, ']');
    }
  }
  luaL_pushresult(&b);
  return lua_error(L);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;            /* no UTF-16 surrogates */
    return (n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;            /* nothing above U+10FFFF */
    return (n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 &&
            (s[3] & 0xC0) == 0x80) ? 4 : 0;
  }
  return 0;
}

static void put_string(enc *e, const char *s, size_t n, const path *at) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s, *end = p + n;
  grow(e, n + 2);
  e->buf[e->len++] = '"';
  while (p < end) {
    const unsigned char *run = p;
    size_t k;
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
    put(e, (const char *)run, (size_t)(p - run));
    if (p >= end) break;
    if (*p >= 0x80) {
      k = utf8_len(p, (size_t)(end - p));
      if (k == 0) enc_error(e, at, "invalid UTF-8 in string");
      put(e, (const char *)p, k);
      p += k;
      continue;
    }
    switch (*p) {
      case '"': put(e, "\\\"", 2); break;
      case '\\': put(e, "\\\\", 2); break;
      case '\n': put(e, "\\n", 2); break;
      case '\r': put(e, "\\r", 2); break;
      case '\t': put(e, "\\t", 2); break;
      case '\b': put(e, "\\b", 2); break;
      case '\f': put(e, "\\f", 2); break;
      default: {
        char u[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
        put(e, u, 6);
      }
    }
    p++;
  }
  putc_(e, '"');
}

static void put_number(enc *e, int idx, const path *at) {
  char num[HC_NUMBER_BUF];
  lua_Number v;
  if (hc_isinteger(e->L, idx)) {
    put(e, num, hc_format_integer(num, (long long)lua_tointeger(e->L, idx)));
    return;
  }
  v = lua_tonumber(e->L, idx);
  if (v != v) enc_error(e, at, "NaN is not a JSON number");
  if (isinf(v)) enc_error(e, at, "infinity is not a JSON number");
#if !HC_HAVE_INTEGERS
  if (floor(v) == v && fabs(v) < 9223372036854775808.0 && v != 0) {
    put(e, num, hc_format_integer(num, (long long)v));
    return;
  }
#endif
  put(e, num, hc_format_double(num, (double)v));
}

static void put_value(enc *e, int idx, int depth, const path *at);

typedef struct keyref { const char *s; size_t n; } keyref;

static int keycmp(const void *a, const void *b) {
  const keyref *x = (const keyref *)a, *y = (const keyref *)b;
  int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
  return c ? c : (x->n > y->n) - (x->n < y->n);
}

static int marked_object(lua_State *L, int idx) {
  int is_obj = 0;
  if (lua_getmetatable(L, idx)) {
    lua_pushliteral(L, "__jsontype");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TSTRING) {     /* all of it: "object\0x" is not "object" */
      size_t n;
      const char *s = lua_tolstring(L, -1, &n);
      is_obj = n == 6 && memcmp(s, "object", 6) == 0;
    }
    lua_pop(L, 2);
  }
  return is_obj;
}

enum { VISITING = 1, DONE = 2 };

/* Mark the table at idx (VISITING or DONE) in e->seen; its old mark. */
static int mark(enc *e, int idx, int state) {
  lua_State *L = e->L;
  int old;
  lua_pushvalue(L, idx);
  lua_rawget(L, e->seen);
  old = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  lua_pushinteger(L, state);
  lua_rawset(L, e->seen);
  return old;
}

static void put_table(enc *e, int idx, int depth, const path *at) {
  lua_State *L = e->L;
  size_t nstr = 0, nint = 0;
  lua_Integer maxi = 0;
  int was;
  hc_need_stack(L, 6, e->slot);
  was = mark(e, idx, VISITING);
  if (was == VISITING) enc_error(e, at, "a cycle (a table that contains itself)");
  if (was == DONE) enc_error(e, at, "a shared table (the same table met twice; a body is a tree)");
  if (depth >= MAX_ENCODE_DEPTH) enc_error(e, at, "table nested too deeply");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int kt = lua_type(L, -2);
    lua_pop(L, 1);
    if (kt == LUA_TSTRING) {
      nstr++;
    } else if (kt == LUA_TNUMBER) {
      lua_Number k = lua_tonumber(L, -1);
      if (!(k >= 1 && floor(k) == k && k < 2147483647.0)) {
        lua_pop(L, 1);
        enc_error(e, at, "table has a key that is neither a string nor a list index");
      }
      nint++;
      if ((lua_Integer)k > maxi) maxi = (lua_Integer)k;
    } else {
      lua_pop(L, 1);
      enc_error(e, at, "table has a key that is neither a string nor a list index");
    }
  }
  if (nstr && nint) enc_error(e, at, "table mixes list items and named fields");
  if (nint && (size_t)maxi != nint) enc_error(e, at, "list has holes (nil items)");
  if (nstr || (nint == 0 && marked_object(L, idx))) {
    keyref *keys;
    size_t i = 0;
    /* Key pointers stay valid: the table holds its keys while we encode. */
    keys = (keyref *)lua_newuserdata(L, nstr * sizeof(keyref) + 1);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      lua_pop(L, 1);
      keys[i].s = lua_tolstring(L, -1, &keys[i].n);
      i++;
    }
    qsort(keys, nstr, sizeof(keyref), keycmp);
    putc_(e, '{');
    for (i = 0; i < nstr; i++) {
      path here = { at, keys[i].s, keys[i].n, 0 };
      if (i) putc_(e, ',');
      put_string(e, keys[i].s, keys[i].n, &here);
      putc_(e, ':');
      lua_pushlstring(L, keys[i].s, keys[i].n);
      lua_rawget(L, idx);
      put_value(e, lua_gettop(L), depth + 1, &here);
      lua_pop(L, 1);
    }
    putc_(e, '}');
    lua_pop(L, 1);
  } else {
    lua_Integer i;
    putc_(e, '[');
    for (i = 1; i <= maxi; i++) {
      path here = { at, NULL, 0, i };
      if (i > 1) putc_(e, ',');
      lua_rawgeti(L, idx, (int)i);
      put_value(e, lua_gettop(L), depth + 1, &here);
      lua_pop(L, 1);
    }
    putc_(e, ']');
  }
  mark(e, idx, DONE);
}

static void put_value(enc *e, int idx, int depth, const path *at) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: put(e, "null", 4); break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) put(e, "true", 4);
      else put(e, "false", 5);
      break;
    case LUA_TNUMBER: put_number(e, idx, at); break;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      put_string(e, s, n, at);
      break;
    }
    case LUA_TTABLE: put_table(e, idx, depth, at); break;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == HC_NULL_SENTINEL) { put(e, "null", 4); break; }
      /* fall through */
    default: {
      char what[64];
      snprintf(what, sizeof what, "a %s value", luaL_typename(L, idx));
      enc_error(e, at, what);
    }
  }
}

void hc_encode(lua_State *L, int idx) {
  enc e;
  idx = hc_absindex(L, idx);
  lua_pushnil(L);
  lua_newtable(L);
  e.L = L;
  e.slot = lua_gettop(L) - 1;
  e.seen = e.slot + 1;
  e.buf = NULL;
  e.len = e.cap = 0;
  put_value(&e, idx, 0, NULL);
  lua_pushlstring(L, e.buf, e.len);
  lua_replace(L, e.slot);
  lua_pop(L, 1);
}
