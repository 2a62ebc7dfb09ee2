/* diag.h - a diagnose preset's output into a report with conclusions.
 *
 * Feed it the events (scan_event: the record id is ev->probe) and every map
 * and histogram of bpftrace's exit dump; then diag_report() builds the
 * report (report.h): counts and rates from the kernel's maps (exact), latency
 * percentiles exact where every sample was streamed and estimated from the
 * kernel's log2 histograms otherwise (each says which), top-N tables, a
 * per-second timeline, and the potential issues, each with its evidence and
 * a next trace ready to run.
 *
 * Each preset has its analysis module (diag_fs.c, diag_net.c, ...); record
 * ids 10*k..10*k+9 and maps named "@PREFIX_..." belong to module k. The
 * `all` preset's report is its included presets' sections together. What
 * only the live host can tell (what a descriptor points to, descriptor
 * counts in /proc) comes through struct diag_host; without it (a replay)
 * those figures are left out, and the report says so.
 */
#ifndef DIAG_DIAG_H
#define DIAG_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "parser/scan.h"
#include "tracespec/preset.h"

#define DIAG_DEFAULT_SLOW_NS 10000000ULL   /* 10 ms */
#define DIAG_DEFAULT_RTT_NS  100000000ULL  /* 100 ms */
#define DIAG_DEFAULT_ERRORS  10		   /* failures of one kind that make an issue */
#define DIAG_DEFAULT_LEAK    100	   /* descriptors a process gains that make a leak */
#define DIAG_DEFAULT_STORM   50		   /* short-lived processes in one second: a storm */
#define DIAG_DEFAULT_CAP     100000	   /* events streamed per record */
#define DIAG_DEFAULT_TOP     10		   /* rows per top-N table */
#define DIAG_SHORT_LIVED_NS  1000000000ULL /* a process that lives less is short-lived */

struct diag_opts {
	long pid;	    /* -1: every process */
	const char *cgroup; /* a cgroup v2 path; NULL: every one */
	uint64_t slow_ns, rtt_ns;
	long error_threshold, leak_threshold, storm_threshold;
	long cap;     /* events streamed per record */
	int top;      /* rows per top-N table */
	int duration; /* seconds asked for */
};

/* Set every option to its default. */
void diag_opts_init(struct diag_opts *o);

/* Descriptors open per process, from /proc at one moment. */
struct diag_fdcount {
	long pid;
	long count;
	char comm[17];
};

struct diag_fdsnap {
	struct diag_fdcount *v; /* sorted by pid */
	size_t n;
};

/* The live host, for what the kernel's maps cannot say. Any member may be NULL. */
struct diag_host {
	void *ud;
	/* What /proc/PID/fd/FD points to now: 1 with buf filled, 0 when that
	 * descriptor is closed (or the process gone), < 0 when unknown. */
	int (*fd_target)(void *ud, long pid, long fd, char *buf, size_t size);
	/* The process exists (and is not a zombie). */
	bool (*alive)(void *ud, long pid);
	const char *tracefs;		       /* syscall formats: which argument is a path */
	const struct diag_fdsnap *start, *end; /* descriptor counts before and after */
};

/* How the run went, for the report's header and its caveats. */
struct diag_run {
	double elapsed;	    /* seconds traced */
	uint64_t lost;	    /* events bpftrace reported lost */
	bool complete;	    /* the exit dump came: the maps are there */
	const char *status; /* "completed", "timeout", "cancelled", "failed" */
};

struct diag;

/* An analysis of preset p's output with options o (both borrowed: they must
 * outlive it). NULL when out of memory. */
struct diag *diag_new(const struct preset *p, const struct diag_opts *o);

void diag_free(struct diag *d);

/* An event; ev->probe is the record id. */
void diag_event(struct diag *d, const struct scan_event *ev);

/* A map of the exit dump: name ("@fs_ops") and its value as printed. */
void diag_map(struct diag *d, const char *name, json_t *value);

/* Any other line of bpftrace's output (the "hist" lines are read). */
void diag_other(struct diag *d, const char *type, json_t *line);

/* The report. New reference, or NULL when out of memory. */
json_t *diag_report(struct diag *d, const struct diag_run *run, const struct diag_host *h);

#endif /* DIAG_DIAG_H */
