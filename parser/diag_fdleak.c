/* diag_fdleak.c - the fdleak preset: descriptors opened vs closed, what stays open;
 * and the /proc-only descriptor growth of the all preset (diag_fdgrowth). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/diag_int.h"
#include "tracespec/strbuf.h"

#define TARGET_LEN 160

struct fdproc {
	long pid;
	int64_t opened, closed, live, open_now, ranges;
	int64_t limit; /* EMFILE/ENFILE failures */
	long top_nr;   /* the syscall that opened most */
	int64_t top_n;
	bool exited, known; /* known: the /proc check could be made */
	long start, end;    /* /proc counts; -1 unknown */
};

struct target {
	long pid;
	char what[TARGET_LEN];
	int64_t n;
};

static struct fdproc *find_proc(struct fdproc *v, size_t *n, size_t cap, long pid)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i].pid == pid)
			return &v[i];
	if (*n == cap)
		return NULL;
	memset(&v[*n], 0, sizeof(v[*n]));
	v[*n].pid = pid;
	v[*n].start = v[*n].end = -1;
	return &v[(*n)++];
}

static long snap_count(const struct diag_fdsnap *s, long pid)
{
	size_t lo = 0, hi = s ? s->n : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->v[mid].pid == pid)
			return s->v[mid].count;
		if (s->v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* What a descriptor points to, with the numbers of its last part folded:
 * "/tmp/x/leak-17" and "/tmp/x/leak-18" are both "/tmp/x/leak-N". */
static void fold(const char *in, char *out, size_t size)
{
	const char *slash = strrchr(in, '/');
	size_t o = 0, from = slash ? (size_t)(slash - in) : 0;

	for (size_t i = 0; in[i] && o + 2 < size; i++) {
		if (i >= from && isdigit((unsigned char)in[i])) {
			while (isdigit((unsigned char)in[i + 1]))
				i++;
			out[o++] = 'N';
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

static void add_target(struct target **t, size_t *n, size_t *cap, long pid, const char *what)
{
	struct target *nt;

	for (size_t i = 0; i < *n; i++) {
		if ((*t)[i].pid == pid && strcmp((*t)[i].what, what) == 0) {
			(*t)[i].n++;
			return;
		}
	}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;

		nt = realloc(*t, ncap * sizeof(*nt));
		if (!nt)
			return;
		*t = nt;
		*cap = ncap;
	}
	(*t)[*n].pid = pid;
	snprintf((*t)[*n].what, TARGET_LEN, "%s", what);
	(*t)[*n].n = 1;
	(*n)++;
}

static int cmp_net(const void *a, const void *b)
{
	const struct fdproc *x = a, *y = b;
	int64_t nx = x->opened - x->closed, ny = y->opened - y->closed;

	if (nx != ny)
		return nx < ny ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_target(const void *a, const void *b)
{
	const struct target *x = a, *y = b;

	return (x->n < y->n) - (x->n > y->n);
}

/* Every process with descriptor activity, from the kernel's maps. */
static struct fdproc *gather(struct diag *d, size_t *np)
{
	json_t *open = diag_get(d, "@fd_open"), *close = diag_get(d, "@fd_close"), *lim = diag_get(d, "@fd_limit");
	size_t cap = json_object_size(open) + json_object_size(close) + json_object_size(lim) + 1, n = 0;
	struct fdproc *v = calloc(cap, sizeof(*v)), *p;
	const char *key;
	json_t *x;
	int64_t k[3], c;

	*np = 0;
	if (!v)
		return NULL;
	json_object_foreach(open, key, x)
	{
		if (bpfmap_key(key, 2, k, NULL) && bpfmap_i64(x, &c) && (p = find_proc(v, &n, cap, (long)k[0]))) {
			p->opened += c;
			if (c > p->top_n) {
				p->top_n = c;
				p->top_nr = (long)k[1];
			}
		}
	}
	json_object_foreach(close, key, x) if (bpfmap_key(key, 1, k, NULL) && bpfmap_i64(x, &c) &&
					       (p = find_proc(v, &n, cap, (long)k[0]))) p->closed += c;
	json_object_foreach(lim, key, x) if (bpfmap_key(key, 3, k, NULL) && bpfmap_i64(x, &c) &&
					     (p = find_proc(v, &n, cap, (long)k[0]))) p->limit += c;
	for (size_t i = 0; i < n; i++) {
		char pk[32];

		snprintf(pk, sizeof(pk), "%ld", v[i].pid);
		v[i].exited = diag_get_int(d, "@fd_exited", pk) != 0;
		v[i].ranges = diag_get_int(d, "@fd_crange", pk);
		v[i].start = snap_count(d->h->start, v[i].pid);
		v[i].end = snap_count(d->h->end, v[i].pid);
	}
	*np = n;
	return v;
}

/* Check each descriptor made during the trace and not closed: is it still
 * open, and what is it? */
static void check_live(struct diag *d, struct fdproc *v, size_t n, struct target **t, size_t *nt, size_t *capt)
{
	const char *key;
	json_t *x;

	json_object_foreach(diag_get(d, "@fd_live"), key, x)
	{
		int64_t k[2];
		struct fdproc *p = NULL;
		char what[TARGET_LEN], folded[TARGET_LEN];
		int rc;

		if (!bpfmap_key(key, 2, k, NULL))
			continue;
		for (size_t i = 0; i < n && !p; i++)
			if (v[i].pid == k[0])
				p = &v[i];
		if (!p || p->exited)
			continue;
		p->live++;
		rc = d->h->fd_target ? d->h->fd_target(d->h->ud, p->pid, (long)k[1], what, sizeof(what)) : -1;
		if (rc < 0)
			continue;
		p->known = true;
		if (rc == 1) {
			p->open_now++;
			fold(what, folded, sizeof(folded));
			add_target(t, nt, capt, p->pid, folded);
		}
	}
}

static void fdleak_issue(struct diag *d, json_t *r, const struct fdproc *p, const struct target *t, size_t nt)
{
	char proc[64], sys[64], spec[160], opts[64];
	int64_t net = p->opened - p->closed;
	struct strbuf sb = STRBUF_INIT(2048);
	json_t *is;
	int shown = 0;

	diag_proc(d, p->pid, proc, sizeof(proc));
	is = report_issue(r, "warning", "fd_leak",
			  "descriptor leak: %s opened %lld and closed %lld descriptors: +%lld "
			  "in %.1f s (%.1f/s)",
			  proc, (long long)p->opened, (long long)p->closed, (long long)net, d->run->elapsed,
			  diag_rate(d, (double)net));
	if (p->known) {
		for (size_t i = 0; i < nt && shown < 3; i++) {
			if (t[i].pid != p->pid)
				continue;
			strbuf_addf(&sb, "%s%s (%lld)", shown ? ", " : "", t[i].what, (long long)t[i].n);
			shown++;
		}
		report_evidence(is, "%lld of them still open at the end (checked in /proc/%ld/fd)%s%s",
				(long long)p->open_now, p->pid, shown ? ": " : "", strbuf_str(&sb));
	}
	if (p->start >= 0 && p->end >= 0)
		report_evidence(is, "/proc/%ld/fd: %ld descriptors at the start, %ld at the end", p->pid, p->start,
				p->end);
	report_evidence(is, "most were made by %s (%lld)", diag_sys(p->top_nr, sys, sizeof(sys)), (long long)p->top_n);
	if (strcmp(sys, "openat") == 0 || strcmp(sys, "open") == 0)
		snprintf(spec, sizeof(spec), "r::sys_%s ((int)retval >= 0) \"fd %%d: %%s\", retval, arg%d", sys,
			 strcmp(sys, "openat") == 0 ? 2 : 1);
	else
		snprintf(spec, sizeof(spec), "r::sys_%s ((int)retval >= 0) \"fd %%d\", retval", sys);
	snprintf(opts, sizeof(opts), "-p %ld -d 10 -U", p->pid);
	report_next(is, spec, opts, "each new descriptor with the user stack that made it: the one no close follows");
	strbuf_release(&sb);
}

static void fdleak_report(struct diag *d, void *st, json_t *r)
{
	size_t n, nt = 0, capt = 0;
	struct fdproc *v = gather(d, &n);
	struct target *t = NULL;
	json_t *sec = report_section(r, "descriptors", "Descriptors per process"), *tab, *x;
	int issues = 0;
	const char *key;
	char proc[64], sys[64], en[32], opts[64];

	(void)st;
	if (!v)
		return;
	check_live(d, v, n, &t, &nt, &capt);
	diag_sort(v, n, sizeof(*v), cmp_net);
	diag_sort(t, nt, sizeof(*t), cmp_target);
	tab = report_table(sec, "opened vs closed (counted in the kernel), most growth first",
			   "process:str:PROCESS,opened:int:OPENED,closed:int:CLOSED,net:int:NET,rate:rate:NET/S,"
			   "open_now:int:STILL OPEN,start:int:AT START,end:int:AT END,state:str:STATE");
	for (size_t i = 0; i < n; i++) {
		int64_t net = v[i].opened - v[i].closed;

		report_row(tab,
			   json_pack("{ss sI sI sI sf so so so ss}", "process",
				     diag_proc(d, v[i].pid, proc, sizeof(proc)), "opened", (json_int_t)v[i].opened,
				     "closed", (json_int_t)v[i].closed, "net", (json_int_t)net, "rate",
				     diag_rate(d, (double)net), "open_now",
				     v[i].known && !v[i].exited ? json_integer(v[i].open_now) : json_null(), "start",
				     v[i].start >= 0 ? json_integer(v[i].start) : json_null(), "end",
				     v[i].end >= 0 ? json_integer(v[i].end) : json_null(), "state",
				     v[i].exited ? "exited" : "running"),
			   d->o->top);
		if (!v[i].exited && net >= d->o->leak_threshold &&
		    (!v[i].known || v[i].open_now >= d->o->leak_threshold) && issues < d->o->top) {
			fdleak_issue(d, r, &v[i], t, nt);
			issues++;
		}
	}
	report_note(sec,
		    "STILL OPEN: descriptors made during the trace, not closed, and still in /proc/PID/fd at "
		    "its end; AT START and AT END count /proc/PID/fd. Descriptors received over a unix socket or "
		    "made by an ioctl are not counted; those closed by exec or close_range() are found by the check");
	tab = report_table(sec, "what the descriptors still open point to",
			   "process:str:PROCESS,target:str:TARGET,count:int:COUNT");
	for (size_t i = 0; i < nt; i++)
		report_row(tab,
			   json_pack("{ss ss sI}", "process", diag_proc(d, t[i].pid, proc, sizeof(proc)), "target",
				     t[i].what, "count", (json_int_t)t[i].n),
			   d->o->top);
	tab = report_table(sec, "EMFILE and ENFILE failures",
			   "process:str:PROCESS,syscall:str:SYSCALL,errno:str:ERRNO,count:int:COUNT");
	json_object_foreach(diag_get(d, "@fd_limit"), key, x)
	{
		int64_t k[3], c;
		json_t *is;

		if (!bpfmap_key(key, 3, k, NULL) || !bpfmap_i64(x, &c))
			continue;
		diag_proc(d, (long)k[0], proc, sizeof(proc));
		diag_sys((long)k[1], sys, sizeof(sys));
		diag_errno((long)k[2], en, sizeof(en));
		report_row(tab,
			   json_pack("{ss ss ss sI}", "process", proc, "syscall", sys, "errno", en, "count",
				     (json_int_t)c),
			   d->o->top);
		is = report_issue(r, "warning", "fd_limit", "%s ran out of descriptors: %s failed %lld times with %s",
				  proc, sys, (long long)c, en);
		report_evidence(is, "%s",
				k[2] == 24 ? "the process reached its RLIMIT_NOFILE (ulimit -n): a leak, or a "
					     "limit too low for its load" :
					     "the system's file table is full (fs.file-max)");
		snprintf(opts, sizeof(opts), "-p %lld -d 10", (long long)k[0]);
		report_next(is, "r::sys_close \"close fd %d\", arg1", opts, "whether it closes anything at all");
	}
	diag_series(d, r, "descriptors opened", "count", "@fd_tlo", NULL);
	diag_series(d, r, "descriptors closed", "count", "@fd_tlc", NULL);
	free(v);
	free(t);
}

const struct diag_module diag_fdleak = {
	.name = "fdleak",
	.prefix = "@fd_",
	.base = 60,
	.report = fdleak_report,
};

/* ---- all: descriptor growth from /proc alone ---------------------------------- */

static void fdgrowth_report(struct diag *d, void *st, json_t *r)
{
	const struct diag_fdsnap *a = d->h->start, *b = d->h->end;
	json_t *sec = report_section(r, "fd_growth", "Descriptor growth (/proc)"), *t;
	struct fdproc *v;
	size_t n = 0;
	char proc[64], cmd[96];

	(void)st;
	if (!a || !b) {
		report_note(sec, "no /proc counts (a replay): not measured");
		return;
	}
	v = calloc(b->n + 1, sizeof(*v));
	if (!v)
		return;
	for (size_t i = 0; i < b->n; i++) {
		long s = snap_count(a, b->v[i].pid);

		if (s < 0 || b->v[i].count == s)
			continue;
		v[n].pid = b->v[i].pid;
		v[n].start = s;
		v[n].end = b->v[i].count;
		v[n].opened = b->v[i].count;
		v[n].closed = s;
		if (strcmp(diag_comm(d, v[n].pid), "?") == 0)
			diag_set_comm(d, v[n].pid, b->v[i].comm);
		n++;
	}
	diag_sort(v, n, sizeof(*v), cmp_net);
	t = report_table(sec, "processes whose descriptor count changed, most growth first",
			 "process:str:PROCESS,start:int:AT START,end:int:AT END,net:int:NET,rate:rate:NET/S");
	for (size_t i = 0; i < n; i++) {
		long net = v[i].end - v[i].start;

		report_row(t,
			   json_pack("{ss sI sI sI sf}", "process", diag_proc(d, v[i].pid, proc, sizeof(proc)), "start",
				     (json_int_t)v[i].start, "end", (json_int_t)v[i].end, "net", (json_int_t)net,
				     "rate", diag_rate(d, (double)net)),
			   d->o->top);
		if (net >= d->o->leak_threshold) {
			json_t *is = report_issue(r, "notice", "fd_growth",
						  "descriptors of %s grew from %ld to %ld in %.1f s", proc, v[i].start,
						  v[i].end, d->run->elapsed);

			snprintf(cmd, sizeof(cmd), "diagagent diagnose fdleak -p %ld -d 30", v[i].pid);
			report_next_command(is, cmd, "which syscalls make them, and what stays open");
		}
	}
	report_note(sec, "counted in /proc/PID/fd before and after the trace; processes that started or ended "
			 "meanwhile are not in it");
	free(v);
}

const struct diag_module diag_fdgrowth = {
	.name = "fdgrowth",
	.prefix = "@fdgrowth_",
	.base = -10,
	.report = fdgrowth_report,
};
