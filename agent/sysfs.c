/* sysfs.c - small readers for /proc, /sys and tracefs files. */
#include "agent/sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sysfs_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	size_t len = 0;
	int fd;

	if (size == 0)
		return -EINVAL;
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;
			close(fd);
			buf[0] = '\0';
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	return (int)len;
}

int sysfs_read_long(const char *path, long *val)
{
	char buf[64], *end;
	int rc = sysfs_read(path, buf, sizeof(buf));

	if (rc < 0)
		return rc;
	errno = 0;
	*val = strtol(buf, &end, 10);
	if (end == buf || errno)
		return -EINVAL;
	return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(const char *in, char *out, size_t size)
{
	size_t o = 0;

	while (*in && o + 1 < size) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' && in[3] >= '0' &&
		    in[3] <= '7') {
			out[o++] = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 4;
		} else {
			out[o++] = *in++;
		}
	}
	out[o] = '\0';
}

int sysfs_find_mount(const char *mountinfo, const char *fstype, char *dir, size_t size)
{
	FILE *f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return -errno;
	while (!found) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype src super */
		char *sep, *save = NULL, *tok, *mnt = NULL;
		int field = 0;

		errno = 0;
		if (getline(&line, &cap, f) < 0) {
			found = errno == ENOMEM ? -ENOMEM : 0; /* out of memory is not "not mounted" */
			break;
		}
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		tok = strtok_r(sep + 3, " \n", &save);
		if (!tok || strcmp(tok, fstype) != 0)
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			if (++field == 5) {
				mnt = tok;
				break;
			}
		if (mnt) {
			unescape_octal(mnt, dir, size);
			found = 1;
		}
	}
	free(line);
	(void)fclose(f); /* read only */
	return found;
}

int sysfs_selected(const char *line, char *out, size_t size)
{
	const char *open = strchr(line, '['), *close;
	size_t len;

	if (!open)
		return -ENOENT;
	close = strchr(open, ']');
	if (!close)
		return -ENOENT;
	len = (size_t)(close - open - 1);
	if (len >= size)
		len = size - 1;
	memcpy(out, open + 1, len);
	out[len] = '\0';
	return 0;
}
