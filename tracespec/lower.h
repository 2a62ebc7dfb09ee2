/* lower.h - decide how a spec attaches on this host.
 *
 * sys_X, SyS_X, __x64_sys_X and a bare syscall name become the syscall's
 * tracepoints (trace.py's own sys_* kprobes cannot attach on x86_64 >= 4.17,
 * and tracepoints name the arguments); other kernel functions become
 * kprobes, or fentry where only that can attach; library functions become
 * uprobes, USDT probes usdt. The host's capabilities come in as plain
 * booleans so this module does not depend on how they were probed. Every
 * refusal says why and names what would work (close names, replacements,
 * the nearest tracepoints).
 */
#ifndef DIAG_LOWER_H
#define DIAG_LOWER_H

#include <limits.h>
#include <stdbool.h>

#include "tracespec/spec.h"
#include "tracespec/syscalls.h"

struct lower_env {
	const char *tracefs; /* tracefs mount point; NULL or "" when not mounted */
	bool can_tracepoint;
	bool can_kprobe; /* kprobes and kretprobes attach */
	bool can_kfunc;	 /* fentry/fexit attach */
	bool can_uprobe;
	bool can_usdt;
	bool check_symbols; /* check kernel functions in /proc/kallsyms */
};

enum lower_kind {
	LK_SYSCALL, /* tracepoint:syscalls:sys_{enter,exit}_X */
	LK_TRACEPOINT,
	LK_KPROBE, /* kprobe / kretprobe */
	LK_KFUNC,  /* kfunc / kretfunc (fentry / fexit) */
	LK_UPROBE, /* uprobe / uretprobe */
	LK_USDT,
};

struct lowered {
	enum lower_kind kind;
	bool ret;			  /* a return probe */
	char name[SYSCALLS_NAME_MAX * 2]; /* syscall, function, event or USDT probe name */
	char category[SYSCALLS_NAME_MAX]; /* tracepoint category; USDT provider */
	char path[PATH_MAX];		  /* uprobe / USDT binary, resolved */
	struct tp_format fields;	  /* syscall arguments (arg1 first) or tracepoint fields */
	int kfunc_nparams;		  /* LK_KFUNC: parameter names from BTF */
	char kfunc_params[6][SYSCALLS_NAME_MAX];
};

/* Lower one spec. Returns 0 with *out filled, or with err filled (column 0
 * points at the probe): -EOPNOTSUPP when this host cannot attach the probe
 * kind the spec needs, -ENOENT when the target does not exist here, -EINVAL
 * for other refusals. */
int lower_spec(const struct trace_spec *s, const struct lower_env *env, struct lowered *out, struct spec_error *err);

#endif /* DIAG_LOWER_H */
