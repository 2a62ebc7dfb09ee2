/* smallfs.h - a small, real filesystem for the spool's unit tests: a tmpfs
 * of a given size mounted on a test's directory, filled to the last byte,
 * made read-only and writable again. mount(2) needs root (CAP_SYS_ADMIN):
 * where it is refused, smallfs_mount() says so and the test skips.
 * Include after <cmocka.h>.
 */
#ifndef DIAG_TEST_SMALLFS_H
#define DIAG_TEST_SMALLFS_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define SMALLFS_FILL "fill"

/* Mount a tmpfs of size bytes on dir (created 0700). Returns 0, or skips
 * the test where mounting is not allowed here; fails it on other errors. */
static inline int smallfs_mount(const char *dir, long size)
{
	char opts[64];

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		fail_msg("mkdir '%s': %s", dir, strerror(errno));
	snprintf(opts, sizeof(opts), "size=%ld,mode=0700", size);
	if (mount("tmpfs", dir, "tmpfs", 0, opts) < 0) {
		if (errno == EPERM) {
			print_message("cannot mount a tmpfs here (%s): needs root\n", strerror(errno));
			skip();
		}
		fail_msg("mount tmpfs on '%s': %s", dir, strerror(errno));
	}
	return 0;
}

/* Unmount dir if something is mounted there (teardown: after a failure too). */
static inline void smallfs_umount(const char *dir)
{
	umount2(dir, MNT_DETACH);
}

/* Fill dir's filesystem: one file of 4 KiB blocks until the write fails
 * with ENOSPC. Then no byte of a new file fits. */
static inline void smallfs_fill(const char *dir)
{
	static const char block[4096];
	char path[512];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/" SMALLFS_FILL, dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		fail_msg("open '%s': %s", path, strerror(errno));
	do
		n = write(fd, block, sizeof(block));
	while (n > 0);
	if (n == 0 || errno != ENOSPC)
		fail_msg("filling '%s' ended with %s, not ENOSPC", path, n == 0 ? "a zero write" : strerror(errno));
	/* the last partial block too */
	while (write(fd, block, 1) == 1)
		;
	close(fd);
}

/* Give the space back. */
static inline void smallfs_unfill(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/" SMALLFS_FILL, dir);
	if (unlink(path) < 0)
		fail_msg("unlink '%s': %s", path, strerror(errno));
}

/* Remount dir read-only (ro true) or read-write. */
static inline void smallfs_readonly(const char *dir, bool ro)
{
	if (mount("tmpfs", dir, "tmpfs", MS_REMOUNT | (ro ? MS_RDONLY : 0), NULL) < 0)
		fail_msg("remount '%s' %s: %s", dir, ro ? "ro" : "rw", strerror(errno));
}

#endif /* DIAG_TEST_SMALLFS_H */
