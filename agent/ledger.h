/* ledger.h - the job ledger: which job ids this agent has seen, durably.
 *
 * A job is recorded "queued" (with its JSON, so a crash before it starts
 * loses nothing) when it is accepted, "running" before it starts, and
 * "done" once its result is in the outbox. Each entry is a small file in
 * the ledger directory (spool.h), named by a hash of the id. Ids are
 * remembered for LEDGER_KEEP_S after they are done, so a job delivered
 * twice runs once. At start-up, entries still "queued" are run, and
 * entries still "running" were interrupted: they are reported, never run
 * again (the job may be what stopped the agent).
 *
 * The ids live in memory too, and memory is what ledger_state() answers.
 * When the directory cannot be written (full, read-only, I/O errors), a new
 * state is kept in memory only, and the entry's older file is removed where
 * the filesystem allows it (a full one does): the disk then never claims a
 * state older than the truth, so a restart cannot run a finished job again
 * or report it interrupted, at the price of forgetting it. The entries kept
 * in memory are written by ledger_flush(), which the caller runs when
 * ledger_retry_in() says; until then no other write is tried.
 */
#ifndef DIAG_LEDGER_H
#define DIAG_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#define LEDGER_KEEP_S	   (24 * 3600)
#define LEDGER_MAX_ENTRIES 200000 /* past this, done entries are forgotten early */
#define LEDGER_MAX_FILE	   (16 * 1024 * 1024)

enum ledger_state { LEDGER_NONE = 0, LEDGER_QUEUED, LEDGER_RUNNING, LEDGER_DONE };

struct ledger;

/* Open (create) the ledger in dir and load its entries; done entries older
 * than LEDGER_KEEP_S are removed. Returns NULL with a one-line reason in err
 * (the directory cannot be created or read). A directory that can be read
 * but not written opens: ledger_disk_error() says why. */
struct ledger *ledger_open(const char *dir, char *err, size_t size);

void ledger_free(struct ledger *lg);

/* The state of id (LEDGER_NONE when unknown). */
enum ledger_state ledger_state(const struct ledger *lg, const char *id);

/* Record id in state, in memory and durably, before returning. kind is the
 * result kind ("trace", "command", ...); job is the job's JSON, kept (a
 * reference) for LEDGER_QUEUED only (NULL otherwise). started_ns is the
 * start time for LEDGER_RUNNING. Returns 0 when the state is on disk;
 * -ENOMEM when nothing was recorded; another negative errno when the
 * directory cannot be written: the state is then recorded in memory
 * (ledger_state() knows it) and waits for ledger_flush(). */
int ledger_set(struct ledger *lg, const char *id, enum ledger_state state, const char *kind, const json_t *job,
	       int64_t started_ns);

/* Forget done entries older than LEDGER_KEEP_S at time now. */
void ledger_prune(struct ledger *lg, time_t now);

/* Entries in state (QUEUED or RUNNING) in the order they were first
 * recorded: calls fn for each with its id, kind, job JSON (QUEUED) and
 * start time (RUNNING). For start-up recovery. */
void ledger_foreach(const struct ledger *lg, enum ledger_state state,
		    void (*fn)(void *ud, const char *id, const char *kind, json_t *job, int64_t started_ns), void *ud);

/* Number of ids remembered. */
size_t ledger_count(const struct ledger *lg);

/* Entries whose state is in memory only, not yet on disk. */
size_t ledger_pending(const struct ledger *lg);

/* 0 while the ledger is durable, or the negative errno of the write that
 * failed. */
int ledger_disk_error(const struct ledger *lg);

/* Milliseconds until ledger_flush() should be tried (0: now; spool.h's
 * backoff), or -1 while the ledger is durable. */
long ledger_retry_in(const struct ledger *lg);

/* Try the directory again: write every entry kept in memory only (with
 * none, a probe file). Returns 0 when the ledger is durable again, or the
 * negative errno of the write that failed (the next try waits longer).
 * *written (may be NULL) gets how many entries went to disk. A no-op
 * returning 0 while durable. */
int ledger_flush(struct ledger *lg, size_t *written);

#endif /* DIAG_LEDGER_H */
