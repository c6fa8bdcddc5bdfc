/*
 * Numbers between JSON text and doubles, exactly, whatever the C locale.
 *
 * Neovim and OpenResty set locales and a script may call os.setlocale; under
 * an LC_NUMERIC whose decimal point is not '.', strtod stops at the '.' and
 * printf writes another point (ps_AF's is two bytes). So nothing here reads
 * or writes a point through the C library:
 *
 * - hc_number_parse is the decoder's slow path (its fast paths, exact by
 *   construction, are in json_decode.c): the correctly rounded double of a
 *   JSON number, by big-decimal arithmetic (the algorithm of Go's strconv
 *   fallback, after Nigel Tao's description): the decimal is shifted by
 *   powers of two until it lies in [1/2, 1), then 53 bits are taken and
 *   rounded half to even; digits past 800 only decide ties ("trunc").
 * - hc_number_format writes a double as JSON. Its digits come from printf's
 *   %e, whose digits and exponent no locale changes (glibc's are exact); the
 *   point, whatever bytes the locale uses, is dropped and '.' written by us.
 *   Each candidate is checked with hc_number_parse, not strtod.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hc.h"

#define DEC_DIGITS 800
#define MAX_SHIFT 60            /* 9 << 60 plus a carry still fits 64 bits */

typedef struct decimal {
  unsigned char d[DEC_DIGITS];  /* digit values 0..9, most significant first */
  int nd;                       /* digits used */
  int dp;                       /* value = 0.d[0]d[1]... x 10^dp */
  int trunc;                    /* nonzero digits were dropped past d[DEC_DIGITS-1] */
} decimal;

static void trim(decimal *a) {
  while (a->nd > 0 && a->d[a->nd - 1] == 0) a->nd--;
  if (a->nd == 0) a->dp = 0;
}

/* a /= 2^k, k <= MAX_SHIFT. */
static void right_shift(decimal *a, unsigned k) {
  int r = 0, w = 0;
  uint64_t n = 0, mask = ((uint64_t)1 << k) - 1;
  for (; (n >> k) == 0; r++) {          /* enough leading digits for one output digit */
    if (r >= a->nd) {
      if (n == 0) { a->nd = 0; a->dp = 0; return; }
      while ((n >> k) == 0) { n *= 10; r++; }
      break;
    }
    n = n * 10 + a->d[r];
  }
  a->dp -= r - 1;
  for (; r < a->nd; r++) {
    unsigned dig = (unsigned)(n >> k);
    n &= mask;
    a->d[w++] = (unsigned char)dig;
    n = n * 10 + a->d[r];
  }
  while (n > 0) {
    unsigned dig = (unsigned)(n >> k);
    n &= mask;
    if (w < DEC_DIGITS) a->d[w++] = (unsigned char)dig;
    else if (dig > 0) a->trunc = 1;
    n *= 10;
  }
  a->nd = w;
  trim(a);
}

/* a *= 2^k, k <= MAX_SHIFT. */
static void left_shift(decimal *a, unsigned k) {
  unsigned char tmp[DEC_DIGITS + 20];   /* 2^60 adds at most 19 digits */
  int r, w = (int)sizeof tmp, len, keep, i;
  uint64_t n = 0;
  for (r = a->nd - 1; r >= 0; r--) {
    uint64_t q;
    n += (uint64_t)a->d[r] << k;
    q = n / 10;
    tmp[--w] = (unsigned char)(n - 10 * q);
    n = q;
  }
  while (n > 0) {
    uint64_t q = n / 10;
    tmp[--w] = (unsigned char)(n - 10 * q);
    n = q;
  }
  len = (int)sizeof tmp - w;
  keep = len < DEC_DIGITS ? len : DEC_DIGITS;
  memcpy(a->d, tmp + w, (size_t)keep);
  for (i = keep; i < len; i++)
    if (tmp[w + i]) a->trunc = 1;
  a->dp += len - a->nd;
  a->nd = keep;
  trim(a);
}

static void shift(decimal *a, int k) {
  if (a->nd == 0) return;
  for (; k > MAX_SHIFT; k -= MAX_SHIFT) left_shift(a, MAX_SHIFT);
  for (; k < -MAX_SHIFT; k += MAX_SHIFT) right_shift(a, MAX_SHIFT);
  if (k > 0) left_shift(a, (unsigned)k);
  else if (k < 0) right_shift(a, (unsigned)-k);
}

/* Round the digits at and after position nd: half to even, a tie broken
 * upwards when digits were dropped. */
static int round_up(const decimal *a, int nd) {
  if (nd < 0 || nd >= a->nd) return 0;
  if (a->d[nd] == 5 && nd + 1 == a->nd) {
    if (a->trunc) return 1;
    return nd > 0 && (a->d[nd - 1] & 1);
  }
  return a->d[nd] >= 5;
}

static uint64_t rounded_integer(const decimal *a) {
  int i;
  uint64_t n = 0;
  if (a->dp > 20) return UINT64_MAX;
  for (i = 0; i < a->dp && i < a->nd; i++) n = n * 10 + a->d[i];
  for (; i < a->dp; i++) n *= 10;
  if (round_up(a, a->dp)) n++;
  return n;
}

/* How far to shift for a decimal point at dp (Go's powtab). */
static int pow2_for(int dp) {
  static const int powtab[] = { 1, 3, 6, 9, 13, 16, 19, 23, 26 };
  return dp < (int)(sizeof powtab / sizeof powtab[0]) ? powtab[dp] : 27;
}

/* The double nearest to a, rounded half to even. */
static double to_double(decimal *a, int neg) {
  const int bias = -1023, mantbits = 52, expbits = 11;
  int bexp = 0;
  uint64_t mant, bits;
  double v;
  if (a->nd == 0) {
    mant = 0;
    bexp = bias;
  } else if (a->dp > 310) {
    goto overflow;
  } else if (a->dp < -330) {
    mant = 0;
    bexp = bias;
  } else {
    while (a->dp > 0) {
      int n = pow2_for(a->dp);
      shift(a, -n);
      bexp += n;
    }
    while (a->dp < 0 || (a->dp == 0 && a->d[0] < 5)) {
      int n = pow2_for(-a->dp);
      shift(a, n);
      bexp -= n;
    }
    bexp--;                              /* [1/2, 1) to [1, 2) */
    if (bexp < bias + 1) {               /* subnormal: fewer bits */
      int n = bias + 1 - bexp;
      shift(a, -n);
      bexp += n;
    }
    if (bexp - bias >= (1 << expbits) - 1) goto overflow;
    shift(a, 1 + mantbits);
    mant = rounded_integer(a);
    if (mant == (uint64_t)2 << mantbits) {   /* rounding carried into a new bit */
      mant >>= 1;
      bexp++;
      if (bexp - bias >= (1 << expbits) - 1) goto overflow;
    }
    if ((mant & ((uint64_t)1 << mantbits)) == 0) bexp = bias;
  }
  bits = mant & (((uint64_t)1 << mantbits) - 1);
  bits |= (uint64_t)((bexp - bias) & ((1 << expbits) - 1)) << mantbits;
  goto out;
overflow:
  bits = (uint64_t)((1 << expbits) - 1) << mantbits;   /* infinity, as strtod */
out:
  if (neg) bits |= (uint64_t)1 << 63;
  memcpy(&v, &bits, sizeof v);
  return v;
}

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)

double hc_number_parse(const char *s, size_t n) {
  const char *p = s, *end = s + n;
  decimal a;
  long long dp = 0, e = 0;
  int neg = 0;
  a.nd = 0;
  a.dp = 0;
  a.trunc = 0;
  if (p < end && *p == '-') { neg = 1; p++; }
  for (; p < end && IS_DIGIT(*p); p++) {
    if (a.nd == 0 && *p == '0') continue;           /* a leading zero is no digit */
    dp++;
    if (a.nd < DEC_DIGITS) a.d[a.nd++] = (unsigned char)(*p - '0');
    else if (*p != '0') a.trunc = 1;
  }
  if (p < end && *p == '.') {
    for (p++; p < end && IS_DIGIT(*p); p++) {
      if (a.nd == 0 && *p == '0') { dp--; continue; }
      if (a.nd < DEC_DIGITS) a.d[a.nd++] = (unsigned char)(*p - '0');
      else if (*p != '0') a.trunc = 1;
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    int eneg = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
    for (; p < end && IS_DIGIT(*p); p++)
      if (e < 1000000000000LL) e = e * 10 + (*p - '0');   /* past this it is 0 or inf */
    if (eneg) e = -e;
  }
  trim(&a);
  if (a.nd == 0) return neg ? -0.0 : 0.0;
  dp += e;
  a.dp = dp > 100000 ? 100000 : dp < -100000 ? -100000 : (int)dp;
  return to_double(&a, neg);
}

/* ---- writing ------------------------------------------------------------ */

static size_t put_uint(char *out, uint64_t v) {
  char tmp[20];
  size_t n = 0, i;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

size_t hc_format_integer(char *out, long long v) {
  if (v < 0) {
    out[0] = '-';
    return 1 + put_uint(out + 1, (uint64_t)0 - (uint64_t)v);
  }
  return put_uint(out, (uint64_t)v);
}

/* The significant digits (no trailing zeros) and decimal exponent of v at
 * `prec` digits: v ~ d1.d2d3... x 10^dexp. */
static int digits_of(double v, int prec, char *digits, int *dexp) {
  char buf[64];
  int n = snprintf(buf, sizeof buf, "%.*e", prec - 1, v), i, nd = 0, e = 0, eneg = 0;
  if (n <= 0 || n >= (int)sizeof buf) return 0;
  for (i = 0; i < n && buf[i] != 'e'; i++)      /* the point is whatever is not a digit */
    if (IS_DIGIT(buf[i])) digits[nd++] = buf[i];
  if (i >= n) return 0;
  i++;
  if (buf[i] == '-' || buf[i] == '+') eneg = buf[i++] == '-';
  for (; i < n && IS_DIGIT(buf[i]); i++) e = e * 10 + (buf[i] - '0');
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  *dexp = eneg ? -e : e;
  return nd;
}

/* d1.d2d3...e<x10>: the canonical text of digits, checked by parsing. */
static size_t put_exponent_form(char *out, const char *digits, int nd, int x10) {
  size_t n = 0;
  out[n++] = digits[0];
  if (nd > 1) {
    out[n++] = '.';
    memcpy(out + n, digits + 1, (size_t)nd - 1);
    n += (size_t)nd - 1;
  }
  out[n++] = 'e';
  out[n++] = x10 < 0 ? '-' : '+';
  if (x10 < 0) x10 = -x10;
  if (x10 < 10) out[n++] = '0';               /* two digits at least, as printf's %g */
  n += put_uint(out + n, (uint64_t)x10);
  return n;
}

size_t hc_format_double(char *out, double v) {
  char digits[24];
  int prec, nd = 0, x10 = 0;
  size_t n = 0;
  if (v == 0) {                                  /* -0 stays -0, as lua-cjson writes it */
    if (signbit(v)) out[n++] = '-';
    out[n++] = '0';
    return n;
  }
  if (floor(v) == v && fabs(v) <= 9007199254740992.0)   /* integral and exact: 3.0 -> 3 */
    return hc_format_integer(out, (long long)v);
  if (v < 0) {
    out[n++] = '-';
    v = -v;
  }
  for (prec = 15; prec <= 17; prec++) {          /* the shortest of 15..17 digits that reads back */
    char text[40];
    size_t tn;
    nd = digits_of(v, prec, digits, &x10);
    if (nd == 0) break;
    tn = put_exponent_form(text, digits, nd, x10);
    if (hc_number_parse(text, tn) == v) break;
  }
  if (x10 < -4 || v > 9007199254740992.0)      /* beyond 2^53 an exponent keeps it a float */
    return n + put_exponent_form(out + n, digits, nd, x10);
  if (x10 < 0) {                                 /* 0.000ddd */
    int z;
    out[n++] = '0';
    out[n++] = '.';
    for (z = 0; z < -x10 - 1; z++) out[n++] = '0';
    memcpy(out + n, digits, (size_t)nd);
    return n + (size_t)nd;
  }
  if (nd <= x10 + 1) {                           /* integral (not reached: handled above) */
    memcpy(out + n, digits, (size_t)nd);
    n += (size_t)nd;
    for (; nd <= x10; nd++) out[n++] = '0';
    return n;
  }
  memcpy(out + n, digits, (size_t)x10 + 1);      /* ddd.ddd */
  n += (size_t)x10 + 1;
  out[n++] = '.';
  memcpy(out + n, digits + x10 + 1, (size_t)(nd - x10 - 1));
  return n + (size_t)(nd - x10 - 1);
}
