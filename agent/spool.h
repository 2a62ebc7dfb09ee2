/* spool.h - durable files in the agent's spool directory.
 *
 * The outbox and the job ledger keep their state in small files under
 * spool_dir. A file is written whole or not at all: a temporary file,
 * fsync, rename over the name, fsync of the directory. Directories are
 * 0700 and files 0600: results hold command output.
 */
#ifndef DIAG_SPOOL_H
#define DIAG_SPOOL_H

#include <stddef.h>

/* Create path (and its parents) as 0700 directories when missing; tighten
 * an existing one to 0700. Returns an O_DIRECTORY fd (close() it), or a
 * negative errno with a one-line reason in err (-EPERM when another user
 * owns path). */
int spool_open_dir(const char *path, char *err, size_t size);

/* Write name in dirfd durably (see above). Returns 0 or a negative errno. */
int spool_write(int dirfd, const char *name, const void *data, size_t len);

/* Read name in dirfd whole, at most max bytes; a file readable by others is
 * made 0600 first. Returns 0 with *data (NUL terminated, free() it) and
 * *len, -EFBIG when the file is larger, -EPERM when another user owns it,
 * or a negative errno. */
int spool_read(int dirfd, const char *name, size_t max, char **data, size_t *len);

/* Remove name from dirfd; a missing file is not an error. Returns 0 or a
 * negative errno. */
int spool_remove(int dirfd, const char *name);

#endif /* DIAG_SPOOL_H */
