/*
 * The client userdata: a libcurl multi handle with a pool of easy handles,
 * reused across requests so connections stay alive, and the request
 * userdata it hands out.
 *
 * Non-blocking primitives: client:start() adds a request, client:step()
 * drives every transfer once, client:collect() takes a finished one (decoded
 * in C). Three ways to wait are built on them:
 *   - client:wait(request)   blocks in curl_multi_poll (curl_multi_wait
 *                            before 7.66) on the sockets themselves: scripts;
 *   - event mode             (core.new{ events = true }): curl tells which
 *                            sockets to watch and when its timer is due
 *                            (client:changes()), the host's loop watches
 *                            them and calls client:socket_action(): libuv;
 *   - client:step()          returns how long curl can wait, for hosts that
 *                            only have a sleep.
 *
 * C reports facts (status, a name for libcurl's result, headers, bytes,
 * timings); the Lua layer decides what they mean. libcurl callbacks only
 * append bytes to C buffers and record sockets; Lua is touched after curl
 * returns, so no error ever unwinds through curl. Memory the core owns comes
 * from the Lua state's allocator, so an allocation failure anywhere is a
 * Lua memory error. close, __gc and __close free the same state and are safe
 * to run twice.
 */
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <time.h>

#include "hc.h"

#define CLIENT_MT "helpcrunch.client"
#define REQUEST_MT "helpcrunch.request"

enum { RQ_PENDING, RQ_DONE, RQ_COLLECTED, RQ_CANCELLED };

typedef struct hc_request hc_request;

/* The Lua state's allocator, kept where memory is freed without a state. */
typedef struct hc_mem {
  lua_Alloc f;
  void *ud;
} hc_mem;

typedef struct hc_sock_change {
  curl_socket_t fd;
  int what;                     /* CURL_POLL_IN/OUT/INOUT/REMOVE */
} hc_sock_change;

typedef struct hc_client {
  CURLM *multi;
  hc_mem mem;
  CURL **idle;                  /* easy handles ready for reuse */
  int nidle, idle_cap;
  struct curl_slist *get_headers, *body_headers;
  hc_request *requests;         /* started and not yet collected/cancelled */
  long timeout_ms, connect_timeout_ms;
  curl_off_t max_body;
  int verify_tls;
  char *user_agent, *ca_file, *proxy;
  hc_decode_hints hints;
  /* event mode: what curl asked for since the host last looked */
  int events;
  hc_sock_change *changes;
  int nchanges, changes_cap;
  long timer_ms;                /* curl's latest timer request */
  int timer_changed;
  int oom;                      /* a callback could not record: raise later */
} hc_client;

struct hc_request {
  hc_client *client;            /* NULL once the client closed under it */
  hc_mem mem;
  hc_request *prev, *next;
  CURL *easy;
  int state;
  CURLcode rc;
  long status;
  char *body;
  size_t len, cap;
  int too_large, oom;
  char retry_after[64];
  char location[256];
  char content_type[96];
  char errbuf[CURL_ERROR_SIZE];
};

typedef struct request_box { hc_request *r; } request_box;

/* ---- memory ------------------------------------------------------------- */

static void *mem_alloc(hc_mem *m, void *p, size_t osize, size_t nsize) {
  return m->f(m->ud, p, osize, nsize);
}

static void mem_free(hc_mem *m, void *p, size_t size) {
  if (p) (void)m->f(m->ud, p, size, 0);
}

static char *mem_strdup(hc_mem *m, const char *s) {
  size_t n = strlen(s) + 1;
  char *d = (char *)mem_alloc(m, NULL, 0, n);
  if (d) memcpy(d, s, n);
  return d;
}

static void mem_strfree(hc_mem *m, char *s) {
  if (s) mem_free(m, s, strlen(s) + 1);
}

/* Free a header list, zeroing every entry first: one of them is the token. */
static void free_headers(struct curl_slist *l) {
  struct curl_slist *i;
  for (i = l; i; i = i->next)
    if (i->data) memset(i->data, 0, strlen(i->data));
  curl_slist_free_all(l);
}

/* ---- helpers ------------------------------------------------------------ */

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
    nb = (char *)mem_alloc(&r->mem, r->body, r->cap, cap);
    if (nb == NULL) { r->oom = 1; return 0; }
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
    /* Pre-size the body once; a lie costs only memory already capped. A
     * failure here is not fatal: the body callback tries again. */
    unsigned long long want = strtoull(len, NULL, 10);
    if (want > 0 && r->client &&
        (r->client->max_body <= 0 || want <= (unsigned long long)r->client->max_body)) {
      (void)reserve_body(r, (size_t)want);
      r->oom = 0;
    }
  }
  return n;
}

/* Event mode: remember what curl wants watched; the host applies it. */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp) {
  hc_client *c = (hc_client *)ud;
  int i;
  (void)e; (void)sockp;
  /* The latest change for this fd is updated in place, unless it was a
   * REMOVE: curl closed that socket, and a new one with the same number must
   * reach the host as a new watch (an old poll handle would never fire). */
  for (i = c->nchanges - 1; i >= 0; i--)
    if (c->changes[i].fd == fd) {
      if (c->changes[i].what == CURL_POLL_REMOVE) break;
      c->changes[i].what = what;
      return 0;
    }
  if (c->nchanges == c->changes_cap) {
    int cap = c->changes_cap ? c->changes_cap * 2 : 8;
    hc_sock_change *nc = (hc_sock_change *)mem_alloc(&c->mem, c->changes,
        (size_t)c->changes_cap * sizeof *nc, (size_t)cap * sizeof *nc);
    if (nc == NULL) { c->oom = 1; return 0; }
    c->changes = nc;
    c->changes_cap = cap;
  }
  c->changes[c->nchanges].fd = fd;
  c->changes[c->nchanges].what = what;
  c->nchanges++;
  return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *ud) {
  hc_client *c = (hc_client *)ud;
  (void)m;
  c->timer_ms = timeout_ms;
  c->timer_changed = 1;
  return 0;
}

/* ---- the easy handle pool ----------------------------------------------- */

static void release_easy(hc_client *c, CURL *e) {
  if (c->nidle == c->idle_cap) {
    int cap = c->idle_cap ? c->idle_cap * 2 : 4;
    CURL **ni = (CURL **)mem_alloc(&c->mem, c->idle, (size_t)c->idle_cap * sizeof(CURL *),
                                   (size_t)cap * sizeof(CURL *));
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
  mem_free(&r->mem, r->body, r->cap);
  r->body = NULL;
  r->len = r->cap = 0;
}

/* ---- client ------------------------------------------------------------- */

static void opt_string(lua_State *L, hc_client *c, int idx, const char *field, char **dst) {
  lua_getfield(L, idx, field);
  if (!lua_isnil(L, -1)) {
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    if (s == NULL) luaL_error(L, "helpcrunch: option '%s' must be a string", field);
    if (strpbrk(s, "\r\n") || strlen(s) != n)
      luaL_error(L, "helpcrunch: option '%s' has a line break or a NUL", field);
    *dst = mem_strdup(&c->mem, s);
    if (*dst == NULL) luaL_error(L, "not enough memory");
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
  mem_free(&c->mem, c->idle, (size_t)c->idle_cap * sizeof(CURL *));
  c->idle = NULL;
  c->nidle = c->idle_cap = 0;
  if (c->multi) curl_multi_cleanup(c->multi);
  c->multi = NULL;
  mem_free(&c->mem, c->changes, (size_t)c->changes_cap * sizeof(hc_sock_change));
  c->changes = NULL;
  c->nchanges = c->changes_cap = 0;
  free_headers(c->get_headers);
  free_headers(c->body_headers);
  c->get_headers = c->body_headers = NULL;
  mem_strfree(&c->mem, c->user_agent);
  mem_strfree(&c->mem, c->ca_file);
  mem_strfree(&c->mem, c->proxy);
  c->user_agent = c->ca_file = c->proxy = NULL;
}

/* Append h to *list; on failure the list is as it was (curl >= 7.x keeps
 * it), still owned by the client, so __gc frees it exactly once. */
static void add_header(lua_State *L, struct curl_slist **list, const char *h) {
  struct curl_slist *n = curl_slist_append(*list, h);
  if (n == NULL) luaL_error(L, "not enough memory");
  *list = n;
}

/* core.new{ token=, user_agent=, timeout=, connect_timeout=, verify_tls=,
 *           ca_file=, proxy=, max_body=, events= } -> client. Checked in Lua
 * first. The userdata owns everything from the moment it exists, so an
 * error half way leaves nothing its __gc does not free. */
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
  c->mem.f = lua_getallocf(L, &c->mem.ud);
  c->timer_ms = -1;
  luaL_getmetatable(L, CLIENT_MT);
  lua_setmetatable(L, -2);
  c->timeout_ms = seconds_to_ms(opt_number(L, 1, "timeout", 30));
  c->connect_timeout_ms = seconds_to_ms(opt_number(L, 1, "connect_timeout", 10));
  c->max_body = (curl_off_t)opt_number(L, 1, "max_body", 64.0 * 1024 * 1024);
  lua_getfield(L, 1, "verify_tls");
  c->verify_tls = lua_isnil(L, -1) || lua_toboolean(L, -1);
  lua_getfield(L, 1, "events");
  c->events = lua_toboolean(L, -1);
  lua_pop(L, 2);
  opt_string(L, c, 1, "user_agent", &c->user_agent);
  opt_string(L, c, 1, "ca_file", &c->ca_file);
  opt_string(L, c, 1, "proxy", &c->proxy);

  c->multi = curl_multi_init();
  if (c->multi == NULL) return luaL_error(L, "not enough memory");
  curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 8L);
  if (c->events) {
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, (void *)c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, (void *)c);
  }

  add_header(L, &c->get_headers, "Accept: application/json");
  add_header(L, &c->body_headers, "Accept: application/json");
  add_header(L, &c->body_headers, "Content-Type: application/json");
  add_header(L, &c->body_headers, "Expect:");   /* no 100-continue wait */
  /* The Authorization line is built in a userdata (collected if anything
   * below raises) and zeroed as soon as curl has its copy. */
  auth = (char *)lua_newuserdata(L, tlen + 32);
  memcpy(auth, "Authorization: Bearer ", 22);
  memcpy(auth + 22, token, tlen + 1);
  {
    struct curl_slist *g = curl_slist_append(c->get_headers, auth), *b = NULL;
    if (g) c->get_headers = g;
    if (g) b = curl_slist_append(c->body_headers, auth);
    if (b) c->body_headers = b;
    memset(auth, 0, tlen + 22);
    if (!g || !b) return luaL_error(L, "not enough memory");
  }
  lua_pop(L, 1);
  return 1;
}

static int client_close(lua_State *L) {
  hc_client *c = (hc_client *)luaL_checkudata(L, 1, CLIENT_MT);
  free_client(c);
  return 0;
}

/* Set the options every request has. Options that copy a string can fail
 * (out of memory): the first failure is returned, and the request must not
 * go out half configured (a URL that failed to copy is not the URL asked). */
static CURLcode set_common(hc_client *c, hc_request *r, CURL *e) {
  CURLcode rc = CURLE_OK;
#define HC_SET(opt, val) do { CURLcode x_ = curl_easy_setopt(e, opt, val); \
                              if (rc == CURLE_OK) rc = x_; } while (0)
  HC_SET(CURLOPT_PRIVATE, (void *)r);
  HC_SET(CURLOPT_NOSIGNAL, 1L);
  HC_SET(CURLOPT_WRITEFUNCTION, on_body);
  HC_SET(CURLOPT_WRITEDATA, (void *)r);
  HC_SET(CURLOPT_HEADERFUNCTION, on_header);
  HC_SET(CURLOPT_HEADERDATA, (void *)r);
  HC_SET(CURLOPT_ERRORBUFFER, r->errbuf);
  HC_SET(CURLOPT_ACCEPT_ENCODING, "");           /* every encoding curl has */
  HC_SET(CURLOPT_FOLLOWLOCATION, 0L);            /* a 3xx is an error */
#if HC_CURL_VER_GE(7, 85, 0)
  HC_SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  HC_SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  HC_SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
  HC_SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  if (c->max_body > 0) HC_SET(CURLOPT_MAXFILESIZE_LARGE, c->max_body);
  HC_SET(CURLOPT_SSL_VERIFYPEER, c->verify_tls ? 1L : 0L);
  HC_SET(CURLOPT_SSL_VERIFYHOST, c->verify_tls ? 2L : 0L);
  if (c->ca_file) HC_SET(CURLOPT_CAINFO, c->ca_file);
  if (c->proxy) HC_SET(CURLOPT_PROXY, c->proxy);
  else HC_SET(CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
  if (c->user_agent) HC_SET(CURLOPT_USERAGENT, c->user_agent);
  return rc;
}

/* client:start(method, url, body?, fresh?) -> request.
 * fresh: use a new connection. Given for requests that must not be replayed
 * (writes): libcurl silently resends a request whose reused connection died
 * before any response byte, which could apply a write twice. */
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

  r = (hc_request *)mem_alloc(&c->mem, NULL, 0, sizeof(hc_request));
  if (r == NULL) return luaL_error(L, "not enough memory");
  memset(r, 0, sizeof *r);
  r->mem = c->mem;
  box->r = r;
  e = acquire_easy(c);
  if (e == NULL) return luaL_error(L, "not enough memory");
  r->easy = e;
  r->client = c;
  r->state = RQ_PENDING;
  r->next = c->requests;
  if (c->requests) c->requests->prev = r;
  c->requests = r;

  {
    CURLcode rc = set_common(c, r, e);
    HC_SET(CURLOPT_URL, url);
    if (strcmp(method, "GET") == 0) {
      HC_SET(CURLOPT_HTTPGET, 1L);
      HC_SET(CURLOPT_HTTPHEADER, c->get_headers);
    } else {
      if (strcmp(method, "POST") != 0) HC_SET(CURLOPT_CUSTOMREQUEST, method);
      HC_SET(CURLOPT_HTTPHEADER, c->body_headers);
      HC_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
      HC_SET(CURLOPT_COPYPOSTFIELDS, body ? body : "");
    }
    if (fresh) HC_SET(CURLOPT_FRESH_CONNECT, 1L);
#undef HC_SET
    if (rc != CURLE_OK) {
      detach_request(r);
      if (rc == CURLE_OUT_OF_MEMORY) return luaL_error(L, "not enough memory");
      return luaL_error(L, "helpcrunch: curl_easy_setopt: %s", curl_easy_strerror(rc));
    }
  }
  mrc = curl_multi_add_handle(c->multi, e);
  if (mrc != CURLM_OK) {
    detach_request(r);
    if (mrc == CURLM_OUT_OF_MEMORY) return luaL_error(L, "not enough memory");
    return luaL_error(L, "helpcrunch: curl_multi_add_handle: %s", curl_multi_strerror(mrc));
  }
  return 1;
}

/* Mark the finished transfers. */
static void reap(hc_client *c) {
  int left;
  CURLMsg *m;
  while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
    hc_request *r = NULL;
    if (m->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    if (r == NULL) continue;
    r->rc = m->data.result;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    r->state = RQ_DONE;
  }
}

/* Drive every transfer once; mark the finished ones. */
static int drive(hc_client *c) {
  int running = 0;
  curl_multi_perform(c->multi, &running);
  reap(c);
  return running;
}

static hc_client *check_polling(lua_State *L, int idx) {
  hc_client *c = check_client(L, idx);
  if (c->events) luaL_error(L, "helpcrunch: this client is driven by an event loop");
  return c;
}

/* client:step() -> running, seconds until curl wants to be driven again */
static int client_step(lua_State *L) {
  hc_client *c = check_polling(L, 1);
  long ms = -1;
  int running = drive(c);
  curl_multi_timeout(c->multi, &ms);
  lua_pushinteger(L, running);
  lua_pushnumber(L, ms < 0 ? 1.0 : (lua_Number)ms / 1000.0);
  return 2;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* client:wait(request, seconds?) -> true when done, false when the time ran
 * out first. Sleeps in the kernel on curl's own sockets (curl_multi_poll,
 * or curl_multi_wait before 7.66) and drives every transfer, not only this
 * one, so prefetched pages make progress too. */
static int client_wait(lua_State *L) {
  hc_client *c = check_polling(L, 1);
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
#if HC_CURL_VER_GE(7, 66, 0)
    curl_multi_poll(c->multi, NULL, 0, wait_ms, NULL);
#else
    curl_multi_wait(c->multi, NULL, 0, wait_ms, NULL);
#endif
    drive(c);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- event mode ---------------------------------------------------------- */

static hc_client *check_events(lua_State *L, int idx) {
  hc_client *c = check_client(L, idx);
  if (!c->events) luaL_error(L, "helpcrunch: this client was not made with events = true");
  return c;
}

/* client:socket_action(fd, readable, writable) drives the transfers on one
 * socket; client:socket_action() (no fd) is curl's timer firing. Returns
 * the number of transfers still running. */
static int client_socket_action(lua_State *L) {
  hc_client *c = check_events(L, 1);
  int running = 0, mask = 0;
  curl_socket_t fd = CURL_SOCKET_TIMEOUT;
  if (!lua_isnoneornil(L, 2)) {
    fd = (curl_socket_t)luaL_checkinteger(L, 2);
    if (lua_toboolean(L, 3)) mask |= CURL_CSELECT_IN;
    if (lua_toboolean(L, 4)) mask |= CURL_CSELECT_OUT;
    if (lua_toboolean(L, 5)) mask |= CURL_CSELECT_ERR;
  }
  curl_multi_socket_action(c->multi, fd, mask, &running);
  reap(c);
  lua_pushinteger(L, running);
  return 1;
}

/* client:changes() -> sockets, timer.
 * sockets: nil, or a list {fd, what, fd, what, ...} where what is "r", "w",
 * "rw" or "remove", in the order curl asked; timer: nil when unchanged, else
 * the milliseconds until curl's timer is due (-1: no timer). */
static int client_changes(lua_State *L) {
  static const char *whats[] = { "none", "r", "w", "rw", "remove" };
  hc_client *c = check_events(L, 1);
  int i;
  if (c->oom) { c->oom = 0; return luaL_error(L, "not enough memory"); }
  if (c->nchanges == 0) {
    lua_pushnil(L);
  } else {
    lua_createtable(L, 2 * c->nchanges, 0);
    for (i = 0; i < c->nchanges; i++) {
      int w = c->changes[i].what;
      lua_pushinteger(L, (lua_Integer)c->changes[i].fd);
      lua_rawseti(L, -2, 2 * i + 1);
      lua_pushstring(L, whats[(w >= 0 && w <= 4) ? w : 0]);
      lua_rawseti(L, -2, 2 * i + 2);
    }
    c->nchanges = 0;
  }
  if (c->timer_changed) {
    c->timer_changed = 0;
    lua_pushinteger(L, c->timer_ms);
  } else {
    lua_pushnil(L);
  }
  return 2;
}

/* ---- results ------------------------------------------------------------- */

static void set_str(lua_State *L, const char *k, const char *v) {
  if (v && *v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
  }
}

/* client:collect(request, decode?) -> facts, or nil while pending.
 * facts: status, seconds, sent (bytes of the request went out), bytes (of
 * the body), retry_after, location, content_type; on a libcurl failure
 * `failure` (a stable name for curl's result, e.g. "couldnt_connect") and
 * `message`; otherwise body (decoded), or decode_error + decode_at + raw
 * (the first bytes), or raw (the whole body) when decode is false. */
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
  if (r->oom || r->rc == CURLE_OUT_OF_MEMORY) {   /* ours, or libcurl's own */
    free_body(r);
    detach_request(r);
    r->state = RQ_COLLECTED;
    return luaL_error(L, "not enough memory");
  }
  lua_createtable(L, 0, 12);
  if (r->easy) {
    curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &total);
    curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &sent);
  }
  lua_pushnumber(L, total);
  lua_setfield(L, -2, "seconds");
  lua_pushboolean(L, sent > 0);
  lua_setfield(L, -2, "sent");
  lua_pushinteger(L, (lua_Integer)r->len);
  lua_setfield(L, -2, "bytes");
  if (r->status > 0) {
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
  }
  set_str(L, "retry_after", r->retry_after);
  set_str(L, "location", r->location);
  set_str(L, "content_type", r->content_type);
  if (r->rc != CURLE_OK) {
    lua_pushstring(L, r->too_large ? "too_large" : hc_curl_name(r->rc));
    lua_setfield(L, -2, "failure");
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
    hc_mem mem = r->mem;
    detach_request(r);
    free_body(r);
    mem_free(&mem, r, sizeof *r);
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
  { "socket_action", client_socket_action },
  { "changes", client_changes },
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
