/* procman.c - child processes with deadlines, drained in one poll loop. */
#include "agent/procman.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	      (64 * 1024)   /* one read() */
#define FD_BUDGET     (1024 * 1024) /* bytes per pipe per dispatch: no child starves the others */
#define CHECK_MS      100	    /* reap check while nothing else is due */
#define CHECK_SOON_MS 10	    /* ... when an exit is expected (pipes closed, SIGKILL sent) */
#define CHECK_NOW_MS  1		    /* ... in the first NOW_MS of that: the zombie is due any moment */
#define NOW_MS	      20
#define SOON_MS	      1000 /* after this long, back to CHECK_MS */
#define DRAIN_MS      200  /* pipes kept open by others after the child exited */
#define KILL_WAIT_MS  2000 /* procman_kill_all(): bounded reap */
#define PID_DIGITS    20

struct proc {
	struct procman *pm;
	struct proc *next;
	pid_t pid; /* also the process group id */
	int fd[2]; /* read ends of stdout, stderr; -1 once closed */
	void (*on_output)(void *ud, struct proc *p, int fd, const char *buf, size_t len);
	void (*on_exit)(void *ud, struct proc *p, int status);
	void *ud;

	int64_t deadline_ms; /* INT64_MAX: none */
	int deadline_sig, deadline_grace;
	bool stopping; /* procman_stop() ran: sig was sent */
	int stop_sig;  /* that signal, sent again every RESEND_MS until the kill */
	int64_t resend_ms;
	int resend_every; /* ms; 0: RESEND_MS */
	int64_t kill_ms;  /* SIGKILL to the group at this time; INT64_MAX: none */
	bool killed;	  /* SIGKILL was sent */

	int64_t expect_ms; /* when the pipes closed or SIGKILL went out; 0: not yet */
	bool exited;	   /* the child is a zombie (seen with WNOWAIT), not yet reaped */
	int64_t exited_ms;
	bool lost;   /* reaped, by us or behind our back: never signal the pid again */
	bool reaped; /* by us: code holds the status */
	int code;
	bool done; /* reaped or abandoned: no more callbacks, free at the next sweep */
};

struct procman {
	struct proc *head;
	char *buf;	     /* CHUNK bytes, shared by every read */
	int busy;	     /* > 0 while a dispatch or kill_all walks the list: free later */
	int in_output;	     /* > 0 inside on_output: buf is in use */
	struct pollfd *pfds; /* procman_run()'s poll set */
	int npfds;
	int batch_ms; /* procman_run() naps this long after reading output */
};

#define RESEND_MS 1000 /* a stop signal is repeated this often until the kill */

/* ---- time and small helpers ------------------------------------------------ */

int64_t procman_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int64_t add_ms(int64_t t, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	return t > INT64_MAX - ms ? INT64_MAX : t + ms;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int decode_status(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Has the child exited? Leaves it a zombie (WNOWAIT), so its pid and process
 * group id cannot be reused while we still signal the group. */
static void check_exited(struct proc *p)
{
	siginfo_t si;
	int r;

	if (p->exited || p->lost)
		return;
	do {
		memset(&si, 0, sizeof(si));
		r = waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		/* ECHILD: reaped behind our back; the pid may be reused, so
		 * never signal it again. */
		p->lost = true;
		p->exited = true;
		p->exited_ms = procman_now_ms();
		return;
	}
	if (si.si_pid == p->pid) {
		p->exited = true;
		p->exited_ms = procman_now_ms();
	}
}

/* Reap pid without blocking. Returns 1 and *status when reaped, 0 when still
 * running, -1 when it is not our child (already reaped). */
static int reap(pid_t pid, int *status)
{
	pid_t r;

	do {
		r = waitpid(pid, status, WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == pid)
		return 1;
	return r == 0 ? 0 : -1;
}

static void kill_group(struct proc *p, int sig)
{
	if (p->lost || p->done)
		return;
	/* The child made itself the group leader before exec, and we made it
	 * too right after fork; signal the pid alone only if there is no such
	 * group (one signal, never two: bpftrace may treat a second SIGINT
	 * differently). */
	if (kill(-p->pid, sig) < 0 && errno == ESRCH)
		kill(p->pid, sig);
}

static void send_kill(struct proc *p)
{
	kill_group(p, SIGKILL);
	p->killed = true;
	p->expect_ms = procman_now_ms();
}

/* ---- the child side ------------------------------------------------------------- */

/* Decimal digits of v into buf (>= PID_DIGITS + 1 bytes). Async-signal-safe. */
static size_t format_pid(char *buf, long v)
{
	char tmp[PID_DIGITS];
	size_t n = 0, len = 0;

	if (v < 0)
		v = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

/* Everything the child needs, allocated before fork so the child only copies. */
struct launch {
	char **argv; /* argv with the placeholder args pointing into slots */
	char **slot; /* per arg: NULL, or a buffer for the substituted arg */
	char **envp; /* NULL: inherit environ */
	const char *ph;
	size_t ph_len;
	int argc;
};

static void launch_release(struct launch *l)
{
	if (l->slot)
		for (int i = 0; i < l->argc; i++)
			free(l->slot[i]);
	free(l->slot);
	free(l->argv);
	free(l->envp);
	memset(l, 0, sizeof(*l));
}

static size_t count_occurrences(const char *s, const char *ph, size_t ph_len)
{
	size_t n = 0;

	while ((s = strstr(s, ph))) {
		n++;
		s += ph_len;
	}
	return n;
}

static bool same_name(const char *a, const char *b)
{
	const char *ea = strchr(a, '='), *eb = strchr(b, '=');
	size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);

	return la == lb && memcmp(a, b, la) == 0;
}

static int launch_prepare(struct launch *l, const struct proc_spec *spec)
{
	int argc = 0;

	memset(l, 0, sizeof(*l));
	while (spec->argv[argc])
		argc++;
	l->argc = argc;
	l->argv = calloc((size_t)argc + 1, sizeof(*l->argv));
	l->slot = calloc((size_t)argc + 1, sizeof(*l->slot));
	if (!l->argv || !l->slot)
		return -ENOMEM;
	if (spec->pid_placeholder && spec->pid_placeholder[0]) {
		l->ph = spec->pid_placeholder;
		l->ph_len = strlen(l->ph);
	}
	for (int i = 0; i < argc; i++) {
		size_t n = l->ph ? count_occurrences(spec->argv[i], l->ph, l->ph_len) : 0;

		l->argv[i] = spec->argv[i];
		if (n) {
			l->slot[i] = malloc(strlen(spec->argv[i]) + n * PID_DIGITS + 1);
			if (!l->slot[i])
				return -ENOMEM;
		}
	}
	if (spec->env && spec->env[0]) {
		size_t ne = 0, nx = 0, k = 0;

		while (environ && environ[ne])
			ne++;
		while (spec->env[nx])
			nx++;
		l->envp = calloc(ne + nx + 1, sizeof(*l->envp));
		if (!l->envp)
			return -ENOMEM;
		for (size_t i = 0; i < ne; i++) {
			bool replaced = false;

			for (size_t j = 0; j < nx && !replaced; j++)
				replaced = same_name(environ[i], spec->env[j]);
			if (!replaced)
				l->envp[k++] = environ[i];
		}
		for (size_t j = 0; j < nx; j++)
			l->envp[k++] = spec->env[j];
	}
	return 0;
}

/* Copy src into dst with every placeholder replaced by pid. Async-signal-safe. */
static void substitute(char *dst, const char *src, const char *ph, size_t ph_len, const char *pid, size_t pid_len)
{
	while (*src) {
		if (strncmp(src, ph, ph_len) == 0) {
			memcpy(dst, pid, pid_len);
			dst += pid_len;
			src += ph_len;
		} else {
			*dst++ = *src++;
		}
	}
	*dst = '\0';
}

static void child_fail(int err_fd, int e)
{
	ssize_t r;

	do {
		r = write(err_fd, &e, sizeof(e));
	} while (r < 0 && errno == EINTR);
	_exit(127);
}

/* Move fd to >= 3 so that dup2 onto 0..2 cannot clobber another of ours. */
static int raise_fd(int fd, int err_fd)
{
	int r;

	if (fd > STDERR_FILENO)
		return fd;
	r = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	if (r < 0)
		child_fail(err_fd, errno);
	return r;
}

/* Close every descriptor above 2 but err_fd, which moves to 3 (returned): the
 * caller's descriptors without O_CLOEXEC (libcurl's sockets, say) must not
 * leak into the child. */
static int close_inherited(int err_fd)
{
	if (err_fd != 3 && dup3(err_fd, 3, O_CLOEXEC) < 0)
		child_fail(err_fd, errno);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 4U, ~0U, 0U) == 0)
		return 3;
#endif
	/* Kernels before 5.9: close what the limit allows, bounded. */
	for (long fd = 4, max = sysconf(_SC_OPEN_MAX); fd < max && fd < 65536; fd++)
		close((int)fd);
	return 3;
}

/* In the child, between fork and exec: no allocation, no stdio. */
static void child_exec(struct launch *l, pid_t parent, int null_fd, int out_fd, int errout_fd, int err_fd)
{
	struct sigaction dfl;
	sigset_t none;
	char pid[PID_DIGITS + 1];
	size_t pid_len;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent) /* the parent died before the prctl */
		_exit(127);

	/* Dispositions first (signals are still blocked, see procman_spawn),
	 * then the mask: the parent may ignore SIGPIPE or block SIGCHLD/SIGINT. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction old;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_DFL)
			sigaction(sig, &dfl, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	err_fd = raise_fd(err_fd, err_fd);
	null_fd = raise_fd(null_fd, err_fd);
	out_fd = raise_fd(out_fd, err_fd);
	errout_fd = raise_fd(errout_fd, err_fd);
	if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 || dup2(errout_fd, STDERR_FILENO) < 0)
		child_fail(err_fd, errno);
	err_fd = close_inherited(err_fd);

	if (l->ph) {
		pid_len = format_pid(pid, (long)getpid());
		for (int i = 0; i < l->argc; i++) {
			if (!l->slot[i])
				continue;
			substitute(l->slot[i], l->argv[i], l->ph, l->ph_len, pid, pid_len);
			l->argv[i] = l->slot[i];
		}
	}
	if (l->envp)
		execvpe(l->argv[0], l->argv, l->envp);
	else
		execvp(l->argv[0], l->argv);
	child_fail(err_fd, errno);
}

/* ---- spawning ------------------------------------------------------------------------ */

struct procman *procman_new(void)
{
	struct procman *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->buf = malloc(CHUNK);
	if (!pm->buf) {
		free(pm);
		return NULL;
	}
	return pm;
}

/* Wait for a child that is dying anyway, at most ms; SIGKILL it half-way. */
static int reap_bounded(pid_t pid, int ms, int *status)
{
	int64_t end = add_ms(procman_now_ms(), ms), half = add_ms(procman_now_ms(), ms / 2);
	bool sent = false;
	int r;

	while ((r = reap(pid, status)) == 0) {
		int64_t now = procman_now_ms();

		if (now >= end)
			break;
		if (now >= half && !sent) {
			kill(pid, SIGKILL);
			sent = true;
		}
		sleep_ms(2);
	}
	return r;
}

struct proc *procman_spawn(struct procman *pm, const struct proc_spec *spec)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ex[2] = { -1, -1 };
	int null_fd = -1, exec_errno = 0, rc = 0, status;
	struct launch l;
	struct proc *p = NULL;
	sigset_t all, old;
	pid_t pid, parent = getpid();
	ssize_t n;

	if (!pm || !spec || !spec->argv || !spec->argv[0]) {
		errno = EINVAL;
		return NULL;
	}
	rc = launch_prepare(&l, spec);
	if (rc < 0)
		goto cleanup;
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
		rc = -errno;
		goto cleanup;
	}

	/* Block everything across fork so that no handler of ours runs in the
	 * child before it resets the dispositions (git's run-command does so). */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(&l, parent, null_fd, out[1], err[1], ex[1]);
	rc = pid < 0 ? -errno : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc < 0)
		goto cleanup;
	setpgid(pid, pid); /* both sides set it: no race with kill(-pid) */
	close_fd(&out[1]);
	close_fd(&err[1]);
	close_fd(&ex[1]);
	close_fd(&null_fd);

	/* EOF: exec succeeded (the pipe is close-on-exec); an errno: it failed. */
	do {
		n = read(ex[0], &exec_errno, sizeof(exec_errno));
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(exec_errno) || n < 0) {
		if (n < 0)
			exec_errno = errno;
		rc = exec_errno > 0 ? -exec_errno : -ECHILD;
		kill(pid, SIGKILL);
		reap_bounded(pid, KILL_WAIT_MS, &status);
		goto cleanup;
	}
	if (n > 0) { /* a partial errno: the child died writing it */
		rc = -ECHILD;
		reap_bounded(pid, KILL_WAIT_MS, &status);
		goto cleanup;
	}

	/* Allocated only now: a child that fails to exec must not hold (and,
	 * under valgrind, report) memory of ours. */
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = -ENOMEM;
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		reap_bounded(pid, KILL_WAIT_MS, &status);
		goto cleanup;
	}
	fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
	/* A deep stdout pipe lets the reader batch its reads (procman_set_batch)
	 * without ever making the child wait; best effort (pipe-max-size). */
	fcntl(out[0], F_SETPIPE_SZ, PROCMAN_PIPE_SIZE);
	fcntl(err[0], F_SETFL, fcntl(err[0], F_GETFL) | O_NONBLOCK);
	p->pm = pm;
	p->pid = pid;
	p->fd[0] = out[0];
	p->fd[1] = err[0];
	out[0] = err[0] = -1;
	p->on_output = spec->on_output;
	p->on_exit = spec->on_exit;
	p->ud = spec->ud;
	p->deadline_ms = INT64_MAX;
	p->kill_ms = INT64_MAX;
	p->next = pm->head;
	pm->head = p;

cleanup:
	launch_release(&l);
	close_fd(&null_fd);
	for (int i = 0; i < 2; i++) {
		close_fd(&out[i]);
		close_fd(&err[i]);
		close_fd(&ex[i]);
	}
	if (rc < 0) {
		free(p);
		errno = -rc;
		return NULL;
	}
	return p;
}

int proc_pid(const struct proc *p)
{
	return p ? (int)p->pid : -1;
}

/* ---- deadlines and stopping ---------------------------------------------------------- */

void proc_detach(struct proc *p)
{
	if (!p)
		return;
	p->on_output = NULL;
	p->on_exit = NULL;
	p->ud = NULL;
}

void procman_set_deadline(struct proc *p, int64_t at_ms, int sig, int grace_ms)
{
	if (!p || p->done)
		return;
	p->deadline_ms = at_ms;
	p->deadline_sig = sig;
	p->deadline_grace = grace_ms;
}

void procman_set_resend(struct proc *p, int ms)
{
	if (p && ms > 0)
		p->resend_every = ms;
}

void procman_stop(struct proc *p, int sig, int grace_ms)
{
	int64_t kill_at;

	if (!p || p->done || p->killed)
		return;
	kill_at = add_ms(procman_now_ms(), grace_ms);
	if (!p->stopping) {
		p->stopping = true;
		if (sig > 0 && sig != SIGKILL) {
			kill_group(p, sig);
			p->stop_sig = sig;
			p->resend_ms = add_ms(procman_now_ms(), p->resend_every ? p->resend_every : RESEND_MS);
		}
		if (sig == SIGKILL)
			kill_at = 0;
	}
	if (kill_at < p->kill_ms)
		p->kill_ms = kill_at;
	if (grace_ms <= 0 || p->kill_ms <= procman_now_ms())
		send_kill(p);
}

/* ---- the registry -------------------------------------------------------------------- */

int procman_count(const struct procman *pm)
{
	int n = 0;

	if (!pm)
		return 0;
	for (const struct proc *p = pm->head; p; p = p->next)
		n += !p->done;
	return n;
}

int procman_pollfds(const struct procman *pm, struct pollfd *fds, int max)
{
	int n = 0;

	if (!pm)
		return 0;
	for (const struct proc *p = pm->head; p; p = p->next) {
		if (p->done)
			continue;
		for (int i = 0; i < 2; i++) {
			if (p->fd[i] < 0 || n >= max)
				continue;
			fds[n].fd = p->fd[i];
			fds[n].events = POLLIN;
			fds[n].revents = 0;
			n++;
		}
	}
	return n;
}

/* How long to wait before asking waitid() again: the child's pipes reach EOF
 * a moment before it becomes a zombie, so look often right after that. */
static int check_period(const struct proc *p, int64_t now)
{
	int64_t since = now - p->expect_ms;

	if (!p->expect_ms || since >= SOON_MS)
		return CHECK_MS;
	return since < NOW_MS ? CHECK_NOW_MS : CHECK_SOON_MS;
}

static int64_t next_due(const struct proc *p, int64_t now)
{
	int64_t due = INT64_MAX, check;

	if (p->deadline_ms < due)
		due = p->deadline_ms;
	if (!p->killed && p->kill_ms < due)
		due = p->kill_ms;
	if (p->stop_sig && !p->killed && !p->exited && p->resend_ms < due)
		due = p->resend_ms;
	if (p->exited) {
		int64_t drained = add_ms(p->exited_ms, DRAIN_MS);

		if (drained < due)
			due = drained;
	} else {
		check = add_ms(now, check_period(p, now));
		if (check < due)
			due = check;
	}
	return due;
}

int procman_timeout_ms(const struct procman *pm)
{
	int64_t now = procman_now_ms(), due = INT64_MAX;
	bool any = false;

	if (!pm)
		return -1;
	for (const struct proc *p = pm->head; p; p = p->next) {
		int64_t d;

		if (p->done)
			continue;
		any = true;
		d = next_due(p, now);
		if (d < due)
			due = d;
	}
	if (!any)
		return -1;
	if (due <= now)
		return 0;
	return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

static void proc_free(struct proc *p)
{
	close_fd(&p->fd[0]);
	close_fd(&p->fd[1]);
	free(p);
}

/* Free the procs marked done, unless a dispatch is still walking the list. */
static void sweep(struct procman *pm)
{
	struct proc **pp = &pm->head;

	if (pm->busy)
		return;
	while (*pp) {
		struct proc *p = *pp;

		if (p->done) {
			*pp = p->next;
			proc_free(p);
		} else {
			pp = &p->next;
		}
	}
}

/* ---- dispatch ------------------------------------------------------------------------ */

/* Read what one pipe holds, at most budget bytes. Closes it on EOF. */
static void drain(struct proc *p, int i, size_t budget)
{
	struct procman *pm = p->pm;
	char *buf = pm->buf, *own = NULL;
	size_t total = 0;

	/* procman_kill_all() called from on_output: pm->buf still holds the
	 * bytes that callback was given. */
	if (pm->in_output) {
		own = malloc(CHUNK);
		if (!own)
			return;
		buf = own;
	}
	while (p->fd[i] >= 0 && !p->done && total < budget) {
		ssize_t n = read(p->fd[i], buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			close_fd(&p->fd[i]);
			break;
		}
		total += (size_t)n;
		if (p->on_output) {
			pm->in_output++;
			p->on_output(p->ud, p, i + 1, buf, (size_t)n);
			pm->in_output--;
		}
	}
	free(own);
}

/* The child has exited and its output was read (or others hold the pipes
 * too long): kill what is left of the group, reap, report. */
static void finish(struct proc *p)
{
	int status = 0, code = -1;

	/* The zombie still holds the group id: no pid reuse race here. */
	if (!p->lost)
		kill(-p->pid, SIGKILL);
	/* What the killed writers left in the pipes. */
	for (int i = 0; i < 2; i++) {
		drain(p, i, FD_BUDGET);
		close_fd(&p->fd[i]);
	}
	if (p->done) /* procman_kill_all() from on_output reaped it */
		return;
	if (!p->lost && reap(p->pid, &status) == 1)
		code = decode_status(status);
	p->lost = true;
	p->done = true;
	if (p->on_exit)
		p->on_exit(p->ud, p, code);
}

static void dispatch_one(struct proc *p)
{
	int64_t now;

	for (int i = 0; i < 2; i++)
		drain(p, i, FD_BUDGET);
	if (p->done)
		return;
	now = procman_now_ms();
	if (p->fd[0] < 0 && p->fd[1] < 0 && !p->expect_ms)
		p->expect_ms = now;
	if (now >= p->deadline_ms) {
		p->deadline_ms = INT64_MAX;
		procman_stop(p, p->deadline_sig, p->deadline_grace);
	}
	if (!p->killed && now >= p->kill_ms)
		send_kill(p);
	/* bpftrace 0.17 now and then lets a SIGINT pass without stopping:
	 * repeat it until the grace ends, before SIGKILL loses its maps. */
	if (p->stop_sig && !p->killed && !p->exited && now >= p->resend_ms) {
		kill_group(p, p->stop_sig);
		p->resend_ms = add_ms(now, p->resend_every ? p->resend_every : RESEND_MS);
	}
	check_exited(p);
	if (!p->exited)
		return;
	if ((p->fd[0] < 0 && p->fd[1] < 0) || now >= add_ms(p->exited_ms, DRAIN_MS))
		finish(p);
}

int procman_dispatch(struct procman *pm, const struct pollfd *fds, int n)
{
	(void)fds; /* every open pipe is tried: they are non-blocking, and a stale set is harmless */
	(void)n;
	if (!pm)
		return 0;
	pm->busy++;
	for (struct proc *p = pm->head; p; p = p->next)
		if (!p->done)
			dispatch_one(p);
	pm->busy--;
	sweep(pm);
	return 0;
}

/* SIGKILL every group, then reap them, bounded. notify: deliver what the
 * pipes hold and run on_exit, as for any exit; else (procman_free) abandon
 * children that cannot be reaped in time. */
static void kill_all(struct procman *pm, bool notify)
{
	int64_t end = add_ms(procman_now_ms(), KILL_WAIT_MS);
	bool left;

	pm->busy++;
	for (struct proc *p = pm->head; p; p = p->next)
		if (!p->done)
			send_kill(p);
	for (;;) {
		left = false;
		for (struct proc *p = pm->head; p; p = p->next) {
			int status = 0, r, code;

			if (p->done)
				continue;
			if (!p->lost) {
				r = reap(p->pid, &status);
				if (r == 0) {
					left = true;
					continue;
				}
				p->reaped = r == 1;
				p->code = r == 1 ? decode_status(status) : -1;
				p->lost = true;
			}
			code = p->reaped ? p->code : -1;
			for (int i = 0; i < 2; i++) {
				if (notify)
					drain(p, i, FD_BUDGET);
				close_fd(&p->fd[i]);
			}
			if (p->done)
				continue;
			p->done = true;
			if (notify && p->on_exit)
				p->on_exit(p->ud, p, code);
		}
		if (!left || procman_now_ms() >= end)
			break;
		sleep_ms(2);
	}
	/* Stuck in the kernel: procman_free() forgets it; otherwise it stays
	 * registered (killed) and a later dispatch reaps it. */
	if (!notify)
		for (struct proc *p = pm->head; p; p = p->next)
			p->done = true;
	pm->busy--;
	sweep(pm);
}

void procman_kill_all(struct procman *pm)
{
	if (pm)
		kill_all(pm, true);
}

void procman_free(struct procman *pm)
{
	if (!pm)
		return;
	kill_all(pm, false);
	while (pm->head) {
		struct proc *p = pm->head;

		pm->head = p->next;
		proc_free(p);
	}
	free(pm->pfds);
	free(pm->buf);
	free(pm);
}

int procman_run(struct procman *pm, int timeout_ms, const volatile int *stop)
{
	int64_t end = timeout_ms < 0 ? INT64_MAX : add_ms(procman_now_ms(), timeout_ms);

	if (!pm)
		return 0;
	for (;;) {
		int left = procman_count(pm), wait, nfds, r;
		int64_t now = procman_now_ms();

		if (!left || (stop && *stop) || now >= end)
			return left;
		if (pm->npfds < 2 * left) {
			struct pollfd *grown = realloc(pm->pfds, sizeof(*grown) * 2 * (size_t)left);

			if (grown) {
				pm->pfds = grown;
				pm->npfds = 2 * left;
			}
		}
		nfds = procman_pollfds(pm, pm->pfds, pm->npfds);
		wait = procman_timeout_ms(pm);
		if (end != INT64_MAX && (wait < 0 || end - now < wait))
			wait = (int)(end - now);
		r = poll(pm->pfds, (nfds_t)nfds, wait);
		if (r < 0 && errno != EINTR)
			sleep_ms(CHECK_SOON_MS); /* ENOMEM: do not spin */
		procman_dispatch(pm, pm->pfds, r > 0 ? nfds : 0);
		if (r > 0 && pm->batch_ms > 0) {
			/* Let output gather: one read per batch, not per line. */
			int nap = procman_timeout_ms(pm);

			sleep_ms(nap >= 0 && nap < pm->batch_ms ? nap : pm->batch_ms);
		}
	}
}

void procman_set_batch(struct procman *pm, int ms)
{
	if (pm)
		pm->batch_ms = ms > 0 ? ms : 0;
}
