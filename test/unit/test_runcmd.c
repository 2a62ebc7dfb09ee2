/* test_runcmd.c - unit tests for short helper commands with a deadline. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/runcmd.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_captures_both_streams(void **state)
{
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct runcmd_result r;

	assert_int_equal(runcmd_capture(argv, 5000, 1024, &r), 0);
	assert_int_equal(r.exit_code, 3);
	assert_false(r.timed_out);
	assert_false(r.truncated);
	assert_non_null(strstr(r.out, "out\n"));
	assert_non_null(strstr(r.out, "err\n"));
	runcmd_release(&r);
	runcmd_release(&r); /* released twice: a no-op */
}

static void test_signal_exit(void **state)
{
	char *argv[] = { "sh", "-c", "kill -9 $$", NULL };
	struct runcmd_result r;

	assert_int_equal(runcmd_capture(argv, 5000, 64, &r), 0);
	assert_int_equal(r.exit_code, 128 + SIGKILL);
	runcmd_release(&r);
}

static void test_missing_program(void **state)
{
	char *argv[] = { "/nonexistent/diag-no-such-program", NULL };
	struct runcmd_result r;

	assert_int_equal(runcmd_capture(argv, 5000, 64, &r), -ENOENT);
	assert_null(r.out);
}

static void test_truncates_but_drains(void **state)
{
	char *argv[] = { "sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x", NULL };
	struct runcmd_result r;

	assert_int_equal(runcmd_capture(argv, 5000, 10, &r), 0);
	assert_int_equal(r.len, 10);
	assert_true(r.truncated);
	assert_string_equal(r.out, "xxxxxxxxxx");
	assert_int_equal(r.exit_code, 0); /* drained, so the writer was never stuck */
	runcmd_release(&r);
}

/* A deadline kills the whole process group, grandchildren included. */
static void test_deadline_kills_group(void **state)
{
	char *argv[] = { "sh", "-c", "sleep 30 & echo $!; sleep 30", NULL };
	struct runcmd_result r;
	double t0 = now_s();
	long grandchild;

	assert_int_equal(runcmd_capture(argv, 300, 64, &r), 0);
	assert_true(now_s() - t0 < 5.0);
	assert_true(r.timed_out);
	assert_int_equal(r.exit_code, 128 + SIGKILL);
	grandchild = strtol(r.out, NULL, 10);
	assert_true(grandchild > 1);
	/* reaped by init after the kill; give it a moment to disappear */
	for (int i = 0; i < 200 && kill((pid_t)grandchild, 0) == 0; i++)
		usleep(10000);
	assert_int_equal(kill((pid_t)grandchild, 0), -1);
	runcmd_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captures_both_streams), cmocka_unit_test(test_signal_exit),
		cmocka_unit_test(test_missing_program),	      cmocka_unit_test(test_truncates_but_drains),
		cmocka_unit_test(test_deadline_kills_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
