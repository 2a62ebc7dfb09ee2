/* agent.c - `diagagent run`: the agent's lifecycle and its one event loop. */
#include "agent/agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "agent/cli.h"
#include "agent/log.h"
#include "agent/spool.h"
#include "agent/trim.h"
#include "tracespec/kb.h"

#define MAX_POLLFDS 512

/* ---- configuration -------------------------------------------------------------- */

static int load_config(const char *path, struct config *cfg, char **token)
{
	struct config_error err;
	char *line;
	int rc;

	config_init(cfg);
	rc = config_load(cfg, path, NULL, &err);
	if (rc == 0)
		rc = config_read_token(cfg, token, &err);
	if (rc == 0)
		rc = config_check_files(cfg, &err);
	if (rc < 0) {
		log_error("%s%s%s", err.msg, err.hint[0] ? "; hint: " : "", err.hint);
		config_free_secret(*token);
		*token = NULL;
		config_release(cfg);
		return rc;
	}
	for (char *w = cfg->warnings, *save = NULL; w && (line = strtok_r(w, "\n", &save)); w = NULL)
		log_warn("%s", line);
	return 0;
}

/* Load the suggestion knowledge base once to check it ($DIAGAGENT_KB may
 * name a broken file); jobs load their own copy, so an idle agent holds none. */
static int check_kb(void)
{
	struct kb_error err;
	struct kb *kb;
	char msg[600];
	int rc = kb_load_default(&kb, &err);

	if (rc < 0)
		log_error("suggestion knowledge base: %s%s%s", kb_error_text(&err, msg, sizeof(msg)),
			  err.hint[0] ? "; hint: " : "", err.hint);
	kb_free(kb);
	return rc;
}

static void reload(struct agent *a, const char *path)
{
	struct config cfg;
	char *token = NULL;

	log_info("SIGHUP: reloading the configuration");
	if (load_config(path, &cfg, &token) < 0) {
		log_error("reload failed: keeping the configuration in use");
		return;
	}
	if (strcmp(cfg.spool_dir, a->cfg.spool_dir) != 0) {
		log_warn("spool_dir changes need a restart: still using '%s'", a->cfg.spool_dir);
		free(cfg.spool_dir);
		cfg.spool_dir = strdup(a->cfg.spool_dir);
	}
	if (ctl_configure(a->ctl, &cfg, token) < 0) {
		log_error("reload failed: out of memory; keeping the configuration in use");
		config_release(&cfg);
		free(token);
		return;
	}
	config_release(&a->cfg);
	a->cfg = cfg;
	config_free_secret(a->token);
	a->token = token;
	a->poll_interval = cfg.poll_interval;
	log_set_level(cfg.log_level);
	outbox_set_limits(a->ob, cfg.outbox_max_results, cfg.outbox_max_bytes);
	check_kb();
	caps_probe(&a->caps);
	json_decref(a->caps_json);
	a->caps_json = caps_to_json(&a->caps);
	log_info("configuration reloaded from '%s'", path);
}

/* ---- signals ------------------------------------------------------------------- */

static int open_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* procman's children start with an empty mask, so they still get these. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	(void)signal(SIGPIPE, SIG_IGN); /* cannot fail for a valid signal */
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void begin_stop(struct agent *a, int sig)
{
	a->signals++;
	if (a->signals > 1) {
		log_warn("SIG%s again: exiting without waiting for the uploads",
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
		a->stop_at_ms = procman_now_ms();
		return;
	}
	log_info("SIG%s: stopping; cancelling %d running and %d queued jobs, flushing the outbox for up to %d s",
		 sigabbrev_np(sig) ? sigabbrev_np(sig) : "signal", a->nrunning, a->nqueued, a->cfg.shutdown_grace);
	a->stopping = true;
	a->stop_at_ms = procman_now_ms() + (int64_t)a->cfg.shutdown_grace * 1000;
	ctl_abort(a->ctl, CTL_JOBS);
	ctl_abort(a->ctl, CTL_HEARTBEAT);
	agent_cancel_all(a);
}

static void read_signals(struct agent *a, int sfd, const char *path)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(a, path);
		else
			begin_stop(a, (int)si.ssi_signo);
	}
}

/* ---- the loop ------------------------------------------------------------------ */

static bool finished(struct agent *a, int64_t now)
{
	bool uploading = ctl_busy(a->ctl, CTL_RESULTS);

	if (a->stopping) {
		if (a->nrunning)
			/* Jobs end within kill_grace of their SIGINT (and a diagnosis
			 * its probes' detach time); never wait much longer. */
			return now >= a->stop_at_ms + (int64_t)a->cfg.kill_grace * 1000 + 2000 + agent_stop_slack_ms(a);
		return now >= a->stop_at_ms || (!uploading && !outbox_count(a->ob));
	}
	if (a->once)
		return a->polled && !a->nrunning && !a->nqueued && !uploading && !ctl_busy(a->ctl, CTL_HEARTBEAT) &&
		       (!outbox_count(a->ob) || a->once_failed);
	return false;
}

static int loop_timeout(struct agent *a, int64_t now)
{
	int t = agent_sync_timeout(a, now), p = procman_timeout_ms(a->pm), s = agent_spool_timeout(a);

	if (p >= 0 && (t < 0 || p < t))
		t = p;
	if (s >= 0 && (t < 0 || s < t))
		t = s;
	if (a->stopping) {
		int64_t left = a->stop_at_ms - now;

		if (left < 0)
			left = 0;
		if (t < 0 || left < t)
			t = (int)left;
	}
	/* Never sleep forever: a bound keeps a missed wakeup from hanging. */
	return t < 0 || t > 60000 ? 60000 : t;
}

/* Going idle (no job, nothing in flight): give back what start-up and the
 * jobs touched (trim.h). */
static void maybe_trim(struct agent *a, bool *idle)
{
	bool now_idle = !a->nrunning && !a->nqueued && !a->stopping;
	long kb;

	if (now_idle && !*idle) {
		kb = trim_idle();
		log_debug("idle: gave back %ld kB", kb);
	}
	*idle = now_idle;
}

static void loop(struct agent *a, int sfd, const char *path)
{
	struct pollfd fds[MAX_POLLFDS];
	bool idle = false;
	int64_t prune_at = procman_now_ms() + 3600 * 1000;

	for (;;) {
		int64_t now = procman_now_ms();
		int n;

		agent_reap_jobs(a);
		if (now >= prune_at) {
			/* Ids are remembered for LEDGER_KEEP_S; forget older ones hourly. */
			ledger_prune(a->lg, time(NULL));
			prune_at = now + 3600 * 1000;
		}
		if (!ctl_busy(a->ctl, CTL_HEARTBEAT) && a->sched[CTL_HEARTBEAT].next_ms > now)
			maybe_trim(a, &idle);
		if (!a->stopping)
			agent_start_jobs(a);
		agent_spool_tick(a);
		agent_sync(a, now);
		if (finished(a, now))
			break;
		n = procman_pollfds(a->pm, fds, MAX_POLLFDS - 1);
		fds[n].fd = sfd;
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		if (ctl_wait(a->ctl, fds, n + 1, loop_timeout(a, now)) < 0) {
			log_error("libcurl failed to wait; retrying in 1 s");
			sleep(1);
		}
		procman_dispatch(a->pm, fds, n);
		if (fds[n].revents)
			read_signals(a, sfd, path);
	}
}

/* ---- lifecycle ----------------------------------------------------------------- */

static int open_state(struct agent *a)
{
	char dir[4096], err[512];
	int fd;

	/* spool_dir itself too, not only outbox/ and ledger/: made private when it
	 * was open to others, refused when another user owns it. */
	fd = spool_open_dir(a->cfg.spool_dir, err, sizeof(err));
	if (fd < 0) {
		log_error("%s; hint: %s", err,
			  fd == -EPERM ? "chown the directory to the agent's user, or set another spool_dir" :
					 "spool_dir in agent.conf must be a directory the agent can write");
		return -1;
	}
	close(fd);
	snprintf(dir, sizeof(dir), "%s/outbox", a->cfg.spool_dir);
	a->ob = outbox_open(dir, a->cfg.outbox_max_results, a->cfg.outbox_max_bytes, err, sizeof(err));
	if (!a->ob) {
		log_error("%s; hint: spool_dir in agent.conf must be a directory the agent can write", err);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/ledger", a->cfg.spool_dir);
	a->lg = ledger_open(dir, err, sizeof(err));
	if (!a->lg) {
		log_error("%s; hint: spool_dir in agent.conf must be a directory the agent can write", err);
		return -1;
	}
	return 0;
}

static void release(struct agent *a)
{
	agent_free_jobs(a);
	ctl_free(a->ctl);
	procman_free(a->pm);
	outbox_free(a->ob);
	ledger_free(a->lg);
	json_decref(a->caps_json);
	free(a->upload_seqs);
	config_free_secret(a->token);
	config_release(&a->cfg);
}

int agent_run(const struct agent_opts *o)
{
	const char *path = o->config_path ? o->config_path : CONFIG_DEFAULT_PATH;
	struct agent a;
	int sfd = -1, rc = CLI_FAIL;

	memset(&a, 0, sizeof(a));
	a.once = o->once;
	if (load_config(path, &a.cfg, &a.token) < 0)
		return CLI_USAGE;
	log_set_level(a.cfg.log_level);
	a.poll_interval = a.cfg.poll_interval;
	if (open_state(&a) < 0)
		goto out;
	a.pm = procman_new();
	a.ctl = ctl_new(agent_on_reply, &a);
	sfd = open_signals();
	if (!a.pm || !a.ctl || sfd < 0 || ctl_configure(a.ctl, &a.cfg, a.token) < 0) {
		log_error("cannot start: %s", sfd < 0 ? strerror(-sfd) : "out of memory");
		goto out;
	}
	if (check_kb() < 0)
		goto out;
	caps_probe(&a.caps);
	a.caps_json = caps_to_json(&a.caps);
	log_info("diagagent %s: agent '%s' polling %s every %d s; spool %s; %zu results waiting", DIAG_VERSION,
		 a.cfg.agent_id, a.cfg.server_url, a.poll_interval, a.cfg.spool_dir, outbox_count(a.ob));
	agent_spool_check(&a); /* a spool_dir that cannot be written is said at once */
	agent_recover(&a);
	agent_schedule_start(&a);
	loop(&a, sfd, path);
	if (a.nrunning)
		log_warn("%d jobs did not stop in time; killed", a.nrunning);
	procman_kill_all(a.pm);
	agent_spool_close(&a);
	if (outbox_count(a.ob) > outbox_memory(a.ob))
		log_info("%zu results stay in the outbox for the next start", outbox_count(a.ob) - outbox_memory(a.ob));
	rc = a.once && a.once_failed ? CLI_FAIL : CLI_OK;
	log_info("stopped");
out:
	if (sfd >= 0)
		close(sfd);
	release(&a);
	return rc;
}
