/*
 * The customer table: the keys the decoder knows (interned once per decoder
 * and pushed without hashing their bytes again) and the normalisation of
 * the API's quirks (string timestamps, customData as a {property,value} list).
 */
#include <string.h>

#include "hc.h"

enum {
  K_ID, K_IP,
  K_NAME, K_CITY, K_TAGS, K_DATA, K_CODE, K_SORT,
  K_EMAIL, K_PHONE, K_NOTES, K_COLOR, K_VALUE, K_TOTAL, K_LIMIT, K_FIELD, K_ORDER,
  K_USERID, K_DEVICE, K_SOURCE, K_LOCALE, K_ERRORS, K_OFFSET, K_FILTER,
  K_COMPANY, K_REFERER, K_BLOCKED, K_MESSAGE,
  K_LASTSEEN, K_LOCATION, K_TIMEZONE, K_PLATFORM, K_LASTPAGE, K_PROPERTY, K_OPERATOR,
  K_FIRSTSEEN, K_USERAGENT,
  K_REGIONCODE, K_CUSTOMDATA, K_COMPARISON,
  K_COUNTRYCODE, K_CREATEDFROM,
  K_UNSUBSCRIBED,
  K_INTEGRATIONID,
  K_COUNT
};

#define KEY(s, role, nrec) { s, (unsigned char)(sizeof(s) - 1), role, nrec }

/* In enum order. nrec: hash slots to pre-size when the value is an object. */
const hc_key hc_keys[K_COUNT] = {
  KEY("id", HC_ROLE_PLAIN, 0),          KEY("ip", HC_ROLE_PLAIN, 0),
  KEY("name", HC_ROLE_PLAIN, 0),        KEY("city", HC_ROLE_PLAIN, 0),
  KEY("tags", HC_ROLE_TAGS, 2),         KEY("data", HC_ROLE_DATA, 0),
  KEY("code", HC_ROLE_PLAIN, 0),        KEY("sort", HC_ROLE_PLAIN, 0),
  KEY("email", HC_ROLE_PLAIN, 0),       KEY("phone", HC_ROLE_PLAIN, 0),
  KEY("notes", HC_ROLE_PLAIN, 0),       KEY("color", HC_ROLE_PLAIN, 0),
  KEY("value", HC_ROLE_PLAIN, 0),       KEY("total", HC_ROLE_PLAIN, 0),
  KEY("limit", HC_ROLE_PLAIN, 0),       KEY("field", HC_ROLE_PLAIN, 0),
  KEY("order", HC_ROLE_PLAIN, 0),
  KEY("userId", HC_ROLE_PLAIN, 0),      KEY("device", HC_ROLE_NESTED, 5),
  KEY("source", HC_ROLE_PLAIN, 0),      KEY("locale", HC_ROLE_PLAIN, 0),
  KEY("errors", HC_ROLE_NESTED, 2),     KEY("offset", HC_ROLE_PLAIN, 0),
  KEY("filter", HC_ROLE_NESTED, 3),
  KEY("company", HC_ROLE_PLAIN, 0),     KEY("referer", HC_ROLE_PLAIN, 0),
  KEY("blocked", HC_ROLE_PLAIN, 0),     KEY("message", HC_ROLE_PLAIN, 0),
  KEY("lastSeen", HC_ROLE_TIMESTAMP, 0), KEY("location", HC_ROLE_NESTED, 3),
  KEY("timezone", HC_ROLE_PLAIN, 0),    KEY("platform", HC_ROLE_PLAIN, 0),
  KEY("lastPage", HC_ROLE_PLAIN, 0),    KEY("property", HC_ROLE_PLAIN, 0),
  KEY("operator", HC_ROLE_PLAIN, 0),
  KEY("firstSeen", HC_ROLE_TIMESTAMP, 0), KEY("userAgent", HC_ROLE_PLAIN, 0),
  KEY("regionCode", HC_ROLE_PLAIN, 0),  KEY("customData", HC_ROLE_CUSTOMDATA, 8),
  KEY("comparison", HC_ROLE_PLAIN, 0),
  KEY("countryCode", HC_ROLE_PLAIN, 0), KEY("createdFrom", HC_ROLE_PLAIN, 0),
  KEY("unsubscribed", HC_ROLE_PLAIN, 0),
  KEY("integrationId", HC_ROLE_PLAIN, 0),
};

const int hc_nkeys = K_COUNT;

/* Candidates by length, -1 terminated: one byte compare rejects most. */
#define MAXLEN 13
static const signed char by_len[MAXLEN + 1][10] = {
  [2] = { K_ID, K_IP, -1 },
  [4] = { K_NAME, K_CITY, K_TAGS, K_DATA, K_CODE, K_SORT, -1 },
  [5] = { K_EMAIL, K_PHONE, K_NOTES, K_COLOR, K_VALUE, K_TOTAL, K_LIMIT, K_FIELD, K_ORDER, -1 },
  [6] = { K_USERID, K_DEVICE, K_SOURCE, K_LOCALE, K_ERRORS, K_OFFSET, K_FILTER, -1 },
  [7] = { K_COMPANY, K_REFERER, K_BLOCKED, K_MESSAGE, -1 },
  [8] = { K_LASTSEEN, K_LOCATION, K_TIMEZONE, K_PLATFORM, K_LASTPAGE, K_PROPERTY,
          K_OPERATOR, -1 },
  [9] = { K_FIRSTSEEN, K_USERAGENT, -1 },
  [10] = { K_REGIONCODE, K_CUSTOMDATA, K_COMPARISON, -1 },
  [11] = { K_COUNTRYCODE, K_CREATEDFROM, -1 },
  [12] = { K_UNSUBSCRIBED, -1 },
  [13] = { K_INTEGRATIONID, -1 },
  /* lengths with no key are all zeros: by_len[n][0] == K_ID is rejected by
   * the length check below, so no -1 is needed there. */
};

int hc_key_lookup(const char *p, size_t len) {
  const signed char *c;
  if (len < 2 || len > MAXLEN) return -1;
  for (c = by_len[len]; *c >= 0; c++) {
    const hc_key *k = &hc_keys[(int)*c];
    if (k->len != len) return -1;
    if (k->name[0] == p[0] && memcmp(k->name + 1, p + 1, len - 1) == 0) return *c;
  }
  return -1;
}

void hc_push_key_strings(lua_State *L) {
  int i;
  lua_createtable(L, K_COUNT, 0);
  for (i = 0; i < K_COUNT; i++) {
    lua_pushlstring(L, hc_keys[i].name, hc_keys[i].len);
    lua_rawseti(L, -2, i + 1);
  }
}

int hc_parse_int_string(const char *p, size_t len, long long *out) {
  const char *end = p + len;
  unsigned long long v = 0;
  int neg = 0;
  if (p < end && *p == '-') { neg = 1; p++; }
  if (p == end || end - p > 18) return 0;   /* 18 digits never overflow */
  for (; p < end; p++) {
    if (*p < '0' || *p > '9') return 0;
    v = v * 10 + (unsigned)(*p - '0');
  }
  *out = neg ? -(long long)v : (long long)v;
  return 1;
}

void hc_customdata_list_to_map(lua_State *L) {
  int list = lua_gettop(L);
  size_t i, n = hc_rawlen(L, list);
  for (i = 1; i <= n; i++) {          /* only a list of {property = string} */
    int ok;
    lua_rawgeti(L, list, (int)i);
    ok = lua_istable(L, -1);
    if (ok) {
      lua_getfield(L, -1, "property");
      ok = lua_type(L, -1) == LUA_TSTRING;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (!ok) return;
  }
  lua_createtable(L, 0, (int)n);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, list, (int)i);
    lua_getfield(L, -1, "property");
    lua_getfield(L, -2, "value");
    lua_rawset(L, list + 1);
    lua_pop(L, 1);
  }
  lua_replace(L, list);
}
