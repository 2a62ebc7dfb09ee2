/* dist.c - exact or bucket-estimated latency percentiles. */
#include "parser/dist.h"

#include <stdlib.h>
#include <string.h>

void dist_init(struct dist *d)
{
	memset(d, 0, sizeof(*d));
}

void dist_release(struct dist *d)
{
	free(d->v);
	dist_init(d);
}

void dist_add(struct dist *d, uint64_t x)
{
	d->seen++;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 256;
		uint64_t *nv;

		if (ncap > DIST_MAX_SAMPLES)
			ncap = DIST_MAX_SAMPLES;
		nv = ncap > d->cap ? realloc(d->v, ncap * sizeof(*nv)) : NULL;
		if (!nv) {
			d->dropped = true;
			return;
		}
		d->v = nv;
		d->cap = ncap;
	}
	d->v[d->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank, as stats.c computes a trace's percentiles. */
static uint64_t rank(const uint64_t *v, size_t n, double p)
{
	size_t r = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (r < 1)
		r = 1;
	return v[(r > n ? n : r) - 1];
}

void dist_summary(struct dist *d, uint64_t total, const struct bpfmap_hist *h, uint64_t kmax, struct dist_summary *out)
{
	memset(out, 0, sizeof(*out));
	if (d->n > 0 && !d->dropped && (total == 0 || total == d->n)) {
		qsort(d->v, d->n, sizeof(*d->v), cmp_u64);
		out->count = d->n;
		out->p50 = rank(d->v, d->n, 50);
		out->p90 = rank(d->v, d->n, 90);
		out->p99 = rank(d->v, d->n, 99);
		out->max = d->v[d->n - 1];
		out->exact = out->have = true;
		return;
	}
	if (!h || h->total == 0)
		return;
	out->count = total ? total : h->total;
	out->p50 = bpfmap_hist_pct(h, 50);
	out->p90 = bpfmap_hist_pct(h, 90);
	out->p99 = bpfmap_hist_pct(h, 99);
	out->max = kmax ? kmax : (uint64_t)h->b[h->n - 1].max;
	/* An estimate inside a bucket can pass the true maximum. */
	if (out->p50 > out->max)
		out->p50 = out->max;
	if (out->p90 > out->max)
		out->p90 = out->max;
	if (out->p99 > out->max)
		out->p99 = out->max;
	out->have = true;
}

json_t *dist_json(const struct dist_summary *s)
{
	return json_pack("{sI sI sI sI sI ss}", "count", (json_int_t)s->count, "p50_ns", (json_int_t)s->p50, "p90_ns",
			 (json_int_t)s->p90, "p99_ns", (json_int_t)s->p99, "max_ns", (json_int_t)s->max, "source",
			 s->exact ? "exact" : "histogram");
}
