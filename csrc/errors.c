/*
 * A stable name for each libcurl result the client can meet: a fact, not a
 * decision (the Lua layer's errors.lua maps names to error kinds, in one
 * table). Names are the codes users see in err.code; anything not listed is
 * "curl_error" (err.message then carries libcurl's own text).
 */
#include "hc.h"

#define HC_CURL_NAMES(X)                                   \
  X(CURLE_COULDNT_RESOLVE_HOST,     "couldnt_resolve_host")  \
  X(CURLE_COULDNT_RESOLVE_PROXY,    "couldnt_resolve_proxy") \
  X(CURLE_COULDNT_CONNECT,          "couldnt_connect")       \
  X(CURLE_OPERATION_TIMEDOUT,       "timeout")               \
  X(CURLE_SEND_ERROR,               "send_error")            \
  X(CURLE_RECV_ERROR,               "recv_error")            \
  X(CURLE_GOT_NOTHING,              "empty_reply")           \
  X(CURLE_PARTIAL_FILE,             "partial_body")          \
  X(CURLE_WRITE_ERROR,              "too_large")             \
  X(CURLE_FILESIZE_EXCEEDED,        "too_large")             \
  X(CURLE_BAD_CONTENT_ENCODING,     "bad_content_encoding")  \
  X(CURLE_SSL_CONNECT_ERROR,        "tls_connect")           \
  X(CURLE_PEER_FAILED_VERIFICATION, "tls_verify")            \
  X(CURLE_SSL_CACERT_BADFILE,       "tls_ca_file")           \
  X(CURLE_UNSUPPORTED_PROTOCOL,     "unsupported_protocol")  \
  X(CURLE_URL_MALFORMAT,            "bad_url")               \
  X(CURLE_WEIRD_SERVER_REPLY,       "bad_reply")             \
  X(CURLE_TOO_MANY_REDIRECTS,       "redirect")              \
  X(CURLE_OUT_OF_MEMORY,            "out_of_memory")         \
  X(CURLE_ABORTED_BY_CALLBACK,      "cancelled")

typedef struct curl_name_row {
  CURLcode rc;
  const char *name;
} curl_name_row;

#define HC_ROW(rc, name) { rc, name },
static const curl_name_row rows[] = { HC_CURL_NAMES(HC_ROW) };
#undef HC_ROW

const char *hc_curl_name(CURLcode rc) {
  size_t i;
  for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (rows[i].rc == rc) return rows[i].name;
  return "curl_error";
}
