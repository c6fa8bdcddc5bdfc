/*
 * libFuzzer target: the decoder with customer normalisation (hc_decode),
 * linked from csrc/ into a Lua 5.4 state, under ASan and UBSan.
 *
 * Oracles, beyond "no crash, no leak":
 * 1. it accepts exactly the texts the strict RFC 8259 validator accepts whose
 *    nesting is at most HC_MAX_DEPTH (harness.h: rfc_validate), and names a
 *    byte no later than where the text stopped being valid JSON;
 * 2. what it accepts equals the reference model: numbers as strtod_l in the
 *    "C" locale gives them (while LC_NUMERIC is ps_AF.UTF-8 or de_DE.UTF-8
 *    when installed, to catch any locale dependence), integers within int64
 *    exact, the last duplicate key winning, the customer normalisation;
 * 3. the same result with size hints (any data_len) as without;
 * 4. encode -> decode gives the same value again (integral floats up to 2^53
 *    come back as integers, the encoder's documented rule), and the encoder
 *    refuses only what it must (inf, invalid UTF-8, nesting past 64).
 */
#include "harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *locale_used = "C";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  static const char *locales[] = { "ps_AF.UTF-8", "de_DE.UTF-8", NULL };
  int i;
  (void)argc;
  (void)argv;
  for (i = 0; locales[i]; i++) {
    if (setlocale(LC_NUMERIC, locales[i]) != NULL) {
      locale_used = locales[i];
      break;
    }
  }
  if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "fuzz_decode: LC_NUMERIC=%s\n", locale_used);
  return 0;
}

/* Why the encoder may refuse a decoded value: inf, a string that is not
 * UTF-8, or nesting past 64 tables; NULL when it must encode it. */
static const char *refusal(lua_State *L, int idx, int depth) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      if (!lua_isinteger(L, idx) && isinf(lua_tonumber(L, idx))) return "infinity";
      return NULL;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      return utf8_valid((const unsigned char *)s, n) ? NULL : "invalid UTF-8";
    }
    case LUA_TTABLE: {
      const char *why = NULL;
      if (depth >= 64) return "nested too deeply";
      lua_pushnil(L);
      while (why == NULL && lua_next(L, idx)) {
        if (lua_type(L, -2) == LUA_TSTRING) why = refusal(L, -2, depth + 1);
        if (why == NULL) why = refusal(L, -1, depth + 1);
        lua_pop(L, 1);
      }
      if (why) lua_pop(L, 1);
      return why;
    }
    default:
      return NULL;
  }
}

static void report(const uint8_t *data, size_t size) {
  size_t i;
  fprintf(stderr, "input (%zu bytes): ", size);
  for (i = 0; i < size && i < 400; i++) {
    unsigned c = data[i];
    if (c >= 0x20 && c < 0x7f) fputc((int)c, stderr);
    else fprintf(stderr, "\\x%02x", c);
  }
  fprintf(stderr, "\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  alloc_state a = { 0, 0, 0, 0, 0 };
  lua_State *L;
  char *text;
  size_t where = 0;
  int maxdepth = 0, valid, status, nres, value;
  hc_decode_hints hints;

  /* A copy that ends exactly at size: ASan sees any read past the end. */
  text = (char *)malloc(size + 1);
  memcpy(text, data, size);
  text[size] = '\0';                     /* for the model only; the decoder gets size */
  valid = rfc_validate(text, size, &where, &maxdepth);

  L = lua_newstate(counting_alloc, &a);
  if (L == NULL) abort();
  luaL_checkstack(L, 40, NULL);

  status = run_decode(L, text, size, NULL, &nres);
  if (status != LUA_OK) {
    report(data, size);
    CHECK(0, "decode raised: %s", lua_tostring(L, -1));
  }
  value = lua_gettop(L) - nres + 1;
  if (valid && maxdepth <= HC_MAX_DEPTH) {
    if (nres != 1) report(data, size);
    CHECK(nres == 1, "valid JSON (depth %d) refused: %s", maxdepth, lua_tostring(L, value + 1));
    model_push(L, text);
    if (!same_value(L, value, -1, 0, 0)) {
      report(data, size);
      fprintf(stderr, "decoded: ");
      show_value(L, value, stderr, 0);
      fprintf(stderr, "\nmodel:   ");
      show_value(L, -1, stderr, 0);
      fprintf(stderr, "\n");
      CHECK(0, "the decoded value differs from the model (LC_NUMERIC=%s)", locale_used);
    }
    lua_pop(L, 1);
  } else {
    lua_Integer at;
    const char *msg;
    if (nres != 3) report(data, size);
    CHECK(nres == 3, "invalid JSON accepted (validator stopped at byte %zu, depth %d)", where + 1,
          maxdepth);
    CHECK(lua_isnil(L, value), "no nil first");
    msg = lua_tostring(L, value + 1);
    at = lua_tointeger(L, value + 2);
    CHECK(msg != NULL && strncmp(msg, "invalid JSON at byte ", 21) == 0, "message: %s", msg);
    CHECK(at >= 1 && (size_t)at <= size + 1, "offset %lld of %zu bytes", (long long)at, size);
    if (!valid) {
      if ((size_t)at - 1 > where) report(data, size);
      CHECK((size_t)at - 1 <= where, "error at byte %lld after the validator's %zu: %s",
            (long long)at, where + 1, msg);
    } else {
      CHECK(strstr(msg, "nested too deeply") != NULL, "too deep but: %s", msg);
    }
  }

  /* Size hints change nothing but table sizes. */
  hints.data_len = size ? (int)(data[0] * 7) - 200 : 0;
  if (nres == 1) {
    int n2, v2;
    status = run_decode(L, text, size, &hints, &n2);
    CHECK(status == LUA_OK && n2 == 1, "decode with hints failed");
    v2 = lua_gettop(L);
    CHECK(same_value(L, value, v2, 0, 0), "hints changed the value");
    status = run_decode(L, text, size, &hints, &n2);   /* hints from the last page */
    CHECK(status == LUA_OK && n2 == 1 && same_value(L, value, -1, 0, 0), "second hint changed it");
    lua_pop(L, 2);

    /* encode -> decode */
    status = run_encode(L, value);
    if (status == LUA_OK) {
      size_t en;
      const char *et = lua_tolstring(L, -1, &en);
      size_t ew;
      int ed, n3;
      CHECK(rfc_validate(et, en, &ew, &ed), "the encoder wrote invalid JSON: %s", et);
      CHECK(refusal(L, value, 0) == NULL, "the encoder took a value it must refuse: %s", et);
      status = run_decode(L, et, en, NULL, &n3);
      CHECK(status == LUA_OK && n3 == 1, "the encoder's output was refused: %s", et);
      if (!same_value(L, value, -1, 1, 0)) {
        report(data, size);
        fprintf(stderr, "encoded: %s\n", et);
        CHECK(0, "decode(encode(v)) differs from v");
      }
      lua_pop(L, 2);
    } else {
      const char *why = refusal(L, value, 0);
      const char *msg = lua_tostring(L, -1);
      if (why == NULL) report(data, size);
      CHECK(why != NULL, "the encoder refused an encodable value: %s", msg);
      CHECK(msg && strstr(msg, "cannot encode request body") &&
            (strstr(msg, "infinity") || strstr(msg, "invalid UTF-8") || strstr(msg, "nested too deeply")),
            "refused (%s) with: %s", why, msg);
      lua_pop(L, 1);
    }
  }

  lua_close(L);
  CHECK(a.in_use == 0, "%zu bytes leaked", a.in_use);
  free(text);
  return 0;
}
