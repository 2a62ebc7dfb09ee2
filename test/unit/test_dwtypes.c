/* test_dwtypes.c - unit tests for struct types from a binary's DWARF, and the
 * code generator's checks of a uprobe's structs with them: this test binary
 * (built with -g) is the traced binary, dw_sample its struct. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test/unit/procmaps.h"

#include "tracespec/codegen.h"
#include "tracespec/dwtypes.h"

struct dw_sample {
	int alpha;
	union {
		long beta;
		int gamma;
	};
	char name[8];
	int *ip;
	void *opaque;
	struct dw_sample *next;
	struct dw_sample **pp;
};

int dw_target(struct dw_sample *s);

/* The uprobe target: its parameter puts struct dw_sample in the DWARF. */
__attribute__((noinline)) int dw_target(struct dw_sample *s)
{
	return s ? s->alpha : 0;
}

static char self[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	return realpath("/proc/self/exe", self) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dwtypes_release();
	return 0;
}

static void test_struct_check(void **state)
{
	(void)state;
	assert_int_equal(dwtypes_struct_check(self, "dw_sample"), 1);
	assert_int_equal(dwtypes_struct_check(self, "no_such_struct_here"), 0);
	assert_true(dwtypes_struct_check("/etc/hostname", "dw_sample") < 0);
	assert_true(dwtypes_struct_check("/no/such/file", "dw_sample") < 0);
	/* and back: the kept DWARF follows the binary asked about */
	assert_int_equal(dwtypes_struct_check(self, "dw_sample"), 1);
}

static void test_member_types(void **state)
{
	static const struct {
		const char *member;
		int rc;
		enum ktype_kind kind;
		int stars;
		const char *name;
		bool plain;
	} cases[] = {
		{ "alpha", 1, KT_INT, 0, "", false },
		{ "beta", 1, KT_INT, 0, "", false }, /* in an anonymous union */
		{ "name", 1, KT_STRING, 0, "", false },
		{ "ip", 1, KT_PTR, 1, "", true },
		{ "opaque", 1, KT_PTR, 1, "", true },
		{ "next", 1, KT_PTR, 1, "dw_sample", false },
		{ "pp", 1, KT_PTR, 2, "dw_sample", false },
		{ "nosuch", 0, KT_UNKNOWN, 0, "", false },
	};
	struct ktype t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = dwtypes_member_type(self, "dw_sample", cases[i].member, &t);

		if (rc != cases[i].rc ||
		    (rc == 1 && (t.kind != cases[i].kind || t.stars != cases[i].stars ||
				 strcmp(t.name, cases[i].name) != 0 || t.plain != cases[i].plain || !t.user)))
			fail_msg("'%s': rc %d kind %d stars %d name '%s' plain %d user %d", cases[i].member, rc, t.kind,
				 t.stars, t.name, t.plain, t.user);
	}
	assert_int_equal(dwtypes_member_type(self, "no_such_struct_here", "alpha", &t), -ENOENT);
}

/* Generate spec text as a uprobe on this binary: 0, or the error. */
static int generate(const char *fmt, char *msg, size_t size)
{
	static const struct lower_env env = { .tracefs = "/sys/kernel/tracing", .can_uprobe = true };
	struct codegen_result res = { 0 };
	struct trace_spec *s = NULL;
	struct spec_error err;
	struct trace_opts o;
	char text[PATH_MAX + 256];
	int rc, bad;

	snprintf(text, sizeof(text), fmt, self);
	rc = spec_parse(text, &s, &err);
	if (rc == 0) {
		trace_opts_init(&o);
		rc = codegen_emit(&s, 1, &o, &env, &res, &err, &bad);
	}
	snprintf(msg, size, "%s", rc ? err.msg : "");
	codegen_release(&res);
	spec_free(s);
	return rc;
}

static void test_uprobe_structs(void **state)
{
	static const struct {
		const char *spec;
		const char *error; /* NULL: generated */
	} cases[] = {
		{ "p:%s:dw_target \"%%d %%s\", ((struct dw_sample *)arg1)->alpha, ((struct dw_sample *)arg1)->name",
		  NULL },
		{ "p:%s:dw_target \"%%d\", ((struct dw_sample *)arg1)->next->beta", NULL },
		{ "p:%s:dw_target(struct dw_sample *s) \"%%d\", s->next->gamma", NULL },
		{ "p:%s:dw_target (((struct dw_sample *)arg1)->ip != 0)", NULL },
		{ "p:%s:dw_target \"%%d\", ((struct sock *)arg1)->sk_mark", NULL }, /* the kernel's, from BTF */
		{ "p:%s:dw_target ($task->pid > 1)", NULL },
		{ "p:%s:dw_target \"%%d\", ((struct dw_sample *)arg1)->nosuch",
		  "struct dw_sample has no member 'nosuch'" },
		{ "p:%s:dw_target(struct dw_sample *s) \"%%d\", s->next->nosuch",
		  "struct dw_sample has no member 'nosuch'" },
		{ "p:%s:dw_target \"%%d\", ((struct dw_sample *)arg1)->ip->x", "'->' needs a pointer to a struct" },
		{ "p:%s:dw_target \"%%d\", ((struct dw_sample *)arg1)->alpha.x", "an integer cannot be used with '.'" },
		{ "p:%s:dw_target \"%%d\", (struct no_such_struct_here *)arg1", "nor the kernel has struct" },
		{ "p:%s:dw_target(struct no_such_struct_here *s) \"%%d\", s", "nor the kernel has struct" },
		{ "p:%s:dw_target ($task->nosuch > 1)", "struct task_struct has no member 'nosuch'" },
	};
	char msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = generate(cases[i].spec, msg, sizeof(msg));

		if (cases[i].error ? rc != -EINVAL || !strstr(msg, cases[i].error) : rc != 0)
			fail_msg("'%s': rc %d '%s', want '%s'", cases[i].spec, rc, msg,
				 cases[i].error ? cases[i].error : "generated");
	}
}

/* Run a shell command built from fmt; its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/*
 * A stripped binary finds its DWARF in a separate file by .gnu_debuglink, next
 * to it or in .debug/ beside it; without one it has none, and looking never
 * loads libdebuginfod (whose client would download debug info).
 */
static void test_separate_debug_file(void **state)
{
	char dir[] = "/tmp/dwtypes.XXXXXX", bin[PATH_MAX], lib[PATH_MAX];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(bin, sizeof(bin), "%s/stripped", dir);
	assert_int_equal(sh("objcopy --only-keep-debug '%s' '%s/stripped.debug' && "
			    "cd '%s' && objcopy --strip-debug --add-gnu-debuglink=stripped.debug '%s' stripped",
			    self, dir, dir, self),
			 0);
	dwtypes_release();
	assert_int_equal(dwtypes_struct_check(bin, "dw_sample"), 1);

	assert_int_equal(sh("mkdir '%s/.debug' && mv '%s/stripped.debug' '%s/.debug/'", dir, dir, dir), 0);
	dwtypes_release();
	assert_int_equal(dwtypes_struct_check(bin, "dw_sample"), 1);

	assert_int_equal(sh("rm '%s/.debug/stripped.debug'", dir), 0);
	dwtypes_release();
	assert_int_equal(dwtypes_struct_check(bin, "dw_sample"), -ENODATA);
	assert_false(procmaps_lib((const char *const[]){ "libdebuginfod", NULL }, lib));

	dwtypes_release();
	assert_int_equal(sh("rm -r '%s'", dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_struct_check),
		cmocka_unit_test(test_member_types),
		cmocka_unit_test(test_uprobe_structs),
		cmocka_unit_test(test_separate_debug_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
