/* cmdjob.h - one shell command job: /bin/sh -c under procman, output capped.
 *
 * The command runs in its own process group with stdin from /dev/null. At
 * its timeout (or on cancel) the group gets SIGTERM and, after the grace,
 * SIGKILL. stdout is kept up to max_output bytes and stderr up to a quarter
 * of it; past that, the head and the tail are kept with a marker between
 * them, and the full sizes are reported. Output that is not UTF-8 has its
 * bad bytes shown as U+FFFD and the exact bytes added in base64.
 */
#ifndef DIAG_CMDJOB_H
#define DIAG_CMDJOB_H

#include <stdbool.h>

#include <jansson.h>

#include "agent/procman.h"

struct cmdjob_spec {
	const char *command;
	int timeout_s;
	int kill_grace_ms;
	long max_output;	   /* stdout cap in bytes; stderr gets a quarter */
	void (*on_done)(void *ud); /* the command was reaped; optional */
	void *ud;
};

struct cmdjob;

/* Start the command. Returns the job, or NULL with a one-line reason in err. */
struct cmdjob *cmdjob_start(struct procman *pm, const struct cmdjob_spec *spec, char *err, size_t size);

/* Stop now: SIGTERM to the group, SIGKILL after the grace; the result says
 * "cancelled". */
void cmdjob_stop(struct cmdjob *j);

bool cmdjob_done(const struct cmdjob *j);

/* The protocol's command result (without id): kind, status, success,
 * error, command, exit_code, signal, stdout, stderr, *_truncated,
 * *_bytes, duration_ms, started_at, finished_at. New reference or NULL. */
json_t *cmdjob_result(const struct cmdjob *j);

/* Free a job (a running one is killed and forgotten); NULL is a no-op. */
void cmdjob_free(struct cmdjob *j);

#endif /* DIAG_CMDJOB_H */
