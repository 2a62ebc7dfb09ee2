/* test_scan.c - unit tests for the scanner of bpftrace's JSON-lines output.
 *
 * Every callback is recorded as one line of text in a log (byte strings
 * escaped as \xHH), so a test compares what the scanner reported with one
 * string, and feeding the same output in other pieces must give the same log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parser/scan.h"
#include "tracespec/strbuf.h"

/* ---- a layout built by hand ---------------------------------------------- */

/* probe 0: sys_read "read %d bytes from %s", arg3, arg2
 * probe 1: sys_openat (paired) "open %s", arg2: retval, latency, value
 * probe 2: do_sys_open "%llx", arg1 with -K -U: value, kstack, ustack */
static struct layout_value p0_values[] = {
	{ .conv = "d", .name = "arg3", .is_string = false },
	{ .conv = "s", .name = "arg2", .is_string = true },
};
static struct layout_col p0_cols[] = { { LC_VALUE, 0 }, { LC_VALUE, 1 } };
static struct layout_value p1_values[] = { { .conv = "s", .name = "arg2", .is_string = true } };
static struct layout_col p1_cols[] = { { LC_RETVAL, 0 }, { LC_LATENCY, 0 }, { LC_VALUE, 0 } };
static struct layout_value p2_values[] = { { .conv = "llx", .name = "arg1", .is_string = false } };
static struct layout_col p2_cols[] = { { LC_VALUE, 0 }, { LC_KSTACK, 0 }, { LC_USTACK, 0 } };

static struct layout_probe probes[] = {
	{ .function = "sys_read",
	  .target = "syscalls:sys_enter_read",
	  .probe = "tracepoint:syscalls:sys_enter_read",
	  .format = "read %d bytes from %s",
	  .values = p0_values,
	  .nvalues = 2,
	  .cols = p0_cols,
	  .ncols = 2 },
	{ .function = "sys_openat",
	  .target = "syscalls:sys_enter_openat",
	  .probe = "tracepoint:syscalls:sys_exit_openat",
	  .format = "open %s",
	  .values = p1_values,
	  .nvalues = 1,
	  .cols = p1_cols,
	  .ncols = 3,
	  .has_retval = true,
	  .has_latency = true },
	{ .function = "do_sys_open",
	  .target = "do_sys_open",
	  .probe = "kprobe:do_sys_open",
	  .format = "%llx",
	  .values = p2_values,
	  .nvalues = 1,
	  .cols = p2_cols,
	  .ncols = 3 },
};
static struct event_layout layout = { .probes = probes, .nprobes = 3, .max_events = -1 };

/* ---- recording ------------------------------------------------------------ */

struct rec {
	struct strbuf log;
	struct scanner *s;
};

static void put_bytes(struct strbuf *sb, const char *s, size_t n)
{
	strbuf_putc(sb, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			strbuf_putc(sb, (char)c);
		else
			strbuf_addf(sb, "\\x%02x", c);
	}
	strbuf_putc(sb, '"');
}

static void put_json(struct strbuf *sb, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	assert_non_null(text);
	put_bytes(sb, text, strlen(text));
	free(text);
}

static void on_event(void *ud, const struct scan_event *ev)
{
	struct rec *r = ud;
	struct strbuf *sb = &r->log;

	assert_non_null(ev->lp);
	assert_ptr_equal(ev->lp, &layout.probes[ev->probe]);
	assert_int_equal(ev->comm[ev->comm_len], '\0');
	strbuf_addf(sb, "event %llu cpu=%lld pid=%lld tid=%lld uid=%lld comm=", (unsigned long long)ev->nsecs,
		    (long long)ev->cpu, (long long)ev->pid, (long long)ev->tid, (long long)ev->uid);
	put_bytes(sb, ev->comm, ev->comm_len);
	strbuf_addf(sb, " probe=%d", ev->probe);
	if (ev->has_retval)
		strbuf_addf(sb, " retval=%lld", (long long)ev->retval);
	if (ev->has_latency)
		strbuf_addf(sb, " latency=%llu", (unsigned long long)ev->latency_ns);
	for (int i = 0; i < ev->lp->nvalues; i++) {
		const struct scan_value *v = &ev->values[i];

		strbuf_addf(sb, " v%d=", i);
		if (v->kind == SV_INT) {
			strbuf_addf(sb, "%lld", (long long)v->i);
		} else if (v->kind == SV_STR) {
			assert_int_equal(v->s[v->len], '\0');
			put_bytes(sb, v->s, v->len);
		} else {
			strbuf_puts(sb, "null");
		}
	}
	if (ev->kstack) {
		strbuf_puts(sb, " kstack=");
		put_bytes(sb, ev->kstack, ev->kstack_len);
	}
	if (ev->ustack) {
		strbuf_puts(sb, " ustack=");
		put_bytes(sb, ev->ustack, ev->ustack_len);
	}
	strbuf_putc(sb, '\n');
}

static void on_attached(void *ud, uint64_t nsecs)
{
	struct rec *r = ud;

	strbuf_addf(&r->log, "attached %llu\n", (unsigned long long)nsecs);
}

static void on_lost(void *ud, uint64_t count)
{
	struct rec *r = ud;

	strbuf_addf(&r->log, "lost %llu\n", (unsigned long long)count);
}

static void on_map(void *ud, const char *name, json_t *value)
{
	struct rec *r = ud;

	strbuf_addf(&r->log, "map %s ", name);
	put_json(&r->log, value);
	strbuf_putc(&r->log, '\n');
}

static void on_other(void *ud, const char *type, json_t *line)
{
	struct rec *r = ud;

	strbuf_addf(&r->log, "other %s ", type);
	put_json(&r->log, line);
	strbuf_putc(&r->log, '\n');
}

static void rec_init(struct rec *r)
{
	struct scan_callbacks cb = { on_event, on_attached, on_lost, on_map, on_other, r };

	strbuf_init(&r->log, 64 << 20);
	r->s = scan_new(&layout, &cb);
	assert_non_null(r->s);
}

static void rec_release(struct rec *r)
{
	scan_free(r->s);
	strbuf_release(&r->log);
}

/* The log and the stats, as one text. */
static char *rec_text(struct rec *r)
{
	const struct scan_stats *st = scan_stats(r->s);
	struct strbuf sb = STRBUF_INIT(64 << 20);

	strbuf_puts(&sb, strbuf_str(&r->log));
	strbuf_addf(&sb, "lines=%llu events=%llu lost=%llu malformed=%llu attached_probes=%llu nbad=%d\n",
		    (unsigned long long)st->lines, (unsigned long long)st->events, (unsigned long long)st->lost,
		    (unsigned long long)st->malformed, (unsigned long long)st->attached_probes, st->nbad);
	for (int i = 0; i < st->nbad; i++)
		strbuf_addf(&sb, "bad %s\n", st->bad[i]);
	assert_int_equal(sb.err, 0);
	return strbuf_detach(&sb, NULL);
}

/* Scan text in one piece; return the log and stats. */
static char *scan_text(const char *text, size_t len)
{
	struct rec r;
	char *out;

	rec_init(&r);
	assert_int_equal(scan_feed(r.s, text, len), 0);
	assert_int_equal(scan_finish(r.s), 0);
	out = rec_text(&r);
	rec_release(&r);
	return out;
}

/* Scan a C string and check the log and the stats line (and bad lines). */
static void check(const char *text, const char *expected)
{
	char *got = scan_text(text, strlen(text));

	assert_string_equal(got, expected);
	free(got);
}

/* ---- value lines ---------------------------------------------------------- */

static void test_real_value_lines(void **state)
{
	(void)state;
	check("{\"type\": \"attached_probes\", \"data\": {\"probes\": 3}}\n"
	      "{\"type\": \"value\", \"data\": [\"attached\",3111917749140]}\n"
	      "{\"type\": \"value\", \"data\": "
	      "[3111918749140,0,9516,9516,0,\"bash\",1,3,228768,\"/tmp/tmp.7CDwjCGhLe/out\"]}\n"
	      "{\"type\": \"value\", \"data\": "
	      "[3111919516766,1,9516,9517,1000,\"timeout\",1,-2,10295,\"/usr/lib/locale/locale-archive\"]}\n"
	      "{\"type\": \"value\", \"data\": [3111919538157,3,2201,2201,110,\"postgres\",0,8192,\"/var/lib/pg\"]}\n",
	      "attached 3111917749140\n"
	      "event 3111918749140 cpu=0 pid=9516 tid=9516 uid=0 comm=\"bash\" probe=1 retval=3 latency=228768 "
	      "v0=\"/tmp/tmp.7CDwjCGhLe/out\"\n"
	      "event 3111919516766 cpu=1 pid=9516 tid=9517 uid=1000 comm=\"timeout\" probe=1 retval=-2 latency=10295 "
	      "v0=\"/usr/lib/locale/locale-archive\"\n"
	      "event 3111919538157 cpu=3 pid=2201 tid=2201 uid=110 comm=\"postgres\" probe=0 v0=8192 "
	      "v1=\"/var/lib/pg\"\n"
	      "lines=5 events=3 lost=0 malformed=0 attached_probes=3 nbad=0\n");
}

static void test_stacks(void **state)
{
	(void)state;
	check("{\"type\": \"value\", \"data\": [3124084676190,0,10,10,0,\"cat\",2,-1,"
	      "\"\\n        syscall_exit_work+188\\n        do_syscall_64+558\\n\","
	      "\"\\n        0x7f39eb1a5b1d\\n\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,10,10,0,\"cat\",2,18446744073709551615,null,null]}\n",
	      "event 3124084676190 cpu=0 pid=10 tid=10 uid=0 comm=\"cat\" probe=2 v0=-1"
	      " kstack=\"\\x0a        syscall_exit_work+188\\x0a        do_syscall_64+558\\x0a\""
	      " ustack=\"\\x0a        0x7f39eb1a5b1d\\x0a\"\n"
	      "event 1 cpu=0 pid=10 tid=10 uid=0 comm=\"cat\" probe=2 v0=-1\n"
	      "lines=2 events=2 lost=0 malformed=0 attached_probes=0 nbad=0\n");
}

static void test_ffff_repair(void **state)
{
	(void)state;
	/* bytes 0x80, 0xc3 0xa9 (UTF-8 e-acute), 0xff as bpftrace 0.17 writes them */
	check("{\"type\": \"value\", \"data\": [5,0,1,1,0,\"caf\\uffffffc3\\uffffffa9\",0,1,"
	      "\"a\\uffffff80b\\uffffffffc\\uffffffC3\\uffffffA9\"]}\n",
	      "event 5 cpu=0 pid=1 tid=1 uid=0 comm=\"caf\\xc3\\xa9\" probe=0 v0=1"
	      " v1=\"a\\x80b\\xffc\\xc3\\xa9\"\n"
	      "lines=1 events=1 lost=0 malformed=0 attached_probes=0 nbad=0\n");
	/* the same repair on lines that go through jansson: valid UTF-8 is kept,
	 * bytes that are not become U+FFFD */
	check("{\"type\": \"map\", \"data\": {\"@__procs\": {\"12,caf\\uffffffc3\\uffffffa9\": 3, "
	      "\"13,x\\uffffffff\": 1, \"14,\\uffffff80\\uffffffc3\": 2}}}\n",
	      "map @__procs \"{\\x2212,caf\\xc3\\xa9\\x22:3,\\x2213,x\\xef\\xbf\\xbd\\x22:1,"
	      "\\x2214,\\xef\\xbf\\xbd\\xef\\xbf\\xbd\\x22:2}\"\n"
	      "lines=1 events=0 lost=0 malformed=0 attached_probes=0 nbad=0\n");
}

static void test_escapes(void **state)
{
	(void)state;
	check("{\"type\": \"value\", \"data\": [1,0,1,1,0,\"c\",1,0,0,"
	      "\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t A=\\u0041 e=\\u00e9 eur=\\u20AC smile=\\ud83d\\ude00"
	      " lone=\\ud800x low=\\udc00 nul=\\u0000 end\"]}\n",
	      "event 1 cpu=0 pid=1 tid=1 uid=0 comm=\"c\" probe=1 retval=0 latency=0 v0=\"q\\x22 b\\x5c s/ "
	      "\\x08\\x0c\\x0a\\x0d\\x09 A=A e=\\xc3\\xa9 eur=\\xe2\\x82\\xac smile=\\xf0\\x9f\\x98\\x80"
	      " lone=\\xef\\xbf\\xbdx low=\\xef\\xbf\\xbd nul=\\x00 end\"\n"
	      "lines=1 events=1 lost=0 malformed=0 attached_probes=0 nbad=0\n");
	/* broken escapes */
	check("{\"type\": \"value\", \"data\": [1,0,1,1,0,\"c\",1,0,0,\"\\x41\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"c\",1,0,0,\"\\u00g1\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"c\",1,0,0,\"\\u00\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"c\",1,0,0,\"tab\there\"]}\n",
	      "lines=4 events=0 lost=0 malformed=4 attached_probes=0 nbad=4\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"c\",1,0,0,\"\\x41\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"c\",1,0,0,\"\\u00g1\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"c\",1,0,0,\"\\u00\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"c\",1,0,0,\"tab?here\"]}\n");
}

static void test_hostile_string(void **state)
{
	(void)state;
	/* a file name that tries to forge an event or a format */
	check("{\"type\": \"value\", \"data\": [1,0,1,1,0,\"sh\",1,3,9,"
	      "\"a\\nb\\\"c|d%se\\tf\\\\g\\n{\\\"type\\\": \\\"value\\\"}\"]}\n",
	      "event 1 cpu=0 pid=1 tid=1 uid=0 comm=\"sh\" probe=1 retval=3 latency=9 "
	      "v0=\"a\\x0ab\\x22c|d%se\\x09f\\x5cg\\x0a{\\x22type\\x22: \\x22value\\x22}\"\n"
	      "lines=1 events=1 lost=0 malformed=0 attached_probes=0 nbad=0\n");
}

static void test_integers(void **state)
{
	(void)state;
	check("{\"type\": \"value\", \"data\": [18446744073709551615,0,1,1,0,\"x\",0,-9223372036854775808,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [0,0,-1,1,4294967295,\"x\",0,9223372036854775807,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [9223372036854775808,0,1,1,0,\"x\",0,-0,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",1,-9223372036854775807,12345678901234567890,\"\"]}\n",
	      "event 18446744073709551615 cpu=0 pid=1 tid=1 uid=0 comm=\"x\" probe=0 v0=-9223372036854775808 v1=\"\"\n"
	      "event 0 cpu=0 pid=-1 tid=1 uid=4294967295 comm=\"x\" probe=0 v0=9223372036854775807 v1=\"\"\n"
	      "event 9223372036854775808 cpu=0 pid=1 tid=1 uid=0 comm=\"x\" probe=0 v0=0 v1=\"\"\n"
	      "event 1 cpu=0 pid=1 tid=1 uid=0 comm=\"x\" probe=1 retval=-9223372036854775807 "
	      "latency=12345678901234567890 v0=\"\"\n"
	      "lines=4 events=4 lost=0 malformed=0 attached_probes=0 nbad=0\n");
	/* out of range, reals, leading zeros, lone signs */
	check("{\"type\": \"value\", \"data\": [18446744073709551616,0,1,1,0,\"x\",0,1,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,-9223372036854775809,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,99999999999999999999,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1.5,0,1,1,0,\"x\",0,1,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,1e3,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [01,0,1,1,0,\"x\",0,1,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,-,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,1x,\"\"]}\n",
	      "lines=8 events=0 lost=0 malformed=8 attached_probes=0 nbad=5\n"
	      "bad {\"type\": \"value\", \"data\": [18446744073709551616,0,1,1,0,\"x\",0,1,\"\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,-9223372036854775809,\"\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,99999999999999999999,\"\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1.5,0,1,1,0,\"x\",0,1,\"\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,1e3,\"\"]}\n");
}

static void test_integers_as_strings(void **state)
{
	(void)state;
	/* bpftrace 0.24+ writes big integers as strings */
	check("{\"type\": \"value\", \"data\": [\"18446744073709551615\",\"2\",\"-1\",\"7\",\"0\",\"x\",\"1\","
	      "\"-22\",\"123\",\"/p\"]}\n"
	      "{\"type\": \"value\", \"data\": [\"attached\",\"9007199254740993\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,\"4096\",\"12\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,\"abc\",7]}\n",
	      "event 18446744073709551615 cpu=2 pid=-1 tid=7 uid=0 comm=\"x\" probe=1 retval=-22 latency=123 "
	      "v0=\"/p\"\n"
	      "attached 9007199254740993\n"
	      /* %d given "4096" reads the integer; %s keeps "12" a string */
	      "event 1 cpu=0 pid=1 tid=1 uid=0 comm=\"x\" probe=0 v0=4096 v1=\"12\"\n"
	      /* a format value of the other kind is passed on for render to print */
	      "event 1 cpu=0 pid=1 tid=1 uid=0 comm=\"x\" probe=0 v0=\"abc\" v1=7\n"
	      "lines=4 events=3 lost=0 malformed=0 attached_probes=0 nbad=0\n");
	/* header and return columns must hold integers */
	check("{\"type\": \"value\", \"data\": [\"abc\",0,1,1,0,\"x\",0,1,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",\"zero\",1,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",1,\"-\",1,\"\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",1,\"1 \",1,\"\"]}\n",
	      "lines=4 events=0 lost=0 malformed=4 attached_probes=0 nbad=4\n"
	      "bad {\"type\": \"value\", \"data\": [\"abc\",0,1,1,0,\"x\",0,1,\"\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",\"zero\",1,\"\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",1,\"-\",1,\"\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",1,\"1 \",1,\"\"]}\n");
}

static void test_nulls(void **state)
{
	(void)state;
	check("{\"type\": \"value\", \"data\": [null,null,null,null,null,null,1,null,null,null]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,null,\"a\"]}\n",
	      "event 0 cpu=0 pid=0 tid=0 uid=0 comm=\"\" probe=1 v0=null\n"
	      "event 1 cpu=0 pid=1 tid=1 uid=0 comm=\"x\" probe=0 v0=null v1=\"a\"\n"
	      "lines=2 events=2 lost=0 malformed=0 attached_probes=0 nbad=0\n");
	check("{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",null,1,\"a\"]}\n"
	      "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",nul,1,\"a\"]}\n",
	      "lines=2 events=0 lost=0 malformed=2 attached_probes=0 nbad=2\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",null,1,\"a\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",nul,1,\"a\"]}\n");
}

static void test_attached_marker(void **state)
{
	(void)state;
	check("{\"type\": \"value\", \"data\": [\"attached\", 12345]}\n"
	      "{\"type\": \"value\", \"data\": [\"attached\"]}\n"
	      "{\"type\": \"value\", \"data\": [\"attached\", 1, 2]}\n"
	      "{\"type\": \"value\", \"data\": [\"attached\", \"soon\"]}\n",
	      "attached 12345\n"
	      "lines=4 events=0 lost=0 malformed=3 attached_probes=0 nbad=3\n"
	      "bad {\"type\": \"value\", \"data\": [\"attached\"]}\n"
	      "bad {\"type\": \"value\", \"data\": [\"attached\", 1, 2]}\n"
	      "bad {\"type\": \"value\", \"data\": [\"attached\", \"soon\"]}\n");
}

static void test_json_shapes(void **state)
{
	(void)state;
	/* other spellings of a value line: any key order, spacing, extra members */
	check("{\"data\":[1,0,2,2,0,\"a\",0,1,\"b\"],\"type\":\"value\"}\n"
	      "  { \"type\" : \"value\" ,\t\"data\" : [ 2 , 0 , 2 , 2 , 0 , \"a\" , 0 , 1 , \"b\" ] }  \r\n"
	      "{\"type\": \"value\", \"extra\": {\"k\": [1, 2.5e-3, true, false, null, {\"z\": \"\\u00e9\"}]}, "
	      "\"data\": [3,0,2,2,0,\"a\",0,1,\"b\"]}\n"
	      "{\"typ\\u0065\": \"value\", \"data\": [4,0,2,2,0,\"a\",0,1,\"b\"]}\n",
	      "event 1 cpu=0 pid=2 tid=2 uid=0 comm=\"a\" probe=0 v0=1 v1=\"b\"\n"
	      "event 2 cpu=0 pid=2 tid=2 uid=0 comm=\"a\" probe=0 v0=1 v1=\"b\"\n"
	      "event 3 cpu=0 pid=2 tid=2 uid=0 comm=\"a\" probe=0 v0=1 v1=\"b\"\n"
	      "event 4 cpu=0 pid=2 tid=2 uid=0 comm=\"a\" probe=0 v0=1 v1=\"b\"\n"
	      "lines=4 events=4 lost=0 malformed=0 attached_probes=0 nbad=0\n");
}

/* ---- malformed lines ------------------------------------------------------ */

static void test_malformed_kinds(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"type\": \"value\", \"data\": [3111918749140,0,9516,9516,0,\"bash\",1,3,228",      /* truncated */
		"{\"type\": \"value\", \"data\": [3111918749140,0,9516,9516,0,\"bash\",1,3,228768]}", /* a column short */
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,1,\"a\",\"b\"]}", /* a column too many */
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",3,1,\"a\"]}",	      /* probe out of range */
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",-1,1,\"a\"]}",
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",2147483648,1,\"a\"]}",
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\"]}", /* no probe */
		"{\"type\": \"value\", \"data\": []}",
		"{\"type\": \"value\", \"data\": 5}",
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,7,0,1,\"a\"]}",	  /* comm not a string */
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,[1],\"a\"]}", /* nested */
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,true,\"a\"]}",
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",2,1,5,\"u\"]}", /* kstack not a string */
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,1,\"a\"]} x", /* trailing text */
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,1,\"a\"],}",
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,1,\"a\",]}",
		"{\"type\": \"value\"}",		   /* no data */
		"{\"data\": [1,0,1,1,0,\"x\",0,1,\"a\"]}", /* no type */
		"{\"type\": 5, \"data\": {}}",
		"{}",
		"[1, 2]",
		"null",
		"\"value\"",
		"{\"type\": \"map\", \"data\": {\"@x\": 1}", /* broken, not a value */
		"{\"type\": \"map\", \"data\": [1]}",
		"{\"type\": \"attached_probes\", \"data\": {}}",
		"{\"type\": \"lost_events\", \"data\": {\"events\": -1}}",
		"{\"type\": \"lost_events\", \"data\": {}}",
		("ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace. If your program is not "
		 "loading, you can try \"ulimit -l 8192\" to fix the problem"),
		"Attaching 3 probes...",
		"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,1,\"a\"]}{\"type\": \"value\"}",
	};
	int n = (int)(sizeof(bad) / sizeof(bad[0]));

	for (int i = 0; i < n; i++) {
		struct rec r;
		const struct scan_stats *st;

		rec_init(&r);
		assert_int_equal(scan_line(r.s, bad[i], strlen(bad[i])), 0);
		st = scan_stats(r.s);
		if (st->malformed != 1)
			fail_msg("line %d not malformed: %s", i, bad[i]);
		assert_int_equal(st->lines, 1);
		assert_int_equal(st->events, 0);
		assert_int_equal(st->nbad, 1);
		assert_string_equal(strbuf_str(&r.log), "");
		rec_release(&r);
	}
}

static void test_bad_kept(void **state)
{
	(void)state;
	struct strbuf text = STRBUF_INIT(1 << 20);
	char *got;
	const struct scan_stats *st;
	struct rec r;
	char expect[201];

	/* 300 bytes with non-printable bytes: kept truncated to 200, '?' for them */
	strbuf_puts(&text, "\x01\tbad\xff\xc3\xa9");
	for (int i = 0; i < 300; i++)
		strbuf_putc(&text, (char)('a' + i % 26));
	strbuf_putc(&text, '\n');
	for (int i = 0; i < 8; i++)
		strbuf_addf(&text, "junk %d\n", i);
	rec_init(&r);
	assert_int_equal(scan_feed(r.s, text.buf, text.len), 0);
	st = scan_stats(r.s);
	assert_int_equal(st->malformed, 9);
	assert_int_equal(st->nbad, SCAN_KEEP_BAD);
	memcpy(expect, "??bad???", 8);
	for (int i = 0; i < 192; i++)
		expect[8 + i] = (char)('a' + i % 26);
	expect[200] = '\0';
	assert_string_equal(st->bad[0], expect);
	assert_int_equal(strlen(st->bad[0]), 200);
	assert_string_equal(st->bad[1], "junk 0");
	assert_string_equal(st->bad[4], "junk 3");
	got = rec_text(&r);
	free(got);
	rec_release(&r);
	strbuf_release(&text);
}

static void test_blank_lines(void **state)
{
	(void)state;
	check("\n\n  \n\t\r\n\r\n{\"type\": \"value\", \"data\": [\"attached\", 1]}\n\n",
	      "attached 1\n"
	      "lines=7 events=0 lost=0 malformed=0 attached_probes=0 nbad=0\n");
	check("", "lines=0 events=0 lost=0 malformed=0 attached_probes=0 nbad=0\n");
}

/* ---- other line types ----------------------------------------------------- */

static void test_lost_events(void **state)
{
	(void)state;
	check("{\"type\": \"lost_events\", \"data\": {\"events\": 12}}\n"
	      "{\"type\": \"lost_events\", \"data\": {\"events\": 5}, \"count\": 5}\n"
	      "{\"type\": \"lost_events\", \"count\": 3}\n"
	      "{\"type\": \"lost_events\", \"data\": {\"events\": \"7\"}}\n",
	      "lost 12\nlost 5\nlost 3\nlost 7\n"
	      "lines=4 events=0 lost=27 malformed=0 attached_probes=0 nbad=0\n");
}

static void test_attached_probes(void **state)
{
	(void)state;
	check("{\"type\": \"attached_probes\", \"data\": {\"probes\": 3}}\n",
	      "lines=1 events=0 lost=0 malformed=0 attached_probes=3 nbad=0\n");
	check("{\"type\": \"attached_probes\", \"data\": {\"probes\": \"7\"}}\n",
	      "lines=1 events=0 lost=0 malformed=0 attached_probes=7 nbad=0\n");
}

static void test_maps(void **state)
{
	(void)state;
	check("\n\n"
	      "{\"type\": \"map\", \"data\": {\"@__hits\": {\"0\": 5}}}\n"
	      "{\"type\": \"map\", \"data\": {\"@__procs\": {\"123,bash\": 3, \"9588,bpftrace\": 305}}}\n"
	      "{\"type\": \"map\", \"data\": {\"@__streamed\": 7}}\n"
	      "{\"type\": \"map\", \"data\": {\"@big\": 18446744073709551615, \"@neg\": -9223372036854775808}}\n"
	      "{\"type\": \"map\", \"data\": {}}\n",
	      "map @__hits \"{\\x220\\x22:5}\"\n"
	      "map @__procs \"{\\x22123,bash\\x22:3,\\x229588,bpftrace\\x22:305}\"\n"
	      "map @__streamed \"7\"\n"
	      /* beyond int64: delivered as a string, as bpftrace 0.24+ writes it */
	      "map @big \"\\x2218446744073709551615\\x22\"\n"
	      "map @neg \"-9223372036854775808\"\n"
	      "lines=7 events=0 lost=0 malformed=0 attached_probes=0 nbad=0\n");
}

struct map_probe {
	int calls;
	json_int_t hits, procs, streamed;
};

static void on_map_values(void *ud, const char *name, json_t *value)
{
	struct map_probe *m = ud;

	m->calls++;
	if (strcmp(name, "@__hits") == 0)
		m->hits = json_integer_value(json_object_get(value, "0"));
	else if (strcmp(name, "@__procs") == 0)
		m->procs = json_integer_value(json_object_get(value, "123,bash"));
	else if (strcmp(name, "@__streamed") == 0)
		m->streamed = json_integer_value(value);
}

static void test_map_values(void **state)
{
	(void)state;
	static const char text[] = "{\"type\": \"map\", \"data\": {\"@__hits\": {\"0\": 5}}}\n"
				   "{\"type\": \"map\", \"data\": {\"@__procs\": {\"123,bash\": 3}}}\n"
				   "{\"type\": \"map\", \"data\": {\"@__streamed\": 7}}\n";
	struct map_probe m = { 0 };
	struct scan_callbacks cb = { .on_map = on_map_values, .ud = &m };
	struct scanner *s = scan_new(&layout, &cb);

	assert_non_null(s);
	assert_int_equal(scan_feed(s, text, sizeof(text) - 1), 0);
	assert_int_equal(m.calls, 3);
	assert_int_equal(m.hits, 5);
	assert_int_equal(m.procs, 3);
	assert_int_equal(m.streamed, 7);
	scan_free(s);
}

static void test_other_types(void **state)
{
	(void)state;
	check("{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 64, \"max\": 127, \"count\": 155}]}}\n"
	      "{\"type\": \"stats\", \"data\": {\"@st\": {\"count\": 155, \"average\": 0, \"total\": 140}}}\n"
	      "{\"type\": \"printf\", \"data\": \"hi\\n\"}\n",
	      "other hist \"{\\x22data\\x22:{\\x22@h\\x22:[{\\x22count\\x22:155,\\x22max\\x22:127,\\x22min\\x22:64}]},"
	      "\\x22type\\x22:\\x22hist\\x22}\"\n"
	      "other stats "
	      "\"{\\x22data\\x22:{\\x22@st\\x22:{\\x22average\\x22:0,\\x22count\\x22:155,\\x22total\\x22:140}},"
	      "\\x22type\\x22:\\x22stats\\x22}\"\n"
	      "other printf \"{\\x22data\\x22:\\x22hi\\x5cn\\x22,\\x22type\\x22:\\x22printf\\x22}\"\n"
	      "lines=3 events=0 lost=0 malformed=0 attached_probes=0 nbad=0\n");
}

static void test_no_callbacks(void **state)
{
	(void)state;
	static const char text[] = "{\"type\": \"attached_probes\", \"data\": {\"probes\": 3}}\n"
				   "{\"type\": \"value\", \"data\": [\"attached\", 1]}\n"
				   "{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,1,\"a\"]}\n"
				   "{\"type\": \"lost_events\", \"data\": {\"events\": 2}}\n"
				   "{\"type\": \"map\", \"data\": {\"@__hits\": {\"0\": 5}}}\n"
				   "{\"type\": \"hist\", \"data\": {}}\n"
				   "garbage";
	struct scanner *s = scan_new(&layout, NULL);
	const struct scan_stats *st;

	assert_non_null(s);
	assert_int_equal(scan_feed(s, text, sizeof(text) - 1), 0);
	assert_int_equal(scan_finish(s), 0);
	st = scan_stats(s);
	assert_int_equal(st->lines, 7);
	assert_int_equal(st->events, 1);
	assert_int_equal(st->lost, 2);
	assert_int_equal(st->attached_probes, 3);
	assert_int_equal(st->malformed, 1);
	scan_free(s);
	scan_free(NULL);
}

/* ---- feeding --------------------------------------------------------------- */

/* A bit of everything, as one output. */
static const char mixed[] =
	"{\"type\": \"attached_probes\", \"data\": {\"probes\": 3}}\n"
	"{\"type\": \"value\", \"data\": [\"attached\",3111917749140]}\n"
	"{\"type\": \"value\", \"data\": "
	"[3111918749140,0,9516,9516,0,\"bash\",1,3,228768,\"/tmp/x\\uffffffff\\uffffffc3\\uffffffa9\"]}\n"
	"\n"
	"{\"type\": \"value\", \"data\": "
	"[3111919228699,1,9516,9516,0,\"timeout\",0,\"4096\",\"a\\\"b\\\\c\\n\\td|%s\\u00e9\\ud83d\\ude00\"]}\n"
	"ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace.\n"
	"{\"type\": \"lost_events\", \"data\": {\"events\": 12}}\n"
	"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",9,1,\"a\"]}\n"
	"{\"type\": \"value\", \"data\": [3124084676190,0,10,10,0,\"cat\",2,18446744073709551615,"
	"\"\\n        syscall_exit_work+188\\n\",\"\\n        0x7f39eb1a5b1d\\n\"]}\n"
	"{\"type\": \"value\", \"data\": [3111919238699,1,9516,9516,0,\"timeout\",0,-9223372036854775808,null]}\n"
	"{\"type\": \"lost_events\", \"data\": {\"events\": 5}, \"count\": 5}\n"
	"{\"type\": \"value\", \"data\": [3111918749140,0,9516,\n"
	"\n"
	"\n"
	"{\"type\": \"map\", \"data\": {\"@__hits\": {\"0\": 3717, \"2\": 1}}}\n"
	"{\"type\": \"map\", \"data\": {\"@__procs\": {\"9608,bash\": 1, \"9548,t\\uffffffc3\\uffffffa9\": 31}}}\n"
	"{\"type\": \"map\", \"data\": {\"@__streamed\": 7}}\n"
	"{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 64, \"max\": 127, \"count\": 155}]}}\n"
	"{\"type\": \"stats\", \"data\": {\"@st\": {\"count\": 155, \"average\": 0, \"total\": 140}}}\n"
	"{\"type\": \"value\", \"data\": [5,0,1,1,0,\"end\",0,1,\"no newline\"]}";

static void test_split_everywhere(void **state)
{
	(void)state;
	size_t len = sizeof(mixed) - 1;
	char *whole = scan_text(mixed, len);

	/* the whole output is what it should be */
	assert_non_null(strstr(whole, "lines=20 events=5 lost=17 malformed=3 attached_probes=3 nbad=3\n"));
	assert_non_null(strstr(whole, "attached 3111917749140\n"));
	assert_non_null(strstr(whole, "comm=\"end\" probe=0 v0=1 v1=\"no newline\"\n"));
	for (size_t i = 0; i <= len; i++) {
		struct rec r;
		char *got;

		rec_init(&r);
		assert_int_equal(scan_feed(r.s, mixed, i), 0);
		assert_int_equal(scan_feed(r.s, mixed + i, len - i), 0);
		assert_int_equal(scan_finish(r.s), 0);
		got = rec_text(&r);
		if (strcmp(got, whole) != 0)
			fail_msg("split at %zu differs:\n%s\nwhole:\n%s", i, got, whole);
		free(got);
		rec_release(&r);
	}
	/* one byte at a time, and in three pieces */
	for (size_t step = 1; step <= 7; step += 3) {
		struct rec r;
		char *got;

		rec_init(&r);
		for (size_t i = 0; i < len; i += step)
			assert_int_equal(scan_feed(r.s, mixed + i, len - i < step ? len - i : step), 0);
		assert_int_equal(scan_finish(r.s), 0);
		got = rec_text(&r);
		assert_string_equal(got, whole);
		free(got);
		rec_release(&r);
	}
	free(whole);
}

static void test_finish(void **state)
{
	(void)state;
	struct rec r;
	static const char line[] = "{\"type\": \"value\", \"data\": [\"attached\", 9]}";

	rec_init(&r);
	assert_int_equal(scan_feed(r.s, line, sizeof(line) - 1), 0);
	assert_string_equal(strbuf_str(&r.log), "");
	assert_int_equal(scan_finish(r.s), 0);
	assert_string_equal(strbuf_str(&r.log), "attached 9\n");
	assert_int_equal(scan_finish(r.s), 0); /* nothing left */
	assert_int_equal(scan_stats(r.s)->lines, 1);
	/* the scanner goes on after finish */
	assert_int_equal(scan_feed(r.s, "\n", 1), 0);
	assert_int_equal(scan_stats(r.s)->lines, 2);
	rec_release(&r);
}

/* A line of exactly n bytes: an attach marker padded with spaces. */
static char *marker_line(size_t n)
{
	static const char head[] = "{\"type\": \"value\", \"data\": [\"attached\", 77";
	char *line = malloc(n + 1);

	assert_non_null(line);
	memcpy(line, head, sizeof(head) - 1);
	memset(line + sizeof(head) - 1, ' ', n - (sizeof(head) - 1) - 2);
	memcpy(line + n - 2, "]}", 2);
	line[n] = '\n';
	return line;
}

static void test_long_lines(void **state)
{
	(void)state;
	size_t big = 2u << 20;
	char *line = malloc(big + 1);
	struct mallinfo2 before, after;
	static const char next[] = "{\"type\": \"value\", \"data\": [\"attached\", 5]}\n";
	const struct scan_stats *st;
	struct rec r;

	assert_non_null(line);
	memset(line, 'x', big);
	memcpy(line, "{\"type\": \"value\", \"data\": [\"", 28);
	line[big] = '\n';

	/* in 4 KiB pieces: one malformed line, then the scanner goes on; the
	 * partial line is never held beyond the cap */
	rec_init(&r);
	before = mallinfo2();
	for (size_t i = 0; i <= big; i += 4096)
		assert_int_equal(scan_feed(r.s, line + i, big + 1 - i < 4096 ? big + 1 - i : 4096), 0);
	after = mallinfo2();
	assert_true(after.uordblks <= before.uordblks + SCAN_MAX_LINE + 65536);
	assert_int_equal(scan_feed(r.s, next, sizeof(next) - 1), 0);
	st = scan_stats(r.s);
	assert_int_equal(st->lines, 2);
	assert_int_equal(st->malformed, 1);
	assert_int_equal(st->nbad, 1);
	assert_int_equal(strlen(st->bad[0]), 200);
	assert_memory_equal(st->bad[0], "{\"type\": \"value\", \"data\": [\"xxx", 31);
	assert_string_equal(strbuf_str(&r.log), "attached 5\n");
	rec_release(&r);

	/* in one piece, and cut just after the start */
	for (int mode = 0; mode < 2; mode++) {
		rec_init(&r);
		if (mode == 0) {
			assert_int_equal(scan_feed(r.s, line, big + 1), 0);
		} else {
			assert_int_equal(scan_feed(r.s, line, 10), 0);
			assert_int_equal(scan_feed(r.s, line + 10, big + 1 - 10), 0);
		}
		assert_int_equal(scan_feed(r.s, next, sizeof(next) - 1), 0);
		st = scan_stats(r.s);
		assert_int_equal(st->lines, 2);
		assert_int_equal(st->malformed, 1);
		assert_memory_equal(st->bad[0], "{\"type\": \"value\", \"data\": [\"xxx", 31);
		assert_string_equal(strbuf_str(&r.log), "attached 5\n");
		rec_release(&r);
	}

	/* no newline at all before finish */
	rec_init(&r);
	assert_int_equal(scan_feed(r.s, line, big), 0);
	assert_int_equal(scan_finish(r.s), 0);
	assert_int_equal(scan_stats(r.s)->malformed, 1);
	assert_int_equal(scan_stats(r.s)->lines, 1);
	rec_release(&r);
	free(line);

	/* the cap itself: SCAN_MAX_LINE bytes are a line, one more is not */
	for (int extra = 0; extra < 2; extra++) {
		size_t n = SCAN_MAX_LINE + (size_t)extra;
		char *m = marker_line(n);

		for (int mode = 0; mode < 3; mode++) {
			rec_init(&r);
			if (mode == 0) {
				assert_int_equal(scan_feed(r.s, m, n + 1), 0);
			} else if (mode == 1) {
				assert_int_equal(scan_feed(r.s, m, n / 2), 0);
				assert_int_equal(scan_feed(r.s, m + n / 2, n + 1 - n / 2), 0);
			} else {
				assert_int_equal(scan_line(r.s, m, n), 0);
			}
			st = scan_stats(r.s);
			assert_int_equal(st->lines, 1);
			assert_int_equal(st->malformed, (unsigned)extra);
			assert_string_equal(strbuf_str(&r.log), extra ? "" : "attached 77\n");
			rec_release(&r);
		}
		free(m);
	}
}

static void test_real_file(void **state)
{
	(void)state;
	const char *root = getenv("ROOT");
	char path[4096];
	struct layout_value v = { .conv = "s", .name = "arg2", .is_string = true };
	struct layout_col cols[] = { { LC_RETVAL, 0 }, { LC_LATENCY, 0 }, { LC_VALUE, 0 } };
	struct layout_probe p = { .function = "sys_openat",
				  .format = "%s",
				  .values = &v,
				  .nvalues = 1,
				  .cols = cols,
				  .ncols = 3,
				  .has_retval = true,
				  .has_latency = true };
	struct event_layout l = { .probes = &p, .nprobes = 1, .max_events = -1 };
	struct map_probe m = { 0 };
	struct scan_callbacks cb = { .on_map = on_map_values, .ud = &m };
	const struct scan_stats *st;
	struct scanner *s;
	char buf[1000];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/test/data/scan/openat-017.jsonl", root ? root : ".");
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open '%s' (run from the source tree or set ROOT): %s", path, strerror(errno));
	s = scan_new(&l, &cb);
	assert_non_null(s);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		assert_int_equal(scan_feed(s, buf, n), 0);
	fclose(f);
	assert_int_equal(scan_finish(s), 0);
	st = scan_stats(s);
	assert_int_equal(st->lines, 12);
	assert_int_equal(st->events, 7);
	assert_int_equal(st->malformed, 0);
	assert_int_equal(st->attached_probes, 3);
	assert_int_equal(m.calls, 2);
	assert_int_equal(m.hits, 3717);
	scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_value_lines),
		cmocka_unit_test(test_stacks),
		cmocka_unit_test(test_ffff_repair),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_hostile_string),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_integers_as_strings),
		cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_attached_marker),
		cmocka_unit_test(test_json_shapes),
		cmocka_unit_test(test_malformed_kinds),
		cmocka_unit_test(test_bad_kept),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_lost_events),
		cmocka_unit_test(test_attached_probes),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_map_values),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_no_callbacks),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_real_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
