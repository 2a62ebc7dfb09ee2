/* units.h - durations and counts as people write them: "30s", "2m", "10ms".
 *
 * Shared by `diagagent diagnose` and the agent's diagnostics jobs, so a
 * threshold reads the same on the command line and in a job.
 */
#ifndef DIAG_UNITS_H
#define DIAG_UNITS_H

#include <stdint.h>

/* A duration in ns: a number (decimals allowed) with an optional unit ns,
 * us, ms, s, m or h; without one, unit_ns per unit. Returns 0, or -EINVAL
 * (also for a negative, empty or too large value). */
int units_ns(const char *s, uint64_t unit_ns, uint64_t *out);

/* Whole seconds: "30", "30s", "2m", "1h". Returns 0 or -EINVAL. */
int units_seconds(const char *s, long *out);

/* A decimal integer in [min, max]. Returns 0 or -EINVAL. */
int units_long(const char *s, long min, long max, long *out);

#endif /* DIAG_UNITS_H */
