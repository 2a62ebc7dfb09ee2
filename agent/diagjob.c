/* diagjob.c - a preset under bpftrace, analysed into a report. */
#include "agent/diagjob.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cgroup.h"
#include "agent/compile.h"
#include "agent/procfd.h"
#include "agent/result.h"
#include "agent/tracejob.h"
#include "tracespec/dwtypes.h"
#include "tracespec/ktypes.h"
#include "tracespec/suggest.h"

struct diagjob {
	struct diagjob_spec spec;
	struct preset *preset;
	struct codegen_result cg;
	struct trace_opts topts;
	struct tracejob *trace;
	struct diag *diag;
	char *args[PRESET_NARGS]; /* $2..$9 as text */
	char cgroup[4096];
	bool snapshots, maps_seen, replay;
	struct diag_fdsnap start, end;
};

int diagjob_preset(const char *name, const struct caps *c, struct preset **out, char *err, size_t size)
{
	struct preset_host h = {
		.tracefs = c->tracefs_path,
		.tracepoints = caps_can_attach(c, CAPS_TRACEPOINT),
		.uprobes = caps_can_attach(c, CAPS_UPROBE) && caps_can_attach(c, CAPS_URETPROBE),
	};

	if (c->tracefs.state != CAPS_YES) {
		snprintf(err, size,
			 "tracefs is not mounted (hint: run scripts/setup-host, or mount -t tracefs nodev "
			 "/sys/kernel/tracing)");
		return -ENODEV;
	}
	return preset_load(name, &h, out, err, size);
}

/* ---- callbacks ------------------------------------------------------------------ */

static void on_event(void *ud, const struct scan_event *ev, const char *msg, size_t len)
{
	struct diagjob *j = ud;

	(void)msg;
	(void)len;
	diag_event(j->diag, ev);
}

static void on_map(void *ud, const char *name, json_t *value)
{
	struct diagjob *j = ud;

	j->maps_seen = true;
	diag_map(j->diag, name, value);
}

static void on_other(void *ud, const char *type, json_t *line)
{
	struct diagjob *j = ud;

	j->maps_seen = true;
	diag_other(j->diag, type, line);
}

static void on_attached(void *ud, int probes)
{
	struct diagjob *j = ud;

	if (j->spec.on_attached)
		j->spec.on_attached(j->spec.ud, j->preset->nprobes ? j->preset->nprobes : probes);
}

static void on_done(void *ud)
{
	struct diagjob *j = ud;

	/* The end counts now, before anything else can change them. */
	if (j->snapshots && !j->replay)
		procfd_snapshot(j->spec.opts.pid, &j->end);
	if (j->spec.on_done)
		j->spec.on_done(j->spec.ud);
}

/* ---- setup ------------------------------------------------------------------------- */

static int set_args(struct diagjob *j, char *err, size_t size)
{
	const struct diag_opts *o = &j->spec.opts;
	uint64_t cgid = 0;
	uint64_t v[PRESET_NARGS];
	int rc;

	if (o->cgroup) {
		rc = cgroup_id(o->cgroup, &cgid, j->cgroup, sizeof(j->cgroup), err, size);
		if (rc < 0)
			return rc;
	}
	v[PRESET_ARG_AGENT - 2] = (uint64_t)getpid();
	v[PRESET_ARG_PID - 2] = o->pid > 0 ? (uint64_t)o->pid : 0;
	v[PRESET_ARG_CGROUP - 2] = cgid;
	v[PRESET_ARG_CAP - 2] = (uint64_t)o->cap;
	v[PRESET_ARG_SLOW_NS - 2] = o->slow_ns;
	v[PRESET_ARG_RTT_NS - 2] = o->rtt_ns;
	v[PRESET_ARG_SHORT_NS - 2] = DIAG_SHORT_LIVED_NS;
	v[PRESET_ARG_WINDOW_NS - 2] = (uint64_t)o->duration * 1000000000ULL;
	for (int i = 0; i < PRESET_NARGS - 1; i++) {
		if (asprintf(&j->args[i], "%" PRIu64, v[i]) < 0) {
			j->args[i] = NULL;
			snprintf(err, size, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

static struct diagjob *job_new(const struct diagjob_spec *s, int *rc, char *err, size_t size)
{
	struct diagjob *j = calloc(1, sizeof(*j));

	*rc = -ENOMEM;
	if (!j) {
		snprintf(err, size, "out of memory");
		return NULL;
	}
	j->spec = *s;
	trace_opts_init(&j->topts);
	*rc = diagjob_preset(s->preset, s->caps, &j->preset, err, size);
	if (*rc < 0)
		goto fail;
	*rc = set_args(j, err, size);
	if (*rc < 0)
		goto fail;
	/* The resolved path goes into the report; the caller's may not outlive us. */
	if (j->spec.opts.cgroup)
		j->spec.opts.cgroup = j->cgroup;
	*rc = -ENOMEM;
	j->cg.program = strdup(j->preset->program);
	j->cg.layout = preset_layout(j->preset);
	j->diag = diag_new(j->preset, &j->spec.opts);
	if (!j->cg.program || !j->cg.layout || !j->diag) {
		snprintf(err, size, "out of memory");
		goto fail;
	}
	j->topts.duration = s->opts.duration;
	j->snapshots = strcmp(s->preset, "fdleak") == 0 || strcmp(s->preset, "all") == 0;
	*rc = 0;
	return j;
fail:
	diagjob_free(j);
	return NULL;
}

static struct tracejob_spec trace_spec(struct diagjob *j)
{
	struct tracejob_spec ts = {
		.cg = &j->cg,
		.opts = &j->topts,
		.bpftrace = j->spec.caps->bpftrace.path,
		.bpftrace_minor = j->spec.caps->bpftrace.minor,
		.kill_grace_ms = j->spec.kill_grace_ms,
		.raw_out = j->spec.raw_out,
		.on_attached = on_attached,
		.on_event = on_event,
		.on_done = on_done,
		.on_map = on_map,
		.on_other = on_other,
		.ud = j,
		.args = j->args,
	};

	return ts;
}

struct diagjob *diagjob_start(struct procman *pm, const struct diagjob_spec *s, int *rc, char *err, size_t size)
{
	struct diagjob *j = job_new(s, rc, err, size);
	struct tracejob_spec ts;

	if (!j)
		return NULL;
	if (j->snapshots && procfd_snapshot(s->opts.pid, &j->start) < 0) {
		*rc = -ENOMEM;
		snprintf(err, size, "out of memory");
		diagjob_free(j);
		return NULL;
	}
	ts = trace_spec(j);
	j->trace = tracejob_start(pm, &ts, err, size);
	if (!j->trace) {
		*rc = -EIO;
		diagjob_free(j);
		return NULL;
	}
	return j;
}

struct diagjob *diagjob_replay(const struct diagjob_spec *s, const char *path, int *rc, char *err, size_t size)
{
	struct diagjob *j = job_new(s, rc, err, size);
	struct tracejob_spec ts;

	if (!j)
		return NULL;
	j->replay = true;
	ts = trace_spec(j);
	j->trace = tracejob_replay(&ts, path, err, size);
	if (!j->trace) {
		*rc = -EIO;
		diagjob_free(j);
		return NULL;
	}
	return j;
}

void diagjob_stop(struct diagjob *j, bool cancelled)
{
	if (j && j->trace)
		tracejob_stop(j->trace, cancelled);
}

bool diagjob_done(const struct diagjob *j)
{
	return tracejob_done(j->trace);
}

double diagjob_elapsed(const struct diagjob *j)
{
	return tracejob_elapsed(j->trace);
}

unsigned long long diagjob_events(const struct diagjob *j)
{
	return tracejob_events(j->trace);
}

int diagjob_grace_ms(const struct diagjob *j)
{
	return tracejob_grace_ms(j->trace);
}

const char *diagjob_status(const struct diagjob *j)
{
	return tracejob_status(j->trace);
}

/* ---- the result --------------------------------------------------------------------- */

/* Every issue's next trace must run here: check it as `trace` would. */
static void check_next(struct diagjob *j, json_t *report)
{
	struct traceopts none;
	struct lower_env env;
	size_t i;
	json_t *is;

	memset(&none, 0, sizeof(none));
	compile_env(j->spec.caps, &none, &env);
	json_array_foreach(json_object_get(report, "issues"), i, is)
	{
		json_t *next = json_object_get(is, "next");
		const char *spec = json_string_value(json_object_get(next, "spec"));
		char target[256], lib[4096], why[512];
		const char *type;

		if (!spec)
			continue;
		if (suggest_target(spec, &env, target, sizeof(target), &type, lib, sizeof(lib), why, sizeof(why)) ==
		    0) {
			json_object_set_new(next, "runs_here", json_true());
		} else {
			json_object_set_new(next, "runs_here", json_false());
			json_object_set_new(next, "not_here", json_string(why));
		}
	}
	ktypes_release(); /* BTF is big; the agent idles between jobs */
	dwtypes_release();
}

json_t *diagjob_result(struct diagjob *j)
{
	json_t *t = tracejob_result(j->trace), *r, *report, *st;
	struct diag_host h = {
		.fd_target = j->replay ? NULL : procfd_target,
		.alive = j->replay ? NULL : procfd_alive,
		.tracefs = j->spec.caps->tracefs_path[0] ? j->spec.caps->tracefs_path : NULL,
		.start = j->snapshots && !j->replay ? &j->start : NULL,
		.end = j->snapshots && !j->replay && tracejob_done(j->trace) ? &j->end : NULL,
	};
	struct diag_run run;
	static const char *const keep[] = { "status", "success", "error", "started_at", "finished_at", "program" };

	if (!t)
		return NULL;
	st = json_object_get(t, "statistics");
	/* The kernel counts for the window only; bpftrace's detach takes longer. */
	run.elapsed = tracejob_elapsed(j->trace);
	if (run.elapsed > j->spec.opts.duration)
		run.elapsed = j->spec.opts.duration;
	run.lost = (uint64_t)json_integer_value(json_object_get(st, "lost_events"));
	run.complete = j->maps_seen;
	run.status = tracejob_status(j->trace);
	r = json_pack("{ss ss}", "kind", "diagnostic", "preset", j->preset->name);
	for (size_t i = 0; r && i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_get(t, keep[i]))
			json_object_set(r, keep[i], json_object_get(t, keep[i]));
	report = diag_report(j->diag, &run, &h);
	if (!r || !report) {
		json_decref(r);
		json_decref(report);
		json_decref(t);
		return NULL;
	}
	check_next(j, report);
	json_object_set_new(r, "duration", json_integer(j->spec.opts.duration));
	json_object_set_new(r, "elapsed", json_real(run.elapsed));
	json_object_set_new(r, "report", report);
	json_decref(t);
	return r;
}

void diagjob_free(struct diagjob *j)
{
	if (!j)
		return;
	tracejob_free(j->trace);
	diag_free(j->diag);
	codegen_release(&j->cg);
	trace_opts_release(&j->topts);
	preset_free(j->preset);
	for (int i = 0; i < PRESET_NARGS; i++)
		free(j->args[i]);
	procfd_release(&j->start);
	procfd_release(&j->end);
	free(j);
}
