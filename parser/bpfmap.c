/* bpfmap.c - numbers, keys and histograms of bpftrace's exit dump. */
#include "parser/bpfmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool bpfmap_i64(const json_t *v, int64_t *out)
{
	const char *s;
	char *end;

	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	errno = 0;
	if (*s == '-')
		*out = (int64_t)strtoll(s, &end, 10);
	else
		*out = (int64_t)strtoull(s, &end, 10);
	return !errno && end != s && *end == '\0';
}

bool bpfmap_u64(const json_t *v, uint64_t *out)
{
	int64_t x;

	if (!bpfmap_i64(v, &x))
		return false;
	*out = (uint64_t)x;
	return true;
}

bool bpfmap_key(const char *key, int nints, int64_t *ints, const char **rest)
{
	const char *p = key;

	for (int i = 0; i < nints; i++) {
		char *end;

		errno = 0;
		if (*p == '-')
			ints[i] = (int64_t)strtoll(p, &end, 10);
		else if (*p >= '0' && *p <= '9')
			ints[i] = (int64_t)strtoull(p, &end, 10);
		else
			return false;
		if (errno || end == p)
			return false;
		p = end;
		if (i + 1 < nints || rest) {
			if (*p != ',')
				return false;
			p++;
		}
	}
	if (rest) {
		*rest = p;
		return true;
	}
	return *p == '\0';
}

int bpfmap_hist_parse(const json_t *buckets, struct bpfmap_hist *h)
{
	size_t i;
	json_t *b;

	memset(h, 0, sizeof(*h));
	if (!json_is_array(buckets))
		return -EINVAL;
	json_array_foreach(buckets, i, b)
	{
		int64_t min, max;
		uint64_t count;

		if (h->n == BPFMAP_MAX_BUCKETS)
			return -EINVAL;
		if (!bpfmap_i64(json_object_get(b, "min"), &min) || !bpfmap_u64(json_object_get(b, "count"), &count))
			return -EINVAL;
		if (!bpfmap_i64(json_object_get(b, "max"), &max))
			max = min > 0 ? min * 2 : min;
		h->b[h->n].min = min;
		h->b[h->n].max = max < min ? min : max;
		h->b[h->n].count = count;
		h->total += count;
		h->n++;
	}
	return 0;
}

void bpfmap_hist_merge(struct bpfmap_hist *h, const struct bpfmap_hist *h2)
{
	for (int j = 0; j < h2->n; j++) {
		int i;

		for (i = 0; i < h->n; i++)
			if (h->b[i].min == h2->b[j].min)
				break;
		if (i == h->n) {
			if (h->n == BPFMAP_MAX_BUCKETS)
				continue;
			/* keep the buckets in order */
			while (i > 0 && h->b[i - 1].min > h2->b[j].min) {
				h->b[i] = h->b[i - 1];
				i--;
			}
			h->b[i].min = h2->b[j].min;
			h->b[i].max = h2->b[j].max;
			h->b[i].count = 0;
			h->n++;
		}
		h->b[i].count += h2->b[j].count;
		h->total += h2->b[j].count;
	}
}

uint64_t bpfmap_hist_pct(const struct bpfmap_hist *h, double p)
{
	double rank = p / 100.0 * (double)h->total;
	uint64_t seen = 0;

	if (h->total == 0)
		return 0;
	for (int i = 0; i < h->n; i++) {
		if (h->b[i].count == 0)
			continue;
		if ((double)(seen + h->b[i].count) >= rank) {
			double within = (rank - (double)seen) / (double)h->b[i].count;
			double lo = (double)h->b[i].min, hi = (double)h->b[i].max;

			if (within < 0)
				within = 0;
			return (uint64_t)(lo + within * (hi - lo) + 0.5);
		}
		seen += h->b[i].count;
	}
	return (uint64_t)h->b[h->n - 1].max;
}
