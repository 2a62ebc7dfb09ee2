/* agent_int.h - the agent's state, shared by agent.c (the loop and its
 * lifecycle), agent_jobs.c (the job queue) and agent_sync.c (talking to
 * the control API). Not for use outside those files.
 */
#ifndef DIAG_AGENT_INT_H
#define DIAG_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/caps.h"
#include "agent/cmdjob.h"
#include "agent/config.h"
#include "agent/diagjob.h"
#include "agent/ctl.h"
#include "agent/jobs.h"
#include "agent/ledger.h"
#include "agent/outbox.h"
#include "agent/procman.h"
#include "agent/tracejob.h"

enum job_state { JOB_QUEUED, JOB_RUNNING };

struct job {
	struct job_req *req;
	enum job_state state;
	int64_t queued_ns, started_ns;
	struct tracejob *trace;
	struct codegen_result cg;
	struct cmdjob *cmd;
	struct diagjob *diag;
	struct job *next;
};

/* spool_dir as last logged (agent_spool.c). */
struct spool_watch {
	int err;	  /* 0, or the write error logged */
	int64_t since_ms; /* procman_now_ms() when it started */
	size_t results;	  /* results and job states kept in memory, written since */
	size_t states;
};

/* What was last said about one kind of trouble, so that the same trouble
 * again is one log line, not one per retry (agent_sync.c: worth_saying). */
#define SAID_KEY_MAX  160
#define SAID_AGAIN_MS (600 * 1000) /* the same trouble is said again after this long */
struct said {
	char key[SAID_KEY_MAX]; /* the trouble, numbers aside; "" when none */
	int64_t at_ms;
};

/* When each kind of request may go next, and how it has been failing. */
struct sched {
	int64_t next_ms;  /* procman_now_ms() clock */
	int failures;	  /* in a row */
	long auth_status; /* 401/403 last logged; 0 when fine */
	struct said fail; /* the failure last logged in this streak */
	struct said note; /* the last complaint about an answer that was taken (heartbeat) */
};

struct agent {
	struct config cfg;
	char *token;
	struct caps caps;
	json_t *caps_json;
	struct procman *pm;
	struct ctl *ctl;
	struct outbox *ob;
	struct ledger *lg;
	struct job *jobs; /* queued and running, in arrival order */
	int nrunning, nqueued;
	struct sched sched[CTL_NKINDS];
	int poll_interval;     /* seconds: agent.conf's, or the server's */
	uint64_t *upload_seqs; /* the results POST in flight */
	size_t upload_n;
	size_t upload_max;	       /* results per POST now: results_batch, halved
	                                while the server refuses a batch's content */
	unsigned long long hb_dropped; /* outbox_dropped sent in the heartbeat in flight */
	struct spool_watch spool;
	bool once;
	bool polled;	  /* --once: the poll has been answered */
	bool once_failed; /* --once: a poll or an upload failed */
	bool stopping;
	int64_t stop_at_ms; /* stopping: end of the flush */
	int signals;	    /* stop signals received */
};

/* agent_jobs.c */
void agent_accept(void *ud, struct job_req *req); /* jobs_decode's on_job */
void agent_cancel(void *ud, const char *id);	  /* jobs_decode's on_cancel */
void agent_start_jobs(struct agent *a);
void agent_reap_jobs(struct agent *a);
void agent_cancel_all(struct agent *a);
void agent_recover(struct agent *a);
void agent_free_jobs(struct agent *a);
void agent_store(struct agent *a, const char *id, json_t *result);
int agent_stop_slack_ms(const struct agent *a); /* extra time running jobs need to stop */

/* agent_spool.c: spool_dir that cannot be written */
void agent_spool_check(struct agent *a);	/* log a change of state */
void agent_spool_tick(struct agent *a);		/* retries that are due, then check */
int agent_spool_timeout(const struct agent *a); /* ms to the next retry, -1: none */
/* "cannot write 'DIR': why" in buf, or NULL when spool_dir can be written. */
const char *agent_spool_error(const struct agent *a, char *buf, size_t size);
void agent_spool_close(struct agent *a); /* at exit: a last try; say what is lost */

/* agent_sync.c */
void agent_sync(struct agent *a, int64_t now); /* start what is due */
int agent_sync_timeout(const struct agent *a, int64_t now);
void agent_on_reply(void *ud, enum ctl_kind kind, const struct ctl_reply *rep);
void agent_schedule_start(struct agent *a); /* the first heartbeat, poll and upload */

#endif /* DIAG_AGENT_INT_H */
