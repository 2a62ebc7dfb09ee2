/* result.h - the protocol's result objects: the fields every kind shares.
 *
 * Every result carries id, kind, status, success (true only for
 * "completed"), started_at and finished_at (RFC 3339, UTC) and, when not
 * successful, a one-line error. The kinds add their own fields (cmdjob.h,
 * tracejob.h); these helpers keep the shared part in one place.
 */
#ifndef DIAG_RESULT_H
#define DIAG_RESULT_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* Wall-clock nanoseconds since the epoch. */
int64_t result_now_ns(void);

/* Set key to the RFC 3339 UTC text of ns (wall clock, ns since the epoch). */
void result_set_time(json_t *r, const char *key, int64_t ns);

/* Set status, success and, unless status is "completed", error (fmt may be
 * NULL when the object already has one). Returns r. */
json_t *result_set_status(json_t *r, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A finished result with nothing but the shared fields: started_at and
 * finished_at both now (or started_ns when > 0). For jobs that never ran:
 * rejected, interrupted, cancelled before they started. New reference, or
 * NULL when out of memory. */
json_t *result_new_final(const char *id, const char *kind, int64_t started_ns, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif /* DIAG_RESULT_H */
