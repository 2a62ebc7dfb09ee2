/* procfd.c - descriptor counts and targets from /proc. */
#include "agent/procfd.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/sysfs.h"

static long count_fds(long pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	long n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int add(struct diag_fdsnap *s, size_t *cap, long pid)
{
	struct diag_fdcount *c;
	char path[64], comm[sizeof(s->v[0].comm)];
	long n = count_fds(pid);

	if (n < 0)
		return 0;
	if (s->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct diag_fdcount *nv = realloc(s->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		*cap = ncap;
	}
	c = &s->v[s->n++];
	c->pid = pid;
	c->count = n;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if (sysfs_read(path, comm, sizeof(comm)) < 0)
		comm[0] = '\0';
	snprintf(c->comm, sizeof(c->comm), "%s", comm);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct diag_fdcount *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

int procfd_snapshot(long only_pid, struct diag_fdsnap *out)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (only_pid > 0)
		return add(out, &cap, only_pid);
	d = opendir("/proc");
	if (!d)
		return 0;
	while (rc == 0 && (de = readdir(d))) {
		if (isdigit((unsigned char)de->d_name[0]))
			rc = add(out, &cap, strtol(de->d_name, NULL, 10));
	}
	closedir(d);
	if (rc < 0) {
		procfd_release(out);
		return rc;
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_pid);
	return 0;
}

void procfd_release(struct diag_fdsnap *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int procfd_target(void *ud, long pid, long fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	(void)ud;
	snprintf(path, sizeof(path), "/proc/%ld/fd/%ld", pid, fd);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	buf[n] = '\0';
	return 1;
}

bool procfd_alive(void *ud, long pid)
{
	char path[64], buf[512];
	const char *paren;

	(void)ud;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (sysfs_read(path, buf, sizeof(buf)) < 0)
		return false;
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z';
}
