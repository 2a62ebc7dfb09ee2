/* test_torture.c - every allocation on the spec, scanner, config, job and
 * knowledge-base paths made to fail in turn (torture.h): each failure gives
 * the path's error or the same result, never a crash, a wrong success or a leak.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/caps.h"
#include "agent/compile.h"
#include "agent/config.h"
#include "agent/jobs.h"
#include "agent/traceopts.h"
#include "parser/render.h"
#include "parser/scan.h"
#include "parser/stats.h"
#include "test/torture/torture.h"
#include "tracespec/codegen.h"
#include "tracespec/dwtypes.h"
#include "tracespec/kb.h"
#include "tracespec/ktypes.h"
#include "tracespec/spec.h"

extern const struct cli_command cli_script;

#define MAX_ARGS 32

static struct caps host;
static unsigned long total_problems;

/* Torture p; false when TORTURE_PATH left it out (its checks are then skipped). */
static bool check_path(const struct torture_path *p)
{
	struct torture_stats st;

	total_problems += torture_path(p, &st);
	return torture_selected(p);
}

/* ---- spec text -> bpftrace program (parse, lower, generate) ------------------ */

/* One test/data/spec case: the arguments of `diagagent script`, one a line. */
struct spec_case {
	char name[300];
	char text[8192];
	char *argv[MAX_ARGS];
	int argc;
	char expected[65536]; /* expected.bt of a valid case; "" when none */
};

static void spec_error_out(struct torture_out *out, const char *what, const struct spec_error *err)
{
	torture_printf(out, "%s: col %d: %s\nhint: %s\n", what, err->col, err->msg, err->hint);
}

/* Everything a layout holds: the scanner and the events depend on it. */
static void layout_out(struct torture_out *out, const struct event_layout *l)
{
	torture_printf(out,
		       "layout: max_events %ld duration %d string_size %d buffer_pages %d aggregate %d "
		       "kstack %d ustack %d msg_regex %s\n",
		       l->max_events, l->duration, l->string_size, l->buffer_pages, l->aggregate, l->kstack, l->ustack,
		       l->msg_regex ? l->msg_regex : "-");
	for (int i = 0; i < l->nprobes; i++) {
		const struct layout_probe *p = &l->probes[i];

		torture_printf(out, "probe %d: function %s target %s probe %s format %s retval %d latency %d\n", i,
			       p->function, p->target, p->probe, p->format ? p->format : "-", p->has_retval,
			       p->has_latency);
		for (int v = 0; v < p->nvalues; v++)
			torture_printf(out, "  value %s %s string %d\n", p->values[v].conv, p->values[v].name,
				       p->values[v].is_string);
		for (int c = 0; c < p->ncols; c++)
			torture_printf(out, "  col %d %d\n", p->cols[c].kind, p->cols[c].value);
	}
}

/* The work of `diagagent script` (compile_specs() without the printing and
 * without dropping the kernel's BTF, which it reloads per process). */
static int spec_run(void *arg, struct torture_out *out)
{
	struct spec_case *c = arg;
	struct trace_spec *specs[CODEGEN_MAX_SPECS] = { 0 };
	char *argv[MAX_ARGS + 1];
	struct codegen_result res = { 0 };
	struct traceopts t;
	struct lower_env env;
	struct spec_error err;
	int rc, n = 0, bad = -1;

	memcpy(argv, c->argv, sizeof(argv)); /* getopt permutes it */
	rc = traceopts_parse(c->argc, argv, &cli_script, TRACEOPTS_ASSUME, &t);
	if (rc != 0) {
		/* CLI_FAIL is traceopts' out of memory; a usage error is the input's */
		rc = rc == CLI_FAIL ? -ENOMEM : -EINVAL;
		torture_printf(out, "options: %d\n", rc);
		goto out;
	}
	for (; n < t.nspecs; n++) {
		rc = spec_parse(t.specs[n], &specs[n], &err);
		if (rc < 0) {
			torture_printf(out, "spec %d: %d\n", n, rc);
			spec_error_out(out, "parse", &err);
			goto out;
		}
	}
	compile_env(&host, &t, &env);
	rc = codegen_emit(specs, n, &t.opts, &env, &res, &err, &bad);
	if (rc < 0) {
		torture_printf(out, "codegen: %d, spec %d\n", rc, bad);
		spec_error_out(out, "codegen", &err);
		goto out;
	}
	torture_put(out, res.program, strlen(res.program));
	layout_out(out, res.layout);
out:
	codegen_release(&res);
	for (int i = 0; i < n; i++)
		spec_free(specs[i]);
	traceopts_release(&t);
	dwtypes_release(); /* its cache would outlive the run, as compile.c's callers know */
	return rc;
}

static char *read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return NULL;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void spec_case_load(struct spec_case *c, const char *dir, const char *name)
{
	char path[PATH_MAX + 16];
	char *line, *save = NULL;

	snprintf(c->name, sizeof(c->name), "spec %s", name);
	snprintf(path, sizeof(path), "%s/input", dir);
	assert_non_null(read_text(path, c->text, sizeof(c->text)));
	c->argv[0] = "script";
	c->argc = 1;
	for (line = strtok_r(c->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(c->argc < MAX_ARGS);
		c->argv[c->argc++] = line;
	}
	c->argv[c->argc] = NULL;
	snprintf(path, sizeof(path), "%s/expected.bt", dir);
	read_text(path, c->expected, sizeof(c->expected));
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Torture every case under test/data/spec/KIND (valid or invalid). */
static void spec_cases(const char *kind, bool valid)
{
	static struct spec_case c;
	char root[64], dir[PATH_MAX];
	struct dirent **names;
	int n;

	snprintf(root, sizeof(root), "test/data/spec/%s", kind);
	n = scandir(root, &names, NULL, by_name);
	assert_true(n > 2);
	for (int i = 0; i < n; i++) {
		struct torture_path p = {
			.name = c.name, .fn = spec_run, .arg = &c, .quiet_stderr = true, .baseline_fails = !valid
		};

		if (names[i]->d_name[0] != '.') {
			snprintf(dir, sizeof(dir), "%s/%s", root, names[i]->d_name);
			spec_case_load(&c, dir, names[i]->d_name);
			/* the baseline is `diagagent script`'s own output on this host */
			if (check_path(&p) && valid && c.expected[0] &&
			    strncmp(torture_baseline(), c.expected, strlen(c.expected)) != 0)
				fail_msg("%s: the program differs from expected.bt", c.name);
		}
		free(names[i]);
	}
	free(names);
}

static void test_spec_valid(void **state)
{
	total_problems = 0;
	spec_cases("valid", true);
	assert_int_equal(total_problems, 0);
}

/* A format value whose canonical text is longer than 1 KiB: its raw_args
 * key (the layout's value name) used to be cut at 1024 bytes without a word. */
static void test_spec_long_value(void **state)
{
	static struct spec_case c;
	struct strbuf v = STRBUF_INIT(8192);
	struct torture_path p = { .name = "spec, a value of 1.6 KiB", .fn = spec_run, .arg = &c, .quiet_stderr = true };

	total_problems = 0;
	for (int i = 0; i < 20; i++)
		strbuf_addf(&v, "%sSTRCMP(\"%060d\", comm)", i ? " + " : "", i);
	assert_int_equal(v.err, 0);
	snprintf(c.name, sizeof(c.name), "%s", p.name);
	snprintf(c.text, sizeof(c.text), "sys_read \"%%d\", %s", strbuf_str(&v));
	c.argv[0] = "script";
	c.argv[1] = c.text;
	c.argc = 2;
	if (check_path(&p)) {
		char want[2048];

		snprintf(want, sizeof(want), "  value d %s string 0\n", strbuf_str(&v));
		assert_non_null(strstr(torture_baseline(), want));
	}
	strbuf_release(&v);
	assert_int_equal(total_problems, 0);
}

static void test_spec_invalid(void **state)
{
	total_problems = 0;
	spec_cases("invalid", false);
	assert_int_equal(total_problems, 0);
}

/* ---- bpftrace output -> events, statistics and JSON (scan, render, stats) ---- */

static const char *const scan_argv[] = {
	"script",
	"-K",
	"-U",
	"-A",
	"sys_read \"%d %x %c %llu\", arg1, arg3, arg1, arg3",
	"sys_openat \"open %s\", arg2",
	NULL,
};

static struct codegen_result scan_prog;

/* The layout is (nsecs, cpu, pid, tid, uid, comm, probe, ...):
 * probe 0: fd, count, fd, count, kstack, ustack
 * probe 1: ret, latency, path, kstack, ustack */
static const char scan_input[] =
	"{\"type\": \"attached_probes\", \"data\": {\"probes\": 3}}\n"
	"{\"type\": \"value\", \"data\": [\"attached\", 3111917749140]}\n"
	"{\"type\": \"value\", \"data\": [3111918749140,0,9516,9516,0,\"bash\",0,3,4096,65,4096,"
	"\"\\n        ksys_read+115\\n        do_syscall_64+56\\n\",\"\\n        0x7f39eb1a5b1d\\n\"]}\n"
	"{\"type\": \"value\", \"data\": [3111918749141,1,9517,9518,1000,\"caf\\uffffffc3\\uffffffa9\",0,-1,"
	"18446744073709551615,300,7,null,null]}\n"
	"{\"type\": \"value\", \"data\": [3111919228699,0,9516,9516,0,\"timeout\",1,3,7451,\"/etc/ld.so.cache\","
	"\"\",\"\"]}\n"
	"{\"type\": \"value\", \"data\": [3111919516766,0,9516,9516,0,\"timeout\",1,-2,10295,"
	"\"/usr/lib/locale/locale-archive\",\"\",\"\"]}\n"
	"{\"type\": \"value\", \"data\": [3112757780692,1,9548,9548,0,\"touch\",1,3,51767,"
	"\"/tmp/x\\uffffffff\\uffffffc3\\uffffffa9 \\\"q\\\" \\t\",\"\",\"\"]}\n"
	"\n"
	"{\"type\": \"lost_events\", \"data\": {\"events\": 12}}\n"
	"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",7,1]}\n"
	"{\"type\": \"value\", \"data\": [1,0,1,1,0,\"x\",0,\"abc\",7,\"\\u00g1\",1,null,null]}\n"
	"not json at all\n"
	"{\"type\": \"hist\", \"data\": {\"@h\": [{\"min\": 0, \"max\": 1, \"count\": 3}]}}\n"
	"{\"type\": \"stats\", \"data\": {\"@s\": {\"count\": 2, \"average\": 5, \"total\": 10}}}\n"
	"{\"type\": \"map\", \"data\": {\"@__hits\": {\"0\": 3717, \"1\": 12}}}\n"
	"{\"type\": \"map\", \"data\": {\"@__procs\": {\"9516,bash\": 1, \"9548,touch\": 31, "
	"\"9551,caf\\uffffffc3\\uffffffa9\": 5}}}\n"
	"{\"type\": \"map\", \"data\": {\"@__streamed\": 5}}\n"
	"{\"type\": \"value\", \"data\": [3112769888403,1,9551,9551,0,\"touch\",1,3,5438,\"/tmp/last\",\"\",\"\"]}";

struct scan_run {
	struct torture_out *out;
	struct trace_stats *stats;
	struct strbuf msg, text, scratch;
	int rc; /* the first error of a callback */
};

static void scan_fail(struct scan_run *r, int rc)
{
	if (!r->rc)
		r->rc = rc;
}

/* The test's own look at a tree the product built: never failed. */
static void put_json(struct scan_run *r, const char *what, json_t *v)
{
	char *s;

	if (!v) {
		scan_fail(r, -ENOMEM);
		return;
	}
	torture_hold();
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	torture_release();
	assert_non_null(s);
	torture_printf(r->out, "%s %s\n", what, s);
	free(s);
}

static void on_event(void *ud, const struct scan_event *ev)
{
	struct scan_run *r = ud;
	json_t *j;
	int rc;

	strbuf_reset(&r->msg);
	strbuf_reset(&r->text);
	rc = render_message(ev, &r->msg);
	if (rc < 0)
		scan_fail(r, rc);
	torture_printf(r->out, "message %s\n", strbuf_str(&r->msg));
	for (int i = 0; i < ev->lp->nvalues; i++) {
		strbuf_reset(&r->text);
		rc = render_value(ev, i, &r->text);
		if (rc < 0)
			scan_fail(r, rc);
		torture_printf(r->out, "value %d %s\n", i, strbuf_str(&r->text));
	}
	j = render_event_json(ev, 1000000000);
	put_json(r, "json", j);
	json_decref(j);
	strbuf_reset(&r->text);
	rc = render_event_text(ev, 1000000000, &r->text, &r->scratch);
	if (rc < 0)
		scan_fail(r, rc);
	torture_printf(r->out, "text %s\n", strbuf_str(&r->text));
	rc = stats_event(r->stats, ev);
	if (rc < 0)
		scan_fail(r, rc);
	rc = stats_message(r->stats, strbuf_str(&r->msg), r->msg.len);
	if (rc < 0)
		scan_fail(r, rc);
}

static void on_attached(void *ud, uint64_t nsecs)
{
	struct scan_run *r = ud;

	torture_printf(r->out, "attached %llu\n", (unsigned long long)nsecs);
}

static void on_lost(void *ud, uint64_t count)
{
	struct scan_run *r = ud;

	torture_printf(r->out, "lost %llu\n", (unsigned long long)count);
	stats_lost(r->stats, count);
}

static void on_map(void *ud, const char *name, json_t *value)
{
	struct scan_run *r = ud;

	torture_printf(r->out, "map %s\n", name);
	put_json(r, "map", value);
	if (stats_map(r->stats, name, value) < 0)
		scan_fail(r, -ENOMEM);
}

static void on_other(void *ud, const char *type, json_t *line)
{
	struct scan_run *r = ud;

	torture_printf(r->out, "other %s\n", type);
	put_json(r, "other", line);
}

static int scan_run(void *arg, struct torture_out *out)
{
	const size_t piece = (size_t)(uintptr_t)arg; /* bytes per scan_feed(); 0: all at once */
	struct scan_run r = { out, NULL, STRBUF_INIT(1 << 20), STRBUF_INIT(1 << 20), STRBUF_INIT(1 << 20), 0 };
	struct scan_callbacks cb = { on_event, on_attached, on_lost, on_map, on_other, &r };
	struct scanner *s = NULL;
	const struct scan_stats *ss;
	size_t len = sizeof(scan_input) - 1;
	json_t *j;
	int rc = -ENOMEM;

	r.stats = stats_new(scan_prog.layout);
	s = scan_new(scan_prog.layout, &cb);
	if (!r.stats || !s)
		goto out;
	for (size_t off = 0; off < len; off += piece ? piece : len) {
		size_t n = piece && len - off > piece ? piece : len - off;

		rc = scan_feed(s, scan_input + off, n);
		if (rc < 0)
			goto out;
	}
	rc = scan_finish(s);
	if (rc < 0)
		goto out;
	ss = scan_stats(s);
	torture_printf(out, "lines=%llu events=%llu lost=%llu malformed=%llu attached_probes=%llu nbad=%d\n",
		       (unsigned long long)ss->lines, (unsigned long long)ss->events, (unsigned long long)ss->lost,
		       (unsigned long long)ss->malformed, (unsigned long long)ss->attached_probes, ss->nbad);
	for (int i = 0; i < ss->nbad; i++)
		torture_printf(out, "bad %s\n", ss->bad[i]);
	j = stats_json(r.stats, 2.5, ss);
	put_json(&r, "statistics", j);
	json_decref(j);
	rc = r.rc;
out:
	scan_free(s);
	stats_free(r.stats);
	strbuf_release(&r.msg);
	strbuf_release(&r.text);
	strbuf_release(&r.scratch);
	return rc;
}

static void test_scan(void **state)
{
	static const size_t pieces[] = { 0, 61 };
	struct trace_spec *specs[2];
	struct spec_error err;
	struct traceopts t;
	struct lower_env env;
	char *argv[8];
	int bad;

	total_problems = 0;
	memcpy(argv, scan_argv, sizeof(scan_argv));
	assert_int_equal(traceopts_parse(6, argv, &cli_script, TRACEOPTS_ASSUME, &t), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(spec_parse(t.specs[i], &specs[i], &err), 0);
	compile_env(&host, &t, &env);
	assert_int_equal(codegen_emit(specs, 2, &t.opts, &env, &scan_prog, &err, &bad), 0);
	for (int i = 0; i < 2; i++)
		spec_free(specs[i]);
	traceopts_release(&t);

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		char name[64];
		struct torture_path p = { .name = name, .fn = scan_run, .arg = (void *)(uintptr_t)pieces[i] };

		snprintf(name, sizeof(name), pieces[i] ? "scan, in pieces of %zu bytes" : "scan, in one piece",
			 pieces[i]);
		if (!check_path(&p))
			continue;
		/* the baseline saw every kind of line */
		assert_non_null(strstr(torture_baseline(), "lines=18 events=6 lost=12 malformed=3"));
		assert_non_null(strstr(torture_baseline(), "message 3 1000 A 4096"));
		assert_non_null(strstr(torture_baseline(), "\"total_events\":3729"));
	}
	codegen_release(&scan_prog);
	assert_int_equal(total_problems, 0);
}

/* ---- agent.conf and DIAGAGENT_<KEY> ------------------------------------------- */

static const char config_text[] = "# every key\n"
				  "server_url = \"https://control.example:8443/api/\"   # trailing comment\n"
				  "agent_id = host-01.example\n"
				  "token_file = /etc/diagagent/token\n"
				  "ca_file = /etc/ssl/certs/ca-certificates.crt\n"
				  "client_cert = /etc/diagagent/client.pem\n"
				  "client_key = /etc/diagagent/client.key\n"
				  "poll_interval = 5s\n"
				  "heartbeat_interval = 2m\n"
				  "max_backoff = 1h\n"
				  "http_timeout = 20\n"
				  "connect_timeout = 3\n"
				  "kill_grace = 7\n"
				  "shutdown_grace = 0\n"
				  "\n"
				  "spool_dir = \"/var/lib/diag \\\"agent\\\"\"\n"
				  "outbox_max_results = 5000\n"
				  "outbox_max_bytes = 512M\n"
				  "results_batch = 25\n"
				  "results_batch_bytes = 1M\n"
				  "max_concurrent_jobs = 8\n"
				  "max_queued_jobs = 100\n"
				  "max_trace_duration = 10m\n"
				  "max_command_timeout = 60\n"
				  "max_events = 20000\n"
				  "max_output_bytes = 128K\n"
				  "allow_commands = yes\n"
				  "command_allow = uptime\n"
				  "command_allow = df -h( /\\S*)?   # not a comment here\n"
				  "command_allow = echo [a-z]+\n"
				  "allow_raw_programs = off\n"
				  "log_level = warn\n";

static char config_path[64];

static char *const config_env[] = {
	"DIAGAGENT_SERVER_URL=http://10.0.0.1:8080",
	"DIAGAGENT_POLL_INTERVAL= 7 ",
	"DIAGAGENT_CLIENT_CERT=",
	"DIAGAGENT_CLIENT_KEY=",
	"DIAGAGENT_COMMAND_ALLOW=uname -a\nls( -l)?\ncat /proc/[a-z]+",
	"DIAGAGENT_LOG_LEVEL=debug",
	"DIAGAGENT_MAX_EVENTS=30000",
	"DIAGAGENT_BPFTRACE=/usr/bin/bpftrace",
	"PATH=/usr/bin",
	NULL,
};

static char *const no_env[] = { NULL };

/* cppcheck-suppress constParameter ; the torture_path callback's signature */
static int config_run(void *arg, struct torture_out *out)
{
	static const char *const commands[] = { "uname -a", "ls -l", "cat /proc/meminfo", "uptime", "rm -rf /" };
	struct config c;
	struct config_error err;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	config_init(&c);
	rc = config_load(&c, arg ? config_path : NULL, arg ? config_env : no_env, &err);
	if (rc < 0) {
		torture_printf(out, "error %d: %s\nhint: %s\n", rc, err.msg, err.hint);
		goto out;
	}
	f = open_memstream(&text, &len); /* the C library's own memory: not counted */
	assert_non_null(f);
	config_print(&c, f);
	fclose(f);
	torture_put(out, text, len);
	free(text);
	torture_printf(out, "warnings: %s\n", c.warnings ? c.warnings : "(none)");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		torture_printf(out, "'%s' allowed: %d\n", commands[i], config_command_allowed(&c, commands[i]));
out:
	config_release(&c);
	return rc;
}

/* config_command_allowed() cannot report an error: out of memory must deny
 * ("allowed: 0" where the baseline allowed), never allow, and change nothing else. */
static bool fails_closed(const char *base, const char *got)
{
	while (*base && *got) {
		size_t lb = strcspn(base, "\n"), lg = strcspn(got, "\n");
		static const char yes[] = "allowed: 1", no[] = "allowed: 0";
		size_t n = sizeof(yes) - 1;

		if (lb != lg)
			return false;
		if (memcmp(base, got, lb) != 0 &&
		    !(lb >= n && memcmp(base, got, lb - n) == 0 && memcmp(base + lb - n, yes, n) == 0 &&
		      memcmp(got + lg - n, no, n) == 0))
			return false;
		base += lb + (base[lb] == '\n');
		got += lg + (got[lg] == '\n');
	}
	return !*base && !*got;
}

static void test_config(void **state)
{
	struct torture_path file = { .name = "config, every key and DIAGAGENT_<KEY>",
				     .fn = config_run,
				     .arg = "file",
				     .degraded_ok = fails_closed };
	struct torture_path defaults = { .name = "config, defaults only", .fn = config_run };
	FILE *f;
	int fd;

	total_problems = 0;
	snprintf(config_path, sizeof(config_path), "/tmp/diag-torture-XXXXXX");
	fd = mkstemp(config_path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(config_text, f);
	assert_int_equal(fclose(f), 0);
	if (check_path(&file)) {
		assert_non_null(strstr(torture_baseline(), "poll_interval = 7"));
		assert_non_null(strstr(torture_baseline(), "'ls -l' allowed: 1"));
	}
	check_path(&defaults);
	unlink(config_path);
	assert_int_equal(total_problems, 0);
}

/* ---- a job batch ---------------------------------------------------------------- */

static const char job_batch[] =
	"{\"commands\": [{\"id\": \"c1\", \"command\": \"uptime\", \"timeout\": 5},"
	"  {\"id\": \"c2\", \"command\": \"reboot\"}, {\"command\": \"df -h /tmp\"}, {\"id\": 7, \"command\": 3}],"
	" \"ebpf_programs\": [{\"id\": \"t1\", \"spec\": \"sys_read (arg3 > 1024) \\\"read %d\\\", arg3\","
	"    \"duration\": 3, \"max_events\": 100, \"filters\": {\"pid\": 42, \"process\": \"cat\"}},"
	"  {\"id\": \"t2\", \"type\": \"r\", \"target\": \"vfs_read\", \"filter\": \"retval < 0\","
	"    \"format\": \"err %d\", \"arguments\": [\"retval\"]},"
	"  {\"id\": \"t3\", \"type\": \"t\", \"target\": \"sched:sched_switch\", \"format\": \"%s\","
	"    \"arguments\": [\"args->prev_comm\"]},"
	"  {\"id\": \"t4\", \"spec\": \"p:: (arg1\"}, {\"id\": \"t5\", \"program\": \"BEGIN { exit(); }\"}],"
	" \"suggestions\": [{\"id\": \"s1\", \"query\": \"file not found\", \"max\": 3}, {\"id\": \"s2\"}],"
	" \"diagnostics\": [{\"id\": \"d1\", \"preset\": \"fs\", \"duration\": 5, \"pid\": 12},"
	"  {\"id\": \"d2\", \"preset\": \"nope\"}],"
	" \"cancel\": [\"old-1\", 12]}";

static struct config jobs_cfg;
static json_t *jobs_json;

struct jobs_run {
	struct torture_out *out;
};

static void on_job(void *ud, struct job_req *j)
{
	struct jobs_run *r = ud;

	torture_printf(r->out, "%s %s: %s\n", jobs_kind_name(j->kind), j->id ? j->id : "(null)",
		       j->error ? j->error : "ok");
	if (j->command)
		torture_printf(r->out, "  command %s timeout %d\n", j->command, j->timeout);
	if (j->spec_text)
		torture_printf(r->out, "  spec %s pid %ld name %s duration %d max %ld\n", j->spec_text, j->opts.pid,
			       j->opts.name ? j->opts.name : "-", j->opts.duration, j->opts.max_events);
	if (j->query)
		torture_printf(r->out, "  query %s max %d\n", j->query, j->max);
	if (j->preset)
		torture_printf(r->out, "  preset %s\n", j->preset);
	jobs_free(j);
}

static void on_cancel(void *ud, const char *id)
{
	struct jobs_run *r = ud;

	torture_printf(r->out, "cancel %s\n", id);
}

static int jobs_run(void *arg, struct torture_out *out)
{
	struct jobs_run r = { out };
	char err[256];
	int rc = jobs_decode(jobs_json, &jobs_cfg, on_job, on_cancel, &r, err, sizeof(err));

	torture_printf(out, "rc %d err '%s'\n", rc, err);
	return rc;
}

static void test_jobs(void **state)
{
	static const char cfg[] = "allow_commands = true\ncommand_allow = uptime\ncommand_allow = df -h( /\\S*)?\n";
	struct torture_path p = { .name = "jobs, a batch of every kind", .fn = jobs_run };
	struct config_error err;
	json_error_t jerr;

	total_problems = 0;
	config_init(&jobs_cfg);
	assert_int_equal(config_parse_text(&jobs_cfg, cfg, strlen(cfg), "t.conf", &err), 0);
	jobs_json = json_loads(job_batch, 0, &jerr);
	assert_non_null(jobs_json);
	if (check_path(&p)) {
		assert_non_null(strstr(torture_baseline(), "trace t2: ok\n  spec r::vfs_read (retval < 0) \"err %d\""));
		assert_non_null(strstr(torture_baseline(), "cancel 12\n"));
	}
	json_decref(jobs_json);
	config_release(&jobs_cfg);
	assert_int_equal(total_problems, 0);
}

/* ---- the knowledge base ----------------------------------------------------------- */

/* The built-in knowledge base costs 5,500 allocations, so its torture
 * (N runs of N) would take seconds: the path loads a cut of the real file
 * instead, with everything before the first family (threshold, extract,
 * process, stopword, vocabulary) and the fewest families that between them
 * use every directive (carry, starter, instead, syscall, ...). */
static char kb_text[65536];
static size_t kb_len;

static void kb_cut(void)
{
	static char file[KB_MAX_BYTES];
	char seen[64][16];
	int nseen = 0, nfam = 0;
	const char *p = file;
	FILE *f = fopen("tracespec/symptoms.kb", "r");

	assert_non_null(f);
	file[fread(file, 1, sizeof(file) - 1, f)] = '\0';
	fclose(f);
	kb_len = 0;
	while (*p) {
		const char *end = strstr(p, "\nfamily ");
		size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
		bool take = nfam++ < 3; /* the header, and two families whole */

		/* a family that uses a directive none taken so far uses */
		for (const char *l = p; l < p + len; l = strchr(l, '\n') + 1) {
			char w[16];
			int k;

			if (sscanf(l, "%15s", w) != 1 || w[0] == '#')
				continue;
			for (k = 0; k < nseen && strcmp(seen[k], w) != 0; k++)
				;
			if (k == nseen && nseen < 64) {
				snprintf(seen[nseen++], sizeof(seen[0]), "%s", w);
				take = true;
			}
		}
		if (take) {
			assert_true(kb_len + len < sizeof(kb_text));
			memcpy(kb_text + kb_len, p, len);
			kb_len += len;
		}
		p += len;
	}
	kb_text[kb_len] = '\0';
}

static int kb_run(void *arg, struct torture_out *out)
{
	struct kb *kb = NULL;
	struct kb_error err;
	int rc = kb_load_text(kb_text, kb_len, "symptoms.kb (cut)", &kb, &err);

	if (rc < 0) {
		torture_printf(out, "error %d: %s:%d: %s\n", rc, err.source, err.line, err.msg);
		return rc;
	}
	torture_printf(out, "%d families, %d extract patterns, %d words, %d process names, %d stopwords\n", kb->nfam,
		       kb->nextract, kb->nwords, kb->nprocs, kb->nstopwords);
	for (int i = 0; i < kb->nfam; i++) {
		const struct kb_family *fm = &kb->fam[i];

		torture_printf(out, "%s (%s): %d patterns, %d errnos, carry %d, starter %d\n", fm->id, fm->title,
			       fm->npatterns, fm->nerrnos, fm->carry, fm->starter);
		for (int k = 0; k < fm->nsugg; k++)
			torture_printf(out, "  %s (%d instead): %s\n", fm->sugg[k].spec, fm->sugg[k].ninstead,
				       fm->sugg[k].reason);
	}
	for (int i = 0; i < kb->nwords; i++)
		torture_printf(out, "%s%s", kb->words[i], i + 1 < kb->nwords ? " " : "\n");
	kb_free(kb);
	return 0;
}

static void test_kb(void **state)
{
	struct torture_path p = { .name = "kb, the built-in file cut to every directive", .fn = kb_run };

	total_problems = 0;
	kb_cut();
	if (check_path(&p)) {
		assert_non_null(strstr(torture_baseline(), "instead"));
		assert_non_null(strstr(torture_baseline(), "starter 1"));
	}
	assert_int_equal(total_problems, 0);
}

/* ---- main ---------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	/* the tests read test/data relative to the tree */
	if (access("test/data/spec", F_OK) != 0 && getenv("ROOT") && chdir(getenv("ROOT")) != 0)
		return -1;
	caps_probe_quick(&host);
	return 0;
}

static int group_teardown(void **state)
{
	ktypes_release();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_valid),   cmocka_unit_test(test_spec_long_value),
		cmocka_unit_test(test_spec_invalid), cmocka_unit_test(test_scan),
		cmocka_unit_test(test_config),	     cmocka_unit_test(test_jobs),
		cmocka_unit_test(test_kb),
	};

	torture_init();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
