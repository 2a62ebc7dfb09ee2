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
#include <stdint.h>

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

/* Write and remove a one-byte file in dirfd: can the directory take a
 * new result now (not full, not read-only)? Returns 0 or a negative errno. */
int spool_probe(int dirfd);

/* A hint for a person at a write error (a negative errno) in the spool:
 * free space, remount read-write, permissions, the kernel log. */
const char *spool_hint(int err);

/* ---- a directory that cannot be written ----------------------------------------
 *
 * The outbox and the ledger keep working in memory while their directory
 * cannot be written (full, read-only, I/O errors) and try it again on a
 * timer: SPOOL_RETRY_MIN_MS after the first failure, doubling up to
 * SPOOL_RETRY_MAX_MS, on the CLOCK_MONOTONIC clock.
 */
#define SPOOL_RETRY_MIN_MS 1000
#define SPOOL_RETRY_MAX_MS 10000

struct spool_health {
	int err;	  /* 0, or the negative errno of the last failed write */
	int64_t since_ms; /* when it first failed */
	int64_t retry_ms; /* when to try again */
	int delay_ms;	  /* the wait after the next failure */
};

/* A write failed with err: remember it and when to try again. */
void spool_failed(struct spool_health *h, int err);

/* A write (or a retry) worked: the directory is fine again. */
void spool_recovered(struct spool_health *h);

/* Milliseconds until the next retry is due (0: now), or -1 while the
 * directory is fine. */
long spool_retry_in(const struct spool_health *h);

#endif /* DIAG_SPOOL_H */
