/* diag_fs.c - the fs preset: operations, bytes, latency, slow operations, files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/diag_int.h"
#include "tracespec/strbuf.h"

#define REC_LAT		    10
#define REC_SLOW	    11
#define REC_OPEN	    12
#define MAX_NR		    1024
#define NAME_LEN	    256
#define FREQUENT_SYNC_PER_S 50.0 /* fsync+fdatasync per second that make a notice */

struct slow {
	long nr, fd, pid, tid;
	int64_t dev, ino, ret;
	uint64_t lat;
	char comm[17];
	char name[NAME_LEN];
};

struct opened {
	int64_t dev, ino;
	long nr, pid;
	int64_t ret;
	char path[NAME_LEN];
};

struct fs {
	struct dist lat[MAX_NR];
	struct slow *slow;
	size_t nslow, capslow;
	struct opened *open;
	size_t nopen, capopen;
	struct diag_counts failed; /* failed opens: path, errno */
	int64_t nfailed;
};

static void fs_release(void *st)
{
	struct fs *f = st;

	for (int i = 0; i < MAX_NR; i++)
		dist_release(&f->lat[i]);
	free(f->slow);
	free(f->open);
	diag_counts_release(&f->failed);
}

static void *grow(void *p, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return p;
	ncap = *cap ? *cap * 2 : 64;
	np = realloc(p, ncap * elem);
	if (!np)
		return NULL;
	*cap = ncap;
	return np;
}

static void fs_event(struct diag *d, void *st, const struct scan_event *ev)
{
	struct fs *f = st;
	const struct scan_value *v = ev->values;
	void *np;

	(void)d;
	if (ev->probe == REC_LAT) {
		if (v[0].i >= 0 && v[0].i < MAX_NR)
			dist_add(&f->lat[v[0].i], (uint64_t)v[1].i);
	} else if (ev->probe == REC_SLOW) {
		struct slow *s;

		np = grow(f->slow, &f->capslow, f->nslow, sizeof(*f->slow));
		if (!np)
			return;
		f->slow = np;
		s = &f->slow[f->nslow++];
		s->nr = (long)v[0].i;
		s->fd = (long)v[1].i;
		s->dev = v[2].i;
		s->ino = v[3].i;
		s->ret = v[4].i;
		s->lat = (uint64_t)v[5].i;
		diag_copy_str(s->name, sizeof(s->name), &v[6]);
		s->pid = (long)ev->pid;
		s->tid = (long)ev->tid;
		utf8_copy(s->comm, sizeof(s->comm), ev->comm, ev->comm_len);
	} else if (ev->probe == REC_OPEN) {
		struct opened *o;

		np = grow(f->open, &f->capopen, f->nopen, sizeof(*f->open));
		if (!np)
			return;
		f->open = np;
		o = &f->open[f->nopen++];
		o->nr = (long)v[0].i;
		o->dev = v[1].i;
		o->ino = v[2].i;
		o->ret = v[4].i;
		o->pid = (long)ev->pid;
		diag_copy_str(o->path, sizeof(o->path), &v[6]);
		if (o->ret < 0) {
			diag_counts_add(&f->failed, o->path, (long)-o->ret, o->pid);
			f->nfailed++;
		}
		if (v[0].i >= 0 && v[0].i < MAX_NR)
			dist_add(&f->lat[v[0].i], (uint64_t)v[5].i);
	}
}

/* ---- what a file is called -------------------------------------------------- */

static int cmp_opened(const void *a, const void *b)
{
	const struct opened *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* The path an open gave (dev, ino), else the dentry's name from the kernel. */
static const char *file_name(const struct diag *d, const struct fs *f, int64_t dev, int64_t ino, char *buf, size_t size)
{
	struct opened key = { .dev = dev, .ino = ino };
	size_t lo = 0, hi = f->nopen;
	char k[64];
	json_t *n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct opened *o = &f->open[mid];

		if (o->dev < key.dev || (o->dev == key.dev && o->ino < key.ino))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < f->nopen && f->open[lo].dev == dev && f->open[lo].ino == ino && f->open[lo].ret >= 0) {
		snprintf(buf, size, "%s", f->open[lo].path);
		return buf;
	}
	snprintf(k, sizeof(k), "%lld,%lld", (long long)dev, (long long)ino);
	n = json_object_get(diag_get(d, "@fs_fname"), k);
	if (json_is_string(n) && !*json_string_value(n))
		snprintf(buf, size, "(no name: a pipe or an anonymous inode) dev %lld:%lld inode %lld",
			 (long long)(dev >> 20), (long long)(dev & 0xfffff), (long long)ino);
	else if (json_is_string(n))
		snprintf(buf, size, "%s (dev %lld:%lld inode %lld)", json_string_value(n), (long long)(dev >> 20),
			 (long long)(dev & 0xfffff), (long long)ino);
	else
		snprintf(buf, size, "dev %lld:%lld inode %lld", (long long)(dev >> 20), (long long)(dev & 0xfffff),
			 (long long)ino);
	return buf;
}

static const char *file_type(int64_t mode)
{
	switch (mode & 0xf000) {
	case 0x8000:
		return "file";
	case 0x4000:
		return "dir";
	case 0x2000:
		return "char dev";
	case 0x6000:
		return "block dev";
	case 0x1000:
		return "fifo";
	case 0xc000:
		return "socket";
	case 0xa000:
		return "symlink";
	default:
		return "?";
	}
}

enum op_kind { OP_READ, OP_WRITE, OP_SYNC, OP_OPEN, OP_OTHER };

static enum op_kind op_kind(const char *sys)
{
	if (strstr(sys, "read"))
		return OP_READ;
	if (strstr(sys, "write"))
		return OP_WRITE;
	if (strstr(sys, "sync"))
		return OP_SYNC;
	if (strstr(sys, "open") || strcmp(sys, "creat") == 0)
		return OP_OPEN;
	return OP_OTHER;
}

/* ---- sections ------------------------------------------------------------------ */

struct fileagg {
	int64_t dev, ino;
	int64_t rbytes, wbytes, ops, time;
};

static int cmp_file_bytes(const void *a, const void *b)
{
	const struct fileagg *x = a, *y = b;
	int64_t bx = x->rbytes + x->wbytes, by = y->rbytes + y->wbytes;

	return bx != by ? (bx < by ? 1 : -1) : (x->ops < y->ops) - (x->ops > y->ops);
}

static int cmp_file_time(const void *a, const void *b)
{
	const struct fileagg *x = a, *y = b;

	return (x->time < y->time) - (x->time > y->time);
}

static int cmp_slow(const void *a, const void *b)
{
	const struct slow *x = a, *y = b;

	return (x->lat < y->lat) - (x->lat > y->lat);
}

/* Per-file totals from @fs_fops/@fs_fbytes/@fs_ftime (keys dev,ino,nr). */
static struct fileagg *files(const struct diag *d, size_t *n)
{
	json_t *ops = diag_get(d, "@fs_fops"), *v;
	struct fileagg *a = calloc(json_object_size(ops) + 1, sizeof(*a));
	const char *key;
	char sys[64];

	*n = 0;
	if (!a)
		return NULL;
	json_object_foreach(ops, key, v)
	{
		int64_t k[3], c, bytes, t;
		size_t i;

		if (!bpfmap_key(key, 3, k, NULL) || !bpfmap_i64(v, &c))
			continue;
		for (i = 0; i < *n; i++)
			if (a[i].dev == k[0] && a[i].ino == k[1])
				break;
		if (i == *n) {
			a[i].dev = k[0];
			a[i].ino = k[1];
			(*n)++;
		}
		bytes = diag_get_int(d, "@fs_fbytes", key);
		t = diag_get_int(d, "@fs_ftime", key);
		diag_sys((long)k[2], sys, sizeof(sys));
		if (op_kind(sys) == OP_READ)
			a[i].rbytes += bytes;
		else if (op_kind(sys) == OP_WRITE)
			a[i].wbytes += bytes;
		a[i].ops += c;
		a[i].time += t;
	}
	return a;
}

static void file_rows(const struct diag *d, const struct fs *f, json_t *t, const struct fileagg *a, size_t n)
{
	char name[NAME_LEN + 64], k[64];

	for (size_t i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%lld,%lld", (long long)a[i].dev, (long long)a[i].ino);
		report_row(t,
			   json_pack("{ss ss sI sI sI sI}", "file",
				     file_name(d, f, a[i].dev, a[i].ino, name, sizeof(name)), "type",
				     file_type(diag_get_int(d, "@fs_fmode", k)), "read", (json_int_t)a[i].rbytes,
				     "written", (json_int_t)a[i].wbytes, "ops", (json_int_t)a[i].ops, "time",
				     (json_int_t)a[i].time),
			   d->o->top);
	}
}

static void ops_section(struct diag *d, struct fs *f, json_t *r, int64_t *syncs)
{
	json_t *sec = report_section(r, "operations", "File operations"), *t, *ops = diag_get(d, "@fs_ops"), *v;
	const char *key;
	bool estimated = false;
	char sys[64], k[32];

	t = report_table(sec, "by syscall (counts and bytes from the kernel)",
			 "op:str:OP,count:int:COUNT,rate:rate:PER S,errors:int:ERRORS,bytes:bytes:BYTES,"
			 "bytes_rate:bytes:BYTES/S,p50:ns:P50,p90:ns:P90,p99:ns:P99,max:ns:MAX,source:str:LATENCY");
	*syncs = 0;
	json_object_foreach(ops, key, v)
	{
		int64_t nr, count = 0, errs = 0;
		struct bpfmap_hist h;
		struct dist_summary s;
		json_t *ev;
		const char *ek;

		if (!bpfmap_key(key, 1, &nr, NULL) || !bpfmap_i64(v, &count) || nr < 0 || nr >= MAX_NR)
			continue;
		json_object_foreach(diag_get(d, "@fs_err"), ek, ev)
		{
			int64_t kk[2], n;

			if (bpfmap_key(ek, 2, kk, NULL) && kk[0] == nr && bpfmap_i64(ev, &n))
				errs += n;
		}
		snprintf(k, sizeof(k), "%lld", (long long)nr);
		/* Exact when every call's sample arrived: as many as the kernel counted. */
		dist_summary(&f->lat[nr], (uint64_t)count, diag_get_hist(d, "@fs_lat", k, &h) ? &h : NULL,
			     (uint64_t)diag_get_int(d, "@fs_max", k), &s);
		estimated |= !s.exact;
		diag_sys((long)nr, sys, sizeof(sys));
		if (op_kind(sys) == OP_SYNC)
			*syncs += count;
		report_row(t,
			   json_pack("{ss sI sf sI sI sf sI sI sI sI ss}", "op", sys, "count", (json_int_t)count,
				     "rate", diag_rate(d, (double)count), "errors", (json_int_t)errs, "bytes",
				     (json_int_t)diag_get_int(d, "@fs_bytes", k), "bytes_rate",
				     diag_rate(d, (double)diag_get_int(d, "@fs_bytes", k)), "p50", (json_int_t)s.p50,
				     "p90", (json_int_t)s.p90, "p99", (json_int_t)s.p99, "max", (json_int_t)s.max,
				     "source", s.exact ? "exact" : "histogram"),
			   0);
	}
	report_note(
		sec,
		"latency is from entry to exit of the syscall; 'exact' rows are computed from every "
		"call, 'histogram' rows are estimated from the kernel's log2 buckets (the max is the kernel's own)%s",
		estimated ? " because the stream of samples was capped or lost events" : "");
	t = report_table(sec, "errors", "op:str:OP,errno:str:ERRNO,count:int:COUNT");
	json_object_foreach(diag_get(d, "@fs_err"), key, v)
	{
		int64_t kk[2], n;
		char en[32];

		if (!bpfmap_key(key, 2, kk, NULL) || !bpfmap_i64(v, &n))
			continue;
		report_row(t,
			   json_pack("{ss ss sI}", "op", diag_sys((long)kk[0], sys, sizeof(sys)), "errno",
				     diag_errno((long)kk[1], en, sizeof(en)), "count", (json_int_t)n),
			   d->o->top);
	}
}

static void slow_section(struct diag *d, struct fs *f, json_t *r)
{
	char title[96], ms[32], name[NAME_LEN + 64], proc[64], sys[64], k[64], spec[160];
	json_t *sec, *t, *is;
	struct slow *s;

	report_ns(d->o->slow_ns, ms, sizeof(ms));
	snprintf(title, sizeof(title), "Slow operations (%s or more)", ms);
	sec = report_section(r, "slow", title);
	diag_sort(f->slow, f->nslow, sizeof(*f->slow), cmp_slow);
	t = report_table(sec, "slowest first",
			 "op:str:OP,process:str:PROCESS,file:str:FILE,latency:ns:LATENCY,result:int:RESULT");
	for (size_t i = 0; i < f->nslow; i++) {
		s = &f->slow[i];
		snprintf(k, sizeof(k), "%s[%ld]", s->comm, s->pid);
		if (s->dev || s->ino)
			file_name(d, f, s->dev, s->ino, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "fd %ld", s->fd);
		report_row(t,
			   json_pack("{ss ss ss sI sI}", "op", diag_sys(s->nr, sys, sizeof(sys)), "process", k, "file",
				     name, "latency", (json_int_t)s->lat, "result", (json_int_t)s->ret),
			   d->o->top);
	}
	if (!diag_complete(d, REC_SLOW))
		report_note(sec, "more slow operations happened than were streamed: the list is the first %zu",
			    f->nslow);
	if (f->nslow == 0)
		return;
	s = &f->slow[0];
	is = report_issue(r, "warning", "slow_io", "%zu%s file operations took %s or more (max %s)", f->nslow,
			  diag_complete(d, REC_SLOW) ? "" : "+", ms, report_ns(s->lat, title, sizeof(title)));
	if (s->dev || s->ino)
		file_name(d, f, s->dev, s->ino, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "fd %ld", s->fd);
	report_evidence(is, "slowest: %s on %s by %s", diag_sys(s->nr, sys, sizeof(sys)), name,
			diag_proc(d, s->pid, proc, sizeof(proc)));
	snprintf(spec, sizeof(spec), "r::sys_%s \"fd %%d returned %%d\", arg1, retval", sys);
	report_next(is, spec, diag_trace_opts(d, s->pid, k, sizeof(k)),
		    "each call with its latency (latency_ns) and result, to see when it is slow");
}

static void files_sections(struct diag *d, struct fs *f, json_t *r)
{
	json_t *sec = report_section(r, "files", "Files");
	size_t n;
	struct fileagg *a = files(d, &n);
	const char *cols = "file:str:FILE,type:str:TYPE,read:bytes:READ,written:bytes:WRITTEN,ops:int:OPS,time:ns:TIME";

	if (!a)
		return;
	diag_sort(a, n, sizeof(*a), cmp_file_bytes);
	file_rows(d, f, report_table(sec, "top files by bytes", cols), a, n);
	diag_sort(a, n, sizeof(*a), cmp_file_time);
	file_rows(d, f, report_table(sec, "top files by time", cols), a, n);
	report_note(sec, "files are told apart by device and inode; a path is the one an open during the trace "
			 "gave, else the file's name from the kernel");
	free(a);
}

struct procagg {
	long pid;
	int64_t ops, bytes, time;
};

static int cmp_proc(const void *a, const void *b)
{
	const struct procagg *x = a, *y = b;

	return (x->time < y->time) - (x->time > y->time);
}

static void procs_section(struct diag *d, json_t *r)
{
	json_t *sec = report_section(r, "processes", "Processes"), *ops = diag_get(d, "@fs_pops"), *v, *t;
	struct procagg *a = calloc(json_object_size(ops) + 1, sizeof(*a));
	size_t n = 0;
	const char *key;
	char proc[64];

	if (!a)
		return;
	json_object_foreach(ops, key, v)
	{
		int64_t pid;

		if (!bpfmap_key(key, 1, &pid, NULL) || !bpfmap_i64(v, &a[n].ops))
			continue;
		a[n].pid = (long)pid;
		a[n].bytes = diag_get_int(d, "@fs_pbytes", key);
		a[n].time = diag_get_int(d, "@fs_ptime", key);
		n++;
	}
	diag_sort(a, n, sizeof(*a), cmp_proc);
	t = report_table(sec, "by time in file syscalls",
			 "process:str:PROCESS,ops:int:OPS,bytes:bytes:BYTES,time:ns:TIME");
	for (size_t i = 0; i < n; i++)
		report_row(t,
			   json_pack("{ss sI sI sI}", "process", diag_proc(d, a[i].pid, proc, sizeof(proc)), "ops",
				     (json_int_t)a[i].ops, "bytes", (json_int_t)a[i].bytes, "time",
				     (json_int_t)a[i].time),
			   d->o->top);
	free(a);
}

/* Opens that failed, by path and errno, from the streamed opens. */
static void failed_opens(struct diag *d, struct fs *f, json_t *r)
{
	json_t *sec = report_section(r, "failed_opens", "Opens that failed"), *t;
	struct diag_count *v = diag_counts_sorted(&f->failed);
	char en[32], proc[64], opts[64];

	t = report_table(sec, "by path", "path:str:PATH,errno:str:ERRNO,count:int:COUNT,process:str:PROCESS");
	for (size_t i = 0; v && i < f->failed.n; i++)
		report_row(t,
			   json_pack("{ss ss sI ss}", "path", v[i].s, "errno", diag_errno(v[i].aux, en, sizeof(en)),
				     "count", (json_int_t)v[i].n, "process",
				     diag_proc(d, v[i].pid, proc, sizeof(proc))),
			   d->o->top);
	if (!diag_complete(d, REC_OPEN))
		report_note(sec, "from the first %zu opens streamed; the kernel's counts are in File operations",
			    f->nopen);
	if (v && f->nfailed >= d->o->error_threshold) {
		json_t *is = report_issue(r, "notice", "failed_opens", "%lld opens failed", (long long)f->nfailed);

		report_evidence(is, "most: %s (%s) %lld times", v[0].s, diag_errno(v[0].aux, en, sizeof(en)),
				(long long)v[0].n);
		report_next(is, "r::sys_openat ((int)retval < 0) \"%d %s\", retval, arg2",
			    diag_trace_opts(d, d->o->pid, opts, sizeof(opts)),
			    "each failed open with its path and errno");
	}
	free(v);
}

static void fs_report(struct diag *d, void *st, json_t *r)
{
	struct fs *f = st;
	int64_t syncs = 0;
	json_t *v;
	const char *key;
	char opts[64], sys[64], en[32];

	diag_sort(f->open, f->nopen, sizeof(*f->open), cmp_opened);
	ops_section(d, f, r, &syncs);
	slow_section(d, f, r);
	files_sections(d, f, r);
	procs_section(d, r);
	failed_opens(d, f, r);
	diag_series(d, r, "file operations", "count", "@fs_tl", NULL);
	diag_series(d, r, "bytes read and written", "bytes", "@fs_tlb", NULL);
	if (diag_rate(d, (double)syncs) >= FREQUENT_SYNC_PER_S) {
		json_t *is = report_issue(r, "notice", "frequent_sync",
					  "%lld fsync/fdatasync calls (%.0f/s): each waits "
					  "for the device",
					  (long long)syncs, diag_rate(d, (double)syncs));

		report_evidence(is, "more than %.0f/s is worth a look: batch writes or sync less often",
				FREQUENT_SYNC_PER_S);
		report_next(is, "r::sys_fsync \"fd %d returned %d\", arg1, retval",
			    diag_trace_opts(d, d->o->pid, opts, sizeof(opts)),
			    "who syncs which descriptor, with each call's latency");
	}
	/* Errors that mean the data did not get where it was going. */
	json_object_foreach(diag_get(d, "@fs_err"), key, v)
	{
		int64_t k[2], n;

		if (!bpfmap_key(key, 2, k, NULL) || !bpfmap_i64(v, &n))
			continue;
		if (k[1] == 5 || k[1] == 28 || k[1] == 122 || k[1] == 30) {
			json_t *is = report_issue(r, "warning", "io_errors", "%s failed %lld times with %s (%s)",
						  diag_sys((long)k[0], sys, sizeof(sys)), (long long)n,
						  diag_errno((long)k[1], en, sizeof(en)), strerror((int)k[1]));
			char spec[128];

			report_evidence(
				is, "data did not reach the file: check the device (EIO), free space (ENOSPC), quota "
				    "(EDQUOT) or a read-only mount (EROFS)");
			snprintf(spec, sizeof(spec), "r::sys_%s ((int)retval == -%lld) \"fd %%d\", arg1", sys,
				 (long long)k[1]);
			report_next(is, spec, diag_trace_opts(d, d->o->pid, opts, sizeof(opts)),
				    "which process and descriptor");
		}
	}
}

const struct diag_module diag_fs = {
	.name = "fs",
	.prefix = "@fs_",
	.base = 10,
	.state_size = sizeof(struct fs),
	.release = fs_release,
	.event = fs_event,
	.report = fs_report,
};
