/* agent_jobs.c - the agent's job queue: accept, start, reap, cancel, recover. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/compile.h"
#include "agent/log.h"
#include "agent/result.h"
#include "agent/suggestjob.h"
#include "tracespec/dwtypes.h"
#include "tracespec/ktypes.h"

/* A result goes to the outbox, then the ledger says the job is done. While
 * spool_dir cannot be written, both keep it in memory (agent_spool.c says
 * so once); only a result that cannot be kept at all is logged here. */
void agent_store(struct agent *a, const char *id, json_t *result)
{
	char err[256];

	if (!result) {
		log_error("job %s: out of memory building the result", id);
		return;
	}
	json_object_set_new(result, "id", json_string(id));
	if (outbox_put(a->ob, result, err, sizeof(err)) < 0)
		log_error("job %s: result lost: %s", id, err);
	if (ledger_set(a->lg, id, LEDGER_DONE, json_string_value(json_object_get(result, "kind")), NULL, 0) == -ENOMEM)
		log_error("job %s: cannot record it as done in the ledger: out of memory", id);
	/* Upload now unless the server is failing (then the backoff decides). */
	if (!a->sched[CTL_RESULTS].failures)
		a->sched[CTL_RESULTS].next_ms = 0;
	json_decref(result);
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	tracejob_free(j->trace);
	diagjob_free(j->diag);
	codegen_release(&j->cg);
	cmdjob_free(j->cmd);
	jobs_free(j->req);
	free(j);
}

static struct job *find_job(struct agent *a, const char *id)
{
	for (struct job *j = a->jobs; j; j = j->next)
		if (strcmp(j->req->id, id) == 0)
			return j;
	return NULL;
}

static void unlink_job(struct agent *a, struct job *victim)
{
	for (struct job **p = &a->jobs; *p; p = &(*p)->next) {
		if (*p == victim) {
			*p = victim->next;
			break;
		}
	}
	if (victim->state == JOB_RUNNING)
		a->nrunning--;
	else
		a->nqueued--;
}

static void append_job(struct agent *a, struct job *j)
{
	struct job **p = &a->jobs;

	while (*p)
		p = &(*p)->next;
	*p = j;
	a->nqueued++;
}

static void reject(struct agent *a, struct job_req *req, const char *status, const char *why)
{
	log_warn("job %s: %s %s: %s", req->id, jobs_kind_name(req->kind), status, why);
	agent_store(a, req->id, result_new_final(req->id, jobs_kind_name(req->kind), 0, status, "%s", why));
}

void agent_accept(void *ud, struct job_req *req)
{
	struct agent *a = ud;
	enum ledger_state st = ledger_state(a->lg, req->id);
	struct job *j;
	char why[128];

	if (st != LEDGER_NONE) {
		/* Delivered again: its result (if still waiting) goes out with the outbox. */
		log_info("job %s: already %s here; not run again", req->id,
			 st == LEDGER_DONE    ? "done" :
			 st == LEDGER_RUNNING ? "running" :
						"queued");
		jobs_free(req);
		return;
	}
	if (req->error) {
		reject(a, req, "rejected", req->error);
		jobs_free(req);
		return;
	}
	if (a->nqueued >= a->cfg.max_queued_jobs) {
		snprintf(why, sizeof(why), "the agent's queue is full (max_queued_jobs = %d)", a->cfg.max_queued_jobs);
		reject(a, req, "rejected", why);
		jobs_free(req);
		return;
	}
	/* A ledger that cannot write keeps the id in memory: the job still runs
	 * (a full disk is when a diagnosis is wanted most). */
	j = calloc(1, sizeof(*j));
	if (!j || ledger_set(a->lg, req->id, LEDGER_QUEUED, jobs_kind_name(req->kind), req->json, 0) == -ENOMEM) {
		reject(a, req, "failed", "out of memory");
		free(j);
		jobs_free(req);
		return;
	}
	j->req = req;
	j->state = JOB_QUEUED;
	j->queued_ns = result_now_ns();
	append_job(a, j);
	log_info("job %s: %s queued", req->id, jobs_kind_name(req->kind));
}

/* ---- starting ------------------------------------------------------------------- */

static void fail_start(struct agent *a, struct job *j, const char *status, const char *why)
{
	json_t *r = result_new_final(j->req->id, jobs_kind_name(j->req->kind), j->started_ns, status, "%s", why);

	log_warn("job %s: %s %s: %s", j->req->id, jobs_kind_name(j->req->kind), status, why);
	unlink_job(a, j);
	agent_store(a, j->req->id, r);
	job_free(j);
}

static int start_command(struct agent *a, struct job *j)
{
	struct cmdjob_spec spec = {
		.command = j->req->command,
		.timeout_s = j->req->timeout,
		.kill_grace_ms = a->cfg.kill_grace * 1000,
		.max_output = a->cfg.max_output_bytes,
	};
	char err[256];

	j->cmd = cmdjob_start(a->pm, &spec, err, sizeof(err));
	if (!j->cmd) {
		fail_start(a, j, "failed", err);
		return -1;
	}
	log_info("job %s: command started (timeout %d s)", j->req->id, j->req->timeout);
	return 0;
}

static void on_attached(void *ud, int probes)
{
	struct job *j = ud;

	log_info("job %s: attached %d probes", j->req->id, probes);
}

static int start_trace(struct agent *a, struct job *j)
{
	struct trace_spec *specs[1] = { j->req->spec };
	struct traceopts none;
	struct lower_env env;
	struct spec_error serr;
	char err[1024];
	int rc, bad;

	if (caps_trace_ready(&a->caps, err, sizeof(err)) < 0) {
		fail_start(a, j, "failed", err);
		return -1;
	}
	memset(&none, 0, sizeof(none));
	compile_env(&a->caps, &none, &env);
	rc = codegen_emit(specs, 1, &j->req->opts, &env, &j->cg, &serr, &bad);
	ktypes_release(); /* BTF is big; the agent idles between jobs */
	dwtypes_release();
	if (rc < 0) {
		if (serr.hint[0])
			snprintf(err, sizeof(err), "%s (hint: %s)", serr.msg, serr.hint);
		else
			snprintf(err, sizeof(err), "%s", serr.msg[0] ? serr.msg : strerror(-rc));
		/* A bad spec is the sender's to fix; a missing kernel feature is this host's. */
		fail_start(a, j, rc == -EINVAL || rc == -ENOENT ? "rejected" : "failed", err);
		return -1;
	}
	{
		struct tracejob_spec ts = {
			.cg = &j->cg,
			.opts = &j->req->opts,
			.bpftrace = a->caps.bpftrace.path,
			.bpftrace_minor = a->caps.bpftrace.minor,
			.kill_grace_ms = a->cfg.kill_grace * 1000,
			.keep_events = true,
			.keep_max = j->req->opts.max_events,
			.on_attached = on_attached,
			.ud = j,
		};

		j->trace = tracejob_start(a->pm, &ts, err, sizeof(err));
	}
	if (!j->trace) {
		fail_start(a, j, "failed", err);
		return -1;
	}
	log_info("job %s: trace started for %d s: %s", j->req->id, j->req->opts.duration, j->req->spec_text);
	return 0;
}

static int start_diagnostic(struct agent *a, struct job *j)
{
	struct diagjob_spec ds = {
		.preset = j->req->preset,
		.opts = j->req->diag,
		.caps = &a->caps,
		.kill_grace_ms = a->cfg.kill_grace * 1000,
		.on_attached = on_attached,
		.ud = j,
	};
	char err[1024];
	int rc;

	if (caps_trace_ready(&a->caps, err, sizeof(err)) < 0) {
		fail_start(a, j, "failed", err);
		return -1;
	}
	j->diag = diagjob_start(a->pm, &ds, &rc, err, sizeof(err));
	if (!j->diag) {
		/* A bad cgroup is the sender's to fix; a preset this host cannot run is the host's. */
		fail_start(a, j, rc == -EINVAL || rc == -ENOENT ? "rejected" : "failed", err);
		return -1;
	}
	log_info("job %s: diagnosis started for %d s: %s", j->req->id, j->req->diag.duration, j->req->preset);
	return 0;
}

/* Suggestions take milliseconds: answered at once, in the loop. */
static void run_suggestion(struct agent *a, struct job *j)
{
	struct kb_error kerr;
	struct kb *kb = NULL;
	char msg[600];
	json_t *r;

	if (kb_load_default(&kb, &kerr) < 0)
		r = result_new_final(j->req->id, "suggestion", j->started_ns, "failed",
				     "cannot load the knowledge base: %s", kb_error_text(&kerr, msg, sizeof(msg)));
	else
		r = suggestjob_run(kb, &a->caps, j->req->id, j->req->query, j->req->max);
	kb_free(kb);
	if (r) {
		result_set_time(r, "queued_at", j->queued_ns);
		log_info("job %s: suggestion %s: %zu suggestions", j->req->id,
			 json_string_value(json_object_get(r, "status")),
			 json_array_size(json_object_get(r, "suggestions")));
	}
	unlink_job(a, j);
	agent_store(a, j->req->id, r);
	job_free(j);
}

void agent_start_jobs(struct agent *a)
{
	struct job *j = a->jobs, *next;

	for (; j && a->nrunning < a->cfg.max_concurrent_jobs; j = next) {
		next = j->next;
		if (j->state != JOB_QUEUED)
			continue;
		j->started_ns = result_now_ns();
		if (ledger_set(a->lg, j->req->id, LEDGER_RUNNING, jobs_kind_name(j->req->kind), NULL, j->started_ns) ==
		    -ENOMEM) {
			fail_start(a, j, "failed", "cannot record the job as running in the ledger: out of memory");
			continue;
		}
		j->state = JOB_RUNNING;
		a->nqueued--;
		a->nrunning++;
		if (j->req->kind == JOB_COMMAND)
			start_command(a, j);
		else if (j->req->kind == JOB_SUGGESTION)
			run_suggestion(a, j);
		else if (j->req->kind == JOB_DIAGNOSTIC)
			start_diagnostic(a, j);
		else
			start_trace(a, j);
	}
}

/* ---- finishing ------------------------------------------------------------------ */

static json_t *trace_result(struct job *j)
{
	json_t *r = tracejob_result(j->trace);
	const char *given = json_string_value(json_object_get(j->req->json, "spec"));

	if (!r)
		return NULL;
	/* "duration" is what was asked for, as earlier clients know it; the
	 * time actually traced is "elapsed". */
	json_object_set(r, "elapsed", json_object_get(r, "duration"));
	json_object_set_new(r, "duration", json_integer(j->req->opts.duration));
	json_object_set_new(r, "spec", json_string(given ? given : j->req->spec_text));
	return r;
}

static void finish(struct agent *a, struct job *j)
{
	json_t *r = j->trace ? trace_result(j) : j->diag ? diagjob_result(j->diag) : cmdjob_result(j->cmd);

	if (r) {
		result_set_time(r, "queued_at", j->queued_ns);
		log_info("job %s: %s %s%s%s", j->req->id, jobs_kind_name(j->req->kind),
			 json_string_value(json_object_get(r, "status")), json_object_get(r, "error") ? ": " : "",
			 json_object_get(r, "error") ? json_string_value(json_object_get(r, "error")) : "");
	}
	unlink_job(a, j);
	agent_store(a, j->req->id, r);
	job_free(j);
}

void agent_reap_jobs(struct agent *a)
{
	struct job *j = a->jobs, *next;

	for (; j; j = next) {
		next = j->next;
		if (j->state == JOB_RUNNING && ((j->trace && tracejob_done(j->trace)) ||
						(j->cmd && cmdjob_done(j->cmd)) || (j->diag && diagjob_done(j->diag))))
			finish(a, j);
	}
}

static void cancel_job(struct agent *a, struct job *j, const char *why)
{
	if (j->state == JOB_QUEUED) {
		json_t *r = result_new_final(j->req->id, jobs_kind_name(j->req->kind), 0, "cancelled", "%s", why);

		log_info("job %s: cancelled before it started", j->req->id);
		result_set_time(r, "queued_at", j->queued_ns);
		unlink_job(a, j);
		agent_store(a, j->req->id, r);
		job_free(j);
		return;
	}
	log_info("job %s: cancelling", j->req->id);
	if (j->trace)
		tracejob_stop(j->trace, true);
	if (j->diag)
		diagjob_stop(j->diag, true);
	if (j->cmd)
		cmdjob_stop(j->cmd);
}

void agent_cancel(void *ud, const char *id)
{
	struct agent *a = ud;
	struct job *j = find_job(a, id);

	if (!j) {
		log_info("cancel %s: no such job queued or running here", id);
		return;
	}
	cancel_job(a, j, "cancelled by the server before it started");
}

int agent_stop_slack_ms(const struct agent *a)
{
	int slack = 0;

	for (const struct job *j = a->jobs; j; j = j->next) {
		int g = j->trace ? tracejob_grace_ms(j->trace) : j->diag ? diagjob_grace_ms(j->diag) : 0;

		if (g - a->cfg.kill_grace * 1000 > slack)
			slack = g - a->cfg.kill_grace * 1000;
	}
	return slack;
}

void agent_cancel_all(struct agent *a)
{
	struct job *j = a->jobs, *next;

	for (; j; j = next) {
		next = j->next;
		cancel_job(a, j, "the agent shut down before the job started");
	}
}

void agent_free_jobs(struct agent *a)
{
	while (a->jobs) {
		struct job *j = a->jobs;

		a->jobs = j->next;
		job_free(j);
	}
	a->nrunning = a->nqueued = 0;
}

/* ---- start-up ------------------------------------------------------------------- */

static enum job_kind kind_of(const char *name)
{
	for (int k = JOB_COMMAND; k <= JOB_DIAGNOSTIC; k++)
		if (strcmp(jobs_kind_name((enum job_kind)k), name) == 0)
			return (enum job_kind)k;
	return JOB_COMMAND;
}

static void recover_running(void *ud, const char *id, const char *kind, json_t *job, int64_t started_ns)
{
	struct agent *a = ud;

	log_warn("job %s: was running when the agent stopped; reported as failed, not run again", id);
	agent_store(a, id,
		    result_new_final(id, kind, started_ns, "failed",
				     "interrupted by agent restart: the job was running when the agent "
				     "stopped, and is not run again (it may be what stopped the agent)"));
}

static void recover_queued(void *ud, const char *id, const char *kind, json_t *job, int64_t started_ns)
{
	struct agent *a = ud;
	struct job_req *req = job ? jobs_decode_one(kind_of(kind), job, &a->cfg) : NULL;
	struct job *j = req ? calloc(1, sizeof(*j)) : NULL;

	if (!j || strcmp(req->id, id) != 0 || req->error) {
		agent_store(a, id,
			    result_new_final(id, kind, 0, req && req->error ? "rejected" : "failed", "%s",
					     req && req->error ?
						     req->error :
						     "the job queued before a restart could not be read back"));
		free(j);
		jobs_free(req);
		return;
	}
	j->req = req;
	j->state = JOB_QUEUED;
	j->queued_ns = result_now_ns();
	append_job(a, j);
	log_info("job %s: queued before a restart; queued again", id);
}

void agent_recover(struct agent *a)
{
	ledger_foreach(a->lg, LEDGER_RUNNING, recover_running, a);
	ledger_foreach(a->lg, LEDGER_QUEUED, recover_queued, a);
}
