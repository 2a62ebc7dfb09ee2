/* agent_sync.c - the agent's side of the control API: heartbeats, job polls
 * and result uploads, each on its own schedule with backoff and jitter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/log.h"
#include "agent/result.h"

/* A uniform random number in [0, n). */
static int64_t rnd(int64_t n)
{
	uint64_t r;

	if (n <= 0)
		return 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint64_t)random();
	return (int64_t)(r % (uint64_t)n);
}

/* poll_interval with +-20 % jitter, so a fleet does not poll in step. */
static int64_t poll_delay_ms(const struct agent *a)
{
	int64_t base = (int64_t)a->poll_interval * 1000;

	return base - base / 5 + rnd(base * 2 / 5 + 1);
}

/* Exponential from 1 s, capped at max_backoff, with jitter in its upper half. */
static int64_t backoff_ms(const struct agent *a, int failures)
{
	int64_t cap = (int64_t)a->cfg.max_backoff * 1000, d = 1000;

	for (int i = 1; i < failures && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	return d / 2 + rnd(d / 2 + 1);
}

/* ---- what is sent ---------------------------------------------------------------- */

static json_t *heartbeat_body(struct agent *a)
{
	struct utsname u;
	char host[256] = "";
	json_t *running = json_array(), *b;
	char spool_error[600];
	const char *se = agent_spool_error(a, spool_error, sizeof(spool_error));

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	for (struct job *j = a->jobs; j; j = j->next)
		if (j->state == JOB_RUNNING)
			json_array_append_new(running, json_string(j->req->id));
	a->hb_dropped = outbox_dropped(a->ob);
	b = json_pack("{s:s, s:s, s:s, s:s, s:O, s:o, s:I, s:I, s:I, s:I, s:s?}", "agent_id", a->cfg.agent_id,
		      "hostname", host, "version", DIAG_VERSION, "kernel", u.release, "capabilities", a->caps_json,
		      "running_jobs", running, "queued_jobs", (json_int_t)a->nqueued, "outbox_pending",
		      (json_int_t)outbox_count(a->ob), "outbox_memory", (json_int_t)outbox_memory(a->ob),
		      "outbox_dropped", (json_int_t)a->hb_dropped, "spool_error", se);
	if (b)
		result_set_time(b, "time", result_now_ns());
	return b;
}

static json_t *results_body(struct agent *a)
{
	size_t max = a->upload_max && a->upload_max < (size_t)a->cfg.results_batch ? a->upload_max :
										     (size_t)a->cfg.results_batch;
	json_t *results = outbox_batch(a->ob, max, a->cfg.results_batch_bytes, &a->upload_seqs, &a->upload_n);

	if (!results)
		return NULL;
	return json_pack("{s:s, s:o}", "agent_id", a->cfg.agent_id, "results", results);
}

static void start(struct agent *a, enum ctl_kind kind, json_t *body)
{
	int rc = ctl_start(a->ctl, kind, body);

	json_decref(body);
	if (rc < 0 && rc != -EBUSY) {
		log_error("%s: cannot start the request: %s", ctl_kind_name(kind), strerror(-rc));
		a->sched[kind].next_ms = procman_now_ms() + backoff_ms(a, ++a->sched[kind].failures);
	}
}

void agent_sync(struct agent *a, int64_t now)
{
	struct sched *s = a->sched;

	if (!a->stopping && !ctl_busy(a->ctl, CTL_HEARTBEAT) && now >= s[CTL_HEARTBEAT].next_ms)
		start(a, CTL_HEARTBEAT, heartbeat_body(a));
	if (!a->stopping && !(a->once && a->polled) && !ctl_busy(a->ctl, CTL_JOBS) && now >= s[CTL_JOBS].next_ms)
		start(a, CTL_JOBS, NULL);
	if (!ctl_busy(a->ctl, CTL_RESULTS) && outbox_count(a->ob) && now >= s[CTL_RESULTS].next_ms &&
	    !(a->once && a->once_failed)) {
		json_t *body = results_body(a);

		if (body)
			start(a, CTL_RESULTS, body);
	}
}

int agent_sync_timeout(const struct agent *a, int64_t now)
{
	int64_t t = -1;

	for (int k = 0; k < CTL_NKINDS; k++) {
		if (ctl_busy(a->ctl, (enum ctl_kind)k))
			continue;
		if (k == CTL_RESULTS && !outbox_count(a->ob))
			continue;
		if ((k != CTL_RESULTS && a->stopping) || (k == CTL_JOBS && a->once && a->polled))
			continue;
		if (t < 0 || a->sched[k].next_ms - now < t)
			t = a->sched[k].next_ms - now;
	}
	if (t < 0)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

/* ---- what comes back ---------------------------------------------------------------- */

/* Is this trouble worth a log line? Yes when it is not what was said last
 * (numbers aside: "after 0 ms", "1234 bytes remaining" vary from try to
 * try; the HTTP status does count), or when that was SAID_AGAIN_MS ago.
 * Then it becomes what was said last. A server that fails the same way
 * for an hour is a line every ten minutes, not one per retry. */
static bool worth_saying(struct said *sd, long status, const char *why, int64_t now)
{
	char key[SAID_KEY_MAX];
	size_t n = (size_t)snprintf(key, sizeof(key), "%ld|", status);

	for (const char *p = why; *p && n + 1 < sizeof(key); p++) {
		if (*p >= '0' && *p <= '9') {
			if (key[n - 1] != '#')
				key[n++] = '#';
		} else {
			key[n++] = *p;
		}
	}
	key[n] = '\0';
	if (strcmp(key, sd->key) == 0 && now - sd->at_ms < SAID_AGAIN_MS)
		return false;
	memcpy(sd->key, key, n + 1);
	sd->at_ms = now;
	return true;
}

static void failed(struct agent *a, enum ctl_kind kind, const struct ctl_reply *rep, const char *why)
{
	struct sched *s = &a->sched[kind];
	int64_t delay, now = procman_now_ms();

	s->failures++;
	delay = backoff_ms(a, s->failures);
	s->next_ms = now + delay;
	if (rep->ok && (rep->status == 401 || rep->status == 403)) {
		if (s->auth_status != rep->status)
			log_error("%s: the server refused the token (HTTP %ld); check token_file '%s' and that "
				  "the server knows agent '%s'; retrying every %d s",
				  ctl_kind_name(kind), rep->status, a->cfg.token_file, a->cfg.agent_id,
				  a->cfg.max_backoff);
		s->auth_status = rep->status;
		worth_saying(&s->fail, rep->status, "refused token", now);
		/* Refused credentials will not fix themselves quickly. */
		s->next_ms = now + (int64_t)a->cfg.max_backoff * 1000;
		return;
	}
	log_msg(worth_saying(&s->fail, rep->ok ? rep->status : 0, why, now) ? LOG_WARN : LOG_DEBUG,
		"%s: %s (failure %d in a row; next try in %.1f s)", ctl_kind_name(kind), why, s->failures,
		(double)delay / 1000);
}

static void succeeded(struct agent *a, enum ctl_kind kind, int64_t next_ms)
{
	struct sched *s = &a->sched[kind];

	if (s->failures || s->auth_status)
		log_info("%s: the server answers again after %d failures", ctl_kind_name(kind), s->failures);
	s->failures = 0;
	s->auth_status = 0;
	s->fail.key[0] = '\0';
	s->next_ms = next_ms;
}

/* A short, printable piece of a reply body for a log line. */
static void excerpt(const struct ctl_reply *rep, char *buf, size_t size)
{
	size_t n = rep->len < size - 1 ? rep->len : size - 1;

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((rep->body[i] >= 0x20 && rep->body[i] < 0x7f) ? rep->body[i] : '.');
	buf[n] = '\0';
}

/* A complaint about an answer that was taken anyway: said once while the
 * server keeps answering so (worth_saying), then at debug level. */
static void complain(struct agent *a, enum ctl_kind kind, const char *why)
{
	log_msg(worth_saying(&a->sched[kind].note, 0, why, procman_now_ms()) ? LOG_WARN : LOG_DEBUG, "%s: %s",
		ctl_kind_name(kind), why);
}

static void on_heartbeat(struct agent *a, const struct ctl_reply *rep)
{
	json_error_t jerr;
	json_t *o = NULL, *pi;
	json_int_t v;
	char why[300];

	succeeded(a, CTL_HEARTBEAT, procman_now_ms() + (int64_t)a->cfg.heartbeat_interval * 1000);
	outbox_reported(a->ob, a->hb_dropped);
	a->hb_dropped = 0;
	if (rep->len)
		o = json_loadb(rep->body, rep->len, 0, &jerr);
	pi = json_object_get(o, "poll_interval");
	v = json_is_integer(pi) ? json_integer_value(pi) : 0;
	if (rep->len && !json_is_object(o)) {
		snprintf(why, sizeof(why), "the answer is not a JSON object (%s); ignored",
			 o ? "wrong type" : jerr.text);
		complain(a, CTL_HEARTBEAT, why);
	} else if (pi && (v < 1 || v > 86400)) {
		complain(a, CTL_HEARTBEAT,
			 "the server's poll_interval is not a whole number of seconds in 1..86400; ignored");
	} else {
		a->sched[CTL_HEARTBEAT].note.key[0] = '\0'; /* a good answer: the next bad one is news */
		if (pi && v != a->poll_interval) {
			log_info("heartbeat: the server sets poll_interval to %d s", (int)v);
			a->poll_interval = (int)v;
			if (a->sched[CTL_JOBS].next_ms > procman_now_ms() + poll_delay_ms(a))
				a->sched[CTL_JOBS].next_ms = procman_now_ms() + poll_delay_ms(a);
		}
	}
	json_decref(o);
}

static void on_jobs(struct agent *a, const struct ctl_reply *rep)
{
	json_error_t jerr;
	json_t *batch;
	char err[512], ex[80];

	if (rep->status == 204) {
		a->polled = true;
		succeeded(a, CTL_JOBS, procman_now_ms() + poll_delay_ms(a));
		return;
	}
	batch = json_loadb(rep->body, rep->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!batch) {
		excerpt(rep, ex, sizeof(ex));
		snprintf(err, sizeof(err),
			 "the job batch is not valid JSON (%s at byte %d, near '%s'); nothing was run", jerr.text,
			 jerr.position, ex);
		failed(a, CTL_JOBS, rep, err);
		a->once_failed |= a->once;
		a->polled = true;
		return;
	}
	a->polled = true;
	if (jobs_decode(batch, &a->cfg, agent_accept, agent_cancel, a, err, sizeof(err)) < 0) {
		failed(a, CTL_JOBS, rep, err);
		a->once_failed |= a->once;
	} else {
		if (err[0])
			log_warn("jobs: %s", err);
		succeeded(a, CTL_JOBS, procman_now_ms() + poll_delay_ms(a));
	}
	json_decref(batch);
}

/* The server refused the batch's content (400, 413, 422): one bad result
 * must not block every result behind it. Halve the batch until the bad one
 * is alone, then set it aside (outbox_reject). */
static void on_refused(struct agent *a, const struct ctl_reply *rep)
{
	char ex[160];

	excerpt(rep, ex, sizeof(ex));
	if (a->upload_n > 1) {
		a->upload_max = a->upload_n / 2;
		log_warn("results: HTTP %ld for a batch of %zu ('%s'); retrying in batches of %zu to find the "
			 "result it refuses",
			 rep->status, a->upload_n, ex, a->upload_max);
		a->sched[CTL_RESULTS].next_ms = 0;
		return;
	}
	log_error("results: the server refuses result file %020llu with HTTP %ld ('%s'); set aside in the "
		  "outbox's rejected/ directory, never sent again",
		  (unsigned long long)a->upload_seqs[0], rep->status, ex);
	outbox_reject(a->ob, a->upload_seqs[0]);
	a->sched[CTL_RESULTS].next_ms = 0;
}

static void on_results(struct agent *a, const struct ctl_reply *rep)
{
	a->upload_max = 0;
	outbox_ack(a->ob, a->upload_seqs, a->upload_n);
	log_info("results: %zu delivered, %zu waiting", a->upload_n, outbox_count(a->ob));
	succeeded(a, CTL_RESULTS, 0); /* the next batch at once */
}

void agent_on_reply(void *ud, enum ctl_kind kind, const struct ctl_reply *rep)
{
	struct agent *a = ud;
	bool bad = !rep->ok || rep->status < 200 || rep->status >= 300, split = false;
	char why[400], ex[80];

	if (!rep->ok) {
		failed(a, kind, rep, rep->error);
	} else if (!bad) {
		if (kind == CTL_HEARTBEAT)
			on_heartbeat(a, rep);
		else if (kind == CTL_JOBS)
			on_jobs(a, rep);
		else
			on_results(a, rep);
	} else if (kind == CTL_RESULTS && a->upload_n &&
		   (rep->status == 400 || rep->status == 413 || rep->status == 422)) {
		split = a->upload_n > 1;
		on_refused(a, rep);
	} else {
		excerpt(rep, ex, sizeof(ex));
		snprintf(why, sizeof(why), "HTTP %ld from the server%s%s%s", rep->status, ex[0] ? " ('" : "", ex,
			 ex[0] ? "')" : "");
		failed(a, kind, rep, why);
	}
	/* --once does not retry: a failed poll or upload ends the run (exit 1). */
	if (a->once && bad && !split && kind != CTL_HEARTBEAT) {
		a->once_failed = true;
		a->polled = true;
	}
	if (kind == CTL_RESULTS) {
		free(a->upload_seqs);
		a->upload_seqs = NULL;
		a->upload_n = 0;
	}
}

void agent_schedule_start(struct agent *a)
{
	int64_t now = procman_now_ms();

	a->sched[CTL_HEARTBEAT].next_ms = now;
	a->sched[CTL_RESULTS].next_ms = now;
	/* A fleet restarting together must not stampede: the first poll waits
	 * a random 0..poll_interval (--once polls at once). */
	a->sched[CTL_JOBS].next_ms = a->once ? now : now + rnd((int64_t)a->poll_interval * 1000 + 1);
}
