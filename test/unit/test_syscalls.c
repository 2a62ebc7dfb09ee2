/* test_syscalls.c - unit tests for the tracefs and kallsyms readers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tracespec/syscalls.h"

#define TRACEFS "/sys/kernel/tracing"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static bool host_has(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", TRACEFS, rel);
	return access(path, F_OK) == 0;
}

static bool host_has_syscall(const char *name)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "events/syscalls/sys_enter_%s", name);
	return host_has(rel);
}

/* Count the event's own "field:" lines of a format file, independently. */
static int host_count_fields(const char *cat, const char *ev)
{
	char path[512], line[4096];
	FILE *fp;
	int n = 0;

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", TRACEFS, cat, ev);
	fp = fopen(path, "re");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		if (!strstr(line, "field:"))
			continue;
		if (strstr(line, " common_") || strstr(line, " __syscall_nr;"))
			continue;
		n++;
	}
	fclose(fp);
	return n;
}

static const struct tp_field *field_named(const struct tp_format *f, const char *name)
{
	int i;

	for (i = 0; i < f->nfields; i++) {
		if (strcmp(f->fields[i].name, name) == 0)
			return &f->fields[i];
	}
	return NULL;
}

static bool list_has(char (*out)[SYSCALLS_NAME_MAX], int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(out[i], name) == 0)
			return true;
	}
	return false;
}

static bool list2_has(char (*out)[2 * SYSCALLS_NAME_MAX], int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(out[i], name) == 0)
			return true;
	}
	return false;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fake tracefs under /tmp: tracefs/events/CAT/EVENT/format. */
struct fake {
	char root[64];
};

static void fake_mkdirs(const char *path)
{
	char tmp[512];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
	mkdir(tmp, 0755);
}

static void fake_event(struct fake *fk, const char *cat, const char *ev, const char *format)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/events/%s/%s", fk->root, cat, ev);
	fake_mkdirs(path);
	if (!format)
		return;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", fk->root, cat, ev);
	fp = fopen(path, "we");
	assert_non_null(fp);
	fputs(format, fp);
	fclose(fp);
}

static void fake_init(struct fake *fk)
{
	snprintf(fk->root, sizeof(fk->root), "/tmp/diag-tracefs-XXXXXX");
	assert_non_null(mkdtemp(fk->root));
}

static void fake_release(struct fake *fk)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fk->root);
	assert_int_equal(system(cmd), 0);
}

#define FMT_HEAD \
	"name: ev\nID: 1\nformat:\n" \
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
#define FMT_TAIL "\nprint fmt: \"x\"\n"

/* ------------------------------------------------------------------------ */
/* Formats on this host                                                     */
/* ------------------------------------------------------------------------ */

static void test_args_read(void **state)
{
	struct tp_format f;

	(void)state;
	assert_int_equal(syscalls_args(TRACEFS, "read", &f), 0);
	assert_int_equal(f.nfields, 3);
	assert_int_equal(f.nfields, host_count_fields("syscalls", "sys_enter_read"));
	assert_string_equal(f.fields[0].name, "fd");
	assert_string_equal(f.fields[1].name, "buf");
	assert_string_equal(f.fields[2].name, "count");
	assert_true(f.fields[1].is_pointer);
	assert_false(f.fields[0].is_pointer);
	assert_false(f.fields[0].is_string);
	assert_false(f.fields[2].is_string);
	assert_int_equal(f.fields[2].size, 8);
	/* NULL means the default mount point */
	assert_int_equal(syscalls_args(NULL, "read", &f), 0);
	assert_int_equal(f.nfields, 3);
}

static void test_args_openat(void **state)
{
	struct tp_format f;

	(void)state;
	assert_int_equal(syscalls_args(TRACEFS, "openat", &f), 0);
	assert_int_equal(f.nfields, host_count_fields("syscalls", "sys_enter_openat"));
	assert_true(f.nfields >= 3);
	assert_string_equal(f.fields[0].name, "dfd");
	assert_string_equal(f.fields[1].name, "filename");
	assert_string_equal(f.fields[1].type, "const char *");
	assert_true(f.fields[1].is_string);
	assert_true(f.fields[1].is_pointer);
	assert_int_equal(f.fields[1].size, 8);
	assert_string_equal(f.fields[2].name, "flags");
	assert_false(f.fields[2].is_string);
}

static void test_args_execve_argv_not_string(void **state)
{
	struct tp_format f;
	const struct tp_field *argv;

	(void)state;
	if (!host_has_syscall("execve"))
		return;
	assert_int_equal(syscalls_args(TRACEFS, "execve", &f), 0);
	assert_true(field_named(&f, "filename")->is_string);
	argv = field_named(&f, "argv");
	assert_non_null(argv);
	assert_true(argv->is_pointer);
	assert_false(argv->is_string);
}

static void test_args_no_args(void **state)
{
	struct tp_format f;

	(void)state;
	assert_int_equal(syscalls_args(TRACEFS, "getpid", &f), 0);
	assert_int_equal(f.nfields, 0);
}

static void test_tp_sched_switch(void **state)
{
	struct tp_format f;
	const struct tp_field *comm, *pid;

	(void)state;
	assert_int_equal(syscalls_tp_format(TRACEFS, "sched", "sched_switch", &f), 0);
	assert_int_equal(f.nfields, host_count_fields("sched", "sched_switch"));
	comm = field_named(&f, "prev_comm");
	pid = field_named(&f, "next_pid");
	assert_non_null(comm);
	assert_non_null(pid);
	assert_true(comm->is_string);
	assert_false(comm->is_pointer);
	assert_string_equal(comm->type, "char[16]");
	assert_int_equal(comm->size, 16);
	assert_false(pid->is_string);
	assert_true(pid->is_signed);
	assert_int_equal(pid->size, 4);
	assert_null(field_named(&f, "common_pid"));
}

static void test_tp_missing(void **state)
{
	struct tp_format f;

	(void)state;
	assert_int_equal(syscalls_tp_format(TRACEFS, "sched", "no_such_event_xyz", &f), -ENOENT);
	assert_int_equal(syscalls_tp_format(TRACEFS, "no_such_cat_xyz", "x", &f), -ENOENT);
	assert_int_equal(syscalls_args(TRACEFS, "definitely_not_a_syscall", &f), -ENOENT);
	assert_int_equal(syscalls_tp_format("/nonexistent/tracefs", "sched", "sched_switch", &f), -ENOENT);
}

static void test_tp_invalid_names(void **state)
{
	static const char *const bad[] = {
		"../../etc", "..",  "",	   "sched/../sched",
		"a b",	     "a-b", "x\n", "0123456789012345678901234567890123456789012345678901234567890123",
	};
	struct tp_format f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(syscalls_tp_format(TRACEFS, bad[i], "sched_switch", &f), -EINVAL);
		assert_int_equal(syscalls_tp_format(TRACEFS, "sched", bad[i], &f), -EINVAL);
		assert_int_equal(syscalls_args(TRACEFS, bad[i], &f), -EINVAL);
		assert_false(syscalls_exists(TRACEFS, bad[i]));
		assert_null(syscalls_replacement(TRACEFS, bad[i]));
	}
	assert_int_equal(syscalls_tp_format(TRACEFS, NULL, "x", &f), -EINVAL);
	assert_int_equal(syscalls_tp_format(TRACEFS, "sched", NULL, &f), -EINVAL);
	/* "sys_enter_" + 54 characters does not fit an event name */
	assert_int_equal(syscalls_args(TRACEFS, "a23456789012345678901234567890123456789012345678901234", &f), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Format parsing on a fake tracefs                                         */
/* ------------------------------------------------------------------------ */

struct field_case {
	const char *line;
	const char *name;
	const char *type;
	int size;
	bool is_signed, is_pointer, is_string;
};

static const struct field_case field_cases[] = {
	{ "\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;", "filename", "const char *", 8, false, true,
	  true },
	{ "\tfield:char * buf;\toffset:24;\tsize:8;\tsigned:0;", "buf", "char *", 8, false, true, true },
	{ "\tfield:unsigned char * vec;\toffset:24;\tsize:8;\tsigned:0;", "vec", "unsigned char *", 8, false, true,
	  false },
	{ "\tfield:const char *const * argv;\toffset:24;\tsize:8;\tsigned:0;", "argv", "const char *const *", 8, false,
	  true, false },
	{ "\tfield:const struct landlock_ruleset_attr *const attr;\toffset:16;\tsize:8;\tsigned:0;", "attr",
	  "const struct landlock_ruleset_attr *const", 8, false, true, false },
	{ "\tfield:const void* p;\toffset:16;\tsize:8;\tsigned:0;", "p", "const void*", 8, false, true, false },
	{ "\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:1;", "comm", "char[16]", 16, true, false, true },
	{ "\tfield:unsigned char addr[6];\toffset:8;\tsize:6;\tsigned:0;", "addr", "unsigned char[6]", 6, false, false,
	  false },
	{ "\tfield:__u8 saddr[4];\toffset:8;\tsize:4;\tsigned:0;", "saddr", "__u8[4]", 4, false, false, false },
	{ "\tfield:char buf[];\toffset:8;\tsize:0;\tsigned:0;", "buf", "char[]", 0, false, false, true },
	{ "\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;", "name", "__data_loc char[]", 4, false,
	  false, true },
	{ "\tfield:__data_loc u8[] buf;\toffset:8;\tsize:4;\tsigned:0;", "buf", "__data_loc u8[]", 4, false, false,
	  false },
	{ "\tfield:__data_loc cpumask_t cpumask;\toffset:8;\tsize:4;\tsigned:0;", "cpumask", "__data_loc cpumask_t", 4,
	  false, false, false },
	{ "\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;", "args", "unsigned long[6]", 48, false,
	  false, false },
	{ "\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;", "pid", "pid_t", 4, true, false, false },
	{ "\tfield:signed char u;\toffset:24;\tsize:1;\tsigned:1;", "u", "signed char", 1, true, false, false },
	{ "\tfield:char c;\toffset:24;\tsize:1;\tsigned:1;", "c", "char", 1, true, false, false },
};

static void test_fake_field_table(void **state)
{
	struct fake fk;
	char text[1024];
	struct tp_format f;
	size_t i;

	(void)state;
	fake_init(&fk);
	for (i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		const struct field_case *c = &field_cases[i];
		char ev[32];

		snprintf(ev, sizeof(ev), "ev%zu", i);
		snprintf(text, sizeof(text), FMT_HEAD "%s\n" FMT_TAIL, c->line);
		fake_event(&fk, "cat", ev, text);
		assert_int_equal(syscalls_tp_format(fk.root, "cat", ev, &f), 0);
		assert_int_equal(f.nfields, 1);
		assert_string_equal(f.fields[0].name, c->name);
		assert_string_equal(f.fields[0].type, c->type);
		assert_int_equal(f.fields[0].size, c->size);
		if (f.fields[0].is_signed != c->is_signed || f.fields[0].is_pointer != c->is_pointer ||
		    f.fields[0].is_string != c->is_string)
			fail_msg("case %zu '%s': signed %d pointer %d string %d", i, c->line, f.fields[0].is_signed,
				 f.fields[0].is_pointer, f.fields[0].is_string);
	}
	fake_release(&fk);
}

static void test_fake_bad_formats(void **state)
{
	static const char *const bad[] = {
		/* no "format:" line */
		"name: ev\nID: 1\n\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;\n",
		/* no name */
		FMT_HEAD "\tfield:int ;\toffset:8;\tsize:4;\tsigned:1;\n",
		/* no ';' */
		FMT_HEAD "\tfield:int a\toffset:8\n",
		/* no size */
		FMT_HEAD "\tfield:int a;\toffset:8;\n",
		/* size not a number */
		FMT_HEAD "\tfield:int a;\toffset:8;\tsize:x;\tsigned:1;\n",
		/* unbalanced array */
		FMT_HEAD "\tfield:char a];\toffset:8;\tsize:4;\tsigned:1;\n",
		/* type longer than struct tp_field holds */
		FMT_HEAD "\tfield:struct "
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaa * a;\toffset:8;\tsize:8;\tsigned:0;\n",
		/* empty file */
		"",
	};
	struct fake fk;
	struct tp_format f;
	size_t i;

	(void)state;
	fake_init(&fk);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char ev[32];
		int rc;

		snprintf(ev, sizeof(ev), "bad%zu", i);
		fake_event(&fk, "cat", ev, bad[i]);
		rc = syscalls_tp_format(fk.root, "cat", ev, &f);
		if (rc != -EINVAL)
			fail_msg("bad format %zu: got %d", i, rc);
		assert_int_equal(f.nfields, 0);
	}
	fake_release(&fk);
}

static void test_fake_too_many_fields(void **state)
{
	struct fake fk;
	struct tp_format f;
	char *text;
	size_t cap = 64 * 1024, len;
	int i;

	(void)state;
	fake_init(&fk);
	text = malloc(cap);
	assert_non_null(text);
	len = (size_t)snprintf(text, cap, FMT_HEAD);
	for (i = 0; i < TP_FIELDS_MAX; i++)
		len += (size_t)snprintf(text + len, cap - len, "\tfield:int f%d;\toffset:%d;\tsize:4;\tsigned:1;\n", i,
					8 + 4 * i);
	fake_event(&fk, "cat", "full", text);
	assert_int_equal(syscalls_tp_format(fk.root, "cat", "full", &f), 0);
	assert_int_equal(f.nfields, TP_FIELDS_MAX);
	assert_string_equal(f.fields[TP_FIELDS_MAX - 1].name, "f63");
	snprintf(text + len, cap - len, "\tfield:int extra;\toffset:900;\tsize:4;\tsigned:1;\n");
	fake_event(&fk, "cat", "over", text);
	assert_int_equal(syscalls_tp_format(fk.root, "cat", "over", &f), -E2BIG);
	free(text);
	fake_release(&fk);
}

static void test_fake_similar_ranking(void **state)
{
	static const char *const names[] = { "openat", "open", "opened", "close", "xpen", "opxn" };
	char out[8][SYSCALLS_NAME_MAX];
	struct fake fk;
	size_t i;
	int n;

	(void)state;
	fake_init(&fk);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char ev[64];

		snprintf(ev, sizeof(ev), "sys_enter_%s", names[i]);
		fake_event(&fk, "syscalls", ev, FMT_HEAD FMT_TAIL);
		snprintf(ev, sizeof(ev), "sys_exit_%s", names[i]);
		fake_event(&fk, "syscalls", ev, FMT_HEAD FMT_TAIL);
	}
	/* ranked by distance, then the longer common prefix, then by name;
	 * "openat" and "opened" are 3 edits away, beyond max(2, 4 / 3) */
	n = syscalls_similar(fk.root, "opem", out, 8);
	assert_true(n >= 3);
	assert_string_equal(out[0], "open"); /* 1, prefix 3 */
	assert_string_equal(out[1], "opxn"); /* 2, prefix 2, "opened" is 3 */
	assert_string_equal(out[2], "xpen"); /* 2, prefix 0 */
	assert_false(list_has(out, n, "close"));
	/* equal distance and prefix: alphabetical */
	n = syscalls_similar(fk.root, "openxd", out, 8);
	assert_true(n >= 2);
	assert_true(n >= 3);
	assert_string_equal(out[0], "opened"); /* 1 */
	assert_string_equal(out[1], "open");   /* 2, prefix 4 */
	assert_string_equal(out[2], "openat"); /* 2, prefix 4, after "open" */
	/* n caps the count and keeps the best */
	n = syscalls_similar(fk.root, "opem", out, 1);
	assert_int_equal(n, 1);
	assert_string_equal(out[0], "open");
	assert_int_equal(syscalls_similar(fk.root, "opem", out, 0), 0);
	/* exit events are not syscall names of their own */
	n = syscalls_similar(fk.root, "sys_exit_open", out, 8);
	assert_false(list_has(out, n, "sys_exit_open"));
	/* fake replacement table check: open exists here, so no replacement */
	assert_null(syscalls_replacement(fk.root, "open"));
	assert_string_equal(syscalls_replacement(fk.root, "creat"), "openat");
	fake_release(&fk);
}

/* ------------------------------------------------------------------------ */
/* Existence and replacements                                               */
/* ------------------------------------------------------------------------ */

static void test_exists(void **state)
{
	(void)state;
	assert_true(syscalls_exists(TRACEFS, "read"));
	assert_true(syscalls_exists(NULL, "openat"));
	assert_false(syscalls_exists(TRACEFS, "definitely_not_a_syscall"));
	assert_false(syscalls_exists(TRACEFS, NULL));
	assert_false(syscalls_exists("/nonexistent/tracefs", "read"));
}

static void test_replacement_host(void **state)
{
	static const char *const pairs[][3] = {
		{ "stat", "newstat", "newfstatat" },
		{ "lstat", "newlstat", "newfstatat" },
		{ "fstat", "newfstat", NULL },
		{ "uname", "newuname", NULL },
		{ "open", "openat", NULL },
		{ "creat", "openat", NULL },
		{ "dup2", "dup3", NULL },
		{ "pipe", "pipe2", NULL },
		{ "select", "pselect6", NULL },
		{ "poll", "ppoll", NULL },
		{ "epoll_wait", "epoll_pwait", NULL },
		{ "fork", "clone", NULL },
		{ "getdents", "getdents64", NULL },
		{ "rename", "renameat", "renameat2" },
		{ "unlink", "unlinkat", NULL },
		{ "sendfile64", "sendfile", NULL },
		{ "sendfile", "sendfile64", NULL },
		{ "fadvise64_64", "fadvise64", NULL },
		{ "time", "clock_gettime", NULL },
		{ "sigaction", "rt_sigaction", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *want = NULL;
		const char *got = syscalls_replacement(TRACEFS, pairs[i][0]);
		int j;

		if (!host_has_syscall(pairs[i][0])) {
			for (j = 1; j < 3 && pairs[i][j] && !want; j++) {
				if (host_has_syscall(pairs[i][j]))
					want = pairs[i][j];
			}
		}
		if (!want && got)
			fail_msg("'%s': expected no replacement, got '%s'", pairs[i][0], got);
		if (want && (!got || strcmp(got, want) != 0))
			fail_msg("'%s': expected '%s', got '%s'", pairs[i][0], want, got ? got : "(null)");
	}
	assert_null(syscalls_replacement(TRACEFS, "read"));
	assert_null(syscalls_replacement(TRACEFS, "definitely_not_a_syscall"));
}

static void test_replacement_stat(void **state)
{
	const char *r = syscalls_replacement(TRACEFS, "stat");

	(void)state;
	if (access(TRACEFS "/events/syscalls/sys_enter_stat", F_OK) == 0)
		assert_null(r);
	else if (access(TRACEFS "/events/syscalls/sys_enter_newstat", F_OK) == 0)
		assert_string_equal(r, "newstat");
}

/* ------------------------------------------------------------------------ */
/* Similar names on this host                                               */
/* ------------------------------------------------------------------------ */

static void test_similar_syscalls(void **state)
{
	char out[5][SYSCALLS_NAME_MAX];
	int n;

	(void)state;
	n = syscalls_similar(TRACEFS, "opnat", out, 5);
	assert_true(n >= 1 && n <= 5);
	assert_true(list_has(out, n, "openat"));
	n = syscalls_similar(TRACEFS, "raed", out, 5);
	assert_true(list_has(out, n, "read"));
	n = syscalls_similar(TRACEFS, "zzzzzzzzzzzzzzzz", out, 5);
	assert_int_equal(n, 0);
	assert_int_equal(syscalls_similar("/nonexistent/tracefs", "read", out, 5), -ENOENT);
	assert_int_equal(syscalls_similar(TRACEFS, "", out, 5), -EINVAL);
}

static void test_similar_tracepoints(void **state)
{
	char out[5][2 * SYSCALLS_NAME_MAX];
	int n;

	(void)state;
	n = syscalls_similar_tracepoints(TRACEFS, "sched", "sched_swich", out, 5);
	assert_true(n >= 1);
	assert_string_equal(out[0], "sched_switch");
	n = syscalls_similar_tracepoints(TRACEFS, NULL, "sched_swtch", out, 5);
	assert_true(n >= 1);
	assert_true(list2_has(out, n, "sched:sched_switch"));
	n = syscalls_similar_tracepoints(TRACEFS, NULL, "shed:sched_switch", out, 5);
	assert_true(n >= 1);
	assert_string_equal(out[0], "sched:sched_switch");
	/* a category that does not exist: whole names */
	n = syscalls_similar_tracepoints(TRACEFS, "shed", "sched_switch", out, 5);
	assert_true(n >= 1);
	assert_string_equal(out[0], "sched:sched_switch");
	assert_int_equal(syscalls_similar_tracepoints(TRACEFS, "../x", "a", out, 5), -EINVAL);
}

static void test_ksym_exists(void **state)
{
	(void)state;
	assert_int_equal(syscalls_ksym_exists("vfs_read"), 1);
	assert_int_equal(syscalls_ksym_exists("schedule"), 1);
	assert_int_equal(syscalls_ksym_exists("definitely_not_a_kernel_fn_xyz"), 0);
	assert_int_equal(syscalls_ksym_exists("vfs_rea"), 0);
	assert_int_equal(syscalls_ksym_exists("vfs_read T"), 0);
	assert_int_equal(syscalls_ksym_exists(""), -EINVAL);
}

/* The time limit for one kallsyms scan: 0.5 s, more under instrumentation
 * (valgrind preloads its vgpreload_*.so; ASan is known at compile time). */
static double ksym_time_limit(void)
{
	const char *preload = getenv("LD_PRELOAD");
	double limit = 0.5;

	if (preload && strstr(preload, "vgpreload"))
		limit *= 20;
#if defined(__SANITIZE_ADDRESS__)
	limit *= 5;
#endif
	return limit;
}

static void test_similar_ksyms(void **state)
{
	char out[5][SYSCALLS_NAME_MAX];
	double t0, dt, limit = ksym_time_limit();
	int n, i;

	(void)state;
	t0 = now_sec();
	n = syscalls_similar_ksyms("vfs_raed", out, 5);
	dt = now_sec() - t0;
	print_message("syscalls_similar_ksyms(\"vfs_raed\"): %d names in %.1f ms:", n, dt * 1e3);
	for (i = 0; i < n; i++)
		print_message(" %s", out[i]);
	print_message("\n");
	assert_true(n >= 1);
	assert_string_equal(out[0], "vfs_read");
	assert_true(dt < limit);
	for (i = 0; i < n; i++)
		assert_int_equal(syscalls_ksym_exists(out[i]), 1);

	/* a long name: the worst case for the edit distance */
	t0 = now_sec();
	n = syscalls_similar_ksyms("tcp_v4_connect_and_something_longer_xx", out, 5);
	dt = now_sec() - t0;
	print_message("syscalls_similar_ksyms(long name): %d names in %.1f ms\n", n, dt * 1e3);
	assert_true(n >= 0);
	assert_true(dt < limit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_read),
		cmocka_unit_test(test_args_openat),
		cmocka_unit_test(test_args_execve_argv_not_string),
		cmocka_unit_test(test_args_no_args),
		cmocka_unit_test(test_tp_sched_switch),
		cmocka_unit_test(test_tp_missing),
		cmocka_unit_test(test_tp_invalid_names),
		cmocka_unit_test(test_fake_field_table),
		cmocka_unit_test(test_fake_bad_formats),
		cmocka_unit_test(test_fake_too_many_fields),
		cmocka_unit_test(test_fake_similar_ranking),
		cmocka_unit_test(test_exists),
		cmocka_unit_test(test_replacement_host),
		cmocka_unit_test(test_replacement_stat),
		cmocka_unit_test(test_similar_syscalls),
		cmocka_unit_test(test_similar_tracepoints),
		cmocka_unit_test(test_ksym_exists),
		cmocka_unit_test(test_similar_ksyms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
