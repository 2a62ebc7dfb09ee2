/* diag_int.h - what the analysis modules (diag_*.c) share with diag.c.
 * Not for use outside parser/diag*.c.
 */
#ifndef DIAG_DIAG_INT_H
#define DIAG_DIAG_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "parser/bpfmap.h"
#include "parser/diag.h"
#include "parser/dist.h"
#include "parser/report.h"
#include "parser/utf8.h" /* every string from an event enters as valid UTF-8: utf8_copy() */

#define DIAG_MAX_RECORDS (PRESET_MAX_RECORD_ID + 1)
#define DIAG_MAX_SECONDS 3600 /* timeline length kept */

/* One preset's analysis. Records base..base+9 and maps "@PREFIX..." are its. */
struct diag_module {
	const char *name;   /* the preset */
	const char *prefix; /* "@fs_" */
	int base;	    /* its record ids */
	size_t state_size;  /* zeroed state, given to every call */
	void (*release)(void *st);
	void (*event)(struct diag *d, void *st, const struct scan_event *ev);
	void (*report)(struct diag *d, void *st, json_t *r);
};

extern const struct diag_module diag_fs, diag_net, diag_dns, diag_exec, diag_sched, diag_fdleak, diag_errors,
	diag_fdgrowth;

struct diag_comm {
	long pid;
	char comm[17];
};

struct diag {
	const struct preset *p;
	const struct diag_opts *o;
	const struct diag_run *run; /* while reporting */
	const struct diag_host *h;  /* while reporting; never NULL then */
	int nmods;
	const struct diag_module *mods[8];
	void *states[8];
	uint64_t streamed[DIAG_MAX_RECORDS]; /* events taken per record */
	uint64_t over_cap[DIAG_MAX_RECORDS]; /* events past the cap */
	json_t *maps;			     /* every map of the exit dump, by name */
	struct diag_comm *comms;	     /* pid -> command name */
	size_t ncomms, capcomms;
	bool full_maps; /* a map reached bpftrace's key limit */
	char full_map[64];
};

/* The map of the exit dump called name (borrowed), or NULL. */
json_t *diag_get(const struct diag *d, const char *name);

/* An integer map's value at key ("5", "3,257"); 0 when absent. */
int64_t diag_get_int(const struct diag *d, const char *name, const char *key);

/* A histogram map: the one at key (NULL: the map is one histogram). False when absent. */
bool diag_get_hist(const struct diag *d, const char *name, const char *key, struct bpfmap_hist *h);

/* The record's stream is complete: nothing lost, nothing past the cap. */
bool diag_complete(const struct diag *d, int record);

/* Remember pid's command name (from an event or a *_comm map). */
void diag_set_comm(struct diag *d, long pid, const char *comm);

/* "comm[pid]" (or "[pid]" when the name is unknown) in buf. */
const char *diag_proc(const struct diag *d, long pid, char *buf, size_t size);

/* The command name of pid, or "?". */
const char *diag_comm(const struct diag *d, long pid);

/* Syscall nr's name ("openat"; "syscall_N" when unknown). */
const char *diag_sys(long nr, char *buf, size_t size);

/* An errno's name ("ENOENT"; "E?N" when unknown). */
const char *diag_errno(long err, char *buf, size_t size);

/* An address as the presets give it: family (2, 10), four 32-bit words of
 * address in network order (a0 alone for IPv4) and the port in network
 * order: "127.0.0.1:80", "[::1]:443". */
const char *diag_addr(long fam, const int64_t *a, long port, char *buf, size_t size);

/* Events per second over the traced time. */
double diag_rate(const struct diag *d, double n);

/* The options to narrow a next trace to what this one watched ("-p 1234"
 * or ""), plus -d SECONDS. */
const char *diag_trace_opts(const struct diag *d, long pid, char *buf, size_t size);

/* The timeline's length in seconds (at most n), with v[0..len) zeroed. */
int diag_seconds(const struct diag *d, int64_t *v, int n);

/* Add a per-second map into v[0..n): keys "SECOND" (rest NULL), or
 * "SECOND,REST" for the given rest only. */
void diag_timeline_add(json_t *obj, const char *rest, int64_t *v, int n);

/* Note a map that has as many keys as bpftrace keeps: counts past it were lost. */
void diag_check_full(struct diag *d, const char *name, json_t *value);

/* Strings counted (a command line, a path with its errno): at most
 * DIAG_COUNTS_MAX distinct, the rest counted as others. */
#define DIAG_COUNTS_MAX 4096

struct diag_count {
	char *s;
	long aux; /* told apart too: an errno, a pid */
	long pid; /* a process that had it (the first) */
	int64_t n;
};

struct diag_counts {
	struct diag_count *v; /* open addressing, 2 * DIAG_COUNTS_MAX slots */
	size_t n;
	int64_t others;
};

void diag_counts_add(struct diag_counts *c, const char *s, long aux, long pid);
void diag_counts_release(struct diag_counts *c);

/* The counts, most first (ties by text): an array of c->n (free() it; the
 * strings stay c's). NULL when empty or out of memory. */
struct diag_count *diag_counts_sorted(const struct diag_counts *c);

/* A string value of an event into dst as valid UTF-8 (utf8_copy(): bytes that
 * are not become U+FFFD; cut to size - 1 bytes, never inside a character; ""
 * when not a string). json_pack() refuses invalid UTF-8, and a row it refuses
 * would be lost. */
void diag_copy_str(char *dst, size_t size, const struct scan_value *v);

/* A timeline series from a per-second map (see diag_timeline_add). */
void diag_series(const struct diag *d, json_t *r, const char *name, const char *unit, const char *map,
		 const char *rest);

/* A table of one latency summary: COUNT P50 P90 P99 MAX SOURCE (no row when
 * there is nothing). */
void diag_dist_table(json_t *sec, const char *title, const struct dist_summary *s);

/* qsort(), for arrays that may be empty (and NULL then). */
static inline void diag_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* A JSON row helper: json_pack() that never returns NULL for a caller's NULL string. */
json_t *diag_str(const char *s);

#endif /* DIAG_DIAG_INT_H */
