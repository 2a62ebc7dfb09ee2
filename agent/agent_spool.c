/* agent_spool.c - the agent's spool_dir when it cannot be written: one log
 * line when the outbox or the ledger start keeping their state in memory,
 * retries on spool.h's timer, one line when the disk takes it again. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/log.h"
#include "agent/spool.h"

/* The error in effect (the outbox's first), and which directory has it. */
static int spool_err(const struct agent *a, const char **what)
{
	int err = outbox_disk_error(a->ob);

	*what = "outbox";
	if (!err) {
		err = ledger_disk_error(a->lg);
		*what = "ledger";
	}
	return err;
}

void agent_spool_check(struct agent *a)
{
	const char *what;
	int err = spool_err(a, &what);
	int64_t now = procman_now_ms();

	if (err == a->spool.err)
		return;
	if (err && !a->spool.err) {
		a->spool.since_ms = now;
		a->spool.results = a->spool.states = 0;
		log_error("spool_dir: cannot write '%s/%s': %s; the agent goes on and keeps in memory what it cannot "
			  "write: results (still uploaded; at most %ld of them and %.1f MiB, past that the oldest are "
			  "dropped and counted) and job ids (a job delivered twice still runs once), but a restart or "
			  "crash now loses them; trying again every %d s at most; hint: %s",
			  a->cfg.spool_dir, what, strerror(-err), a->cfg.outbox_max_results,
			  (double)outbox_memory_limit(a->ob) / (1024 * 1024), SPOOL_RETRY_MAX_MS / 1000,
			  spool_hint(err));
	} else if (err) {
		log_error("spool_dir: still cannot write '%s/%s', now: %s; hint: %s", a->cfg.spool_dir, what,
			  strerror(-err), spool_hint(err));
	} else {
		log_info("spool_dir: '%s' can be written again after %.1f s: %zu results and %zu job states kept in "
			 "memory are on disk; the outbox and the ledger are durable again",
			 a->cfg.spool_dir, (double)(now - a->spool.since_ms) / 1000, a->spool.results, a->spool.states);
	}
	a->spool.err = err;
}

void agent_spool_tick(struct agent *a)
{
	size_t n;

	if (outbox_retry_in(a->ob) == 0) {
		outbox_flush(a->ob, &n);
		a->spool.results += n;
	}
	if (ledger_retry_in(a->lg) == 0) {
		ledger_flush(a->lg, &n);
		a->spool.states += n;
	}
	agent_spool_check(a);
}

int agent_spool_timeout(const struct agent *a)
{
	long o = outbox_retry_in(a->ob), l = ledger_retry_in(a->lg);

	if (o < 0 || (l >= 0 && l < o))
		o = l;
	return (int)o;
}

const char *agent_spool_error(const struct agent *a, char *buf, size_t size)
{
	const char *what;
	int err = spool_err(a, &what);

	if (!err)
		return NULL;
	snprintf(buf, size, "cannot write '%s/%s': %s", a->cfg.spool_dir, what, strerror(-err));
	return buf;
}

void agent_spool_close(struct agent *a)
{
	size_t n;

	if (!a->ob || !a->lg)
		return;
	/* One last try, whatever the timer says. */
	if (outbox_disk_error(a->ob)) {
		outbox_flush(a->ob, &n);
		a->spool.results += n;
	}
	if (ledger_disk_error(a->lg)) {
		ledger_flush(a->lg, &n);
		a->spool.states += n;
	}
	agent_spool_check(a);
	if (outbox_memory(a->ob))
		log_error("%zu results kept in memory are lost: spool_dir '%s' still cannot be written (%s)",
			  outbox_memory(a->ob), a->cfg.spool_dir, strerror(-a->spool.err));
	if (ledger_pending(a->lg))
		log_warn("%zu job states kept in memory are lost: spool_dir '%s' still cannot be written (%s); "
			 "those job ids are forgotten, and would run again if delivered again",
			 ledger_pending(a->lg), a->cfg.spool_dir, strerror(-a->spool.err));
}
