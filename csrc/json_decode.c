/*
 * JSON decoding: one pass from the bytes to normalised Lua tables.
 *
 * - Known keys are pushed from the interned key table (no hashing of bytes).
 * - Strings without escapes are pushed straight from the buffer; the scan
 *   looks at 8 bytes at a time.
 * - Integers are parsed without strtod and stay Lua integers on 5.3+.
 * - Tables are pre-sized from what the key says they hold.
 * - Customer objects (the root, the root's "data" list, elements of a root
 *   list) are normalised in the same pass: null -> absent, string timestamps
 *   -> integers, customData list -> map, null tags/customData -> {}.
 *
 * - A duplicate key: the last pair wins wherever it sits (a last null removes
 *   the key), as lua-cjson, Python and JavaScript decide.
 * - Numbers never go through strtod: no LC_NUMERIC can change them.
 *
 * Errors never longjmp out of the parser: each function returns a status and
 * the top level turns it into nil, message, offset. The only raises left are
 * memory errors from the Lua API and a Lua stack that cannot grow, and the
 * scratch buffer is a userdata on the stack, so even they leak nothing.
 */
#include <stdint.h>
#include <string.h>

#include "hc.h"

/* Entries read onto the Lua stack before their table is made (see read_array). */
#define STACK_CHUNK 48

/* Stack slots (lua_gettop of the decoder's C frame) past which a container
 * keeps fewer entries on the stack, down to one, so that HC_MAX_DEPTH levels
 * always fit: Lua 5.1 and LuaJIT allow a C function 8000 slots
 * (LUAI_MAXCSTACK), Lua 5.2+ a million in all. A level holding one entry uses
 * two slots (its table and a key) while its child is read. */
#if LUA_VERSION_NUM == 501
#define STACK_LIMIT (8000 - 2 * HC_MAX_DEPTH - 100)
#else
#define STACK_LIMIT 200000
#endif

#if STACK_LIMIT < 4 * STACK_CHUNK
#error "HC_MAX_DEPTH leaves no room on the Lua stack"
#endif

enum ctx { CTX_ROOT, CTX_CUSTOMER, CTX_OTHER };
enum { R_ERROR = -1, R_NULL = 0, R_VALUE = 1 };

typedef struct dec {
  lua_State *L;
  const char *start, *p, *end;
  int base;          /* the stack top when decoding began */
  int keys;          /* stack index of the first interned key string */
  int scratch;       /* stack index of the scratch slot (nil or userdata) */
  char *buf;
  size_t cap;
  const char *err;
  const char *err_at;
  hc_decode_hints *hints;
} dec;

static int fail(dec *d, const char *msg, const char *at) {
  d->err = msg;
  d->err_at = at;
  return R_ERROR;
}

static inline void skip_ws(dec *d) {
  const char *p = d->p, *end = d->end;
  if (p < end && (unsigned char)*p > ' ') return;   /* compact JSON: nothing to skip */
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  d->p = p;
}

/* Grow the scratch buffer to at least n bytes, keeping `used` of them. */
static char *grow_scratch(dec *d, size_t used, size_t n) {
  size_t cap = d->cap ? d->cap : 256;
  char *nb;
  while (cap < n) cap *= 2;
  nb = (char *)lua_newuserdata(d->L, cap);
  if (used) memcpy(nb, d->buf, used);
  lua_replace(d->L, d->scratch);
  d->buf = nb;
  d->cap = cap;
  return nb;
}

static inline char *reserve(dec *d, size_t used, size_t n) {
  return n <= d->cap ? d->buf : grow_scratch(d, used, n);
}

/* ---- strings ------------------------------------------------------------ */

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#define HAS_ZERO(x) (((x) - ONES) & ~(x) & HIGHS)

/* Skip bytes that need no attention: not '"', not '\\', not a control char. */
static inline const char *scan_plain(const char *p, const char *end) {
  while (end - p >= 8) {
    uint64_t w, hit;
    memcpy(&w, p, 8);
    hit = HAS_ZERO(w ^ (ONES * '"')) | HAS_ZERO(w ^ (ONES * '\\')) |
          (((w - ONES * 0x20) & ~w) & HIGHS);
    /* The lowest flagged byte is exact (borrows only run upwards); this
     * relies on a little-endian load, checked in hc.h. */
    if (hit) return p + (__builtin_ctzll(hit) >> 3);
    p += 8;
  }
  while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
  return p;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int read_hex4(const char *p, const char *end, unsigned *out) {
  int i;
  unsigned v = 0;
  if (end - p < 4) return 0;
  for (i = 0; i < 4; i++) {
    int h = hexval((unsigned char)p[i]);
    if (h < 0) return 0;
    v = (v << 4) | (unsigned)h;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) { o[0] = (char)cp; return 1; }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/*
 * Read the string whose opening quote is at d->p. On success s and len hold
 * its bytes: a slice of the input when it has no escapes, else the scratch
 * buffer (valid until the next string is read).
 */
static int read_string(dec *d, const char **s, size_t *len) {
  const char *open = d->p, *p = d->p + 1, *end = d->end, *run;
  size_t used;
  p = scan_plain(p, end);
  if (p < end && *p == '"') {
    *s = open + 1;
    *len = (size_t)(p - open - 1);
    d->p = p + 1;
    return 1;
  }
  /* Slow path: copy into the scratch buffer, decoding escapes. */
  used = (size_t)(p - open - 1);
  reserve(d, 0, used + 16);
  memcpy(d->buf, open + 1, used);
  for (;;) {
    if (p >= end) return fail(d, "unterminated string", open);
    if (*p == '"') break;
    if ((unsigned char)*p < 0x20) return fail(d, "control character in string", p);
    if (*p == '\\') {
      unsigned cp;
      char *o;
      if (p + 1 >= end) return fail(d, "unterminated string", open);
      o = reserve(d, used, used + 4) + used;
      switch (p[1]) {
        case '"': *o = '"'; break;
        case '\\': *o = '\\'; break;
        case '/': *o = '/'; break;
        case 'b': *o = '\b'; break;
        case 'f': *o = '\f'; break;
        case 'n': *o = '\n'; break;
        case 'r': *o = '\r'; break;
        case 't': *o = '\t'; break;
        case 'u':
          if (!read_hex4(p + 2, end, &cp)) return fail(d, "invalid \\u escape", p);
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(d, "lone low surrogate", p);
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !read_hex4(p + 8, end, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
              return fail(d, "lone high surrogate", p);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          }
          used += put_utf8(o, cp);
          p += 6;
          continue;
        default:
          return fail(d, "invalid escape", p);
      }
      used++;
      p += 2;
      continue;
    }
    run = scan_plain(p, end);
    reserve(d, used, used + (size_t)(run - p));
    memcpy(d->buf + used, p, (size_t)(run - p));
    used += (size_t)(run - p);
    p = run;
  }
  *s = d->buf;
  *len = used;
  d->p = p + 1;
  return 1;
}

/* ---- numbers ------------------------------------------------------------ */

static const double pow10_exact[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)

/* Integers of up to 19 digits and decimals of up to 15 are exact here (an
 * integer conversion or one IEEE operation on exact operands); the rest go
 * to hc_number_parse. -0 is the float -0.0 on every Lua, as lua-cjson. */
static int read_number(dec *d) {
  const char *s = d->p, *p = d->p, *end = d->end;
  uint64_t m = 0;
  int digits = 0, dropped = 0, is_float = 0, neg = 0;
  long long exp10 = 0;
  if (*p == '-') { neg = 1; p++; }
  if (p >= end || !IS_DIGIT(*p)) return fail(d, "invalid number", s);
  if (*p == '0') {
    p++;
    if (p < end && IS_DIGIT(*p)) return fail(d, "leading zero in number", s);
  } else {
    for (; p < end && IS_DIGIT(*p); p++) {
      if (digits < 19) { m = m * 10 + (uint64_t)(*p - '0'); digits++; }
      else dropped = 1;
    }
  }
  if (p < end && *p == '.') {
    is_float = 1;
    p++;
    if (p >= end || !IS_DIGIT(*p)) return fail(d, "invalid number", s);
    for (; p < end && IS_DIGIT(*p); p++) {
      if (m == 0 && *p == '0') { exp10--; continue; }   /* leading zeros cost no digit */
      if (digits < 19) { m = m * 10 + (uint64_t)(*p - '0'); digits++; exp10--; }
      else dropped = 1;                      /* more than 19 digits: the slow path */
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    int eneg = 0;
    long long e = 0;
    is_float = 1;
    p++;
    if (p < end && (*p == '+' || *p == '-')) eneg = (*p++ == '-');
    if (p >= end || !IS_DIGIT(*p)) return fail(d, "invalid number", s);
    for (; p < end && IS_DIGIT(*p); p++) {
      if (e < 100000) e = e * 10 + (*p - '0');
      else dropped = 1;                      /* a huge exponent: the slow path */
    }
    exp10 += eneg ? -e : e;
  }
  d->p = p;
  if (!is_float && !dropped) {
#if HC_HAVE_INTEGERS
    if (!neg && m <= (uint64_t)INT64_MAX) {
      lua_pushinteger(d->L, (lua_Integer)m);
      return R_VALUE;
    }
    if (neg && m != 0 && m <= (uint64_t)INT64_MAX + 1) {
      lua_pushinteger(d->L, (lua_Integer)(0 - m));
      return R_VALUE;
    }
#endif
    /* beyond int64, or no integers: the nearest double (a uint64_t
     * conversion rounds to nearest, ties to even) */
    lua_pushnumber(d->L, neg ? -(lua_Number)m : (lua_Number)m);
    return R_VALUE;
  }
  if (!dropped && m <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
    double v = exp10 < 0 ? (double)m / pow10_exact[-exp10] : (double)m * pow10_exact[exp10];
    lua_pushnumber(d->L, (lua_Number)(neg ? -v : v));
    return R_VALUE;
  }
  lua_pushnumber(d->L, (lua_Number)hc_number_parse(s, (size_t)(p - s)));
  return R_VALUE;
}

/* ---- values ------------------------------------------------------------- */

static int read_value(dec *d, int ctx, int depth);

static int literal(dec *d, const char *word, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0)
    return fail(d, "invalid literal", d->p);
  d->p += n;
  return 1;
}

/* A container at this depth may start: the entries it may keep on the stack
 * before making its table (STACK_CHUNK, fewer past STACK_LIMIT), with room
 * for them and the nested calls' own few slots checked once, not per entry.
 * A Lua stack that cannot grow (out of memory, or a caller that already
 * filled it) raises: it says nothing about the document. */
static int enter(dec *d, int depth, int *chunk) {
  int room;
  if (depth >= HC_MAX_DEPTH) return fail(d, "nested too deeply", d->p);
  room = (STACK_LIMIT - lua_gettop(d->L)) / 2;
  *chunk = room >= STACK_CHUNK ? STACK_CHUNK : room > 1 ? room : 1;
  hc_need_stack(d->L, 2 * *chunk + 8, d->base);
  return 1;
}

/* Arrays and objects are read onto the Lua stack first and the table is
 * made at its exact size afterwards, so no table is ever rehashed while it
 * grows. Past `chunk` entries the table is made and filled as we go. */
static void flush_items(lua_State *L, int base, int n, int first) {
  int i;
  for (i = n; i >= 1; i--) lua_rawseti(L, base, first + i - 1);
}

/* Move the n key/value pairs above base into the table at base. Popping
 * them from the top sets the last pair first, which is right when no key
 * repeats; `in_order` (a key may repeat) sets them first to last, so the
 * last pair wins and a (key, nil) pair removes what an earlier one set. */
static void flush_pairs(lua_State *L, int base, int n, int in_order) {
  int i;
  if (!in_order) {
    for (i = 0; i < n; i++) lua_rawset(L, base);
  } else {
    int first = lua_gettop(L) - 2 * n + 1;
    for (i = 0; i < n; i++) {
      lua_pushvalue(L, first + 2 * i);
      lua_pushvalue(L, first + 2 * i + 1);
      lua_rawset(L, base);
    }
    lua_settop(L, first - 1);
  }
}

static int read_array(dec *d, int elem_ctx, int depth, int narr) {
  lua_State *L = d->L;
  int n = 0, total = 0, base = 0, chunk;
  if (enter(d, depth, &chunk) < 0) return R_ERROR;
  d->p++;
  skip_ws(d);
  if (d->p < d->end && *d->p == ']') {
    d->p++;
    lua_createtable(L, 0, 0);
    return R_VALUE;
  }
  for (;;) {
    int r;
    if (n == chunk) {                      /* a long list: make the table now */
      if (!base) {
        lua_createtable(L, narr > 2 * STACK_CHUNK ? narr : 2 * STACK_CHUNK, 0);
        lua_insert(L, -n - 1);
        base = lua_gettop(L) - n;
      }
      flush_items(L, base, n, total - n + 1);
      n = 0;
    }
    if (total == INT32_MAX) return fail(d, "array too long", d->p);
    r = read_value(d, elem_ctx, depth + 1);
    if (r == R_ERROR) return R_ERROR;
    if (r == R_NULL) lua_pushlightuserdata(L, HC_NULL_SENTINEL);
    n++;
    total++;
    skip_ws(d);
    if (d->p >= d->end) return fail(d, "unexpected end of input in array", d->p);
    if (*d->p == ',') { d->p++; skip_ws(d); continue; }
    if (*d->p == ']') { d->p++; break; }
    return fail(d, "expected ',' or ']' in array", d->p);
  }
  if (!base) {
    lua_createtable(L, n, 0);
    lua_insert(L, -n - 1);
    base = lua_gettop(L) - n;
  }
  flush_items(L, base, n, total - n + 1);
  return R_VALUE;
}

/* The value of a known key of a customer (or the root), normalised. */
static int read_customer_field(dec *d, int ctx, const hc_key *k, int depth) {
  lua_State *L = d->L;
  char c = *d->p;
  switch (k->role) {
    case HC_ROLE_TIMESTAMP:
      if (c == '"') {
        const char *s;
        size_t len;
        long long v;
        if (read_string(d, &s, &len) < 0) return R_ERROR;
        if (hc_parse_int_string(s, len, &v)) {
#if HC_HAVE_INTEGERS
          lua_pushinteger(L, (lua_Integer)v);
#else
          lua_pushnumber(L, (lua_Number)v);
#endif
        } else {
          lua_pushlstring(L, s, len);    /* not a timestamp: keep it as sent */
        }
        return R_VALUE;
      }
      break;
    case HC_ROLE_CUSTOMDATA:
      if (c == 'n') {
        if (literal(d, "null", 4) < 0) return R_ERROR;
        lua_createtable(L, 0, 0);
        return R_VALUE;
      }
      if (c == '[') {
        if (read_array(d, CTX_OTHER, depth + 1, 0) < 0) return R_ERROR;
        hc_customdata_list_to_map(L);
        return R_VALUE;
      }
      break;
    case HC_ROLE_TAGS:
      if (c == 'n') {
        if (literal(d, "null", 4) < 0) return R_ERROR;
        lua_createtable(L, 0, 0);
        return R_VALUE;
      }
      break;
    case HC_ROLE_DATA:
      if (ctx == CTX_ROOT && c == '[') {
        int narr = d->hints ? d->hints->data_len : 0;
        if (read_array(d, CTX_CUSTOMER, depth + 1, narr) < 0) return R_ERROR;
        if (d->hints) d->hints->data_len = (int)hc_rawlen(L, -1);
        return R_VALUE;
      }
      break;
    default:
      break;
  }
  return read_value(d, CTX_OTHER, depth + 1);
}

/* A cheap hash of a key the decoder does not know, for the "seen" filter. */
#define OTHER_KEY_BIT(s, n) \
  (((unsigned)(n) * 31u + (unsigned char)(s)[0] * 7u + (unsigned char)(s)[(n) - 1]) & 127u)

static int read_object(dec *d, int ctx, int depth) {
  lua_State *L = d->L;
  int normalise = ctx != CTX_OTHER;
  int n = 0, base = 0, chunk, in_order = 0;
  /* Keys met so far, to tell when a key may repeat: known keys exactly (a
   * bit each), others through a 128-bit filter (a false alarm only costs an
   * in-order flush). */
  uint64_t known = 0, other[2] = { 0, 0 };
  if (enter(d, depth, &chunk) < 0) return R_ERROR;
  d->p++;
  skip_ws(d);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
    lua_createtable(L, 0, 0);
    return R_VALUE;
  }
  for (;;) {
    const char *ks;
    size_t klen;
    int ki, r, seen;
    uint64_t *word, bit;
    if (n == chunk) {                      /* a big object: make the table now */
      if (!base) {
        lua_createtable(L, 0, 2 * STACK_CHUNK);
        lua_insert(L, -2 * n - 1);
        base = lua_gettop(L) - 2 * n;
      }
      flush_pairs(L, base, n, in_order);
      n = 0;
      in_order = 0;                        /* later chunks are set after this one */
    }
    if (d->p >= d->end || *d->p != '"') return fail(d, "expected a string key in object", d->p);
    if (read_string(d, &ks, &klen) < 0) return R_ERROR;
    /* a key with escapes lives in the scratch buffer: no word loads there */
    ki = hc_key_lookup(ks, klen, ks >= d->start && ks < d->end ? (size_t)(d->end - ks) : 0);
    if (ki >= 0) {
      lua_pushvalue(L, d->keys + ki);
      word = &known;
      bit = 1ULL << ki;
    } else {
      unsigned h = klen ? OTHER_KEY_BIT(ks, klen) : 0;
      lua_pushlstring(L, ks, klen);
      word = &other[h >> 6];
      bit = 1ULL << (h & 63);
    }
    seen = (*word & bit) != 0;
    skip_ws(d);
    if (d->p >= d->end || *d->p != ':') return fail(d, "expected ':' after object key", d->p);
    d->p++;
    skip_ws(d);
    if (d->p >= d->end) return fail(d, "unexpected end of input in object", d->p);
    if (*d->p == '"' && (!normalise || ki < 0 || hc_keys[ki].role != HC_ROLE_TIMESTAMP)) {
      const char *vs;                        /* the common case: a plain string */
      size_t vlen;
      if (read_string(d, &vs, &vlen) < 0) return R_ERROR;
      lua_pushlstring(L, vs, vlen);
      r = R_VALUE;
    } else if (normalise && ki >= 0) {
      r = read_customer_field(d, ctx, &hc_keys[ki], depth);
    } else {
      r = read_value(d, CTX_OTHER, depth + 1);
    }
    if (r == R_ERROR) return R_ERROR;
    if (r == R_VALUE) {
      n++;
      *word |= bit;
      in_order |= seen;
    } else if (seen) {                       /* null after a value: remove the key */
      lua_pushnil(L);
      n++;
      in_order = 1;
    } else {
      lua_pop(L, 1);                         /* null: the key is absent */
    }
    skip_ws(d);
    if (d->p >= d->end) return fail(d, "unexpected end of input in object", d->p);
    if (*d->p == ',') { d->p++; skip_ws(d); continue; }
    if (*d->p == '}') { d->p++; break; }
    return fail(d, "expected ',' or '}' in object", d->p);
  }
  if (!base) {
    lua_createtable(L, 0, n);
    lua_insert(L, -2 * n - 1);
    base = lua_gettop(L) - 2 * n;
  }
  flush_pairs(L, base, n, in_order);
  return R_VALUE;
}

static int read_value(dec *d, int ctx, int depth) {
  const char *s;
  size_t len;
  if (d->p >= d->end) return fail(d, "unexpected end of input", d->p);
  switch (*d->p) {
    case '{':
      return read_object(d, ctx, depth);
    case '[':
      return read_array(d, ctx == CTX_ROOT ? CTX_CUSTOMER : CTX_OTHER, depth, 0);
    case '"':
      if (read_string(d, &s, &len) < 0) return R_ERROR;
      lua_pushlstring(d->L, s, len);
      return R_VALUE;
    case 't':
      if (literal(d, "true", 4) < 0) return R_ERROR;
      lua_pushboolean(d->L, 1);
      return R_VALUE;
    case 'f':
      if (literal(d, "false", 5) < 0) return R_ERROR;
      lua_pushboolean(d->L, 0);
      return R_VALUE;
    case 'n':
      if (literal(d, "null", 4) < 0) return R_ERROR;
      return R_NULL;
    default:
      if (*d->p == '-' || IS_DIGIT(*d->p)) return read_number(d);
      return fail(d, "unexpected character", d->p);
  }
}

int hc_decode(lua_State *L, const char *s, size_t len, int keys_idx, hc_decode_hints *hints) {
  dec d;
  int base, r, i;
  keys_idx = hc_absindex(L, keys_idx);
  base = lua_gettop(L);
  hc_need_stack(L, hc_nkeys + 8, base);
  lua_pushnil(L);                      /* the scratch slot */
  /* The interned keys sit on the stack while we decode: pushing one is then
   * a copy of a stack slot, not a table lookup. */
  for (i = 1; i <= hc_nkeys; i++) lua_rawgeti(L, keys_idx, i);
  d.L = L;
  d.base = base;
  d.start = d.p = s;
  d.end = s + len;
  d.keys = base + 2;
  d.scratch = base + 1;
  d.buf = NULL;
  d.cap = 0;
  d.err = NULL;
  d.err_at = s;
  d.hints = hints;
  skip_ws(&d);
  if (d.p >= d.end) {
    r = fail(&d, len ? "no value, only white space" : "empty body", d.p);
  } else {
    r = read_value(&d, CTX_ROOT, 0);
    if (r != R_ERROR) {
      skip_ws(&d);
      if (d.p < d.end) r = fail(&d, "unexpected data after the value", d.p);
    }
  }
  if (r == R_ERROR) {
    size_t at = (size_t)(d.err_at - s) + 1;   /* bodies past 2 GiB: no int here */
    char num[24];
    num[hc_format_integer(num, (long long)at)] = '\0';
    lua_settop(L, base);
    lua_pushnil(L);
    lua_pushfstring(L, "invalid JSON at byte %s: %s", num, d.err);
    lua_pushinteger(L, (lua_Integer)at);
    return 3;
  }
  if (r == R_NULL) lua_pushlightuserdata(L, HC_NULL_SENTINEL);
  lua_replace(L, base + 1);            /* the value takes the scratch slot */
  lua_settop(L, base + 1);
  return 1;
}
