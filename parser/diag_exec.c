/* diag_exec.c - the exec preset: executions, exits, short-lived storms, forks. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/diag_int.h"
#include "tracespec/strbuf.h"

#define REC_EXEC 40
#define REC_ARG	 41
#define REC_EXIT 42
#define MAX_ARGS 8
#define ARG_LEN	 128
#define PENDING	 256 /* threads with arguments waiting for their exec */
#define CMD_LEN	 1024

struct pending {
	long tid;
	int nargs;
	char args[MAX_ARGS][ARG_LEN];
	char failed_file[ARG_LEN]; /* the last failed attempt of this thread (a PATH search?) */
	long failed_err;
	long failed_pid;
	char failed_cmd[CMD_LEN];
};

struct execst {
	struct pending pend[PENDING];
	int next_slot;
	struct diag_counts cmds;   /* command lines that ran */
	struct diag_counts failed; /* command lines that failed to exec, by errno */
	int64_t path_search;	   /* failed attempts an exec of the same name followed */
	int64_t nexec, nfailed;
};

static void exec_release(void *st)
{
	struct execst *e = st;

	diag_counts_release(&e->cmds);
	diag_counts_release(&e->failed);
}

static struct pending *pending_of(struct execst *e, long tid, bool make)
{
	struct pending *p;

	for (int i = 0; i < PENDING; i++)
		if (e->pend[i].tid == tid)
			return &e->pend[i];
	if (!make)
		return NULL;
	/* The oldest slot goes: a thread whose exec never came. */
	p = &e->pend[e->next_slot];
	e->next_slot = (e->next_slot + 1) % PENDING;
	memset(p, 0, sizeof(*p));
	p->tid = tid;
	return p;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* "file arg1 arg2 ..." (argv[0] is replaced by the file that ran). */
static void cmdline(const char *file, const struct pending *p, char *out, size_t size)
{
	struct strbuf sb = STRBUF_INIT(CMD_LEN - 1);

	strbuf_puts(&sb, file);
	for (int i = 1; p && i < p->nargs; i++) {
		strbuf_putc(&sb, ' ');
		strbuf_puts(&sb, p->args[i]);
	}
	snprintf(out, size, "%s", strbuf_str(&sb));
	strbuf_release(&sb);
}

static void flush_failure(struct execst *e, struct pending *p)
{
	if (p && p->failed_file[0]) {
		diag_counts_add(&e->failed, p->failed_cmd, p->failed_err, p->failed_pid);
		e->nfailed++;
		p->failed_file[0] = '\0';
	}
}

static void exec_event(struct diag *d, void *st, const struct scan_event *ev)
{
	struct execst *e = st;
	const struct scan_value *v = ev->values;
	struct pending *p;
	char file[ARG_LEN], cmd[CMD_LEN];

	(void)d;
	if (ev->probe == REC_ARG) {
		p = pending_of(e, (long)ev->tid, true);
		if (v[0].i == 0)
			p->nargs = 0; /* a new exec on this thread */
		if (v[0].i >= 0 && v[0].i < MAX_ARGS && v[0].i == p->nargs) {
			diag_copy_str(p->args[p->nargs], ARG_LEN, &v[1]);
			p->nargs++;
		}
		return;
	}
	if (ev->probe != REC_EXEC)
		return;
	diag_copy_str(file, sizeof(file), &v[4]);
	p = pending_of(e, (long)v[1].i, false);
	cmdline(file, p, cmd, sizeof(cmd));
	/* A failure followed by another attempt at the same name on the same
	 * thread is a PATH search (execvp), not a failure. */
	if (p && p->failed_file[0]) {
		if (strcmp(base(p->failed_file), base(file)) == 0 && p->failed_err == 2) {
			e->path_search++;
			p->failed_file[0] = '\0';
		} else {
			flush_failure(e, p);
		}
	}
	if (v[2].i) {
		e->nexec++;
		diag_counts_add(&e->cmds, cmd, 0, (long)ev->pid);
		if (p)
			p->tid = 0; /* done with this thread's arguments */
	} else {
		if (!p)
			p = pending_of(e, (long)ev->tid, true);
		snprintf(p->failed_file, sizeof(p->failed_file), "%s", file);
		snprintf(p->failed_cmd, sizeof(p->failed_cmd), "%s", cmd);
		p->failed_err = (long)v[3].i;
		p->failed_pid = (long)ev->pid;
	}
}

/* ---- the report ------------------------------------------------------------------ */

struct exitkind {
	long code, sig;
	const char *comm;
	int64_t n;
};

static int cmp_exit(const void *a, const void *b)
{
	const struct exitkind *x = a, *y = b;

	return (x->n < y->n) - (x->n > y->n);
}

static const char *signame(long sig, char *buf, size_t size)
{
	const char *n = sig > 0 && sig < NSIG ? sigabbrev_np((int)sig) : NULL;

	if (n)
		snprintf(buf, size, "SIG%s", n);
	else
		snprintf(buf, size, "signal %ld", sig);
	return buf;
}

static bool crash_signal(long sig)
{
	return sig == SIGSEGV || sig == SIGABRT || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGSYS;
}

/* The most frequent key of a map {"PID": n}: its pid and count. */
static long top_key(const struct diag *d, const char *map, int64_t *count)
{
	const char *key;
	json_t *v;
	long best = -1;

	*count = 0;
	json_object_foreach(diag_get(d, map), key, v)
	{
		int64_t k, n;

		if (bpfmap_key(key, 1, &k, NULL) && bpfmap_i64(v, &n) && (n > *count || (n == *count && k < best))) {
			*count = n;
			best = (long)k;
		}
	}
	return best;
}

static void exits_section(struct diag *d, json_t *r)
{
	json_t *sec = report_section(r, "exits", "Process exits"), *t, *exits = diag_get(d, "@exec_exits"), *v;
	struct exitkind *k = calloc(json_object_size(exits) + 1, sizeof(*k));
	size_t n = 0;
	int64_t total = 0, failed = 0;
	const char *key, *comm;
	char sig[32], opts[64];

	if (!k)
		return;
	json_object_foreach(exits, key, v)
	{
		int64_t kk[2];

		if (!bpfmap_key(key, 2, kk, &comm) || !bpfmap_i64(v, &k[n].n))
			continue;
		k[n].code = (long)kk[0];
		k[n].sig = (long)kk[1];
		k[n].comm = comm;
		total += k[n].n;
		if (kk[0] || kk[1])
			failed += k[n].n;
		n++;
	}
	diag_sort(k, n, sizeof(*k), cmp_exit);
	report_note(sec, "%lld processes ended, %lld with a non-zero code or a signal", (long long)total,
		    (long long)failed);
	t = report_table(sec, "by command and how it ended", "comm:str:COMMAND,how:str:ENDED,count:int:COUNT");
	for (size_t i = 0; i < n; i++) {
		char how[48];

		if (k[i].sig)
			signame(k[i].sig, how, sizeof(how));
		else
			snprintf(how, sizeof(how), "exit %ld", k[i].code);
		report_row(t, json_pack("{ss ss sI}", "comm", k[i].comm, "how", how, "count", (json_int_t)k[i].n),
			   d->o->top);
		if (crash_signal(k[i].sig)) {
			json_t *is = report_issue(r, "warning", "crashes", "%s was killed by %s (%lld time%s)",
						  k[i].comm, signame(k[i].sig, sig, sizeof(sig)), (long long)k[i].n,
						  k[i].n == 1 ? "" : "s");
			char spec[160];

			report_evidence(is,
					"a crash: look for a core dump (coredumpctl list) or run it under a debugger");
			snprintf(spec, sizeof(spec),
				 "t:signal:signal_deliver (args->sig == %ld) \"%%s got signal %%d\", comm, args->sig",
				 k[i].sig);
			report_next(is, spec, diag_trace_opts(d, -1, opts, sizeof(opts)),
				    "who gets the signal, with its stack (add -U)");
		} else if (!k[i].sig && k[i].code && k[i].n >= d->o->error_threshold) {
			json_t *is = report_issue(r, "notice", "exit_failures", "%s exited with code %ld %lld times",
						  k[i].comm, k[i].code, (long long)k[i].n);
			char spec[128];

			report_evidence(is, "%.1f/s", diag_rate(d, (double)k[i].n));
			snprintf(spec, sizeof(spec), "t:sched:sched_process_exec \"exec %%s\", args->filename");
			report_next(is, spec, diag_trace_opts(d, -1, opts, sizeof(opts)),
				    "what runs it, and how often");
		}
	}
	free(k);
}

static void exec_report(struct diag *d, void *st, json_t *r)
{
	struct execst *e = st;
	json_t *sec = report_section(r, "exec", "Process executions"), *t;
	struct diag_count *cmds, *failed;
	int64_t tl[DIAG_MAX_SECONDS], peak = 0, nexec, nfail, shorts = 0, parent_n;
	int secs, peak_at = 0;
	long parent;
	char proc[64], en[32], opts[64];
	const char *key;
	json_t *v;

	for (int i = 0; i < PENDING; i++)
		flush_failure(e, &e->pend[i]);
	nexec = diag_get_int(d, "@exec_n", "1,0");
	nfail = 0;
	json_object_foreach(diag_get(d, "@exec_n"), key, v)
	{
		int64_t k[2], n;

		if (bpfmap_key(key, 2, k, NULL) && k[0] == 0 && bpfmap_i64(v, &n))
			nfail += n;
	}
	report_note(sec, "%lld executions (%.1f/s), %lld failed attempts (%lld of them a PATH search that went on)",
		    (long long)nexec, diag_rate(d, (double)nexec), (long long)nfail, (long long)e->path_search);
	cmds = diag_counts_sorted(&e->cmds);
	t = report_table(sec, "command lines, most frequent first",
			 "command:str:COMMAND,count:int:COUNT,process:str:FIRST PID");
	for (size_t i = 0; cmds && i < e->cmds.n; i++) {
		snprintf(proc, sizeof(proc), "%ld", cmds[i].pid);
		report_row(
			t,
			json_pack("{ss sI ss}", "command", cmds[i].s, "count", (json_int_t)cmds[i].n, "process", proc),
			d->o->top);
	}
	if (!diag_complete(d, REC_EXEC) || !diag_complete(d, REC_ARG))
		report_note(sec,
			    "command lines come from the events streamed, which were capped: counts above are the "
			    "kernel's; the table shows the first %lld",
			    (long long)e->nexec);
	report_note(sec, "arguments: the first %d, each cut at bpftrace's string size", MAX_ARGS);
	failed = diag_counts_sorted(&e->failed);
	t = report_table(sec, "execs that failed", "command:str:COMMAND,errno:str:ERRNO,count:int:COUNT");
	for (size_t i = 0; failed && i < e->failed.n; i++)
		report_row(t,
			   json_pack("{ss ss sI}", "command", failed[i].s, "errno",
				     diag_errno(failed[i].aux, en, sizeof(en)), "count", (json_int_t)failed[i].n),
			   d->o->top);
	if (failed) {
		json_t *is = report_issue(r, "notice", "exec_failures", "%lld execs failed: %s (%s) first",
					  (long long)e->nfailed, failed[0].s,
					  diag_errno(failed[0].aux, en, sizeof(en)));

		report_evidence(is, "by %s", diag_proc(d, failed[0].pid, proc, sizeof(proc)));
		report_next(is, "r::sys_execve ((int)retval < 0) \"exec %s failed: %d\", arg1, retval",
			    diag_trace_opts(d, d->o->pid, opts, sizeof(opts)),
			    "each failing exec with the file it tried");
	}
	/* Short-lived processes and the peak second. */
	secs = diag_seconds(d, tl, DIAG_MAX_SECONDS);
	diag_timeline_add(diag_get(d, "@exec_tls"), NULL, tl, secs);
	for (int i = 0; i < secs; i++) {
		shorts += tl[i];
		if (tl[i] > peak) {
			peak = tl[i];
			peak_at = i;
		}
	}
	sec = report_section(r, "short_lived", "Short-lived processes (under 1 s)");
	report_note(sec, "%lld short-lived processes, at most %lld in one second (second %d)", (long long)shorts,
		    (long long)peak, peak_at);
	t = report_table(sec, "by command", "comm:str:COMMAND,count:int:COUNT");
	{
		json_t *sm = diag_get(d, "@exec_short");
		struct exitkind *k = calloc(json_object_size(sm) + 1, sizeof(*k));
		size_t n = 0;

		json_object_foreach(sm, key, v) if (k && bpfmap_i64(v, &k[n].n)) k[n++].comm = key;
		if (k)
			diag_sort(k, n, sizeof(*k), cmp_exit);
		for (size_t i = 0; k && i < n; i++)
			report_row(t, json_pack("{ss sI}", "comm", k[i].comm, "count", (json_int_t)k[i].n), d->o->top);
		free(k);
	}
	parent = top_key(d, "@exec_byparent", &parent_n);
	if (peak >= d->o->storm_threshold) {
		json_t *is = report_issue(r, "warning", "process_storm",
					  "process storm: %lld short-lived processes, up to %lld "
					  "in one second",
					  (long long)shorts, (long long)peak);
		char spec[160];

		if (parent > 0) {
			report_evidence(is, "%s started %lld of the %lld executions",
					diag_proc(d, parent, proc, sizeof(proc)), (long long)parent_n,
					(long long)nexec);
			snprintf(spec, sizeof(spec),
				 "t:sched:sched_process_fork (args->parent_pid == %ld) \"fork %%d\", args->child_pid",
				 parent);
		} else {
			snprintf(spec, sizeof(spec), "t:sched:sched_process_exec \"exec %%s\", args->filename");
		}
		report_evidence(
			is,
			"each start costs a fork, an exec and the loader: batch the work, or keep one process running");
		report_next(is, spec, "-d 10",
			    parent > 0 ? "what that parent spawns, as it happens" : "what is spawned, as it happens");
	}
	exits_section(d, r);
	/* Forks: processes and threads. */
	sec = report_section(r, "forks", "Process and thread creation");
	report_note(sec, "%lld processes (%.1f/s) and %lld threads (%.1f/s) created",
		    (long long)diag_get_int(d, "@exec_forks", "0"),
		    diag_rate(d, (double)diag_get_int(d, "@exec_forks", "0")),
		    (long long)diag_get_int(d, "@exec_forks", "1"),
		    diag_rate(d, (double)diag_get_int(d, "@exec_forks", "1")));
	t = report_table(sec, "processes that forked most",
			 "process:str:PROCESS,forks:int:FORKS,execs:int:CHILD EXECS");
	{
		json_t *pf = diag_get(d, "@exec_pforks");
		struct exitkind *k = calloc(json_object_size(pf) + 1, sizeof(*k));
		size_t n = 0;

		json_object_foreach(pf, key, v)
		{
			int64_t pid;

			if (k && bpfmap_key(key, 1, &pid, NULL) && bpfmap_i64(v, &k[n].n))
				k[n++].code = (long)pid;
		}
		if (k)
			diag_sort(k, n, sizeof(*k), cmp_exit);
		for (size_t i = 0; k && i < n; i++) {
			char pk[32];

			snprintf(pk, sizeof(pk), "%ld", k[i].code);
			report_row(t,
				   json_pack("{ss sI sI}", "process", diag_proc(d, k[i].code, proc, sizeof(proc)),
					     "forks", (json_int_t)k[i].n, "execs",
					     (json_int_t)diag_get_int(d, "@exec_byparent", pk)),
				   d->o->top);
		}
		free(k);
	}
	diag_series(d, r, "executions", "count", "@exec_tl", "1");
	diag_series(d, r, "short-lived exits", "count", "@exec_tls", NULL);
	diag_series(d, r, "processes forked", "count", "@exec_tlf", "0");
	free(cmds);
	free(failed);
}

const struct diag_module diag_exec = {
	.name = "exec",
	.prefix = "@exec_",
	.base = 40,
	.state_size = sizeof(struct execst),
	.release = exec_release,
	.event = exec_event,
	.report = exec_report,
};
