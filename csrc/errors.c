/*
 * libcurl failures as the error kinds and codes of DESIGN.md "Conventions".
 * Table-driven: one row per CURLcode the client can meet; anything else is a
 * "transport" failure named by its number.
 */
#include "hc.h"

#define HC_CURL_ERRORS(X)                                              \
  X(CURLE_COULDNT_RESOLVE_HOST,  "transport", "couldnt_resolve_host")  \
  X(CURLE_COULDNT_RESOLVE_PROXY, "transport", "couldnt_resolve_proxy") \
  X(CURLE_COULDNT_CONNECT,       "transport", "couldnt_connect")       \
  X(CURLE_OPERATION_TIMEDOUT,    "timeout",   "timeout")               \
  X(CURLE_SEND_ERROR,            "transport", "send_error")            \
  X(CURLE_RECV_ERROR,            "transport", "recv_error")            \
  X(CURLE_GOT_NOTHING,           "transport", "empty_reply")           \
  X(CURLE_PARTIAL_FILE,          "decode",    "partial_body")          \
  X(CURLE_WRITE_ERROR,           "too_large", "too_large")             \
  X(CURLE_FILESIZE_EXCEEDED,     "too_large", "too_large")             \
  X(CURLE_BAD_CONTENT_ENCODING,  "transport", "bad_content_encoding")  \
  X(CURLE_SSL_CONNECT_ERROR,     "transport", "tls_connect")           \
  X(CURLE_PEER_FAILED_VERIFICATION, "transport", "tls_verify")         \
  X(CURLE_SSL_CACERT_BADFILE,    "transport", "tls_ca_file")           \
  X(CURLE_UNSUPPORTED_PROTOCOL,  "transport", "unsupported_protocol")  \
  X(CURLE_URL_MALFORMAT,         "transport", "bad_url")               \
  X(CURLE_WEIRD_SERVER_REPLY,    "transport", "bad_reply")             \
  X(CURLE_TOO_MANY_REDIRECTS,    "transport", "redirect")              \
  X(CURLE_OUT_OF_MEMORY,         "transport", "out_of_memory")         \
  X(CURLE_ABORTED_BY_CALLBACK,   "transport", "cancelled")

typedef struct curl_error_row {
  CURLcode rc;
  const char *kind;
  const char *code;
} curl_error_row;

#define HC_ROW(rc, kind, code) { rc, kind, code },
static const curl_error_row rows[] = { HC_CURL_ERRORS(HC_ROW) };
#undef HC_ROW

static const curl_error_row *find(CURLcode rc) {
  size_t i;
  for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (rows[i].rc == rc) return &rows[i];
  return NULL;
}

const char *hc_curl_kind(CURLcode rc) {
  const curl_error_row *r = find(rc);
  return r ? r->kind : "transport";
}

const char *hc_curl_code(CURLcode rc) {
  const curl_error_row *r = find(rc);
  return r ? r->code : "curl_error";
}
