/* test_render.c - unit tests for rendering: trace.py's conversions, UTF-8
 * that stays recoverable, base64, time, and the protocol's event object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parser/render.h"
#include "parser/scan.h"
#include "parser/utf8.h"
#include "tracespec/strbuf.h"

/* ---- helpers --------------------------------------------------------------- */

static struct scan_value vint(int64_t i)
{
	struct scan_value v = { SV_INT, i, NULL, 0 };

	return v;
}

static struct scan_value vstr(const char *s, size_t len)
{
	struct scan_value v = { SV_STR, 0, s, len };

	return v;
}

static struct scan_value vnull(void)
{
	struct scan_value v = { SV_NULL, 0, NULL, 0 };

	return v;
}

/* An event of a one-value probe with conversion conv and format fmt. */
struct one {
	struct layout_value val;
	struct layout_col col;
	struct layout_probe lp;
	struct scan_value v;
	struct scan_event ev;
};

static void one_init(struct one *o, const char *conv, const char *fmt, struct scan_value v)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->val.conv, sizeof(o->val.conv), "%s", conv);
	o->val.name = "arg1";
	o->val.is_string = strchr("sKU", conv[0]) != NULL;
	o->col.kind = LC_VALUE;
	o->lp.function = "f";
	o->lp.format = (char *)fmt;
	o->lp.values = &o->val;
	o->lp.nvalues = 1;
	o->lp.cols = &o->col;
	o->lp.ncols = 1;
	o->v = v;
	o->ev.comm = "c";
	o->ev.comm_len = 1;
	o->ev.lp = &o->lp;
	o->ev.values = &o->v;
}

/* Decode standard base64 (test side), or return -1. */
static int b64_decode(const char *in, unsigned char *out, size_t *outlen)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), k = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t v = 0;
		int pad = 0;

		for (int j = 0; j < 4; j++) {
			const char *p = in[i + j] == '=' ? NULL : strchr(tab, in[i + j]);

			if (in[i + j] == '=') {
				pad++;
				v <<= 6;
				continue;
			}
			if (!p || pad)
				return -1;
			v = v << 6 | (uint32_t)(p - tab);
		}
		out[k++] = (unsigned char)(v >> 16);
		if (pad < 2)
			out[k++] = (unsigned char)(v >> 8);
		if (pad < 1)
			out[k++] = (unsigned char)v;
	}
	*outlen = k;
	return 0;
}

/* ---- conversions ------------------------------------------------------------ */

static const struct {
	const char *conv;
	int64_t v;
	const char *msg; /* rendered with format "<%conv>" */
	const char *raw; /* render_value */
} conv_cases[] = {
	{ "d", 4294967295LL, "<-1>", "-1" },
	{ "d", 2147483648LL, "<-2147483648>", "-2147483648" },
	{ "d", 2147483647LL, "<2147483647>", "2147483647" },
	{ "d", -1, "<-1>", "-1" },
	{ "d", INT64_MIN, "<0>", "0" },
	{ "u", -1, "<4294967295>", "4294967295" },
	{ "u", 4294967296LL, "<0>", "0" },
	{ "u", 4294967297LL, "<1>", "1" },
	{ "hd", 65535, "<-1>", "-1" },
	{ "hd", 32768, "<-32768>", "-32768" },
	{ "hd", 32767, "<32767>", "32767" },
	{ "hu", 65537, "<1>", "1" },
	{ "hu", -1, "<65535>", "65535" },
	{ "ld", INT64_MIN, "<-9223372036854775808>", "-9223372036854775808" },
	{ "ld", INT64_MAX, "<9223372036854775807>", "9223372036854775807" },
	{ "lld", -1, "<-1>", "-1" },
	{ "lu", -1, "<18446744073709551615>", "18446744073709551615" },
	{ "llu", INT64_MIN, "<9223372036854775808>", "9223372036854775808" },
	{ "llu", 0, "<0>", "0" },
	{ "x", -1, "<ffffffff>", "0xffffffff" },
	{ "x", 0x1234567890LL, "<34567890>", "0x34567890" },
	{ "x", 0, "<0>", "0x0" },
	{ "x", 0xABCDEF, "<abcdef>", "0xabcdef" },
	{ "lx", -1, "<ffffffffffffffff>", "0xffffffffffffffff" },
	{ "llx", -1, "<ffffffffffffffff>", "0xffffffffffffffff" },
	{ "llx", 255, "<ff>", "0xff" },
	{ "c", 65, "<A>", "65" },
	{ "c", 321, "<A>", "65" },
	{ "c", -1, "<\xff>", "255" },
	{ "s", 42, "<42>", "42" }, /* %s of an integer column: decimal */
	{ "s", -5, "<-5>", "-5" },
	{ "K", (int64_t)0xffffffff81000000ULL, "<0xffffffff81000000>", "0xffffffff81000000" },
};

static void test_conversions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(conv_cases) / sizeof(conv_cases[0]); i++) {
		struct strbuf sb = STRBUF_INIT(4096);
		char fmt[16];
		struct one o;

		snprintf(fmt, sizeof(fmt), "<%%%s>", conv_cases[i].conv);
		one_init(&o, conv_cases[i].conv, fmt, vint(conv_cases[i].v));
		assert_int_equal(render_message(&o.ev, &sb), 0);
		if (strcmp(strbuf_str(&sb), conv_cases[i].msg) != 0)
			fail_msg("%%%s of %lld: '%s', expected '%s'", conv_cases[i].conv, (long long)conv_cases[i].v,
				 strbuf_str(&sb), conv_cases[i].msg);
		sb.len = 0;
		assert_int_equal(render_value(&o.ev, 0, &sb), 0);
		if (strcmp(strbuf_str(&sb), conv_cases[i].raw) != 0)
			fail_msg("raw %%%s of %lld: '%s', expected '%s'", conv_cases[i].conv,
				 (long long)conv_cases[i].v, strbuf_str(&sb), conv_cases[i].raw);
		strbuf_release(&sb);
	}
}

static void test_char_nul(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT(64);
	struct one o;

	one_init(&o, "c", "[%c]", vint(256));
	assert_int_equal(render_message(&o.ev, &sb), 0);
	assert_int_equal(sb.len, 3);
	assert_memory_equal(sb.buf, "[\0]", 3);
	strbuf_release(&sb);
}

static void test_strings(void **state)
{
	(void)state;
	static const char bytes[] = "a\nb\"c|d%se\tf\\g\xff";
	static const char *const convs[] = { "s", "K", "U", "d", "llx", "c" };

	/* a string prints as its exact bytes whatever the conversion */
	for (size_t i = 0; i < sizeof(convs) / sizeof(convs[0]); i++) {
		struct strbuf sb = STRBUF_INIT(4096);
		char fmt[16];
		struct one o;

		snprintf(fmt, sizeof(fmt), "(%%%s)", convs[i]);
		one_init(&o, convs[i], fmt, vstr(bytes, sizeof(bytes) - 1));
		assert_int_equal(render_message(&o.ev, &sb), 0);
		assert_int_equal(sb.len, sizeof(bytes) + 1);
		assert_memory_equal(sb.buf, "(", 1);
		assert_memory_equal(sb.buf + 1, bytes, sizeof(bytes) - 1);
		assert_memory_equal(sb.buf + sizeof(bytes), ")", 1);
		sb.len = 0;
		assert_int_equal(render_value(&o.ev, 0, &sb), 0);
		assert_int_equal(sb.len, sizeof(bytes) - 1);
		assert_memory_equal(sb.buf, bytes, sizeof(bytes) - 1);
		strbuf_release(&sb);
	}
}

static void test_symbols(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT(4096);
	struct one o;

	one_init(&o, "K", "in %K", vstr("vfs_read+4", 10));
	assert_int_equal(render_message(&o.ev, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "in vfs_read+4");
	strbuf_release(&sb);
	one_init(&o, "U", "at %U!", vstr("malloc+0x10", 11));
	assert_int_equal(render_message(&o.ev, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "at malloc+0x10!");
	strbuf_release(&sb);
}

static void test_null_value(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT(64);
	struct one o;

	one_init(&o, "d", "[%d]", vnull());
	assert_int_equal(render_message(&o.ev, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "[]");
	sb.len = 0;
	assert_int_equal(render_value(&o.ev, 0, &sb), 0);
	assert_int_equal(sb.len, 0);
	assert_int_equal(render_value(&o.ev, 1, &sb), -EINVAL);
	assert_int_equal(render_value(&o.ev, -1, &sb), -EINVAL);
	strbuf_release(&sb);
}

static void test_format_text(void **state)
{
	(void)state;
	struct layout_value vals[] = { { "s", "arg2", true }, { "d", "arg3", false } };
	struct layout_col cols[] = { { LC_VALUE, 0 }, { LC_VALUE, 1 } };
	struct layout_probe lp = { .function = "sys_read", .values = vals, .nvalues = 2, .cols = cols, .ncols = 2 };
	struct scan_value v[] = { vstr("x", 1), vint(7) };
	struct scan_event ev = { .comm = "c", .comm_len = 1, .lp = &lp, .values = v };
	static const struct {
		const char *fmt, *want;
	} cases[] = {
		{ "100%% of %s|%d%%", "100% of x|7%" },
		{ "%s%d", "x7" },
		{ "just text", "just text" },
		{ "", "" },
		{ "%%s %%d %s", "%s %d x" },
		{ "%q %s %d", "%q x 7" },	    /* not a conversion: left as written */
		{ "%s %d %d %llx", "x 7 %d %llx" }, /* more conversions than values */
		{ "end %", "end %" },
		{ "%lq%s", "%lqx" },
		{ "%hq%s", "%hqx" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf sb = STRBUF_INIT(4096);

		lp.format = (char *)cases[i].fmt;
		assert_int_equal(render_message(&ev, &sb), 0);
		if (strcmp(strbuf_str(&sb), cases[i].want) != 0)
			fail_msg("format '%s': '%s', expected '%s'", cases[i].fmt, strbuf_str(&sb), cases[i].want);
		strbuf_release(&sb);
	}
	/* no format: an empty message */
	{
		struct strbuf sb = STRBUF_INIT(4096);

		lp.format = NULL;
		assert_int_equal(render_message(&ev, &sb), 0);
		assert_int_equal(sb.len, 0);
		assert_string_equal(strbuf_str(&sb), "");
	}
	/* the message is appended to what the buffer holds */
	{
		struct strbuf sb = STRBUF_INIT(4096);

		lp.format = "%s=%d";
		strbuf_puts(&sb, "> ");
		assert_int_equal(render_message(&ev, &sb), 0);
		assert_string_equal(strbuf_str(&sb), "> x=7");
		strbuf_release(&sb);
	}
	/* the buffer's cap is reported */
	{
		struct strbuf sb = STRBUF_INIT(3);

		lp.format = "%s=%d and more";
		assert_int_equal(render_message(&ev, &sb), -E2BIG);
		strbuf_release(&sb);
	}
}

/* ---- UTF-8 and base64 -------------------------------------------------------- */

static void test_utf8_valid(void **state)
{
	(void)state;
	static const char *const ok[] = {
		"plain",
		"",
		"caf\xc3\xa9",
		"\xe2\x82\xac",
		"\xf0\x9f\x98\x80",
		"\xef\xbf\xbd",
		"\xed\x9f\xbf",
		"\xee\x80\x80",
		"\xf4\x8f\xbf\xbf",
		"\xc2\x80",
		"\xdf\xbf",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		bool lossy = false;
		json_t *j = render_json_string(ok[i], strlen(ok[i]), &lossy);

		assert_non_null(j);
		assert_false(lossy);
		assert_int_equal(json_string_length(j), strlen(ok[i]));
		assert_memory_equal(json_string_value(j), ok[i], strlen(ok[i]));
		json_decref(j);
	}
	/* an embedded NUL is valid UTF-8 and kept */
	{
		bool lossy = false;
		json_t *j = render_json_string("a\0b", 3, &lossy);

		assert_false(lossy);
		assert_int_equal(json_string_length(j), 3);
		assert_memory_equal(json_string_value(j), "a\0b", 3);
		json_decref(j);
	}
	/* lossy may be NULL */
	json_decref(render_json_string("x", 1, NULL));
}

static void test_utf8_invalid(void **state)
{
	(void)state;
#define R "\xef\xbf\xbd"
	static const struct {
		const char *in, *out;
	} bad[] = {
		{ "\x80", R },
		{ "a\xffz", "a" R "z" },
		{ "\xc0\xaf", R R }, /* overlong '/' */
		{ "\xc1\xbf", R R },
		{ "\xe0\x80\xaf", R R R }, /* overlong */
		{ "\xe0\x9f\xbf", R R R },
		{ "\xf0\x80\x80\xaf", R R R R }, /* overlong */
		{ "\xed\xa0\x80", R R R },	 /* a surrogate */
		{ "\xed\xbf\xbf", R R R },
		{ "\xf4\x90\x80\x80", R R R R }, /* > U+10FFFF */
		{ "\xf5\x80\x80\x80", R R R R },
		{ "a\xe2\x82", "a" R R }, /* cut short */
		{ "\xe2\x82\xac\xff\xc3\xa9", "\xe2\x82\xac" R "\xc3\xa9" },
		{ "\xc3(", R "(" },
		{ "/tmp/x\xff\xc3\xa9", "/tmp/x" R "\xc3\xa9" },
	};
#undef R

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool lossy = false;
		json_t *j = render_json_string(bad[i].in, strlen(bad[i].in), &lossy);

		assert_non_null(j);
		assert_true(lossy);
		if (strcmp(json_string_value(j), bad[i].out) != 0)
			fail_msg("case %zu: wrong replacement", i);
		json_decref(j);
	}
	/* long enough for the heap */
	{
		char in[1000];
		bool lossy = false;
		json_t *j;

		memset(in, 0xff, sizeof(in));
		j = render_json_string(in, sizeof(in), &lossy);
		assert_true(lossy);
		assert_int_equal(json_string_length(j), 3 * sizeof(in));
		for (size_t i = 0; i < sizeof(in); i++)
			assert_memory_equal(json_string_value(j) + 3 * i, "\xef\xbf\xbd", 3);
		json_decref(j);
	}
}

/* utf8_copy: valid UTF-8 always, U+FFFD for what is not, cut between characters. */
static void test_utf8_copy(void **state)
{
	(void)state;
#define R "\xef\xbf\xbd"
	static const struct {
		const char *in;
		size_t len, size;
		const char *out;
	} cases[] = {
		{ "plain", 5, 64, "plain" },
		{ "caf\xc3\xa9", 5, 64, "caf\xc3\xa9" },
		{ "bad\xffname", 8, 64, "bad" R "name" },
		{ "a\0b", 3, 64, "a" R "b" },			    /* a NUL */
		{ "kernel-cut\xe6\x97", 12, 64, "kernel-cut" R R }, /* cut by the kernel */
		{ "caf\xc3\xa9", 5, 5, "caf" },			    /* "é" does not fit whole: left out */
		{ "caf\xc3\xa9", 5, 6, "caf\xc3\xa9" },
		{ "ab\xff", 3, 5, "ab" }, /* nor does U+FFFD */
		{ "ab\xff", 3, 6, "ab" R },
		{ "\xe2\x82\xac\xe2\x82\xac", 6, 6, "\xe2\x82\xac" },
		{ "x", 1, 1, "" },
		{ NULL, 0, 8, "" },
	};
#undef R
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		size_t n;

		memset(out, 'Z', sizeof(out));
		n = utf8_copy(out, cases[i].size, cases[i].in, cases[i].len);
		if (strcmp(out, cases[i].out) != 0 || n != strlen(cases[i].out))
			fail_msg("case %zu: got '%s' (%zu bytes)", i, out, n);
		for (size_t k = 0; k < n;) {
			size_t l = utf8_seq_len((const unsigned char *)out + k, n - k);

			if (!l)
				fail_msg("case %zu: not valid UTF-8 at byte %zu", i, k);
			k += l;
		}
	}
}

static void test_b64(void **state)
{
	(void)state;
	static const char *const vec[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
		{ "\xff\xfe\xfd", "//79" },
		{ "/tmp/x\xff\xc3\xa9", "L3RtcC94/8Op" },
	};
	unsigned char all[3000], back[3000];
	size_t n;
	json_t *j;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		j = render_b64(vec[i][0], strlen(vec[i][0]));
		assert_non_null(j);
		assert_string_equal(json_string_value(j), vec[i][1]);
		json_decref(j);
	}
	/* every byte, at every length mod 3, round trips */
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(i * 7 + i / 256);
	for (size_t len = 2997; len <= sizeof(all); len++) {
		j = render_b64((const char *)all, len);
		assert_non_null(j);
		assert_int_equal(json_string_length(j), (len + 2) / 3 * 4);
		assert_int_equal(b64_decode(json_string_value(j), back, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, all, len);
		json_decref(j);
	}
}

/* ---- time ------------------------------------------------------------------------ */

static void test_time(void **state)
{
	(void)state;
	static const struct {
		int64_t ns;
		const char *want;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ 1763805600123456789LL, "2025-11-22T10:00:00.123456Z" },
		{ 1763805600000000999LL, "2025-11-22T10:00:00.000000Z" },
		{ 951782399999999999LL, "2000-02-28T23:59:59.999999Z" },
		{ 951782400000001000LL, "2000-02-29T00:00:00.000001Z" },
		{ 4102444800000000000LL, "2100-01-01T00:00:00.000000Z" },
		{ -1, "1969-12-31T23:59:59.999999Z" },
		{ -1000000000LL, "1969-12-31T23:59:59.000000Z" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[32];

		memset(out, 'X', sizeof(out));
		render_time(cases[i].ns, out);
		assert_string_equal(out, cases[i].want);
	}
}

/* ---- the event object --------------------------------------------------------------- */

static struct layout_value p0_values[] = { { "d", "arg3", false }, { "s", "arg2", true } };
static struct layout_col p0_cols[] = { { LC_VALUE, 0 }, { LC_VALUE, 1 } };
static struct layout_value p1_values[] = { { "s", "arg2", true } };
static struct layout_col p1_cols[] = { { LC_RETVAL, 0 }, { LC_LATENCY, 0 }, { LC_VALUE, 0 } };
static struct layout_value p2_values[] = { { "llx", "arg1", false } };
static struct layout_col p2_cols[] = { { LC_VALUE, 0 }, { LC_KSTACK, 0 }, { LC_USTACK, 0 } };
static struct layout_probe probes[] = {
	{ .function = "sys_read",
	  .format = "read %d bytes from %s",
	  .values = p0_values,
	  .nvalues = 2,
	  .cols = p0_cols,
	  .ncols = 2 },
	{ .function = "sys_openat",
	  .format = "open %s",
	  .values = p1_values,
	  .nvalues = 1,
	  .cols = p1_cols,
	  .ncols = 3,
	  .has_retval = true,
	  .has_latency = true },
	{ .function = "do_sys_open", .format = "%llx", .values = p2_values, .nvalues = 1, .cols = p2_cols, .ncols = 3 },
};

static void check_b64(json_t *b64, const char *key, const char *bytes, size_t len)
{
	unsigned char back[512];
	size_t n;
	const char *text = json_string_value(json_object_get(b64, key));

	if (!text)
		fail_msg("no b64 for '%s'", key);
	assert_int_equal(b64_decode(text, back, &n), 0);
	assert_int_equal(n, len);
	assert_memory_equal(back, bytes, len);
}

static void test_event_plain(void **state)
{
	(void)state;
	struct scan_value v[] = { vint(4096), vstr("/etc/passwd", 11) };
	struct scan_event ev = { .nsecs = 3111918749140ULL,
				 .cpu = 3,
				 .pid = 1234,
				 .tid = 1235,
				 .uid = 33,
				 .comm = "nginx",
				 .comm_len = 5,
				 .probe = 0,
				 .lp = &probes[0],
				 .values = v };
	json_t *o = render_event_json(&ev, 1763805600123456789LL - 3111918749140LL);
	char *text;

	assert_non_null(o);
	/* every key, in render.h's order */
	text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(text, "{\"timestamp\":1763805600123456789,\"time\":\"2025-11-22T10:00:00.123456Z\","
				  "\"cpu\":3,\"pid\":1234,\"tid\":1235,\"uid\":33,\"process_name\":\"nginx\","
				  "\"function\":\"sys_read\",\"message\":\"read 4096 bytes from /etc/passwd\","
				  "\"raw_args\":{\"arg3\":\"4096\",\"arg2\":\"/etc/passwd\"}}");
	free(text);
	json_decref(o);
}

static void test_event_lossy(void **state)
{
	(void)state;
	static const char path[] = "/tmp/x\xff\xc3\xa9";
	static const char comm[] = "t\xfe";
	static const char msg[] = "open /tmp/x\xff\xc3\xa9";
	struct scan_value v[] = { vstr(path, sizeof(path) - 1) };
	struct scan_event ev = { .nsecs = 1000,
				 .cpu = 0,
				 .pid = 9548,
				 .tid = 9549,
				 .uid = 0,
				 .comm = comm,
				 .comm_len = sizeof(comm) - 1,
				 .probe = 1,
				 .lp = &probes[1],
				 .has_retval = true,
				 .retval = -2,
				 .has_latency = true,
				 .latency_ns = 5123,
				 .values = v };
	json_t *o = render_event_json(&ev, 1763805600123455789LL), *raw, *b64;

	assert_non_null(o);
	assert_int_equal(json_object_size(o), 13);
	assert_int_equal(json_integer_value(json_object_get(o, "timestamp")), 1763805600123456789LL);
	assert_string_equal(json_string_value(json_object_get(o, "time")), "2025-11-22T10:00:00.123456Z");
	assert_int_equal(json_integer_value(json_object_get(o, "cpu")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 9548);
	assert_int_equal(json_integer_value(json_object_get(o, "tid")), 9549);
	assert_int_equal(json_integer_value(json_object_get(o, "uid")), 0);
	assert_string_equal(json_string_value(json_object_get(o, "process_name")), "t\xef\xbf\xbd");
	assert_string_equal(json_string_value(json_object_get(o, "function")), "sys_openat");
	assert_string_equal(json_string_value(json_object_get(o, "message")), "open /tmp/x\xef\xbf\xbd\xc3\xa9");
	raw = json_object_get(o, "raw_args");
	assert_int_equal(json_object_size(raw), 1);
	assert_string_equal(json_string_value(json_object_get(raw, "arg2")), "/tmp/x\xef\xbf\xbd\xc3\xa9");
	assert_true(json_is_integer(json_object_get(o, "retval")));
	assert_int_equal(json_integer_value(json_object_get(o, "retval")), -2);
	assert_true(json_is_integer(json_object_get(o, "latency_ns")));
	assert_int_equal(json_integer_value(json_object_get(o, "latency_ns")), 5123);
	assert_null(json_object_get(o, "kstack"));
	assert_null(json_object_get(o, "ustack"));
	b64 = json_object_get(o, "b64");
	assert_true(json_is_object(b64));
	assert_int_equal(json_object_size(b64), 3);
	check_b64(b64, "message", msg, sizeof(msg) - 1);
	check_b64(b64, "process_name", comm, sizeof(comm) - 1);
	check_b64(b64, "raw_args.arg2", path, sizeof(path) - 1);
	json_decref(o);
}

static void test_event_some_lossy(void **state)
{
	(void)state;
	/* only the strings that were not valid UTF-8 get a b64 entry */
	static const char path[] = "/d\x80";
	struct scan_value v[] = { vint(-1), vstr(path, sizeof(path) - 1) };
	struct scan_event ev = {
		.nsecs = 1, .comm = "caf\xc3\xa9", .comm_len = 5, .probe = 0, .lp = &probes[0], .values = v
	};
	json_t *o = render_event_json(&ev, 0), *b64;

	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "process_name")), "caf\xc3\xa9");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "raw_args"), "arg3")), "-1");
	assert_null(json_object_get(o, "retval"));
	assert_null(json_object_get(o, "latency_ns"));
	b64 = json_object_get(o, "b64");
	assert_int_equal(json_object_size(b64), 2);
	check_b64(b64, "message", "read -1 bytes from /d\x80", 22);
	check_b64(b64, "raw_args.arg2", path, sizeof(path) - 1);
	assert_null(json_object_get(b64, "process_name"));
	json_decref(o);
}

/* render_event_text writes exactly the object render_event_json builds. */
static void expect_same_text(const struct scan_event *ev, int64_t off)
{
	struct strbuf out = STRBUF_INIT(1 << 20), scratch = STRBUF_INIT(1 << 20);
	json_t *tree = render_event_json(ev, off), *back;
	json_error_t jerr;

	assert_non_null(tree);
	assert_int_equal(render_event_text(ev, off, &out, &scratch), 0);
	back = json_loads(strbuf_str(&out), 0, &jerr);
	if (!back)
		fail_msg("not JSON (%s): %s", jerr.text, strbuf_str(&out));
	if (!json_equal(tree, back)) {
		char *t = json_dumps(tree, JSON_COMPACT);

		fail_msg("differ:\n tree %s\n text %s", t, strbuf_str(&out));
	}
	json_decref(tree);
	json_decref(back);
	strbuf_release(&out);
	strbuf_release(&scratch);
}

static void test_event_text_matches_json(void **state)
{
	static const char kstack[] = "\n        syscall_exit_work+188\n        do_syscall_64+558\n";
	static const char path[] = "/d\x80\"q\"\\b\n\t\x01\x7f caf\xc3\xa9 \xff";
	struct scan_value v0[] = { vint(4096), vstr(path, sizeof(path) - 1) };
	struct scan_value v1[] = { vstr("x\xc3", 2) };
	struct scan_value v2[] = { vint(-1) };
	struct scan_event e0 = { .nsecs = 3111918749140ULL,
				 .cpu = 3,
				 .pid = 1234,
				 .tid = 1235,
				 .uid = 33,
				 .comm = "ng\xffinx",
				 .comm_len = 6,
				 .probe = 0,
				 .lp = &probes[0],
				 .values = v0 };
	struct scan_event e1 = { .nsecs = 7,
				 .comm = "cat",
				 .comm_len = 3,
				 .probe = 1,
				 .lp = &probes[1],
				 .values = v1,
				 .has_retval = true,
				 .retval = -2,
				 .has_latency = true,
				 .latency_ns = 5123 };
	struct scan_event e2 = { .nsecs = 5,
				 .comm = "a\"b",
				 .comm_len = 3,
				 .probe = 2,
				 .lp = &probes[2],
				 .values = v2,
				 .kstack = kstack,
				 .kstack_len = sizeof(kstack) - 1 };

	(void)state;
	expect_same_text(&e0, 1763805600123456789LL - 3111918749140LL);
	expect_same_text(&e1, 0);
	expect_same_text(&e2, 0);
}

static void test_event_text_long_key(void **state)
{
	/* A value's b64 key is its expression, whole and escaped: a long one with a
	 * quote in it is a JSON key like any other, as render_event_json makes it. */
	static char name[] = "STRCMP(\"a\\\"b\", arg1) ? arg2 : (arg3 ? arg4 : (arg5 ? arg6 : "
			     "(struct task_struct *)arg1)->comm)";
	static const char path[] = "/d\x80";
	struct layout_value vals[] = { { "s", name, true } };
	struct layout_col cols[] = { { LC_VALUE, 0 } };
	struct layout_probe lp = {
		.function = "f", .format = "%s", .values = vals, .nvalues = 1, .cols = cols, .ncols = 1
	};
	struct scan_value v[] = { vstr(path, sizeof(path) - 1) };
	struct scan_event ev = { .nsecs = 1, .comm = "c", .comm_len = 1, .lp = &lp, .values = v };

	(void)state;
	assert_true(strlen(name) > 80);
	expect_same_text(&ev, 0);
}

static void test_event_stacks(void **state)
{
	(void)state;
	static const char kstack[] = "\n        syscall_exit_work+188\n        do_syscall_64+558\n"
				     "        entry_SYSCALL_64_after_hwframe+118\n";
	static const char ustack[] = "\n\t0x7f39eb1a5b1d \n \n\t\n0x7f39eb18d22a";
	struct scan_value v[] = { vint(-1) };
	struct scan_event ev = { .nsecs = 5,
				 .comm = "cat",
				 .comm_len = 3,
				 .probe = 2,
				 .lp = &probes[2],
				 .values = v,
				 .kstack = kstack,
				 .kstack_len = sizeof(kstack) - 1,
				 .ustack = ustack,
				 .ustack_len = sizeof(ustack) - 1 };
	json_t *o = render_event_json(&ev, 0);
	char *text;

	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "message")), "ffffffffffffffff");
	text = json_dumps(json_object_get(o, "raw_args"), JSON_COMPACT);
	assert_string_equal(text, "{\"arg1\":\"0xffffffffffffffff\"}");
	free(text);
	text = json_dumps(json_object_get(o, "kstack"), JSON_COMPACT);
	assert_string_equal(text,
			    "[\"syscall_exit_work+188\",\"do_syscall_64+558\",\"entry_SYSCALL_64_after_hwframe+118\"]");
	free(text);
	text = json_dumps(json_object_get(o, "ustack"), JSON_COMPACT);
	assert_string_equal(text, "[\"0x7f39eb1a5b1d\",\"0x7f39eb18d22a\"]");
	free(text);
	assert_null(json_object_get(o, "b64"));
	json_decref(o);

	/* a probe with stack columns and no stack (bpftrace gave null): [] */
	ev.kstack = ev.ustack = NULL;
	ev.kstack_len = ev.ustack_len = 0;
	o = render_event_json(&ev, 0);
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "kstack")), 0);
	assert_true(json_is_array(json_object_get(o, "ustack")));
	json_decref(o);
}

/* Through the scanner: a real bpftrace line to the protocol's object. */
struct capture {
	char *text;
	int n;
};

static void on_event(void *ud, const struct scan_event *ev)
{
	struct capture *c = ud;
	json_t *o = render_event_json(ev, 1000000000);

	assert_non_null(o);
	free(c->text);
	c->text = json_dumps(o, JSON_COMPACT);
	c->n++;
	json_decref(o);
}

static void test_event_from_scanner(void **state)
{
	(void)state;
	static const char line[] = "{\"type\": \"value\", \"data\": [3112757780692,1,9548,9548,0,\"touch\",1,3,51767,"
				   "\"/tmp/x\\uffffffff\\uffffffc3\\uffffffa9\"]}\n";
	struct event_layout l = { .probes = probes, .nprobes = 3, .max_events = -1 };
	struct capture c = { NULL, 0 };
	struct scan_callbacks cb = { .on_event = on_event, .ud = &c };
	struct scanner *s = scan_new(&l, &cb);

	assert_non_null(s);
	assert_int_equal(scan_feed(s, line, sizeof(line) - 1), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(
		c.text, "{\"timestamp\":3113757780692,\"time\":\"1970-01-01T00:51:53.757780Z\",\"cpu\":1,"
			"\"pid\":9548,\"tid\":9548,\"uid\":0,\"process_name\":\"touch\",\"function\":\"sys_openat\","
			"\"message\":\"open "
			"/tmp/x\xef\xbf\xbd\xc3\xa9\",\"raw_args\":{\"arg2\":\"/tmp/x\xef\xbf\xbd\xc3\xa9\"},"
			"\"retval\":3,\"latency_ns\":51767,"
			"\"b64\":{\"message\":\"b3BlbiAvdG1wL3j/w6k=\",\"raw_args.arg2\":\"L3RtcC94/8Op\"}}");
	free(c.text);
	scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_char_nul),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_null_value),
		cmocka_unit_test(test_format_text),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_utf8_copy),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_event_plain),
		cmocka_unit_test(test_event_lossy),
		cmocka_unit_test(test_event_some_lossy),
		cmocka_unit_test(test_event_stacks),
		cmocka_unit_test(test_event_text_matches_json),
		cmocka_unit_test(test_event_text_long_key),
		cmocka_unit_test(test_event_from_scanner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
