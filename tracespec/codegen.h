/* codegen.h - specs and options to one bpftrace program and its event layout.
 *
 * Programs follow the design's rules: every event is one print((...)) tuple
 * (bpftrace escapes the strings); every match is counted in the kernel
 * (@__hits per probe, @__procs per process) so totals stay exact when events
 * are lost or capped; -M caps the stream in the kernel; strings of syscall
 * arguments are read at the syscall's exit, from the pointer saved at entry,
 * so the event also carries the return value and the latency; bpftrace's own
 * process (positional parameter $1) is left out; only constructs that
 * bpftrace 0.17 through 0.26 accept are used, never one that needs --unsafe.
 */
#ifndef DIAG_CODEGEN_H
#define DIAG_CODEGEN_H

#include <stdbool.h>

#include "tracespec/layout.h"
#include "tracespec/lower.h"
#include "tracespec/spec.h"

#define CODEGEN_MAX_PROGRAM (1024 * 1024) /* generated program size cap */
#define CODEGEN_MAX_STRLEN  200		  /* bpftrace 0.17's string size limit */
#define CODEGEN_MAX_SPECS   32

/* trace.py's options, and diagagent's own. */
struct trace_opts {
	long pid;	   /* -p: process id; -1 when not set */
	long tid;	   /* -L: thread id; -1 */
	long uid;	   /* --uid; -1 */
	char *name;	   /* -n: the command name contains it; NULL */
	char *cgroup;	   /* -c: a cgroup v2 directory; NULL */
	long max_events;   /* -M: events streamed at most; -1 = no cap */
	int string_size;   /* -Z: bytes read per string; 0 = bpftrace's default (64) */
	bool kstack;	   /* -K */
	bool ustack;	   /* -U */
	bool stack_addr;   /* -a: addresses in stacks */
	bool include_self; /* -S: do not leave bpftrace's own process out */
	int buffer_pages;  /* -b: perf buffer pages per CPU; 0 = bpftrace's default */
	int duration;	   /* -d: seconds; 0 = until stopped */
	/* presentation, applied in user space */
	bool timestamp;	 /* -t: seconds since the trace started */
	bool unix_time;	 /* -u: with -t, UNIX time */
	bool time_col;	 /* -T: wall-clock time column */
	bool cpu_col;	 /* -C */
	bool aggregate;	 /* -A: count identical messages */
	char *msg_regex; /* -f: PCRE2 applied to the message */
};

/* Set every field to "not set". Cannot fail. */
void trace_opts_init(struct trace_opts *o);

/* Free the strings held; the struct is left as after trace_opts_init(). */
void trace_opts_release(struct trace_opts *o);

struct codegen_result {
	char *program;		     /* bpftrace program text; owned */
	struct event_layout *layout; /* owned */
};

/* Lower and generate specs[0..nspecs) with options o on the host env.
 * Returns 0 with res filled (codegen_release() it); -EINVAL (or -ENOENT)
 * with err filled and *bad set to the failing spec's index (-1 when an
 * option is at fault); -E2BIG when the program would exceed
 * CODEGEN_MAX_PROGRAM; -ENOMEM. */
int codegen_emit(struct trace_spec *const *specs, int nspecs, const struct trace_opts *o, const struct lower_env *env,
		 struct codegen_result *res, struct spec_error *err, int *bad);

/* Free what res holds; a zeroed res is a no-op. */
void codegen_release(struct codegen_result *res);

#endif /* DIAG_CODEGEN_H */
