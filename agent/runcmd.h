/* runcmd.h - run a short helper command and capture its output, with a deadline.
 *
 * For quick, bounded look-ups such as `bpftrace --version` and `bpftrace
 * --info`. The child runs in its own process group with stdin from /dev/null;
 * stdout and stderr are merged into one capped buffer. Long-running children
 * (traces, remote commands) belong to procman, not here.
 */
#ifndef DIAG_RUNCMD_H
#define DIAG_RUNCMD_H

#include <stdbool.h>
#include <stddef.h>

struct runcmd_result {
	char *out;	/* merged stdout+stderr, NUL-terminated; owned, see runcmd_release() */
	size_t len;	/* bytes kept in out */
	bool truncated; /* output was longer than the cap; the rest was read and dropped */
	bool timed_out; /* the deadline passed and the process group was killed */
	int exit_code;	/* exit status, or 128+signal when killed by a signal */
};

/* Run argv[0] (searched in PATH) with argv, wait at most timeout_ms, keep at
 * most cap bytes of output. Returns 0 when the command ran (whatever its exit
 * code: see res->exit_code), -ENOENT/-EACCES/... when it could not be
 * executed, -ENOMEM on allocation failure. On success release res with
 * runcmd_release(). On error res holds nothing to release. */
int runcmd_capture(char *const argv[], int timeout_ms, size_t cap, struct runcmd_result *res);

/* Free what res holds; a zeroed or already released res is a no-op. */
void runcmd_release(struct runcmd_result *res);

#endif /* DIAG_RUNCMD_H */
