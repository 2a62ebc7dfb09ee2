/* diag.c - dispatch a preset's output to its analysis modules; shared helpers. */
#include "parser/diag_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracespec/sysnr.h"

static const struct diag_module *const modules[] = {
	&diag_fs, &diag_net, &diag_dns, &diag_exec, &diag_sched, &diag_fdleak, &diag_errors, &diag_fdgrowth,
};

#define NMODULES (sizeof(modules) / sizeof(modules[0]))

void diag_opts_init(struct diag_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pid = -1;
	o->slow_ns = DIAG_DEFAULT_SLOW_NS;
	o->rtt_ns = DIAG_DEFAULT_RTT_NS;
	o->error_threshold = DIAG_DEFAULT_ERRORS;
	o->leak_threshold = DIAG_DEFAULT_LEAK;
	o->storm_threshold = DIAG_DEFAULT_STORM;
	o->cap = DIAG_DEFAULT_CAP;
	o->top = DIAG_DEFAULT_TOP;
	o->duration = 30;
}

static const struct diag_module *module_named(const char *name)
{
	for (size_t i = 0; i < NMODULES; i++)
		if (strcmp(modules[i]->name, name) == 0)
			return modules[i];
	return NULL;
}

static int add_module(struct diag *d, const struct diag_module *m)
{
	if (!m || d->nmods == (int)(sizeof(d->mods) / sizeof(d->mods[0])))
		return 0;
	d->states[d->nmods] = calloc(1, m->state_size ? m->state_size : 1);
	if (!d->states[d->nmods])
		return -ENOMEM;
	d->mods[d->nmods++] = m;
	return 0;
}

struct diag *diag_new(const struct preset *p, const struct diag_opts *o)
{
	struct diag *d = calloc(1, sizeof(*d));
	int rc = 0;

	if (!d)
		return NULL;
	d->p = p;
	d->o = o;
	d->maps = json_object();
	if (!d->maps) {
		free(d);
		return NULL;
	}
	/* A preset of its own, or (all) the presets it includes; `all` reads
	 * descriptor growth from /proc instead of fdleak's probes. */
	if (module_named(p->name))
		rc = add_module(d, module_named(p->name));
	for (int i = 0; rc == 0 && i < p->nincludes; i++)
		rc = add_module(d, module_named(p->includes[i]));
	if (rc == 0 && strcmp(p->name, "all") == 0)
		rc = add_module(d, &diag_fdgrowth);
	if (rc < 0) {
		diag_free(d);
		return NULL;
	}
	return d;
}

void diag_free(struct diag *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->nmods; i++) {
		if (d->mods[i]->release)
			d->mods[i]->release(d->states[i]);
		free(d->states[i]);
	}
	json_decref(d->maps);
	free(d->comms);
	free(d);
}

/* ---- input ------------------------------------------------------------------ */

void diag_event(struct diag *d, const struct scan_event *ev)
{
	int id = ev->probe;

	if (id < 0 || id >= DIAG_MAX_RECORDS)
		return;
	/* The kernel's cap can overshoot across CPUs; here it is exact. */
	if ((long)d->streamed[id] >= d->o->cap) {
		d->over_cap[id]++;
		return;
	}
	d->streamed[id]++;
	if (ev->comm && ev->pid > 0)
		diag_set_comm(d, (long)ev->pid, ev->comm);
	for (int i = 0; i < d->nmods; i++) {
		if (d->mods[i]->base == id / 10 * 10) {
			if (d->mods[i]->event)
				d->mods[i]->event(d, d->states[i], ev);
			return;
		}
	}
}

static void comm_map(struct diag *d, json_t *value)
{
	const char *key;
	json_t *v;

	json_object_foreach(value, key, v)
	{
		int64_t pid;

		if (bpfmap_key(key, 1, &pid, NULL) && json_is_string(v))
			diag_set_comm(d, (long)pid, json_string_value(v));
	}
}

void diag_map(struct diag *d, const char *name, json_t *value)
{
	size_t n = strlen(name);

	diag_check_full(d, name, value);
	if (n > 5 && strcmp(name + n - 5, "_comm") == 0 && json_is_object(value))
		comm_map(d, value);
	json_object_set(d->maps, name, value);
}

json_t *diag_get(const struct diag *d, const char *name)
{
	return json_object_get(d->maps, name);
}

int64_t diag_get_int(const struct diag *d, const char *name, const char *key)
{
	json_t *m = diag_get(d, name);
	int64_t v = 0;

	if (key ? !bpfmap_i64(json_object_get(m, key), &v) : !bpfmap_i64(m, &v))
		return 0;
	return v;
}

bool diag_get_hist(const struct diag *d, const char *name, const char *key, struct bpfmap_hist *h)
{
	json_t *m = diag_get(d, name);

	if (key)
		m = json_object_get(m, key);
	return m && bpfmap_hist_parse(m, h) == 0;
}

void diag_other(struct diag *d, const char *type, json_t *line)
{
	const char *key;
	json_t *v;

	if (strcmp(type, "hist") != 0)
		return;
	json_object_foreach(json_object_get(line, "data"), key, v) diag_map(d, key, v);
}

/* ---- shared helpers ------------------------------------------------------------ */

bool diag_complete(const struct diag *d, int record)
{
	return record >= 0 && record < DIAG_MAX_RECORDS && d->over_cap[record] == 0 && (!d->run || d->run->lost == 0);
}

void diag_set_comm(struct diag *d, long pid, const char *comm)
{
	size_t lo = 0, hi = d->ncomms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->comms[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < d->ncomms && d->comms[lo].pid == pid) {
		utf8_copy(d->comms[lo].comm, sizeof(d->comms[lo].comm), comm, strlen(comm));
		return;
	}
	if (d->ncomms == d->capcomms) {
		size_t ncap = d->capcomms ? d->capcomms * 2 : 64;
		struct diag_comm *nc = realloc(d->comms, ncap * sizeof(*nc));

		if (!nc)
			return;
		d->comms = nc;
		d->capcomms = ncap;
	}
	memmove(&d->comms[lo + 1], &d->comms[lo], (d->ncomms - lo) * sizeof(*d->comms));
	d->comms[lo].pid = pid;
	utf8_copy(d->comms[lo].comm, sizeof(d->comms[lo].comm), comm, strlen(comm));
	d->ncomms++;
}

const char *diag_comm(const struct diag *d, long pid)
{
	size_t lo = 0, hi = d->ncomms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->comms[mid].pid == pid)
			return d->comms[mid].comm;
		if (d->comms[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return "?";
}

const char *diag_proc(const struct diag *d, long pid, char *buf, size_t size)
{
	const char *c = diag_comm(d, pid);

	if (strcmp(c, "?") == 0)
		snprintf(buf, size, "[%ld]", pid);
	else
		snprintf(buf, size, "%s[%ld]", c, pid);
	return buf;
}

const char *diag_sys(long nr, char *buf, size_t size)
{
	const char *n = sysnr_name(nr);

	if (n)
		snprintf(buf, size, "%s", n);
	else
		snprintf(buf, size, "syscall_%ld", nr);
	return buf;
}

const char *diag_errno(long err, char *buf, size_t size)
{
	/* The kernel's own restart codes never reach a program. */
	static const char *const restart[] = { "ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND", "ENOIOCTLCMD",
					       "ERESTART_RESTARTBLOCK" };
	const char *n = err > 0 && err < 4096 ? strerrorname_np((int)err) : NULL;

	if (n)
		snprintf(buf, size, "%s", n);
	else if (err >= 512 && err <= 516)
		snprintf(buf, size, "%s", restart[err - 512]);
	else
		snprintf(buf, size, "E?%ld", err);
	return buf;
}

const char *diag_addr(long fam, const int64_t *a, long port, char *buf, size_t size)
{
	unsigned p = (unsigned)(port & 0xffff);
	char ip[INET6_ADDRSTRLEN] = "?";

	p = ((p & 0xff) << 8) | (p >> 8); /* network order */
	if (fam == 2) {
		uint32_t v4 = (uint32_t)a[0];

		inet_ntop(AF_INET, &v4, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, p);
	} else if (fam == 10) {
		uint32_t v6[4] = { (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], (uint32_t)a[3] };

		inet_ntop(AF_INET6, v6, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, p);
	} else if (fam == 1) {
		snprintf(buf, size, "unix");
	} else {
		snprintf(buf, size, "family %ld", fam);
	}
	return buf;
}

double diag_rate(const struct diag *d, double n)
{
	double s = d->run && d->run->elapsed > 0 ? d->run->elapsed : d->o->duration;

	return s > 0 ? n / s : 0;
}

const char *diag_trace_opts(const struct diag *d, long pid, char *buf, size_t size)
{
	if (pid > 0)
		snprintf(buf, size, "-p %ld -d 10", pid);
	else
		snprintf(buf, size, "-d 10");
	return buf;
}

int diag_seconds(const struct diag *d, int64_t *v, int n)
{
	double s = d->run && d->run->elapsed > 0 ? d->run->elapsed : d->o->duration;
	int secs = (int)(s + 0.999);

	/* The window is the duration asked for; the kernel counts nothing after it. */
	if (d->o->duration > 0 && secs > d->o->duration)
		secs = d->o->duration;
	if (secs < 1)
		secs = 1;
	if (secs > n)
		secs = n;
	memset(v, 0, (size_t)secs * sizeof(*v));
	return secs;
}

void diag_timeline_add(json_t *obj, const char *rest, int64_t *v, int n)
{
	const char *key, *tail;
	json_t *val;

	json_object_foreach(obj, key, val)
	{
		int64_t sec, x;

		if (rest ? !bpfmap_key(key, 1, &sec, &tail) || strcmp(tail, rest) != 0 :
			   !bpfmap_key(key, 1, &sec, NULL))
			continue;
		if (sec >= 0 && sec < n && bpfmap_i64(val, &x))
			v[sec] += x;
	}
}

void diag_series(const struct diag *d, json_t *r, const char *name, const char *unit, const char *map, const char *rest)
{
	int64_t v[DIAG_MAX_SECONDS];
	int secs = diag_seconds(d, v, DIAG_MAX_SECONDS);

	diag_timeline_add(diag_get(d, map), rest, v, secs);
	report_series(r, name, unit, v, secs);
}

void diag_dist_table(json_t *sec, const char *title, const struct dist_summary *s)
{
	json_t *t = report_table(sec, title,
				 "count:int:COUNT,p50:ns:P50,p90:ns:P90,p99:ns:P99,max:ns:MAX,source:str:SOURCE");

	if (s->have)
		report_row(t,
			   json_pack("{sI sI sI sI sI ss}", "count", (json_int_t)s->count, "p50", (json_int_t)s->p50,
				     "p90", (json_int_t)s->p90, "p99", (json_int_t)s->p99, "max", (json_int_t)s->max,
				     "source", s->exact ? "exact" : "histogram"),
			   0);
}

void diag_copy_str(char *dst, size_t size, const struct scan_value *v)
{
	utf8_copy(dst, size, v->s, v->kind == SV_STR ? v->len : 0);
}

void diag_check_full(struct diag *d, const char *name, json_t *value)
{
	if (json_is_object(value) && json_object_size(value) >= BPFMAP_KEYS_MAX && !d->full_maps) {
		d->full_maps = true;
		snprintf(d->full_map, sizeof(d->full_map), "%s", name);
	}
}

static uint64_t hash_str(const char *s, long aux)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)aux;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

void diag_counts_add(struct diag_counts *c, const char *s, long aux, long pid)
{
	size_t slots = 2 * DIAG_COUNTS_MAX, i;

	if (!c->v) {
		c->v = calloc(slots, sizeof(*c->v));
		if (!c->v) {
			c->others++;
			return;
		}
	}
	for (i = hash_str(s, aux) % slots; c->v[i].s; i = (i + 1) % slots) {
		if (c->v[i].aux == aux && strcmp(c->v[i].s, s) == 0) {
			c->v[i].n++;
			return;
		}
	}
	if (c->n == DIAG_COUNTS_MAX || !(c->v[i].s = strdup(s))) {
		c->others++;
		return;
	}
	c->v[i].aux = aux;
	c->v[i].pid = pid;
	c->v[i].n = 1;
	c->n++;
}

void diag_counts_release(struct diag_counts *c)
{
	for (size_t i = 0; c->v && i < 2 * DIAG_COUNTS_MAX; i++)
		free(c->v[i].s);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static int cmp_count(const void *a, const void *b)
{
	const struct diag_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->s, y->s);
}

struct diag_count *diag_counts_sorted(const struct diag_counts *c)
{
	struct diag_count *v;
	size_t n = 0;

	if (!c->n)
		return NULL;
	v = malloc(c->n * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < 2 * DIAG_COUNTS_MAX; i++)
		if (c->v[i].s)
			v[n++] = c->v[i];
	diag_sort(v, n, sizeof(*v), cmp_count);
	return v;
}

json_t *diag_str(const char *s)
{
	return json_string(s ? s : "");
}

/* ---- the report -------------------------------------------------------------- */

static json_t *header(struct diag *d)
{
	const struct diag_opts *o = d->o;
	json_t *r = report_new(d->p->name, d->p->title ? d->p->title : d->p->name);
	uint64_t streamed = 0, over = 0;

	if (!r)
		return NULL;
	for (int i = 0; i < DIAG_MAX_RECORDS; i++) {
		streamed += d->streamed[i];
		over += d->over_cap[i];
	}
	json_object_set_new(r, "duration", json_integer(o->duration));
	json_object_set_new(r, "elapsed", json_real(d->run->elapsed));
	json_object_set_new(r, "filters",
			    json_pack("{so so}", "pid", o->pid > 0 ? json_integer(o->pid) : json_null(), "cgroup",
				      o->cgroup ? json_string(o->cgroup) : json_null()));
	json_object_set_new(r, "thresholds",
			    json_pack("{sI sI sI sI sI}", "slow_ns", (json_int_t)o->slow_ns, "rtt_ns",
				      (json_int_t)o->rtt_ns, "errors", (json_int_t)o->error_threshold, "leak",
				      (json_int_t)o->leak_threshold, "storm_per_s", (json_int_t)o->storm_threshold));
	json_object_set_new(r, "data",
			    json_pack("{sb sI sI sI sI sb}", "kernel_totals", d->run->complete, "events_streamed",
				      (json_int_t)streamed, "events_over_cap", (json_int_t)over, "events_lost",
				      (json_int_t)d->run->lost, "cap_per_record", (json_int_t)o->cap, "map_full",
				      d->full_maps));
	return r;
}

/* What the figures rest on, said once at the top. */
static void caveats(struct diag *d, json_t *r)
{
	json_t *sum = json_array();
	char buf[256];

	if (d->o->pid > 0)
		snprintf(buf, sizeof(buf), "%s: %.1f s traced, pid %ld%s%s", d->p->name, d->run->elapsed, d->o->pid,
			 d->o->cgroup ? ", cgroup " : "", d->o->cgroup ? d->o->cgroup : "");
	else
		snprintf(buf, sizeof(buf), "%s: %.1f s traced, every process%s%s", d->p->name, d->run->elapsed,
			 d->o->cgroup ? ", cgroup " : "", d->o->cgroup ? d->o->cgroup : "");
	json_array_append_new(sum, json_string(buf));
	if (!d->run->complete)
		json_array_append_new(sum, json_string("warning: bpftrace ended without its exit dump: the kernel's "
						       "counts are missing; figures come from the events alone"));
	if (d->run->lost)
		json_array_append_new(sum, json_pack("s", "warning: bpftrace lost events (the perf buffer was full): "
							  "counts stay exact, percentiles come from the histograms"));
	if (d->full_maps) {
		snprintf(buf, sizeof(buf),
			 "warning: map %s reached bpftrace's %d keys: keys past them were not "
			 "counted there",
			 d->full_map, BPFMAP_KEYS_MAX);
		json_array_append_new(sum, json_string(buf));
	}
	json_object_set_new(r, "summary", sum);
}

json_t *diag_report(struct diag *d, const struct diag_run *run, const struct diag_host *h)
{
	static const struct diag_host none;
	json_t *r;

	d->run = run;
	d->h = h ? h : &none;
	r = header(d);
	if (!r)
		return NULL;
	caveats(d, r);
	for (int i = 0; i < d->nmods; i++)
		if (d->mods[i]->report)
			d->mods[i]->report(d, d->states[i], r);
	d->run = NULL;
	d->h = NULL;
	return r;
}
