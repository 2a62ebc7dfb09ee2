/* cgroup.h - a cgroup v2 directory to the id bpftrace's `cgroup` builtin gives.
 *
 * Presets take the cgroup as a number ($4), never as text in the program:
 * the id is the directory's file handle on the cgroup2 file system (what
 * bpftrace's cgroupid() computes), found here.
 */
#ifndef DIAG_CGROUP_H
#define DIAG_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* The id of cgroup path: absolute, or relative to the cgroup2 mount
 * ("system.slice/nginx.service"). The directory used goes to resolved.
 * Returns 0; -EINVAL (not a cgroup v2 directory), -ENODEV (no cgroup2
 * mounted here) or -ENAMETOOLONG (the path does not fit in rsize) with a
 * one-line reason and a hint in err. */
int cgroup_id(const char *path, uint64_t *id, char *resolved, size_t rsize, char *err, size_t esize);

#endif /* DIAG_CGROUP_H */
