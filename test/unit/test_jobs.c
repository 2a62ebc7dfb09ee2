/* test_jobs.c - unit tests for the job decoder: commands, traces, ids, batches. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/config.h"
#include "agent/jobs.h"

/* ---- helpers -------------------------------------------------------------------- */

enum { CFG_DEFAULT, CFG_ON, CFG_TIGHT, NCFG };

static const char *const cfg_text[NCFG] = {
	[CFG_DEFAULT] = "",
	[CFG_ON] = "allow_commands = true\n"
		   "command_allow = uptime\n"
		   "command_allow = df -h( /\\S*)?\n"
		   "command_allow = echo .*\n"
		   "max_command_timeout = 60\n",
	[CFG_TIGHT] = "allow_commands = true\n"
		      "command_allow = .*\n"
		      "max_command_timeout = 10\n"
		      "max_trace_duration = 5\n"
		      "max_events = 500\n"
		      "allow_raw_programs = true\n",
};

static struct config cfgs[NCFG];

static int group_setup(void **state)
{
	for (int i = 0; i < NCFG; i++) {
		struct config_error err;

		config_init(&cfgs[i]);
		if (config_parse_text(&cfgs[i], cfg_text[i], strlen(cfg_text[i]), "t.conf", &err) != 0) {
			fprintf(stderr, "config %d: %s\n", i, err.msg);
			return -1;
		}
	}
	return 0;
}

static int group_teardown(void **state)
{
	for (int i = 0; i < NCFG; i++)
		config_release(&cfgs[i]);
	return 0;
}

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

	if (!v)
		fail_msg("bad test JSON '%s': %s", text, jerr.text);
	return v;
}

static struct job_req *decode(enum job_kind kind, const char *text, int cfg)
{
	json_t *v = load(text);
	struct job_req *j = jobs_decode_one(kind, v, &cfgs[cfg]);

	assert_non_null(j);
	assert_ptr_equal(j->json, v); /* the job as received, referenced */
	json_decref(v);
	assert_int_equal(j->kind, kind);
	assert_non_null(j->id);
	return j;
}

/* Check j's verdict: accepted (want NULL) or rejected with exactly want. */
static void check_verdict(const char *what, const struct job_req *j, const char *want)
{
	if (!want && j->error)
		fail_msg("%s: rejected: %s", what, j->error);
	if (want && !j->error)
		fail_msg("%s: accepted, want '%s'", what, want);
	if (want && strcmp(j->error, want) != 0)
		fail_msg("%s:\n   got: %s\n  want: %s", what, j->error, want);
}

static bool is_derived_id(const char *id)
{
	if (strlen(id) != 20 || strncmp(id, "job-", 4) != 0)
		return false;
	for (const char *p = id + 4; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* ---- commands ------------------------------------------------------------------- */

static void test_commands(void **state)
{
	static const struct {
		int cfg;
		const char *json;
		const char *error; /* NULL: accepted */
		int timeout;	   /* when accepted */
	} cases[] = {
		{ CFG_DEFAULT, "{\"id\":\"c\",\"command\":\"uptime\"}",
		  "shell commands are disabled on this agent (allow_commands = false in agent.conf)", 0 },
		{ CFG_DEFAULT, "{\"command\":\"uptime\",\"timeout\":0}",
		  "'timeout' is 0, out of range: seconds must be 1..300", 0 },
		{ CFG_ON, "{\"command\":\"uptime\"}", NULL, 30 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":null}", NULL, 30 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":1}", NULL, 1 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":60}", NULL, 60 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":5.0}", NULL, 5 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":61}",
		  "'timeout' is 61, out of range: seconds must be 1..60", 0 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":0}",
		  "'timeout' is 0, out of range: seconds must be 1..60", 0 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":-1}",
		  "'timeout' is -1, out of range: seconds must be 1..60", 0 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":9007199254740993}",
		  "'timeout' is 9007199254740993, out of range: seconds must be 1..60", 0 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":5.5}",
		  "'timeout' must be a whole number of seconds (1..60)", 0 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":1e20}",
		  "'timeout' must be a whole number of seconds (1..60)", 0 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":\"5\"}",
		  "'timeout' must be a whole number of seconds (1..60)", 0 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":true}",
		  "'timeout' must be a whole number of seconds (1..60)", 0 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":[5]}",
		  "'timeout' must be a whole number of seconds (1..60)", 0 },
		{ CFG_ON, "{\"command\":\"df -h\"}", NULL, 30 },
		{ CFG_ON, "{\"command\":\"df -h /var\"}", NULL, 30 },
		{ CFG_ON, "{\"command\":\"df -h /var /tmp\"}",
		  "command not allowed: no command_allow pattern in agent.conf matches the whole command", 0 },
		{ CFG_ON, "{\"command\":\"uptime; reboot\"}",
		  "command not allowed: no command_allow pattern in agent.conf matches the whole command", 0 },
		{ CFG_ON, "{\"command\":\" uptime\"}",
		  "command not allowed: no command_allow pattern in agent.conf matches the whole command", 0 },
		{ CFG_ON, "{\"command\":\"echo hi\\nreboot\"}",
		  "command not allowed: no command_allow pattern in agent.conf matches the whole command", 0 },
		{ CFG_ON, "{\"command\":\"echo hi; reboot\"}", NULL, 30 }, /* what `echo .*` allows */
		{ CFG_ON, "{\"id\":\"x\"}", "'command' is missing", 0 },
		{ CFG_ON, "{\"command\":null}", "'command' is missing", 0 },
		{ CFG_ON, "{\"command\":5}", "'command' must be a string", 0 },
		{ CFG_ON, "{\"command\":[\"uptime\"]}", "'command' must be a string", 0 },
		{ CFG_ON, "{\"command\":\"\"}", "'command' is empty", 0 },
		{ CFG_ON, "{\"command\":\"echo a\\u0000b\"}", "'command' holds a NUL byte", 0 },
		{ CFG_ON, "{\"command\":\"uptime\",\"timeout\":\"x\",\"id\":7}",
		  "'timeout' must be a whole number of seconds (1..60)", 0 },
		/* the default time-out never passes the agent's maximum */
		{ CFG_TIGHT, "{\"command\":\"anything at all\"}", NULL, 10 },
		{ CFG_TIGHT, "{\"command\":\"x\",\"timeout\":10}", NULL, 10 },
		{ CFG_TIGHT, "{\"command\":\"x\",\"timeout\":11}",
		  "'timeout' is 11, out of range: seconds must be 1..10", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct job_req *j = decode(JOB_COMMAND, cases[i].json, cases[i].cfg);

		check_verdict(cases[i].json, j, cases[i].error);
		if (!cases[i].error) {
			const char *want = json_string_value(json_object_get(j->json, "command"));

			assert_string_equal(j->command, want);
			if (j->timeout != cases[i].timeout)
				fail_msg("%s: timeout %d, want %d", cases[i].json, j->timeout, cases[i].timeout);
			assert_null(j->spec);
			assert_null(j->spec_text);
		}
		jobs_free(j);
	}
}

static void test_command_length(void **state)
{
	size_t len = JOBS_MAX_COMMAND + 1;
	char *cmd = malloc(len + 1);
	json_t *job;
	struct job_req *j;

	assert_non_null(cmd);
	memcpy(cmd, "echo ", 5);
	memset(cmd + 5, 'x', len - 5);
	cmd[len - 1] = '\0'; /* exactly JOBS_MAX_COMMAND */
	job = json_pack("{s:s}", "command", cmd);
	j = jobs_decode_one(JOB_COMMAND, job, &cfgs[CFG_ON]);
	check_verdict("65536 bytes", j, NULL);
	assert_int_equal(strlen(j->command), JOBS_MAX_COMMAND);
	jobs_free(j);
	json_decref(job);

	cmd[len - 1] = 'x';
	cmd[len] = '\0';
	job = json_pack("{s:s}", "command", cmd);
	j = jobs_decode_one(JOB_COMMAND, job, &cfgs[CFG_ON]);
	check_verdict("65537 bytes", j, "'command' is 65537 bytes, more than 65536");
	jobs_free(j);
	json_decref(job);
	free(cmd);
}

/* ---- traces --------------------------------------------------------------------- */

struct trace_case {
	int cfg;
	const char *json;
	const char *error;     /* NULL: accepted */
	const char *spec_text; /* when accepted */
};

static void check_traces(const struct trace_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct job_req *j = decode(JOB_TRACE, cases[i].json, cases[i].cfg);

		check_verdict(cases[i].json, j, cases[i].error);
		if (!cases[i].error) {
			assert_non_null(j->spec);
			assert_non_null(j->spec_text);
			if (strcmp(j->spec_text, cases[i].spec_text) != 0)
				fail_msg("%s:\n   got: %s\n  want: %s", cases[i].json, j->spec_text,
					 cases[i].spec_text);
			assert_null(j->command);
		}
		jobs_free(j);
	}
}

static void test_trace_specs(void **state)
{
	static const struct trace_case cases[] = {
		{ CFG_DEFAULT, "{\"spec\":\"p::sys_read (arg3 > 1024) \\\"read %d bytes\\\", arg3\"}", NULL,
		  "p::sys_read (arg3 > 1024) \"read %d bytes\", arg3" },
		{ CFG_DEFAULT, "{\"spec\":\"  sys_read  (arg3>1024)  \\\"read %d bytes\\\",arg3 \"}", NULL,
		  "p::sys_read (arg3 > 1024) \"read %d bytes\", arg3" },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\"}", NULL, "p::vfs_read" },
		{ CFG_DEFAULT, "{\"spec\":\"r::vfs_read (retval < 0)\"}", NULL, "r::vfs_read (retval < 0)" },
		{ CFG_DEFAULT, "{\"spec\":\"t:sched:sched_switch\"}", NULL, "t:sched:sched_switch" },
		{ CFG_DEFAULT, "{\"spec\":\"c:malloc\"}", NULL, "p:c:malloc" },
		{ CFG_DEFAULT, "{\"spec\":\"u:/usr/bin/python3:python:function__entry\"}", NULL,
		  "u:/usr/bin/python3:python:function__entry" },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read+18\"}", NULL, "p::vfs_read+0x12" },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"type\":\"kretprobe\",\"target\":\"x\"}", NULL, "p::vfs_read" },
		{ CFG_DEFAULT, "{\"spec\":5}", "'spec' must be a string", NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs\\u0000read\"}", "'spec' holds a NUL byte", NULL },
		{ CFG_DEFAULT, "{\"spec\":\"p::f \\\"%d\\\"\"}",
		  "'spec': the format has 1 conversion but 0 values follow (hint: give one value per conversion, in "
		  "order)",
		  NULL },
		{ CFG_DEFAULT, "{}", "a trace job needs 'spec' (a trace.py spec) or 'type' and 'target'", NULL },
		{ CFG_DEFAULT, "{\"spec\":null,\"target\":\"vfs_read\"}",
		  "a trace job needs 'spec' (a trace.py spec) or 'type' and 'target'", NULL },
		{ CFG_DEFAULT, "{\"program\":\"BEGIN { exit(); }\"}",
		  "raw bpftrace programs are disabled on this agent (allow_raw_programs = false in agent.conf)", NULL },
		{ CFG_DEFAULT, "{\"program\":\"x\",\"spec\":\"vfs_read\"}",
		  "raw bpftrace programs are disabled on this agent (allow_raw_programs = false in agent.conf)", NULL },
		{ CFG_TIGHT, "{\"program\":\"BEGIN { exit(); }\"}",
		  "raw bpftrace programs are not supported by this agent version; send a 'spec'", NULL },
		{ CFG_DEFAULT, "{\"program\":5}", "'program' must be a string", NULL },
	};

	check_traces(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_trace_structured(void **state)
{
	static const struct trace_case cases[] = {
		{ CFG_DEFAULT, "{\"type\":\"kprobe\",\"target\":\"vfs_read\"}", NULL, "p::vfs_read" },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"vfs_read\"}", NULL, "p::vfs_read" },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"vfs_read\",\"library\":\"\"}", NULL, "p::vfs_read" },
		{ CFG_DEFAULT, "{\"type\":\"kretprobe\",\"target\":\"vfs_read\"}", NULL, "r::vfs_read" },
		{ CFG_DEFAULT, "{\"type\":\"r\",\"target\":\"vfs_read\"}", NULL, "r::vfs_read" },
		{ CFG_DEFAULT, "{\"type\":\"tracepoint\",\"target\":\"sched:sched_switch\"}", NULL,
		  "t:sched:sched_switch" },
		{ CFG_DEFAULT, "{\"type\":\"t\",\"target\":\"sched:sched_switch\"}", NULL, "t:sched:sched_switch" },
		{ CFG_DEFAULT, "{\"type\":\"t\",\"target\":\"sched_switch\",\"category\":\"sched\"}", NULL,
		  "t:sched:sched_switch" },
		{ CFG_DEFAULT, "{\"type\":\"uprobe\",\"target\":\"malloc\",\"library\":\"c\"}", NULL, "p:c:malloc" },
		{ CFG_DEFAULT, "{\"type\":\"u\",\"target\":\"malloc\",\"library\":\"/lib/x86_64-linux-gnu/libc.so.6\"}",
		  NULL, "p:/lib/x86_64-linux-gnu/libc.so.6:malloc" },
		{ CFG_DEFAULT, "{\"type\":\"uretprobe\",\"target\":\"malloc\",\"library\":\"c\"}", NULL, "r:c:malloc" },
		{ CFG_DEFAULT,
		  "{\"type\":\"usdt\",\"target\":\"python:function__entry\",\"library\":\"/usr/bin/python3\"}", NULL,
		  "u:/usr/bin/python3:python:function__entry" },
		{ CFG_DEFAULT, "{\"type\":\"usdt\",\"target\":\"function__entry\",\"library\":\"/usr/bin/python3\"}",
		  NULL, "u:/usr/bin/python3:function__entry" },
		/* the whole spec from fields: the same canonical text as the string form */
		{ CFG_DEFAULT,
		  "{\"type\":\"p\",\"target\":\"sys_read\",\"filter\":\"arg3 > 1024\","
		  "\"format\":\"read %d bytes\",\"arguments\":[\"arg3\"]}",
		  NULL, "p::sys_read (arg3 > 1024) \"read %d bytes\", arg3" },
		{ CFG_DEFAULT,
		  "{\"type\":\"r\",\"target\":\"vfs_read\",\"filter\":\"retval<0\",\"format\":\"err %d\","
		  "\"arguments\":[\"retval\"]}",
		  NULL, "r::vfs_read (retval < 0) \"err %d\", retval" },
		{ CFG_DEFAULT,
		  "{\"type\":\"p\",\"target\":\"f\",\"format\":\"say \\\"hi\\\" %d %s\","
		  "\"arguments\":[\"arg1\",\"arg2\"]}",
		  NULL, "p::f \"say \\\"hi\\\" %d %s\", arg1, arg2" },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"filter\":\"\",\"arguments\":[]}", NULL, "p::f" },
		{ CFG_DEFAULT,
		  "{\"type\":\"t\",\"target\":\"syscalls:sys_enter_openat\",\"format\":\"%s\","
		  "\"arguments\":[\"args->filename\"]}",
		  NULL, "t:syscalls:sys_enter_openat \"%s\", args->filename" },
		/* type and library rules */
		{ CFG_DEFAULT, "{\"type\":\"fentry\",\"target\":\"vfs_read\"}",
		  "'type' is 'fentry': expected kprobe (p), kretprobe (r), tracepoint (t), uprobe (u), uretprobe or "
		  "usdt",
		  NULL },
		{ CFG_DEFAULT, "{\"type\":\"KPROBE\",\"target\":\"vfs_read\"}",
		  "'type' is 'KPROBE': expected kprobe (p), kretprobe (r), tracepoint (t), uprobe (u), uretprobe or "
		  "usdt",
		  NULL },
		{ CFG_DEFAULT, "{\"type\":1,\"target\":\"vfs_read\"}", "'type' must be a string", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\"}", "'target' is missing", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"\"}", "'target' is empty", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":[\"f\"]}", "'target' must be a string", NULL },
		{ CFG_DEFAULT, "{\"type\":\"uprobe\",\"target\":\"malloc\"}",
		  "'library' is missing: a uprobe needs the library or binary it probes", NULL },
		{ CFG_DEFAULT, "{\"type\":\"u\",\"target\":\"malloc\",\"library\":\"\"}",
		  "'library' is missing: a u needs the library or binary it probes", NULL },
		{ CFG_DEFAULT, "{\"type\":\"uretprobe\",\"target\":\"malloc\",\"library\":null}",
		  "'library' is missing: a uretprobe needs the library or binary it probes", NULL },
		{ CFG_DEFAULT, "{\"type\":\"usdt\",\"target\":\"p:q\"}",
		  "'library' is missing: a usdt needs the library or binary it probes", NULL },
		{ CFG_DEFAULT, "{\"type\":\"kprobe\",\"target\":\"malloc\",\"library\":\"c\"}",
		  "'library' is only for uprobe, uretprobe and usdt, not kprobe", NULL },
		{ CFG_DEFAULT, "{\"type\":\"t\",\"target\":\"sched:sched_switch\",\"library\":\"c\"}",
		  "'library' is only for uprobe, uretprobe and usdt, not t", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"library\":5}", "'library' must be a string", NULL },
		/* tracepoint targets */
		{ CFG_DEFAULT, "{\"type\":\"t\",\"target\":\"sched_switch\"}",
		  "'target' of a tracepoint is 'category:event', e.g. 'sched:sched_switch'", NULL },
		{ CFG_DEFAULT, "{\"type\":\"tracepoint\",\"target\":\"sched_switch\",\"category\":5}",
		  "'category' must be a string", NULL },
		/* arguments */
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"format\":\"%d\",\"arguments\":\"arg1\"}",
		  "'arguments' must be a list of expressions", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"format\":\"%d\",\"arguments\":[1]}",
		  "'arguments'[0] must be a string (an expression such as \"arg3\")", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"arguments\":[5]}",
		  "'arguments'[0] must be a string (an expression such as \"arg3\")", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"format\":\"%d\",\"arguments\":[\"arg1\",{\"x\":1}]}",
		  "'arguments'[1] must be a string (an expression such as \"arg3\")", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"format\":\"%d %d\",\"arguments\":[\"arg1\",null]}",
		  "'arguments'[1] must be a string (an expression such as \"arg3\")", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"arguments\":[\"arg1\"]}",
		  "'target/filter/format/arguments': values need a format string", NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"format\":\"%d\"}",
		  "'target/filter/format/arguments': the format has 1 conversions but 0 values were given "
		  "(hint: give one value per conversion, in order)",
		  NULL },
		{ CFG_DEFAULT, "{\"type\":\"p\",\"target\":\"f\",\"format\":\"%d\",\"arguments\":[\"arg1\",\"arg2\"]}",
		  "'target/filter/format/arguments': the format has 1 conversions but 2 values were given "
		  "(hint: give one value per conversion, in order)",
		  NULL },
	};

	check_traces(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Fields are never pasted into spec text: what would change the spec's
 * meaning as text is refused as a name or an expression. */
static void test_trace_no_pasting(void **state)
{
	static const char *const jobs[] = {
		"{\"type\":\"p\",\"target\":\"vfs_read (1) \\\"x\\\"\"}",
		"{\"type\":\"p\",\"target\":\"vfs_read\",\"filter\":\"1) \\\"%s\\\", arg1 (1\"}",
		"{\"type\":\"p\",\"target\":\"f\",\"format\":\"%d\",\"arguments\":[\"arg1, arg2\"]}",
		"{\"type\":\"t\",\"target\":\"sched:sched_switch:x\"}",
		"{\"type\":\"uprobe\",\"target\":\"malloc\",\"library\":\"c:free\"}",
	};

	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		struct job_req *j = decode(JOB_TRACE, jobs[i], CFG_DEFAULT);

		if (!j->error)
			fail_msg("%s: accepted as '%s'", jobs[i], j->spec_text);
		if (strncmp(j->error, "'target/filter/format/arguments': ", 34) != 0)
			fail_msg("%s: %s", jobs[i], j->error);
		assert_null(j->spec);
		jobs_free(j);
	}
}

struct opts_case {
	int cfg;
	const char *json;
	const char *error;
	long pid, tid, uid;
	int duration;
	long max_events;
	const char *name, *cgroup;
};

static void test_trace_filters(void **state)
{
	static const struct opts_case cases[] = {
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\"}", NULL, -1, -1, -1, 10, 10000, NULL, NULL },
		{ CFG_DEFAULT,
		  "{\"spec\":\"vfs_read\",\"filters\":{\"pid\":42,\"tid\":43,\"uid\":0,\"process\":\"nginx\","
		  "\"cgroup\":\"/sys/fs/cgroup/system.slice\"}}",
		  NULL, 42, 43, 0, 10, 10000, "nginx", "/sys/fs/cgroup/system.slice" },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":null}", NULL, -1, -1, -1, 10, 10000, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{}}", NULL, -1, -1, -1, 10, 10000, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"pid\":7}", NULL, 7, -1, -1, 10, 10000, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"pid\":7,\"filters\":{\"pid\":7}}", NULL, 7, -1, -1, 10, 10000,
		  NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"pid\":null,\"filters\":{\"pid\":9}}", NULL, 9, -1, -1, 10,
		  10000, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"pid\":7,\"filters\":{\"pid\":8}}",
		  "'pid' (7) and 'filters.pid' (8) disagree", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"pid\":0}}",
		  "'pid' is 0, out of range: process ids must be 1..2147483647", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"pid\":-5}",
		  "'pid' is -5, out of range: process ids must be 1..2147483647", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"pid\":2147483647}}", NULL, 2147483647, -1, -1, 10,
		  10000, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"pid\":2147483648}}",
		  "'pid' is 2147483648, out of range: process ids must be 1..2147483647", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"pid\":42.0}}", NULL, 42, -1, -1, 10, 10000, NULL,
		  NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"pid\":1.5}}",
		  "'pid' must be a whole number of process ids (1..2147483647)", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"pid\":\"42\"}",
		  "'pid' must be a whole number of process ids (1..2147483647)", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"tid\":0}}",
		  "'tid' is 0, out of range: thread ids must be 1..2147483647", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"tid\":false}}",
		  "'tid' must be a whole number of thread ids (1..2147483647)", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"uid\":4294967294}}", NULL, -1, -1, 4294967294L,
		  10, 10000, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"uid\":4294967295}}",
		  "'uid' is 4294967295, out of range: user ids must be 0..4294967294", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"uid\":-1}}",
		  "'uid' is -1, out of range: user ids must be 0..4294967294", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"process\":\"\"}}", "'filters.process' is empty",
		  0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"process\":5}}", "'process' must be a string", 0,
		  0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"process\":\"a\\u0000b\"}}",
		  "'process' holds a NUL byte", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"cgroup\":\"system.slice\"}}",
		  "'filters.cgroup' must be a cgroup v2 path starting with '/', e.g. /sys/fs/cgroup/system.slice", 0, 0,
		  0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":{\"cgroup\":\"\"}}",
		  "'filters.cgroup' must be a cgroup v2 path starting with '/', e.g. /sys/fs/cgroup/system.slice", 0, 0,
		  0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":\"pid=5\"}",
		  "'filters' must be an object (process, pid, tid, uid, cgroup)", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"filters\":[5]}",
		  "'filters' must be an object (process, pid, tid, uid, cgroup)", 0, 0, 0, 0, 0, NULL, NULL },
		/* a bad filter is reported before a bad spec */
		{ CFG_DEFAULT, "{\"spec\":\"p::\",\"filters\":{\"tid\":-2}}",
		  "'tid' is -2, out of range: thread ids must be 1..2147483647", 0, 0, 0, 0, 0, NULL, NULL },
		/* duration and max_events */
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":1,\"max_events\":1}", NULL, -1, -1, -1, 1, 1, NULL,
		  NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":600,\"max_events\":10000}", NULL, -1, -1, -1, 600,
		  10000, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":2.0,\"max_events\":100.0}", NULL, -1, -1, -1, 2,
		  100, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":null,\"max_events\":null}", NULL, -1, -1, -1, 10,
		  10000, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":601}",
		  "'duration' is 601, out of range: seconds must be 1..600", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":0}",
		  "'duration' is 0, out of range: seconds must be 1..600", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":-1}",
		  "'duration' is -1, out of range: seconds must be 1..600", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":2.5}",
		  "'duration' must be a whole number of seconds (1..600)", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":1e300}",
		  "'duration' must be a whole number of seconds (1..600)", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"duration\":\"10\"}",
		  "'duration' must be a whole number of seconds (1..600)", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"max_events\":10001}",
		  "'max_events' is 10001, out of range: events must be 1..10000", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"max_events\":0}",
		  "'max_events' is 0, out of range: events must be 1..10000", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"max_events\":0.5}",
		  "'max_events' must be a whole number of events (1..10000)", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_DEFAULT, "{\"spec\":\"vfs_read\",\"max_events\":-0.0}",
		  "'max_events' is 0, out of range: events must be 1..10000", 0, 0, 0, 0, 0, NULL, NULL },
		/* the agent's own limits, and defaults within them */
		{ CFG_TIGHT, "{\"spec\":\"vfs_read\"}", NULL, -1, -1, -1, 5, 500, NULL, NULL },
		{ CFG_TIGHT, "{\"spec\":\"vfs_read\",\"duration\":5,\"max_events\":500}", NULL, -1, -1, -1, 5, 500,
		  NULL, NULL },
		{ CFG_TIGHT, "{\"spec\":\"vfs_read\",\"duration\":6}",
		  "'duration' is 6, out of range: seconds must be 1..5", 0, 0, 0, 0, 0, NULL, NULL },
		{ CFG_TIGHT, "{\"spec\":\"vfs_read\",\"max_events\":501}",
		  "'max_events' is 501, out of range: events must be 1..500", 0, 0, 0, 0, 0, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct opts_case *c = &cases[i];
		struct job_req *j = decode(JOB_TRACE, c->json, c->cfg);

		check_verdict(c->json, j, c->error);
		if (!c->error) {
			const struct trace_opts *o = &j->opts;

			if (o->pid != c->pid || o->tid != c->tid || o->uid != c->uid || o->duration != c->duration ||
			    o->max_events != c->max_events)
				fail_msg("%s: pid %ld tid %ld uid %ld duration %d max_events %ld; want %ld %ld %ld %d "
					 "%ld",
					 c->json, o->pid, o->tid, o->uid, o->duration, o->max_events, c->pid, c->tid,
					 c->uid, c->duration, c->max_events);
			if (c->name)
				assert_string_equal(o->name, c->name);
			else
				assert_null(o->name);
			if (c->cgroup)
				assert_string_equal(o->cgroup, c->cgroup);
			else
				assert_null(o->cgroup);
			assert_string_equal(j->spec_text, "p::vfs_read");
		}
		jobs_free(j);
	}
}

/* A malformed spec: the parser's message, with its hint. */
static void test_trace_spec_errors(void **state)
{
	static const char *const specs[] = {
		"{\"spec\":\"\"}",
		"{\"spec\":\"p::\"}",
		"{\"spec\":\"p::f (arg9 > 1)\"}",
		"{\"spec\":\"p::f \\\"%q\\\", arg1\"}",
		"{\"type\":\"p\",\"target\":\"f\",\"filter\":\"arg3 >\"}",
		"{\"type\":\"p\",\"target\":\"f\",\"format\":\"%d\",\"arguments\":[\"nosuchname\"]}",
		"{\"type\":\"t\",\"target\":\"sched:\"}",
		"{\"type\":\"t\",\"target\":\":sched_switch\"}",
	};

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct job_req *j = decode(JOB_TRACE, specs[i], CFG_DEFAULT);
		bool structured = strstr(specs[i], "\"type\"") != NULL;
		const char *prefix = structured ? "'target/filter/format/arguments': " : "'spec': ";

		if (!j->error)
			fail_msg("%s: accepted as '%s'", specs[i], j->spec_text);
		if (strncmp(j->error, prefix, strlen(prefix)) != 0 || strlen(j->error) <= strlen(prefix) + 3 ||
		    strchr(j->error, '\n'))
			fail_msg("%s: %s", specs[i], j->error);
		assert_null(j->spec);
		assert_null(j->spec_text);
		jobs_free(j);
	}
}

/* ---- other kinds, ids --------------------------------------------------------- */

static void test_other_kinds(void **state)
{
	static const struct {
		enum job_kind kind;
		const char *json;
		const char *error;
	} cases[] = {
		{ JOB_SUGGESTION, "{\"id\":\"s1\",\"text\":\"restart nginx\"}", "'query' is missing" },
		{ JOB_SUGGESTION, "{\"id\":\"s2\",\"query\":\"\"}", "'query' is empty" },
		{ JOB_SUGGESTION, "{\"id\":\"s3\",\"query\":7}", "'query' must be a string" },
		{ JOB_SUGGESTION, "{\"id\":\"s4\",\"query\":\"a\\u0000b\"}", "'query' holds a NUL byte" },
		{ JOB_SUGGESTION, "{\"id\":\"s5\",\"query\":\"x\",\"max\":0}",
		  "'max' is 0, out of range: suggestions must be 1..50" },
		{ JOB_SUGGESTION, "{\"id\":\"s6\",\"query\":\"x\",\"max\":\"3\"}",
		  "'max' must be a whole number of suggestions (1..50)" },
		{ JOB_DIAGNOSTIC, "{\"id\":\"d1\",\"check\":\"disk\"}", "'preset' is missing" },
		{ JOB_DIAGNOSTIC, "{\"id\":\"d2\",\"preset\":\"disk\"}",
		  "no preset 'disk': one of all, dns, errors, exec, fdleak, fs, net, sched" },
		{ JOB_DIAGNOSTIC, "{\"id\":\"d3\",\"preset\":\"fs\",\"duration\":6}",
		  "'duration' is 6, out of range: seconds must be 1..5" },
		{ JOB_DIAGNOSTIC, "{\"id\":\"d4\",\"preset\":\"fs\",\"slow_threshold\":\"10 parsecs\"}",
		  "'slow_threshold' must be a time above 0 and up to 1 h: milliseconds, or a string such as \"500us\" "
		  "or \"10ms\"" },
		{ JOB_DIAGNOSTIC, "{\"id\":\"d5\",\"preset\":\"fs\",\"pid\":5,\"filters\":{\"pid\":6}}",
		  "'pid' (5) and 'filters.pid' (6) disagree" },
		{ JOB_DIAGNOSTIC, "{\"id\":\"d6\",\"preset\":\"net\",\"cgroup\":\"/sys/fs/cgroup/../etc\"}",
		  "'cgroup' must be a cgroup v2 path (absolute, or under the cgroup2 mount), without '..'" },
		{ JOB_DIAGNOSTIC, "{\"id\":\"d7\",\"preset\":\"exec\",\"storm_threshold\":0}",
		  "'storm_threshold' is 0, out of range: processes per second must be 1..1000000000" },
		{ JOB_COMMAND, "[1]", "a job must be a JSON object" },
		{ JOB_COMMAND, "\"uptime\"", "a job must be a JSON object" },
		{ JOB_TRACE, "null", "a job must be a JSON object" },
		{ JOB_TRACE, "42", "a job must be a JSON object" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct job_req *j = decode(cases[i].kind, cases[i].json, CFG_TIGHT);

		check_verdict(cases[i].json, j, cases[i].error);
		if (cases[i].json[0] != '{')
			assert_true(is_derived_id(j->id));
		jobs_free(j);
	}
	{
		struct job_req *j = decode(JOB_SUGGESTION, "{\"id\":\"s7\",\"query\":\"file not found\",\"max\":3}",
					   CFG_TIGHT);

		check_verdict("suggestion", j, NULL);
		assert_string_equal(j->query, "file not found");
		assert_int_equal(j->max, 3);
		jobs_free(j);
		j = decode(JOB_SUGGESTION, "{\"id\":\"s8\",\"query\":\"file not found\"}", CFG_TIGHT);
		check_verdict("suggestion", j, NULL);
		assert_int_equal(j->max, SUGGEST_DEFAULT_ITEMS);
		jobs_free(j);
	}
	assert_string_equal(jobs_kind_name(JOB_COMMAND), "command");
	assert_string_equal(jobs_kind_name(JOB_TRACE), "trace");
	assert_string_equal(jobs_kind_name(JOB_SUGGESTION), "suggestion");
	assert_string_equal(jobs_kind_name(JOB_DIAGNOSTIC), "diagnostic");
	jobs_free(NULL);
}

/* A diagnostics job: defaults, and every option read with its unit. */
static void test_diagnostics(void **state)
{
	struct job_req *j = decode(JOB_DIAGNOSTIC, "{\"id\":\"d\",\"preset\":\"fs\"}", CFG_DEFAULT);

	(void)state;
	assert_non_null(j);
	assert_null(j->error);
	assert_string_equal(j->preset, "fs");
	assert_int_equal(j->diag.duration, JOBS_DEFAULT_DIAGNOSIS);
	assert_int_equal(j->diag.pid, -1);
	assert_null(j->diag.cgroup);
	assert_int_equal(j->diag.slow_ns, DIAG_DEFAULT_SLOW_NS);
	assert_int_equal(j->diag.error_threshold, DIAG_DEFAULT_ERRORS);
	jobs_free(j);

	j = decode(
		JOB_DIAGNOSTIC,
		"{\"id\":\"d\",\"preset\":\"net\",\"duration\":5,\"filters\":{\"pid\":42,\"cgroup\":\"system.slice\"},"
		"\"slow_threshold\":2.5,\"rtt_threshold\":\"1s\",\"error_threshold\":3,\"leak_threshold\":7,"
		"\"storm_threshold\":9,\"max_events\":100,\"top\":4}",
		CFG_DEFAULT);
	assert_non_null(j);
	assert_null(j->error);
	assert_int_equal(j->diag.duration, 5);
	assert_int_equal(j->diag.pid, 42);
	assert_string_equal(j->diag.cgroup, "system.slice");
	assert_int_equal(j->diag.slow_ns, 2500000);
	assert_int_equal(j->diag.rtt_ns, 1000000000);
	assert_int_equal(j->diag.error_threshold, 3);
	assert_int_equal(j->diag.leak_threshold, 7);
	assert_int_equal(j->diag.storm_threshold, 9);
	assert_int_equal(j->diag.cap, 100);
	assert_int_equal(j->diag.top, 4);
	jobs_free(j);
}

static void test_ids(void **state)
{
	static const char bad_id[] = "'id' must be a string of 1..256 characters without line breaks, or an integer";
	static const struct {
		const char *id_json; /* the id's JSON value; NULL: no id */
		const char *want;    /* the id kept; NULL: derived */
		bool rejected;
	} cases[] = {
		{ "\"abc\"", "abc", false },
		{ "\"x y/z\\\"q\\\\ \u00e9\"", "x y/z\"q\\ \u00e9", false },
		{ "42", "42", false },
		{ "-7", "-7", false },
		{ "0", "0", false },
		{ "9223372036854775807", "9223372036854775807", false },
		{ NULL, NULL, false },
		{ "null", NULL, false },
		{ "\"\"", NULL, true },
		{ "\"a\\nb\"", NULL, true },
		{ "\"a\\rb\"", NULL, true },
		{ "\"a\\tb\"", NULL, true },
		{ "\"a\\u0000b\"", NULL, true }, /* never cut short at the NUL: "a\0b" and "a\0c" are not "a" */
		{ "true", NULL, true },
		{ "1.5", NULL, true },
		{ "1.0", NULL, true },
		{ "{}", NULL, true },
		{ "[\"a\"]", NULL, true },
	};
	char text[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct job_req *j;

		if (cases[i].id_json)
			snprintf(text, sizeof(text), "{\"id\":%s,\"command\":\"uptime\"}", cases[i].id_json);
		else
			snprintf(text, sizeof(text), "{\"command\":\"uptime\"}");
		j = decode(JOB_COMMAND, text, CFG_ON);
		check_verdict(text, j, cases[i].rejected ? bad_id : NULL);
		if (cases[i].want)
			assert_string_equal(j->id, cases[i].want);
		else if (!is_derived_id(j->id))
			fail_msg("%s: id '%s', want job-<16 hex>", text, j->id);
		jobs_free(j);
	}

	/* 256 characters (bytes) is the longest id */
	{
		char id[258];
		json_t *job;
		struct job_req *j;

		memset(id, 'i', 257);
		id[256] = '\0';
		job = json_pack("{s:s, s:s}", "id", id, "command", "uptime");
		j = jobs_decode_one(JOB_COMMAND, job, &cfgs[CFG_ON]);
		check_verdict("256", j, NULL);
		assert_string_equal(j->id, id);
		jobs_free(j);
		json_decref(job);
		id[256] = 'i';
		id[257] = '\0';
		job = json_pack("{s:s, s:s}", "id", id, "command", "uptime");
		j = jobs_decode_one(JOB_COMMAND, job, &cfgs[CFG_ON]);
		check_verdict("257", j, bad_id);
		assert_true(is_derived_id(j->id));
		jobs_free(j);
		json_decref(job);
	}
}

static char *derived(enum job_kind kind, const char *text)
{
	struct job_req *j = decode(kind, text, CFG_ON);
	char *id = strdup(j->id);

	assert_true(is_derived_id(id));
	jobs_free(j);
	return id;
}

/* The derived id: FNV-1a 64 over the kind's name and the JSON with sorted
 * keys, so it is the same for the same job however it is written. */
static void test_derived_ids(void **state)
{
	static const struct {
		enum job_kind ka;
		const char *a;
		enum job_kind kb;
		const char *b;
		bool same;
	} cases[] = {
		{ JOB_COMMAND, "{\"command\":\"uptime\",\"timeout\":5}", JOB_COMMAND,
		  "{\"timeout\":5,\"command\":\"uptime\"}", true },
		{ JOB_COMMAND, "{\"command\":\"uptime\",\"timeout\":5}", JOB_COMMAND,
		  "{ \"command\" : \"uptime\" ,\n \"timeout\":5 }", true },
		{ JOB_TRACE, "{\"spec\":\"vfs_read\",\"filters\":{\"pid\":1,\"uid\":2}}", JOB_TRACE,
		  "{\"filters\":{\"uid\":2,\"pid\":1},\"spec\":\"vfs_read\"}", true },
		{ JOB_COMMAND, "{\"command\":\"uptime\",\"timeout\":5}", JOB_COMMAND,
		  "{\"command\":\"uptime\",\"timeout\":6}", false },
		{ JOB_COMMAND, "{\"command\":\"uptime\"}", JOB_COMMAND, "{\"command\":\"uptime \"}", false },
		{ JOB_COMMAND, "{\"command\":\"uptime\"}", JOB_COMMAND, "{\"command\":\"uptime\",\"id\":null}", false },
		/* the same JSON as two kinds: two jobs */
		{ JOB_COMMAND, "{\"spec\":\"vfs_read\"}", JOB_TRACE, "{\"spec\":\"vfs_read\"}", false },
		{ JOB_SUGGESTION, "{\"x\":1}", JOB_DIAGNOSTIC, "{\"x\":1}", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *a = derived(cases[i].ka, cases[i].a), *b = derived(cases[i].kb, cases[i].b);

		if ((strcmp(a, b) == 0) != cases[i].same)
			fail_msg("'%s' (%s) and '%s' (%s): %s and %s", cases[i].a, jobs_kind_name(cases[i].ka),
				 cases[i].b, jobs_kind_name(cases[i].kb), a, b);
		free(a);
		free(b);
	}

	/* stable across versions: a redelivered job after an upgrade is still recognised */
	{
		static const char canon[] = "{\"command\":\"uptime\",\"timeout\":5}";
		uint64_t h = 0xcbf29ce484222325ULL;
		char want[32], *got;

		for (const char *p = "command"; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		for (const char *p = canon; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		snprintf(want, sizeof(want), "job-%016" PRIx64, h);
		got = derived(JOB_COMMAND, "{\"timeout\":5,\"command\":\"uptime\"}");
		assert_string_equal(got, want);
		free(got);
	}
}

/* ---- batches ----------------------------------------------------------------------- */

struct events {
	char log[64][96];
	int n;
	struct job_req *jobs[32];
	int njobs;
};

static void on_job(void *ud, struct job_req *j)
{
	struct events *e = ud;

	assert_true(e->n < 64 && e->njobs < 32);
	snprintf(e->log[e->n++], sizeof(e->log[0]), "%s %s%s", jobs_kind_name(j->kind), j->id,
		 j->error ? " rejected" : "");
	e->jobs[e->njobs++] = j;
}

static void on_cancel(void *ud, const char *id)
{
	struct events *e = ud;

	assert_true(e->n < 64);
	snprintf(e->log[e->n++], sizeof(e->log[0]), "cancel %s", id);
}

static void events_release(struct events *e)
{
	for (int i = 0; i < e->njobs; i++)
		jobs_free(e->jobs[i]);
	memset(e, 0, sizeof(*e));
}

static void expect_events(const struct events *e, const char *const *want, int n)
{
	for (int i = 0; i < e->n || i < n; i++) {
		const char *got = i < e->n ? e->log[i] : "(none)";
		const char *w = i < n ? want[i] : "(none)";

		if (strcmp(got, w) != 0)
			fail_msg("event %d: got '%s', want '%s'", i, got, w);
	}
}

static int decode_batch(const char *text, struct events *e, char *err, size_t size)
{
	json_t *batch = load(text);
	int rc = jobs_decode(batch, &cfgs[CFG_ON], on_job, on_cancel, e, err, size);

	json_decref(batch);
	return rc;
}

static void test_batch(void **state)
{
	/* keys deliberately out of the order the callbacks follow */
	static const char batch[] =
		"{\"cancel\":[\"old-1\",12,true,null,{\"id\":\"x\"},\"old-2\",-3],"
		" \"diagnostics\":[{\"id\":\"d1\"},{\"id\":\"d2\",\"preset\":\"all\"}],"
		" \"suggestions\":[{\"id\":\"s1\"},{\"id\":\"s2\"}],"
		" \"ebpf_programs\":[{\"id\":\"t1\",\"spec\":\"vfs_read\"},{\"id\":\"t2\",\"spec\":\"p::\"}],"
		" \"commands\":[{\"id\":\"c1\",\"command\":\"uptime\"},{\"id\":\"c2\",\"command\":\"reboot\"},"
		"  {\"id\":3,\"command\":\"df -h\"}],"
		" \"unknown_list\":[{\"id\":\"u1\"}]}";
	static const char *const want[] = {
		"command c1",
		"command c2 rejected",
		"command 3",
		"trace t1",
		"trace t2 rejected",
		"suggestion s1 rejected",
		"suggestion s2 rejected",
		"diagnostic d1 rejected",
		"diagnostic d2",
		"cancel old-1",
		"cancel 12",
		"cancel old-2",
		"cancel -3",
	};
	struct events e = { 0 };
	char err[256] = "junk";

	assert_int_equal(decode_batch(batch, &e, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	expect_events(&e, want, sizeof(want) / sizeof(want[0]));
	assert_string_equal(e.jobs[0]->command, "uptime");
	assert_string_equal(e.jobs[3]->spec_text, "p::vfs_read");
	events_release(&e);

	/* empty, null and missing lists: nothing, silently */
	assert_int_equal(decode_batch("{}", &e, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(e.n, 0);
	assert_int_equal(decode_batch("{\"commands\":null,\"ebpf_programs\":[],\"cancel\":null}", &e, err, sizeof(err)),
			 0);
	assert_string_equal(err, "");
	assert_int_equal(e.n, 0);
}

static void test_batch_bad_shapes(void **state)
{
	static const char *const not_objects[] = { "[]", "null", "\"jobs\"", "[{\"commands\":[]}]", "0" };
	struct events e = { 0 };
	char err[256];

	for (size_t i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++) {
		strcpy(err, "junk");
		assert_int_equal(decode_batch(not_objects[i], &e, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "the job batch is not a JSON object");
		assert_int_equal(e.n, 0);
	}

	/* a list that is not a list is skipped with a warning; the rest is decoded */
	assert_int_equal(decode_batch("{\"commands\":{\"id\":\"c1\",\"command\":\"uptime\"},"
				      "\"ebpf_programs\":[{\"id\":\"t1\",\"spec\":\"vfs_read\"}],"
				      "\"suggestions\":\"s\",\"cancel\":\"t1\"}",
				      &e, err, sizeof(err)),
			 0);
	assert_string_equal(err, "'commands' is not a list: ignored; 'suggestions' is not a list: ignored; "
				 "'cancel' is not a list: ignored");
	{
		static const char *const want[] = { "trace t1" };

		expect_events(&e, want, 1);
	}
	events_release(&e);

	assert_int_equal(decode_batch("{\"diagnostics\":5,\"commands\":[{\"id\":\"c\",\"command\":\"uptime\"}],"
				      "\"cancel\":[\"c\"]}",
				      &e, err, sizeof(err)),
			 0);
	assert_string_equal(err, "'diagnostics' is not a list: ignored");
	{
		static const char *const want[] = { "command c", "cancel c" };

		expect_events(&e, want, 2);
	}
	events_release(&e);

	/* a small buffer: cut, still terminated */
	assert_int_equal(decode_batch("{\"commands\":1,\"ebpf_programs\":2,\"suggestions\":3,\"diagnostics\":4,"
				      "\"cancel\":5}",
				      &e, err, 20),
			 0);
	assert_string_equal(err, "'commands' is not a");
	assert_int_equal(e.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),	  cmocka_unit_test(test_command_length),
		cmocka_unit_test(test_trace_specs),	  cmocka_unit_test(test_trace_structured),
		cmocka_unit_test(test_trace_no_pasting),  cmocka_unit_test(test_trace_filters),
		cmocka_unit_test(test_trace_spec_errors), cmocka_unit_test(test_other_kinds),
		cmocka_unit_test(test_diagnostics),	  cmocka_unit_test(test_ids),
		cmocka_unit_test(test_derived_ids),	  cmocka_unit_test(test_batch),
		cmocka_unit_test(test_batch_bad_shapes),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
