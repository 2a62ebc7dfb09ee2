/* diag_net.c - the net preset: connects, handshakes, failures, retransmits, traffic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/diag_int.h"
#include "tracespec/strbuf.h"

#define REC_CONNECT    20
#define REC_HANDSHAKE  21
#define REC_RETRANSMIT 22
#define MAX_DESTS      4096
#define SEND_PROBE     "tracepoint:sock:sock_send_length"
#define RECV_PROBE     "tracepoint:sock:sock_recv_length"

struct dest {
	int64_t fam, a[4], port;
	int64_t connects, failed, handshakes, sent, recv, rtx;
};

struct netst {
	struct dist hs;	  /* handshake latency of the ones that succeeded */
	uint64_t slow_hs; /* of those, at or over the rtt threshold */
	uint64_t slow_max;
	char slow_dest[64];
	long slow_pid;
	struct diag_counts fail_by; /* "DEST" + errno -> the process seen first */
	struct dest *dests;
	size_t ndests;
};

static void net_release(void *st)
{
	struct netst *n = st;

	dist_release(&n->hs);
	diag_counts_release(&n->fail_by);
	free(n->dests);
}

static void event_dest(const struct scan_value *v, char *buf, size_t size)
{
	int64_t a[4] = { v[2].i, v[3].i, v[4].i, v[5].i };

	diag_addr((long)v[0].i, a, (long)v[1].i, buf, size);
}

static void net_event(struct diag *d, void *st, const struct scan_event *ev)
{
	struct netst *n = st;
	const struct scan_value *v = ev->values;
	char dest[64];

	if (ev->probe == REC_HANDSHAKE) {
		event_dest(v, dest, sizeof(dest));
		if (v[6].i) {
			uint64_t lat = (uint64_t)v[8].i;

			dist_add(&n->hs, lat);
			if (lat >= d->o->rtt_ns) {
				n->slow_hs++;
				if (lat > n->slow_max) {
					n->slow_max = lat;
					snprintf(n->slow_dest, sizeof(n->slow_dest), "%s", dest);
					n->slow_pid = (long)ev->pid;
				}
			}
		} else {
			diag_counts_add(&n->fail_by, dest, (long)v[7].i, (long)ev->pid);
		}
	} else if (ev->probe == REC_CONNECT && v[6].i < 0 && v[6].i != -115 && v[6].i != -114 && !v[8].i) {
		if (v[0].i == 1) {
			/* utf8_copy() writes the rest and the NUL */
			memcpy(dest, "unix:", 5); // NOLINT(bugprone-not-null-terminated-result)
			utf8_copy(dest + 5, sizeof(dest) - 5, v[9].s, v[9].kind == SV_STR ? v[9].len : 0);
		} else
			event_dest(v, dest, sizeof(dest));
		diag_counts_add(&n->fail_by, dest, (long)-v[6].i, (long)ev->pid);
	}
}

/* ---- destinations ---------------------------------------------------------------- */

static struct dest *dest_of(struct netst *n, const int64_t *k)
{
	for (size_t i = 0; i < n->ndests; i++) {
		struct dest *x = &n->dests[i];

		if (x->fam == k[0] && x->a[0] == k[1] && x->a[1] == k[2] && x->a[2] == k[3] && x->a[3] == k[4] &&
		    x->port == k[5])
			return x;
	}
	if (n->ndests == MAX_DESTS)
		return NULL;
	if (!n->dests && !(n->dests = calloc(MAX_DESTS, sizeof(*n->dests))))
		return NULL;
	n->dests[n->ndests] = (struct dest){ .fam = k[0], .a = { k[1], k[2], k[3], k[4] }, .port = k[5] };
	return &n->dests[n->ndests++];
}

static const char *dest_name(const struct dest *x, char *buf, size_t size)
{
	return diag_addr((long)x->fam, x->a, (long)x->port, buf, size);
}

static int cmp_dest(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;
	int64_t ax = x->connects + x->handshakes + x->rtx, ay = y->connects + y->handshakes + y->rtx;

	if (ax != ay)
		return ax < ay ? 1 : -1;
	return (x->sent + x->recv < y->sent + y->recv) - (x->sent + x->recv > y->sent + y->recv);
}

static bool expected_err(int64_t err)
{
	return err == 0 || err == 115 || err == 114; /* EINPROGRESS, EALREADY: a handshake follows */
}

/* A failure row and, past the threshold, an issue. */
struct failure {
	char dest[128];
	int64_t err, n;
};

static int cmp_failure(const void *a, const void *b)
{
	const struct failure *x = a, *y = b;

	return (x->n < y->n) - (x->n > y->n);
}

static const char *err_hint(int64_t err)
{
	switch (err) {
	case 111:
		return "nothing listens on that port (or a firewall rejects it)";
	case 110:
		return "no answer: the host is down, or a firewall drops the packets";
	case 113:
	case 101:
		return "no route to that address";
	case 99:
		return "no local address or port free (ephemeral ports used up?)";
	case 104:
		return "the peer reset the connection";
	case 0:
		return "the socket was closed before the handshake finished";
	default:
		return "see connect(2)";
	}
}

static void add_failure(struct failure *f, size_t *n, size_t cap, const char *dest, int64_t err, int64_t count)
{
	for (size_t i = 0; i < *n; i++) {
		if (f[i].err == err && strcmp(f[i].dest, dest) == 0) {
			f[i].n += count;
			return;
		}
	}
	if (*n == cap)
		return;
	snprintf(f[*n].dest, sizeof(f[*n].dest), "%s", dest);
	f[*n].err = err;
	f[*n].n = count;
	(*n)++;
}

static void failures_section(struct diag *d, struct netst *n, json_t *r)
{
	json_t *sec = report_section(r, "net_failures", "Connection failures by errno and destination"), *t, *v;
	json_t *conn = diag_get(d, "@net_conn"), *hs = diag_get(d, "@net_hs"), *uc = diag_get(d, "@net_uconn");
	size_t cap = json_object_size(conn) + json_object_size(hs) + json_object_size(uc) + 1, nf = 0;
	struct failure *f = calloc(cap, sizeof(*f));
	struct diag_count *all;
	const char *key, *rest;
	char dest[128], en[32], proc[64], opts[64];
	int issues = 0;

	if (!f)
		return;
	/* A connect() that failed before any SYN went out (hs 0); the ones that
	 * sent a SYN are counted by how their handshake ended. */
	json_object_foreach(conn, key, v)
	{
		int64_t k[8], c;

		if (bpfmap_key(key, 8, k, NULL) && bpfmap_i64(v, &c) && !expected_err(k[6]) && !k[7]) {
			diag_addr((long)k[0], &k[1], (long)k[5], dest, sizeof(dest));
			add_failure(f, &nf, cap, dest, k[6], c);
		}
	}
	json_object_foreach(hs, key, v)
	{
		int64_t k[8], c;

		if (bpfmap_key(key, 8, k, NULL) && bpfmap_i64(v, &c) && !k[6]) {
			diag_addr((long)k[0], &k[1], (long)k[5], dest, sizeof(dest));
			add_failure(f, &nf, cap, dest, k[7], c);
		}
	}
	json_object_foreach(uc, key, v)
	{
		int64_t err, c;

		if (bpfmap_key(key, 1, &err, &rest) && bpfmap_i64(v, &c) && !expected_err(err)) {
			snprintf(dest, sizeof(dest), "unix:%s", rest);
			add_failure(f, &nf, cap, dest, err, c);
		}
	}
	diag_sort(f, nf, sizeof(*f), cmp_failure);
	t = report_table(sec, "counted in the kernel",
			 "destination:str:DESTINATION,errno:str:ERRNO,count:int:COUNT,"
			 "rate:rate:PER S,process:str:PROCESS");
	all = diag_counts_sorted(&n->fail_by);
	for (size_t i = 0; i < nf; i++) {
		struct diag_count *who = NULL;

		for (size_t j = 0; all && j < n->fail_by.n && !who; j++)
			if (all[j].aux == f[i].err && strcmp(all[j].s, f[i].dest) == 0)
				who = &all[j];
		if (f[i].err)
			diag_errno((long)f[i].err, en, sizeof(en));
		else
			snprintf(en, sizeof(en), "(closed)");
		if (who)
			diag_proc(d, who->pid, proc, sizeof(proc));
		report_row(t,
			   json_pack("{ss ss sI sf so}", "destination", f[i].dest, "errno", en, "count",
				     (json_int_t)f[i].n, "rate", diag_rate(d, (double)f[i].n), "process",
				     who ? json_string(proc) : json_null()),
			   d->o->top);
		if (f[i].n >= d->o->error_threshold && issues < d->o->top) {
			json_t *is = report_issue(r, "warning", "connect_failures",
						  "%lld connections to %s failed: %s (%s)", (long long)f[i].n,
						  f[i].dest, en, f[i].err ? strerror((int)f[i].err) : "closed");

			report_evidence(is, "%s", err_hint(f[i].err));
			report_evidence(is, "%.1f/s%s%s", diag_rate(d, (double)f[i].n), who ? ", by " : "",
					who ? proc : "");
			report_next(is, "r::sys_connect ((int)retval < 0) \"connect fd %d failed: %d\", arg1, retval",
				    diag_trace_opts(d, who ? who->pid : d->o->pid, opts, sizeof(opts)),
				    "each failing connect() as it happens, with its process");
			issues++;
		}
	}
	free(all);
	report_note(sec, "a connect() that sent a SYN is counted once, by how its TCP handshake ended (blocking or "
			 "not); one that failed before (no route, no port, unix sockets) by its own result");
	free(f);
}

static void dests_section(struct diag *d, struct netst *n, json_t *r)
{
	json_t *sec = report_section(r, "destinations", "Top destinations"), *t, *v;
	const char *key, *rest;
	char name[128], opts[64];

	json_object_foreach(diag_get(d, "@net_conn"), key, v)
	{
		int64_t k[8], c;
		struct dest *x;

		if (bpfmap_key(key, 8, k, NULL) && bpfmap_i64(v, &c) && (x = dest_of(n, k))) {
			x->connects += c;
			if (!expected_err(k[6]) && !k[7])
				x->failed += c;
		}
	}
	json_object_foreach(diag_get(d, "@net_hs"), key, v)
	{
		int64_t k[8], c;
		struct dest *x;

		if (bpfmap_key(key, 8, k, NULL) && bpfmap_i64(v, &c) && (x = dest_of(n, k))) {
			x->handshakes += c;
			if (!k[6])
				x->failed += c;
		}
	}
	json_object_foreach(diag_get(d, "@net_rtx"), key, v)
	{
		int64_t k[6], c;
		struct dest *x;

		if (bpfmap_key(key, 6, k, NULL) && bpfmap_i64(v, &c) && (x = dest_of(n, k)))
			x->rtx += c;
	}
	json_object_foreach(diag_get(d, "@net_bytes"), key, v)
	{
		int64_t k[6], c;
		struct dest *x;

		if (!bpfmap_key(key, 6, k, &rest) || !bpfmap_i64(v, &c) || (k[0] != 2 && k[0] != 10) ||
		    !(x = dest_of(n, k)))
			continue;
		if (strcmp(rest, SEND_PROBE) == 0)
			x->sent += c;
		else
			x->recv += c;
	}
	diag_sort(n->dests, n->ndests, sizeof(*n->dests), cmp_dest);
	t = report_table(sec, "by connections, then bytes",
			 "destination:str:DESTINATION,connects:int:CONNECTS,"
			 "handshakes:int:HANDSHAKES,failed:int:FAILED,sent:bytes:SENT,"
			 "recv:bytes:RECEIVED,rtx:int:RETRANSMITS");
	for (size_t i = 0; i < n->ndests; i++) {
		const struct dest *x = &n->dests[i];

		report_row(t,
			   json_pack("{ss sI sI sI sI sI sI}", "destination", dest_name(x, name, sizeof(name)),
				     "connects", (json_int_t)x->connects, "handshakes", (json_int_t)x->handshakes,
				     "failed", (json_int_t)x->failed, "sent", (json_int_t)x->sent, "recv",
				     (json_int_t)x->recv, "rtx", (json_int_t)x->rtx),
			   d->o->top);
		if (x->rtx >= d->o->error_threshold) {
			json_t *is = report_issue(r, "warning", "retransmits", "%lld TCP retransmits to %s (%.1f/s)",
						  (long long)x->rtx, name, diag_rate(d, (double)x->rtx));

			report_evidence(
				is, "packets to it are lost or late: congestion, a bad link, or a peer that is slow to "
				    "acknowledge");
			report_next(
				is, "t:tcp:tcp_retransmit_skb \"retransmit to port %d, state %d\", args->dport, args->state",
				diag_trace_opts(d, -1, opts, sizeof(opts)), "each retransmit as it happens");
		}
	}
	report_note(sec, "destinations of sends and receives come from the socket: an unconnected UDP socket shows "
			 "as 0.0.0.0:0");
}

static void traffic_section(struct diag *d, json_t *r)
{
	json_t *sec = report_section(r, "traffic", "Traffic by process"), *t, *pb = diag_get(d, "@net_pbytes"), *v;
	struct {
		long pid;
		int64_t sent, recv;
	} *p = calloc(json_object_size(pb) + 1, sizeof(*p));
	size_t n = 0;
	int64_t sent = 0, recv = 0;
	const char *key, *rest;
	char proc[64];

	if (!p)
		return;
	json_object_foreach(pb, key, v)
	{
		int64_t pid, c;
		size_t i;

		if (!bpfmap_key(key, 1, &pid, &rest) || !bpfmap_i64(v, &c))
			continue;
		for (i = 0; i < n && p[i].pid != pid; i++)
			;
		if (i == n)
			p[n++].pid = (long)pid;
		if (strstr(rest, "send"))
			p[i].sent += c, sent += c;
		else
			p[i].recv += c, recv += c;
	}
	report_note(sec, "%lld bytes sent (%.0f/s), %lld received (%.0f/s)", (long long)sent,
		    diag_rate(d, (double)sent), (long long)recv, diag_rate(d, (double)recv));
	t = report_table(sec, "bytes through sockets",
			 "process:str:PROCESS,sent:bytes:SENT,sent_rate:bytes:SENT/S,"
			 "recv:bytes:RECEIVED,recv_rate:bytes:RECEIVED/S");
	for (size_t i = 0; i < n; i++)
		report_row(t,
			   json_pack("{ss sI sI sI sI}", "process", diag_proc(d, p[i].pid, proc, sizeof(proc)), "sent",
				     (json_int_t)p[i].sent, "sent_rate", (json_int_t)diag_rate(d, (double)p[i].sent),
				     "recv", (json_int_t)p[i].recv, "recv_rate",
				     (json_int_t)diag_rate(d, (double)p[i].recv)),
			   d->o->top);
	free(p);
}

static void net_report(struct diag *d, void *st, json_t *r)
{
	struct netst *n = st;
	json_t *sec = report_section(r, "connections", "Connections"), *t, *v;
	struct bpfmap_hist h;
	struct dist_summary s;
	int64_t hs_ok = 0, hs_fail = 0, calls = 0;
	const char *key;
	char en[32], ms[32], proc[64], opts[64];

	json_object_foreach(diag_get(d, "@net_hs"), key, v)
	{
		int64_t k[8], c;

		if (bpfmap_key(key, 8, k, NULL) && bpfmap_i64(v, &c))
			*(k[6] ? &hs_ok : &hs_fail) += c;
	}
	json_object_foreach(diag_get(d, "@net_pconn"), key, v)
	{
		int64_t c;

		if (bpfmap_i64(v, &c))
			calls += c;
	}
	dist_summary(&n->hs, (uint64_t)hs_ok, diag_get_hist(d, "@net_hslat", NULL, &h) ? &h : NULL,
		     (uint64_t)diag_get_int(d, "@net_hsmax", NULL), &s);
	report_note(sec, "%lld connect() calls; %lld TCP handshakes: %lld established, %lld failed", (long long)calls,
		    (long long)hs_ok + (long long)hs_fail, (long long)hs_ok, (long long)hs_fail);
	diag_dist_table(sec, "connect latency (SYN sent to established)", &s);
	t = report_table(sec, "connect() results", "result:str:RESULT,count:int:COUNT,max:ns:MAX LATENCY");
	json_object_foreach(diag_get(d, "@net_cmax"), key, v)
	{
		int64_t err, max, c = 0;
		json_t *pv;
		const char *pk;

		if (!bpfmap_key(key, 1, &err, NULL) || !bpfmap_i64(v, &max))
			continue;
		json_object_foreach(diag_get(d, "@net_pconn"), pk, pv)
		{
			int64_t k[2], x;

			if (bpfmap_key(pk, 2, k, NULL) && k[1] == err && bpfmap_i64(pv, &x))
				c += x;
		}
		report_row(t,
			   json_pack("{ss sI sI}", "result",
				     err ? diag_errno((long)err, en, sizeof(en)) : "0 (connected)", "count",
				     (json_int_t)c, "max", (json_int_t)max),
			   0);
	}
	report_ns(d->o->rtt_ns, ms, sizeof(ms));
	if (s.have && s.max >= d->o->rtt_ns) {
		json_t *is = s.exact ? report_issue(r, "warning", "slow_connects",
						    "slow connects: %llu handshakes took %s or "
						    "more (max %s)",
						    (unsigned long long)n->slow_hs, ms,
						    report_ns(s.max, en, sizeof(en))) :
				       report_issue(r, "warning", "slow_connects",
						    "slow connects: handshakes took up to %s "
						    "(the threshold is %s)",
						    report_ns(s.max, en, sizeof(en)), ms);

		if (n->slow_dest[0])
			report_evidence(is, "slowest: to %s by %s", n->slow_dest,
					diag_proc(d, n->slow_pid, proc, sizeof(proc)));
		report_evidence(is, "p50 %s, p99 %s (%s)", report_ns(s.p50, ms, sizeof(ms)),
				report_ns(s.p99, en, sizeof(en)), s.exact ? "exact" : "estimated");
		report_next(is,
			    "t:sock:inet_sock_set_state (args->oldstate == 2) \"port %d: state %d\", args->dport, "
			    "args->newstate",
			    diag_trace_opts(d, -1, opts, sizeof(opts)), "each handshake's end as it happens");
	}
	failures_section(d, n, r);
	dests_section(d, n, r);
	traffic_section(d, r);
	diag_series(d, r, "connect() calls", "count", "@net_tlc", NULL);
	diag_series(d, r, "bytes sent", "bytes", "@net_tlb", SEND_PROBE);
	diag_series(d, r, "bytes received", "bytes", "@net_tlb", RECV_PROBE);
	diag_series(d, r, "TCP retransmits", "count", "@net_tlrtx", NULL);
}

const struct diag_module diag_net = {
	.name = "net",
	.prefix = "@net_",
	.base = 20,
	.state_size = sizeof(struct netst),
	.release = net_release,
	.event = net_event,
	.report = net_report,
};
