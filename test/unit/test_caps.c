/* test_caps.c - unit tests for the capability probe: parsers and schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/caps.h"

static void test_version_017(void **state)
{
	struct caps c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(caps_parse_bpftrace_version(&c, "bpftrace v0.17.0\n"), 0);
	assert_string_equal(c.bpftrace.version, "0.17.0");
	assert_int_equal(c.bpftrace.major, 0);
	assert_int_equal(c.bpftrace.minor, 17);
}

static void test_version_git_suffix(void **state)
{
	struct caps c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(caps_parse_bpftrace_version(&c, "bpftrace v0.26.1-12-gabcdef\n"), 0);
	assert_string_equal(c.bpftrace.version, "0.26.1");
	assert_int_equal(c.bpftrace.minor, 26);
	assert_int_equal(c.bpftrace.patch, 1);
}

static void test_version_garbage(void **state)
{
	struct caps c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(caps_parse_bpftrace_version(&c, "command not found"), -22);
	assert_string_equal(c.bpftrace.version, "");
	assert_int_equal(caps_parse_bpftrace_version(&c, ""), -22);
}

static void test_info_highlights(void **state)
{
	static const char info[] = "System\n  OS: Linux 6.1\n\nBuild\n  version: v0.17.0\n  LLVM: 14.0.6\n"
				   "Kernel features\n  btf: yes\n  Loop support: yes\n"
				   "Probe types\n  kprobe: yes\n  tracepoint: yes\n  kfunc: no\n";
	struct caps c;

	memset(&c, 0, sizeof(c));
	caps_parse_bpftrace_info(&c, info);
	assert_string_equal(caps_bpftrace_info(&c, "LLVM"), "14.0.6");
	assert_string_equal(caps_bpftrace_info(&c, "kfunc"), "no");
	assert_string_equal(caps_bpftrace_info(&c, "Loop support"), "yes");
	assert_null(caps_bpftrace_info(&c, "OS")); /* not a highlight */
	assert_null(caps_bpftrace_info(&c, "missing"));
}

static void test_info_bounded(void **state)
{
	struct caps c;
	char *big = malloc(64 * 1024);
	size_t n = 0;

	assert_non_null(big);
	while (n + 16 < 64 * 1024)
		n += (size_t)sprintf(big + n, "  kprobe: yes\n");
	memset(&c, 0, sizeof(c));
	caps_parse_bpftrace_info(&c, big);
	assert_true(c.bpftrace.ninfo <= CAPS_INFO_MAX);
	free(big);
}

/* The real probe: facts that are checkable from here, and the JSON schema. */
static void test_probe_schema(void **state)
{
	struct caps c;
	struct utsname u;
	json_t *j;

	caps_probe(&c);
	assert_int_equal(uname(&u), 0);
	assert_string_equal(c.kernel_release, u.release);
	assert_int_equal(c.priv.euid, geteuid());
	for (int i = 0; i < CAPS_PROBE_KINDS; i++) {
		assert_true(c.probe[i].state >= CAPS_UNKNOWN && c.probe[i].state <= CAPS_YES);
		assert_true(c.probe[i].detail[0] != '\0');
		assert_int_equal(caps_can_attach(&c, i), c.probe[i].state == CAPS_YES);
	}
	j = caps_to_json(&c);
	assert_non_null(j);
	for (int i = 0; i < CAPS_PROBE_KINDS; i++) {
		json_t *p = json_object_get(json_object_get(j, "probes"), caps_probe_name(i));

		assert_non_null(p);
		assert_true(json_is_boolean(json_object_get(p, "available")));
	}
	assert_true(json_is_boolean(json_object_get(json_object_get(j, "btf"), "available")));
	assert_true(json_is_boolean(json_object_get(json_object_get(j, "tracefs"), "mounted")));
	assert_true(json_is_boolean(json_object_get(json_object_get(j, "bpftrace"), "found")));
	assert_true(json_is_integer(json_object_get(json_object_get(j, "privileges"), "euid")));
	json_decref(j);
}

static void test_probe_names(void **state)
{
	assert_string_equal(caps_probe_name(CAPS_TRACEPOINT), "tracepoint");
	assert_string_equal(caps_probe_name(CAPS_KFUNC), "kfunc");
	assert_string_equal(caps_probe_name(CAPS_PROBE_KINDS), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_017),	cmocka_unit_test(test_version_git_suffix),
		cmocka_unit_test(test_version_garbage), cmocka_unit_test(test_info_highlights),
		cmocka_unit_test(test_info_bounded),	cmocka_unit_test(test_probe_schema),
		cmocka_unit_test(test_probe_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
