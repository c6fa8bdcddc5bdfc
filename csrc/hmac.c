/*
 * HMAC-SHA1 for webhook signatures, from OpenSSL's libcrypto (never a
 * home-made SHA-1): core.hmac_sha1(key, data) -> 40 lowercase hex digits.
 * The one-shot HMAC() is the same call in OpenSSL 1.1 and 3.x; the digest
 * goes into a stack buffer (a NULL buffer would use OpenSSL's static one).
 */
#include <limits.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hc.h"

int hc_hmac_sha1(lua_State *L) {
  static const char hex[] = "0123456789abcdef";
  size_t klen, dlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0, i;
  char out[2 * EVP_MAX_MD_SIZE];
  if (klen > INT_MAX) return luaL_argerror(L, 1, "key too long");
  if (HMAC(EVP_sha1(), key, (int)klen, (const unsigned char *)data, dlen, md, &mdlen) == NULL)
    return luaL_error(L, "helpcrunch: HMAC-SHA1 failed (libcrypto)");
  for (i = 0; i < mdlen; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  lua_pushlstring(L, out, 2 * (size_t)mdlen);
  return 1;
}
