/* agent.h - `diagagent run`: the long-running agent and its one event loop.
 *
 * The loop waits on one curl_multi_poll() set: libcurl's sockets, the
 * children's pipes (procman) and a signalfd. In it: the heartbeat (with the
 * caps object), job polls with jitter, result uploads from the durable
 * outbox, and up to max_concurrent_jobs traces and commands at once. A
 * slow or dead server never stalls tracing: every request is non-blocking,
 * every failure backs off, and results wait in the outbox.
 *
 * Signals: SIGTERM/SIGINT stop taking jobs, cancel the running ones (they
 * post "cancelled" results with what they collected), flush the outbox for
 * shutdown_grace and exit 0; a second one stops the flush. SIGHUP reloads
 * the configuration (a bad file keeps the old one).
 */
#ifndef DIAG_AGENT_H
#define DIAG_AGENT_H

#include <stdbool.h>

struct agent_opts {
	const char *config_path; /* NULL: CONFIG_DEFAULT_PATH */
	bool once;		 /* poll once, run what came, upload, exit */
};

/* Run the agent until it is told to stop. Returns an exit code (cli.h):
 * CLI_OK after a clean stop (or a --once run that delivered everything),
 * CLI_USAGE for a bad configuration, CLI_FAIL when the spool cannot be
 * used or a --once run could not poll or upload. */
int agent_run(const struct agent_opts *o);

#endif /* DIAG_AGENT_H */
