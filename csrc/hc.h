/*
 * helpcrunch.core: the private header shared by the C files of the core.
 * Nothing declared here leaves the shared object (hidden visibility); the
 * one exported symbol is luaopen_helpcrunch_core in core.c.
 */
#ifndef HC_H
#define HC_H

#include <stddef.h>
#include <lua.h>
#include <lauxlib.h>
#include <curl/curl.h>

#include "compat.h"

#if defined(__GNUC__)
#define HC_HIDDEN __attribute__((visibility("hidden")))
#else
#define HC_HIDDEN
#endif

/* One macro for libcurl version gates. */
#define HC_CURL_VER_GE(a, b, c) (LIBCURL_VERSION_NUM >= (((a) << 16) | ((b) << 8) | (c)))

#define HC_VERSION "0.1.0"

/* Where the decoder stops nesting: deep enough for any API body, shallow
 * enough that the C stack and Lua stack never come near their limits. */
#define HC_MAX_DEPTH 512

/* ---- customer.c: the known keys and the customer normalisation ---------- */

/* What a known key means to the normaliser. */
enum hc_role {
  HC_ROLE_PLAIN = 0,
  HC_ROLE_TIMESTAMP,   /* firstSeen/lastSeen: numeric strings become integers */
  HC_ROLE_CUSTOMDATA,  /* object or {property,value} list -> map */
  HC_ROLE_TAGS,        /* always a list */
  HC_ROLE_DATA,        /* the page's list of customers */
};

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || !defined(__GNUC__)
#error "helpcrunch.core's word-at-a-time scanners assume a little-endian GCC/clang target"
#endif

typedef struct hc_key {
  char name[16];        /* zero padded: compared 8 bytes at a time */
  unsigned char len;
  unsigned char role;   /* enum hc_role */
} hc_key;

HC_HIDDEN extern const hc_key hc_keys[];
HC_HIDDEN extern const int hc_nkeys;

/* Index into hc_keys of the key spelt p[0..len), or -1. `avail` is how many
 * bytes may be read from p (at least 16 lets the lookup load whole words). */
HC_HIDDEN int hc_key_lookup(const char *p, size_t len, size_t avail);
/* Does every key hash to itself? (checked once at load) */
HC_HIDDEN int hc_keys_selfcheck(void);
/* Push a table t with t[i + 1] = hc_keys[i].name: the interned key strings. */
HC_HIDDEN void hc_push_key_strings(lua_State *L);
/* Turn a {property, value} list at the top of the stack into a map, in place.
 * A list that is not of that shape is left as it is (nothing is lost). */
HC_HIDDEN void hc_customdata_list_to_map(lua_State *L);
/* Parse a whole numeric string ("1603885746", "-5") into *out. */
HC_HIDDEN int hc_parse_int_string(const char *p, size_t len, long long *out);

/* ---- json_decode.c ------------------------------------------------------ */

/* Room for n more values, or raise with the stack cut back to `keep`. Not
 * luaL_checkstack: its "stack overflow" would hide an out-of-memory (Lua 5.4's
 * lua_checkstack fails both when the stack is full and when growing it
 * cannot allocate); this message says both. */
#define HC_NO_STACK "helpcrunch: cannot grow the Lua stack (out of memory, or the stack is full)"
static inline void hc_need_stack(lua_State *L, int n, int keep) {
  if (!lua_checkstack(L, n)) {
    lua_settop(L, keep);
    lua_pushliteral(L, HC_NO_STACK);
    lua_error(L);
  }
}

typedef struct hc_decode_hints {
  int data_len;         /* length of the last page's data array (pre-sizing) */
} hc_decode_hints;

/* Decode s[0..len) with customer normalisation. keys_idx: stack index of the
 * interned key table; hints may be NULL. On success pushes the value and
 * returns 1; on malformed input pushes nil, a message naming the byte offset,
 * and the offset, and returns 3. Raises only on memory errors. */
HC_HIDDEN int hc_decode(lua_State *L, const char *s, size_t len, int keys_idx,
                        hc_decode_hints *hints);

/* ---- json_number.c: numbers, exactly and whatever the C locale ---------- */

/* The correctly rounded double of the JSON number s[0..n) (syntax already
 * checked; beyond the double range +-inf, as strtod). */
HC_HIDDEN double hc_number_parse(const char *s, size_t n);
/* Write v as JSON into out (at least HC_NUMBER_BUF bytes); the length.
 * Integral values up to 2^53 as integers ("3"), -0.0 as "-0", others in
 * the shortest of 15..17 digits that reads back, with an exponent beyond
 * 2^53 so that they read back as floats. v must be finite. */
#define HC_NUMBER_BUF 40
HC_HIDDEN size_t hc_format_double(char *out, double v);
HC_HIDDEN size_t hc_format_integer(char *out, long long v);

/* The light userdata that stands for null inside arrays. */
#define HC_NULL_SENTINEL NULL

/* ---- json_encode.c ------------------------------------------------------ */

/* Push the JSON text of the value at idx; raises a message naming the
 * offending field on values JSON cannot hold exactly. */
HC_HIDDEN void hc_encode(lua_State *L, int idx);

/* ---- errors.c ----------------------------------------------------------- */

/* A stable name for a libcurl result ("couldnt_connect", ...): a fact; the
 * Lua layer decides what kind of error it is. */
HC_HIDDEN const char *hc_curl_name(CURLcode rc);

/* ---- client.c ----------------------------------------------------------- */

HC_HIDDEN void hc_client_open(lua_State *L);   /* registers metatables, leaves none */
HC_HIDDEN int hc_client_new(lua_State *L);

/* ---- hmac.c ------------------------------------------------------------- */

/* core.hmac_sha1(key, data) -> 40 lowercase hex digits (OpenSSL libcrypto). */
HC_HIDDEN int hc_hmac_sha1(lua_State *L);

#endif
