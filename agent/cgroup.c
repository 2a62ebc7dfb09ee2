/* cgroup.c - cgroup v2 ids from paths (name_to_handle_at on cgroup2). */
#include "agent/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "agent/sysfs.h"

#define CGROUP2_MAGIC 0x63677270

int cgroup_id(const char *path, uint64_t *id, char *resolved, size_t rsize, char *err, size_t esize)
{
	char mnt[PATH_MAX] = "";
	struct {
		struct file_handle fh;
		unsigned char buf[64];
	} h;
	struct statfs sfs;
	struct stat st;
	int mount_id, n;

	if (sysfs_find_mount(NULL, "cgroup2", mnt, sizeof(mnt)) != 1) {
		snprintf(err, esize,
			 "no cgroup v2 file system is mounted (hint: mount -t cgroup2 none /sys/fs/cgroup)");
		return -ENODEV;
	}
	if (path[0] == '/')
		n = snprintf(resolved, rsize, "%s", path);
	else
		n = snprintf(resolved, rsize, "%s/%s", mnt, path);
	if (n < 0 || (size_t)n >= rsize) { /* a cut path could name a parent cgroup */
		snprintf(err, esize, "cgroup path '%.64s...' is longer than %zu bytes", path, rsize - 1);
		return -ENAMETOOLONG;
	}
	if (stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, esize,
			 "cgroup '%s' is not a directory (hint: a cgroup v2 directory under %s, e.g. "
			 "%s/system.slice/nginx.service)",
			 resolved, mnt, mnt);
		return -EINVAL;
	}
	if (statfs(resolved, &sfs) != 0 || sfs.f_type != CGROUP2_MAGIC) {
		snprintf(err, esize, "'%s' is not on the cgroup v2 file system (hint: it is mounted on %s)", resolved,
			 mnt);
		return -EINVAL;
	}
	h.fh.handle_bytes = sizeof(h.buf);
	if (name_to_handle_at(AT_FDCWD, resolved, &h.fh, &mount_id, 0) != 0 || h.fh.handle_bytes < 8) {
		snprintf(err, esize, "cannot get the id of cgroup '%s': %s", resolved, strerror(errno));
		return -EINVAL;
	}
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}
