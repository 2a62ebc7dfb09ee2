/* outbox.h - results waiting for the control API, kept durably on disk.
 *
 * A result is written to its own file in the outbox directory (spool.h:
 * temp file, fsync, rename) before its first upload, and removed only when
 * the server acknowledged it. Files are named by a sequence number, so the
 * outbox drains oldest first and survives restarts in order. Bounds: at
 * most max_results files and max_bytes bytes; past either, the oldest are
 * dropped and counted (the count is kept on disk too, until a heartbeat
 * has reported it).
 */
#ifndef DIAG_OUTBOX_H
#define DIAG_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define OUTBOX_MAX_RESULT (512L * 1024 * 1024) /* one result file at most */

struct outbox;

/* Open (create) the outbox in dir with its bounds and index the results
 * already there. Returns NULL with a one-line reason in err. Free with
 * outbox_free(). */
struct outbox *outbox_open(const char *dir, long max_results, long long max_bytes, char *err, size_t size);

void outbox_free(struct outbox *ob);

/* Change the bounds (a configuration reload); enforced at the next put. */
void outbox_set_limits(struct outbox *ob, long max_results, long long max_bytes);

/* Write result durably. Returns 0, or a negative errno with err filled
 * (the disk is full, the result is larger than max_bytes): the caller
 * still has the result and should log it. Drops the oldest results when a
 * bound is passed. */
int outbox_put(struct outbox *ob, const json_t *result, char *err, size_t size);

/* Results waiting, and their bytes. */
size_t outbox_count(const struct outbox *ob);
long long outbox_bytes(const struct outbox *ob);

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
 * Returns 0, -ENOENT when seq is not waiting, or the rename's error (the
 * file is then removed). */
int outbox_reject(struct outbox *ob, uint64_t seq);

/* The server acknowledged these: remove the ones still there. */
void outbox_ack(struct outbox *ob, const uint64_t *seqs, size_t n);

#endif /* DIAG_OUTBOX_H */
