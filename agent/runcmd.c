/* runcmd.c - run a short helper command and capture its output, with a deadline. */
#include "agent/runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child: only async-signal-safe calls until exec. */
static void child_exec(char *const argv[], int out_fd, int err_fd)
{
	int null_fd = open("/dev/null", O_RDONLY);
	int e;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null_fd >= 0)
		dup2(null_fd, STDIN_FILENO);
	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	execvp(argv[0], argv);
	e = errno;
	if (write(err_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static int wait_exit(pid_t pid, int64_t deadline, bool *timed_out)
{
	int status = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline && !*timed_out) {
			*timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		/* 5 ms steps: these helpers exit within a few hundred ms. */
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int runcmd_capture(char *const argv[], int timeout_ms, size_t cap, struct runcmd_result *res)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int64_t deadline = now_ms() + timeout_ms;
	int rc = 0, exec_errno = 0;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->out = malloc(cap + 1);
	if (!res->out)
		return -ENOMEM;
	res->out[0] = '\0';
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		rc = -errno;
		goto cleanup;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto cleanup;
	}
	if (pid == 0)
		child_exec(argv, out[1], err[1]);
	setpgid(pid, pid); /* both sides set it: no race with kill(-pid) */
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;

	/* Exec failure arrives as an errno on the close-on-exec pipe; EOF means exec succeeded. */
	while (read(err[0], &exec_errno, sizeof(exec_errno)) < 0 && errno == EINTR)
		;

	for (;;) {
		struct pollfd pfd = { .fd = out[0], .events = POLLIN };
		int64_t left = deadline - now_ms();
		char chunk[4096];
		ssize_t n;

		if (left <= 0) {
			res->timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		n = read(out[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (res->len < cap) {
			size_t take = (size_t)n < cap - res->len ? (size_t)n : cap - res->len;
			memcpy(res->out + res->len, chunk, take);
			res->len += take;
			/* cppcheck-suppress knownConditionTrueFalse ; it is true when the output passes cap */
			if (take < (size_t)n)
				res->truncated = true;
		} else {
			res->truncated = true;
		}
	}
	res->out[res->len] = '\0';
	res->exit_code = wait_exit(pid, deadline, &res->timed_out);
	if (exec_errno)
		rc = -exec_errno;

cleanup:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (rc < 0)
		runcmd_release(res);
	return rc;
}

void runcmd_release(struct runcmd_result *res)
{
	if (!res)
		return;
	free(res->out);
	memset(res, 0, sizeof(*res));
}
