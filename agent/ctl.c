/* ctl.c - the control API client over libcurl's multi interface. */
#include "agent/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "agent/jsontext.h"

struct ctl_req {
	struct ctl *ctl;
	enum ctl_kind kind;
	CURL *easy;
	struct curl_slist *headers;
	char *body_out;
	char *reply;
	size_t reply_len, reply_cap;
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
};

struct ctl {
	CURLM *multi;
	ctl_done_fn done;
	void *ud;
	struct ctl_req *req[CTL_NKINDS];
	char *base, *agent_id, *auth_header, *ca_file, *client_cert, *client_key;
	long timeout_ms, connect_timeout_ms;
};

static const char *const kind_names[] = { "heartbeat", "jobs", "results" };

const char *ctl_kind_name(enum ctl_kind kind)
{
	return kind_names[kind];
}

struct ctl *ctl_new(ctl_done_fn done, void *ud)
{
	static bool global_done;
	struct ctl *c;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		global_done = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		return NULL;
	}
	/* One connection per kind is plenty; keep them alive between polls. */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 4L);
	c->done = done;
	c->ud = ud;
	return c;
}

static void req_free(struct ctl_req *r)
{
	if (!r)
		return;
	if (r->easy) {
		curl_multi_remove_handle(r->ctl->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	curl_slist_free_all(r->headers);
	free(r->body_out);
	free(r->reply);
	free(r);
}

void ctl_free(struct ctl *c)
{
	if (!c)
		return;
	for (int k = 0; k < CTL_NKINDS; k++)
		req_free(c->req[k]);
	curl_multi_cleanup(c->multi);
	free(c->base);
	free(c->agent_id);
	config_free_secret(c->auth_header);
	free(c->ca_file);
	free(c->client_cert);
	free(c->client_key);
	free(c);
}

static int dup_opt(char **dst, const char *src)
{
	char *n = src ? strdup(src) : NULL;

	if (src && !n)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

int ctl_configure(struct ctl *c, const struct config *cfg, const char *token)
{
	char *auth = NULL;

	if (asprintf(&auth, "Authorization: Bearer %s", token) < 0)
		return -ENOMEM;
	config_free_secret(c->auth_header);
	c->auth_header = auth;
	c->timeout_ms = cfg->http_timeout * 1000L;
	c->connect_timeout_ms = cfg->connect_timeout * 1000L;
	if (dup_opt(&c->base, cfg->server_url) < 0 || dup_opt(&c->agent_id, cfg->agent_id) < 0 ||
	    dup_opt(&c->ca_file, cfg->ca_file) < 0 || dup_opt(&c->client_cert, cfg->client_cert) < 0 ||
	    dup_opt(&c->client_key, cfg->client_key) < 0)
		return -ENOMEM;
	return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct ctl_req *r = ud;
	size_t len = size * n;

	if (r->reply_len + len > (size_t)CTL_MAX_REPLY) {
		r->too_big = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (r->reply_len + len + 1 > r->reply_cap) {
		size_t cap = r->reply_cap ? r->reply_cap : 4096;
		char *nb;

		while (cap < r->reply_len + len + 1)
			cap *= 2;
		if (cap > (size_t)CTL_MAX_REPLY + 1) /* the last doubling would ask for twice the cap */
			cap = (size_t)CTL_MAX_REPLY + 1;
		nb = realloc(r->reply, cap);
		if (!nb)
			return 0;
		r->reply = nb;
		r->reply_cap = cap;
	}
	memcpy(r->reply + r->reply_len, p, len);
	r->reply_len += len;
	r->reply[r->reply_len] = '\0';
	return len;
}

static int setup(struct ctl *c, struct ctl_req *r, const json_t *body)
{
	char url[2048];
	CURL *e = r->easy;
	bool fail = false;

	if ((size_t)snprintf(url, sizeof(url), "%s/api/v1/agents/%s/%s", c->base, c->agent_id, kind_names[r->kind]) >=
	    sizeof(url))
		return -ENAMETOOLONG;
	r->headers = curl_slist_append(NULL, c->auth_header);
	r->headers = r->headers ? curl_slist_append(r->headers, "Accept: application/json") : NULL;
	/* No "Expect: 100-continue" wait before a large upload. */
	r->headers = r->headers ? curl_slist_append(r->headers, "Expect:") : NULL;
	if (body) {
		r->headers = r->headers ? curl_slist_append(r->headers, "Content-Type: application/json") : NULL;
		r->body_out = jsontext_dump(body, JSON_COMPACT);
		if (!r->body_out)
			return -ENOMEM;
	}
	if (!r->headers)
		return -ENOMEM;
	fail |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_USERAGENT, "diagagent/" DIAG_VERSION) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
	if (c->ca_file) {
		/* Pin: these roots and no others. */
		fail |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) != CURLE_OK;
		fail |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL) != CURLE_OK;
	}
	if (c->client_cert) {
		fail |= curl_easy_setopt(e, CURLOPT_SSLCERT, c->client_cert) != CURLE_OK;
		fail |= curl_easy_setopt(e, CURLOPT_SSLKEY, c->client_key) != CURLE_OK;
	}
	/* A reply that says it is larger is refused at its headers, before any
	 * of it is read; on_data caps one that does not say (chunked). */
	fail |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CTL_MAX_REPLY) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) != CURLE_OK;
	fail |= curl_easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK;
	if (body) {
		fail |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body_out) != CURLE_OK;
		fail |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body_out)) != CURLE_OK;
	}
	return fail ? -EINVAL : 0;
}

int ctl_start(struct ctl *c, enum ctl_kind kind, const json_t *body)
{
	struct ctl_req *r;
	int rc;

	if (c->req[kind])
		return -EBUSY;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ctl = c;
	r->kind = kind;
	r->easy = curl_easy_init();
	if (!r->easy) {
		free(r);
		return -ENOMEM;
	}
	rc = setup(c, r, body);
	if (rc == 0 && curl_multi_add_handle(c->multi, r->easy) != CURLM_OK)
		rc = -ENOMEM;
	if (rc < 0) {
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		req_free(r);
		return rc;
	}
	c->req[kind] = r;
	return 0;
}

bool ctl_busy(const struct ctl *c, enum ctl_kind kind)
{
	return c->req[kind] != NULL;
}

void ctl_abort(struct ctl *c, enum ctl_kind kind)
{
	req_free(c->req[kind]);
	c->req[kind] = NULL;
}

static void describe_failure(const struct ctl *c, struct ctl_req *r, CURLcode code, struct ctl_reply *rep)
{
	if (r->too_big || code == CURLE_FILESIZE_EXCEEDED)
		snprintf(rep->error, sizeof(rep->error), "the reply is larger than %ld bytes", CTL_MAX_REPLY);
	else if (code == CURLE_OPERATION_TIMEDOUT)
		snprintf(rep->error, sizeof(rep->error), "no complete answer within %ld s (http_timeout)",
			 c->timeout_ms / 1000);
	else
		snprintf(rep->error, sizeof(rep->error), "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
	/* curl's text may end with a newline */
	rep->error[strcspn(rep->error, "\r\n")] = '\0';
}

static void finish(struct ctl *c, struct ctl_req *r, CURLcode code)
{
	struct ctl_reply rep;

	memset(&rep, 0, sizeof(rep));
	if (code == CURLE_OK) {
		rep.ok = true;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &rep.status);
		rep.body = r->reply ? r->reply : "";
		rep.len = r->reply_len;
	} else {
		describe_failure(c, r, code, &rep);
	}
	c->req[r->kind] = NULL;
	c->done(c->ud, r->kind, &rep);
	req_free(r);
}

int ctl_wait(struct ctl *c, struct pollfd *fds, int nfds, int timeout_ms)
{
	struct curl_waitfd wfds[nfds > 0 ? nfds : 1];
	CURLMsg *msg;
	int running, left;

	for (int i = 0; i < nfds; i++) {
		wfds[i].fd = fds[i].fd;
		wfds[i].events = (short)(((fds[i].events & POLLIN) ? CURL_WAIT_POLLIN : 0) |
					 ((fds[i].events & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
		wfds[i].revents = 0;
	}
	if (curl_multi_poll(c->multi, wfds, (unsigned)nfds, timeout_ms, NULL) != CURLM_OK)
		return -EIO;
	for (int i = 0; i < nfds; i++)
		fds[i].revents = wfds[i].revents;
	if (curl_multi_perform(c->multi, &running) != CURLM_OK)
		return -EIO;
	while ((msg = curl_multi_info_read(c->multi, &left))) {
		struct ctl_req *r = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r)
			finish(c, r, msg->data.result);
	}
	return 0;
}
