/* caps.h - what this host can trace, probed for real.
 *
 * One place that answers "can this probe kind attach here?" for the CLI
 * (`diagagent caps`), the agent's heartbeat and the code generator. Every
 * answer comes from a real look at the host: libbpf's program and map type
 * probes, tracefs, /sys/bus/event_source, and a real attach of a trivial BPF
 * program to each probe kind where the host lets us try. Nothing is assumed
 * from the kernel version or from `bpftrace --info` (which says "kprobe: yes"
 * on hosts where kprobes cannot attach).
 *
 * Answers are tri-state, as libbpf's probes are: CAPS_YES, CAPS_NO, or
 * CAPS_UNKNOWN when the host would not let us tell (e.g. not root); each
 * carries a one-line detail and, where something is missing, a hint.
 */
#ifndef DIAG_CAPS_H
#define DIAG_CAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

enum caps_state {
	CAPS_UNKNOWN = -1,
	CAPS_NO = 0,
	CAPS_YES = 1,
};

struct caps_item {
	int state;	  /* enum caps_state */
	char detail[192]; /* what was found, or why not */
	char hint[192];	  /* how to fix a missing piece; "" when none */
};

/* Probe kinds the spec language can lower to, in output order. */
enum caps_probe_kind {
	CAPS_TRACEPOINT,
	CAPS_KPROBE,
	CAPS_KRETPROBE,
	CAPS_UPROBE,
	CAPS_URETPROBE,
	CAPS_USDT,
	CAPS_KFUNC,
	CAPS_PROBE_KINDS,
};

enum caps_prog_type {
	CAPS_PROG_TRACEPOINT,
	CAPS_PROG_KPROBE,
	CAPS_PROG_PERF_EVENT,
	CAPS_PROG_TRACING,
	CAPS_PROG_RAW_TRACEPOINT,
	CAPS_PROG_TYPES,
};

enum caps_map_type {
	CAPS_MAP_PERF_EVENT_ARRAY,
	CAPS_MAP_RINGBUF,
	CAPS_MAP_TYPES,
};

#define CAPS_INFO_MAX 16

struct caps {
	char kernel_release[65];
	char machine[65];

	struct caps_item btf;
	unsigned int btf_types;

	struct caps_item tracefs;
	char tracefs_path[PATH_MAX];
	struct caps_item debugfs;
	char debugfs_path[PATH_MAX];

	char lockdown[32];	       /* "none", "integrity", ...; "" when unknown */
	int unprivileged_bpf_disabled; /* sysctl value; -1 when unknown */

	struct caps_item prog[CAPS_PROG_TYPES];
	struct caps_item map[CAPS_MAP_TYPES];
	struct caps_item probe[CAPS_PROBE_KINDS];
	int syscall_tracepoints; /* sys_enter_* events in tracefs; -1 unknown */

	struct {
		bool found;
		char path[PATH_MAX];
		char version[32]; /* "0.17.0"; "" when unknown */
		int major, minor, patch;
		int ninfo;
		struct {
			char key[32];
			char value[48];
		} info[CAPS_INFO_MAX];
		char error[192]; /* why bpftrace could not be asked */
	} bpftrace;

	struct {
		uid_t euid;
		int cap_bpf, cap_perfmon, cap_sys_admin; /* enum caps_state */
	} priv;
};

/* Can this host run a trace at all: privileges and a usable bpftrace?
 * Returns 0, or -EPERM / -ENOENT with one line saying what to do in err. */
int caps_trace_ready(const struct caps *c, char *err, size_t size);

/* Probe the host and fill *c. Never fails: what cannot be probed is
 * CAPS_UNKNOWN with the reason in its detail. Takes about as long as one
 * `bpftrace --info` (a few hundred ms). */
void caps_probe(struct caps *c);

/* The same, without asking bpftrace (its --info costs ~0.3 s): what lowering
 * a spec needs. c->bpftrace is left empty. */
void caps_probe_host(struct caps *c);

/* Like caps_probe_host(), but the probe kinds from a quick look (the PMU
 * or tracefs entries and program types that tell them apart) instead of
 * attach tests, whose detach costs ~0.1 s each: what `script` and `trace`
 * lower by. `caps` and the heartbeat use the full proof. */
void caps_probe_quick(struct caps *c);

/* True when probe kind 'kind' is known to attach here. */
bool caps_can_attach(const struct caps *c, enum caps_probe_kind kind);

/* Name of a probe kind as used in the JSON ("tracepoint", "kprobe", ...). */
const char *caps_probe_name(enum caps_probe_kind kind);

/* The capabilities as one JSON object with a stable schema (see README).
 * Returns a new reference (json_decref() it), or NULL on allocation failure. */
json_t *caps_to_json(const struct caps *c);

/* Print the human table, with a hint for each missing piece. */
void caps_print(const struct caps *c, FILE *out);

/* Parsers, public for tests. */

/* Parse `bpftrace --version` output ("bpftrace v0.17.0") into c->bpftrace's
 * version fields. Returns 0, or -EINVAL when no version is found. */
int caps_parse_bpftrace_version(struct caps *c, const char *text);

/* Keep the highlights of `bpftrace --info` output in c->bpftrace.info. */
void caps_parse_bpftrace_info(struct caps *c, const char *text);

/* Look up a kept --info highlight by key; NULL when absent. */
const char *caps_bpftrace_info(const struct caps *c, const char *key);

/* Find bpftrace and read its version (not --info): fills c->bpftrace's
 * found, path and version. Returns 0, -ENOENT when there is no bpftrace,
 * or another -errno (c->bpftrace.error says why). */
int caps_bpftrace_version(struct caps *c);

/* Search PATH (or DIAGAGENT_BPFTRACE when set) for bpftrace; fills
 * c->bpftrace.path. Returns 1 when found, 0 when not. */
int caps_find_bpftrace(struct caps *c);

/* Internal to the caps module: real attach tests (caps_attach.c). */
void caps_attach_tracepoint(struct caps *c);
void caps_attach_kprobe(struct caps *c);
void caps_attach_uprobe(struct caps *c);
void caps_attach_kfunc(struct caps *c);
void caps_quick_kinds(struct caps *c);

/* Internal: set an item's state, detail and (optional) hint, printf-style detail. */
void caps_set(struct caps_item *it, int state, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* DIAG_CAPS_H */
