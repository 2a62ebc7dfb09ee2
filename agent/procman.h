/* procman.h - child processes with deadlines, drained in one poll loop.
 *
 * Lifecycle of a child (git's run-command is the model):
 *
 *   procman_spawn()    fork + exec in its own process group, stdin from
 *                      /dev/null, stdout and stderr on non-blocking pipes,
 *                      PR_SET_PDEATHSIG(SIGKILL) so it dies with us; an exec
 *                      failure comes back through a close-on-exec pipe and
 *                      spawn returns it as an error, with nothing left running.
 *   the loop           the caller polls the fds procman_pollfds() gives (with
 *                      its own, e.g. libcurl's) for at most
 *                      procman_timeout_ms(), then calls procman_dispatch():
 *                      output is delivered to on_output as it arrives, so a
 *                      full pipe never stalls the child; deadlines fire.
 *   procman_stop()     stop a child now: signal `sig` to the group (SIGINT
 *                      for bpftrace, which then prints its maps; SIGTERM for
 *                      commands), then SIGKILL to the group after the grace.
 *   deadline           procman_set_deadline(): at that time, procman_stop().
 *   exit               reaped (EINTR-safe, WNOHANG, never a blocking wait);
 *                      on_exit runs once, after every byte of output was
 *                      delivered, with the exit code (or 128+signal); then
 *                      the proc is freed by procman.
 *
 * A registry of live children: procman_kill_all() sends SIGKILL to every
 * group (at exit, on SIGTERM) and reaps them. Several children run at once,
 * each with its own deadline; stopping one leaves the others running.
 * Nothing here blocks; nothing here uses threads. Callbacks may call
 * procman_stop() (on any proc) but not procman_free().
 */
#ifndef DIAG_PROCMAN_H
#define DIAG_PROCMAN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procman;
struct proc;

struct proc_spec {
	char *const *argv; /* argv[0] is searched in PATH */
	char *const *env;  /* extra "NAME=value" entries added to our environment; NULL */
	/* Output as it arrives; fd is 1 or 2. Bytes are only valid during the call. */
	void (*on_output)(void *ud, struct proc *p, int fd, const char *buf, size_t len);
	/* The child was reaped: exit code, or 128+signal; called exactly once. */
	void (*on_exit)(void *ud, struct proc *p, int status);
	void *ud;
	/* Replace this string in argv by the child's own pid before exec
	 * (e.g. "$PID" -> "12345"), so bpftrace can leave itself out; NULL: none. */
	const char *pid_placeholder;
};

/* A manager with no children. Returns NULL on allocation failure. */
struct procman *procman_new(void);

/* Kill (SIGKILL) and reap every child, then free; NULL is a no-op. on_exit is
 * not called for children killed here. */
void procman_free(struct procman *pm);

/* Start a child. Returns it (owned by pm until its on_exit has run), or NULL
 * with errno set: the exec's own errno (ENOENT, EACCES, ...) when the
 * program could not be started, or EMFILE/ENOMEM/EAGAIN. */
struct proc *procman_spawn(struct procman *pm, const struct proc_spec *spec);

/* The child's pid (also its process group id). */
int proc_pid(const struct proc *p);

/* Monotonic milliseconds, the clock every deadline uses. */
int64_t procman_now_ms(void);

/* At time at_ms (procman_now_ms() clock), stop the child with sig and
 * grace_ms before SIGKILL. A later call replaces the deadline. */
void procman_set_deadline(struct proc *p, int64_t at_ms, int sig, int grace_ms);

/* Stop now: sig to the process group, SIGKILL after grace_ms (0: at once).
 * A second call may only shorten the grace. */
void procman_stop(struct proc *p, int sig, int grace_ms);

/* Repeat a stop signal every ms (default 1000) until the kill: a child
 * that takes long to stop once it has the signal (bpftrace detaching many
 * probes, ~70 ms each) must not get the next one meanwhile. */
void procman_set_resend(struct proc *p, int ms);

/* Forget the callbacks: the child runs on (stop it first if it must end),
 * its output is discarded and on_exit is not called. For an owner that goes
 * away before its child does. */
void proc_detach(struct proc *p);

/* Number of children not yet reaped. */
int procman_count(const struct procman *pm);

/* Fill fds (at most max) with the pipes to poll (POLLIN). Returns how many. */
int procman_pollfds(const struct procman *pm, struct pollfd *fds, int max);

/* Milliseconds until the next deadline or reap check is due; -1 when none
 * (no child). The caller's poll must not wait longer. */
int procman_timeout_ms(const struct procman *pm);

/* Read ready pipes (fds as returned by poll; n may be 0 after a time-out),
 * fire due deadlines, reap exited children, run callbacks. Returns 0. */
int procman_dispatch(struct procman *pm, const struct pollfd *fds, int n);

/* Convenience loop: poll and dispatch until no child is left or timeout_ms
 * passes (-1: no limit), also returning early when *stop becomes true (a
 * signal handler's flag; NULL: none). Returns the children left. */
int procman_run(struct procman *pm, int timeout_ms, const volatile int *stop);

/* Make procman_run() nap ms after each dispatch that read output, so a
 * child writing line by line is read in batches (one wakeup per batch, not
 * per line). Stdout pipes are PROCMAN_PIPE_SIZE deep, so the child does not
 * wait meanwhile. 0 (the default): no nap. */
#define PROCMAN_PIPE_SIZE (1024 * 1024)
void procman_set_batch(struct procman *pm, int ms);

/* SIGKILL every child's process group and reap them all (bounded wait). */
void procman_kill_all(struct procman *pm);

#endif /* DIAG_PROCMAN_H */
