/*
 * JSON decoding: one pass from the bytes to normalised Lua tables.
 *
 * - Each array and object is read onto the Lua stack and its table made at
 *   its exact size (no rehash), in the slot it left under its entries.
 * - Keys: in an object under a known key, the key that followed the
 *   previous one last time is tried first, in place (customers repeat their
 *   key order); otherwise a perfect hash of the known keys (customer.c).
 *   Known keys are pushed from the interned key strings.
 * - Strings without escapes are pushed straight from the buffer after a scan
 *   of 16 (SSE2) or 8 bytes a step; on Lua 5.4, values that repeat between
 *   customers come from a cache of strings already made.
 * - Numbers: json_number.c, exact and never through strtod (no LC_NUMERIC
 *   changes them); integers stay Lua integers on 5.3+.
 * - Customer objects (the root, the root's "data" list, elements of a root
 *   list) are normalised in the same pass: null -> absent, string timestamps
 *   -> integers, customData list -> map, null tags/customData -> {}.
 * - A duplicate key: the last pair wins wherever it sits (a last null removes
 *   the key), as lua-cjson, Python and JavaScript decide.
 *
 * Errors never longjmp out of the parser: each function returns a status and
 * the top level turns it into nil, message, offset. The only raises left are
 * memory errors from the Lua API and a Lua stack that cannot grow, and the
 * scratch buffer is a userdata on the stack, so even they leak nothing.
 */
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hc.h"

/* Entries read onto the Lua stack before their table is made (see read_array). */
#define STACK_CHUNK 48

/* The string cache: values that repeat from customer to customer (hc_key's
 * `repeats`), keys the decoder does not know (customData's properties) and
 * their short values are pushed from strings already made, held in
 * CACHE_SIZE stack slots: no hashing of their bytes by Lua, no allocation
 * (Lua 5.4 does not intern strings past 40 bytes: user agents, URLs). A
 * body shorter than CACHE_MIN_BODY has too few repeats to pay for it. */
#define CACHE_BITS 8
#define CACHE_SIZE (1 << CACHE_BITS)
#define CACHE_MAX_LEN 256
#if LUA_VERSION_NUM == 501
/* LuaJIT interns every string with a sparse hash: a lookup costs it about
 * what the cache's own does, so the cache is left out (measured: +2% of
 * instructions per page with it, -2.5% on Lua 5.4). */
#define CACHE_MIN_BODY ((size_t)-1)
#else
#define CACHE_MIN_BODY 2048
#endif

typedef struct cached {
  uint64_t w0, w1;     /* its first 16 bytes, zero padded: most compares end here */
  const char *s;       /* the bytes of the Lua string in the slot */
  size_t len;          /* 0: an empty entry (the empty string is never cached) */
} cached;

/* Stack slots (lua_gettop of the decoder's C frame) past which a container
 * keeps fewer entries on the stack, down to one, so that HC_MAX_DEPTH levels
 * always fit: Lua 5.1 and LuaJIT allow a C function 8000 slots
 * (LUAI_MAXCSTACK), Lua 5.2+ a million in all. A level holding one entry uses
 * two slots (its table and a key) while its child is read. */
#if LUA_VERSION_NUM == 501
#define STACK_LIMIT (8000 - 2 * HC_MAX_DEPTH - 100 - CACHE_SIZE)
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
  int reserved;      /* the stack is known to have room up to this index */
  int keys;          /* stack index of the first interned key string */
  int scratch;       /* stack index of the scratch slot (nil or userdata) */
  char *buf;
  size_t cap;
  const char *err;
  const char *err_at;
  hc_decode_hints *hints;
  /* next[parent][prev]: the known key that followed known key `prev` (NO_KEY:
   * the object's start) last time, in an object under known key `parent`
   * (NO_KEY: the root, a list item of no known key, an unknown key). The
   * API writes every customer's keys in the same order, so most keys are
   * matched in place with two word compares: no scan, no hash. */
  unsigned char next[HC_MAX_KEYS + 1][HC_MAX_KEYS + 1];
  int cache_base;    /* stack index of the first cache slot; 0: no cache */
  /* known keys whose string values go through the cache: in any object, and
   * in a tag object (a tag's name) */
  uint64_t repeat_mask, repeat_mask_in_tags;
  cached cache[CACHE_SIZE];
} dec;

#define NO_KEY HC_MAX_KEYS

static int fail(dec *d, const char *msg, const char *at) {
  d->err = msg;
  d->err_at = at;
  return R_ERROR;
}

static inline const char *ws(const char *p, const char *end) {
  if (p < end && (unsigned char)*p > ' ') return p;   /* compact JSON: nothing to skip */
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  return p;
}

static inline void skip_ws(dec *d) {
  d->p = ws(d->p, d->end);
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

/* Skip bytes that need no attention: not '"', not '\\', not a control char.
 * 16 bytes a step with SSE2 (every x86-64), else 8 with word arithmetic. */
static inline const char *scan_plain(const char *p, const char *end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                below = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                               _mm_cmpeq_epi8(_mm_max_epu8(v, below), below));   /* v <= 0x1F */
    unsigned mask = (unsigned)_mm_movemask_epi8(hit);
    if (mask) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
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

static inline uint64_t load64(const char *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

static inline uint64_t low_bytes(unsigned n) {
  return n >= 8 ? ~0ULL : (1ULL << (n * 8)) - 1;
}

/* Push s[0..len) through the cache. `avail` bytes may be read from s (at
 * least len): the first 16 are loaded as two words. */
static void push_cached(dec *d, const char *s, size_t len, size_t avail) {
  lua_State *L = d->L;
  uint64_t w0, w1, h;
  unsigned i;
  cached *c;
  if (avail >= 16) {
    w0 = load64(s) & low_bytes((unsigned)len);
    w1 = len > 8 ? load64(s + 8) & low_bytes((unsigned)(len - 8)) : 0;
  } else {
    char pad[16] = { 0 };
    memcpy(pad, s, len < 16 ? len : 16);
    w0 = load64(pad);
    w1 = load64(pad + 8);
  }
  h = w0 ^ (w1 * 0xFF51AFD7ED558CCDULL) ^ len;
  if (len > 16) h ^= load64(s + len - 8) * 0xC4CEB9FE1A85EC53ULL;
  i = (unsigned)((h * 0x9E3779B97F4A7C15ULL) >> (64 - CACHE_BITS));
  c = &d->cache[i];
  if (c->len == len && c->w0 == w0 && c->w1 == w1 &&
      (len <= 16 || memcmp(c->s + 16, s + 16, len - 16) == 0)) {
    lua_pushvalue(L, d->cache_base + (int)i);
    return;
  }
  lua_pushlstring(L, s, len);
  lua_pushvalue(L, -1);
  lua_replace(L, d->cache_base + (int)i);
  c->s = lua_tostring(L, -1);             /* kept alive by the cache slot */
  c->len = len;
  c->w0 = w0;
  c->w1 = w1;
}

static inline void push_string(dec *d, const char *s, size_t len, size_t avail, int cacheable) {
  if (cacheable && d->cache_base && len - 1 < CACHE_MAX_LEN) push_cached(d, s, len, avail);
  else lua_pushlstring(d->L, s, len);
}

/* ---- numbers ------------------------------------------------------------ */

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)

/* The number at d->p (json_number.c reads it), pushed. */
static int read_number(dec *d) {
  hc_number n;
  if (!hc_number_read(d->p, d->end, &n)) return fail(d, n.err, n.end);
  d->p = n.end;
#if HC_HAVE_INTEGERS
  if (n.integer) {
    lua_pushinteger(d->L, (lua_Integer)n.i);
    return R_VALUE;
  }
#endif
  lua_pushnumber(d->L, (lua_Number)n.d);
  return R_VALUE;
}

/* ---- values ------------------------------------------------------------- */

static int read_value(dec *d, int ctx, int depth, int parent);

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
  int top, room, need;
  if (depth >= HC_MAX_DEPTH) return fail(d, "nested too deeply", d->p);
  top = lua_gettop(d->L);
  room = (STACK_LIMIT - top) / 2;
  *chunk = room >= STACK_CHUNK ? STACK_CHUNK : room > 1 ? room : 1;
  need = 2 * *chunk + 8;
  if (top + need > d->reserved) {          /* ask for more at once, while there is more */
    int ask = need + 4 * STACK_CHUNK;
    if (top >= STACK_LIMIT || !lua_checkstack(d->L, ask)) {
      ask = need;
      hc_need_stack(d->L, ask, d->base);
    }
    d->reserved = top + ask;
  }
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

static int read_array(dec *d, int elem_ctx, int depth, int narr, int parent) {
  lua_State *L = d->L;
  const char *p, *end = d->end;
  int n = 0, total = 0, base, made = 0, chunk;
  if (enter(d, depth, &chunk) < 0) return R_ERROR;
  p = ws(d->p + 1, end);
  if (p < end && *p == ']') {
    d->p = p + 1;
    lua_createtable(L, 0, 0);
    return R_VALUE;
  }
  lua_pushnil(L);                          /* the table's slot, under its items */
  base = lua_gettop(L);
  for (;;) {
    if (n == chunk) {                      /* a long list: make the table now */
      if (!made) {
        lua_createtable(L, narr > 2 * STACK_CHUNK ? narr : 2 * STACK_CHUNK, 0);
        lua_replace(L, base);
        made = 1;
      }
      flush_items(L, base, n, total - n + 1);
      n = 0;
    }
    if (total == INT32_MAX) return fail(d, "array too long", p);
    if (p < end && (IS_DIGIT(*p) || *p == '-')) {
      d->p = p;                            /* the common items first: numbers, */
      if (read_number(d) < 0) return R_ERROR;
    } else if (p < end && *p == '"') {     /* plain strings */
      const char *q = scan_plain(p + 1, end);
      if (q < end && *q == '"') {
        lua_pushlstring(L, p + 1, (size_t)(q - p - 1));
        d->p = q + 1;
      } else {
        const char *s;
        size_t len;
        d->p = p;
        if (read_string(d, &s, &len) < 0) return R_ERROR;
        lua_pushlstring(L, s, len);
      }
    } else {
      int r;
      d->p = p;
      r = read_value(d, elem_ctx, depth + 1, parent);
      if (r == R_ERROR) return R_ERROR;
      if (r == R_NULL) lua_pushlightuserdata(L, HC_NULL_SENTINEL);
    }
    n++;
    total++;
    p = d->p;
    if (p < end && *p == ',' && p + 1 < end && (unsigned char)p[1] > ' ') {
      p++;                                 /* compact JSON: the next item at once */
      continue;
    }
    p = ws(p, end);
    if (p >= end) return fail(d, "unexpected end of input in array", p);
    if (*p == ',') { p = ws(p + 1, end); continue; }
    if (*p == ']') { p++; break; }
    return fail(d, "expected ',' or ']' in array", p);
  }
  d->p = p;
  if (!made) {
    lua_createtable(L, n, 0);
    lua_replace(L, base);
  }
  flush_items(L, base, n, total - n + 1);
  return R_VALUE;
}

/* The value of a known key of a customer (or the root), normalised. */
static int read_customer_field(dec *d, int ctx, int ki, int depth) {
  lua_State *L = d->L;
  char c = *d->p;
  switch (hc_keys[ki].role) {
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
        if (read_array(d, CTX_OTHER, depth + 1, 0, ki) < 0) return R_ERROR;
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
        if (read_array(d, CTX_CUSTOMER, depth + 1, narr, ki) < 0) return R_ERROR;
        if (d->hints) d->hints->data_len = (int)hc_rawlen(L, -1);
        return R_VALUE;
      }
      break;
    default:
      break;
  }
  return read_value(d, CTX_OTHER, depth + 1, ki);
}

/* Is the string at p (its opening quote) known key k, closed right after?
 * Reads 17 bytes from p. The key's bytes are letters, so a match has no
 * escape or control character in it. */
static inline int key_at(const char *p, const hc_key *k) {
  unsigned n = k->len;
  if (((load64(p + 1) ^ load64(k->name)) & low_bytes(n)) != 0) return 0;
  if (n > 8 && ((load64(p + 9) ^ load64(k->name + 8)) & low_bytes(n - 8)) != 0) return 0;
  return p[n + 1] == '"';
}

/* A cheap hash of a key the decoder does not know, for the "seen" filter. */
#define OTHER_KEY_BIT(s, n) \
  (((unsigned)(n) * 31u + (unsigned char)(s)[0] * 7u + (unsigned char)(s)[(n) - 1]) & 127u)

#define UNKNOWN_KEY (-2)

/* An object key that was not the predicted one, at d->p: its index in
 * hc_keys (the prediction updated); or UNKNOWN_KEY with the key string pushed
 * (through the cache: customData's properties repeat) and *seen telling
 * whether the filter had met it; or R_ERROR. */
static int other_key(dec *d, unsigned char *guess, uint64_t *filter, int *seen) {
  const char *p = d->p, *end = d->end, *ks, *q;
  size_t klen;
  int ki;
  unsigned h;
  q = scan_plain(p + 1, end);
  if (q < end && *q == '"') {              /* no escapes: the key is in the input */
    ks = p + 1;
    klen = (size_t)(q - ks);
    d->p = q + 1;
    ki = hc_key_lookup(ks, klen, (size_t)(end - ks));
  } else {                                 /* escapes: the key is in the scratch buffer */
    if (read_string(d, &ks, &klen) < 0) return R_ERROR;
    ki = hc_key_lookup(ks, klen, 0);
  }
  if (ki >= 0) {
    *guess = (unsigned char)ki;
    return ki;
  }
  push_string(d, ks, klen, ks >= d->start && ks < end ? (size_t)(end - ks) : klen, 1);
  h = klen ? OTHER_KEY_BIT(ks, klen) : 0;
  *seen = (filter[h >> 6] >> (h & 63)) & 1;
  filter[h >> 6] |= 1ULL << (h & 63);
  return UNKNOWN_KEY;
}

static int read_object(dec *d, int ctx, int depth, int parent) {
  lua_State *L = d->L;
  const char *p, *end = d->end;
  const int normalise = ctx != CTX_OTHER;
  /* which values are pushed through the string cache here */
  const uint64_t repeat_mask = parent < NO_KEY && hc_keys[parent].role == HC_ROLE_TAGS
                                 ? d->repeat_mask_in_tags : d->repeat_mask;
  const int other_repeats = d->cache_base && parent < NO_KEY &&
                            hc_keys[parent].role == HC_ROLE_CUSTOMDATA;
  int n = 0, base, made = 0, chunk, in_order = 0, prev = NO_KEY;
  unsigned char *next = d->next[parent];
  /* Keys met so far, to tell when a key may repeat: known keys exactly (a
   * bit each), others through a 128-bit filter (a false alarm only costs an
   * in-order flush). */
  uint64_t known = 0, other[2] = { 0, 0 };
  if (enter(d, depth, &chunk) < 0) return R_ERROR;
  p = ws(d->p + 1, end);
  if (p < end && *p == '}') {
    d->p = p + 1;
    lua_createtable(L, 0, 0);
    return R_VALUE;
  }
  lua_pushnil(L);                          /* the table's slot, under its pairs */
  base = lua_gettop(L);
  for (;;) {
    const hc_key *k = NULL;
    int ki, seen = 0, repeats;
    char c;
    if (n == chunk) {                      /* a big object: make the table now */
      if (!made) {
        lua_createtable(L, 0, 2 * STACK_CHUNK);
        lua_replace(L, base);
        made = 1;
      }
      flush_pairs(L, base, n, in_order);
      n = 0;
      in_order = 0;                        /* later chunks are set after this one */
    }
    if (p >= end || *p != '"') return fail(d, "expected a string key in object", p);
    ki = next[prev];
    if (ki < NO_KEY && end - p >= 18 && key_at(p, &hc_keys[ki])) {
      p += hc_keys[ki].len + 2;            /* the key that came here last time */
    } else {
      d->p = p;
      ki = other_key(d, &next[prev], other, &seen);
      if (ki == R_ERROR) return R_ERROR;
      p = d->p;
    }
    if (ki >= 0) {
      uint64_t bit = 1ULL << ki;
      k = &hc_keys[ki];
      seen = (known & bit) != 0;
      known |= bit;
      prev = ki;
      repeats = (int)(repeat_mask >> ki) & 1;
    } else {
      prev = NO_KEY;
      repeats = other_repeats;
    }
    if (p < end && *p == ':') {
      p++;                                 /* compact JSON: no white space */
    } else {
      p = ws(p, end);
      if (p >= end || *p != ':') return fail(d, "expected ':' after object key", p);
      p++;
    }
    p = ws(p, end);
    if (p >= end) return fail(d, "unexpected end of input in object", p);
    c = *p;
    if (c == 'n' && !(normalise && k && (k->role == HC_ROLE_CUSTOMDATA || k->role == HC_ROLE_TAGS))) {
      if (end - p < 4 || memcmp(p, "null", 4) != 0) return fail(d, "invalid literal", p);
      p += 4;                              /* null: the key is absent, */
      if (seen) {                          /* or removed if it came before */
        if (k) lua_pushvalue(L, d->keys + ki);
        lua_pushnil(L);
        n++;
        in_order = 1;
      } else if (!k) {
        lua_pop(L, 1);
      }
    } else {
      if (k) lua_pushvalue(L, d->keys + ki);
      if (c == '"' && !(normalise && k && k->role == HC_ROLE_TIMESTAMP)) {
        const char *q = scan_plain(p + 1, end);   /* the common case: a plain string */
        if (q < end && *q == '"') {
          push_string(d, p + 1, (size_t)(q - p - 1), (size_t)(end - p - 1), repeats);
          p = q + 1;
        } else {
          const char *vs;
          size_t vlen;
          d->p = p;
          if (read_string(d, &vs, &vlen) < 0) return R_ERROR;
          p = d->p;
          push_string(d, vs, vlen, vlen, repeats);
        }
      } else if (IS_DIGIT(c) || c == '-') {
        d->p = p;
        if (read_number(d) < 0) return R_ERROR;
        p = d->p;
      } else if (c == 't' && end - p >= 4 && memcmp(p, "true", 4) == 0) {
        lua_pushboolean(L, 1);
        p += 4;
      } else if (c == 'f' && end - p >= 5 && memcmp(p, "false", 5) == 0) {
        lua_pushboolean(L, 0);
        p += 5;
      } else {
        int r;
        d->p = p;
        if (normalise && k && k->role != HC_ROLE_PLAIN) r = read_customer_field(d, ctx, ki, depth);
        else r = read_value(d, CTX_OTHER, depth + 1, k ? ki : NO_KEY);
        if (r == R_ERROR) return R_ERROR;
        p = d->p;
        if (r == R_NULL) lua_pushnil(L);   /* not reached: a null is taken above */
      }
      n++;
      in_order |= seen;
    }
    if (p < end && *p == ',' && p + 1 < end && p[1] == '"') {
      p++;                                 /* compact JSON: the next key at once */
      continue;
    }
    p = ws(p, end);
    if (p >= end) return fail(d, "unexpected end of input in object", p);
    if (*p == ',') { p = ws(p + 1, end); continue; }
    if (*p == '}') { p++; break; }
    return fail(d, "expected ',' or '}' in object", p);
  }
  d->p = p;
  if (!made) {
    lua_createtable(L, 0, n);
    lua_replace(L, base);
  }
  flush_pairs(L, base, n, in_order);
  return R_VALUE;
}

static int read_value(dec *d, int ctx, int depth, int parent) {
  const char *s;
  size_t len;
  if (d->p >= d->end) return fail(d, "unexpected end of input", d->p);
  switch (*d->p) {
    case '{':
      return read_object(d, ctx, depth, parent);
    case '[':
      return read_array(d, ctx == CTX_ROOT ? CTX_CUSTOMER : CTX_OTHER, depth, 0, parent);
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
  d.reserved = 0;
  d.start = d.p = s;
  d.end = s + len;
  d.keys = base + 2;
  d.scratch = base + 1;
  d.buf = NULL;
  d.cap = 0;
  d.err = NULL;
  d.err_at = s;
  d.hints = hints;
  memset(d.next, NO_KEY, sizeof d.next);
  d.cache_base = 0;
  d.repeat_mask = d.repeat_mask_in_tags = 0;
  if (len >= CACHE_MIN_BODY) {
    for (i = 0; i < hc_nkeys; i++) {
      if (hc_keys[i].repeats == HC_REPEATS) d.repeat_mask |= 1ULL << i;
      if (hc_keys[i].repeats != HC_UNIQUE) d.repeat_mask_in_tags |= 1ULL << i;
    }
    int top = lua_gettop(L);
    hc_need_stack(L, CACHE_SIZE + 8, base);
    lua_settop(L, top + CACHE_SIZE);          /* the slots, all nil */
    d.cache_base = top + 1;
    memset(d.cache, 0, sizeof d.cache);   /* len 0: empty */
  }
  skip_ws(&d);
  if (d.p >= d.end) {
    r = fail(&d, len ? "no value, only white space" : "empty body", d.p);
  } else {
    r = read_value(&d, CTX_ROOT, 0, NO_KEY);
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
