/* cmdjob.c - one shell command job: /bin/sh -c under procman, output capped. */
#include "agent/cmdjob.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/result.h"
#include "parser/render.h"

#define CUT_MARKER "\n[... %llu bytes cut ...]\n"

/* The first cap/2 bytes, and the last cap/2 in a ring. */
struct headtail {
	char *buf; /* cap bytes: head, then the ring */
	size_t cap, head_len;
	size_t ring_pos, ring_len;
	unsigned long long total;
};

struct cmdjob {
	struct cmdjob_spec spec;
	char *command;
	struct proc *proc;
	struct headtail out, err;
	int64_t started_ns, finished_ns;
	int64_t deadline_ms; /* procman clock: the time-out's stop */
	bool done, cancelled, timed_out;
	int status; /* exit code or 128+signal */
};

static int headtail_init(struct headtail *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	h->cap = cap < 2 ? 2 : cap;
	h->buf = malloc(h->cap);
	return h->buf ? 0 : -ENOMEM;
}

static void headtail_add(struct headtail *h, const char *p, size_t len)
{
	size_t half = h->cap / 2, ring = h->cap - half;

	h->total += len;
	if (h->head_len < half) {
		size_t n = len < half - h->head_len ? len : half - h->head_len;

		memcpy(h->buf + h->head_len, p, n);
		h->head_len += n;
		p += n;
		len -= n;
	}
	if (len > ring) { /* only the last ring bytes can survive */
		p += len - ring;
		len = ring;
	}
	while (len) {
		size_t n = ring - h->ring_pos < len ? ring - h->ring_pos : len;

		memcpy(h->buf + half + h->ring_pos, p, n);
		h->ring_pos = (h->ring_pos + n) % ring;
		h->ring_len = h->ring_len + n > ring ? ring : h->ring_len + n;
		p += n;
		len -= n;
	}
}

static bool headtail_cut(const struct headtail *h)
{
	return h->total > h->head_len + h->ring_len;
}

/* The kept bytes (head, marker when cut, tail) as key, plus key_b64 when
 * they are not valid UTF-8. */
static void headtail_json(const struct headtail *h, json_t *r, const char *key)
{
	size_t half = h->cap / 2, ring = h->cap - half, n = 0;
	char *text = malloc(h->cap + 64), b64key[32];
	size_t start = h->ring_len < ring ? 0 : h->ring_pos;
	bool lossy = false;

	if (!text)
		return;
	memcpy(text, h->buf, h->head_len);
	n = h->head_len;
	if (headtail_cut(h))
		n += (size_t)snprintf(text + n, 64, CUT_MARKER, h->total - h->head_len - h->ring_len);
	for (size_t i = 0; i < h->ring_len; i++)
		text[n++] = h->buf[half + (start + i) % ring];
	json_object_set_new(r, key, render_json_string(text, n, &lossy));
	if (lossy) {
		snprintf(b64key, sizeof(b64key), "%s_b64", key);
		json_object_set_new(r, b64key, render_b64(text, n));
	}
	free(text);
}

static void on_output(void *ud, struct proc *p, int fd, const char *buf, size_t len)
{
	struct cmdjob *j = ud;

	headtail_add(fd == 1 ? &j->out : &j->err, buf, len);
}

static void on_exit_cb(void *ud, struct proc *p, int status)
{
	struct cmdjob *j = ud;

	j->proc = NULL;
	j->done = true;
	j->status = status;
	j->finished_ns = result_now_ns();
	/* Exiting after the deadline's stop, whatever the status, is a time-out. */
	j->timed_out = !j->cancelled && procman_now_ms() >= j->deadline_ms;
	if (j->spec.on_done)
		j->spec.on_done(j->spec.ud);
}

struct cmdjob *cmdjob_start(struct procman *pm, const struct cmdjob_spec *spec, char *err, size_t size)
{
	struct cmdjob *j = calloc(1, sizeof(*j));
	char *argv[4] = { "/bin/sh", "-c", NULL, NULL };
	struct proc_spec ps = { .argv = argv, .on_output = on_output, .on_exit = on_exit_cb };

	if (!j || !(j->command = strdup(spec->command)) || headtail_init(&j->out, (size_t)spec->max_output) < 0 ||
	    headtail_init(&j->err, (size_t)spec->max_output / 4) < 0) {
		snprintf(err, size, "out of memory");
		cmdjob_free(j);
		return NULL;
	}
	j->spec = *spec;
	j->spec.command = j->command;
	argv[2] = j->command;
	ps.ud = j;
	j->started_ns = result_now_ns();
	j->proc = procman_spawn(pm, &ps);
	if (!j->proc) {
		snprintf(err, size, "cannot run /bin/sh: %s", strerror(errno));
		cmdjob_free(j);
		return NULL;
	}
	j->deadline_ms = procman_now_ms() + (int64_t)spec->timeout_s * 1000;
	procman_set_deadline(j->proc, j->deadline_ms, SIGTERM, spec->kill_grace_ms);
	return j;
}

void cmdjob_stop(struct cmdjob *j)
{
	if (j->done || !j->proc)
		return;
	j->cancelled = true;
	procman_stop(j->proc, SIGTERM, j->spec.kill_grace_ms);
}

bool cmdjob_done(const struct cmdjob *j)
{
	return j->done;
}

static const char *signal_name(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
		{ SIGHUP, "SIGHUP" },	{ SIGINT, "SIGINT" },	{ SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" },
		{ SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" },	{ SIGFPE, "SIGFPE" },	{ SIGKILL, "SIGKILL" },
		{ SIGSEGV, "SIGSEGV" }, { SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGUSR1, "SIGUSR1" }, { SIGUSR2, "SIGUSR2" }, { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
		{ SIGSYS, "SIGSYS" },	{ SIGTRAP, "SIGTRAP" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return NULL;
}

json_t *cmdjob_result(const struct cmdjob *j)
{
	json_t *r = json_object();
	int64_t end = j->done ? j->finished_ns : result_now_ns();
	/* Only 128 + a real signal number (1..SIGRTMAX) is a
	 * signal; "exit 255" (ssh's error status) or "exit 200" is an exit code.
	 * Both used to read as signals ("killed by signal 127 (?)", no exit_code). */
	int sig = j->done && j->status > 128 && j->status - 128 <= SIGRTMAX ? j->status - 128 : 0;
	char signame[16];

	if (!r)
		return NULL;
	json_object_set_new(r, "kind", json_string("command"));
	json_object_set_new(r, "command", json_string(j->command));
	if (!j->done)
		result_set_status(r, "failed", "the command is still running");
	else if (j->cancelled)
		result_set_status(r, "cancelled", "cancelled after %.1f s", (double)(end - j->started_ns) / 1e9);
	else if (j->timed_out)
		result_set_status(r, "timeout", "timed out after %d s", j->spec.timeout_s);
	else if (sig)
		result_set_status(r, "failed", "killed by signal %d (%s)", sig,
				  signal_name(sig) ? signal_name(sig) : "?");
	else if (j->status != 0)
		result_set_status(r, "failed", "exited with status %d", j->status);
	else
		result_set_status(r, "completed", NULL);
	json_object_set_new(r, "exit_code", j->done && !sig ? json_integer(j->status) : json_null());
	if (sig && signal_name(sig)) {
		snprintf(signame, sizeof(signame), "%s", signal_name(sig));
		json_object_set_new(r, "signal", json_string(signame));
	} else {
		json_object_set_new(r, "signal", sig ? json_integer(sig) : json_null());
	}
	headtail_json(&j->out, r, "stdout");
	headtail_json(&j->err, r, "stderr");
	json_object_set_new(r, "stdout_truncated", json_boolean(headtail_cut(&j->out)));
	json_object_set_new(r, "stderr_truncated", json_boolean(headtail_cut(&j->err)));
	json_object_set_new(r, "stdout_bytes", json_integer((json_int_t)j->out.total));
	json_object_set_new(r, "stderr_bytes", json_integer((json_int_t)j->err.total));
	json_object_set_new(r, "duration_ms", json_integer((json_int_t)((end - j->started_ns) / 1000000)));
	result_set_time(r, "started_at", j->started_ns);
	result_set_time(r, "finished_at", end);
	return r;
}

void cmdjob_free(struct cmdjob *j)
{
	if (!j)
		return;
	if (j->proc && !j->done) {
		procman_stop(j->proc, SIGKILL, 0);
		proc_detach(j->proc);
	}
	free(j->out.buf);
	free(j->err.buf);
	free(j->command);
	free(j);
}
