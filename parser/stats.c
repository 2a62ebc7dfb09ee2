/* stats.c - a trace's statistics: kernel totals, latency, top processes, -A. */
#include "parser/stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parser/render.h"

struct proc_count {
	int64_t pid;
	char *comm;
	size_t comm_len;
	uint64_t count;
};

struct msg_slot {
	char *msg; /* NULL: empty slot */
	size_t len;
	uint64_t hash;
	uint64_t count;
};

struct trace_stats {
	const struct event_layout *l;
	uint64_t *streamed; /* per probe */
	uint64_t *hits;	    /* per probe, from @__hits */
	bool have_hits;
	uint64_t kernel_streamed; /* @__streamed */
	bool have_kernel_streamed;
	uint64_t lost, filtered, over_cap, dropped_samples;
	uint64_t *lat; /* latency samples */
	size_t nlat, caplat;
	uint64_t lat_seen; /* every latency, also past the sample cap */
	uint64_t lat_max;
	struct proc_count *procs;
	size_t nprocs;
	struct msg_slot *msgs; /* open addressing, power-of-two size */
	size_t msg_cap, msg_used;
	uint64_t msg_other;
	int err; /* -ENOMEM when a map could not be kept: the figures are not whole */
};

struct trace_stats *stats_new(const struct event_layout *l)
{
	struct trace_stats *st = calloc(1, sizeof(*st));
	size_t n = l->nprobes > 0 ? (size_t)l->nprobes : 1;

	if (!st)
		return NULL;
	st->l = l;
	st->streamed = calloc(n, sizeof(*st->streamed));
	st->hits = calloc(n, sizeof(*st->hits));
	if (!st->streamed || !st->hits) {
		stats_free(st);
		return NULL;
	}
	return st;
}

static void free_procs(struct trace_stats *st)
{
	for (size_t i = 0; i < st->nprocs; i++)
		free(st->procs[i].comm);
	free(st->procs);
	st->procs = NULL;
	st->nprocs = 0;
}

void stats_free(struct trace_stats *st)
{
	if (!st)
		return;
	free(st->streamed);
	free(st->hits);
	free(st->lat);
	free_procs(st);
	for (size_t i = 0; i < st->msg_cap; i++)
		free(st->msgs[i].msg);
	free(st->msgs);
	free(st);
}

int stats_event(struct trace_stats *st, const struct scan_event *ev)
{
	if (ev->probe >= 0 && ev->probe < st->l->nprobes)
		st->streamed[ev->probe]++;
	if (!ev->has_latency)
		return 0;
	st->lat_seen++;
	if (ev->latency_ns > st->lat_max)
		st->lat_max = ev->latency_ns;
	if (st->nlat == st->caplat) {
		size_t ncap = st->caplat ? st->caplat * 2 : 1024;
		uint64_t *n;

		if (ncap > STATS_MAX_LATENCIES || !(n = realloc(st->lat, ncap * sizeof(*n)))) {
			st->dropped_samples++;
			return ncap > STATS_MAX_LATENCIES ? 0 : -ENOMEM;
		}
		st->lat = n;
		st->caplat = ncap;
	}
	st->lat[st->nlat++] = ev->latency_ns;
	return 0;
}

void stats_over_cap(struct trace_stats *st)
{
	st->over_cap++;
}

void stats_filtered(struct trace_stats *st)
{
	st->filtered++;
}

void stats_lost(struct trace_stats *st, uint64_t n)
{
	st->lost += n;
}

/* ---- -A: messages and their counts ---------------------------------------- */

static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int msg_grow(struct trace_stats *st)
{
	size_t ncap = st->msg_cap ? st->msg_cap * 2 : 256;
	struct msg_slot *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < st->msg_cap; i++) {
		size_t j;

		if (!st->msgs[i].msg)
			continue;
		for (j = st->msgs[i].hash & (ncap - 1); n[j].msg; j = (j + 1) & (ncap - 1))
			;
		n[j] = st->msgs[i];
	}
	free(st->msgs);
	st->msgs = n;
	st->msg_cap = ncap;
	return 0;
}

int stats_message(struct trace_stats *st, const char *msg, size_t len)
{
	uint64_t h = fnv1a(msg, len);
	size_t j;

	if (st->msg_used * 2 >= st->msg_cap && st->msg_used < STATS_MAX_MESSAGES && msg_grow(st) < 0)
		return -ENOMEM;
	for (j = h & (st->msg_cap - 1); st->msgs[j].msg; j = (j + 1) & (st->msg_cap - 1))
		if (st->msgs[j].hash == h && st->msgs[j].len == len && memcmp(st->msgs[j].msg, msg, len) == 0) {
			st->msgs[j].count++;
			return 0;
		}
	if (st->msg_used >= STATS_MAX_MESSAGES) {
		st->msg_other++;
		return 0;
	}
	st->msgs[j].msg = malloc(len + 1);
	if (!st->msgs[j].msg)
		return -ENOMEM;
	memcpy(st->msgs[j].msg, msg, len);
	st->msgs[j].msg[len] = '\0';
	st->msgs[j].len = len;
	st->msgs[j].hash = h;
	st->msgs[j].count = 1;
	st->msg_used++;
	return 0;
}

static int cmp_slot_desc(const void *a, const void *b)
{
	const struct msg_slot *x = *(const struct msg_slot *const *)a, *y = *(const struct msg_slot *const *)b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->len == y->len ? memcmp(x->msg, y->msg, x->len) : (x->len < y->len ? -1 : 1);
}

int stats_each_message(const struct trace_stats *st, void (*fn)(void *ud, const char *msg, size_t len, uint64_t count),
		       void *ud)
{
	const struct msg_slot **order = calloc(st->msg_used ? st->msg_used : 1, sizeof(const struct msg_slot *));
	size_t n = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < st->msg_cap; i++)
		if (st->msgs[i].msg)
			order[n++] = &st->msgs[i];
	if (n > 1)
		qsort(order, n, sizeof(const struct msg_slot *), cmp_slot_desc);
	for (size_t i = 0; i < n; i++)
		fn(ud, order[i]->msg, order[i]->len, order[i]->count);
	if (st->msg_other)
		fn(ud, "(other messages)", 16, st->msg_other);
	free(order);
	return 0;
}

/* ---- the exit dump: @__hits, @__procs, @__streamed --------------------------- */

/* bpftrace 0.24+ writes big integers as strings: accept both. */
static bool json_u64(json_t *v, uint64_t *out)
{
	char *end;

	if (json_is_integer(v)) {
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	if (json_is_string(v)) {
		*out = strtoull(json_string_value(v), &end, 10);
		return *end == '\0' && end != json_string_value(v);
	}
	return false;
}

static int map_procs(struct trace_stats *st, json_t *obj)
{
	const char *key;
	json_t *v;

	free_procs(st);
	st->procs = calloc(json_object_size(obj) ? json_object_size(obj) : 1, sizeof(*st->procs));
	if (!st->procs)
		return -ENOMEM;
	json_object_foreach(obj, key, v)
	{
		/* "pid,comm": the comm is everything after the first comma (it may hold commas). */
		const char *comma = strchr(key, ',');
		struct proc_count *p = &st->procs[st->nprocs];
		uint64_t n;

		if (!comma || !json_u64(v, &n))
			continue;
		p->pid = strtoll(key, NULL, 10);
		p->comm_len = strlen(comma + 1);
		p->comm = strdup(comma + 1);
		if (!p->comm)
			return -ENOMEM;
		p->count = n;
		st->nprocs++;
	}
	return 0;
}

int stats_map(struct trace_stats *st, const char *name, json_t *value)
{
	const char *key;
	json_t *v;
	uint64_t n;

	if (strcmp(name, LAYOUT_MAP_HITS) == 0 && json_is_object(value)) {
		st->have_hits = true;
		json_object_foreach(value, key, v)
		{
			long idx = strtol(key, NULL, 10);

			if (idx >= 0 && idx < st->l->nprobes && json_u64(v, &n))
				st->hits[idx] = n;
		}
	} else if (strcmp(name, LAYOUT_MAP_PROCS) == 0 && json_is_object(value)) {
		/* a list missing processes must not pass for the top ones */
		if (map_procs(st, value) < 0) {
			free_procs(st);
			st->err = -ENOMEM;
			return st->err;
		}
	} else if (strcmp(name, LAYOUT_MAP_STREAMED) == 0 && json_u64(value, &n)) {
		st->kernel_streamed = n;
		st->have_kernel_streamed = true;
	}
	return 0;
}

bool stats_have_kernel_totals(const struct trace_stats *st)
{
	return st->have_hits;
}

uint64_t stats_streamed(const struct trace_stats *st)
{
	uint64_t n = 0;

	for (int i = 0; i < st->l->nprobes; i++)
		n += st->streamed[i];
	return n;
}

uint64_t stats_total(const struct trace_stats *st)
{
	uint64_t n = 0;

	if (!st->have_hits)
		return stats_streamed(st) + st->filtered + st->over_cap + st->lost;
	for (int i = 0; i < st->l->nprobes; i++)
		n += st->hits[i];
	return n;
}

/* ---- JSON ------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_proc_desc(const void *a, const void *b)
{
	const struct proc_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Nearest-rank percentile of sorted samples. */
static uint64_t percentile(const uint64_t *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (n == 0)
		return 0;
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

/* json_object_set_new() and json_array_append_new() take the value even
 * on failure (a NULL value is a failure too): each returns false then, so
 * an object is never handed out with a member missing. */
static bool put(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) == 0;
}

static bool push(json_t *a, json_t *v)
{
	return json_array_append_new(a, v) == 0;
}

static json_t *latency_json(struct trace_stats *st)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (st->nlat > 1)
		qsort(st->lat, st->nlat, sizeof(*st->lat), cmp_u64);
	ok = ok && put(o, "count", json_integer((json_int_t)st->lat_seen));
	ok = ok && put(o, "p50", json_integer((json_int_t)percentile(st->lat, st->nlat, 50)));
	ok = ok && put(o, "p90", json_integer((json_int_t)percentile(st->lat, st->nlat, 90)));
	ok = ok && put(o, "p99", json_integer((json_int_t)percentile(st->lat, st->nlat, 99)));
	ok = ok && put(o, "max", json_integer((json_int_t)st->lat_max));
	ok = ok && put(o, "exact", json_boolean(st->nlat == st->lat_seen));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *top_json(struct trace_stats *st)
{
	json_t *a = json_array();
	bool ok = a != NULL;

	if (st->nprocs > 1)
		qsort(st->procs, st->nprocs, sizeof(*st->procs), cmp_proc_desc);
	for (size_t i = 0; ok && i < st->nprocs && i < STATS_TOP; i++) {
		json_t *p = json_object();
		bool lossy = false;

		ok = p && put(p, "process_name", render_json_string(st->procs[i].comm, st->procs[i].comm_len, &lossy));
		ok = ok && put(p, "pid", json_integer(st->procs[i].pid));
		ok = ok && put(p, "event_count", json_integer((json_int_t)st->procs[i].count));
		if (!ok)
			json_decref(p);
		else
			ok = push(a, p);
	}
	if (!ok) {
		json_decref(a);
		return NULL;
	}
	return a;
}

struct agg_ctx {
	json_t *a;
	bool ok;
};

static void agg_one(void *ud, const char *msg, size_t len, uint64_t count)
{
	struct agg_ctx *c = ud;
	json_t *o = c->ok ? json_object() : NULL;
	bool lossy = false;

	c->ok = o && put(o, "message", render_json_string(msg, len, &lossy));
	c->ok = c->ok && put(o, "count", json_integer((json_int_t)count));
	if (!c->ok)
		json_decref(o);
	else
		c->ok = push(c->a, o);
}

json_t *stats_json(const struct trace_stats *cst, double duration_s, const struct scan_stats *ss)
{
	struct trace_stats *st = (struct trace_stats *)cst; /* sorting in place changes no figure */
	json_t *o = json_object(), *probes = json_array();
	uint64_t total = stats_total(st), streamed = stats_streamed(st);
	bool capped = st->over_cap > 0 ||
		      (st->l->max_events >= 0 &&
		       (st->have_kernel_streamed ? st->kernel_streamed : streamed) >= (uint64_t)st->l->max_events &&
		       total > streamed + st->filtered);
	bool ok = o && probes && !st->err;

	ok = ok && put(o, "total_events", json_integer((json_int_t)total));
	ok = ok && put(o, "events_per_second", json_real(duration_s > 0 ? (double)total / duration_s : 0.0));
	ok = ok && put(o, "streamed_events", json_integer((json_int_t)streamed));
	ok = ok && put(o, "lost_events", json_integer((json_int_t)st->lost));
	ok = ok && put(o, "capped", json_boolean(capped));
	ok = ok && put(o, "filtered_events", json_integer((json_int_t)st->filtered));
	ok = ok && put(o, "malformed_lines", json_integer(ss ? (json_int_t)ss->malformed : 0));
	ok = ok && put(o, "totals_from_kernel", json_boolean(st->have_hits));
	ok = ok && put(o, "top_processes", top_json(st));
	for (int i = 0; ok && i < st->l->nprobes; i++) {
		json_t *p = json_object();

		ok = p && put(p, "function", json_string(st->l->probes[i].function));
		ok = ok && put(p, "target", json_string(st->l->probes[i].target));
		ok = ok &&
		     put(p, "total_events", json_integer((json_int_t)(st->have_hits ? st->hits[i] : st->streamed[i])));
		ok = ok && put(p, "streamed_events", json_integer((json_int_t)st->streamed[i]));
		if (!ok)
			json_decref(p);
		else
			ok = push(probes, p);
	}
	ok = ok && put(o, "probes", json_incref(probes));
	if (ok && st->lat_seen)
		ok = put(o, "latency", latency_json(st));
	if (ok && st->l->aggregate) {
		struct agg_ctx c = { json_array(), true };

		c.ok = c.a != NULL;
		if (c.ok && stats_each_message(st, agg_one, &c) < 0)
			c.ok = false;
		if (c.ok) {
			ok = put(o, "aggregates", c.a);
		} else {
			json_decref(c.a);
			ok = false;
		}
	}
	json_decref(probes);
	if (!ok) {
		json_decref(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}
