/* test_diag.c - the diagnosis analysis: map keys, histograms, percentiles,
 * units, the report and its rendering, and each module's conclusions from
 * exit dumps and events whose truth is known. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/units.h"
#include "parser/bpfmap.h"
#include "parser/diag.h"
#include "parser/dist.h"
#include "parser/report.h"

/* ---- keys, numbers, histograms ------------------------------------------------- */

static void test_keys(void **state)
{
	int64_t k[4];
	const char *rest;
	json_t *v;

	(void)state;
	assert_true(bpfmap_key("257,2", 2, k, NULL));
	assert_int_equal(k[0], 257);
	assert_int_equal(k[1], 2);
	assert_true(bpfmap_key("-3,4", 2, k, NULL));
	assert_int_equal(k[0], -3);
	/* the string part is last and may hold commas */
	assert_true(bpfmap_key("12,a,b,c", 1, k, &rest));
	assert_int_equal(k[0], 12);
	assert_string_equal(rest, "a,b,c");
	assert_true(bpfmap_key("0,", 1, k, &rest));
	assert_string_equal(rest, "");
	assert_false(bpfmap_key("x,1", 2, k, NULL));
	assert_false(bpfmap_key("1,2,3", 2, k, NULL));
	assert_false(bpfmap_key("1", 2, k, NULL));
	assert_false(bpfmap_key("1 ,2", 2, k, NULL));
	/* 0.24+ writes big integers as strings */
	v = json_string("18446744073709551615");
	assert_true(bpfmap_i64(v, &k[0]));
	assert_int_equal(k[0], -1);
	json_decref(v);
	v = json_string("12x");
	assert_false(bpfmap_i64(v, &k[0]));
	json_decref(v);
}

static const char hist_text[] = "[{\"min\": 0, \"max\": 0, \"count\": 4}, {\"min\": 1, \"max\": 1, \"count\": 0},"
				" {\"min\": 2, \"max\": 3, \"count\": 1}, {\"min\": 512, \"max\": 1023, \"count\": 4},"
				" {\"min\": 1024, \"count\": 1}]";

static void test_hist(void **state)
{
	json_t *j = json_loads(hist_text, 0, NULL);
	struct bpfmap_hist h, h2;

	(void)state;
	assert_int_equal(bpfmap_hist_parse(j, &h), 0);
	assert_int_equal(h.n, 5);
	assert_int_equal(h.total, 10);
	assert_int_equal(h.b[4].max, 2048); /* open above: twice its min */
	assert_int_equal(bpfmap_hist_pct(&h, 40), 0);
	assert_int_equal(bpfmap_hist_pct(&h, 50), 3);
	/* rank 7 of 10 is the 2nd of 4 in [512, 1023]: halfway */
	assert_int_equal(bpfmap_hist_pct(&h, 70), 768); /* 512 + 0.5 * 511, rounded */
	assert_int_equal(bpfmap_hist_pct(&h, 100), 2048);
	h2 = h;
	bpfmap_hist_merge(&h, &h2);
	assert_int_equal(h.total, 20);
	json_decref(j);
	j = json_loads("[{\"max\": 3, \"count\": 1}]", 0, NULL);
	assert_int_equal(bpfmap_hist_parse(j, &h), -EINVAL);
	json_decref(j);
}

static void test_dist(void **state)
{
	json_t *j = json_loads(hist_text, 0, NULL);
	struct bpfmap_hist h;
	struct dist d;
	struct dist_summary s;

	(void)state;
	bpfmap_hist_parse(j, &h);
	dist_init(&d);
	for (uint64_t i = 1; i <= 100; i++)
		dist_add(&d, i * 10);
	/* every sample the kernel counted: exact, nearest rank */
	dist_summary(&d, 100, &h, 5000, &s);
	assert_true(s.exact);
	assert_int_equal(s.p50, 500);
	assert_int_equal(s.p99, 990);
	assert_int_equal(s.max, 1000);
	/* fewer samples than the kernel counted: the buckets, the kernel's max */
	dist_summary(&d, 150, &h, 1500, &s);
	assert_false(s.exact);
	assert_int_equal(s.count, 150);
	assert_int_equal(s.max, 1500);
	assert_true(s.p99 <= 1500);
	dist_release(&d);
	json_decref(j);
}

static void test_units(void **state)
{
	uint64_t ns;
	long v;

	(void)state;
	assert_int_equal(units_ns("10ms", 1, &ns), 0);
	assert_int_equal(ns, 10000000);
	assert_int_equal(units_ns("1.5s", 1, &ns), 0);
	assert_int_equal(ns, 1500000000);
	assert_int_equal(units_ns("500us", 1, &ns), 0);
	assert_int_equal(ns, 500000);
	assert_int_equal(units_ns("2", 1000000, &ns), 0);
	assert_int_equal(ns, 2000000);
	assert_int_equal(units_ns("10 ms", 1, &ns), -EINVAL);
	assert_int_equal(units_ns("-1ms", 1, &ns), -EINVAL);
	assert_int_equal(units_ns("", 1, &ns), -EINVAL);
	assert_int_equal(units_ns("5parsecs", 1, &ns), -EINVAL);
	assert_int_equal(units_seconds("2m", &v), 0);
	assert_int_equal(v, 120);
	assert_int_equal(units_seconds("30", &v), 0);
	assert_int_equal(v, 30);
	assert_int_equal(units_seconds("1.5s", &v), -EINVAL);
	assert_int_equal(units_long("12", 1, 10, &v), -EINVAL);
}

/* ---- the report --------------------------------------------------------------- */

static char *render(const json_t *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	report_print(r, f);
	fclose(f);
	return buf;
}

static void test_report(void **state)
{
	json_t *r = report_new("t", "a test"), *sec, *t, *is;
	int64_t series[3] = { 0, 5, 10 };
	char *out;

	(void)state;
	sec = report_section(r, "s", "Section");
	t = report_table(sec, "things", "name:str:NAME,n:int:COUNT,lat:ns:P50,size:bytes:BYTES");
	report_row(t,
		   json_pack("{ss sI sI sI}", "name", "a\x1b[2Jb", "n", (json_int_t)7, "lat", (json_int_t)1500000,
			     "size", (json_int_t)4096),
		   2);
	report_row(t,
		   json_pack("{ss sI sn sI}", "name", "second", "n", (json_int_t)12345, "lat", "size", (json_int_t)1),
		   2);
	report_row(t, json_pack("{ss}", "name", "third"), 2);
	report_note(sec, "a note with %d", 42);
	report_series(r, "events", "count", series, 3);
	is = report_issue(r, "warning", "k", "%d things went wrong", 3);
	report_evidence(is, "here is why");
	report_next(is, "p::f \"it's %d\", arg1", "-p 7", "to see it");
	out = render(r);
	if (getenv("SHOW"))
		fputs(out, stderr);
	/* aligned: text left, figures right; a control byte never reaches the terminal */
	assert_non_null(strstr(out, "    NAME      COUNT P50    BYTES\n"));
	assert_non_null(strstr(out, "    a\\x1b[2Jb     7 1.5 ms 4.0 KiB\n"));
	assert_non_null(strstr(out, "    second    12345      -     1 B\n"));
	assert_non_null(strstr(out, "    ... and 1 more\n"));
	assert_non_null(strstr(out, "  note: a note with 42\n"));
	assert_non_null(strstr(out, "  events                 | +@| peak 10/s at 2 s, 15 in all\n"));
	assert_non_null(strstr(out, "  1. [warning] 3 things went wrong\n     here is why\n"));
	/* the next trace is quoted for a shell */
	assert_non_null(strstr(out, "     next: diagagent trace -p 7 'p::f \"it'\\''s %d\", arg1'\n"));
	assert_int_equal(json_integer_value(json_object_get(t, "rows_left_out")), 1);
	free(out);
	json_decref(r);
}

/* ---- modules ---------------------------------------------------------------------- */

static struct preset *fake_preset(const char *name)
{
	struct preset *p = calloc(1, sizeof(*p));

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->title = strdup("a test");
	return p;
}

static void feed(struct diag *d, const char *maps)
{
	json_t *m = json_loads(maps, 0, NULL);
	const char *key;
	json_t *v;

	assert_non_null(m);
	json_object_foreach(m, key, v) diag_map(d, key, v);
	json_decref(m);
}

/* An event of record id: values as the layout gives them. */
static void event(struct diag *d, int id, long pid, long tid, const char *comm, const struct scan_value *v)
{
	struct scan_event ev = {
		.nsecs = 1, .pid = pid, .tid = tid, .comm = comm, .comm_len = strlen(comm), .probe = id, .values = v
	};

	diag_event(d, &ev);
}

#define I(x) \
	{ \
		.kind = SV_INT, .i = (x) \
	}
#define S(x) \
	{ \
		.kind = SV_STR, .s = (x), .len = sizeof(x) - 1 \
	}

static json_t *issues_of(json_t *r)
{
	return json_object_get(r, "issues");
}

static void test_errors_module(void **state)
{
	struct preset *p = fake_preset("errors");
	struct diag_opts o;
	struct diag *d;
	struct diag_run run = { .elapsed = 10, .complete = true, .status = "completed" };
	struct diag_host h = { .tracefs = access("/sys/kernel/tracing/events/syscalls", F_OK) == 0 ?
						  "/sys/kernel/tracing" :
						  NULL };
	const struct scan_value sample[] = { I(257), I(2), S(""), S("/tmp/x/missing-0") };
	json_t *r, *is;

	(void)state;
	diag_opts_init(&o);
	o.duration = 10;
	d = diag_new(p, &o);
	feed(d, "{\"@err_n\": {\"257,2\": 500, \"202,110\": 100, \"0,11\": 50, \"1,28\": 3},"
		" \"@err_calls\": {\"257\": 520, \"202\": 100, \"0\": 60, \"1\": 9},"
		" \"@err_proc\": {\"257,2,42\": 500, \"202,110,7\": 100, \"0,11,7\": 50, \"1,28,42\": 3},"
		" \"@err_comm\": {\"42\": \"openmissing\", \"7\": \"server\"}}");
	event(d, 70, 42, 42, "openmissing", sample);
	r = diag_report(d, &run, &h);
	assert_non_null(r);
	/* futex's ETIMEDOUT and read's EAGAIN are work, not issues; ENOSPC below the threshold is none either */
	assert_int_equal(json_array_size(issues_of(r)), 1);
	is = json_array_get(issues_of(r), 0);
	assert_string_equal(json_string_value(json_object_get(is, "title")),
			    "openat failed 500 times with ENOENT (No such file or directory)");
	assert_string_equal(json_string_value(json_array_get(json_object_get(is, "evidence"), 0)),
			    "500 of 520 openat calls (96.2%), 50.0/s");
	assert_string_equal(json_string_value(json_array_get(json_object_get(is, "evidence"), 1)),
			    "by openmissing[42] 500");
	if (h.tracefs) {
		assert_string_equal(json_string_value(json_array_get(json_object_get(is, "evidence"), 2)),
				    "e.g. /tmp/x/missing-0");
		assert_string_equal(json_string_value(json_object_get(json_object_get(is, "next"), "spec")),
				    "r::sys_openat ((int)retval == -2) \"ENOENT: %s\", arg2");
	}
	assert_string_equal(json_string_value(json_object_get(json_object_get(is, "next"), "command")) ? "ok" : "",
			    "ok");
	json_decref(r);
	/* with a threshold of 3, the disk-full write is an issue too, a warning */
	o.error_threshold = 3;
	r = diag_report(d, &run, &h);
	assert_int_equal(json_array_size(issues_of(r)), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(issues_of(r), 1), "severity")), "warning");
	json_decref(r);
	diag_free(d);
	preset_free(p);
}

/* The host answers for descriptors 0..149 of pid 42: open; the rest: closed. */
static int fake_target(void *ud, long pid, long fd, char *buf, size_t size)
{
	(void)ud;
	if (pid != 42)
		return 0;
	if (fd >= 150)
		return 0;
	snprintf(buf, size, "/tmp/lk/leak-%ld", fd);
	return 1;
}

static void test_fdleak_module(void **state)
{
	struct preset *p = fake_preset("fdleak");
	struct diag_opts o;
	struct diag *d;
	struct diag_run run = { .elapsed = 4, .complete = true, .status = "completed" };
	struct diag_host h = { .fd_target = fake_target };
	json_t *live = json_object(), *r, *is;
	char key[32], *text;

	(void)state;
	diag_opts_init(&o);
	o.duration = 4;
	d = diag_new(p, &o);
	for (int fd = 0; fd < 200; fd++) {
		snprintf(key, sizeof(key), "42,%d", fd);
		json_object_set_new(live, key, json_integer(fd + 1));
	}
	for (int fd = 0; fd < 300; fd++) {
		snprintf(key, sizeof(key), "9,%d", fd);
		json_object_set_new(live, key, json_integer(1));
	}
	diag_map(d, "@fd_live", live);
	json_decref(live);
	feed(d, "{\"@fd_open\": {\"42,257\": 200, \"9,41\": 300}, \"@fd_close\": {\"9\": 0},"
		" \"@fd_exited\": {\"9\": 1}, \"@fd_comm\": {\"42\": \"fdleak\", \"9\": \"gone\"}}");
	r = diag_report(d, &run, &h);
	/* 150 still open (the host says), so past the threshold of 100; the
	 * process that exited leaks nothing */
	assert_int_equal(json_array_size(issues_of(r)), 1);
	is = json_array_get(issues_of(r), 0);
	assert_string_equal(json_string_value(json_object_get(is, "title")),
			    "descriptor leak: fdleak[42] opened 200 and closed 0 descriptors: +200 in 4.0 s (50.0/s)");
	text = json_dumps(json_object_get(is, "evidence"), 0);
	assert_non_null(
		strstr(text, "150 of them still open at the end (checked in /proc/42/fd): /tmp/lk/leak-N (150)"));
	free(text);
	json_decref(r);
	/* a threshold above what is still open: no leak */
	o.leak_threshold = 160;
	r = diag_report(d, &run, &h);
	assert_int_equal(json_array_size(issues_of(r)), 0);
	json_decref(r);
	diag_free(d);
	preset_free(p);
}

static void test_net_module(void **state)
{
	struct preset *p = fake_preset("net");
	struct diag_opts o;
	struct diag *d;
	struct diag_run run = { .elapsed = 5, .complete = true, .status = "completed" };
	json_t *r, *sec = NULL, *rows;
	size_t i;

	(void)state;
	diag_opts_init(&o);
	o.duration = 5;
	d = diag_new(p, &o);
	/* 100 refused: each a connect() with a SYN (hs 1) and a failed handshake;
	 * 3 with no route, failed before any SYN (hs 0) */
	feed(d, "{\"@net_conn\": {\"2,16777343,0,0,0,2304,111,1\": 100, \"2,16843009,0,0,0,20480,101,0\": 3},"
		" \"@net_hs\": {\"2,16777343,0,0,0,2304,0,111\": 100},"
		" \"@net_pconn\": {\"42,111\": 100, \"42,101\": 3}}");
	r = diag_report(d, &run, NULL);
	json_array_foreach(json_object_get(r, "sections"), i,
			   sec) if (strcmp(json_string_value(json_object_get(sec, "id")), "net_failures") == 0) break;
	rows = json_object_get(json_array_get(json_object_get(sec, "tables"), 0), "rows");
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "destination")), "127.0.0.1:9");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "count")), 100); /* not 200 */
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "destination")), "1.1.1.1:80");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "errno")), "ENETUNREACH");
	assert_string_equal(json_string_value(json_object_get(json_array_get(issues_of(r), 0), "title")),
			    "100 connections to 127.0.0.1:9 failed: ECONNREFUSED (Connection refused)");
	assert_int_equal(json_array_size(issues_of(r)), 1); /* 3 is below the threshold */
	json_decref(r);
	diag_free(d);
	preset_free(p);
}

static void test_exec_path_search(void **state)
{
	struct preset *p = fake_preset("exec");
	struct diag_opts o;
	struct diag *d;
	struct diag_run run = { .elapsed = 2, .complete = true, .status = "completed" };
	const struct scan_value arg0[] = { I(0), S("x") }, arg1[] = { I(1), S("--flag") };
	const struct scan_value fail1[] = { I(1), I(5), I(0), I(2), S("/usr/local/bin/x") };
	const struct scan_value ok[] = { I(1), I(5), I(1), I(0), S("/usr/bin/x") };
	const struct scan_value fail2[] = { I(1), I(6), I(0), I(13), S("/opt/y") };
	json_t *r;
	char *text;

	(void)state;
	diag_opts_init(&o);
	o.duration = 2;
	d = diag_new(p, &o);
	/* thread 5 searches PATH for x and finds it; thread 6 cannot run y */
	event(d, 41, 5, 5, "sh", arg0);
	event(d, 41, 5, 5, "sh", arg1);
	event(d, 40, 5, 5, "sh", fail1);
	event(d, 41, 5, 5, "sh", arg0);
	event(d, 41, 5, 5, "sh", arg1);
	event(d, 40, 5, 5, "x", ok);
	event(d, 40, 6, 6, "sh", fail2);
	feed(d, "{\"@exec_n\": {\"1,0\": 1, \"0,2\": 1, \"0,13\": 1}}");
	r = diag_report(d, &run, NULL);
	text = json_dumps(r, 0);
	assert_non_null(strstr(text, "1 executions (0.5/s), 2 failed attempts (1 of them a PATH search that went on)"));
	assert_non_null(strstr(text, "{\"command\": \"/usr/bin/x --flag\", \"count\": 1"));
	assert_non_null(strstr(text, "\"title\": \"1 execs failed: /opt/y (EACCES) first\""));
	free(text);
	json_decref(r);
	diag_free(d);
	preset_free(p);
}

static void test_dns_module(void **state)
{
	struct preset *p = fake_preset("dns");
	struct diag_opts o;
	struct diag *d;
	struct diag_run run = { .elapsed = 3, .complete = true, .status = "completed" };
	json_t *r;
	char *text;

	(void)state;
	diag_opts_init(&o);
	o.duration = 3;
	o.error_threshold = 2;
	d = diag_new(p, &o);
	/* ERANGE (2034) is a retry with a bigger buffer, not a failure */
	feed(d, "{\"@dns_n\": {\"0,0,localhost\": 5, \"0,-2,bad.invalid\": 2, \"3,2034,localhost\": 1, "
		"\"3,0,localhost\": 1},"
		" \"@dns_time\": {\"localhost\": 7000, \"bad.invalid\": 4000}, \"@dns_nmax\": {\"localhost\": 3000, "
		"\"bad.invalid\": 2500}}");
	r = diag_report(d, &run, NULL);
	text = json_dumps(r, 0);
	assert_non_null(strstr(text, "9 lookups (3.0/s), 2 failed"));
	assert_non_null(strstr(
		text, "\"title\": \"2 of 2 lookups of 'bad.invalid' failed: EAI_NONAME (Name or service not known)\""));
	assert_null(strstr(text, "lookups of 'localhost' failed"));
	free(text);
	json_decref(r);
	diag_free(d);
	preset_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_dist),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_errors_module),
		cmocka_unit_test(test_fdleak_module),
		cmocka_unit_test(test_net_module),
		cmocka_unit_test(test_exec_path_search),
		cmocka_unit_test(test_dns_module),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
