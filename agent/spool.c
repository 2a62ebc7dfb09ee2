/* spool.c - durable files in the agent's spool directory. */
#include "agent/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int mkdir_parents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int spool_open_dir(const char *path, char *err, size_t size)
{
	char *copy = strdup(path);
	struct stat st;
	int fd = -1, rc;

	if (!copy) {
		snprintf(err, size, "out of memory");
		return -ENOMEM;
	}
	rc = mkdir_parents(copy);
	free(copy);
	if (rc < 0) {
		snprintf(err, size, "cannot create '%s': %s", path, strerror(-rc));
		return rc;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, size, "cannot open '%s': %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, size, "cannot stat '%s': %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	/* Another user could read results and plant jobs in it. */
	if (st.st_uid != geteuid()) {
		snprintf(err, size, "'%s' is owned by uid %u, not by the agent (uid %u)", path, (unsigned)st.st_uid,
			 (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	if ((st.st_mode & 077) && fchmod(fd, 0700) < 0) {
		rc = -errno;
		snprintf(err, size, "cannot make '%s' private (0700): %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int spool_write(int dirfd, const char *name, const void *data, size_t len)
{
	char tmp[512];
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	/* The rename itself must survive a crash. */
	if (fsync(dirfd) < 0)
		return -errno;
	return 0;
}

int spool_read(int dirfd, const char *name, size_t max, char **data, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc = 0;

	*data = NULL;
	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto cleanup;
	}
	/* A file someone else put here (while the directory was open to
	 * others) is not ours to trust; one of ours left readable is tightened. */
	if (st.st_uid != geteuid()) {
		rc = -EPERM;
		goto cleanup;
	}
	if ((st.st_mode & 077) && fchmod(fd, 0600) < 0) {
		rc = -errno;
		goto cleanup;
	}
	if ((size_t)st.st_size > max) {
		rc = -EFBIG;
		goto cleanup;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto cleanup;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
cleanup:
	free(buf);
	close(fd);
	return rc;
}

int spool_remove(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

#define PROBE_FILE ".probe.tmp" /* a leftover is removed at open, like every .tmp */

int spool_probe(int dirfd)
{
	int rc = spool_write(dirfd, PROBE_FILE, "x", 1);

	if (rc == 0)
		rc = spool_remove(dirfd, PROBE_FILE);
	return rc;
}

const char *spool_hint(int err)
{
	switch (-err) {
	case ENOSPC:
		return "free space on the filesystem that holds spool_dir (df -h shows it)";
	case EDQUOT:
		return "raise the disk quota of the agent's user, or free space in spool_dir's filesystem";
	case EROFS:
		return "the filesystem is read-only (the kernel remounts it so after disk errors: see dmesg); "
		       "remount it read-write (mount -o remount,rw)";
	case EACCES:
	case EPERM:
		return "give the agent's user write permission on spool_dir (owner, mode 0700)";
	case EIO:
		return "the disk reports I/O errors: see dmesg";
	case ENOENT:
		return "the directory was removed: restart the agent to create it again";
	case EMFILE:
	case ENFILE:
		return "too many open files: raise the limit (LimitNOFILE)";
	default:
		return "check the filesystem that holds spool_dir (df -h, dmesg)";
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void spool_failed(struct spool_health *h, int err)
{
	int64_t now = now_ms();

	if (!h->err) {
		h->since_ms = now;
		h->delay_ms = SPOOL_RETRY_MIN_MS;
	}
	h->err = err;
	h->retry_ms = now + h->delay_ms;
	h->delay_ms = h->delay_ms * 2 > SPOOL_RETRY_MAX_MS ? SPOOL_RETRY_MAX_MS : h->delay_ms * 2;
}

void spool_recovered(struct spool_health *h)
{
	*h = (struct spool_health){ 0 };
}

long spool_retry_in(const struct spool_health *h)
{
	int64_t left;

	if (!h->err)
		return -1;
	left = h->retry_ms - now_ms();
	return left > 0 ? (long)left : 0;
}
