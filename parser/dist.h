/* dist.h - a latency distribution: exact from streamed samples, or
 * estimated from the kernel's log2 histogram, and saying which.
 *
 * Samples are kept while the stream is complete; the summary is exact when
 * every sample the kernel counted reached user space (none lost, none past
 * the stream cap), and is otherwise estimated from the in-kernel histogram,
 * with the kernel's own max where the preset keeps one.
 */
#ifndef DIAG_DIST_H
#define DIAG_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "parser/bpfmap.h"

#define DIST_MAX_SAMPLES (1u << 20) /* samples kept; past it, the histogram answers */

struct dist {
	uint64_t *v; /* samples */
	size_t n, cap;
	uint64_t seen; /* samples offered (kept or not) */
	bool dropped;  /* a sample was not kept */
};

struct dist_summary {
	uint64_t count; /* the kernel's count (or the samples', when exact) */
	uint64_t p50, p90, p99, max;
	bool exact; /* from every sample; false: estimated from buckets */
	bool have;  /* there is anything at all */
};

void dist_init(struct dist *d);
void dist_release(struct dist *d);

/* Keep one sample (up to DIST_MAX_SAMPLES; later ones only count). */
void dist_add(struct dist *d, uint64_t x);

/* The summary: exact from the samples when they number `total` (the
 * kernel's count; 0 when unknown, then the samples' own count is trusted)
 * and nothing was dropped; else from h (NULL: none) with kmax as the max
 * (0: the histogram's). Sorts the samples. */
void dist_summary(struct dist *d, uint64_t total, const struct bpfmap_hist *h, uint64_t kmax, struct dist_summary *out);

/* {"count", "p50_ns", "p90_ns", "p99_ns", "max_ns", "source": "exact"|"histogram"}. */
json_t *dist_json(const struct dist_summary *s);

#endif /* DIAG_DIST_H */
