/* scan.c - the scanner of bpftrace's JSON-lines output.
 *
 * Lines are split with memchr; a complete line inside the caller's buffer is
 * scanned in place, only a line cut by a feed boundary is copied (into a
 * buffer that never grows past SCAN_MAX_LINE). "value" lines, nearly all of
 * the output, go through a hand-written strict JSON reader that decodes the
 * strings into one reusable buffer: no allocation per event once that buffer
 * has grown to the longest line seen. Every other line is repaired (bpftrace's
 * \uffffffXX escapes, integers beyond int64) and handed to jansson.
 */
#include "parser/scan.h"

#include "parser/utf8.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_JSON_DEPTH 64  /* nesting skipped in members the fast path ignores */
#define SCAN_BAD_BYTES	200 /* bytes kept of a malformed line */

struct scanner {
	const struct event_layout *l;
	struct scan_callbacks cb;
	struct scan_stats st;

	char *part; /* a line cut by a feed boundary */
	size_t plen, pcap;
	bool discarding; /* inside a line longer than SCAN_MAX_LINE */

	char *sbuf; /* decoded strings of the current line */
	size_t slen, scap;

	char *rbuf; /* the repaired text of a line for jansson */
	size_t rcap;

	struct scan_value *raw; /* the tuple's columns as read */
	int maxraw;
	struct scan_value *values; /* the event's format values */
	int maxvalues;
};

/* Results of the fast path. */
enum { FAST_DONE = 0, FAST_BAD = 1, FAST_SLOW = 2 };

/* ---- small helpers ------------------------------------------------------- */

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && is_ws((unsigned char)*p))
		p++;
	return p;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at p (end checked by the caller), or -1. */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexval((unsigned char)p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* bpftrace's escape of one byte >= 0x80: "\uffffffXX" at p (p[0] is the
 * backslash). Returns the byte, or -1 when p does not hold one. */
static int ffff_escape(const char *p, const char *end)
{
	int hi, lo;

	if (end - p < 10 || p[1] != 'u')
		return -1;
	for (int i = 2; i < 8; i++)
		if (p[i] != 'f' && p[i] != 'F')
			return -1;
	hi = hexval((unsigned char)p[8]);
	lo = hexval((unsigned char)p[9]);
	if (hi < 0 || lo < 0)
		return -1;
	return hi * 16 + lo;
}

/* Eight ASCII digits loaded little-endian as w, as a number (the
 * SWAR method simdjson uses). */
static inline uint64_t eight_digits(uint64_t w)
{
	const uint64_t mask = 0x000000ff000000ffULL;
	const uint64_t mul1 = 100 + (1000000ULL << 32);
	const uint64_t mul2 = 1 + (10000ULL << 32);

	w -= 0x3030303030303030ULL;
	w = w * 10 + (w >> 8);
	return (((w & mask) * mul1) + (((w >> 16) & mask) * mul2)) >> 32;
}

/* A JSON integer at *pp: -?digits, no fraction or exponent. Values up to
 * UINT64_MAX keep their bits; negative ones go down to INT64_MIN. With
 * whole, the integer must end at end. Returns 0 and advances *pp, or -1. */
static int parse_int(const char **pp, const char *end, bool whole, int64_t *out)
{
	const char *p = *pp, *start, *stop;
	bool neg = false;
	uint64_t v;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= end || (unsigned)(*p - '0') > 9)
		return -1;
	if (*p == '0' && p + 1 < end && (unsigned)(p[1] - '0') <= 9)
		return -1; /* a leading zero */
	/* 19 digits cannot overflow a uint64; the 20th is checked */
	start = p;
	stop = end - p > 19 ? p + 19 : end;
	v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - p >= 8 && p - start <= 11) {
		uint64_t w;

		memcpy(&w, p, 8);
		if (((w + 0x4646464646464646ULL) | (w - 0x3030303030303030ULL)) & 0x8080808080808080ULL)
			break; /* not eight digits */
		v = v * 100000000 + eight_digits(w);
		p += 8;
	}
#endif
	while (p < stop && (unsigned)(*p - '0') <= 9)
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (p < end && (unsigned)(*p - '0') <= 9) {
		unsigned d = (unsigned)(*p - '0');

		if (p == start + 19 && v <= (UINT64_MAX - d) / 10)
			v = v * 10 + d;
		else
			return -1;
		p++;
		if (p < end && (unsigned)(*p - '0') <= 9)
			return -1;
	}
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return -1; /* a real number is not an integer column */
	if (whole && p != end)
		return -1;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		*out = (int64_t)v;
	}
	*pp = p;
	return 0;
}

/* A column that must hold an integer: a number, or (bpftrace 0.24+) a string
 * of one. */
static bool value_int(const struct scan_value *v, int64_t *out)
{
	const char *p;

	if (v->kind == SV_INT) {
		*out = v->i;
		return true;
	}
	if (v->kind != SV_STR)
		return false;
	p = v->s;
	return parse_int(&p, v->s + v->len, true, out) == 0;
}

/* ---- malformed lines ----------------------------------------------------- */

static void keep_bytes(char *dst, size_t *n, const char *src, size_t len)
{
	for (size_t i = 0; i < len && *n < SCAN_BAD_BYTES; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[(*n)++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
	}
}

/* Count a malformed line whose text is a followed by b; keep its start. */
static void malformed2(struct scanner *s, const char *a, size_t alen, const char *b, size_t blen)
{
	s->st.malformed++;
	if (s->st.nbad < SCAN_KEEP_BAD) {
		char *dst = s->st.bad[s->st.nbad++];
		size_t n = 0;

		keep_bytes(dst, &n, a, alen);
		keep_bytes(dst, &n, b, blen);
		dst[n] = '\0';
	}
}

static void malformed(struct scanner *s, const char *line, size_t len)
{
	malformed2(s, line, len, NULL, 0);
}

/* ---- the fast path: value lines ----------------------------------------- */

struct cursor {
	const char *p, *end;
};

/* A JSON string at c->p (the opening quote), decoded into sbuf at slen and
 * NUL-terminated; *out points at it. The buffer holds at least the line's
 * length + 1, and decoding never grows a string, so it cannot overflow. */
static int read_string(struct scanner *s, struct cursor *c, const char **out, size_t *outlen)
{
	const char *p = c->p + 1, *end = c->end;
	char *d0 = s->sbuf + s->slen, *d = d0;

	for (;;) {
		unsigned char ch;
		long cp;
		int b;

		/* the common case: a run of plain bytes */
		while (p < end && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
			*d++ = *p++;
		if (p >= end)
			return -1;
		ch = (unsigned char)*p;
		if (ch == '"')
			break;
		if (ch < 0x20)
			return -1; /* control characters must be escaped */
		/* a backslash */
		if (p + 1 >= end)
			return -1;
		switch (p[1]) {
		case '"':
			*d++ = '"';
			p += 2;
			continue;
		case '\\':
			*d++ = '\\';
			p += 2;
			continue;
		case '/':
			*d++ = '/';
			p += 2;
			continue;
		case 'b':
			*d++ = '\b';
			p += 2;
			continue;
		case 'f':
			*d++ = '\f';
			p += 2;
			continue;
		case 'n':
			*d++ = '\n';
			p += 2;
			continue;
		case 'r':
			*d++ = '\r';
			p += 2;
			continue;
		case 't':
			*d++ = '\t';
			p += 2;
			continue;
		case 'u':
			break;
		default:
			return -1;
		}
		b = ffff_escape(p, end);
		if (b >= 0) {
			*d++ = (char)b;
			p += 10;
			continue;
		}
		cp = end - p < 6 ? -1 : hex4(p + 2);
		if (cp < 0)
			return -1;
		p += 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			long lo = -1;

			if (end - p >= 6 && p[0] == '\\' && p[1] == 'u')
				lo = hex4(p + 2);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else {
				cp = 0xfffd; /* a lone high surrogate */
			}
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			cp = 0xfffd; /* a lone low surrogate */
		}
		if (cp < 0x80) {
			*d++ = (char)cp;
		} else if (cp < 0x800) {
			*d++ = (char)(0xc0 | (cp >> 6));
			*d++ = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			*d++ = (char)(0xe0 | (cp >> 12));
			*d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*d++ = (char)(0x80 | (cp & 0x3f));
		} else {
			*d++ = (char)(0xf0 | (cp >> 18));
			*d++ = (char)(0x80 | ((cp >> 12) & 0x3f));
			*d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*d++ = (char)(0x80 | (cp & 0x3f));
		}
	}
	*d = '\0';
	*out = d0;
	*outlen = (size_t)(d - d0);
	s->slen += (size_t)(d - d0) + 1;
	c->p = p + 1;
	return 0;
}

static bool match_lit(struct cursor *c, const char *lit, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* Check and step over any JSON value (members the fast path does not use). */
/* NOLINTNEXTLINE(misc-no-recursion): at most SCAN_JSON_DEPTH (64) levels, checked on entry */
static int skip_value(struct scanner *s, struct cursor *c, int depth)
{
	const char *str;
	size_t len, mark;
	int64_t iv;

	if (depth > SCAN_JSON_DEPTH)
		return -1;
	c->p = skip_ws(c->p, c->end);
	if (c->p >= c->end)
		return -1;
	switch (*c->p) {
	case '"':
		mark = s->slen;
		if (read_string(s, c, &str, &len) < 0)
			return -1;
		s->slen = mark;
		return 0;
	case '{':
	case '[': {
		char close = *c->p == '{' ? '}' : ']';
		bool obj = close == '}';

		c->p = skip_ws(c->p + 1, c->end);
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 0;
		}
		for (;;) {
			if (obj) {
				c->p = skip_ws(c->p, c->end);
				if (c->p >= c->end || *c->p != '"')
					return -1;
				if (skip_value(s, c, depth + 1) < 0)
					return -1;
				c->p = skip_ws(c->p, c->end);
				if (c->p >= c->end || *c->p != ':')
					return -1;
				c->p++;
			}
			if (skip_value(s, c, depth + 1) < 0)
				return -1;
			c->p = skip_ws(c->p, c->end);
			if (c->p < c->end && *c->p == ',') {
				c->p++;
				continue;
			}
			if (c->p < c->end && *c->p == close) {
				c->p++;
				return 0;
			}
			return -1;
		}
	}
	case 't':
		return match_lit(c, "true", 4) ? 0 : -1;
	case 'f':
		return match_lit(c, "false", 5) ? 0 : -1;
	case 'n':
		return match_lit(c, "null", 4) ? 0 : -1;
	default:
		if (parse_int(&c->p, c->end, false, &iv) == 0)
			return 0;
		/* a real number: -?int[.digits][e[+-]digits] */
		if (c->p < c->end && *c->p == '-')
			c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return -1;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
		if (c->p < c->end && *c->p == '.') {
			const char *q = ++c->p;

			while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
				c->p++;
			if (c->p == q)
				return -1;
		}
		if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
			const char *q;

			c->p++;
			if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
				c->p++;
			q = c->p;
			while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
				c->p++;
			if (c->p == q)
				return -1;
		}
		return 0;
	}
}

/* The tuple: an array of integers, strings and nulls, into s->raw. */
static int read_tuple(struct scanner *s, struct cursor *c, int *nraw)
{
	int n = 0;

	c->p = skip_ws(c->p, c->end);
	if (c->p >= c->end || *c->p != '[')
		return -1;
	c->p = skip_ws(c->p + 1, c->end);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		*nraw = 0;
		return 0;
	}
	for (;;) {
		struct scan_value *v;

		if (n >= s->maxraw)
			return -1; /* more columns than any probe has */
		v = &s->raw[n++];
		c->p = skip_ws(c->p, c->end);
		if (c->p >= c->end)
			return -1;
		if (*c->p == '"') {
			v->kind = SV_STR;
			v->i = 0;
			if (read_string(s, c, &v->s, &v->len) < 0)
				return -1;
		} else if (*c->p == 'n') {
			if (!match_lit(c, "null", 4))
				return -1;
			v->kind = SV_NULL;
			v->i = 0;
			v->s = NULL;
			v->len = 0;
		} else {
			v->kind = SV_INT;
			v->s = NULL;
			v->len = 0;
			if (parse_int(&c->p, c->end, false, &v->i) < 0)
				return -1;
		}
		c->p = skip_ws(c->p, c->end);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == ']') {
			c->p++;
			*nraw = n;
			return 0;
		}
		return -1;
	}
}

/* The tuple as an event (or the attach marker). Returns FAST_DONE or FAST_BAD. */
static int decode_tuple(struct scanner *s, int nraw)
{
	const struct scan_value *raw = s->raw;
	const struct layout_probe *lp;
	struct scan_event ev;
	int64_t v;

	if (nraw >= 1 && raw[0].kind == SV_STR && raw[0].len == 8 && memcmp(raw[0].s, "attached", 8) == 0) {
		if (nraw != 2 || !value_int(&raw[1], &v))
			return FAST_BAD;
		if (s->cb.on_attached)
			s->cb.on_attached(s->cb.ud, (uint64_t)v);
		return FAST_DONE;
	}
	if (nraw < LAYOUT_HEADER || !value_int(&raw[LH_PROBE], &v) || v < 0 || v >= s->l->nprobes)
		return FAST_BAD;
	/* field by field: a memset of the struct costs more than the parse */
	ev.comm = NULL;
	ev.comm_len = 0;
	ev.has_retval = ev.has_latency = false;
	ev.retval = 0;
	ev.latency_ns = 0;
	ev.kstack = ev.ustack = NULL;
	ev.kstack_len = ev.ustack_len = 0;
	ev.probe = (int)v;
	ev.lp = lp = &s->l->probes[v];
	if (nraw != LAYOUT_HEADER + lp->ncols)
		return FAST_BAD;
	for (int h = LH_NSECS; h <= LH_UID; h++) {
		int64_t x = 0;

		if (raw[h].kind != SV_NULL && !value_int(&raw[h], &x))
			return FAST_BAD;
		switch (h) {
		case LH_NSECS:
			ev.nsecs = (uint64_t)x;
			break;
		case LH_CPU:
			ev.cpu = x;
			break;
		case LH_PID:
			ev.pid = x;
			break;
		case LH_TID:
			ev.tid = x;
			break;
		default:
			ev.uid = x;
			break;
		}
	}
	if (raw[LH_COMM].kind == SV_STR) {
		ev.comm = raw[LH_COMM].s;
		ev.comm_len = raw[LH_COMM].len;
	} else if (raw[LH_COMM].kind == SV_NULL) {
		ev.comm = "";
	} else {
		return FAST_BAD;
	}
	for (int i = 0; i < lp->nvalues; i++) {
		s->values[i].kind = SV_NULL;
		s->values[i].i = 0;
		s->values[i].s = NULL;
		s->values[i].len = 0;
	}
	for (int j = 0; j < lp->ncols; j++) {
		const struct scan_value *col = &raw[LAYOUT_HEADER + j];
		struct scan_value *dst;

		switch (lp->cols[j].kind) {
		case LC_RETVAL:
		case LC_LATENCY:
			if (col->kind == SV_NULL)
				break;
			if (!value_int(col, &v))
				return FAST_BAD;
			if (lp->cols[j].kind == LC_RETVAL) {
				ev.has_retval = true;
				ev.retval = v;
			} else {
				ev.has_latency = true;
				ev.latency_ns = (uint64_t)v;
			}
			break;
		case LC_VALUE:
			if (lp->cols[j].value < 0 || lp->cols[j].value >= lp->nvalues)
				return FAST_BAD;
			dst = &s->values[lp->cols[j].value];
			*dst = *col;
			/* an integer written as a string (bpftrace 0.24+) */
			if (col->kind == SV_STR && !lp->values[lp->cols[j].value].is_string && value_int(col, &v)) {
				dst->kind = SV_INT;
				dst->i = v;
				dst->s = NULL;
				dst->len = 0;
			}
			break;
		case LC_KSTACK:
		case LC_USTACK:
			if (col->kind == SV_INT)
				return FAST_BAD;
			if (col->kind == SV_STR) {
				if (lp->cols[j].kind == LC_KSTACK) {
					ev.kstack = col->s;
					ev.kstack_len = col->len;
				} else {
					ev.ustack = col->s;
					ev.ustack_len = col->len;
				}
			}
			break;
		default:
			return FAST_BAD;
		}
	}
	ev.values = s->values;
	s->st.events++;
	if (s->cb.on_event)
		s->cb.on_event(s->cb.ud, &ev);
	return FAST_DONE;
}

#define VALUE_PREFIX "{\"type\": \"value\", \"data\": "

/* A line that starts with '{': a value line is handled here; any other type
 * is FAST_SLOW (jansson); broken JSON or a bad tuple is FAST_BAD. */
static int fast_line(struct scanner *s, const char *line, size_t len)
{
	struct cursor c = { line, line + len };
	const char *data_at = NULL;
	bool is_value = false, have_tuple = false;
	int nraw = 0;

	/* bpftrace's own spelling of a value line */
	if (len > sizeof(VALUE_PREFIX) - 1 && memcmp(line, VALUE_PREFIX, sizeof(VALUE_PREFIX) - 1) == 0) {
		c.p += sizeof(VALUE_PREFIX) - 1;
		if (read_tuple(s, &c, &nraw) < 0)
			return FAST_BAD;
		c.p = skip_ws(c.p, c.end);
		if (c.p >= c.end || *c.p != '}' || skip_ws(c.p + 1, c.end) != c.end)
			return FAST_BAD;
		return decode_tuple(s, nraw);
	}
	c.p = skip_ws(c.p, c.end);
	if (c.p >= c.end || *c.p != '{')
		return FAST_BAD;
	c.p = skip_ws(c.p + 1, c.end);
	if (c.p < c.end && *c.p == '}')
		return FAST_BAD; /* no "type" */
	for (;;) {
		const char *key;
		size_t klen, mark = s->slen;

		c.p = skip_ws(c.p, c.end);
		if (c.p >= c.end || *c.p != '"' || read_string(s, &c, &key, &klen) < 0)
			return FAST_BAD;
		s->slen = mark;
		c.p = skip_ws(c.p, c.end);
		if (c.p >= c.end || *c.p != ':')
			return FAST_BAD;
		c.p = skip_ws(c.p + 1, c.end);
		if (klen == 4 && memcmp(key, "type", 4) == 0) {
			const char *type;
			size_t tlen;

			if (c.p >= c.end || *c.p != '"' || read_string(s, &c, &type, &tlen) < 0)
				return FAST_BAD;
			s->slen = mark;
			if (tlen != 5 || memcmp(type, "value", 5) != 0)
				return FAST_SLOW;
			is_value = true;
		} else if (klen == 4 && memcmp(key, "data", 4) == 0 && !have_tuple && !data_at) {
			if (is_value) {
				if (read_tuple(s, &c, &nraw) < 0)
					return FAST_BAD;
				have_tuple = true;
			} else {
				data_at = c.p;
				if (skip_value(s, &c, 0) < 0)
					return FAST_BAD;
			}
		} else if (skip_value(s, &c, 0) < 0) {
			return FAST_BAD;
		}
		c.p = skip_ws(c.p, c.end);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}') {
			c.p++;
			break;
		}
		return FAST_BAD;
	}
	if (skip_ws(c.p, c.end) != c.end || !is_value)
		return FAST_BAD;
	if (!have_tuple) {
		if (!data_at)
			return FAST_BAD;
		c.p = data_at;
		if (read_tuple(s, &c, &nraw) < 0)
			return FAST_BAD;
	}
	return decode_tuple(s, nraw);
}

/* ---- the slow path: other lines through jansson -------------------------- */

/* Grow *buf (capacity *cap) to hold need bytes: doubling from first, never
 * past max. The line buffer and the repair buffer both grow this way. */
static int buf_reserve(char **buf, size_t *cap, size_t need, size_t first, size_t max)
{
	size_t ncap;
	char *nb;

	if (need <= *cap)
		return 0;
	if (need > max)
		return -ENOMEM;
	ncap = *cap ? *cap : first;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	nb = realloc(*buf, ncap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

static int rbuf_reserve(struct scanner *s, size_t need)
{
	return buf_reserve(&s->rbuf, &s->rcap, need, 256, SIZE_MAX);
}

/* Append the bytes b[0..n) of a string as valid JSON text: valid UTF-8 as is,
 * every other byte >= 0x80 as \ufffd. */
static size_t put_bytes(char *d, const unsigned char *b, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq_len(b + i, n - i);

		if (l == 0) {
			/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): d is counted (k), not a C string */
			memcpy(d + k, "\\ufffd", 6);
			k += 6;
			i++;
		} else {
			memcpy(d + k, b + i, l);
			k += l;
			i += l;
		}
	}
	return k;
}

/* Is the number token p[0..n) an integer that int64 cannot hold? */
static bool big_int(const char *p, size_t n)
{
	const char *t = p, *digits = p + (n && *p == '-');
	int64_t v;

	if (digits == p + n)
		return false;
	for (const char *u = digits; u < p + n; u++)
		if (*u < '0' || *u > '9')
			return false; /* a real number, or not a number at all */
	if (*digits == '0' && digits + 1 < p + n)
		return false; /* a leading zero: invalid, and left so */
	if (parse_int(&t, p + n, true, &v) < 0)
		return true;	   /* beyond UINT64_MAX or below INT64_MIN */
	return *p != '-' && v < 0; /* above INT64_MAX */
}

/* Rewrite a line into text jansson accepts: runs of \uffffffXX become the
 * raw bytes (or \ufffd where those bytes are not valid UTF-8), raw invalid
 * UTF-8 becomes \ufffd, and integers beyond int64 become strings (as
 * bpftrace 0.24+ writes them). Returns the length, or -ENOMEM. */
static long repair(struct scanner *s, const char *line, size_t len)
{
	const char *p = line, *end = line + len;
	size_t k = 0;
	bool in_str = false;

	while (p < end) {
		unsigned char ch = (unsigned char)*p;

		/* room for the longest step but a number: 64 bytes as \ufffd */
		if (s->rcap - k < 512 && rbuf_reserve(s, k + 512) < 0)
			return -ENOMEM;
		if (in_str) {
			if (ch == '"') {
				in_str = false;
				s->rbuf[k++] = *p++;
			} else if (ch == '\\' && ffff_escape(p, end) >= 0) {
				unsigned char run[64];
				size_t n = 0;
				int b;

				while (n < sizeof(run) && (b = ffff_escape(p, end)) >= 0) {
					run[n++] = (unsigned char)b;
					p += 10;
				}
				k += put_bytes(s->rbuf + k, run, n);
			} else if (ch == '\\') {
				s->rbuf[k++] = *p++;
				if (p < end)
					s->rbuf[k++] = *p++;
			} else if (ch >= 0x80) {
				size_t l = utf8_seq_len((const unsigned char *)p, (size_t)(end - p));

				if (l == 0) {
					memcpy(s->rbuf + k, "\\ufffd", 6);
					k += 6;
					p++;
				} else {
					memcpy(s->rbuf + k, p, l);
					k += l;
					p += l;
				}
			} else {
				s->rbuf[k++] = *p++;
			}
		} else if (ch == '"') {
			in_str = true;
			s->rbuf[k++] = *p++;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			const char *q = p;
			size_t n;
			bool big;

			while (q < end && (*q == '-' || *q == '+' || *q == '.' || *q == 'e' || *q == 'E' ||
					   (*q >= '0' && *q <= '9')))
				q++;
			n = (size_t)(q - p);
			big = big_int(p, n);
			if (rbuf_reserve(s, k + n + 3) < 0)
				return -ENOMEM;
			if (big)
				s->rbuf[k++] = '"';
			memcpy(s->rbuf + k, p, n);
			k += n;
			if (big)
				s->rbuf[k++] = '"';
			p = q;
		} else {
			s->rbuf[k++] = *p++;
		}
	}
	if (rbuf_reserve(s, k + 1) < 0)
		return -ENOMEM;
	s->rbuf[k] = '\0';
	return (long)k;
}

/* A count: a non-negative integer, or a string of one. */
static bool json_count(const json_t *j, uint64_t *out)
{
	if (json_is_integer(j)) {
		if (json_integer_value(j) < 0)
			return false;
		*out = (uint64_t)json_integer_value(j);
		return true;
	}
	if (json_is_string(j)) {
		const char *p = json_string_value(j), *end = p + json_string_length(j);
		int64_t v;

		if (*p == '-' || parse_int(&p, end, true, &v) < 0)
			return false;
		*out = (uint64_t)v;
		return true;
	}
	return false;
}

/* Returns 0, -1 when the line is malformed, or -ENOMEM. */
static int slow_line(struct scanner *s, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *root, *data, *j;
	const char *type;
	long n = repair(s, line, len);
	uint64_t count;
	int rc = -1;

	if (n < 0)
		return (int)n;
	root = json_loadb(s->rbuf, (size_t)n, JSON_ALLOW_NUL, &jerr);
	if (!root)
		return json_error_code(&jerr) == json_error_out_of_memory ? -ENOMEM : -1;
	type = json_string_value(json_object_get(root, "type"));
	if (!json_is_object(root) || !type)
		goto out;
	data = json_object_get(root, "data");
	if (strcmp(type, "attached_probes") == 0) {
		if (!json_count(json_object_get(data, "probes"), &count))
			goto out;
		s->st.attached_probes = count;
	} else if (strcmp(type, "lost_events") == 0) {
		j = json_object_get(root, "count");
		if (!j)
			j = json_object_get(data, "events");
		if (!json_count(j, &count))
			goto out;
		s->st.lost += count;
		if (s->cb.on_lost)
			s->cb.on_lost(s->cb.ud, count);
	} else if (strcmp(type, "map") == 0) {
		const char *key;
		json_t *val;

		if (!json_is_object(data))
			goto out;
		json_object_foreach(data, key, val)
		{
			if (s->cb.on_map)
				s->cb.on_map(s->cb.ud, key, val);
		}
	} else if (s->cb.on_other) {
		s->cb.on_other(s->cb.ud, type, root);
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* ---- lines and feeding ---------------------------------------------------- */

static int sbuf_reserve(struct scanner *s, size_t need)
{
	return buf_reserve(&s->sbuf, &s->scap, need, 1024, SCAN_MAX_LINE + 1);
}

int scan_line(struct scanner *s, const char *line, size_t len)
{
	const char *p;
	int rc;

	s->st.lines++;
	if (len > SCAN_MAX_LINE) {
		malformed(s, line, len);
		return 0;
	}
	p = skip_ws(line, line + len);
	if (p == line + len)
		return 0; /* blank */
	if (sbuf_reserve(s, len + 1) < 0) {
		malformed(s, line, len);
		return -ENOMEM;
	}
	s->slen = 0;
	rc = fast_line(s, line, len);
	if (rc == FAST_DONE)
		return 0;
	if (rc == FAST_SLOW) {
		rc = slow_line(s, line, len);
		if (rc == 0)
			return 0;
		if (rc == -ENOMEM) {
			malformed(s, line, len);
			return -ENOMEM;
		}
	}
	malformed(s, line, len);
	return 0;
}

/* The line held in part plus b[0..n) is too long: count it, keep its start. */
static void too_long(struct scanner *s, const char *b, size_t n)
{
	s->st.lines++;
	malformed2(s, s->part, s->plen, b, n);
	s->plen = 0;
}

static int part_add(struct scanner *s, const char *b, size_t n)
{
	if (s->plen + n > s->pcap) {
		size_t ncap = s->pcap ? s->pcap : 4096;
		char *nb;

		while (ncap < s->plen + n)
			ncap *= 2;
		if (ncap > SCAN_MAX_LINE)
			ncap = SCAN_MAX_LINE;
		nb = realloc(s->part, ncap);
		if (!nb)
			return -ENOMEM;
		s->part = nb;
		s->pcap = ncap;
	}
	memcpy(s->part + s->plen, b, n);
	s->plen += n;
	return 0;
}

int scan_feed(struct scanner *s, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	int ret = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		int rc = 0;

		if (s->discarding) {
			if (nl)
				s->discarding = false;
		} else if (!nl) {
			if (s->plen + n > SCAN_MAX_LINE) {
				too_long(s, p, n);
				s->discarding = true;
			} else if (part_add(s, p, n) < 0) {
				/* cannot hold the partial line: count it, skip the rest */
				too_long(s, p, n);
				s->discarding = true;
				rc = -ENOMEM;
			}
		} else if (s->plen == 0) {
			rc = scan_line(s, p, n);
		} else if (s->plen + n > SCAN_MAX_LINE) {
			too_long(s, p, n);
		} else if (part_add(s, p, n) < 0) {
			too_long(s, p, n);
			rc = -ENOMEM;
		} else {
			rc = scan_line(s, s->part, s->plen);
			s->plen = 0;
		}
		if (rc < 0 && !ret)
			ret = rc;
		p = nl ? nl + 1 : end;
	}
	return ret;
}

int scan_finish(struct scanner *s)
{
	int rc = 0;

	if (s->discarding) {
		s->discarding = false;
	} else if (s->plen > 0) {
		rc = scan_line(s, s->part, s->plen);
		s->plen = 0;
	}
	return rc;
}

/* ---- lifetime ------------------------------------------------------------ */

struct scanner *scan_new(const struct event_layout *l, const struct scan_callbacks *cb)
{
	struct scanner *s = calloc(1, sizeof(*s));
	int maxcols = 0, maxvals = 1;

	if (!s)
		return NULL;
	s->l = l;
	if (cb)
		s->cb = *cb;
	for (int i = 0; i < l->nprobes; i++) {
		if (l->probes[i].ncols > maxcols)
			maxcols = l->probes[i].ncols;
		if (l->probes[i].nvalues > maxvals)
			maxvals = l->probes[i].nvalues;
	}
	s->maxraw = LAYOUT_HEADER + maxcols;
	s->maxvalues = maxvals;
	s->raw = calloc((size_t)s->maxraw, sizeof(*s->raw));
	s->values = calloc((size_t)s->maxvalues, sizeof(*s->values));
	if (!s->raw || !s->values) {
		scan_free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void scan_free(struct scanner *s)
{
	if (!s)
		return;
	free(s->part);
	free(s->sbuf);
	free(s->rbuf);
	free(s->raw);
	free(s->values);
	free(s);
}

const struct scan_stats *scan_stats(const struct scanner *s)
{
	return &s->st;
}
