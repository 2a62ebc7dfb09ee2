/* test_sysfs.c - unit tests for the /proc and /sys readers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/sysfs.h"

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/diag-sysfs-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_read_strips_newlines(void **state)
{
	char *p = write_tmp("hello\n\n");
	char buf[32];

	assert_int_equal(sysfs_read(p, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	unlink(p);
	free(p);
}

static void test_read_caps_length(void **state)
{
	char *p = write_tmp("0123456789");
	char buf[5];

	assert_int_equal(sysfs_read(p, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "0123");
	unlink(p);
	free(p);
}

static void test_read_missing(void **state)
{
	char buf[8] = "junk";

	assert_int_equal(sysfs_read("/nonexistent/diag", buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "");
}

static void test_read_long(void **state)
{
	char *p = write_tmp("2\n"), *q = write_tmp("abc");
	long v = 0;

	assert_int_equal(sysfs_read_long(p, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(sysfs_read_long(q, &v), -EINVAL);
	unlink(p);
	unlink(q);
	free(p);
	free(q);
}

static void test_find_mount(void **state)
{
	char *p = write_tmp("22 1 0:21 / /proc rw,relatime shared:12 - proc proc rw\n"
			    "30 22 0:26 / /sys/kernel/my\\040tracing rw,relatime - tracefs nodev rw\n"
			    "31 22 0:27 / /sys/kernel/debug rw - debugfs nodev rw\n");
	char dir[64];

	assert_int_equal(sysfs_find_mount(p, "tracefs", dir, sizeof(dir)), 1);
	assert_string_equal(dir, "/sys/kernel/my tracing");
	assert_int_equal(sysfs_find_mount(p, "debugfs", dir, sizeof(dir)), 1);
	assert_string_equal(dir, "/sys/kernel/debug");
	assert_int_equal(sysfs_find_mount(p, "securityfs", dir, sizeof(dir)), 0);
	assert_int_equal(sysfs_find_mount("/nonexistent", "tracefs", dir, sizeof(dir)), -ENOENT);
	unlink(p);
	free(p);
}

static void test_find_mount_real(void **state)
{
	char dir[256];

	/* /proc is always mounted where this test can run at all. */
	assert_int_equal(sysfs_find_mount(NULL, "proc", dir, sizeof(dir)), 1);
	assert_string_equal(dir, "/proc");
}

static void test_selected(void **state)
{
	char out[16];

	assert_int_equal(sysfs_selected("none [integrity] confidentiality", out, sizeof(out)), 0);
	assert_string_equal(out, "integrity");
	assert_int_equal(sysfs_selected("[none] integrity", out, sizeof(out)), 0);
	assert_string_equal(out, "none");
	assert_int_equal(sysfs_selected("none integrity", out, sizeof(out)), -ENOENT);
	assert_int_equal(sysfs_selected("broken [open", out, sizeof(out)), -ENOENT);
	assert_int_equal(sysfs_selected("[averyveryverylongword]", out, 5), 0);
	assert_string_equal(out, "aver");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_strips_newlines),
		cmocka_unit_test(test_read_caps_length),
		cmocka_unit_test(test_read_missing),
		cmocka_unit_test(test_read_long),
		cmocka_unit_test(test_find_mount),
		cmocka_unit_test(test_find_mount_real),
		cmocka_unit_test(test_selected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
