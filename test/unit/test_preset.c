/* test_preset.c - the diagnose presets' loader: the built-in texts, and each
 * error a broken preset text gets, by file and line. */
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

#include "parser/scan.h"
#include "tracespec/preset.h"

static char dir[64];

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_preset.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return setenv("DIAGAGENT_PRESETS", dir, 1);
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	unsetenv("DIAGAGENT_PRESETS");
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.bt", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Every built-in preset loads (the text alone), stays within the probe
 * budget, and has records whose ids are its module's (10*k .. 10*k+9). */
static void test_builtin(void **state)
{
	static const char *const names[] = { "all", "dns", "errors", "exec", "fdleak", "fs", "net", "sched" };
	char err[512];

	(void)state;
	unsetenv("DIAGAGENT_PRESETS");
	assert_int_equal(preset_count(), 8);
	for (int i = 0; i < 8; i++) {
		struct preset *p = NULL;
		struct event_layout *l;

		assert_string_equal(preset_name(i), names[i]);
		if (preset_load(names[i], NULL, &p, err, sizeof(err)) != 0)
			fail_msg("%s: %s", names[i], err);
		assert_non_null(p->title);
		assert_true(p->nprobes > 0 && p->nprobes <= PRESET_PROBE_BUDGET);
		assert_non_null(strstr(p->program, "print((\"attached\", nsecs));"));
		/* one BEGIN and one END, whatever is included */
		assert_null(strstr(strstr(p->program, "\nBEGIN\n") + 1, "\nBEGIN\n"));
		assert_null(strstr(strstr(p->program, "\nEND\n") + 1, "\nEND\n"));
		l = preset_layout(p);
		assert_non_null(l);
		for (int r = 0; r < p->nrecords; r++) {
			assert_true(l->probes[p->records[r].id].ncols == p->records[r].nfields);
			assert_true(LAYOUT_HEADER + p->records[r].nfields <= SCAN_MAX_VALUES);
		}
		layout_free(l);
		preset_free(p);
	}
	setenv("DIAGAGENT_PRESETS", dir, 1);
}

/* all is errors, exec, sched and net together: their records, each once. */
static void test_all_includes(void **state)
{
	struct preset *p = NULL;
	char err[512];

	(void)state;
	assert_int_equal(preset_load("all", NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p->nincludes, 4);
	assert_string_equal(p->includes[0], "errors");
	assert_string_equal(p->includes[3], "net");
	assert_non_null(preset_record(p, 70));
	assert_non_null(preset_record(p, 40));
	assert_non_null(preset_record(p, 21));
	assert_null(preset_record(p, 10));
	/* the #defines come first, once each */
	assert_int_equal(strncmp(p->program, "#define ", 8), 0);
	assert_null(strstr(strstr(p->program, "#define IN_SCOPE ") + 1, "#define IN_SCOPE "));
	preset_free(p);
}

static const char good[] =
	"//@preset %s\n"
	"//@title A test preset\n"
	"//@record 10 one a b:str\n"
	"BEGIN\n{\n\t@__t0 = nsecs;\n\tprint((\"attached\", nsecs));\n}\n"
	"tracepoint:syscalls:sys_enter_read\n{\n\tprint((nsecs, cpu, pid, tid, uid, comm, 10, 1, \"x\"));\n}\n"
	"END\n{\n\tdelete(@__t0);\n}\n";

static void test_good_and_optional(void **state)
{
	char text[2048], err[512];
	struct preset *p = NULL;
	struct preset_host h = { "/sys/kernel/tracing", true, true };

	(void)state;
	snprintf(text, sizeof(text), good, "tgood");
	put("tgood", text);
	assert_int_equal(preset_load("tgood", NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p->nrecords, 1);
	assert_int_equal(preset_field(preset_record(p, 10), "b"), 1);
	assert_true(preset_record(p, 10)->fields[1].is_string);
	preset_free(p);

	/* an optional attach point the kernel lacks is left out; a missing one
	 * without the mark makes the preset unrunnable here */
	put("topt", "//@preset topt\n//@title t\n"
		    "BEGIN\n{\n\t@__t0 = nsecs;\n\tprint((\"attached\", nsecs));\n}\n"
		    "tracepoint:syscalls:sys_enter_nosuchcall,   // optional\n"
		    "tracepoint:syscalls:sys_enter_read\n{\n\t@x = count();\n}\n");
	if (access("/sys/kernel/tracing/events/syscalls/sys_enter_read", F_OK) == 0) {
		assert_int_equal(preset_load("topt", &h, &p, err, sizeof(err)), 0);
		assert_null(strstr(p->program, "nosuchcall"));
		assert_int_equal(p->nprobes, 1);
		preset_free(p);
		put("tmiss", "//@preset tmiss\n//@title t\n"
			     "BEGIN\n{\n\t@__t0 = nsecs;\n\tprint((\"attached\", nsecs));\n}\n"
			     "tracepoint:syscalls:sys_enter_nosuchcall\n{\n\t@x = count();\n}\n");
		assert_int_equal(preset_load("tmiss", &h, &p, err, sizeof(err)), -ENODEV);
		assert_string_equal(err, "this kernel has no tracepoint syscalls:sys_enter_nosuchcall");
	}
}

/* Each broken text: the load fails with its file, line and what is wrong. */
static void test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *error;
	} cases[] = {
		{ "//@preset tbad\n//@recrd 10 x a\n", "tbad.bt:2: unknown directive '//@recrd'" },
		{ "//@preset other\n", "tbad.bt:1: the file says it is preset 'other'" },
		{ "//@preset tbad\n//@record 10 x a\n//@record 10 y b\n", "tbad.bt:3: record 10 is declared twice" },
		{ "//@preset tbad\n//@record 200 x a\n",
		  "tbad.bt:2: //@record wants an id (0..127), a name and fields" },
		{ "//@preset tbad\n//@record 10 x a:int\n", "tbad.bt:2: field 'a:int': the only type is ':str'" },
		{ "//@preset tbad\n//@record 10 x a a\n", "tbad.bt:2: bad or repeated field name 'a'" },
		{ "//@preset tbad\n//@library c malloc\n", "tbad.bt:2: //@library wants libNAME and its symbols" },
		{ "//@preset tbad\n//@include nosuch\n", "tbad.bt:2: no preset 'nosuch' to include" },
		{ "//@preset tbad\n//@if tracepoint a:b\n//@if tracepoint c:d\n", "tbad.bt:3: //@if cannot nest" },
		{ "//@preset tbad\n//@endif\n", "tbad.bt:2: //@endif without //@if" },
		{ "//@preset tbad\n//@if tracepoint a:b\n", "tbad.bt: //@if without //@endif" },
		{ "//@preset tbad\n//@title t\nkprobe:vfs_read { }\n",
		  "tbad.bt:3: 'kprobe:vfs_read': presets use tracepoints and uprobes only" },
		{ "//@preset tbad\n#define X 1\n#define X 2\n", "tbad.bt:3: X is defined differently in tbad.bt" },
		{ "//@preset tbad\n//@title t\ntracepoint:syscalls:sys_enter_read { }\n",
		  "tbad.bt: no BEGIN block (it sets @__t0 and prints the attach marker)" },
		{ "//@preset tbad\n", "tbad.bt: no //@title" },
		{ "//@preset tbad\n//@title t\nBEGIN\n{\n\tprint((\"attached\", nsecs));\n}\n"
		  "tracepoint:syscalls:sys_enter_read { }\n",
		  "tbad.bt: BEGIN must set @__t0 = nsecs and print((\"attached\", nsecs))" },
		{ "//@preset tbad\n//@title t\n//@record 10 x a\n"
		  "BEGIN\n{\n\t@__t0 = nsecs;\n\tprint((\"attached\", nsecs));\n}\n"
		  "tracepoint:syscalls:sys_enter_read\n{\n\tprint((nsecs, cpu, pid, tid, uid, comm, 10, 1, (2, "
		  "3)));\n}\n",
		  "tbad.bt: line 11: record 10 (x) prints 2 values; //@record says 1" },
		{ "//@preset tbad\n//@title t\n"
		  "BEGIN\n{\n\t@__t0 = nsecs;\n\tprint((\"attached\", nsecs));\n}\n"
		  "tracepoint:syscalls:sys_enter_read\n{\n\tprint((nsecs, cpu, pid, tid, uid, comm, 11, 1));\n}\n",
		  "tbad.bt: line 10: record 11 has no //@record" },
		{ "//@preset tbad\n//@title t\nBEGIN\n{\n", "tbad.bt: a BEGIN or END block without its closing '}'" },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct preset *p = NULL;
		int rc;

		put("tbad", cases[i].text);
		rc = preset_load("tbad", NULL, &p, err, sizeof(err));
		if (rc != -EINVAL || strcmp(err, cases[i].error) != 0)
			fail_msg("case %zu: rc %d, '%s'; wanted '%s'", i, rc, err, cases[i].error);
		assert_null(p);
	}
}

static void test_unknown(void **state)
{
	struct preset *p = NULL;
	char err[512];

	(void)state;
	assert_int_equal(preset_load("disk", NULL, &p, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "no preset 'disk' (there are: all, dns, errors, exec, fdleak, fs, net, sched)");
	assert_int_equal(preset_load("../etc/passwd", NULL, &p, err, sizeof(err)), -ENOENT);
	assert_null(p);
}

/* An included preset's BEGIN goes, its END body joins the one END. */
static void test_include_merge(void **state)
{
	char text[2048], err[512];
	struct preset *p = NULL;

	(void)state;
	snprintf(text, sizeof(text), good, "tinc");
	put("tinc", text);
	put("ttop", "//@preset ttop\n//@title top\n"
		    "BEGIN\n{\n\t@__t0 = nsecs;\n\tprint((\"attached\", nsecs));\n}\n"
		    "//@include tinc\n"
		    "END\n{\n\tdelete(@__t0);\n\tclear(@top);\n}\n");
	assert_int_equal(preset_load("ttop", NULL, &p, err, sizeof(err)), 0);
	assert_string_equal(p->title, "top");
	assert_non_null(preset_record(p, 10));
	assert_non_null(strstr(p->program, "\nEND\n{\n\tdelete(@__t0);\n\tclear(@top);\n}\n"));
	preset_free(p);
	put("tnest", "//@preset tnest\n//@include ttop\n");
	assert_int_equal(preset_load("tnest", NULL, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "ttop.bt:8: an included preset cannot include another");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),		  cmocka_unit_test(test_all_includes),
		cmocka_unit_test(test_good_and_optional), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unknown),		  cmocka_unit_test(test_include_merge),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
