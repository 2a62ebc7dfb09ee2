/* diag_errors.c - the errors preset: failing syscalls by syscall, errno and process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/diag_int.h"
#include "tracespec/strbuf.h"
#include "tracespec/syscalls.h"

#define REC_SAMPLE  70
#define MAX_SAMPLES 4096
#define PATH_LEN    256

struct sample {
	long nr, err, pid;
	char a0[PATH_LEN], a1[PATH_LEN];
};

struct errors {
	struct sample *s;
	size_t n, cap;
};

/* One failure kind: a syscall and an errno, with its count. */
struct kind {
	long nr, err;
	int64_t count;
};

static void errors_release(void *st)
{
	free(((struct errors *)st)->s);
}

static void errors_event(struct diag *d, void *st, const struct scan_event *ev)
{
	struct errors *e = st;
	struct sample *s;

	(void)d;
	if (ev->probe != REC_SAMPLE || e->n == MAX_SAMPLES)
		return;
	if (e->n == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 64;
		struct sample *ns = realloc(e->s, ncap * sizeof(*ns));

		if (!ns)
			return;
		e->s = ns;
		e->cap = ncap;
	}
	s = &e->s[e->n++];
	s->nr = (long)ev->values[0].i;
	s->err = (long)ev->values[1].i;
	s->pid = (long)ev->pid;
	diag_copy_str(s->a0, sizeof(s->a0), &ev->values[2]);
	diag_copy_str(s->a1, sizeof(s->a1), &ev->values[3]);
}

/* Failures a program expects as part of normal work: listed, never an issue. */
static bool benign(long nr, long err)
{
	char sys[64];

	diag_sys(nr, sys, sizeof(sys));
	if (err == 11 || err == 115 || err == 114 || (err >= 512 && err <= 516))
		return true; /* EAGAIN, EINPROGRESS, EALREADY, the kernel's restarts */
	if (err == 110 && (strcmp(sys, "futex") == 0 || strncmp(sys, "ppoll", 5) == 0 || strncmp(sys, "epoll", 5) == 0))
		return true; /* a wait that timed out */
	if (err == 25 && strcmp(sys, "ioctl") == 0)
		return true; /* isatty() */
	if (err == 10 && strncmp(sys, "wait", 4) == 0)
		return true; /* ECHILD: no children left */
	return false;
}

/* Failures that usually mean trouble, whatever their count. */
static bool serious(long err)
{
	return err == 5 || err == 28 || err == 122 || err == 30 || err == 12 || err == 24 || err == 23 || err == 13 ||
	       err == 1; /* EIO ENOSPC EDQUOT EROFS ENOMEM EMFILE ENFILE EACCES EPERM */
}

/* Which of a syscall's first two arguments is a string, from its format
 * (1-based, as trace.py counts); 0 when neither or unknown. */
static int string_arg(const struct diag *d, const char *sys)
{
	struct tp_format f;
	const char *alt;

	if (!d->h->tracefs)
		return 0;
	if (syscalls_args(d->h->tracefs, sys, &f) < 0) {
		alt = syscalls_replacement(d->h->tracefs, sys);
		if (!alt || syscalls_args(d->h->tracefs, alt, &f) < 0)
			return 0;
	}
	for (int i = 0; i < 2 && i < f.nfields; i++)
		if (f.fields[i].is_string && f.fields[i].is_pointer)
			return i + 1;
	return 0;
}

static const char *sample_of(const struct diag *d, const struct errors *e, long nr, long err, long pid, const char *sys)
{
	int arg = string_arg(d, sys);

	if (arg == 0)
		return NULL;
	for (size_t i = 0; i < e->n; i++) {
		const struct sample *s = &e->s[i];
		const char *v = arg == 1 ? s->a0 : s->a1;

		if (s->nr == nr && s->err == err && (pid < 0 || s->pid == pid) && *v)
			return v;
	}
	return NULL;
}

static int cmp_kind(const void *a, const void *b)
{
	const struct kind *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->nr != y->nr ? (x->nr < y->nr ? -1 : 1) : (x->err < y->err ? -1 : x->err > y->err);
}

/* The processes behind one kind, most first: "comm[pid] n, ..." in sb; the
 * top one in *top (with its count in *top_n). */
static void kind_procs(const struct diag *d, long nr, long err, struct strbuf *sb, long *top, int64_t *top_n)
{
	json_t *procs = diag_get(d, "@err_proc"), *v;
	struct {
		long pid;
		int64_t n;
	} best[3] = { { 0, 0 } };
	const char *key;
	int64_t k[3], n;
	char buf[64];
	int more = 0;

	json_object_foreach(procs, key, v)
	{
		if (!bpfmap_key(key, 3, k, NULL) || k[0] != nr || k[1] != err || !bpfmap_i64(v, &n))
			continue;
		more++;
		for (int i = 0; i < 3; i++) {
			if (n > best[i].n || (n == best[i].n && best[i].pid && k[2] < best[i].pid)) {
				memmove(&best[i + 1], &best[i], (size_t)(2 - i) * sizeof(best[0]));
				best[i].pid = (long)k[2];
				best[i].n = n;
				break;
			}
		}
	}
	for (int i = 0; i < 3 && best[i].n; i++) {
		strbuf_addf(sb, "%s%s %lld", i ? ", " : "", diag_proc(d, best[i].pid, buf, sizeof(buf)),
			    (long long)best[i].n);
		more--;
	}
	if (more > 0)
		strbuf_addf(sb, " (+%d more)", more);
	*top = best[0].pid;
	*top_n = best[0].n;
}

static void errors_issue(struct diag *d, const struct errors *e, json_t *r, const struct kind *k, int64_t calls)
{
	char sys[64], en[32], spec[256], opts[64], proc[160];
	struct strbuf sb = STRBUF_INIT(1024);
	const char *sample, *alt;
	long top;
	int64_t top_n;
	int arg;
	json_t *is;

	diag_sys(k->nr, sys, sizeof(sys));
	diag_errno(k->err, en, sizeof(en));
	kind_procs(d, k->nr, k->err, &sb, &top, &top_n);
	is = report_issue(r, serious(k->err) ? "warning" : "notice", "syscall_errors",
			  "%s failed %lld times with %s (%s)", sys, (long long)k->count, en, strerror((int)k->err));
	if (calls > 0)
		report_evidence(is, "%lld of %lld %s calls (%.1f%%), %.1f/s", (long long)k->count, (long long)calls,
				sys, 100.0 * (double)k->count / (double)calls, diag_rate(d, (double)k->count));
	report_evidence(is, "by %s", strbuf_str(&sb));
	sample = sample_of(d, e, k->nr, k->err, top, sys);
	if (!sample)
		sample = sample_of(d, e, k->nr, k->err, -1, sys);
	if (sample)
		report_evidence(is, "e.g. %s", sample);
	/* The next trace: that syscall's failures with this errno, its path if it has one. */
	alt = d->h->tracefs && !syscalls_exists(d->h->tracefs, sys) ? syscalls_replacement(d->h->tracefs, sys) : NULL;
	arg = string_arg(d, sys);
	if (arg)
		snprintf(spec, sizeof(spec), "r::sys_%s ((int)retval == -%ld) \"%s: %%s\", arg%d", alt ? alt : sys,
			 k->err, en, arg);
	else
		snprintf(spec, sizeof(spec), "r::sys_%s ((int)retval == -%ld)", alt ? alt : sys, k->err);
	/* One process behind most of it: follow that one. */
	diag_trace_opts(d, top_n * 5 >= k->count * 4 ? top : d->o->pid, opts, sizeof(opts));
	snprintf(proc, sizeof(proc), "each failing %s with its process%s", sys, arg ? " and path" : "");
	report_next(is, spec, opts, proc);
	strbuf_release(&sb);
}

static void errors_report(struct diag *d, void *st, json_t *r)
{
	struct errors *e = st;
	json_t *fails = diag_get(d, "@err_n"), *calls = diag_get(d, "@err_calls"), *v;
	json_t *sec = report_section(r, "errors", "Failing syscalls"), *t;
	struct kind *kinds = calloc(json_object_size(fails) + 1, sizeof(*kinds));
	struct kind *busy = calloc(json_object_size(calls) + 1, sizeof(*busy));
	size_t nk = 0, nb = 0;
	int64_t total_calls = 0, total_fails = 0;
	int issues = 0;
	const char *key;
	char sys[64], en[32], cnt[32];

	if (!kinds || !busy)
		goto out;
	json_object_foreach(fails, key, v)
	{
		int64_t k[2];

		if (bpfmap_key(key, 2, k, NULL) && bpfmap_i64(v, &kinds[nk].count)) {
			kinds[nk].nr = (long)k[0];
			kinds[nk].err = (long)k[1];
			total_fails += kinds[nk].count;
			nk++;
		}
	}
	json_object_foreach(calls, key, v)
	{
		int64_t nr;

		if (bpfmap_key(key, 1, &nr, NULL) && nr >= 0 && bpfmap_i64(v, &busy[nb].count)) {
			busy[nb].nr = (long)nr;
			total_calls += busy[nb].count;
			nb++;
		}
	}
	diag_sort(kinds, nk, sizeof(*kinds), cmp_kind);
	diag_sort(busy, nb, sizeof(*busy), cmp_kind);
	report_note(sec, "%lld syscalls, %lld failed (%.2f%%): %.1f failures/s", (long long)total_calls,
		    (long long)total_fails, total_calls ? 100.0 * (double)total_fails / (double)total_calls : 0.0,
		    diag_rate(d, (double)total_fails));
	t = report_table(sec, "by syscall and errno (counted in the kernel)",
			 "syscall:str:SYSCALL,errno:str:ERRNO,count:int:COUNT,rate:rate:PER S,share:pct:OF CALLS,"
			 "processes:str:PROCESSES,sample:str:SAMPLE");
	for (size_t i = 0; i < nk; i++) {
		struct strbuf sb = STRBUF_INIT(1024);
		int64_t top_n, all;
		long top;
		const char *sample;

		diag_sys(kinds[i].nr, sys, sizeof(sys));
		diag_errno(kinds[i].err, en, sizeof(en));
		kind_procs(d, kinds[i].nr, kinds[i].err, &sb, &top, &top_n);
		snprintf(cnt, sizeof(cnt), "%ld", kinds[i].nr);
		all = diag_get_int(d, "@err_calls", cnt);
		sample = sample_of(d, e, kinds[i].nr, kinds[i].err, top, sys);
		if (!sample)
			sample = sample_of(d, e, kinds[i].nr, kinds[i].err, -1, sys);
		report_row(t,
			   json_pack("{ss ss sI sf sf ss so}", "syscall", sys, "errno", en, "count",
				     (json_int_t)kinds[i].count, "rate", diag_rate(d, (double)kinds[i].count), "share",
				     all ? 100.0 * (double)kinds[i].count / (double)all : 0.0, "processes",
				     strbuf_str(&sb), "sample", sample ? json_string(sample) : json_null()),
			   d->o->top * 2);
		strbuf_release(&sb);
		if (kinds[i].count >= d->o->error_threshold && !benign(kinds[i].nr, kinds[i].err) &&
		    issues < d->o->top) {
			errors_issue(d, e, r, &kinds[i], all);
			issues++;
		}
	}
	report_note(sec, "EAGAIN, EINPROGRESS, EALREADY, the kernel's ERESTART* codes, timed-out waits, ENOTTY "
			 "from ioctl and ECHILD from wait are normal work: listed, never an issue");
	t = report_table(sec, "busiest syscalls",
			 "syscall:str:SYSCALL,calls:int:CALLS,rate:rate:PER S,failed:int:FAILED");
	for (size_t i = 0; i < nb && (int)i < d->o->top; i++) {
		int64_t failed = 0;

		for (size_t j = 0; j < nk; j++)
			if (kinds[j].nr == busy[i].nr)
				failed += kinds[j].count;
		diag_sys(busy[i].nr, sys, sizeof(sys));
		report_row(t,
			   json_pack("{ss sI sf sI}", "syscall", sys, "calls", (json_int_t)busy[i].count, "rate",
				     diag_rate(d, (double)busy[i].count), "failed", (json_int_t)failed),
			   0);
	}
	diag_series(d, r, "failed syscalls", "count", "@err_tl", NULL);
out:
	free(kinds);
	free(busy);
}

const struct diag_module diag_errors = {
	.name = "errors",
	.prefix = "@err_",
	.base = 70,
	.state_size = sizeof(struct errors),
	.release = errors_release,
	.event = errors_event,
	.report = errors_report,
};
