/* diag_sched.c - the sched preset: run-queue latency, who waits most, off-CPU time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/diag_int.h"

#define REC_RUNQ 50
#define MAX_SLOW 4096

struct wait {
	long tid, tgid;
	uint64_t lat;
	long cpu;
	char comm[17];
};

struct schedst {
	struct wait *slow;
	size_t n;
};

struct proc {
	long pid;
	int64_t threads, waits, total, max, slow, off, vol, invol;
};

static void sched_release(void *st)
{
	free(((struct schedst *)st)->slow);
}

static void sched_event(struct diag *d, void *st, const struct scan_event *ev)
{
	struct schedst *s = st;
	struct wait *w;

	(void)d;
	if (ev->probe != REC_RUNQ)
		return;
	if (!s->slow && !(s->slow = calloc(MAX_SLOW, sizeof(*s->slow))))
		return;
	if (s->n == MAX_SLOW)
		return;
	w = &s->slow[s->n++];
	w->tid = (long)ev->tid;
	w->tgid = (long)ev->values[0].i;
	w->lat = (uint64_t)ev->values[2].i;
	w->cpu = (long)ev->cpu;
	utf8_copy(w->comm, sizeof(w->comm), ev->comm, ev->comm_len);
}

static int cmp_wait(const void *a, const void *b)
{
	const struct wait *x = a, *y = b;

	return (x->lat < y->lat) - (x->lat > y->lat);
}

static int cmp_proc_wait(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	return (x->total < y->total) - (x->total > y->total);
}

static int cmp_proc_off(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	return (x->off < y->off) - (x->off > y->off);
}

static struct proc *proc_of(struct proc *v, size_t *n, size_t cap, long pid)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i].pid == pid)
			return &v[i];
	if (*n == cap)
		return NULL;
	memset(&v[*n], 0, sizeof(v[*n]));
	v[*n].pid = pid;
	return &v[(*n)++];
}

/* A thread's process, as learned when it left a CPU; the thread itself if never seen so. */
static long tgid_of(const struct diag *d, const char *tidkey, int64_t tid)
{
	int64_t tg = diag_get_int(d, "@sch_tg", tidkey);

	return tg > 0 ? (long)tg : (long)tid;
}

static void sched_report(struct diag *d, void *st, json_t *r)
{
	struct schedst *s = st;
	json_t *sec = report_section(r, "runq", "Run-queue latency"), *t, *v;
	json_t *wait = diag_get(d, "@sch_wait"), *names = diag_get(d, "@sch_name");
	size_t cap = json_object_size(wait) + json_object_size(diag_get(d, "@sch_offt")) +
		     json_object_size(diag_get(d, "@sch_cs")) + 1,
	       n = 0;
	struct proc *pv = calloc(cap, sizeof(*pv)), *p;
	struct bpfmap_hist h;
	struct dist none;
	struct dist_summary sum;
	int64_t slow = 0;
	const char *key;
	char proc[64], ms[32], mx[32], opts[64];

	if (!pv)
		return;
	dist_init(&none);
	dist_summary(&none, 0, diag_get_hist(d, "@sch_lat", NULL, &h) ? &h : NULL,
		     (uint64_t)diag_get_int(d, "@sch_max", NULL), &sum);
	diag_dist_table(sec, "from wakeup or preemption to running again (every CPU)", &sum);
	report_note(sec, "percentiles are estimated from the kernel's log2 histogram (every switch is too many to "
			 "stream); the max is exact");
	/* Per process: threads grouped by the process they were seen in. */
	json_object_foreach(wait, key, v)
	{
		int64_t tid, x;

		if (!bpfmap_key(key, 1, &tid, NULL) || !bpfmap_i64(v, &x) ||
		    !(p = proc_of(pv, &n, cap, tgid_of(d, key, tid))))
			continue;
		p->threads++;
		p->total += x;
		p->waits += diag_get_int(d, "@sch_waitn", key);
		if (diag_get_int(d, "@sch_waitmax", key) > p->max)
			p->max = diag_get_int(d, "@sch_waitmax", key);
		p->slow += diag_get_int(d, "@sch_slow", key);
		slow += diag_get_int(d, "@sch_slow", key);
		if (json_is_string(json_object_get(names, key)) && strcmp(diag_comm(d, p->pid), "?") == 0 &&
		    p->pid == tid)
			diag_set_comm(d, p->pid, json_string_value(json_object_get(names, key)));
	}
	json_object_foreach(diag_get(d, "@sch_offt"), key, v)
	{
		int64_t tid, x;

		if (bpfmap_key(key, 1, &tid, NULL) && bpfmap_i64(v, &x) &&
		    (p = proc_of(pv, &n, cap, tgid_of(d, key, tid))))
			p->off += x;
	}
	json_object_foreach(diag_get(d, "@sch_cs"), key, v)
	{
		int64_t k[2], x;

		if (bpfmap_key(key, 2, k, NULL) && bpfmap_i64(v, &x) && (p = proc_of(pv, &n, cap, (long)k[0])))
			*(k[1] ? &p->invol : &p->vol) += x;
	}
	report_ns(d->o->slow_ns, ms, sizeof(ms));
	diag_sort(pv, n, sizeof(*pv), cmp_proc_wait);
	sec = report_section(r, "runq_procs", "Processes waiting most for a CPU");
	t = report_table(sec, "by total run-queue wait",
			 "process:str:PROCESS,threads:int:THREADS,waits:int:WAITS,"
			 "total:ns:TOTAL WAIT,avg:ns:AVG,max:ns:MAX,slow:int:SLOW WAITS,"
			 "vol:int:SWITCHES,invol:int:PREEMPTED");
	for (size_t i = 0; i < n; i++) {
		if (!pv[i].waits)
			continue;
		report_row(t,
			   json_pack("{ss sI sI sI sI sI sI sI sI}", "process",
				     diag_proc(d, pv[i].pid, proc, sizeof(proc)), "threads", (json_int_t)pv[i].threads,
				     "waits", (json_int_t)pv[i].waits, "total", (json_int_t)pv[i].total, "avg",
				     (json_int_t)(pv[i].total / pv[i].waits), "max", (json_int_t)pv[i].max, "slow",
				     (json_int_t)pv[i].slow, "vol", (json_int_t)pv[i].vol, "invol",
				     (json_int_t)pv[i].invol),
			   d->o->top);
	}
	report_note(sec,
		    "SLOW WAITS: waits of %s or more; a thread is counted in its process once it has been "
		    "seen leaving a CPU, before that as itself",
		    ms);
	if (slow > 0 && n > 0) {
		json_t *is = report_issue(r, "warning", "runq_latency", "%lld run-queue waits of %s or more (max %s)",
					  (long long)slow, ms, report_ns(sum.max, mx, sizeof(mx)));

		report_evidence(is, "waiting most: %s (%s in all, max %s)", diag_proc(d, pv[0].pid, proc, sizeof(proc)),
				report_ns((uint64_t)pv[0].total, ms, sizeof(ms)),
				report_ns((uint64_t)pv[0].max, mx, sizeof(mx)));
		report_evidence(is, "runnable threads outnumber the CPUs, or a CPU hog or a CPU limit (cgroup cpu.max) "
				    "holds them back");
		report_next(is,
			    "t:sched:sched_switch (args->prev_state == 0) \"%s preempted by %s\", args->prev_comm, "
			    "args->next_comm",
			    diag_trace_opts(d, -1, opts, sizeof(opts)), "who takes the CPU from whom");
	}
	/* The slowest single waits, from the events. */
	diag_sort(s->slow, s->n, sizeof(*s->slow), cmp_wait);
	t = report_table(sec, "slowest waits", "thread:str:THREAD,process:str:PROCESS,latency:ns:WAIT,cpu:int:CPU");
	for (size_t i = 0; i < s->n; i++) {
		char th[48];

		snprintf(th, sizeof(th), "%s[%ld]", s->slow[i].comm, s->slow[i].tid);
		report_row(t,
			   json_pack("{ss ss sI sI}", "thread", th, "process",
				     s->slow[i].tgid > 0 ? diag_proc(d, s->slow[i].tgid, proc, sizeof(proc)) : "?",
				     "latency", (json_int_t)s->slow[i].lat, "cpu", (json_int_t)s->slow[i].cpu),
			   d->o->top);
	}
	diag_sort(pv, n, sizeof(*pv), cmp_proc_off);
	sec = report_section(r, "offcpu", "Off-CPU time");
	t = report_table(sec, "time blocked (sleeping, waiting for I/O or a lock), by process",
			 "process:str:PROCESS,off:ns:OFF-CPU,threads:int:THREADS");
	for (size_t i = 0; i < n; i++)
		if (pv[i].off)
			report_row(t,
				   json_pack("{ss sI sI}", "process", diag_proc(d, pv[i].pid, proc, sizeof(proc)),
					     "off", (json_int_t)pv[i].off, "threads", (json_int_t)pv[i].threads),
				   d->o->top);
	report_note(sec, "off-CPU time of an idle thread (a server waiting for work) is normal: compare it with the "
			 "time the request took");
	diag_series(d, r, "run-queue wait", "ns", "@sch_tl", NULL);
	free(pv);
}

const struct diag_module diag_sched = {
	.name = "sched",
	.prefix = "@sch_",
	.base = 50,
	.state_size = sizeof(struct schedst),
	.release = sched_release,
	.event = sched_event,
	.report = sched_report,
};
