/* diagjob.h - one diagnosis: a preset run by bpftrace (through tracejob), its
 * output analysed (parser/diag.h), and the protocol's diagnostic result.
 *
 * Used by `diagagent diagnose` and by the agent's `diagnostics` jobs, in the
 * same way tracejob is: start it on a procman, run the loop until it is
 * done, take the result. The preset's parameters are typed values on
 * bpftrace's command line (tracespec/preset.h); the cgroup is passed as its
 * id. Descriptor counts are read from /proc before and after (fdleak, all),
 * and each issue's next trace is checked to compile on this host.
 */
#ifndef DIAG_DIAGJOB_H
#define DIAG_DIAGJOB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "agent/caps.h"
#include "agent/procman.h"
#include "parser/diag.h"

struct diagjob_spec {
	const char *preset;	 /* its name */
	struct diag_opts opts;	 /* duration, pid, cgroup, thresholds (copied) */
	const struct caps *caps; /* this host (borrowed) */
	int kill_grace_ms;	 /* SIGINT -> SIGKILL at the end (and the detach time: tracejob) */
	const char *raw_out;	 /* also save bpftrace's output here; NULL: no */
	void (*on_attached)(void *ud, int probes);
	void (*on_done)(void *ud);
	void *ud;
};

struct diagjob;

/* Load and check the preset for this host. Returns 0 with *out (preset_free()
 * it); -ENOENT unknown preset; -ENODEV the host cannot run it; -EINVAL a bad
 * preset text; err says which in one line. */
int diagjob_preset(const char *name, const struct caps *c, struct preset **out, char *err, size_t size);

/* Start the diagnosis. Returns the job, or NULL with *rc (-ENOENT no such
 * preset, -ENODEV the host cannot run it, -EINVAL a bad option such as the
 * cgroup, -EIO bpftrace could not be started) and a one-line reason in err. */
struct diagjob *diagjob_start(struct procman *pm, const struct diagjob_spec *s, int *rc, char *err, size_t size);

/* Analyse a saved raw output (--raw-out) as if bpftrace had just printed it. */
struct diagjob *diagjob_replay(const struct diagjob_spec *s, const char *path, int *rc, char *err, size_t size);

/* Stop now (the report covers what was collected); cancelled says why. */
void diagjob_stop(struct diagjob *j, bool cancelled);

bool diagjob_done(const struct diagjob *j);
double diagjob_elapsed(const struct diagjob *j);
unsigned long long diagjob_events(const struct diagjob *j);
const char *diagjob_status(const struct diagjob *j);

/* How long the job may take to stop once told to (tracejob_grace_ms()). */
int diagjob_grace_ms(const struct diagjob *j);

/* The protocol's diagnostic result: kind, status, success, error, preset,
 * duration, elapsed, program, report, started_at, finished_at. New reference. */
json_t *diagjob_result(struct diagjob *j);

/* Free (stopping a running job); NULL is a no-op. */
void diagjob_free(struct diagjob *j);

#endif /* DIAG_DIAGJOB_H */
