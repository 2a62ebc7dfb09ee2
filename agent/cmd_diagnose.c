/* cmd_diagnose.c - `diagagent diagnose`: a curated multi-probe diagnosis with a report. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/caps.h"
#include "agent/cli.h"
#include "agent/diagjob.h"
#include "agent/jsontext.h"
#include "agent/units.h"
#include "parser/report.h"
#include "tracespec/strbuf.h"

#define MAX_DURATION 3600

static int diagnose_run(int argc, char **argv);

const struct cli_command cli_diagnose = {
	.name = "diagnose",
	.summary = "Run a curated diagnosis (fs, net, dns, exec, sched, fdleak, errors, all) and report on it",
	.usage = "usage: diagagent diagnose [options] PRESET\n"
		 "       diagagent diagnose list [--json]",
	.help = "PRESET is one of the curated bpftrace programs (see 'diagagent diagnose list'). It\n"
		"runs for the duration, then prints a report: counts and rates (exact, from the\n"
		"kernel's maps), latency percentiles (exact where every sample was streamed, else\n"
		"estimated from the kernel's histograms, and the report says which), top-N tables,\n"
		"activity per second, and the potential issues, each with its evidence and a next\n"
		"trace ready to run. Needs root.\n"
		"\n"
		"options:\n"
		"  -d, --duration TIME     how long to collect (default 30s): 30, 30s, 2m (at most 1h)\n"
		"  -p, --pid PID           only this process (exec: with the processes it starts)\n"
		"  -c, --cgroup PATH       only this cgroup v2 directory (absolute, or relative to\n"
		"                          the cgroup2 mount, e.g. system.slice/nginx.service)\n"
		"      --slow-threshold T  a slow file operation or run-queue wait (default 10ms)\n"
		"      --rtt-threshold T   a slow connect or name lookup (default 100ms)\n"
		"      --error-threshold N failures of one kind that make an issue (default 10)\n"
		"      --leak-threshold N  descriptors a process gains that make a leak (default 100)\n"
		"      --storm-threshold N short-lived processes in one second that make a storm (default 50)\n"
		"  -M, --max-events N      events streamed per record (default 100000; counts stay exact)\n"
		"      --top N             rows per table (default 10)\n"
		"      --json              print the protocol's diagnostic result instead\n"
		"      --raw-out FILE      also save bpftrace's raw output\n"
		"      --replay FILE       analyse a saved raw output instead of running bpftrace\n"
		"  -v, --verbose           print the program to stderr\n"
		"  -h, --help              show this help\n"
		"\n"
		"times take ns, us, ms, s, m or h (a threshold without a unit is in ms).\n"
		"exit: 0 the diagnosis ran (issues or not), 1 it failed, 2 bad usage, 3 this host\n"
		"cannot run it (not root, no bpftrace, a missing tracepoint or library).\n",
	.examples = "examples:\n"
		    "  diagagent diagnose list\n"
		    "  diagagent diagnose fs -d 30s -p 1234\n"
		    "  diagagent diagnose net -d 10 --rtt-threshold 50ms\n"
		    "  diagagent diagnose errors -c system.slice/nginx.service\n"
		    "  diagagent diagnose all --json | jq '.report.issues[].title'\n",
	.run = diagnose_run,
};

struct view {
	struct diagjob *job;
	int duration;
	bool tty;
};

static void on_attached(void *ud, int probes)
{
	struct view *v = ud;

	if (!v->tty)
		fprintf(stderr, "diagagent diagnose: attached %d probes; collecting for %d s\n", probes, v->duration);
}

static void countdown(struct view *v)
{
	double el = diagjob_elapsed(v->job);

	if (!v->tty)
		return;
	if (el <= 0)
		fprintf(stderr, "\rattaching...                                  ");
	else
		fprintf(stderr, "\rcollecting: %3.0f s left, %llu events (Ctrl-C ends it early)   ",
			v->duration - el > 0 ? v->duration - el : 0, diagjob_events(v->job));
	(void)fflush(stderr);
}

/* ---- list -------------------------------------------------------------------------- */

static int list(bool json)
{
	struct caps c;
	json_t *arr = json_array();
	size_t i;
	json_t *e;
	bool ok = true;

	caps_probe_quick(&c);
	for (int k = 0; k < preset_count(); k++) {
		struct preset *p = NULL, *text = NULL;
		char err[512] = "", needs[256];
		int rc = diagjob_preset(preset_name(k), &c, &p, err, sizeof(err));

		/* What it needs, from the text itself when this host cannot load it. */
		if (rc < 0)
			preset_load(preset_name(k), NULL, &text, needs, sizeof(needs));
		if (!p && !text) {
			json_array_append_new(arr, json_pack("{ss ss sb ss}", "name", preset_name(k), "title", "",
							     "runs_here", 0, "why", err));
			continue;
		}
		{
			const struct preset *q = p ? p : text;

			struct strbuf sb = STRBUF_INIT(sizeof(needs) - 1);

			if (q->ntracepoints)
				strbuf_addf(&sb, "%d tracepoints", q->ntracepoints);
			if (q->nuprobes)
				strbuf_addf(&sb, "%s%d uprobes on %s", sb.len ? ", " : "", q->nuprobes,
					    q->libs[0].name);
			for (int n = 0; n < q->nincludes; n++)
				strbuf_addf(&sb, "%s%s", n ? ", " : " (those of ", q->includes[n]);
			if (q->nincludes)
				strbuf_putc(&sb, ')');
			snprintf(needs, sizeof(needs), "%s", strbuf_str(&sb));
			strbuf_release(&sb);
			e = json_pack("{ss ss ss si sb}", "name", q->name, "title", q->title, "needs", needs, "probes",
				      q->nprobes, "runs_here", rc == 0);
			if (rc < 0)
				json_object_set_new(e, "why", json_string(err));
			if (p && p->nlibs)
				json_object_set_new(e, "library", json_string(p->libs[0].path));
			json_array_append_new(arr, e);
		}
		preset_free(p);
		preset_free(text);
	}
	if (json) {
		ok = jsontext_print(arr, JSON_INDENT(2), stdout) == 0;
	} else {
		json_array_foreach(arr, i, e)
		{
			printf("%-7s %s\n", json_string_value(json_object_get(e, "name")),
			       json_string_value(json_object_get(e, "title")));
			if (json_object_get(e, "needs"))
				printf("        needs %s\n", json_string_value(json_object_get(e, "needs")));
			if (json_is_true(json_object_get(e, "runs_here")))
				printf("        runs here%s%s\n", json_object_get(e, "library") ? ": " : "",
				       json_object_get(e, "library") ?
					       json_string_value(json_object_get(e, "library")) :
					       "");
			else
				printf("        cannot run here: %s\n", json_string_value(json_object_get(e, "why")));
		}
	}
	json_decref(arr);
	if (!ok)
		fprintf(stderr, "diagagent diagnose: cannot write the list: out of memory\n");
	return ok && fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

/* ---- options ------------------------------------------------------------------------ */

enum {
	OPT_SLOW = 256,
	OPT_RTT,
	OPT_ERRORS,
	OPT_LEAK,
	OPT_STORM,
	OPT_TOP,
	OPT_JSON,
	OPT_RAW_OUT,
	OPT_REPLAY,
};

struct dopts {
	struct diag_opts o;
	bool json, verbose, help;
	const char *raw_out, *replay, *preset;
};

static int parse(int argc, char **argv, struct dopts *d)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "slow-threshold", required_argument, NULL, OPT_SLOW },
		{ "rtt-threshold", required_argument, NULL, OPT_RTT },
		{ "error-threshold", required_argument, NULL, OPT_ERRORS },
		{ "leak-threshold", required_argument, NULL, OPT_LEAK },
		{ "storm-threshold", required_argument, NULL, OPT_STORM },
		{ "max-events", required_argument, NULL, 'M' },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "raw-out", required_argument, NULL, OPT_RAW_OUT },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int opt;

	diag_opts_init(&d->o);
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":d:p:c:M:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (units_seconds(optarg, &v) < 0 || v < 1 || v > MAX_DURATION)
				return cli_usage_error(&cli_diagnose,
						       "bad duration '%s': 1 s to %d s, e.g. 30, 30s, 2m", optarg,
						       MAX_DURATION);
			d->o.duration = (int)v;
			break;
		case 'p':
			if (units_long(optarg, 1, 4194304, &d->o.pid) < 0)
				return cli_usage_error(&cli_diagnose, "bad pid '%s'", optarg);
			break;
		case 'c':
			d->o.cgroup = optarg;
			break;
		case OPT_SLOW:
		case OPT_RTT:
			if (units_ns(optarg, 1000000, opt == OPT_SLOW ? &d->o.slow_ns : &d->o.rtt_ns) < 0)
				return cli_usage_error(&cli_diagnose,
						       "bad threshold '%s': a time such as 500us, 10ms, 1s", optarg);
			break;
		case OPT_ERRORS:
		case OPT_LEAK:
		case OPT_STORM:
			if (units_long(optarg, 1, 1000000000, &v) < 0)
				return cli_usage_error(&cli_diagnose, "bad threshold '%s': a count from 1", optarg);
			*(opt == OPT_ERRORS ? &d->o.error_threshold :
			  opt == OPT_LEAK   ? &d->o.leak_threshold :
					      &d->o.storm_threshold) = v;
			break;
		case 'M':
			if (units_long(optarg, 0, 100000000, &d->o.cap) < 0)
				return cli_usage_error(&cli_diagnose, "bad -M '%s': 0..100000000 events per record",
						       optarg);
			break;
		case OPT_TOP:
			if (units_long(optarg, 1, 1000, &v) < 0)
				return cli_usage_error(&cli_diagnose, "bad --top '%s': 1..1000 rows", optarg);
			d->o.top = (int)v;
			break;
		case OPT_JSON:
			d->json = true;
			break;
		case OPT_RAW_OUT:
			d->raw_out = optarg;
			break;
		case OPT_REPLAY:
			d->replay = optarg;
			break;
		case 'v':
			d->verbose = true;
			break;
		case 'h':
			d->help = true;
			return CLI_OK;
		default:
			return cli_bad_option(&cli_diagnose, opt, argv);
		}
	}
	if (optind == argc)
		return cli_usage_error(&cli_diagnose, "which preset? (see 'diagagent diagnose list')");
	if (optind + 1 < argc)
		return cli_usage_error(&cli_diagnose, "one preset at a time: '%s' is extra", argv[optind + 1]);
	d->preset = argv[optind];
	return CLI_OK;
}

/* ---- running -------------------------------------------------------------------------- */

static int exit_code(int rc)
{
	return rc == -ENOENT || rc == -EINVAL ? CLI_USAGE : rc == -ENODEV ? CLI_HOST : CLI_FAIL;
}

static int run(struct dopts *d, const struct caps *c)
{
	struct view v = { .duration = d->o.duration, .tty = isatty(STDERR_FILENO) && !d->json };
	struct diagjob_spec spec = {
		.preset = d->preset,
		.opts = d->o,
		.caps = c,
		.raw_out = d->raw_out,
		.on_attached = on_attached,
		.ud = &v,
	};
	struct procman *pm = NULL;
	char err[1024];
	json_t *r = NULL;
	int rc, stops = 0, code = CLI_FAIL;

	if (d->replay) {
		v.job = diagjob_replay(&spec, d->replay, &rc, err, sizeof(err));
	} else {
		pm = procman_new();
		if (!pm) {
			fprintf(stderr, "diagagent diagnose: out of memory\n");
			return CLI_FAIL;
		}
		procman_set_batch(pm, 5);
		cli_catch_stop_signals();
		v.job = diagjob_start(pm, &spec, &rc, err, sizeof(err));
	}
	if (!v.job) {
		fprintf(stderr, "diagagent diagnose: %s\n", err);
		procman_free(pm);
		return exit_code(rc);
	}
	while (!diagjob_done(v.job)) {
		procman_run(pm, 250, &cli_stop_signal);
		if (cli_stop_signal) {
			cli_stop_signal = 0;
			diagjob_stop(v.job, false);
			if (++stops > 1)
				procman_kill_all(pm);
		}
		countdown(&v);
	}
	if (v.tty)
		fprintf(stderr, "\r%60s\r", "");
	r = diagjob_result(v.job);
	if (!r) {
		fprintf(stderr, "diagagent diagnose: out of memory\n");
	} else if (d->json && jsontext_print(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER, stdout) < 0) {
		fprintf(stderr, "diagagent diagnose: cannot write the result: out of memory\n");
		json_decref(r);
		r = NULL;
	} else if (!d->json) {
		report_print(json_object_get(r, "report"), stdout);
	}
	if (r && json_is_true(json_object_get(r, "success")))
		code = CLI_OK;
	else if (r && !d->json && json_object_get(r, "error"))
		fprintf(stderr, "diagagent diagnose: %s\n", json_string_value(json_object_get(r, "error")));
	if (fflush(stdout) != 0)
		code = CLI_FAIL;
	json_decref(r);
	diagjob_free(v.job);
	procman_free(pm);
	return code;
}

static int diagnose_run(int argc, char **argv)
{
	struct dopts d = { 0 };
	struct caps c;
	char err[256];
	int rc;

	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		if (argc > 3 || (argc == 3 && strcmp(argv[2], "--json") != 0))
			return cli_usage_error(&cli_diagnose, "list takes only --json");
		return list(argc == 3);
	}
	rc = parse(argc, argv, &d);
	if (rc != CLI_OK || d.help)
		return rc == CLI_OK ? cli_help(&cli_diagnose) : rc;
	caps_probe_quick(&c);
	caps_bpftrace_version(&c);
	if (!d.replay && caps_trace_ready(&c, err, sizeof(err)) < 0) {
		fprintf(stderr, "diagagent diagnose: %s\n", err);
		return CLI_HOST;
	}
	if (d.verbose) {
		struct preset *p = NULL;
		char perr[512];

		if (diagjob_preset(d.preset, &c, &p, perr, sizeof(perr)) == 0)
			fputs(p->program, stderr);
		preset_free(p);
	}
	return run(&d, &c);
}
