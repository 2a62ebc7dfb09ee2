/* preset.h - the curated bpftrace programs of `diagagent diagnose`.
 *
 * A preset is a real bpftrace program in scripts/presets/NAME.bt, built into
 * the binary (or read from $DIAGAGENT_PRESETS/NAME.bt). It runs as it is
 * under bpftrace; comment lines starting with "//@" tell diagagent what it
 * prints and what it needs:
 *
 *   //@preset NAME                 the preset's name (must match the file)
 *   //@title TEXT                  one line for `diagnose list` and the report
 *   //@record ID NAME FIELD...     an event tuple: print((nsecs, cpu, pid, tid,
 *                                  uid, comm, ID, FIELD...)); FIELD is a name
 *                                  (an integer) or name:str (a string)
 *   //@library libNAME SYM...      uprobes on libNAME (found as trace.py finds
 *                                  NAME); each SYM must be defined in it
 *   //@include NAME                NAME's probes, here (its BEGIN and END
 *                                  blocks are merged into this preset's)
 *   //@if tracepoint CAT:EVENT     the lines up to //@else or //@endif are
 *   //@else                        kept only when this kernel has CAT:EVENT
 *   //@endif                       (and those after //@else only when not)
 *
 * An attach point line ending in "// optional" is left out when this kernel
 * does not have that tracepoint. Parameters are positional ($1..$9, the same
 * for every preset, PRESET_ARG_*), so nothing is ever pasted into the text:
 * diagagent passes typed integers on bpftrace's command line.
 */
#ifndef DIAG_PRESET_H
#define DIAG_PRESET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "tracespec/layout.h"

#define PRESET_NAME_MAX	     32
#define PRESET_MAX_RECORDS   16
#define PRESET_MAX_FIELDS    16 /* after the tuple's header: within SCAN_MAX_VALUES */
#define PRESET_MAX_RECORD_ID 127
#define PRESET_MAX_LIBS	     4
#define PRESET_PROBE_BUDGET  64 /* attach points per preset: each costs ~70 ms to detach */
#define PRESET_MAX_TEXT	     (256 * 1024)

/* The positional parameters, in order ($1 is bpftrace's own pid, which
 * procman fills in). */
enum preset_arg {
	PRESET_ARG_SELF = 1,  /* $1 bpftrace's pid: left out */
	PRESET_ARG_AGENT,     /* $2 diagagent's pid: left out */
	PRESET_ARG_PID,	      /* $3 the process to watch; 0: every one */
	PRESET_ARG_CGROUP,    /* $4 cgroup v2 id; 0: every one */
	PRESET_ARG_CAP,	      /* $5 events streamed per record */
	PRESET_ARG_SLOW_NS,   /* $6 slow threshold */
	PRESET_ARG_RTT_NS,    /* $7 rtt threshold */
	PRESET_ARG_SHORT_NS,  /* $8 short-lived process threshold */
	PRESET_ARG_WINDOW_NS, /* $9 how long events are counted after the attach */
	PRESET_NARGS = PRESET_ARG_WINDOW_NS,
};

struct preset_field {
	char name[PRESET_NAME_MAX];
	bool is_string;
};

struct preset_record {
	int id; /* the tuple's probe column */
	char name[PRESET_NAME_MAX];
	int nfields;
	struct preset_field fields[PRESET_MAX_FIELDS];
};

struct preset_lib {
	char name[PRESET_NAME_MAX]; /* as the program names it: "libc" */
	char path[PATH_MAX];	    /* resolved here */
};

struct preset {
	char name[PRESET_NAME_MAX];
	char *title;
	char *program; /* the text bpftrace runs on this host */
	int nrecords;
	struct preset_record records[PRESET_MAX_RECORDS];
	int nlibs;
	struct preset_lib libs[PRESET_MAX_LIBS];
	int nincludes;
	char includes[8][PRESET_NAME_MAX];
	int nprobes; /* kernel attach points (BEGIN/END not counted) */
	int ntracepoints;
	int nuprobes;
};

/* What the host offers, for the checks a preset's probes need. */
struct preset_host {
	const char *tracefs; /* tracefs mount point */
	bool tracepoints;    /* tracepoints attach here */
	bool uprobes;	     /* uprobes and uretprobes attach here */
};

/* The built-in presets, in name order: names[i] for i < preset_count(). */
int preset_count(void);
const char *preset_name(int i);

/* Load preset NAME and prepare it for host h (h NULL: check the text only,
 * keep every //@if branch's first alternative, resolve no library). Returns
 * 0 with *out set (preset_free() it); -ENOENT when there is no such preset;
 * -EINVAL when its text is wrong (err: "NAME.bt:LINE: what"); -ENODEV when
 * this host cannot run it (err says what is missing); -ENOMEM. */
int preset_load(const char *name, const struct preset_host *h, struct preset **out, char *err, size_t size);

/* Free a preset; NULL is a no-op. */
void preset_free(struct preset *p);

/* The record whose id is id, or NULL. */
const struct preset_record *preset_record(const struct preset *p, int id);

/* The index of field name in record r, or -1. */
int preset_field(const struct preset_record *r, const char *name);

/* The scanner's layout for p's records (probe index = record id). Returns
 * the layout (layout_free() it), or NULL when out of memory. */
struct event_layout *preset_layout(const struct preset *p);

#endif /* DIAG_PRESET_H */
