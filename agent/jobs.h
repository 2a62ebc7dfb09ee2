/* jobs.h - the job decoder: a job batch from the control API into checked jobs.
 *
 * A batch holds up to four job lists (commands, ebpf_programs, suggestions,
 * diagnostics) and a cancel list. Each job becomes a struct job_req that is
 * either ready to run or rejected with a one-line reason naming the field
 * and the allowed range; values out of range are never silently changed.
 * Trace jobs become a parsed trace spec: from the `spec` string, or from
 * the structured fields through the spec builder, never by pasting fields
 * into text. A job without an id gets a stable one from a hash of its
 * canonical JSON, so a redelivered job is recognised.
 */
#ifndef DIAG_JOBS_H
#define DIAG_JOBS_H

#include <stdbool.h>

#include <jansson.h>

#include "agent/config.h"
#include "tracespec/codegen.h"
#include "parser/diag.h"
#include "tracespec/suggest.h"

#define JOBS_MAX_ID	       256   /* longest job id accepted */
#define JOBS_MAX_COMMAND       65536 /* longest command accepted */
#define JOBS_DEFAULT_DURATION  10
#define JOBS_DEFAULT_TIMEOUT   30
#define JOBS_DEFAULT_DIAGNOSIS 30 /* seconds, within max_trace_duration */

enum job_kind { JOB_COMMAND, JOB_TRACE, JOB_SUGGESTION, JOB_DIAGNOSTIC };

struct job_req {
	char *id;
	enum job_kind kind;
	char *error;  /* non-NULL: rejected, with this reason */
	json_t *json; /* the job as received */
	/* commands */
	char *command;
	int timeout; /* seconds */
	/* traces */
	struct trace_spec *spec; /* parsed or built */
	char *spec_text;	 /* canonical text */
	struct trace_opts opts;	 /* filters, duration, max_events */
	/* suggestions */
	char *query;
	int max; /* most suggestions */
	/* diagnostics */
	char *preset;
	struct diag_opts diag; /* diag.cgroup points into cgroup */
	char *cgroup;
	bool nomem; /* the decoder's own: memory ran out (the job is then never handed out) */
};

/* "command", "trace", "suggestion", "diagnostic": the result kind. */
const char *jobs_kind_name(enum job_kind kind);

/* Decode one job of kind from its JSON with the agent's limits. Always
 * returns a job (rejected when something is wrong), or NULL when out of
 * memory. Free with jobs_free(). */
struct job_req *jobs_decode_one(enum job_kind kind, const json_t *job, const struct config *cfg);

/* Decode a batch: calls on_job for each job in the order commands,
 * ebpf_programs, suggestions, diagnostics (ownership passes to on_job),
 * then on_cancel for each id to cancel. Returns 0, or -EINVAL with err
 * filled when the batch is not an object; a list that is not an array is
 * skipped with a warning in err (the call still returns 0). Out of memory
 * stops the decoding with -ENOMEM and err filled: the jobs passed to on_job
 * until then are the caller's, the rest were not read. */
int jobs_decode(const json_t *batch, const struct config *cfg, void (*on_job)(void *ud, struct job_req *job),
		void (*on_cancel)(void *ud, const char *id), void *ud, char *err, size_t size);

void jobs_free(struct job_req *job);

#endif /* DIAG_JOBS_H */
