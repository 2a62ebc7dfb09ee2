/* cmd_trace.c - `diagagent trace`: run specs under bpftrace and show the events. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/compile.h"
#include "agent/jsontext.h"
#include "agent/tracejob.h"
#include "parser/render.h"
#include "parser/stats.h"

static int trace_run(int argc, char **argv);

const struct cli_command cli_trace = {
	.name = "trace",
	.summary = "Trace trace.py-style specs: live events, then exact in-kernel totals",
	.usage = "usage: diagagent trace [options] SPEC...",
	.help = "SPEC is trace.py's (see 'diagagent help script'). Needs root.\n"
		"\n"
		"output:\n"
		"  (default)      live columns PID TID COMM FUNC - MSG, then a summary\n"
		"  --json         only the protocol's trace result, at the end (keeps at most\n"
		"                 10000 events unless -M says otherwise; totals stay exact)\n"
		"  --jsonl        one event object per line, then {\"statistics\": {...}}\n"
		"  --raw-out FILE also save bpftrace's raw output\n"
		"  --replay FILE  read a saved raw output instead of running bpftrace\n"
		"  -h, --help     show this help\n",
	.common = traceopts_help,
	.examples =
		"examples:\n"
		"  diagagent trace 'sys_read (arg3 > 1024) \"read %d bytes\", arg3'\n"
		"  diagagent trace -d 10 -n nginx 'r::sys_openat ((int)retval < 0) \"%d %s\", retval, arg2'\n"
		"  diagagent trace -M 100 --json 't:sched:sched_process_exec \"%s\", comm' | jq .statistics\n"
		"  diagagent trace -A -d 5 'sys_openat \"%s\", arg2'\n"
		"  diagagent trace --raw-out run.jsonl -d 5 sys_write; diagagent trace --replay run.jsonl sys_write\n",
	.run = trace_run,
};

struct view {
	const struct traceopts *t;
	struct tracejob *job;
	bool tty;     /* stderr is a terminal: countdown */
	bool columns; /* default output */
	int64_t mono_to_wall_ns;
	uint64_t first_nsecs;
	struct strbuf line;
	struct strbuf scratch;
};

/* Terminal-safe text: control bytes as \xHH, so a file name cannot drive the terminal. */
static void put_safe(struct strbuf *out, const char *s, size_t len)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != 0x7f)
			continue;
		strbuf_add(out, s + run, i - run);
		strbuf_addf(out, "\\x%02x", c);
		run = i + 1;
	}
	strbuf_add(out, s + run, len - run);
}

static void print_header(const struct view *v)
{
	const struct trace_opts *o = &v->t->opts;

	if (o->timestamp)
		printf("%-18s ", "TIME");
	if (o->time_col)
		printf("%-8s ", "TIME");
	if (o->cpu_col)
		printf("%-3s ", "CPU");
	printf("%-7s %-7s %-15s %-16s %s\n", "PID", "TID", "COMM", "FUNC", "-");
}

static void on_event(void *ud, const struct scan_event *ev, const char *msg, size_t len)
{
	struct view *v = ud;
	const struct trace_opts *o = &v->t->opts;

	if (v->t->jsonl) {
		strbuf_reset(&v->line);
		if (render_event_text(ev, v->mono_to_wall_ns, &v->line, &v->scratch) == 0) {
			strbuf_putc(&v->line, '\n');
			(void)fwrite(strbuf_str(&v->line), 1, v->line.len, stdout);
		}
		return;
	}
	if (!v->columns || o->aggregate)
		return;
	strbuf_reset(&v->line);
	if (!v->first_nsecs)
		v->first_nsecs = ev->nsecs;
	if (o->timestamp && o->unix_time)
		strbuf_addf(&v->line, "%-18.6f ", (double)((int64_t)ev->nsecs + v->mono_to_wall_ns) / 1e9);
	else if (o->timestamp)
		strbuf_addf(&v->line, "%-18.6f ", (double)(ev->nsecs - v->first_nsecs) / 1e9);
	if (o->time_col) {
		time_t t = (time_t)(((int64_t)ev->nsecs + v->mono_to_wall_ns) / 1000000000);
		struct tm tm;
		char buf[16];

		localtime_r(&t, &tm);
		(void)strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
		strbuf_addf(&v->line, "%-8s ", buf);
	}
	if (o->cpu_col)
		strbuf_addf(&v->line, "%-3lld ", (long long)ev->cpu);
	strbuf_addf(&v->line, "%-7lld %-7lld ", (long long)ev->pid, (long long)ev->tid);
	put_safe(&v->line, ev->comm, ev->comm_len);
	for (size_t i = ev->comm_len; i < 16; i++)
		strbuf_putc(&v->line, ' ');
	strbuf_addf(&v->line, "%-16s ", ev->lp->function);
	put_safe(&v->line, msg, len);
	strbuf_putc(&v->line, '\n');
	if (ev->kstack)
		put_safe(&v->line, ev->kstack, ev->kstack_len);
	if (ev->ustack)
		put_safe(&v->line, ev->ustack, ev->ustack_len);
	(void)fwrite(strbuf_str(&v->line), 1, v->line.len, stdout);
}

static void on_attached(void *ud, int probes)
{
	struct view *v = ud;
	int d = v->t->opts.duration;

	if (v->tty)
		return; /* the countdown says it */
	if (d > 0)
		fprintf(stderr, "diagagent trace: attached %d probes; tracing for %d s\n", probes, d);
	else
		fprintf(stderr, "diagagent trace: attached %d probes; tracing until stopped\n", probes);
}

static void countdown(struct view *v)
{
	int d = v->t->opts.duration;
	double el = tracejob_elapsed(v->job);

	if (!v->tty)
		return;
	if (el <= 0)
		fprintf(stderr, "\rattaching...                      ");
	else if (d > 0)
		fprintf(stderr, "\rtracing: %3.0f s left, %llu events   ", d - el > 0 ? d - el : 0,
			tracejob_events(v->job));
	else
		fprintf(stderr, "\rtracing: %.0f s, %llu events (Ctrl-C to stop)   ", el, tracejob_events(v->job));
	(void)fflush(stderr);
}

static void print_message_count(void *ud, const char *msg, size_t len, uint64_t count)
{
	struct strbuf *sb = ud;

	strbuf_reset(sb);
	put_safe(sb, msg, len);
	printf("%-10llu %s\n", (unsigned long long)count, strbuf_str(sb));
}

static void print_summary(json_t *r)
{
	json_t *st = json_object_get(r, "statistics"), *lat = json_object_get(st, "latency"), *p;
	size_t i;

	printf("\n%s: %lld events in %.1f s (%lld reached user space", json_string_value(json_object_get(r, "status")),
	       (long long)json_integer_value(json_object_get(st, "total_events")),
	       json_real_value(json_object_get(r, "duration")),
	       (long long)json_integer_value(json_object_get(st, "streamed_events")));
	if (json_integer_value(json_object_get(st, "lost_events")))
		printf(", %lld lost", (long long)json_integer_value(json_object_get(st, "lost_events")));
	if (json_is_true(json_object_get(st, "capped")))
		printf(", capped by -M");
	if (json_integer_value(json_object_get(st, "filtered_events")))
		printf(", %lld left out by -f", (long long)json_integer_value(json_object_get(st, "filtered_events")));
	printf(")\n");
	if (lat)
		printf("latency: p50 %lld ns, p90 %lld ns, p99 %lld ns, max %lld ns\n",
		       (long long)json_integer_value(json_object_get(lat, "p50")),
		       (long long)json_integer_value(json_object_get(lat, "p90")),
		       (long long)json_integer_value(json_object_get(lat, "p99")),
		       (long long)json_integer_value(json_object_get(lat, "max")));
	json_array_foreach(json_object_get(st, "top_processes"), i, p)
	{
		if (i == 0)
			printf("top processes:\n");
		if (i == 5)
			break;
		printf("  %-7lld %-16s %lld\n", (long long)json_integer_value(json_object_get(p, "pid")),
		       json_string_value(json_object_get(p, "process_name")),
		       (long long)json_integer_value(json_object_get(p, "event_count")));
	}
	if (json_object_get(r, "error"))
		printf("error: %s\n", json_string_value(json_object_get(r, "error")));
}

/* Can this host run a trace at all? Exit 3 with one line saying what to do. */
static int check_host(const struct caps *c)
{
	char err[256];

	if (caps_trace_ready(c, err, sizeof(err)) < 0) {
		fprintf(stderr, "diagagent trace: %s\n", err);
		return CLI_HOST;
	}
	return CLI_OK;
}

static int run_job(struct traceopts *t, const struct caps *c, const struct codegen_result *cg)
{
	struct view v = { .t = t, .tty = isatty(STDERR_FILENO) && !t->json && !t->jsonl };
	struct tracejob_spec spec = {
		.cg = cg,
		.opts = &t->opts,
		.bpftrace = c->bpftrace.path,
		.bpftrace_minor = c->bpftrace.minor,
		.raw_out = t->raw_out,
		.keep_events = t->json,
		.keep_max = t->opts.max_events >= 0 ? t->opts.max_events : TRACEJOB_DEFAULT_JSON_EVENTS,
		.on_attached = on_attached,
		.on_event = on_event,
		.ud = &v,
	};
	struct procman *pm = NULL;
	char err[512];
	json_t *r = NULL;
	int rc = CLI_FAIL, stops = 0;
	struct timespec a, b;

	clock_gettime(CLOCK_REALTIME, &a);
	clock_gettime(CLOCK_MONOTONIC, &b);
	v.mono_to_wall_ns = ((int64_t)a.tv_sec - b.tv_sec) * 1000000000 + (a.tv_nsec - b.tv_nsec);
	v.columns = !t->json && !t->jsonl;
	strbuf_init(&v.line, 1 << 20);
	strbuf_init(&v.scratch, 1 << 20);
	if (v.columns && !t->opts.aggregate)
		print_header(&v);
	if (t->replay) {
		v.job = tracejob_replay(&spec, t->replay, err, sizeof(err));
	} else {
		pm = procman_new();
		/* 5 ms batches: bpftrace writes a line per event; at 100k events/s
		 * that is 500 wakeups/s instead of 100,000, with 1 MiB of pipe. */
		procman_set_batch(pm, 5);
		cli_catch_stop_signals();
		v.job = pm ? tracejob_start(pm, &spec, err, sizeof(err)) : NULL;
		if (!pm)
			snprintf(err, sizeof(err), "out of memory");
	}
	if (!v.job) {
		fprintf(stderr, "diagagent trace: %s\n", err);
		goto out;
	}
	while (!tracejob_done(v.job)) {
		procman_run(pm, 250, &cli_stop_signal);
		if (cli_stop_signal) {
			cli_stop_signal = 0;
			tracejob_stop(v.job, false);
			if (++stops > 1)
				procman_kill_all(pm); /* a second Ctrl-C: now */
		}
		countdown(&v);
		(void)fflush(stdout);
	}
	if (v.tty)
		fprintf(stderr, "\r%50s\r", "");
	r = tracejob_result(v.job);
	if (!r)
		goto out;
	if (t->json) {
		json_object_set_new(r, "spec", json_string(t->specs[0]));
		if (jsontext_print(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER, stdout) < 0) {
			fprintf(stderr, "diagagent trace: cannot write the result: out of memory\n");
			goto out;
		}
	} else if (t->jsonl) {
		json_t *s = json_pack("{sO}", "statistics", json_object_get(r, "statistics"));

		int prc = s ? jsontext_print(s, JSON_COMPACT, stdout) : -ENOMEM;

		json_decref(s);
		if (prc < 0) {
			fprintf(stderr, "diagagent trace: cannot write the statistics: out of memory\n");
			goto out;
		}
	} else {
		if (t->opts.aggregate) {
			json_t *agg = json_object_get(json_object_get(r, "statistics"), "aggregates"), *e;
			struct strbuf sb = STRBUF_INIT(1 << 20);
			size_t i;

			printf("%-10s %s\n", "COUNT", "MESSAGE");
			json_array_foreach(agg, i, e)
			{
				const char *m = json_string_value(json_object_get(e, "message"));

				print_message_count(&sb, m, strlen(m),
						    (uint64_t)json_integer_value(json_object_get(e, "count")));
			}
			strbuf_release(&sb);
		}
		print_summary(r);
	}
	if (strcmp(tracejob_status(v.job), "completed") == 0)
		rc = CLI_OK;
	else if (!t->json && json_object_get(r, "error"))
		fprintf(stderr, "diagagent trace: %s\n", json_string_value(json_object_get(r, "error")));
out:
	fflush(stdout);
	json_decref(r);
	tracejob_free(v.job);
	procman_free(pm);
	strbuf_release(&v.line);
	strbuf_release(&v.scratch);
	return rc;
}

static int trace_run(int argc, char **argv)
{
	struct traceopts t;
	struct codegen_result cg;
	struct caps c;
	char err[256];
	int rc;

	rc = traceopts_parse(argc, argv, &cli_trace, TRACEOPTS_OUTPUT, &t);
	if (rc != CLI_OK || t.help) {
		if (rc == CLI_OK)
			cli_help(&cli_trace);
		traceopts_release(&t);
		return rc;
	}
	if (t.json && t.jsonl) {
		traceopts_release(&t);
		return cli_usage_error(&cli_trace, "--json and --jsonl do not go together");
	}
	if (t.nspecs == 0) {
		traceopts_release(&t);
		return cli_usage_error(&cli_trace, "--replay needs the specs the output was traced with");
	}
	if (t.opts.msg_regex && tracejob_check_regex(t.opts.msg_regex, err, sizeof(err)) < 0) {
		traceopts_release(&t);
		return cli_usage_error(&cli_trace, "%s", err);
	}
	if (t.json && t.opts.max_events < 0)
		t.opts.max_events = TRACEJOB_DEFAULT_JSON_EVENTS;
	caps_probe_quick(&c);
	if (!t.replay) {
		caps_bpftrace_version(&c);
		rc = check_host(&c);
	}
	if (rc == CLI_OK)
		rc = compile_specs(&t, &cli_trace, &c, &cg);
	if (rc == CLI_OK) {
		if (t.verbose)
			fputs(cg.program, stderr);
		rc = run_job(&t, &c, &cg);
		codegen_release(&cg);
	}
	traceopts_release(&t);
	return rc;
}
