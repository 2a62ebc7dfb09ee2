/* render.c - events to text and JSON: trace.py's conversions, recoverable
 * UTF-8, and the protocol's event object.
 */
#include "parser/render.h"

#include "parser/utf8.h"
#include "tracespec/spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RENDER_MAX_TEXT (1024 * 1024) /* a message or a value's text, at most */

/* --jsonl keeps the exact bytes of every lossy field, as the tree does. */
_Static_assert(RENDER_MAX_LOSSY >= SPEC_MAX_VALUES + 2, "RENDER_MAX_LOSSY below the fields an event can have");

/* ---- conversions ---------------------------------------------------------- */

enum conv_kind {
	CK_D32,
	CK_U32,
	CK_D16,
	CK_U16,
	CK_D64,
	CK_U64,
	CK_X32,
	CK_X64,
	CK_CHAR,
	CK_STR,
	CK_SYM,
};

/* The conversion at p (the text after '%'), as the spec parser matches them
 * (longest first): its kind, and its length (0 when p holds none). */
static size_t match_conv(const char *p, enum conv_kind *k)
{
	switch (p[0]) {
	case 'd':
		*k = CK_D32;
		return 1;
	case 'u':
		*k = CK_U32;
		return 1;
	case 'x':
		*k = CK_X32;
		return 1;
	case 'c':
		*k = CK_CHAR;
		return 1;
	case 's':
		*k = CK_STR;
		return 1;
	case 'K':
	case 'U':
		*k = CK_SYM;
		return 1;
	case 'h':
		if (p[1] == 'd' || p[1] == 'u') {
			*k = p[1] == 'd' ? CK_D16 : CK_U16;
			return 2;
		}
		return 0;
	case 'l':
		if (p[1] == 'l' && (p[2] == 'd' || p[2] == 'u' || p[2] == 'x')) {
			*k = p[2] == 'd' ? CK_D64 : p[2] == 'u' ? CK_U64 : CK_X64;
			return 3;
		}
		if (p[1] == 'd' || p[1] == 'u' || p[1] == 'x') {
			*k = p[1] == 'd' ? CK_D64 : p[1] == 'u' ? CK_U64 : CK_X64;
			return 2;
		}
		return 0;
	default:
		return 0;
	}
}

/* A layout value's conversion ("llx"); one the spec parser would not accept
 * prints the whole value. */
static enum conv_kind conv_kind(const char *conv)
{
	enum conv_kind k;
	size_t n = match_conv(conv, &k);

	return n && conv[n] == '\0' ? k : CK_D64;
}

static int put_dec(struct strbuf *out, uint64_t v, bool neg)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--p = '-';
	return strbuf_add(out, p, (size_t)(buf + sizeof(buf) - p));
}

static int put_signed(struct strbuf *out, int64_t v)
{
	return v < 0 ? put_dec(out, 0 - (uint64_t)v, true) : put_dec(out, (uint64_t)v, false);
}

static int put_hex(struct strbuf *out, uint64_t v, bool prefix)
{
	static const char digits[] = "0123456789abcdef";
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = digits[v & 0xf];
		v >>= 4;
	} while (v);
	if (prefix) {
		*--p = 'x';
		*--p = '0';
	}
	return strbuf_add(out, p, (size_t)(buf + sizeof(buf) - p));
}

/* One value with conversion k; raw is raw_args' form (%c as a number, hex
 * with 0x). A string prints as its bytes whatever the conversion; a null
 * prints as nothing. */
static int put_value(struct strbuf *out, enum conv_kind k, const struct scan_value *v, bool raw)
{
	int64_t i = v->i;

	if (v->kind == SV_STR)
		return strbuf_add(out, v->s, v->len);
	if (v->kind != SV_INT)
		return out->err;
	switch (k) {
	case CK_D32:
		return put_signed(out, (int32_t)i);
	case CK_U32:
		return put_dec(out, (uint32_t)i, false);
	case CK_D16:
		return put_signed(out, (int16_t)i);
	case CK_U16:
		return put_dec(out, (uint16_t)i, false);
	case CK_D64:
		return put_signed(out, i);
	case CK_U64:
		return put_dec(out, (uint64_t)i, false);
	case CK_X32:
		return put_hex(out, (uint32_t)i, raw);
	case CK_X64:
		return put_hex(out, (uint64_t)i, raw);
	case CK_CHAR:
		if (raw)
			return put_dec(out, (uint8_t)i, false);
		return strbuf_putc(out, (char)(i & 0xff));
	case CK_STR:
		return put_signed(out, i);
	case CK_SYM:
		return put_hex(out, (uint64_t)i, true);
	}
	return out->err;
}

int render_message(const struct scan_event *ev, struct strbuf *out)
{
	const struct layout_probe *lp = ev->lp;
	const char *p;
	int n = 0;

	if (!lp || !lp->format)
		return out->err;
	p = lp->format;
	while (*p) {
		const char *pct = strchr(p, '%');
		enum conv_kind k;
		size_t clen;

		if (!pct) {
			strbuf_puts(out, p);
			break;
		}
		if (pct > p)
			strbuf_add(out, p, (size_t)(pct - p));
		p = pct + 1;
		if (*p == '%') {
			strbuf_putc(out, '%');
			p++;
			continue;
		}
		clen = match_conv(p, &k);
		if (!clen) {
			strbuf_putc(out, '%'); /* not a conversion: the text as written */
			continue;
		}
		if (n < lp->nvalues && ev->values) {
			put_value(out, conv_kind(lp->values[n].conv), &ev->values[n], false);
		} else {
			strbuf_putc(out, '%'); /* more conversions than values */
			strbuf_add(out, p, clen);
		}
		n++;
		p += clen;
	}
	return out->err;
}

int render_value(const struct scan_event *ev, int i, struct strbuf *out)
{
	const struct layout_probe *lp = ev->lp;

	if (!lp || i < 0 || i >= lp->nvalues || !ev->values)
		return -EINVAL;
	put_value(out, conv_kind(lp->values[i].conv), &ev->values[i], true);
	return out->err;
}

/* ---- UTF-8 and base64 ----------------------------------------------------- */

json_t *render_json_string(const char *s, size_t len, bool *lossy)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k = 0;
	char stackbuf[768], *buf;
	json_t *j;

	if (!s)
		return json_string("");
	while (i < len) {
		size_t l = u[i] < 0x80 ? 1 : utf8_seq_len(u + i, len - i);

		if (!l)
			break;
		i += l;
	}
	if (i == len)
		return json_stringn(s, len);
	/* at most 3 bytes (U+FFFD) for each byte of input */
	if (len > SIZE_MAX / 3)
		return NULL;
	buf = len * 3 <= sizeof(stackbuf) ? stackbuf : malloc(len * 3);
	if (!buf)
		return NULL;
	memcpy(buf, s, i);
	k = i;
	while (i < len) {
		size_t l = u[i] < 0x80 ? 1 : utf8_seq_len(u + i, len - i);

		if (!l) {
			/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): buf is counted (k), not a C string */
			memcpy(buf + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
		} else {
			memcpy(buf + k, s + i, l);
			k += l;
			i += l;
		}
	}
	j = json_stringn(buf, k);
	if (buf != stackbuf)
		free(buf);
	if (lossy)
		*lossy = true;
	return j;
}

json_t *render_b64(const char *s, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *)s;
	char stackbuf[1024], *buf;
	size_t n, k = 0, i = 0;
	json_t *j;

	if (len > SIZE_MAX / 2)
		return NULL;
	n = (len + 2) / 3 * 4;
	buf = n <= sizeof(stackbuf) ? stackbuf : malloc(n);
	if (!buf)
		return NULL;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];

		buf[k++] = tab[v >> 18];
		buf[k++] = tab[(v >> 12) & 63];
		buf[k++] = tab[(v >> 6) & 63];
		buf[k++] = tab[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)u[i] << 16;

		buf[k++] = tab[v >> 18];
		buf[k++] = tab[(v >> 12) & 63];
		buf[k++] = '=';
		buf[k++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8;

		buf[k++] = tab[v >> 18];
		buf[k++] = tab[(v >> 12) & 63];
		buf[k++] = tab[(v >> 6) & 63];
		buf[k++] = '=';
	}
	j = json_stringn(buf, k);
	if (buf != stackbuf)
		free(buf);
	return j;
}

/* ---- time ----------------------------------------------------------------- */

void render_time(int64_t ns, char *out)
{
	int64_t sec = ns / 1000000000, rem = ns % 1000000000;
	time_t t;
	struct tm tm;
	int n;

	if (rem < 0) {
		rem += 1000000000;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, &tm)) {
		memcpy(out, "1970-01-01T00:00:00.000000Z", 28);
		return;
	}
	n = snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		     tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000));
	if (n < 0 || n >= 32)
		memcpy(out, "1970-01-01T00:00:00.000000Z", 28);
}

/* ---- the event object ----------------------------------------------------- */

static bool put(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new(obj, key, v) == 0; /* steals v, NULL included */
}

/* A string under key in obj, and its exact bytes under b64key in *b64 when it
 * is not valid UTF-8 (b64 is created on first use). */
static bool put_text(json_t *obj, const char *key, const char *s, size_t len, json_t **b64, const char *b64key)
{
	bool lossy = false;

	if (!put(obj, key, render_json_string(s, len, &lossy)))
		return false;
	if (!lossy)
		return true;
	if (!*b64)
		*b64 = json_object();
	if (!*b64)
		return false;
	return put(*b64, b64key, render_b64(s, len));
}

/* bpftrace's stack text ("\n\tframe+1\n\tframe+2\n") as an array of frames. */
static json_t *stack_json(const char *s, size_t len)
{
	json_t *a = json_array();
	const char *p = s, *end = s ? s + len : s;

	if (!a)
		return NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		const char *b = p;
		bool lossy = false;

		while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > b && json_array_append_new(a, render_json_string(b, (size_t)(e - b), &lossy)) < 0) {
			json_decref(a);
			return NULL;
		}
		p = nl ? nl + 1 : end;
	}
	return a;
}

static bool has_col(const struct layout_probe *lp, enum layout_col_kind kind)
{
	for (int i = 0; i < lp->ncols; i++)
		if (lp->cols[i].kind == kind)
			return true;
	return false;
}

json_t *render_event_json(const struct scan_event *ev, int64_t mono_to_wall_ns)
{
	const struct layout_probe *lp = ev->lp;
	struct strbuf sb = STRBUF_INIT(RENDER_MAX_TEXT);
	json_t *o = json_object(), *raw = NULL, *b64 = NULL;
	int64_t ts = (int64_t)(ev->nsecs + (uint64_t)mono_to_wall_ns);
	const char *fn = lp && lp->function ? lp->function : "";
	char tbuf[32];
	bool ok = o != NULL;

	render_time(ts, tbuf);
	ok = ok && put(o, "timestamp", json_integer(ts));
	ok = ok && put(o, "time", json_string(tbuf));
	ok = ok && put(o, "cpu", json_integer(ev->cpu));
	ok = ok && put(o, "pid", json_integer(ev->pid));
	ok = ok && put(o, "tid", json_integer(ev->tid));
	ok = ok && put(o, "uid", json_integer(ev->uid));
	ok = ok && put_text(o, "process_name", ev->comm ? ev->comm : "", ev->comm_len, &b64, "process_name");
	ok = ok && put(o, "function", render_json_string(fn, strlen(fn), NULL));
	ok = ok && render_message(ev, &sb) == 0;
	ok = ok && put_text(o, "message", strbuf_str(&sb), sb.len, &b64, "message");
	raw = ok ? json_object() : NULL;
	ok = ok && raw && json_object_set(o, "raw_args", raw) == 0;
	for (int i = 0; ok && lp && i < lp->nvalues; i++) {
		struct strbuf key = STRBUF_INIT(RENDER_MAX_TEXT);
		const char *name = lp->values[i].name ? lp->values[i].name : "";

		sb.len = 0;
		if (sb.buf)
			sb.buf[0] = '\0';
		strbuf_puts(&key, "raw_args.");
		strbuf_puts(&key, name);
		ok = render_value(ev, i, &sb) == 0 && key.err == 0 &&
		     put_text(raw, name, strbuf_str(&sb), sb.len, &b64, strbuf_str(&key));
		strbuf_release(&key);
	}
	if (ok && lp && lp->has_retval && ev->has_retval)
		ok = put(o, "retval", json_integer(ev->retval));
	if (ok && lp && lp->has_latency && ev->has_latency)
		ok = put(o, "latency_ns", json_integer((json_int_t)ev->latency_ns));
	if (ok && (ev->kstack || (lp && has_col(lp, LC_KSTACK))))
		ok = put(o, "kstack", stack_json(ev->kstack, ev->kstack_len));
	if (ok && (ev->ustack || (lp && has_col(lp, LC_USTACK))))
		ok = put(o, "ustack", stack_json(ev->ustack, ev->ustack_len));
	if (ok && b64) {
		ok = put(o, "b64", b64);
		b64 = NULL;
	}
	strbuf_release(&sb);
	json_decref(raw);
	json_decref(b64);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- the same event, written straight to text ------------------------------ *
 * jansson builds and frees a tree per event (~6 us); the agent streams up to
 * ~100k events/s, so --jsonl writes the identical object by hand (~1 us). */

static void put_jstr(struct strbuf *out, const char *s, size_t len, bool *lossy)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	strbuf_putc(out, '"');
	while (i < len) {
		unsigned char c = u[i];
		size_t l = c < 0x80 ? 1 : utf8_seq_len(u + i, len - i);
		const char *esc = NULL;
		char ubuf[7];

		if (l > 1) {
			i += l;
			continue;
		}
		if (l == 1 && c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
			i++;
			continue;
		}
		strbuf_add(out, s + run, i - run);
		if (l == 0) {
			esc = "\xef\xbf\xbd"; /* not UTF-8: U+FFFD, the bytes go in b64 */
			if (lossy)
				*lossy = true;
		} else if (c == '"') {
			esc = "\\\"";
		} else if (c == '\\') {
			esc = "\\\\";
		} else if (c == '\n') {
			esc = "\\n";
		} else if (c == '\t') {
			esc = "\\t";
		} else if (c == '\r') {
			esc = "\\r";
		} else if (c == '\b') {
			esc = "\\b";
		} else if (c == '\f') {
			esc = "\\f";
		} else {
			memcpy(ubuf, "\\u00", 4);
			ubuf[4] = hex[c >> 4];
			ubuf[5] = hex[c & 15];
			ubuf[6] = '\0';
			esc = ubuf;
		}
		strbuf_puts(out, esc);
		run = ++i;
	}
	strbuf_add(out, s + run, len - run);
	strbuf_putc(out, '"');
}

static int put_b64(struct strbuf *out, const char *s, size_t len)
{
	json_t *j = render_b64(s, len);

	if (!j)
		return -ENOMEM;
	strbuf_putc(out, '"');
	strbuf_add(out, json_string_value(j), json_string_length(j));
	strbuf_putc(out, '"');
	json_decref(j);
	return out->err;
}

/* A text field; when it is not UTF-8, its exact bytes are remembered for b64. */
struct lossy_field {
	const char *key;
	const char *prefix; /* "" or "raw_args." */
	char *bytes;
	size_t len;
};

/* Returns 0, or -ENOMEM when the exact bytes cannot be kept (b64 would lack them). */
static int put_field(struct strbuf *out, const char *key, const char *s, size_t len, struct lossy_field *lf, int *nlf,
		     const char *b64key)
{
	bool lossy = false;

	strbuf_addf(out, ",\"%s\":", key);
	put_jstr(out, s, len, &lossy);
	if (lossy && *nlf < RENDER_MAX_LOSSY) {
		lf[*nlf].key = b64key;
		lf[*nlf].prefix = "";
		lf[*nlf].bytes = malloc(len ? len : 1);
		if (!lf[*nlf].bytes)
			return -ENOMEM;
		memcpy(lf[*nlf].bytes, s, len);
		lf[*nlf].len = len;
		(*nlf)++;
	}
	return 0;
}

static void put_stack(struct strbuf *out, const char *key, const char *s, size_t len)
{
	const char *p = s, *end = s ? s + len : s;
	bool first = true;

	strbuf_addf(out, ",\"%s\":[", key);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		const char *b = p;

		while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > b) {
			if (!first)
				strbuf_putc(out, ',');
			put_jstr(out, b, (size_t)(e - b), NULL);
			first = false;
		}
		p = nl ? nl + 1 : end;
	}
	strbuf_putc(out, ']');
}

int render_event_text(const struct scan_event *ev, int64_t mono_to_wall_ns, struct strbuf *out, struct strbuf *scratch)
{
	const struct layout_probe *lp = ev->lp;
	int64_t ts = (int64_t)(ev->nsecs + (uint64_t)mono_to_wall_ns);
	const char *fn = lp && lp->function ? lp->function : "";
	struct lossy_field lf[RENDER_MAX_LOSSY];
	char tbuf[32];
	int nlf = 0, rc;

	render_time(ts, tbuf);
	strbuf_addf(out, "{\"timestamp\":%lld,\"time\":\"%s\",\"cpu\":%lld,\"pid\":%lld,\"tid\":%lld,\"uid\":%lld",
		    (long long)ts, tbuf, (long long)ev->cpu, (long long)ev->pid, (long long)ev->tid,
		    (long long)ev->uid);
	rc = put_field(out, "process_name", ev->comm ? ev->comm : "", ev->comm_len, lf, &nlf, "process_name");
	if (rc < 0)
		goto out;
	strbuf_puts(out, ",\"function\":");
	put_jstr(out, fn, strlen(fn), NULL);
	/* the scratch buffer's errors are this call's: a message cut short is no message */
	scratch->len = 0;
	scratch->err = 0;
	rc = render_message(ev, scratch);
	if (rc == 0)
		rc = put_field(out, "message", strbuf_str(scratch), scratch->len, lf, &nlf, "message");
	if (rc < 0)
		goto out;
	strbuf_puts(out, ",\"raw_args\":{");
	for (int i = 0; lp && i < lp->nvalues; i++) {
		const char *name = lp->values[i].name ? lp->values[i].name : "";
		bool lossy = false;

		scratch->len = 0;
		scratch->err = 0;
		rc = render_value(ev, i, scratch);
		if (rc < 0)
			goto out;
		if (i)
			strbuf_putc(out, ',');
		put_jstr(out, name, strlen(name), NULL);
		strbuf_putc(out, ':');
		put_jstr(out, strbuf_str(scratch), scratch->len, &lossy);
		if (lossy && nlf < RENDER_MAX_LOSSY) {
			lf[nlf].prefix = "raw_args.";
			lf[nlf].key = name;
			lf[nlf].bytes = malloc(scratch->len ? scratch->len : 1);
			if (!lf[nlf].bytes) {
				rc = -ENOMEM;
				goto out;
			}
			memcpy(lf[nlf].bytes, strbuf_str(scratch), scratch->len);
			lf[nlf].len = scratch->len;
			nlf++;
		}
	}
	strbuf_putc(out, '}');
	if (lp && lp->has_retval && ev->has_retval)
		strbuf_addf(out, ",\"retval\":%lld", (long long)ev->retval);
	if (lp && lp->has_latency && ev->has_latency)
		strbuf_addf(out, ",\"latency_ns\":%lld", (long long)ev->latency_ns);
	if (ev->kstack || (lp && has_col(lp, LC_KSTACK)))
		put_stack(out, "kstack", ev->kstack, ev->kstack_len);
	if (ev->ustack || (lp && has_col(lp, LC_USTACK)))
		put_stack(out, "ustack", ev->ustack, ev->ustack_len);
	if (nlf) {
		strbuf_puts(out, ",\"b64\":{");
		for (int i = 0; i < nlf && rc == 0; i++) {
			/* the key whole and escaped: a value's name is its expression */
			scratch->len = 0;
			scratch->err = 0;
			strbuf_puts(scratch, lf[i].prefix);
			strbuf_puts(scratch, lf[i].key);
			if (scratch->err) {
				rc = scratch->err;
				break;
			}
			if (i)
				strbuf_putc(out, ',');
			put_jstr(out, strbuf_str(scratch), scratch->len, NULL);
			strbuf_putc(out, ':');
			rc = put_b64(out, lf[i].bytes, lf[i].len);
		}
		strbuf_putc(out, '}');
	}
	strbuf_putc(out, '}');
out:
	for (int i = 0; i < nlf; i++)
		free(lf[i].bytes);
	return rc < 0 ? rc : out->err;
}
