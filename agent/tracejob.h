/* tracejob.h - one trace: a generated program run by bpftrace under procman,
 * its output scanned into events and statistics, and the protocol's result.
 *
 * Used by `diagagent trace` (with procman_run) and by the agent (in its own
 * loop). The duration counts from the program's attach marker, not from the
 * spawn; at its end bpftrace gets SIGINT (so it prints its maps) and, after
 * the grace period, SIGKILL. --replay runs the same scanner over a saved
 * output, with no process at all.
 */
#ifndef DIAG_TRACEJOB_H
#define DIAG_TRACEJOB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "agent/procman.h"
#include "parser/scan.h"
#include "tracespec/codegen.h"

#define TRACEJOB_STDERR_CAP	     (64 * 1024) /* bpftrace's stderr kept for the error */
#define TRACEJOB_DEFAULT_JSON_EVENTS 10000	 /* events kept in a result when -M is not set */
#define TRACEJOB_MAX_ARGS	     16		 /* positional parameters after $1 */
#define TRACEJOB_DETACH_MS_PER_PROBE 100	 /* bpftrace detaches each probe in ~70 ms after SIGINT */

struct tracejob_spec {
	const struct codegen_result *cg; /* the program and its layout (borrowed) */
	const struct trace_opts *opts;	 /* borrowed */
	const char *bpftrace;		 /* path of bpftrace */
	int bpftrace_minor;		 /* 0.X: picks BPFTRACE_STRLEN or BPFTRACE_MAX_STRLEN */
	int kill_grace_ms;		 /* SIGINT -> SIGKILL at the end (default 5000) */
	int startup_timeout_ms;		 /* spawn -> attached (default 60000) */
	const char *raw_out;		 /* also save bpftrace's stdout here; NULL: no */
	bool keep_events;		 /* collect event objects for the result */
	long keep_max;			 /* most events kept (<= 0: TRACEJOB_DEFAULT_JSON_EVENTS) */
	/* Called when probes are attached, for each event that passed -f (with
	 * its rendered message), and once when the job is over. All optional. */
	void (*on_attached)(void *ud, int probes);
	void (*on_event)(void *ud, const struct scan_event *ev, const char *msg, size_t len);
	void (*on_done)(void *ud);
	/* Every map of the exit dump (after the job's own statistics saw it),
	 * and every other line bpftrace prints (hist, stats: the whole line,
	 * borrowed). Optional. */
	void (*on_map)(void *ud, const char *name, json_t *value);
	void (*on_other)(void *ud, const char *type, json_t *line);
	void *ud;
	/* More positional parameters, after bpftrace's own pid ($1): $2, $3,
	 * ... (NULL-terminated; NULL for none). Typed values the caller has
	 * formatted, never program text. */
	char *const *args;
};

struct tracejob;

/* Start the program. Returns the job, or NULL with a one-line reason in err
 * (the program could not be written, bpftrace could not be executed). */
struct tracejob *tracejob_start(struct procman *pm, const struct tracejob_spec *spec, char *err, size_t size);

/* Scan a saved raw output (from --raw-out) as if bpftrace had printed it.
 * Returns the finished job, or NULL with err filled. */
struct tracejob *tracejob_replay(const struct tracejob_spec *spec, const char *path, char *err, size_t size);

/* Check a -f regex (PCRE2). Returns 0, or -EINVAL with a one-line reason in err. */
int tracejob_check_regex(const char *re, char *err, size_t size);

/* Stop now (SIGINT, then SIGKILL after the grace); the result says "cancelled"
 * when reason is "cancelled", and "completed" for a normal stop (Ctrl-C). */
void tracejob_stop(struct tracejob *j, bool cancelled);

bool tracejob_done(const struct tracejob *j);

/* The protocol's trace result so far (or final): status, success, error,
 * duration, event_count, events (when kept), statistics, program, name,
 * type, target, spec, started_at, finished_at. New reference, or NULL. */
json_t *tracejob_result(struct tracejob *j);

/* "completed", "failed", "timeout", "cancelled", or "running". */
const char *tracejob_status(const struct tracejob *j);

/* Events that reached user space and passed -f. */
unsigned long long tracejob_events(const struct tracejob *j);

/* How long bpftrace gets from SIGINT to its exit before SIGKILL: the kill
 * grace plus the time to detach the probes it attached. */
int tracejob_grace_ms(const struct tracejob *j);

/* Seconds since the attach marker (0 before it). */
double tracejob_elapsed(const struct tracejob *j);

/* Free a finished job (or stop and forget a running one); NULL is a no-op. */
void tracejob_free(struct tracejob *j);

#endif /* DIAG_TRACEJOB_H */
