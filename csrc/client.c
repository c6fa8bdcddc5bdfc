/*
 * The client userdata: a libcurl multi handle with a pool of easy handles,
 * reused across requests so connections stay alive, and the request
 * userdata it hands out.
 *
 * Non-blocking primitives: client:start() adds a request, client:step()
 * drives every transfer once, client:collect() takes a finished one (decoded
 * in C); client:wait() is the blocking wait built on them.
 *
 * libcurl callbacks only append bytes to C buffers and copy two headers;
 * Lua is touched after curl returns, so no error ever unwinds through curl.
 * close, __gc and __close free the same state and are safe to run twice.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hc.h"

#define CLIENT_MT "helpcrunch.client"
#define REQUEST_MT "helpcrunch.request"

enum { RQ_PENDING, RQ_DONE, RQ_COLLECTED, RQ_CANCELLED };

typedef struct hc_request hc_request;

typedef struct hc_client {
  CURLM *multi;
  CURL **idle;                  /* easy handles ready for reuse */
  int nidle, idle_cap;
  struct curl_slist *get_headers, *post_headers;
  hc_request *requests;         /* started and not yet collected/cancelled */
  long timeout_ms, connect_timeout_ms;
  curl_off_t max_body;
  int verify_tls;
  char *user_agent, *ca_file, *proxy;
  hc_decode_hints hints;
} hc_client;

struct hc_request {
  hc_client *client;            /* NULL once the client closed under it */
  hc_request *prev, *next;
  CURL *easy;
  int state;
  CURLcode rc;
  long status;
  char *body;
  size_t len, cap;
  int too_large;
  char retry_after[64];
  char location[256];
  char content_type[96];
  char errbuf[CURL_ERROR_SIZE];
};

typedef struct request_box { hc_request *r; } request_box;

/* ---- helpers ------------------------------------------------------------ */

static char *dupstr(const char *s) {
  char *d;
  size_t n;
  if (s == NULL) return NULL;
  n = strlen(s) + 1;
  d = (char *)malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static hc_client *check_client(lua_State *L, int idx) {
  hc_client *c = (hc_client *)luaL_checkudata(L, idx, CLIENT_MT);
  if (c->multi == NULL) luaL_error(L, "helpcrunch: the client is closed");
  return c;
}

static hc_request *check_request(lua_State *L, int idx) {
  request_box *b = (request_box *)luaL_checkudata(L, idx, REQUEST_MT);
  if (b->r == NULL) luaL_error(L, "helpcrunch: the request was released");
  return b->r;
}

/* ---- libcurl callbacks: bytes into C buffers, nothing else --------------- */

static int reserve_body(hc_request *r, size_t need) {
  if (need > r->cap) {
    size_t cap = r->cap ? r->cap : 16384;
    char *nb;
    while (cap < need) cap *= 2;
    nb = (char *)realloc(r->body, cap);
    if (nb == NULL) return 0;
    r->body = nb;
    r->cap = cap;
  }
  return 1;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  hc_request *r = (hc_request *)ud;
  size_t n = size * nmemb;
  if (r->client && r->client->max_body > 0 && (curl_off_t)(r->len + n) > r->client->max_body) {
    r->too_large = 1;
    return 0;                             /* curl stops with CURLE_WRITE_ERROR */
  }
  if (!reserve_body(r, r->len + n)) return 0;
  memcpy(r->body + r->len, ptr, n);
  r->len += n;
  return n;
}

/* Copy a header's value (trimmed) into dst if the line names it. */
static int copy_header(const char *line, size_t n, const char *name, char *dst, size_t cap) {
  size_t k = strlen(name), v;
  if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':') return 0;
  line += k + 1;
  n -= k + 1;
  while (n && (*line == ' ' || *line == '\t')) { line++; n--; }
  while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' ')) n--;
  v = n < cap - 1 ? n : cap - 1;
  memcpy(dst, line, v);
  dst[v] = '\0';
  return 1;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud) {
  hc_request *r = (hc_request *)ud;
  size_t n = size * nmemb;
  char len[32];
  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {   /* a new response (after 100) */
    r->retry_after[0] = r->location[0] = r->content_type[0] = '\0';
    r->len = 0;
    return n;
  }
  if (copy_header(line, n, "retry-after", r->retry_after, sizeof r->retry_after) ||
      copy_header(line, n, "location", r->location, sizeof r->location) ||
      copy_header(line, n, "content-type", r->content_type, sizeof r->content_type))
    return n;
  if (copy_header(line, n, "content-length", len, sizeof len)) {
    /* Pre-size the body once; a lie costs only memory already capped. */
    unsigned long long want = strtoull(len, NULL, 10);
    if (want > 0 && r->client &&
        (r->client->max_body <= 0 || want <= (unsigned long long)r->client->max_body))
      (void)reserve_body(r, (size_t)want);
  }
  return n;
}

/* ---- the easy handle pool ----------------------------------------------- */

static void release_easy(hc_client *c, CURL *e) {
  if (c->nidle == c->idle_cap) {
    int cap = c->idle_cap ? c->idle_cap * 2 : 4;
    CURL **ni = (CURL **)realloc(c->idle, (size_t)cap * sizeof(CURL *));
    if (ni == NULL) { curl_easy_cleanup(e); return; }
    c->idle = ni;
    c->idle_cap = cap;
  }
  c->idle[c->nidle++] = e;
}

static CURL *acquire_easy(hc_client *c) {
  if (c->nidle > 0) {
    CURL *e = c->idle[--c->nidle];
    curl_easy_reset(e);               /* the multi keeps the connections */
    return e;
  }
  return curl_easy_init();
}

static void unlink_request(hc_request *r) {
  hc_client *c = r->client;
  if (c == NULL) return;
  if (r->prev) r->prev->next = r->next;
  else c->requests = r->next;
  if (r->next) r->next->prev = r->prev;
  r->prev = r->next = NULL;
}

/* Take r out of its client: abort the transfer if it runs, keep the easy
 * handle for the next request. Safe on a request already released. */
static void detach_request(hc_request *r) {
  hc_client *c = r->client;
  if (c == NULL) return;
  if (r->easy) {
    curl_multi_remove_handle(c->multi, r->easy);
    release_easy(c, r->easy);
    r->easy = NULL;
  }
  unlink_request(r);
  r->client = NULL;
}

static void free_body(hc_request *r) {
  free(r->body);
  r->body = NULL;
  r->len = r->cap = 0;
}

/* ---- client ------------------------------------------------------------- */

static void opt_string(lua_State *L, int idx, const char *field, char **dst) {
  lua_getfield(L, idx, field);
  if (!lua_isnil(L, -1)) {
    const char *s = lua_tostring(L, -1);
    if (s == NULL) luaL_error(L, "helpcrunch: option '%s' must be a string", field);
    if (strpbrk(s, "\r\n")) luaL_error(L, "helpcrunch: option '%s' has a line break", field);
    *dst = dupstr(s);
    if (*dst == NULL) luaL_error(L, "helpcrunch: out of memory");
  }
  lua_pop(L, 1);
}

static lua_Number opt_number(lua_State *L, int idx, const char *field, lua_Number dflt) {
  lua_Number v = dflt;
  lua_getfield(L, idx, field);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER)
      luaL_error(L, "helpcrunch: option '%s' must be a number", field);
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* Seconds to libcurl's milliseconds, kept in 1 ms .. 1 week: 0 would mean
 * "no timeout" to libcurl, and a huge double must not overflow a long. */
static long seconds_to_ms(lua_Number s) {
  if (!(s >= 0.001)) return 1;                /* also NaN */
  if (s > 604800) return 604800000L;
  return (long)(s * 1000);
}

static void free_client(hc_client *c) {
  int i;
  while (c->requests) {
    hc_request *r = c->requests;
    detach_request(r);
    if (r->state == RQ_PENDING) r->state = RQ_CANCELLED;
  }
  for (i = 0; i < c->nidle; i++) curl_easy_cleanup(c->idle[i]);
  free(c->idle);
  c->idle = NULL;
  c->nidle = c->idle_cap = 0;
  if (c->multi) curl_multi_cleanup(c->multi);
  c->multi = NULL;
  curl_slist_free_all(c->get_headers);
  curl_slist_free_all(c->post_headers);
  c->get_headers = c->post_headers = NULL;
  free(c->user_agent);
  free(c->ca_file);
  free(c->proxy);
  c->user_agent = c->ca_file = c->proxy = NULL;
}

static struct curl_slist *add_header(lua_State *L, hc_client *c, struct curl_slist *l,
                                     const char *h) {
  struct curl_slist *n = curl_slist_append(l, h);
  if (n == NULL) {
    curl_slist_free_all(l);
    free_client(c);
    luaL_error(L, "helpcrunch: out of memory");
  }
  return n;
}

/* core.new{ token=, user_agent=, timeout=, connect_timeout=, verify_tls=,
 *           ca_file=, proxy=, max_body= } -> client. Checked in Lua first. */
int hc_client_new(lua_State *L) {
  hc_client *c;
  const char *token;
  char *auth;
  size_t tlen;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "token");
  token = lua_tolstring(L, -1, &tlen);
  if (token == NULL || tlen == 0 || strpbrk(token, "\r\n") || strlen(token) != tlen)
    return luaL_error(L, "helpcrunch: token must be a non-empty string without line breaks");
  c = (hc_client *)hc_newuserdata(L, sizeof(hc_client));
  memset(c, 0, sizeof *c);
  luaL_getmetatable(L, CLIENT_MT);
  lua_setmetatable(L, -2);
  c->timeout_ms = seconds_to_ms(opt_number(L, 1, "timeout", 30));
  c->connect_timeout_ms = seconds_to_ms(opt_number(L, 1, "connect_timeout", 10));
  c->max_body = (curl_off_t)opt_number(L, 1, "max_body", 64.0 * 1024 * 1024);
  lua_getfield(L, 1, "verify_tls");
  c->verify_tls = lua_isnil(L, -1) || lua_toboolean(L, -1);
  lua_pop(L, 1);
  opt_string(L, 1, "user_agent", &c->user_agent);
  opt_string(L, 1, "ca_file", &c->ca_file);
  opt_string(L, 1, "proxy", &c->proxy);

  c->multi = curl_multi_init();
  if (c->multi == NULL) return luaL_error(L, "helpcrunch: curl_multi_init failed");
  curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 8L);

  auth = (char *)malloc(tlen + 32);
  if (auth == NULL) { free_client(c); return luaL_error(L, "helpcrunch: out of memory"); }
  memcpy(auth, "Authorization: Bearer ", 22);
  memcpy(auth + 22, token, tlen + 1);
  c->get_headers = add_header(L, c, NULL, "Accept: application/json");
  c->get_headers = add_header(L, c, c->get_headers, auth);
  c->post_headers = add_header(L, c, NULL, "Accept: application/json");
  c->post_headers = add_header(L, c, c->post_headers, auth);
  c->post_headers = add_header(L, c, c->post_headers, "Content-Type: application/json");
  c->post_headers = add_header(L, c, c->post_headers, "Expect:");   /* no 100-continue wait */
  memset(auth, 0, tlen + 22);
  free(auth);
  return 1;
}

static int client_close(lua_State *L) {
  hc_client *c = (hc_client *)luaL_checkudata(L, 1, CLIENT_MT);
  free_client(c);
  return 0;
}

static void set_common(hc_client *c, hc_request *r, CURL *e) {
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)r);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)r);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");      /* every encoding curl has */
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);       /* a 3xx is an error */
#if HC_CURL_VER_GE(7, 85, 0)
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  if (c->max_body > 0) curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, c->max_body);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->verify_tls ? 2L : 0L);
  if (c->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
  if (c->proxy) curl_easy_setopt(e, CURLOPT_PROXY, c->proxy);
  else curl_easy_setopt(e, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
  if (c->user_agent) curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
}

/* client:start(method, url, body?, fresh?) -> request.
 * fresh: use a new connection. Given for requests that must not be replayed
 * (a create): libcurl silently resends a request whose reused connection
 * died before any response byte, which could create a customer twice. */
static int client_start(lua_State *L) {
  hc_client *c = check_client(L, 1);
  const char *method = luaL_checkstring(L, 2);
  const char *url = luaL_checkstring(L, 3);
  size_t blen = 0;
  const char *body = luaL_optlstring(L, 4, NULL, &blen);
  int fresh = lua_toboolean(L, 5);
  request_box *box;
  hc_request *r;
  CURL *e;
  CURLMcode mrc;

  box = (request_box *)hc_newuserdata(L, sizeof(request_box));
  box->r = NULL;
  luaL_getmetatable(L, REQUEST_MT);
  lua_setmetatable(L, -2);
#if LUA_VERSION_NUM == 501
  lua_createtable(L, 1, 0);           /* the request keeps its client alive */
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
#else
  lua_pushvalue(L, 1);
#endif
  hc_setuservalue(L, -2);

  r = (hc_request *)calloc(1, sizeof(hc_request));
  if (r == NULL) return luaL_error(L, "helpcrunch: out of memory");
  box->r = r;
  e = acquire_easy(c);
  if (e == NULL) return luaL_error(L, "helpcrunch: curl_easy_init failed");
  r->easy = e;
  r->client = c;
  r->state = RQ_PENDING;
  r->next = c->requests;
  if (c->requests) c->requests->prev = r;
  c->requests = r;

  set_common(c, r, e);
  curl_easy_setopt(e, CURLOPT_URL, url);
  if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->get_headers);
  } else {
    if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->post_headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "");
  }
  if (fresh) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  mrc = curl_multi_add_handle(c->multi, e);
  if (mrc != CURLM_OK) {
    detach_request(r);
    return luaL_error(L, "helpcrunch: curl_multi_add_handle: %s", curl_multi_strerror(mrc));
  }
  return 1;
}

/* Drive every transfer once; mark the finished ones. */
static int drive(hc_client *c) {
  int running = 0, left;
  CURLMsg *m;
  curl_multi_perform(c->multi, &running);
  while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
    hc_request *r = NULL;
    if (m->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    if (r == NULL) continue;
    r->rc = m->data.result;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    r->state = RQ_DONE;
  }
  return running;
}

/* client:step() -> running, seconds until curl wants to be driven again */
static int client_step(lua_State *L) {
  hc_client *c = check_client(L, 1);
  long ms = -1;
  int running = drive(c);
  curl_multi_timeout(c->multi, &ms);
  lua_pushinteger(L, running);
  lua_pushnumber(L, ms < 0 ? 0.05 : (lua_Number)ms / 1000.0);
  return 2;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* client:wait(request, seconds?) -> true when done, false when the time ran
 * out first. Blocks in curl_multi_poll; drives every transfer, not only this
 * one, so prefetched pages make progress too. */
static int client_wait(lua_State *L) {
  hc_client *c = check_client(L, 1);
  hc_request *r = check_request(L, 2);
  lua_Number limit = luaL_optnumber(L, 3, -1);
  double deadline = limit >= 0 ? now_seconds() + limit : 0;
  if (r->client != c) return luaL_error(L, "helpcrunch: request belongs to another client");
  drive(c);
  while (r->state == RQ_PENDING) {
    int wait_ms = 1000;
    if (limit >= 0) {
      double left = deadline - now_seconds();
      if (left <= 0) { lua_pushboolean(L, 0); return 1; }
      if (left * 1000 < wait_ms) wait_ms = (int)(left * 1000) + 1;
    }
    curl_multi_poll(c->multi, NULL, 0, wait_ms, NULL);
    drive(c);
  }
  lua_pushboolean(L, 1);
  return 1;
}

static void set_str(lua_State *L, const char *k, const char *v) {
  if (v && *v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
  }
}

/* client:collect(request, decode?) -> result table, or nil while pending.
 * result: status, body (decoded), decode_error, decode_at, raw (on a decode
 * error, the first bytes), retry_after, location, content_type, seconds, and
 * on a transport failure kind, code, message, sent. */
static int client_collect(lua_State *L) {
  hc_request *r = check_request(L, 2);
  int decode = lua_isnoneornil(L, 3) || lua_toboolean(L, 3);
  double total = 0;
  long sent = 0;
  (void)check_client(L, 1);
  lua_settop(L, 2);
  if (r->state == RQ_PENDING) return 0;
  if (r->state != RQ_DONE)
    return luaL_error(L, "helpcrunch: request already %s",
                      r->state == RQ_COLLECTED ? "collected" : "cancelled");
  lua_createtable(L, 0, 12);
  if (r->easy) {
    curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &total);
    curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &sent);
  }
  lua_pushnumber(L, total);
  lua_setfield(L, -2, "seconds");
  lua_pushboolean(L, sent > 0);
  lua_setfield(L, -2, "sent");
  if (r->status > 0) {
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
  }
  set_str(L, "retry_after", r->retry_after);
  set_str(L, "location", r->location);
  set_str(L, "content_type", r->content_type);
  if (r->rc != CURLE_OK) {
    const char *kind = r->too_large ? "too_large" : hc_curl_kind(r->rc);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, r->too_large ? "too_large" : hc_curl_code(r->rc));
    lua_setfield(L, -2, "code");
    lua_pushstring(L, r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->rc));
    lua_setfield(L, -2, "message");
  } else if (decode) {
    hc_client *c = r->client;
    int n = hc_decode(L, r->body ? r->body : "", r->len, lua_upvalueindex(1),
                      c ? &c->hints : NULL);
    if (n == 1) {
      lua_setfield(L, -2, "body");
    } else {
      lua_setfield(L, -4, "decode_at");
      lua_setfield(L, -3, "decode_error");
      lua_pop(L, 1);
      lua_pushlstring(L, r->body ? r->body : "", r->len < 200 ? r->len : 200);
      lua_setfield(L, -2, "raw");
    }
  } else {
    lua_pushlstring(L, r->body ? r->body : "", r->len);
    lua_setfield(L, -2, "raw");
  }
  free_body(r);
  detach_request(r);
  r->state = RQ_COLLECTED;
  return 1;
}

/* client:pending() -> number of requests started and not collected */
static int client_pending(lua_State *L) {
  hc_client *c = check_client(L, 1);
  int n = 0;
  hc_request *r;
  for (r = c->requests; r; r = r->next) n += r->state == RQ_PENDING;
  lua_pushinteger(L, n);
  return 1;
}

static int client_tostring(lua_State *L) {
  hc_client *c = (hc_client *)luaL_checkudata(L, 1, CLIENT_MT);
  lua_pushfstring(L, "helpcrunch.core client (%s)", c->multi ? "open" : "closed");
  return 1;
}

/* ---- request ------------------------------------------------------------ */

/* request:close() (= __gc = __close): cancel if running, free; safe twice. */
static int request_close(lua_State *L) {
  request_box *b = (request_box *)luaL_checkudata(L, 1, REQUEST_MT);
  hc_request *r = b->r;
  if (r) {
    detach_request(r);
    free_body(r);
    free(r);
    b->r = NULL;
  }
  return 0;
}

/* request:done() -> true once finished (collectable), false while running */
static int request_done(lua_State *L) {
  hc_request *r = check_request(L, 1);
  lua_pushboolean(L, r->state != RQ_PENDING);
  return 1;
}

/* request:cancel(): abort the transfer now; the request can't be collected */
static int request_cancel(lua_State *L) {
  hc_request *r = check_request(L, 1);
  detach_request(r);
  free_body(r);
  if (r->state == RQ_PENDING || r->state == RQ_DONE) r->state = RQ_CANCELLED;
  return 0;
}

static int request_tostring(lua_State *L) {
  request_box *b = (request_box *)luaL_checkudata(L, 1, REQUEST_MT);
  static const char *names[] = { "pending", "done", "collected", "cancelled" };
  lua_pushfstring(L, "helpcrunch.core request (%s)", b->r ? names[b->r->state] : "released");
  return 1;
}

static const luaL_Reg client_methods[] = {
  { "start", client_start },
  { "step", client_step },
  { "wait", client_wait },
  { "collect", client_collect },
  { "pending", client_pending },
  { "close", client_close },
  { NULL, NULL }
};

static const luaL_Reg request_methods[] = {
  { "done", request_done },
  { "cancel", request_cancel },
  { "close", request_close },
  { NULL, NULL }
};

/* Expects the interned key table at the top; leaves the stack as it was. */
static void new_metatable(lua_State *L, const char *name, const luaL_Reg *methods,
                          lua_CFunction gc, lua_CFunction tostring) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  lua_pushvalue(L, -3);
  hc_setfuncs(L, methods, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

void hc_client_open(lua_State *L) {
  new_metatable(L, CLIENT_MT, client_methods, client_close, client_tostring);
  new_metatable(L, REQUEST_MT, request_methods, request_close, request_tostring);
}
