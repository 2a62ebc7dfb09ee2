/* scan.h - the scanner of bpftrace's JSON-lines output (`bpftrace -f json`).
 *
 * Streaming and bounded: bytes go in as they arrive (scan_feed), are split
 * into lines (at most SCAN_MAX_LINE bytes; a longer line is counted as
 * malformed and skipped to its newline), and each line is one of:
 *   {"type": "value", "data": [...]}     an event tuple (layout.h), or the
 *                                        attach marker ["attached", NSECS]
 *   {"type": "attached_probes", ...}     bpftrace's own attach count
 *   {"type": "lost_events", "data": {"events": N}, ["count": N]}
 *   {"type": "map", "data": {"@name": VALUE | {"key": VALUE, ...}}}
 *   {"type": "hist"|"stats"|..., ...}    other output: counted, passed to on_other
 *   blank lines                          ignored
 * Anything else is malformed: counted (with the first few kept for the
 * report), never fatal. bpftrace writes bytes >= 0x80 inside strings as
 * \uffffffXX (not valid JSON); the scanner repairs them to the raw byte.
 *
 * "value" lines take a hand-written fast path (no allocation per event); the
 * rare other lines go through jansson.
 */
#ifndef DIAG_SCAN_H
#define DIAG_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tracespec/layout.h"

#define SCAN_MAX_LINE	(1024 * 1024) /* longest line kept; longer ones are malformed */
#define SCAN_MAX_VALUES 32	      /* most columns in one tuple */
#define SCAN_KEEP_BAD	5	      /* malformed lines kept (first 200 bytes each) */

/* One column of an event tuple as bpftrace printed it. */
struct scan_value {
	enum { SV_INT, SV_STR, SV_NULL } kind;
	int64_t i;     /* SV_INT (integers that do not fit int64 are read as uint64 bits) */
	const char *s; /* SV_STR: raw bytes (escapes and \uffffffXX decoded), NUL-terminated;
	                          valid only during the callback */
	size_t len;    /* SV_STR: byte length */
};

/* An event, decoded by the layout; valid only during the on_event callback. */
struct scan_event {
	uint64_t nsecs; /* bpftrace's nsecs: CLOCK_MONOTONIC ns */
	int64_t cpu, pid, tid, uid;
	const char *comm; /* raw bytes */
	size_t comm_len;
	int probe; /* index into layout->probes; checked to be in range */
	const struct layout_probe *lp;
	bool has_retval;
	int64_t retval;
	bool has_latency;
	uint64_t latency_ns;
	const struct scan_value *values; /* lp->nvalues format values, in order */
	const char *kstack, *ustack;	 /* NULL when absent */
	size_t kstack_len, ustack_len;
};

struct scan_callbacks {
	void (*on_event)(void *ud, const struct scan_event *ev);
	void (*on_attached)(void *ud, uint64_t nsecs); /* the program's BEGIN marker */
	void (*on_lost)(void *ud, uint64_t count);     /* each lost_events line */
	/* a map printed at exit: name ("@__hits"), and its data as jansson
	 * parsed it (a number, or an object of key -> number); borrowed */
	void (*on_map)(void *ud, const char *name, json_t *value);
	void (*on_other)(void *ud, const char *type, json_t *line); /* hist, stats, ... */
	void *ud;
};

struct scan_stats {
	uint64_t lines;		  /* every line, blank ones included */
	uint64_t events;	  /* value lines decoded into events */
	uint64_t lost;		  /* sum of lost_events */
	uint64_t malformed;	  /* lines that could not be understood */
	uint64_t attached_probes; /* from bpftrace's attached_probes line; 0 when not seen */
	int nbad;
	char bad[SCAN_KEEP_BAD][201]; /* the first malformed lines (truncated) */
};

struct scanner;

/* A scanner for programs with layout l (borrowed: must outlive the
 * scanner). Returns NULL on allocation failure. */
struct scanner *scan_new(const struct event_layout *l, const struct scan_callbacks *cb);

/* Free a scanner; NULL is a no-op. */
void scan_free(struct scanner *s);

/* Feed len bytes of output. Complete lines are handled at once; a partial
 * line waits for the rest. Returns 0, or -ENOMEM. */
int scan_feed(struct scanner *s, const char *buf, size_t len);

/* Handle the last line when the output ended without a newline. */
int scan_finish(struct scanner *s);

/* Handle one line (without its newline). */
int scan_line(struct scanner *s, const char *line, size_t len);

const struct scan_stats *scan_stats(const struct scanner *s);

#endif /* DIAG_SCAN_H */
