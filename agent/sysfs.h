/* sysfs.h - small readers for /proc, /sys and tracefs files.
 *
 * These files are short text; every reader takes a caller's buffer with a
 * cap and never allocates. Errors are negative errno values.
 */
#ifndef DIAG_SYSFS_H
#define DIAG_SYSFS_H

#include <stddef.h>

/* Read at most size-1 bytes of 'path' into buf and NUL-terminate it; trailing
 * newlines are removed. Returns the length, or -errno (buf is then ""). */
int sysfs_read(const char *path, char *buf, size_t size);

/* Read one integer (decimal) from 'path' into *val. Returns 0 or -errno;
 * -EINVAL when the file does not start with an integer. */
int sysfs_read_long(const char *path, long *val);

/* Find the first mount of file-system type 'fstype' in /proc/self/mountinfo
 * (or in 'mountinfo' when not NULL, for tests). Copies its mount point, with
 * octal escapes such as \040 decoded, into dir. Returns 1 when found, 0 when
 * not, -errno when the table cannot be read. */
int sysfs_find_mount(const char *mountinfo, const char *fstype, char *dir, size_t size);

/* Decode the bracketed choice of a sysfs selector line such as
 * "none [integrity] confidentiality" into out. Returns 0, or -ENOENT when no
 * word is bracketed. */
int sysfs_selected(const char *line, char *out, size_t size);

#endif /* DIAG_SYSFS_H */
