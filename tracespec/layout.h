/* layout.h - what each column of a generated program's event tuple means.
 *
 * The code generator returns a layout with every program, so the scanner
 * never re-derives it from text. Every event is printed as one tuple:
 *
 *   (nsecs, cpu, pid, tid, uid, comm, probe, COLUMNS...)
 *
 * The first LAYOUT_HEADER columns are fixed; probe is the index of the spec
 * (layout.probes[probe]) whose columns follow. Once every probe is attached,
 * BEGIN prints the marker ("attached", nsecs).
 */
#ifndef DIAG_LAYOUT_H
#define DIAG_LAYOUT_H

#include <stdbool.h>

enum layout_header {
	LH_NSECS, /* bpftrace nsecs: CLOCK_MONOTONIC, ns */
	LH_CPU,
	LH_PID, /* process id */
	LH_TID, /* thread id */
	LH_UID,
	LH_COMM,
	LH_PROBE, /* index into layout.probes */
	LAYOUT_HEADER,
};

enum layout_col_kind {
	LC_RETVAL,  /* the return value (return probes, paired syscalls) */
	LC_LATENCY, /* ns from entry to exit (paired syscalls) */
	LC_VALUE,   /* format value number `value` */
	LC_KSTACK,  /* kernel stack, a string of frames */
	LC_USTACK,  /* user stack, a string of frames */
};

struct layout_col {
	enum layout_col_kind kind;
	int value; /* LC_VALUE: index into probe->values */
};

struct layout_value {
	char conv[4];	/* trace.py conversion: "d", "s", "llx", "K", ... */
	char *name;	/* canonical expression text: the raw_args key */
	bool is_string; /* the column is a string (%s, %K, %U) */
};

struct layout_probe {
	char *function; /* the event's `function`: "sys_read", "vfs_read", "sched_switch" */
	char *target;	/* the protocol's `target`: "syscalls:sys_enter_read" */
	char *probe;	/* the bpftrace attach point(s), for messages */
	char *format;	/* the user's format; NULL when none */
	struct layout_value *values;
	int nvalues;
	struct layout_col *cols; /* after the header, in order */
	int ncols;
	bool has_retval;
	bool has_latency;
};

struct event_layout {
	struct layout_probe *probes;
	int nprobes;
	long max_events;  /* the in-kernel stream cap; -1 when none */
	int duration;	  /* seconds the program runs itself; 0 = until stopped */
	int string_size;  /* bytes read per string (bpftrace's strlen) */
	int buffer_pages; /* perf buffer pages per CPU; 0 = bpftrace's default */
	bool aggregate;	  /* -A: count identical messages */
	bool kstack, ustack;
	char *msg_regex; /* -f: message filter (PCRE2), applied in user space */
};

/* Free a layout and everything it holds; NULL is a no-op. */
void layout_free(struct event_layout *l);

/* Map names in every generated program (in-kernel totals; printed at exit). */
#define LAYOUT_MAP_HITS	    "@__hits"	  /* @__hits[probe] = count() of every match */
#define LAYOUT_MAP_PROCS    "@__procs"	  /* @__procs[pid, comm] = count() */
#define LAYOUT_MAP_STREAMED "@__streamed" /* events printed, when capped */

#endif /* DIAG_LAYOUT_H */
