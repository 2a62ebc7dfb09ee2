/* bpfmap.h - reading bpftrace's exit dump: numbers, keys, log2 histograms.
 *
 * bpftrace prints each map once at exit: {"@m": {"KEY": VALUE}}. A key of
 * several parts is joined with "," into one string, so a preset keeps at
 * most one string part, and last: the integer parts split off the front and
 * the rest, commas and all, is the string. From 0.24 integers that a double
 * cannot hold are written as strings: every number accepts both.
 */
#ifndef DIAG_BPFMAP_H
#define DIAG_BPFMAP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define BPFMAP_MAX_PARTS   8
#define BPFMAP_MAX_BUCKETS 130	/* log2 buckets of a 64-bit value, negatives too */
#define BPFMAP_KEYS_MAX	   4096 /* bpftrace's default map size (BPFTRACE_MAP_KEYS_MAX) */

/* A number, or a string holding one. False when v is neither. */
bool bpfmap_i64(const json_t *v, int64_t *out);
bool bpfmap_u64(const json_t *v, uint64_t *out);

/* Split key into nints integers and, when rest is not NULL, the remaining
 * text (after the nints-th comma; may be "" or hold commas). Without rest
 * the key must be exactly nints integers. False when it is not so. */
bool bpfmap_key(const char *key, int nints, int64_t *ints, const char **rest);

/* A histogram as hist() prints it: buckets [min, max] with counts. */
struct bpfmap_hist {
	int n;
	uint64_t total;
	struct {
		int64_t min, max;
		uint64_t count;
	} b[BPFMAP_MAX_BUCKETS];
};

/* Parse a JSON array of {"min", "max", "count"} objects (a bucket without
 * "max" is open above: it ends at twice its min). Returns 0, or -EINVAL. */
int bpfmap_hist_parse(const json_t *buckets, struct bpfmap_hist *h);

/* Add h2's counts into h (same bucket bounds). */
void bpfmap_hist_merge(struct bpfmap_hist *h, const struct bpfmap_hist *h2);

/* The value below which p percent of the histogram's samples fall,
 * interpolated linearly inside its bucket (an estimate, never beyond the
 * bucket); 0 when empty. */
uint64_t bpfmap_hist_pct(const struct bpfmap_hist *h, double p);

#endif /* DIAG_BPFMAP_H */
