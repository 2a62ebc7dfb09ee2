/* outbox.h - results waiting for the control API, kept durably on disk.
 *
 * A result is written to its own file in the outbox directory (spool.h:
 * temp file, fsync, rename) before its first upload, and removed only when
 * the server acknowledged it. Files are named by a sequence number, so the
 * outbox drains oldest first and survives restarts in order. Bounds: at
 * most max_results files and max_bytes bytes; past either, the oldest are
 * dropped and counted (the count is kept on disk too, until a heartbeat
 * has reported it).
 *
 * When the directory cannot be written (full, read-only, I/O errors), new
 * results are kept in memory instead, in the same queue: they are batched,
 * acknowledged and dropped like the others, within the same bounds and at
 * most OUTBOX_MAX_MEMORY bytes (outbox_set_memory_limit() changes it; or
 * max_bytes when smaller; past it the oldest in memory are dropped and
 * counted). The outbox does not touch the
 * disk again until outbox_flush(), which the caller runs when
 * outbox_retry_in() says: it writes the results kept in memory, oldest
 * first, and the outbox is durable again. Files that could not be removed
 * meanwhile (acknowledged or dropped on a read-only disk) are removed then.
 */
#ifndef DIAG_OUTBOX_H
#define DIAG_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define OUTBOX_MAX_RESULT (512L * 1024 * 1024) /* one result file at most */
#define OUTBOX_MAX_MEMORY (64L * 1024 * 1024)  /* results kept in memory at most, in bytes */

struct outbox;

/* Open (create) the outbox in dir with its bounds and index the results
 * already there. Returns NULL with a one-line reason in err (the directory
 * cannot be created or read). A directory that can be read but not written
 * (full, read-only) opens: outbox_disk_error() says why, and results are
 * kept in memory until outbox_flush() works. Free with outbox_free(): the
 * results still kept in memory are lost then. */
struct outbox *outbox_open(const char *dir, long max_results, long long max_bytes, char *err, size_t size);

void outbox_free(struct outbox *ob);

/* Change the bounds (a configuration reload); enforced at the next put. */
void outbox_set_limits(struct outbox *ob, long max_results, long long max_bytes);

/* The bytes of results kept in memory at most while the directory cannot
 * be written (OUTBOX_MAX_MEMORY at open); enforced at the next put. */
void outbox_set_memory_limit(struct outbox *ob, long long max_memory);

/* The bound in effect on results in memory: that limit, or max_bytes when
 * smaller. */
long long outbox_memory_limit(const struct outbox *ob);

/* Write result durably, or keep it in memory while the directory cannot
 * be written (the first failed write starts that: outbox_disk_error()).
 * Returns 0 when the result is kept, or a negative errno with err filled
 * when it is lost: -E2BIG when it is larger than max_bytes (or than the
 * memory bound while in memory), -ENOMEM. The caller still has the result
 * and should log it. Drops the oldest results when a bound is passed. */
int outbox_put(struct outbox *ob, const json_t *result, char *err, size_t size);

/* Results waiting (on disk and in memory), and their bytes. */
size_t outbox_count(const struct outbox *ob);
long long outbox_bytes(const struct outbox *ob);

/* Results waiting in memory only (not durable), and their bytes. */
size_t outbox_memory(const struct outbox *ob);
long long outbox_memory_bytes(const struct outbox *ob);

/* 0 while the outbox is durable, or the negative errno of the write that
 * failed while results go to memory. */
int outbox_disk_error(const struct outbox *ob);

/* Milliseconds until outbox_flush() should be tried (0: now; spool.h's
 * backoff), or -1 while the outbox is durable. */
long outbox_retry_in(const struct outbox *ob);

/* Try the directory again: write the results kept in memory to disk,
 * oldest first, and the dropped count; with nothing to write, a probe
 * file. Returns 0 when the outbox is durable again (then files left over
 * from failed removals are removed too), or the negative errno of the
 * write that failed (the results not written stay in memory, the next try
 * waits longer). *written (may be NULL) gets how many results went to
 * disk, also when a later one failed. A no-op returning 0 while durable. */
int outbox_flush(struct outbox *ob, size_t *written);

/* Results dropped by the bounds (or unreadable on disk) and not yet
 * reported; outbox_reported(ob, n) subtracts n once a heartbeat carried it. */
unsigned long long outbox_dropped(const struct outbox *ob);
void outbox_reported(struct outbox *ob, unsigned long long n);

/* The oldest results, at most max_n of them and max_bytes of JSON text
 * (always at least one when any is waiting), as a new array; *seqs (free()
 * it) gets their sequence numbers for outbox_ack(). Returns NULL when the
 * outbox is empty or out of memory. Unreadable files are dropped (and
 * counted) on the way. */
json_t *outbox_batch(struct outbox *ob, size_t max_n, long long max_bytes, uint64_t **seqs, size_t *n);

/* The server refused this one result for its content (HTTP 400, 413,
 * 422), alone in its batch: move it out of the way, into the outbox's
 * rejected/ directory (kept for a person to look at, never sent again),
 * and count it as dropped, so it cannot block the results behind it.
 * Returns 0, -ENOENT when seq is not waiting, or the rename's (or, for a
 * result in memory, the write's) error: the result is then gone. */
int outbox_reject(struct outbox *ob, uint64_t seq);

/* The server acknowledged these: remove the ones still there (a file
 * that cannot be removed now is removed by the next outbox_flush()). */
void outbox_ack(struct outbox *ob, const uint64_t *seqs, size_t n);

#endif /* DIAG_OUTBOX_H */
