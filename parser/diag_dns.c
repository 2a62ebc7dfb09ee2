/* diag_dns.c - the dns preset: lookups, latency and failures per host name. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/diag_int.h"

#define REC_LOOKUP 30
#define MAX_NAMES  4096
#define NAME_LEN   256

struct name {
	char name[NAME_LEN];
	int64_t n, failed, time, max;
	int64_t code; /* the commonest failure */
	int64_t code_n;
	struct dist lat;
};

struct dnsst {
	struct name *v;
	size_t n;
};

static void dns_release(void *st)
{
	struct dnsst *s = st;

	for (size_t i = 0; i < s->n; i++)
		dist_release(&s->v[i].lat);
	free(s->v);
}

static struct name *name_of(struct dnsst *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	if (s->n == MAX_NAMES)
		return NULL;
	if (!s->v && !(s->v = calloc(MAX_NAMES, sizeof(*s->v))))
		return NULL;
	snprintf(s->v[s->n].name, NAME_LEN, "%s", name);
	dist_init(&s->v[s->n].lat);
	return &s->v[s->n++];
}

static void dns_event(struct diag *d, void *st, const struct scan_event *ev)
{
	char name[NAME_LEN];
	struct name *x;

	(void)d;
	if (ev->probe != REC_LOOKUP)
		return;
	diag_copy_str(name, sizeof(name), &ev->values[4]);
	x = name_of(st, name);
	if (x)
		dist_add(&x->lat, (uint64_t)ev->values[3].i);
}

/* A result code as the preset gives it (see dns.bt). */
static const char *code_name(int64_t code, char *buf, size_t size)
{
	static const char *const eai[] = { NULL,	  "EAI_BADFLAGS",   "EAI_NONAME", "EAI_AGAIN",
					   "EAI_FAIL",	  "EAI_NODATA",	    "EAI_FAMILY", "EAI_SOCKTYPE",
					   "EAI_SERVICE", "EAI_ADDRFAMILY", "EAI_MEMORY", "EAI_SYSTEM",
					   "EAI_OVERFLOW" };
	char en[32];

	if (code == 0)
		snprintf(buf, size, "ok");
	else if (code < 0 && -code < (int64_t)(sizeof(eai) / sizeof(eai[0])))
		snprintf(buf, size, "%s (%s)", eai[-code], gai_strerror((int)code));
	else if (code < 0)
		snprintf(buf, size, "EAI %lld (%s)", (long long)code, gai_strerror((int)code));
	else if (code == 1000 || code == 3000)
		snprintf(buf, size, "not found");
	else if (code > 2000 && code < 3000)
		snprintf(buf, size, "%s", diag_errno((long)(code - 2000), en, sizeof(en)));
	else
		snprintf(buf, size, "code %lld", (long long)code);
	return buf;
}

/* ERANGE from a _r function: the caller's buffer was small; it asks again. */
static bool failed(int64_t code)
{
	return code != 0 && code != 2000 + 34;
}

static int cmp_name(const void *a, const void *b)
{
	const struct name *x = a, *y = b;

	if (x->failed != y->failed)
		return x->failed < y->failed ? 1 : -1;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void dns_report(struct diag *d, void *st, json_t *r)
{
	struct dnsst *s = st;
	json_t *sec = report_section(r, "dns", "Name resolution (libc)"), *t, *v;
	int64_t byfn[5] = { 0 }, total = 0, nfail = 0;
	struct bpfmap_hist h;
	struct dist_summary all;
	struct dist every;
	const char *key, *rest;
	char code[96], ms[32], mx[32], opts[64];
	int issues = 0;

	json_object_foreach(diag_get(d, "@dns_n"), key, v)
	{
		int64_t k[2], c;
		struct name *x;

		if (!bpfmap_key(key, 2, k, &rest) || !bpfmap_i64(v, &c) || !(x = name_of(s, rest)))
			continue;
		x->n += c;
		total += c;
		if (k[0] >= 0 && k[0] < 5)
			byfn[k[0]] += c;
		if (failed(k[1])) {
			x->failed += c;
			nfail += c;
			if (c > x->code_n) {
				x->code_n = c;
				x->code = k[1];
			}
		}
	}
	dist_init(&every);
	for (size_t i = 0; i < s->n; i++) {
		char nk[NAME_LEN + 8];

		snprintf(nk, sizeof(nk), "%s", s->v[i].name);
		s->v[i].time = diag_get_int(d, "@dns_time", nk);
		s->v[i].max = diag_get_int(d, "@dns_nmax", nk);
		for (size_t j = 0; j < s->v[i].lat.n; j++)
			dist_add(&every, s->v[i].lat.v[j]);
	}
	report_note(sec,
		    "%lld lookups (%.1f/s), %lld failed: getaddrinfo %lld, gethostbyname %lld, gethostbyname2 %lld, "
		    "gethostbyname_r %lld, gethostbyname2_r %lld",
		    (long long)total, diag_rate(d, (double)total), (long long)nfail, (long long)byfn[0],
		    (long long)byfn[1], (long long)byfn[2], (long long)byfn[3], (long long)byfn[4]);
	dist_summary(&every, (uint64_t)total, diag_get_hist(d, "@dns_lat", NULL, &h) ? &h : NULL,
		     (uint64_t)diag_get_int(d, "@dns_max", NULL), &all);
	diag_dist_table(sec, "latency of every lookup", &all);
	dist_release(&every);
	diag_sort(s->v, s->n, sizeof(*s->v), cmp_name);
	t = report_table(sec, "by host name (counted in the kernel), failures first",
			 "name:str:NAME,lookups:int:LOOKUPS,failed:int:FAILED,result:str:FAILED "
			 "WITH,avg:ns:AVG,p99:ns:P99,max:ns:MAX");
	report_ns(d->o->rtt_ns, ms, sizeof(ms));
	for (size_t i = 0; i < s->n; i++) {
		struct name *x = &s->v[i];
		struct dist_summary ns;

		if (!x->n)
			continue;
		dist_summary(&x->lat, (uint64_t)x->n, NULL, (uint64_t)x->max, &ns);
		report_row(t,
			   json_pack("{ss sI sI so sI so sI}", "name", x->name[0] ? x->name : "(null)", "lookups",
				     (json_int_t)x->n, "failed", (json_int_t)x->failed, "result",
				     x->failed ? json_string(code_name(x->code, code, sizeof(code))) : json_null(),
				     "avg", (json_int_t)(x->time / x->n), "p99",
				     ns.exact ? json_integer((json_int_t)ns.p99) : json_null(), "max",
				     (json_int_t)x->max),
			   d->o->top * 2);
		if (x->failed >= d->o->error_threshold && issues < d->o->top) {
			json_t *is = report_issue(r, "warning", "dns_failures",
						  "%lld of %lld lookups of '%s' failed: %s", (long long)x->failed,
						  (long long)x->n, x->name, code_name(x->code, code, sizeof(code)));

			report_evidence(is, "%.1f failed lookups/s", diag_rate(d, (double)x->failed));
			report_next(is, "r:c:getaddrinfo ((int)retval != 0) \"getaddrinfo failed: %d\", retval",
				    diag_trace_opts(d, d->o->pid, opts, sizeof(opts)),
				    "each failing lookup with its process");
			issues++;
		}
		if (x->max >= (int64_t)d->o->rtt_ns && issues < d->o->top) {
			json_t *is = report_issue(r, "warning", "slow_dns",
						  "slow lookups of '%s': up to %s (threshold %s)", x->name,
						  report_ns((uint64_t)x->max, mx, sizeof(mx)), ms);

			report_evidence(is, "%lld lookups, %s on average", (long long)x->n,
					report_ns((uint64_t)(x->time / x->n), code, sizeof(code)));
			report_next(is, "p:c:getaddrinfo \"lookup %s\", arg1",
				    diag_trace_opts(d, d->o->pid, opts, sizeof(opts)),
				    "when and by whom each lookup starts (compare with the resolver's timeouts in "
				    "resolv.conf)");
			issues++;
		}
	}
	report_note(sec, "only lookups through libc's resolver functions are seen: not static binaries, not Go's own "
			 "resolver, not a process with another copy of libc (a container's)");
	t = report_table(sec, "by process", "process:str:PROCESS,ok:int:OK,failed:int:FAILED");
	{
		json_t *pm = diag_get(d, "@dns_p");
		long pids[256];
		int np = 0;
		char proc[64], pk[48];

		json_object_foreach(pm, key, v)
		{
			int64_t k[2];
			int i;

			if (!bpfmap_key(key, 2, k, NULL))
				continue;
			for (i = 0; i < np && pids[i] != k[0]; i++)
				;
			if (i == np && np < 256)
				pids[np++] = (long)k[0];
		}
		for (int i = 0; i < np; i++) {
			int64_t ok, bad;

			snprintf(pk, sizeof(pk), "%ld,0", pids[i]);
			ok = diag_get_int(d, "@dns_p", pk);
			snprintf(pk, sizeof(pk), "%ld,1", pids[i]);
			bad = diag_get_int(d, "@dns_p", pk);
			report_row(t,
				   json_pack("{ss sI sI}", "process", diag_proc(d, pids[i], proc, sizeof(proc)), "ok",
					     (json_int_t)ok, "failed", (json_int_t)bad),
				   d->o->top);
		}
	}
	diag_series(d, r, "lookups ok", "count", "@dns_tl", "0");
	diag_series(d, r, "lookups failed", "count", "@dns_tl", "1");
}

const struct diag_module diag_dns = {
	.name = "dns",
	.prefix = "@dns_",
	.base = 30,
	.state_size = sizeof(struct dnsst),
	.release = dns_release,
	.event = dns_event,
	.report = dns_report,
};
