/* ctl.h - the control API client: heartbeat, job polls and result uploads
 * over libcurl's multi interface, in the agent's one event loop.
 *
 * At most one request of each kind is in flight. Every request carries the
 * bearer token (never logged), the User-Agent, http_timeout and
 * connect_timeout; TLS verification is always on (ca_file pins the roots,
 * client_cert/client_key for mutual TLS, TLS 1.2 at least); redirects are
 * not followed, so the token never goes to another host. Replies are
 * capped at CTL_MAX_REPLY bytes.
 */
#ifndef DIAG_CTL_H
#define DIAG_CTL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "agent/config.h"

#define CTL_MAX_REPLY (16L * 1024 * 1024)

enum ctl_kind { CTL_HEARTBEAT, CTL_JOBS, CTL_RESULTS, CTL_NKINDS };

struct ctl_reply {
	bool ok;	  /* the exchange completed: status is the server's */
	long status;	  /* HTTP status, 0 when !ok */
	const char *body; /* the reply body (NUL-terminated), valid during the callback */
	size_t len;
	char error[256]; /* !ok: one line, e.g. "cannot connect to 127.0.0.1:8080: Connection refused" */
};

typedef void (*ctl_done_fn)(void *ud, enum ctl_kind kind, const struct ctl_reply *reply);

struct ctl;

/* A client with no requests; done is called when one finishes. Returns
 * NULL when libcurl cannot be set up. */
struct ctl *ctl_new(ctl_done_fn done, void *ud);

/* Abort every request and free; NULL is a no-op. */
void ctl_free(struct ctl *c);

/* Take the server URL, agent id, TLS files and timeouts from cfg, and the
 * token. Requests already in flight keep their settings. Returns 0 or
 * -ENOMEM. */
int ctl_configure(struct ctl *c, const struct config *cfg, const char *token);

/* Start a request of kind with body (a JSON document for heartbeat and
 * results; NULL for jobs). Returns 0, -EBUSY when one of that kind is in
 * flight, or -ENOMEM. */
int ctl_start(struct ctl *c, enum ctl_kind kind, const json_t *body);

bool ctl_busy(const struct ctl *c, enum ctl_kind kind);

/* Cancel an in-flight request of kind (done is not called). */
void ctl_abort(struct ctl *c, enum ctl_kind kind);

/* Wait on libcurl's sockets and fds (whose revents are filled) for at most
 * timeout_ms; then run transfers and call done for the finished ones.
 * Returns 0, or -EIO when libcurl failed (the caller should sleep a bit). */
int ctl_wait(struct ctl *c, struct pollfd *fds, int nfds, int timeout_ms);

/* The request's path, for logs: "heartbeat", "jobs", "results". */
const char *ctl_kind_name(enum ctl_kind kind);

#endif /* DIAG_CTL_H */
