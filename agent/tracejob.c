/* tracejob.c - one trace: bpftrace under procman, scanned into events and statistics. */
#include "agent/tracejob.h"
#include "agent/result.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcre2.h>

#include "parser/render.h"
#include "parser/stats.h"

struct tracejob {
	struct tracejob_spec spec;
	struct proc *proc;
	struct scanner *scan;
	struct trace_stats *stats;
	pcre2_code *re;
	pcre2_match_data *md;
	struct strbuf msg;
	struct strbuf errbuf; /* bpftrace's stderr, capped */
	json_t *events;	      /* kept event objects, or NULL */
	long keep_max;
	char program_path[64];
	int raw_fd;
	int64_t mono_to_wall_ns;
	int64_t started_ms, attached_ms, finished_ms;
	int64_t deadline_ms;		 /* when the current deadline stops bpftrace */
	int64_t started_at, finished_at; /* wall clock, ns */
	int probes;
	bool attached, done, stopping, cancelled, killed;
	bool replay;	      /* tracejob_replay(): no process ran */
	bool startup_expired; /* stopped because the probes were not attached in time */
	int exit_status;
	unsigned long long nevents;
	unsigned long long unkept; /* events that memory ran out for: counted, not kept */
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- scanner callbacks -------------------------------------------------------- */

static int attached_probes(const struct tracejob *j)
{
	return j->probes ? j->probes : (int)scan_stats(j->scan)->attached_probes;
}

int tracejob_grace_ms(const struct tracejob *j)
{
	return j->spec.kill_grace_ms + TRACEJOB_DETACH_MS_PER_PROBE * attached_probes(j);
}

static void set_deadline(struct tracejob *j)
{
	const struct trace_opts *o = j->spec.opts;

	/* bpftrace detaches its probes one by one after SIGINT and prints its
	 * maps only then: a repeated SIGINT meanwhile would kill it. */
	procman_set_resend(j->proc, 1000 + TRACEJOB_DETACH_MS_PER_PROBE * attached_probes(j));
	/* The program ends itself after the duration; this is the backstop. */
	if (o->duration > 0 && j->proc) {
		j->deadline_ms = j->attached_ms + (int64_t)o->duration * 1000 + 1000;
		procman_set_deadline(j->proc, j->deadline_ms, SIGINT, tracejob_grace_ms(j));
	} else {
		j->deadline_ms = INT64_MAX;
		procman_set_deadline(j->proc, INT64_MAX, SIGINT, tracejob_grace_ms(j));
	}
}

static void on_attached(void *ud, uint64_t nsecs)
{
	struct tracejob *j = ud;

	(void)nsecs;
	if (j->attached)
		return;
	j->attached = true;
	j->attached_ms = procman_now_ms();
	set_deadline(j);
	if (j->spec.on_attached)
		j->spec.on_attached(j->spec.ud, attached_probes(j));
}

static bool passes_filter(struct tracejob *j)
{
	int rc;

	if (!j->re)
		return true;
	rc = pcre2_match(j->re, (PCRE2_SPTR)strbuf_str(&j->msg), j->msg.len, 0, 0, j->md, NULL);
	return rc >= 0;
}

static void on_event(void *ud, const struct scan_event *ev)
{
	struct tracejob *j = ud;

	strbuf_reset(&j->msg);
	if (render_message(ev, &j->msg) < 0) {
		/* a message cut short is no message: the kernel counted the
		 * event; the result says how many could not be kept */
		j->unkept++;
		return;
	}
	if (!passes_filter(j)) {
		stats_filtered(j->stats);
		return;
	}
	/* The kernel's cap can overshoot by a few events across CPUs (its
	 * check-and-increment is not atomic): the cap is exact here. */
	if (j->spec.opts->max_events >= 0 && j->nevents >= (unsigned long long)j->spec.opts->max_events) {
		stats_over_cap(j->stats);
		return;
	}
	j->nevents++;
	stats_event(j->stats, ev);
	if (j->spec.opts->aggregate)
		stats_message(j->stats, strbuf_str(&j->msg), j->msg.len);
	if (j->events && (long)json_array_size(j->events) < j->keep_max) {
		json_t *e = render_event_json(ev, j->mono_to_wall_ns);

		if (!e || json_array_append_new(j->events, e) < 0)
			j->unkept++;
	}
	if (j->spec.on_event)
		j->spec.on_event(j->spec.ud, ev, strbuf_str(&j->msg), j->msg.len);
}

static void on_lost(void *ud, uint64_t n)
{
	stats_lost(((struct tracejob *)ud)->stats, n);
}

static void on_map(void *ud, const char *name, json_t *value)
{
	struct tracejob *j = ud;

	stats_map(j->stats, name, value);
	if (j->spec.on_map)
		j->spec.on_map(j->spec.ud, name, value);
}

static void on_other(void *ud, const char *type, json_t *line)
{
	struct tracejob *j = ud;

	if (j->spec.on_other)
		j->spec.on_other(j->spec.ud, type, line);
}

/* ---- process callbacks ------------------------------------------------------------ */

static void on_output(void *ud, struct proc *p, int fd, const char *buf, size_t len)
{
	struct tracejob *j = ud;

	(void)p;
	if (fd == 1) {
		if (j->raw_fd >= 0 && write(j->raw_fd, buf, len) != (ssize_t)len) {
			close(j->raw_fd); /* a full disk must not stop the trace */
			j->raw_fd = -1;
		}
		scan_feed(j->scan, buf, len);
		return;
	}
	if (j->errbuf.len + len > TRACEJOB_STDERR_CAP)
		len = TRACEJOB_STDERR_CAP - j->errbuf.len;
	strbuf_add(&j->errbuf, buf, len);
}

static void finish(struct tracejob *j)
{
	scan_finish(j->scan);
	j->done = true;
	j->finished_ms = procman_now_ms();
	j->finished_at = result_now_ns();
	if (j->raw_fd >= 0)
		close(j->raw_fd);
	j->raw_fd = -1;
	if (j->program_path[0])
		unlink(j->program_path);
	j->program_path[0] = '\0';
	if (j->spec.on_done)
		j->spec.on_done(j->spec.ud);
}

static void on_exit_cb(void *ud, struct proc *p, int status)
{
	struct tracejob *j = ud;

	(void)p;
	j->proc = NULL;
	j->exit_status = status;
	/* SIGKILL after the grace, whether we stopped it or a deadline did. */
	j->killed = status == 128 + SIGKILL && (j->stopping || procman_now_ms() >= j->deadline_ms);
	j->startup_expired = !j->attached && !j->stopping && procman_now_ms() >= j->deadline_ms;
	finish(j);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static int compile_regex(struct tracejob *j, const char *re, char *err, size_t size)
{
	int code;
	PCRE2_SIZE off;

	j->re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off,
			      NULL);
	if (!j->re && code == PCRE2_ERROR_HEAP_FAILED) {
		snprintf(err, size, "out of memory compiling the -f regex");
		return -ENOMEM;
	}
	if (!j->re) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, size, "bad -f regex at offset %zu: %s", (size_t)off, (char *)msg);
		return -EINVAL;
	}
	j->md = pcre2_match_data_create_from_pattern(j->re, NULL);
	return j->md ? 0 : -ENOMEM;
}

int tracejob_check_regex(const char *re, char *err, size_t size)
{
	struct tracejob j;
	int rc;

	memset(&j, 0, sizeof(j));
	rc = compile_regex(&j, re, err, size);
	pcre2_match_data_free(j.md);
	pcre2_code_free(j.re);
	return rc;
}

static struct tracejob *job_new(const struct tracejob_spec *spec, char *err, size_t size)
{
	struct tracejob *j = calloc(1, sizeof(*j));
	struct scan_callbacks cb = { on_event, on_attached, on_lost, on_map, on_other, NULL };

	if (!j) {
		snprintf(err, size, "out of memory");
		return NULL;
	}
	j->spec = *spec;
	if (j->spec.kill_grace_ms <= 0)
		j->spec.kill_grace_ms = 5000;
	if (j->spec.startup_timeout_ms <= 0)
		j->spec.startup_timeout_ms = 60000;
	j->raw_fd = -1;
	strbuf_init(&j->msg, 1 << 20);
	strbuf_init(&j->errbuf, TRACEJOB_STDERR_CAP);
	cb.ud = j;
	j->scan = scan_new(spec->cg->layout, &cb);
	j->stats = stats_new(spec->cg->layout);
	j->keep_max = spec->keep_max > 0 ? spec->keep_max : TRACEJOB_DEFAULT_JSON_EVENTS;
	if (spec->keep_events)
		j->events = json_array();
	if (!j->scan || !j->stats || (spec->keep_events && !j->events)) {
		snprintf(err, size, "out of memory");
		tracejob_free(j);
		return NULL;
	}
	if (spec->opts->msg_regex && compile_regex(j, spec->opts->msg_regex, err, size) < 0) {
		tracejob_free(j);
		return NULL;
	}
	j->mono_to_wall_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	j->started_ms = procman_now_ms();
	j->started_at = result_now_ns();
	return j;
}

static int write_program(struct tracejob *j, char *err, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	const char *prog = j->spec.cg->program;
	size_t len = strlen(prog), off = 0;
	int fd;

	snprintf(j->program_path, sizeof(j->program_path), "%s/diagagent-XXXXXX",
		 tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	fd = mkstemp(j->program_path);
	if (fd < 0) {
		snprintf(err, size, "cannot write the program to '%s': %s", j->program_path, strerror(errno));
		j->program_path[0] = '\0';
		return -errno;
	}
	while (off < len) {
		ssize_t n = write(fd, prog + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, size, "cannot write the program to '%s': %s", j->program_path,
				 n < 0 ? strerror(errno) : "short write");
			close(fd);
			return -EIO;
		}
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

struct tracejob *tracejob_start(struct procman *pm, const struct tracejob_spec *spec, char *err, size_t size)
{
	struct tracejob *j = job_new(spec, err, size);
	char strlen_env[48] = "", pages_env[48] = "";
	/* bpftrace's libdw would fetch a uprobe binary's debug info from the
	 * servers DEBUGINFOD_URLS names, while the trace's time runs: types come
	 * from this host only, as diagagent's own checks find them (dwtypes.c). */
	char *env[4] = { "DEBUGINFOD_URLS=", NULL, NULL, NULL };
	int nenv = 1;

	if (!j)
		return NULL;
	if (write_program(j, err, size) < 0)
		goto fail;
	if (spec->raw_out) {
		j->raw_fd = open(spec->raw_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (j->raw_fd < 0) {
			snprintf(err, size, "cannot open '%s': %s", spec->raw_out, strerror(errno));
			goto fail;
		}
	}
	if (spec->opts->string_size > 64) {
		snprintf(strlen_env, sizeof(strlen_env), "%s=%d",
			 spec->bpftrace_minor >= 20 ? "BPFTRACE_MAX_STRLEN" : "BPFTRACE_STRLEN",
			 spec->opts->string_size);
		env[nenv++] = strlen_env;
	}
	if (spec->opts->buffer_pages > 0) {
		snprintf(pages_env, sizeof(pages_env), "BPFTRACE_PERF_RB_PAGES=%d", spec->opts->buffer_pages);
		env[nenv++] = pages_env;
	}
	{
		char *argv[5 + TRACEJOB_MAX_ARGS + 1] = { (char *)spec->bpftrace, "-f", "json", j->program_path,
							  "$PID" };
		struct proc_spec ps = {
			.argv = argv,
			.env = env,
			.on_output = on_output,
			.on_exit = on_exit_cb,
			.ud = j,
			.pid_placeholder = "$PID",
		};
		int n = 5;

		for (int i = 0; spec->args && spec->args[i]; i++) {
			if (i == TRACEJOB_MAX_ARGS) {
				snprintf(err, size, "more than %d program parameters", TRACEJOB_MAX_ARGS);
				goto fail;
			}
			argv[n++] = spec->args[i];
		}
		argv[n] = NULL;
		j->proc = procman_spawn(pm, &ps);
		if (!j->proc) {
			snprintf(err, size, "cannot run '%s': %s", spec->bpftrace, strerror(errno));
			goto fail;
		}
	}
	/* Until the attach marker: the start-up limit. */
	j->deadline_ms = j->started_ms + j->spec.startup_timeout_ms;
	procman_set_deadline(j->proc, j->deadline_ms, SIGINT, j->spec.kill_grace_ms);
	return j;
fail:
	tracejob_free(j);
	return NULL;
}

struct tracejob *tracejob_replay(const struct tracejob_spec *spec, const char *path, char *err, size_t size)
{
	struct tracejob *j = job_new(spec, err, size);
	char *buf = NULL;
	ssize_t n;
	int fd;

	if (!j)
		return NULL;
	j->replay = true;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	buf = malloc(1 << 20);
	if (fd < 0 || !buf) {
		snprintf(err, size, "cannot open '%s': %s", path, fd < 0 ? strerror(errno) : "out of memory");
		if (fd >= 0)
			close(fd);
		free(buf);
		tracejob_free(j);
		return NULL;
	}
	while ((n = read(fd, buf, 1 << 20)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, size, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		scan_feed(j->scan, buf, (size_t)n);
	}
	close(fd);
	free(buf);
	j->exit_status = n < 0 ? 1 : 0;
	if (n < 0)
		strbuf_puts(&j->errbuf, err);
	finish(j);
	return j;
}

void tracejob_stop(struct tracejob *j, bool cancelled)
{
	if (!j || j->done || !j->proc)
		return;
	j->cancelled |= cancelled;
	j->stopping = true;
	procman_stop(j->proc, SIGINT, tracejob_grace_ms(j));
}

bool tracejob_done(const struct tracejob *j)
{
	return j->done;
}

unsigned long long tracejob_events(const struct tracejob *j)
{
	return j->nevents;
}

double tracejob_elapsed(const struct tracejob *j)
{
	int64_t end = j->done ? j->finished_ms : procman_now_ms();

	return j->attached ? (double)(end - j->attached_ms) / 1000.0 : 0.0;
}

const char *tracejob_status(const struct tracejob *j)
{
	if (!j->done)
		return "running";
	if (j->cancelled)
		return "cancelled";
	if (j->killed)
		return "timeout";
	/* A bpftrace that ends, even with 0, before its probes are attached
	 * traced nothing: that is no completed trace with zero events. */
	return j->exit_status == 0 && (j->attached || j->replay) ? "completed" : "failed";
}

/* The lines of bpftrace's stderr that say what went wrong: ERROR lines,
 * without the harmless RLIMIT_MEMLOCK one; else the last non-empty line.
 * Bytes as they came (a NUL too): see error_json(). */
static void error_text(const struct tracejob *j, struct strbuf *out)
{
	const char *s = strbuf_str(&j->errbuf), *end = s + j->errbuf.len, *last = NULL;
	size_t last_len = 0;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

		/* cppcheck-suppress knownConditionTrueFalse ; an empty line ("\n\n") has len == 0 */
		if (len && !memmem(s, len, "RLIMIT_MEMLOCK", 14)) {
			if (memmem(s, len, "ERROR", 5)) {
				if (out->len)
					strbuf_puts(out, "; ");
				strbuf_add(out, s, len);
			}
			last = s;
			last_len = len;
		}
		s += len + 1;
	}
	if (!out->len && last)
		strbuf_add(out, last, last_len);
}

/* The error as a JSON string of one line: control bytes (a tab, a NUL, a
 * terminal's escape) become spaces, and bytes that are not UTF-8 U+FFFD
 * (json_string() would refuse them, and a failed result without its error
 * is one the server refuses). */
static json_t *error_json(struct strbuf *err)
{
	for (size_t i = 0; i < err->len; i++)
		if ((unsigned char)err->buf[i] < 0x20 || err->buf[i] == 0x7f)
			err->buf[i] = ' ';
	return render_json_string(strbuf_str(err), err->len, NULL);
}

json_t *tracejob_result(struct tracejob *j)
{
	const struct event_layout *l = j->spec.cg->layout;
	const char *status = tracejob_status(j);
	json_t *r = json_object(), *stats;
	struct strbuf err = STRBUF_INIT(4096);
	double dur = tracejob_elapsed(j);

	if (!r)
		return NULL;
	json_object_set_new(r, "kind", json_string("trace"));
	json_object_set_new(r, "status", json_string(status));
	json_object_set_new(r, "success", json_boolean(strcmp(status, "completed") == 0));
	json_object_set_new(r, "name", json_string(l->probes[0].function));
	json_object_set_new(r, "type", json_string("bcc_trace"));
	json_object_set_new(r, "target", json_string(l->probes[0].target));
	json_object_set_new(r, "program", json_string(j->spec.cg->program));
	json_object_set_new(r, "duration", json_real(dur));
	json_object_set_new(r, "event_count", json_integer((json_int_t)j->nevents));
	if (j->events)
		json_object_set_new(r, "events", json_copy(j->events));
	stats = stats_json(j->stats, dur, scan_stats(j->scan));
	if (!stats) {
		json_decref(r);
		strbuf_release(&err);
		return NULL;
	}
	if (j->unkept)
		json_object_set_new(stats, "events_not_kept", json_integer((json_int_t)j->unkept));
	json_object_set_new(r, "statistics", stats);
	result_set_time(r, "started_at", j->started_at);
	if (j->done)
		result_set_time(r, "finished_at", j->finished_at);
	if (j->done && strcmp(status, "cancelled") == 0) {
		strbuf_addf(&err, "cancelled after %.1f s of tracing", dur);
		json_object_set_new(r, "error", json_string(strbuf_str(&err)));
	} else if (j->done && strcmp(status, "completed") != 0) {
		/* What ended it, when, then bpftrace's own words. */
		const char *when = j->attached		 ? "" :
				   j->exit_status == 255 ? " (probes could not attach)" :
							   " before attaching";

		if (j->killed)
			strbuf_addf(&err, "bpftrace did not stop within %d ms of SIGINT and was killed",
				    tracejob_grace_ms(j));
		else if (j->startup_expired)
			strbuf_addf(&err, "the probes were not attached within %d s; bpftrace stopped with code %d",
				    j->spec.startup_timeout_ms / 1000, j->exit_status);
		else if (j->exit_status > 128 && j->exit_status < 128 + 65)
			strbuf_addf(&err, "bpftrace was killed by signal %d (%s)%s", j->exit_status - 128,
				    strsignal(j->exit_status - 128), when);
		else
			strbuf_addf(&err, "bpftrace exited with code %d%s", j->exit_status, when);
		if (j->errbuf.len && memmem(j->errbuf.buf, j->errbuf.len, "BPF stack limit", 15)) {
			strbuf_puts(&err, ": the event does not fit in the 512-byte BPF stack: lower -Z (about 160 "
					  "for one string read at a syscall's exit, less for more strings) or print "
					  "fewer strings");
		} else if (!j->killed) {
			struct strbuf why = STRBUF_INIT(2048);

			error_text(j, &why);
			if (why.len) {
				strbuf_puts(&err, ": ");
				strbuf_add(&err, why.buf, why.len);
			}
			strbuf_release(&why);
		}
		json_object_set_new(r, "error", error_json(&err));
	}
	strbuf_release(&err);
	return r;
}

void tracejob_free(struct tracejob *j)
{
	if (!j)
		return;
	if (j->proc && !j->done) {
		procman_stop(j->proc, SIGKILL, 0);
		proc_detach(j->proc); /* procman reaps it; nothing may call back into j */
	}
	if (j->raw_fd >= 0)
		close(j->raw_fd);
	if (j->program_path[0])
		unlink(j->program_path);
	scan_free(j->scan);
	stats_free(j->stats);
	pcre2_match_data_free(j->md);
	pcre2_code_free(j->re);
	strbuf_release(&j->msg);
	strbuf_release(&j->errbuf);
	json_decref(j->events);
	free(j);
}
